"""Answers per second through the fake Bot API, ours beside a bare echo bot; resident memory.

20 users send at once (15 messages each, under the flood guard); each bot runs as its own
process (`python -m bot run` and benchmarks/echo_bot.py) against tests/fake_bot_api.py on
127.0.0.1. Targets: at least 0.8 of the echo bot's rate, resident memory under 120 MB.

The target is judged on loopback without a rate limit, where both bots are bound by their
own CPU per message. The machine's speed drifts from run to run, so the two bots run in
turn, `--pairs` times, and the ratio of the median rates is judged. References, one run each:
Telegram's 30 messages per second as deployed, a 30 ms round trip per Bot API call (as from
a server to Telegram), and the echo bot on our transport (what our bot costs beyond it).

    .venv/bin/python benchmarks/telegram_throughput.py [--users 20] [--per-user 15] [--pairs 3]
"""

from __future__ import annotations

import argparse
import statistics
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
    """`kind`: "coach", "echo", or "echo-ours" (the echo bot on our transport)."""
    """(answers per second, resident MB, peak resident MB) for one bot."""
    api = FakeBotAPI(TOKEN, latency)
    base = api.start()
    with tempfile.TemporaryDirectory() as folder:
        log = Path(folder) / f"{kind}.log"
        bot = BotProcess(base, Path(folder) / "bot.sqlite3", log, BOT_RATE_LIMIT=str(rate))
        bot.environ["BOT_LOG_LEVEL"] = "WARNING"
        if kind.startswith("echo"):
            command = [sys.executable, str(ROOT / "benchmarks" / "echo_bot.py")]
            if kind == "echo-ours":
                command.append("--our-transport")
            with log.open("ab") as out:
                bot.process = subprocess.Popen(
                    command,
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
    parser.add_argument("--pairs", type=int, default=3)
    args = parser.parse_args()
    run = (args.users, args.per_user)
    echo_rates, our_rates, peaks = [], [], []
    for _ in range(args.pairs):
        echo, echo_rss, _ = measure("echo", *run, rate=1000.0)
        ours, rss, peak = measure("coach", *run, rate=1000.0)
        echo_rates.append(echo)
        our_rates.append(ours)
        peaks.append(peak)
        print(
            f"loopback, no limit: echo bot {echo:6.1f} answers/s ({echo_rss:.0f} MB), "
            f"Netzwerk-Coach {ours:6.1f} answers/s ({rss:.0f} MB) = {ours / echo:.2f}"
        )
    ratio = statistics.median(our_rates) / statistics.median(echo_rates)
    print(
        f"JUDGED median of {args.pairs}: echo bot {statistics.median(echo_rates):.1f}/s, "
        f"Netzwerk-Coach {statistics.median(our_rates):.1f}/s = {ratio:.2f} of echo "
        f"(target >= 0.8 {'ok' if ratio >= 0.8 else 'MISS'}); "
        f"peak resident {max(peaks):.0f} MB (target < 120 {'ok' if max(peaks) < 120 else 'MISS'})"
    )
    for rate, latency in ((30.0, 0.0), (1000.0, 0.03)):
        echo, _, _ = measure("echo", *run, rate=rate, latency=latency)
        ours, _, peak = measure("coach", *run, rate=rate, latency=latency)
        peaks.append(peak)
        print(
            f"reference, limit {rate:4.0f}/s, latency {1000 * latency:2.0f} ms: "
            f"echo bot {echo:6.1f} answers/s, Netzwerk-Coach {ours:6.1f} answers/s "
            f"= {ours / echo:.2f} of echo"
        )
    lean, _, _ = measure("echo-ours", *run, rate=1000.0)
    print(
        f"reference, loopback: echo bot on our transport {lean:6.1f} answers/s; "
        f"Netzwerk-Coach (median above) = {statistics.median(our_rates) / lean:.2f} of it"
    )
    return 1 if ratio < 0.8 or max(peaks) >= 120 else 0


if __name__ == "__main__":
    sys.exit(main())
