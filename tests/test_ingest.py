"""Ingestion against the real embedded warehouse: the GX gate, COPY, quarantine and manifest."""

from __future__ import annotations

import csv
import io
import stat

import pytest

from efficiency_warehouse import ingest, warehouse
from efficiency_warehouse.datasets import COUNCIL_RETURNS

HEADER = [column.name for column in COUNCIL_RETURNS.columns]


def return_row(**values: str) -> dict[str, str]:
    row = dict.fromkeys(HEADER, "")
    row.update(
        council_code="E06000001",
        council_name="Hartlepool Borough Council",
        financial_year="2009-10",
        return_type="forecast",
        ni179_value_gbp_thousands="1234.5",
        submitted_date="2009-10-15",
    )
    row.update(values)
    return row


def csv_bytes(rows: list[dict[str, str]], header: list[str] | None = None) -> bytes:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=header or HEADER, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return buffer.getvalue().encode("utf-8")


def drop(folders, name: str, content: bytes):
    folder = folders["landing"] / COUNCIL_RETURNS.name
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_bytes(content)


def manifest_row(file_name: str) -> dict:
    with warehouse.connect() as conn:
        cursor = conn.execute(
            "select * from ingest.load_manifest where file_name = %s order by manifest_id desc limit 1", (file_name,)
        )
        names = [d.name for d in cursor.description]
        return dict(zip(names, cursor.fetchone(), strict=True))


def quarantine_for(manifest_id: int) -> list[tuple]:
    with warehouse.connect() as conn:
        return conn.execute(
            "select row_number, column_name, offending_value, rule, message from ingest.quarantined_rows"
            " where manifest_id = %s order by row_number nulls first, rule",
            (manifest_id,),
        ).fetchall()


def raw_rows(manifest_id: int) -> list[tuple]:
    with warehouse.connect() as conn:
        return conn.execute(
            "select source_row_number, council_code, ni179_value_gbp_thousands, revenue_gbp_thousands, submitted_date"
            " from raw.council_returns where manifest_id = %s order by source_row_number",
            (manifest_id,),
        ).fetchall()


@pytest.fixture(autouse=True)
def _reference(reference_loaded):
    return reference_loaded


def test_good_file_loads_every_row_with_types(folders):
    rows = [return_row(), return_row(council_code="E07000223", council_name="Adur", revenue_gbp_thousands="100.0")]
    drop(folders, "good.csv", csv_bytes(rows))

    [result] = ingest.ingest_landing(COUNCIL_RETURNS)

    assert (result.status, result.rows_read, result.rows_loaded, result.rows_quarantined) == ("loaded", 2, 2, 0)
    manifest = manifest_row("good.csv")
    loaded = raw_rows(manifest["manifest_id"])
    assert [(r[0], r[1], float(r[2])) for r in loaded] == [(2, "E06000001", 1234.5), (3, "E07000223", 1234.5)]
    assert loaded[1][3] is not None and loaded[0][3] is None  # optional column: empty is NULL
    assert not (folders["landing"] / COUNCIL_RETURNS.name / "good.csv").exists()
    kept = folders["received"] / manifest["kept_at_path"]
    assert kept.read_bytes() == csv_bytes(rows)
    assert stat.S_IMODE(kept.stat().st_mode) == 0o600, "the received store is the owner's only"
    assert {stat.S_IMODE(folder.stat().st_mode) for folder in (kept.parent, kept.parent.parent)} == {0o700}


def test_bad_rows_are_quarantined_with_reasons_and_good_rows_load(folders):
    rows = [
        return_row(council_code="E06000002"),
        return_row(council_code="E07999999"),
        return_row(council_code="E06000003", return_type="outturn"),
        return_row(council_code="E06000004", ni179_value_gbp_thousands="£1,234.5"),
        return_row(council_code="PRE09-05", financial_year="2009-10"),  # Cheshire CC: abolished April 2009
        return_row(
            council_code="E06000049", financial_year="2008-09", submitted_date="2008-10-10"
        ),  # Cheshire East began 2009-10
        return_row(council_code="E06000005", submitted_date="15/10/2009"),
    ]
    drop(folders, "mixed.csv", csv_bytes(rows))

    [result] = ingest.ingest_landing(COUNCIL_RETURNS)

    assert (result.status, result.rows_read, result.rows_loaded, result.rows_quarantined) == (
        "loaded_with_quarantine",
        7,
        1,
        6,
    )
    manifest = manifest_row("mixed.csv")
    assert manifest["rows_read"] == manifest["rows_loaded"] + manifest["rows_quarantined"]
    findings = {
        (row, rule): (column, value, message)
        for row, column, value, rule, message in quarantine_for(manifest["manifest_id"])
    }
    assert set(findings) == {
        (3, "council_code_known"),  # one message: whether it existed that year does not arise
        (4, "return_type_allowed"),
        (5, "ni179_value_is_number"),
        (6, "council_existed_in_year"),
        (7, "council_existed_in_year"),
        (8, "submitted_date_is_date"),
    }
    assert findings[(4, "return_type_allowed")][:2] == ("return_type", "outturn")
    assert "forecast" in findings[(4, "return_type_allowed")][2]
    assert findings[(5, "ni179_value_is_number")][1] == "£1,234.5"
    assert [r[1] for r in raw_rows(manifest["manifest_id"])] == ["E06000002"]


