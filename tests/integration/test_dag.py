"""The ``oref_monthly_refresh`` DAG: it parses, its contract holds, and ``dag.test()`` publishes.

Airflow never runs in the pytest process (see conftest.py): this file is also the script that the
tests start in a fresh interpreter, ``python test_dag.py describe|run RESULT.json``, with the
environment of a throw-away AIRFLOW_HOME. The child writes what the parent asserts on as JSON.
The whole-DAG runs fetch the bundled snapshot from the loopback replay server, never the network.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from oref.airflow_support import WRITER_POOL, sanitize_run_id, to_xcom

if TYPE_CHECKING:
    from conftest import AirflowEnv

DAG_ID = "oref_monthly_refresh"
REFRESH_DAG_ID = "oref_superset_refresh"
ASSET_NAME = "oref_published_warehouse"
REPO_ROOT = Path(__file__).resolve().parents[2]
DAGS_DIR = REPO_ROOT / "dags"
SNAPSHOT_DIR = REPO_ROOT / "data" / "snapshot"
# dag.test() runs the whole pipeline (fetch, dbt build, quality checks, publish) in the child.
DAG_TEST_TIMEOUT = 900
# Modules that must not be imported when the DAG file is parsed: the dag-processor re-parses it
# every 30 s by default, and these take seconds to import (they are imported inside the tasks).
HEAVY_MODULES = ("oref.pipeline", "duckdb", "dbt", "great_expectations")
# The parse test's fetch probes: URSSAF answers 404 (permanent), MCF 503 (transient).
RETRY_PROBES = ("urssaf", "mcf")
URSSAF_DATASET = "etablissements-et-effectifs-salaries-au-niveau-commune-x-ape-last"
URSSAF_PATH = f"/open.urssaf.fr/api/explore/v2.1/catalog/datasets/{URSSAF_DATASET}"


# --- child side: runs in a fresh interpreter, with the test's Airflow environment ---------------


def _load_dag_bag() -> Any:
    try:
        from airflow.dag_processing.dagbag import DagBag  # Airflow >= 3.1
    except ImportError:  # Airflow 3.0
        from airflow.models.dagbag import DagBag  # type: ignore[no-redef]
    # No include_examples: Airflow 3.3 removed the argument (TypeError); examples now come from
    # their own bundle, off here through AIRFLOW__CORE__LOAD_EXAMPLES=False.
    return DagBag(dag_folder=str(DAGS_DIR))


def _describe() -> dict[str, Any]:
    """What the parent asserts about the parsed DAG, as plain JSON."""
    bag = _load_dag_bag()
    dag = bag.dags.get(DAG_ID)
    description: dict[str, Any] = {
        "import_errors": {str(k): str(v) for k, v in bag.import_errors.items()},
        "dag_ids": sorted(bag.dags),
        # Time to import each DAG file (Airflow itself already loaded), as the dag-processor sees it.
        "parse_seconds": {Path(stat.file).name: stat.duration.total_seconds() for stat in bag.dagbag_stats},
        "heavy_modules_loaded": [m for m in HEAVY_MODULES if m in sys.modules],
    }
    if dag is None:
        return description
    description["dag"] = {
        # The schedule as written: the Task SDK's timetables have no `summary` (the core ones do).
        "schedule": str(dag.schedule),
        "timetable": type(dag.timetable).__name__,
        "catchup": dag.catchup,
        "max_active_runs": dag.max_active_runs,
        "doc_md": dag.doc_md or "",
        "tags": sorted(dag.tags),
        "dagrun_timeout_s": dag.dagrun_timeout.total_seconds() if dag.dagrun_timeout else None,
        "max_consecutive_failed_dag_runs": dag.max_consecutive_failed_dag_runs,
        "on_failure_callback": type(dag.on_failure_callback).__name__,
        "on_success_callback": type(dag.on_success_callback).__name__,
        "tasks": {
            t.task_id: {
                "pool": t.pool,
                "trigger_rule": str(t.trigger_rule.value),
                "retries": t.retries,
                "has_retry_policy": getattr(t, "retry_policy", None) is not None,
                "execution_timeout_s": t.execution_timeout.total_seconds() if t.execution_timeout else None,
                "upstream": sorted(t.upstream_task_ids),
                "is_teardown": bool(getattr(t, "is_teardown", False)),
                "outlets": [getattr(o, "name", str(o)) for o in t.outlets],
            }
            for t in dag.tasks
        },
    }
    refresh = bag.dags.get(REFRESH_DAG_ID)
    if refresh is not None:
        description["refresh_dag"] = {
            "timetable": type(refresh.timetable).__name__,
            "schedule_assets": sorted(a.name for a in refresh.schedule),  # type: ignore[union-attr]
            "tasks": {t.task_id: sorted(t.upstream_task_ids) for t in refresh.tasks},
        }
    if os.environ.get("OREF_REPLAY_URL"):
        description["retry_decisions"] = _retry_decisions(dag)
    if os.environ.get("AIRFLOW_CONN_OREF_ALERTS"):
        # the DAG's failure callback for a run that never reached finish (as dagrun_timeout leaves it)
        dag.on_failure_callback({"run_id": "manual__2026-11-30T05:00:00+00:00", "reason": "timed_out"})
    return description


def _retry_decisions(dag: Any) -> dict[str, Any]:
    """Each probed source's fetch (faults injected by the parent): what it raised, what the policy decides."""
    from oref.airflow_support import fetch_step

    decisions: dict[str, Any] = {}
    for source in RETRY_PROBES:
        task = dag.get_task(f"fetch_{source}")
        try:
            fetch_step(source, "retry_probe")
        except Exception as exc:
            decision = task.retry_policy.evaluate(exc, 1, task.retries + 1)
            decisions[source] = {"exception": type(exc).__name__, "message": str(exc),
                                 "action": decision.action.value, "reason": decision.reason}
        else:
            decisions[source] = {"exception": None}
    return decisions


