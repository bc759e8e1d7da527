"""Flood protection: a user sending too much in a short time is paused, politely, once."""

from __future__ import annotations

from collections import deque
from datetime import datetime, timedelta
from typing import Literal

from bot.domain import Clock, utc_now

Verdict = Literal["ok", "notice", "drop"]


class FloodGuard:
    """At most `limit` messages per user within `window`; beyond that one notice, then
    silence until the user's rate is back under the limit (dropped messages count too)."""

    def __init__(
        self, limit: int = 20, window: timedelta = timedelta(seconds=10), clock: Clock = utc_now
    ) -> None:
        self.limit = limit
        self.window = window
        self.clock = clock
        self._seen: dict[int, deque[datetime]] = {}
        self._noticed: set[int] = set()

    def check(self, user_id: int) -> Verdict:
        now = self.clock()
        seen = self._seen.setdefault(user_id, deque())
        while seen and now - seen[0] >= self.window:
            seen.popleft()
        seen.append(now)
        if len(seen) <= self.limit:
            self._noticed.discard(user_id)
            self._forget_idle(now)
            return "ok"
        if user_id in self._noticed:
            return "drop"
        self._noticed.add(user_id)
        return "notice"

    def _forget_idle(self, now: datetime) -> None:
        # Keep memory bounded: drop users whose last message left the window.
        if len(self._seen) > 10_000:
            for user_id in [u for u, s in self._seen.items() if now - s[-1] >= self.window]:
                del self._seen[user_id]
