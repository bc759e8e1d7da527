"""Follow-ups end to end in the core: logging, nudges, decisions; time is a fake clock."""

from __future__ import annotations

import asyncio
import contextlib
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.answering.service import AnswerService
from bot.coach import Coach, UserRef, reply_text
from bot.followups.policy import NudgePolicy, QuietHours
from bot.followups.sweeper import Delivery, NudgeSweeper
from bot.render import to_plain
from bot.reply import Action, ActionKind, Reply
from bot.storage import Storage
from tests.conftest import FakeClock

ERIKA = UserRef(7, "de")
MAX = UserRef(8, "en")
UTC_ZONE = ZoneInfo("UTC")


class RecordingSender:
    """Collects what would be sent; can be told to fail for some users."""

    def __init__(self) -> None:
        self.sent: list[tuple[int, Reply]] = []
        self.outcome: dict[int, Delivery] = {}

    async def __call__(self, user_id: int, reply: Reply) -> Delivery:
        outcome = self.outcome.get(user_id, "sent")
        if outcome == "sent":
            self.sent.append((user_id, reply))
        return outcome

    def texts(self, user_id: int | None = None) -> list[str]:
        return [to_plain(r) for u, r in self.sent if user_id is None or u == user_id]


@pytest.fixture
def coach(service: AnswerService, store: Storage, clock: FakeClock) -> Coach:
    policy = NudgePolicy(timedelta(days=7), timedelta(days=7))
    return Coach(service, store, policy=policy, clock=clock, timezone=UTC_ZONE)


@pytest.fixture
def sender() -> RecordingSender:
    return RecordingSender()


@pytest.fixture
def sweeper(coach: Coach, sender: RecordingSender, clock: FakeClock) -> NudgeSweeper:
    return NudgeSweeper(coach.tracker, sender, default_language="de", quiet=None, clock=clock)


def _buttons(reply: Reply) -> dict[str, Action]:
    return {button.label: button.action for row in reply.buttons for button in row}


async def test_logging_confirms_and_schedules(coach: Coach, store: Storage) -> None:
    reply = await coach.command(ERIKA, "request", "linkedin Erika Mustermann | Messe")
    assert "Notiert: LinkedIn-Einladung an Erika Mustermann." in reply_text(reply)
    assert "in einer Woche" in reply_text(reply)
    (follow_up,) = await store.follow_ups.pending(7)
    assert follow_up.note == "Messe" and follow_up.nudges_sent == 0
    assert [e.event for e in await store.follow_ups.history(follow_up.id)] == ["created"]


async def test_a_memo_is_the_users_own_and_never_checked_against_platform_rules(
    coach: Coach,
) -> None:
    memo = "Messe Hamburg, Stand B12; " + "x" * 300  # longer than any invitation text
    saved = await coach.command(ERIKA, "request", f"linkedin Erika\n{memo}")
    assert "Notiert: LinkedIn-Einladung an Erika." in reply_text(saved)
    assert "Ihre Notiz (nur für Sie): Messe Hamburg" in reply_text(saved)
    assert "Zeichen" not in reply_text(saved)
    xing = await coach.command(ERIKA, "request", "xing Max | Hallo Max")
    assert "Premium" not in reply_text(xing)
    assert len(await coach.store.follow_ups.pending(7)) == 2
    endless = await coach.command(ERIKA, "request", "xing Max | " + "x" * 1001)
    assert "höchstens 1000 Zeichen" in reply_text(endless)
    assert len(await coach.store.follow_ups.pending(7)) == 2


