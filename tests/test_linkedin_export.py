"""LinkedIn export parsing: every accepted variant, the rows it skips, and what it refuses.

All sample files are built here with the `csv` and `zipfile` modules; the people are made
up. The variants mirror real exports described in `bot/followups/linkedin_export.py`.
"""

from __future__ import annotations

import csv
import io
import struct
import time
import tracemalloc
import zipfile
from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime

import pytest

from bot.followups import linkedin_export
from bot.followups.linkedin_export import (
    MAX_FILE_BYTES,
    MAX_TOTAL_UNCOMPRESSED_BYTES,
    MAX_ZIP_MEMBERS,
    Connection,
    ExportContent,
    ExportError,
    Invitation,
    SkippedRow,
    _read_capped,
    parse_export,
    person_key,
)

OWNER = "Anna Eigner"
NOTES = [
    ["Notes:"],
    [
        "When exporting your connection data, you may notice that some of the email addresses "
        "are missing. You will only see email addresses for connections who have allowed "
        "their connections to see or download their email address."
    ],
    [],
]
CONNECTIONS_HEADER = [
    "First Name",
    "Last Name",
    "URL",
    "Email Address",
    "Company",
    "Position",
    "Connected On",
]
OLD_CONNECTIONS_HEADER = [
    "First Name",
    "Last Name",
    "Email Address",
    "Company",
    "Position",
    "Connected On",
]
INVITATIONS_HEADER = [
    "From",
    "To",
    "Sent At",
    "Message",
    "Direction",
    "inviterProfileUrl",
    "inviteeProfileUrl",
]
OWNER_URL = "https://www.linkedin.com/in/anna-eigner"
MiB = 1024 * 1024


def csv_bytes(
    records: Sequence[Sequence[str]], *, delimiter: str = ",", bom: bool = False
) -> bytes:
    """A CSV file as LinkedIn writes it: UTF-8, `\\n` line ends, minimal quoting."""
    out = io.StringIO()
    csv.writer(out, delimiter=delimiter, lineterminator="\n").writerows(records)
    return (("\ufeff" if bom else "") + out.getvalue()).encode("utf-8")


