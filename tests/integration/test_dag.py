"""The ``oref_monthly_refresh`` DAG: it parses, its contract holds, and ``dag.test()`` publishes.

Airflow never runs in the pytest process (see conftest.py): this file is also the script that the
tests start in a fresh interpreter, ``python test_dag.py describe|run RESULT.json``, with the
environment of a throw-away AIRFLOW_HOME. The child writes what the parent asserts on as JSON.
The whole-DAG runs fetch the bundled snapshot from the loopback replay server, never the network.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from oref.airflow_support import WRITER_POOL, sanitize_run_id, to_xcom

if TYPE_CHECKING:
    from conftest import AirflowEnv

DAG_ID = "oref_monthly_refresh"
REPO_ROOT = Path(__file__).resolve().parents[2]
DAGS_DIR = REPO_ROOT / "dags"
SNAPSHOT_DIR = REPO_ROOT / "data" / "snapshot"
# dag.test() runs the whole pipeline (fetch, dbt build, quality checks, publish) in the child.
DAG_TEST_TIMEOUT = 900
# Modules that must not be imported when the DAG file is parsed: the dag-processor re-parses it
# every 30 s by default, and these take seconds to import (they are imported inside the tasks).
HEAVY_MODULES = ("oref.pipeline", "duckdb", "dbt", "great_expectations")


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
    return description


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
    return {
        "state": str(run.state),
        "run_id": run.run_id,
        "seconds": seconds,
        "task_states": states,
        "task_seconds": durations,
        "returned": returned,
    }


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
    result = _child(airflow_sqlite, ["describe"], tmp_path_factory.mktemp("describe"))
    assert result["import_errors"] == {}, result["import_errors"]
    assert DAG_ID in result["dag_ids"]
    return result


def test_dags_folder_imports_without_error(described: dict[str, Any]) -> None:
    assert described["dag_ids"] == [DAG_ID]


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


def test_every_source_has_a_fetch_task_and_all_gate_the_build(described: dict[str, Any]) -> None:
    tasks = described["dag"]["tasks"]
    fetch_ids = sorted(f"fetch_{name}" for name in _source_names())
    assert sorted(t for t in tasks if t.startswith("fetch_")) == fetch_ids
    assert tasks["build"]["upstream"] == fetch_ids
    assert tasks["build"]["trigger_rule"] == "all_success"
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


def _dag_test(
    airflow: AirflowEnv, tmp_path: Path, *, faults: dict[str, Any] | None = None, territory: str = "972"
) -> tuple[dict[str, Any], Path]:
    from oref.replay import ReplayServer

    data_dir = tmp_path / "data"
    with ReplayServer(SNAPSHOT_DIR, host="127.0.0.1", port=0, faults=faults) as replay:
        result = _child(
            airflow, ["run"], tmp_path, extra_env=_oref_env(replay.base_url, data_dir, territory),
            timeout=DAG_TEST_TIMEOUT
        )
    print(f"dag.test() took {result['seconds']:.1f} s; per task: {result['task_seconds']}")
    return result, data_dir


@pytest.mark.slow
def test_dag_test_runs_green_and_publishes(airflow_sqlite: AirflowEnv, tmp_path: Path) -> None:
    """For Guadeloupe: territory is configuration, the same DAG and code build any département
    (the CLI's run for Martinique is the shared run of the e2e tests)."""
    result, data_dir = _dag_test(airflow_sqlite, tmp_path, territory="971")
    _assert_published(result, data_dir, territory="971")
    for name in _source_names():
        assert result["returned"][f"fetch_{name}"]["status"] == "landed", result["returned"]
    # Every task derived the same oref run id from Airflow's.
    assert result["returned"]["build"]["run_id"] == sanitize_run_id(result["run_id"])


@pytest.mark.slow
def test_a_failed_source_fails_alone_and_blocks_publication(airflow_sqlite: AirflowEnv, tmp_path: Path) -> None:
    from oref.replay import Fault

    failing = "urssaf"
    # Every request for the URSSAF dataset answers 404 (not retried by the HTTP client, so fast).
    dataset = "etablissements-et-effectifs-salaries-au-niveau-commune-x-ape-last"
    faults = {
        f"/open.urssaf.fr/api/explore/v2.1/catalog/datasets/{dataset}": [Fault(404, body=b"gone") for _ in range(50)]
    }
    result, data_dir = _dag_test(airflow_sqlite, tmp_path, faults=faults)
    states = result["task_states"]
    assert result["state"] == "failed"
    assert states[f"fetch_{failing}"] == "failed"
    assert all(states[f"fetch_{n}"] == "success" for n in _source_names() if n != failing), states
    assert states["build"] == "upstream_failed"
    assert states["publish"] == "upstream_failed"
    assert states["export"] == "upstream_failed"
    assert not (data_dir / "warehouse" / "oref.duckdb").exists()
    # the run still ends with its record: blocked, naming the source that failed and why
    assert states["finish"] == "success"
    [(run_id, status, reason)] = _quality_runs(data_dir)
    assert (run_id, status) == (sanitize_run_id(result["run_id"]), "blocked")
    assert "source 'urssaf'" in reason and "HTTP 404" in reason
    # It failed for the injected reason, recorded where the build's quality report reads it.
    checks = data_dir / "runs" / sanitize_run_id(result["run_id"]) / "checks" / f"{failing}.json"
    recorded = json.loads(checks.read_text(encoding="utf-8"))
    assert any(c["status"] == "fail" and "HTTP 404" in c["message"] for c in recorded), recorded


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
