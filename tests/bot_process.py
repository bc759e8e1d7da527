"""Running `python -m bot run` as a separate process against the fake Bot API."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from tests.conftest import ROOT
from tests.offline import TOKEN

if TYPE_CHECKING:
    from tests.fake_bot_api import FakeBotAPI, Sent


class BotProcess:
    """The bot as a user's Telegram would meet it: its own process, real HTTP."""

    def __init__(self, base_url: str, db_path: Path, log_path: Path, **env: str) -> None:
        self.environ = {k: v for k, v in os.environ.items() if not k.startswith("BOT_")}
        self.environ.update(
            BOT_TOKEN=TOKEN,
            BOT_API_BASE_URL=base_url,
            BOT_DB_PATH=str(db_path),
            BOT_LOG_LEVEL="INFO",
            PYTHONUNBUFFERED="1",
            **env,
        )
        self.log_path = log_path
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> BotProcess:
        with self.log_path.open("ab") as log:  # the child keeps its own copy of the handle
            self.process = subprocess.Popen(
                [sys.executable, "-m", "bot", "run"],
                cwd=ROOT,
                env=self.environ,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        return self

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 15.0) -> int:
        assert self.process is not None
        if self.process.poll() is None:
            self.process.send_signal(sig)
        try:
            return self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
            raise

    def kill(self) -> None:
        """SIGKILL the bot if it still runs: what a test leaves behind when it fails."""
        if self.process is not None and self.process.poll() is None:
            self.stop(signal.SIGKILL)

    def wait(self, timeout: float = 30.0) -> int:
        """The exit code of a process expected to end by itself."""
        assert self.process is not None
        return self.process.wait(timeout)

    def output(self) -> str:
        return self.log_path.read_text(errors="replace")


def text_of(call: Sent) -> str:
    return str(call.params.get("text", ""))


def buttons_of(call: Sent) -> list[dict[str, str]]:
    markup = call.params.get("reply_markup") or {}
    return [button for row in markup.get("inline_keyboard", []) for button in row]


def start_bot(api: FakeBotAPI, db: Path, log: Path, **env: str) -> BotProcess:
    """Start the bot against `api` and wait until it has published its command menus."""
    mark = api.mark()
    bot = BotProcess(api.base_url, db, log, **env).start()
    api.wait_for(
        lambda c: c.method == "setMyCommands" and "language_code" not in c.params, after=mark
    )
    return bot


def command(bot: BotProcess, *args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    """`python -m bot ARGS` (backup, health, ...) with the bot's settings."""
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        cwd=ROOT,
        env=dict(bot.environ),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def backup(bot: BotProcess, target: Path) -> subprocess.CompletedProcess[str]:
    """`python -m bot backup target` with the bot's settings."""
    return command(bot, "backup", str(target))
