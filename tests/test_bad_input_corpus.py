"""Bad input, as councils send it: every case gets a clear outcome and loses nothing.

Each test drops one file in the landing folder, runs the real ingest against the embedded
warehouse and asserts what the load manifest, the quarantine and the warnings say.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import random
from collections import Counter
from decimal import Decimal

import openpyxl
import pandas as pd
import pytest
import xlwt
from conftest import PROJECT_ROOT
from corpus import csv_bytes, drop, outcome_of, xlsx_bytes

from efficiency_warehouse import ingest, pipeline, templates, warehouse
from efficiency_warehouse.datasets import COUNCIL_RETURNS, RIEP_ANNUAL_REPORTS
from efficiency_warehouse.sample_riep_data import report_sections

HEADER = COUNCIL_RETURNS.column_names


def valid_rows(n: int = 3) -> list[dict[str, str]]:
    councils = [("E06000001", "Hartlepool"), ("E07000223", "Adur"), ("E08000001", "Bolton"), ("E09000002", "Barking")]
    return [
        dict.fromkeys(HEADER, "")
        | {
            "council_code": code,
            "council_name": name,
            "financial_year": "2009-10",
            "return_type": "forecast",
            "ni179_value_gbp_thousands": f"{1000 + i}.5",
            "submitted_date": "2009-10-15",
        }
        for i, (code, name) in enumerate(councils[:n])
    ]


@pytest.fixture(autouse=True)
def _reference(reference_loaded):
    return reference_loaded


def ingest_one(folders, name: str, content: bytes):
    drop(folders["landing"], COUNCIL_RETURNS, name, content)
    [result] = ingest.ingest_landing(COUNCIL_RETURNS)
    outcome = outcome_of(name)
    assert outcome.rows_read == outcome.rows_loaded + outcome.rows_quarantined
    kept = list(folders["received"].rglob(name))
    assert kept and kept[0].read_bytes() == content, "every file received is kept as received"
    return result, outcome


def loaded_values(file_name: str) -> list[tuple]:
    with warehouse.connect() as conn:
        return conn.execute(
            "select r.source_row_number, r.council_code, r.council_name, r.ni179_value_gbp_thousands::text"
            " from raw.council_returns r join ingest.load_manifest m using (manifest_id)"
            " where m.file_name = %s order by r.source_row_number",
            (file_name,),
        ).fetchall()


def test_empty_file(folders):
    _, outcome = ingest_one(folders, "empty.csv", b"")
    assert (outcome.status, outcome.rows_read) == ("rejected", 0)
    assert [q[3] for q in outcome.quarantine] == ["empty_file"]


def test_header_only(folders):
    _, outcome = ingest_one(folders, "header_only.csv", csv_bytes(HEADER, []))
    assert (outcome.status, outcome.rows_read) == ("rejected", 0)
    assert [q[3] for q in outcome.quarantine] == ["no_data_rows"]


def test_semicolon_delimited_file_loads_with_a_warning(folders):
    _, outcome = ingest_one(folders, "semicolons.csv", csv_bytes(HEADER, valid_rows(), delimiter=";"))
    assert (outcome.status, outcome.rows_loaded) == ("loaded", 3)
    assert [(w[0], w[3]) for w in outcome.warnings] == [(None, "file_not_comma_separated")]


def test_utf8_with_byte_order_mark_loads_cleanly(folders):
    _, outcome = ingest_one(folders, "bom.csv", csv_bytes(HEADER, valid_rows(), bom=True))
    assert (outcome.status, outcome.rows_loaded, outcome.warnings) == ("loaded", 3, [])


def test_latin1_file_loads_with_its_accents_and_a_warning(folders):
    rows = valid_rows(1)
    rows[0]["council_name"] = "Hartlepool Borough Council (Café)"
    _, outcome = ingest_one(folders, "latin1.csv", csv_bytes(HEADER, rows, encoding="latin-1"))
    assert outcome.status == "loaded"
    assert [w[3] for w in outcome.warnings] == ["file_not_utf8"]
    assert loaded_values("latin1.csv")[0][2] == "Hartlepool Borough Council (Café)"


@pytest.mark.parametrize("bad_value", ["£1,234.5", "1 234", "1,234", "12.34"])
def test_formatted_numbers_are_quarantined_verbatim(folders, bad_value):
    rows = valid_rows()
    rows[1]["ni179_value_gbp_thousands"] = bad_value
    name = f"formatted_{abs(hash(bad_value))}.csv"
    _, outcome = ingest_one(folders, name, csv_bytes(HEADER, rows))
    assert (outcome.status, outcome.rows_loaded, outcome.rows_quarantined) == ("loaded_with_quarantine", 2, 1)
    [(row, column, value, rule, message)] = outcome.quarantine
    assert (row, column, value, rule) == (3, "ni179_value_gbp_thousands", bad_value, "ni179_value_is_number")
    assert "no £ sign, commas or spaces" in message


def test_numbers_stored_as_text_in_excel_load(folders):
    content = xlsx_bytes(HEADER, valid_rows(), "Return", as_numbers=False)
    _, outcome = ingest_one(folders, "text_numbers.xlsx", content)
    assert (outcome.status, outcome.rows_loaded) == ("loaded", 3)
    assert [v[3] for v in loaded_values("text_numbers.xlsx")] == ["1000.5", "1001.5", "1002.5"]


def test_excel_with_title_rows_and_merged_cells_above_the_header_loads_with_sheet_row_numbers(folders):
    content = xlsx_bytes(HEADER, valid_rows(), "Return", title_rows=3, merged_title=True, trailing_blank_rows=4)
    _, outcome = ingest_one(folders, "titled.xlsx", content)
    assert (outcome.status, outcome.rows_read, outcome.rows_loaded) == ("loaded", 3, 3)
    assert [v[0] for v in loaded_values("titled.xlsx")] == [5, 6, 7]  # header on row 4


def test_trailing_blank_rows_are_not_rows(folders):
    content = csv_bytes(HEADER, valid_rows()) + b"\n\n,,,,,,,,,\n\n"
    _, outcome = ingest_one(folders, "trailing.csv", content)
    assert (outcome.status, outcome.rows_read, outcome.rows_loaded) == ("loaded", 3, 3)


def test_extra_unknown_column_rejects_the_file_and_keeps_every_row(folders):
    rows = [row | {"directorate": "Finance"} for row in valid_rows()]
    _, outcome = ingest_one(folders, "extra_column.csv", csv_bytes([*HEADER, "directorate"], rows))
    assert (outcome.status, outcome.rows_read, outcome.rows_quarantined) == ("rejected", 3, 3)
    assert {q[3] for q in outcome.quarantine} == {"template_columns"}
    assert "unknown columns: directorate" in outcome.quarantine[0][4]


def test_missing_required_column_rejects_the_file(folders):
    header = [c for c in HEADER if c != "submitted_date"]
    _, outcome = ingest_one(folders, "missing_column.csv", csv_bytes(header, valid_rows()))
    assert (outcome.status, outcome.rows_quarantined) == ("rejected", 3)
    assert "missing required columns: submitted_date" in outcome.quarantine[0][4]


def test_columns_in_another_order_load(folders):
    _, outcome = ingest_one(folders, "reordered.csv", csv_bytes(list(reversed(HEADER)), valid_rows()))
    assert (outcome.status, outcome.rows_loaded) == ("loaded", 3)
    assert [v[1] for v in loaded_values("reordered.csv")] == ["E06000001", "E07000223", "E08000001"]


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("scan.pdf", b"%PDF-1.7\n%\xe2\xe3\xcf\xd3 not a spreadsheet"),
        ("return.docx", b"PK\x03\x04 a word document"),
        ("binary.csv", bytes(range(256)) * 4),
    ],
)
def test_a_file_that_is_not_csv_or_xlsx_is_rejected(folders, name, content):
    _, outcome = ingest_one(folders, name, content)
    assert (outcome.status, outcome.rows_read) == ("rejected", 0)
    [(row, _, _, rule, message)] = outcome.quarantine
    assert (row, rule) == (None, "file_format")
    assert name in message


def test_truncated_file_loads_the_whole_rows_and_stops_the_cut_one(folders):
    content = csv_bytes(HEADER, valid_rows())
    cut = content[: content.rindex(b"2009-10-15")]  # the last row ends mid-value
    _, outcome = ingest_one(folders, "truncated.csv", cut)
    assert (outcome.status, outcome.rows_loaded, outcome.rows_quarantined) == ("loaded_with_quarantine", 2, 1)
    assert 4 in {q[0] for q in outcome.quarantine}
    assert "row_cut_off" in {q[3] for q in outcome.quarantine}


def test_tens_of_thousands_of_rows(folders):
    """30,000 rows: every council's returns for all three years, plus rows for councils that do not exist."""
    with warehouse.connect() as conn:
        keys = conn.execute(
            "select c.council_code, y.financial_year from reference.councils c join reference.financial_years y"
            " on coalesce(c.valid_from_date, '1900-01-01') <= y.year_end_date"
            " and coalesce(c.valid_to_date, '9999-12-31') >= y.year_end_date"
        ).fetchall()
    template = valid_rows(1)[0]
    rows = [
        template | {"council_code": code, "financial_year": year, "return_type": kind, "submitted_date": date}
        for code, year in keys
        for kind, date in (("forecast", f"{year[:4]}-10-20"), ("actual", f"{int(year[:4]) + 1}-07-20"))
    ]
    valid = len(rows)
    rows += [template | {"council_code": f"E07{900000 + n:06d}"} for n in range(30_000 - valid)]

    _, outcome = ingest_one(folders, "big.csv", csv_bytes(HEADER, rows))

    assert (outcome.status, outcome.rows_read, outcome.rows_loaded) == ("loaded_with_quarantine", 30_000, valid)
    assert outcome.rows_quarantined == 30_000 - valid
    assert [q[3] for q in outcome.quarantine] == ["council_code_known"] * (30_000 - valid)


