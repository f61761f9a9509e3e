"""The bad-input corpus applied to every dataset: the same damage gets the same clear outcome,
whichever template it hits, because one mechanism serves them all."""

from __future__ import annotations

import random

import pytest
from corpus import csv_bytes, drop, outcome_of, xlsx_bytes

from efficiency_warehouse import ingest
from efficiency_warehouse.datasets import (
    COUNCIL_BASELINES,
    RIEP_ALLOCATIONS,
    RIEP_ANNUAL_REPORTS,
    RIEP_REPORT_SPEND,
    SIMPLIFICATION_STATUS_UPDATES,
)
from efficiency_warehouse.sample_riep_data import allocation_files, report_sections


def baselines_rows():
    return [
        {
            "council_code": code,
            "council_name": "",
            "baseline_year": "2007-08",
            "revenue_gbp_thousands": "1000.0",
            "capital_gbp_thousands": "250.0",
            "source": "",
        }
        for code in ("E06000001", "E06000002", "E06000003")
    ]


def allocation_rows():
    return [dict(r) for r in allocation_files()["riep_allocations_2009-03.csv"][0][:3]]


def spend_rows():
    return report_sections("E12000001", "2009-10", random.Random(3))["riep_report_spend"][:3]


def status_rows():
    return [
        {"commitment_id": c, "as_at_date": "2009-06-30", "status": "on_track", "evidence": "", "reported_by": ""}
        for c in ("SC01", "SC02", "SC03")
    ]


# (landing dataset, the table-shaped part the file fits, valid rows, a money column to damage)
TARGETS = {
    "council_baselines": (COUNCIL_BASELINES, COUNCIL_BASELINES, baselines_rows, "revenue_gbp_thousands"),
    "riep_allocations": (RIEP_ALLOCATIONS, RIEP_ALLOCATIONS, allocation_rows, "amount_gbp_thousands"),
    "riep_report_spend_csv": (RIEP_ANNUAL_REPORTS, RIEP_REPORT_SPEND, spend_rows, "spend_gbp_thousands"),
    "simplification_status_updates": (SIMPLIFICATION_STATUS_UPDATES, SIMPLIFICATION_STATUS_UPDATES, status_rows, None),
}


@pytest.fixture(autouse=True)
def _reference(reference_loaded):
    return reference_loaded


def run(folders, target: str, name: str, content: bytes):
    landing, _, _, _ = TARGETS[target]
    drop(folders["landing"], landing, name, content)
    ingest.ingest_landing(landing)
    outcome = outcome_of(name)
    assert outcome.rows_read == outcome.rows_loaded + outcome.rows_quarantined
    return outcome


@pytest.mark.parametrize("target", TARGETS)
def test_empty_and_header_only_files_are_rejected(folders, target):
    _, part, _, _ = TARGETS[target]
    assert [q[3] for q in run(folders, target, f"{target}_empty.csv", b"").quarantine] == ["empty_file"]
    header_only = run(folders, target, f"{target}_header.csv", csv_bytes(part.column_names, []))
    assert [q[3] for q in header_only.quarantine] == ["no_data_rows"]


@pytest.mark.parametrize("target", TARGETS)
def test_bom_semicolons_and_reordered_columns_load(folders, target):
    _, part, rows, _ = TARGETS[target]
    for name, content in (
        (f"{target}_bom.csv", csv_bytes(part.column_names, rows(), bom=True)),
        (f"{target}_semicolon.csv", csv_bytes(part.column_names, rows(), delimiter=";")),
        (f"{target}_reordered.csv", csv_bytes(list(reversed(part.column_names)), rows())),
    ):
        # The same rows each time, in new bytes: each loads (and supersedes the last in the marts).
        outcome = run(folders, target, name, content)
        assert (outcome.status, outcome.rows_loaded) == ("loaded", 3), name


@pytest.mark.parametrize("target", TARGETS)
def test_unknown_and_missing_columns_reject_the_file(folders, target):
    _, part, rows, _ = TARGETS[target]
    extra = run(folders, target, f"{target}_extra.csv", csv_bytes([*part.column_names, "notes2"], rows()))
    assert extra.status == "rejected"
    assert {q[3] for q in extra.quarantine} == {"template_columns"}
    missing = [c for c in part.column_names if c != part.required_columns[-1]]
    outcome = run(folders, target, f"{target}_missing.csv", csv_bytes(missing, rows()))
    assert outcome.status == "rejected"
    assert part.required_columns[-1] in outcome.quarantine[0][4]


@pytest.mark.parametrize("target", [t for t, spec in TARGETS.items() if spec[3]])
def test_formatted_money_is_quarantined_verbatim(folders, target):
    _, part, rows, money = TARGETS[target]
    damaged = rows()
    damaged[1][money] = "£1,234.5"
    outcome = run(folders, target, f"{target}_money.csv", csv_bytes(part.column_names, damaged))
    if TARGETS[target][0].loaded_whole:  # a RIEP report's section loads whole or not at all
        assert (outcome.status, outcome.rows_loaded, outcome.rows_quarantined) == ("rejected", 0, 3)
        own = [q[:3] for q in outcome.quarantine if q[3] != "report_not_loaded"]
        held_back = [q[0] for q in outcome.quarantine if q[3] == "report_not_loaded"]
        assert (own, held_back) == ([(3, money, "£1,234.5")], [2, 4])
    else:
        assert (outcome.status, outcome.rows_loaded, outcome.rows_quarantined) == ("loaded_with_quarantine", 2, 1)
        assert [(q[0], q[1], q[2]) for q in outcome.quarantine] == [(3, money, "£1,234.5")]


@pytest.mark.parametrize("target", TARGETS)
def test_workbook_with_title_rows_and_not_a_spreadsheet(folders, target):
    landing, part, rows, _ = TARGETS[target]
    if landing.sections:
        pytest.skip("a report workbook needs every sheet: see test_riep_sources.py")
    workbook = xlsx_bytes(part.column_names, rows(), part.landing_sheet, title_rows=2, merged_title=True)
    outcome = run(folders, target, f"{target}_titled.xlsx", workbook)
    assert (outcome.status, outcome.rows_loaded) == ("loaded", 3)
    pdf = run(folders, target, f"{target}.pdf", b"%PDF-1.4 a scan of the form")
    assert [q[3] for q in pdf.quarantine] == ["file_format"]
