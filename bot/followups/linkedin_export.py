"""Read LinkedIn's personal data export ("Get a copy of your data"): invitations, connections.

Pure and synchronous: the bytes of one upload go in, an `ExportContent` or an `ExportError`
comes out. Nothing is written to disk; a ZIP is read member by member in memory. Rows that
do not parse are listed in `ExportContent.skipped` with their line, the rest is returned.
Telling duplicates apart is the caller's job; `person_key` is the key to merge them on.

Formats accepted, and where they were seen
------------------------------------------
Real exports that people committed to public GitHub repositories (read through a code index):

- `Connections.csv`, current: three preamble records (`Notes:`, one quoted sentence "When
  exporting your connection data, you may notice that some of the email addresses are
  missing. ...", a blank line), then `First Name,Last Name,URL,Email Address,Company,
  Position,Connected On` with dates like `09 Oct 2024`: chrhartm/linkedin-to-notion-crm
  (2024) and Tombarr/hello-again (2025). The same header without the preamble:
  PharateSwapnil/linkedin_followup (2026).
- `Connections.csv`, older, no URL column (`First Name,Last Name,Email Address,Company,
  Position,Connected On`): dated `"1/8/18, 6:14 PM"` in a 2018 export
  (abhishekwebcode/Abhishek-Mathur-Complete_LinkedInDataExport_11-04-2018), `11 Jun 2021`
  (MxKilian/LinkedInToContacts), `9-Sep-22` (Sajiah/mylinkedindata). `6-Feb-26` also occurs
  with the URL column (ieglam/network-growth-engine); day-Mon-yy with hyphens is probably
  a spreadsheet's re-save, and accepted either way.
- Rows with a date but no name (`,,,,,,01 Mar 2026` in PharateSwapnil/linkedin_followup,
  `,,,,,21-Jul-22` in Sajiah/mylinkedindata) are reported as `missing_name`; rows that are
  only commas (szabgab/code-maven.com, pages/backup-your-linkedin-data.md) carry no one and
  are dropped silently.
- `Invitations.csv`: `From,To,Sent At,Message,Direction` with `"8/18/18, 9:08 AM"` (month
  first, 12-hour clock, no zone) and `OUTGOING`/`INCOMING` (the 2018 export above,
  Sajiah/mylinkedindata 2022); since about 2023 with `inviterProfileUrl,inviteeProfileUrl`
  appended (Feynman10/Proile 2024, ieglam/network-growth-engine 2026).
- Profile URLs of one person are percent-encoded in `Connections.csv`
  (`/in/nagel-lis%C3%A2nias-...`) but raw Unicode in `Invitations.csv` (`/in/nagel-lisânias-
  ...`), both in ieglam/network-growth-engine: `person_key` decodes before comparing.
- The archive: a ZIP named like `Basic_LinkedInDataExport_12-05-2022.zip` (szabgab/
  code-maven.com) with UTF-8 CSVs (thephm/linkedin_md, docs/linkedin_export.md), some of
  which start with a byte-order mark (other parsers' notes; the BOM is simply skipped). A
  big archive arrives in two e-mails, the one with the network within 24 hours (LinkedIn
  Help a1339364, de-DE), so a ZIP without either file gets a detail that says so.

Assumptions, not seen in any real file:

- German headers. Real exports seem to keep English headers whatever the interface language;
  German ones appear only in other projects' synthetic fixtures (`Vorname,Nachname,URL,
  E-Mail-Adresse,Unternehmen,Position,Verbunden am`). Accepted anyway, with `Von,An,
  Gesendet am,Nachricht,Richtung` and `AUSGEHEND`/`EINGEHEND` for invitations, German month
  abbreviations (`Mär`, `Mai`, `Okt`, `Dez`) and `01.12.2023` dates.
- `;`- or tab-separated files, as a German spreadsheet writes them when re-saving.
- `Sent At` names no zone and no documentation was found: read as UTC, as other parsers do.
  Also accepted: ISO dates (`2023-12-01`, `2023-12-01 10:15[:00][ UTC]`), `12 Mar 19`, a
  24-hour `Sent At`, and a narrow no-break space before AM/PM (newer ICU formatting).

Limits, all checked before the work they guard
----------------------------------------------
The upload's size first (`MAX_FILE_BYTES`); in a ZIP, the member count from the End Of
Central Directory record before `zipfile` builds an entry (`MAX_ZIP_MEMBERS`); then, for the
two members actually read, their declared sizes (`MAX_TOTAL_UNCOMPRESSED_BYTES`) and ratios
(`MAX_COMPRESSION_RATIO`), and again while decompressing, in chunks, whatever the headers
said. Other members are counted, never decompressed, so a long `messages.csv` costs nothing.
"""

