"""What each DAG task does, as plain functions: DAG files call these, tests can too."""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path
from typing import Any

from psycopg import sql
from psycopg.types.json import Jsonb

from efficiency_warehouse import dbt_runner, extracts, ingest, roles, settings, warehouse
from efficiency_warehouse.datasets import DATASETS
from efficiency_warehouse.schema import ensure_ingest_tables


def ensure_analyst_role() -> None:
    """The board analysts' read-only role must exist before dbt grants it SELECT on the marts."""
    with warehouse.connect() as conn:
        roles.ensure_analyst_role(conn)


def build_reference_data() -> dict[str, int]:
    """Load the reference seeds and build and test the reference schema the quality gates use."""
    with warehouse.exclusive("build_and_publish"):
        ensure_analyst_role()
        return _recorded_build(
            "reference",
            {"dbt_project": dbt_project_fingerprint()},
            ("build", "--select", "tag:reference", "--indirect-selection", "cautious"),
        )


def ingest_dataset(dataset_name: str, dag_run_id: str | None = None) -> list[dict[str, Any]]:
    """Process every file waiting in the dataset's landing folder; one result per file."""
    return ingest.as_dicts(ingest.ingest_landing(DATASETS[dataset_name], dag_run_id))


def rows_loaded(results: list[dict[str, Any]]) -> int:
    return sum(result["rows_loaded"] for result in results)


NOTHING_TO_BUILD = (
    "no council returns or RIEP deliveries have been loaded yet: nothing to build. The marts are built"
    " when the first rows arrive (README: the first day)"
)
NOTHING_PUBLISHED = "no build of the marts has passed yet: nothing to publish"
NEWER_BUILD = "a newer dbt build ({newer}) came in after this publication's releases: its own publication follows"