async def test_an_invitation_draft_is_checked_against_the_limits_with_dated_updates(
    coach: Coach,
) -> None:
    too_long = reply_text(await coach.command(ERIKA, "draft", "linkedin " + "x" * 301))
    assert "301 Zeichen" in too_long and "höchstens 300 Zeichen" in too_long
    assert "Update, Stand 2025 (eine Quelle)" in too_long
    long = reply_text(await coach.command(ERIKA, "draft", "linkedin " + "x" * 250))
    assert "etwa 200 Zeichen" in long
    short = reply_text(await coach.command(ERIKA, "draft", "linkedin Hallo Erika, wir kennen uns"))
    assert "Das passt" in short
    xing = reply_text(await coach.command(ERIKA, "draft", "xing Hallo Max"))
    assert "nur mit Premium" in xing
    # Guided: platform first, then the pasted text; nothing is logged as a request.
    menu = await coach.command(ERIKA, "draft")
    linkedin = next(b for row in menu.buttons for b in row if b.label == "LinkedIn")
    asked = await coach.press(ERIKA, linkedin.action)
    assert "Einladungstext für LinkedIn" in reply_text(asked)
    draft = "Hallo Erika, schön, Sie auf der Messe getroffen zu haben"
    checked = await coach.question(ERIKA, draft)
    assert f"Ihr Text für LinkedIn hat {len(draft)} Zeichen." in reply_text(checked)
    assert not await coach.store.follow_ups.pending(7)


async def test_nudges_come_after_delay_repeat_at_most_three_times_then_expire(
    coach: Coach, sweeper: NudgeSweeper, sender: RecordingSender, clock: FakeClock
) -> None:
    await coach.command(ERIKA, "request", "linkedin Erika Mustermann")
    clock.advance(days=6, hours=23)
    assert (await sweeper.sweep()).sent == 0
    clock.advance(hours=1)
    assert (await sweeper.sweep()).sent == 1
    assert (await sweeper.sweep()).sent == 0, "never twice for one due time"
    first = sender.texts()[0]
    assert "Erinnerung: LinkedIn-Einladung an Erika Mustermann" in first
    assert "seit einer Woche offen" in first
    labels = _buttons(sender.sent[0][1])
    assert {"Angenommen", "Ignoriert", "Zurückgezogen", "Später", "Löschen"} <= set(labels)
    clock.advance(days=7)
    await sweeper.sweep()
    assert "zurückzuziehen" not in sender.texts()[1]
    clock.advance(days=7)
    await sweeper.sweep()
    third = sender.texts()[2]
    assert "zurückzuziehen" in third and "drei Wochen" in third, "after about 3 weeks: withdraw"
    assert "letzte Erinnerung" in third
    clock.advance(days=7)
    result = await sweeper.sweep()
    assert (result.sent, result.expired) == (0, 1)
    assert len(sender.sent) == 4, "the expiry is told once"
    assert "Abgelaufen: LinkedIn-Einladung an Erika Mustermann" in sender.texts()[3]
    assert not await coach.store.follow_ups.pending(7)
    clock.advance(days=7)
    assert (await sweeper.sweep()).sent == 0 and len(sender.sent) == 4
    # The expiry notice's buttons still work: a late "accepted" keeps its real date.
    accepted = _buttons(sender.sent[3][1])["Angenommen"]
    clock.advance(days=2)
    saved = await coach.press(ERIKA, accepted)
    assert "als angenommen vermerkt" in reply_text(saved)
    (closed,) = await coach.store.follow_ups.closed(7, clock() - timedelta(days=1))
    assert closed.state == "accepted" and closed.closed_at == int(clock().timestamp())


async def test_advice_fits_platform_and_direction(
    coach: Coach, sweeper: NudgeSweeper, sender: RecordingSender, clock: FakeClock
) -> None:
    await coach.command(ERIKA, "request", "xing Max Muster")
    await coach.command(ERIKA, "request", "received linkedin Jo Doe")
    await coach.command(MAX, "request", "received xing Anna")
    clock.advance(days=7)
    await sweeper.sweep()
    texts = sender.texts()
    assert any("Ablehnung nicht angezeigt" in t for t in texts)
    assert any("ehrlich, ob Sie die Person kennen" in t for t in texts)
    english = sender.texts(8)[0]
    assert "Best decide now" in english and "Withdrawn" not in _buttons(sender.sent[-1][1])