# --- workbooks as a person sees them, written from the project's own Excel template ----------------


def template_book(tmp_path) -> openpyxl.Workbook:
    """The blank template councils are sent (its 'Return' sheet, data validations and data dictionary)."""
    return openpyxl.load_workbook(templates.write_excel_template(COUNCIL_RETURNS, tmp_path / "template.xlsx"))


def fill(sheet, rows: list[dict[str, str]]) -> None:
    """Type rows under the header as a council does in Excel: figures as numbers, dates as dates."""
    header = [cell.value for cell in sheet[1]]
    for number, row in enumerate(rows, start=2):
        for position, column in enumerate(header, start=1):
            value = row.get(column) or None
            if value and column == "ni179_value_gbp_thousands":
                value = float(value)
            elif value and column == "submitted_date":
                value = dt.date.fromisoformat(value)
            sheet.cell(row=number, column=position, value=value)


def copy_of_return(book, title: str, rows: list[dict[str, str]], index: int = 0):
    sheet = book.create_sheet(title, index)
    sheet.append([cell.value for cell in book["Return"][1]])
    fill(sheet, rows)
    return sheet


def saved(book) -> bytes:
    book.active = next(n for n, sheet in enumerate(book.worksheets) if sheet.sheet_state == "visible")
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def as_xls(book: openpyxl.Workbook) -> bytes:
    """The workbook as Excel 2003 saves it ("Excel 97-2003 Workbook"): every sheet's values, dates
    formatted as dates, hidden sheets hidden."""
    out = xlwt.Workbook()
    date = xlwt.easyxf(num_format_str="YYYY-MM-DD")
    for sheet in book.worksheets:
        target = out.add_sheet(sheet.title)
        target.visibility = 0 if sheet.sheet_state == "visible" else 1
        for row in sheet.iter_rows():
            for cell in row:
                if isinstance(cell.value, dt.date):
                    target.write(cell.row - 1, cell.column - 1, cell.value, date)
                elif cell.value is not None:
                    target.write(cell.row - 1, cell.column - 1, cell.value)
    shown = next(n for n, sheet in enumerate(book.worksheets) if sheet.sheet_state == "visible")
    out.active_sheet = shown
    out.get_sheet(shown).set_selected(True)
    buffer = io.BytesIO()
    out.save(buffer)
    return buffer.getvalue()


