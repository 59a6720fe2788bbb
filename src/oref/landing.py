"""The immutable landing zone: ``<data>/landing/<source>/<vintage>/<file>`` + ``<file>.manifest.json``.

A landed file is never rewritten. ``vintage`` is the UTC time the file landed
(``20261125T182233Z``); the data's own vintage (survey year, COG year, quarter, export date, ROME
version) is recorded in the manifest as ``data_vintage``. A file whose SHA-256 equals a landed
file of the same logical name is not landed twice.

Which landed file a build reads, per logical name (``LandingZone.latest``): the newest *data*
vintage, then the newest landing. A publisher serving last year's file again, at the same or a new
URL, lands it (the landing zone keeps everything) but does not replace the newer data; the fetch
records a ``warn`` check saying so. ``vintage_key`` defines the order of each format in use.
``as_of`` ignores the files landed after an instant (``oref build --as-of``).

A file counts as landed only once its manifest is complete: the data file is moved in and synced
first, then the manifest is written to a temporary file, synced and renamed over its final name.
A run killed in between leaves a data file without manifest, or a temporary manifest: both are
ignored. A manifest that cannot be read anyway (truncated, not JSON, incomplete, or describing a file
of another size) makes its file "not landed", with a ``warn`` check naming it, never a crash.
"""

from __future__ import annotations

import json
import logging
import os
import re
import shutil
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from oref.config import Settings
from oref.durable import fsync_path
from oref.http import Download
from oref.quality.checks import CheckResult

log = logging.getLogger(__name__)

MANIFEST_SUFFIX = ".manifest.json"
# how a source's landed files make a series (``LandingZone.series``; ``Source.series``)
SeriesKind = Literal["monthly", "yearly"]
_REQUIRED_KEYS = ("name", "sha256", "fetched_at", "vintage")
MANIFEST_CHECK = "landing_manifest_readable"
ORPHAN_CHECK = "landing_file_without_manifest"


@dataclass(frozen=True)
class LandedFile:
    source: str
    name: str  # logical name, stable across vintages (e.g. "bmo_2025.xlsx")
    path: Path
    manifest: dict[str, Any]

    @property
    def sha256(self) -> str:
        return str(self.manifest["sha256"])

    @property
    def vintage(self) -> str:
        return str(self.manifest["vintage"])

    @property
    def data_vintage(self) -> str:
        return str(self.manifest.get("data_vintage") or self.manifest["vintage"])

    @property
    def fetched_at(self) -> datetime:
        return _aware(datetime.fromisoformat(str(self.manifest["fetched_at"])))


def utc_stamp(moment: datetime | None = None) -> str:
    return (moment or datetime.now(UTC)).strftime("%Y%m%dT%H%M%SZ")


# --- data vintages -------------------------------------------------------------------------------
# The formats the sources write, and the instant or version each one stands for:
#   "2025"        a survey, census or COG year (BMO, URSSAF, tensions, geo)   -> its last day
#   "2025-T4"     a quarter (ARCEP)                                          -> the quarter's last month
#   "2025-06"     a month                                                    -> that month
#   "2026-08-30"  an export or extraction date (RNCP, Mon Compte Formation), with or without a time
#   "4.60"        a ROME version (v460): major, then minor as a number (4.61 > 4.60, 4.100 > 4.99)
# Dates of any precision compare with each other; versions with versions. None (the API extracts,
# Sirene and offers) means "no data vintage": those files are ordered by landing time.
_YEAR = re.compile(r"^(\d{4})$")
_QUARTER = re.compile(r"^(\d{4})-T([1-4])$", re.IGNORECASE)
_MONTH = re.compile(r"^(\d{4})-(\d{2})$")
_DATE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2}))?.*)?$")
_VERSION = re.compile(r"^v?(\d+)\.(\d+)$")


def vintage_key(value: object) -> tuple[int, ...] | None:
    """A sortable key for a data vintage: ``(1, y, m, d, h, min, s)`` for dates, ``(0, major, minor)``
    for versions, None when there is none or its format is not one of the above."""
    if value is None:
        return None
    text = str(value).strip()
    if m := _YEAR.match(text):
        return (1, int(m.group(1)), 12, 31, 0, 0, 0)
    if m := _QUARTER.match(text):
        return (1, int(m.group(1)), int(m.group(2)) * 3, 31, 0, 0, 0)
    if m := _MONTH.match(text):
        return (1, int(m.group(1)), int(m.group(2)), 31, 0, 0, 0)
    if m := _DATE.match(text):
        return (1, *(int(g or 0) for g in m.groups()))
    if m := _VERSION.match(text):
        return (0, int(m.group(1)), int(m.group(2)))
    return None


def is_older_vintage(candidate: object, current: object) -> bool:
    """True when both vintages are of one comparable kind and ``candidate`` comes strictly before."""
    new, old = vintage_key(candidate), vintage_key(current)
    return new is not None and old is not None and new[0] == old[0] and new < old


