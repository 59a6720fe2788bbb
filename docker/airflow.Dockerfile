# Airflow 3.3.2 (official image) with the oref package and its pinned dependencies.
# Built by docker-compose.yml with the repository root as context:
#   docker build -f docker/airflow.Dockerfile .
FROM apache/airflow:3.3.2-python3.11

# Airflow lives in the virtualenv $VIRTUAL_ENV (/home/airflow/.local), owned by the `airflow`
# user, and `uv` is installed in it. `uv pip install` targets that virtualenv; `--system` would
# install into /usr/python instead, where the `airflow` processes would not see oref.
WORKDIR /opt/oref/app

# Dependencies first, from the lockfile (the versions the test suite ran with, duckdb==1.4.4
# included: the same storage format as the Superset image), so that editing src/ does not
# reinstall them. The lock also pins apache-airflow==3.3.2, the image's own version.
COPY --chown=airflow:0 pyproject.toml uv.lock README.md ./
RUN uv export --frozen --no-dev --no-emit-project --no-hashes --output-file /tmp/requirements.txt \
 && uv pip install --no-cache --requirement /tmp/requirements.txt \
 && rm /tmp/requirements.txt

# The code, the DAG, the dbt project and the GX suites. oref finds dbt_project/ and
# expectations/ next to src/ (oref.config.Settings.project_root), so the package is installed
# editable from here: a plain wheel in site-packages would look for them under the virtualenv.
# dbt writes target/ and logs/ into dbt_project/ when it runs, hence the airflow owner.
COPY --chown=airflow:0 src ./src
COPY --chown=airflow:0 dags ./dags
COPY --chown=airflow:0 dbt_project ./dbt_project
COPY --chown=airflow:0 expectations ./expectations
RUN uv pip install --no-cache --no-deps --editable . \
 && python -c "import oref.pipeline, oref.airflow_support"

# The mount point of the shared data volume. A new named volume copies this directory's owner,
# so the airflow user (uid 50000) can write the landing zone and the warehouse.
USER root
RUN mkdir -p /opt/oref/data && chown airflow:0 /opt/oref/data && chmod 775 /opt/oref/data
USER airflow
