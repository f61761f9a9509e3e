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
from collections import Counter
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd
import psycopg
from psycopg import sql

from efficiency_warehouse import landing, review, settings, warehouse
from efficiency_warehouse.datasets import Dataset
from efficiency_warehouse.readers import WORKBOOK_SUFFIXES, UnreadableFile, read_rows
from efficiency_warehouse.schema import ensure_ingest_tables
from efficiency_warehouse.validation import Finding, ValidationOutcome, build_data_docs, validate_rows

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class FileResult:
    file_name: str
    file_sha256: str | None  # None: refused, never opened
    status: str  # a manifest status; "already_processed" or "refused_left_in_landing" when nothing was recorded
    rows_read: int = 0
    rows_loaded: int = 0
    rows_quarantined: int = 0
    error_message: str | None = None


def landing_folder(dataset: Dataset) -> Path:
    return settings.landing_dir() / dataset.name


def ingest_landing(dataset: Dataset, dag_run_id: str | None = None) -> list[FileResult]:
    """Process every entry waiting in the dataset's landing folder, in order of arrival
    (efficiency_warehouse.landing says what is opened, what is refused and how arrival is kept)."""
    folder = landing_folder(dataset)
    folder.mkdir(parents=True, exist_ok=True)
    with os.scandir(folder) as entries:
        if next(entries, None) is None:
            return []
    with warehouse.connect() as conn:
        ensure_ingest_tables(conn)
        arrivals = landing.survey(conn, dataset.name, folder)
        if not arrivals:
            return []
        parameters = suite_parameters(conn, dataset)
        results = []
        for arrival in arrivals:
            if not os.path.lexists(arrival.path):
                continue  # taken by a concurrent run (which recorded it) after this one listed the folder
            result = ingest_arrival(conn, dataset, arrival, parameters, dag_run_id)
            log.info("%s: %s", arrival.shown_name, result)
            results.append(result)
    build_data_docs()
    return results


def suite_parameters(conn: psycopg.Connection, dataset: Dataset) -> dict[str, list[Any]]:
    """Reference sets the suite checks against, read from the warehouse's reference schema."""
    parameters: dict[str, list[Any]] = {}
    try:
        queries = {name: query for part in dataset.parts for name, query in part.parameters_sql.items()}
        for name, query in queries.items():
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


def ingest_file(
    conn: psycopg.Connection,
    dataset: Dataset,
    path: Path,
    parameters: dict[str, list[Any]],
    dag_run_id: str | None = None,
) -> FileResult:
    """One file, arriving now: what the bench times. The DAGs go through ``ingest_landing``."""
    info = path.lstat()
    modified_at = datetime.fromtimestamp(info.st_mtime, tz=UTC)
    refusal = landing.refusal_of(path, info)
    arrival = landing.Arrival(
        path.parent, path.name, info.st_size, modified_at, datetime.now(UTC), info.st_ino, refusal
    )
    return ingest_arrival(conn, dataset, arrival, parameters, dag_run_id)


