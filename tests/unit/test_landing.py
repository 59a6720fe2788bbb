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


def _land_by_hand(zone: LandingZone, source: str, name: str, landed_at: str, data_vintage: str | None,
                  content: bytes) -> None:
    """A landed file as LandingZone.land writes it, at a chosen instant (a month apart, say)."""
    import hashlib
    import json

    directory = zone.root / source / landed_at
    directory.mkdir(parents=True, exist_ok=True)
    (directory / name).write_bytes(content)
    moment = datetime.strptime(landed_at, "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
    (directory / f"{name}.manifest.json").write_text(json.dumps({
        "source": source, "name": name, "sha256": hashlib.sha256(content).hexdigest(), "bytes": len(content),
        "fetched_at": moment.isoformat(timespec="seconds"), "vintage": landed_at, "data_vintage": data_vintage,
    }), "utf-8")


def test_a_monthly_series_keeps_one_extract_per_month(sources: SourceHarness) -> None:
    with sources.serve() as server:
        zone = LandingZone(sources.settings(server, "972", data_dir="d"))
    # MCF-like: the month of the extract date; a second extract in August replaces the first
    _land_by_hand(zone, "mcf", "c.csv", "20260831T010000Z", "2026-08-30", b"aug")
    _land_by_hand(zone, "mcf", "c.csv", "20260901T010000Z", "2026-08-31", b"aug, again")
    _land_by_hand(zone, "mcf", "c.csv", "20261001T010000Z", "2026-09-30", b"sep")
    _land_by_hand(zone, "mcf", "other.csv", "20261001T010000Z", "2026-09-30", b"another scope")
    assert [f.path.read_bytes() for f in zone.series("mcf", "c.csv", "monthly")] == [b"aug, again", b"sep"]
    # API extracts have no data vintage: the month they landed
    _land_by_hand(zone, "offers", "o.jsonl", "20261015T010000Z", None, b"oct")
    _land_by_hand(zone, "offers", "o.jsonl", "20261130T010000Z", None, b"nov")
    _land_by_hand(zone, "offers", "o.jsonl", "20261130T020000Z", None, b"nov, later")
    assert [f.path.read_bytes() for f in zone.series("offers", "o.jsonl", "monthly")] == [b"oct", b"nov, later"]
    # as of mid-November, November is the first extract of the month
    mid = datetime(2026, 11, 30, 1, 30, tzinfo=UTC)
    assert [f.path.read_bytes() for f in zone.series("offers", "o.jsonl", "monthly", as_of=mid)] == [b"oct", b"nov"]


def test_a_yearly_series_keeps_one_file_per_data_vintage_in_year_order(sources: SourceHarness) -> None:
    with sources.serve() as server:
        zone = LandingZone(sources.settings(server, "972", data_dir="d"))
    # 2024 served (late) after 2025: both kept, in year order; the latest is still 2025
    _land_by_hand(zone, "tensions", "t.xlsx", "20260301T010000Z", "2025", b"2025")
    _land_by_hand(zone, "tensions", "t.xlsx", "20260401T010000Z", "2024", b"2024")
    assert [f.data_vintage for f in zone.series("tensions", "t.xlsx", "yearly")] == ["2024", "2025"]
    latest = zone.latest("tensions", "t.xlsx")
    assert latest is not None and latest.data_vintage == "2025"
