"""The ICE Programme Board's pack for a return cycle: one self-contained HTML page per cycle.

Each pack shows the picture as at its cycle: the figures of the cycle and of those before it as the warehouse
held them at the cycle's as-at time (its close, or its latest late return's arrival: ``publish.CUT_OFF_RULE``),
never a return that arrived later; RIEP reports and simplification status as at the close of the cycle's
return window. Packs are written only for cycles that have closed. A headline strip and five charts drawn
here as inline SVG, each with a plain-English caption and a table of the exact figures under it:

1. national cumulative gains (forecast and actual) against the 3% a year target path;
2. each region's reported gains as a share of its baseline against the cycle's target rate;
3. returns received and missing, cycle by cycle;
4. each RIEP's allocation against its spend and attributed savings for the cycle's financial year;
5. simplification commitments by status, and how many are overdue.

Nothing is fetched when the page opens (no scripts, stylesheets, fonts or images from elsewhere), so it
can be mailed to board members and read offline. Every figure carries ``data-chart``, ``data-key``,
``data-measure`` and ``data-value`` attributes (``data-value`` is the value exactly as the warehouse holds
it, ``data-missing="true"`` where there is none), so a figure on the page can be traced to its mart row.
The same data gives the same bytes: nothing depends on the clock unless ``generated_at`` is passed.

The SQL is all in ``QUERIES``; the rendering works on the rows it returns and never touches the database.

    python -m efficiency_warehouse.board_pack [--cycle N] [--folder DIR] [--generated-at TEXT]
"""

from __future__ import annotations

import argparse
import math
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from html import escape
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from efficiency_warehouse import settings, warehouse
from efficiency_warehouse.publish import CUT_OFF_RULE

LONDON = ZoneInfo("Europe/London")

# Every query the pack runs. Ask only for the columns used below, so marts can grow without breaking it.
# %(clock)s is the warehouse's clock (WAREHOUSE_CLOCK when a past is replayed, else now).
QUERIES: dict[str, str] = {
    "cycles": """
        select cycles.cycle_number, cycles.cycle_label, cycles.financial_year, cycles.programme_year,
               cycles.return_type, cycles.window_end_date, cycles.closes_at,
               cycles.closes_at <= coalesce(%(clock)s, now()) as is_closed, own.as_at
        from marts.return_cycles as cycles
        left join marts.national_efficiency_as_at_cycle as own
            on own.as_at_cycle_number = cycles.cycle_number and own.cycle_number = cycles.cycle_number
        order by cycles.cycle_number
    """,
    # the national series as each cycle knew it: a pack reads the rows of its own as_at_cycle_number
    "national": """
        select as_at_cycle_number, cycle_number, financial_year, programme_year, return_type,
               councils_expected, councils_reported, councils_missing, reported_gains_gbp_millions,
               target_gains_gbp_millions, gap_to_target_gbp_millions, target_cumulative_rate, is_target_met
        from marts.national_efficiency_as_at_cycle
        order by as_at_cycle_number, cycle_number
    """,
    # a cycle's own returns all count at its as-at time (it moves with each late one), so the current
    # regional position of the pack's own cycle is as at the cycle (dbt test
    # assert_national_and_regional_positions_are_as_at_each_cycle)
    "regional": """
        select region_code, region_name, riep_name, financial_year, return_type, councils_expected,
               councils_reported, councils_missing, reported_gains_gbp_millions, reported_share_of_baseline,
               target_cumulative_rate, gap_to_target_gbp_millions, is_on_target_path
        from marts.regional_efficiency_position
        order by financial_year, return_type, region_code
    """,
    "regions": """
        select region_code, region_name, riep_name
        from reference.regions
        order by region_code
    """,
    "riep_allocations": """
        select region_code, financial_year, funding_stream, amount_gbp_thousands, allocation_status
        from intermediate.int_riep_allocations_current
        order by region_code, financial_year, funding_stream
    """,
    "riep_reports": """
        select region_code, financial_year, submitted_date, total_spend_gbp_thousands,
               cash_releasing_savings_gbp_thousands, standards_met, standards_partly_met, standards_not_met
        from intermediate.int_riep_reports_current
        order by region_code, financial_year
    """,
    "commitments": """
        select commitment_id, commitment_text, owner, category, due_date
        from reference.simplification_commitments
        order by commitment_id
    """,
    # Returns waiting for a decision are held out of the figures (int_council_returns_deduplicated);
    # the pack says so for its cycle. A pack is regenerated on every run, so this is the queue as it is now.
    "held_for_review": """
        select financial_year, return_type, council_code
        from staging.stg_ingest__review_items
        where decision = 'pending'
        order by financial_year, return_type, council_code
    """,
    "status_updates": """
        select commitment_id, as_at_date, commitment_status
        from staging.stg_simplification__status_updates
        order by commitment_id, as_at_date, manifest_id, source_row_number
    """,
}

# Okabe-Ito: distinguishable with the common colour-vision deficiencies.
BLUE, SKY, ORANGE, GREEN, VERMILLION, PURPLE, GREY, INK = (
    "#0072B2",
    "#56B4E9",
    "#E69F00",
    "#009E73",
    "#D55E00",
    "#CC79A7",
    "#8C8C8C",
    "#1F1F1F",
)
STATUS_ORDER = ("delivered", "on_track", "at_risk", "not_started", "dropped", "no_update")
STATUS_LABELS = {
    "delivered": "Delivered",
    "on_track": "On track",
    "at_risk": "At risk",
    "not_started": "Not started",
    "dropped": "Dropped",
    "no_update": "No update yet",
    "overdue": "Overdue",
}
STATUS_COLOURS = {
    "delivered": GREEN,
    "on_track": BLUE,
    "at_risk": ORANGE,
    "not_started": GREY,
    "dropped": PURPLE,
    "no_update": "#D9D9D9",
    "overdue": VERMILLION,
}
FINISHED_STATUSES = ("delivered", "dropped")
SVG_WIDTH = 760
FONT = "system-ui, -apple-system, 'Segoe UI', Roboto, Arial, sans-serif"


@dataclass(frozen=True)
class BoardData:
    """The rows of every query in ``QUERIES``, as dicts, keyed by query name."""

    rows: dict[str, list[dict[str, Any]]]

    def __getitem__(self, name: str) -> list[dict[str, Any]]:
        return self.rows[name]


def load_board_data(conn=None) -> BoardData:
    """Run ``QUERIES`` on the warehouse (or on ``conn``)."""
    if conn is None:
        with warehouse.connect() as own:
            return load_board_data(own)
    rows = {}
    for name, query in QUERIES.items():
        cursor = conn.execute(query, {"clock": settings.replay_clock()} if "%(clock)s" in query else None)
        columns = [d.name for d in cursor.description]
        rows[name] = [dict(zip(columns, row, strict=True)) for row in cursor.fetchall()]
    return BoardData(rows)


# ---------------------------------------------------------------------------------------------- public


def cycle_slug(cycle: dict[str, Any]) -> str:
    return f"{cycle['financial_year']}_{cycle['return_type']}"


