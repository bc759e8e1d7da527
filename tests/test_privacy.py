"""Privacy and abuse limits: export holds exactly one user's rows, delete leaves none."""

from __future__ import annotations

import json
import sqlite3
from datetime import timedelta
from pathlib import Path

from bot.answering.service import AnswerService
from bot.coach import Coach, UserRef, reply_text
from bot.followups.policy import NudgePolicy
from bot.reply import Action, ActionKind
from bot.storage import Storage
from bot.telegram.throttle import FloodGuard
from tests.conftest import FakeClock

ERIKA = UserRef(7, "de")
OTTO = UserRef(8, "de")


async def _busy_user(coach: Coach, user: UserRef, name: str, clock: FakeClock) -> None:
    """A user with a row in every table."""
    await coach.question(user, f"Wie lang darf die LinkedIn-Notiz sein? ({name})")
    await coach.press(user, Action(ActionKind.CHECK, "customers"))
    await coach.command(user, "request", f"linkedin {name} | Notiz von {name}")
    (follow_up,) = await coach.store.follow_ups.pending(user.id)
    await coach.press(user, Action(ActionKind.DECIDE, f"{follow_up.id}-s"))
    await coach.press(user, Action(ActionKind.SETTING, "digest-on"))
    await coach.store.follow_ups.claim_digest(user.id, "2026-W48", clock())
    await coach.press(user, Action(ActionKind.LANGUAGE, "de"))
    await coach.press(user, Action(ActionKind.REQUEST, "xing-sent"))  # a guided step, unfinished
    # A message of theirs fetched and saved, not handled yet.
    await coach.store.inbox.receive([(1000 + user.id, user.id, f'{{"text": "{name}"}}')])
    # And one that could not be handled, set aside with its error.
    await coach.store.inbox.receive([(2000 + user.id, user.id, f'{{"text": "{name}!"}}')])
    await coach.store.inbox.set_aside(
        2000 + user.id, (user.id, user.id), "TypeError: a bug", clock(), None
    )


# Tables that hold nothing about a person (checked by name, so a new table must be placed).
# processed_updates: Telegram update ids, pruned after a day, and replies waiting to be sent
# for a moment; /delete drops a user's waiting replies (tests/test_polling.py).
NO_PERSONAL_DATA = {"processed_updates"}


