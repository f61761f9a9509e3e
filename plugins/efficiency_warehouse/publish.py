"""Treasury releases: one per return cycle, versioned, never changed once written, gated on checks.

outputs/releases/<cycle>/
    revisions.csv            every version published, why, and what changed: a copy of the latest
                             version's own log, so the log and the versions cannot disagree
    v1/                      immutable once written
        national_efficiency.csv, regional_efficiency.csv, council_efficiency.csv   RFC 4180, UTF-8
        <table>.csv-metadata.json   CSV on the Web metadata: columns, types, units, title, licence ...
        changes.csv          from v2 on: every figure that differs from the previous version
        revisions.csv        the log as it stood at this version
        manifest.json        files (sha256, bytes, rows), source files, git commit, dbt invocation
        SHA256SUMS

A cycle is published only when its gate passes: the last dbt build succeeded with every test, and
the Great Expectations publication suites pass on the rows to be released. A failing gate leaves
the previous version in place and raises, saying why. The same figures publish nothing new; changed
figures (a resubmission, or a correction to the reference data recorded in seed reference_data_corrections)
publish the next version, with the reason and the changes in the log.

A publication killed at any point leaves either nothing, a hidden ``.vN.partial`` folder (the version
was not published), or a version whose log line the cycle's revisions.csv does not have yet. The next
publication puts both right before anything else (:func:`reconcile_releases`).
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import re
import shutil
import subprocess
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pandas as pd
from psycopg import sql

from efficiency_warehouse import dbt_runner, movement_gate, roles, settings, warehouse
from efficiency_warehouse.schema import ensure_ingest_tables
from efficiency_warehouse.validation import build_data_docs, validate_rows, write_whole

PUBLISHER = "National efficiency-returns warehouse, for the ICE Programme Board"
LICENCE = "http://www.nationalarchives.gov.uk/doc/open-government-licence/version/3/"
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")  # what spreadsheets treat as the start of a formula
# A plain number written as text (changes.csv's old and new values): a spreadsheet reads it as a number.
PLAIN_NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?")


@dataclass(frozen=True)
class Table:
    name: str
    title: str
    query: str  # %(financial_year)s and %(return_type)s select the cycle
    key: tuple[str, ...]
    suite: str
    extra_descriptions: dict[str, str]
    dbt_model: str


TABLES = (
    Table(
        "national_efficiency",
        "National NI 179 position against the 3% a year target",
        """
        select 'E92000001' as area_code, 'England' as area_name, financial_year, return_type,
               councils_expected, councils_reported, councils_missing, reported_gains_gbp_millions,
               reported_revenue_gains_gbp_millions, reported_capital_gains_gbp_millions, councils_giving_split,
               sr04_carry_over_gbp_millions, baseline_gbp_millions, target_cumulative_rate, target_gains_gbp_millions,
               gap_to_target_gbp_millions, reported_share_of_baseline, is_target_met
        from marts.national_efficiency_position
        where financial_year = %(financial_year)s and return_type = %(return_type)s
        """,
        ("area_code", "financial_year", "return_type"),
        "national_efficiency__publication",
        {"area_code": "GSS code of England", "area_name": "England"},
        "national_efficiency_position",
    ),
    Table(
        "regional_efficiency",
        "NI 179 by region (RIEP) against the 3% a year path",
        """
        select region_code, region_name, riep_name, financial_year, return_type, councils_expected,
               councils_reported, councils_missing, reported_gains_gbp_millions, share_of_national_gains,
               baseline_gbp_millions, reported_share_of_baseline, target_cumulative_rate, target_gains_gbp_millions,
               gap_to_target_gbp_millions, is_on_target_path
        from marts.regional_efficiency_position
        where financial_year = %(financial_year)s and return_type = %(return_type)s
        order by region_code
        """,
        ("region_code", "financial_year", "return_type"),
        "regional_efficiency__publication",
        {},
        "regional_efficiency_position",
    ),
    # As at the cycle (marts.council_efficiency_as_at_cycle): the flags from what was known then, never
    # from a later cycle. The national and regional tables count only the cycle's own returns, all of
    # which the cycle's as-at time reaches (a dbt test holds them to the as-at council mart).
    Table(
        "council_efficiency",
        "NI 179 by council",
        """
        select council_code, council_name, council_type, region_code, region_name, financial_year, return_type,
               ni179_value_gbp_thousands, baseline_gbp_thousands, share_of_baseline, is_return_missing,
               is_low_reporter
        from marts.council_efficiency_as_at_cycle
        where financial_year = %(financial_year)s and return_type = %(return_type)s
        order by council_code
        """,
        ("council_code", "financial_year", "return_type"),
        "council_efficiency__publication",
        {"return_type": "forecast (October of the year) or actual (July after it)"},
        "council_efficiency_as_at_cycle",
    ),
)


class PublicationBlocked(RuntimeError):
    """The gate failed: nothing was published for the cycle, the previous version stands."""


@dataclass(frozen=True)
class Cycle:
    number: int
    label: str
    financial_year: str
    return_type: str
    closes_at: datetime

    @property
    def slug(self) -> str:
        return f"{self.financial_year}_{self.return_type}"


def releases_dir() -> Path:
    return settings.outputs_dir() / "releases"


def dbt_target_dir() -> Path:
    return dbt_runner.target_dir()


CUT_OFF_RULE = (
    "A cycle closes at the end of the last day of its filing window, London time (forecasts 31 October, "
    "actuals 31 July); a return counts if it had arrived by then, on the warehouse's arrival clock. A return "
    "of the cycle's own arriving later is a late return: it publishes the cycle's next version, as at its "
    "arrival. Returns of later cycles never change an earlier cycle's release."
)


def reported_cycles() -> list[Cycle]:
    """The cycles that have closed and have any accepted return: those that can be published. An open
    cycle is not published: its figures are not as at its close until it has closed."""
    with warehouse.connect() as conn:
        rows = conn.execute(
            """
            select cycles.cycle_number, cycles.cycle_label, cycles.financial_year, cycles.return_type,
                   cycles.closes_at
            from marts.return_cycles as cycles
            join marts.national_efficiency_position as national using (financial_year, return_type)
            where national.councils_reported > 0 and cycles.closes_at <= coalesce(%s, now())
            order by cycles.cycle_number
            """,
            (settings.replay_clock(),),
        ).fetchall()
    return [Cycle(*row) for row in rows]


def as_at(cycle: Cycle) -> datetime:
    """What the cycle's figures are as at: its close, or the arrival of its latest late return."""
    with warehouse.connect() as conn:
        row = conn.execute(
            "select max(as_at) from marts.council_efficiency_as_at_cycle where cycle_number = %s", (cycle.number,)
        ).fetchone()
    return row[0] or cycle.closes_at


