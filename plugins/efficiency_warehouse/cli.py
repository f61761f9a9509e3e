"""Command line for operators: `python -m efficiency_warehouse.cli run|dsn|psql|stop|seed-landing`.

The Makefile's targets call these.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from efficiency_warehouse import settings, warehouse


def seed_landing_if_empty() -> int:
    """Put the sample files in each landing folder that has no files waiting; return how many."""
    from efficiency_warehouse import landing, sample_data, sample_riep_data
    from efficiency_warehouse.datasets import DATASETS
    from efficiency_warehouse.ingest import landing_folder
    from efficiency_warehouse.schema import ensure_ingest_tables

    writers = {
        "council_baselines": sample_data.write_sample_baselines,
        "council_returns": sample_data.write_sample_returns,
        "riep_allocations": sample_riep_data.write_sample_allocations,
        "riep_annual_reports": sample_riep_data.write_sample_riep_reports,
        "simplification_status_updates": sample_riep_data.write_sample_status_updates,
    }
    written = 0
    with warehouse.connect() as conn:
        ensure_ingest_tables(conn)
        for name, write in writers.items():
            folder = landing_folder(DATASETS[name])
            if not (folder.is_dir() and any(p.is_file() and not p.name.startswith(".") for p in folder.iterdir())):
                written += len(write(folder))
                # The sample files replay 2008-2011: they arrive when they would have, not today.
                landing.replay_arrivals(conn, name, folder)
    return written


def write_blank_templates() -> list[Path]:
    from efficiency_warehouse.datasets import DATASETS
    from efficiency_warehouse.templates import write_templates

    return write_templates(settings.outputs_dir() / "templates", tuple(DATASETS.values()))


def run_pipeline(console) -> dict[str, float]:
    """Everything `make run` does after the install; prints one line per stage to ``console``."""
    from efficiency_warehouse import local_airflow

    timings: dict[str, float] = {}

    def stage(name: str, action):
        started = time.perf_counter()
        result = action()
        timings[name] = time.perf_counter() - started
        console.write(f"  {name:<40} {timings[name]:6.1f}s\n")
        console.flush()
        return result

    # Airflow's metadata settings before the warehouse's: finding the warehouse Connection imports Airflow.
    stage(
        "prepare Airflow (metadata database)",
        lambda: (local_airflow.configure_environment(), local_airflow.migrate_metadata_database()),
    )
    stage("start the warehouse", warehouse.warehouse_dsn)
    stage("blank templates for councils", write_blank_templates)
    seeded = stage("sample files into landing if empty", seed_landing_if_empty)
    dags = stage("parse the DAGs", local_airflow.load_dags)
    for dag_id in local_airflow.PIPELINE_DAG_IDS:
        stage(f"DAG {dag_id}", lambda dag=dags[dag_id]: local_airflow.run_dag(dag))
    console.write(f"  ({seeded} sample files were put in the landing folder)\n" if seeded else "")
    return timings


@contextmanager
def output_to_log(log_path: Path):
    """Send everything this process and its children print to ``log_path``; yield the console."""
    log_path.parent.mkdir(parents=True, exist_ok=True)
    sys.stdout.flush()
    sys.stderr.flush()
    saved_out, saved_err = os.dup(1), os.dup(2)
    console = os.fdopen(os.dup(1), "w", buffering=1)
    with log_path.open("w") as log:
        os.dup2(log.fileno(), 1)
        os.dup2(log.fileno(), 2)
        try:
            yield console
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            os.dup2(saved_out, 1)
            os.dup2(saved_err, 2)
            os.close(saved_out)
            os.close(saved_err)
            console.close()


def run_and_report(verbose: bool) -> int:
    log_path = settings.outputs_dir() / "logs" / "pipeline-run.log"
    print(f"Running the pipeline (full log: {log_path})")
    started_at = datetime.now(UTC)
    try:
        with warehouse.exclusive("pipeline_run", wait=False):
            if verbose:
                run_pipeline(sys.stdout)
            else:
                with output_to_log(log_path) as console:
                    run_pipeline(console)
    except (warehouse.AnotherRunInProgress, warehouse.WarehouseNotConfigured) as reason:
        print(f"\nNOT RUN: {reason}\n")
        return 2
    except Exception as error:  # the operator needs the reason and where to read more, not a bare traceback
        print(f"\nFAILED: {error}\n")
        if not verbose:
            tail = log_path.read_text(errors="replace").splitlines()[-40:]
            print("Last lines of the log:\n  " + "\n  ".join(tail))
        return 1
    print_summary(started_at)
    return 0


def print_summary(since: datetime | None = None) -> None:
    from efficiency_warehouse import extracts

    since = since or datetime.fromtimestamp(0, UTC)
    with warehouse.connect() as conn:
        held = 0
        if conn.execute("select to_regclass('ingest.review_items')").fetchone()[0]:  # older warehouses
            held = conn.execute("select count(*) from ingest.review_items where decision = 'pending'").fetchone()[0]
        new_files = conn.execute(
            "select count(*) from ingest.load_manifest where processed_at >= %s", (since,)
        ).fetchone()[0]
        files = conn.execute(
            """
            select count(*),
                   count(*) filter (where status in ('loaded', 'loaded_with_quarantine')),
                   count(*) filter (where status = 'rejected'),
                   count(*) filter (where status = 'duplicate'),
                   coalesce(sum(rows_loaded), 0), coalesce(sum(rows_quarantined), 0),
                   count(*) filter (where status = 'refused')
            from ingest.load_manifest
            """
        ).fetchone()
        waiting = 0
        if conn.execute("select to_regclass('ingest.landing_arrivals')").fetchone()[0]:  # older warehouses
            waiting = conn.execute("select count(*) from ingest.landing_arrivals").fetchone()[0]
        position = conn.execute(
            """
            select financial_year, return_type, councils_reported, councils_expected,
                   reported_gains_gbp_millions, target_gains_gbp_millions, gap_to_target_gbp_millions
            from marts.national_efficiency_position
            order by programme_year, return_type desc
            """
        ).fetchall()
    print()
    *counts, refused = files
    print("Files received: {} ({} loaded, {} rejected, {} duplicates); rows loaded {}, quarantined {}".format(*counts))
    print(f"  {new_files} of them new in this run")
    if refused:
        print(f"  {refused} refused, never opened, and set aside (links, folders, unreadable files):")
        print(f"    {settings.set_aside_dir()}")
    if waiting:
        print(f"  {waiting} seen in landing and not taken yet (hidden files: uploads in progress?): see the task log")
    print("  see ingest.load_manifest and ingest.quarantined_rows")
    if held:
        print(f"  {held} returns held for review, out of the releases until decided: make review")
    print()
    print("National NI 179 position against the 3% a year target (£m, cumulative since April 2008):")
    print(f"  {'year':8} {'return':9} {'councils':>9} {'reported':>10} {'target':>10} {'gap':>9}")
    for year, kind, reported_n, expected_n, reported, target, gap in position:
        print(
            f"  {year:8} {kind:9} {f'{reported_n}/{expected_n}':>9} {reported:>10,.1f} {target:>10,.1f} {gap:>+9,.1f}"
        )
    print()
    print(f"Marts:    schema 'marts' in {describe_warehouse()}  (make psql; make dsn)")
    print(f"Outputs:  {settings.outputs_dir() / 'index.html'}  (releases, board packs, dbt docs, GX Data Docs)")
    print(f"Extract:  {extracts.extracts_dir() / 'national_efficiency_position.csv'}")
    print(f"Templates for councils (XLSX with data dictionary, CSV): {settings.outputs_dir() / 'templates'}")
    print(f"Landing:  {settings.landing_dir()}   kept files: {settings.received_dir()}")


def describe_warehouse() -> str:
    if warehouse.is_embedded():
        return f"the embedded PostgreSQL ({settings.embedded_pgdata()})"
    return f"the PostgreSQL of the Airflow Connection '{warehouse.CONNECTION_ID}'"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="efficiency_warehouse", description=__doc__)
    parser.add_argument("command", choices=["run", "dsn", "psql", "stop", "seed-landing", "summary", "templates"])
    parser.add_argument("--verbose", action="store_true", help="run: show the full Airflow and dbt log on the console")
    args = parser.parse_args(argv)
    try:
        return _command(args)
    except warehouse.WarehouseNotConfigured as reason:
        print(f"NOT RUN: {reason}", file=sys.stderr)
        return 2


def _command(args: argparse.Namespace) -> int:
    if args.command == "run":
        from efficiency_warehouse import local_airflow

        local_airflow.configure_environment()  # before Airflow is first imported (finding the warehouse does)
        return run_and_report(args.verbose)
    elif args.command == "summary":
        print_summary()
    elif args.command == "dsn":
        print(warehouse.as_url(warehouse.warehouse_dsn()))
    elif args.command == "psql":
        dsn = warehouse.warehouse_dsn()
        os.execv(warehouse.psql_executable(), [warehouse.psql_executable(), dsn])
    elif args.command == "stop":
        print("embedded warehouse stopped" if warehouse.stop_embedded() else "embedded warehouse was not running")
    elif args.command == "templates":
        for path in write_blank_templates():
            print(path)
    elif args.command == "seed-landing":
        print(f"{seed_landing_if_empty()} sample files written")
    return 0


if __name__ == "__main__":
    sys.exit(main())