def as_ods(book: openpyxl.Workbook) -> bytes:
    """The workbook as LibreOffice Calc saves it (OpenDocument): every sheet's values, typed."""
    buffer = io.BytesIO()
    with pd.ExcelWriter(buffer, engine="odf") as writer:
        for sheet in book.worksheets:
            rows = [[cell.value for cell in row] for row in sheet.iter_rows()]
            pd.DataFrame(rows, dtype=object).to_excel(writer, sheet_name=sheet.title, header=False, index=False)
    return buffer.getvalue()


SAVED_AS = {"xlsx": saved, "xls": as_xls, "ods": as_ods}


def stale(rows: list[dict[str, str]]) -> list[dict[str, str]]:
    return [row | {"ni179_value_gbp_thousands": "1.0"} for row in rows]


@pytest.mark.parametrize("kind", ["xlsx", "xls"])
def test_a_hidden_sheet_is_not_read_when_a_visible_one_holds_the_return(folders, tmp_path, kind):
    """The template's 'Return' hidden with last year's figures; the council typed this year's on a copy."""
    book = template_book(tmp_path)
    fill(book["Return"], stale(valid_rows()))
    book["Return"].sheet_state = "hidden"
    copy_of_return(book, "Return (2)", valid_rows())

    _, outcome = ingest_one(folders, f"hidden_return.{kind}", SAVED_AS[kind](book))

    assert (outcome.status, outcome.rows_read, outcome.rows_loaded) == ("loaded", 3, 3)
    assert [v[3] for v in loaded_values(f"hidden_return.{kind}")] == ["1000.5", "1001.5", "1002.5"]
    assert not pipeline.build_marts().get("failed_nodes")
    with warehouse.connect() as conn:
        in_marts = conn.execute(
            "select ni179_value_gbp_thousands::text from marts.council_return_submissions"
            " where file_name = %s order by source_row_number",
            (f"hidden_return.{kind}",),
        ).fetchall()
    assert in_marts == [("1000.5",), ("1001.5",), ("1002.5",)]  # the visible sheet's figures, never the hidden
    [(row, _, sheet, rule, message)] = outcome.warnings
    assert (row, sheet, rule) == (None, "Return (2)", "hidden_sheet_not_read")
    assert "hidden sheet 'Return', which was not read" in message


