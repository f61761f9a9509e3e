"""RIEP annual reports, allocations and simplification status updates through the real ingestion."""

from __future__ import annotations

import io
import random

import openpyxl
import pytest
from corpus import csv_bytes, drop, outcome_of

from efficiency_warehouse import ingest, pipeline, warehouse
from efficiency_warehouse.datasets import (
    RIEP_ALLOCATIONS,
    RIEP_ANNUAL_REPORTS,
    RIEP_REPORT_SPEND,
    RIEP_REPORT_SUMMARY,
    SIMPLIFICATION_STATUS_UPDATES,
)
from efficiency_warehouse.sample_riep_data import allocation_files, report_sections, workbook_bytes


@pytest.fixture(autouse=True)
def _reference(reference_loaded):
    return reference_loaded


def sections(region: str = "E12000001", year: str = "2009-10", seed: int = 1) -> dict[str, list[dict]]:
    return report_sections(region, year, random.Random(seed))


def ingest_report(folders, name: str, content: bytes):
    drop(folders["landing"], RIEP_ANNUAL_REPORTS, name, content)
    [result] = ingest.ingest_landing(RIEP_ANNUAL_REPORTS)
    outcome = outcome_of(name)
    assert outcome.rows_read == outcome.rows_loaded + outcome.rows_quarantined
    return result, outcome


def rows_in(table: str, file_name: str) -> int:
    with warehouse.connect() as conn:
        return conn.execute(
            f"select count(*) from raw.{table} join ingest.load_manifest using (manifest_id) where file_name = %s",  # noqa: S608
            (file_name,),
        ).fetchone()[0]


def test_a_complete_workbook_loads_every_section_into_its_table(folders):
    report = sections("E12000001", "2008-09")
    _, outcome = ingest_report(folders, "ne_2008-09.xlsx", workbook_bytes(report))

    assert (outcome.status, outcome.rows_quarantined) == ("loaded", 0)
    for part in RIEP_ANNUAL_REPORTS.parts:
        assert rows_in(part.name, "ne_2008-09.xlsx") == len(report[part.name])


def test_a_missing_sheet_rejects_the_workbook_naming_it(folders):
    book = openpyxl.load_workbook(io.BytesIO(workbook_bytes(sections("E12000002"))))
    del book["Standards"]
    buffer = io.BytesIO()
    book.save(buffer)

    _, outcome = ingest_report(folders, "missing_sheet.xlsx", buffer.getvalue())

    assert (outcome.status, outcome.rows_read) == ("rejected", 0)
    [(row, _, _, rule, message)] = outcome.quarantine
    assert (row, rule) == (None, "missing_sheet")
    assert "Standards" in message


def test_a_renamed_sheet_is_read_from_the_sheet_with_its_header_and_says_so(folders):
    book = openpyxl.load_workbook(io.BytesIO(workbook_bytes(sections("E12000003"))))
    book["Spend"].title = "Expenditure"
    buffer = io.BytesIO()
    book.save(buffer)

    _, outcome = ingest_report(folders, "renamed_sheet.xlsx", buffer.getvalue())

    assert outcome.status == "loaded"
    assert [(w[3], w[2]) for w in outcome.warnings] == [("sheet_renamed", "Expenditure")]
    assert rows_in("riep_report_spend", "renamed_sheet.xlsx") == 7


def test_a_standard_left_unanswered_stops_the_whole_report(folders):
    report = sections("E12000004")
    report["riep_report_standards"][2]["status"] = ""

    _, outcome = ingest_report(folders, "unanswered.xlsx", workbook_bytes(report))

    rows = sum(len(section) for section in report.values())
    assert (outcome.status, outcome.rows_loaded, outcome.rows_quarantined) == ("rejected", 0, rows)
    rules = {(q[0], q[3]) for q in outcome.quarantine}
    assert (4, "status_present") in rules
    assert {r for _, r in rules} == {"status_present", "all_five_standards_answered", "report_not_loaded"}
    for part in RIEP_ANNUAL_REPORTS.parts:
        assert rows_in(part.name, "unanswered.xlsx") == 0


def test_spend_by_theme_must_add_up_to_the_stated_total(folders):
    report = sections("E12000005")
    report["riep_report_summary"][0]["total_spend_gbp_thousands"] = "999.0"

    _, outcome = ingest_report(folders, "spend_mismatch.xlsx", workbook_bytes(report))

    [(row, column, _, rule, message)] = [q for q in outcome.quarantine if q[3] != "report_not_loaded"]
    assert (row, column, rule) == (2, "spend_by_theme_minus_total", "spend_adds_up_to_total")
    assert "must add up to the stated total" in message


def test_negative_savings_and_an_unknown_riep_are_stopped(folders):
    report = sections("E12000006")
    report["riep_report_summary"][0]["cash_releasing_savings_gbp_thousands"] = "-10.0"
    for row in report["riep_report_priorities"]:
        row["region_code"] = "E12000010"

    _, outcome = ingest_report(folders, "bad_values.xlsx", workbook_bytes(report))

    rules = {q[3] for q in outcome.quarantine}
    assert {"cash_releasing_savings_gbp_thousands_is_number", "region_code_known"} <= rules


def test_the_csv_alternative_one_file_per_section_loads_each_into_its_table(folders):
    report = sections("E12000007", "2010-11")
    for part in RIEP_ANNUAL_REPORTS.parts:  # the summary last, so its total meets the spend already loaded
        name = f"london_2010-11_{part.landing_sheet.lower()}.csv"
        _, outcome = ingest_report(folders, name, csv_bytes(part.column_names, report[part.name]))
        assert (outcome.status, outcome.rows_loaded) == ("loaded", len(report[part.name]))


