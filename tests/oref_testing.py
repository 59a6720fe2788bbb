"""Test helpers: run the real `oref` command in snapshot mode (imported by conftest and tests)."""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
OREF = Path(sys.executable).with_name("oref")


@dataclass
class OrefRun:
    data_dir: Path
    returncode: int
    output: str

    @property
    def warehouse(self) -> Path:
        return self.data_dir / "warehouse" / "oref.duckdb"


def oref(data_dir: Path, *args: str, territory: str = "972", snapshot_dir: Path | None = None,
         extra_env: dict[str, str] | None = None, timeout: int = 900) -> OrefRun:
    """Run the real `oref` command in snapshot mode (it serves the snapshot on 127.0.0.1 itself)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OREF_", "AIRFLOW"))}
    env.update({"OREF_DATA_DIR": str(data_dir), "OREF_SOURCE_MODE": "snapshot", "OREF_TERRITORY": territory})
    if snapshot_dir is not None:
        env["OREF_SNAPSHOT_DIR"] = str(snapshot_dir)
    env.update(extra_env or {})
    proc = subprocess.run([str(OREF), *args], cwd=REPO, env=env, capture_output=True, text=True, timeout=timeout)
    return OrefRun(data_dir, proc.returncode, proc.stdout + proc.stderr)