def pack_file_name(cycle: dict[str, Any]) -> str:
    return f"board_pack_{cycle_slug(cycle)}.html"


def reported_cycle_numbers(data: BoardData) -> list[int]:
    """Cycles that have closed with at least one council's return known at their as-at time: those a pack
    is written for (an open cycle's figures are not yet as at its close; releases wait the same way)."""
    reported = {r["cycle_number"] for r in _own_rows(data) if (r["councils_reported"] or 0) > 0}
    return [c["cycle_number"] for c in data["cycles"] if c["is_closed"] and c["cycle_number"] in reported]


def _own_rows(data: BoardData) -> list[dict[str, Any]]:
    """Each cycle's national row as at its own as-at time: what its release and its pack show."""
    return [r for r in data["national"] if r["as_at_cycle_number"] == r["cycle_number"]]


def write_board_pack(
    cycle_number: int, folder: Path, *, generated_at: str | None = None, data: BoardData | None = None
) -> Path:
    """Write ``board_pack_<financial year>_<return type>.html`` for one cycle into ``folder``; return its path."""
    data = load_board_data() if data is None else data
    cycle = _cycle(data, cycle_number)
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / pack_file_name(cycle)
    _write(path, render_board_pack(data, cycle_number, generated_at=generated_at))
    return path


def write_board_packs(folder: Path, *, generated_at: str | None = None, data: BoardData | None = None) -> list[Path]:
    """Write a pack for every cycle with reported data, and ``index.html`` listing them; return the packs."""
    data = load_board_data() if data is None else data
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)  # the index is written even before any cycle has a pack
    paths = [write_board_pack(n, folder, generated_at=generated_at, data=data) for n in reported_cycle_numbers(data)]
    _write(folder / "index.html", render_index(data, generated_at=generated_at))
    return paths


def render_board_pack(data: BoardData, cycle_number: int, *, generated_at: str | None = None) -> str:
    """The pack for one cycle as an HTML string."""
    cycle = _cycle(data, cycle_number)
    view = _CycleView(data, cycle)
    sections = [
        _headline_section(view),
        _national_section(view),
        _regional_section(view),
        _returns_section(view),
        _riep_section(view),
        _commitments_section(view),
    ]
    closed_on = _long_date(cycle["window_end_date"])
    title = f"ICE Programme Board pack: {cycle['cycle_label']}"
    intro = (
        f"The efficiency position as at {as_at_text(cycle)}: NI 179 returns for this cycle and the cycles"
        f" before it as the warehouse held them then, RIEP funding and reports for {cycle['financial_year']},"
        f" and the simplification commitments as last reported on or before {closed_on}."
    )
    return _page(title, intro, "".join(sections), generated_at, data_as_at=as_at_text(cycle))


def as_at_text(cycle: dict[str, Any]) -> str:
    """When a cycle's figures are as at, in words: its close, or the arrival of its latest late return."""
    window = cycle["cycle_label"].split(":")[0]
    closed_on = _long_date(cycle["window_end_date"])
    as_at: datetime | None = cycle["as_at"]
    if as_at is None or as_at <= cycle["closes_at"]:
        return f"the close of the {window} return window (the end of {closed_on})"
    arrived = as_at.astimezone(LONDON)
    return f"{_long_date(arrived)}, {arrived:%H:%M} London time, when this cycle's latest late return arrived"


def render_index(data: BoardData, *, generated_at: str | None = None) -> str:
    rows = []
    national = {r["cycle_number"]: r for r in _own_rows(data)}
    for number in reported_cycle_numbers(data):
        cycle = _cycle(data, number)
        row = national[number]
        key = _key(cycle["financial_year"], cycle["return_type"])
        rows.append(
            "<tr>"
            f'<td><a href="{escape(pack_file_name(cycle))}">{escape(cycle["cycle_label"])}</a></td>'
            f"<td>{escape(as_at_text(cycle))}</td>"
            + _num_td("index", key, "reported_gains_gbp_millions", row["reported_gains_gbp_millions"], _fmt_m)
            + _num_td("index", key, "gap_to_target_gbp_millions", row["gap_to_target_gbp_millions"], _fmt_gap_m)
            + _num_td("index", key, "councils_reported", row["councils_reported"], _fmt_int)
            + "</tr>"
        )
    table = _table(
        "Board packs, one per return cycle",
        ["Return cycle", "As at", "Councils' reported gains", "Against the 3% path", "Councils reported"],
        rows,
    )
    latest = reported_cycle_numbers(data)
    data_as_at = as_at_text(_cycle(data, latest[-1])) if latest else "no closed cycle with returns yet"
    body = f'<section class="card">{table}</section>'
    return _page(
        "ICE Programme Board packs",
        "One pack per closed return cycle, each showing the position as at that cycle (the date beside it).",
        body,
        generated_at,
        data_as_at=data_as_at,
    )


# ---------------------------------------------------------------------------------------- the cycle


class _CycleView:
    """The rows one pack shows: everything as at its cycle."""

    def __init__(self, data: BoardData, cycle: dict[str, Any]):
        self.cycle = cycle
        self.year = cycle["financial_year"]
        self.kind = cycle["return_type"]
        self.window_end: date = cycle["window_end_date"]  # RIEP reports and commitments count to here
        self.cycles = [c for c in data["cycles"] if c["cycle_number"] <= cycle["cycle_number"]]
        # this cycle's and the earlier cycles' national rows as known at this cycle's as-at time
        number = cycle["cycle_number"]
        national = {r["cycle_number"]: r for r in data["national"] if r["as_at_cycle_number"] == number}
        self.national_by_cycle = [
            (c, national[c["cycle_number"]]) for c in self.cycles if c["cycle_number"] in national
        ]
        self.national = national.get(number)
        self.held_for_review = sorted(
            {
                r["council_code"]
                for r in data["held_for_review"]
                if (r["financial_year"], r["return_type"]) == (self.year, self.kind)
            }
        )
        self.targets: dict[str, dict[str, Any]] = {}
        for r in data["national"]:
            self.targets.setdefault(r["financial_year"], r)
        self.years = sorted({c["financial_year"] for c in data["cycles"]} | set(self.targets))
        self.regions = data["regions"]
        self.regional = [
            r for r in data["regional"] if r["financial_year"] == self.year and r["return_type"] == self.kind
        ]
        self.allocations: dict[str, dict[str, Any]] = {}
        for r in data["riep_allocations"]:
            if r["financial_year"] != self.year:
                continue
            entry = self.allocations.setdefault(r["region_code"], {"amount": Decimal(0), "statuses": set()})
            entry["amount"] += r["amount_gbp_thousands"] or 0
            entry["statuses"].add(r["allocation_status"])
        # a RIEP's annual report counts once it had been submitted by the close of the cycle's window
        self.reports = {
            r["region_code"]: r
            for r in data["riep_reports"]
            if r["financial_year"] == self.year
            and r["submitted_date"] is not None
            and r["submitted_date"] <= self.window_end
        }
        latest: dict[str, str] = {}
        for u in data["status_updates"]:  # ordered by as_at_date, then arrival: the last one wins
            if u["as_at_date"] <= self.window_end:
                latest[u["commitment_id"]] = u["commitment_status"]
        self.commitments = [
            {
                **c,
                "status": latest.get(c["commitment_id"], "no_update"),
                "overdue": latest.get(c["commitment_id"], "no_update") not in FINISHED_STATUSES
                and c["due_date"] is not None
                and c["due_date"] < self.window_end,
            }
            for c in data["commitments"]
        ]

    @property
    def year_is_open(self) -> bool:
        """The cycle's financial year had not ended by the cycle's window: its RIEP reports are not yet due."""
        return self.window_end < date(int(self.year[:4]) + 1, 3, 31)

    @property
    def verb(self) -> str:
        return "forecast" if self.kind == "forecast" else "reported"