def publish_all() -> list[dict[str, Any]]:
    """Publish every reported cycle whose figures are new or changed; blocked ones raise at the end."""
    outcomes, blocked = [], []
    ensure_published_schema()
    reconcile_releases()
    for cycle in reported_cycles():
        try:
            outcomes.append(publish_cycle(cycle))
        except PublicationBlocked as error:
            blocked.append(str(error))
            outcomes.append({"cycle": cycle.slug, "outcome": "blocked", "reason": str(error)})
    build_data_docs()  # the publication gate's validations, for whoever reads why a release was blocked
    if blocked:
        raise PublicationBlocked("; ".join(blocked))
    return outcomes


def publish_cycle(cycle: Cycle, reason: str | None = None) -> dict[str, Any]:
    frames = {table.name: _fetch(table, cycle) for table in TABLES}
    check_gate(cycle, frames)
    rendered = {table.name: render_csv(frames[table.name]) for table in TABLES}
    cycle_dir = releases_dir() / cycle.slug
    previous = latest_version(cycle_dir)
    if previous and all((previous / f"{name}.csv").read_bytes() == content for name, content in rendered.items()):
        _load_published_tables(cycle, frames, previous.name)  # keeps the Treasury's tables in step
        return {"cycle": cycle.slug, "outcome": "unchanged", "version": previous.name}

    if previous:
        check_movement(cycle, previous, frames)
    version = f"v{int(previous.name[1:]) + 1}" if previous else "v1"
    changes = _changes(previous, frames) if previous else []
    review = movement_gate.review_notes(cycle)
    why = reason or (revision_reason(previous, cycle) if previous else "first publication")
    why = "; ".join(filter(None, [why, *_review_reasons(review, previous)]))
    _write_version(cycle, cycle_dir, version, frames, rendered, changes, why, review)
    _load_published_tables(cycle, frames, version)
    return {"cycle": cycle.slug, "outcome": "published", "version": version, "changes": len(changes)}


