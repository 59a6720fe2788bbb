"""One vocabulary: a source's key names its raw tables, dbt source, staging models, suites and snapshot."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from oref.sources import _REGISTRY, SOURCE_NAMES

REPO = Path(__file__).resolve().parents[2]
STAGING = REPO / "dbt_project" / "models" / "staging"


def _dbt_source(key: str) -> dict[str, Any]:
    path = STAGING / f"_{key}__sources.yml"
    assert path.is_file(), f"no dbt source file {path.name} for the source {key!r}"
    sources = (yaml.safe_load(path.read_text("utf-8")) or {}).get("sources") or []
    assert [s["name"] for s in sources] == [key], path.name
    assert sources[0]["schema"] == "raw"
    return dict(sources[0])


@pytest.mark.parametrize("key", SOURCE_NAMES)
def test_the_key_names_the_module_raw_tables_dbt_source_and_staging_models(key: str) -> None:
    assert _REGISTRY[key].startswith(f"oref.sources.{key}:")
    assert (REPO / "src" / "oref" / "sources" / f"{key}.py").is_file()
    tables = _dbt_source(key)["tables"]
    assert tables, key
    for table in tables:
        assert table["identifier"] == f"{key}_{table['name']}", (key, table)
        model = STAGING / f"stg_{key}__{table['name']}.sql"
        assert model.is_file() and model.with_suffix(".yml").is_file(), model.name
        assert f"source('{key}', '{table['name']}')" in model.read_text("utf-8"), model.name


def test_every_staging_model_stages_one_table_of_its_source() -> None:
    tables = {(key, t["name"]) for key in SOURCE_NAMES for t in _dbt_source(key)["tables"]}
    staged = set()
    for path in STAGING.glob("stg_*.sql"):
        match = re.fullmatch(r"stg_([a-z]+)__(\w+)", path.stem)
        assert match and (match.group(1), match.group(2)) in tables, path.name
        staged.add((match.group(1), match.group(2)))
    assert staged == tables
    assert {p.name for p in STAGING.glob("_*.yml")} == {f"_{key}__sources.yml" for key in SOURCE_NAMES}


def test_every_source_has_a_landing_suite_and_every_suite_a_source() -> None:
    suites = sorted(p.stem for p in (REPO / "expectations").glob("*.json"))
    for key in SOURCE_NAMES:
        assert [s for s in suites if s.startswith(f"{key}_")], f"no expectations/{key}_*.json"
    assert all(s.split("_", 1)[0] in SOURCE_NAMES and s.endswith("_landing") for s in suites), suites


def test_every_source_has_its_snapshot_files_and_generator() -> None:
    manifest = json.loads((REPO / "data" / "snapshot" / "MANIFEST.json").read_text("utf-8"))
    by_source: dict[str, list[str]] = {}
    for entry in manifest["files"]:
        by_source.setdefault(entry["source"], []).append(entry["path"])
        assert entry["generated_by"] == f"scripts/snapshot/{entry['source']}.py", entry["path"]
    assert sorted(by_source) == sorted(SOURCE_NAMES)
    for key in SOURCE_NAMES:
        assert (REPO / "scripts" / "snapshot" / f"{key}.py").is_file(), key