def test_rows_only_on_a_hidden_sheet_are_not_read_and_the_file_says_so(folders, tmp_path):
    book = template_book(tmp_path)
    fill(book["Return"], valid_rows())
    book["Return"].sheet_state = "hidden"

    _, outcome = ingest_one(folders, "only_hidden.xlsx", saved(book))

    assert (outcome.status, outcome.rows_read, outcome.rows_loaded) == ("rejected", 0, 0)
    [(row, _, _, rule, message)] = outcome.quarantine
    assert (row, rule) == (None, "hidden_sheet")
    assert "only on hidden sheets ('Return'" in message and "Unhide" in message
    assert loaded_values("only_hidden.xlsx") == []


def test_a_workbook_with_two_visible_copies_of_the_return_is_stopped_naming_them(folders, tmp_path):
    book = template_book(tmp_path)
    fill(book["Return"], stale(valid_rows()))
    book["Return"].sheet_state = "hidden"
    copy_of_return(book, "Draft", stale(valid_rows()))
    copy_of_return(book, "Final", valid_rows())

    _, outcome = ingest_one(folders, "two_copies.xlsx", saved(book))

    assert (outcome.status, outcome.rows_read) == ("rejected", 0)
    [(row, _, _, rule, message)] = outcome.quarantine
    assert (row, rule) == (None, "ambiguous_sheets")
    assert "('Final', 'Draft';" in message and "'Return' (hidden)" in message