async def test_accepting_stops_nudges(
    coach: Coach, sweeper: NudgeSweeper, sender: RecordingSender, clock: FakeClock
) -> None:
    await coach.command(ERIKA, "request", "linkedin Erika")
    clock.advance(days=7)
    await sweeper.sweep()
    accept = _buttons(sender.sent[0][1])["Angenommen"]
    reply = await coach.press(ERIKA, accept)
    assert "als angenommen vermerkt" in reply_text(reply)
    clock.advance(days=30)
    await sweeper.sweep()
    assert len(sender.sent) == 1
    (follow_up,) = [f for f in await coach.store.follow_ups.pending(7)] or [None]
    assert follow_up is None
    again = await coach.press(ERIKA, accept)
    assert again.notice is not None and "nicht mehr offen (Status: angenommen)" in again.notice


async def test_snooze_moves_only_the_next_nudge(
    coach: Coach, sweeper: NudgeSweeper, sender: RecordingSender, clock: FakeClock
) -> None:
    await coach.command(ERIKA, "request", "linkedin Erika")
    clock.advance(days=7)
    await sweeper.sweep()
    later = _buttons(sender.sent[0][1])["Später"]
    clock.advance(days=1)
    reply = await coach.press(ERIKA, later)
    assert "in einer Woche wieder an Erika" in reply_text(reply)
    (follow_up,) = await coach.store.follow_ups.pending(7)
    assert follow_up.state == "pending" and follow_up.nudges_sent == 1
    clock.advance(days=6, hours=23)
    assert (await sweeper.sweep()).sent == 0
    clock.advance(hours=1)
    assert (await sweeper.sweep()).sent == 1


async def test_foreign_or_forged_presses_change_nothing(
    coach: Coach, sweeper: NudgeSweeper, sender: RecordingSender, clock: FakeClock
) -> None:
    await coach.command(ERIKA, "request", "linkedin Erika")
    clock.advance(days=7)
    await sweeper.sweep()
    buttons = _buttons(sender.sent[0][1])
    for label in ("Angenommen", "Löschen", "Später"):
        reply = await coach.press(MAX, buttons[label])
        assert reply.notice is not None and "does not exist" in reply.notice
    forged = [Action(ActionKind.DECIDE, "999-a"), Action(ActionKind.DECIDE, "1-z"),
              Action(ActionKind.DELETE, "1"), Action(ActionKind.FOLLOW_UP, "x")]  # fmt: skip
    for action in forged:
        assert (await coach.press(MAX, action)).notice is not None
    (follow_up,) = await coach.store.follow_ups.pending(7)
    assert follow_up.state == "pending" and follow_up.nudges_sent == 1


async def test_delete_asks_first_then_removes_with_history(coach: Coach, store: Storage) -> None:
    await coach.command(ERIKA, "request", "xing Max")
    listing = await coach.command(ERIKA, "pending")
    assert "Offene Anfragen: 1" in reply_text(listing)
    detail = await coach.press(ERIKA, next(iter(_buttons(listing).values())))
    ask = await coach.press(ERIKA, _buttons(detail)["Löschen"])
    assert "wirklich löschen" in reply_text(ask)
    assert await store.follow_ups.pending(7), "nothing deleted before confirming"
    done = await coach.press(ERIKA, _buttons(ask)["Ja, endgültig löschen"])
    assert "Gelöscht: XING-Anfrage an Max." in reply_text(done)
    assert not await store.follow_ups.pending(7)


async def test_quiet_hours_defer_never_drop(
    coach: Coach, sender: RecordingSender, clock: FakeClock
) -> None:
    quiet = QuietHours.parse("21:00-08:00")
    sweeper = NudgeSweeper(coach.tracker, sender, default_language="de", quiet=quiet, clock=clock)
    clock.now = clock.now.replace(hour=22)
    await coach.command(ERIKA, "request", "linkedin Erika")
    clock.advance(days=7)
    result = await sweeper.sweep()
    assert (result.sent, result.deferred) == (0, 1)
    clock.advance(hours=9, minutes=59)  # 07:59
    assert (await sweeper.sweep()).sent == 0
    clock.advance(minutes=1)  # 08:00
    assert (await sweeper.sweep()).sent == 1


