"""The progress picture: weeks bucketed in local time, the numbers, the PNG and its caption."""

from __future__ import annotations

import json
import os
import statistics
import struct
import subprocess
import sys
import textwrap
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime, timedelta
from itertools import pairwise
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from pydantic import ValidationError

from bot.domain import Direction, FollowUp, Lang, State
from bot.followups.progress_chart import (
    ProgressData,
    WeekCounts,
    acceptance_rate,
    age_bins,
    build_progress_data,
    caption,
    has_data,
    render_png,
    stale_count,
    title,
    week_label,
)
from bot.knowledge import load

BERLIN = ZoneInfo("Europe/Berlin")
KB = load()


def _texts(lang: Lang) -> dict[str, str]:
    return KB.ui.prefixed(lang, "chart_")


ROOT = Path(__file__).resolve().parent.parent
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
NBSP = "\u00a0"


def _row(
    id: int, created: datetime, state: State = "pending", direction: Direction = "sent"
) -> FollowUp:
    return FollowUp(
        id=id,
        user_id=1,
        platform="linkedin",
        direction=direction,
        name=f"Kontakt {id}",
        note=None,
        state=state,
        created_at=int(created.timestamp()),
        nudges_sent=0,
        next_nudge_at=None,
    )


def _local(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=BERLIN)


def _build(
    rows: list[FollowUp],
    now: datetime,
    lang: Lang = "de",
    done: int = 4,
    total: int = 9,
    closed_at: dict[int, datetime] | None = None,
) -> ProgressData:
    return build_progress_data(rows, now, BERLIN, done, total, lang, _texts(lang), closed_at)


def _count(data: ProgressData, start: date) -> int:
    """All requests bucketed into the week starting on `start`."""
    (week,) = [w for w in data.weeks if w.week_start == start]
    return week.total


def _png_size(png: bytes) -> tuple[int, int]:
    """(width, height) from the IHDR chunk, which a valid PNG has right after its signature."""
    assert png[:8] == PNG_SIGNATURE
    length, kind = struct.unpack(">I4s", png[8:16])
    assert (length, kind) == (13, b"IHDR")
    width, height = struct.unpack(">II", png[16:24])
    return width, height


def _sample(lang: Lang = "de") -> ProgressData:
    """A busy user: a dozen weeks of requests in every state, some open for weeks."""
    now = _local(2026, 11, 27, 10, 0)
    states: list[State] = ["accepted", "accepted", "declined", "withdrawn", "expired", "pending"]
    rows = [
        _row(i, now - timedelta(days=(i * 37) % 84, hours=i % 5), states[i % len(states)])
        for i in range(48)
    ]
    return _build(rows, now, lang)


# --- bucketing ------------------------------------------------------------------------------


def test_twelve_consecutive_local_weeks_end_with_the_current_one() -> None:
    data = _build([], _local(2026, 11, 27, 10, 0))

    starts = [w.week_start for w in data.weeks]
    assert len(starts) == 12
    assert starts[-1] == date(2026, 11, 23)  # the Monday of the week containing Nov 27
    assert all(s.weekday() == 0 for s in starts)
    assert all(b - a == timedelta(weeks=1) for a, b in pairwise(starts))


def test_weeks_across_the_year_boundary_follow_iso_numbering() -> None:
    # 2026 has 53 ISO weeks; Jan 1-3 2027 still belong to week 53.
    now = _local(2027, 1, 6, 12, 0)
    rows = [
        _row(1, _local(2026, 12, 31, 10, 0)),
        _row(2, _local(2027, 1, 1, 9, 0), "accepted"),
        _row(3, _local(2027, 1, 3, 23, 30), "declined"),  # Sunday night: still week 53
        _row(4, _local(2027, 1, 4, 0, 15), "accepted"),  # Monday 00:15, Sunday 23:15 UTC
    ]
    data = _build(rows, now)

    assert [week_label(w.week_start, "de") for w in data.weeks[-2:]] == ["KW 53", "KW 1"]
    assert [week_label(w.week_start, "en") for w in data.weeks[-2:]] == ["W53", "W1"]
    assert _count(data, date(2026, 12, 28)) == 3
    assert _count(data, date(2027, 1, 4)) == 1
    assert data.weeks[-1].accepted == 1


