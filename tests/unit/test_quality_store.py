"""The quality store: every run is recorded (published, blocked, failed), history kept, corruption survived."""

from __future__ import annotations

from dataclasses import asdict
from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb
import pytest

from oref.config import Settings
from oref.pipeline import finish, outcome, record_step
from oref.quality.checks import CheckResult, save_checks
from oref.quality.store import REBUILT_CHECK, RunRecord, schema_of, write_tables
from oref.sources.base import FetchResult

STARTED = "2025-06-02T05:00:00+00:00"


def _store(settings: Settings, sql: str) -> list[tuple[object, ...]]:
    con = duckdb.connect(str(settings.quality_path), read_only=True)
    try:
        return con.execute(sql.replace("quality.", schema_of(con) + ".")).fetchall()
    finally:
        con.close()


def _fetched(settings: Settings, run_id: str, **failed: str) -> None:
    for name in ("geo", "bmo", "urssaf"):
        status = "failed" if name in failed else "landed"
        result = FetchResult(name, status, rows=10, message=failed.get(name, ""))  # type: ignore[arg-type]
        record_step(settings, run_id, f"fetch_{name}", status, STARTED, result=asdict(result))
        save_checks(settings.runs_dir, run_id, name, [CheckResult(
            name, "fetch_and_land", "oref", "error", "fail" if name in failed else "pass", failed.get(name, ""))])


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(data_dir=tmp_path / "data", source_mode="snapshot")


def test_outcome_of_each_kind_of_run() -> None:
    fetch_ok = {"fetch_bmo": {"status": "landed", "result": asdict(FetchResult("bmo", "landed"))}}
    fetch_ko = {"fetch_bmo": {"status": "failed", "result": asdict(FetchResult("bmo", "failed", message="HTTP 503"))}}
    assert outcome({**fetch_ok, "build": {"status": "built"}, "publish": {"status": "published"}}) == ("published",
                                                                                                       None)
    assert outcome(fetch_ko) == ("blocked", "source(s) failed, publication blocked: HTTP 503")
    # step files are read in name order (arcep before geo); the reason follows the fetch order
    two = {f"fetch_{key}": {"status": "failed", "result": asdict(FetchResult(key, "failed", message=f"{key} down"))}
           for key in ("arcep", "geo")}
    assert outcome(two)[1] == "source(s) failed, publication blocked: geo down; arcep down"
    assert outcome({**fetch_ok, "build": {"status": "blocked", "message": "2 error-level check(s) failed"}}) == (
        "blocked", "2 error-level check(s) failed")
    assert outcome({**fetch_ok, "build": {"status": "failed", "message": "OrefError: dbt crashed"}}) == (
        "failed", "OrefError: dbt crashed")
    assert outcome({**fetch_ok, "build": {"status": "built"}, "publish": {"status": "failed", "message": "no room"}}
                   ) == ("failed", "no room")
    assert outcome(fetch_ok)[0] == "failed" and "before its build" in str(outcome(fetch_ok)[1])
    # an as-of rebuild (an Airflow backfill) is audited and kept, not swapped in: not a failure
    as_of = {"status": "built", "as_of": "2025-06-30T00:00:00+00:00"}
    status, reason = outcome({"build": as_of})
    assert status == "published" and "as-of rebuild (files landed up to 2025-06-30T00:00:00+00:00)" in str(reason)
    assert outcome({"build": {**as_of, "stale": ["offers"]}})[0] == "degraded"
    assert outcome({"build": {**as_of, "status": "blocked", "message": "1 failed"}}) == ("blocked", "1 failed")


def test_every_run_is_recorded_and_the_history_kept(settings: Settings) -> None:
    _fetched(settings, "run-1", bmo="source 'bmo': expected a xlsx file but the server sent an HTML page")
    first = finish(settings, "run-1", progress=lambda _: None)
    assert (first.status, first.sources_failed, first.sources_fetched) == ("blocked", 1, 2)
    report = Path(str(first.report_path))
    assert report.is_absolute() and report.is_file() and "<h1>Bloqué</h1>" in report.read_text("utf-8")

    _fetched(settings, "run-2")
    record_step(settings, "run-2", "build", "failed", STARTED, message="OrefError: dbt crashed (exit 2)")
    reader = duckdb.connect(str(settings.quality_path), read_only=True)  # Superset holding the store open
    inode = settings.quality_path.stat().st_ino
    finish(settings, "run-2", progress=lambda _: None)
    assert settings.quality_path.stat().st_ino != inode  # a new file renamed over the old one
    assert reader.execute(f"select count(*) from {schema_of(reader)}.runs").fetchone() == (1,)  # its own file
    reader.close()

    runs = _store(settings, "select run_id, status, reason, started_at::varchar from quality.runs order by run_id")
    assert runs == [("run-1", "blocked", "source(s) failed, publication blocked: source 'bmo': expected a xlsx file "
                     "but the server sent an HTML page", "2025-06-02 05:00:00"),
                    ("run-2", "failed", "OrefError: dbt crashed (exit 2)", "2025-06-02 05:00:00")]
    checks = _store(settings, "select run_id, source, status from quality.check_results "
                              "where check_name = 'fetch_and_land' and status = 'fail'")
    assert checks == [("run-1", "bmo", "fail")]
    assert [p.name for p in settings.warehouse_dir.iterdir()] == [settings.quality_path.name]  # no temporary


