"""Where things live. Every path can be moved with an environment variable; nothing here does I/O."""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

PROJECT_ROOT = Path(os.environ.get("EFFICIENCY_WAREHOUSE_HOME", Path(__file__).resolve().parents[2]))


def _path(variable: str, default: Path) -> Path:
    return Path(os.environ.get(variable, default))


def storage_root() -> Path:
    """Everything the tasks keep on disk lives under one root: files received and landing (data/),
    what is published (outputs/), GX's validation results and dbt's artifacts. On more than one machine
    it is a volume every worker mounts at the same path (docker-compose's `warehouse-storage`), so no
    task depends on the disk of the worker that ran the one before. Default: the project folder."""
    return _path("WAREHOUSE_STORAGE_ROOT", PROJECT_ROOT)


def data_dir() -> Path:
    return _path("WAREHOUSE_DATA_DIR", storage_root() / "data")


def landing_dir() -> Path:
    """Drop zone: councils' files wait here until the ingest DAG takes them."""
    return _path("LANDING_DIR", data_dir() / "landing")


def received_dir() -> Path:
    """Every file ever received, kept by content hash, whatever became of its rows."""
    return _path("RECEIVED_DIR", data_dir() / "received")


def replay_clock() -> datetime | None:
    """The warehouse's clock, set to a past moment to replay history (the release timeline test does):
    WAREHOUSE_CLOCK, an ISO 8601 time with its offset. Unset, as in live running, the clock is now:
    the database server's time for arrivals, and for which cycles have closed."""
    value = os.environ.get("WAREHOUSE_CLOCK")
    return datetime.fromisoformat(value) if value else None


def set_aside_dir() -> Path:
    """Entries refused from landing (links, folders, unreadable files), moved here as they were, beside
    the landing folder (the same file system, so the move is a rename)."""
    return _path("SET_ASIDE_DIR", landing_dir().parent / "set_aside")


def outputs_dir() -> Path:
    return _path("OUTPUTS_DIR", storage_root() / "outputs")


def validation_results_dir() -> Path:
    """GX's validation results, one JSON file per validation, from whichever process ran it: the Data
    Docs are rendered from them, so they list every validation, not one process's."""
    return _path("GX_VALIDATION_RESULTS_DIR", data_dir() / "gx" / "validations")


def dbt_target_dir() -> Path:
    """dbt's artifacts (manifest, run results): DBT_TARGET_PATH as dbt reads it, else beside the dbt project
    unless a storage root is set, then under it (the publication reads the manifest's descriptions)."""
    if configured := os.environ.get("DBT_TARGET_PATH"):
        target = Path(configured)
        return target if target.is_absolute() else dbt_project_dir() / target
    if "WAREHOUSE_STORAGE_ROOT" in os.environ:
        return storage_root() / "dbt" / "target"
    return dbt_project_dir() / "target"


def embedded_pgdata() -> Path:
    return _path("EMBEDDED_PGDATA", PROJECT_ROOT / ".warehouse" / "pgdata")


def embedded_passfile() -> Path:
    """The embedded server's superuser password, as a libpq password file (mode 0600) beside its data."""
    pgdata = embedded_pgdata()
    return pgdata.with_name(pgdata.name + ".pgpass")


def dbt_project_dir() -> Path:
    return PROJECT_ROOT / "dbt_project"


def expectations_dir() -> Path:
    return PROJECT_ROOT / "expectations"


def dags_dir() -> Path:
    return PROJECT_ROOT / "dags"


def data_docs_enabled() -> bool:
    """GX Data Docs are rendered after every batch unless BUILD_DATA_DOCS=0: the tests turn them off
    except for the pipeline run whose pages they check."""
    return os.environ.get("BUILD_DATA_DOCS", "1") != "0"


# On every HTML page the project writes itself: nothing runs and nothing loads from anywhere, so markup
# that slipped into a page from the data could do nothing; inline styles and data: images keep the pages
# whole offline.
CONTENT_SECURITY_POLICY = (
    "default-src 'none'; script-src 'none'; style-src 'unsafe-inline'; img-src data:;"
    " base-uri 'none'; form-action 'none'"
)
CSP_META = f'<meta http-equiv="Content-Security-Policy" content="{CONTENT_SECURITY_POLICY}">'


@dataclass(frozen=True)
class ReadingLimits:
    """What one received file may hold. A file beyond any of them is rejected with the limit named, before
    the part that would cost the memory or time is read. Far above any real return (a council's is one
    row a cycle; a RIEP report, a few dozen rows a sheet), far below what would stall the ingest."""

    file_bytes: int
    rows: int
    columns: int
    cell_characters: int
    workbook_expanded_bytes: int  # a workbook is a zip: its parts' size once decompressed


def reading_limits() -> ReadingLimits:
    return ReadingLimits(
        file_bytes=int(os.environ.get("LANDING_MAX_FILE_BYTES", 20_000_000)),
        rows=int(os.environ.get("LANDING_MAX_ROWS", 100_000)),
        columns=int(os.environ.get("LANDING_MAX_COLUMNS", 100)),
        cell_characters=int(os.environ.get("LANDING_MAX_CELL_CHARACTERS", 5_000)),
        workbook_expanded_bytes=int(os.environ.get("LANDING_MAX_WORKBOOK_EXPANDED_BYTES", 100_000_000)),
    )
