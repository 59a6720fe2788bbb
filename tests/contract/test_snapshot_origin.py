"""The seed snapshot_data_origin says what is real in the demonstration snapshot: it must agree with
data/snapshot/MANIFEST.json, which labels every bundled file real, derived-from-real or synthetic.

mart_indicators turns the seed into each row's data_origin; docs/indicators.md prints it per
indicator. A synthetic figure read as an official one is the failure this guards against: a source
may be called real only where the manifest holds a real file for it, and every source needs a rule
for the cases no more precise rule covers.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
SEEDS = REPO / "dbt_project" / "seeds"
MANIFEST = REPO / "data" / "snapshot" / "MANIFEST.json"


def _seed(name: str) -> list[dict[str, str]]:
    with (SEEDS / f"{name}.csv").open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def _manifest() -> list[dict[str, object]]:
    return list(json.loads(MANIFEST.read_text("utf-8"))["files"])


def test_every_source_has_a_rule_for_every_other_case() -> None:
    rules = _seed("snapshot_data_origin")
    sources = {row["source_code"] for row in _seed("sources")}
    catch_all = {r["source_code"] for r in rules
                 if not (r["indicator_codes"] or r["periods"] or r["departements"] or r["territory_levels"])}
    assert catch_all == sources
    # a rule naming indicators names indicators of its source
    catalogue = {row["indicator_code"]: row["source_codes"].split(";") for row in _seed("indicator_catalogue")}
    for rule in rules:
        for code in filter(None, rule["indicator_codes"].split(";")):
            assert rule["source_code"] in catalogue[code], (code, rule["source_code"])
    assert {r["origin"] for r in rules} <= {"réel", "synthétique"}


def test_a_source_is_real_only_where_the_manifest_holds_real_data() -> None:
    files = _manifest()
    kinds: dict[str, set[str]] = {}
    for entry in files:
        kinds.setdefault(str(entry["source"]), set()).add(str(entry["kind"]))
    for rule in _seed("snapshot_data_origin"):
        source = rule["source_code"]
        if rule["origin"] == "réel":
            assert kinds.get(source, set()) & {"real", "derived-from-real"}, (
                f"{source} is called real but the manifest has no real file for it")
    # a source whose every bundled file is synthetic is real nowhere
    synthetic_only = {s for s, k in kinds.items() if k == {"synthetic"}}
    real_rules = {r["source_code"] for r in _seed("snapshot_data_origin") if r["origin"] == "réel"}
    assert not (synthetic_only & real_rules)


def test_the_real_bmo_vintages_are_the_ones_the_manifest_calls_real() -> None:
    bmo = {str(e["path"]).rsplit("/", 1)[-1]: e for e in _manifest() if e["source"] == "bmo"}
    assert bmo["base_open_data_bmo_2024.xlsx"]["kind"] == "real"
    assert bmo["base_open_data_bmo_2025.xlsx"]["kind"] == "derived-from-real"
    assert "REAL rows" in str(bmo["base_open_data_bmo_2025.xlsx"]["description"])
    rules = {(r["periods"], r["departements"]): r["origin"] for r in _seed("snapshot_data_origin")
             if r["source_code"] == "bmo" and not r["indicator_codes"]}
    assert rules == {("2024", ""): "réel", ("2025", "971;972"): "réel", ("", ""): "synthétique"}
