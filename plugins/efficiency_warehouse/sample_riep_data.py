"""Deterministic sample RIEP annual reports, funding allocations and simplification status updates.

Sample data only, for the demo and the tests. Allocations for 2009-10 are the real RIEP core funding
figures (£67.5m in all, public record); the other two years are plausible, keeping the three-year
total near the indicative £185m to RIEPs. Reports' attributed savings add up to about £1bn by March
2011, as the 2010 board report expected. Everything else is made up to look like the real thing.
"""

from __future__ import annotations

import csv
import io
import os
import random
import re
import zipfile
from datetime import UTC, datetime
from pathlib import Path

from efficiency_warehouse import settings
from efficiency_warehouse.datasets import (
    RIEP_ALLOCATIONS,
    RIEP_ANNUAL_REPORTS,
    SIMPLIFICATION_STATUS_UPDATES,
    SPEND_THEMES,
)

# RIEP core funding 2009-10, £ thousands (public record; see the domain brief).
CORE_FUNDING_2009_10 = {
    "E12000001": 5674,  # North East
    "E12000002": 8036,  # North West
    "E12000003": 6416,  # Yorkshire and The Humber
    "E12000004": 7159,  # East Midlands
    "E12000005": 7193,  # West Midlands
    "E12000006": 7952,  # East of England
    "E12000007": 7699,  # London (Capital Ambition)
    "E12000008": 9707,  # South East
    "E12000009": 7665,  # South West
}
YEAR_FACTOR = {"2008-09": 0.83, "2009-10": 1.0, "2010-11": 0.91}  # three years ≈ £185m
RSG_TOP_SLICE_SHARE = 114 / 384  # the strategy's £114m of £384m
SAVINGS_BY_YEAR_GBP_THOUSANDS = {"2008-09": 150_000, "2009-10": 330_000, "2010-11": 520_000}  # ≈ £1bn by 2011
COUNCILS_IN_REGION = {
    "E12000001": 12,
    "E12000002": 41,
    "E12000003": 22,
    "E12000004": 45,
    "E12000005": 33,
    "E12000006": 52,
    "E12000007": 33,
    "E12000008": 74,
    "E12000009": 41,
}
PRIORITIES = (
    "Shared back-office services across councils",
    "Collaborative procurement through the regional hub",
    "Asset rationalisation with public sector partners",
    "Support to councils in difficulty",
    "Leadership and member development",
    "Customer access and channel shift",
    "Delivering the Local Area Agreement targets",
)
STANDARD_EVIDENCE = {
    1: "Programme of diagnostic reviews and peer support for councils in difficulty",
    2: "Innovation and efficiency fund supporting LAA delivery projects",
    3: "Member-led board with every council represented; strategy agreed by all leaders",
    4: "Regional strategy based on a needs analysis and a consultation of all councils",
    5: "Annual report to councils and to the LGA/Government/CEXTG governance structure",
}


def _utc(year: int, month: int, day: int) -> datetime:
    return datetime(year, month, day, 9, 0, tzinfo=UTC)


def _csv(rows: list[dict]) -> bytes:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(rows[0]), lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return buffer.getvalue().encode("utf-8")


def _place(folder: Path, name: str, content: bytes, delivered: datetime) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_bytes(content)
    os.utime(path, (delivered.timestamp(), delivered.timestamp()))  # processed in order of arrival
    return path


def allocation_files() -> dict[str, tuple[list[dict], datetime]]:
    """Allocations as set over time: 2008-09 firm and the next two years indicative in March 2008,
    each later year made firm the March before it starts."""

    def rows(year: str, status: str, set_date: str, scale: float = 1.0) -> list[dict]:
        out = []
        for region, core in CORE_FUNDING_2009_10.items():
            total = round(core * YEAR_FACTOR[year] * scale, 1)
            rsg = round(total * RSG_TOP_SLICE_SHARE, 1)
            for stream, amount in (("rsg_top_slice", rsg), ("clg", round(total - rsg, 1))):
                out.append(
                    {
                        "region_code": region,
                        "financial_year": year,
                        "funding_stream": stream,
                        "amount_gbp_thousands": f"{amount:.1f}",
                        "status": status,
                        "set_date": set_date,
                        "note": "",
                    }
                )
        return out

    return {
        "riep_allocations_2008-03.csv": (
            rows("2008-09", "firm", "2008-03-14")
            + rows("2009-10", "indicative", "2008-03-14", 0.96)
            + rows("2010-11", "indicative", "2008-03-14", 0.95),
            _utc(2008, 3, 14),
        ),
        "riep_allocations_2009-03.csv": (rows("2009-10", "firm", "2009-03-20"), _utc(2009, 3, 20)),
        "riep_allocations_2010-03.csv": (rows("2010-11", "firm", "2010-03-19"), _utc(2010, 3, 19)),
    }