def _run() -> dict[str, Any]:
    """One ``dag.test()`` run; its state, each task's state and the tasks' return values."""
    from airflow.models.xcom import XComModel
    from airflow.utils.session import create_session

    bag = _load_dag_bag()
    if bag.import_errors:
        return {"import_errors": {str(k): str(v) for k, v in bag.import_errors.items()}}
    dag = bag.dags[DAG_ID]
    # dag.test() honours retry_delay by polling, so a failing task would hold the run for
    # 2 x 15 minutes before the test could report it. Retries are not under test here.
    for task in dag.tasks:
        task.retries = 0
    started = time.monotonic()
    run = dag.test()
    seconds = time.monotonic() - started
    with create_session() as session:
        query = XComModel.get_many(run_id=run.run_id, key="return_value", dag_ids=DAG_ID)
        # get_many is annotated Select[tuple[XComModel]], but scalars() yields the models.
        xcoms: list[Any] = list(session.scalars(query))
        returned = {x.task_id: XComModel.deserialize_value(x) for x in xcoms}
        tis = run.get_task_instances(session=session)
        states = {ti.task_id: str(ti.state) for ti in tis}
        durations = {ti.task_id: ti.duration for ti in tis}
        asset_events = _asset_events(session, run.run_id)
    result: dict[str, Any] = {
        "state": str(run.state),
        "run_id": run.run_id,
        "seconds": seconds,
        "task_states": states,
        "task_seconds": durations,
        "returned": returned,
        "asset_events": asset_events,
    }
    if asset_events["events"]:
        # what the scheduler would start on the event: the refresh DAG, once (no Superset here)
        refresh = bag.dags[REFRESH_DAG_ID]
        started = time.monotonic()
        refresh_run = refresh.test()
        with create_session() as session:
            query = XComModel.get_many(run_id=refresh_run.run_id, key="return_value", dag_ids=REFRESH_DAG_ID)
            result["refresh"] = {
                "state": str(refresh_run.state),
                "seconds": time.monotonic() - started,
                "returned": {x.task_id: XComModel.deserialize_value(x) for x in session.scalars(query)},
            }
    return result


