"""INSEE geography: COG communes, départements, régions and the EPCI composition.

Quirks handled here:
- commune codes are text (``97209``, ``2A004``): read with every column as varchar;
- the EPCI workbook ships zipped, and each sheet has INSEE's title block above the header row,
  so the header is found by its labels (``CODGEO``, ``EPCI``), not by a fixed row number;
- the populations légales ship as a zip of several ``;`` CSVs: the communes member is found by its
  name (``donnees_communes*.csv``), the others are ignored;
- that file has no commune code: it is built from ``DEP`` + ``CODCOM``, where ``CODCOM`` is the
  number *within* the département, 3 characters in metropolitan France (``01`` + ``001``) but 2
  in the DROM (``972`` + ``09`` = ``97209``); a blind zero-padding would give ``972009``, so any
  other shape is refused;
- populations may carry thousands separators (space, no-break space): stripped before the cast;
- Mayotte (976) is not in the populations légales (its census follows another calendar): a 976
  territory still builds, with NULL populations and a ``warn`` check saying why;
- the zones d'emploi 2020 workbook ships zipped like the EPCI one, with the same title block; its
  communes are those of COG 2023 (a commune created since has no zone until INSEE's next file);
- the commune -> BMO bassin table is a re-export of France Travail's file, not the original: it
  lost the leading zeros of numeric codes (``reg`` ``1``, ``codgeo`` ``1001`` for ``01001``), writes
  ``dep`` ``97`` for every DROM, and damaged some labels (mojibake, a spreadsheet formula), so the
  commune code is rebuilt (a 4-digit code is zero-padded, and must then start with its ``dep``)
  and the département is read from the commune code, never from ``dep``.
"""

from __future__ import annotations

import csv
import io
import re
import tempfile
import zipfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from oref.config import Settings
from oref.errors import SourceError
from oref.landing import LandedFile, LandingZone
from oref.quality.checks import CheckResult
from oref.sources.base import (
    FetchContext,
    FetchResult,
    FetchStatus,
    Source,
    Validated,
    fetch_file,
    gx_gate,
    provenance_select,
    sql_literal,
    table_rows,
)
from oref.sources.tabular import (
    ColumnSpec,
    check_csv_contract,
    read_sheet_table,
    sheet_names,
    text_csv_frame,
    warn_new_columns,
)

if TYPE_CHECKING:
    import duckdb
    import pandas as pd

COG_YEAR = "2025"
COG_BASE = "https://www.insee.fr/fr/statistiques/fichier/8377162"
EPCI_URL = (
    "https://www.insee.fr/fr/statistiques/fichier/2510634/"
    f"Intercommunalite_Metropole_au_01-01-{COG_YEAR}.zip"
)