def ingest_arrival(
    conn: psycopg.Connection,
    dataset: Dataset,
    arrival: landing.Arrival,
    parameters: dict[str, list[Any]],
    dag_run_id: str | None = None,
) -> FileResult:
    manifest = {
        "dataset": dataset.name,
        "file_sha256": None,
        "file_name": arrival.shown_name,
        "file_size_bytes": arrival.size,
        "received_at": arrival.first_seen_at,
        "file_modified_at": arrival.modified_at,
        "kept_at_path": None,
        "set_aside_path": None,
        "dag_run_id": dag_run_id,
    }
    refusal = arrival.refusal
    if refusal is None:
        try:
            file_sha256, kept = landing.keep_received_copy(arrival)
        except landing.CannotOpen as cannot:
            refusal = str(cannot)
    if refusal is not None:
        return _refuse(conn, dataset, arrival, manifest, refusal)
    manifest.update(
        file_sha256=file_sha256,
        file_size_bytes=kept.stat().st_size,
        kept_at_path=str(kept.relative_to(settings.received_dir())),
    )
    name = arrival.shown_name
    with conn.transaction():
        conn.execute("select pg_advisory_xact_lock(hashtext(%s))", (f"ingest:{dataset.name}",))
        landing.forget(conn, dataset.name, arrival)
        earlier = conn.execute(
            "select manifest_id, file_name from ingest.load_manifest"
            " where dataset = %s and file_sha256 = %s and status <> 'duplicate'",
            (dataset.name, file_sha256),
        ).fetchone()
        if earlier and earlier[1] == name:
            # Processed before (a retry after the landing file could not be removed, or the very
            # same file dropped again): nothing new to record.
            result = FileResult(name, file_sha256, "already_processed")
        elif earlier:
            message = f"same content as '{earlier[1]}' (manifest {earlier[0]}): not loaded again"
            _insert_manifest(conn, None, manifest, "duplicate", 0, 0, 0, message, duplicate_of=earlier[0])
            result = FileResult(name, file_sha256, "duplicate", error_message=message)
        else:
            # Read from the kept copy, named as sent: the landing entry is never opened twice.
            result = _load_new_file(conn, dataset, kept, name, manifest, parameters)
    # Only after the commit: a failed load leaves the file waiting for the retry. A concurrent run
    # that processed the same file (serialised by the lock above) may have removed it already.
    landing.remove(arrival)
    return result


def _refuse(
    conn: psycopg.Connection, dataset: Dataset, arrival: landing.Arrival, manifest: dict[str, Any], reason: str
) -> FileResult:
    """Record a landing entry that is never opened, and move it aside as it is."""
    manifest_id = conn.execute(
        "select nextval(pg_get_serial_sequence('ingest.load_manifest', 'manifest_id'))"
    ).fetchone()[0]
    conn.commit()
    moved = landing.set_aside(dataset.name, arrival, manifest_id)
    if moved is None:  # logged: it is seen, and tried, again next run
        return FileResult(arrival.shown_name, None, "refused_left_in_landing", error_message=reason)
    where = moved.relative_to(settings.set_aside_dir())
    message = f"'{arrival.shown_name}' was not read: {reason} It was moved to {where} under the set-aside folder."
    with conn.transaction():
        _insert_manifest(conn, manifest_id, manifest | {"set_aside_path": str(where)}, "refused", 0, 0, 0, message)
        landing.forget(conn, dataset.name, arrival)
    return FileResult(arrival.shown_name, None, "refused", error_message=message)


