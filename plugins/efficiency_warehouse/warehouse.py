"""Connections to the warehouse: a PostgreSQL named by the environment, or the embedded one.

Resolution order, read at call time (never at import):
1. ``WAREHOUSE_DSN``: a libpq connection string or URI;
2. the standard libpq variables (``PGHOST``, ``PGPORT``, ``PGUSER``, ``PGPASSWORD``, ``PGDATABASE``)
   when ``PGHOST`` is set;
3. otherwise the embedded PostgreSQL 16 (pgserver) whose data folder is ``.warehouse/pgdata``,
   started on demand and left running so analysts can query it.
"""

from __future__ import annotations

import logging
import os
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from urllib.parse import quote

import psycopg
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from efficiency_warehouse import settings

EMBEDDED_DATABASE = "efficiency_warehouse"


def is_embedded() -> bool:
    return not os.environ.get("WAREHOUSE_DSN") and not os.environ.get("PGHOST")


def _embedded_server():
    logging.getLogger("pgserver").setLevel(logging.WARNING)  # it logs every handle at exit
    # pgserver warns when XDG_RUNTIME_DIR is unset; its fallback is fine for a lock file.
    warnings.filterwarnings("ignore", message=".*XDG_RUNTIME_DIR.*")
    import pgserver  # heavy-ish and only needed for the embedded default

    pgdata = settings.embedded_pgdata()
    pgdata.mkdir(parents=True, exist_ok=True)
    # cleanup_mode=None: the server outlives this process, so `make run` leaves it up for analysts.
    return pgserver.get_server(str(pgdata), cleanup_mode=None)


def embedded_server_dsn(database: str) -> str:
    """Start the embedded server if needed, make sure ``database`` exists, return its DSN."""
    server = _embedded_server()
    params = conninfo_to_dict(server.get_uri())
    ensure_database(make_conninfo(**params), database)
    params["dbname"] = database
    return make_conninfo(**params)


def ensure_database(admin_dsn: str, database: str) -> None:
    with psycopg.connect(admin_dsn, autocommit=True) as conn:
        exists = conn.execute("select 1 from pg_database where datname = %s", (database,)).fetchone()
        if not exists:
            conn.execute(sql.SQL("create database {}").format(sql.Identifier(database)))


def warehouse_dsn() -> str:
    if dsn := os.environ.get("WAREHOUSE_DSN"):
        return dsn
    if os.environ.get("PGHOST"):
        return ""  # libpq reads the PG* variables itself
    return embedded_server_dsn(EMBEDDED_DATABASE)


def connection_parameters(dsn: str | None = None) -> dict[str, str]:
    """host/port/user/password/dbname for tools that will not take a DSN (dbt's profile)."""
    dsn = warehouse_dsn() if dsn is None else dsn
    params = conninfo_to_dict(dsn)
    return {
        "host": params.get("host") or os.environ.get("PGHOST", "localhost"),
        "port": str(params.get("port") or os.environ.get("PGPORT", "5432")),
        "user": params.get("user") or os.environ.get("PGUSER", "postgres"),
        "password": params.get("password") or os.environ.get("PGPASSWORD", ""),
        "dbname": params.get("dbname") or os.environ.get("PGDATABASE", "postgres"),
    }


def as_url(dsn: str) -> str:
    """The connection as a postgresql:// URL (what `make dsn` prints); the password is left out."""
    if dsn.startswith(("postgresql://", "postgres://")):
        return dsn
    params = connection_parameters(dsn)
    user, database = quote(params["user"]), quote(params["dbname"])
    if params["host"].startswith("/"):  # unix socket folder, as the embedded server uses
        return f"postgresql://{user}@/{database}?host={quote(params['host'], safe='/')}"
    return f"postgresql://{user}@{params['host']}:{params['port']}/{database}"


@contextmanager
def connect(autocommit: bool = False) -> Iterator[psycopg.Connection]:
    with psycopg.connect(warehouse_dsn(), autocommit=autocommit, application_name="efficiency_warehouse") as conn:
        yield conn


# Warehouse-wide session locks (pg_advisory_lock): held on a connection of their own, so they go with
# their holder's connection, also when its process is killed. One namespace for this project's locks.
_LOCK_NAMESPACE = 179  # NI 179
LOCKS = {
    "pipeline_run": 1,  # one `make run` at a time
    "build_and_publish": 2,  # one dbt build or publication step at a time, whoever runs it
}


class AnotherRunInProgress(RuntimeError):
    """The lock is held and the caller chose not to wait; the message names the holder."""


@contextmanager
def exclusive(lock: str, wait: bool = True) -> Iterator[None]:
    """Hold the warehouse-wide lock ``lock`` for the block.

    ``wait=False`` raises AnotherRunInProgress naming the holder (since when, which pid) instead of waiting.
    """
    key = LOCKS[lock]
    name = f"efficiency_warehouse {lock} pid={os.getpid()}"
    with psycopg.connect(warehouse_dsn(), autocommit=True, application_name=name[:63]) as conn:
        if wait:
            conn.execute("select pg_advisory_lock(%s, %s)", (_LOCK_NAMESPACE, key))
        elif not conn.execute("select pg_try_advisory_lock(%s, %s)", (_LOCK_NAMESPACE, key)).fetchone()[0]:
            raise AnotherRunInProgress(_holder_message(conn, key))
        try:
            yield
        finally:
            conn.execute("select pg_advisory_unlock(%s, %s)", (_LOCK_NAMESPACE, key))


def _holder_message(conn: psycopg.Connection, key: int) -> str:
    holder = conn.execute(
        """
        select activity.backend_start, activity.application_name
        from pg_locks as locks
        join pg_stat_activity as activity using (pid)
        where locks.locktype = 'advisory' and locks.granted
          and locks.classid = %s and locks.objid = %s and locks.objsubid = 2
        """,
        (_LOCK_NAMESPACE, key),
    ).fetchone()
    if holder is None:  # it finished between the two statements
        return "another run was in progress a moment ago; run again"
    since, application = holder
    pid = application.rpartition("pid=")[2] or "unknown"
    return f"another run is in progress since {since:%Y-%m-%d %H:%M:%S %Z} (pid {pid}); wait for it to finish"


def stop_embedded() -> bool:
    """Stop the embedded server if it is running; True if it was."""
    warnings.filterwarnings("ignore", message=".*XDG_RUNTIME_DIR.*")
    from pgserver._commands import pg_ctl

    pgdata = settings.embedded_pgdata()
    if not (pgdata / "postmaster.pid").exists():
        return False
    # As root, pgserver runs postgres as its own system user, and pg_ctl must run as that user too.
    run_as = {"user": "pgserver"} if os.geteuid() == 0 else {}
    pg_ctl(["-w", "stop"], pgdata=pgdata, **run_as)
    return True


def psql_executable() -> str:
    """The psql that ships with pgserver, so `make psql` needs no system PostgreSQL client."""
    from pgserver._commands import POSTGRES_BIN_PATH

    return str(POSTGRES_BIN_PATH / "psql")
