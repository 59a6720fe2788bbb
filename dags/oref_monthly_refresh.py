"""Monthly refresh of the oref indicator warehouse.

Runs at 05:00 UTC on the 2nd of every month. One `fetch_<source>` task per source downloads the
source and lands new files (a source whose files have not changed lands nothing). A permanent
HTTP error (404, 410, a refused token) or a broken file fails its fetch at once; a transient one
(5xx, 429, a timeout) is retried. Once every fetch is done, whatever its state, `build` builds a
new DuckDB warehouse file from the landing zone and runs the quality checks: a failed
`use_last_good` source is built from its last good files (the run publishes as *degraded*), a
failed `block` source or a failed error-level check blocks the run before `publish` (the DAG run
fails; the published warehouse stays last month's). `publish` swaps the build in as the published
warehouse (and its serving file, which Superset reads) and emits the `oref_published_warehouse`
Asset event (run id, verdict, row counts), on which the `oref_superset_refresh` DAG re-imports the
dashboards and warms their caches; `export` writes the open-data package and the dbt docs.
Whatever happened, `finish` (a teardown task, which does not change the run's state) writes the
run's quality report, its row in the quality store and its `summary.json`. A blocked, degraded or
failed run sends one alert (see `oref.airflow_alerts`).

A run whose logical date is more than a month old (`airflow backfill create`) fetches nothing and
builds as of the end of its data interval: what that month would have published. It does not
replace today's published warehouse: the build stays in `warehouse/builds/<run>/` with its report.

These are the functions `oref run` calls (`oref.pipeline`), one task per step.
`build`, `publish` and `finish` write DuckDB files and run in the `oref_duckdb_writer` pool (one
slot), which must exist: `airflow pools set oref_duckdb_writer 1 "oref: DuckDB has one writer"`.
Settings come from the `OREF_*` environment variables (see `docs/airflow.md`).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pendulum
from airflow.sdk import (
    Asset,
    Context,
    ExceptionRetryPolicy,
    RetryAction,
    RetryRule,
    TriggerRule,
    dag,
    get_current_context,
    task,
    teardown,
)
from airflow.sdk.exceptions import AirflowSkipException

# Cheap at parse time (oref.sources costs ~0.4 s, mostly `requests`); the pipeline, with DuckDB
# and dbt, is imported inside the tasks (see oref.airflow_support).
from oref.airflow_alerts import alert_on_run
from oref.airflow_support import WRITER_POOL, PermanentSourceError
from oref.errors import ConfigError, QualityGateError
from oref.sources import SOURCE_NAMES

# The oref_superset_refresh DAG is scheduled on each publication. Name only: the file's location
# depends on OREF_DATA_DIR, which is read when the task runs, not at parse time.
PUBLISHED_WAREHOUSE = Asset(name="oref_published_warehouse")


def _as_of(context: Context) -> datetime | None:
    """``None`` for a current run; the data interval's end for a backfill of a past month."""
    from oref.airflow_support import as_of_for

    dag_run = context["dag_run"]
    return as_of_for(context.get("logical_date"), context.get("data_interval_end"), str(dag_run.run_type),
                     pendulum.now("UTC"))


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
    # A run that hangs (a task stuck past its own timeout, a pool never freed) is failed, and
    # alerts, before the next month's run is due; a normal run takes minutes.
    dagrun_timeout=timedelta(hours=12),
    # Three failed months in a row: the DAG pauses instead of failing (and alerting) every month
    # until someone looks. Unpausing it resumes the schedule.
    max_consecutive_failed_dag_runs=3,
    # One message per blocked or failed run (the DAG run fails) and per degraded run (it succeeds).
    on_failure_callback=alert_on_run,
    on_success_callback=alert_on_run,
    default_args={
        "owner": "oref",
        "retries": 2,
        # Long enough for a portal's transient outage or rate limit to pass; the HTTP client
        # already retries within a task with backoff.
        "retry_delay": timedelta(minutes=15),
        "execution_timeout": timedelta(hours=2),
        # A failed quality gate, an invalid setting or a permanent source error (a 404, a 410,
        # a refused token, a file breaking its contract) gives the same answer on every try: fail
        # at once instead of retrying for half an hour. A transient SourceError (5xx, 429, a
        # timeout, a dropped connection) falls through to the retries.
        "retry_policy": ExceptionRetryPolicy(
            rules=[
                RetryRule(
                    exception=[QualityGateError, ConfigError, PermanentSourceError],
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
        from oref.airflow_support import fetch_step, skip_fetch_step

        context = get_current_context()
        as_of = _as_of(context)
        if as_of is not None:  # a backfill rebuilds from what had landed by then
            skip_fetch_step(source, context["run_id"], as_of)
            raise AirflowSkipException(f"backfill as of {as_of.isoformat()}: nothing fetched")
        return fetch_step(source, context["run_id"])

    @task(
        pool=WRITER_POOL,
        # Once every fetch is done, failed ones included: the build reads each source's state from
        # the step records and decides (a use_last_good source's last good files, or blocked).
        trigger_rule=TriggerRule.ALL_DONE,
    )
    def build() -> dict[str, Any]:
        """Build and audit a new warehouse file; the result's ``path`` names it."""
        from oref.airflow_support import build_step

        context = get_current_context()
        return build_step(context["run_id"], as_of=_as_of(context))

    @task(pool=WRITER_POOL, outlets=[PUBLISHED_WAREHOUSE])
    def publish(built: dict[str, Any]) -> dict[str, Any]:
        """Swap the audited build in as the published warehouse, with its serving file; the Asset
        event carries the run id, the verdict and the row counts."""
        from oref.airflow_support import asset_extra, publish_step, stale_sources

        context = get_current_context()
        as_of = _as_of(context)
        if as_of is not None:
            # today's published warehouse stays: a backfill reproduces a past month's build, kept
            # in warehouse/builds/<run>/ with its report, it does not roll the publication back
            raise AirflowSkipException(f"backfill as of {as_of.isoformat()}: built, not published")
        published = publish_step(str(built["path"]))
        extra = asset_extra(built, context["run_id"], stale_sources(context["run_id"]))
        context["outlet_events"][PUBLISHED_WAREHOUSE].extra = extra
        return published

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
