"""France Travail ROME 4.0 referential (open-data CSV export), through data.gouv.fr's stable link.

Quirks handled here:
- the stable data.gouv.fr link ``/api/1/datasets/r/<resource id>`` answers a redirect to the
  current ``RefRomeCsv.zip``; the zip holds one CSV per referential, named
  ``unix_<referential>_v<version>_utf8.csv``: members are found by pattern, never by exact name,
  because the version changes twice a year (v460, v461...);
- the ROME version is only written in the member names: ``v460`` becomes ``rome_version = "4.60"``,
  stored on every row, because labels and the set of fiches change between versions;
- CSV with a comma, every field double-quoted, UTF-8; an empty quoted field means "not set" and
  is loaded as NULL;
- ROME 4.0 keeps the 532 V3 fiche codes and adds finer "emploi" fiches with new codes (M1855,
  M1894...); each carries ``code_rome_parent``, its V3 ancestor, which every other source keyed on
  V3 codes (RNCP, DARES FAP tables) joins on. Landing checks that every parent is itself a fiche
  of the file (a V3 fiche is its own parent);
- ``transition_num = "O"`` tags the digital fiches (170 in v4.60), ``"N"`` or empty otherwise.
"""

from __future__ import annotations

import re
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

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
from oref.sources.tabular import check_csv_contract, text_csv_frame

if TYPE_CHECKING:
    import duckdb
    import pandas as pd

DATASET_ID = "58da857388ee384902e505f5"
RESOURCE_ID = "8cf674b6-ef21-446a-8190-178e2defd6fc"
CSV_ZIP_URL = f"https://www.data.gouv.fr/api/1/datasets/r/{RESOURCE_ID}"
LANDED_NAME = "RefRomeCsv.zip"

OCCUPATION_COLUMNS = [
    "code_rome", "code_fiche_metier", "code_ogr", "libelle_rome", "transition_eco", "transition_num",
    "transition_demo", "emploi_reglemente", "emploi_cadre", "code_rome_parent",
]
APPELLATION_COLUMNS = [
    "code_ogr", "libelle_appellation_long", "libelle_appellation_court", "code_rome", "transition_eco",
    "transition_num", "transition_demo", "emploi_reglemente", "emploi_cadre", "classification", "origine",
    "code_rome_parent", "peu_usite",
]
_OCCUPATION_MEMBER = re.compile(r"^(?:.*/)?unix_referentiel_code_rome_v(\d)(\d{2,})_utf8\.csv$")
_APPELLATION_MEMBER = re.compile(r"^(?:.*/)?unix_referentiel_appellation_v(\d)(\d{2,})_utf8\.csv$")
_ROME_CODE = r"^[A-N][0-9]{4}$"


@dataclass(frozen=True)
class RomeFiles:
    """The members of a RefRomeCsv.zip that oref reads, extracted to a working folder."""

    version: str  # "4.60"
    occupations: Path
    occupations_member: str
    appellations: Path | None
    appellations_member: str | None


def rome_version(member: str) -> str | None:
    """``unix_referentiel_code_rome_v460_utf8.csv`` -> ``"4.60"``."""
    m = _OCCUPATION_MEMBER.match(member) or _APPELLATION_MEMBER.match(member)
    return f"{m.group(1)}.{m.group(2)}" if m else None


def extract_members(path: Path, workdir: Path, *, file: str) -> RomeFiles:
    with zipfile.ZipFile(path) as archive:
        names = archive.namelist()
        occupations = [n for n in names if _OCCUPATION_MEMBER.match(n)]
        if not occupations:
            raise SourceError("rome", f"no unix_referentiel_code_rome_v<version>_utf8.csv in the zip (members: "
                              f"{sorted(names)[:8]}{'...' if len(names) > 8 else ''})", file=file)
        # several versions side by side would make "the" version ambiguous: take the newest
        occupations_member = max(occupations, key=lambda n: int("".join(
            _OCCUPATION_MEMBER.match(n).groups())))  # type: ignore[union-attr]  # filtered on this match above
        version = rome_version(occupations_member)
        assert version is not None
        appellations = [n for n in names if _APPELLATION_MEMBER.match(n) and rome_version(n) == version]
        occ_path = Path(archive.extract(occupations_member, workdir))
        app_path = Path(archive.extract(appellations[0], workdir)) if appellations else None
    return RomeFiles(version, occ_path, occupations_member, app_path, appellations[0] if appellations else None)


