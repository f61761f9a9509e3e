"""The readers' roles: board_analyst read-only on the marts and reference dimensions, nothing else, and
still so after dbt rebuilds the marts; both it and hm_treasury refused what PostgreSQL gives every role
by default (temporary objects, functions, large objects, other databases, view definitions). Real login
roles, members of each, on the embedded PostgreSQL."""

from __future__ import annotations

import secrets

import psycopg
import pytest
from corpus import csv_bytes, drop
from psycopg import errors, sql
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from efficiency_warehouse import ingest, pipeline, publish, roles, warehouse
from efficiency_warehouse.datasets import COUNCIL_RETURNS

ANALYST = "test_board_analyst_login"
TREASURY = "test_hm_treasury_login"
MEMBERS = {roles.ANALYST_ROLE: ANALYST, roles.TREASURY_ROLE: TREASURY}
MEMBER_PASSWORD = secrets.token_urlsafe(16)  # each login with a password of its own, as a person would
FORBIDDEN_TABLES = (
    "raw.council_returns",
    "ingest.quarantined_rows",
    "ingest.load_manifest",
    "staging.stg_council_returns__returns",
    "intermediate.int_council_returns_deduplicated",
    "seeds.efficiency_baseline",
)
BOARD_MARTS = (
    "marts.national_efficiency_position",
    "marts.council_return_submissions",
    "marts.council_efficiency_position",
    "marts.council_efficiency_series",
    "marts.regional_efficiency_position",
    "marts.return_cycles",
    "marts.board_scorecard",
    "reference.councils",
    "reference.regions",
    "reference.financial_years",
    "reference.council_successions",
)


def return_row(code: str, kind: str, value: str) -> dict[str, str]:
    date = {"forecast": "2009-10-15", "actual": "2010-07-15"}[kind]
    return dict.fromkeys(COUNCIL_RETURNS.column_names, "") | {
        "council_code": code,
        "financial_year": "2009-10",
        "return_type": kind,
        "ni179_value_gbp_thousands": value,
        "submitted_date": date,
    }


@pytest.fixture(scope="module")
def marts_built(reference_loaded, tmp_path_factory):
    """Reference data, a small batch of returns, the marts; then a login role in board_analyst."""
    landing = tmp_path_factory.mktemp("roles")
    mp = pytest.MonkeyPatch()
    mp.setenv("LANDING_DIR", str(landing / "landing"))
    mp.setenv("RECEIVED_DIR", str(landing / "received"))
    rows = [return_row("E06000001", "forecast", "1000.0"), return_row("E06000002", "forecast", "2000.0")]
    drop(landing / "landing", COUNCIL_RETURNS, "returns.csv", csv_bytes(COUNCIL_RETURNS.column_names, rows))
    assert [r.status for r in ingest.ingest_landing(COUNCIL_RETURNS)] == ["loaded"]
    pipeline.build_marts()
    publish.ensure_published_schema()  # the Treasury's role and schema, as every publication makes sure of
    with warehouse.connect(autocommit=True) as conn:
        for group, member in MEMBERS.items():
            conn.execute(sql.SQL("drop role if exists {}").format(sql.Identifier(member)))
            conn.execute(
                sql.SQL("create role {} login password {} in role {}").format(
                    sql.Identifier(member), sql.Literal(MEMBER_PASSWORD), sql.Identifier(group)
                )
            )
    yield reference_loaded
    with warehouse.connect(autocommit=True) as conn:
        for member in MEMBERS.values():
            conn.execute(sql.SQL("drop role if exists {}").format(sql.Identifier(member)))
    mp.undo()


def member_connection(dsn: str, member: str, dbname: str | None = None) -> psycopg.Connection:
    """Connect as a member of a reader role, with its own password (never the owner's password file)."""
    params = conninfo_to_dict(dsn) | {"user": member, "password": MEMBER_PASSWORD}
    params |= {"dbname": dbname} if dbname else {}
    params.pop("passfile", None)
    return psycopg.connect(make_conninfo(**params), autocommit=True)


def analyst_connection(dsn: str) -> psycopg.Connection:
    return member_connection(dsn, ANALYST)


def mart_tables() -> list[str]:
    """Every table in the analysts' schemas, whoever added it."""
    with warehouse.connect() as conn:
        return [
            f"{schema}.{name}"
            for schema, name in conn.execute(
                "select schemaname, tablename from pg_tables where schemaname in ('marts', 'reference') order by 1, 2"
            ).fetchall()
        ]


def select_count(conn: psycopg.Connection, table: str) -> int:
    schema, name = table.split(".")
    return conn.execute(sql.SQL("select count(*) from {}").format(sql.Identifier(schema, name))).fetchone()[0]


def test_the_group_role_cannot_log_in_and_creating_it_again_changes_nothing(marts_built):
    with warehouse.connect() as conn:
        roles.ensure_analyst_role(conn)
        roles.ensure_analyst_role(conn)
        assert conn.execute("select rolcanlogin from pg_roles where rolname = 'board_analyst'").fetchall() == [(False,)]
        assert conn.execute(
            "select has_database_privilege('board_analyst', current_database(), 'connect'),"
            " has_database_privilege('board_analyst', current_database(), 'create')"
        ).fetchone() == (True, False)


def test_analyst_reads_every_mart_and_reference_dimension(marts_built):
    tables = mart_tables()
    assert set(BOARD_MARTS) <= set(tables)
    with analyst_connection(marts_built) as conn:
        counts = {table: select_count(conn, table) for table in tables}
    assert counts["marts.return_cycles"] == 6
    assert counts["marts.council_efficiency_position"] == 388 + 353 + 353


