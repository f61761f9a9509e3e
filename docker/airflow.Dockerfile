# Airflow image for docker-compose.yml: the official Airflow 3.3.2 image plus the project's pinned
# dependencies (dbt-core/dbt-postgres, Great Expectations, pandas, psycopg, ...).
#
# Build from the repository root (docker-compose.yml does this):
#   docker build -f docker/airflow.Dockerfile -t efficiency-warehouse-airflow:3.3.2 .
#
# The DAGs, plugins (the efficiency_warehouse package), dbt_project/ and expectations/ are baked in, so a
# Celery worker on another machine runs the same code as the scheduler; docker-compose.yml bind-mounts
# the same folders over them on one machine, so edits show up without a rebuild.
FROM apache/airflow:3.3.2-python3.11

# The base image runs as the unprivileged "airflow" user and installs with pip --user (PIP_USER=true).
USER airflow

COPY --chown=airflow:0 requirements.txt /opt/airflow/requirements.txt

# requirements.txt pins apache-airflow==3.3.2, the same version the image ships. Naming
# "apache-airflow==${AIRFLOW_VERSION}" as well (the pattern of the official "extending the image"
# example) makes pip fail loudly instead of silently up- or downgrading Airflow if the pins drift.
RUN pip install --no-cache-dir "apache-airflow==${AIRFLOW_VERSION}" -r /opt/airflow/requirements.txt \
    && python -c "import airflow, dbt.version, great_expectations; assert airflow.__version__ == '3.3.2', airflow.__version__"

# The project where the efficiency_warehouse package expects it (EFFICIENCY_WAREHOUSE_HOME), and the DAGs
# and package where Airflow looks by default.
COPY --chown=airflow:0 dags /opt/airflow/project/dags
COPY --chown=airflow:0 plugins /opt/airflow/project/plugins
COPY --chown=airflow:0 dbt_project /opt/airflow/project/dbt_project
COPY --chown=airflow:0 expectations /opt/airflow/project/expectations
COPY --chown=airflow:0 dags /opt/airflow/dags
COPY --chown=airflow:0 plugins /opt/airflow/plugins