def _cycle(data: BoardData, cycle_number: int) -> dict[str, Any]:
    for c in data["cycles"]:
        if c["cycle_number"] == cycle_number:
            return c
    known = ", ".join(str(c["cycle_number"]) for c in data["cycles"])
    raise ValueError(f"no return cycle {cycle_number} in marts.return_cycles (known: {known or 'none'})")


# -------------------------------------------------------------------------------------- headline


def _headline_section(v: _CycleView) -> str:
    tiles = []
    key = _key(v.year, v.kind)
    n = v.national
    if n is not None and n["councils_reported"]:
        gap = n["gap_to_target_gbp_millions"]
        tiles.append(
            _tile(
                _fmt_bn(n["reported_gains_gbp_millions"]),
                f"gains {v.verb} by councils for {v.year} ({v.kind})",
                f"{_ahead_behind(gap)} the 3% a year path",
                _data("headline", key, "reported_gains_gbp_millions", n["reported_gains_gbp_millions"]),
                GREEN if gap is not None and gap >= 0 else VERMILLION,
            )
        )
    else:
        tiles.append(_tile("–", f"no returns yet for {v.year} ({v.kind})", "", "", GREY))
    reported_regions = [r for r in v.regional if r["is_on_target_path"] is not None]
    on_path = sum(1 for r in reported_regions if r["is_on_target_path"])
    tiles.append(
        _tile(
            f"{on_path} of {len(reported_regions)}",
            "regions on or ahead of the 3% path",
            f"target {_fmt_pct(v.regional[0]['target_cumulative_rate'])} of baseline" if v.regional else "",
            _data("headline", key, "regions_on_target_path", on_path),
            GREEN if reported_regions and on_path == len(reported_regions) else ORANGE,
        )
    )
    if n is not None:
        tiles.append(
            _tile(
                f"{_fmt_int(n['councils_reported'])} of {_fmt_int(n['councils_expected'])}",
                "councils' returns received",
                f"{_fmt_int(n['councils_missing'])} missing" if n["councils_missing"] else "none missing",
                _data("headline", key, "councils_reported", n["councils_reported"]),
                GREEN if not n["councils_missing"] else ORANGE,
            )
        )
    counts = Counter(c["status"] for c in v.commitments)
    overdue = sum(1 for c in v.commitments if c["overdue"])
    tiles.append(
        _tile(
            f"{counts['delivered']} of {len(v.commitments)}",
            "simplification commitments delivered",
            f"{counts['at_risk']} at risk, {overdue} overdue",
            _data("headline", key, "commitments_delivered", counts["delivered"]),
            ORANGE if overdue or counts["at_risk"] else GREEN,
        )
    )
    return f'<section class="headline" aria-label="Headline figures">{"".join(tiles)}</section>'


def _tile(big: str, label: str, sub: str, attrs: str, colour: str) -> str:
    return (
        f'<div class="tile" style="border-top-color:{colour}">'
        f'<div class="big"{attrs}>{escape(big)}</div>'
        f'<div class="label">{escape(label)}</div>'
        f'<div class="sub">{escape(sub)}</div></div>'
    )


# -------------------------------------------------------------------------------- 1. national


def _national_section(v: _CycleView) -> str:
    chart_id = "national"
    reported = {(c["financial_year"], c["return_type"]): r for c, r in v.national_by_cycle if r["councils_reported"]}
    values = [r["reported_gains_gbp_millions"] for r in reported.values()]
    values += [t["target_gains_gbp_millions"] for t in v.targets.values()]
    top, ticks = _scale(max((float(x) for x in values if x is not None), default=1.0))
    left, right, plot_top, bottom = 80, SVG_WIDTH - 20, 70, 330
    height = 400
    y = _linear(0, top, bottom, plot_top)
    group_w = (right - left) / max(len(v.years), 1)
    bar_w = min(60.0, group_w / 3.2)
    title = "National cumulative gains against the 3% a year target path"
    parts = [_y_axis(ticks, y, left, right, _fmt_bn_short)]
    colours = {"forecast": SKY, "actual": BLUE}
    label_colours = {"forecast": INK, "actual": "#fff"}
    target_points = []
    for i, year in enumerate(v.years):
        cx = left + group_w * (i + 0.5)
        for j, kind in enumerate(("forecast", "actual")):
            x = cx + (j - 1) * bar_w - 2 + 4 * j
            row = reported.get((year, kind))
            if row is None or row["reported_gains_gbp_millions"] is None:
                parts.append(
                    _text(x + bar_w / 2, bottom - 6, "not yet", size=10, fill=GREY, anchor="middle", italic=True)
                )
                continue
            value = row["reported_gains_gbp_millions"]
            parts.append(
                _rect(
                    x,
                    y(float(value)),
                    bar_w,
                    bottom - y(float(value)),
                    colours[kind],
                    f"{year} {kind}: {_fmt_m(value)} ({_fmt_int(row['councils_reported'])} councils)",
                    _data(chart_id, _key(year, kind), "reported_gains_gbp_millions", value),
                )
            )
            label_y = bottom - 8 if bottom - y(float(value)) > 22 else y(float(value)) - 5
            label_fill = label_colours[kind] if label_y == bottom - 8 else INK
            parts.append(_text(x + bar_w / 2, label_y, _fmt_bn(value), 11, "middle", fill=label_fill, weight="600"))
        parts.append(_text(cx, bottom + 18, year, size=12, anchor="middle", weight="600"))
        parts.append(_text(cx, bottom + 32, f"programme year {i + 1}", size=10, fill=GREY, anchor="middle"))
        target = v.targets.get(year)
        if target is not None and target["target_gains_gbp_millions"] is not None:
            target_points.append((cx, y(float(target["target_gains_gbp_millions"])), year, target))
            target_label = f"target {_fmt_bn(target['target_gains_gbp_millions'])}"
            parts.append(_text(cx, bottom + 46, target_label, size=11, fill=INK, anchor="middle"))
    if target_points:
        path = " ".join(f"{x:.1f},{yy:.1f}" for x, yy, _, _ in target_points)
        parts.append(f'<polyline points="{path}" fill="none" stroke="{INK}" stroke-width="2" stroke-dasharray="6 4"/>')
        for x, yy, year, target in target_points:
            value = target["target_gains_gbp_millions"]
            parts.append(
                f'<circle cx="{x:.1f}" cy="{yy:.1f}" r="5" fill="#fff" stroke="{INK}" stroke-width="2"'
                f"{_data(chart_id, year, 'target_gains_gbp_millions', value)}>"
                f"<title>{escape(f'3% a year path for {year}: {_fmt_m(value)}')}</title></circle>"
            )
    parts.append(
        _legend(
            left,
            42,
            [("rect", SKY, "October forecast"), ("rect", BLUE, "July actual"), ("line", INK, "3% a year target path")],
        )
    )
    parts.append(_axis_title_y("gains, £bn, cumulative since April 2008", 18, (plot_top + bottom) / 2))
    svg = _svg(chart_id, title, height, "".join(parts), _national_caption(v))
    rows = []
    for c, r in v.national_by_cycle:
        key = _key(c["financial_year"], c["return_type"])
        rows.append(
            "<tr>"
            f"<td>{escape(c['cycle_label'])}</td>"
            + _num_td(chart_id, key, "councils_reported", r["councils_reported"], _fmt_int)
            + _num_td(chart_id, key, "reported_gains_gbp_millions", r["reported_gains_gbp_millions"], _fmt_m)
            + _num_td(chart_id, key, "target_gains_gbp_millions", r["target_gains_gbp_millions"], _fmt_m)
            + _num_td(chart_id, key, "gap_to_target_gbp_millions", r["gap_to_target_gbp_millions"], _fmt_gap_m)
            + _num_td(chart_id, key, "target_cumulative_rate", r["target_cumulative_rate"], _fmt_pct)
            + _bool_td(chart_id, key, "is_target_met", r["is_target_met"], "met", "not met")
            + "</tr>"
        )
    table = _table(
        "National position, cycle by cycle (£ million, cumulative since April 2008)",
        ["Return cycle", "Councils reported", "Gains", "Target path", "Gap to target", "Target rate", "Path"],
        rows,
    )
    return _section(chart_id, "1. Are councils on the 3% a year path?", svg, _national_caption(v), table)


