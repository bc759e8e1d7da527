"""The reminder sweep: due follow-ups are read from SQLite, sent, and recorded.

SQLite is the source of truth; the repeating job is only a trigger. Delivery is at most
once per nudge:

1. `claim_due` marks the next due row as claimed, committed before it is sent. One row at a
   time: a crash then leaves at most the nudge in flight uncertain, not a whole batch.
2. Each is sent; on success `complete_nudge` counts it and schedules the next one (or, after
   the last, the expiry notice, which tells the user once and keeps the request's
   buttons). Explicit failures (429 after retries, 5xx, network) release the claim with a
   short delay, so the next sweep tries again: such a nudge is late, not lost.
3. A claim still set when the bot starts is left over from a crash while sending. Telegram
   may or may not have delivered it, and there is no way to ask, so it is counted as sent:
   never a double message, at the price of possibly one missing nudge in that rare case.
   The user still gets the next one, and /pending always shows the request.

Quiet hours defer a nudge to their end (in the user's time zone), never drop it. A user
who blocked the bot (403) is marked inactive; their nudges wait until they write again.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Literal

from bot.domain import Clock, FollowUp, Lang, language_for
from bot.followups.policy import QuietHours
from bot.followups.tracker import RequestTracker
from bot.reply import Reply

log = logging.getLogger(__name__)

# sent: delivered; blocked: the user blocked the bot or is gone; retry: a passing failure;
# failed: refused for good (a bug on our side): recorded, not retried forever.
Delivery = Literal["sent", "blocked", "retry", "failed"]
# Sends one reply to a user's private chat and says how it went; must not raise.
Sender = Callable[[int, Reply], Awaitable[Delivery]]
# Rows claimed per step. One: a claim costs a fraction of a millisecond, Telegram allows
# about 30 sends a second, and a crash while sending must leave only one nudge uncertain
# (with 500, a SIGKILL mid-sweep left 36 of 37 claimed nudges unsent, counted as sent).
BATCH = 1
RETRY_AFTER = timedelta(minutes=1)
DIGEST_WEEKDAY = 0  # Monday
DIGEST_HOUR = 8


@dataclass
class SweepResult:
    sent: int = 0
    deferred: int = 0
    retried: int = 0
    blocked: int = 0
    expired: int = 0
    digests: int = 0


class NudgeSweeper:
    """Claims due nudges one by one and delivers them through a Sender."""

    def __init__(
        self,
        tracker: RequestTracker,
        send: Sender,
        *,
        default_language: Lang,
        quiet: QuietHours | None,
        clock: Clock,
        batch: int = BATCH,
    ) -> None:
        self.tracker = tracker
        self.store = tracker.store
        self.default_language = default_language
        self.send = send
        self.quiet = quiet
        self.clock = clock
        self.batch = batch
        self._running = asyncio.Lock()

    async def recover(self) -> int:
        """Settle claims left by a crash: counted as sent (see the module docstring)."""
        stale = await self.store.follow_ups.stale_claims()
        for follow_up in stale:
            user = await self.store.users.get(follow_up.user_id)
            policy = self.tracker.policy_for(user)
            now = self.clock()
            log.warning("nudge %s was being sent during a crash; not sending again", follow_up.id)
            if self.tracker.expires(follow_up, policy, now):  # it was the expiry notice
                await self.store.follow_ups.expire(follow_up.id, now)
                continue
            advised = self.tracker.advise_withdraw(follow_up, now)
            await self.store.follow_ups.complete_nudge(
                follow_up.id,
                now,
                self.tracker.next_due(follow_up, policy, now, advised),
                event="nudge_uncertain",
                advised_withdraw=advised,
            )
        return len(stale)

    async def sweep(self) -> SweepResult:
        """Deliver everything due now; a sweep already running makes this one a no-op."""
        result = SweepResult()
        if self._running.locked():
            return result
        async with self._running:
            while True:
                due = await self.store.follow_ups.claim_due(self.clock(), self.batch)
                if not due:
                    break
                for follow_up in due:
                    try:
                        await self._deliver(follow_up, result)
                    except Exception:
                        # One broken row must not stop the others; it is retried later.
                        log.exception("nudge %s failed", follow_up.id)
                        await self.store.follow_ups.release(
                            follow_up.id, self.clock() + RETRY_AFTER
                        )
                        result.retried += 1
            await self._digests(result)
        return result

    async def _deliver(self, follow_up: FollowUp, result: SweepResult) -> None:
        now = self.clock()
        user = await self.store.users.get(follow_up.user_id)
        policy = self.tracker.policy_for(user)
        if self.quiet is not None:
            allowed = self.quiet.defer(now, self.tracker.zone_for(user))
            if allowed != now:
                await self.store.follow_ups.release(follow_up.id, allowed)
                result.deferred += 1
                return
        lang = language_for(user, None, self.default_language)
        expires = self.tracker.expires(follow_up, policy, now)
        advised = not expires and self.tracker.advise_withdraw(follow_up, now)
        if expires:
            reply = self.tracker.expired_reply(lang, follow_up, now)
        else:
            reply = self.tracker.follow_up_reply(lang, follow_up, now, nudge=True)
        outcome = await self.send(follow_up.user_id, reply)
        if outcome in ("sent", "failed") and expires:
            await self.store.follow_ups.expire(follow_up.id, now)
            result.expired += 1
        elif outcome in ("sent", "failed"):
            event = "nudged" if outcome == "sent" else "nudge_failed"
            await self.store.follow_ups.complete_nudge(
                follow_up.id,
                now,
                self.tracker.next_due(follow_up, policy, now, advised),
                event=event,
                advised_withdraw=advised and outcome == "sent",
            )
            result.sent += outcome == "sent"
        elif outcome == "blocked":
            await self.store.users.set_active(follow_up.user_id, False)
            await self.store.follow_ups.release(follow_up.id)
            result.blocked += 1
        else:
            await self.store.follow_ups.release(follow_up.id, now + RETRY_AFTER)
            result.retried += 1

    async def _digests(self, result: SweepResult) -> None:
        """Monday from 08:00 in each user's time zone: one digest per user and week, once."""
        now = self.clock()
        for zone_name in await self.store.users.digest_zones():
            zone = self.tracker.zone_for_name(zone_name)
            local = now.astimezone(zone)
            if local.weekday() != DIGEST_WEEKDAY or local.hour < DIGEST_HOUR:
                continue
            year, week, _ = local.isocalendar()
            label = f"{year}-W{week:02d}"
            for user in await self.store.follow_ups.digest_candidates(label, zone_name):
                if not await self.store.follow_ups.claim_digest(user.id, label, now):
                    continue
                lang = language_for(user, None, self.default_language)
                outcome = await self.send(user.id, await self.tracker.digest(user, lang, now))
                if outcome == "blocked":
                    await self.store.users.set_active(user.id, False)
                elif outcome == "retry":
                    await self.store.follow_ups.unclaim_digest(user.id, label)
                result.digests += outcome == "sent"