from __future__ import annotations

import csv
import io
import re
import struct
import unicodedata
import zipfile
import zlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import IO, Final, Literal
from urllib.parse import unquote, urlsplit

from bot.domain import Direction

# Telegram's Bot API lets a bot download files of up to 20 MB; anything larger never reaches
# us through Telegram, and refusing it first keeps a direct caller from making us try.
MAX_FILE_BYTES: Final = 20 * 1024 * 1024
# A real export holds a few dozen files, folders included; 200 leaves room for more kinds.
MAX_ZIP_MEMBERS: Final = 200
# What the two members we read may decompress to, together. 5,000 connections are ~0.5 MB.
MAX_TOTAL_UNCOMPRESSED_BYTES: Final = 50 * 1024 * 1024
# CSV text deflates 3-10x; 100x is a bomb. Below the floor a high ratio is just a small file
# of empty cells, and costs nothing to read.
MAX_COMPRESSION_RATIO: Final = 100
RATIO_FLOOR_BYTES: Final = 1024 * 1024
# LinkedIn caps a network at 30,000 connections (its Help page "Network Size Limit"); this
# bounds the rows, and objects, one file can make us build, far above any real export.
MAX_ROWS_PER_FILE: Final = 100_000
# LinkedIn's preamble is three records; leave room for it to grow.
MAX_HEADER_RECORDS: Final = 10

ExportReason = Literal[
    "too_large",
    "not_an_export",
    "zip_too_many_files",
    "zip_too_big_uncompressed",
    "zip_ratio",
    "unknown_csv",
    "not_utf8",
    "empty",
]
SkipReason = Literal["missing_name", "missing_date", "bad_date", "bad_direction"]
FileKind = Literal["connections", "invitations"]


class ExportError(ValueError):
    """An upload refused as a whole: `reason` is a machine key, `detail` says what was expected."""

    def __init__(self, reason: ExportReason, detail: str) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason: ExportReason = reason
        self.detail = detail


@dataclass(frozen=True, slots=True)
class Invitation:
    """One connection invitation, seen from the export's owner: who the other person is."""

    name: str
    direction: Direction
    sent_at: datetime
    profile_url: str | None
    message: str | None


@dataclass(frozen=True, slots=True)
class Connection:
    """One first-degree connection and the day it was made."""

    name: str
    profile_url: str | None
    connected_on: date


@dataclass(frozen=True, slots=True)
class SkippedRow:
    """A row left out: the file's base name, its 1-based line in that file, and why."""

    file: str
    line: int
    reason: SkipReason


@dataclass(frozen=True, slots=True)
class ExportContent:
    """Everything read from one upload."""

    invitations: list[Invitation] = field(default_factory=list)
    connections: list[Connection] = field(default_factory=list)
    skipped: list[SkippedRow] = field(default_factory=list)


# --- headers ------------------------------------------------------------------------------

_CONNECTION_COLUMNS: Final[dict[str, tuple[str, ...]]] = {
    "first": ("first name", "vorname"),
    "last": ("last name", "nachname"),
    "url": ("url", "profile url", "profil-url"),
    "connected": ("connected on", "verbunden am", "verbunden seit"),
}
_INVITATION_COLUMNS: Final[dict[str, tuple[str, ...]]] = {
    "from": ("from", "von"),
    "to": ("to", "an"),
    "sent": ("sent at", "gesendet am", "gesendet"),
    "message": ("message", "nachricht"),
    "direction": ("direction", "richtung"),
    "inviter_url": ("inviterprofileurl",),
    "invitee_url": ("inviteeprofileurl",),
}
_REQUIRED: Final[dict[FileKind, tuple[str, ...]]] = {
    "connections": ("first", "last", "connected"),
    "invitations": ("from", "to", "sent", "direction"),
}
_COLUMNS: Final[dict[FileKind, dict[str, tuple[str, ...]]]] = {
    "connections": _CONNECTION_COLUMNS,
    "invitations": _INVITATION_COLUMNS,
}
_DELIMITERS: Final = (",", ";", "\t")
_EXPECTED_FILES: Final = "Connections.csv or Invitations.csv from LinkedIn's data export"
_EXPECTED_HEADERS: Final = (
    "a header 'First Name,Last Name,URL,Email Address,Company,Position,Connected On' "
    "(Connections.csv, URL optional) or 'From,To,Sent At,Message,Direction,"
    "inviterProfileUrl,inviteeProfileUrl' (Invitations.csv, URLs optional), "
    "in English or German"
)
_ZIP_MEMBERS: Final = frozenset({"connections.csv", "invitations.csv"})

