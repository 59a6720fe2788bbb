"""Superset 6.1 form data ("params") for the chart types the dashboards use.

Each function returns the ``params`` of one chart type, with the control names of Superset
6.1's plugins. Metrics are the datasets' saved metrics, referred to by name, so a formula lives
in one place (the dataset). Number formats follow the French d3 locale set in
``superset/superset_config.py``: ``,d`` writes 1 234, ``.1%`` writes 67,9 %, ``+.1%`` writes +5,2 %.

The query each chart sends (``query_context``) is not written here: it is recorded from
Superset's own front end (``python -m oref.dashboards record``), so it is exactly what the
browser asks for.
"""

from __future__ import annotations

from typing import Any

# d3 formats, French locale (superset_config.D3_FORMAT)
COUNT = ",d"
SHARE = ".1%"
CHANGE = "+.1%"  # a year-on-year change, signed: +5,2 %, −3,0 %
DECIMAL = ",.2f"
POINTS = ",.1f"

GRAINS = {"year": "P1Y", "quarter": "P1D", "month": "P1M"}
TIME_FORMATS = {"year": "%Y", "quarter": "%d/%m/%Y", "month": "%m/%Y"}
# Quarterly series are dated by the quarter's last day, as the Arcep dates them (31/12/2025 for
# T4 2025): d3 has no quarter format, and the quarter's first day would read as a month.
TIME_AXES = {"year": "period_date", "quarter": "period_end_date", "month": "period_date"}

Filter = dict[str, Any]


def eq(column: str, value: str | int) -> Filter:
    return {
        "clause": "WHERE",
        "expressionType": "SIMPLE",
        "subject": column,
        "operator": "==",
        "operatorId": "EQUALS",
        "comparator": value,
        "filterOptionName": f"filter_{column}_eq",
        "isExtra": False,
        "isNew": False,
        "sqlExpression": None,
    }


def is_in(column: str, values: list[str]) -> Filter:
    return {
        "clause": "WHERE",
        "expressionType": "SIMPLE",
        "subject": column,
        "operator": "IN",
        "operatorId": "IN",
        "comparator": list(values),
        "filterOptionName": f"filter_{column}_in",
        "isExtra": False,
        "isNew": False,
        "sqlExpression": None,
    }


def is_true(column: str) -> Filter:
    return {
        "clause": "WHERE",
        "expressionType": "SIMPLE",
        "subject": column,
        "operator": "IS TRUE",
        "operatorId": "IS_TRUE",
        "comparator": None,
        "filterOptionName": f"filter_{column}_true",
        "isExtra": False,
        "isNew": False,
        "sqlExpression": None,
    }


def is_false(column: str) -> Filter:
    return {**is_true(column), "operator": "IS FALSE", "operatorId": "IS_FALSE",
            "filterOptionName": f"filter_{column}_false"}


def sql(expression: str, name: str) -> Filter:
    return {
        "clause": "WHERE",
        "expressionType": "SQL",
        "subject": None,
        "operator": None,
        "comparator": None,
        "sqlExpression": expression,
        "filterOptionName": f"filter_{name}",
        "isExtra": False,
        "isNew": False,
    }


def time_range(column: str = "period_date") -> Filter:
    """The time-range filter a dashboard's period filter overrides (no limit by default)."""
    return {
        "clause": "WHERE",
        "expressionType": "SIMPLE",
        "subject": column,
        "operator": "TEMPORAL_RANGE",
        "comparator": "No filter",
        "filterOptionName": f"filter_{column}_range",
        "isExtra": False,
        "isNew": False,
        "sqlExpression": None,
    }


def _base(viz_type: str, filters: list[Filter]) -> dict[str, Any]:
    return {
        "datasource": "0__table",  # rewritten by Superset's importer
        "viz_type": viz_type,
        "adhoc_filters": filters,
        "extra_form_data": {},
        "dashboards": [],
    }