def test_a_csv_whose_header_fits_no_section_is_rejected_listing_the_sections(folders):
    _, outcome = ingest_report(folders, "mystery.csv", csv_bytes(["region_code", "financial_year", "x"], [{}]))
    [(_, _, _, rule, message)] = outcome.quarantine
    assert rule == "template_columns"
    assert "Spend: region_code, financial_year, theme, spend_gbp_thousands" in message


def test_a_resubmitted_report_supersedes_the_earlier_one_and_both_stay(folders):
    first = sections("E12000008", "2010-11", seed=1)
    second = sections("E12000008", "2010-11", seed=2)
    ingest_report(folders, "se_first.xlsx", workbook_bytes(first))
    ingest_report(folders, "se_resubmitted.xlsx", workbook_bytes(second))

    pipeline.build_marts()

    with warehouse.connect() as conn:
        current = conn.execute(
            "select cash_releasing_savings_gbp_thousands::text, has_every_section"
            " from intermediate.int_riep_reports_current"
            " where region_code = 'E12000008' and financial_year = '2010-11'"
        ).fetchall()
        history = conn.execute(
            "select count(*) from staging.stg_riep__report_summaries"
            " where region_code = 'E12000008' and financial_year = '2010-11'"
        ).fetchone()[0]
    assert current == [(second["riep_report_summary"][0]["cash_releasing_savings_gbp_thousands"], True)]
    assert history == 2


def test_allocations_keep_their_history_and_the_latest_set_stands(folders):
    for name, (rows, _) in allocation_files().items():
        drop(folders["landing"], RIEP_ALLOCATIONS, name, csv_bytes(RIEP_ALLOCATIONS.column_names, rows))
        ingest.ingest_landing(RIEP_ALLOCATIONS)

    pipeline.build_marts()

    with warehouse.connect() as conn:
        versions = conn.execute(
            "select allocation_status, set_date::text, amount_gbp_thousands::text from staging.stg_riep__allocations"
            " where region_code = 'E12000001' and financial_year = '2009-10' and funding_stream = 'clg'"
            " order by set_date"
        ).fetchall()
        current = conn.execute(
            "select allocation_status, versions_count from intermediate.int_riep_allocations_current"
            " where region_code = 'E12000001' and financial_year = '2009-10' and funding_stream = 'clg'"
        ).fetchall()
        envelope = dict(
            conn.execute(
                "select envelope_code, allocated_gbp_thousands from marts.funding_envelope_position"
            ).fetchall()
        )
    assert [v[0] for v in versions] == ["indicative", "firm"]
    assert current == [("firm", 2)]
    # 2009-10 firm allocations are the real RIEP core funding: £67.5m in all.
    with warehouse.connect() as conn:
        total_2009_10 = conn.execute(
            "select sum(amount_gbp_thousands) from intermediate.int_riep_allocations_current"
            " where financial_year = '2009-10'"
        ).fetchone()[0]
    assert float(total_2009_10) == pytest.approx(67_501, abs=1)
    assert float(envelope["rieps_capacity_and_efficiency"]) == pytest.approx(185_000, rel=0.02)


def test_allocations_must_be_positive(folders):
    rows, _ = allocation_files()["riep_allocations_2009-03.csv"]
    rows = [dict(r) for r in rows]
    rows[0]["amount_gbp_thousands"] = "0.0"
    drop(folders["landing"], RIEP_ALLOCATIONS, "zero.csv", csv_bytes(RIEP_ALLOCATIONS.column_names, rows))
    ingest.ingest_landing(RIEP_ALLOCATIONS)
    outcome = outcome_of("zero.csv")
    assert [(q[0], q[3]) for q in outcome.quarantine] == [(2, "amount_gbp_thousands_is_positive")]


def test_status_updates_keep_the_full_history(folders):
    header = SIMPLIFICATION_STATUS_UPDATES.column_names
    for as_at, status in (("2008-06-30", "on_track"), ("2008-12-31", "at_risk"), ("2009-06-30", "delivered")):
        row = {"commitment_id": "SC05", "as_at_date": as_at, "status": status, "evidence": "", "reported_by": ""}
        drop(folders["landing"], SIMPLIFICATION_STATUS_UPDATES, f"status_{as_at}.csv", csv_bytes(header, [row]))
        ingest.ingest_landing(SIMPLIFICATION_STATUS_UPDATES)
    bad = {"commitment_id": "SC99", "as_at_date": "2009-06-30", "status": "finished", "evidence": "", "reported_by": ""}
    drop(folders["landing"], SIMPLIFICATION_STATUS_UPDATES, "status_bad.csv", csv_bytes(header, [bad]))
    ingest.ingest_landing(SIMPLIFICATION_STATUS_UPDATES)

    with warehouse.connect() as conn:
        history = conn.execute(
            "select as_at_date::text, status from raw.simplification_status_updates"
            " where commitment_id = 'SC05' order by as_at_date"
        ).fetchall()
    assert history == [("2008-06-30", "on_track"), ("2008-12-31", "at_risk"), ("2009-06-30", "delivered")]
    assert {q[3] for q in outcome_of("status_bad.csv").quarantine} == {"commitment_id_known", "status_allowed"}


def test_section_spend_sent_alone_is_checked_when_its_summary_arrives(folders):
    report = sections("E12000009", "2008-09")
    spend_only = csv_bytes(RIEP_REPORT_SPEND.column_names, report["riep_report_spend"])
    ingest_report(folders, "sw_spend.csv", spend_only)
    summary = [dict(report["riep_report_summary"][0], total_spend_gbp_thousands="1.0")]

    _, outcome = ingest_report(folders, "sw_summary.csv", csv_bytes(RIEP_REPORT_SUMMARY.column_names, summary))

    assert [q[3] for q in outcome.quarantine] == ["spend_adds_up_to_total"]
