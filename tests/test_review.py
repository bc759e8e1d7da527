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


async def test_an_answer_marked_not_fitting_is_reviewed_with_what_was_tapped(
    coach: Coach, store: Storage, clock: FakeClock
) -> None:
    reply = await coach.question(ERIKA, "Wie lang darf die LinkedIn-Notiz sein?")
    (wrong,) = [b for row in reply.buttons for b in row if b.action.kind is ActionKind.WRONG]
    assert wrong.action.arg == "li-note"
    offered = await coach.press(ERIKA, wrong.action)
    offers = [row[0].action for row in offered.buttons]
    assert offers[-1].kind is ActionKind.NONE
    assert offers[0].kind is ActionKind.OFFER and offers[0].arg != "li-note"
    await coach.press(ERIKA, offers[0])
    questions = await store.questions.unanswered(clock() - timedelta(days=1))
    assert [(q.outcome, q.entry_id, q.feedback) for q in questions] == [
        ("answer", "li-note", offers[0].arg)
    ]
    groups = group_questions(coach.answers, questions)
    assert groups[0].outcomes == {
        "answered li-note, did not fit": 1,
        f"tapped {offers[0].arg}": 1,
    }
    stats = await coach.store.questions.stats(clock(), clock().replace(hour=0))
    assert stats.unanswered == [("wie lang darf die linkedin-notiz sein?", 1)]
    assert stats.wrong_week == 1


async def test_not_fitting_without_a_recent_question_offers_what_the_answer_links_to(
    coach: Coach, store: Storage, clock: FakeClock
) -> None:
    reply = await coach.question(ERIKA, "Wie lang darf die LinkedIn-Notiz sein?")
    (wrong,) = [b for row in reply.buttons for b in row if b.action.kind is ActionKind.WRONG]
    clock.advance(hours=2)  # the question is too old to attach feedback to
    late = await coach.press(ERIKA, wrong.action)
    assert "nicht gepasst" in late.blocks[0].text
    answered = coach.kb.entry("li-note")
    assert answered is not None
    related = answered.related
    offered = [row[0].action for row in late.buttons]
    assert [a.arg for a in offered[:-1]] == related[:3] and offered[-1].kind is ActionKind.NONE
    assert (await store.questions.unanswered(clock() - timedelta(days=1))) == []
    forged = await coach.press(ERIKA, Action(ActionKind.WRONG, "no-such-entry"))
    assert forged.notice and not forged.blocks


async def test_only_answers_to_questions_ask_whether_they_fit(coach: Coach) -> None:
    picked = await coach.press(ERIKA, Action(ActionKind.ENTRY, "li-note"))
    assert all(b.action.kind is not ActionKind.WRONG for row in picked.buttons for b in row)
    declined = await coach.question(ERIKA, "Wo kann ich Aktien kaufen?")
    assert all(b.action.kind is not ActionKind.WRONG for row in declined.buttons for b in row)