async def test_blocked_user_pauses_until_they_write_again(
    coach: Coach, sweeper: NudgeSweeper, sender: RecordingSender, clock: FakeClock
) -> None:
    await coach.command(ERIKA, "request", "linkedin Erika")
    await coach.command(MAX, "request", "linkedin Max")
    clock.advance(days=7)
    sender.outcome[7] = "blocked"
    result = await sweeper.sweep()
    assert (result.sent, result.blocked) == (1, 1), "one user's failure does not stop others"
    user = await coach.store.users.get(7)
    assert user is not None and not user.active
    clock.advance(days=10)
    await sweeper.sweep()
    assert sender.texts(7) == [], "no nudges while blocked"
    del sender.outcome[7]
    await coach.command(ERIKA, "help")
    await sweeper.sweep()
    assert len(sender.texts(7)) == 1, "writing again resumes them"


async def test_passing_failures_are_retried_not_lost(
    coach: Coach, sweeper: NudgeSweeper, sender: RecordingSender, clock: FakeClock
) -> None:
    await coach.command(ERIKA, "request", "linkedin Erika")
    clock.advance(days=7)
    sender.outcome[7] = "retry"
    assert (await sweeper.sweep()).retried == 1
    del sender.outcome[7]
    assert (await sweeper.sweep()).sent == 0, "not before the retry delay"
    clock.advance(minutes=1)
    assert (await sweeper.sweep()).sent == 1


async def test_a_crash_while_sending_never_causes_a_double(
    coach: Coach, sweeper: NudgeSweeper, sender: RecordingSender, clock: FakeClock
) -> None:
    await coach.command(ERIKA, "request", "linkedin Erika")
    clock.advance(days=7)
    (claimed,) = await coach.store.follow_ups.claim_due(
        clock(), 10
    )  # the crash: claimed, never recorded
    restarted = NudgeSweeper(coach.tracker, sender, default_language="de", quiet=None, clock=clock)
    assert await restarted.recover() == 1
    assert (await restarted.sweep()).sent == 0
    events = [e.event for e in await coach.store.follow_ups.history(claimed.id)]
    assert events == ["created", "nudge_uncertain"]
    clock.advance(days=7)
    assert (await restarted.sweep()).sent == 1, "the schedule goes on"


async def test_nudge_due_while_down_is_sent_once_after_restart(
    coach: Coach, sender: RecordingSender, clock: FakeClock
) -> None:
    await coach.command(ERIKA, "request", "linkedin Erika")
    clock.advance(days=9)  # the bot was down when it fell due
    restarted = NudgeSweeper(coach.tracker, sender, default_language="de", quiet=None, clock=clock)
    assert await restarted.recover() == 0
    assert (await restarted.sweep()).sent == 1
    assert (await restarted.sweep()).sent == 0


async def test_nudges_off_and_own_delays_in_settings(
    coach: Coach, sweeper: NudgeSweeper, clock: FakeClock
) -> None:
    settings = await coach.command(ERIKA, "settings")
    assert "Erinnerungen: an; die erste nach einer Woche, danach jede Woche" in reply_text(settings)
    menu = await coach.press(ERIKA, _buttons(settings)["Erste Erinnerung: 1 Woche"])
    changed = await coach.press(ERIKA, _buttons(menu)["3 Tage"])
    assert "die erste nach 3 Tagen" in reply_text(changed) and changed.edit
    log = await coach.command(ERIKA, "request", "linkedin Erika")
    assert "in 3 Tagen" in reply_text(log)
    off = await coach.press(ERIKA, _buttons(changed)["🔕 Erinnerungen ausschalten"])
    assert "Erinnerungen: aus" in reply_text(off)
    clock.advance(days=30)
    assert (await sweeper.sweep()).sent == 0
    assert (await coach.press(ERIKA, Action(ActionKind.SETTING, "after-5y"))).notice


