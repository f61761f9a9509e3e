"""Database roles for the people who read the warehouse.

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
"""

from __future__ import annotations

import logging

import psycopg
from psycopg import sql

log = logging.getLogger(__name__)

ANALYST_ROLE = "board_analyst"
# Schemas the analysts read: the marts and the reference dimensions they join to.
ANALYST_SCHEMAS = ("marts", "reference")


class MissingAnalystRole(RuntimeError):
    """The role does not exist and the pipeline's role may not create it."""


def ensure_analyst_role(conn: psycopg.Connection, role: str = ANALYST_ROLE) -> None:
    """Create ``role`` (NOLOGIN) if missing and give it read-only access to the analyst schemas.

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
                raise MissingAnalystRole(
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
        for schema in ANALYST_SCHEMAS:
            names = {"schema": sql.Identifier(schema), "role": sql.Identifier(role)}
            conn.execute(sql.SQL("create schema if not exists {schema}").format(**names))
            conn.execute(sql.SQL("grant usage on schema {schema} to {role}").format(**names))
            conn.execute(sql.SQL("grant select on all tables in schema {schema} to {role}").format(**names))
            conn.execute(
                sql.SQL("alter default privileges in schema {schema} grant select on tables to {role}").format(**names)
            )