@pytest.mark.parametrize("damage", ["truncated", "garbage", "empty"])
def test_an_unreadable_store_is_rebuilt_and_the_run_says_so(settings: Settings, damage: str) -> None:
    _fetched(settings, "run-1")
    record_step(settings, "run-1", "build", "blocked", STARTED, message="1 error-level check(s) failed")
    finish(settings, "run-1", progress=lambda _: None)
    store = settings.quality_path
    data = store.read_bytes()
    store.write_bytes({"truncated": data[: len(data) // 3], "garbage": b"\x00not a database" * 512,
                       "empty": b""}[damage])
    said: list[str] = []
    _fetched(settings, "run-2", urssaf="HTTP 404")
    record = finish(settings, "run-2", progress=said.append)
    assert record.status == "blocked"
    assert any("could not be read" in line and "rebuilt" in line for line in said), said
    runs = _store(settings, "select run_id, status from quality.runs order by run_id")
    assert runs == [("run-1", "blocked"), ("run-2", "blocked")]  # run-1 came back from its saved record
    rebuilt = _store(settings, "select run_id, severity from quality.check_results "
                               f"where check_name = '{REBUILT_CHECK}'")
    assert rebuilt == [("run-2", "warn")]
    kept = store.with_name(f"{store.stem}.unreadable-run-2.duckdb")  # kept aside for whoever investigates
    assert kept.read_bytes() == {"truncated": data[: len(data) // 3], "garbage": b"\x00not a database" * 512,
                                 "empty": b""}[damage]
    assert REBUILT_CHECK in Path(str(record.report_path)).read_text("utf-8")


def test_without_a_store_the_published_warehouse_history_is_imported(settings: Settings) -> None:
    """A warehouse published before the store existed: its runs said 'built', which meant published."""
    settings.warehouse_dir.mkdir(parents=True)
    con = duckdb.connect(str(settings.warehouse_path))
    write_tables(con, RunRecord("run-0", "2025-05-01 05:00:00", "2025-05-01 05:20:00", "972", "live", "published"),
                 [CheckResult("bmo", "met_not_negative", "gx", "error", "pass")], [])
    con.execute("alter table quality.runs drop column reason; alter table quality.runs drop column report_path")
    con.execute("update quality.runs set status = 'built'")
    con.close()
    _fetched(settings, "run-1")
    finish(settings, "run-1", progress=lambda _: None)
    assert _store(settings, "select run_id, status, reason from quality.runs order by run_id") == [
        ("run-0", "published", None), ("run-1", "failed", "the run stopped before its build (no build step ran)")]
    assert _store(settings, "select count(*) from quality.check_results where run_id = 'run-0'") == [(1,)]


def test_source_states_are_recorded_and_survive_a_rebuild_of_the_store(settings: Settings) -> None:
    """quality.source_status: one row per run and source, also rebuilt from the run's saved record."""
    from oref.quality.store import TABLES, SourceStatus, record_run

    assert [c for c, _ in TABLES["source_status"]] == [
        "run_id", "source", "status", "policy", "message", "data_vintage", "landed_at", "age_days", "sha256", "rows",
        "files", "previous_data_vintage", "previous_sha256", "previous_rows"]
    record = RunRecord("run-1", "2025-06-02T05:00:00+00:00", "2025-06-02T05:03:00+00:00", "972", "snapshot",
                       "degraded", sources_stale=1, reason="1 source(s) stale: offers",
                       as_of="2025-06-30T23:59:59+00:00", fingerprint="f" * 64, published_run_id="run-1")
    states = [SourceStatus("bmo", "landed", "use_last_good", data_vintage="2025", landed_at="2025-06-02T05:01:00+00:00",
                           age_days=0.0, sha256="a" * 64, rows=52_776, files=1, previous_rows=50_000),
              SourceStatus("offers", "stale", "use_last_good", "HTTP 503", data_vintage="2025-05",
                           landed_at="2025-05-02T05:01:00+00:00", age_days=31.0, sha256="b" * 64, rows=355, files=1,
                           previous_data_vintage="2025-05", previous_sha256="b" * 64, previous_rows=355)]
    record_run(settings, record, [], [], progress=lambda _: None, statuses=states)
    assert _store(settings, "select status, sources_stale, as_of::varchar, published_run_id from quality.runs") == [
        ("degraded", 1, "2025-06-30 23:59:59", "run-1")]
    expected = [("bmo", "landed", None, "2025", 52_776, 50_000), ("offers", "stale", "HTTP 503", "2025-05", 355, 355)]
    sql = ("select source, status, nullif(message, ''), data_vintage, rows, previous_rows from quality.source_status "
           "order by source")
    assert _store(settings, sql) == expected
    settings.quality_path.unlink()  # lost: the next run rebuilds the history from runs/*/quality.json
    record_run(settings, RunRecord("run-2", STARTED, STARTED, "972", "snapshot", "unchanged"), [], [],
               progress=lambda _: None)
    assert _store(settings, sql) == expected


def test_oref_quality_prints_the_verdict_and_exits_with_its_code(settings: Settings, monkeypatch: pytest.MonkeyPatch,
                                                                  capsys: pytest.CaptureFixture[str]) -> None:
    from oref.cli import main
    from oref.quality.store import record_run

    monkeypatch.setenv("OREF_DATA_DIR", str(settings.data_dir))
    monkeypatch.setenv("OREF_SOURCE_MODE", "snapshot")
    _fetched(settings, "run-1", bmo="source 'bmo': HTTP 404")
    finish(settings, "run-1", progress=lambda _: None)
    later = [(datetime.now(UTC) + timedelta(minutes=m)).isoformat(timespec="seconds") for m in (1, 2)]
    for run_id, status, finished in (("run-2", "degraded", later[0]), ("run-3", "published", later[1])):
        record_run(settings, RunRecord(run_id, finished, finished, "972", "snapshot", status,  # type: ignore[arg-type]
                                       reason="1 source(s) stale" if status == "degraded" else None),
                   [], [], progress=lambda _: None)
    capsys.readouterr()
    assert main(["quality", "run-1"]) == 1
    out = capsys.readouterr().out
    assert "run-1" in out and "bmo" in out and "HTTP 404" in out
    assert main(["quality", "run-2"]) == 2
    assert "run-2" in capsys.readouterr().out
    assert main(["quality"]) == 0  # the latest run: run-3, published
    assert "run-3" in capsys.readouterr().out
    assert main(["quality", "no-such-run"]) == 1
    assert "no-such-run" in capsys.readouterr().out


def _land_offers(settings: Settings, fetched_at: str) -> str:
    """An offers extract as an earlier fetch left it in the landing zone; returns its sha256."""
    import hashlib
    import json

    content = b'{"resultats": []}'
    directory = settings.landing_dir / "offers" / "20250502T050100Z"
    directory.mkdir(parents=True)
    (directory / "offers.json").write_bytes(content)
    sha = hashlib.sha256(content).hexdigest()
    (directory / "offers.json.manifest.json").write_text(json.dumps({
        "source": "offers", "name": "offers.json", "fetched_at": fetched_at, "vintage": directory.name,
        "data_vintage": "2025-05", "bytes": len(content), "sha256": sha, "rows": 353}), "utf-8")
    return sha


def test_a_failed_source_with_last_good_files_is_stale_unless_it_blocks(settings: Settings) -> None:
    from oref.pipeline import source_states

    sha = _land_offers(settings, "2025-05-02T05:01:00+00:00")
    failed = FetchResult("offers", "failed", message="source 'offers': HTTP 503")
    steps = {"fetch_offers": {"status": "failed", "result": asdict(failed)},
             "fetch_geo": {"status": "failed", "result": asdict(FetchResult("geo", "failed", message="geo down"))}}
    moment = datetime(2025, 6, 2, 5, 1, tzinfo=UTC)
    states = {s.source: s for s in source_states(settings, "run-1", steps, moment=moment)}
    offers = states["offers"]
    assert (offers.status, offers.policy, offers.data_vintage, offers.sha256, offers.rows, offers.age_days) == (
        "stale", "use_last_good", "2025-05", sha, 353, 31.0)
    assert offers.landed_at == "2025-05-02T05:01:00+00:00" and offers.message == "source 'offers': HTTP 503"
    assert (states["geo"].status, states["geo"].message) == ("failed", "geo down (no landed file to fall back on)")
    assert states["bmo"].status == "skipped"  # not fetched in this run
    blocking = {s.source: s for s in source_states(settings.with_(block_on_failure=("offers",)), "run-1", steps)}
    assert (blocking["offers"].status, blocking["offers"].policy) == ("failed", "block")
    assert blocking["offers"].message.endswith("(the source's policy is to block)")


def test_a_published_run_with_stale_sources_is_degraded() -> None:
    fetch_ko = {"fetch_offers": {"status": "failed",
                                 "result": asdict(FetchResult("offers", "failed", message="HTTP 503"))}}
    build = {"status": "built", "stale": ["offers"], "reason": "1 source(s) stale, their last good files used: ..."}
    assert outcome({**fetch_ko, "build": build, "publish": {"status": "published"}}) == (
        "degraded", "1 source(s) stale, their last good files used: ...")
    # the build decided: a blocked build's reason wins over the failed fetch's
    assert outcome({**fetch_ko, "build": {"status": "blocked", "message": "source(s) failed, publication blocked: "
                                                                       "HTTP 503 (the source's policy is to block)"}}
                   )[1].endswith("(the source's policy is to block)")
