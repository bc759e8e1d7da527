"""Phone-first screens: every keyboard the bot can send fits a phone, in German and English.

A row of one button holds about 30 characters before Telegram cuts the label, two buttons
about 14 each, three about 10 each. The test sends every command, answers every entry and a
spread of questions, the nudges, the digest and the import, then presses every button it
finds, breadth first, and checks each keyboard on the way.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import timedelta
from pathlib import Path

import pytest

from bot.answering.service import AnswerService
from bot.coach import COMMANDS, Coach, UserRef
from bot.domain import Lang
from bot.reply import Action, ActionKind, Reply
from bot.storage import Storage
from tests.conftest import FakeClock
from tests.test_import import NOW, invitations

ROW_LIMITS = {1: 30, 2: 14, 3: 10}
DATA = Path(__file__).resolve().parent / "data"
# Presses that end the crawl's user (their data is what the other screens show).
FINAL = {ActionKind.FORGET}


def problems(reply: Reply) -> list[str]:
    """Each label that does not fit its row, with the row's size and the limit."""
    found = []
    for row in reply.buttons:
        limit = ROW_LIMITS.get(len(row))
        if limit is None:
            found.append(f"a row of {len(row)} buttons: {[b.label for b in row]}")
            continue
        found += [
            f"{b.label!r} ({len(b.label)} > {limit}, row of {len(row)})"
            for b in row
            if len(b.label) > limit
        ]
    return found


def _questions(lang: Lang) -> list[str]:
    lines = (DATA / "dev_questions.jsonl").read_text(encoding="utf-8").splitlines()
    cases = [json.loads(line) for line in lines if line.strip()]
    return [case["q"] for case in cases if case.get("lang", "de") == lang][:40]


async def _screens(coach: Coach, user: UserRef, clock: FakeClock, lang: Lang) -> list[Reply]:
    """Every kind of screen for a user with requests, a tick and an import behind them."""
    replies = [await coach.command(user, name) for name in COMMANDS]
    replies += [
        await coach.command(user, "request", "linkedin Erika Mustermann-Lüdenscheidt | Messe"),
        await coach.command(user, "request", "erhalten xing Max Muster"),
        await coach.command(user, "request", "xing Dr. Anna-Lena von Bergen-Wittgenstein"),
        await coach.import_file(
            user, invitations([("Jo Doe", "OUTGOING", NOW - timedelta(days=40))]), "i.csv"
        ),
        await coach.command(user, "draft", "linkedin " + "x" * 250),
    ]
    unsure = ["linkedin", "xing", "Wo kann ich Aktien kaufen?", "Kontakte löschen"]
    replies += [await coach.question(user, q) for q in [*_questions(lang), *unsure]]
    replies += [coach.answers.entries_reply(lang, [e]) for e in coach.kb.entries]
    replies += [coach.answers.entries_reply(lang, [e], full=True) for e in coach.kb.entries]
    clock.advance(days=22)
    replies.append(await coach.command(user, "pending"))
    for follow_up in await coach.store.follow_ups.pending(user.id):
        replies.append(coach.tracker.follow_up_reply(lang, follow_up, clock(), nudge=True))
        replies.append(coach.tracker.expired_reply(lang, follow_up, clock()))
    record = await coach.store.users.get(user.id)
    assert record is not None
    replies.append(await coach.tracker.digest(record, lang, clock()))
    return replies


async def _crawl(
    coach: Coach, user: UserRef, start: Iterable[Reply], depth: int = 3
) -> set[ActionKind]:
    """Press every button reachable from `start`; assert each keyboard fits. Kinds pressed."""
    seen: set[Action] = set()
    frontier = list(start)
    for _ in range(depth + 1):
        pressed: list[Reply] = []
        for reply in frontier:
            assert problems(reply) == [], [b.label for row in reply.buttons for b in row]
            for row in reply.buttons:
                for button in row:
                    action = button.action
                    if action in seen or action.kind in FINAL:
                        continue
                    seen.add(action)
                    pressed.append(await coach.press(user, action))
        frontier = pressed
    return {action.kind for action in seen}


@pytest.mark.parametrize("lang", ["de", "en"])
async def test_every_keyboard_fits_a_phone(
    service: AnswerService, store: Storage, clock: FakeClock, lang: Lang
) -> None:
    coach = Coach(service, store, clock=clock)
    user = UserRef(7, lang)
    await coach.store.users.touch(7, lang, clock())
    await coach.store.users.set_language(7, lang)
    kinds = await _crawl(coach, user, await _screens(coach, user, clock, lang))
    assert kinds == set(ActionKind) - FINAL, "every kind of button was pressed"


def test_the_check_catches_a_label_that_is_cut() -> None:
    from bot.reply import Button

    wide = Reply((), ((Button("Erinnerungen ausschalten", Action(ActionKind.HELP)),) * 2,))
    assert problems(wide) == [
        "'Erinnerungen ausschalten' (24 > 14, row of 2)",
        "'Erinnerungen ausschalten' (24 > 14, row of 2)",
    ]
    four = Reply((), ((Button("a", Action(ActionKind.HELP)),) * 4,))
    assert problems(four)
