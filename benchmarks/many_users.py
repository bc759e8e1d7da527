"""Memory after many distinct users: what the users repository keeps of each one it saw.

Drives 300,000 distinct users through what every message does to the repository (record the
user as seen, read their guided step) in a process that holds the Telegram front door and
the answer engine, as the bot does, and reports the users remembered and the peak resident
memory (VmHWM). Target: the peak stays <= 200 MB, far below a 512 MB VM, however many users
the bot has met (it was about 1.3 KB per user ever seen, kept for good).

    .venv/bin/python benchmarks/many_users.py [--users 300000]
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import bot.telegram.process  # noqa: E402, F401  (the process the bot runs in, front door included)
from bot.answering.service import AnswerService  # noqa: E402
from bot.knowledge import load  # noqa: E402
from bot.storage import Storage  # noqa: E402

TARGET_MB = 200


def memory_mb(field: str) -> float:
    """VmRSS (now) or VmHWM (the peak) of this process, in MB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no {field} in /proc/self/status")


async def drive(path: Path, users: int) -> tuple[int, float]:
    """(users remembered at the end, seconds taken)."""
    store = await Storage.open(path)
    now = datetime.now(UTC)
    start = time.perf_counter()
    for user_id in range(1, users + 1):
        await store.users.touch(user_id, "de", now)
        await store.users.step(user_id)
        if user_id % 50_000 == 0:
            print(f"  {user_id:>7,} users: rss {memory_mb('VmRSS'):.0f} MB", flush=True)
    remembered = len(store.users._cache)  # what stays in memory, per user seen
    await store.close()
    return remembered, time.perf_counter() - start


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--users", type=int, default=300_000)
    args = parser.parse_args()
    AnswerService(load())  # the engine's memory, as in the bot
    baseline = memory_mb("VmRSS")
    with tempfile.TemporaryDirectory() as folder:
        remembered, seconds = asyncio.run(drive(Path(folder) / "bot.sqlite3", args.users))
    peak = memory_mb("VmHWM")
    ok = peak <= TARGET_MB
    print(
        f"{args.users:,} distinct users in {seconds:.0f} s: {remembered:,} remembered, "
        f"rss {baseline:.0f} MB before, peak {peak:.0f} MB (target <= {TARGET_MB} MB) "
        f"{'ok' if ok else 'MISS'}"
    )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