@pytest.mark.parametrize(
    ("now", "monday", "sunday_night", "monday_after_midnight"),
    [
        # Summer time starts on Sunday 29 March 2026: midnight is 22:00 UTC from then on.
        (
            _local(2026, 4, 1, 12, 0),
            date(2026, 3, 30),
            _local(2026, 3, 29, 23, 45),
            _local(2026, 3, 30, 0, 30),
        ),
        # Summer time ends on Sunday 25 October 2026: that day has 25 hours.
        (
            _local(2026, 10, 28, 12, 0),
            date(2026, 10, 26),
            _local(2026, 10, 25, 23, 45),
            _local(2026, 10, 26, 0, 30),
        ),
    ],
    ids=["spring", "autumn"],
)
def test_weeks_start_at_local_midnight_across_a_dst_change(
    now: datetime, monday: date, sunday_night: datetime, monday_after_midnight: datetime
) -> None:
    rows = [_row(1, sunday_night, "accepted"), _row(2, monday_after_midnight, "accepted")]
    data = _build(rows, now)

    # In UTC both are on Sunday; in Berlin the second one opens the new week.
    assert datetime.fromtimestamp(rows[1].created_at, UTC).weekday() == 6
    assert _count(data, monday) == 1
    assert _count(data, monday - timedelta(weeks=1)) == 1


def test_received_requests_are_ignored() -> None:
    now = _local(2026, 11, 27, 10, 0)
    rows = [
        _row(1, now - timedelta(days=2), "pending", direction="received"),
        _row(2, now - timedelta(days=30), "accepted", direction="received"),
        _row(3, now - timedelta(days=3), "accepted"),
    ]
    data = _build(rows, now)

    assert sum(w.total for w in data.weeks) == 1
    assert data.open_ages_days == []
    assert acceptance_rate(data) == 1.0


def test_open_ages_include_requests_older_than_the_weeks_shown() -> None:
    now = _local(2026, 11, 27, 10, 0)
    rows = [
        _row(1, now - timedelta(hours=3)),
        _row(2, now - timedelta(days=20, hours=23)),
        _row(3, now - timedelta(days=21)),
        _row(4, now - timedelta(days=100)),  # before the 12 weeks, still open
        _row(5, now - timedelta(days=100), "accepted"),  # before the 12 weeks, settled
        _row(6, now - timedelta(days=5), "withdrawn"),
    ]
    data = _build(rows, now)

    assert data.open_ages_days == [0, 20, 21, 100]
    assert stale_count(data) == 2  # 21 days and 100 days: three weeks or more
    assert sum(w.open for w in data.weeks) == 3
    assert sum(w.total for w in data.weeks) == 4


def test_closed_at_shows_the_state_as_of_now() -> None:
    now = _local(2026, 11, 27, 10, 0)
    rows = [
        _row(1, now - timedelta(days=10), "accepted"),
        _row(2, now - timedelta(days=10), "declined"),
        _row(3, now + timedelta(hours=1)),  # logged after `now`
    ]
    closed = {1: now + timedelta(days=1), 2: now - timedelta(days=1)}
    data = _build(rows, now, closed_at=closed)

    assert data.weeks[-2].open == 1  # accepted only tomorrow
    assert data.weeks[-2].declined == 1
    assert data.open_ages_days == [10]
    assert sum(w.total for w in data.weeks) == 2


def test_checklist_progress_is_clamped_to_the_current_list() -> None:
    data = _build([], _local(2026, 11, 27, 10, 0), done=12, total=9)

    assert (data.checklist_done, data.checklist_total) == (9, 9)
    with pytest.raises(ValidationError):
        ProgressData(
            weeks=[],
            open_ages_days=[],
            checklist_done=3,
            checklist_total=2,
            lang="de",
            texts=_texts("de"),
        )


# --- the numbers ----------------------------------------------------------------------------


def _weeks(**counts: int) -> list[WeekCounts]:
    """Eleven empty weeks and one with `counts`, ending in week 48 of 2026."""
    starts = [date(2026, 11, 23) - timedelta(weeks=11 - i) for i in range(12)]
    return [WeekCounts(week_start=s) for s in starts[:-1]] + [
        WeekCounts(week_start=starts[-1], **counts)
    ]


def _data(lang: Lang = "de", ages: list[int] | None = None, **counts: int) -> ProgressData:
    return ProgressData(
        weeks=_weeks(**counts),
        open_ages_days=ages or [],
        checklist_done=4,
        checklist_total=9,
        lang=lang,
        texts=_texts(lang),
    )


def test_acceptance_rate_is_none_until_something_is_settled() -> None:
    only_open = _data(open=3, ages=[1, 2, 3])

    assert acceptance_rate(only_open) is None
    assert title(only_open) == "Annahmequote: noch keine"
    assert title(_data("en", open=3, ages=[1, 2, 3])) == "Acceptance rate: none yet"


def test_acceptance_rate_counts_accepted_among_settled_only() -> None:
    data = _data(accepted=5, declined=2, withdrawn=1, open=4, ages=[1, 2, 3, 4])

    assert acceptance_rate(data) == pytest.approx(5 / 8)
    assert title(data) == f"Annahmequote 63{NBSP}%"  # 62.5 rounds half up
    assert title(_data("en", accepted=5, declined=2, withdrawn=1)) == "Acceptance rate 63%"


def test_has_data() -> None:
    assert has_data(_data()) is False
    assert has_data(_build([], _local(2026, 11, 27, 10, 0))) is False
    assert has_data(_data(expired=1)) is True
    assert has_data(_data(ages=[120])) is True  # only an old open request


