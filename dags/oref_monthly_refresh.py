"""Monthly refresh of the oref indicator warehouse.

Runs at 05:00 UTC on the 2nd of every month. One `fetch_<source>` task per source downloads the
source and lands new files (a source whose files have not changed lands nothing); when every fetch
succeeded, `build` builds a new DuckDB warehouse file from the landing zone and runs the quality
checks, `publish` swaps it in as the published warehouse (and its serving file, which Superset
reads), and `export` writes the open-data package and the dbt docs of what was published. A failed
fetch or a failed error-level check stops the run before `publish`: the published warehouse is
then last month's, unchanged. Whatever happened, `finish` (a teardown task, which does not change
the run's state) writes the run's quality report and its row in the quality store.

These are the functions `oref run` calls (`oref.pipeline`), one task per step.
`build`, `publish` and `finish` write DuckDB files and run in the `oref_duckdb_writer` pool (one
slot), which must exist: `airflow pools set oref_duckdb_writer 1 "oref: DuckDB has one writer"`.
Settings come from the `OREF_*` environment variables (see `docs/airflow.md`).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pendulum
from airflow.sdk import (
    Asset,
    ExceptionRetryPolicy,
    RetryAction,
    RetryRule,
    TriggerRule,
    dag,
    get_current_context,
    task,
    teardown,
)

# Cheap at parse time (oref.sources costs ~0.4 s, mostly `requests`); the pipeline, with DuckDB
# and dbt, is imported inside the tasks (see oref.airflow_support).
from oref.airflow_support import WRITER_POOL
from oref.errors import ConfigError, QualityGateError
from oref.sources import SOURCE_NAMES

# Lets another DAG (e.g. a Superset cache refresh) be scheduled on each publication. Name only:
# the file's location depends on OREF_DATA_DIR, which is read when the task runs, not at parse time.
PUBLISHED_WAREHOUSE = Asset(name="oref_published_warehouse")


@dag(
    dag_id="oref_monthly_refresh",
    doc_md=__doc__,
    # Monthly: the sources publish yearly or quarterly, and conditional GETs make a month with no
    # new file cheap. The 2nd, so a file released on the 1st is picked up that month; 05:00 UTC,
    # off-peak for the public portals.
    schedule="0 5 2 * *",
    start_date=pendulum.datetime(2025, 1, 1, tz="UTC"),
    catchup=False,  # each run refreshes to "now"; replaying missed months would fetch the same files
    max_active_runs=1,  # DuckDB has one writer
    default_args={
        "owner": "oref",
        "retries": 2,
        # Long enough for a portal's transient outage or rate limit to pass; the HTTP client
        # already retries within a task with backoff.
        "retry_delay": timedelta(minutes=15),
        "execution_timeout": timedelta(hours=2),
        # A failed quality gate or an invalid setting gives the same answer on every try: fail at
        # once instead of retrying for half an hour.
        "retry_policy": ExceptionRetryPolicy(
            rules=[
                RetryRule(
                    exception=[QualityGateError, ConfigError],
                    action=RetryAction.FAIL,
                    reason="not transient: retrying gives the same result",
                )
            ]
        ),
    },
    tags=["oref", "warehouse", "monthly"],
)
def oref_monthly_refresh() -> None:
    @task
    def fetch(source: str) -> dict[str, Any]:
        """Fetch and land one source; fails this task only, the other sources still run."""
        from oref.airflow_support import fetch_step

        return fetch_step(source, get_current_context()["run_id"])

    @task(
        pool=WRITER_POOL,
        # Explicit because it is the gate: any failed fetch blocks the build and the publication.
        trigger_rule=TriggerRule.ALL_SUCCESS,
    )
    def build() -> dict[str, Any]:
        """Build and audit a new warehouse file; the result's ``path`` names it."""
        from oref.airflow_support import build_step

        return build_step(get_current_context()["run_id"])

    @task(pool=WRITER_POOL, outlets=[PUBLISHED_WAREHOUSE])
    def publish(built: dict[str, Any]) -> dict[str, Any]:
        """Swap the audited build in as the published warehouse, with its serving file."""
        from oref.airflow_support import publish_step

        return publish_step(str(built["path"]))

    # Its own task, after publish: it only reads the published warehouse, so a retry re-exports
    # without publishing twice.
    @task
    def export(published: dict[str, Any]) -> dict[str, Any]:
        """Write the open-data package and the dbt docs of the published warehouse."""
        from oref.airflow_support import export_step

        return export_step(get_current_context()["run_id"])

    # A teardown runs once every upstream task is done, failed ones included, and does not decide
    # the run's state: a run blocked by a source still fails, and still has its quality record.
    @teardown
    @task(pool=WRITER_POOL)
    def finish() -> dict[str, Any]:
        """Write the run's quality report and its row in the quality store, whatever the outcome."""
        from oref.airflow_support import finish_step

        return finish_step(get_current_context()["run_id"])

    # One task per source, not a mapped task: each source has its own retries, logs and state in
    # the UI, and the task ids stay stable when a source is added.
    fetched = [fetch.override(task_id=f"fetch_{name}")(name) for name in SOURCE_NAMES]
    built = build()
    # TaskFlow passes XComArgs here and resolves them to the values when the task runs.
    published = publish(built)  # type: ignore[arg-type]
    exported = export(published)  # type: ignore[arg-type]
    fetched >> built  # the build reads what the fetches landed (and their step records), not their XCom
    [*fetched, built, published, exported] >> finish()


oref_monthly_refresh()
