"""The dashboards-as-code: the YAML bundle is what the catalogue generates, and it is coherent.

These need no Superset: they read ``superset/assets`` and the dbt models' documentation. The
browser and chart-data tests (tests/superset) check the same bundle served by a real Superset.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from oref.dashboards import catalog, render
from oref.dashboards import datasets as ds
from oref.dashboards.model import Chart, Dashboard

ASSETS = render.ASSETS_DIR


def _load(path: Path) -> dict[str, Any]:
    return dict(yaml.safe_load(path.read_text("utf-8")))


@pytest.fixture(scope="module")
def dashboards() -> list[Dashboard]:
    return catalog.dashboards()


def test_bundle_is_what_the_catalogue_generates() -> None:
    """No hand edit, no stale file, and every chart's recorded query matches its form data."""
    assert render.check() == []


def test_one_dashboard_per_need(dashboards: list[Dashboard]) -> None:
    slugs = {d.slug for d in dashboards}
    assert slugs == {
        "pilotage-preconisations", "filiere-numerique", "offre-formation", "infrastructures-numeriques",
        "socle-formation", "enjeux-de-demain", "comparaison-drom", "qualite-donnees",
    }
    files = {p.stem for p in (ASSETS / "dashboards").glob("*.yaml")}
    assert files == slugs


def test_every_chart_has_a_query_context_for_its_own_dataset() -> None:
    datasets = {_load(p)["uuid"]: _load(p) for p in (ASSETS / "datasets").rglob("*.yaml")}
    charts = [_load(p) for p in (ASSETS / "charts").glob("*.yaml")]
    assert len(charts) >= 50
    for chart in charts:
        assert chart["dataset_uuid"] in datasets, chart["slice_name"]
        context = json.loads(chart["query_context"])
        assert context["queries"], chart["slice_name"]
        assert context["form_data"]["viz_type"] == chart["viz_type"]
        dataset = datasets[chart["dataset_uuid"]]
        known = {c["column_name"] for c in dataset["columns"]} | {m["metric_name"] for m in dataset["metrics"]}
        for query in context["queries"]:
            for column in query.get("columns", []):
                name = column if isinstance(column, str) else column.get("sqlExpression")
                assert name in known, (chart["slice_name"], name)


def test_titles_and_labels_are_french(dashboards: list[Dashboard]) -> None:
    english = re.compile(r"\b(the|and|of|by|with|chart|count|sum)\b", re.I)
    for dashboard in dashboards:
        assert not english.search(dashboard.title), dashboard.title
        for chart in dashboard.charts():
            assert not english.search(chart.title), chart.title
            assert chart.description, f"{chart.key} has no description"
    for dataset in ds.ALL:
        for metric in dataset.metrics:
            assert not english.search(metric.label), metric.label


def test_no_territory_is_written_in_the_bundle() -> None:
    """Territory is configuration: no chart query, filter or dataset names Martinique or its codes."""
    texts = {}
    for path in (ASSETS / "charts").glob("*.yaml"):
        chart = _load(path)
        texts[path.name] = json.dumps(chart["params"], ensure_ascii=False) + chart["query_context"]
    for path in (ASSETS / "dashboards").glob("*.yaml"):
        texts[path.name] = json.dumps(_load(path)["metadata"], ensure_ascii=False)
    for path in (ASSETS / "datasets").rglob("*.yaml"):
        texts[path.name] = str(_load(path)["sql"])
    for name, text in texts.items():
        for needle in ("Martinique", "'972'", '"972"', "972-", "Guadeloupe"):
            assert needle not in text, f"{name} names {needle}"


def _scoped(chart: Chart) -> bool:
    """True when a chart selects its own territory (or a whole level of the territory)."""
    subjects = {f.get("subject") for f in chart.params.get("adhoc_filters", [])}
    return bool(subjects & {"is_configured_territory", "comparison_group", "territory_level"})


def test_every_warehouse_chart_is_scoped_to_a_territory(dashboards: list[Dashboard]) -> None:
    """A chart that sums territories without saying which is how France appeared beside 61."""
    # scoped by their serving table: the configured territory's single row, its communes' contours
    scoped_by_table = {"dash_context", "dash_ftth_map"}
    for dashboard in dashboards:
        for chart in dashboard.charts():
            if chart.dataset.database != "oref" or chart.dataset.key in scoped_by_table:
                continue
            if dashboard.slug == "pilotage-preconisations" and chart.key.startswith("scorecard_p"):
                # raw rows, no sum: the required "Territoire" filter picks the territory
                (territory,) = dashboard.filters
                assert territory.required and territory.first_item_default and chart in territory.charts
                continue
            assert _scoped(chart), f"{dashboard.slug}/{chart.key} has no territory filter"


def test_native_filters_target_columns_of_the_charts_they_scope(dashboards: list[Dashboard]) -> None:
    for dashboard in dashboards:
        names = [f.name for f in dashboard.filters]
        assert len(names) == len(set(names)), dashboard.slug
        for native in dashboard.filters:
            assert native.charts, f"{dashboard.slug}: filter {native.name} applies to nothing"
            if native.filter_type == "filter_time":
                for chart in native.charts:
                    temporal = [f for f in chart.params["adhoc_filters"] if f.get("operator") == "TEMPORAL_RANGE"]
                    assert temporal, f"{chart.key} has no time range for the period filter"
                continue
            assert native.column is not None
            for chart in native.charts:
                columns = {name for name, _, _ in render.dataset_columns(chart.dataset)}
                assert native.column in columns, (dashboard.slug, native.name, chart.key)


def test_every_analytic_dashboard_filters_by_territory(dashboards: list[Dashboard]) -> None:
    for dashboard in dashboards:
        if dashboard.slug == "qualite-donnees":
            continue
        kinds = {f.column for f in dashboard.filters if f.filter_type == "filter_select"}
        assert kinds & {"territory_label", "zone_label", "territory_name"}, dashboard.slug


def test_numbers_are_formatted_in_french(dashboards: list[Dashboard]) -> None:
    """Every number shown has an explicit format: no 0,764923 nor 4.05k."""
    for dashboard in dashboards:
        for chart in dashboard.charts():
            params = chart.params
            if chart.viz_type in ("big_number", "big_number_total", "echarts_timeseries_bar",
                                  "echarts_timeseries_line", "heatmap_v2"):
                assert params["y_axis_format"] not in (None, "SMART_NUMBER"), chart.key
            if chart.viz_type == "pivot_table_v2":
                assert params["valueFormat"] not in (None, "SMART_NUMBER"), chart.key
    for dataset in ds.ALL:
        for metric in dataset.metrics:
            if metric.name not in ("valeur",):
                assert metric.d3format, f"{dataset.key}.{metric.name} has no format"


def test_quality_dashboard_reads_only_the_quality_store(dashboards: list[Dashboard]) -> None:
    """A Lecteur, who has no access to oref_qualite, must not see the quality dashboard at all."""
    (quality,) = [d for d in dashboards if d.slug == "qualite-donnees"]
    assert {c.dataset.database for c in quality.charts()} == {"oref_qualite"}
    for dashboard in dashboards:
        if dashboard is not quality:
            assert {c.dataset.database for c in dashboard.charts()} == {"oref"}, dashboard.slug