def _national_caption(v: _CycleView) -> str:
    n = v.national
    if n is None or not n["councils_reported"]:
        return f"No {v.kind} returns for {v.year} have been received yet."
    gap = n["gap_to_target_gbp_millions"]
    return (
        f"Councils {v.verb} {_fmt_bn(n['reported_gains_gbp_millions'])} of gains by {_year_end(v.year)},"
        f" {_ahead_behind(gap)} the 3% a year path ({_fmt_bn(n['target_gains_gbp_millions'])})."
    ) + _held_for_review_text(v)


# ---------------------------------------------------------------------------------- 2. regions


def _regional_section(v: _CycleView) -> str:
    chart_id = "regional"
    rows_sorted = sorted(
        v.regional,
        key=lambda r: (
            r["reported_share_of_baseline"] is None,
            -(r["reported_share_of_baseline"] or 0),
            r["region_name"],
        ),
    )
    rate = v.regional[0]["target_cumulative_rate"] if v.regional else None
    shares = [float(r["reported_share_of_baseline"] or 0) for r in v.regional] + [float(rate or 0)]
    top, ticks = _scale(max(shares, default=0.01) or 0.01, percent=True)
    left, right, plot_top = 200, SVG_WIDTH - 120, 76
    row_h = 30
    bottom = plot_top + row_h * max(len(rows_sorted), 1)
    height = bottom + 60
    x = _linear(0, top, left, right)
    parts = [_x_axis(ticks, x, plot_top, bottom, _fmt_pct_short)]
    for i, r in enumerate(rows_sorted):
        cy = plot_top + row_h * i
        parts.append(_text(left - 8, cy + row_h / 2 + 4, r["region_name"], size=12, anchor="end"))
        share = r["reported_share_of_baseline"]
        if share is None or not r["councils_reported"]:
            parts.append(_text(left + 6, cy + row_h / 2 + 4, "no returns yet", size=11, fill=GREY, italic=True))
            continue
        on_path = bool(r["is_on_target_path"])
        colour = BLUE if on_path else VERMILLION
        tip = (
            f"{r['region_name']}: {_fmt_pct(share)} of baseline ({_fmt_m(r['reported_gains_gbp_millions'])}),"
            f" {'on or ahead of' if on_path else 'behind'} the {_fmt_pct(r['target_cumulative_rate'])} path"
        )
        parts.append(
            _rect(
                left,
                cy + 5,
                x(float(share)) - left,
                row_h - 10,
                colour,
                tip,
                _data(chart_id, r["region_code"], "reported_share_of_baseline", share),
            )
        )
        label = _fmt_pct(share) + ("" if on_path else " (behind)")
        parts.append(_text(right + 10, cy + row_h / 2 + 4, label, size=12, fill=colour, weight="600"))
    if rate is not None:
        xr = x(float(rate))
        parts.append(
            f'<line x1="{xr:.1f}" y1="{plot_top - 6}" x2="{xr:.1f}" y2="{bottom}" stroke="{INK}" stroke-width="2"'
            f' stroke-dasharray="6 4"{_data(chart_id, _key(v.year, v.kind), "target_cumulative_rate", rate)}>'
            f"<title>{escape(f'3% a year path: {_fmt_pct(rate)} of baseline by {_year_end(v.year)}')}</title></line>"
        )
        parts.append(_text(xr, plot_top - 10, f"3% a year path: {_fmt_pct(rate)}", size=11, anchor="middle"))
    parts.append(
        _legend(
            left,
            40,
            [("rect", BLUE, "on or ahead of path"), ("rect", VERMILLION, "behind path"), ("line", INK, "target rate")],
        )
    )
    parts.append(
        _text((left + right) / 2, bottom + 40, "Gains as a share of the region's 2007-08 baseline", 12, "middle")
    )
    title = f"Regions against the 3% a year path, {v.year} {v.kind}"
    caption = _regional_caption(v, rows_sorted, rate)
    svg = _svg(chart_id, title, height, "".join(parts), caption)
    rows = []
    for r in rows_sorted:
        key = r["region_code"]
        rows.append(
            "<tr>"
            f"<td>{escape(r['region_name'])}</td><td>{escape(r['riep_name'] or '')}</td>"
            + _num_td(chart_id, key, "councils_reported", r["councils_reported"], _fmt_int)
            + _num_td(chart_id, key, "councils_expected", r["councils_expected"], _fmt_int)
            + _num_td(chart_id, key, "reported_gains_gbp_millions", r["reported_gains_gbp_millions"], _fmt_m)
            + _num_td(chart_id, key, "reported_share_of_baseline", r["reported_share_of_baseline"], _fmt_pct2)
            + _num_td(chart_id, key, "gap_to_target_gbp_millions", r["gap_to_target_gbp_millions"], _fmt_gap_m)
            + _bool_td(chart_id, key, "is_on_target_path", r["is_on_target_path"], "on path", "behind")
            + "</tr>"
        )
    table = _table(
        f"Regions, {v.year} {v.kind} (£ million, cumulative since April 2008)",
        ["Region", "RIEP", "Councils reported", "Councils expected", "Gains", "Share of baseline", "Gap", "Path"],
        rows,
    )
    return _section(chart_id, "2. Which regions are behind?", svg, caption, table)