_DIRECTIONS: Final[dict[str, Direction]] = {
    "outgoing": "sent",
    "sent": "sent",
    "ausgehend": "sent",
    "incoming": "received",
    "received": "received",
    "eingehend": "received",
}


@dataclass(frozen=True, slots=True)
class _Header:
    """Which kind of file a header belongs to, and the index of each column we use."""

    kind: FileKind
    columns: dict[str, int]
    delimiter: str
    line: int  # the header's own line; data starts after it


def _header_cell(cell: str) -> str:
    """A header cell as compared: no BOM, quotes or extra spaces, case folded."""
    return " ".join(cell.replace("\ufeff", "").strip().strip('"').casefold().split())


def _match_header(record: Sequence[str]) -> tuple[FileKind, dict[str, int]] | None:
    """The kind and column indexes if `record` is a header we know, else None."""
    cells = [_header_cell(cell) for cell in record]
    for kind, aliases in _COLUMNS.items():
        columns = {
            column: cells.index(alias)
            for column, names in aliases.items()
            for alias in names
            if alias in cells
        }
        if all(column in columns for column in _REQUIRED[kind]):
            return kind, columns
    return None


def _find_header(text: str) -> _Header | None:
    """Look through the first records, with each delimiter, for a header we know."""
    for delimiter in _DELIMITERS:
        try:
            for line, record in _records(text, delimiter, limit=MAX_HEADER_RECORDS):
                found = _match_header(record)
                if found:
                    return _Header(found[0], found[1], delimiter, line)
        except ExportError:  # not CSV with this delimiter; the next one may read it
            continue
    return None


def _records(
    text: str, delimiter: str, limit: int | None = None
) -> Iterator[tuple[int, list[str]]]:
    """(first line, cells) of each CSV record; a quoted newline makes a record span lines."""
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    line = 1
    try:
        for count, record in enumerate(reader):
            if limit is not None and count >= limit:
                return
            yield line, record
            line = reader.line_num + 1
    except csv.Error as error:
        raise ExportError(
            "unknown_csv", f"line {reader.line_num} is not readable as CSV ({error})"
        ) from None


# --- cells --------------------------------------------------------------------------------

# English as LinkedIn writes them, German as a German export or spreadsheet might (assumed).
_MONTH_NAMES: Final = (
    ("jan", "january", "januar", "jän"),
    ("feb", "february", "februar"),
    ("mar", "march", "mär", "märz", "mrz"),
    ("apr", "april"),
    ("may", "mai"),
    ("jun", "june", "juni"),
    ("jul", "july", "juli"),
    ("aug", "august"),
    ("sep", "sept", "september"),
    ("oct", "october", "okt", "oktober"),
    ("nov", "november"),
    ("dec", "december", "dez", "dezember"),
)
_MONTHS: Final = {name: number for number, names in enumerate(_MONTH_NAMES, 1) for name in names}
_DAY_MONTH_YEAR = re.compile(r"(\d{1,2})\.?[ -]([^\W\d_]{3,9})\.?[ -](\d{4}|\d{2})")
_TIME = r"(?:,? (\d{1,2}):(\d{2})(?::(\d{2}))?(?: ?([AaPp])\.?[Mm]\.?| Uhr)?)?"
_MONTH_DAY_YEAR = re.compile(r"(\d{1,2})/(\d{1,2})/(\d{4}|\d{2})" + _TIME)
_GERMAN_NUMERIC = re.compile(r"(\d{1,2})\.(\d{1,2})\.(\d{4}|\d{2})" + _TIME)
_ISO = re.compile(r"(\d{4})-(\d{2})-(\d{2})(?:[ T](\d{2}):(\d{2})(?::(\d{2}))?(?: ?(?:UTC|Z))?)?")


