"""Database roles for the people who read the warehouse: ``board_analyst`` and ``hm_treasury``.

``board_analyst`` is the ICE Programme Board analysts' group role: read-only on the marts and on the
reference dimensions (councils, regions and RIEPs, successions, programme years) they join to, and
nothing else: no raw, ingest, staging, intermediate or seeds, and no write or CREATE anywhere. It
cannot log in (NOLOGIN); each analyst gets a login role that is a member of it::

    create role alice login password '...' in role board_analyst;

dbt ``table`` materializations drop and recreate every mart on each build, so a grant on a table
would not outlive the next build. Two things keep the marts readable:

- dbt's ``grants`` config (``+grants: {select: [board_analyst]}`` on the marts folders in
  ``dbt_project.yml``) grants SELECT on each table as dbt creates it, whoever runs dbt. For that the
  role must exist before dbt runs: ``pipeline.build_reference_data()`` and ``pipeline.build_marts()``
  call :func:`ensure_analyst_role` first.
- default privileges for the role that runs the pipeline (the same connection dbt uses), in case a
  table is created in those schemas outside dbt.

Schema USAGE (and CONNECT on the database) is not something dbt grants, so this module grants it,
creating the two schemas if a first run has not yet: their owner is the pipeline's role, the one dbt
would have created them as. Creating the role needs CREATEROLE (the embedded server's superuser has
it); where the pipeline's role lacks it, an administrator creates ``board_analyst`` once and this
module only grants.

``hm_treasury`` is the same kind of role for the ``published`` schema (publish.ensure_published_schema).

Reading is all either role may do. PostgreSQL gives every role (PUBLIC) more than that by default, so
:func:`restrict_readers` takes it back from PUBLIC, which the pipeline's own role does not need either:
temporary tables and functions (TEMP on the database; no schema grants them CREATE), new large objects
(the ``lo_*`` functions that make one: storage without quota), the SQL of every view and rule
(``pg_get_viewdef``, ``pg_get_ruledef``, ``pg_rewrite``: the staging and intermediate logic), and
CONNECT on the cluster's other databases this role owns (on the embedded server ``postgres``,
``template1``, Airflow's metadata).
Revoking on catalog functions needs a superuser: where the pipeline's role is not one, what it could
not take back is logged for an administrator (docker/postgres-init does it at the server's first start).
"""

from __future__ import annotations

import logging

import psycopg
from psycopg import sql

log = logging.getLogger(__name__)

ANALYST_ROLE = "board_analyst"
# Schemas the analysts read: the marts and the reference dimensions they join to.
ANALYST_SCHEMAS = ("marts", "reference")
TREASURY_ROLE = "hm_treasury"
TREASURY_SCHEMAS = ("published",)

# Catalog functions whose results reading the marts does not need: view and rule definitions (the SQL of
# schemas the readers may not use), and creating large objects. lo_import is superuser-only already.
WITHHELD_FUNCTIONS = (
    "pg_get_viewdef(oid)",
    "pg_get_viewdef(oid, boolean)",
    "pg_get_viewdef(oid, integer)",
    "pg_get_viewdef(text)",
    "pg_get_viewdef(text, boolean)",
    "pg_get_ruledef(oid)",
    "pg_get_ruledef(oid, boolean)",
    "lo_creat(integer)",
    "lo_create(oid)",
    "lo_from_bytea(oid, bytea)",
)
WITHHELD_CATALOGS = ("pg_rewrite",)  # ev_action: each view's query as a parse tree
WITHHELD_VIEWS = ("pg_views", "pg_rules")  # call pg_get_viewdef/pg_get_ruledef: fail rather than half-work


class MissingReaderRole(RuntimeError):
    """The role does not exist and the pipeline's role may not create it."""


def ensure_analyst_role(conn: psycopg.Connection, role: str = ANALYST_ROLE) -> None:
    """Create ``role`` (NOLOGIN) if missing and give it read-only access to the analyst schemas."""
    ensure_reader_role(conn, role, ANALYST_SCHEMAS)


