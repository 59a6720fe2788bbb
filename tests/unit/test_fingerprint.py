"""The build fingerprint (oref.fingerprint): what changes the output changes it, nothing else does."""

from __future__ import annotations

import hashlib
import shutil
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb
from oref_testing import REPO

from oref.config import Settings, Territory
from oref.fingerprint import code_digest, components, fingerprint, published_fingerprint, unchanged_since
from oref.http import Download
from oref.landing import LandingZone
from oref.quality.store import RunRecord, write_tables


def _land(settings: Settings, tmp_path: Path, source: str, name: str, content: bytes) -> str:
    """Land ``content`` as the real landing zone does (move + manifest); returns its sha256."""
    download_path = tmp_path / f"download-{hashlib.sha256(content).hexdigest()[:8]}"
    download_path.write_bytes(content)
    digest = hashlib.sha256(content).hexdigest()
    download = Download(url=f"https://example.org/{name}", final_url=f"https://example.org/{name}", status=200,
                        headers={}, path=download_path, sha256=digest, bytes=len(content), content_type="text/csv")
    LandingZone(settings).land(source, name, download, rows=1, data_vintage="2025", run_id="run-1")
    return digest


def _settings(tmp_path: Path, **changes: object) -> Settings:
    base = Settings(data_dir=tmp_path / "data", source_mode="snapshot")
    return base.with_(**changes) if changes else base


def test_equal_inputs_give_equal_fingerprints(tmp_path: Path) -> None:
    settings = _settings(tmp_path)
    digest = _land(settings, tmp_path, "rome", "refromecsv.zip", b"code_rome\nM1805\n")
    assert fingerprint(settings) == fingerprint(_settings(tmp_path))
    # timeouts, paths of the snapshot or credentials do not change what a build produces
    assert fingerprint(settings) == fingerprint(settings.with_(read_timeout=5.0, keep_builds=9))
    assert components(settings)["landed"]["rome"] == {"refromecsv.zip": digest}
    assert len(fingerprint(settings)) == 64


def test_a_setting_that_changes_the_output_changes_it(tmp_path: Path) -> None:
    settings = _settings(tmp_path)
    _land(settings, tmp_path, "rome", "refromecsv.zip", b"code_rome\nM1805\n")
    base = fingerprint(settings)
    others = {
        "territory": settings.with_(territory=Territory.parse("971")),
        "comparison": settings.with_(comparison_departements=("971",)),
        "source mode": settings.with_(source_mode="live"),
    }
    for what, changed in others.items():
        assert fingerprint(changed) != base, what
    assert fingerprint(settings, as_of=datetime(2025, 6, 30, tzinfo=UTC)) != base


def test_a_newly_landed_file_changes_it_and_as_of_sees_only_earlier_files(tmp_path: Path) -> None:
    settings = _settings(tmp_path)
    _land(settings, tmp_path, "rome", "refromecsv.zip", b"code_rome\nM1805\n")
    before = fingerprint(settings)
    before_components = components(settings)
    cut = datetime.now(UTC)
    time.sleep(1.1)  # manifests stamp landings to the second
    new = _land(settings, tmp_path, "bmo", "bmo_2025.csv", b"code\n1\n")
    after = fingerprint(settings)
    assert after != before
    assert components(settings)["landed"]["bmo"] == {"bmo_2025.csv": new}
    # as of an instant before the second landing, the build would read what it read before
    assert components(settings, as_of=cut)["landed"] == before_components["landed"]
    assert components(settings, as_of=cut - timedelta(days=1))["landed"]["rome"] == {}


def test_the_code_digest_follows_the_dbt_models(tmp_path: Path) -> None:
    root = tmp_path / "project"
    for part in ("src/oref", "dbt_project/models", "expectations"):
        (root / part).mkdir(parents=True)
    (root / "src/oref/a.py").write_text("x = 1\n")
    (root / "dbt_project/models/m.sql").write_text("select 1 as x\n")
    (root / "dbt_project/dbt_project.yml").write_text("name: t\n")
    (root / "expectations/s.json").write_text("{}\n")
    first = code_digest(root)
    copy = tmp_path / "copy"
    shutil.copytree(root, copy)
    assert code_digest(copy) == first  # content and relative paths, not where the project lives
    (copy / "dbt_project/models/m.sql").write_text("select 2 as x\n")
    code_digest.cache_clear()
    assert code_digest(copy) != first
    # dbt's own output does not count
    assert code_digest(root) == first
    (root / "dbt_project/target").mkdir()
    (root / "dbt_project/target/manifest.json").write_text("{}")
    code_digest.cache_clear()
    assert code_digest(root) == first
    assert code_digest(REPO) == code_digest(Settings().project_root)


def test_unchanged_since_compares_with_the_published_run(tmp_path: Path) -> None:
    settings = _settings(tmp_path)
    _land(settings, tmp_path, "rome", "refromecsv.zip", b"code_rome\nM1805\n")
    assert published_fingerprint(settings) is None and unchanged_since(settings, ["unchanged"]) is None
    settings.warehouse_dir.mkdir(parents=True)
    con = duckdb.connect(str(settings.warehouse_path))
    try:
        write_tables(con, RunRecord("run-a", "2025-06-01 05:00:00", "2025-06-01 05:20:00", "972", "snapshot",
                                    "published", fingerprint=fingerprint(settings)), [], [])
    finally:
        con.close()
    assert published_fingerprint(settings) == ("run-a", fingerprint(settings))
    assert unchanged_since(settings, ["unchanged", "unchanged"]) == ("run-a", fingerprint(settings))
    # a source that landed a new file, or failed, means a build
    assert unchanged_since(settings, ["unchanged", "landed"]) is None
    assert unchanged_since(settings, ["failed"]) is None
    # another territory is another build
    assert unchanged_since(settings.with_(territory=Territory.parse("971")), ["unchanged"]) is None