def report_sections(region: str, year: str, rng: random.Random) -> dict[str, list[dict]]:
    """One RIEP's annual report for one year, section by section, consistent with its allocation."""
    key = {"region_code": region, "financial_year": year}
    allocation = CORE_FUNDING_2009_10[region] * YEAR_FACTOR[year]
    rsg = round(allocation * RSG_TOP_SLICE_SHARE, 1)
    clg = round(allocation - rsg, 1)
    efficiency_support = round(rng.uniform(1200, 2600), 1)
    funding = [
        key | {"funding_stream": "rsg_top_slice", "amount_gbp_thousands": f"{rsg:.1f}"},
        key | {"funding_stream": "clg_capacity_building", "amount_gbp_thousands": f"{clg:.1f}"},
        key | {"funding_stream": "clg_efficiency_support", "amount_gbp_thousands": f"{efficiency_support:.1f}"},
    ]
    received = round(rsg + clg + efficiency_support, 1)
    total_spend = round(received * rng.uniform(0.86, 0.99), 1)
    weights = [rng.uniform(0.5, 2.0) for _ in SPEND_THEMES]
    spend, spent = [], 0.0
    for theme, weight in zip(SPEND_THEMES, weights, strict=True):
        amount = (
            round(total_spend * weight / sum(weights), 1)
            if theme != SPEND_THEMES[-1]
            else round(total_spend - spent, 1)
        )
        spent += amount
        spend.append(key | {"theme": theme, "spend_gbp_thousands": f"{amount:.1f}"})
    share = CORE_FUNDING_2009_10[region] / sum(CORE_FUNDING_2009_10.values())
    savings = round(SAVINGS_BY_YEAR_GBP_THOUSANDS[year] * share * rng.uniform(0.8, 1.2), 1)
    supported = round(COUNCILS_IN_REGION[region] * rng.uniform(0.6, 1.0))
    standards = [
        key
        | {
            "standard_number": str(number),
            "status": rng.choices(["met", "partly_met", "not_met"], weights=[0.8, 0.17, 0.03])[0],
            "evidence": STANDARD_EVIDENCE[number],
        }
        for number in range(1, 6)
    ]
    priorities = [
        key
        | {
            "priority": priority,
            "rag_status": rng.choices(["green", "amber", "red"], [0.6, 0.3, 0.1])[0],
            "comment": "",
        }
        for priority in rng.sample(PRIORITIES, rng.randint(3, 5))
    ]
    summary = [
        key
        | {
            "total_funding_received_gbp_thousands": f"{received:.1f}",
            "total_spend_gbp_thousands": f"{total_spend:.1f}",
            "cash_releasing_savings_gbp_thousands": f"{savings:.1f}",
            "councils_supported": str(supported),
            "councils_in_difficulty_supported": str(rng.randint(0, min(4, supported))),
            "submitted_date": f"{int(year[:4]) + 1}-06-{rng.randint(10, 30):02d}",
        }
    ]
    return {
        "riep_report_funding": funding,
        "riep_report_spend": spend,
        "riep_report_standards": standards,
        "riep_report_priorities": priorities,
        "riep_report_summary": summary,
    }


def workbook_bytes(sections: dict[str, list[dict]]) -> bytes:
    from openpyxl import Workbook

    book = Workbook()
    for number, part in enumerate(RIEP_ANNUAL_REPORTS.parts):
        sheet = book.active if number == 0 else book.create_sheet()
        sheet.title = part.landing_sheet
        sheet.append(part.column_names)
        for row in sections[part.name]:
            sheet.append([_typed(row.get(column.name, ""), column.sql_type) for column in part.columns])
    buffer = io.BytesIO()
    book.properties.created = book.properties.modified = datetime(2009, 6, 30)
    book.save(buffer)
    return _with_fixed_timestamps(buffer.getvalue())