def big_number_trend(metric: str, filters: list[Filter], *, grain: str, number_format: str,
                     subtitle: str, compare_suffix: str | None) -> dict[str, Any]:
    """The latest value in large, the period it belongs to, and its trend line.

    ``compare_suffix``: show the relative change since the previous period (counts); None for
    shares and ratios, whose relative change ("+3 %" of a percentage) would mislead.
    """
    axis = TIME_AXES[grain]
    return {
        **_base("big_number", [*filters, time_range(axis)]),
        "x_axis": axis,
        "time_grain_sqla": GRAINS[grain],
        "metric": metric,
        "show_trend_line": True,
        "start_y_axis_at_zero": True,
        "show_timestamp": True,  # the period of the value shown, e.g. 2025
        "time_format": TIME_FORMATS[grain],
        "compare_lag": 1 if compare_suffix else None,
        "compare_suffix": compare_suffix or "",
        "subtitle": subtitle,
        "y_axis_format": number_format,
        "header_font_size": 0.4,
        "subheader_font_size": 0.15,
        "rolling_type": "None",
        "color_picker": {"r": 0, "g": 94, "b": 131, "a": 1},
    }


def big_number_total(metric: str, filters: list[Filter], *, number_format: str, subtitle: str) -> dict[str, Any]:
    return {
        **_base("big_number_total", filters),
        "metric": metric,
        "subtitle": subtitle,
        "y_axis_format": number_format,
        "header_font_size": 0.4,
        "subheader_font_size": 0.15,
    }


def bar(x: str, metrics: list[str], filters: list[Filter], *, number_format: str, series: str | None = None,
        horizontal: bool = True, stacked: bool = False, sort_by: str | None = None, ascending: bool = False,
        x_title: str = "", y_title: str = "", row_limit: int = 1000) -> dict[str, Any]:
    """Bars over a categorical axis (métiers, communes, domains...), values written on the bars."""
    params: dict[str, Any] = {
        **_base("echarts_timeseries_bar", filters),
        "x_axis": x,
        "metrics": metrics,
        "groupby": [series] if series else [],
        "orientation": "horizontal" if horizontal else "vertical",
        "stack": "Stack" if stacked else None,
        "row_limit": row_limit,
        "truncate_metric": True,
        "show_legend": bool(series) or len(metrics) > 1,
        "legendType": "scroll",
        "legendOrientation": "top",
        "rich_tooltip": True,
        "show_value": True,
        "only_total": True,
        "y_axis_format": number_format,
        "x_axis_title": x_title,
        "x_axis_title_margin": 15,
        "y_axis_title": y_title,
        "y_axis_title_margin": 30,
        "y_axis_title_position": "Left",
        "color_scheme": "supersetColors",
        "zoomable": False,
        "x_axis_sort_asc": ascending,
    }
    if sort_by:
        params["x_axis_sort"] = sort_by
    return params


def line(metrics: list[str], filters: list[Filter], *, grain: str, number_format: str,
         series: str | None = None, y_title: str = "", row_limit: int = 10000) -> dict[str, Any]:
    """Values over time (years, quarters), one line per series."""
    axis = TIME_AXES[grain]
    return {
        **_base("echarts_timeseries_line", [*filters, time_range(axis)]),
        "x_axis": axis,
        "time_grain_sqla": GRAINS[grain],
        "x_axis_time_format": TIME_FORMATS[grain],
        "metrics": metrics,
        "groupby": [series] if series else [],
        "row_limit": row_limit,
        "truncate_metric": True,
        "show_legend": True,
        "legendType": "scroll",
        "legendOrientation": "top",
        "rich_tooltip": True,
        "tooltipTimeFormat": TIME_FORMATS[grain],
        "markerEnabled": True,
        "markerSize": 6,
        "y_axis_format": number_format,
        "y_axis_title": y_title,
        "y_axis_title_margin": 30,
        "y_axis_title_position": "Left",
        "color_scheme": "supersetColors",
        "zoomable": False,
    }


def table_raw(columns: list[str], filters: list[Filter], *, order_by: list[tuple[str, bool]],
              formats: dict[str, str] | None = None, row_limit: int = 1000, page_length: int = 0,
              search: bool = False) -> dict[str, Any]:
    """Rows as they are in a serving table (already aggregated there); HTML cells rendered."""
    return {
        **_base("table", filters),
        "query_mode": "raw",
        "all_columns": columns,
        "order_by_cols": [f'["{column}", {str(asc).lower()}]' for column, asc in order_by],
        "row_limit": row_limit,
        "server_pagination": False,
        "page_length": page_length,
        "include_search": search,
        "show_cell_bars": False,
        "allow_render_html": True,
        "allow_rearrange_columns": False,
        "color_pn": False,
        "table_timestamp_format": "%d/%m/%Y %H:%M",
        "column_config": {column: {"d3NumberFormat": fmt} for column, fmt in (formats or {}).items()},
    }