def _asset_events(session: Any, run_id: str) -> dict[str, Any]:
    """The published Asset's events from this run, and the DAG runs they queued."""
    from airflow.models.asset import AssetDagRunQueue, AssetEvent, AssetModel
    from sqlalchemy import select

    events = session.execute(
        select(AssetEvent.extra, AssetEvent.source_task_id).join(AssetModel, AssetEvent.asset_id == AssetModel.id)
        .where(AssetModel.name == ASSET_NAME, AssetEvent.source_run_id == run_id)
    ).all()
    queued = session.scalars(
        select(AssetDagRunQueue.target_dag_id).join(AssetModel, AssetDagRunQueue.asset_id == AssetModel.id)
        .where(AssetModel.name == ASSET_NAME)
    ).all()
    return {"events": [{"extra": e.extra, "task": e.source_task_id} for e in events], "queued": sorted(queued)}


def _child_main(argv: list[str]) -> int:
    command, result_path = argv[0], Path(argv[1])
    if command == "describe":
        result = _describe()
    elif command == "run":
        result = _run()
    else:
        raise SystemExit(f"unknown command {command!r}")
    result_path.write_text(json.dumps(result, indent=2, default=str), encoding="utf-8")
    return 0


# --- parent side: pytest -------------------------------------------------------------------------


def _child(
    airflow: AirflowEnv,
    args: list[str],
    tmp_path: Path,
    *,
    extra_env: dict[str, str] | None = None,
    timeout: float = 300,
) -> dict[str, Any]:
    result_path = tmp_path / f"{args[0]}-result.json"
    try:
        proc = airflow.run(
            [str(Path(__file__).resolve()), args[0], str(result_path), *args[1:]],
            extra_env=extra_env,
            timeout=timeout,
            cwd=tmp_path,  # nothing the run writes may depend on, or land in, the repository
        )
    except subprocess.TimeoutExpired as exc:
        pytest.fail(f"child `{' '.join(args)}` still running after {timeout:.0f} s (killed)\n{_tail(exc.output)}")
    if proc.returncode != 0 or not result_path.exists():
        pytest.fail(
            f"child `{' '.join(args)}` exited {proc.returncode}\n"
            f"--- stdout ---\n{proc.stdout[-6000:]}\n--- stderr ---\n{proc.stderr[-6000:]}"
        )
    result: dict[str, Any] = json.loads(result_path.read_text(encoding="utf-8"))
    result["_log"] = proc.stdout[-8000:] + "\n" + proc.stderr[-8000:]
    # the lines about callbacks and alerts, wherever they are in a long log
    lines = (proc.stdout + "\n" + proc.stderr).splitlines()
    hits = [i for i, line in enumerate(lines) if "alert" in line.lower() or "callback" in line.lower()]
    near = sorted({j for i in hits for j in range(i, min(i + 25, len(lines)))})
    result["_alert_log"] = [lines[j][:400] for j in near]
    return result


def _tail(output: str | bytes | None, chars: int = 6000) -> str:
    text = output.decode("utf-8", "replace") if isinstance(output, bytes) else output or ""
    return text[-chars:]


def _oref_env(replay_url: str, data_dir: Path, territory: str = "972") -> dict[str, str]:
    return {
        "OREF_SOURCE_MODE": "snapshot",
        "OREF_REPLAY_URL": replay_url,
        "OREF_DATA_DIR": str(data_dir),
        "OREF_TERRITORY": territory,
    }


def _source_names() -> list[str]:
    from oref.sources import SOURCE_NAMES

    return list(SOURCE_NAMES)


