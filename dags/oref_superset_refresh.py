"""After each publication of the oref warehouse: re-import the Superset dashboards, warm their caches.

Scheduled on the `oref_published_warehouse` Asset, which the `oref_monthly_refresh` DAG's `publish`
task updates; the triggering event's extra (run id, verdict, row counts) is logged. `reimport`
re-imports the dashboards into the data directory's Superset home (`<OREF_DATA_DIR>/superset`),
which gives every dataset the new publication's stamp, so no chart serves last month's cache;
`warm` then requests every chart's data once through Superset's API (`OREF_SUPERSET_URL`, by
default `make up`'s http://127.0.0.1:8088), so the first reader does not pay for the queries. With
no Superset home, or no server answering, the task says so in its log and succeeds: the
publication stands either way. `oref run` re-imports the dashboards itself; under Airflow this DAG
is the path.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pendulum
from airflow.sdk import Asset, dag, get_current_context, task

# The same Asset as oref_monthly_refresh's publish task (Assets are identified by name).
PUBLISHED_WAREHOUSE = Asset(name="oref_published_warehouse")


@dag(
    dag_id="oref_superset_refresh",
    doc_md=__doc__,
    schedule=[PUBLISHED_WAREHOUSE],
    start_date=pendulum.datetime(2025, 1, 1, tz="UTC"),
    catchup=False,
    max_active_runs=1,  # one import at a time into Superset's metadata DB
    dagrun_timeout=timedelta(hours=1),
    default_args={
        "owner": "oref",
        "retries": 1,
        "retry_delay": timedelta(minutes=5),
        "execution_timeout": timedelta(minutes=30),
    },
    tags=["oref", "superset"],
)
def oref_superset_refresh() -> None:
    @task
    def reimport() -> str:
        """Re-import the dashboards for the new publication (their caches start afresh)."""
        import logging

        from oref.airflow_support import reimport_dashboards_step

        events = get_current_context().get("triggering_asset_events") or {}
        for asset_events in events.values():
            for event in asset_events:
                logging.getLogger("oref.airflow").info("publication: %s", getattr(event, "extra", None))
        return reimport_dashboards_step()

    @task
    def warm(imported: str) -> dict[str, Any]:
        """Request every chart's data once, when a Superset server answers."""
        from oref.airflow_support import warm_caches_step

        return warm_caches_step()

    warm(reimport())  # type: ignore[arg-type]


oref_superset_refresh()
