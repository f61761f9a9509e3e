"""Extracts cut from the marts for HM Treasury."""

from __future__ import annotations

import csv
import io
import os
from pathlib import Path

from psycopg import sql

from efficiency_warehouse import settings, warehouse

NATIONAL_EXTRACT_COLUMNS = (
    "financial_year",
    "return_type",
    "councils_expected",
    "councils_reported",
    "reported_gains_gbp_millions",
    "target_cumulative_rate",
    "target_gains_gbp_millions",
    "gap_to_target_gbp_millions",
    "reported_share_of_baseline",
    "is_target_met",
)


def extracts_dir() -> Path:
    return settings.outputs_dir() / "extracts"


def write_table_csv(table: str, columns: tuple[str, ...], order_by: tuple[str, ...], path: Path) -> int:
    """Write ``table`` as RFC 4180 CSV (UTF-8, CRLF); same data, same bytes. Returns the row count."""
    schema, name = table.split(".")
    query = sql.SQL("select {} from {} order by {}").format(
        sql.SQL(", ").join(map(sql.Identifier, columns)),
        sql.Identifier(schema, name),
        sql.SQL(", ").join(map(sql.Identifier, order_by)),
    )
    with warehouse.connect() as conn:
        rows = conn.execute(query).fetchall()
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow(["true" if v is True else "false" if v is False else "" if v is None else v for v in row])
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".partial")
    partial.write_text(buffer.getvalue(), encoding="utf-8", newline="")
    os.replace(partial, path)  # readers never see half a file
    return len(rows)


def write_national_extract() -> dict[str, object]:
    path = extracts_dir() / "national_efficiency_position.csv"
    rows = write_table_csv(
        "marts.national_efficiency_position",
        NATIONAL_EXTRACT_COLUMNS,
        ("programme_year", "return_type"),
        path,
    )
    return {"path": str(path), "rows": rows}
