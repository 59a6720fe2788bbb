"""CONTRIBUTING.md's recipes stay true: every file they list exists, for every source and indicator model.

Each numbered step of a recipe names its files between backticks; ``<key>`` and ``<family>`` are
replaced by every registered source key and every indicator family, and ``<entity>`` by every table
of the source's dbt source; a ``*`` must match at least one file. A recipe naming a file that a
source or a family does not have fails, and so does one whose files have moved.
"""

from __future__ import annotations

import csv
import re
from pathlib import Path

import pytest
import yaml

from oref.sources import SOURCE_NAMES

REPO = Path(__file__).resolve().parents[2]
RECIPES = REPO / "CONTRIBUTING.md"
PATH = re.compile(r"`((?:src|dbt_project|expectations|scripts|tests|docs)/[^`\s]+|README\.md)`")


def _recipe(title: str) -> list[str]:
    """The paths named by the numbered steps of the recipe ``## <title>``."""
    text = RECIPES.read_text("utf-8")
    section = text.split(f"## {title}\n", 1)[1].split("\n## ", 1)[0]
    steps = re.findall(r"^\d+\. (.*?)(?=^\d+\. |\Z)", section, re.S | re.M)
    assert steps, title
    return [path for step in steps for path in PATH.findall(step)]


def _entities(key: str) -> list[str]:
    document = yaml.safe_load((REPO / "dbt_project" / "models" / "staging" / f"_{key}__sources.yml").read_text())
    return [t["name"] for t in document["sources"][0]["tables"]]


@pytest.mark.parametrize("key", SOURCE_NAMES)
def test_add_a_source_lists_files_every_source_has(key: str) -> None:
    paths = _recipe("Add a source")
    assert len(paths) >= 10
    for pattern in paths:
        for entity in _entities(key) if "<entity>" in pattern else [""]:
            name = pattern.replace("<key>", key).replace("<entity>", entity)
            found = list(REPO.glob(name)) if "*" in name else [REPO / name]
            assert found and all(p.is_file() for p in found), f"CONTRIBUTING.md names {pattern}: no {name}"


def test_add_an_indicator_lists_files_every_family_has() -> None:
    with (REPO / "dbt_project" / "seeds" / "indicator_catalogue.csv").open(encoding="utf-8") as handle:
        families = {row["model"].removeprefix("ind_") for row in csv.DictReader(handle)}
    paths = _recipe("Add an indicator")
    assert {"dbt_project/seeds/indicator_catalogue.csv", "docs/indicators.md"} <= set(paths)
    for family in families:
        for pattern in paths:
            path = REPO / pattern.replace("<family>", family)
            assert path.is_file(), f"CONTRIBUTING.md names {pattern}: {path.relative_to(REPO)} is missing"
