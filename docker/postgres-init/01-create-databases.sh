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
EOSQL
