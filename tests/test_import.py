"""Importing LinkedIn's data export and the progress picture, through the real pipeline."""

from __future__ import annotations

import csv
import io
import json
import sqlite3
import struct
import zipfile
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from telegram.ext import Application

from bot.coach import Coach, UserRef, reply_text
from bot.storage import Storage
from tests.conftest import FakeClock
from tests.offline import OfflineRequest, UpdateFactory, to_update

App = Application[Any, Any, Any, Any, Any, Any]
ERIKA = UserRef(7, "de")
INVITATION_HEADER = ["From", "To", "Sent At", "Message", "Direction", "inviterProfileUrl",
                     "inviteeProfileUrl"]  # fmt: skip
CONNECTION_HEADER = ["First Name", "Last Name", "URL", "Email Address", "Company", "Position",
                     "Connected On"]  # fmt: skip


def _csv(rows: list[list[str]], preamble: str = "") -> bytes:
    out = io.StringIO()
    out.write(preamble)
    csv.writer(out, lineterminator="\n").writerows(rows)
    return out.getvalue().encode("utf-8")


def _sent(day: datetime) -> str:
    """LinkedIn's 'Sent At': month first, 12-hour clock."""
    hour = day.hour % 12 or 12
    return f"{day.month}/{day.day}/{day:%y}, {hour}:{day:%M} {'AM' if day.hour < 12 else 'PM'}"


def invitations(rows: list[tuple[str, str, datetime]]) -> bytes:
    """(other person, OUTGOING/INCOMING, sent) as Invitations.csv."""
    body = []
    for name, direction, sent in rows:
        slug = "https://www.linkedin.com/in/" + name.lower().replace(" ", "-")
        me = "https://www.linkedin.com/in/erika-muster"
        if direction == "OUTGOING":
            body.append(["Erika Muster", name, _sent(sent), "", direction, me, slug])
        else:
            body.append([name, "Erika Muster", _sent(sent), "", direction, slug, me])
    return _csv([INVITATION_HEADER, *body])


def connections(rows: list[tuple[str, datetime]]) -> bytes:
    body = []
    for name, on in rows:
        first, last = name.split(" ", 1)
        slug = "https://www.linkedin.com/in/" + name.lower().replace(" ", "-")
        body.append([first, last, slug, "", "", "", on.strftime("%d %b %Y")])
    notes = 'Notes:\n"When exporting your connection data, you may notice that some of the email addresses are missing."\n\n'  # noqa: E501
    return _csv([CONNECTION_HEADER, *body], preamble=notes)


def export_zip(**members: bytes) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in members.items():
            archive.writestr(f"Basic_LinkedInDataExport/{name}.csv", content)
        archive.writestr("Basic_LinkedInDataExport/Profile.csv", "First Name\nErika\n")
    return buffer.getvalue()


NOW = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)


async def test_open_invitations_become_requests_with_their_real_dates(
    coach: Coach, store: Storage, clock: FakeClock
) -> None:
    data = invitations(
        [
            ("Max Mustermann", "OUTGOING", NOW - timedelta(days=10)),
            ("Anna Berg", "INCOMING", NOW - timedelta(days=2)),
            ("Old Timer", "OUTGOING", NOW - timedelta(days=200)),
        ]
    )
    reply = reply_text(await coach.import_file(ERIKA, data, "Invitations.csv"))
    assert "Neu notiert: 2" in reply and "Übersprungene Zeilen: 0" in reply
    assert "1 ältere Einladungen" in reply
    open_ = {f.name: f for f in await store.follow_ups.pending(7)}
    assert set(open_) == {"Max Mustermann", "Anna Berg"}
    max_ = open_["Max Mustermann"]
    assert max_.created_at == int((NOW - timedelta(days=10)).timestamp())
    # 7 days after sending has passed: not sent late; the next one is 14 days after sending.
    assert max_.nudges_sent == 1
    assert max_.next_nudge_at == int((NOW + timedelta(days=4)).timestamp())
    assert open_["Anna Berg"].direction == "received"
    (old,) = await store.follow_ups.closed(7, clock() - timedelta(days=1))
    assert (old.name, old.state) == ("Old Timer", "expired")