def _regional_caption(v: _CycleView, rows_sorted: list[dict[str, Any]], rate: Any) -> str:
    reported = [r for r in rows_sorted if r["is_on_target_path"] is not None]
    if not reported:
        return f"No regional figures for {v.year} {v.kind} yet."
    on_path = [r for r in reported if r["is_on_target_path"]]
    text = (
        f"{len(on_path)} of {len(reported)} regions are on or ahead of the 3% a year path"
        f" ({_fmt_pct(rate)} of baseline by {_year_end(v.year)})"
    )
    behind = [r for r in reported if not r["is_on_target_path"]]
    if behind:
        worst = behind[-1]
        text += f"; furthest behind: {worst['region_name']} at {_fmt_pct(worst['reported_share_of_baseline'])}"
    return text + "."


# ---------------------------------------------------------------------------------- 3. returns


def _returns_section(v: _CycleView) -> str:
    chart_id = "returns"
    items = v.national_by_cycle
    top, ticks = _scale(max((float(r["councils_expected"] or 0) for _, r in items), default=1.0) or 1.0)
    left, right, plot_top, bottom = 70, SVG_WIDTH - 20, 70, 300
    height = 360
    y = _linear(0, top, bottom, plot_top)
    parts = [_y_axis(ticks, y, left, right, _fmt_int)]
    slot = (right - left) / 6 if len(items) <= 6 else (right - left) / len(items)
    bar_w = min(64.0, slot * 0.6)
    for i, (c, r) in enumerate(items):
        key = _key(c["financial_year"], c["return_type"])
        cx = left + slot * (i + 0.5)
        received, missing = r["councils_reported"] or 0, r["councils_missing"] or 0
        y_received = y(float(received))
        parts.append(
            _rect(
                cx - bar_w / 2,
                y_received,
                bar_w,
                bottom - y_received,
                BLUE,
                f"{c['cycle_label']}: {received} of {r['councils_expected']} councils' returns received",
                _data(chart_id, key, "councils_reported", r["councils_reported"]),
            )
        )
        y_missing = y(float(received + missing))
        parts.append(
            _rect(
                cx - bar_w / 2,
                y_missing,
                bar_w,
                y_received - y_missing,
                VERMILLION,
                f"{c['cycle_label']}: {missing} councils' returns missing",
                _data(chart_id, key, "councils_missing", r["councils_missing"]),
            )
        )
        label = f"{received}" + (f" + {missing} missing" if missing else "")
        parts.append(_text(cx, y_missing - 6, label, size=11, anchor="middle"))
        month, _, _ = c["cycle_label"].partition(":")
        parts.append(_text(cx, bottom + 16, month[:3] + " " + month[-4:], size=11, anchor="middle", weight="600"))
        parts.append(_text(cx, bottom + 30, f"{c['financial_year']} {c['return_type']}", 10, "middle", fill=GREY))
    parts.append(_legend(left, 42, [("rect", BLUE, "received"), ("rect", VERMILLION, "missing")]))
    parts.append(_axis_title_y("councils", 18, (plot_top + bottom) / 2))
    caption = _returns_caption(v)
    svg = _svg(chart_id, "Councils' returns received and missing, cycle by cycle", height, "".join(parts), caption)
    rows = []
    for c, r in items:
        key = _key(c["financial_year"], c["return_type"])
        rows.append(
            f"<tr><td>{escape(c['cycle_label'])}</td>"
            + _num_td(chart_id, key, "councils_expected", r["councils_expected"], _fmt_int)
            + _num_td(chart_id, key, "councils_reported", r["councils_reported"], _fmt_int)
            + _num_td(chart_id, key, "councils_missing", r["councils_missing"], _fmt_int)
            + "</tr>"
        )
    table = _table(
        "Returns received, cycle by cycle", ["Return cycle", "Councils expected", "Received", "Missing"], rows
    )
    return _section(chart_id, "3. Have all councils sent their returns?", svg, caption, table)


def _returns_caption(v: _CycleView) -> str:
    n = v.national
    if n is None:
        return "No returns expected for this cycle."
    if not n["councils_missing"]:
        text = f"All {_fmt_int(n['councils_expected'])} councils sent their {v.year} {v.kind} return."
    else:
        text = (
            f"{_fmt_int(n['councils_reported'])} of {_fmt_int(n['councils_expected'])} councils sent their"
            f" {v.year} {v.kind} return; {_fmt_int(n['councils_missing'])} are missing."
        )
    return text + _held_for_review_text(v)


def _held_for_review_text(v: _CycleView) -> str:
    if not v.held_for_review:
        return ""
    held = len(v.held_for_review)
    return (
        f" These figures exclude the latest return of {held} council{'s' if held > 1 else ''}"
        f" ({', '.join(v.held_for_review)}), held for review until an engineer confirms or rejects"
        f" {'them' if held > 1 else 'it'}: the council's previous return stands, or it counts as missing."
    )


# ------------------------------------------------------------------------------------- 4. RIEPs