def _load_new_file(
    conn: psycopg.Connection,
    dataset: Dataset,
    kept: Path,
    name: str,
    manifest: dict[str, Any],
    parameters: dict[str, list[Any]],
) -> FileResult:
    # The manifest row is written last, with the final counts; its id is taken now so the file's
    # quarantined rows and warnings can point at it (their foreign keys are checked at commit).
    manifest_id = conn.execute(
        "select nextval(pg_get_serial_sequence('ingest.load_manifest', 'manifest_id'))"
    ).fetchone()[0]
    record = _Recorder(conn, dataset, manifest_id, name, manifest)
    # The kept copy bears the name as sent (cut only if too long for a file system once escaped), so every
    # message names the file as the sender knows it.
    path = kept
    try:
        parts = _read_parts(path, dataset)
    except UnreadableFile as unreadable:
        record.findings(None, [Finding(unreadable.rule, "error", unreadable.message, None, None, None)], None)
        return record.manifest("rejected", 0, 0, 0, unreadable.message)

    rows_read = sum(len(frame) for _, frame in parts)
    received = {part.name: frame for part, frame in parts}  # as read: what the quarantine keeps
    parts = [(part, _with_current_council_codes(part, frame, parameters)) for part, frame in parts]
    landing = {part.name: validate_rows(frame, part.landing_suite, parameters) for part, frame in parts}
    file_errors = [f for part, _ in parts for f in landing[part.name].file_errors]
    if file_errors:
        # The file's shape is wrong: no row can be trusted, so every row is quarantined with the reason.
        message = " ".join(f.message for f in file_errors)
        for part, frame in parts:
            reasons = landing[part.name].file_errors or [
                Finding("file_rejected", "error", f"Not loaded with the rest of the file: {message}", None, None, None)
            ]
            findings = [
                Finding(f.rule, "error", f.message, row, f.column, None) for row in frame.index for f in reasons
            ]
            record.findings(part, findings, received[part.name])
        return record.manifest("rejected", rows_read, 0, rows_read, message)

    checked: dict[str, tuple[list[Finding], set[int]]] = {}
    for part, frame in parts:
        findings = list(landing[part.name].findings) + _file_warnings(frame, path.name) + _incomplete_rows(frame)
        stopped = {f.row_number for f in findings if f.severity == "error" and f.row_number is not None}
        _stage_incoming(conn, part, manifest_id, frame.loc[~frame.index.isin(stopped)], received[part.name])
        checked[part.name] = (findings, stopped)
    for absent in (p for p in dataset.parts if p.name not in checked):  # a CSV carries one section
        nothing = pd.DataFrame(columns=absent.column_names)
        _stage_incoming(conn, absent, manifest_id, nothing, nothing)

    for part, frame in parts:  # staged checks after every section is staged: they may read each other
        findings, stopped = checked[part.name]
        if part.staged_suite and len(stopped) < len(frame):
            staged = validate_rows(_fetch_frame(conn, part.staged_context_sql), part.staged_suite, parameters)
            findings += staged.findings
            stopped |= staged.rows_with_errors()
    if dataset.loaded_whole:
        _stop_every_row_once_one_is_stopped(dataset, parts, checked, name)

    rows_loaded = rows_quarantined = 0
    all_findings: list[Finding] = []
    for part, _ in parts:
        findings, stopped = checked[part.name]
        outcome = ValidationOutcome(part.landing_suite, tuple(findings))
        record.findings(part, findings, received[part.name])
        rows_loaded += _insert_from_incoming(conn, part, stopped, outcome.warnings_by_row())
        review.hold_for_review(conn, part, manifest_id)
        rows_quarantined += len(stopped)
        all_findings += findings
    status = "loaded" if not rows_quarantined else ("loaded_with_quarantine" if rows_loaded else "rejected")
    summary = _summarise(ValidationOutcome(dataset.name, tuple(all_findings)), rows_quarantined, rows_read)
    return record.manifest(status, rows_read, rows_loaded, rows_quarantined, summary)


def _stop_every_row_once_one_is_stopped(
    dataset: Dataset,
    parts: list[tuple[Dataset, pd.DataFrame]],
    checked: dict[str, tuple[list[Finding], set[int]]],
    file_name: str,
) -> None:
    """A delivery that is one document loads whole or not at all: its other rows are stopped, each with
    the reason, so that the last report loaded stands whole until a corrected one arrives."""
    stopped_rows = [(part, row) for part, _ in parts for row in checked[part.name][1]]
    if not stopped_rows:
        return
    rules = Counter(
        f.rule for part, _ in parts for f in checked[part.name][0] if f.severity == "error" and f.row_number is not None
    )
    key = list(dataset.key_columns)  # what names the document: a RIEP's region and year
    reports = sorted(
        {
            " ".join(values)
            for _, frame in parts
            if set(key) <= set(frame.columns)
            for values in frame[key].itertuples(index=False, name=None)
            if all(values)
        }
    )
    reason = (
        f"Not loaded: '{file_name}' ({', '.join(reports) or 'no ' + ' or '.join(key)}) loads whole or not at all, "
        f"as one report, and {len(stopped_rows)} of its rows were stopped ("
        + ", ".join(f"{rule} ({n})" for rule, n in rules.most_common())
        + "; see their messages). Correct them and send the whole report again; until then the report "
        "loaded before it stands."
    )
    for part, frame in parts:
        findings, stopped = checked[part.name]
        held_back = [int(row) for row in frame.index if row not in stopped]
        findings += [Finding("report_not_loaded", "error", reason, row, None, None) for row in held_back]
        stopped.update(held_back)


def _with_current_council_codes(part: Dataset, frame: pd.DataFrame, parameters: dict[str, list[Any]]) -> pd.DataFrame:
    """The rows as the gate checks and the warehouse keeps them: a council named by a GSS code it held
    during the programme and has since lost (reference.former_council_codes) under its current code."""
    column = part.council_code_column
    if column is None or column not in frame.columns:
        return frame
    current_code = dict(parameters["former_council_codes"])
    mapped = frame.copy()
    mapped[column] = frame[column].map(lambda code: current_code.get(code, code))
    return mapped