def _year(text: str) -> int:
    """A four-digit year; two digits are this century, as LinkedIn did not exist before."""
    year = int(text)
    return year + 2000 if len(text) == 2 else year


def _hour(text: str | None, half: str | None) -> int:
    """The 24-hour hour from a cell's hour and its optional a.m./p.m. letter."""
    hour = int(text or 0)
    if half is None:
        return hour
    if not 1 <= hour <= 12:
        raise ValueError("12-hour clock out of range")
    return hour % 12 + (12 if half in "Pp" else 0)


def _parse_moment(cell: str) -> datetime | None:
    """Any accepted date or date-and-time, as aware UTC; None if it is none of them."""
    text = " ".join(cell.split())  # also folds the narrow no-break space before "PM"
    try:
        return _moment(text)
    except ValueError:  # 31 Feb, 13 PM: shaped like a date, still not one
        return None


def _moment(text: str) -> datetime | None:
    """`text` read by the first pattern that matches it; ValueError if it names no moment."""
    if match := _MONTH_DAY_YEAR.fullmatch(text):
        month, day, year, hour, minute, second, half = match.groups()
    elif match := _GERMAN_NUMERIC.fullmatch(text):
        day, month, year, hour, minute, second, half = match.groups()
    elif match := _ISO.fullmatch(text):
        year, month, day, hour, minute, second = match.groups()
        half = None
    elif match := _DAY_MONTH_YEAR.fullmatch(text):
        day, name, year = match.groups()
        number = _MONTHS.get(name.casefold())
        if number is None:
            return None
        return datetime(_year(year), number, int(day), tzinfo=UTC)
    else:
        return None
    return datetime(
        _year(year),
        int(month),
        int(day),
        _hour(hour, half),
        int(minute or 0),
        int(second or 0),
        tzinfo=UTC,
    )


def _name(*parts: str) -> str:
    """Parts stripped, whitespace runs (tabs included) made one space, joined by a space."""
    return " ".join(" ".join(parts).split())


def _optional(cell: str) -> str | None:
    text = cell.strip()
    return text or None


# --- rows ---------------------------------------------------------------------------------


def _cell(record: Sequence[str], columns: dict[str, int], column: str) -> str:
    """The cell of `column`, or "" if the file has no such column or the row is short."""
    index = columns.get(column)
    return record[index] if index is not None and index < len(record) else ""


def _connection(record: Sequence[str], columns: dict[str, int]) -> Connection | SkipReason:
    name = _name(_cell(record, columns, "first"), _cell(record, columns, "last"))
    if not name:
        return "missing_name"
    cell = _cell(record, columns, "connected").strip()
    if not cell:
        return "missing_date"
    moment = _parse_moment(cell)
    if moment is None:
        return "bad_date"
    return Connection(name, _optional(_cell(record, columns, "url")), moment.date())


def _invitation(record: Sequence[str], columns: dict[str, int]) -> Invitation | SkipReason:
    direction = _DIRECTIONS.get(_cell(record, columns, "direction").strip().casefold())
    if direction is None:
        return "bad_direction"
    # The export's owner is one side of every row; the follow-up is about the other one.
    other, url = ("to", "invitee_url") if direction == "sent" else ("from", "inviter_url")
    name = _name(_cell(record, columns, other))
    if not name:
        return "missing_name"
    cell = _cell(record, columns, "sent").strip()
    if not cell:
        return "missing_date"
    sent_at = _parse_moment(cell)
    if sent_at is None:
        return "bad_date"
    return Invitation(
        name,
        direction,
        sent_at,
        _optional(_cell(record, columns, url)),
        _optional(_cell(record, columns, "message")),
    )