def extract_month(landed: LandedFile) -> str:
    """``YYYY-MM`` of an extract: its data vintage's month when that is a date or a month, else the
    month it landed (UTC)."""
    vintage = str(landed.manifest.get("data_vintage") or "")
    if _DATE.match(vintage) or _MONTH.match(vintage):
        return vintage[:7]
    return landed.fetched_at.astimezone(UTC).strftime("%Y-%m")


def select_latest(files: Iterable[LandedFile]) -> LandedFile | None:
    """The file a build reads among landings of one logical name: newest data vintage, then newest landing.

    When a vintage is missing (API extracts) or of a kind the others are not, vintages cannot be
    ordered: the newest landing wins, as it always did.
    """
    candidates = list(files)
    if not candidates:
        return None
    keys = [vintage_key(f.manifest.get("data_vintage")) for f in candidates]
    comparable = all(k is not None for k in keys) and len({k[0] for k in keys if k is not None}) == 1

    def order(item: tuple[LandedFile, tuple[int, ...] | None]) -> tuple[Any, ...]:
        landed, key = item
        return ((key if comparable else ()), landed.fetched_at, landed.vintage)

    return max(zip(candidates, keys, strict=True), key=order)[0]


def _aware(moment: datetime) -> datetime:
    """A naive instant is UTC (manifests and ``--as-of`` dates are written in UTC)."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


class LandingZone:
    """Read and write ``<data>/landing``. ``as_of`` (optional): ignore files landed after that instant.

    ``problems`` collects a ``warn`` check for each unreadable manifest or manifest-less file met
    while reading the zone; the fetch records them with the source's checks.
    """

    def __init__(self, settings: Settings, *, as_of: datetime | None = None) -> None:
        self.root = settings.landing_dir
        self.quarantine_root = settings.quarantine_dir
        self.as_of = _aware(as_of) if as_of is not None else None
        self.problems: list[CheckResult] = []
        self._reported: set[tuple[str, str]] = set()

    def _problem(self, source: str, check: str, path: Path, message: str) -> None:
        if (check, str(path)) in self._reported:
            return
        self._reported.add((check, str(path)))
        log.warning("%s: %s", source, message)
        self.problems.append(CheckResult(source, check, "oref", "warn", "fail", message, target=str(path)))

    def drain_problems(self) -> list[CheckResult]:
        """The problems found so far, once each (the next call returns only newer ones)."""
        found, self.problems = self.problems, []
        return found

    def _read_manifest(self, source: str, manifest_path: Path) -> LandedFile | None:
        data_path = manifest_path.with_name(manifest_path.name[: -len(MANIFEST_SUFFIX)])
        try:
            manifest = json.loads(manifest_path.read_text("utf-8"))
            if not isinstance(manifest, dict):
                raise ValueError("not a JSON object")
            absent = [k for k in _REQUIRED_KEYS if not manifest.get(k)]
            if absent:
                raise ValueError(f"missing {', '.join(absent)}")
            datetime.fromisoformat(str(manifest["fetched_at"]))
        except (OSError, ValueError) as exc:  # JSONDecodeError and UnicodeDecodeError are ValueErrors
            self._problem(source, MANIFEST_CHECK, manifest_path,
                          f"unreadable landing manifest {manifest_path} ({type(exc).__name__}: {exc}): "
                          f"{data_path.name} is treated as not landed (a run killed while landing it?)")
            return None
        if not data_path.is_file():
            self._problem(source, MANIFEST_CHECK, manifest_path,
                          f"landing manifest {manifest_path} describes a file that is not there: ignored")
            return None
        size = data_path.stat().st_size
        if isinstance(manifest.get("bytes"), int) and manifest["bytes"] != size:
            self._problem(source, MANIFEST_CHECK, manifest_path,
                          f"landed file {data_path} has {size} bytes, its manifest says {manifest['bytes']}: "
                          "treated as not landed")
            return None
        return LandedFile(source, str(manifest["name"]), data_path, manifest)

    def files(self, source: str, name: str | None = None, as_of: datetime | None = None) -> list[LandedFile]:
        """Every landed file of ``source`` (optionally of one logical name), oldest landing first.

        Only files with a readable manifest count, landed at or before ``as_of`` (default: the
        zone's ``as_of``, if any).
        """
        found: list[LandedFile] = []
        base = self.root / source
        if not base.is_dir():
            return found
        limit = _aware(as_of) if as_of is not None else self.as_of
        described: set[Path] = set()
        for manifest_path in sorted(base.glob(f"*/*{MANIFEST_SUFFIX}")):
            described.add(manifest_path.with_name(manifest_path.name[: -len(MANIFEST_SUFFIX)]))
            landed = self._read_manifest(source, manifest_path)
            if landed is None or (name is not None and landed.name != name):
                continue
            if limit is not None and landed.fetched_at > limit:
                continue
            found.append(landed)
        for path in sorted(base.glob("*/*")):
            if path.is_file() and not path.name.endswith(MANIFEST_SUFFIX) and not path.name.startswith(".") \
                    and path not in described and (name is None or path.name == name):
                self._problem(source, ORPHAN_CHECK, path,
                              f"{path} has no manifest (a run killed while landing it?): ignored, not landed")
        found.sort(key=lambda f: (f.fetched_at, f.vintage))
        return found

    def latest(self, source: str, name: str, as_of: datetime | None = None) -> LandedFile | None:
        """The file of ``name`` a build reads: newest data vintage, then newest landing (``select_latest``)."""
        return select_latest(self.files(source, name, as_of))

    def require(self, source: str, name: str, as_of: datetime | None = None) -> LandedFile:
        """The latest landed file, or a ``SourceError`` saying nothing has landed for it yet."""
        landed = self.latest(source, name, as_of)
        if landed is None:
            from oref.errors import SourceError

            limit = as_of or self.as_of
            when = f" as of {limit.isoformat()}" if limit is not None else ""
            raise SourceError(source, f"nothing landed for {name}{when}: run the fetch first")
        return landed

    def series(self, source: str, name: str, kind: SeriesKind,
               as_of: datetime | None = None) -> list[LandedFile]:
        """The files of ``name`` a build reads as a series, one per period, oldest period first.

        ``monthly`` (a picture of the day: Mon Compte Formation's catalogue, Sirene, job offers): a
        period is the extract's month (``extract_month``); ``yearly`` (one file per year at one URL:
        DARES's tensions): a period is the data vintage. Within a period, the file ``select_latest``
        picks: a new file of a period already held replaces it, a new period adds one. Every landed
        file stays in the zone, so a rebuild as of a date gets the same periods back.
        """
        by_period: dict[str, list[LandedFile]] = {}
        for landed in self.files(source, name, as_of):
            period = extract_month(landed) if kind == "monthly" else landed.data_vintage
            by_period.setdefault(period, []).append(landed)
        chosen = {period: select_latest(files) for period, files in by_period.items()}
        order = sorted(chosen, key=lambda p: (vintage_key(p) or (9,), p))
        return [landed for landed in (chosen[p] for p in order) if landed is not None]

    def latest_by_name(self, source: str, as_of: datetime | None = None) -> dict[str, LandedFile]:
        """Per logical name of ``source``, the file a build reads (see ``latest``), landed by ``as_of``."""
        by_name: dict[str, list[LandedFile]] = {}
        for landed in self.files(source, as_of=as_of):
            by_name.setdefault(landed.name, []).append(landed)
        selected = {name: select_latest(files) for name, files in by_name.items()}
        return {name: landed for name, landed in selected.items() if landed is not None}

    def land(
        self,
        source: str,
        name: str,
        download: Download,
        *,
        rows: int | None,
        data_vintage: str | None,
        run_id: str,
        extra: dict[str, Any] | None = None,
    ) -> LandedFile:
        """Move a verified download into the zone and write its manifest (never overwrites)."""
        assert download.path is not None and download.sha256 is not None
        fetched_at = datetime.now(UTC)
        vintage = utc_stamp(fetched_at)
        directory = self.root / source / vintage
        directory.mkdir(parents=True, exist_ok=True)
        target = directory / name
        if target.exists():  # two landings of one name in the same second: keep both
            directory = self.root / source / f"{vintage}-{download.sha256[:8]}"
            directory.mkdir(parents=True, exist_ok=True)
            target = directory / name
        manifest: dict[str, Any] = {
            "source": source,
            "name": name,
            "url": download.url,
            "final_url": download.final_url,
            "fetched_at": fetched_at.isoformat(timespec="seconds"),
            "vintage": directory.name,
            "data_vintage": data_vintage,
            "http_status": download.status,
            "content_type": download.content_type,
            "bytes": download.bytes,
            "sha256": download.sha256,
            "etag": download.etag,
            "last_modified": download.last_modified,
            "rows": rows,
            "run_id": run_id,
            **(extra or {}),
        }
        shutil.move(str(download.path), target)
        os.chmod(target, 0o444)  # immutable by convention and by mode
        fsync_path(target)  # the bytes are on disk before a manifest says they landed
        manifest_path = target.with_name(target.name + MANIFEST_SUFFIX)
        write_atomically(manifest_path, json.dumps(manifest, indent=2, ensure_ascii=False) + "\n", mode=0o444)
        return LandedFile(source, name, target, manifest)

    def quarantine(self, source: str, name: str, download: Download, reason: str, run_id: str) -> Path | None:
        """Keep a rejected download aside for the data stewards, with the reason."""
        if download.path is None or not download.path.exists():
            return None
        directory = self.quarantine_root / source / utc_stamp()
        directory.mkdir(parents=True, exist_ok=True)
        target = directory / name
        shutil.move(str(download.path), target)
        (directory / f"{name}.reason.json").write_text(
            json.dumps({"url": download.url, "sha256": download.sha256, "bytes": download.bytes,
                        "reason": reason, "run_id": run_id}, indent=2, ensure_ascii=False) + "\n",
            "utf-8",
        )
        return target


def write_atomically(path: Path, text: str, *, mode: int = 0o644) -> None:
    """Write ``path`` whole or not at all: a temporary file beside it, synced, renamed over it.

    The temporary name starts with a dot and ends in ``.tmp``, so a reader globbing for
    ``*.manifest.json`` never sees a half-written one, even after a ``kill -9``.
    """
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    fsync_path(path.parent)  # the rename itself survives a crash
