"""The progress picture: 12 weeks of sent requests, open ones by age, the checklist. Pure.

`build_progress_data` turns logged follow-ups into a `ProgressData`; `render_png` draws it as
one phone-sized PNG (1080 x 1350 px) and `caption` sums it up in one line of text.

Matplotlib is imported only when drawing, so starting the bot does not pay for it, and used
only through its object API on an explicit Agg canvas: no pyplot, no global figure registry,
no rcParams changes. Each call owns its figure, so calls may run in worker threads (e.g.
`asyncio.to_thread`), and no figure outlives its call but for the garbage collector's delay.
"""

from __future__ import annotations

import io
import math
from collections.abc import Mapping, Sequence
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Literal, Self
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, Field, model_validator

from bot.domain import FollowUp, Lang

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

WEEKS = 12
# After about three weeks LinkedIn practitioners advise withdrawing an unanswered invitation.
STALE_DAYS = 21
MAX_AGE_BINS = 8  # weeks of age drawn; older open requests share the last bin

Outcome = Literal["accepted", "declined", "withdrawn", "expired", "open"]
OUTCOMES: tuple[Outcome, ...] = ("accepted", "declined", "withdrawn", "expired", "open")
SETTLED: tuple[Outcome, ...] = ("accepted", "declined", "withdrawn", "expired")


class WeekCounts(BaseModel):
    """How the requests sent in one local ISO week ended (or not yet)."""

    model_config = ConfigDict(frozen=True)

    week_start: date  # the Monday
    accepted: int = Field(default=0, ge=0)
    declined: int = Field(default=0, ge=0)
    withdrawn: int = Field(default=0, ge=0)
    expired: int = Field(default=0, ge=0)
    open: int = Field(default=0, ge=0)

    def count(self, outcome: Outcome) -> int:
        """The number of requests of that week with this outcome."""
        return int(getattr(self, outcome))

    @property
    def total(self) -> int:
        """All requests sent that week."""
        return sum(self.count(outcome) for outcome in OUTCOMES)


class ProgressData(BaseModel):
    """Everything the picture and its caption show; nothing else is read when drawing."""

    model_config = ConfigDict(frozen=True)

    weeks: list[WeekCounts]  # oldest first
    open_ages_days: list[int]  # every open sent request, also those older than the weeks
    checklist_done: int = Field(ge=0)
    checklist_total: int = Field(ge=0)
    lang: Lang
    # The picture's words in `lang` (ui.toml's chart_* texts, without the prefix).
    texts: dict[str, str]

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        """Reject a checklist done beyond its total and negative ages."""
        if self.checklist_done > self.checklist_total:
            raise ValueError("checklist_done exceeds checklist_total")
        if any(age < 0 for age in self.open_ages_days):
            raise ValueError("open_ages_days must not be negative")
        return self


# --- building the data ---------------------------------------------------------------------


def week_start(moment: datetime, zone: ZoneInfo) -> date:
    """The Monday of the local ISO week `moment` falls in."""
    local = moment.astimezone(zone).date()
    return local - timedelta(days=local.weekday())


def _outcome_at(row: FollowUp, now: datetime, closed_at: Mapping[int, datetime]) -> Outcome:
    """The row's outcome as of `now`: a request closed only after `now` was still open then."""
    if row.state == "pending":
        return "open"
    closed = closed_at.get(row.id)
    if closed is None and row.closed_at is not None:
        closed = datetime.fromtimestamp(row.closed_at, tz=now.tzinfo)
    if closed is not None and closed > now:
        return "open"
    return row.state