@pytest.fixture(scope="module")
def described(airflow_sqlite: AirflowEnv, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The parsed DAGs, plus two fetches probed through the fetch task's code and its retry policy."""
    from oref.replay import Fault, ReplayServer

    tmp = tmp_path_factory.mktemp("describe")
    faults = {URSSAF_PATH: [Fault(404, body=b"gone") for _ in range(20)],
              "/opendata.caissedesdepots.fr/": [Fault(503, body=b"down") for _ in range(20)]}
    with ReplayServer(SNAPSHOT_DIR, host="127.0.0.1", port=0, faults=faults) as replay, AlertReceiver() as alerts:
        env = {**_oref_env(replay.base_url, tmp / "data"), "OREF_HTTP_MAX_RETRIES": "0",
               "OREF_HTTP_BACKOFF_BASE": "0", "AIRFLOW_CONN_OREF_ALERTS": alerts.url}
        result = _child(airflow_sqlite, ["describe"], tmp, extra_env=env)
    result["_alerts"] = alerts.received
    assert result["import_errors"] == {}, result["import_errors"]
    assert DAG_ID in result["dag_ids"]
    return result


def test_dags_folder_imports_without_error(described: dict[str, Any]) -> None:
    assert described["dag_ids"] == [DAG_ID, REFRESH_DAG_ID]


def test_permanent_source_errors_fail_at_once_transient_ones_retry(described: dict[str, Any]) -> None:
    decisions = described["retry_decisions"]
    # a 404 (the source has moved): the policy fails the task on its first try, no retries
    assert decisions["urssaf"]["exception"] == "PermanentSourceError", decisions
    assert "source 'urssaf'" in decisions["urssaf"]["message"] and "404" in decisions["urssaf"]["message"]
    assert decisions["urssaf"]["action"] == "fail"
    # a 503: a plain SourceError, no rule matches, Airflow's retries apply (2, 15 minutes apart)
    assert decisions["mcf"]["exception"] == "SourceError", decisions
    assert "source 'mcf'" in decisions["mcf"]["message"] and "503" in decisions["mcf"]["message"]
    assert decisions["mcf"]["action"] == "default"


def test_dag_times_out_pauses_after_repeated_failures_and_alerts(described: dict[str, Any]) -> None:
    dag = described["dag"]
    # well past a normal run (minutes) plus its retries, well before the next month's run
    assert 2 * 3600 <= dag["dagrun_timeout_s"] <= 24 * 3600
    assert dag["max_consecutive_failed_dag_runs"] == 3
    assert dag["on_failure_callback"] == dag["on_success_callback"] == "OrefRunNotifier"
    # a run stopped before finish (no record) still alerts, as failed, on the connection's webhook
    [alert] = described["_alerts"]
    assert alert["path"] == "/oref-alerts"
    body = alert["body"]
    assert (body["run_id"], body["status"]) == ("manual__2026-11-30T05_00_00_00_00", "failed")
    assert "timed_out" in body["reason"] and body["report_path"] is None


def test_superset_refresh_dag_is_scheduled_on_the_published_asset(described: dict[str, Any]) -> None:
    refresh = described["refresh_dag"]
    assert refresh["timetable"] == "AssetTriggeredTimetable"
    assert refresh["schedule_assets"] == [ASSET_NAME]
    assert refresh["tasks"] == {"reimport": [], "warm": ["reimport"]}
    assert described["dag"]["tasks"]["publish"]["outlets"] == [ASSET_NAME]


def test_dag_parse_is_cheap(described: dict[str, Any]) -> None:
    assert described["heavy_modules_loaded"] == []
    # Far below the dag-processor's 30 s import timeout ([core] dagbag_import_timeout); under 1 s
    # here, most of it `requests`, imported by oref.sources.
    assert described["parse_seconds"]["oref_monthly_refresh.py"] < 10


def test_dag_runs_one_at_a_time_monthly_without_catchup(described: dict[str, Any]) -> None:
    dag = described["dag"]
    assert dag["max_active_runs"] == 1
    assert dag["catchup"] is False
    assert dag["doc_md"].strip(), "the module docstring is the DAG's doc_md"
    minute, hour, day_of_month, month, day_of_week = dag["schedule"].split()
    # Monthly: a fixed day that every month has, any month, any weekday.
    assert minute.isdigit() and hour.isdigit()
    assert day_of_month.isdigit() and 1 <= int(day_of_month) <= 28
    assert (month, day_of_week) == ("*", "*")


def test_every_task_retries_and_has_a_timeout(described: dict[str, Any]) -> None:
    for task_id, task in described["dag"]["tasks"].items():
        assert task["retries"] >= 1, task_id
        assert task["has_retry_policy"], task_id
        assert task["execution_timeout_s"], task_id


def test_every_source_has_a_fetch_task_and_the_build_waits_for_all(described: dict[str, Any]) -> None:
    tasks = described["dag"]["tasks"]
    fetch_ids = sorted(f"fetch_{name}" for name in _source_names())
    assert sorted(t for t in tasks if t.startswith("fetch_")) == fetch_ids
    assert tasks["build"]["upstream"] == fetch_ids
    # a failed fetch no longer blocks the build: it reads each source's state and decides
    assert tasks["build"]["trigger_rule"] == "all_done"
    assert tasks["publish"]["upstream"] == ["build"]


def test_every_publish_is_exported_and_every_run_finished(described: dict[str, Any]) -> None:
    tasks = described["dag"]["tasks"]
    assert tasks["export"]["upstream"] == ["publish"]
    # finish waits for every other task, failed ones included, and does not decide the run's state
    assert tasks["finish"]["upstream"] == sorted(t for t in tasks if t != "finish")
    assert tasks["finish"]["is_teardown"] and tasks["finish"]["trigger_rule"] == "all_done_setup_success"
    assert [t for t, spec in tasks.items() if spec["is_teardown"]] == ["finish"]


def test_only_the_duckdb_writers_take_the_writer_pool(described: dict[str, Any]) -> None:
    tasks = described["dag"]["tasks"]
    writers = sorted(t for t, spec in tasks.items() if spec["pool"] == WRITER_POOL)
    assert writers == ["build", "finish", "publish"]  # the warehouse and the quality store
    assert tasks["publish"]["outlets"] == ["oref_published_warehouse"]


@pytest.mark.parametrize(
    ("airflow_run_id", "expected"),
    [
        ("scheduled__2025-06-02T05:00:00+00:00", "scheduled__2025-06-02T05_00_00_00_00"),
        ("manual__2026-11-25T18:33:05.115950+00:00", "manual__2026-11-25T18_33_05.115950_00_00"),
        ("../../etc", "_.._etc"),
        ("my run/été", "my_run_t_"),
    ],
)
def test_run_ids_are_safe_in_file_names(airflow_run_id: str, expected: str) -> None:
    assert sanitize_run_id(airflow_run_id) == expected


def test_long_run_ids_are_cut_but_stay_distinct() -> None:
    first, second = sanitize_run_id("x" * 300 + "a"), sanitize_run_id("x" * 300 + "b")
    assert len(first) <= 120 and len(second) <= 120 and first != second


def test_backfills_of_past_months_build_as_of_their_interval_and_current_runs_do_not() -> None:
    from datetime import UTC, datetime

    from oref.airflow_support import as_of_for

    now = datetime(2026, 11, 30, 21, 0, tzinfo=UTC)
    june = datetime(2025, 6, 2, 5, 0, tzinfo=UTC)
    # this month's scheduled run, even a few days late, and a manual trigger: today's data
    assert as_of_for(datetime(2026, 11, 2, 5, 0, tzinfo=UTC), None, "scheduled", now) is None
    assert as_of_for(now, now, "manual", now) is None
    assert as_of_for(None, None, "manual", now) is None
    # `airflow backfill create` of June 2025: as of its data interval's end (else its logical date)
    assert as_of_for(june, datetime(2025, 6, 30, tzinfo=UTC), "backfill", now) == datetime(2025, 6, 30, tzinfo=UTC)
    assert as_of_for(june, None, "backfill", now) == june
    # a run for a month long past, however it was created, replays that month
    assert as_of_for(june, june, "manual", now) == june


def test_the_asset_event_carries_the_run_verdict_and_row_counts() -> None:
    from oref.airflow_support import asset_extra

    built = {"path": "/w/b.duckdb", "rows": {"raw.bmo": 1200, "raw.geo": 34}, "checks_failed": 0, "checks_warned": 2}
    extra = asset_extra(built, "manual__2026-11-30T21:00:00+00:00")
    assert extra == {"run_id": "manual__2026-11-30T21_00_00_00_00",
                     "airflow_run_id": "manual__2026-11-30T21:00:00+00:00", "verdict": "published",
                     "stale_sources": [], "rows": {"raw.bmo": 1200, "raw.geo": 34}, "rows_total": 1234,
                     "checks_failed": 0, "checks_warned": 2}
    degraded = asset_extra(built, "r", ["offers"])
    assert (degraded["verdict"], degraded["stale_sources"]) == ("degraded", ["offers"])


def test_results_pass_through_xcom_as_json() -> None:
    from dataclasses import dataclass

    @dataclass
    class Built:
        path: Path
        checks_failed: int

    assert to_xcom(Built(Path("/w/b.duckdb"), 0)) == {"path": "/w/b.duckdb", "checks_failed": 0}


def _quality_runs(data_dir: Path) -> list[tuple[Any, ...]]:
    """(run_id, status, reason) of every run in the quality store of ``data_dir``."""
    import duckdb

    from oref.config import Settings
    from oref.quality.store import schema_of

    store = Settings(data_dir=data_dir).quality_path
    with duckdb.connect(str(store), read_only=True) as con:
        return con.execute(f"select run_id, status, reason from {schema_of(con)}.runs order by run_id").fetchall()


# The BMO 2025 digital projects of each territory's département (real rows for 971 and 972):
# published value and number of secret cells.
BMO_DIGITAL_2025 = {"972": (61, 4), "971": (36, 4)}


def _assert_published(result: dict[str, Any], data_dir: Path, territory: str = "972") -> None:
    import duckdb

    assert result["state"] == "success", f"{result['task_states']}\n{result['_log'][-5000:]}"
    assert set(result["task_states"].values()) == {"success"}, result["task_states"]
    warehouse = data_dir / "warehouse" / "oref.duckdb"
    assert warehouse.is_file()
    assert Path(result["returned"]["publish"]["path"]) == warehouse
    with duckdb.connect(str(warehouse), read_only=True) as con:
        row = con.execute(
            "select value, suppressed_count from marts.mart_indicators where indicator_code = ? "
            "and territory_code = ? and period = ? and comparison_group = 'territoire'",
            ["bmo_digital_recruitment_projects", territory, "2025"],
        ).fetchone()
        header = con.execute("select territory_code from marts.dash_context").fetchone()
    assert row == BMO_DIGITAL_2025[territory]
    assert header == (territory,)
    # the DAG's run writes the open-data package and the dbt docs, as `oref run` does
    run_id = sanitize_run_id(result["run_id"])
    package = data_dir / "opendata" / run_id
    assert result["returned"]["export"]["open_data"]["path"] == str(package)
    assert (package / "datapackage.json").is_file() and (package / "indicateurs.csv").is_file()
    assert (data_dir / "opendata" / "LATEST").read_text("utf-8").strip() == run_id
    assert (data_dir / "docs" / run_id / "index.html").is_file()
    assert (data_dir / "warehouse" / "serving.duckdb").is_file()
    assert _quality_runs(data_dir) == [(run_id, "published", None)]
    assert result["returned"]["finish"]["status"] == "published"


class AlertReceiver:
    """A loopback webhook: records each POSTed JSON body (the Airflow connection points here)."""

    def __init__(self) -> None:
        received: list[dict[str, Any]] = []

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                received.append({"path": self.path, "body": json.loads(body or b"null")})
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.received = received
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/oref-alerts"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> AlertReceiver:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


def _dag_test(
    airflow: AirflowEnv, tmp_path: Path, *, faults: dict[str, Any] | None = None, territory: str = "972",
    data_dir: Path | None = None, alerts: AlertReceiver | None = None,
) -> tuple[dict[str, Any], Path]:
    from oref.replay import ReplayServer

    data_dir = data_dir or tmp_path / "data"
    env = {
        # the refresh DAG must be unpaused for the Asset event to queue its run, as in production
        "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "False",
        "OREF_SUPERSET_URL": "http://127.0.0.1:9",  # no Superset here: the warm task says so
    }
    if alerts is not None:
        env["AIRFLOW_CONN_OREF_ALERTS"] = alerts.url  # the URI form: http://host:port/path
    with ReplayServer(SNAPSHOT_DIR, host="127.0.0.1", port=0, faults=faults) as replay:
        result = _child(
            airflow, ["run"], tmp_path, extra_env={**_oref_env(replay.base_url, data_dir, territory), **env},
            timeout=DAG_TEST_TIMEOUT
        )
    print(f"dag.test() took {result['seconds']:.1f} s; per task: {result['task_seconds']}")
    return result, data_dir


def _oref_sources(data_dir: Path) -> dict[str, str]:
    """``oref sources --json``: each source's last status, as an operator reads it."""
    proc = subprocess.run([str(REPO_ROOT / ".venv" / "bin" / "oref"), "sources", "--json"], capture_output=True,
                          text=True, timeout=120, check=False, env={**os.environ, "OREF_DATA_DIR": str(data_dir)})
    assert proc.returncode == 0, proc.stderr
    return {row["source"]: row["status"] for row in json.loads(proc.stdout)}


@pytest.fixture(scope="module")
def green_run(airflow_sqlite: AirflowEnv, tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, Any], Path]:
    """For Guadeloupe: territory is configuration, the same DAG and code build any département
    (the CLI's run for Martinique is the shared run of the e2e tests)."""
    tmp = tmp_path_factory.mktemp("dag-green")
    with AlertReceiver() as alerts:
        result, data_dir = _dag_test(airflow_sqlite, tmp, territory="971", alerts=alerts)
    result["_alerts"] = alerts.received
    return result, data_dir


