"""Whether the bot serves, for `python -m bot health` and for the log, in one place.

A supervisor must see a bot that is alive but does not serve (start-up retrying, polling
failing, the database locked). The bot therefore writes its state to a small file beside the
database: when it last served (a getUpdates that came back and whose updates were saved, or
the webhook server taking posts), when the reminder sweep last ran, and what fails right now.
Each failure is logged once when it starts and once when it ends, not at every retry.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import time
from collections.abc import Callable
from pathlib import Path

from bot.config import Settings
from bot.telegram.transport import without_token

log = logging.getLogger(__name__)
# Serving writes its sign at most this often (getUpdates returns many times a second under load).
WRITE_EVERY = 1.0
# A long poll lasts 10 s; three missed ones mean the bot does not serve.
SERVING_LIMIT = 30.0
MAX_REASON = 200


def heartbeat_path(settings: Settings) -> Path:
    """The heartbeat's file: next to the database, which the bot may write anyway."""
    return settings.db_path.with_name(settings.db_path.name + ".heartbeat")


class Heartbeat:
    """The bot's serving state in memory, written to `path` (None: log only) when it changes."""

    def __init__(self, path: Path | None, clock: Callable[[], float] = time.time) -> None:
        self.path = path
        self.clock = clock
        self.started_at = clock()
        self.served_at: float | None = None
        self.swept_at: float | None = None
        self.stopped: str | None = None
        self.failing: dict[str, tuple[float, str]] = {}  # what -> (since, error)
        self._written_at = 0.0

    def served(self) -> None:
        """The bot took updates just now."""
        first = self.served_at is None
        self.served_at = self.clock()
        if first or self.served_at - self._written_at >= WRITE_EVERY:
            self.write()

    def swept(self) -> None:
        """The reminder sweep ran just now."""
        self.swept_at = self.clock()
        self.write()

    def trouble(self, what: str, error: BaseException | str) -> None:
        """`what` failed and will be retried; logged when it starts failing, not every time."""
        if what in self.failing:
            return
        # The health line shows it: short, and without the token a proxy's page may quote.
        reason = without_token(str(error) or type(error).__name__)[:MAX_REASON]
        log.warning("%s failed (%s); retrying with backoff", what, reason)
        self.failing[what] = (self.clock(), reason)
        self.write()

    def fine(self, what: str) -> None:
        """`what` worked (again)."""
        failed = self.failing.pop(what, None)
        if failed is not None:
            log.info("%s works again after %.1f s", what, self.clock() - failed[0])
            self.write()

    def stop(self, reason: str) -> None:
        """The process ends; health says so at once instead of when the sign grows old."""
        self.stopped = reason
        self.write()

    def write(self) -> None:
        if self.path is None:
            return
        state = {
            "started_at": self.started_at,
            "served_at": self.served_at,
            "swept_at": self.swept_at,
            "stopped": self.stopped,
            "failing": {what: {"since": s, "error": e} for what, (s, e) in self.failing.items()},
        }
        self._written_at = self.clock()
        new = self.path.with_name(self.path.name + ".new")
        # A full disk must not stop the bot from saying why it stops; health then sees the
        # old sign grow stale.
        with contextlib.suppress(OSError):
            # Owner-only, like the database beside it.
            with os.fdopen(os.open(new, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w") as f:
                f.write(json.dumps(state))
            os.replace(new, self.path)  # health never reads half a file


def problems(path: Path, sweep_limit: float, now: float) -> list[str]:
    """Why the bot whose heartbeat is at `path` is not healthy; empty if it is."""
    try:
        state = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return [f"no heartbeat at {path} (the bot is not running)"]
    except ValueError:
        return [f"heartbeat at {path} unreadable"]
    if state["stopped"]:
        return [f"the bot stopped: {state['stopped']}"]
    found = [
        f"{what} failing for {now - failure['since']:.0f} s: {failure['error']}"
        for what, failure in state["failing"].items()
    ]
    served, swept = state["served_at"], state["swept_at"]
    if served is None:
        found.append(f"not serving yet, started {now - state['started_at']:.0f} s ago")
    elif now - served > SERVING_LIMIT:
        found.append(f"last served {now - served:.0f} s ago (limit {SERVING_LIMIT:.0f} s)")
    last_sweep = swept if swept is not None else state["started_at"]
    if now - last_sweep > sweep_limit:
        found.append(f"reminder sweep last ran {now - last_sweep:.0f} s ago")
    return found