def test_a_formula_saved_without_its_result_gets_its_own_message(folders, tmp_path):
    """Written by a program that does not calculate (here openpyxl, as many council systems do): the
    figure is a formula with no saved value, which reads as an empty cell."""
    book = template_book(tmp_path)
    sheet = book["Return"]
    fill(sheet, valid_rows())
    header = [cell.value for cell in sheet[1]]
    value_cell = sheet.cell(row=3, column=header.index("ni179_value_gbp_thousands") + 1)
    value_cell.value = "=1000+1.5"

    _, outcome = ingest_one(folders, "formula.xlsx", saved(book))

    assert (outcome.status, outcome.rows_read) == ("rejected", 0)
    [(row, _, _, rule, message)] = outcome.quarantine
    assert (row, rule) == (None, "formula_not_calculated")
    assert f"{value_cell.coordinate} =1000+1.5" in message and "recalculate (F9) and save" in message
    assert "missing" not in message and "empty" not in message


# --- councils named as they were in 2008-11, and one message per problem --------------------------


def test_returns_under_former_gss_codes_count_for_the_council_and_keep_the_code_as_filed(folders, tmp_path):
    """Gateshead and Northumberland filed under the codes they held then (the register's former codes);
    Gateshead's later correction uses today's code and supersedes its first return."""
    filed_then = valid_rows(2)
    filed_then[0] |= {"council_code": "E08000020", "council_name": "Gateshead"}
    filed_then[1] |= {"council_code": "E06000048", "council_name": "Northumberland"}
    book = template_book(tmp_path)
    fill(book["Return"], filed_then)
    _, outcome = ingest_one(folders, "former_codes.xlsx", saved(book))

    assert (outcome.status, outcome.rows_loaded, outcome.quarantine, outcome.warnings) == ("loaded", 2, [], [])
    with warehouse.connect() as conn:
        kept = conn.execute(
            "select council_code, council_code_as_filed from raw.council_returns"
            " join ingest.load_manifest using (manifest_id) where file_name = 'former_codes.xlsx'"
            " order by source_row_number"
        ).fetchall()
    assert kept == [("E08000037", "E08000020"), ("E06000057", "E06000048")]

    correction = valid_rows(1)[0] | {"council_code": "E08000037", "ni179_value_gbp_thousands": "1250.0"}
    book = template_book(tmp_path)
    fill(book["Return"], [correction | {"submitted_date": "2009-10-20"}])
    _, corrected = ingest_one(folders, "gateshead_correction.xlsx", saved(book))
    assert (corrected.status, corrected.rows_loaded) == ("loaded", 1)

    assert not pipeline.build_marts().get("failed_nodes")
    with warehouse.connect() as conn:
        submissions = conn.execute(
            "select council_code, council_code_as_filed, file_name, ni179_value_gbp_thousands::text, is_current"
            " from marts.council_return_submissions"
            " where file_name in ('former_codes.xlsx', 'gateshead_correction.xlsx') order by council_code, received_at"
        ).fetchall()
        positions = conn.execute(
            "select council_code, council_name, forecast_gbp_thousands::text"
            " from marts.council_efficiency_position"
            " where council_code in ('E08000037', 'E06000057', 'E08000020', 'E06000048') and financial_year = '2009-10'"
            " order by council_code"
        ).fetchall()
    assert submissions == [
        ("E06000057", "E06000048", "former_codes.xlsx", "1001.5", True),
        ("E08000037", "E08000020", "former_codes.xlsx", "1000.5", False),
        ("E08000037", "E08000037", "gateshead_correction.xlsx", "1250.0", True),
    ]
    assert positions == [
        ("E06000057", "Northumberland County Council", "1001.5"),
        ("E08000037", "Gateshead Metropolitan Borough Council", "1250.0"),
    ]


def test_an_unknown_code_or_a_miswritten_year_gets_one_message_not_a_cascade(folders):
    rows = valid_rows(4)
    rows[0]["council_code"] = "E08999999"  # no such council
    rows[1]["financial_year"] = "2009/10"  # mis-written year
    rows[2] |= {"council_code": "PRE09-28", "council_name": "Alnwick"}  # abolished April 2009: a real mismatch
    _, outcome = ingest_one(folders, "one_message_each.csv", csv_bytes(HEADER, rows))

    assert (outcome.status, outcome.rows_loaded, outcome.rows_quarantined) == ("loaded_with_quarantine", 1, 3)
    assert [(q[0], q[1], q[2], q[3]) for q in outcome.quarantine] == [
        (2, "council_code", "E08999999", "council_code_known"),
        (3, "financial_year", "2009/10", "financial_year_in_programme"),
        (4, "council_code, financial_year", "PRE09-28 | 2009-10", "council_existed_in_year"),
    ]
    assert "did not exist in that financial year" in outcome.quarantine[2][4]


