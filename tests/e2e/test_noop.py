"""Nothing changed, nothing rebuilt: a rerun on a published data directory stops after its fetches.

The fingerprint's unit tests (tests/unit/test_fingerprint.py) show that a changed setting or a newly
landed file changes it; here the whole command, on a copy of the shared published run.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import duckdb
from oref_testing import OrefRun, oref

from oref.fingerprint import fingerprint
from oref.pipeline import published_run as published_run_of


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_a_rerun_with_nothing_new_stops_early(published_run: OrefRun, tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    shutil.copytree(published_run.data_dir, data_dir, symlinks=True)
    copy = OrefRun(data_dir, 0, "")
    settings = copy.settings
    published = published_run_of(settings)
    assert published is not None
    before = {p.name: _sha256(p) for p in (settings.warehouse_path, settings.serving_path)}
    builds_before = sorted(p.name for p in settings.build_dir.glob("*")) if settings.build_dir.is_dir() else []
    landed_before = sorted(p.relative_to(data_dir) for p in (data_dir / "landing").rglob("*") if p.is_file())

    rerun = oref(data_dir, "run", timeout=600)

    assert rerun.returncode == 0, rerun.output
    # the same snapshot again: nothing lands, every source says unchanged
    assert sorted(p.relative_to(data_dir) for p in (data_dir / "landing").rglob("*") if p.is_file()) == landed_before
    for source in ("geo", "bmo", "urssaf", "offers", "sirene"):
        assert f"  {source:<10} unchanged" in rerun.output, rerun.output
    assert f"nothing new since run {published}: not rebuilt" in rerun.output
    assert "[dbt]" not in rerun.output and "[load]" not in rerun.output
    assert {p.name: _sha256(p) for p in (settings.warehouse_path, settings.serving_path)} == before
    builds_after = sorted(p.name for p in settings.build_dir.glob("*")) if settings.build_dir.is_dir() else []
    assert builds_after == builds_before
    # recorded: status unchanged, with the fingerprint it shares with the published run
    con = duckdb.connect(str(settings.quality_path), read_only=True)
    try:
        run_id, status, recorded, reason = con.execute(
            "select run_id, status, fingerprint, reason from quality.runs order by finished_at desc limit 1").fetchone()
        published_fp = con.execute("select fingerprint from quality.runs where run_id = ?", [published]).fetchone()
    finally:
        con.close()
    assert status == "unchanged" and run_id != published
    assert recorded == published_fp[0] == fingerprint(settings)
    assert reason == f"nothing new since run {published}: not rebuilt"
    summary = json.loads((settings.runs_dir / run_id / "summary.json").read_text("utf-8"))
    assert summary["status"] == "unchanged" and summary["build"] is None and summary["published"] is None
