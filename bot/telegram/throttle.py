"""Flood protection: a user sending too much in a short time is paused, politely, once."""

from __future__ import annotations

from collections import OrderedDict, deque
from datetime import datetime, timedelta
from typing import Literal

from bot.domain import Clock, utc_now

Verdict = Literal["ok", "notice", "drop"]


class FloodGuard:
    """At most `limit` messages per user within `window`; beyond that one notice, then
    silence until the user's rate is back under the limit (dropped messages count too).

    A message counts at the time the user sent it (Telegram's date), not when it is
    handled: after downtime the messages that waited arrive together, and a calm user's
    would read as a flood. Updates without a date (button presses) count at the guard's
    clock, in a count of their own: the two clocks may disagree by more than a window.
    """

    # Users whose counts are kept; the longest silent go first (they are calm by then).
    REMEMBERED = 10_000

    def __init__(
        self, limit: int = 20, window: timedelta = timedelta(seconds=10), clock: Clock = utc_now
    ) -> None:
        self.limit = limit
        self.window = window
        self.clock = clock
        self._seen: OrderedDict[tuple[int, bool], deque[datetime]] = OrderedDict()
        self._noticed: set[tuple[int, bool]] = set()

    def check(self, user_id: int, sent_at: datetime | None = None) -> Verdict:
        """The verdict on one more update of the user's, sent at `sent_at` if it says."""
        key = (user_id, sent_at is None)
        at = sent_at or self.clock()
        seen = self._seen.pop(key, deque())
        self._seen[key] = seen  # now the most recent
        if seen and at < seen[-1]:
            if seen[-1] - at >= self.window:
                seen.clear()  # the clock went back: what was counted is no measure any more
            else:
                at = seen[-1]  # whole seconds, and arrivals may cross: one step, not back
        while seen and at - seen[0] >= self.window:
            seen.popleft()
        seen.append(at)
        if len(self._seen) > self.REMEMBERED:
            forgotten, _ = self._seen.popitem(last=False)
            self._noticed.discard(forgotten)
        if len(seen) <= self.limit:
            self._noticed.discard(key)
            return "ok"
        if key in self._noticed:
            return "drop"
        self._noticed.add(key)
        return "notice"