def test_every_rule_a_suite_depends_on_is_in_that_suite():
    for suite in sorted((PROJECT_ROOT / "expectations").glob("*.json")):
        metas = [e.get("meta", {}) for e in json.loads(suite.read_text())["expectations"]]
        rules = {meta.get("rule") for meta in metas}
        for meta in metas:
            assert set(meta.get("depends_on", [])) <= rules - {meta.get("rule")}, (suite.name, meta["rule"])


# --- a RIEP annual report is one unit --------------------------------------------------------------


def riep_report_workbook(tmp_path, report: dict[str, list[dict]]) -> bytes:
    """The RIEP annual report template (one sheet per section) filled in as a RIEP types it."""
    book = openpyxl.load_workbook(templates.write_excel_template(RIEP_ANNUAL_REPORTS, tmp_path / "riep.xlsx"))
    for part in RIEP_ANNUAL_REPORTS.parts:
        sheet = book[part.landing_sheet]
        header = [cell.value for cell in sheet[1]]
        types = {column.name: column.sql_type for column in part.columns}
        for number, row in enumerate(report[part.name], start=2):
            for position, column in enumerate(header, start=1):
                value = row.get(column) or None
                if value and types[column].startswith("numeric"):
                    value = float(value)
                elif value and types[column] == "integer":
                    value = int(value)
                elif value and types[column] == "date":
                    value = dt.date.fromisoformat(value)
                sheet.cell(row=number, column=position, value=value)
    return saved(book)


def current_riep_report(region: str, year: str) -> tuple:
    assert not pipeline.build_marts().get("failed_nodes")
    with warehouse.connect() as conn:
        return conn.execute(
            "select m.file_name, r.total_spend_gbp_thousands::text, r.spend_by_theme_gbp_thousands::text,"
            " r.funding_by_stream_gbp_thousands::text, r.priorities_green + r.priorities_amber + r.priorities_red,"
            " r.has_every_section"
            " from intermediate.int_riep_reports_current r join ingest.load_manifest m"
            "   on m.manifest_id = r.summary_manifest_id"
            " where r.region_code = %s and r.financial_year = %s",
            (region, year),
        ).fetchone()


def test_a_riep_report_stopped_by_a_report_level_rule_loads_no_section_and_its_correction_loads_whole(
    folders, tmp_path
):
    region, year = "E12000005", "2009-10"
    first = report_sections(region, year, random.Random(1))
    drop(folders["landing"], RIEP_ANNUAL_REPORTS, "wm_report.xlsx", riep_report_workbook(tmp_path, first))
    assert [r.status for r in ingest.ingest_landing(RIEP_ANNUAL_REPORTS)] == ["loaded"]
    as_first_filed = current_riep_report(region, year)
    spend_total = first["riep_report_summary"][0]["total_spend_gbp_thousands"]
    assert as_first_filed[:3] == ("wm_report.xlsx", spend_total, spend_total)

    # The resubmission's spend by theme does not add up to its stated total: a report-level rule.
    second = report_sections(region, year, random.Random(2))
    stated = second["riep_report_summary"][0]["total_spend_gbp_thousands"]
    second["riep_report_summary"][0]["total_spend_gbp_thousands"] = f"{float(stated) + 100:.1f}"
    drop(folders["landing"], RIEP_ANNUAL_REPORTS, "wm_resubmitted.xlsx", riep_report_workbook(tmp_path, second))
    ingest.ingest_landing(RIEP_ANNUAL_REPORTS)

    outcome = outcome_of("wm_resubmitted.xlsx")
    rows = sum(len(section) for section in second.values())
    assert (outcome.status, outcome.rows_read, outcome.rows_loaded, outcome.rows_quarantined) == (
        "rejected",
        rows,
        0,
        rows,
    )
    rules = Counter(q[3] for q in outcome.quarantine)
    assert rules == {"spend_adds_up_to_total": 1, "report_not_loaded": rows - 1}
    held_back = next(q[4] for q in outcome.quarantine if q[3] == "report_not_loaded")
    assert f"({region} {year}) loads whole or not at all" in held_back and "spend_adds_up_to_total (1)" in held_back
    assert current_riep_report(region, year) == as_first_filed  # every section as first filed, none mixed in

    corrected = second | {
        "riep_report_summary": [second["riep_report_summary"][0] | {"total_spend_gbp_thousands": stated}]
    }
    drop(folders["landing"], RIEP_ANNUAL_REPORTS, "wm_corrected.xlsx", riep_report_workbook(tmp_path, corrected))
    [result] = ingest.ingest_landing(RIEP_ANNUAL_REPORTS)
    assert (result.status, result.rows_loaded) == ("loaded", rows)
    funding = f"{sum(float(row['amount_gbp_thousands']) for row in second['riep_report_funding']):.1f}"
    priorities = len(second["riep_report_priorities"])
    assert current_riep_report(region, year) == ("wm_corrected.xlsx", stated, stated, funding, priorities, True)