def check_occupations(path: Path, *, file: str, checks: list[CheckResult] | None = None) -> dict[str, int]:
    """Contract and value checks of the fiches file; returns counts recorded in the landing manifest."""
    import duckdb

    _, rows = check_csv_contract(path, OCCUPATION_COLUMNS, delimiter=",", source="rome", file=file, checks=checks)
    if rows == 0:
        raise SourceError("rome", "the fiches file has no rows", file=file)
    con = duckdb.connect()
    try:
        con.execute(f"create table f as select * from read_csv({sql_literal(path)}, delim=',', quote='\"', "
                    "header=true, all_varchar=true)")
        rules = [
            ("code_rome", f"code_rome is null or not regexp_full_match(code_rome, '{_ROME_CODE}')",
             "malformed ROME code"),
            ("code_rome_parent",
             f"code_rome_parent is null or not regexp_full_match(code_rome_parent, '{_ROME_CODE}')",
             "malformed or missing parent ROME code"),
            ("transition_num", "transition_num is not null and transition_num not in ('O', 'N')",
             "digital flag neither O, N nor empty"),
            ("code_rome_parent", "code_rome_parent not in (select code_rome from f where code_rome = code_rome_parent)",
             "parent code that is not a V3 fiche of the file"),
        ]
        for column, where, problem in rules:
            bad = con.execute(f"select code_rome, {column} from f where {where} limit 1").fetchone()
            if bad:
                raise SourceError("rome", f"{problem} (fiche {bad[0]})", file=file, column=column, value=bad[1])
        dup = con.execute("select code_rome from f group by 1 having count(*) > 1 limit 1").fetchone()
        if dup:
            raise SourceError("rome", "duplicate fiche", file=file, column="code_rome", value=dup[0])
        row = con.execute("select count(*) filter (where transition_num = 'O'), "
                          "count(distinct code_rome_parent) from f").fetchone()
        assert row is not None
        if row[0] == 0:
            # every indicator on digital jobs selects on this flag: its disappearance must not pass silently
            raise SourceError("rome", "no fiche tagged digital (transition_num = 'O')", file=file,
                              column="transition_num")
        return {"rows": rows, "digital_fiches": int(row[0]), "v3_parents": int(row[1])}
    finally:
        con.close()


def landing_frame(path: Path) -> pd.DataFrame:
    """The fiches file as text columns (an empty quoted field is NULL), for the GX landing suite."""
    return text_csv_frame(path, ",")


class RomeSource(Source):
    name = "rome"

    def fetch(self, ctx: FetchContext) -> FetchResult:
        def validate(path: Path) -> Validated:
            with tempfile.TemporaryDirectory() as tmp:
                files = extract_members(path, Path(tmp), file=LANDED_NAME)
                target = f"{LANDED_NAME}:{files.occupations_member}"
                counts = check_occupations(files.occupations, file=target, checks=ctx.checks)
                gx_gate(ctx, "rome_landing", landing_frame(files.occupations), source=self.name, target=target)
                appellation_rows = 0
                if files.appellations is not None:
                    _, appellation_rows = check_csv_contract(
                        files.appellations, APPELLATION_COLUMNS, delimiter=",", source=self.name,
                        file=f"{LANDED_NAME}:{files.appellations_member}", checks=ctx.checks)
            return Validated(rows=counts["rows"], data_vintage=files.version,
                             extra={"rome_version": files.version, "digital_fiches": counts["digital_fiches"],
                                    "v3_parents": counts["v3_parents"], "appellation_rows": appellation_rows,
                                    "members": [files.occupations_member, files.appellations_member]})

        outcome = fetch_file(ctx, source=self.name, name=LANDED_NAME, url=CSV_ZIP_URL, kind="zip", validate=validate)
        manifest = outcome.landed.manifest
        rows = int(manifest.get("rows") or 0)
        return FetchResult(self.name, outcome.status, [str(outcome.landed.path)], rows,
                           f"ROME {manifest.get('rome_version')}: {rows} fiches, "
                           f"{manifest.get('digital_fiches')} digital")

    def load(self, con: duckdb.DuckDBPyConnection, settings: Settings, landing: LandingZone,
             run_id: str) -> dict[str, int]:
        landed = landing.require(self.name, LANDED_NAME)
        provenance = provenance_select(landed, run_id)
        with tempfile.TemporaryDirectory() as tmp:
            files = extract_members(landed.path, Path(tmp), file=LANDED_NAME)
            version = sql_literal(files.version)
            occupations = ", ".join(OCCUPATION_COLUMNS)
            con.execute(
                f"create or replace table raw.rome_occupations as select {occupations}, "
                f"{version} as rome_version, {provenance} "
                f"from read_csv({sql_literal(files.occupations)}, delim=',', quote='\"', header=true, "
                "all_varchar=true)"
            )
            appellations = ", ".join(APPELLATION_COLUMNS)
            if files.appellations is not None:
                source_sql = (f"read_csv({sql_literal(files.appellations)}, delim=',', quote='\"', header=true, "
                              "all_varchar=true)")
            else:
                # no appellations member: an empty table, so the staging model still builds
                source_sql = "(select " + ", ".join(f"null::varchar as {c}" for c in APPELLATION_COLUMNS) + \
                    " where false)"
            con.execute(
                f"create or replace table raw.rome_appellations as select {appellations}, "
                f"{version} as rome_version, {provenance} from {source_sql}"
            )
        counts = {}
        for table in ("raw.rome_occupations", "raw.rome_appellations"):
            counts[table] = table_rows(con, table)
        return counts