def _riep_section(v: _CycleView) -> str:
    chart_id = "riep"
    measures = [
        ("allocation_gbp_thousands", "allocation", BLUE),
        ("total_spend_gbp_thousands", "spend", ORANGE),
        ("cash_releasing_savings_gbp_thousands", "attributed savings", GREEN),
    ]
    regions = []
    for region in v.regions:
        code = region["region_code"]
        report = v.reports.get(code)
        allocation = v.allocations.get(code)
        regions.append(
            {
                **region,
                "allocation_gbp_thousands": allocation["amount"] if allocation else None,
                "allocation_status": " and ".join(sorted(allocation["statuses"])) if allocation else None,
                "report": report,
                "total_spend_gbp_thousands": report["total_spend_gbp_thousands"] if report else None,
                "cash_releasing_savings_gbp_thousands": report["cash_releasing_savings_gbp_thousands"]
                if report
                else None,
            }
        )
    values = [float(r[m]) for r in regions for m, _, _ in measures if r[m] is not None]
    top, ticks = _scale(max(values, default=1.0) / 1000 or 1.0)
    left, right, plot_top = 200, SVG_WIDTH - 70, 60
    bar_h, group_h = 10, 42
    bottom = plot_top + group_h * max(len(regions), 1)
    height = bottom + 60
    x = _linear(0, top, left, right)
    parts = [_x_axis(ticks, x, plot_top, bottom, _fmt_m_short)]
    for i, r in enumerate(regions):
        gy = plot_top + group_h * i + 4
        parts.append(_text(left - 8, gy + 1.5 * bar_h + 5, r["region_name"], size=12, anchor="end"))
        for j, (measure, label, colour) in enumerate(measures):
            value = r[measure]
            by = gy + j * (bar_h + 1)
            if value is None:
                if measure != "allocation_gbp_thousands" and j == 1:
                    parts.append(
                        _text(
                            left + 6,
                            by + bar_h + 2,
                            _missing_report_text(v, short=True),
                            size=11,
                            fill=GREY if v.year_is_open else VERMILLION,
                            italic=True,
                        )
                    )
                continue
            millions = float(value) / 1000
            parts.append(
                _rect(
                    left,
                    by,
                    max(x(millions) - left, 0.5),
                    bar_h,
                    colour,
                    f"{r['riep_name']}: {label} £{millions:,.1f}m",
                    _data(chart_id, r["region_code"], measure, value),
                )
            )
            parts.append(_text(x(millions) + 4, by + bar_h - 0.5, f"£{millions:,.1f}m", size=10, fill=INK))
    parts.append(_legend(left, 42, [("rect", c, label) for _, label, c in measures]))
    parts.append(_text((left + right) / 2, bottom + 40, f"£ million, {v.year}", 12, "middle"))
    caption = _riep_caption(v, regions)
    title = f"RIEP allocations against spend and attributed savings, {v.year}"
    svg = _svg(chart_id, title, height, "".join(parts), caption)
    rows = []
    for r in regions:
        key, report = r["region_code"], r["report"]
        cells = [
            f"<td>{escape(r['riep_name'] or r['region_name'])}</td>",
            _num_td(chart_id, key, "allocation_gbp_thousands", r["allocation_gbp_thousands"], _fmt_k),
            f"<td>{escape(r['allocation_status'] or '')}</td>",
        ]
        if report is None:
            cells.append(
                f'<td colspan="4" class="{"pending" if v.year_is_open else "missing"}"'
                f"{_data(chart_id, key, 'report', None)}>{escape(_missing_report_text(v))}</td>"
            )
        else:
            standards = (
                f"{report['standards_met']} met, {report['standards_partly_met']} partly,"
                f" {report['standards_not_met']} not met"
            )
            cells += [
                _num_td(chart_id, key, "total_spend_gbp_thousands", report["total_spend_gbp_thousands"], _fmt_k),
                _num_td(
                    chart_id,
                    key,
                    "cash_releasing_savings_gbp_thousands",
                    report["cash_releasing_savings_gbp_thousands"],
                    _fmt_k,
                ),
                f"<td{_data(chart_id, key, 'standards_met', report['standards_met'])}>{escape(standards)}</td>",
                f"<td>{escape(_long_date(report['submitted_date']))}</td>",
            ]
        rows.append("<tr>" + "".join(cells) + "</tr>")
    table = _table(
        f"RIEP funding and annual reports, {v.year} (£ thousand)",
        ["RIEP", "Allocation", "Allocation status", "Spend", "Attributed savings", "Minimum standards", "Reported"],
        rows,
    )
    return _section(chart_id, "4. What are the RIEPs doing with their money?", svg, caption, table)


def _missing_report_text(v: _CycleView, short: bool = False) -> str:
    if v.year_is_open:
        return (
            f"annual report due after {_year_end(v.year)}" if short else f"Annual report due after {_year_end(v.year)}"
        )
    when = _short_date(v.window_end) if short else _long_date(v.window_end)
    return f"no annual report received by {when}" if short else f"No annual report for {v.year} received by {when}"


def _riep_caption(v: _CycleView, regions: list[dict[str, Any]]) -> str:
    allocated = sum(float(r["allocation_gbp_thousands"] or 0) for r in regions) / 1000
    reported = [r for r in regions if r["report"] is not None]
    missing = len(regions) - len(reported)
    if not reported:
        due = f": reports fall due after the year ends in {_year_end(v.year)}" if v.year_is_open else ""
        return f"RIEPs were allocated £{allocated:,.1f}m for {v.year}; no annual report is in yet{due}."
    spent = sum(float(r["total_spend_gbp_thousands"] or 0) for r in reported) / 1000
    saved = sum(float(r["cash_releasing_savings_gbp_thousands"] or 0) for r in reported) / 1000
    text = (
        f"RIEPs were allocated £{allocated:,.1f}m for {v.year}; the {len(reported)} that reported spent"
        f" £{spent:,.1f}m and attributed £{saved:,.1f}m of cash-releasing savings to their work"
    )
    if missing:
        text += f"; {missing} RIEP{'s have' if missing > 1 else ' has'} not reported by {_long_date(v.window_end)}"
    return text + "."


# ------------------------------------------------------------------------------- 5. commitments


def _commitments_section(v: _CycleView) -> str:
    chart_id = "commitments"
    counts = Counter(c["status"] for c in v.commitments)
    overdue = [c for c in v.commitments if c["overdue"]]
    total = len(v.commitments)
    left, right, bar_y, bar_h = 20, SVG_WIDTH - 20, 56, 44
    height = 150
    parts = []
    x = left
    scale = (right - left) / max(total, 1)
    for status in STATUS_ORDER:
        n = counts.get(status, 0)
        if not n:
            continue
        w = n * scale
        parts.append(
            _rect(
                x,
                bar_y,
                w,
                bar_h,
                STATUS_COLOURS[status],
                f"{STATUS_LABELS[status]}: {n} of {total}",
                _data(chart_id, status, "commitments", n),
                stroke="#fff",
            )
        )
        text_fill = "#fff" if status in ("delivered", "on_track", "dropped") else INK
        parts.append(_text(x + w / 2, bar_y + bar_h / 2 + 5, str(n), size=14, anchor="middle", fill=text_fill))
        x += w
    legend = [("rect", STATUS_COLOURS[s], f"{STATUS_LABELS[s]} ({counts.get(s, 0)})") for s in STATUS_ORDER]
    legend = [item for item, s in zip(legend, STATUS_ORDER, strict=True) if counts.get(s) or s != "no_update"]
    parts.append(_legend(left, 42, legend))
    overdue_text = f"Overdue (past due date, not delivered or dropped): {len(overdue)}"
    parts.append(
        f"<g{_data(chart_id, 'overdue', 'commitments', len(overdue))}>"
        f'<rect x="{left}" y="{bar_y + bar_h + 18}" width="14" height="14" fill="{VERMILLION}"/>'
        f"<title>{escape(overdue_text)}</title></g>"
    )
    parts.append(_text(left + 20, bar_y + bar_h + 30, overdue_text, size=12))
    parts.append(_text(right, bar_y + bar_h + 30, f"{total} commitments in all", size=12, anchor="end", fill=GREY))
    caption = (
        f"{counts['delivered']} of {total} simplification commitments delivered as at {_long_date(v.window_end)};"
        f" {counts['at_risk']} at risk, {len(overdue)} overdue."
    )
    title = f"Simplification commitments by status as at {_long_date(v.window_end)}"
    svg = _svg(chart_id, title, height, "".join(parts), caption)
    shown = {**counts, "overdue": len(overdue)}
    count_rows = [
        f'<tr><td><span class="swatch" style="background:{STATUS_COLOURS[s]}"></span>{escape(STATUS_LABELS[s])}</td>'
        + _num_td(chart_id, s, "commitments", shown.get(s, 0), _fmt_int)
        + "</tr>"
        for s in (*STATUS_ORDER, "overdue")
        if s != "no_update" or counts.get(s)
    ]
    counts_table = _table("Commitments by status", ["Status", "Commitments"], count_rows)
    open_rows = []
    for c in v.commitments:
        if c["status"] in FINISHED_STATUSES:
            continue
        status = STATUS_LABELS[c["status"]] + (", overdue" if c["overdue"] else "")
        colour = VERMILLION if c["overdue"] else STATUS_COLOURS[c["status"]]
        open_rows.append(
            f"<tr><td>{escape(c['commitment_id'])}</td><td>{escape(c['commitment_text'])}</td>"
            f"<td>{escape(c['owner'] or '')}</td>"
            f"<td>{escape(_long_date(c['due_date']) if c['due_date'] else 'not set')}</td>"
            f"<td{_data(chart_id, c['commitment_id'], 'commitment_status', c['status'])}>"
            f'<span class="swatch" style="background:{colour}"></span>{escape(status)}</td></tr>'
        )
    open_table = _table(
        "Commitments not yet delivered", ["", "Commitment", "Owner", "Due", "Status"], open_rows, css="wide"
    )
    return _section(chart_id, "5. Is support being simplified as promised?", svg, caption, counts_table + open_table)


