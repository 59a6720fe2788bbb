"""A fault-injection hook for tests and operators: ``OREF_PAUSE_AT=<point>`` stops a run at a known point.

When ``Settings.pause_at`` names a point the run reaches, the run writes
``<data_dir>/runs/<run_id>/paused-at-<point>`` (holding its PID) and sleeps
``Settings.pause_seconds`` (``OREF_PAUSE_SECONDS``, default 600) before going on. A test (or an
operator rehearsing a crash) waits for that file, then ``kill -9``s the process at exactly that
point. Points:

- ``fetch``: after the first source's fetch, before the next one;
- ``dbt``: while ``dbt build`` runs, once it has reported its first node (dbt is still running);
- ``audit``: after ``dbt build``, before the audit writes the serving file and the quality tables;
- ``publish``: in the swap, after the previous warehouse is copied aside, before ``oref.duckdb`` is replaced.

Unset (the default), the hook does nothing.
"""

from __future__ import annotations

import os
import time

from oref.config import Settings

POINTS: tuple[str, ...] = ("fetch", "dbt", "audit", "publish")


def pause_at(settings: Settings, point: str, run_id: str | None) -> None:
    """Pause here when ``OREF_PAUSE_AT`` names ``point``: write the marker file, then sleep."""
    if settings.pause_at != point:
        return
    marker = settings.runs_dir / (run_id or "unknown-run") / f"paused-at-{point}"
    marker.parent.mkdir(parents=True, exist_ok=True)
    marker.write_text(f"{os.getpid()}\n", "utf-8")
    time.sleep(settings.pause_seconds)