COG_FILES: dict[str, tuple[str, list[str]]] = {
    # logical name -> (url, declared columns); table name is raw.geo_<stem>
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

# Populations légales 2022, en vigueur au 1er janvier 2025 (France hors Mayotte).
POPULATION_YEAR = "2022"
POPULATIONS_URL = "https://www.insee.fr/fr/statistiques/fichier/8680726/ensemble.zip"
POPULATIONS_FILE = "ensemble.zip"
POPULATION_COLUMNS = ["REG", "Région", "DEP", "CODARR", "CODCAN", "CODCOM", "COM", "PMUN", "PCAP", "PTOT"]
POPULATION_COUNTS = ("PMUN", "PCAP", "PTOT")
_COMMUNES_MEMBER = re.compile(r"(?:^|/)donnees_communes[^/]*\.csv$", re.IGNORECASE)
_DEP_CODE = re.compile(r"^(?:\d{2}|2[AB]|97\d)$")
# ASCII space, no-break space and narrow no-break space: INSEE's thousands separators
_THOUSANDS = re.compile("[ \u00a0\u202f]")
_THOUSANDS_SQL = r"[ \x{00A0}\x{202F}]"  # the same class in RE2 syntax, for DuckDB


# INSEE zones d'emploi 2020, composition communale (COG 2023), zipped like the EPCI workbook
ZE_VINTAGE = "2020"
ZE_NAME = "ZE2020_au_01-01-2023"
ZE_URL = f"https://www.insee.fr/fr/statistiques/fichier/4652957/{ZE_NAME}.zip"
ZE_SPECS = [
    ColumnSpec("ze2020", r"ze2020"),
    ColumnSpec("libze2020", r"libze2020"),
    ColumnSpec("nb_com", r"nb_com"),
]
ZE_COMPOSITION_SPECS = [
    ColumnSpec("codgeo", r"codgeo"),
    ColumnSpec("libgeo", r"libgeo"),
    ColumnSpec("ze2020", r"ze2020"),
    ColumnSpec("libze2020", r"libze2020"),
    ColumnSpec("ze2020_partie_reg", r"ze2020_partie_reg", required=False),
    ColumnSpec("dep", r"dep"),
    ColumnSpec("reg", r"reg"),
]
_ZE_CODE = re.compile(r"^\d{4}$")

# France Travail's bassins d'emploi (BMO), commune by commune: a third-party re-export (see the
# module docstring); where it is published is not recorded, so this URL is oref's assumption.
BASSINS_VINTAGE = "2021"
BASSINS_FILE = "France_Travail_Bassin_Emploi_2021.csv"
BASSINS_URL = f"https://statistiques.francetravail.org/bmo/static/{BASSINS_FILE}"
BASSINS_COLUMNS = ["reg", "dep", "codgeo", "codbe", "libbe"]
_BASSIN_CODE = re.compile(r"^\d{3,4}$")


def _zipped_workbook(archive_path: Path, workdir: Path, *, source: str, file: str, what: str = "EPCI") -> Path:
    try:
        with zipfile.ZipFile(archive_path) as archive:
            members = [m for m in archive.namelist() if m.lower().endswith(".xlsx")]
            if not members:
                raise SourceError(source, f"no .xlsx inside the {what} zip (members: {archive.namelist()})",
                                  file=file)
            return Path(archive.extract(members[0], workdir))
    except zipfile.BadZipFile as exc:
        raise SourceError(source, f"corrupt {what} zip: {exc}", file=file) from exc


def read_epci(archive_path: Path, *, source: str = "geo", file: str = "",
              checks: list[CheckResult] | None = None) -> tuple[list[dict], list[dict]]:
    """(EPCI rows, commune->EPCI rows) from INSEE's intercommunality workbook (zipped).

    A new column is a ``warn`` check appended to ``checks`` (the rows are read by the declared columns).
    """
    file = file or archive_path.name
    with tempfile.TemporaryDirectory() as tmp:
        workbook = _zipped_workbook(archive_path, Path(tmp), source=source, file=file)
        names = sheet_names(workbook)
        epci_sheet = next((n for n in names if n.strip().upper() == "EPCI"), None)
        comp_sheet = next((n for n in names if "composition" in n.lower()), None)
        if epci_sheet is None or comp_sheet is None:
            raise SourceError(source, f"expected sheets 'EPCI' and 'Composition_communale', found {names}", file=file)
        epci, new_epci, _ = read_sheet_table(workbook, epci_sheet, EPCI_SPECS,
                                             header_must_contain=["epci", "libepci"], source=source, file=file)
        composition, new_composition, _ = read_sheet_table(workbook, comp_sheet, COMPOSITION_SPECS,
                                                           header_must_contain=["codgeo", "epci"], source=source,
                                                           file=file)
        for sheet, new in ((epci_sheet, new_epci), (comp_sheet, new_composition)):
            if new and checks is not None:
                warn_new_columns(source, f"{file} [{sheet}]", new, checks)
    for row in composition:
        code = row.get("codgeo") or ""
        if not _COMMUNE_CODE.match(code):
            raise SourceError(source, "malformed commune code in EPCI composition", file=file, column="CODGEO",
                              value=code)
    return epci, composition


def read_zones_emploi(archive_path: Path, *, source: str = "geo", file: str = "",
                      checks: list[CheckResult] | None = None) -> tuple[list[dict], list[dict]]:
    """(zones d'emploi, commune -> zone rows) from INSEE's zipped ZE2020 workbook.

    Refuses a malformed commune or zone code, a commune listed twice and a commune whose zone is
    not in the zones sheet; a new column is a ``warn`` check appended to ``checks``.
    """
    file = file or archive_path.name
    with tempfile.TemporaryDirectory() as tmp:
        workbook = _zipped_workbook(archive_path, Path(tmp), source=source, file=file, what="zones d'emploi")
        names = sheet_names(workbook)
        zone_sheet = next((n for n in names if n.strip().upper() == "ZE2020"), None)
        comp_sheet = next((n for n in names if "composition" in n.lower()), None)
        if zone_sheet is None or comp_sheet is None:
            raise SourceError(source, f"expected sheets 'ZE2020' and 'Composition_communale', found {names}",
                              file=file)
        zones, new_zones, _ = read_sheet_table(workbook, zone_sheet, ZE_SPECS,
                                               header_must_contain=["ze2020", "libze2020"], source=source,
                                               file=file)
        composition, new_composition, _ = read_sheet_table(workbook, comp_sheet, ZE_COMPOSITION_SPECS,
                                                           header_must_contain=["codgeo", "ze2020"],
                                                           source=source, file=file)
        for sheet, new in ((zone_sheet, new_zones), (comp_sheet, new_composition)):
            if new and checks is not None:
                warn_new_columns(source, f"{file} [{sheet}]", new, checks)
    zone_codes: set[str] = set()
    for row in zones:
        if not _ZE_CODE.match(row.get("ze2020") or ""):
            raise SourceError(source, "malformed zone d'emploi code", file=f"{file} [{zone_sheet}]",
                              column="ZE2020", value=row.get("ze2020"))
        zone_codes.add(row["ze2020"])
    seen: set[str] = set()
    for row in composition:
        code, zone = row.get("codgeo") or "", row.get("ze2020") or ""
        where = f"{file} [{comp_sheet}]"
        if not _COMMUNE_CODE.match(code):
            raise SourceError(source, "malformed commune code", file=where, column="CODGEO", value=code)
        if code in seen:
            raise SourceError(source, "commune listed twice", file=where, column="CODGEO", value=code)
        seen.add(code)
        if zone not in zone_codes:
            raise SourceError(source, f"commune {code} in a zone missing from the ZE2020 sheet", file=where,
                              column="ZE2020", value=zone)
    return zones, composition


def _load_frames(con: duckdb.DuckDBPyConnection, landed: LandedFile,
                 run_id: str, tables: dict[str, tuple[pd.DataFrame, str]]) -> dict[str, int]:
    """The sheets of one landed workbook, read and checked as frames, into raw tables:
    ``{table: (frame, select list)}``, each with the file's provenance columns."""
    prov = provenance_select(landed, run_id)
    for table, (frame, select) in tables.items():
        con.register("sheet_frame", frame)
        try:
            con.execute(f"create or replace table {table} as select {select}, {prov} from sheet_frame")
        finally:
            con.unregister("sheet_frame")
    return {table: table_rows(con, table) for table in tables}


def bassin_commune_code(codgeo: str, dep: str) -> str:
    """The INSEE commune code of a row of the bassins re-export, whose numeric codes lost their zeros.

    ``1001`` (dep ``1``) -> ``01001``; ``97209`` (dep ``97``) and ``2A004`` stay. The rebuilt code
    must start with the row's département as written (``97`` for every DROM), so a truncated or
    shifted code is refused rather than guessed.
    """
    code, dep = codgeo.strip().upper(), dep.strip().upper()
    if re.fullmatch(r"[0-9]{4}", code):
        code = "0" + code
    if not _COMMUNE_CODE.match(code):
        raise ValueError(f"malformed commune code {codgeo!r}")
    if not dep or not code.startswith(dep.zfill(2)):
        raise ValueError(f"commune code {codgeo!r} is not in département {dep!r}")
    return code


def iter_bassins(path: Path, *, source: str = "geo", file: str = BASSINS_FILE) -> Iterator[dict[str, str]]:
    """Rows of the commune -> bassin table: ``commune_code, basin_code, basin_name`` (text), checked.

    Raises ``SourceError`` naming the line, column and value on a malformed commune or bassin code
    and on a commune listed twice.
    """
    with path.open("r", encoding="utf-8-sig", newline="") as stream:
        reader = csv.DictReader(stream, delimiter=",")
        seen: set[str] = set()
        for line, record in enumerate(reader, start=2):
            if not any((v or "").strip() for v in record.values()):
                continue
            try:
                code = bassin_commune_code(record.get("codgeo") or "", record.get("dep") or "")
            except ValueError as exc:
                raise SourceError(source, f"line {line}: {exc}", file=file, column="codgeo",
                                  value=record.get("codgeo")) from exc
            if code in seen:
                raise SourceError(source, f"line {line}: commune listed twice", file=file, column="codgeo",
                                  value=code)
            seen.add(code)
            basin = (record.get("codbe") or "").strip()
            if not _BASSIN_CODE.match(basin):
                raise SourceError(source, f"line {line}: malformed bassin code", file=file, column="codbe",
                                  value=basin)
            yield {"commune_code": code, "basin_code": basin, "basin_name": (record.get("libbe") or "").strip()}


def bassins_frame(path: Path, *, source: str = "geo", file: str = BASSINS_FILE) -> pd.DataFrame:
    """The checked rows of the bassins table, for the GX landing suite."""
    import pandas as pd

    return pd.DataFrame(list(iter_bassins(path, source=source, file=file)),
                        columns=["commune_code", "basin_code", "basin_name"])


def commune_code_of(dep: str, codcom: str) -> str:
    """INSEE commune code from the département code and the commune number within it.

    ``01`` + ``001`` -> ``01001``, ``2A`` + ``004`` -> ``2A004``, ``972`` + ``09`` -> ``97209``: the
    DROM have a 3-character département code and a 2-character number. Never padded: a number of
    the wrong length for its département is an error, not something to guess.
    """
    dep, codcom = dep.strip().upper(), codcom.strip()
    if not _DEP_CODE.match(dep):
        raise ValueError(f"malformed département code {dep!r}")
    width = 2 if len(dep) == 3 else 3
    if not re.fullmatch(rf"[0-9]{{{width}}}", codcom):
        raise ValueError(f"commune number {codcom!r} is not {width} digits for département {dep!r}")
    return dep + codcom


# The same rule in SQL, for the DuckDB load (the validator has already refused anything else).
_COMMUNE_CODE_SQL = (
    "case when regexp_full_match(upper(trim(dep)), '97[0-9]') and regexp_full_match(trim(codcom), '[0-9]{2}') "
    "then upper(trim(dep)) || trim(codcom) "
    "when regexp_full_match(upper(trim(dep)), '[0-9]{2}|2[AB]') and regexp_full_match(trim(codcom), '[0-9]{3}') "
    "then upper(trim(dep)) || trim(codcom) end"
)


def parse_count(text: str) -> int:
    """``"12 345"`` (space or no-break space as thousands separator) -> 12345; refuses anything else."""
    cleaned = _THOUSANDS.sub("", text.strip())
    if not re.fullmatch(r"[0-9]+", cleaned):
        raise ValueError(f"not an integer: {text!r}")
    return int(cleaned)


def _count_sql(column: str) -> str:
    return f"cast(regexp_replace(trim({column}), '{_THOUSANDS_SQL}', '', 'g') as integer)"


def populations_member(archive: zipfile.ZipFile, *, source: str = "geo", file: str = POPULATIONS_FILE) -> str:
    """Name of the communes CSV inside the populations zip (the other members are ignored)."""
    members = [n for n in archive.namelist() if _COMMUNES_MEMBER.search(n)]
    if len(members) != 1:
        raise SourceError(source, f"expected one donnees_communes*.csv in the zip, found {members or 'none'} "
                          f"(members: {archive.namelist()})", file=file)
    return members[0]


@dataclass(frozen=True)
class PopulationsSummary:
    rows: int
    member: str
    departements: list[str]
    regions: list[str]
    ptot_mismatches: int  # communes where PTOT != PMUN + PCAP


def iter_populations(path: Path, *, source: str = "geo", file: str = POPULATIONS_FILE) -> Iterator[dict[str, Any]]:
    """Rows of the communes file of the populations zip, checked one by one.

    Each row: ``commune_code, reg, dep, codcom, com`` (text) and ``pmun, pcap, ptot`` (int).
    Raises ``SourceError`` naming the file, column and value on a changed header, a malformed code,
    a duplicate commune or a non-integer count.
    """
    try:
        with zipfile.ZipFile(path) as archive:
            member = populations_member(archive, source=source, file=file)
            where = f"{file} [{member}]"
            with archive.open(member) as raw:
                stream = io.TextIOWrapper(raw, encoding="utf-8-sig", newline="")
                reader = csv.reader(stream, delimiter=";")
                header = [h.strip() for h in next(reader, [])]
                missing = [c for c in POPULATION_COLUMNS if c not in header]
                new = [c for c in header if c not in POPULATION_COLUMNS]
                if missing:
                    raise SourceError(source, "columns changed: " + "; ".join(
                        part for part in (f"missing {missing}", f"new {new}" if new else "")
                        if part), file=where, column=missing[0])
                if new:  # ignored: the rows are read by the declared columns
                    warn_new_columns(source, where, new, None)
                index = {c: header.index(c) for c in POPULATION_COLUMNS}
                codes: set[str] = set()
                for line, record in enumerate(reader, start=2):
                    if not any(v.strip() for v in record):
                        continue
                    if len(record) != len(header):
                        raise SourceError(source, f"line {line} has {len(record)} fields, the header {len(header)}",
                                          file=where)
                    dep, codcom = record[index["DEP"]].strip().upper(), record[index["CODCOM"]].strip()
                    try:
                        code = commune_code_of(dep, codcom)
                    except ValueError as exc:
                        raise SourceError(source, f"line {line}: {exc}", file=where, column="CODCOM",
                                          value=codcom) from exc
                    if code in codes:
                        raise SourceError(source, f"line {line}: duplicate commune", file=where, column="CODCOM",
                                          value=code)
                    codes.add(code)
                    row: dict[str, Any] = {"commune_code": code, "reg": record[index["REG"]].strip(), "dep": dep,
                                           "codcom": codcom, "com": record[index["COM"]]}
                    for column in POPULATION_COUNTS:
                        try:
                            row[column.lower()] = parse_count(record[index[column]])
                        except ValueError as exc:
                            raise SourceError(source, f"line {line}: {exc}", file=where, column=column,
                                              value=record[index[column]]) from exc
                    yield row
    except zipfile.BadZipFile as exc:
        raise SourceError(source, f"corrupt populations zip: {exc}", file=file) from exc


def populations_frame(path: Path, *, source: str = "geo", file: str = POPULATIONS_FILE) -> pd.DataFrame:
    """The parsed rows of the communes file, for the GX landing suite (counts as integers)."""
    import pandas as pd

    columns = ["commune_code", "reg", "dep", "codcom", "com", "pmun", "pcap", "ptot"]
    return pd.DataFrame(list(iter_populations(path, source=source, file=file)), columns=columns)


def communes_frame(path: Path) -> pd.DataFrame:
    """The COG communes CSV as text columns (an empty field is NULL), for the GX landing suite."""
    return text_csv_frame(path, ",")


def read_populations(path: Path, *, source: str = "geo", file: str = POPULATIONS_FILE) -> PopulationsSummary:
    """Validate the whole communes file; return what the landing manifest records about it."""
    rows, mismatches = 0, 0
    departements: set[str] = set()
    regions: set[str] = set()
    for row in iter_populations(path, source=source, file=file):
        rows += 1
        mismatches += row["ptot"] != row["pmun"] + row["pcap"]
        departements.add(row["dep"])
        regions.add(row["reg"])
    with zipfile.ZipFile(path) as archive:
        member = populations_member(archive, source=source, file=file)
    if rows == 0:
        raise SourceError(source, "no data rows", file=f"{file} [{member}]")
    return PopulationsSummary(rows, member, sorted(departements), sorted(regions), mismatches)


def territory_population_check(settings: Settings, departements: list[str], regions: list[str]) -> CheckResult:
    """``warn`` when the territory has no populations (Mayotte): it builds, with NULL populations."""
    territory = settings.territory
    present = territory.code in (departements if territory.kind == "departement" else regions)
    name = "territory_has_populations"
    if present:
        return CheckResult("geo", name, "oref", "warn", "pass", f"populations found for {territory.label}",
                           target=POPULATIONS_FILE)
    why = " (INSEE's populations légales exclude Mayotte)" if territory.code in ("976", "06") else ""
    return CheckResult("geo", name, "oref", "warn", "fail",
                       f"no populations for territory {territory.label} in {POPULATIONS_FILE}{why}: "
                       "its communes get NULL populations", observed="0", target=POPULATIONS_FILE)


class GeoSource(Source):
    name = "geo"
    files: ClassVar[list[str]] = [*COG_FILES, "epci", "populations", "zones_emploi", "bassins"]

    def fetch(self, ctx: FetchContext) -> FetchResult:
        landed: list[str] = []
        rows = 0
        statuses: list[str] = []
        for stem, (url, columns) in COG_FILES.items():
            file_name = url.rsplit("/", 1)[1]

            def validate(path: Path, columns: list[str] = columns, file_name: str = file_name,
                         stem: str = stem) -> Validated:
                _, count = check_csv_contract(path, columns, delimiter=",", source=self.name, file=file_name,
                                             checks=ctx.checks)
                if count == 0:
                    raise SourceError(self.name, "no data rows", file=file_name)
                if stem == "communes":
                    gx_gate(ctx, "geo_communes_landing", communes_frame(path), source=self.name, target=file_name)
                return Validated(rows=count, data_vintage=COG_YEAR)

            outcome = fetch_file(ctx, source=self.name, name=f"{stem}.csv", url=url, kind="csv", validate=validate)
            statuses.append(outcome.status)
            rows += int(outcome.landed.manifest.get("rows") or 0)
            landed.append(str(outcome.landed.path))

        def validate_epci(path: Path) -> Validated:
            epci, composition = read_epci(path, source=self.name, file=EPCI_URL.rsplit("/", 1)[1], checks=ctx.checks)
            return Validated(rows=len(epci) + len(composition), data_vintage=COG_YEAR)

        outcome = fetch_file(ctx, source=self.name, name="epci.zip", url=EPCI_URL, kind="zip", validate=validate_epci)
        statuses.append(outcome.status)
        rows += int(outcome.landed.manifest.get("rows") or 0)
        landed.append(str(outcome.landed.path))

        def validate_populations(path: Path) -> Validated:
            learnt = read_populations(path, source=self.name)
            gx_gate(ctx, "geo_populations_landing", populations_frame(path, source=self.name), source=self.name,
                    target=f"{POPULATIONS_FILE} [{learnt.member}]")
            return Validated(rows=learnt.rows, data_vintage=POPULATION_YEAR,
                             extra={"member": learnt.member, "departements": learnt.departements,
                                    "regions": learnt.regions, "ptot_mismatches": learnt.ptot_mismatches})

        outcome = fetch_file(ctx, source=self.name, name="populations.zip", url=POPULATIONS_URL, kind="zip",
                             validate=validate_populations)
        statuses.append(outcome.status)
        rows += int(outcome.landed.manifest.get("rows") or 0)
        landed.append(str(outcome.landed.path))
        manifest = outcome.landed.manifest
        ctx.checks.append(territory_population_check(ctx.settings, list(manifest.get("departements") or []),
                                                     list(manifest.get("regions") or [])))
        mismatches = int(manifest.get("ptot_mismatches") or 0)
        ctx.checks.append(CheckResult(
            self.name, "ptot_is_pmun_plus_pcap", "oref", "warn", "fail" if mismatches else "pass",
            f"{mismatches} commune(s) where PTOT != PMUN + PCAP", str(mismatches), POPULATIONS_FILE))

        def validate_zones(path: Path) -> Validated:
            import pandas as pd

            zones, composition = read_zones_emploi(path, source=self.name, file=f"{ZE_NAME}.zip",
                                                   checks=ctx.checks)
            frame = pd.DataFrame(composition, columns=[s.name for s in ZE_COMPOSITION_SPECS])
            gx_gate(ctx, "geo_zones_emploi_landing", frame, source=self.name,
                    target=f"{ZE_NAME}.zip [Composition_communale]")
            return Validated(rows=len(zones) + len(composition), data_vintage=ZE_VINTAGE,
                             extra={"zones": len(zones), "communes": len(composition)})

        def validate_bassins(path: Path) -> Validated:
            check_csv_contract(path, BASSINS_COLUMNS, delimiter=",", source=self.name, file=BASSINS_FILE,
                               checks=ctx.checks)
            frame = bassins_frame(path, source=self.name)
            gx_gate(ctx, "geo_bassins_landing", frame, source=self.name, target=BASSINS_FILE)
            return Validated(rows=len(frame), data_vintage=BASSINS_VINTAGE)

        for name, url, kind, validate_reference in (
            ("zones_emploi.zip", ZE_URL, "zip", validate_zones),
            ("bassins.csv", BASSINS_URL, "csv", validate_bassins),
        ):
            outcome = fetch_file(ctx, source=self.name, name=name, url=url, kind=kind,
                                 validate=validate_reference)
            statuses.append(outcome.status)
            rows += int(outcome.landed.manifest.get("rows") or 0)
            landed.append(str(outcome.landed.path))
        status: FetchStatus = "landed" if "landed" in statuses else "unchanged"
        return FetchResult(self.name, status, landed, rows, f"{statuses.count('landed')} file(s) landed")

    def load(self, con: duckdb.DuckDBPyConnection, settings: Settings, landing: LandingZone,
             run_id: str) -> dict[str, int]:
        import pandas as pd

        latest = landing.latest_by_name(self.name)
        counts: dict[str, int] = {}
        for stem, (_, columns) in COG_FILES.items():
            counts.update(self._load_csv(con, f"raw.geo_{stem}", self._landed(latest, f"{stem}.csv"), columns,
                                         run_id))
        landed = self._landed(latest, "epci.zip")
        epci, composition = read_epci(landed.path, source=self.name)
        counts.update(_load_frames(con, landed, run_id, {
            "raw.geo_epci": (pd.DataFrame(epci, columns=[s.name for s in EPCI_SPECS]),
                             "epci, libepci, nature_epci, try_cast(nb_com as integer) as nb_com"),
            "raw.geo_epci_communes": (pd.DataFrame(composition, columns=[s.name for s in COMPOSITION_SPECS]),
                                      "codgeo, libgeo, epci, libepci, dep, reg"),
        }))
        counts["raw.geo_populations"] = self._load_populations(con, self._landed(latest, "populations.zip"), run_id)
        landed = self._landed(latest, "zones_emploi.zip")
        zones, composition = read_zones_emploi(landed.path, source=self.name, file=f"{ZE_NAME}.zip")
        counts.update(_load_frames(con, landed, run_id, {
            "raw.geo_employment_zones": (pd.DataFrame(zones, columns=[s.name for s in ZE_SPECS]),
                                         "ze2020, libze2020, try_cast(nb_com as integer) as nb_com"),
            "raw.geo_employment_zone_communes": (
                pd.DataFrame(composition, columns=[s.name for s in ZE_COMPOSITION_SPECS]),
                "codgeo, libgeo, ze2020, libze2020, ze2020_partie_reg, dep, reg"),
        }))
        # as published, all text: the staging model rebuilds the commune code (lost zeros)
        counts.update(self._load_csv(con, "raw.geo_basin_communes", self._landed(latest, "bassins.csv"),
                                     BASSINS_COLUMNS, run_id))
        return counts

    def _landed(self, latest: dict[str, LandedFile], name: str) -> LandedFile:
        if name not in latest:
            raise SourceError(self.name, f"nothing landed for {name}: run the fetch first")
        return latest[name]

    @staticmethod
    def _load_csv(con: duckdb.DuckDBPyConnection, table: str, landed: LandedFile, columns: Sequence[str],
                  run_id: str) -> dict[str, int]:
        """A landed CSV as published, every column as text under its lower-case name."""
        select = ", ".join(f'"{c}" as {c.lower()}' for c in columns)
        con.execute(
            f"create or replace table {table} as select {select}, {provenance_select(landed, run_id)} "
            f"from read_csv({sql_literal(landed.path)}, delim=',', header=true, all_varchar=true, quote='\"')"
        )
        return {table: table_rows(con, table)}

    def _load_populations(self, con: duckdb.DuckDBPyConnection, landed: LandedFile, run_id: str) -> int:
        with tempfile.TemporaryDirectory() as tmp, zipfile.ZipFile(landed.path) as archive:
            member = populations_member(archive, source=self.name)
            csv_path = archive.extract(member, tmp)
            # all text first: DEP ('01', '2A') and CODCOM ('001') keep their zeros, counts lose
            # their thousands separators before the cast
            con.execute(
                "create or replace table raw.geo_populations as select "
                f"trim(\"REG\") as reg, trim(\"DEP\") as dep, trim(\"CODCOM\") as codcom, \"COM\" as com, "
                f"{_COMMUNE_CODE_SQL} as commune_code, {_count_sql('pmun')} as pmun, "
                f"{_count_sql('pcap')} as pcap, {_count_sql('ptot')} as ptot, {provenance_select(landed, run_id)} "
                f"from read_csv({sql_literal(csv_path)}, delim=';', header=true, all_varchar=true, quote='\"')"
            )
        bad = con.execute("select count(*) from raw.geo_populations where commune_code is null").fetchone()
        if bad and bad[0]:
            raise SourceError(self.name, f"{bad[0]} row(s) without a commune code", file=POPULATIONS_FILE,
                              column="CODCOM")
        return table_rows(con, "raw.geo_populations")