# ------------------------------------------------------------------------------------ drawing


def _scale(value: float, percent: bool = False) -> tuple[float, list[float]]:
    """A round top for an axis just above ``value`` and its tick values (4 to 6 steps)."""
    value = max(float(value), 1e-9) * 1.08
    exponent = math.floor(math.log10(value))
    step = 10**exponent
    for multiple in (0.1, 0.2, 0.25, 0.5, 1, 2, 2.5, 5, 10):
        candidate = multiple * 10**exponent
        if value / candidate <= 6:
            step = candidate
            break
    top = math.ceil(value / step - 1e-9) * step
    ticks = [round(i * step, 10) for i in range(int(round(top / step)) + 1)]
    return top, ticks


def _linear(v0: float, v1: float, p0: float, p1: float):
    def scale(value: float) -> float:
        return p0 + (value - v0) * (p1 - p0) / ((v1 - v0) or 1)

    return scale


def _svg(chart_id: str, title: str, height: float, body: str, description: str) -> str:
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {SVG_WIDTH} {height:.0f}" width="{SVG_WIDTH}"'
        f' height="{height:.0f}" role="img" aria-label="{escape(title)}" aria-describedby="{chart_id}-caption"'
        f' data-chart="{chart_id}" font-family="{escape(FONT)}">'
        f"<title>{escape(title)}</title><desc>{escape(description)}</desc>"
        f'<text x="{SVG_WIDTH / 2:.0f}" y="16" font-size="15" font-weight="700" text-anchor="middle"'
        f' fill="{INK}">{escape(title)}</text>'
        f"{body}</svg>"
    )


def _rect(x: float, y: float, w: float, h: float, fill: str, tip: str, attrs: str, stroke: str | None = None) -> str:
    outline = f' stroke="{stroke}" stroke-width="1"' if stroke else ""
    return (
        f'<rect x="{x:.1f}" y="{y:.1f}" width="{max(w, 0):.1f}" height="{max(h, 0):.1f}" fill="{fill}"{outline}'
        f"{attrs}><title>{escape(tip)}</title></rect>"
    )


def _text(
    x: float,
    y: float,
    text: str,
    size: int = 12,
    anchor: str = "start",
    fill: str = INK,
    weight: str | None = None,
    italic: bool = False,
) -> str:
    extra = (f' font-weight="{weight}"' if weight else "") + (' font-style="italic"' if italic else "")
    return (
        f'<text x="{x:.1f}" y="{y:.1f}" font-size="{size}" text-anchor="{anchor}" fill="{fill}"{extra}>'
        f"{escape(text)}</text>"
    )


def _y_axis(ticks: Sequence[float], y, left: float, right: float, fmt) -> str:
    parts = []
    for t in ticks:
        yy = y(t)
        parts.append(f'<line x1="{left}" y1="{yy:.1f}" x2="{right}" y2="{yy:.1f}" stroke="#E5E5E5"/>')
        parts.append(_text(left - 6, yy + 4, fmt(t), size=10, anchor="end", fill=GREY))
    parts.append(f'<line x1="{left}" y1="{y(0):.1f}" x2="{right}" y2="{y(0):.1f}" stroke="{INK}"/>')
    return "".join(parts)


def _x_axis(ticks: Sequence[float], x, top: float, bottom: float, fmt) -> str:
    parts = []
    for t in ticks:
        xx = x(t)
        parts.append(f'<line x1="{xx:.1f}" y1="{top}" x2="{xx:.1f}" y2="{bottom}" stroke="#E5E5E5"/>')
        parts.append(_text(xx, bottom + 16, fmt(t), size=10, anchor="middle", fill=GREY))
    parts.append(f'<line x1="{x(0):.1f}" y1="{top}" x2="{x(0):.1f}" y2="{bottom}" stroke="{INK}"/>')
    return "".join(parts)


def _axis_title_y(text: str, x: float, y: float) -> str:
    return (
        f'<text transform="translate({x:.1f} {y:.1f}) rotate(-90)" font-size="12" text-anchor="middle"'
        f' fill="{INK}">{escape(text)}</text>'
    )


def _legend(x: float, y: float, items: Iterable[tuple[str, str, str]]) -> str:
    parts = ['<g class="legend">']
    for kind, colour, label in items:
        if kind == "line":
            parts.append(
                f'<line x1="{x:.1f}" y1="{y - 4:.1f}" x2="{x + 22:.1f}" y2="{y - 4:.1f}" stroke="{colour}"'
                f' stroke-width="2" stroke-dasharray="6 4"/>'
            )
            x += 28
        else:
            parts.append(f'<rect x="{x:.1f}" y="{y - 10:.1f}" width="12" height="12" fill="{colour}"/>')
            x += 17
        parts.append(_text(x, y, label, size=11))
        x += 7 * len(label) + 18
    parts.append("</g>")
    return "".join(parts)


# --------------------------------------------------------------------------------------- html


