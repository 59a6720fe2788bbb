"""Run a Great Expectations 1.x suite (JSON in ``expectations/``) on a pandas DataFrame.

GX's SQL engine fails on DuckDB (great_expectations#10738, #11579), so frames are validated in
pandas: landed files before loading, marts read back from the build file.

A suite never copies a perimeter: a kwarg written ``{"$reference": "naf_codes", "perimeter":
"ict_services"}`` is replaced, when the suite is loaded, by that function of ``oref.reference``
(the seeds), as a list.
"""

from __future__ import annotations

import json
import logging
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any

from oref.quality.checks import CheckResult

if TYPE_CHECKING:
    import pandas as pd

# GX logs every decorator it registers at INFO, and draws progress bars: neither helps a run log.
logging.getLogger("great_expectations").setLevel(logging.WARNING)
_GX_LOCK = threading.Lock()  # see run_suite


# the oref.reference functions a suite may name (they read the dbt seeds)
REFERENCES = ("naf_codes", "digital_fap2021_codes", "digital_rome_codes", "offers_query_rome_codes")


def _resolve(value: Any) -> Any:
    if isinstance(value, dict) and "$reference" in value:
        from oref import reference

        arguments = {k: v for k, v in value.items() if k != "$reference"}
        if value["$reference"] not in REFERENCES:
            raise ValueError(f"unknown $reference {value['$reference']!r}; known: {', '.join(REFERENCES)}")
        return list(getattr(reference, value["$reference"])(**arguments))
    if isinstance(value, dict):
        return {k: _resolve(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_resolve(v) for v in value]
    return value


def load_suite(path: Path) -> dict[str, Any]:
    """The suite as JSON, its ``$reference`` values replaced by the seeds' codes."""
    data: dict[str, Any] = _resolve(json.loads(path.read_text("utf-8")))
    return data


def run_suite(suite_path: Path, frame: pd.DataFrame, *, source: str, target: str) -> list[CheckResult]:
    """Validate ``frame`` with the suite; one ``CheckResult`` per expectation.

    One suite at a time in a process: GX 1.x keeps the current context in a process-wide project
    manager, so two validations in two threads (sources fetched at once) would read each other's.
    """
    with _GX_LOCK:
        return _run_suite(suite_path, frame, source=source, target=target)


def _run_suite(suite_path: Path, frame: pd.DataFrame, *, source: str, target: str) -> list[CheckResult]:
    import great_expectations as gx
    from great_expectations.data_context.types.base import ProgressBarsConfig

    _quiet_gx()
    spec = load_suite(suite_path)
    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = ProgressBarsConfig(globally=False)
    severities: list[str] = []
    expectations = []
    for item in spec["expectations"]:
        meta = dict(item.get("meta") or {})
        severities.append(meta.get("severity", "error"))
        expectations.append({"type": item["type"], "kwargs": item["kwargs"], "meta": meta})
    suite = context.suites.add(gx.ExpectationSuite(name=spec["name"], expectations=expectations))
    batch = (
        context.data_sources.add_pandas(f"{source}_frames")
        .add_dataframe_asset(name=target)
        .add_batch_definition_whole_dataframe("whole_frame")
    )
    validation = gx.ValidationDefinition(name=f"{spec['name']}_validation", data=batch, suite=suite)
    outcome = validation.run(batch_parameters={"dataframe": frame}, result_format="SUMMARY")
    results: list[CheckResult] = []
    # GX adds default kwargs to each configuration, so results are matched on the name we put in meta
    by_name = {(r.expectation_config.meta or {}).get("name"): r for r in outcome.results}
    for item, severity in zip(spec["expectations"], severities, strict=True):
        name = (item.get("meta") or {}).get("name") or _describe(item)
        res = by_name.get(name)
        if res is None:  # pragma: no cover - GX answers every expectation
            results.append(CheckResult(source, name, "gx", severity, "fail", "no result from GX", "", target))  # type: ignore[arg-type]
            continue
        observed, message = _summarise(res.result, item)
        raised = res.exception_info.get("raised_exception") if isinstance(res.exception_info, dict) else False
        if raised:
            message = str(res.exception_info.get("exception_message") or message)
        results.append(CheckResult(
            source=source, check_name=name, engine="gx", severity=severity,  # type: ignore[arg-type]
            status="pass" if res.success else "fail", message="" if res.success else message,
            observed=observed, target=target,
        ))
    return results


def _quiet_gx() -> None:
    # GX sets levels on some of its own loggers at import time: quieten every one of them
    for name in list(logging.root.manager.loggerDict):
        if name.startswith("great_expectations"):
            logging.getLogger(name).setLevel(logging.WARNING)


def _describe(item: dict[str, Any]) -> str:
    kwargs = item["kwargs"]
    subject = kwargs.get("column") or "/".join(str(kwargs[k]) for k in ("column_A", "column_B") if k in kwargs)
    return f"{item['type']}({subject})" if subject else str(item["type"])


def _summarise(result: dict[str, Any], item: dict[str, Any]) -> tuple[str, str]:
    count = result.get("unexpected_count")
    sample = result.get("partial_unexpected_list") or []
    observed = result.get("observed_value")
    column = item["kwargs"].get("column") or ", ".join(
        str(item["kwargs"][k]) for k in ("column_A", "column_B") if k in item["kwargs"])
    if count:
        shown = ", ".join(repr(v) for v in sample[:5])
        return str(count), f"{count} unexpected value(s) in column {column!r}, e.g. {shown}"
    if observed is not None:
        return str(observed), f"observed {observed!r} in {column or 'frame'}"
    return "", f"expectation {item['type']} failed on {column or 'frame'}"