def _read_parts(path: Path, dataset: Dataset) -> list[tuple[Dataset, pd.DataFrame]]:
    """The file's rows for each section it holds: a workbook holds every section, one sheet each;
    a CSV holds one section, recognised by its header."""
    if not dataset.sections:
        parts = [(dataset, read_rows(path, dataset))]
    elif path.suffix.lower() in WORKBOOK_SUFFIXES or _starts_with(path, b"PK"):
        parts = [(section, read_rows(path, section, sheet=section.landing_sheet)) for section in dataset.sections]
    else:
        parts = [_csv_section(path, dataset)]
    for part, frame in parts:
        if frame.empty:
            where = f"sheet '{part.landing_sheet}' of '{path.name}'" if dataset.sections else f"'{path.name}'"
            raise UnreadableFile("no_data_rows", f"{where} has a header but no data rows: there is nothing to load.")
    return parts


def _starts_with(path: Path, prefix: bytes) -> bool:
    with path.open("rb") as stream:
        return stream.read(len(prefix)) == prefix


def _csv_section(path: Path, dataset: Dataset) -> tuple[Dataset, pd.DataFrame]:
    for section in dataset.sections:
        frame = read_rows(path, section)
        if set(section.required_columns) <= set(frame.columns):
            return section, frame
    headers = "; ".join(f"{s.landing_sheet}: {', '.join(s.required_columns)}" for s in dataset.sections)
    raise UnreadableFile(
        "template_columns",
        f"The header of '{path.name}' fits none of the {dataset.name} sections. Send the workbook, or one CSV "
        f"per section with these required columns: {headers}.",
    )


class _Recorder:
    """Writes one file's manifest row, quarantined rows and warnings."""

    def __init__(self, conn, dataset: Dataset, manifest_id: int, file_name: str, manifest: dict[str, Any]):
        self.conn, self.dataset, self.manifest_id, self.file_name, self.fields = (
            conn,
            dataset,
            manifest_id,
            file_name,
            manifest,
        )

    def findings(self, part: Dataset | None, findings: list[Finding], frame: pd.DataFrame | None) -> None:
        section = part.name if part is not None and self.dataset.sections else None
        errors = [f for f in findings if f.severity == "error"]
        warnings = [f for f in findings if f.severity == "warning"]
        for table, chosen, rows in (("quarantined_rows", errors, frame), ("validation_warnings", warnings, None)):
            _write_findings(
                self.conn, f"ingest.{table}", self.manifest_id, self.dataset, self.file_name, chosen, rows, section
            )

    def manifest(self, status: str, rows_read: int, rows_loaded: int, rows_quarantined: int, message: str | None):
        _insert_manifest(
            self.conn, self.manifest_id, self.fields, status, rows_read, rows_loaded, rows_quarantined, message
        )
        return FileResult(
            self.file_name, self.fields["file_sha256"], status, rows_read, rows_loaded, rows_quarantined, message
        )


