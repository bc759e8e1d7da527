"""The storage: migrations, durability and the figures behind /stats."""

from __future__ import annotations

import contextlib
from datetime import timedelta
from pathlib import Path

from bot.answering.service import AnswerService
from bot.coach import Coach
from bot.storage import Storage
from bot.storage.database import MIGRATIONS
from bot.storage.inbox import set_aside_since
from tests.conftest import FakeClock


async def test_new_database_is_migrated_to_the_latest_version(store: Storage) -> None:
    assert await store.schema_version() == len(MIGRATIONS)


async def test_reopening_does_not_migrate_twice_and_keeps_data(db_path: Path) -> None:
    clock = FakeClock()
    first = await Storage.open(db_path)
    await first.users.touch(5, "de", clock())
    await first.checklist.mark(5, "customers", True, clock())
    await first.close()
    second = await Storage.open(db_path)
    assert await second.schema_version() == len(MIGRATIONS)
    assert await second.checklist.done(5) == {"customers"}
    await second.close()


async def test_wal_mode_and_folder_creation(tmp_path: Path) -> None:
    path = tmp_path / "deep" / "er" / "bot.sqlite3"
    store = await Storage.open(path)
    async with store.db.connection.execute("PRAGMA journal_mode") as cursor:
        row = await cursor.fetchone()
    assert row is not None and row[0] == "wal"
    await store.close()
    assert path.exists()


async def test_touch_user_keeps_first_seen_and_reactivates(store: Storage) -> None:
    clock = FakeClock()
    created = await store.users.touch(5, "en-US", clock())
    await store.users.set_active(5, False)
    clock.advance(days=2)
    again = await store.users.touch(5, None, clock())
    assert again.first_seen == created.first_seen < again.last_seen
    assert again.active and again.language_code == "en-US"


async def test_checklist_marks_are_idempotent(store: Storage) -> None:
    clock = FakeClock()
    await store.users.touch(5, None, clock())
    await store.checklist.mark(5, "customers", True, clock())
    await store.checklist.mark(5, "customers", True, clock())
    assert await store.checklist.done(5) == {"customers"}
    await store.checklist.mark(5, "customers", False, clock())
    await store.checklist.mark(5, "customers", False, clock())
    assert await store.checklist.done(5) == set()


async def test_stats_count_today_week_and_unanswered(store: Storage) -> None:
    clock = FakeClock()
    now = clock()
    await store.users.touch(5, None, now)
    log = [
        (now - timedelta(days=10), "alt", "answer"),  # outside the week
        (now - timedelta(days=3), "Aktien?", "decline"),
        (now, "aktien?", "decline"),
        (now, "notiz", "answer"),
    ]
    for moment, text, outcome in log:
        await store.questions.log(5, text, "de", outcome, None, None, moment)  # type: ignore[arg-type]
    stats = await store.questions.stats(now, now.replace(hour=0, minute=0))
    assert (stats.users, stats.questions_today, stats.questions_week) == (1, 2, 3)
    assert [d.total for d in stats.per_day] == [0, 0, 0, 1, 0, 0, 2]
    assert [(d.answered, d.declined) for d in stats.per_day[-1:]] == [(1, 1)]
    assert stats.per_day[-1].day == now.date().isoformat()
    assert stats.unanswered == [("aktien?", 2)]
    assert stats.decline_rate_week is not None and round(stats.decline_rate_week, 2) == 0.67
    assert stats.wrong_week == 0


async def test_a_guided_step_rolled_back_is_forgotten_too(store: Storage) -> None:
    clock = FakeClock()
    await store.users.touch(5, "de", clock())
    assert await store.users.step(5) is None  # remembered as "none" from here on
    with contextlib.suppress(RuntimeError):
        async with store.unit_of_work():
            await store.users.set_step(5, "name", {"platform": "xing"}, clock())
            raise RuntimeError("the handler failed")
    assert await store.users.step(5) is None, "the row was rolled back, and so is the memory"
    await store.users.set_step(5, "name", {"platform": "xing"}, clock())
    step = await store.users.step(5)
    assert step is not None and step.data == {"platform": "xing"}
    assert await store.users.clear_step(5) and not await store.users.clear_step(5)


async def test_failed_tries_survive_a_restart_and_dead_letters_the_retention(
    db_path: Path, service: AnswerService
) -> None:
    clock = FakeClock()
    first = await Storage.open(db_path)
    assert await first.inbox.receive([(50, 7, '{"update_id": 50}')]) == {50}
    assert await first.inbox.count_failure(50) == 1
    await first.close()
    second = await Storage.open(db_path)
    assert await second.inbox.count_failure(50) == 2  # counted on, not from scratch
    assert await second.inbox.count_failure(51) is None  # not saved: nothing to count
    await second.inbox.set_aside(50, (7, 7), "TypeError: x", clock(), None)
    assert await second.inbox.unhandled() == []
    assert await second.inbox.receive([(50, 7, '{"update_id": 50}')]) == set()  # redelivered
    assert set_aside_since(db_path, clock() - timedelta(days=1)) == 1  # for `health`
    coach = Coach(service, second, clock=clock, log_retention_days=90)
    clock.advance(days=89)
    await coach.purge_old_questions()
    assert await second.inbox.set_aside_since(clock() - timedelta(days=365)) == 1
    clock.advance(days=2)
    await coach.purge_old_questions()
    assert await second.inbox.set_aside_since(clock() - timedelta(days=365)) == 0
    await second.close()
    assert set_aside_since(db_path.with_name("missing.sqlite3"), clock()) is None