async def test_guided_request_asks_for_the_name(coach: Coach, store: Storage) -> None:
    choose = await coach.command(ERIKA, "request")
    asked = await coach.press(ERIKA, _buttons(choose)["LinkedIn: erhalten"])
    assert "Wie heißt die Person?" in reply_text(asked)
    saved = await coach.question(ERIKA, "Jo Doe | Kunde aus Köln")
    assert "LinkedIn-Einladung von Jo Doe" in reply_text(saved)
    (follow_up,) = await store.follow_ups.pending(7)
    assert (follow_up.direction, follow_up.note) == ("received", "Kunde aus Köln")
    after = await coach.question(ERIKA, "Wie lang darf die LinkedIn-Notiz sein?")
    assert "300" in reply_text(after), "questions work again afterwards"


async def test_weekly_digest_once_on_monday_morning(
    coach: Coach, sweeper: NudgeSweeper, sender: RecordingSender, clock: FakeClock
) -> None:
    settings = await coach.command(ERIKA, "settings")
    await coach.press(ERIKA, _buttons(settings)["📅 Wochenübersicht einschalten"])
    await coach.command(ERIKA, "request", "xing Max")
    clock.now = clock.now.replace(day=30, hour=7)  # Monday 30 Nov 2026, 07:00
    assert (await sweeper.sweep()).digests == 0
    clock.advance(hours=1)
    assert (await sweeper.sweep()).digests == 1
    assert (await sweeper.sweep()).digests == 0
    digest = [t for t in sender.texts() if "Ihre Netzwerk-Woche" in t]
    assert len(digest) == 1 and "Offene Anfragen: 1" in digest[0] and "0/9 erledigt" in digest[0]
    clock.advance(days=7)
    assert (await sweeper.sweep()).digests == 1


async def _nudge_days(
    coach: Coach, sweeper: NudgeSweeper, sender: RecordingSender, clock: FakeClock, days: int
) -> list[tuple[int, str]]:
    """Run the sweep hourly for `days`; (day, text) of every message sent."""
    start = clock()
    seen: list[tuple[int, str]] = []
    for _ in range(days * 24):
        clock.advance(hours=1)
        before = len(sender.sent)
        await sweeper.sweep()
        for _, reply in sender.sent[before:]:
            seen.append(((clock() - start).days, to_plain(reply)))
    return seen


@pytest.mark.parametrize("cadence", [3, 7, 14])
async def test_withdraw_advice_comes_at_three_weeks_whatever_the_cadence(
    service: AnswerService, store: Storage, sender: RecordingSender, clock: FakeClock, cadence: int
) -> None:
    policy = NudgePolicy(timedelta(days=cadence), timedelta(days=cadence))
    coach = Coach(service, store, policy=policy, clock=clock, timezone=UTC_ZONE)
    sweeper = NudgeSweeper(coach.tracker, sender, default_language="de", quiet=None, clock=clock)
    await coach.command(ERIKA, "request", "linkedin Erika Mustermann")
    seen = await _nudge_days(coach, sweeper, sender, clock, 60)
    withdraw = [day for day, text in seen if "zurückzuziehen" in text]
    assert withdraw == [21], seen
    expired = [day for day, text in seen if text.startswith("Abgelaufen")]
    assert len(expired) == 1 and expired[0] > 21, "the expiry waits for the withdraw advice"
    last = [day for day, text in seen if "letzte Erinnerung" in text]
    assert len(last) == 1 and last[0] >= 21


async def test_xing_requests_get_no_withdraw_advice_and_expire_on_their_cadence(
    coach: Coach, sweeper: NudgeSweeper, sender: RecordingSender, clock: FakeClock
) -> None:
    await coach.command(ERIKA, "request", "xing Max Muster")
    seen = await _nudge_days(coach, sweeper, sender, clock, 40)
    assert [day for day, _ in seen] == [7, 14, 21, 28]
    assert seen[-1][1].startswith("Abgelaufen") and not any("zurückzuziehen" in t for _, t in seen)


