"""Reminder sweep at scale: claiming due rows, and delivering nudges through the fake Bot API.

1. 100,000 pending requests of 10,000 users: time to claim the next due row, as the sweep
   does, one at a time (target p95 <= 50 ms; it was a batch of 500 before a crash while
   sending could leave a whole batch uncertain).
2. 5,000 due nudges delivered by `python -m bot run` through the fake Bot API at Telegram's
   rate (target >= 25 messages per second), checked for none lost and none doubled.

    .venv/bin/python benchmarks/nudge_sweep.py [--deliver 5000]
"""

from __future__ import annotations

import argparse
import asyncio
import random
import sqlite3
import statistics
import sys
import tempfile
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.followups.sweeper import BATCH  # noqa: E402
from bot.storage import Storage  # noqa: E402
from tests.bot_process import BotProcess  # noqa: E402
from tests.fake_bot_api import FakeBotAPI  # noqa: E402
from tests.offline import TOKEN  # noqa: E402


async def _create(path: Path) -> None:
    store = await Storage.open(path)  # creates and migrates the schema
    await store.close()


def fill(path: Path, users: int, requests: int, due: int, now: int) -> None:
    """`requests` pending requests spread over `users`; `due` of them due now."""
    asyncio.run(_create(path))
    rng = random.Random(1)
    with sqlite3.connect(path) as db:
        db.executemany(
            "INSERT INTO users (id, first_seen, last_seen, active) VALUES (?, ?, ?, 1)",
            [(1000 + n, now, now) for n in range(users)],
        )
        rows = []
        for n in range(requests):
            next_at = now - rng.randint(1, 3600) if n < due else now + rng.randint(60, 10**6)
            rows.append(
                (1000 + n % users, rng.choice(("xing", "linkedin")), f"Kontakt {n}", now, next_at)
            )
        db.executemany(
            """INSERT INTO follow_ups (user_id, platform, direction, name, created_at,
                   next_nudge_at) VALUES (?, ?, 'sent', ?, ?, ?)""",
            rows,
        )


async def _claims(path: Path, rounds: int) -> list[float]:
    store = await Storage.open(path)
    now = datetime.now(UTC)
    timings = []
    for _ in range(rounds):
        start = time.perf_counter()
        claimed = await store.follow_ups.claim_due(now, BATCH)
        timings.append(1000 * (time.perf_counter() - start))
        assert len(claimed) == BATCH
    await store.close()
    return timings


def deliver(count: int) -> tuple[float, int, int]:
    """(messages per second, nudges lost, nudges doubled)."""
    api = FakeBotAPI(TOKEN)
    base = api.start()
    with tempfile.TemporaryDirectory() as folder:
        db = Path(folder) / "bot.sqlite3"
        now = int(time.time())
        fill(db, users=count, requests=count, due=count, now=now)
        bot = BotProcess(
            base,
            db,
            Path(folder) / "bot.log",
            BOT_REMINDER_SWEEP_SECONDS="1",
            BOT_QUIET_HOURS="",
        ).start()
        first = api.wait_for(lambda c: "Erinnerung" in str(c.params.get("text", "")), timeout=60)
        deadline = time.monotonic() + count / 10 + 60
        while time.monotonic() < deadline:
            nudges = [c for c in api.sent("sendMessage") if "Erinnerung" in str(c.params["text"])]
            if len(nudges) >= count:
                break
            time.sleep(0.5)
        last = max(c.at for c in nudges)
        rate = (len(nudges) - 1) / (last - first.at) if len(nudges) > 1 else 0.0
        time.sleep(3)  # a few more sweeps: nothing may come twice
        bot.stop()
        per_chat = Counter(
            int(c.params["chat_id"])
            for c in api.sent("sendMessage")
            if "Erinnerung" in str(c.params["text"])
        )
    api.stop()
    lost = count - len(per_chat)
    doubled = sum(n - 1 for n in per_chat.values() if n > 1)
    return rate, lost, doubled


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--deliver", type=int, default=5000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "claims.sqlite3"
        start = time.perf_counter()
        fill(path, users=10_000, requests=100_000, due=25_000, now=int(time.time()))
        print(f"(filled 100,000 requests of 10,000 users in {time.perf_counter() - start:.1f} s)")
        timings = asyncio.run(_claims(path, rounds=400))
    median, worst = statistics.median(timings), max(timings)
    p95 = statistics.quantiles(timings, n=20)[-1]
    # Judged on the 95th percentile: single outliers are WAL checkpoints or GC pauses.
    claim_ok = p95 <= 50
    print(
        f"claim the next due of 100,000 (400 claims): median {median:.1f} ms, p95 {p95:.1f} ms, "
        f"worst {worst:.1f} ms (target p95 <= 50 ms) {'ok' if claim_ok else 'MISS'}"
    )
    rate, lost, doubled = deliver(args.deliver)
    deliver_ok = rate >= 25 and lost == 0 and doubled == 0
    print(
        f"deliver {args.deliver} nudges: {rate:.1f} messages/s (target >= 25), "
        f"lost {lost}, doubled {doubled} {'ok' if deliver_ok else 'MISS'}"
    )
    return 0 if claim_ok and deliver_ok else 1


if __name__ == "__main__":
    sys.exit(main())
