"""What every snapshot generator shares: the file record, deterministic containers, the manifest.

Every byte a generator writes is reproducible: CSV with LF endings, JSON with sorted output where
order matters, zip and xlsx containers whose entries carry a fixed date instead of "now", and
seeded RNGs. Running ``make snapshot`` twice gives the same files, byte for byte.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import json
import math
import random
import zipfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from openpyxl import Workbook
from openpyxl.writer.excel import ExcelWriter

ROOT = Path(__file__).resolve().parents[2]
DEFAULT_OUT = ROOT / "data" / "snapshot"

# Every timestamp written inside a container is this one, so regeneration is byte-identical.
FIXED_DATETIME = dt.datetime(2025, 1, 1, 0, 0, 0)
ZIP_DATE_TIME = (2025, 1, 1, 0, 0, 0)

XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
LICENCE_ETALAB = "Licence Ouverte / Etalab 2.0"

# The COG communes file the geo generator writes; arcep, sirene and offers place their synthetic
# rows in its communes, so they run after geo.
COG_COMMUNES = "www.insee.fr/fr/statistiques/fichier/8377162/v_commune_2025.csv"

MANIFEST_DESCRIPTION = (
    "Bundled snapshot served by oref.replay at the real URL paths. kind: real = byte copy of real open data; "
    "derived-from-real = real facts re-shaped into the publisher's format; synthetic = invented values in the "
    "real schema. A container mixing both lists each member's kind under members.")


@dataclass(frozen=True)
class SnapshotFile:
    path: str  # relative to data/snapshot, POSIX separators
    url: str  # the real https URL the file stands for
    source: str  # the source key (geo, bmo, urssaf...)
    kind: str  # real | derived-from-real | synthetic
    description: str
    licence: str
    data: bytes
    # a container mixing real and synthetic members: member name -> real | synthetic
    members: dict[str, str] | None = None


@dataclass(frozen=True)
class Context:
    """What a generator may read: the real inputs, and the snapshot written so far (``out``)."""

    real_dir: Path
    out: Path


# --- bytes ----------------------------------------------------------------------------------------
def csv_bytes(header: Sequence[str], rows: Iterable[Sequence[object]], *, delimiter: str,
              quoting: int = csv.QUOTE_MINIMAL) -> bytes:
    """CSV with LF endings; minimal quoting by default, as INSEE, Opendatasoft and France compétences do."""
    out = io.StringIO()
    writer = csv.writer(out, delimiter=delimiter, lineterminator="\n", quoting=quoting)
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue().encode("utf-8")


def json_bytes(document: Any) -> bytes:
    return (json.dumps(document, ensure_ascii=False, indent=2) + "\n").encode("utf-8")


def deterministic_zip(members: Sequence[tuple[str, bytes]], *,
                      date_time: tuple[int, int, int, int, int, int] = ZIP_DATE_TIME) -> bytes:
    """A deflated zip whose entries all carry ``date_time``: zipfile would otherwise stamp 'now'."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members:
            info = zipfile.ZipInfo(name, date_time=date_time)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            archive.writestr(info, data, compresslevel=9)
    return buffer.getvalue()


def workbook_bytes(workbook: Workbook, *, creator: str) -> bytes:
    """Serialise an openpyxl workbook deterministically.

    ``Workbook.save`` overwrites ``properties.modified`` with the current time and zipfile stamps
    entries with the current time, so the workbook is written through ``ExcelWriter`` (which keeps
    the properties as set) and its parts are then re-zipped with the fixed date. ``creator`` is
    written in the workbook's properties: it is part of the file's bytes.
    """
    workbook.properties.created = FIXED_DATETIME
    workbook.properties.modified = FIXED_DATETIME
    workbook.properties.creator = creator
    raw = io.BytesIO()
    with zipfile.ZipFile(raw, "w", zipfile.ZIP_DEFLATED) as archive:
        ExcelWriter(workbook, archive).write_data()
    with zipfile.ZipFile(io.BytesIO(raw.getvalue())) as archive:
        members = [(info.filename, archive.read(info)) for info in archive.infolist()]
    return deterministic_zip(members)


# --- draws ----------------------------------------------------------------------------------------
def poisson(rng: random.Random, lam: float) -> int:
    if lam <= 0:
        return 0
    if lam > 50:  # normal approximation: Knuth's method underflows for large means
        return max(0, round(rng.gauss(lam, math.sqrt(lam))))
    limit, k, p = math.exp(-lam), 0, 1.0
    while True:
        p *= rng.random()
        if p <= limit:
            return k
        k += 1


# --- inputs ---------------------------------------------------------------------------------------
@dataclass(frozen=True)
class RealGeo:
    communes: list[dict[str, Any]]
    epci: list[dict[str, Any]]
    departements: list[dict[str, Any]]
    regions: list[dict[str, Any]]


def load_geo(real_dir: Path) -> RealGeo:
    """The real geography (``geo/decoupage-administratif/*.json`` of the real inputs folder)."""
    base = real_dir / "geo" / "decoupage-administratif"

    def read(name: str) -> list[dict[str, Any]]:
        data: list[dict[str, Any]] = json.loads((base / f"{name}.json").read_text(encoding="utf-8"))
        return data

    return RealGeo(read("communes"), read("epci"), read("departements"), read("regions"))


def cog_communes(snapshot: Path, departements: Sequence[str]) -> dict[str, list[dict[str, str]]]:
    """The current communes (TYPECOM COM) of ``departements`` in the snapshot's COG file, in file order."""
    out: dict[str, list[dict[str, str]]] = {d: [] for d in departements}
    with (snapshot / COG_COMMUNES).open(encoding="utf-8") as stream:
        for row in csv.DictReader(stream):
            if row["TYPECOM"] == "COM" and row["DEP"] in out:
                out[row["DEP"]].append(row)
    return out


# --- the manifest ---------------------------------------------------------------------------------
def manifest_entry(file: SnapshotFile, *, generated_by: str, seed: int | None) -> dict[str, Any]:
    if file.kind not in ("real", "derived-from-real", "synthetic"):
        raise ValueError(f"unknown kind {file.kind!r}")
    if file.members and not set(file.members.values()) <= {"real", "synthetic"}:
        raise ValueError(f"unknown member kind in {file.members!r}")
    entry: dict[str, Any] = {
        "path": file.path, "url": file.url, "source": file.source, "kind": file.kind,
        "sha256": hashlib.sha256(file.data).hexdigest(), "bytes": len(file.data),
        "description": file.description, "licence": file.licence, "generated_by": generated_by, "seed": seed,
    }
    if file.members:
        entry["members"] = dict(sorted(file.members.items()))
    return entry


def write_manifest(snapshot_dir: Path, entries: Iterable[dict[str, Any]], *, replace: Iterable[str] = ()) -> Path:
    """Write ``MANIFEST.json`` (sorted by path, stable bytes).

    The entries of the generators named in ``replace`` are dropped first; every other entry is kept,
    so one generator can be rerun alone.
    """
    path = snapshot_dir / "MANIFEST.json"
    current: list[dict[str, Any]] = []
    if path.exists():
        current = json.loads(path.read_text("utf-8")).get("files", [])
    new = list(entries)
    new_paths = {e["path"] for e in new}
    dropped = set(replace)
    kept = [e for e in current if e.get("generated_by") not in dropped and e["path"] not in new_paths]
    document = {"description": MANIFEST_DESCRIPTION, "files": sorted([*kept, *new], key=lambda e: e["path"])}
    path.write_text(json.dumps(document, indent=2, ensure_ascii=False, sort_keys=False) + "\n", "utf-8")
    return path
