"""Write the dashboards of ``oref.dashboards.catalog`` as Superset's YAML import bundle.

The bundle lives unzipped in ``superset/assets/`` (reviewable in git); ``oref.superset_assets``
zips it at import time. This module writes ``datasets/``, ``charts/`` and ``dashboards/``; the
``databases/`` files and ``metadata.yaml`` are written by hand and only read here.

Warehouse datasets take their columns, types and French descriptions from the dbt models' YAML
(``dbt_project/models/marts/dashboards``), so a column documented for analysts in dbt docs is
documented the same way in Superset. Each chart keeps the ``query_context`` recorded from
Superset's front end (``oref.dashboards.record``) as long as its form data is unchanged.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import yaml  # type: ignore[import-untyped]

from oref.config import PROJECT_ROOT
from oref.dashboards import catalog
from oref.dashboards import datasets as ds
from oref.dashboards.model import Chart, Dashboard, Dataset, Header, Markdown, NativeFilter

ASSETS_DIR = PROJECT_ROOT / "superset" / "assets"
DBT_MODELS_DIR = PROJECT_ROOT / "dbt_project" / "models"
DASHBOARD_MODELS_DIR = DBT_MODELS_DIR / "marts" / "dashboards"
GENERATED_DIRS = ("datasets", "charts", "dashboards")

# dbt contract types -> the types Superset records for a DuckDB column
SUPERSET_TYPES = {
    "varchar": "VARCHAR", "integer": "INTEGER", "bigint": "BIGINT", "double precision": "DOUBLE",
    "double": "DOUBLE", "boolean": "BOOLEAN", "date": "DATE", "timestamp": "TIMESTAMP",
}
TEMPORAL = {"DATE", "TIMESTAMP"}

_DOC_BLOCK = re.compile(r"{%\s*docs\s+(\w+)\s*%}(.*?){%\s*enddocs\s*%}", re.S)
_DOC_REF = re.compile(r"""{{\s*doc\(['"](\w+)['"]\)\s*}}""")


class AssetError(ValueError):
    """The catalogue does not describe a valid bundle (unknown column, missing recording...)."""


# --- YAML ----------------------------------------------------------------------------------------
class _Dumper(yaml.SafeDumper):
    pass


def _str_representer(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Dumper.add_representer(str, _str_representer)


def dump(data: dict[str, Any]) -> str:
    return yaml.dump(data, Dumper=_Dumper, allow_unicode=True, sort_keys=False, width=110)


# --- dbt model documentation ---------------------------------------------------------------------
def _doc_blocks(models_dir: Path = DBT_MODELS_DIR) -> dict[str, str]:
    blocks: dict[str, str] = {}
    for path in sorted(models_dir.rglob("*.md")):
        for name, text in _DOC_BLOCK.findall(path.read_text("utf-8")):
            blocks[name] = " ".join(text.split())
    return blocks


def model_columns(model: str, models_dir: Path = DASHBOARD_MODELS_DIR) -> list[tuple[str, str, str]]:
    """(name, Superset type, French description) of a dbt model's contract, in order."""
    path = models_dir / f"{model}.yml"
    if not path.is_file():
        raise AssetError(f"dataset {model}: no dbt model documentation at {path}")
    spec = yaml.safe_load(path.read_text("utf-8"))
    (node,) = [m for m in spec["models"] if m["name"] == model]
    docs = _doc_blocks()
    columns = []
    for column in node["columns"]:
        description = " ".join(str(column.get("description", "")).split())
        description = _DOC_REF.sub(lambda m: docs[m.group(1)], description)
        columns.append((column["name"], SUPERSET_TYPES[column["data_type"]], description))
    return columns


# --- datasets ------------------------------------------------------------------------------------
def database_uuids(assets_dir: Path = ASSETS_DIR) -> dict[str, str]:
    found = {}
    for path in sorted((assets_dir / "databases").glob("*.yaml")):
        spec = yaml.safe_load(path.read_text("utf-8"))
        found[spec["database_name"]] = spec["uuid"]
    return found


def dataset_columns(dataset: Dataset) -> list[tuple[str, str, str]]:
    if dataset.database == "oref" and dataset.sql is None:
        return model_columns(dataset.key)
    return [(name, kind, "") for name, kind in dataset.columns]


def dataset_yaml(dataset: Dataset, database_uuid: str) -> dict[str, Any]:
    labels = {**ds.COLUMN_LABELS, **ds.QUALITY_LABELS}
    columns = dataset_columns(dataset)
    names = {name for name, _, _ in columns}
    if dataset.main_dttm_col and dataset.main_dttm_col not in names:
        raise AssetError(f"dataset {dataset.key}: main_dttm_col {dataset.main_dttm_col} is not a column")
    return {
        "table_name": dataset.key,
        "schema": dataset.schema,
        "catalog": None,
        "sql": dataset.sql,
        "description": dataset.description,
        "main_dttm_col": dataset.main_dttm_col,
        "default_endpoint": None,
        "offset": 0,
        "cache_timeout": None,
        "params": None,
        "template_params": None,
        "filter_select_enabled": True,
        "fetch_values_predicate": None,
        # replaced at import by the run that built the served marts (oref.superset_assets)
        "extra": json.dumps({"oref_publication": "__OREF_PUBLICATION__"}),
        "normalize_columns": False,
        "always_filter_main_dttm": False,
        "uuid": dataset.uuid,
        "database_uuid": database_uuid,
        "version": "1.0.0",
        "metrics": [
            {
                "metric_name": metric.name,
                "verbose_name": metric.label,
                "metric_type": None,
                "expression": metric.expression,
                "description": metric.description,
                "d3format": metric.d3format,
                "currency": None,
                "extra": None,
                "warning_text": None,
            }
            for metric in dataset.metrics
        ],
        "columns": [
            {
                "column_name": name,
                "verbose_name": labels.get(name),
                "description": description or None,
                "type": kind,
                "is_dttm": kind in TEMPORAL,
                "is_active": True,
                "groupby": True,
                "filterable": True,
                "expression": None,
                "python_date_format": None,
                "advanced_data_type": None,
                "extra": None,
            }
            for name, kind, description in columns
        ],
    }


# --- charts --------------------------------------------------------------------------------------
def params_digest(chart: Chart) -> str:
    """What a recorded query context was recorded for: the chart's form data and dataset.

    The front end builds the query from the form data alone (metrics are referred to by name),
    so relabelling a column or rewording a metric's SQL needs no new recording.
    """
    payload = {"params": chart.params, "dataset": chart.dataset.uuid, "viz_type": chart.viz_type}
    return hashlib.sha256(json.dumps(payload, sort_keys=True, ensure_ascii=False).encode()).hexdigest()[:16]


def _referenced_columns(chart: Chart) -> set[str]:
    params = chart.params
    names: set[str] = set()
    for key in ("x_axis", "groupbyRows", "groupbyColumns", "groupby", "all_columns", "line_column"):
        value = params.get(key)
        if isinstance(value, str):
            names.add(value)
        elif isinstance(value, list):
            names.update(v for v in value if isinstance(v, str))
            names.update(v["sqlExpression"] for v in value if isinstance(v, dict) and "sqlExpression" in v)
    for adhoc in params.get("adhoc_filters", []):
        if adhoc.get("expressionType") == "SIMPLE":
            names.add(adhoc["subject"])
    return names


def _referenced_metrics(chart: Chart) -> set[str]:
    params = chart.params
    names = set(params.get("metrics") or [])
    for key in ("metric", "x_axis_sort", "timeseries_limit_metric"):
        if isinstance(params.get(key), str):
            names.add(params[key])
    return names


def check_chart(chart: Chart) -> None:
    """Refuse a chart that names a column or metric its dataset does not have."""
    columns = {name for name, _, _ in dataset_columns(chart.dataset)}
    metrics = {metric.name for metric in chart.dataset.metrics}
    unknown = _referenced_columns(chart) - columns
    if unknown:
        raise AssetError(f"chart {chart.key}: unknown column(s) {sorted(unknown)} in {chart.dataset.key}")
    sort_names = metrics | columns
    missing = {m for m in _referenced_metrics(chart) if m not in sort_names}
    if missing:
        raise AssetError(f"chart {chart.key}: unknown metric(s) {sorted(missing)} in {chart.dataset.key}")


def chart_yaml(chart: Chart, recordings: dict[str, dict[str, Any]]) -> dict[str, Any]:
    recorded = recordings.get(chart.uuid)
    digest = params_digest(chart)
    query_context = None
    if recorded and recorded.get("digest") == digest:
        query_context = json.dumps(recorded["query_context"], indent=2, ensure_ascii=False, sort_keys=True)
    return {
        "slice_name": chart.title,
        "description": chart.description or None,
        "certified_by": None,
        "certification_details": None,
        "viz_type": chart.viz_type,
        "params": chart.params,
        "query_context": query_context,
        "cache_timeout": None,
        "uuid": chart.uuid,
        "version": "1.0.0",
        "dataset_uuid": chart.dataset.uuid,
    }


# --- dashboards ----------------------------------------------------------------------------------
def chart_ids(dashboards: Iterable[Dashboard]) -> dict[str, int]:
    """A stable integer per chart, for the position's chartId and the filters' scopes.

    Superset's importer maps these to the real ids through the position's chartId/uuid pairs.
    """
    ids: dict[str, int] = {}
    for dashboard in dashboards:
        for chart in dashboard.charts():
            ids.setdefault(chart.uuid, len(ids) + 1)
    return ids


def _position(dashboard: Dashboard, ids: dict[str, int]) -> dict[str, Any]:
    position: dict[str, Any] = {
        "DASHBOARD_VERSION_KEY": "v2",
        "ROOT_ID": {"type": "ROOT", "id": "ROOT_ID", "children": ["GRID_ID"]},
        "GRID_ID": {"type": "GRID", "id": "GRID_ID", "children": [], "parents": ["ROOT_ID"]},
        "HEADER_ID": {"type": "HEADER", "id": "HEADER_ID", "meta": {"text": dashboard.title}},
    }
    grid = position["GRID_ID"]["children"]
    for index, row in enumerate(dashboard.rows, 1):
        if isinstance(row, Header):
            header_id = f"HEADER-{row.key}"
            grid.append(header_id)
            position[header_id] = {
                "type": "HEADER", "id": header_id, "children": [], "parents": ["ROOT_ID", "GRID_ID"],
                "meta": {"text": row.text, "headerSize": row.size, "background": "BACKGROUND_TRANSPARENT"},
            }
            continue
        row_id = f"ROW-{dashboard.slug}-{index}"
        grid.append(row_id)
        position[row_id] = {"type": "ROW", "id": row_id, "children": [], "parents": ["ROOT_ID", "GRID_ID"],
                            "meta": {"background": "BACKGROUND_TRANSPARENT"}}
        if sum(item.width for item in row.items) > 12:
            raise AssetError(f"dashboard {dashboard.slug}: row {index} is wider than 12 columns")
        for item in row.items:
            parents = ["ROOT_ID", "GRID_ID", row_id]
            if isinstance(item, Markdown):
                item_id = f"MARKDOWN-{item.key}"
                meta: dict[str, Any] = {"width": item.width, "height": item.height, "code": item.text}
                position[item_id] = {"type": "MARKDOWN", "id": item_id, "children": [], "parents": parents,
                                     "meta": meta}
            else:
                item_id = f"CHART-{item.key}"
                position[item_id] = {
                    "type": "CHART", "id": item_id, "children": [], "parents": parents,
                    "meta": {"chartId": ids[item.uuid], "width": item.width, "height": item.height,
                             "sliceName": item.title, "uuid": item.uuid},
                }
            position[row_id]["children"].append(item_id)
    return position


def _native_filter(native: NativeFilter, dashboard: Dashboard, ids: dict[str, int]) -> dict[str, Any]:
    on_dashboard = {chart.uuid for chart in dashboard.charts()}
    in_scope = {chart.uuid for chart in native.charts}
    if not in_scope <= on_dashboard:
        raise AssetError(f"filter {native.key}: a chart in its scope is not on dashboard {dashboard.slug}")
    excluded = sorted(ids[uuid] for uuid in on_dashboard - in_scope)
    control_values: dict[str, Any]
    targets: list[dict[str, Any]]
    if native.filter_type == "filter_time":
        control_values = {}
        targets = [{}]
        default_mask: dict[str, Any] = {"extraFormData": {"time_range": native.default_time_range},
                                         "filterState": {"value": native.default_time_range}}
    else:
        if native.dataset is None or native.column is None:
            raise AssetError(f"filter {native.key}: a select filter needs a dataset and a column")
        columns = {name for name, _, _ in dataset_columns(native.dataset)}
        if native.column not in columns:
            raise AssetError(f"filter {native.key}: {native.column} is not a column of {native.dataset.key}")
        for chart in native.charts:
            chart_columns = {name for name, _, _ in dataset_columns(chart.dataset)}
            if native.column not in chart_columns:
                raise AssetError(f"filter {native.key}: chart {chart.key} has no column {native.column}")
        control_values = {
            "enableEmptyFilter": native.required,
            "defaultToFirstItem": native.first_item_default,
            "multiSelect": native.multi_select,
            "searchAllOptions": False,
            "inverseSelection": False,
            "sortAscending": True,
        }
        if native.sort_metric:
            native.dataset.metric(native.sort_metric)  # refuse an unknown metric
        targets = [{"datasetUuid": native.dataset.uuid, "column": {"name": native.column}}]
        default_mask = {"extraFormData": {}, "filterState": {}}
    spec: dict[str, Any] = {
        "id": native.filter_id,
        "name": native.name,
        "filterType": native.filter_type,
        "type": "NATIVE_FILTER",
        "description": native.description,
        "targets": targets,
        "controlValues": control_values,
        "defaultDataMask": default_mask,
        "cascadeParentIds": [],
        "scope": {"rootPath": ["ROOT_ID"], "excluded": excluded},
    }
    if native.first_item_default:
        # the dashboard waits for the filter's first value before querying the charts in scope
        spec["requiredFirst"] = True
    if native.filter_type == "filter_select":
        spec["adhoc_filters"] = list(native.pre_filters)
        if native.sort_metric:
            spec["sortMetric"] = native.sort_metric
    return spec


def dashboard_yaml(dashboard: Dashboard, ids: dict[str, int]) -> dict[str, Any]:
    return {
        "dashboard_title": dashboard.title,
        "description": dashboard.description,
        "css": DASHBOARD_CSS,
        "slug": dashboard.slug,
        "certified_by": None,
        "certification_details": None,
        "published": True,
        "uuid": dashboard.uuid,
        "version": "1.0.0",
        "position": _position(dashboard, ids),
        "metadata": {
            "color_scheme": "supersetColors",
            "refresh_frequency": 0,
            "expanded_slices": {},
            "label_colors": {},
            "shared_label_colors": [],
            "color_scheme_domain": [],
            "timed_refresh_immune_slices": [],
            "cross_filters_enabled": False,
            "default_filters": "{}",
            "chart_configuration": {},
            "global_chart_configuration": {"scope": {"rootPath": ["ROOT_ID"], "excluded": []},
                                           "chartsInScope": []},
            "native_filter_configuration": [_native_filter(f, dashboard, ids) for f in dashboard.filters],
        },
    }


# Long métier and territory names must wrap instead of being cut in tables.
DASHBOARD_CSS = ".dashboard-markdown p { line-height: 1.5; }\n"


# --- the bundle ----------------------------------------------------------------------------------
RECORDINGS = ASSETS_DIR.parent / "query_contexts.json"


def load_recordings(path: Path = RECORDINGS) -> dict[str, dict[str, Any]]:
    if not path.is_file():
        return {}
    data: dict[str, dict[str, Any]] = json.loads(path.read_text("utf-8"))
    return data


def render(assets_dir: Path = ASSETS_DIR, recordings: dict[str, dict[str, Any]] | None = None
           ) -> dict[Path, str]:
    """Every generated file of the bundle: relative path -> YAML text."""
    recordings = load_recordings() if recordings is None else recordings
    dashboards = catalog.dashboards()
    databases = database_uuids(assets_dir)
    ids = chart_ids(dashboards)
    files: dict[Path, str] = {}
    used: dict[str, Dataset] = {}
    charts: dict[str, Chart] = {}
    for dashboard in dashboards:
        files[Path("dashboards") / f"{dashboard.slug}.yaml"] = dump(dashboard_yaml(dashboard, ids))
        for chart in dashboard.charts():
            charts.setdefault(chart.key, chart)
        for native in dashboard.filters:
            if native.dataset is not None:
                used.setdefault(native.dataset.key, native.dataset)
    for chart in charts.values():
        check_chart(chart)
        used.setdefault(chart.dataset.key, chart.dataset)
        files[Path("charts") / f"{chart.key}.yaml"] = dump(chart_yaml(chart, recordings))
    for dataset in used.values():
        if dataset.database not in databases:
            raise AssetError(f"dataset {dataset.key}: no database {dataset.database!r} in {assets_dir}/databases")
        files[Path("datasets") / dataset.database / f"{dataset.key}.yaml"] = dump(
            dataset_yaml(dataset, databases[dataset.database]))
    return files


def write(assets_dir: Path = ASSETS_DIR) -> list[Path]:
    """Write the generated files and delete generated files the catalogue no longer has."""
    files = render(assets_dir)
    for directory in GENERATED_DIRS:
        for stale in (assets_dir / directory).rglob("*.yaml"):
            if stale.relative_to(assets_dir) not in files:
                stale.unlink()
    for relative, text in files.items():
        path = assets_dir / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        if not path.exists() or path.read_text("utf-8") != text:
            path.write_text(text, "utf-8")
    return sorted(files)


def missing_recordings() -> list[str]:
    """Charts whose query context must be recorded again (new chart, or form data changed)."""
    recordings = load_recordings()
    missing = []
    for dashboard in catalog.dashboards():
        for chart in dashboard.charts():
            recorded = recordings.get(chart.uuid)
            if not recorded or recorded.get("digest") != params_digest(chart):
                missing.append(chart.key)
    return sorted(set(missing))


def check(assets_dir: Path = ASSETS_DIR) -> list[str]:
    """What differs between the bundle on disk and the catalogue (empty: they agree)."""
    problems = []
    files = render(assets_dir)
    for relative, text in files.items():
        path = assets_dir / relative
        if not path.is_file():
            problems.append(f"missing {relative}: run `make dashboards`")
        elif path.read_text("utf-8") != text:
            problems.append(f"out of date {relative}: run `make dashboards`")
    for directory in GENERATED_DIRS:
        for path in (assets_dir / directory).rglob("*.yaml"):
            if path.relative_to(assets_dir) not in files:
                problems.append(f"not in the catalogue: {path.relative_to(assets_dir)}")
    problems += [f"query context not recorded for chart {key}: run `make dashboards-record`"
                 for key in missing_recordings()]
    return problems
