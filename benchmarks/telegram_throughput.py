"""Answers per second through the fake Bot API, ours beside a bare echo bot; resident memory.

20 users send at once (15 messages each, under the flood guard); each bot runs as its own
process (`python -m bot run` and benchmarks/echo_bot.py) against tests/fake_bot_api.py on
127.0.0.1. Targets: at least 0.8 of the echo bot's rate, resident memory under 120 MB.
Three settings: loopback without a rate limit (the bots' own CPU cost per message, where the
target is judged), Telegram's 30 messages per second as deployed, and a 30 ms round trip per
Bot API call, as from a server to Telegram.

    .venv/bin/python benchmarks/telegram_throughput.py [--users 20] [--per-user 15]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.bot_process import BotProcess  # noqa: E402
from tests.fake_bot_api import FakeBotAPI  # noqa: E402
from tests.offline import TOKEN  # noqa: E402

QUESTIONS = [
    "wieviele zeichen linkdin anfrage",
    "xing basis anfrage text geht nicht",
    "Wie finde ich ehemalige Kollegen?",
    "How do I respond to a LinkedIn invitation?",
    "Wo kann ich Aktien kaufen?",
]


def _rss_mb(pid: int) -> tuple[float, float]:
    """Current and peak resident memory of a process, in MB."""
    values = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            values[key] = int(value.split()[0]) / 1024
    return values.get("VmRSS", 0.0), values.get("VmHWM", 0.0)


def measure(
    kind: str, users: int, per_user: int, rate: float, latency: float = 0.0
) -> tuple[float, float, float]:
    """(answers per second, resident MB, peak resident MB) for one bot."""
    api = FakeBotAPI(TOKEN, latency)
    base = api.start()
    with tempfile.TemporaryDirectory() as folder:
        log = Path(folder) / f"{kind}.log"
        bot = BotProcess(base, Path(folder) / "bot.sqlite3", log, BOT_RATE_LIMIT=str(rate))
        bot.environ["BOT_LOG_LEVEL"] = "WARNING"
        if kind == "echo":
            with log.open("ab") as out:
                bot.process = subprocess.Popen(
                    [sys.executable, str(ROOT / "benchmarks" / "echo_bot.py")],
                    cwd=ROOT,
                    env=bot.environ,
                    stdout=out,
                    stderr=subprocess.STDOUT,
                )
            api.wait_for(lambda c: c.method == "deleteWebhook", timeout=30)
        else:
            bot.start()
            api.wait_for(lambda c: c.method == "setMyCommands", timeout=30)
        time.sleep(0.5)
        # Warm up: one message each, answered before timing starts.
        mark = api.mark()
        for user in range(users):
            api.say(QUESTIONS[user % len(QUESTIONS)], user_id=1000 + user)
        _wait_count(api, mark, users)
        mark = api.mark()
        total = users * per_user
        start = time.perf_counter()
        for round_ in range(per_user):
            for user in range(users):
                api.say(QUESTIONS[(user + round_) % len(QUESTIONS)], user_id=1000 + user)
        _wait_count(api, mark, total)
        elapsed = time.perf_counter() - start
        assert bot.process is not None
        rss, peak = _rss_mb(bot.process.pid)
        bot.stop()
    api.stop()
    return total / elapsed, rss, peak


def _wait_count(api: FakeBotAPI, mark: int, count: int, timeout: float = 300) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if sum(1 for c in api.calls[mark:] if c.method == "sendMessage") >= count:
            return
        time.sleep(0.01)
    raise TimeoutError(f"fewer than {count} answers within {timeout}s")


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--users", type=int, default=20)
    # Stay under the flood guard (20 messages in 10 s per user), as real users do.
    parser.add_argument("--per-user", type=int, default=15)
    args = parser.parse_args()
    failed = False
    # The target is judged on loopback without latency and without a rate limit. The other
    # runs show the deployed setting (Telegram's ~30/s) and a realistic ~30 ms round trip.
    for rate, latency in ((1000.0, 0.0), (30.0, 0.0), (1000.0, 0.03)):
        echo, echo_rss, _ = measure("echo", args.users, args.per_user, rate, latency)
        ours, rss, peak = measure("coach", args.users, args.per_user, rate, latency)
        ratio = ours / echo
        judged = rate == 1000.0 and latency == 0.0
        verdict = f"(target >= 0.8 {'ok' if ratio >= 0.8 else 'MISS'})" if judged else "(reference)"
        print(
            f"limit {rate:4.0f}/s, latency {1000 * latency:2.0f} ms: "
            f"echo bot {echo:6.1f} answers/s ({echo_rss:.0f} MB), "
            f"Netzwerk-Coach {ours:6.1f} answers/s = {ratio:.2f} of echo {verdict}; "
            f"resident {rss:.0f} MB, peak {peak:.0f} MB "
            f"(target < 120 {'ok' if peak < 120 else 'MISS'})"
        )
        failed |= (judged and ratio < 0.8) or peak >= 120
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
