"""Pure follow-up logic: durations, quiet hours, request parsing."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.followups.policy import QuietHours, format_duration, format_every, parse_duration
from bot.followups.requests import RequestSyntaxError, parse_request, read_reply

BERLIN = ZoneInfo("Europe/Berlin")


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("30s", 30), ("15m", 900), ("12h", 43200), ("7d", 604800), ("2W", 1209600)],
)
def test_durations_parse(text: str, seconds: int) -> None:
    assert parse_duration(text) == timedelta(seconds=seconds)


@pytest.mark.parametrize("text", ["", "7", "7 days", "0d", "-1d", "1y", "d7"])
def test_bad_durations_are_refused(text: str) -> None:
    with pytest.raises(ValueError):
        parse_duration(text)


def test_durations_read_naturally() -> None:
    assert format_duration(timedelta(days=3), "de") == "3 Tagen"
    assert format_duration(timedelta(days=7), "de") == "einer Woche"
    assert format_duration(timedelta(days=1), "de") == "einem Tag"
    assert format_duration(timedelta(days=14), "en") == "2 weeks"
    assert format_duration(timedelta(days=3), "de", dative=False) == "3 Tage"
    assert format_duration(timedelta(hours=1), "en") == "an hour"
    assert format_every(timedelta(days=7), "de") == "jede Woche"
    assert format_every(timedelta(days=3), "de") == "alle 3 Tage"
    assert format_every(timedelta(days=14), "en") == "every 2 weeks"


def test_quiet_hours_across_midnight_defer_to_their_end() -> None:
    quiet = QuietHours.parse("21:00-08:00")
    assert quiet is not None
    late = datetime(2026, 11, 27, 22, 30, tzinfo=BERLIN)
    assert quiet.defer(late, BERLIN) == datetime(2026, 11, 28, 8, 0, tzinfo=BERLIN)
    early = datetime(2026, 11, 28, 6, 0, tzinfo=BERLIN).astimezone(UTC)
    assert quiet.defer(early, BERLIN) == datetime(2026, 11, 28, 7, 0, tzinfo=UTC)
    day = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
    assert quiet.defer(day, BERLIN) == day


def test_quiet_hours_within_a_day_and_disabled() -> None:
    quiet = QuietHours.parse("12:00-13:30")
    assert quiet is not None and quiet.contains(time(12, 45)) and not quiet.contains(time(13, 30))
    assert QuietHours.parse("") is None
    for bad in ("21-08", "25:00-08:00", "08:00-08:00"):
        with pytest.raises(ValueError):
            QuietHours.parse(bad)


@pytest.mark.parametrize(
    ("args", "platform", "direction", "name", "note"),
    [
        ("linkedin Erika Mustermann", "linkedin", "sent", "Erika Mustermann", None),
        ("xing Max Muster | Messe Hamburg", "xing", "sent", "Max Muster", "Messe Hamburg"),
        ("received LI Jo Doe\nmet at lunch", "linkedin", "received", "Jo Doe", "met at lunch"),
        ("erhalten xing Anna-Lena Berg | Kundin", "xing", "received", "Anna-Lena Berg", "Kundin"),
        ("XING gesendet Dr. Müller", "xing", "sent", "Dr. Müller", None),
        # Natural wording: "an"/"von" belong to the sentence, not to the name.
        ("linkedin an Max Mustermann", "linkedin", "sent", "Max Mustermann", None),
        ("erhalten xing von Jonas Weber", "xing", "received", "Jonas Weber", None),
        ("linkedin von Jonas Weber", "linkedin", "received", "Jonas Weber", None),
        ("linkedin to Max Doe.", "linkedin", "sent", "Max Doe", None),
        # Only a new line or | splits off the memo.
        ("xing Müller - Lüdenscheidt GmbH", "xing", "sent", "Müller - Lüdenscheidt GmbH", None),
        ("xing Müller; Lüdenscheidt", "xing", "sent", "Müller; Lüdenscheidt", None),
        ("linkedin Max M.", "linkedin", "sent", "Max M", None),
        # The platform word tolerates a slip, as questions do.
        ("linkdin Erika Mustermann", "linkedin", "sent", "Erika Mustermann", None),
        ("Linked In Erika Mustermann", "linkedin", "sent", "Erika Mustermann", None),
        ("xnig Erika Mustermann", "xing", "sent", "Erika Mustermann", None),
        ("erhalten LinkedIn: Erika Mustermann", "linkedin", "received", "Erika Mustermann", None),
    ],
)
def test_request_arguments(
    args: str, platform: str, direction: str, name: str, note: str | None
) -> None:
    parsed = parse_request(args)
    assert (parsed.platform, parsed.direction, parsed.name, parsed.note) == (
        platform,
        direction,
        name,
        note,
    )


@pytest.mark.parametrize(
    ("args", "reason"),
    [
        ("Erika Mustermann", "request_need_platform"),
        ("linkedin", "request_need_name"),
        ("linkedin " + "x" * 101, "request_name_too_long"),
        ("linkedin Erika | " + "x" * 1001, "request_note_too_long"),
        ("King Müller", "request_need_platform"),  # one letter from "xing", still a name
    ],
)
def test_bad_request_arguments_say_why(args: str, reason: str) -> None:
    with pytest.raises(RequestSyntaxError) as error:
        parse_request(args)
    assert error.value.reason == reason


@pytest.mark.parametrize(
    ("text", "reading"),
    [
        ("Erika Mustermann", "name"),
        ("max mustermann", "name"),
        ("Dr. Anna-Lena Berg | Messe Hamburg", "name"),
        ("Ursula von der Leyen", "name"),
        ("wie lang darf die notiz sein", "question"),
        ("Kann ich die Anfrage noch ändern?", "question"),
        ("Max?", "question"),
        ("ach vergiss es", "cancel"),
        ("Abbrechen", "cancel"),
        ("cancel", "cancel"),
        ("nein", "cancel"),
        ("ok danke", "unsure"),
        ("Hallo", "unsure"),
        ("ich habe ihn auf der Messe getroffen, er ist Einkäufer", "unsure"),
        ("Kontakt 123", "unsure"),
    ],
)
def test_a_reply_in_the_guided_flow_is_read_before_it_is_logged(text: str, reading: str) -> None:
    assert read_reply(text) == reading