def test_age_bins_put_very_old_requests_in_the_last_bin() -> None:
    assert age_bins([]) == ([0, 0, 0, 0, 0], False)
    assert age_bins([0, 6, 7, 30]) == ([2, 1, 0, 0, 1], False)
    counts, overflow = age_bins([3, 200])
    assert (len(counts), counts[0], counts[-1], overflow) == (8, 1, 1, True)


# --- the caption ----------------------------------------------------------------------------


def test_caption_in_german() -> None:
    ages = [1, 5, 9, 14, 22, 40]
    data = _data(accepted=25, declined=7, withdrawn=1, expired=1, open=6, ages=ages)

    assert caption(data) == (
        f"12 Wochen: 40 Anfragen, 25 angenommen (74{NBSP}%), 6 offen, "
        "davon 2 älter als 3 Wochen. Checkliste 4/9."
    )


def test_caption_in_english() -> None:
    data = _data("en", accepted=1, open=1, ages=[3])

    assert caption(data) == "12 weeks: 2 requests, 1 accepted (100%), 1 open. Checklist 4/9."


def test_caption_without_requests() -> None:
    assert caption(_data()) == "12 Wochen: keine Anfragen gesendet. Checkliste 4/9."
    assert caption(_data("en", ages=[90])) == (
        "12 weeks: no requests sent, 1 open, 1 of them older than 3 weeks. Checklist 4/9."
    )
    assert caption(_data(open=1, ages=[2])) == (
        "12 Wochen: 1 Anfrage, 0 angenommen, 1 offen. Checkliste 4/9."
    )


@pytest.mark.parametrize("lang", ["de", "en"])
def test_caption_stays_short_with_big_numbers(lang: Lang) -> None:
    many = 10**6
    data = ProgressData(
        weeks=_weeks(accepted=many, declined=many, withdrawn=many, expired=many, open=many),
        open_ages_days=[30] * 1000,
        checklist_done=999,
        checklist_total=999,
        lang=lang,
        texts=_texts(lang),
    )

    assert len(caption(data)) <= 300


# --- the picture ----------------------------------------------------------------------------


@pytest.mark.parametrize("lang", ["de", "en"])
def test_render_png_is_a_phone_sized_png(lang: Lang) -> None:
    png = render_png(_sample(lang))

    width, height = _png_size(png)
    assert 1000 <= width <= 1200
    assert height == 1350
    assert png.endswith(b"IEND\xaeB`\x82")


def test_languages_draw_different_labels() -> None:
    assert render_png(_sample("de")) != render_png(_sample("en"))


def test_an_empty_picture_still_renders() -> None:
    data = _build([], _local(2026, 11, 27, 10, 0), done=0, total=0)

    assert _png_size(render_png(data)) == (1080, 1350)


def test_rendering_in_threads_gives_the_same_picture() -> None:
    data = _sample()
    serial = render_png(data)

    with ThreadPoolExecutor(max_workers=3) as pool:
        results = list(pool.map(render_png, [data] * 3))

    assert results == [serial] * 3


_COLD_RUN = textwrap.dedent(
    """
    import json, sys, time
    from bot.followups.progress_chart import ProgressData, render_png
    from bot.knowledge import load
    texts = load().ui.prefixed("de", "chart_")
    loaded_at_import = "matplotlib" in sys.modules
    data = ProgressData(weeks=[], open_ages_days=[3, 30], checklist_done=1,
                        checklist_total=9, lang="de", texts=texts)
    started = time.perf_counter()
    png = render_png(data)
    print(json.dumps({
        "seconds": time.perf_counter() - started,
        "loaded_at_import": loaded_at_import,
        "pyplot": "matplotlib.pyplot" in sys.modules,
        "png": png[:8] == b"\\x89PNG\\r\\n\\x1a\\n",
    }))
    """
)


def test_benchmark_render_time(capsys: pytest.CaptureFixture[str]) -> None:
    """A measurement, printed, not asserted: timings depend on the machine."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    run = subprocess.run(
        [sys.executable, "-c", _COLD_RUN], capture_output=True, text=True, env=env, check=True
    )
    cold = json.loads(run.stdout)
    data = _sample()
    render_png(data)
    warm = []
    for _ in range(5):
        started = time.perf_counter()
        png = render_png(data)
        warm.append(time.perf_counter() - started)

    with capsys.disabled():
        print(
            f"\nprogress chart: first call incl. matplotlib import {cold['seconds']:.2f} s, "
            f"warm median {statistics.median(warm):.2f} s (min {min(warm):.2f} s)"
        )
    # Starting the bot must not load matplotlib, and rendering must not touch pyplot.
    assert cold["loaded_at_import"] is False
    assert cold["pyplot"] is False
    assert cold["png"] is True
    assert png[:8] == PNG_SIGNATURE