def dbt_project_fingerprint() -> str:
    """A hash of the dbt project's files: a changed model, test or seed is a new input."""
    digest = hashlib.sha256()
    root = settings.dbt_project_dir()
    for path in sorted(root.rglob("*")):
        relative = path.relative_to(root)
        if path.is_file() and relative.parts[0] not in ("target", "logs", "dbt_packages"):
            digest.update(str(relative).encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


BUILD_INPUTS_SQL = """
    select jsonb_build_object(
        'last_file', (select max(manifest_id) from ingest.load_manifest),
        'decisions', (select count(*) from ingest.review_items where decision <> 'pending'),
        'reference_build', (
            select build_id from ingest.builds where kind = 'reference' order by finished_at desc limit 1
        )
    )
"""


def build_inputs(conn) -> dict[str, Any]:
    """What a marts build is built from: every file processed, every review decision, the reference
    build, and the dbt project itself."""
    return conn.execute(BUILD_INPUTS_SQL).fetchone()[0] | {"dbt_project": dbt_project_fingerprint()}


def _recorded_build(kind: str, inputs: dict[str, Any], dbt_arguments: tuple[str, ...]) -> dict[str, Any]:
    """Run the dbt build and record its outcome in ``ingest.builds``, passed or not: the warehouse, not a
    file on the disk of the worker that ran it, is where the publication gate and later builds read it."""
    with warehouse.connect() as conn:
        ensure_ingest_tables(conn)
    try:
        nodes = dbt_runner.run_dbt(*dbt_arguments)
    except dbt_runner.DbtFailed as failure:
        _record_build(kind, inputs, failure.failed_nodes)
        raise
    _record_build(kind, inputs, [])
    return dbt_runner.summarise(nodes) | {"build": dbt_runner.invocation_id()}


def _record_build(kind: str, inputs: dict[str, Any], failed_nodes: list[str]) -> None:
    with warehouse.connect() as conn:
        conn.execute(
            "insert into ingest.builds (build_id, kind, inputs, passed, failed_nodes) values (%s, %s, %s, %s, %s)"
            " on conflict (build_id) do nothing",
            (dbt_runner.invocation_id(), kind, Jsonb(inputs), not failed_nodes, failed_nodes),
        )


LAST_BUILD_SQL = """
    select build_id, kind, finished_at, inputs, passed, failed_nodes
    from ingest.builds order by finished_at desc, build_id limit 1
"""


def last_build(conn) -> dict[str, Any] | None:
    """The last dbt build recorded (reference or marts, passed or not), whichever process ran it."""
    cursor = conn.execute(LAST_BUILD_SQL)
    row = cursor.fetchone()
    return dict(zip([column.name for column in cursor.description], row, strict=True)) if row else None


def last_build_id() -> str | None:
    with warehouse.connect() as conn:
        ensure_ingest_tables(conn)
        build = last_build(conn)
    return build["build_id"] if build else None


def build_marts(skip_if_unchanged: bool = False) -> dict[str, Any]:
    """Staging, intermediate and marts with their tests; the reference schema is its own DAG's.

    One build or publication step at a time, whoever runs it (the scheduler's DAGs, `make run`, a test):
    the warehouse lock ``build_and_publish``. Before any council return has been loaded (a new
    deployment's first reference build triggers the transform) there is nothing to build:
    ``{"skipped": reason}``, and the DAG task skips so that nothing downstream runs. With
    ``skip_if_unchanged`` (the scheduled transform), a build whose inputs are those of the last build
    that passed is skipped too: the Asset events of one tick's ingests start one build, not one each.
    """
    raw_tables = [part.raw_table for dataset in DATASETS.values() for part in dataset.parts]
    any_rows = sql.SQL(" or ").join(
        sql.SQL("exists (select from {})").format(sql.Identifier(*table.split("."))) for table in raw_tables
    )
    with warehouse.exclusive("build_and_publish"):
        ensure_analyst_role()
        with warehouse.connect() as conn:
            ensure_ingest_tables(conn)  # dbt's sources exist even before the first file arrives
            if not conn.execute(sql.SQL("select {}").format(any_rows)).fetchone()[0]:
                return {"skipped": NOTHING_TO_BUILD}
            inputs = build_inputs(conn)
            last = last_build(conn)
        unchanged = last is not None and last["kind"] == "marts" and last["passed"] and last["inputs"] == inputs
        if skip_if_unchanged and unchanged:
            since = f"{last['build_id']} at {last['finished_at']:%Y-%m-%d %H:%M:%S %Z}"
            return {"skipped": f"nothing new since build {since}"}
        return _recorded_build("marts", inputs, ("build", "--exclude", "tag:reference"))


def publish_releases_of_the_last_build() -> dict[str, Any]:
    """The publication DAG's first step: releases from the last build, and which build that was."""
    from efficiency_warehouse import publish

    with warehouse.exclusive("build_and_publish"):
        with warehouse.connect() as conn:
            ensure_ingest_tables(conn)
            built = conn.execute("select exists (select from ingest.builds where kind = 'marts')").fetchone()[0]
        if not built:
            return {"skipped": NOTHING_PUBLISHED}
        return {"build": last_build_id(), "releases": publish.publish_all()}


def publish_national_extract(build: str | None = None) -> dict[str, Any]:
    """The national extract, from the build ``build`` (when given) whose releases were just published;
    ``{"skipped": reason}`` when a newer build has come in since."""
    with warehouse.exclusive("build_and_publish"):
        if build is not None and (newer := last_build_id()) != build:
            return {"skipped": NEWER_BUILD.format(newer=newer)}
        return extracts.write_national_extract()


def generate_docs(output_path: Path | None = None) -> dict[str, Any]:
    """Write the dbt docs site as one self-contained HTML file that opens offline.

    ``dbt docs generate --static`` compiles the project, reads the catalog from the warehouse and
    writes ``static_index.html`` (manifest and catalog inlined) into dbt's target folder; it is copied
    to ``outputs/docs/dbt/index.html`` unless ``output_path`` says otherwise.
    """
    # A target folder of its own: the build's artifacts (its manifest's descriptions) stay as it left them.
    target_dir = dbt_runner.target_dir() / "docs_site"
    dbt_runner.run_dbt("docs", "generate", "--static", "--target-path", str(target_dir))
    output_path = output_path or settings.outputs_dir() / "docs" / "dbt" / "index.html"
    output_path.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(target_dir / "static_index.html", output_path)
    return {"path": str(output_path), "bytes": output_path.stat().st_size}


def publish_releases() -> list[dict[str, Any]]:
    """Treasury releases for every reported cycle, behind the publication gate."""
    from efficiency_warehouse import publish

    with warehouse.exclusive("build_and_publish"):
        return publish.publish_all()


def write_board_packs_and_index(build: str | None = None) -> dict[str, Any]:
    """The ICE Board pack for every reported cycle, the dbt docs site, and the outputs index page, from
    the build ``build`` (when given); ``{"skipped": reason}`` when a newer build has come in since."""
    with warehouse.exclusive("build_and_publish"):
        if build is not None and (newer := last_build_id()) != build:
            return {"skipped": NEWER_BUILD.format(newer=newer)}
        return _write_board_packs_and_index()


def _write_board_packs_and_index() -> dict[str, Any]:
    from efficiency_warehouse import board_pack, outputs_index, review

    packs = board_pack.write_board_packs(settings.outputs_dir() / "board_packs")
    docs = generate_docs()
    with warehouse.connect() as conn:
        held_for_review = review.pending(conn)
    index = outputs_index.write_index(held_for_review=held_for_review)
    return {"board_packs": [str(p) for p in packs], "dbt_docs": docs["path"], "index": str(index)}