def zip_bytes(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in members.items():
            archive.writestr(zipfile.ZipInfo(name), content, zipfile.ZIP_DEFLATED)
    return buffer.getvalue()


def zeros_zip(name: str, size: int) -> bytes:
    """One member of `size` zero bytes, written in chunks so the test never holds it whole."""
    buffer = io.BytesIO()
    chunk = bytes(MiB)
    with (
        zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive,
        archive.open(name, "w") as member,
    ):
        for _ in range(size // MiB):
            member.write(chunk)
    return buffer.getvalue()


def claim_size(data: bytes, size: int) -> bytes:
    """The same ZIP with its only member's uncompressed size rewritten to lie."""
    patched = bytearray(data)
    struct.pack_into("<I", patched, patched.rfind(b"PK\x01\x02") + 24, size)
    struct.pack_into("<I", patched, patched.find(b"PK\x03\x04") + 22, size)
    return bytes(patched)


def refused(call: Callable[[], object]) -> tuple[ExportError, float, int]:
    """The ExportError `call` raises, the seconds it took and the peak bytes it allocated."""
    tracemalloc.start()
    start = time.perf_counter()
    try:
        with pytest.raises(ExportError) as caught:
            call()
        elapsed = time.perf_counter() - start
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    return caught.value, elapsed, peak


def reason_of(data: bytes, filename: str = "upload") -> str:
    with pytest.raises(ExportError) as caught:
        parse_export(data, filename)
    return caught.value.reason


# --- connections --------------------------------------------------------------------------


def test_current_connections_with_the_notes_preamble() -> None:
    data = csv_bytes(
        [
            *NOTES,
            CONNECTIONS_HEADER,
            [
                "Jonas",
                "Weber",
                "https://www.linkedin.com/in/jonas-weber-1a2b3c",
                "",
                "Beispiel AG",
                "CTO",
                "01 Dec 2023",
            ],
            [
                "Lea",
                "Fischer",
                "",
                "lea@example.com",
                "Muster, Schmidt & Co. KG",
                "CEO",
                "09 Oct 2024",
            ],
        ]
    )
    content = parse_export(data, "Connections.csv")
    assert content == ExportContent(
        connections=[
            Connection(
                "Jonas Weber", "https://www.linkedin.com/in/jonas-weber-1a2b3c", date(2023, 12, 1)
            ),
            Connection("Lea Fischer", None, date(2024, 10, 9)),
        ]
    )


def test_older_connections_without_url_or_preamble_and_other_date_formats() -> None:
    data = csv_bytes(
        [
            OLD_CONNECTIONS_HEADER,
            ["Paul", "Richter", "paul@example.com", "Acme", "Owner", "1/8/18, 6:14 PM"],
            ["Mia", "Braun", "", "", "", "11 Jun 2021"],
            ["Tim", "Koch", "", "Beta", "Dev", "9-Sep-22"],
            ["Ida", "Wolf", "", "", "", "12 Mar 19"],
        ]
    )
    content = parse_export(data, "Connections.csv")
    assert [(c.name, c.profile_url, c.connected_on) for c in content.connections] == [
        ("Paul Richter", None, date(2018, 1, 8)),
        ("Mia Braun", None, date(2021, 6, 11)),
        ("Tim Koch", None, date(2022, 9, 9)),
        ("Ida Wolf", None, date(2019, 3, 12)),
    ]
    assert content.skipped == []


def test_names_are_stripped_and_joined_with_one_space() -> None:
    data = csv_bytes([CONNECTIONS_HEADER, ["Igor\t", " von  Berg ", "", "", "", "", "02 Feb 2024"]])
    assert parse_export(data, "c.csv").connections[0].name == "Igor von Berg"


def test_german_headers_month_names_and_numeric_dates() -> None:
    header = [
        "Vorname",
        "Nachname",
        "URL",
        "E-Mail-Adresse",
        "Unternehmen",
        "Position",
        "Verbunden am",
    ]
    rows = [
        header,
        [
            "Hans",
            "Beispiel",
            "https://www.linkedin.com/in/hans",
            "",
            "Beispiel AG",
            "Dev",
            "03 Apr 2022",
        ],
        ["Eva", "Köhler", "", "", "", "", "05 Mär 2024"],
        ["Jörg", "Maier", "", "", "", "", "01.12.2023"],
    ]
    expected = [
        ("Hans Beispiel", date(2022, 4, 3)),
        ("Eva Köhler", date(2024, 3, 5)),
        ("Jörg Maier", date(2023, 12, 1)),
    ]
    for delimiter in (",", ";"):  # a German spreadsheet re-saves with semicolons
        content = parse_export(csv_bytes(rows, delimiter=delimiter), "Verbindungen.csv")
        assert [(c.name, c.connected_on) for c in content.connections] == expected


def test_german_invitation_headers() -> None:
    data = csv_bytes(
        [
            ["Von", "An", "Gesendet am", "Nachricht", "Richtung"],
            [OWNER, "Karl Schulz", "01.12.23, 10:15", "Hallo Karl", "AUSGEHEND"],
            ["Rita Roth", OWNER, "02.12.2023, 18:30 Uhr", "", "EINGEHEND"],
        ],
        delimiter=";",
    )
    content = parse_export(data, "Einladungen.csv")
    assert [(i.name, i.direction, i.sent_at, i.message) for i in content.invitations] == [
        ("Karl Schulz", "sent", datetime(2023, 12, 1, 10, 15, tzinfo=UTC), "Hallo Karl"),
        ("Rita Roth", "received", datetime(2023, 12, 2, 18, 30, tzinfo=UTC), None),
    ]


def test_a_byte_order_mark_is_not_part_of_the_first_header() -> None:
    connections = csv_bytes(
        [*NOTES, CONNECTIONS_HEADER, ["Ole", "Berg", "", "", "", "", "01 Dec 2023"]], bom=True
    )
    invitations = csv_bytes(
        [INVITATIONS_HEADER, [OWNER, "Ben Graf", "12/1/23, 10:15 AM", "", "OUTGOING", "", ""]],
        bom=True,
    )
    assert connections.startswith(b"\xef\xbb\xbf")
    assert parse_export(connections, "Connections.csv").connections[0].name == "Ole Berg"
    assert parse_export(invitations, "Invitations.csv").invitations[0].name == "Ben Graf"
    inside = parse_export(zip_bytes({"Connections.csv": connections}), "export.zip")
    assert [c.name for c in inside.connections] == ["Ole Berg"]


# --- invitations --------------------------------------------------------------------------


def test_invitations_in_both_directions_name_the_other_person() -> None:
    data = csv_bytes(
        [
            INVITATIONS_HEADER,
            [
                OWNER,
                "Karl Schulz",
                "12/1/23, 10:15 AM",
                "Hallo Karl, wir hatten uns auf der Messe gesprochen.",
                "OUTGOING",
                OWNER_URL,
                "https://www.linkedin.com/in/karl-schulz",
            ],
            [
                "Rita Roth",
                OWNER,
                "2/29/24, 12:05\u202fAM",
                "",
                "INCOMING",
                "https://www.linkedin.com/in/rita-roth",
                OWNER_URL,
            ],
            [OWNER, "Uwe Lang", "11/30/25, 12:40 PM", "", "OUTGOING", OWNER_URL, ""],
        ]
    )
    assert parse_export(data, "Invitations.csv").invitations == [
        Invitation(
            "Karl Schulz",
            "sent",
            datetime(2023, 12, 1, 10, 15, tzinfo=UTC),
            "https://www.linkedin.com/in/karl-schulz",
            "Hallo Karl, wir hatten uns auf der Messe gesprochen.",
        ),
        Invitation(
            "Rita Roth",
            "received",
            datetime(2024, 2, 29, 0, 5, tzinfo=UTC),
            "https://www.linkedin.com/in/rita-roth",
            None,
        ),
        Invitation("Uwe Lang", "sent", datetime(2025, 11, 30, 12, 40, tzinfo=UTC), None, None),
    ]


def test_old_invitations_without_url_columns() -> None:
    data = csv_bytes(
        [
            INVITATIONS_HEADER[:5],
            [OWNER, "Saskia Berg", "8/18/18, 9:08 AM", "", "OUTGOING"],
            ["Emil Vogt", OWNER, "10/31/18, 7:52 AM", "Hi!", "INCOMING"],
        ]
    )
    invitations = parse_export(data, "Invitations.csv").invitations
    assert [(i.name, i.direction, i.profile_url) for i in invitations] == [
        ("Saskia Berg", "sent", None),
        ("Emil Vogt", "received", None),
    ]
    assert all(i.sent_at.tzinfo is UTC for i in invitations)


# --- files, ZIPs and detection ------------------------------------------------------------


def test_zip_with_both_files_in_a_folder_and_unrelated_members() -> None:
    folder = "Basic_LinkedInDataExport_01-12-2023"
    data = zip_bytes(
        {
            f"{folder}/": b"",
            f"{folder}/Connections.csv": csv_bytes(
                [*NOTES, CONNECTIONS_HEADER, ["Ole", "Berg", "", "", "", "", "01 Dec 2023"]]
            ),
            f"{folder}/Invitations.csv": csv_bytes(
                [INVITATIONS_HEADER, [OWNER, "Ben Graf", "12/1/23, 10:15 AM", "", "OUTGOING"]]
            ),
            # Unrelated members are never read: not even invalid UTF-8 in one breaks the import.
            f"{folder}/messages.csv": b"\xff\xfe not text at all",
            f"{folder}/Profile.csv": b"First Name,Last Name,Headline\nAnna,Eigner,Coach\n",
            f"{folder}/Rich_Media/photo.png": b"\x89PNG\r\n\x1a\n\x00\x00",
        }
    )
    content = parse_export(data, "Basic_LinkedInDataExport_01-12-2023.zip")
    assert [c.name for c in content.connections] == ["Ole Berg"]
    assert [i.name for i in content.invitations] == ["Ben Graf"]
    assert content.skipped == []


def test_a_single_csv_is_told_by_its_header_and_a_zip_by_its_magic_bytes() -> None:
    invitations = csv_bytes(
        [INVITATIONS_HEADER, ["Emil Vogt", OWNER, "bad date", "", "INCOMING", "", ""]]
    )
    content = parse_export(invitations, "Downloads/Connections.csv")  # the name is wrong
    assert content.connections == []
    assert content.skipped == [SkippedRow("Connections.csv", 2, "bad_date")]
    zipped = zip_bytes({"Invitations.csv": invitations})
    assert parse_export(zipped, "notes.txt").skipped == [
        SkippedRow("Invitations.csv", 2, "bad_date")
    ]


def test_malformed_rows_are_reported_by_line_and_the_rest_is_imported() -> None:
    connections = csv_bytes(
        [
            *NOTES,  # lines 1-3
            CONNECTIONS_HEADER,  # 4
            ["Ole", "Berg", "", "", "", "", "01 Dec 2023"],  # 5
            ["Kai", "Lenz", "", "", "", "", "31 Feb 2023"],  # 6
            ["", "", "https://www.linkedin.com/in/hidden", "", "", "", "01 Mar 2026"],  # 7
            ["", "", "", "", "", "", ""],  # 8: bare commas carry no one, dropped silently
            ["Nora", "Falk", "", "", "", "", ""],  # 9
            ["Lina"],  # 10: a short row has no date either
            ["Max", "Roth", "", "", "", "", "10 Jan 2024"],  # 11
        ]
    )
    invitations = csv_bytes(
        [
            INVITATIONS_HEADER,  # 1
            [
                OWNER,
                "Karl Schulz",
                "12/1/23, 10:15 AM",
                "Hallo Karl,\nbis bald!",
                "OUTGOING",
            ],  # 2-3
            [OWNER, "Uwe Lang", "12/2/23, 9:00 AM", "", "SIDEWAYS"],  # 4
            [OWNER, "Eva Kern", "yesterday", "", "OUTGOING"],  # 5
            ["", OWNER, "12/3/23, 9:00 AM", "", "INCOMING"],  # 6: no inviter, no one to follow
            [OWNER, "", "12/3/23, 9:00 AM", "", "OUTGOING"],  # 7
            ["Rita Roth", OWNER, "12/4/23, 9:00 PM", "", "INCOMING"],  # 8
        ]
    )
    content = parse_export(
        zip_bytes({"Connections.csv": connections, "Invitations.csv": invitations}), "x.zip"
    )
    assert [c.name for c in content.connections] == ["Ole Berg", "Max Roth"]
    assert [i.name for i in content.invitations] == ["Karl Schulz", "Rita Roth"]
    assert content.invitations[0].message == "Hallo Karl,\nbis bald!"
    assert content.skipped == [
        SkippedRow("Connections.csv", 6, "bad_date"),
        SkippedRow("Connections.csv", 7, "missing_name"),
        SkippedRow("Connections.csv", 9, "missing_date"),
        SkippedRow("Connections.csv", 10, "missing_date"),
        SkippedRow("Invitations.csv", 4, "bad_direction"),
        SkippedRow("Invitations.csv", 5, "bad_date"),
        SkippedRow("Invitations.csv", 6, "missing_name"),
        SkippedRow("Invitations.csv", 7, "missing_name"),
    ]


def test_member_paths_count_by_base_name_only() -> None:
    connections = csv_bytes([CONNECTIONS_HEADER, ["Ole", "Berg", "", "", "", "", "bad"]])
    invitations = csv_bytes(
        [INVITATIONS_HEADER, [OWNER, "Ben Graf", "12/1/23, 10:15 AM", "", "OUTGOING"]]
    )
    data = zip_bytes({"../../Connections.csv": connections, "..\\..\\Invitations.csv": invitations})
    content = parse_export(data, "export.zip")
    assert [i.name for i in content.invitations] == ["Ben Graf"]
    assert content.skipped == [SkippedRow("Connections.csv", 2, "bad_date")]


def test_five_thousand_rows_each_parse_in_well_under_half_a_second() -> None:
    connections = csv_bytes(
        [
            *NOTES,
            CONNECTIONS_HEADER,
            *(
                [f"Vor{n}", f"Nach{n}", f"https://www.linkedin.com/in/p-{n}", "", "Firma", "Rolle",
                 f"{n % 28 + 1:02d} Mar 2024"]
                for n in range(5000)
            ),
        ]
    )  # fmt: skip
    invitations = csv_bytes(
        [
            INVITATIONS_HEADER,
            *(
                [OWNER, f"Person {n}", f"{n % 12 + 1}/{n % 28 + 1}/24, {n % 12 + 1}:05 PM",
                 "Hallo, lass uns vernetzen", "OUTGOING", OWNER, f"https://www.linkedin.com/in/i-{n}"]
                for n in range(5000)
            ),
        ]
    )  # fmt: skip
    data = zip_bytes({"Connections.csv": connections, "Invitations.csv": invitations})
    timings = []
    for _ in range(3):
        start = time.perf_counter()
        content = parse_export(data, "export.zip")
        timings.append(time.perf_counter() - start)
    assert len(content.connections) == 5000
    assert len(content.invitations) == 5000
    assert content.skipped == []
    assert min(timings) < 0.5


# --- refusals -----------------------------------------------------------------------------


def test_wrong_files_are_refused_with_what_would_be_accepted() -> None:
    png = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(64)
    assert reason_of(png, "Connections.csv") == "not_an_export"

    with pytest.raises(ExportError) as caught:
        parse_export(b"id,amount\n1,20\n", "Connections.csv")
    assert caught.value.reason == "unknown_csv"
    assert "Connected On" in caught.value.detail and "Sent At" in caught.value.detail

    with pytest.raises(ExportError) as caught:
        parse_export(zip_bytes({"Profile.csv": b"a\n", "messages.csv": b"b\n"}), "export.zip")
    assert caught.value.reason == "not_an_export"
    assert "Profile.csv" in caught.value.detail and "Connections.csv" in caught.value.detail

    nested = zip_bytes({"Basic_LinkedInDataExport.zip": b"PK\x05\x06" + bytes(18)})
    with pytest.raises(ExportError) as caught:
        parse_export(nested, "export.zip")
    assert "another ZIP" in caught.value.detail
    assert str(caught.value).startswith("not_an_export: ")

    bad_member = zip_bytes({"Connections.csv": b"Name,Email\nx,y\n"})
    assert reason_of(bad_member) == "unknown_csv"


def test_other_encodings_and_empty_files() -> None:
    rows = [CONNECTIONS_HEADER, ["Jörg", "Müller", "", "", "", "", "01 Dec 2023"]]
    windows = csv_bytes(rows).decode("utf-8").encode("cp1252")
    assert reason_of(windows, "Connections.csv") == "not_utf8"
    assert reason_of(zip_bytes({"Connections.csv": windows})) == "not_utf8"
    utf16 = csv_bytes(rows).decode("utf-8").encode("utf-16")
    assert reason_of(utf16, "Connections.csv") == "not_utf8"
    for empty in (b"", b" \n\r\n", b"\xef\xbb\xbf\n"):
        assert reason_of(empty, "Connections.csv") == "empty"


def test_a_file_with_more_rows_than_any_network_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(linkedin_export, "MAX_ROWS_PER_FILE", 3)
    rows = [["Ole", "Berg", "", "", "", "", "01 Dec 2023"]]
    assert len(parse_export(csv_bytes([CONNECTIONS_HEADER, *rows * 3]), "c.csv").connections) == 3
    assert reason_of(csv_bytes([CONNECTIONS_HEADER, *rows * 4]), "c.csv") == "too_large"


def test_a_file_over_telegrams_limit_is_refused_before_anything_else() -> None:
    data = b"PK\x03\x04" + bytes(21 * MiB)  # would be a damaged ZIP, if it were looked at
    assert len(data) > MAX_FILE_BYTES
    start = time.perf_counter()
    assert reason_of(data, "export.zip") == "too_large"
    assert time.perf_counter() - start < 0.1


def test_a_zip_bomb_is_refused_from_its_headers_without_unpacking() -> None:
    honest = zeros_zip("Connections.csv", 100 * MiB)
    assert 100 * MiB > MAX_TOTAL_UNCOMPRESSED_BYTES
    error, seconds, peak = refused(lambda: parse_export(honest, "bomb.zip"))
    assert error.reason == "zip_too_big_uncompressed"
    assert seconds < 0.5 and peak < 2 * MiB

    dense = zeros_zip("Invitations.csv", 10 * MiB)  # within the size limit, not the ratio
    error, seconds, peak = refused(lambda: parse_export(dense, "bomb.zip"))
    assert error.reason == "zip_ratio"
    assert seconds < 0.5 and peak < 2 * MiB


def test_a_zip_that_lies_about_its_size_is_not_unpacked_beyond_the_claim() -> None:
    lying = claim_size(zeros_zip("Connections.csv", 10 * MiB), 64 * 1024)
    error, seconds, peak = refused(lambda: parse_export(lying, "bomb.zip"))
    assert error.reason == "not_an_export"  # the CRC of the 64 KiB it claims does not match
    assert seconds < 0.5 and peak < 2 * MiB


class EndlessZeros(io.RawIOBase):
    """A member stream that never ends, whatever any header said: counts what was read."""

    def __init__(self) -> None:
        self.delivered = 0

    def read(self, size: int = -1) -> bytes:
        self.delivered += size
        return bytes(size)


def test_the_member_reader_stops_at_its_budget_and_at_a_bombs_ratio() -> None:
    # Exercised directly: zipfile already stops at a member's declared size, so a ZIP cannot
    # reach this second guard; it is there in case that ever changes.
    info = zipfile.ZipInfo("Connections.csv")
    info.compress_size = 10 * MiB  # plausible ratio: only the budget can stop it
    stream = EndlessZeros()
    with pytest.raises(ExportError) as caught:
        _read_capped(stream, 2 * MiB, info)
    assert caught.value.reason == "zip_too_big_uncompressed"
    assert stream.delivered <= 2 * MiB + 64 * 1024

    info.compress_size = 1000
    stream = EndlessZeros()
    with pytest.raises(ExportError) as caught:
        _read_capped(stream, MAX_TOTAL_UNCOMPRESSED_BYTES, info)
    assert caught.value.reason == "zip_ratio"
    assert stream.delivered <= 2 * MiB


def test_too_many_members_are_refused_even_when_the_directory_record_understates_them() -> None:
    members = {f"file{n}.csv": b"" for n in range(MAX_ZIP_MEMBERS)}
    members["Connections.csv"] = csv_bytes([CONNECTIONS_HEADER])
    data = zip_bytes(members)
    assert reason_of(data) == "zip_too_many_files"

    understated = bytearray(data)
    record = understated.rfind(b"PK\x05\x06")
    struct.pack_into("<HH", understated, record + 8, 1, 1)  # "1 entry" on this disk and in all
    assert reason_of(bytes(understated)) == "zip_too_many_files"

    members.pop("file0.csv")
    assert parse_export(zip_bytes(members), "x.zip") == ExportContent()  # 200 is allowed


# --- merging keys -------------------------------------------------------------------------


def test_person_key_normalises_profile_urls_and_falls_back_to_the_name() -> None:
    same_person = [
        "https://www.linkedin.com/in/nagel-lis%C3%A2nias-paulino-b0a5492b7",
        "https://www.linkedin.com/in/nagel-lisânias-paulino-b0a5492b7/",
        "http://de.linkedin.com/in/Nagel-Lisânias-Paulino-b0a5492b7?trk=people",
        " linkedin.com/in/nagel-lisânias-paulino-b0a5492b7/details/experience/ ",
    ]
    keys = {person_key("whatever", url) for url in same_person}
    assert keys == {"linkedin:nagel-lisânias-paulino-b0a5492b7"}
    assert (
        person_key("  Max\tMUSTERMANN ", None)
        == person_key("max mustermann", "")
        == ("name:max mustermann")
    )
    assert person_key("Max", "https://example.com/Max/") == "url:example.com/max"
    assert person_key("Max Mustermann", None) != person_key("Max Mustermann", OWNER_URL)
