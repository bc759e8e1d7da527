"""What an import of LinkedIn's data export changes: new requests, known ones, accepted ones.

Pure: the parsed export and the user's LinkedIn requests go in, an `ImportPlan` comes out,
and storage applies it in one transaction. The plan never doubles a request: an invitation
to or from someone already logged in that direction (by profile address, else by name) is
merged, so importing the same file twice changes nothing. Nudges follow the real sent date:
points of the schedule already past are not sent late, an invitation open for three weeks
gets the withdraw advice in the import's reply, and one whose whole schedule lies in the past
goes straight to the history as expired, where its buttons still settle it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

from bot.domain import Direction, FollowUp, NewFollowUp
from bot.followups.linkedin_export import ExportContent, Invitation, SkippedRow, person_key
from bot.followups.policy import NudgePolicy


@dataclass
class ImportPlan:
    """The rows to add, the open requests to settle, and the figures for the reply."""

    new: list[NewFollowUp] = field(default_factory=list)
    accepted: list[tuple[int, datetime]] = field(default_factory=list)
    added: int = 0  # new open requests
    settled: int = 0  # recorded as accepted: already connected, new or logged before
    merged: int = 0  # invitations already known
    expired: int = 0  # their schedule lay in the past: straight to the history
    stale: int = 0  # open LinkedIn invitations sent three weeks ago or more
    skipped: list[SkippedRow] = field(default_factory=list)


def _keys(name: str, url: str | None) -> set[str]:
    keys = {person_key(name, None)}
    if url:
        keys.add(person_key(name, url))
    return keys


def _day(on: date) -> datetime:
    return datetime.combine(on, time(0), tzinfo=UTC)


def plan_import(
    content: ExportContent,
    existing: Sequence[FollowUp],
    policy: NudgePolicy,
    withdraw_after: timedelta | None,
    now: datetime,
) -> ImportPlan:
    """Decide, row by row, what the import adds, merges and settles."""
    plan = ImportPlan(skipped=list(content.skipped))
    connected: dict[str, date] = {}
    for connection in content.connections:
        for key in _keys(connection.name, connection.profile_url):
            connected.setdefault(key, connection.connected_on)
    known: dict[tuple[Direction, str], FollowUp | None] = {}
    for follow_up in existing:
        for key in _keys(follow_up.name, follow_up.profile_url):
            known[(follow_up.direction, key)] = follow_up
    settled_ids: set[int] = set()

    def accept_if_connected(follow_up: FollowUp) -> None:
        on = next((connected[k] for k in _keys(follow_up.name, follow_up.profile_url)
                   if k in connected), None)  # fmt: skip
        open_ = follow_up.state in ("pending", "expired") and follow_up.id not in settled_ids
        if on is not None and open_:
            settled_ids.add(follow_up.id)
            plan.accepted.append((follow_up.id, max(_day(on), _created(follow_up))))
            plan.settled += 1

    for follow_up in existing:
        accept_if_connected(follow_up)
    for invitation in sorted(content.invitations, key=lambda i: i.sent_at):
        keys = _keys(invitation.name, invitation.profile_url)
        match = next((known[(invitation.direction, k)] for k in keys
                      if (invitation.direction, k) in known), False)  # fmt: skip
        if match is not False:
            plan.merged += 1
            continue
        for key in keys:
            known[(invitation.direction, key)] = None  # twice in one file: once
        on = next((connected[k] for k in keys if k in connected), None)
        plan.new.append(_new_row(invitation, on, policy, withdraw_after, now, plan))
    return plan


def _created(follow_up: FollowUp) -> datetime:
    return datetime.fromtimestamp(follow_up.created_at, tz=UTC)


def _new_row(
    invitation: Invitation,
    connected_on: date | None,
    policy: NudgePolicy,
    withdraw_after: timedelta | None,
    now: datetime,
    plan: ImportPlan,
) -> NewFollowUp:
    sent = invitation.sent_at
    row = NewFollowUp(
        platform="linkedin",
        direction=invitation.direction,
        name=invitation.name,
        profile_url=invitation.profile_url,
        state="pending",
        created_at=int(sent.timestamp()),
    )
    if connected_on is not None:
        plan.settled += 1
        closed = max(_day(connected_on), sent)
        return row.model_copy(update={"state": "accepted", "closed_at": int(closed.timestamp())})
    points = [policy.first(sent) + k * policy.repeat for k in range(policy.max_nudges)]
    passed = sum(point <= now for point in points)
    withdraw = sent + withdraw_after if withdraw_after and invitation.direction == "sent" else None
    advised = withdraw is not None and withdraw <= now
    if passed < len(points):
        due = points[passed]
        if withdraw is not None and not advised:
            due = min(due, withdraw)
    elif withdraw is not None and not advised:
        due = withdraw
    else:
        due = points[-1] + policy.repeat  # the expiry notice
        if due <= now:
            plan.expired += 1
            return row.model_copy(
                update={"state": "expired", "nudges_sent": passed,
                        "closed_at": int(now.timestamp()), "advised_withdraw": advised}
            )  # fmt: skip
    plan.added += 1
    plan.stale += advised
    return row.model_copy(
        update={"nudges_sent": passed, "next_nudge_at": int(due.timestamp()),
                "advised_withdraw": advised}
    )  # fmt: skip