def _with_fixed_timestamps(workbook: bytes) -> bytes:
    """The same report must give the same bytes (and hash) on every run, so a re-run of `make run`
    redelivers files the manifest already knows: zip entries and the document properties carry the
    time they were written."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(workbook)) as source, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for entry in source.infolist():
            fixed = zipfile.ZipInfo(entry.filename, date_time=(2009, 6, 30, 0, 0, 0))
            fixed.compress_type = zipfile.ZIP_DEFLATED
            content = source.read(entry.filename)
            if entry.filename == "docProps/core.xml":  # openpyxl stamps the save time here too
                content = re.sub(
                    rb"<dcterms:modified([^>]*)>[^<]*<", rb"<dcterms:modified\1>2009-06-30T00:00:00Z<", content
                )
            target.writestr(fixed, content)
    return out.getvalue()


def _typed(value: str, sql_type: str):
    if value == "":
        return None
    if sql_type.startswith("numeric"):
        return float(value)
    if sql_type == "integer":
        return int(value)
    return value


def write_sample_riep_reports(folder: Path | None = None, seed: int = 2008) -> list[Path]:
    """27 workbooks (nine RIEPs, three years), one of them first filed with a standard unanswered
    and then resubmitted, and London's 2010-11 report sent as the CSV alternative (one file per sheet)."""
    folder = folder or settings.landing_dir() / RIEP_ANNUAL_REPORTS.name
    rng = random.Random(seed)
    written = []
    for year in YEAR_FACTOR:
        delivered = _utc(int(year[:4]) + 1, 6, 30)
        for region in CORE_FUNDING_2009_10:
            sections = report_sections(region, year, rng)
            name = f"riep_annual_report_{region}_{year}"
            if region == "E12000007" and year == "2010-11":
                for part in RIEP_ANNUAL_REPORTS.parts:
                    sheet = part.landing_sheet.lower()
                    written.append(_place(folder, f"{name}_{sheet}.csv", _csv(sections[part.name]), delivered))
                continue
            if region == "E12000009" and year == "2009-10":
                incomplete = {**sections, "riep_report_standards": [dict(r) for r in sections["riep_report_standards"]]}
                incomplete["riep_report_standards"][3]["status"] = ""
                written.append(_place(folder, f"{name}.xlsx", workbook_bytes(incomplete), delivered))
                name += "_resubmitted"
                delivered = _utc(2010, 7, 15)
            written.append(_place(folder, f"{name}.xlsx", workbook_bytes(sections), delivered))
            delivered = _utc(int(year[:4]) + 1, 6, 30)
    return written


def write_sample_allocations(folder: Path | None = None) -> list[Path]:
    folder = folder or settings.landing_dir() / RIEP_ALLOCATIONS.name
    return [_place(folder, name, _csv(rows), when) for name, (rows, when) in allocation_files().items()]


# Status of each commitment at each as-at date; a commitment keeps its last status until it changes.
STATUS_HISTORY = {
    "SC01": {"2008-06-30": "on_track", "2008-12-31": "delivered"},
    "SC02": {"2008-06-30": "delivered"},
    "SC03": {"2008-06-30": "delivered"},
    "SC04": {"2008-06-30": "not_started", "2008-12-31": "on_track", "2009-06-30": "at_risk", "2010-06-30": "delivered"},
    "SC05": {"2008-06-30": "on_track", "2008-12-31": "at_risk", "2009-06-30": "delivered"},
    "SC06": {"2008-06-30": "on_track"},
    "SC07": {"2008-06-30": "on_track", "2009-12-31": "at_risk", "2010-12-31": "on_track"},
    "SC08": {"2008-06-30": "not_started", "2009-06-30": "at_risk", "2010-06-30": "dropped"},
    "SC09": {"2008-06-30": "on_track", "2009-12-31": "delivered"},
    "SC10": {"2008-06-30": "on_track", "2009-06-30": "delivered"},
    "SC11": {"2008-06-30": "on_track", "2009-06-30": "delivered"},
    "SC12": {"2008-06-30": "on_track"},
    "SC13": {"2008-06-30": "on_track", "2010-06-30": "delivered"},
    "SC14": {"2008-06-30": "not_started", "2008-12-31": "on_track", "2010-12-31": "delivered"},
    "SC15": {"2008-06-30": "on_track", "2009-06-30": "delivered"},
    "SC16": {"2008-06-30": "on_track"},
}
AS_AT_DATES = ("2008-06-30", "2008-12-31", "2009-06-30", "2009-12-31", "2010-06-30", "2010-12-31", "2011-03-31")


def write_sample_status_updates(folder: Path | None = None) -> list[Path]:
    """One file a half-year from the board secretariat, each giving every commitment's status."""
    folder = folder or settings.landing_dir() / SIMPLIFICATION_STATUS_UPDATES.name
    written = []
    for as_at in AS_AT_DATES:
        rows = []
        for commitment, history in STATUS_HISTORY.items():
            status = [s for date, s in sorted(history.items()) if date <= as_at][-1]
            rows.append(
                {
                    "commitment_id": commitment,
                    "as_at_date": as_at,
                    "status": status,
                    "evidence": f"Board secretariat review, {as_at}",
                    "reported_by": "ICE Programme Board secretariat",
                }
            )
        year, month, day = map(int, as_at.split("-"))
        written.append(_place(folder, f"simplification_status_{as_at}.csv", _csv(rows), _utc(year, month, day)))
    return written
