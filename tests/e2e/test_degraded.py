"""One source down does not hold back the month: its last good files stand in, the run says so.

The France Travail offers API answers 503 to every request (a replay ``Fault`` on its path) on a
data directory that already holds a good publication:

- with the default policy (``use_last_good``) the run publishes as ``degraded`` (exit 2), offers
  ``stale`` with its previous vintage in ``quality.source_status``, the offers figures unchanged;
- with offers declared blocking (``OREF_BLOCK_ON_FAILURE``) the run is ``blocked`` (exit 1) before
  its build, and the published warehouse stays byte-identical.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb
import pytest
from oref_testing import SNAPSHOT, OrefRun, oref

from oref.pipeline import published_run as published_run_of
from oref.quality.store import schema_of
from oref.replay import Fault, ReplayServer

pytestmark = pytest.mark.slow

OFFERS_API = "/api.francetravail.io/"  # the offers search; the token endpoint is another host


@contextmanager
def offers_down() -> Iterator[ReplayServer]:
    faults = {OFFERS_API: [Fault(503, body=b"Service Unavailable") for _ in range(200)]}
    with ReplayServer(SNAPSHOT, faults=faults) as server:
        yield server


def _env(server: ReplayServer, **more: str) -> dict[str, str]:
    return {"OREF_REPLAY_URL": server.base_url, "OREF_HTTP_MAX_RETRIES": "1", "OREF_HTTP_BACKOFF_BASE": "0.01",
            **more}


def _query(path: Path, sql: str, params: list[object] | None = None) -> list[tuple[object, ...]]:
    con = duckdb.connect(str(path), read_only=True)
    try:
        return con.execute(sql.replace("quality.", schema_of(con) + "."), params or []).fetchall()
    finally:
        con.close()


def _offers_figures(warehouse: Path) -> list[tuple[object, ...]]:
    return _query(warehouse, "select indicator_code, territory_code, period, value, source_vintage "
                             "from marts.mart_indicators where indicator_code like 'offers_%' order by all")


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_offers_down_publishes_the_others_as_degraded(published_run: OrefRun, tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    shutil.copytree(published_run.data_dir, data_dir, symlinks=True)
    settings = published_run.settings.with_(data_dir=data_dir)
    before_run = published_run_of(settings)
    offers_before = _offers_figures(settings.warehouse_path)
    assert offers_before, "the shared run publishes offers indicators"
    [(vintage_before, sha_before)] = _query(
        settings.warehouse_path, "select max(data_vintage), max(sha256) from quality.source_files "
                                 "where source = 'offers' and run_id = ?", [before_run])

    with offers_down() as server:
        # --refresh offers: this month's extract has landed, so only a refresh asks the API again
        run = oref(data_dir, "run", "--refresh", "offers", extra_env=_env(server))
        asked = [p for p in server.requests if p.startswith(OFFERS_API)]
    assert asked, "the offers API was asked"
    assert run.returncode == 2, run.output
    assert "verdict: degraded" in run.output

    new_run = published_run_of(settings)
    assert new_run is not None and new_run != before_run  # a new publication...
    summary = json.loads((settings.runs_dir / new_run / "summary.json").read_text("utf-8"))
    assert summary["status"] == "degraded" and summary["published"] is not None
    assert _offers_figures(settings.warehouse_path) == offers_before  # ...with last month's offers figures

    [(status, stale, reason, report)] = _query(
        settings.quality_path, "select status, sources_stale, reason, report_path from quality.runs "
                               "where run_id = ?", [new_run])
    assert (status, stale) == ("degraded", 1)
    assert reason.startswith("1 source(s) stale, their last good files used: offers (data vintage ")
    assert "503" in reason and "days old" in reason
    assert Path(report).is_file() and new_run in Path(report).name
    html = Path(report).read_text("utf-8")
    assert "<code>offers</code>" in html and "périmée" in html  # the steward report: offers stale

    states = dict(((s, (st, pol, v, pv, sha, psha)) for s, st, pol, v, pv, sha, psha in _query(
        settings.quality_path, "select source, status, policy, data_vintage, previous_data_vintage, sha256, "
                               "previous_sha256 from quality.source_status where run_id = ?", [new_run])))
    assert states["offers"] == ("stale", "use_last_good", vintage_before, vintage_before, sha_before, sha_before)
    assert states["bmo"][0] == "unchanged" and states["bmo"][4] == states["bmo"][5]
    # the failed fetch is a warning now, beside one naming the source, its vintage and age
    checks = dict(_query(settings.quality_path, "select check_name, severity from quality.check_results "
                                                "where run_id = ? and source = 'offers' and status = 'fail'",
                         [new_run]))
    assert checks == {"fetch_and_land": "warn", "source_stale": "warn"}
    # `oref sources` and `oref quality` say the same
    listed = oref(data_dir, "sources", "--json")
    by_source = {r["source"]: r for r in json.loads(listed.output[listed.output.index("["):])}
    assert (by_source["offers"]["status"], by_source["bmo"]["status"]) == ("stale", "unchanged")
    assert "503" in by_source["offers"]["message"]
    verdict = oref(data_dir, "quality")
    assert verdict.returncode == 2 and new_run in verdict.output and "offers" in verdict.output
    # the published warehouse carries the same verdict
    assert _query(settings.warehouse_path, "select status from quality.runs where run_id = ?",
                  [new_run]) == [("degraded",)]


def test_a_source_declared_blocking_blocks_the_run(published_run: OrefRun, tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    shutil.copytree(published_run.data_dir, data_dir, symlinks=True)
    settings = published_run.settings.with_(data_dir=data_dir)
    warehouse, serving = _sha256(settings.warehouse_path), _sha256(settings.serving_path)
    with offers_down() as server:
        run = oref(data_dir, "run", "--refresh", "offers", extra_env=_env(server, OREF_BLOCK_ON_FAILURE="offers"))
    assert run.returncode == 1, run.output
    assert "verdict: blocked" in run.output and "published: nothing" in run.output
    [(status, reason)] = _query(settings.quality_path, "select status, reason from quality.runs "
                                                       "order by finished_at desc limit 1")
    assert status == "blocked"
    assert reason.startswith("source(s) failed, publication blocked: source 'offers'")
    assert "503" in reason and "(the source's policy is to block)" in reason
    assert _query(settings.quality_path, "select status, policy from quality.source_status where source = 'offers' "
                                         "order by run_id desc limit 1") == [("failed", "block")]
    assert (_sha256(settings.warehouse_path), _sha256(settings.serving_path)) == (warehouse, serving)
