"""The snapshot's MANIFEST.json, shared by every snapshot generator.

Each generator owns the entries it wrote (``generated_by``) and replaces only those, so the
generators of different sources can run in any order and each stays byte-reproducible.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any


def manifest_entry(path: str, data: bytes, *, url: str, source: str, kind: str, description: str,
                   licence: str, generated_by: str, seed: int | None) -> dict[str, Any]:
    if kind not in ("real", "derived-from-real", "synthetic"):
        raise ValueError(f"unknown kind {kind!r}")
    return {
        "path": path, "url": url, "source": source, "kind": kind,
        "sha256": hashlib.sha256(data).hexdigest(), "bytes": len(data),
        "description": description, "licence": licence, "generated_by": generated_by, "seed": seed,
    }


def merge_manifest(snapshot_dir: Path, entries: Iterable[dict[str, Any]], generated_by: str) -> Path:
    """Replace this generator's entries in ``MANIFEST.json`` (sorted by path, stable bytes)."""
    path = snapshot_dir / "MANIFEST.json"
    current: list[dict[str, Any]] = []
    if path.exists():
        current = json.loads(path.read_text("utf-8")).get("files", [])
    new = list(entries)
    new_paths = {e["path"] for e in new}
    kept = [e for e in current if e.get("generated_by") != generated_by and e["path"] not in new_paths]
    files = sorted([*kept, *new], key=lambda e: e["path"])
    document = {
        "description": "Bundled snapshot served by oref.replay at the real URL paths. kind: real = byte copy "
                       "of real open data; derived-from-real = real facts re-shaped into the publisher's "
                       "format; synthetic = invented values in the real schema.",
        "files": files,
    }
    path.write_text(json.dumps(document, indent=2, ensure_ascii=False, sort_keys=False) + "\n", "utf-8")
    return path