STYLE = f"""
*{{box-sizing:border-box}}
body{{margin:0;background:#F4F4F4;color:{INK};font:16px/1.45 {FONT}}}
header,main,footer{{max-width:1040px;margin:0 auto;padding:0 20px}}
header{{padding-top:24px}} h1{{margin:0 0 4px;font-size:26px}} h2{{font-size:21px;margin:0 0 10px}}
.intro{{color:#444;margin:0 0 16px}} .asat{{color:#444;font-size:14px}}
.headline{{display:grid;grid-template-columns:repeat(auto-fit,minmax(210px,1fr));gap:12px;margin:16px 0}}
.tile{{background:#fff;border-top:6px solid {GREY};padding:14px 16px;border-radius:4px}}
.tile .big{{font-size:32px;font-weight:700;line-height:1.1;white-space:nowrap}}
.tile .label{{font-size:15px}} .tile .sub{{font-size:14px;color:#555}}
.card{{background:#fff;padding:18px 20px;margin:0 0 18px;border-radius:4px;break-inside:avoid}}
figure{{margin:0}} svg{{max-width:100%;height:auto;display:block}}
figcaption{{font-size:17px;margin:8px 0 12px;font-weight:600}}
table{{border-collapse:collapse;font-size:14px;margin:8px 0 6px;min-width:50%}}
table.wide{{width:100%}}
caption{{text-align:left;font-weight:600;padding:4px 0;color:#444}}
th,td{{border-bottom:1px solid #DDD;padding:4px 10px;text-align:left;vertical-align:top}}
td.num{{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}}
td.missing{{color:{VERMILLION};font-style:italic}} td.pending{{color:#555;font-style:italic}}
.swatch{{display:inline-block;width:11px;height:11px;margin-right:6px;vertical-align:baseline}}
details summary{{cursor:pointer;color:#444;font-size:14px}}
footer{{font-size:13px;color:#555;padding-bottom:30px}}
@media print{{body{{background:#fff}} .card{{break-inside:avoid;page-break-inside:avoid}}}}
"""


def _page(title: str, intro: str, body: str, generated_at: str | None, data_as_at: str) -> str:
    generated = f"; generated {escape(generated_at)}" if generated_at else ""
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en-GB">\n<head>\n<meta charset="utf-8">\n'
        f"{settings.CSP_META}\n"
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{escape(title)}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n"
        f'<header><h1>{escape(title)}</h1><p class="intro">{escape(intro)}</p>'
        f'<p class="asat">Data as at {escape(data_as_at)}{generated}</p></header>\n'
        f"<main>\n{body}\n</main>\n"
        "<footer><p>Source: the national efficiency-returns warehouse (marts.national_efficiency_as_at_cycle,"
        " marts.regional_efficiency_position, marts.return_cycles, RIEP allocations and annual reports,"
        " simplification status updates). Figures are each council's latest accepted return as it had arrived"
        " by the time this page is as at, never one that arrived later. Gains are NI 179: net cash-releasing"
        " gains, cumulative since April 2008, against the 3% a year compounding target on the 2007-08"
        f" baseline.</p><p>Cut-off rule: {escape(CUT_OFF_RULE)}</p></footer>\n"
        "</body>\n</html>\n"
    )


def _section(chart_id: str, heading: str, svg: str, caption: str, table: str) -> str:
    return (
        f'<section class="card" id="{chart_id}"><h2>{escape(heading)}</h2>'
        f'<figure>{svg}<figcaption id="{chart_id}-caption">{escape(caption)}</figcaption></figure>'
        f"{table}</section>\n"
    )


def _table(caption: str, headers: Sequence[str], rows: Sequence[str], css: str = "") -> str:
    head = "".join(f'<th scope="col">{escape(h)}</th>' for h in headers)
    if not rows:
        rows = [f'<tr><td colspan="{len(headers)}">None.</td></tr>']
    cls = f' class="{css}"' if css else ""
    return (
        f"<table{cls}><caption>{escape(caption)}</caption><thead><tr>{head}</tr></thead>"
        f"<tbody>{''.join(rows)}</tbody></table>"
    )


def _data(chart: str, key: str, measure: str, value: Any) -> str:
    attrs = f' data-chart="{escape(chart)}" data-key="{escape(key)}" data-measure="{escape(measure)}"'
    if value is None:
        return attrs + ' data-missing="true"'
    if isinstance(value, bool):
        value = "true" if value else "false"
    return attrs + f' data-value="{escape(str(value))}"'


def _num_td(chart: str, key: str, measure: str, value: Any, fmt) -> str:
    shown = "–" if value is None else fmt(value)
    return f'<td class="num"{_data(chart, key, measure, value)}>{escape(shown)}</td>'


def _bool_td(chart: str, key: str, measure: str, value: bool | None, yes: str, no: str) -> str:
    shown = "–" if value is None else (yes if value else no)
    colour = GREY if value is None else (BLUE if value else VERMILLION)
    return (
        f"<td{_data(chart, key, measure, value)}>"
        f'<span class="swatch" style="background:{colour}"></span>{escape(shown)}</td>'
    )


def _key(*parts: str) -> str:
    return "|".join(parts)


def _write(path: Path, text: str) -> None:
    partial = path.with_name(path.name + ".partial")
    partial.write_text(text, encoding="utf-8", newline="\n")
    partial.replace(path)


# ------------------------------------------------------------------------------------ formats


def _fmt_int(value: Any) -> str:
    return f"{int(value):,}"


def _fmt_m(value: Any) -> str:
    return f"£{float(value):,.1f}m"


def _fmt_m_short(value: Any) -> str:
    return f"£{float(value):,.0f}m" if float(value) < 1000 else f"£{float(value) / 1000:,.1f}bn"


def _fmt_k(value: Any) -> str:
    return f"£{float(value):,.1f}k"


def _fmt_bn_short(value: Any) -> str:
    return f"£{float(value) / 1000:g}bn" if value else "£0"


def _fmt_bn(value: Any) -> str:
    return f"£{float(value) / 1000:,.2f}bn"


def _fmt_gap_m(value: Any) -> str:
    return f"{'+' if float(value) >= 0 else '−'}£{abs(float(value)):,.1f}m"


def _fmt_pct(value: Any) -> str:
    return f"{float(value) * 100:.1f}%"


def _fmt_pct2(value: Any) -> str:
    return f"{float(value) * 100:.2f}%"


def _fmt_pct_short(value: Any) -> str:
    return f"{float(value) * 100:g}%"


def _ahead_behind(gap: Any) -> str:
    if gap is None:
        return "not comparable with"
    gap = float(gap)
    if abs(gap) < 0.5:
        return "exactly on"
    amount = f"£{abs(gap) / 1000:,.2f}bn" if abs(gap) >= 1000 else f"£{abs(gap):,.0f}m"
    return f"{amount} {'ahead of' if gap > 0 else 'behind'}"


def _year_end(financial_year: str) -> str:
    return f"March {int(financial_year[:4]) + 1}"


def _long_date(value: date) -> str:
    return f"{value.day} {value:%B %Y}"


def _short_date(value: date) -> str:
    return f"{value.day} {value:%b %Y}"


# ---------------------------------------------------------------------------------------- cli


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cycle", type=int, help="one cycle (1..6); default: every cycle with returns")
    parser.add_argument("--folder", type=Path, default=None, help="default: <outputs>/board_packs")
    parser.add_argument("--generated-at", default=None, help="text to print as the generation time")
    args = parser.parse_args(argv)
    folder = args.folder or settings.outputs_dir() / "board_packs"
    if args.cycle is not None:
        paths = [write_board_pack(args.cycle, folder, generated_at=args.generated_at)]
    else:
        paths = write_board_packs(folder, generated_at=args.generated_at)
    for path in paths:
        print(path)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
