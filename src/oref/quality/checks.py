"""Check results, recorded per run so the build can publish them in ``quality.check_results``."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal

Severity = Literal["error", "warn"]
Status = Literal["pass", "fail"]


@dataclass
class CheckResult:
    source: str  # a source name, or "warehouse" for checks on the build
    check_name: str
    engine: str  # "gx", "oref" (landing contract) or "dbt"
    severity: Severity
    status: Status
    message: str = ""
    observed: str = ""
    target: str = ""  # the file or table checked
    checked_at: str = field(default_factory=lambda: datetime.now(UTC).isoformat(timespec="seconds"))

    @property
    def blocking(self) -> bool:
        return self.status == "fail" and self.severity == "error"


def checks_path(runs_dir: Path, run_id: str, source: str) -> Path:
    return runs_dir / run_id / "checks" / f"{source}.json"


def save_checks(runs_dir: Path, run_id: str, source: str, results: list[CheckResult]) -> Path:
    path = checks_path(runs_dir, run_id, source)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps([asdict(r) for r in results], indent=2, ensure_ascii=False) + "\n", "utf-8")
    return path


def load_checks(runs_dir: Path, run_id: str) -> list[CheckResult]:
    directory = runs_dir / run_id / "checks"
    results: list[CheckResult] = []
    if directory.is_dir():
        for path in sorted(directory.glob("*.json")):
            results.extend(CheckResult(**item) for item in json.loads(path.read_text("utf-8")))
    return results