async def test_changed_delays_apply_to_open_requests_from_the_next_nudge(
    coach: Coach, sweeper: NudgeSweeper, sender: RecordingSender, clock: FakeClock
) -> None:
    await coach.command(ERIKA, "request", "xing Max Muster")
    settings = await coach.command(ERIKA, "settings")
    assert "auch für Ihre offenen Anfragen" in reply_text(settings)
    menu = await coach.press(ERIKA, _buttons(settings)["Erste Erinnerung: 1 Woche"])
    await coach.press(ERIKA, _buttons(menu)["3 Tage"])
    seen = await _nudge_days(coach, sweeper, sender, clock, 5)
    assert [day for day, _ in seen] == [3]
    settings = await coach.command(ERIKA, "settings")
    menu = await coach.press(ERIKA, _buttons(settings)["Danach: jede Woche"])
    await coach.press(ERIKA, _buttons(menu)["2 Wochen"])
    seen = await _nudge_days(coach, sweeper, sender, clock, 20)
    assert [day for day, _ in seen] == [14 - 2], "next nudge 14 days after the first (day 3)"


async def test_closed_and_expired_requests_stay_visible_in_the_history(
    coach: Coach, sweeper: NudgeSweeper, sender: RecordingSender, clock: FakeClock
) -> None:
    await coach.command(ERIKA, "request", "xing Max Muster")
    await coach.command(ERIKA, "request", "linkedin Erika Mustermann")
    (_, linkedin) = await coach.store.follow_ups.pending(7)
    await coach.press(ERIKA, Action(ActionKind.DECIDE, f"{linkedin.id}-a"))
    await _nudge_days(coach, sweeper, sender, clock, 30)  # the XING one expires
    listing = await coach.command(ERIKA, "pending")
    assert "keine offenen Anfragen" in reply_text(listing)
    history = await coach.press(ERIKA, _buttons(listing)["Erledigte anzeigen"])
    text = reply_text(history)
    assert "Erledigt in den letzten 90 Tagen: 2" in text
    assert "Erika Mustermann · angenommen · 27.11.2026" in text
    assert "Max Muster · abgelaufen" in text
    detail = await coach.press(
        ERIKA, _buttons(history)[next(k for k in _buttons(history) if "Max" in k)]
    )
    assert "Angenommen" in _buttons(detail), "an expired request can still be settled"
    clock.advance(days=91)
    assert await coach.purge_old_questions() == 0
    assert not await coach.store.follow_ups.closed(7, clock() - timedelta(days=365))


BERLIN = ZoneInfo("Europe/Berlin")
NEW_YORK = ZoneInfo("America/New_York")


@pytest.mark.parametrize(
    ("start", "zone", "quiet_end_utc"),
    [
        # Berlin leaves summer time on 25 Oct 2026: 08:00 local is 06:00 UTC before, 07:00 after.
        (datetime(2026, 10, 24, 21, 0, tzinfo=UTC), BERLIN, (2026, 10, 25, 7)),
        (datetime(2026, 10, 23, 21, 0, tzinfo=UTC), BERLIN, (2026, 10, 24, 6)),
        # New York leaves it on 1 Nov 2026: 08:00 local is 12:00 UTC before, 13:00 after.
        (datetime(2026, 11, 1, 3, 0, tzinfo=UTC), NEW_YORK, (2026, 11, 1, 13)),
        (datetime(2026, 10, 31, 3, 0, tzinfo=UTC), NEW_YORK, (2026, 10, 31, 12)),
    ],
)
async def test_quiet_hours_follow_the_users_time_zone_across_dst(
    service: AnswerService,
    store: Storage,
    sender: RecordingSender,
    start: datetime,
    zone: ZoneInfo,
    quiet_end_utc: tuple[int, int, int, int],
) -> None:
    clock = FakeClock(start - timedelta(days=7))
    coach = Coach(service, store, clock=clock, timezone=UTC_ZONE)
    quiet = QuietHours.parse("21:00-08:00")
    sweeper = NudgeSweeper(coach.tracker, sender, default_language="de", quiet=quiet, clock=clock)
    await coach.store.users.touch(7, "de", clock())
    await coach.store.users.set_timezone(7, zone.key)
    await coach.command(ERIKA, "request", "xing Max Muster")
    clock.now = start
    while not sender.sent:
        await sweeper.sweep()
        clock.advance(minutes=30)
    sent_at = clock() - timedelta(minutes=30)
    assert (sent_at.year, sent_at.month, sent_at.day, sent_at.hour) == quiet_end_utc


