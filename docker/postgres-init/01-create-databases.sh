#!/usr/bin/env bash
# Runs once, on the first start of the postgres:16 container (empty data volume), from
# /docker-entrypoint-initdb.d. The official entrypoint runs it as $POSTGRES_USER against a temporary
# server that listens on the Unix socket only, so nothing can connect over TCP before it finishes.
#
# Creates two databases on one server, each owned by its own login role:
#   airflow               (Airflow metadata)  owned by role "airflow"
#   efficiency_warehouse  (the warehouse)     owned by role "warehouse"
#
# Passwords come from the container environment (docker-compose.yml passes them from .env).
# Changing them later does NOT re-run this script: ALTER ROLE by hand, or drop the volume.
set -euo pipefail

: "${AIRFLOW_DB_PASSWORD:?AIRFLOW_DB_PASSWORD must be set for the postgres container}"
: "${WAREHOUSE_DB_PASSWORD:?WAREHOUSE_DB_PASSWORD must be set for the postgres container}"

# Passwords travel as psql variables and are quoted by psql (:'name'), never pasted into SQL text.
psql -v ON_ERROR_STOP=1 \
    --username "${POSTGRES_USER}" --dbname "${POSTGRES_DB:-$POSTGRES_USER}" \
    -v airflow_password="${AIRFLOW_DB_PASSWORD}" \
    -v warehouse_password="${WAREHOUSE_DB_PASSWORD}" <<'EOSQL'
CREATE ROLE airflow LOGIN PASSWORD :'airflow_password';
CREATE DATABASE airflow OWNER airflow;
REVOKE ALL ON DATABASE airflow FROM PUBLIC;

CREATE ROLE warehouse LOGIN PASSWORD :'warehouse_password';
CREATE DATABASE efficiency_warehouse OWNER warehouse;
REVOKE ALL ON DATABASE efficiency_warehouse FROM PUBLIC;

-- The read-only roles the pipeline grants to (it cannot create roles itself as "warehouse"):
-- board analysts read the marts, HM Treasury the published tables. Give them to logins as needed.
CREATE ROLE board_analyst NOLOGIN;
CREATE ROLE hm_treasury NOLOGIN;
GRANT CONNECT ON DATABASE efficiency_warehouse TO board_analyst, hm_treasury;
-- Readers connect to the warehouse only (REVOKE ALL above took TEMP there too).
REVOKE CONNECT ON DATABASE postgres, template1 FROM PUBLIC;

-- What else PostgreSQL gives every role and a reader must not have: view and rule definitions (the SQL of
-- staging and intermediate) and new large objects. Only a superuser may revoke these, so it is done here;
-- efficiency_warehouse.roles.restrict_readers does the same where the pipeline's role is a superuser
-- (the embedded server), and tests/test_docker_compose.py checks that the two lists agree.
\connect efficiency_warehouse
REVOKE EXECUTE ON FUNCTION
    pg_catalog.pg_get_viewdef(oid), pg_catalog.pg_get_viewdef(oid, boolean), pg_catalog.pg_get_viewdef(oid, integer),
    pg_catalog.pg_get_viewdef(text), pg_catalog.pg_get_viewdef(text, boolean),
    pg_catalog.pg_get_ruledef(oid), pg_catalog.pg_get_ruledef(oid, boolean),
    pg_catalog.lo_creat(integer), pg_catalog.lo_create(oid), pg_catalog.lo_from_bytea(oid, bytea)
    FROM PUBLIC;
REVOKE SELECT ON pg_catalog.pg_rewrite, pg_catalog.pg_views, pg_catalog.pg_rules FROM PUBLIC;
EOSQL