async def test_the_same_file_twice_changes_nothing(coach: Coach, store: Storage) -> None:
    data = export_zip(
        Invitations=invitations([("Max Mustermann", "OUTGOING", NOW - timedelta(days=3))]),
        Connections=connections([("Jo Doe", NOW - timedelta(days=400))]),
    )
    await coach.import_file(ERIKA, data, "export.zip")
    before = await store.export_user(7)
    again = reply_text(await coach.import_file(ERIKA, data, "export.zip"))
    assert "Neu notiert: 0" in again and "zusammengeführt: 1" in again
    after = await store.export_user(7)
    assert after["follow_ups"] == before["follow_ups"]


async def test_hand_logged_requests_are_merged_not_doubled(coach: Coach, store: Storage) -> None:
    await coach.command(ERIKA, "request", "linkedin max mustermann | Messe Hamburg")
    data = invitations([("Max Mustermann", "OUTGOING", NOW - timedelta(days=3))])
    reply = reply_text(await coach.import_file(ERIKA, data, "Invitations.csv"))
    assert "Neu notiert: 0" in reply and "zusammengeführt: 1" in reply
    (only,) = await store.follow_ups.pending(7)
    assert only.note == "Messe Hamburg"


async def test_connections_settle_open_requests_as_accepted_with_their_date(
    coach: Coach, store: Storage, clock: FakeClock
) -> None:
    await coach.command(ERIKA, "request", "linkedin Jonas Weber")
    clock.advance(days=3)
    accepted_on = datetime(2026, 11, 29, tzinfo=UTC)
    reply = reply_text(
        await coach.import_file(ERIKA, connections([("Jonas Weber", accepted_on)]), "c.csv")
    )
    assert "Als angenommen vermerkt: 1" in reply
    assert not await store.follow_ups.pending(7)
    (done,) = await store.follow_ups.closed(7, clock() - timedelta(days=30))
    assert done.state == "accepted" and done.closed_at == int(accepted_on.timestamp())
    events = [e.event for e in await store.follow_ups.history(done.id)]
    assert events[-1] == "accepted"


async def test_a_malformed_row_is_reported_and_the_rest_imported(
    coach: Coach, store: Storage
) -> None:
    good = invitations([("Max Mustermann", "OUTGOING", NOW - timedelta(days=3))])
    data = good + b"Erika Muster,Broken Date,not a date,,OUTGOING,,\n"
    reply = reply_text(await coach.import_file(ERIKA, data, "Invitations.csv"))
    assert "Neu notiert: 1" in reply and "Übersprungene Zeilen: 1" in reply
    assert "Invitations.csv 3" in reply


async def test_wrong_files_and_bombs_are_refused_with_a_clear_message(
    coach: Coach, store: Storage
) -> None:
    png = b"\x89PNG\r\n\x1a\n" + b"\0" * 100
    assert "nicht nach einem LinkedIn-Datenexport" in reply_text(
        await coach.import_file(ERIKA, png, "Connections.csv")
    )
    other = _csv([["Name", "Betrag"], ["Miete", "900"]])
    assert "Diese CSV-Datei kenne ich nicht" in reply_text(
        await coach.import_file(ERIKA, other, "Invitations.csv")
    )
    bomb = io.BytesIO()
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("Connections.csv", b"\0" * (60 * 1024 * 1024))
    refused = reply_text(await coach.import_file(ERIKA, bomb.getvalue(), "export.zip"))
    assert "Entpackt wäre die ZIP-Datei zu groß" in refused or "Vielfaches" in refused
    assert not await store.follow_ups.pending(7)


async def _send(app: App, data: dict[str, Any]) -> None:
    await app.process_update(to_update(data, app.bot))