def _parse_csv(text: str, file: str, content: ExportContent) -> None:
    """Add one CSV's rows to `content`; its kind comes from its header, never its name."""
    if not text.strip():
        return
    header = _find_header(text)
    if header is None:
        raise ExportError("unknown_csv", f"{file} is not one we read: expected {_EXPECTED_HEADERS}")
    count = 0
    for line, record in _records(text, header.delimiter):
        if line <= header.line or not any(cell.strip() for cell in record):
            continue  # preamble, header, blank lines and rows of bare commas
        count += 1
        if count > MAX_ROWS_PER_FILE:
            raise ExportError(
                "too_large",
                f"{file} has over {MAX_ROWS_PER_FILE:,} rows; LinkedIn allows 30,000 connections",
            )
        row = (_connection if header.kind == "connections" else _invitation)(record, header.columns)
        if isinstance(row, Connection):
            content.connections.append(row)
        elif isinstance(row, Invitation):
            content.invitations.append(row)
        else:
            content.skipped.append(SkippedRow(file, line, row))


def _decode(raw: bytes, file: str) -> str:
    """UTF-8 text without its BOM; anything else is refused with the reason it deserves."""
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise ExportError("not_utf8", f"{file} is UTF-16; expected UTF-8 as LinkedIn exports it")
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    head = raw[:65536]
    # A CSV of ours re-saved by a spreadsheet in Windows-1252 deserves the encoding hint;
    # an image or a PDF does not.
    if b"\x00" not in head and _find_header(head.decode("cp1252", errors="replace")):
        raise ExportError("not_utf8", f"{file} is not UTF-8; expected UTF-8 as LinkedIn exports it")
    raise ExportError("not_an_export", f"{file} is not a CSV: expected {_EXPECTED_FILES}")


# --- ZIP ----------------------------------------------------------------------------------

_EOCD: Final = b"PK\x05\x06"
_EOCD_SIZE: Final = 22
# A central-directory entry is 46 bytes plus its name; 1 KiB each is far above real ones and
# bounds what `zipfile` parses even when the entry count in the record lies.
_MAX_DIRECTORY_BYTES: Final = MAX_ZIP_MEMBERS * 1024
_CHUNK: Final = 64 * 1024


def _is_zip(data: bytes) -> bool:
    return data.startswith((b"PK\x03\x04", _EOCD, b"PK\x07\x08"))


def _base_name(path: str) -> str:
    """Only the last part of a member's path counts: `../../x.csv` is `x.csv`."""
    return path.replace("\\", "/").rstrip("/").rsplit("/", 1)[-1]


def _check_directory(data: bytes) -> None:
    """Refuse too many members from the End Of Central Directory record, before `zipfile`."""
    start = data.rfind(_EOCD, max(0, len(data) - _EOCD_SIZE - 0xFFFF))
    if start < 0 or start + _EOCD_SIZE > len(data):
        raise ExportError("not_an_export", f"the ZIP is damaged: expected {_EXPECTED_FILES}")
    entries, directory_bytes = struct.unpack_from("<HI", data, start + 10)
    # Saturated fields mean ZIP64, which only 65,535+ entries or 4 GB could need.
    if entries > MAX_ZIP_MEMBERS or directory_bytes > _MAX_DIRECTORY_BYTES:
        raise ExportError(
            "zip_too_many_files",
            f"the ZIP holds more than {MAX_ZIP_MEMBERS} files; expected LinkedIn's export",
        )


def _open_zip(data: bytes) -> zipfile.ZipFile:
    _check_directory(data)
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, EOFError, OSError) as error:
        raise ExportError("not_an_export", f"the ZIP is damaged ({error})") from None
    if len(archive.infolist()) > MAX_ZIP_MEMBERS:
        archive.close()
        raise ExportError(
            "zip_too_many_files",
            f"the ZIP holds more than {MAX_ZIP_MEMBERS} files; expected LinkedIn's export",
        )
    return archive


def _members_to_read(archive: zipfile.ZipFile) -> list[zipfile.ZipInfo]:
    """The connections and invitations members, checked against their declared sizes."""
    infos = archive.infolist()
    wanted = [
        info
        for info in infos
        if not info.is_dir() and _base_name(info.filename).casefold() in _ZIP_MEMBERS
    ]
    if not wanted:
        names = sorted({_base_name(info.filename) for info in infos if not info.is_dir()})
        nested = any(name.casefold().endswith(".zip") for name in names)
        hint = (
            " It holds another ZIP: send LinkedIn's ZIP itself."
            if nested
            else " LinkedIn e-mails a large export in two parts, the one with your network "
            "within 24 hours."
        )
        listed = ", ".join(names[:8]) + (", ..." if len(names) > 8 else "") or "no files"
        raise ExportError(
            "not_an_export", f"the ZIP has {listed}; expected {_EXPECTED_FILES}.{hint}"
        )
    declared = sum(info.file_size for info in wanted)
    if declared > MAX_TOTAL_UNCOMPRESSED_BYTES:
        raise _too_big()
    for info in wanted:
        if _ratio_too_high(info.file_size, info.compress_size):
            raise _bomb(info)
    return wanted