def _file_warnings(frame: pd.DataFrame, file_name: str) -> list[Finding]:
    """What the reader had to assume to read the file: loaded, but said."""
    warnings = []
    if frame.attrs.get("encoding") not in (None, "utf-8"):
        warnings.append(
            Finding(
                "file_not_utf8",
                "warning",
                f"'{file_name}' is not UTF-8: it was read as {frame.attrs['encoding']}. "
                "Check names with accents, and save as CSV UTF-8 next time.",
                None,
                None,
                frame.attrs["encoding"],
            )
        )
    if frame.attrs.get("delimiter") not in (None, ","):
        warnings.append(
            Finding(
                "file_not_comma_separated",
                "warning",
                f"'{file_name}' is separated by {frame.attrs['delimiter']!r}, not commas: it was read that way. "
                "Save as CSV (comma delimited) next time.",
                None,
                None,
                frame.attrs["delimiter"],
            )
        )
    if frame.attrs.get("hidden_sheets_ignored"):
        hidden = ", ".join(repr(name) for name in frame.attrs["hidden_sheets_ignored"])
        warnings.append(
            Finding(
                "hidden_sheet_not_read",
                "warning",
                f"'{file_name}' has hidden sheet {hidden}, which was not read: the rows were read from visible sheet"
                f" '{frame.attrs.get('sheet')}', the only visible one with the template's header, as a person opening"
                " the file sees it. Delete the hidden copy, or keep the rows on one sheet named as in the template.",
                None,
                None,
                frame.attrs.get("sheet"),
            )
        )
    elif frame.attrs.get("sheet_requested"):
        warnings.append(
            Finding(
                "sheet_renamed",
                "warning",
                f"'{file_name}' has no sheet named '{frame.attrs['sheet_requested']}': the rows were read from "
                f"sheet '{frame.attrs.get('sheet')}', the only one with the template's header. Keep the template's "
                "sheet names.",
                None,
                None,
                frame.attrs.get("sheet"),
            )
        )
    return warnings


def _incomplete_rows(frame: pd.DataFrame) -> list[Finding]:
    """Rows the reader saw cut off (a file truncated in transfer): a cut value can still look valid."""
    return [
        Finding(
            "row_cut_off",
            "error",
            f"Row {row} ends early, as if the file was cut off in transfer: send the whole file again.",
            int(row),
            None,
            None,
        )
        for row in frame.attrs.get("incomplete_rows", [])
    ]


def _fetch_frame(conn: psycopg.Connection, query: str) -> pd.DataFrame:
    cursor = conn.execute(query)
    frame = pd.DataFrame(cursor.fetchall(), columns=[d.name for d in cursor.description])
    # An unnamed index: GX reports unexpected rows by index value only when the index has no name.
    return frame.set_index(pd.Index(frame.pop("source_row_number").to_numpy()))


def _summarise(outcome: ValidationOutcome, bad_rows: int, rows_read: int) -> str | None:
    if not bad_rows:
        return None
    rules = Counter(f.rule for f in outcome.findings if f.severity == "error")
    return f"{bad_rows} of {rows_read} rows quarantined: " + ", ".join(
        f"{rule} ({n})" for rule, n in rules.most_common()
    )