def reconcile_releases() -> None:
    """Undo what a killed publication left: a version folder still being written (``.vN.partial``, never
    published) is removed, and each cycle's revisions.csv is made the latest version's own log again."""
    if not releases_dir().exists():
        return
    for cycle_dir in sorted(p for p in releases_dir().iterdir() if p.is_dir()):
        for leftover in cycle_dir.glob(".*.partial"):
            if leftover.is_dir():
                shutil.rmtree(leftover)
            else:
                leftover.unlink()
        latest = latest_version(cycle_dir)
        if latest is None:
            continue
        log = (latest / "revisions.csv").read_bytes()
        current = cycle_dir / "revisions.csv"
        if not current.exists() or current.read_bytes() != log:
            write_whole(current, log)


def revision_reason(previous: Path, cycle: Cycle) -> str:
    """Why the figures moved since ``previous``: the reference corrections it did not reflect, and
    source files it did not use (a resubmission). Both can apply; each is said."""
    manifest = json.loads((previous / "manifest.json").read_text(encoding="utf-8"))
    reflected = set(manifest.get("reference_corrections", []))  # absent: published before any correction
    reasons = [description for number, description in reference_corrections() if number not in reflected]
    used = {source["sha256"] for source in manifest.get("source_files", [])}
    new_sources = [source for source in _source_files(cycle) if source["sha256"] not in used]
    late = [s for s in new_sources if datetime.fromisoformat(s["received_at"]) > cycle.closes_at]
    if late:
        reasons.append(f"late correction received {max(s['received_at'] for s in late)[:10]}")
    elif new_sources:
        reasons.append("a resubmission changed published figures")
    return "; ".join(reasons) or "published figures changed (no new returns or reference corrections)"


def check_movement(cycle: Cycle, previous: Path, frames: dict[str, pd.DataFrame]) -> None:
    """Councils' changed figures may not move a published total beyond the limits unless each was confirmed."""
    movements = movement_gate.movements_beyond_limits(previous, frames["council_efficiency"])
    if not movements:
        return
    outstanding = movement_gate.unconfirmed_councils(cycle, set().union(*(m.councils for m in movements)))
    if outstanding:
        raise PublicationBlocked(
            f"{cycle.label} not published; the previous release ({previous.name}) stands. "
            + "; ".join(movement.describe() for movement in movements)
            + ". Councils whose changed figures moved it, not confirmed on review: "
            + ", ".join(outstanding[code] for code in sorted(outstanding))
            + ". They are now held for review (make review): the next run publishes without them, or with"
            " those confirmed; a corrected file from the council replaces its figure"
        )


def _review_reasons(review: dict[str, list[dict[str, Any]]], previous: Path | None) -> list[str]:
    """The confirmations on review that this version is the first to carry: a reason its figures moved."""
    manifest = json.loads((previous / "manifest.json").read_text(encoding="utf-8")) if previous else None
    return [movement_gate.describe_new_confirmations(review, manifest)]


