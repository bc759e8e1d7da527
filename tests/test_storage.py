"""The repository: migrations, durability and the figures behind /stats."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from bot.storage import MIGRATIONS, Repository
from tests.conftest import FakeClock


async def test_new_database_is_migrated_to_the_latest_version(repo: Repository) -> None:
    assert await repo.schema_version() == len(MIGRATIONS)


async def test_reopening_does_not_migrate_twice_and_keeps_data(db_path: Path) -> None:
    clock = FakeClock()
    first = await Repository.open(db_path)
    await first.touch_user(5, "de", clock())
    await first.set_checklist_item(5, "customers", True, clock())
    await first.close()
    second = await Repository.open(db_path)
    assert await second.schema_version() == len(MIGRATIONS)
    assert await second.checklist_done(5) == {"customers"}
    await second.close()


async def test_wal_mode_and_folder_creation(tmp_path: Path) -> None:
    path = tmp_path / "deep" / "er" / "bot.sqlite3"
    repo = await Repository.open(path)
    async with repo._db.execute("PRAGMA journal_mode") as cursor:
        row = await cursor.fetchone()
    assert row is not None and row[0] == "wal"
    await repo.close()
    assert path.exists()


async def test_touch_user_keeps_first_seen_and_reactivates(repo: Repository) -> None:
    clock = FakeClock()
    created = await repo.touch_user(5, "en-US", clock())
    await repo.set_active(5, False)
    clock.advance(days=2)
    again = await repo.touch_user(5, None, clock())
    assert again.first_seen == created.first_seen < again.last_seen
    assert again.active and again.language_code == "en-US"


async def test_checklist_marks_are_idempotent(repo: Repository) -> None:
    clock = FakeClock()
    await repo.touch_user(5, None, clock())
    await repo.set_checklist_item(5, "customers", True, clock())
    await repo.set_checklist_item(5, "customers", True, clock())
    assert await repo.checklist_done(5) == {"customers"}
    await repo.set_checklist_item(5, "customers", False, clock())
    await repo.set_checklist_item(5, "customers", False, clock())
    assert await repo.checklist_done(5) == set()


async def test_stats_count_today_week_and_unanswered(repo: Repository) -> None:
    clock = FakeClock()
    now = clock()
    await repo.touch_user(5, None, now)
    log = [
        (now - timedelta(days=10), "alt", "answer"),  # outside the week
        (now - timedelta(days=3), "Aktien?", "decline"),
        (now, "aktien?", "decline"),
        (now, "notiz", "answer"),
    ]
    for moment, text, outcome in log:
        await repo.log_question(5, text, "de", outcome, None, None, moment)  # type: ignore[arg-type]
    stats = await repo.stats(now, now.replace(hour=0, minute=0))
    assert (stats.users, stats.questions_today, stats.questions_week) == (1, 2, 3)
    assert [d.total for d in stats.per_day] == [0, 0, 0, 1, 0, 0, 2]
    assert [(d.answered, d.declined) for d in stats.per_day[-1:]] == [(1, 1)]
    assert stats.per_day[-1].day == now.date().isoformat()
    assert stats.unanswered == [("aktien?", 2)]
    assert stats.decline_rate_week is not None and round(stats.decline_rate_week, 2) == 0.67