def _insert_manifest(
    conn: psycopg.Connection,
    manifest_id: int | None,
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
            (manifest_id, dataset, file_sha256, file_name, file_size_bytes, received_at, file_modified_at, status,
             rows_read, rows_loaded, rows_quarantined, error_message, duplicate_of, kept_at_path, set_aside_path,
             dag_run_id)
        overriding system value
        values
            (coalesce(%(manifest_id)s, nextval(pg_get_serial_sequence('ingest.load_manifest', 'manifest_id'))),
             %(dataset)s, %(file_sha256)s, %(file_name)s, %(file_size_bytes)s, %(received_at)s,
             %(file_modified_at)s, %(status)s, %(rows_read)s, %(rows_loaded)s, %(rows_quarantined)s,
             %(error_message)s, %(duplicate_of)s, %(kept_at_path)s, %(set_aside_path)s, %(dag_run_id)s)
        returning manifest_id
        """,
        {
            **manifest,
            "manifest_id": manifest_id,
            "status": status,
            "rows_read": rows_read,
            "rows_loaded": rows_loaded,
            "rows_quarantined": rows_quarantined,
            "error_message": _bounded(error_message),
            "duplicate_of": duplicate_of,
        },
    ).fetchone()
    return row[0]


# A manifest message is read in a list of files: the quarantine holds every finding in full.
MESSAGE_CHARACTERS = 2_000


def _bounded(message: str | None) -> str | None:
    if message is None or len(message) <= MESSAGE_CHARACTERS:
        return message
    more = len(message) - MESSAGE_CHARACTERS
    return f"{message[:MESSAGE_CHARACTERS]}… ({more:,} characters more: the quarantine has every finding)"


def _write_findings(
    conn: psycopg.Connection,
    table: str,
    manifest_id: int,
    dataset: Dataset,
    file_name: str,
    findings: list[Finding],
    frame: pd.DataFrame | None = None,
    section: str | None = None,
) -> None:
    """COPY findings into the quarantine (with each row as received) or the warnings table."""
    if not findings:
        return
    keep_records = table == "ingest.quarantined_rows"
    records: dict[int, str] = {}
    if keep_records and frame is not None:
        rows = sorted({f.row_number for f in findings if f.row_number is not None})
        subset = frame.loc[rows].astype(object)
        subset = subset.where(subset.notna(), None)
        records = {
            int(i): json.dumps(r, ensure_ascii=False)
            for i, r in zip(subset.index, subset.to_dict("records"), strict=True)
        }
    columns = ["manifest_id", "dataset", "section", "file_name", "row_number", "column_name", "offending_value"]
    columns += ["rule", "message"]
    columns += ["raw_record"] if keep_records else []
    schema, name = table.split(".")
    statement = sql.SQL("copy {} ({}) from stdin").format(
        sql.Identifier(schema, name), sql.SQL(", ").join(map(sql.Identifier, columns))
    )
    with conn.cursor().copy(statement) as copy:
        for f in findings:
            row = [manifest_id, dataset.name, section, file_name, f.row_number, f.column, f.value, f.rule, f.message]
            copy.write_row(row + [records.get(f.row_number)] if keep_records else row)


def _stage_incoming(
    conn: psycopg.Connection, dataset: Dataset, manifest_id: int, rows: pd.DataFrame, received: pd.DataFrame
) -> None:
    """Bulk-load the rows that passed the landing gate into a temporary table shaped like the raw
    table; PostgreSQL's COPY casts the checked text to the column types. ``received``: the rows as
    read, before former council codes were mapped."""
    conn.execute(
        sql.SQL("create temporary table {} (like {} including defaults) on commit drop").format(
            sql.Identifier(dataset.incoming_table), sql.Identifier(*dataset.raw_table.split("."))
        )
    )
    if rows.empty:
        return
    out = rows[dataset.column_names].copy()
    if dataset.as_filed_column:
        out[dataset.as_filed_column] = received.loc[rows.index, dataset.council_code_column]
    out.insert(0, "source_row_number", rows.index)
    out.insert(0, "manifest_id", manifest_id)
    buffer = io.StringIO()
    out.to_csv(buffer, index=False, header=False)
    statement = sql.SQL("copy {} ({}) from stdin with (format csv)").format(
        sql.Identifier(dataset.incoming_table), sql.SQL(", ").join(map(sql.Identifier, out.columns))
    )
    with conn.cursor().copy(statement) as copy:
        copy.write(buffer.getvalue())


def _insert_from_incoming(
    conn: psycopg.Connection, dataset: Dataset, stopped: set[int], warnings: dict[int, list[str]]
) -> int:
    """Move the staged rows that no rule stopped into the raw table, with their warnings."""
    flags = sql.Identifier(f"{dataset.incoming_table}_flags")
    conn.execute(
        sql.SQL(
            "create temporary table {} (source_row_number integer primary key, stopped boolean, warnings text[])"
            " on commit drop"
        ).format(flags)
    )
    with conn.cursor().copy(sql.SQL("copy {} from stdin").format(flags)) as copy:
        for row_number in stopped | set(warnings):
            copy.write_row((row_number, row_number in stopped, warnings.get(row_number, [])))
    kept = [*dataset.column_names, *filter(None, [dataset.as_filed_column])]
    columns = sql.SQL(", ").join(map(sql.Identifier, ["manifest_id", "source_row_number", *kept]))
    cursor = conn.execute(
        sql.SQL(
            """
            insert into {raw} ({columns}, validation_warnings)
            select {columns}, coalesce(flags.warnings, '{{}}')
            from {incoming}
            left join {flags} as flags using (source_row_number)
            where not coalesce(flags.stopped, false)
            """
        ).format(
            raw=sql.Identifier(*dataset.raw_table.split(".")),
            columns=columns,
            incoming=sql.Identifier(dataset.incoming_table),
            flags=flags,
        )
    )
    return cursor.rowcount


def as_dicts(results: list[FileResult]) -> list[dict[str, Any]]:
    return [asdict(result) for result in results]