def _held_out(review: dict[str, list[dict[str, Any]]]) -> str:
    """The revisions log's words for the returns a version leaves out while they wait for a decision."""
    pending = sorted({item["council_code"] for item in review["held_out"] if item["decision"] == "pending"})
    if not pending:
        return ""
    return (
        f"{len(pending)} councils' latest returns pending review ({', '.join(pending)}):"
        " each council's previous return stands, or it counts as missing"
    )


def reference_corrections() -> list[tuple[int, str]]:
    with warehouse.connect() as conn:
        return conn.execute(
            "select correction_id, description from reference.reference_corrections order by correction_id"
        ).fetchall()


def check_gate(cycle: Cycle, frames: dict[str, pd.DataFrame]) -> None:
    """dbt's last build passed every test, and the publication suites pass on the rows to release."""
    problems = _dbt_problems()
    national = frames["national_efficiency"]
    parameters = {
        "councils_expected": int(national["councils_expected"].iloc[0]) if len(national) else -1,
        "national_reported_gains_gbp_millions": float(national["reported_gains_gbp_millions"].iloc[0])
        if len(national)
        else 0.0,
    }
    for table in TABLES:
        frame = _with_checks(table.name, frames[table.name], parameters)
        outcome = validate_rows(frame, table.suite, parameters)
        problems += [f"{table.name}: {f.message}" for f in outcome.findings if f.severity == "error"]
    if problems:
        raise PublicationBlocked(
            f"{cycle.label} not published; the previous release stands. Failed checks: " + " | ".join(problems[:10])
        )


def _with_checks(name: str, frame: pd.DataFrame, parameters: dict[str, Any]) -> pd.DataFrame:
    """Columns the publication suites check that are not figures of their own."""
    frame = frame.copy()
    frame.index = range(2, len(frame) + 2)  # as the CSV's rows: the header is row 1
    if name == "national_efficiency" and len(frame):
        target = frame["baseline_gbp_millions"].astype(float) * frame["target_cumulative_rate"].astype(float)
        frame["target_minus_recomputed"] = frame["target_gains_gbp_millions"].astype(float) - target
    if name == "regional_efficiency":
        frame["regions_minus_national_gbp_millions"] = (
            frame["reported_gains_gbp_millions"].astype(float).sum()
            - parameters["national_reported_gains_gbp_millions"]
        )
    return frame


def _dbt_problems() -> list[str]:
    """The last dbt build, as the warehouse recorded it (pipeline.last_build): it must have passed, and the
    marts must have been built and tested at least once."""
    from efficiency_warehouse.pipeline import last_build

    with warehouse.connect() as conn:
        ensure_ingest_tables(conn)
        build = last_build(conn)
        marts_built = conn.execute("select exists (select from ingest.builds where kind = 'marts' and passed)")
        marts_built = marts_built.fetchone()[0]
    if not marts_built:
        return ["no dbt build of the marts has passed: the marts have not been built and tested"]
    if not build["passed"]:
        failed = build["failed_nodes"]
        return [
            f"dbt: {len(failed)} nodes did not pass in the last build ({build['kind']}, {build['build_id']},"
            f" {build['finished_at']:%Y-%m-%d %H:%M %Z}): {', '.join(failed[:5])}"
        ]
    return []


def _fetch(table: Table, cycle: Cycle) -> pd.DataFrame:
    with warehouse.connect() as conn:
        cursor = conn.execute(table.query, {"financial_year": cycle.financial_year, "return_type": cycle.return_type})
        frame = pd.DataFrame(cursor.fetchall(), columns=[d.name for d in cursor.description], dtype=object)
    return frame


def safe_cell(value: Any) -> str:
    """One CSV cell: numbers as PostgreSQL gave them, booleans lower case, and text that a
    spreadsheet would run as a formula defused with a leading apostrophe."""
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float, Decimal)):
        return str(value)  # numbers are never formulas; a minus sign stays a minus sign
    text = str(value)
    if PLAIN_NUMBER.fullmatch(text):
        return text  # a number carried as text (changes.csv's old and new) is still a number
    return "'" + text if text.startswith(FORMULA_PREFIXES) else text


