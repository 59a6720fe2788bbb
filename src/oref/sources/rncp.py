"""France Compétences RNCP / Répertoire spécifique export, through the data.gouv.fr dataset API.

Quirks handled here:
- the dataset lists one zip per day and per format (CSV and XML): the latest CSV export is picked
  by the date in its title (``Export CSV 2026-08-30``) or file name (``export-fiches-csv-2026-08-30.zip``);
- the zip holds one ``;``-separated UTF-8 CSV per facet, named ``export_fiches_CSV_<Facet>_YYYY_MM_DD.csv``;
  the skill-block facet is ``Blocs_De_Compétences`` with an accent in the member name, which zips built
  without the UTF-8 flag hand back as cp437 mojibake (``Comp├⌐tences``): members are matched after
  repairing that and removing accents;
- ``Intitule`` and block labels are quoted multi-line fields; apostrophes are doubled in labels
  (``d''analyse``): kept as published in ``raw``, repaired in staging;
- ``Numero_Fiche`` carries its register as a prefix (``RNCP37674``, ``RS5843``); Mon Compte Formation
  writes the bare number;
- ``Nomenclature_Europe_Niveau`` is ``NIV3``..``NIV8``, ``REPRISE`` (no level) or empty (RS fiches);
  dates are ``dd/mm/yyyy``; ``Actif`` is ``ACTIVE``/``INACTIVE``: anything else refuses the file;
- ROME codes of the export are ROME V3 codes and labels (the 532-fiche level), not ROME 4.0.
"""

from __future__ import annotations

import contextlib
import re
import tempfile
import unicodedata
import zipfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

from oref.config import Settings
from oref.errors import SourceError
from oref.landing import LandingZone
from oref.quality.checks import CheckResult
from oref.sources.base import (
    FetchContext,
    FetchResult,
    Source,
    Validated,
    fetch_file,
    gx_gate,
    provenance_select,
    sql_literal,
    table_rows,
)
from oref.sources.tabular import check_csv_contract

if TYPE_CHECKING:
    import duckdb
    import pandas as pd

SLUG = "repertoire-national-des-certifications-professionnelles-et-repertoire-specifique"
DATASET_API = f"https://www.data.gouv.fr/api/1/datasets/{SLUG}/"
LANDED_NAME = "export_fiches_csv.zip"

# facet (normalised member name part) -> (raw table, declared columns)
FACETS: dict[str, tuple[str, list[str]]] = {
    "standard": ("raw.rncp_certifications", [
        "Id_Fiche", "Numero_Fiche", "Intitule", "Abrege_Libelle", "Abrege_Intitule", "Nomenclature_Europe_Niveau",
        "Nomenclature_Europe_Intitule", "Accessible_Nouvelle_Caledonie", "Accessible_Polynesie_Francaise",
        "Date_dernier_jo", "Date_Decision", "Date_Fin_Enregistrement", "Date_Effet", "Type_Enregistrement",
        "Validation_Partielle", "Actif",
    ]),
    "rome": ("raw.rncp_certification_rome_codes", ["Numero_Fiche", "Codes_Rome_Code", "Codes_Rome_Libelle"]),
    "nsf": ("raw.rncp_certification_nsf_codes", ["Numero_Fiche", "Nsf_Code", "Nsf_Intitule"]),
    "formacode": ("raw.rncp_certification_formacodes", ["Numero_Fiche", "Formacode_Code", "Formacode_Libelle"]),
    "blocs_de_competences": ("raw.rncp_skill_blocks",
                             ["Numero_Fiche", "Bloc_Competences_Code", "Bloc_Competences_Libelle"]),
}
LEVELS = ("NIV3", "NIV4", "NIV5", "NIV6", "NIV7", "NIV8", "REPRISE")
DATE_COLUMNS = ("Date_dernier_jo", "Date_Decision", "Date_Fin_Enregistrement", "Date_Effet")

_EXPORT_DATE = re.compile(r"(?i)(?:export csv |export-fiches-csv-)(\d{4}-\d{2}-\d{2})")
_MEMBER = re.compile(r"^export_fiches_csv_(?P<facet>[a-z_]+?)_(?P<date>\d{4}_\d{2}_\d{2})\.csv$")