def _ratio_too_high(uncompressed: int, compressed: int) -> bool:
    return uncompressed > RATIO_FLOOR_BYTES and uncompressed > MAX_COMPRESSION_RATIO * max(
        compressed, 1
    )


def _too_big() -> ExportError:
    limit = MAX_TOTAL_UNCOMPRESSED_BYTES // (1024 * 1024)
    return ExportError(
        "zip_too_big_uncompressed",
        f"Connections.csv and Invitations.csv unpack to more than {limit} MB together",
    )


def _bomb(info: zipfile.ZipInfo) -> ExportError:
    return ExportError(
        "zip_ratio",
        f"{_base_name(info.filename)} is compressed more than {MAX_COMPRESSION_RATIO}:1, "
        "which no real export is",
    )


def _read_capped(stream: IO[bytes], budget: int, info: zipfile.ZipInfo) -> bytes:
    """Decompress in chunks, stopping at the budget or a bomb's ratio, whatever headers say."""
    chunks: list[bytes] = []
    total = 0
    while chunk := stream.read(_CHUNK):
        total += len(chunk)
        if total > budget:
            raise _too_big()
        if _ratio_too_high(total, info.compress_size):
            raise _bomb(info)
        chunks.append(chunk)
    return b"".join(chunks)


def _read_member(archive: zipfile.ZipFile, info: zipfile.ZipInfo, budget: int) -> bytes:
    name = _base_name(info.filename)
    if info.flag_bits & 0x1:
        raise ExportError("not_an_export", f"{name} is encrypted; expected LinkedIn's plain ZIP")
    try:
        with archive.open(info) as stream:
            return _read_capped(stream, budget, info)
    except (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError, RuntimeError) as error:
        raise ExportError("not_an_export", f"{name} in the ZIP is damaged ({error})") from None


def _parse_zip(data: bytes) -> ExportContent:
    content = ExportContent()
    with _open_zip(data) as archive:
        budget = MAX_TOTAL_UNCOMPRESSED_BYTES
        for info in _members_to_read(archive):
            raw = _read_member(archive, info, budget)
            budget -= len(raw)
            name = _base_name(info.filename)
            _parse_csv(_decode(raw, name), name, content)
    return content


# --- the entry points ---------------------------------------------------------------------


def parse_export(data: bytes, filename: str) -> ExportContent:
    """Read a LinkedIn export ZIP, or one of its CSVs on its own, told apart by content."""
    if len(data) > MAX_FILE_BYTES:
        raise ExportError(
            "too_large", f"the file exceeds {MAX_FILE_BYTES // (1024 * 1024)} MB, Telegram's limit"
        )
    if not data or data.isspace():
        raise ExportError("empty", f"the file is empty: expected {_EXPECTED_FILES}")
    if _is_zip(data):
        return _parse_zip(data)
    name = _base_name(filename) or "upload"
    text = _decode(data, name)
    if not text.strip():
        raise ExportError("empty", f"{name} is empty: expected {_EXPECTED_FILES}")
    content = ExportContent()
    _parse_csv(text, name, content)
    return content


# `www.`, `de.` or no subdomain; anything after the slug (`/details/...`) is the same person.
_LINKEDIN_PROFILE = re.compile(r"(?:[\w-]+\.)*linkedin\.com/in/([^/?#]+)")


def person_key(name: str, url: str | None) -> str:
    """The key to merge one person's rows on: the profile URL if any, else the folded name."""
    if url and url.strip():
        text = unicodedata.normalize("NFKC", unquote(url.strip())).casefold()
        parts = urlsplit(text if "//" in text else f"//{text}")
        place = (parts.netloc.removeprefix("www.") + parts.path).rstrip("/")
        if match := _LINKEDIN_PROFILE.match(place):
            return f"linkedin:{match.group(1)}"
        if place:
            return f"url:{place}"
    return "name:" + " ".join(unicodedata.normalize("NFKC", name).casefold().split())