@pytest.mark.slow
def test_dag_test_runs_green_and_publishes(green_run: tuple[dict[str, Any], Path]) -> None:
    result, data_dir = green_run
    _assert_published(result, data_dir, territory="971")
    for name in _source_names():
        assert result["returned"][f"fetch_{name}"]["status"] == "landed", result["returned"]
    # Every task derived the same oref run id from Airflow's.
    run_id = sanitize_run_id(result["run_id"])
    assert result["returned"]["build"]["run_id"] == run_id
    # finish wrote the run's summary: `oref sources` shows the Airflow run's fetches
    summary = json.loads((data_dir / "runs" / run_id / "summary.json").read_text("utf-8"))
    assert (summary["run_id"], summary["status"]) == (run_id, "published")
    assert _oref_sources(data_dir) == dict.fromkeys(_source_names(), "landed")
    # a published run alerts nobody
    assert result["_alerts"] == []


@pytest.mark.slow
def test_the_publication_event_carries_its_verdict_and_starts_the_superset_refresh(
    green_run: tuple[dict[str, Any], Path],
) -> None:
    result, _ = green_run
    [event] = result["asset_events"]["events"]
    extra = event["extra"]
    assert event["task"] == "publish"
    assert (extra["run_id"], extra["verdict"]) == (sanitize_run_id(result["run_id"]), "published")
    assert extra["rows"] == result["returned"]["build"]["rows"] and extra["rows_total"] > 0
    assert result["asset_events"]["queued"] == [REFRESH_DAG_ID]
    # the refresh DAG, run once: no Superset home nor server in this data dir, and it says so
    refresh = result["refresh"]
    assert refresh["state"] == "success", refresh
    assert refresh["returned"]["reimport"].startswith("skipped: no Superset home at ")
    assert refresh["returned"]["warm"]["warmed"] == 0
    assert refresh["returned"]["warm"]["skipped"] == "no Superset at http://127.0.0.1:9"
    print(f"refresh DAG: {refresh['seconds']:.1f} s")