def ensure_reader_role(conn: psycopg.Connection, role: str, schemas: tuple[str, ...]) -> None:
    """Create ``role`` (NOLOGIN) if missing, let it read ``schemas`` and nothing else, and take from
    PUBLIC what reading does not need (:func:`restrict_readers`).

    Idempotent: every statement is a no-op when already in effect. Commits on ``conn``.
    """
    with conn.transaction():
        # Serialise: two pipelines starting at once would race on the role and the schemas.
        conn.execute("select pg_advisory_xact_lock(hashtext('efficiency_warehouse.roles'))")
        if not conn.execute("select 1 from pg_roles where rolname = %s", (role,)).fetchone():
            try:
                with conn.transaction():  # a savepoint: roles are cluster-wide, another database may win the race
                    conn.execute(sql.SQL("create role {} nologin").format(sql.Identifier(role)))
            except (psycopg.errors.DuplicateObject, psycopg.errors.UniqueViolation):
                pass
            except psycopg.errors.InsufficientPrivilege as error:
                raise MissingReaderRole(
                    f"role {role} does not exist and {conn.info.user} may not create it (no CREATEROLE):"
                    f" have an administrator run 'create role {role} nologin' once"
                ) from error
        database = conn.execute("select current_database()").fetchone()[0]
        try:
            with conn.transaction():  # needed where CONNECT is revoked from PUBLIC (docker/postgres-init)
                conn.execute(
                    sql.SQL("grant connect on database {} to {}").format(sql.Identifier(database), sql.Identifier(role))
                )
        except psycopg.errors.InsufficientPrivilege:
            log.warning("%s may not grant CONNECT on database %s to %s", conn.info.user, database, role)
        for schema in schemas:
            names = {"schema": sql.Identifier(schema), "role": sql.Identifier(role)}
            conn.execute(sql.SQL("create schema if not exists {schema}").format(**names))
            conn.execute(sql.SQL("grant usage on schema {schema} to {role}").format(**names))
            conn.execute(sql.SQL("grant select on all tables in schema {schema} to {role}").format(**names))
            conn.execute(
                sql.SQL("alter default privileges in schema {schema} grant select on tables to {role}").format(**names)
            )
        restrict_readers(conn)


def restrict_readers(conn: psycopg.Connection) -> list[str]:
    """Revoke from PUBLIC what no reader needs (see the module's docstring); return, and log, the
    statements this role could not apply. Runs inside the caller's transaction."""
    database = conn.execute("select current_database()").fetchone()[0]
    statements = [
        sql.SQL("revoke temporary on database {} from public").format(sql.Identifier(database)),
        sql.SQL("grant temporary on database {} to current_user").format(sql.Identifier(database)),
        *(
            sql.SQL("revoke execute on function pg_catalog.{} from public").format(sql.SQL(f))
            for f in WITHHELD_FUNCTIONS
        ),
        *(
            sql.SQL("revoke select on pg_catalog.{} from public").format(sql.Identifier(name))
            for name in WITHHELD_CATALOGS + WITHHELD_VIEWS
        ),
    ]
    # The cluster's other databases this role owns (all of them on the embedded server); on a shared
    # server other owners' databases are their administrators' to close (pg_hba.conf).
    others = conn.execute(
        """
        select datname from pg_database
        where datallowconn and datname <> current_database()
          and datdba = (select oid from pg_roles where rolname = current_user)
        """
    ).fetchall()
    statements += [sql.SQL("revoke connect on database {} from public").format(sql.Identifier(d)) for (d,) in others]
    refused = []
    for statement in statements:
        try:
            with conn.transaction():
                conn.execute(statement)
        except psycopg.errors.InsufficientPrivilege:
            refused.append(statement.as_string(conn))
    # Revoking what this role does not own only warns: check what PUBLIC still holds.
    still = conn.execute(
        "select f from unnest(%s::text[]) as f where has_function_privilege('public', 'pg_catalog.' || f, 'execute')",
        (list(WITHHELD_FUNCTIONS),),
    ).fetchall()
    refused += [f"revoke execute on function pg_catalog.{f} from public" for (f,) in still]
    if refused:
        log.warning(
            "readers keep privileges %s may not take back; have an administrator run in database %s: %s",
            conn.info.user,
            database,
            "; ".join(dict.fromkeys(refused)),
        )
    return refused
