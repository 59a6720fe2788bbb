"""The landing zone: vintage ordering, unreadable manifests (a killed run) ignored with a warning that
the fetch records, files landed after an instant ignored (as-of builds)."""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

from oref_testing import SourceHarness

from oref.landing import MANIFEST_CHECK, ORPHAN_CHECK, LandingZone, is_older_vintage, vintage_key
from oref.sources.mcf import McfSource


def test_vintage_keys_order_years_quarters_dates_and_versions() -> None:
    assert is_older_vintage("2024", "2025") and not is_older_vintage("2025", "2024")
    assert is_older_vintage("2025-T3", "2025-T4") and is_older_vintage("2024", "2025-T1")
    assert is_older_vintage("2026-08-29", "2026-08-30") and is_older_vintage("2025-05", "2025-06-30T10:00")
    assert is_older_vintage("4.60", "4.61") and is_older_vintage("v4.99", "4.100")
    # versions and dates do not compare; nor does a missing vintage
    assert not is_older_vintage("4.60", "2025") and not is_older_vintage(None, "2025")
    assert vintage_key("not a vintage") is None


def _land_mcf(sources: SourceHarness) -> tuple[LandingZone, Path]:
    with sources.serve() as server:
        settings = sources.settings(server, "972", data_dir="d")
        assert sources.fetch(settings, McfSource()).status == "landed"
    zone = LandingZone(settings)
    (landed,) = zone.files("mcf")
    return zone, landed.path


def test_a_truncated_manifest_is_not_landed_and_the_fetch_records_a_warning(sources: SourceHarness) -> None:
    zone, path = _land_mcf(sources)
    manifest = path.with_name(path.name + ".manifest.json")
    text = manifest.read_text("utf-8")
    os.chmod(manifest, 0o644)
    manifest.write_text(text[: len(text) // 2], "utf-8")  # what a kill -9 mid-write left (before atomic writes)
    assert zone.files("mcf") == []
    assert [(c.check_name, c.severity, c.status) for c in zone.drain_problems()] == [(MANIFEST_CHECK, "warn", "fail")]
    with sources.serve() as server:  # the next fetch lands the file again, and says why
        result = sources.fetch(sources.settings(server, "972", data_dir="d"), McfSource(), run_id="run-2")
    assert result.status == "landed"
    warned = [c for c in sources.checks if c.check_name == MANIFEST_CHECK]
    assert len(warned) == 1 and "unreadable landing manifest" in warned[0].message
    assert str(manifest) in warned[0].message


def test_a_file_without_manifest_is_ignored_with_a_warning(sources: SourceHarness) -> None:
    zone, path = _land_mcf(sources)
    orphan = path.parent.parent / "20990101T000000Z" / path.name
    orphan.parent.mkdir()
    orphan.write_bytes(b"half")
    assert [f.path for f in zone.files("mcf")] == [path]
    problems = zone.drain_problems()
    assert [(c.check_name, c.target) for c in problems] == [(ORPHAN_CHECK, str(orphan))]
    assert zone.drain_problems() == []  # reported once


def test_as_of_ignores_files_landed_after(sources: SourceHarness) -> None:
    zone, path = _land_mcf(sources)
    landed_at = zone.files("mcf")[0].fetched_at
    assert zone.files("mcf", as_of=landed_at - timedelta(seconds=1)) == []
    assert zone.latest("mcf", path.name, as_of=datetime.now(UTC)) is not None