async def test_the_digest_comes_on_monday_morning_in_each_users_time_zone(
    service: AnswerService, store: Storage, sender: RecordingSender
) -> None:
    # Monday 26 Oct 2026, the day after Berlin left summer time (New York has not yet).
    clock = FakeClock(datetime(2026, 10, 25, 12, 0, tzinfo=UTC))
    coach = Coach(service, store, clock=clock, timezone=BERLIN)
    sweeper = NudgeSweeper(coach.tracker, sender, default_language="de", quiet=None, clock=clock)
    for user, zone in ((ERIKA, None), (MAX, NEW_YORK.key)):
        await coach.press(user, Action(ActionKind.SETTING, "digest-on"))
        await coach.store.users.set_timezone(user.id, zone)
    times: dict[int, datetime] = {}
    while len(times) < 2:
        clock.advance(minutes=15)
        before = len(sender.sent)
        await sweeper.sweep()
        for user_id, _ in sender.sent[before:]:
            times.setdefault(user_id, clock())
    assert times[7] == datetime(2026, 10, 26, 7, 0, tzinfo=UTC)  # 08:00 CET
    assert times[8] == datetime(2026, 10, 26, 12, 0, tzinfo=UTC)  # 08:00 EDT
    clock.advance(days=1)
    assert (await sweeper.sweep()).digests == 0


async def test_time_zone_is_picked_from_a_list_or_typed_and_checked(coach: Coach) -> None:
    settings = await coach.command(ERIKA, "settings")
    assert "Zeitzone: UTC" in reply_text(settings)
    menu = await coach.press(ERIKA, _buttons(settings)["Zeitzone ändern"])
    await coach.press(ERIKA, _buttons(menu)["Vienna"])
    assert (await coach.store.users.get(7)).timezone == "Europe/Vienna"  # type: ignore[union-attr]
    menu = await coach.press(ERIKA, _buttons(menu)["Andere Zeitzone …"])
    wrong = await coach.question(ERIKA, "Mars/Olympus")
    assert "kenne ich nicht" in reply_text(wrong)
    saved = await coach.question(ERIKA, "asia/dubai")
    assert "Asia/Dubai" in reply_text(saved)
    assert (await coach.store.users.get(7)).timezone == "Asia/Dubai"  # type: ignore[union-attr]


async def test_a_crash_while_sending_leaves_at_most_one_nudge_uncertain(
    coach: Coach, clock: FakeClock
) -> None:
    for number in range(5):
        await coach.command(UserRef(100 + number, "de"), "request", f"linkedin Person {number}")
    clock.advance(days=7)
    in_second_send = asyncio.Event()
    never = asyncio.Event()
    calls = 0

    async def hanging(user_id: int, reply: Reply) -> Delivery:
        nonlocal calls
        calls += 1
        if calls == 2:
            in_second_send.set()
            await never.wait()  # the second send never returns: the process dies here
        return "sent"

    sweeper = NudgeSweeper(coach.tracker, hanging, default_language="de", quiet=None, clock=clock)
    task = asyncio.create_task(sweeper.sweep())
    await in_second_send.wait()
    task.cancel()  # the crash, while the second nudge is in flight
    with contextlib.suppress(asyncio.CancelledError):
        await task
    stale = await coach.store.follow_ups.stale_claims()
    assert len(stale) == 1, "only the nudge in flight is uncertain"
    restarted = RecordingSender()
    again = NudgeSweeper(coach.tracker, restarted, default_language="de", quiet=None, clock=clock)
    assert await again.recover() == 1
    assert (await again.sweep()).sent == 3, "the three never claimed still go out"
