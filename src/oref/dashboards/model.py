"""The building blocks of the dashboards-as-code: datasets, charts, layout and native filters.

Everything here is plain data. ``oref.dashboards.catalog`` describes the observatory's
dashboards with these classes; ``oref.dashboards.render`` turns them into the YAML bundle that
Superset imports (``superset/assets/``). Identifiers are derived from stable keys (UUID v5), so
regenerating the bundle changes no byte unless the description changed.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

# Namespace of every UUID in the bundle: a chart's UUID is uuid5(NAMESPACE, "chart:<key>").
NAMESPACE = uuid.UUID("5b0d3c4e-7f1a-5c2e-9a44-0e1f6a2b9c70")

Database = Literal["oref", "oref_qualite"]


def stable_uuid(kind: str, key: str) -> str:
    return str(uuid.uuid5(NAMESPACE, f"{kind}:{key}"))


@dataclass(frozen=True)
class Metric:
    """A saved metric of a dataset: charts refer to it by ``name``."""

    name: str
    label: str  # French, shown in charts and tooltips
    expression: str  # SQL over the dataset's columns
    d3format: str | None = None
    description: str | None = None


@dataclass(frozen=True)
class Dataset:
    """A Superset dataset: a table of the warehouse (or quality store), or a SQL query over it."""

    key: str  # the table name, or a name for a virtual dataset
    database: Database
    schema: str
    description: str
    metrics: tuple[Metric, ...] = ()
    sql: str | None = None  # a virtual dataset: aggregated SQL (columns come from `columns`)
    columns: tuple[tuple[str, str], ...] = ()  # (name, type) for datasets not described by dbt
    main_dttm_col: str | None = None

    @property
    def uuid(self) -> str:
        return stable_uuid("dataset", f"{self.database}.{self.schema}.{self.key}")

    def metric(self, name: str) -> Metric:
        for metric in self.metrics:
            if metric.name == name:
                return metric
        raise KeyError(f"dataset {self.key} has no metric {name!r}")


@dataclass
class Chart:
    """A chart: its French title and description, its dataset and its Superset form data."""

    key: str
    title: str
    dataset: Dataset
    viz_type: str
    params: dict[str, Any]
    description: str = ""
    width: int = 4  # grid columns, out of 12
    height: int = 50  # grid rows of 8 px

    @property
    def uuid(self) -> str:
        return stable_uuid("chart", self.key)


@dataclass(frozen=True)
class Markdown:
    key: str
    text: str  # Markdown, in French
    width: int = 12
    height: int = 20


@dataclass(frozen=True)
class Header:
    key: str
    text: str
    size: Literal["SMALL_HEADER", "MEDIUM_HEADER", "LARGE_HEADER"] = "MEDIUM_HEADER"


Component = Chart | Markdown


@dataclass
class Row:
    items: Sequence[Component]


@dataclass
class NativeFilter:
    """A dashboard filter. ``charts`` lists the charts it applies to (all others are out of scope)."""

    key: str
    name: str  # French
    filter_type: Literal["filter_select", "filter_time"]
    charts: list[Chart]
    dataset: Dataset | None = None  # filter_select: where the values come from
    column: str | None = None
    multi_select: bool = True
    required: bool = False
    first_item_default: bool = False  # select the first value (sorted by `sort_metric`) on load
    sort_metric: str | None = None  # a metric of `dataset` ordering the values (ascending)
    description: str = ""
    default_time_range: str = "No filter"
    pre_filters: tuple[dict[str, Any], ...] = ()  # narrow the values offered (e.g. one level only)

    @property
    def filter_id(self) -> str:
        return f"NATIVE_FILTER-{stable_uuid('filter', self.key)[:13]}"


@dataclass
class Dashboard:
    slug: str
    title: str  # French
    description: str  # French
    rows: list[Row | Header] = field(default_factory=list)
    filters: list[NativeFilter] = field(default_factory=list)

    @property
    def uuid(self) -> str:
        return stable_uuid("dashboard", self.slug)

    def charts(self) -> list[Chart]:
        found: list[Chart] = []
        for row in self.rows:
            if isinstance(row, Row):
                found.extend(item for item in row.items if isinstance(item, Chart))
        return found