def render_csv(frame: pd.DataFrame) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")  # RFC 4180
    writer.writerow(frame.columns)
    for row in frame.itertuples(index=False, name=None):
        writer.writerow([safe_cell(value) for value in row])
    return buffer.getvalue().encode("utf-8")


def latest_version(cycle_dir: Path) -> Path | None:
    versions = sorted(
        (p for p in cycle_dir.glob("v*") if p.is_dir() and p.name[1:].isdigit()), key=lambda p: int(p.name[1:])
    )
    return versions[-1] if versions else None


def _changes(previous: Path, frames: dict[str, pd.DataFrame]) -> list[dict[str, str]]:
    """Every figure that differs from the previous version: table, row key, column, old, new."""
    changes = []
    for table in TABLES:
        with (previous / f"{table.name}.csv").open(newline="", encoding="utf-8") as stream:
            old_rows = {tuple(r[k] for k in table.key): r for r in csv.DictReader(stream)}
        new_frame = pd.read_csv(io.BytesIO(render_csv(frames[table.name])), dtype=str, keep_default_na=False)
        for row in new_frame.to_dict("records"):
            key = tuple(row[k] for k in table.key)
            old = old_rows.pop(key, None)
            for column, value in row.items():
                before = "" if old is None else old.get(column, "")
                if old is None or before != value:
                    changes.append(
                        {"table": table.name, "key": "|".join(key), "column": column, "old": before, "new": value}
                    )
        for key in old_rows:
            changes.append({"table": table.name, "key": "|".join(key), "column": "*", "old": "row", "new": ""})
    return changes


def _write_version(
    cycle: Cycle,
    cycle_dir: Path,
    version: str,
    frames: dict[str, pd.DataFrame],
    rendered: dict[str, bytes],
    changes: list[dict[str, str]],
    reason: str,
    review: dict[str, list[dict[str, Any]]],
) -> Path:
    published_at = (settings.replay_clock() or datetime.now(UTC)).astimezone(UTC).replace(microsecond=0)
    as_at_time = as_at(cycle)
    figures_as_at = as_at_time.astimezone(UTC).isoformat()
    staging = cycle_dir / f".{version}.partial"
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    descriptions = _dbt_column_descriptions()
    files: dict[str, bytes] = {}
    for table in TABLES:
        files[f"{table.name}.csv"] = rendered[table.name]
        metadata = _csvw(table, frames[table.name], descriptions, cycle, version, published_at)
        files[f"{table.name}.csv-metadata.json"] = (json.dumps(metadata, indent=2, ensure_ascii=False) + "\n").encode()
    if changes:
        files["changes.csv"] = _csv_bytes(["table", "key", "column", "old", "new"], changes)
    log_entry = {
        "version": version,
        "published_at": published_at.isoformat(),
        "as_at": figures_as_at,
        "reason": reason,
        "figures_changed": str(len(changes)),
        "tables_changed": ", ".join(sorted({c["table"] for c in changes})),
        "held_out_pending_review": _held_out(review),
    }
    earlier = _read_log(latest_version(cycle_dir))  # the previous version's own log: what was published
    log = [{column: entry.get(column, "") for column in log_entry} for entry in earlier] + [log_entry]
    files["revisions.csv"] = _csv_bytes(list(log_entry), log)
    manifest = {
        "release": cycle.label,
        "cycle": cycle.slug,
        "version": version,
        "published_at": published_at.isoformat(),
        "as_at": figures_as_at,
        "closes_at": cycle.closes_at.astimezone(UTC).isoformat(),
        "cut_off_rule": CUT_OFF_RULE,
        "publisher": PUBLISHER,
        "licence": LICENCE,
        "reason": reason,
        "files": [
            {"name": name, "sha256": _sha256(content), "bytes": len(content), "rows": _rows(name, content)}
            for name, content in sorted(files.items())
        ],
        "source_files": _source_files(cycle, as_at_time),
        "reference_corrections": [number for number, _ in reference_corrections()],
        "review": review,  # confirmed items whose rows stand in these figures; items held out of them
        "git_commit": _git_commit(),
        "dbt_invocation_id": _dbt_invocation_id(),
    }
    files["manifest.json"] = (json.dumps(manifest, indent=2) + "\n").encode()
    files["SHA256SUMS"] = "".join(f"{_sha256(c)}  {n}\n" for n, c in sorted(files.items())).encode()
    for name, content in files.items():
        (staging / name).write_bytes(content)
    final = cycle_dir / version
    os.rename(staging, final)  # a version appears whole or not at all, and is never rewritten
    write_whole(cycle_dir / "revisions.csv", files["revisions.csv"])  # killed before this: reconcile_releases
    return final