@pytest.mark.slow
def test_a_failed_source_fails_alone_the_build_runs_and_the_run_is_degraded(
    airflow_sqlite: AirflowEnv, green_run: tuple[dict[str, Any], Path], tmp_path: Path,
) -> None:
    """The month after the green run, URSSAF answers 404: its last good files are built, the run
    publishes as degraded, succeeds, and sends one alert naming the source."""
    from oref.replay import Fault

    first, first_data = green_run
    data_dir = tmp_path / "data"
    shutil.copytree(first_data, data_dir, symlinks=True)
    faults = {URSSAF_PATH: [Fault(404, body=b"gone") for _ in range(50)]}
    with AlertReceiver() as alerts:
        result, _ = _dag_test(airflow_sqlite, tmp_path, faults=faults, territory="971", data_dir=data_dir,
                              alerts=alerts)
    states = result["task_states"]
    run_id = sanitize_run_id(result["run_id"])
    assert states["fetch_urssaf"] == "failed"
    assert all(states[f"fetch_{n}"] == "success" for n in _source_names() if n != "urssaf"), states
    # the build ran after the failed fetch, and published
    assert (states["build"], states["publish"], states["export"], states["finish"]) == ("success",) * 4, (
        f"{states}\n{result['_log'][-6000:]}")
    assert result["state"] == "success", f"{states}\n{result['_log'][-5000:]}"
    runs = dict((r, (st, reason)) for r, st, reason in _quality_runs(data_dir))
    status, reason = runs[run_id]
    assert status == "degraded" and "urssaf" in (reason or ""), runs
    [event] = result["asset_events"]["events"]
    assert (event["extra"]["run_id"], event["extra"]["verdict"]) == (run_id, "degraded")
    assert event["extra"]["stale_sources"] == ["urssaf"]
    # one alert, on the loopback webhook of the Airflow connection
    assert len(alerts.received) == 1, "\n".join(result["_alert_log"][-40:])
    [alert] = alerts.received
    assert alert["path"] == "/oref-alerts"
    assert (alert["body"]["run_id"], alert["body"]["status"]) == (run_id, "degraded")
    assert alert["body"]["report_path"].endswith(f"quality-{run_id}.html")
    assert _oref_sources(data_dir)["urssaf"] == "stale"  # failed to fetch, built from its last good files
    # it failed for the injected reason, recorded where the report reads it
    checks = data_dir / "runs" / run_id / "checks" / "urssaf.json"
    recorded = json.loads(checks.read_text(encoding="utf-8"))
    assert any(c["status"] == "fail" and "HTTP 404" in c["message"] for c in recorded), recorded
    assert first["run_id"] != result["run_id"]


@pytest.mark.services
@pytest.mark.slow
def test_dag_parses_and_runs_on_postgresql(airflow_postgres: AirflowEnv, tmp_path: Path) -> None:
    described = _child(airflow_postgres, ["describe"], tmp_path)
    assert described["import_errors"] == {}
    assert DAG_ID in described["dag_ids"]
    result, data_dir = _dag_test(airflow_postgres, tmp_path)
    _assert_published(result, data_dir)


if __name__ == "__main__":
    sys.exit(_child_main(sys.argv[1:]))