@pytest.mark.parametrize("table", FORBIDDEN_TABLES)
def test_analyst_cannot_read_raw_ingest_staging_intermediate_or_seeds(marts_built, table):
    with analyst_connection(marts_built) as conn, pytest.raises(errors.InsufficientPrivilege):
        select_count(conn, table)


@pytest.mark.parametrize(
    "statement",
    [
        "insert into marts.national_efficiency_position (financial_year, return_type) values ('2011-12', 'actual')",
        "update marts.national_efficiency_position set councils_reported = 0",
        "delete from marts.board_scorecard",
        "truncate marts.regional_efficiency_position",
        "drop table marts.council_efficiency_position",
        "create table marts.analyst_scratch (x int)",
        "create table public.analyst_scratch (x int)",
        "create table reference.analyst_scratch (x int)",
        "create schema analyst_scratch",
    ],
)
def test_analyst_cannot_write_anywhere(marts_built, statement):
    with analyst_connection(marts_built) as conn, pytest.raises(errors.InsufficientPrivilege):
        conn.execute(statement)


def plant_what_a_killed_build_leaves() -> None:
    """dbt renames the old relation <name>__dbt_backup, commits the new one, then drops the backup: killed
    in between, the backup stays, with the old table's grants. A view's backup likewise."""
    with warehouse.connect() as conn:
        conn.execute("create table marts.board_scorecard__dbt_backup as select * from marts.board_scorecard")
        conn.execute("grant select on marts.board_scorecard__dbt_backup to board_analyst")
        conn.execute("create table reference.councils__dbt_tmp as select * from reference.councils")
        conn.execute(
            "create view staging.stg_council_returns__returns__dbt_backup as"
            " select * from staging.stg_council_returns__returns"
        )


def leftovers() -> list[str]:
    with warehouse.connect() as conn:
        return [
            name
            for (name,) in conn.execute(
                "select relnamespace::regnamespace || '.' || relname from pg_class"
                " where relname ~ '__dbt_(backup|tmp)$'"
            ).fetchall()
        ]


def test_marts_stay_readable_after_dbt_recreates_them_and_a_killed_builds_leftovers_go_first(marts_built):
    plant_what_a_killed_build_leaves()
    assert len(leftovers()) == 3
    with analyst_connection(marts_built) as conn:
        assert select_count(conn, "marts.board_scorecard__dbt_backup") > 0  # what the next run must remove
    with warehouse.connect() as conn:
        before = conn.execute("select 'marts.board_scorecard'::regclass::oid").fetchone()[0]

    pipeline.build_marts()  # table materializations drop and recreate every mart

    assert leftovers() == []
    with warehouse.connect() as conn:
        after = conn.execute("select 'marts.board_scorecard'::regclass::oid").fetchone()[0]
    assert after != before
    with analyst_connection(marts_built) as conn:
        for table in mart_tables():
            select_count(conn, table)


def test_a_pipeline_role_that_may_not_create_roles_is_told_what_to_ask_for(marts_built):
    with analyst_connection(marts_built) as conn, pytest.raises(roles.MissingReaderRole, match="administrator"):
        roles.ensure_analyst_role(conn, role="test_role_nobody_created")


# What PostgreSQL lets every role do by default, and a reader must not: each refused for both roles.
BEYOND_READING = {
    "temporary table": "create temporary table scratch (x int)",
    "temporary function": "create function pg_temp.scratch() returns int language sql as 'select 1'",
    "function": "create function public.scratch() returns int language sql as 'select 1'",
    "large object": "select lo_from_bytea(0, convert_to(repeat('x', 1024 * 1024), 'UTF8'))",
    "large object, empty": "select lo_create(0)",
    "view definition": "select pg_get_viewdef(oid) from pg_class where relname = 'int_council_returns_deduplicated'",
    "view definitions": "select definition from pg_views where schemaname = 'intermediate'",
    "view query trees": "select ev_action from pg_rewrite",
}


@pytest.mark.parametrize("role", MEMBERS)
@pytest.mark.parametrize("attempt", BEYOND_READING)
def test_readers_cannot_do_more_than_read(marts_built, role, attempt):
    with member_connection(marts_built, MEMBERS[role]) as conn, pytest.raises(errors.InsufficientPrivilege):
        conn.execute(BEYOND_READING[attempt])


@pytest.mark.parametrize("role", MEMBERS)
def test_readers_cannot_connect_to_the_servers_other_databases(marts_built, role):
    for database in ("postgres", "template1"):
        with pytest.raises(psycopg.OperationalError, match="permission denied for database"):
            member_connection(marts_built, MEMBERS[role], dbname=database)


@pytest.mark.parametrize(
    ("role", "schema", "table"),
    [
        (roles.ANALYST_ROLE, "marts", "national_efficiency_position"),
        (roles.TREASURY_ROLE, "published", "releases"),
    ],
)
def test_readers_still_read_and_browse_their_own_schemas(marts_built, role, schema, table):
    with member_connection(marts_built, MEMBERS[role]) as conn:
        listed = conn.execute(
            "select table_name from information_schema.tables where table_schema = %s", (schema,)
        ).fetchall()
        assert (table,) in listed
        conn.execute(sql.SQL("select * from {} limit 1").format(sql.Identifier(schema, table))).fetchall()
        conn.execute(sql.SQL("explain select count(*) from {}").format(sql.Identifier(schema, table))).fetchall()
        columns = conn.execute(
            "select count(*) from pg_attribute where attrelid = %s::regclass and attnum > 0", (f"{schema}.{table}",)
        ).fetchone()[0]
        assert columns > 1