def export_date_of(resource: dict[str, Any]) -> str | None:
    """``2026-08-30`` for a CSV export resource; None for the XML exports and anything else."""
    if str(resource.get("format", "")).lower() != "zip":
        return None
    for text in (str(resource.get("title") or ""), str(resource.get("url") or "")):
        if m := _EXPORT_DATE.search(text):
            return m.group(1)
    return None


def repair_member_name(info: zipfile.ZipInfo) -> str:
    """The member name as its author wrote it: zips without the UTF-8 flag (0x800) come back as cp437."""
    name = info.filename
    if not info.flag_bits & 0x800:
        # a name that does not round-trip was genuinely cp437 (or ASCII): keep it as read
        with contextlib.suppress(UnicodeEncodeError, UnicodeDecodeError):
            name = name.encode("cp437").decode("utf-8")
    return name


def facet_of(name: str) -> tuple[str, str] | None:
    """(facet, YYYY_MM_DD) of a member name such as ``export_fiches_CSV_Blocs_De_Compétences_2026_08_30.csv``."""
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode().lower()
    if m := _MEMBER.match(ascii_name.rsplit("/", 1)[-1]):
        return m.group("facet"), m.group("date")
    return None


def extract_facets(path: Path, workdir: Path, *, file: str) -> tuple[dict[str, Path], str]:
    """Extract the declared facets to ``workdir``; return their paths and the export date (YYYY-MM-DD)."""
    found: dict[str, Path] = {}
    dates: set[str] = set()
    with zipfile.ZipFile(path) as archive:
        names = []
        for info in archive.infolist():
            name = repair_member_name(info)
            names.append(name)
            parsed = facet_of(name)
            if parsed is None or parsed[0] not in FACETS:
                continue  # Certificateurs, Partenaires, CCN...: not used by oref
            target = workdir / f"{parsed[0]}.csv"
            with archive.open(info) as src, target.open("wb") as dst:
                while chunk := src.read(1 << 20):
                    dst.write(chunk)
            found[parsed[0]] = target
            dates.add(parsed[1])
    missing = [facet for facet in FACETS if facet not in found]
    if missing:
        raise SourceError("rncp", f"facet(s) {missing} not found in the zip (members: {names})", file=file)
    if len(dates) != 1:
        raise SourceError("rncp", f"members of several export dates in one zip: {sorted(dates)}", file=file)
    return found, dates.pop().replace("_", "-")


def _read_csv(path: Path) -> str:
    # all_varchar keeps codes as text; quote/escape '"' reads the multi-line quoted titles
    return (f"read_csv({sql_literal(path)}, delim=';', header=true, all_varchar=true, quote='\"', "
            "escape='\"', strict_mode=false)")


def check_values(facets: dict[str, Path], *, file: str) -> int:
    """Register prefixes, levels, status and dates as documented; returns the number of fiches."""
    import duckdb

    con = duckdb.connect()
    try:
        for facet, path in facets.items():
            member = f"{file} [{facet}]"
            con.execute(f"create or replace table f as select * from {_read_csv(path)}")
            bad = con.execute("select Numero_Fiche from f where not regexp_full_match(coalesce(Numero_Fiche, ''), "
                              "'(RNCP|RS)[0-9]+') limit 1").fetchone()
            if bad:
                raise SourceError("rncp", "Numero_Fiche is not RNCP<n> or RS<n>", file=member,
                                  column="Numero_Fiche", value=bad[0])
        con.execute(f"create or replace table f as select * from {_read_csv(facets['standard'])}")
        member = f"{file} [standard]"
        levels = ", ".join(sql_literal(level) for level in LEVELS)
        checks = [
            ("Nomenclature_Europe_Niveau", f"Nomenclature_Europe_Niveau not in ({levels})",
             "level is not NIV3..NIV8, REPRISE or empty"),
            ("Actif", "coalesce(Actif, '') not in ('ACTIVE', 'INACTIVE')", "Actif is not ACTIVE or INACTIVE"),
            *[(c, f"{c} is not null and try_strptime({c}, '%d/%m/%Y') is null", "date is not dd/mm/yyyy")
              for c in DATE_COLUMNS],
        ]
        for column, condition, message in checks:
            bad = con.execute(f"select Numero_Fiche, {column} from f where {condition} limit 1").fetchone()
            if bad:
                raise SourceError("rncp", f"{message} (fiche {bad[0]})", file=member, column=column, value=bad[1])
        duplicate = con.execute("select Numero_Fiche from f group by all having count(*) > 1 limit 1").fetchone()
        if duplicate:
            raise SourceError("rncp", "fiche listed twice", file=member, column="Numero_Fiche", value=duplicate[0])
        row = con.execute("select count(*) from f").fetchone()
        return int(row[0]) if row else 0
    finally:
        con.close()