def _csvw(table: Table, frame: pd.DataFrame, descriptions: dict, cycle: Cycle, version: str, published_at) -> dict:
    column_docs = descriptions.get(table.dbt_model, {})
    columns = []
    for name in frame.columns:
        column = {
            "name": name,
            "titles": name,
            "datatype": _csvw_type(name, frame[name]),
            "dc:description": table.extra_descriptions.get(name) or column_docs.get(name, ""),
        }
        if name.endswith("_gbp_millions"):
            column["schema:unitText"] = "GBP millions"
        elif name.endswith("_gbp_thousands"):
            column["schema:unitText"] = "GBP thousands"
        elif name.endswith(("_rate", "_share_of_baseline", "share_of_national_gains", "share_of_baseline")):
            column["schema:unitText"] = "ratio (0.03 = 3%)"
        columns.append(column)
    return {
        "@context": "http://www.w3.org/ns/csvw",
        "url": f"{table.name}.csv",
        "dc:title": f"{table.title}: {cycle.label}",
        "dc:publisher": PUBLISHER,
        "dc:license": LICENCE,
        "dc:issued": published_at.date().isoformat(),
        "schema:version": version,
        "dialect": {"encoding": "utf-8", "lineTerminators": ["\r\n"], "header": True},
        "tableSchema": {"columns": columns, "primaryKey": list(table.key)},
    }


def _csvw_type(name: str, series: pd.Series) -> str:
    sample = next((v for v in series if v is not None), None)
    if isinstance(sample, bool):
        return "boolean"
    if isinstance(sample, int):
        return "integer"
    if isinstance(sample, (float, Decimal)):
        return "decimal"
    return "string"


def _dbt_column_descriptions() -> dict[str, dict[str, str]]:
    """Column descriptions from dbt's manifest: the marts' YAML is the one place they are written."""
    path = dbt_target_dir() / "manifest.json"
    if not path.exists():
        return {}
    nodes = json.loads(path.read_text())["nodes"]
    return {
        node["name"]: {c: d.get("description", "") for c, d in node.get("columns", {}).items()}
        for node in nodes.values()
        if node.get("resource_type") == "model"
    }


def _source_files(cycle: Cycle, figures_as_at: datetime | None = None) -> list[dict[str, Any]]:
    """The files whose rows the cycle's figures come from: its returns (every one: the as-at time reaches
    them all), and the baselines its shares use, as filed by the as-at time."""
    figures_as_at = figures_as_at or as_at(cycle)
    with warehouse.connect() as conn:
        rows = conn.execute(
            """
            with used as (
                select manifest_id from raw.council_returns
                where financial_year = %(financial_year)s and return_type = %(return_type)s
                union all
                select baselines.manifest_id
                from raw.council_baselines as baselines
                join ingest.load_manifest as manifest using (manifest_id)
                where baselines.baseline_year = '2007-08' and manifest.received_at <= %(as_at)s
            )
            select manifest.file_name, manifest.file_sha256, manifest.received_at, count(*) as rows_used
            from used
            join ingest.load_manifest as manifest using (manifest_id)
            group by manifest.file_name, manifest.file_sha256, manifest.received_at
            order by manifest.received_at, manifest.file_name
            """,
            {"financial_year": cycle.financial_year, "return_type": cycle.return_type, "as_at": figures_as_at},
        ).fetchall()
    return [{"name": n, "sha256": s, "received_at": r.isoformat(), "rows": c} for n, s, r, c in rows]


