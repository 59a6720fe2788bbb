"""``make bench-noop``: a run with nothing new against a cold run, as the issue measures it.

Three rounds, each on a new empty data directory: a cold ``oref run`` (everything fetched, built,
audited, published, exported), then at once the same command again, which finds nothing new and
stops after its fetches (``oref.fingerprint``). The medians, the ratio (target ≤ 10 %) and where the
no-op run spends its time (per source fetch, the rest) go to ``docs/benchmarks.md`` between markers;
the raw figures to ``<data_dir>/bench/noop-<stamp>.json``.

Both runs are the real command in snapshot mode (the snapshot served on loopback), with the
dashboards' refresh off (no Superset home in a fresh data directory anyway).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from oref.config import PROJECT_ROOT, Settings

DOC = PROJECT_ROOT / "docs" / "benchmarks.md"
BEGIN, END = "<!-- bench-noop:begin -->", "<!-- bench-noop:end -->"
ROUNDS = 3
TARGET = 0.10
_FETCH = re.compile(r"^\[fetch \d+/\d+\] (\w+): (\w+) \(.*?, ([\d.]+)s\)", re.MULTILINE)


def machine() -> str:
    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{os.cpu_count()} cores, {cpu}, Python {platform.python_version()}"


def write_doc(section: str, doc: Path = DOC) -> None:
    """Replace this benchmark's section of the shared file (between its markers), or append it."""
    text = doc.read_text("utf-8")
    if BEGIN in text and END in text:
        head, rest = text.split(BEGIN, 1)
        text = head + section + rest.split(END, 1)[1].lstrip("\n")
    else:
        text = text.rstrip("\n") + "\n\n" + section
    doc.write_text(text, "utf-8")


def _oref_run(data_dir: Path) -> tuple[float, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("OREF_")}
    env.update({"OREF_DATA_DIR": str(data_dir), "OREF_SOURCE_MODE": "snapshot", "OREF_SUPERSET_REFRESH": "0"})
    started = time.perf_counter()
    proc = subprocess.run([str(Path(sys.executable).with_name("oref")), "run"], env=env, cwd=PROJECT_ROOT,
                          capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - started
    if proc.returncode != 0:
        raise SystemExit(f"oref run failed (exit {proc.returncode}) in {data_dir}:\n{proc.stdout[-4000:]}")
    return elapsed, proc.stdout


def measure(rounds: int = ROUNDS, on_round: Callable[[dict[str, Any]], None] | None = None) -> dict[str, Any]:
    """``rounds`` cold runs and no-op reruns; ``on_round`` gets the figures so far after each round."""
    results: list[dict[str, Any]] = []
    figures: dict[str, Any] = {}
    for index in range(1, rounds + 1):
        with tempfile.TemporaryDirectory(prefix="oref-bench-noop-") as tmp:
            data_dir = Path(tmp) / "data"
            cold, _ = _oref_run(data_dir)
            noop, output = _oref_run(data_dir)
            if "not rebuilt" not in output:
                raise SystemExit(f"the rerun rebuilt: nothing new was expected\n{output[-4000:]}")
            fetches = {name: float(seconds) for name, _, seconds in _FETCH.findall(output)}
            results.append({"cold_s": round(cold, 2), "noop_s": round(noop, 2), "noop_fetch_s": fetches})
            print(f"round {index}/{rounds}: cold {cold:.1f}s, no-op {noop:.1f}s "
                  f"(fetches {sum(fetches.values()):.1f}s)", flush=True)
        cold_median = statistics.median(float(r["cold_s"]) for r in results)
        noop_median = statistics.median(float(r["noop_s"]) for r in results)
        figures = {"rounds": list(results), "cold_median_s": round(cold_median, 2),
                   "noop_median_s": round(noop_median, 2), "ratio": round(noop_median / cold_median, 4)}
        if on_round:
            on_round(figures)
    return figures


def section(figures: dict[str, Any], measured_at: str, note: str = "") -> str:
    ratio = float(figures["ratio"])
    rounds: list[dict[str, Any]] = figures["rounds"]
    per_source: dict[str, list[float]] = {}
    for r in rounds:
        for name, seconds in r["noop_fetch_s"].items():
            per_source.setdefault(name, []).append(seconds)
    lines = [
        BEGIN,
        "## Nothing new, nothing rebuilt (`make bench-noop`)",
        "",
        f"Measured {measured_at} on {machine()}. {len(rounds)} round{'s' if len(rounds) > 1 else ''}, "
        "each on a new empty data directory: a cold `oref run` (snapshot served on loopback: fetch, build, "
        "audit, publish, export), then the same command again, which finds no new file and the same "
        "fingerprint as the published run and stops after its fetches (status `unchanged`). Wall-clock "
        "seconds of the whole command, medians. Python's bytecode cache was "
        + ("**off** (`PYTHONDONTWRITEBYTECODE` set: every process compiles its modules, a fixed cost of "
           "several seconds that weighs on the short rerun)" if os.environ.get("PYTHONDONTWRITEBYTECODE")
           else "on") + ".",
        *(["", note] if note else []),
        "",
        f"- Cold run: **{figures['cold_median_s']} s**; rerun with nothing new: **{figures['noop_median_s']} s**.",
        f"- Ratio: **{ratio:.1%}** of a cold run. Target ≤ {TARGET:.0%}: "
        f"**{'met' if ratio <= TARGET else 'not met'}**.",
        "",
        "| round | cold run (s) | no-op rerun (s) | its fetches (s) |",
        "|---:|---:|---:|---:|",
    ]
    for index, r in enumerate(rounds, 1):
        fetch_total = sum(r["noop_fetch_s"].values())
        lines.append(f"| {index} | {r['cold_s']} | {r['noop_s']} | {fetch_total:.1f} |")
    lines += ["", "Where the no-op rerun spends its time, per source fetch (median seconds; the rest is "
              "start-up, the replay server, the fingerprint and the run's record):", "",
              "| source | seconds |", "|---|---:|"]
    for name, values in per_source.items():
        lines.append(f"| {name} | {statistics.median(values):.2f} |")
    lines.append(END)
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m oref.bench_noop")
    parser.add_argument("--rounds", type=int, default=ROUNDS, help=f"cold run + rerun pairs (default {ROUNDS})")
    args = parser.parse_args(argv)
    settings = Settings.from_env()
    started = datetime.now(UTC)
    measured_at = started.strftime("%Y-%m-%d %H:%M UTC")
    note = (f"Load average at the start: {os.getloadavg()[0]:.1f} (other work on the machine slows the "
            "cold run far more than the short rerun: compare ratios measured at a similar load).")
    out = settings.data_dir / "bench" / f"noop-{started.strftime('%Y%m%dT%H%M%S')}.json"

    def save(figures: dict[str, Any]) -> None:  # after every round: a long bench cut short still reports
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps({"measured_at": measured_at, **figures}, indent=2) + "\n", "utf-8")
        write_doc(section(figures, measured_at, note))

    figures = measure(args.rounds, save)
    print(f"cold {figures['cold_median_s']}s, no-op {figures['noop_median_s']}s, ratio {float(figures['ratio']):.1%}; "
          f"written to {DOC} and {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