def build_progress_data(
    follow_ups: Sequence[FollowUp],
    now: datetime,
    zone: ZoneInfo,
    checklist_done: int,
    checklist_total: int,
    lang: Lang,
    texts: Mapping[str, str],
    closed_at: Mapping[int, datetime] | None = None,
) -> ProgressData:
    """Bucket the sent requests into the 12 local weeks ending with the current one.

    `closed_at` (follow-up id -> when it was settled) makes the picture as of `now`: a request
    settled after `now` counts as open, one created after `now` not at all.
    """
    closed = closed_at or {}
    first = week_start(now, zone) - timedelta(weeks=WEEKS - 1)
    counts = [dict.fromkeys(OUTCOMES, 0) for _ in range(WEEKS)]
    ages: list[int] = []
    for row in follow_ups:
        if row.direction != "sent" or row.created_at > now.timestamp():
            continue
        outcome = _outcome_at(row, now, closed)
        created = datetime.fromtimestamp(row.created_at, tz=zone)
        # Local calendar dates, not seconds / 604800: weeks start at local midnight, DST or not.
        index = (week_start(created, zone) - first).days // 7
        if 0 <= index < WEEKS:
            counts[index][outcome] += 1
        if outcome == "open":
            ages.append(int((now.timestamp() - row.created_at) // 86400))
    weeks = [WeekCounts(week_start=first + timedelta(weeks=i), **counts[i]) for i in range(WEEKS)]
    total = max(0, checklist_total)
    # Ticked items may since have left the checklist; the bar must not overflow.
    done = min(max(0, checklist_done), total)
    return ProgressData(
        weeks=weeks,
        open_ages_days=sorted(ages),
        checklist_done=done,
        checklist_total=total,
        lang=lang,
        texts=dict(texts),
    )


# --- numbers shared by picture and caption -------------------------------------------------


def _sum(data: ProgressData, outcome: Outcome) -> int:
    """One outcome summed over all weeks."""
    return sum(week.count(outcome) for week in data.weeks)


def acceptance_rate(data: ProgressData) -> float | None:
    """Accepted share of the settled requests of the weeks shown; None while none is settled."""
    settled = sum(_sum(data, outcome) for outcome in SETTLED)
    return _sum(data, "accepted") / settled if settled else None


def has_data(data: ProgressData) -> bool:
    """Whether there is anything to draw: a request sent in the weeks shown, or one open."""
    return any(week.total for week in data.weeks) or bool(data.open_ages_days)


def stale_count(data: ProgressData) -> int:
    """Open requests that have waited three weeks or longer."""
    return sum(1 for age in data.open_ages_days if age >= STALE_DAYS)


def week_label(start: date, lang: Lang) -> str:
    """'KW 47' or 'W47': the ISO week number as people write it in each language."""
    number = start.isocalendar().week
    return f"KW {number}" if lang == "de" else f"W{number}"


def percent(value: float, lang: Lang) -> str:
    """'63 %' in German (no-break space, so it never wraps), '63%' in English; halves up."""
    whole = math.floor(value * 100 + 0.5)
    return f"{whole}\u00a0%" if lang == "de" else f"{whole}%"


def _plural(count: int, one: str, many: str) -> str:
    """'1 Anfrage', '3 Anfragen'."""
    return f"{count} {one if count == 1 else many}"


def _sent(data: ProgressData) -> int:
    """All requests sent in the weeks shown."""
    return sum(week.total for week in data.weeks)


def _sent_text(data: ProgressData) -> str:
    """'40 Anfragen' / '40 requests' sent in the weeks shown."""
    text = data.texts
    return _plural(_sent(data), text["request"], text["requests"])


def title(data: ProgressData) -> str:
    """'Annahmequote 62 %', or 'Annahmequote: noch keine' before anything is settled."""
    rate = acceptance_rate(data)
    text = data.texts
    return text["no_rate"] if rate is None else text["rate"].format(rate=percent(rate, data.lang))


def caption(data: ProgressData) -> str:
    """One short plain-text summary for the photo caption (well under 300 characters)."""
    text = data.texts
    parts = [text["caption_weeks"].format(weeks=len(data.weeks))]
    if _sent(data):
        parts += [
            _sent_text(data),
            text["caption_accepted"].format(accepted=_sum(data, "accepted")),
        ]
        if (rate := acceptance_rate(data)) is not None:
            parts.append(f" ({percent(rate, data.lang)})")
    else:
        parts.append(text["caption_none"])
    if data.open_ages_days:
        parts.append(text["caption_open"].format(open=len(data.open_ages_days)))
        if stale := stale_count(data):
            parts.append(text["caption_stale"].format(stale=stale))
    checklist = text["checklist"].format(done=data.checklist_done, total=data.checklist_total)
    return "".join(parts) + f". {checklist}."


# --- drawing -------------------------------------------------------------------------------

# 1080 x 1350 px: Telegram shows a 4:5 photo full width on a phone.
FIG_INCHES = (10.8, 13.5)
DPI = 100
# Points at 100 dpi: 1 pt = 1.39 px, so the smallest text (17 pt) is 24 px high.
TITLE_PT = 32.0
HEAD_PT = 22.0
BASE_PT = 19.0
SMALL_PT = 17.0
INK = "#222222"
MUTED = "#555555"
GRID = "#DDDDDD"
# Okabe-Ito: told apart with every common colour-vision deficiency.
COLOURS: dict[Outcome, str] = {
    "accepted": "#009E73",  # bluish green
    "declined": "#D55E00",  # vermillion
    "withdrawn": "#CC79A7",  # reddish purple
    "expired": "#999999",  # grey: ended without anyone deciding
    "open": "#56B4E9",  # sky blue
}
MARGIN = 0.05  # left edge of every heading, as a fraction of the width
BAR_WIDTH = 0.72
Box = tuple[float, float, float, float, str]  # x, y, width, height, colour
STALE_COLOUR = "#E69F00"  # orange: waiting too long
CHECK_COLOUR = "#0072B2"  # blue


def _style(ax: Axes) -> None:
    """Plain axes: no box, light grid, large ticks."""
    for side in ("top", "right", "left"):
        ax.spines[side].set_visible(False)
    ax.spines["bottom"].set_color(MUTED)
    ax.tick_params(labelsize=SMALL_PT, colors=INK, length=0, pad=8)
    ax.set_axisbelow(True)


def _heading(ax: Axes, words: str, above: float = 10) -> None:
    """A panel heading `above` points over the axes, flush left with the page title."""
    ax.annotate(
        words,
        xy=(MARGIN, 1),
        xycoords=("figure fraction", "axes fraction"),
        xytext=(0, above),
        textcoords="offset points",
        fontsize=HEAD_PT,
        color=INK,
        va="bottom",
    )


def _add_boxes(ax: Axes, boxes: Sequence[Box], edge: float) -> None:
    """Filled rectangles as one collection: much faster than `Axes.bar`'s patch per box."""
    from matplotlib.collections import PolyCollection

    verts = [[(x, y), (x + w, y), (x + w, y + h), (x, y + h)] for x, y, w, h, _ in boxes]
    colours = [colour for *_, colour in boxes]
    # The callers set the axis limits themselves, so the collection need not update them.
    collection = PolyCollection(verts, facecolors=colours, edgecolors="white", linewidths=edge)
    ax.add_collection(collection, autolim=False)


def _draw_weeks(ax: Axes, data: ProgressData) -> None:
    """Panel 1: stacked bars per week by outcome, totals on top, a legend."""
    from matplotlib.patches import Patch
    from matplotlib.ticker import MaxNLocator
    from matplotlib.transforms import blended_transform_factory

    text = data.texts
    _style(ax)
    _heading(ax, text["bars_title"], above=62)
    positions = list(range(len(data.weeks)))
    boxes: list[Box] = []
    bottoms = [0] * len(data.weeks)
    for outcome in OUTCOMES:
        for x, week in enumerate(data.weeks):
            if height := week.count(outcome):
                boxes.append((x - BAR_WIDTH / 2, bottoms[x], BAR_WIDTH, height, COLOURS[outcome]))
                bottoms[x] += height
    _add_boxes(ax, boxes, edge=1.5)
    top = max(bottoms, default=0)
    for x, total in zip(positions, bottoms, strict=True):
        if total:
            ax.text(x, total, str(total), ha="center", va="bottom", fontsize=SMALL_PT, color=INK)
    if not top:
        ax.text(
            0.5,
            0.5,
            text["no_requests"].format(weeks=len(data.weeks)),
            transform=ax.transAxes,
            ha="center",
            va="center",
            fontsize=BASE_PT,
            color=MUTED,
        )
    ax.set_ylim(0, max(4, top) * 1.15)  # headroom for the totals, and off the legend
    ax.set_xlim(-0.6, len(data.weeks) - 0.4)
    ax.yaxis.set_major_locator(MaxNLocator(nbins=4, integer=True))
    ax.yaxis.grid(True, color=GRID, linewidth=1)
    ax.set_xticks(positions)
    # Full labels do not fit 12 to a phone's width at this size: every other week, the
    # current one always included, the others get a tick mark.
    labels = [
        week_label(week.week_start, data.lang) if (len(data.weeks) - 1 - i) % 2 == 0 else ""
        for i, week in enumerate(data.weeks)
    ]
    ax.set_xticklabels(labels)
    ax.tick_params(axis="x", length=6, color=MUTED)
    ax.legend(
        handles=[Patch(color=COLOURS[outcome], label=text[outcome]) for outcome in OUTCOMES],
        loc="lower left",
        # Flush left with the headings: x in figure fractions, y in the axes' own.
        bbox_to_anchor=(MARGIN, 1.0),
        bbox_transform=blended_transform_factory(ax.figure.transFigure, ax.transAxes),
        borderpad=0.2,
        ncols=3,
        frameon=False,
        fontsize=SMALL_PT,
        handlelength=1.0,
        handleheight=1.0,
        columnspacing=1.2,
        borderaxespad=0.2,
        labelcolor=INK,
    )


def age_bins(ages: Sequence[int]) -> tuple[list[int], bool]:
    """Counts per week of age, and whether the last bin also holds everything older."""
    oldest = max(ages, default=0)
    # At least five weeks, so the 3-week line never sits at the edge; at most eight bins.
    bins = min(MAX_AGE_BINS, max(5, oldest // 7 + 1))
    counts = [0] * bins
    for age in ages:
        counts[min(age // 7, bins - 1)] += 1
    return counts, oldest >= 7 * bins


def _draw_ages(ax: Axes, data: ProgressData) -> None:
    """Panel 2: open requests per week of age, with the three-week line marked."""
    from matplotlib.ticker import MaxNLocator

    text = data.texts
    _style(ax)
    _heading(ax, text["ages_title"].format(count=len(data.open_ages_days)), above=12)
    counts, overflow = age_bins(data.open_ages_days)
    bins = len(counts)
    top = max(counts)
    lefts = [7 * i for i in range(bins)]
    colours = [STALE_COLOUR if left >= STALE_DAYS else COLOURS["open"] for left in lefts]
    _add_boxes(
        ax,
        [(left, 0, 7, n, c) for left, n, c in zip(lefts, counts, colours, strict=True) if n],
        edge=2.0,
    )
    for left, count in zip(lefts, counts, strict=True):
        if count:
            ax.text(
                left + 3.5,
                count,
                str(count),
                ha="center",
                va="bottom",
                fontsize=SMALL_PT,
                color=INK,
            )
    height = max(3, top) * 1.3  # headroom for the counts and the 3-week label
    ax.set_ylim(0, height)
    ax.set_xlim(0, 7 * bins)
    ax.axvline(STALE_DAYS, color=INK, linewidth=3, linestyle=(0, (4, 3)))
    ax.text(
        STALE_DAYS + 0.5,
        height * 0.97,
        text["stale_line"],
        ha="left",
        va="top",
        fontsize=SMALL_PT,
        fontweight="bold",
        color=INK,
    )
    if not top:
        ax.text(
            STALE_DAYS / 2,
            height * 0.45,
            text["no_open"],
            ha="center",
            va="center",
            fontsize=BASE_PT,
            color=MUTED,
        )
    ax.yaxis.set_major_locator(MaxNLocator(nbins=3, integer=True))
    ax.yaxis.grid(True, color=GRID, linewidth=1)
    ax.set_xticks([*lefts, 7 * bins])
    labels = [str(edge) for edge in [*lefts, 7 * bins]]
    if overflow:
        # The last bin is open-ended: "49+" at its start, nothing at its end.
        labels[-2:] = [f"{lefts[-1]}+", ""]
    ax.set_xticklabels(labels)
    ax.tick_params(axis="x", length=6, color=MUTED)
    ax.set_xlabel(text["age_axis"], fontsize=SMALL_PT, color=MUTED, labelpad=6)


def _draw_checklist(ax: Axes, data: ProgressData) -> None:
    """Panel 3: one horizontal progress bar for the checklist."""
    text = data.texts
    total = max(1, data.checklist_total)
    ax.set_axis_off()
    ax.set_xlim(0, total)
    ax.set_ylim(-0.5, 0.5)
    boxes: list[Box] = [(0, -0.45, total, 0.9, GRID)]
    if data.checklist_done:
        boxes.append((0, -0.45, data.checklist_done, 0.9, CHECK_COLOUR))
    _add_boxes(ax, boxes, edge=0)
    _heading(ax, text["checklist"].format(done=data.checklist_done, total=data.checklist_total))


def _figure(data: ProgressData) -> Figure:
    """The whole picture on a fresh figure with its own Agg canvas."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=FIG_INCHES, dpi=DPI, facecolor="white")
    FigureCanvasAgg(fig)
    fig.text(MARGIN, 0.975, title(data), fontsize=TITLE_PT, fontweight="bold", color=INK, va="top")
    subtitle = data.texts["subtitle"].format(weeks=len(data.weeks), sent=_sent_text(data))
    fig.text(MARGIN, 0.925, subtitle, fontsize=BASE_PT, color=MUTED, va="top")
    # Fixed rectangles instead of a layout engine: same picture every time, and faster.
    _draw_weeks(fig.add_axes((0.09, 0.50, 0.87, 0.30)), data)
    _draw_ages(fig.add_axes((0.09, 0.19, 0.87, 0.20)), data)
    _draw_checklist(fig.add_axes((MARGIN, 0.035, 0.91, 0.045)), data)
    return fig


def render_png(data: ProgressData) -> bytes:
    """The progress picture as PNG bytes, 1080 x 1350 px."""
    buffer = io.BytesIO()
    _figure(data).savefig(buffer, format="png", dpi=DPI, facecolor="white")
    return buffer.getvalue()
