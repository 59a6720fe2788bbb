"""The immutable landing zone: ``<data>/landing/<source>/<vintage>/<file>`` + ``<file>.manifest.json``.

A landed file is never rewritten. ``vintage`` is the UTC time the file landed
(``20261125T182233Z``); the data's own vintage (survey year, COG year, dataset modification date)
is recorded in the manifest as ``data_vintage``. A file whose SHA-256 equals the latest landed
file of the same logical name is not landed twice.
"""

from __future__ import annotations

import json
import os
import shutil
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from oref.config import Settings
from oref.http import Download

MANIFEST_SUFFIX = ".manifest.json"


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


def utc_stamp(moment: datetime | None = None) -> str:
    return (moment or datetime.now(UTC)).strftime("%Y%m%dT%H%M%SZ")


class LandingZone:
    def __init__(self, settings: Settings) -> None:
        self.root = settings.landing_dir
        self.quarantine_root = settings.quarantine_dir

    def files(self, source: str, name: str | None = None) -> list[LandedFile]:
        """Every landed file of ``source`` (optionally of one logical name), oldest first."""
        found: list[LandedFile] = []
        base = self.root / source
        if not base.is_dir():
            return found
        for manifest_path in sorted(base.glob(f"*/*{MANIFEST_SUFFIX}")):
            manifest = json.loads(manifest_path.read_text("utf-8"))
            if name is not None and manifest.get("name") != name:
                continue
            data_path = manifest_path.with_name(manifest_path.name[: -len(MANIFEST_SUFFIX)])
            if data_path.is_file():
                found.append(LandedFile(source, manifest["name"], data_path, manifest))
        found.sort(key=lambda f: (f.manifest["fetched_at"], f.vintage))
        return found

    def latest(self, source: str, name: str) -> LandedFile | None:
        files = self.files(source, name)
        return files[-1] if files else None

    def require(self, source: str, name: str) -> LandedFile:
        """The latest landed file, or a ``SourceError`` saying nothing has landed for it yet."""
        landed = self.latest(source, name)
        if landed is None:
            from oref.errors import SourceError

            raise SourceError(source, f"nothing landed for {name}: run the fetch first")
        return landed

    def latest_by_name(self, source: str) -> dict[str, LandedFile]:
        latest: dict[str, LandedFile] = {}
        for landed in self.files(source):
            latest[landed.name] = landed  # files() is sorted oldest first
        return latest

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
        manifest_path = target.with_name(target.name + MANIFEST_SUFFIX)
        manifest_path.write_text(json.dumps(manifest, indent=2, ensure_ascii=False) + "\n", "utf-8")
        os.chmod(manifest_path, 0o444)
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