# --- Excel 97-2003 and OpenDocument: read to the same text as .xlsx ---------------------------------


def raw_rows_of(file_name: str) -> list[tuple]:
    """Every column the warehouse kept of a file's rows, but the file's own manifest id."""
    columns = ", ".join(["source_row_number", *COUNCIL_RETURNS.column_names, "council_code_as_filed"])
    with warehouse.connect() as conn:
        return conn.execute(
            f"select {columns}, validation_warnings from raw.council_returns"  # noqa: S608
            " join ingest.load_manifest using (manifest_id) where file_name = %s order by source_row_number",
            (file_name,),
        ).fetchall()


@pytest.mark.parametrize("kind", ["xls", "ods"])
def test_a_return_saved_as_xls_or_ods_loads_exactly_as_its_xlsx_twin(folders, tmp_path, kind):
    """One return typed into the template, saved as .xlsx and as the older format: the same rows load,
    the same row is quarantined with the same message, cell for cell."""
    councils = [("E06000010", "Hull"), ("E07000026", "Allerdale"), ("E08000003", "Manchester"), ("E09000007", "Camden")]
    rows = [
        row | {"council_code": code, "council_name": name, "financial_year": "2010-11", "submitted_date": "2010-10-20"}
        for row, (code, name) in zip(valid_rows(4), councils, strict=True)
    ]
    rows[0] |= {"revenue_gbp_thousands": "800.5", "comment": "  agreed by the s151 officer  "}  # numbers as text
    rows[1]["ni179_value_gbp_thousands"] = "1000"  # a whole number: 1000, not 1000.0
    rows[2]["ni179_value_gbp_thousands"] = "0.155"  # a percentage slip (15.5%) reads as the fraction it holds
    book = template_book(tmp_path)
    fill(book["Return"], rows)
    header = [cell.value for cell in book["Return"][1]]
    book["Return"].cell(row=5, column=header.index("ni179_value_gbp_thousands") + 1, value="1,234.5")  # text

    _, twin = ingest_one(folders, f"twin_of_{kind}.xlsx", saved(book))
    _, outcome = ingest_one(folders, f"return.{kind}", SAVED_AS[kind](book))

    assert (twin.status, twin.rows_read, twin.rows_loaded, twin.rows_quarantined) == (
        "loaded_with_quarantine",
        4,
        2,
        2,
    )
    assert [q[:4] for q in twin.quarantine] == [
        (4, "ni179_value_gbp_thousands", "0.155", "ni179_value_is_number"),
        (5, "ni179_value_gbp_thousands", "1,234.5", "ni179_value_is_number"),
    ]
    assert outcome == twin
    loaded = raw_rows_of(f"return.{kind}")
    assert loaded == raw_rows_of(f"twin_of_{kind}.xlsx")
    assert [(r[0], r[5], r[6], r[10]) for r in loaded] == [
        (2, Decimal("1000.5"), Decimal("800.5"), "agreed by the s151 officer"),
        (3, Decimal("1000.0"), None, None),
    ]