async def test_a_document_is_downloaded_with_get_file_and_imported(
    app: App, updates: UpdateFactory, request_fake: OfflineRequest, store: Storage
) -> None:
    data = export_zip(
        Invitations=invitations([("Max Mustermann", "OUTGOING", NOW - timedelta(days=3))])
    )
    request_fake.files["BQACAgI"] = data
    await _send(app, updates.document("BQACAgI", "Basic_LinkedInDataExport.zip", len(data)))
    methods = [call.method for call in request_fake.calls]
    assert methods.index("getFile") < methods.index("download") < methods.index("sendMessage")
    assert "Neu notiert: 1" in request_fake.texts()[-1]
    assert [f.name for f in await store.follow_ups.pending(7)] == ["Max Mustermann"]


async def test_a_file_over_twenty_megabytes_is_refused_without_downloading(
    app: App, updates: UpdateFactory, request_fake: OfflineRequest
) -> None:
    await _send(app, updates.document("big", "export.zip", 21 * 1024 * 1024))
    assert "größer als 20 MB" in request_fake.texts()[-1]
    assert not request_fake.sent("getFile")


async def test_progress_is_sent_as_a_phone_sized_png_with_a_caption(
    app: App, updates: UpdateFactory, request_fake: OfflineRequest, coach: Coach
) -> None:
    await _send(app, updates.message("/fortschritt"))
    assert "Noch gibt es nichts zu zeigen" in request_fake.texts()[-1]
    assert not request_fake.sent("sendPhoto")
    await _send(app, updates.message("/anfrage linkedin Erika Mustermann"))
    await _send(app, updates.message("/fortschritt"))
    (photo,) = request_fake.sent("sendPhoto")
    assert "12 Wochen: 1 Anfrage" in photo.params["caption"]
    assert photo.params["parse_mode"] == "HTML"
    png = photo.params["photo"]
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", png[16:24])
    assert 1000 <= width <= 1200 and height > width
    markup = photo.params["reply_markup"]
    markup = json.loads(markup) if isinstance(markup, str) else markup
    labels = [button["text"] for row in markup["inline_keyboard"] for button in row]
    assert labels == ["Offene Anfragen"]


async def test_the_digest_names_requests_that_crossed_three_weeks_and_links_the_picture(
    coach: Coach, store: Storage, clock: FakeClock
) -> None:
    data = invitations([("Max Mustermann", "OUTGOING", NOW - timedelta(days=22)),
                        ("Jo Doe", "OUTGOING", NOW - timedelta(days=5))])  # fmt: skip
    await coach.import_file(ERIKA, data, "Invitations.csv")
    user = await store.users.get(7)
    assert user is not None
    digest = await coach.tracker.digest(user, "de", clock())
    text = reply_text(digest)
    assert "drei Wochen offen geworden: Max Mustermann." in text and "Jo Doe." not in text
    assert "Fortschritt als Bild" in [b.label for row in digest.buttons for b in row]


async def test_imported_rows_are_exported_and_deleted_like_every_other_row(
    coach: Coach, store: Storage
) -> None:
    data = invitations([("Max Mustermann", "OUTGOING", NOW - timedelta(days=3))])
    await coach.import_file(ERIKA, data, "Invitations.csv")
    exported = await store.export_user(7)
    rows = exported["follow_ups"]
    assert isinstance(rows, list) and rows[0]["profile_url"].endswith("/max-mustermann")
    await coach.forget(ERIKA)
    assert not await store.follow_ups.of_platform(7, "linkedin")
    privacy = reply_text(await coach.command(ERIKA, "privacy"))
    assert "Datei selbst speichere ich nicht" in privacy


async def test_nothing_is_half_imported(
    coach: Coach, store: Storage, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = invitations([("Max Mustermann", "OUTGOING", NOW - timedelta(days=3)),
                        ("Jo Doe", "OUTGOING", NOW - timedelta(days=4))])  # fmt: skip
    original = store.db.many
    calls = 0

    async def failing_many(sql: str, rows: Any) -> None:
        nonlocal calls
        calls += 1
        if calls == 2:  # the rows are in, their events fail: all of it must go
            raise sqlite3.OperationalError("disk I/O error")
        await original(sql, rows)

    monkeypatch.setattr(store.db, "many", failing_many)
    with pytest.raises(sqlite3.OperationalError):
        await coach.import_file(ERIKA, data, "Invitations.csv")
    monkeypatch.undo()
    assert not await store.follow_ups.of_platform(7, "linkedin")
