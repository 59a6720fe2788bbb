"""INSEE geography: COG communes, départements, régions and the EPCI composition.

Quirks handled here:
- commune codes are text (``97209``, ``2A004``): read with every column as varchar;
- the EPCI workbook ships zipped, and each sheet has INSEE's title block above the header row,
  so the header is found by its labels (``CODGEO``, ``EPCI``), not by a fixed row number.
"""

from __future__ import annotations

import re
import tempfile
import zipfile
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

from oref.config import Settings
from oref.errors import SourceError
from oref.landing import LandingZone
from oref.sources.base import (
    FetchContext,
    FetchResult,
    Source,
    Validated,
    fetch_file,
    provenance_select,
    sql_literal,
)
from oref.sources.tabular import ColumnSpec, check_csv_contract, read_sheet_table, sheet_names

if TYPE_CHECKING:
    import duckdb

COG_YEAR = "2025"
COG_BASE = "https://www.insee.fr/fr/statistiques/fichier/8377162"
EPCI_URL = (
    "https://www.insee.fr/fr/statistiques/fichier/2510634/"
    f"Intercommunalite_Metropole_au_01-01-{COG_YEAR}.zip"
)

COG_FILES: dict[str, tuple[str, list[str]]] = {
    # logical name -> (url, declared columns); table name is raw.insee_<stem>
    "communes": (f"{COG_BASE}/v_commune_{COG_YEAR}.csv",
                 ["TYPECOM", "COM", "REG", "DEP", "CTCD", "ARR", "TNCC", "NCC", "NCCENR", "LIBELLE", "CAN",
                  "COMPARENT"]),
    "departements": (f"{COG_BASE}/v_departement_{COG_YEAR}.csv",
                     ["DEP", "REG", "CHEFLIEU", "TNCC", "NCC", "NCCENR", "LIBELLE"]),
    "regions": (f"{COG_BASE}/v_region_{COG_YEAR}.csv", ["REG", "CHEFLIEU", "TNCC", "NCC", "NCCENR", "LIBELLE"]),
}

EPCI_SPECS = [
    ColumnSpec("epci", r"epci"),
    ColumnSpec("libepci", r"libepci"),
    ColumnSpec("nature_epci", r"nature_epci"),
    ColumnSpec("nb_com", r"nb_com"),
]
COMPOSITION_SPECS = [
    ColumnSpec("codgeo", r"codgeo"),
    ColumnSpec("libgeo", r"libgeo"),
    ColumnSpec("epci", r"epci"),
    ColumnSpec("libepci", r"libepci"),
    ColumnSpec("dep", r"dep"),
    ColumnSpec("reg", r"reg"),
]
_COMMUNE_CODE = re.compile(r"^(?:\d{5}|2[AB]\d{3})$")


def _epci_workbook(archive_path: Path, workdir: Path, *, source: str, file: str) -> Path:
    try:
        with zipfile.ZipFile(archive_path) as archive:
            members = [m for m in archive.namelist() if m.lower().endswith(".xlsx")]
            if not members:
                raise SourceError(source, f"no .xlsx inside the EPCI zip (members: {archive.namelist()})", file=file)
            return Path(archive.extract(members[0], workdir))
    except zipfile.BadZipFile as exc:
        raise SourceError(source, f"corrupt EPCI zip: {exc}", file=file) from exc


def read_epci(archive_path: Path, *, source: str = "geo", file: str = "") -> tuple[list[dict], list[dict]]:
    """(EPCI rows, commune->EPCI rows) from INSEE's intercommunality workbook (zipped)."""
    file = file or archive_path.name
    with tempfile.TemporaryDirectory() as tmp:
        workbook = _epci_workbook(archive_path, Path(tmp), source=source, file=file)
        names = sheet_names(workbook)
        epci_sheet = next((n for n in names if n.strip().upper() == "EPCI"), None)
        comp_sheet = next((n for n in names if "composition" in n.lower()), None)
        if epci_sheet is None or comp_sheet is None:
            raise SourceError(source, f"expected sheets 'EPCI' and 'Composition_communale', found {names}", file=file)
        epci, _, _ = read_sheet_table(workbook, epci_sheet, EPCI_SPECS, header_must_contain=["epci", "libepci"],
                                   source=source, file=file)
        composition, _, _ = read_sheet_table(workbook, comp_sheet, COMPOSITION_SPECS,
                                          header_must_contain=["codgeo", "epci"], source=source, file=file)
    for row in composition:
        code = row.get("codgeo") or ""
        if not _COMMUNE_CODE.match(code):
            raise SourceError(source, "malformed commune code in EPCI composition", file=file, column="CODGEO",
                              value=code)
    return epci, composition