def _rows_of(db_path: Path, user_id: int, follow_up_ids: list[int]) -> dict[str, int]:
    """How many rows of every table refer to the user."""
    counts = {}
    with sqlite3.connect(db_path) as db:
        tables = [row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        for table in tables:
            if table in NO_PERSONAL_DATA:
                continue
            columns = {row[1] for row in db.execute(f"PRAGMA table_info({table})")}
            if table == "users":
                where, args = "id = ?", [user_id]
            elif "user_id" in columns:
                where, args = "user_id = ?", [user_id]
            elif "follow_up_id" in columns:
                marks = ",".join("?" * len(follow_up_ids)) or "NULL"
                where, args = f"follow_up_id IN ({marks})", follow_up_ids
            else:
                raise AssertionError(f"table {table} has no way to tell whose rows it holds")
            counts[table] = db.execute(
                f"SELECT COUNT(*) FROM {table} WHERE {where}", args
            ).fetchone()[0]
    return counts


async def test_export_holds_all_of_a_users_rows_and_nothing_of_others(
    service: AnswerService, store: Storage, clock: FakeClock
) -> None:
    coach = Coach(
        service, store, clock=clock, policy=NudgePolicy(timedelta(days=7), timedelta(days=7))
    )
    await _busy_user(coach, ERIKA, "Erika", clock)
    await _busy_user(coach, OTTO, "Otto", clock)
    reply = await coach.command(ERIKA, "export")
    readable, machine = reply.documents
    assert readable.filename.endswith(".txt") and machine.filename.endswith(".json")
    data = json.loads(machine.content)
    assert data["user"]["id"] == 7 and data["user"]["digest"] == 1
    assert [r["item_id"] for r in data["checklist_progress"]] == ["customers"]
    assert [f["name"] for f in data["follow_ups"]] == ["Erika"]
    assert [e["event"] for e in data["follow_up_events"]] == ["created", "snoozed"]
    assert data["digests"][0]["week"] == "2026-W48"
    assert "(Erika)" in data["question_log"][0]["text"]
    assert [(d["update_id"], d["error"]) for d in data["dead_letters"]] == [
        (2007, "TypeError: a bug")
    ]
    text = machine.content.decode()
    assert "Otto" not in text and '"user_id": 8' not in text
    summary = readable.content.decode()
    assert "Otto" not in summary
    assert "LinkedIn-Einladung an Erika · offen · 27.11.2026" in summary
    assert "Ihre Notiz (nur für Sie): Notiz von Erika" in summary
    assert "27.11.2026 notiert; 27.11.2026 verschoben" in summary
    assert "Checkliste: 1 von 9 erledigt" in summary and "Bestehende Kunden" in summary
    assert "Sprache: Deutsch" in summary and "Wochenübersicht: an" in summary
    assert "→ beantwortet" in summary and "10:00" in summary, "local time, not UTC (09:00)"
    english = await coach.press(ERIKA, Action(ActionKind.LANGUAGE, "en"))
    assert english is not None
    summary_en = (await coach.command(ERIKA, "export")).documents[0].content.decode()
    assert "Requests: 1" in summary_en and "LinkedIn invitation to Erika · open" in summary_en


async def test_delete_asks_then_leaves_no_row_of_the_user(
    service: AnswerService, store: Storage, clock: FakeClock, db_path: Path
) -> None:
    coach = Coach(service, store, clock=clock)
    await _busy_user(coach, ERIKA, "Erika", clock)
    await _busy_user(coach, OTTO, "Otto", clock)
    ids = [f.id for f in await store.follow_ups.pending(7)]
    assert all(count > 0 for count in _rows_of(db_path, 7, ids).values())
    ask = await coach.command(ERIKA, "delete")
    labels = {button.label: button.action for row in ask.buttons for button in row}
    assert set(labels) == {"Ja, löschen", "Abbrechen"}
    cancelled = await coach.press(ERIKA, labels["Abbrechen"])
    assert "nichts gelöscht" in reply_text(cancelled)
    assert _rows_of(db_path, 7, ids)["follow_ups"] == 1
    stale = await coach.press(ERIKA, labels["Ja, löschen"])  # cancelled: that yes is void
    assert stale.notice is not None and _rows_of(db_path, 7, ids)["follow_ups"] == 1
    again = await coach.command(ERIKA, "delete")
    labels = {button.label: button.action for row in again.buttons for button in row}
    done = await coach.press(ERIKA, labels["Ja, löschen"])
    assert "Alle Ihre Daten sind gelöscht" in reply_text(done)
    assert set(_rows_of(db_path, 7, ids).values()) == {0}
    otto_ids = [f.id for f in await store.follow_ups.pending(8)]
    assert all(count > 0 for count in _rows_of(db_path, 8, otto_ids).values())


async def test_question_log_retention(
    service: AnswerService, store: Storage, clock: FakeClock
) -> None:
    coach = Coach(service, store, clock=clock, log_retention_days=90)
    await coach.question(ERIKA, "alte Frage")
    clock.advance(days=60)
    await coach.question(ERIKA, "neue Frage")
    clock.advance(days=31)
    assert await coach.purge_old_questions() == 1
    data = await store.export_user(7)
    assert [row["text"] for row in data["question_log"]] == ["neue Frage"]


async def test_privacy_text_names_retention(service: AnswerService, store: Storage) -> None:
    coach = Coach(service, store, log_retention_days=30)
    text = reply_text(await coach.command(ERIKA, "privacy"))
    assert "nach 30 Tagen automatisch gelöscht" in text and "/export" in text


def test_flood_guard_one_notice_then_silence_until_calm() -> None:
    clock = FakeClock()
    guard = FloodGuard(limit=20, window=timedelta(seconds=10), clock=clock)
    verdicts = []
    for _ in range(25):
        verdicts.append(guard.check(7))
        clock.advance(seconds=0.1)
    assert verdicts[:20] == ["ok"] * 20
    assert verdicts[20:] == ["notice", "drop", "drop", "drop", "drop"]
    assert guard.check(8) == "ok", "others are not affected"
    clock.advance(seconds=10)
    assert guard.check(7) == "ok"
