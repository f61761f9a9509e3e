"""Tables that ingestion owns: the load manifest, the quarantine and one raw table per dataset.

Created idempotently by the ingest DAG before it loads anything; dbt reads them as sources.
"""

from __future__ import annotations

import psycopg
from psycopg import sql

from efficiency_warehouse.datasets import DATASETS, Dataset

OPERATIONS_DDL = """
create schema if not exists ingest;
create schema if not exists raw;

create table if not exists ingest.load_manifest (
    manifest_id        bigint generated always as identity primary key,
    dataset            text        not null,
    file_sha256        text        not null,
    file_name          text        not null,
    file_size_bytes    bigint      not null,
    received_at        timestamptz not null,
    processed_at       timestamptz not null default now(),
    status             text        not null
                       check (status in ('loaded', 'loaded_with_quarantine', 'rejected', 'duplicate')),
    rows_read          integer     not null,
    rows_loaded        integer     not null,
    rows_quarantined   integer     not null,
    error_message      text,
    duplicate_of       bigint references ingest.load_manifest (manifest_id),
    kept_at_path       text        not null,
    dag_run_id         text,
    constraint rows_add_up check (rows_read = rows_loaded + rows_quarantined)
);
-- Refused entries of a landing folder (links, folders, unreadable files) are recorded but never opened:
-- no content hash, no kept copy; they are moved aside instead. The file's own modification time is kept
-- beside its arrival (received_at: when the warehouse first saw it).
alter table ingest.load_manifest alter column file_sha256 drop not null;
alter table ingest.load_manifest alter column kept_at_path drop not null;
alter table ingest.load_manifest add column if not exists file_modified_at timestamptz;
alter table ingest.load_manifest add column if not exists set_aside_path text;
do $$
begin
    if not exists (
        select from pg_constraint
        where conname = 'load_manifest_status_check' and pg_get_constraintdef(oid) like '%refused%'
    ) then
        alter table ingest.load_manifest drop constraint if exists load_manifest_status_check;
        alter table ingest.load_manifest add constraint load_manifest_status_check
            check (status in ('loaded', 'loaded_with_quarantine', 'rejected', 'duplicate', 'refused'));
        alter table ingest.load_manifest add constraint refused_entries_never_opened check (
            case when status = 'refused' then file_sha256 is null and kept_at_path is null
                 else file_sha256 is not null and kept_at_path is not null end
        );
    end if;
end
$$;

-- Entries seen in a landing folder and not yet recorded in the manifest: when each was first seen is
-- its arrival (efficiency_warehouse.landing).
create table if not exists ingest.landing_arrivals (
    dataset            text        not null,
    file_name          text        not null,
    file_size_bytes    bigint      not null,
    file_modified_at   timestamptz not null,
    first_seen_at      timestamptz not null default now(),
    primary key (dataset, file_name, file_size_bytes, file_modified_at)
);

-- The same bytes are processed once; later deliveries of them are recorded as duplicates.
create unique index if not exists load_manifest_one_processing_per_content
    on ingest.load_manifest (dataset, file_sha256) where status <> 'duplicate';

create table if not exists ingest.quarantined_rows (
    quarantine_id      bigint generated always as identity primary key,
    -- deferred: a file's findings are written before its manifest row, in the same transaction
    manifest_id        bigint      not null references ingest.load_manifest (manifest_id) deferrable initially deferred,
    dataset            text        not null,
    file_name          text        not null,
    row_number         integer,    -- null: the finding is about the whole file
    column_name        text,
    offending_value    text,
    rule               text        not null,
    message            text        not null,
    raw_record         jsonb,
    quarantined_at     timestamptz not null default now()
);
create index if not exists quarantined_rows_by_manifest on ingest.quarantined_rows (manifest_id);

-- Findings that did not stop the row: it loaded, flagged (raw.*.validation_warnings holds the rule names).
create table if not exists ingest.validation_warnings (
    warning_id         bigint generated always as identity primary key,
    manifest_id        bigint      not null references ingest.load_manifest (manifest_id) deferrable initially deferred,
    dataset            text        not null,
    file_name          text        not null,
    row_number         integer,    -- null: the warning is about the whole file
    column_name        text,
    offending_value    text,
    rule               text        not null,
    message            text        not null,
    raised_at          timestamptz not null default now()
);
create index if not exists validation_warnings_by_manifest on ingest.validation_warnings (manifest_id);

-- The section (sheet) a finding is about, for deliveries with several: row numbers count within it.
alter table ingest.quarantined_rows add column if not exists section text;
alter table ingest.validation_warnings add column if not exists section text;

-- Loaded rows whose warning could move a published total, held out of the release marts until an
-- engineer decides (efficiency_warehouse.review): pending, confirmed or rejected, with who, when, why.
create table if not exists ingest.review_items (
    review_id          bigint      generated always as identity primary key,
    manifest_id        bigint      not null references ingest.load_manifest (manifest_id) deferrable initially deferred,
    dataset            text        not null,
    source_row_number  integer     not null,
    council_code       text        not null,
    financial_year     text        not null,
    return_type        text        not null,
    value_received     text,
    rules              text[]      not null,
    held_at            timestamptz not null default now(),
    decision           text        not null default 'pending'
                                   check (decision in ('pending', 'confirmed', 'rejected')),
    decided_by         text,
    decided_at         timestamptz,
    decision_reason    text,
    unique (manifest_id, source_row_number),
    check ((decision = 'pending') = (decided_at is null))
);

-- Each dbt build, with what it was built from (pipeline.build_inputs) and whether it passed: a
-- scheduled transform whose inputs have not changed since the last one passed builds nothing, and the
-- publication gate reads the outcome here, wherever the build ran.
create table if not exists ingest.builds (
    build_id     text        primary key,  -- dbt's invocation id
    kind         text        not null check (kind in ('reference', 'marts')),
    finished_at  timestamptz not null default now(),
    inputs       jsonb       not null
);
alter table ingest.builds
    add column if not exists passed       boolean not null default true,
    add column if not exists failed_nodes text[]  not null default '{}';
"""


