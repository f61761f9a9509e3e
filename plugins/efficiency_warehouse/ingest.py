"""Ingestion: landing folder -> kept file -> quality gate -> bulk load or quarantine -> manifest.

One file is one transaction: its manifest row, its loaded rows and its quarantined rows commit
together or not at all, so a failure part-way leaves nothing half-loaded and the retry completes.
Content is identified by SHA-256: the same bytes are processed once however often they arrive.
"""

from __future__ import annotations

import hashlib
import io
import json
import logging
import os
import shutil
from collections import Counter
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd
import psycopg
from psycopg import sql

from efficiency_warehouse import settings, warehouse
from efficiency_warehouse.datasets import Dataset
from efficiency_warehouse.readers import UnreadableFile, read_rows
from efficiency_warehouse.schema import ensure_ingest_tables
from efficiency_warehouse.validation import Finding, ValidationOutcome, validate_rows

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class FileResult:
    file_name: str
    file_sha256: str
    status: str  # a manifest status, or "already_processed" when nothing new was recorded
    rows_read: int = 0
    rows_loaded: int = 0
    rows_quarantined: int = 0
    error_message: str | None = None


def landing_folder(dataset: Dataset) -> Path:
    return settings.landing_dir() / dataset.name


def ingest_landing(dataset: Dataset, dag_run_id: str | None = None) -> list[FileResult]:
    """Process every file waiting in the dataset's landing folder, oldest name first."""
    folder = landing_folder(dataset)
    folder.mkdir(parents=True, exist_ok=True)
    paths = sorted(p for p in folder.iterdir() if p.is_file() and not p.name.startswith("."))
    if not paths:
        return []
    with warehouse.connect() as conn:
        ensure_ingest_tables(conn)
        parameters = suite_parameters(conn, dataset)
        results = []
        for path in paths:
            result = ingest_file(conn, dataset, path, parameters, dag_run_id)
            log.info("%s: %s", path.name, result)
            results.append(result)
    return results


