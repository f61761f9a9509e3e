"""Builders for the bad-input corpus: the same kinds of damage, for any dataset's template.

A corpus case is a file (name and bytes) made from a dataset's valid rows; the tests drop it in the
landing folder, run the real ingest and assert what the manifest and the quarantine say.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from pathlib import Path

import openpyxl

from efficiency_warehouse import ingest, warehouse
from efficiency_warehouse.datasets import COUNCIL_RETURNS, Dataset


@dataclass
class Outcome:
    status: str
    rows_read: int
    rows_loaded: int
    rows_quarantined: int
    quarantine: list[tuple]  # (row_number, column_name, offending_value, rule, message)
    warnings: list[tuple]  # (row_number, column_name, offending_value, rule, message)


def csv_bytes(
    header: list[str], rows: list[dict[str, str]], delimiter: str = ",", encoding: str = "utf-8", bom: bool = False
) -> bytes:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=header, delimiter=delimiter, lineterminator="\n", extrasaction="ignore")
    writer.writeheader()
    writer.writerows(rows)
    data = buffer.getvalue().encode(encoding)
    return (b"\xef\xbb\xbf" + data) if bom else data


def xlsx_bytes(
    header: list[str],
    rows: list[dict[str, str]],
    sheet: str,
    title_rows: int = 0,
    merged_title: bool = False,
    as_numbers: bool = True,
    trailing_blank_rows: int = 0,
) -> bytes:
    """A workbook as a council would fill it: numbers as numbers unless ``as_numbers`` is False."""
    book = openpyxl.Workbook()
    worksheet = book.active
    worksheet.title = sheet
    for n in range(title_rows):
        worksheet.append([f"Efficiency return, title line {n + 1}"])
    if merged_title and title_rows:
        worksheet.merge_cells(start_row=1, start_column=1, end_row=1, end_column=len(header))
    worksheet.append(header)
    for row in rows:
        worksheet.append([_cell(row.get(column, ""), as_numbers) for column in header])
    for _ in range(trailing_blank_rows):
        worksheet.append([None] * len(header))
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _cell(value: str, as_numbers: bool):
    if value == "":
        return None
    if as_numbers:
        try:
            number = float(value)
        except ValueError:
            return value
        return int(number) if number.is_integer() and "." not in value else number
    return value


def drop(landing: Path, dataset: Dataset, name: str, content: bytes) -> Path:
    folder = landing / dataset.name
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_bytes(content)
    return path


def send_return(
    landing: Path, code: str, value, name: str, year: str = "2010-11", kind: str = "actual", submitted="2011-07-20"
) -> None:
    """One council's return, written from the template's columns as a council would send it, and ingested."""
    row = dict.fromkeys(COUNCIL_RETURNS.column_names, "") | {
        "council_code": code,
        "financial_year": year,
        "return_type": kind,
        "ni179_value_gbp_thousands": f"{value:.1f}",
        "submitted_date": submitted,
    }
    drop(landing, COUNCIL_RETURNS, name, csv_bytes(COUNCIL_RETURNS.column_names, [row]))
    assert [r.status for r in ingest.ingest_landing(COUNCIL_RETURNS)] == ["loaded"]


def outcome_of(file_name: str) -> Outcome:
    """What the manifest, the quarantine and the warnings say about the latest file of that name."""
    with warehouse.connect() as conn:
        manifest_id, status, read, loaded, quarantined = conn.execute(
            "select manifest_id, status, rows_read, rows_loaded, rows_quarantined from ingest.load_manifest"
            " where file_name = %s order by manifest_id desc limit 1",
            (file_name,),
        ).fetchone()
        findings = {}
        for table in ("quarantined_rows", "validation_warnings"):
            findings[table] = conn.execute(
                f"select row_number, column_name, offending_value, rule, message from ingest.{table}"  # noqa: S608
                " where manifest_id = %s order by row_number nulls first, rule",
                (manifest_id,),
            ).fetchall()
    return Outcome(status, read, loaded, quarantined, findings["quarantined_rows"], findings["validation_warnings"])