def raw_table_ddl(dataset: Dataset) -> sql.Composed:
    schema, table = dataset.raw_table.split(".")
    columns = [sql.SQL("{} {}").format(sql.Identifier(c.name), sql.SQL(c.sql_type)) for c in dataset.columns]
    return sql.SQL(
        """
        create table if not exists {table} (
            manifest_id        bigint  not null
                               references ingest.load_manifest (manifest_id) deferrable initially deferred,
            source_row_number  integer not null,
            {columns},
            validation_warnings text[] not null default '{{}}',
            primary key (manifest_id, source_row_number)
        )
        """
    ).format(table=sql.Identifier(schema, table), columns=sql.SQL(",\n            ").join(columns))


def ensure_ingest_tables(conn: psycopg.Connection) -> None:
    """Create what is missing; safe to call on every run."""
    with conn.transaction():
        # Serialise: two first runs at once would race on "create ... if not exists".
        conn.execute("select pg_advisory_xact_lock(hashtext('efficiency_warehouse.ddl'))")
        conn.execute(OPERATIONS_DDL)
        for dataset in DATASETS.values():
            for part in dataset.parts:
                conn.execute(raw_table_ddl(part))
                if part.as_filed_column:  # added after the first raw tables were made
                    conn.execute(
                        sql.SQL("alter table {} add column if not exists {} text").format(
                            sql.Identifier(*part.raw_table.split(".")), sql.Identifier(part.as_filed_column)
                        )
                    )
                # The staged checks look up earlier rows by their business key.
                schema, table = part.raw_table.split(".")
                conn.execute(
                    sql.SQL("create index if not exists {} on {} ({})").format(
                        sql.Identifier(f"{table}_by_key"),
                        sql.Identifier(schema, table),
                        sql.SQL(", ").join(map(sql.Identifier, part.key_columns)),
                    )
                )