def _git_commit() -> str:
    if commit := os.environ.get("GIT_COMMIT"):
        return commit
    try:
        out = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=settings.PROJECT_ROOT, capture_output=True, text=True, check=True
        )
        dirty = subprocess.run(
            ["git", "status", "--porcelain"], cwd=settings.PROJECT_ROOT, capture_output=True, text=True
        )
        return out.stdout.strip() + ("-dirty" if dirty.stdout.strip() else "")
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def _dbt_invocation_id() -> str | None:
    from efficiency_warehouse.pipeline import last_build_id

    return last_build_id()


def _read_log(version: Path | None) -> list[dict[str, str]]:
    """The revisions log as a version carries it (none before the first version)."""
    if version is None:
        return []
    path = version / "revisions.csv"
    with path.open(newline="", encoding="utf-8") as stream:
        return list(csv.DictReader(stream))


def _csv_bytes(columns: list[str], rows: list[dict[str, str]]) -> bytes:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=columns, lineterminator="\r\n")
    writer.writeheader()
    writer.writerows([{k: safe_cell(v) for k, v in row.items()} for row in rows])
    return buffer.getvalue().encode("utf-8")


def _sha256(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()


def _rows(name: str, content: bytes) -> int | None:
    if not name.endswith(".csv"):
        return None
    return max(len(list(csv.reader(io.StringIO(content.decode("utf-8"))))) - 1, 0)


# --- the published tables the Treasury reads --------------------------------------------------------


def ensure_published_schema() -> None:
    with warehouse.connect() as conn, conn.transaction():
        conn.execute("select pg_advisory_xact_lock(hashtext('efficiency_warehouse.published'))")
        conn.execute(
            """
            create schema if not exists published;
            create table if not exists published.releases (
                cycle text primary key, cycle_label text not null, version text not null,
                published_at timestamptz not null default now()
            );
            """
        )
    with warehouse.connect() as conn:
        roles.ensure_reader_role(conn, roles.TREASURY_ROLE, roles.TREASURY_SCHEMAS)


def _load_published_tables(cycle: Cycle, frames: dict[str, pd.DataFrame], version: str) -> None:
    """The latest version of each release, as tables: what the Treasury role may read."""
    with warehouse.connect() as conn, conn.transaction():
        for table in TABLES:
            frame = frames[table.name]
            target = sql.Identifier("published", table.name)
            columns = sql.SQL(", ").join(
                sql.SQL("{} {}").format(sql.Identifier(c), sql.SQL(_pg_type(frame[c]))) for c in frame.columns
            )
            conn.execute(
                sql.SQL("create table if not exists {} (cycle text not null, version text not null, {})").format(
                    target, columns
                )
            )
            conn.execute(sql.SQL("delete from {} where cycle = %s").format(target), (cycle.slug,))
            with conn.cursor().copy(
                sql.SQL("copy {} (cycle, version, {}) from stdin").format(
                    target, sql.SQL(", ").join(map(sql.Identifier, frame.columns))
                )
            ) as copy:
                for row in frame.itertuples(index=False, name=None):
                    copy.write_row((cycle.slug, version, *row))
            conn.execute(sql.SQL("grant select on {} to hm_treasury").format(target))
        conn.execute(
            """
            insert into published.releases (cycle, cycle_label, version) values (%s, %s, %s)
            on conflict (cycle) do update set version = excluded.version, cycle_label = excluded.cycle_label,
                published_at = case when published.releases.version = excluded.version
                                     then published.releases.published_at else now() end
            """,
            (cycle.slug, cycle.label, version),
        )
        conn.execute("grant select on published.releases to hm_treasury")


def _pg_type(series: pd.Series) -> str:
    return {"boolean": "boolean", "integer": "bigint", "decimal": "numeric"}.get(_csvw_type("", series), "text")