class GeoSource(Source):
    name = "geo"
    title = "INSEE — Code officiel géographique et intercommunalités"
    licence = "Licence Ouverte / Etalab 2.0"
    cadence = "annuelle (1er janvier)"
    files: ClassVar[list[str]] = [*COG_FILES, "epci"]

    def fetch(self, ctx: FetchContext) -> FetchResult:
        landed: list[str] = []
        rows = 0
        statuses: list[str] = []
        for stem, (url, columns) in COG_FILES.items():
            file_name = url.rsplit("/", 1)[1]

            def validate(path: Path, columns: list[str] = columns, file_name: str = file_name) -> Validated:
                _, count = check_csv_contract(path, columns, delimiter=",", source=self.name, file=file_name)
                if count == 0:
                    raise SourceError(self.name, "no data rows", file=file_name)
                return Validated(rows=count, data_vintage=COG_YEAR)

            outcome = fetch_file(ctx, source=self.name, name=f"{stem}.csv", url=url, kind="csv", validate=validate)
            statuses.append(outcome.status)
            rows += int(outcome.landed.manifest.get("rows") or 0)
            landed.append(str(outcome.landed.path))

        def validate_epci(path: Path) -> Validated:
            epci, composition = read_epci(path, source=self.name, file=EPCI_URL.rsplit("/", 1)[1])
            return Validated(rows=len(epci) + len(composition), data_vintage=COG_YEAR)

        outcome = fetch_file(ctx, source=self.name, name="epci.zip", url=EPCI_URL, kind="zip", validate=validate_epci)
        statuses.append(outcome.status)
        rows += int(outcome.landed.manifest.get("rows") or 0)
        landed.append(str(outcome.landed.path))
        status = "landed" if "landed" in statuses else "unchanged"
        return FetchResult(self.name, status, landed, rows, f"{statuses.count('landed')} file(s) landed")

    def load(self, con: duckdb.DuckDBPyConnection, settings: Settings, landing: LandingZone,
             run_id: str) -> dict[str, int]:
        import pandas as pd

        latest = landing.latest_by_name(self.name)
        counts: dict[str, int] = {}
        for stem, (_, columns) in COG_FILES.items():
            landed = latest.get(f"{stem}.csv")
            if landed is None:
                raise SourceError(self.name, f"nothing landed for {stem}.csv: run the fetch first")
            select = ", ".join(f'"{c}" as {c.lower()}' for c in columns)
            con.execute(
                f"create or replace table raw.insee_{stem} as "
                f"select {select}, {provenance_select(landed, run_id)} "
                f"from read_csv({sql_literal(landed.path)}, delim=',', header=true, all_varchar=true, quote='\"')"
            )
            counts[f"raw.insee_{stem}"] = _count(con, f"raw.insee_{stem}")
        landed = latest.get("epci.zip")
        if landed is None:
            raise SourceError(self.name, "nothing landed for epci.zip: run the fetch first")
        epci, composition = read_epci(landed.path, source=self.name)
        epci_frame = pd.DataFrame(epci, columns=[s.name for s in EPCI_SPECS])
        comp_frame = pd.DataFrame(composition, columns=[s.name for s in COMPOSITION_SPECS])
        con.register("epci_frame", epci_frame)
        con.register("comp_frame", comp_frame)
        prov = provenance_select(landed, run_id)
        con.execute(
            "create or replace table raw.insee_epci as select epci, libepci, nature_epci, "
            f"try_cast(nb_com as integer) as nb_com, {prov} from epci_frame"
        )
        con.execute(
            "create or replace table raw.insee_epci_communes as "
            f"select codgeo, libgeo, epci, libepci, dep, reg, {prov} from comp_frame"
        )
        con.unregister("epci_frame")
        con.unregister("comp_frame")
        counts["raw.insee_epci"] = _count(con, "raw.insee_epci")
        counts["raw.insee_epci_communes"] = _count(con, "raw.insee_epci_communes")
        return counts


def _count(con: duckdb.DuckDBPyConnection, table: str) -> int:
    row = con.execute(f"select count(*) from {table}").fetchone()
    return int(row[0]) if row else 0