def table_aggregate(groupby: list[str], metrics: list[str], filters: list[Filter], *, sort_metric: str,
                    descending: bool = True, row_limit: int = 1000) -> dict[str, Any]:
    """Groups and metrics computed by the database; the metrics carry their own formats."""
    return {
        **_base("table", filters),
        "query_mode": "aggregate",
        "groupby": groupby,
        "metrics": metrics,
        "timeseries_limit_metric": sort_metric,
        "order_desc": descending,
        "row_limit": row_limit,
        "server_pagination": False,
        "page_length": 0,
        "include_search": False,
        "show_cell_bars": False,
        "allow_render_html": True,
        "color_pn": False,
        "show_totals": False,
    }


def labelled(column: str, label: str) -> dict[str, Any]:
    """A column shown under a French header (pivot tables show column names, not verbose names)."""
    return {"expressionType": "SQL", "sqlExpression": column, "label": label}


def pivot(rows: dict[str, Any], columns: dict[str, Any], metric: str, filters: list[Filter], *,
          number_format: str, aggregate: str = "Maximum") -> dict[str, Any]:
    """A matrix: one row per ``rows`` value, one column per ``columns`` value."""
    return {
        **_base("pivot_table_v2", filters),
        "groupbyRows": [rows],
        "groupbyColumns": [columns],
        "metrics": [metric],
        "metricsLayout": "COLUMNS",
        "aggregateFunction": aggregate,
        "valueFormat": number_format,
        "rowOrder": "key_a_to_z",
        "colOrder": "key_a_to_z",
        "rowTotals": False,
        "colTotals": False,
        "rowSubTotals": False,
        "colSubTotals": False,
        "transposePivot": False,
        "combineMetric": False,
        "row_limit": 10000,
    }


def heatmap(x: str, y: str, metric: str, filters: list[Filter], *, number_format: str) -> dict[str, Any]:
    return {
        **_base("heatmap_v2", filters),
        "x_axis": x,
        "groupby": y,
        "metric": metric,
        "linear_color_scheme": "blue_white_yellow",
        "normalize_across": "heatmap",
        "show_legend": True,
        "show_values": False,
        "show_percentage": False,
        "sort_x_axis": "alpha_asc",
        "sort_y_axis": "alpha_asc",
        "y_axis_format": number_format,
        "row_limit": 10000,
        "value_bounds": [None, None],
    }


def handlebars(columns: list[str], filters: list[Filter], *, template: str, style: str = "",
               order_by: list[tuple[str, bool]] | None = None, row_limit: int = 100) -> dict[str, Any]:
    """Text written from the data (the dashboards' headers)."""
    return {
        **_base("handlebars", filters),
        "query_mode": "raw",
        "all_columns": columns,
        "order_by_cols": [f'["{column}", {str(asc).lower()}]' for column, asc in (order_by or [])],
        "row_limit": row_limit,
        "handlebarsTemplate": template,
        "styleTemplate": style,
    }


def polygon_map(geometry: str, metric: str, filters: list[Filter], *, legend_format: str,
                viewport: dict[str, float]) -> dict[str, Any]:
    """deck.gl polygons coloured by a metric, without a base map (no tile server is reachable)."""
    return {
        **_base("deck_polygon", filters),
        "line_column": geometry,
        "line_type": "json",
        "metric": metric,
        "point_radius_fixed": {"type": "fix", "value": 1000},
        "reverse_long_lat": False,
        "filled": True,
        "stroked": True,
        "extruded": False,
        "line_width": 1,
        "line_width_unit": "pixels",
        "opacity": 80,
        "linear_color_scheme": "blue_white_yellow",
        "fill_color_picker": {"r": 0, "g": 94, "b": 131, "a": 1},
        "stroke_color_picker": {"r": 255, "g": 255, "b": 255, "a": 1},
        "legend_position": "tr",
        "legend_format": legend_format,
        "num_buckets": 5,
        "break_points": [],
        "autozoom": True,
        "viewport": {**viewport, "pitch": 0, "bearing": 0},
        "js_columns": [],
        "js_data_mutator": "",
        "js_tooltip": "",
        "js_onclick_href": "",
        "mapbox_style": "",
        "row_limit": 10000,
    }