def suite_parameters(conn: psycopg.Connection, dataset: Dataset) -> dict[str, list[Any]]:
    """Reference sets the suite checks against, read from the warehouse's reference schema."""
    parameters: dict[str, list[Any]] = {}
    try:
        for name, query in dataset.parameters_sql.items():
            rows = conn.execute(query).fetchall()
            parameters[name] = [row[0] if len(row) == 1 else tuple(row) for row in rows]
    except psycopg.errors.UndefinedTable as error:
        raise RuntimeError(
            "The reference data is not in the warehouse yet: run the reference_data DAG first "
            f"(`make run` does). Detail: {error}"
        ) from error
    finally:
        conn.rollback()
    return parameters


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        for chunk in iter(lambda: stream.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def keep_received_file(path: Path, file_sha256: str) -> Path:
    """Copy the file into the received store, keyed by content hash; idempotent."""
    kept = settings.received_dir() / file_sha256[:2] / file_sha256 / path.name
    if not kept.exists():
        kept.parent.mkdir(parents=True, exist_ok=True)
        partial = kept.with_name(kept.name + ".partial")
        shutil.copyfile(path, partial)
        os.replace(partial, kept)  # atomic: a kept file is always whole
    return kept


def ingest_file(
    conn: psycopg.Connection,
    dataset: Dataset,
    path: Path,
    parameters: dict[str, list[Any]],
    dag_run_id: str | None = None,
) -> FileResult:
    file_sha256 = sha256_of(path)
    kept = keep_received_file(path, file_sha256)
    received_at = datetime.fromtimestamp(path.stat().st_mtime, tz=UTC)
    manifest = {
        "dataset": dataset.name,
        "file_sha256": file_sha256,
        "file_name": path.name,
        "file_size_bytes": path.stat().st_size,
        "received_at": received_at,
        "kept_at_path": str(kept.relative_to(settings.received_dir())),
        "dag_run_id": dag_run_id,
    }
    with conn.transaction():
        conn.execute("select pg_advisory_xact_lock(hashtext(%s))", (f"ingest:{dataset.name}",))
        earlier = conn.execute(
            "select manifest_id, file_name from ingest.load_manifest"
            " where dataset = %s and file_sha256 = %s and status <> 'duplicate'",
            (dataset.name, file_sha256),
        ).fetchone()
        if earlier and earlier[1] == path.name:
            # Processed before (a retry after the landing file could not be removed, or the very
            # same file dropped again): nothing new to record.
            result = FileResult(path.name, file_sha256, "already_processed")
        elif earlier:
            message = f"same content as '{earlier[1]}' (manifest {earlier[0]}): not loaded again"
            _insert_manifest(conn, manifest, "duplicate", 0, 0, 0, message, duplicate_of=earlier[0])
            result = FileResult(path.name, file_sha256, "duplicate", error_message=message)
        else:
            result = _load_new_file(conn, dataset, path, manifest, parameters)
    path.unlink()  # only after the commit: a failed load leaves the file waiting for the retry
    return result


def _load_new_file(
    conn: psycopg.Connection, dataset: Dataset, path: Path, manifest: dict[str, Any], parameters: dict[str, list[Any]]
) -> FileResult:
    try:
        frame = read_rows(path, dataset)
        if frame.empty:
            raise UnreadableFile(
                "no_data_rows", f"'{path.name}' has a header but no data rows: there is nothing to load."
            )
    except UnreadableFile as unreadable:
        manifest_id = _insert_manifest(conn, manifest, "rejected", 0, 0, 0, unreadable.message)
        _quarantine(
            conn,
            manifest_id,
            dataset,
            path.name,
            [Finding(unreadable.rule, "error", unreadable.message, None, None, None)],
            None,
        )
        return FileResult(path.name, manifest["file_sha256"], "rejected", error_message=unreadable.message)

    outcome = validate_rows(frame, dataset.landing_suite, parameters)
    rows_read = len(frame)
    if outcome.file_errors:
        # The file's shape is wrong: no row can be trusted, so every row is quarantined with the reason.
        message = " ".join(f.message for f in outcome.file_errors)
        manifest_id = _insert_manifest(conn, manifest, "rejected", rows_read, 0, rows_read, message)
        findings = [
            Finding(f.rule, f.severity, f.message, row_number, f.column, None)
            for row_number in frame.index
            for f in outcome.file_errors
        ]
        _quarantine(conn, manifest_id, dataset, path.name, findings, frame)
        return FileResult(path.name, manifest["file_sha256"], "rejected", rows_read, 0, rows_read, message)

    bad_rows = outcome.rows_with_errors()
    good = frame.loc[~frame.index.isin(bad_rows)]
    status = "loaded" if not bad_rows else ("loaded_with_quarantine" if len(good) else "rejected")
    message = _summarise(outcome, len(bad_rows), rows_read)
    manifest_id = _insert_manifest(conn, manifest, status, rows_read, len(good), len(bad_rows), message)
    _quarantine(conn, manifest_id, dataset, path.name, [f for f in outcome.findings if f.severity == "error"], frame)
    _copy_rows(conn, dataset, manifest_id, good, outcome.warnings_by_row())
    return FileResult(path.name, manifest["file_sha256"], status, rows_read, len(good), len(bad_rows), message)


def _summarise(outcome: ValidationOutcome, bad_rows: int, rows_read: int) -> str | None:
    if not bad_rows:
        return None
    rules = Counter(f.rule for f in outcome.findings if f.severity == "error")
    return f"{bad_rows} of {rows_read} rows quarantined: " + ", ".join(
        f"{rule} ({n})" for rule, n in rules.most_common()
    )


def _insert_manifest(
    conn: psycopg.Connection,
    manifest: dict[str, Any],
    status: str,
    rows_read: int,
    rows_loaded: int,
    rows_quarantined: int,
    error_message: str | None,
    duplicate_of: int | None = None,
) -> int:
    row = conn.execute(
        """
        insert into ingest.load_manifest
            (dataset, file_sha256, file_name, file_size_bytes, received_at, status,
             rows_read, rows_loaded, rows_quarantined, error_message, duplicate_of, kept_at_path, dag_run_id)
        values
            (%(dataset)s, %(file_sha256)s, %(file_name)s, %(file_size_bytes)s, %(received_at)s, %(status)s,
             %(rows_read)s, %(rows_loaded)s, %(rows_quarantined)s, %(error_message)s, %(duplicate_of)s,
             %(kept_at_path)s, %(dag_run_id)s)
        returning manifest_id
        """,
        {
            **manifest,
            "status": status,
            "rows_read": rows_read,
            "rows_loaded": rows_loaded,
            "rows_quarantined": rows_quarantined,
            "error_message": error_message,
            "duplicate_of": duplicate_of,
        },
    ).fetchone()
    return row[0]


def _quarantine(
    conn: psycopg.Connection,
    manifest_id: int,
    dataset: Dataset,
    file_name: str,
    findings: list[Finding],
    frame: pd.DataFrame | None,
) -> None:
    if not findings:
        return
    records: dict[int, str] = {}
    if frame is not None:
        rows = {f.row_number for f in findings if f.row_number is not None}
        subset = frame.loc[sorted(rows)].astype(object)
        subset = subset.where(subset.notna(), None)
        records = {
            int(i): json.dumps(r, ensure_ascii=False)
            for i, r in zip(subset.index, subset.to_dict("records"), strict=True)
        }
    columns = [
        "manifest_id",
        "dataset",
        "file_name",
        "row_number",
        "column_name",
        "offending_value",
        "rule",
        "message",
        "raw_record",
    ]
    with conn.cursor().copy(
        sql.SQL("copy ingest.quarantined_rows ({}) from stdin").format(sql.SQL(", ").join(map(sql.Identifier, columns)))
    ) as copy:
        for f in findings:
            copy.write_row(
                (
                    manifest_id,
                    dataset.name,
                    file_name,
                    f.row_number,
                    f.column,
                    f.value,
                    f.rule,
                    f.message,
                    records.get(f.row_number),
                )
            )


def _copy_rows(
    conn: psycopg.Connection, dataset: Dataset, manifest_id: int, good: pd.DataFrame, warnings: dict[int, list[str]]
) -> None:
    """Bulk-load validated rows with COPY; PostgreSQL casts the checked text to the column types."""
    if good.empty:
        return
    out = good[dataset.column_names].copy()
    out.insert(0, "source_row_number", good.index)
    out.insert(0, "manifest_id", manifest_id)
    out["validation_warnings"] = ["{" + ",".join(warnings[i]) + "}" if i in warnings else "{}" for i in good.index]
    buffer = io.StringIO()
    out.to_csv(buffer, index=False, header=False)
    schema, table = dataset.raw_table.split(".")
    statement = sql.SQL("copy {} ({}) from stdin with (format csv)").format(
        sql.Identifier(schema, table), sql.SQL(", ").join(map(sql.Identifier, out.columns))
    )
    with conn.cursor().copy(statement) as copy:
        copy.write(buffer.getvalue())


def as_dicts(results: list[FileResult]) -> list[dict[str, Any]]:
    return [asdict(result) for result in results]
