"""Learning from what the bot could not answer: the log, "Nichts davon", the review."""

from __future__ import annotations

from datetime import timedelta

from bot.answering.review import format_groups, group_questions
from bot.coach import Coach, UserRef
from bot.reply import Action, ActionKind
from bot.storage import Storage
from tests.conftest import FakeClock

ERIKA = UserRef(7, "de")
MAX = UserRef(8, "de")


async def test_review_groups_alike_questions_with_what_happened(
    coach: Coach, store: Storage, clock: FakeClock
) -> None:
    await coach.question(ERIKA, "Wie lösche ich einen Kontakt auf XING?")
    await coach.question(MAX, "xing kontakt löschen wie")
    await coach.press(MAX, Action(ActionKind.NONE))
    await coach.question(ERIKA, "Wie lang darf die LinkedIn-Notiz sein?")  # answered
    await coach.question(MAX, "Wo kann ich Aktien kaufen?")
    questions = await store.questions.unanswered(clock() - timedelta(days=1))
    assert [q.text for q in questions] == [
        "Wie lösche ich einen Kontakt auf XING?",
        "xing kontakt löschen wie",
        "Wo kann ich Aktien kaufen?",
    ]
    groups = group_questions(coach.answers, questions)
    assert [len(g.questions) for g in groups] == [2, 1]
    assert groups[0].outcomes["nothing fitted"] == 1
    text = format_groups(groups)
    assert text.startswith("2× (") and "xing kontakt löschen wie" in text
    assert "candidates:" in text


async def test_feedback_only_attaches_to_a_recent_unanswered_question(
    coach: Coach, store: Storage, clock: FakeClock
) -> None:
    await coach.question(ERIKA, "Wie lang darf die LinkedIn-Notiz sein?")
    assert not await store.questions.feedback(ERIKA.id, "none", clock() - timedelta(hours=1))
    await coach.question(ERIKA, "linkedin")
    clock.advance(hours=2)
    assert not await store.questions.feedback(ERIKA.id, "none", clock() - timedelta(hours=1))


async def test_review_says_so_when_nothing_is_unanswered() -> None:
    assert format_groups([]) == "Nothing unanswered in this period."