def test_file_with_wrong_columns_is_rejected_and_every_row_kept_in_quarantine(folders):
    content = b"authority,sector,cashable_gain_gbp\nExample,Corporate,125000\nExample,Waste,40000\n"
    drop(folders, "old_layout.csv", content)

    [result] = ingest.ingest_landing(COUNCIL_RETURNS)

    assert (result.status, result.rows_read, result.rows_loaded, result.rows_quarantined) == ("rejected", 2, 0, 2)
    manifest = manifest_row("old_layout.csv")
    quarantined = quarantine_for(manifest["manifest_id"])
    assert {q[0] for q in quarantined} == {2, 3}
    assert all(q[3] == "template_columns" for q in quarantined)
    assert "council_code" in quarantined[0][4] and "authority" in quarantined[0][4]
    with warehouse.connect() as conn:
        record = conn.execute(
            "select raw_record from ingest.quarantined_rows where manifest_id = %s and row_number = 2",
            (manifest["manifest_id"],),
        ).fetchone()[0]
    assert record["cashable_gain_gbp"] == "125000"  # the row's content is kept, nothing lost


@pytest.mark.parametrize(
    ("name", "content", "rule"),
    [
        ("empty.csv", b"", "empty_file"),
        ("header_only.csv", ",".join(HEADER).encode() + b"\n", "no_data_rows"),
        ("returns.pdf", b"%PDF-1.4 not a spreadsheet", "file_format"),
    ],
)
def test_unreadable_file_is_rejected_with_a_file_level_reason(folders, name, content, rule):
    drop(folders, name, content)

    [result] = ingest.ingest_landing(COUNCIL_RETURNS)

    assert result.status == "rejected"
    manifest = manifest_row(name)
    assert (manifest["rows_read"], manifest["rows_loaded"], manifest["rows_quarantined"]) == (0, 0, 0)
    [(row_number, _, _, found_rule, message)] = quarantine_for(manifest["manifest_id"])
    assert (row_number, found_rule) == (None, rule)
    assert name in message
    assert (folders["received"] / manifest["kept_at_path"]).read_bytes() == content


def test_same_content_loads_once_whatever_its_name(folders):
    content = csv_bytes([return_row(council_code="E06000010")])
    drop(folders, "first.csv", content)
    [first] = ingest.ingest_landing(COUNCIL_RETURNS)
    drop(folders, "first.csv", content)  # the same file again
    drop(folders, "renamed.csv", content)  # the same bytes under another name

    results = {r.file_name: r for r in ingest.ingest_landing(COUNCIL_RETURNS)}

    assert first.status == "loaded"
    assert results["first.csv"].status == "already_processed"
    assert results["renamed.csv"].status == "duplicate"
    with warehouse.connect() as conn:
        loaded = conn.execute(
            "select count(*) from raw.council_returns r join ingest.load_manifest m using (manifest_id)"
            " where m.file_sha256 = %s",
            (first.file_sha256,),
        ).fetchone()[0]
        deliveries = conn.execute(
            "select status, rows_read, duplicate_of is not null from ingest.load_manifest"
            " where file_sha256 = %s order by manifest_id",
            (first.file_sha256,),
        ).fetchall()
    assert loaded == 1
    assert deliveries == [("loaded", 1, False), ("duplicate", 0, True)]


def test_duplicate_rows_within_a_file_are_both_stopped(folders):
    rows = [
        return_row(council_code="E06000011"),
        return_row(council_code="E06000011", ni179_value_gbp_thousands="99.0"),
    ]
    drop(folders, "dupes.csv", csv_bytes(rows))

    [result] = ingest.ingest_landing(COUNCIL_RETURNS)

    assert (result.status, result.rows_loaded, result.rows_quarantined) == ("rejected", 0, 2)
    rules = {q[3] for q in quarantine_for(manifest_row("dupes.csv")["manifest_id"])}
    assert rules == {"one_row_per_return"}