def standard_frame(path: Path) -> pd.DataFrame:
    """The Standard facet for the GX landing suite, read with DuckDB: text as published (empty is NULL).

    ``rncp_fiche_level`` is the level of an RNCP fiche and ``'n/a'`` for an RS fiche (which has none);
    ``decision_date`` / ``end_date`` are ``Date_Decision`` / ``Date_Fin_Enregistrement`` parsed.
    """
    import duckdb

    con = duckdb.connect()
    try:
        return con.sql(
            "select Id_Fiche, Numero_Fiche, Intitule, Nomenclature_Europe_Niveau, Type_Enregistrement, Actif, "
            "case when Numero_Fiche like 'RS%' then 'n/a' else Nomenclature_Europe_Niveau end as rncp_fiche_level, "
            "try_strptime(Date_Decision, '%d/%m/%Y') as decision_date, "
            "try_strptime(Date_Fin_Enregistrement, '%d/%m/%Y') as end_date "
            f"from {_read_csv(path)}"
        ).df()
    finally:
        con.close()


class RncpSource(Source):
    name = "rncp"

    def fetch(self, ctx: FetchContext) -> FetchResult:
        try:
            dataset = ctx.http.get_json(DATASET_API)
        except Exception as exc:
            raise SourceError(self.name, f"dataset API failed: {exc}", url=DATASET_API) from exc
        exports = [(date, r) for r in dataset.get("resources", []) if (date := export_date_of(r))]
        if not exports:
            raise SourceError(self.name, "the dataset lists no CSV export zip ('Export CSV YYYY-MM-DD')",
                              url=DATASET_API)
        date, resource = max(exports, key=lambda pair: pair[0])
        url = str(resource["url"])
        file_label = url.rsplit("/", 1)[-1]

        def validate(path: Path) -> Validated:
            with tempfile.TemporaryDirectory() as tmp:
                facets, member_date = extract_facets(path, Path(tmp), file=file_label)
                rows: dict[str, int] = {}
                for facet, member in facets.items():
                    _, count = check_csv_contract(member, FACETS[facet][1], delimiter=";", source=self.name,
                                                  file=f"{file_label} [{facet}]", checks=ctx.checks)
                    rows[facet] = count
                fiches = check_values(facets, file=file_label)
                standard = standard_frame(facets["standard"])
            if fiches == 0:
                raise SourceError(self.name, "the Standard facet has no fiche", file=file_label)
            if member_date != date:
                # the members' own date is the vintage: an older export is kept but not used
                ctx.checks.append(CheckResult(
                    self.name, "export_date_matches_dataset", "oref", "warn", "fail",
                    f"source 'rncp': the zip holds the export of {member_date}, the dataset says {date}",
                    member_date, file_label))
            gx_gate(ctx, "rncp_landing", standard, source=self.name, target=f"{file_label} [standard]")
            return Validated(rows=fiches, data_vintage=member_date,
                             extra={"export_date": member_date, "facet_rows": rows})

        outcome = fetch_file(ctx, source=self.name, name=LANDED_NAME, url=url, kind="zip", validate=validate)
        rows = int(outcome.landed.manifest.get("rows") or 0)
        return FetchResult(self.name, outcome.status, [str(outcome.landed.path)], rows,
                           f"{rows} RNCP/RS fiches (export of {outcome.landed.data_vintage})")

    def load(self, con: duckdb.DuckDBPyConnection, settings: Settings, landing: LandingZone,
             run_id: str) -> dict[str, int]:
        landed = landing.require(self.name, LANDED_NAME)
        counts: dict[str, int] = {}
        # the register is national: the same tables whatever the territory
        with tempfile.TemporaryDirectory() as tmp:
            facets, _ = extract_facets(landed.path, Path(tmp), file=landed.name)
            for facet, (table, columns) in FACETS.items():
                select = ", ".join(f'"{c}"' for c in columns)
                con.execute(f"create or replace table {table} as select {select}, "
                            f"{provenance_select(landed, run_id)} from {_read_csv(facets[facet])}")
                counts[table] = table_rows(con, table)
        return counts
