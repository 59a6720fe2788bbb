"""The bad-input corpus: what publishers and networks really send, run through ``oref fetch <source>``.

Each case runs the real CLI entry (``oref.cli.main``) in-process on a fresh data directory that
holds a published warehouse, against a replay server serving a mutated copy of the snapshot or
scripted faults (``oref.replay.Fault``), with small retries (1, backoff 0.01 s) and short
deadlines (``OREF_HTTP_TOTAL_TIMEOUT=3``). It asserts:

- the exit code: 1 for a refused input, 0 with a ``warn`` check for a warning case;
- the message: the source, the file or URL, and the column or the HTTP status (``expect``);
- nothing new landed for a refused input (the landing zone's listing is unchanged, no temporary
  file left behind); for a warning case, what was landed (or kept and not used);
- the published warehouse's sha256 is unchanged;
- recovery: the same fetch with the good files exits 0 and lands them.

Families (cases): html-page (7), empty-file (6), truncated-file (5), corrupt-file (3),
dropped-connection (3: one recovered by a retry, two given up), header-drift (6), new-column (3, warn),
french-number (3), negative-count (3), duplicate-key (3), tenfold-file (2), encoding (2),
delimiter (2), http-404 (5), http-410 (1), http-429 (2), http-5xx (4), invalid-json (5),
redirect-loop (3), trickling-server (2), older-vintage (2, warn), all-secret (1): 73 cases, 22 families.
Sources (cases): mcf 14, arcep 12, urssaf 11, rncp 8, rome 8, tensions 7, bmo 4, geo 3, offers 3,
sirene 3: ten sources. Runtime: about 3.5 min of wall time on the loaded 2-core machine (65 s of CPU);
the first case pays the imports (GX, DuckDB), each case then about 1 to 6 s, its recovery included.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import shutil
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import openpyxl
import pytest
from oref_testing import SNAPSHOT, small_bmo_workbook

from oref.cli import main
from oref.replay import Fault, ReplayServer

# --- where each source's files live in the snapshot -------------------------------------------------
MCF = Path("opendata.caissedesdepots.fr/api/explore/v2.1/catalog/datasets/moncompteformation_catalogueformation/"
           "exports/csv")
URSSAF = Path("open.urssaf.fr/api/explore/v2.1/catalog/datasets/"
              "etablissements-et-effectifs-salaries-au-niveau-commune-x-ape-last/exports/csv")
RNCP_SLUG = "repertoire-national-des-certifications-professionnelles-et-repertoire-specifique"
RNCP = Path(f"static.data.gouv.fr/resources/{RNCP_SLUG}/20260830-020002/export-fiches-csv-2026-08-30.zip")
RNCP_API = Path(f"www.data.gouv.fr/api/1/datasets/{RNCP_SLUG}")
ROME = Path("static.data.gouv.fr/resources/repertoire-operationnel-des-metiers-et-des-emplois-rome/"
            "20250402-093000/refromecsv.zip")
ARCEP_SLUG = "le-marche-du-haut-et-tres-haut-debit-fixe-deploiements"
ARCEP = Path(f"static.data.gouv.fr/resources/{ARCEP_SLUG}/20260312-143000/2025t4-obs-hd-thd-deploiement-vf.xlsx")
ARCEP_API = Path(f"www.data.gouv.fr/api/1/datasets/{ARCEP_SLUG}")
TENSIONS = Path("statistiques.francetravail.org/offres/Handlers/HTFile.ashx")
BMO_API = Path("www.data.gouv.fr/api/1/datasets/561fa564c751df4f2acdbb48")
BMO = Path("static.data.gouv.fr/resources/enquete-besoins-en-main-doeuvre-bmo/20250423-101500/"
           "base_open_data_bmo_2025.xlsx")
BMO_INDEX = Path("www.data.gouv.fr/api/1/datasets/561fa564c751df4f2acdbb48/index.json")
GEO = Path("www.insee.fr/fr/statistiques/fichier/8377162/v_commune_2025.csv")
SIRENE = Path("recherche-entreprises.api.gouv.fr/search")
OFFERS = Path("api.francetravail.io/partenaire/offresdemploi/v2/offres/search")
TOKEN = Path("entreprise.francetravail.fr/connexion/oauth2/access_token")

# what names a source's file or URL in a message: the file, or the URL it was fetched from
FILE_NAMES = {"mcf": ("moncompteformation_catalogueformation",),
              "urssaf": ("etablissements-et-effectifs-salaries",),
              "rncp": ("export-fiches-csv-2026-08-30.zip", "repertoire-national-des-certifications"),
              "rome": ("RefRomeCsv.zip", "datasets/r/8cf674b6-ef21-446a-8190-178e2defd6fc"),
              "arcep": ("2025t4-obs-hd-thd-deploiement-vf.xlsx", ARCEP_SLUG),
              "tensions": ("HTFile.ashx", "tensions_metiers.xlsx"),
              "bmo": ("base_open_data_bmo_2025.xlsx", "561fa564c751df4f2acdbb48"),
              "geo": ("v_commune_2025.csv",), "sirene": ("recherche-entreprises.api.gouv.fr/search",),
              "offers": ("api.francetravail.io",)}
FILES = {"mcf": MCF, "urssaf": URSSAF, "rncp": RNCP, "rome": ROME, "arcep": ARCEP, "tensions": TENSIONS,
         "bmo": BMO}

HTML = (b"<!DOCTYPE html><html><head><title>Maintenance en cours</title></head>"
        b"<body><h1>Le service est momentan\xc3\xa9ment indisponible</h1></body></html>")


def _path(rel: Path) -> str:
    return "/" + str(rel)


# --- mutations (on a hard-linked copy of the snapshot: always replace a file, never write into it) --
def _replace(root: Path, rel: Path, data: bytes) -> None:
    target = root / rel
    target.unlink(missing_ok=True)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(data)


def _csv_rows(rel: Path) -> list[list[str]]:
    return list(csv.reader(io.StringIO((SNAPSHOT / rel).read_text("utf-8-sig")), delimiter=";"))


def _write_csv(root: Path, rel: Path, rows: list[list[str]], *, delimiter: str = ";",
               encoding: str = "utf-8") -> None:
    out = io.StringIO()
    csv.writer(out, delimiter=delimiter, lineterminator="\n").writerows(rows)
    _replace(root, rel, out.getvalue().encode(encoding, "replace"))


def csv_edit(rel: Path, edit: Callable[[list[list[str]]], list[list[str]]], **how: str) -> Callable[[Path], None]:
    def mutate(root: Path) -> None:
        _write_csv(root, rel, edit(_csv_rows(rel)), **how)
    return mutate


def rename_column(old: str, new: str) -> Callable[[list[list[str]]], list[list[str]]]:
    return lambda rows: [[new if c == old else c for c in rows[0]], *rows[1:]]


def add_column(name: str) -> Callable[[list[list[str]]], list[list[str]]]:
    return lambda rows: [[*rows[0], name], *([*r, "x"] for r in rows[1:])]


def set_cell(column: str, value: str, *, where: Callable[[dict[str, str]], bool] = lambda r: True
             ) -> Callable[[list[list[str]]], list[list[str]]]:
    def edit(rows: list[list[str]]) -> list[list[str]]:
        header, out, done = rows[0], [rows[0]], False
        index = header.index(column)
        for row in rows[1:]:
            if not done and where(dict(zip(header, row, strict=False))):
                row = [*row[:index], value, *row[index + 1:]]
                done = True
            out.append(row)
        assert done, f"no row to edit for {column}"
        return out
    return edit


def duplicate_first(times: int = 2) -> Callable[[list[list[str]]], list[list[str]]]:
    """The first row of the territory (972), ``times`` times."""
    def edit(rows: list[list[str]]) -> list[list[str]]:
        index = rows[0].index("code_departement")
        first = next(n for n, r in enumerate(rows) if n and r[index] == "972")
        return [*rows[:first], *([rows[first]] * times), *rows[first + 1:]]
    return edit


def tenfold(rows: list[list[str]]) -> list[list[str]]:
    return [rows[0], *(rows[1:] * 10)]


def in_972(row: dict[str, str]) -> bool:
    return row.get("code_departement") == "972"


def cut(rel: Path, fraction: float = 0.5) -> Callable[[Path], None]:
    def mutate(root: Path) -> None:
        data = (SNAPSHOT / rel).read_bytes()
        _replace(root, rel, data[: int(len(data) * fraction)])
    return mutate


def corrupt(rel: Path) -> Callable[[Path], None]:
    """The zip signature, then noise: what a broken upload looks like."""
    def mutate(root: Path) -> None:
        data = (SNAPSHOT / rel).read_bytes()
        noise = hashlib.sha256(data).digest() * (len(data) // 32)
        _replace(root, rel, data[:30] + noise[: len(data) - 60] + data[-30:])
    return mutate


def rezip(rel: Path, edit: Callable[[str, bytes], bytes]) -> Callable[[Path], None]:
    def mutate(root: Path) -> None:
        buffer = io.BytesIO()
        with zipfile.ZipFile(SNAPSHOT / rel) as source, zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as out:
            for info in source.infolist():
                out.writestr(info.filename, edit(info.filename, source.read(info)))
        _replace(root, rel, buffer.getvalue())
    return mutate


def sheet_edit(rel: Path, sheet: str, edit: Callable[[openpyxl.worksheet.worksheet.Worksheet], None]
               ) -> Callable[[Path], None]:
    def mutate(root: Path) -> None:
        with (SNAPSHOT / rel).open("rb") as stream:  # a file object: openpyxl refuses the .ashx suffix
            book = openpyxl.load_workbook(stream)
        edit(book[sheet])
        buffer = io.BytesIO()
        book.save(buffer)
        _replace(root, rel, buffer.getvalue())
    return mutate


def arcep_header(label: str, new: str) -> Callable[[openpyxl.worksheet.worksheet.Worksheet], None]:
    def edit(sheet: openpyxl.worksheet.worksheet.Worksheet) -> None:
        for cell in sheet[5]:
            if cell.value == label:
                cell.value = new
                return
        raise AssertionError(label)
    return edit


def arcep_cell(column: int, value: object) -> Callable[[openpyxl.worksheet.worksheet.Worksheet], None]:
    def edit(sheet: openpyxl.worksheet.worksheet.Worksheet) -> None:
        sheet.cell(row=6, column=column, value=value)
    return edit


def arcep_drop_last_quarter(sheet: openpyxl.worksheet.worksheet.Worksheet) -> None:
    sheet.delete_cols(sheet.max_column)


def bmo_small(year: int = 2025, met: str = "25") -> Callable[[Path], None]:
    """The BMO dataset listing one small workbook (FAP2021 codes, Martinique and Guadeloupe): the
    2025 resource alone, so that the bundled real 2024 workbook does not land beside the case."""
    def mutate(root: Path) -> None:
        _replace(root, BMO, small_bmo_workbook(year, met))
        document = json.loads((SNAPSHOT / BMO_INDEX).read_text("utf-8"))
        document["resources"] = [r for r in document["resources"] if r["title"].endswith("2025")]
        _replace(root, BMO_INDEX, json.dumps(document).encode())
    return mutate


def json_edit(rel: Path, edit: Callable[[dict], None]) -> Callable[[Path], None]:
    def mutate(root: Path) -> None:
        target = rel / "index.json"
        document = json.loads((SNAPSHOT / target).read_text("utf-8"))
        edit(document)
        _replace(root, target, json.dumps(document).encode())
    return mutate


def _latin1(rel: Path) -> bytes:
    return (SNAPSHOT / rel).read_text("utf-8").encode("latin-1", "replace")


# --- the cases ---------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Case:
    id: str
    source: str
    expect: tuple[str, ...]  # substrings of the output besides "source '<source>'"
    mutate: Callable[[Path], None] | None = None
    faults: dict[str, list[Fault]] = field(default_factory=dict)
    code: int = 1
    warn: str | None = None  # a warning case: exit 0 and this check failed with severity warn
    good: Callable[[Path], None] | None = None  # how the good snapshot differs from the bundled one
    land_good_first: bool = False  # the older-vintage cases: a good landing before the bad fetch


def _f(rel: Path, *faults: Fault) -> dict[str, list[Fault]]:
    return {_path(rel): list(faults)}


TWICE = 2  # max_retries=1: a fault served twice is a fault given up on

CASES = [
    # html pages served with 200
    *(Case(f"{s}-html-page", s, ("HTML page", "Maintenance en cours"), faults=_f(FILES[s], Fault(200, body=HTML)))
      for s in ("mcf", "urssaf", "rncp", "rome", "arcep", "tensions")),
    # empty files
    *(Case(f"{s}-empty-file", s, ("empty",), faults=_f(FILES[s], Fault(200))) for s in ("mcf", "urssaf", "rncp",
                                                                                        "rome", "arcep", "tensions")),
    # truncated files (the server said the length it sent: the file itself is cut)
    *(Case(f"{s}-truncated-file", s, ("corrupt or truncated",), mutate=cut(FILES[s]))
      for s in ("rncp", "rome", "arcep", "tensions")),
    Case("mcf-truncated-row", "mcf", ("a truncated or malformed file", "column:"),
         faults=_f(MCF, Fault(200, body=(SNAPSHOT / MCF).read_bytes()[:30000].rsplit(b";", 3)[0]))),
    # corrupt containers
    *(Case(f"{s}-corrupt-file", s, ("corrupt",), mutate=corrupt(FILES[s])) for s in ("rncp", "rome", "arcep")),
    # a connection dropped mid-body: once is retried, twice is given up
    Case("arcep-dropped-once-retried", "arcep", (), code=0, faults=_f(ARCEP, Fault(200, truncate_to=1000))),
    Case("mcf-dropped-twice", "mcf", ("gave up after 2 attempts", "connection dropped"),
         faults=_f(MCF, *[Fault(200, truncate_to=500)] * TWICE)),
    Case("rome-dropped-twice", "rome", ("gave up after 2 attempts", "connection dropped after 500 bytes"),
         faults=_f(ROME, *[Fault(200, truncate_to=500)] * TWICE)),
    # header drift: a renamed required column is an error naming it
    Case("mcf-renamed-column", "mcf", ("missing ['code_rncp']", "column: 'code_rncp'"),
         mutate=csv_edit(MCF, rename_column("code_rncp", "code_rncp_v2"))),
    Case("urssaf-renamed-column", "urssaf", ("missing ['code_ape']", "column: 'code_ape'"),
         mutate=csv_edit(URSSAF, rename_column("code_ape", "code_ape_2"))),
    Case("arcep-renamed-column", "arcep", ("missing column(s): premises_source", "2025t4-obs"),
         mutate=sheet_edit(ARCEP, "Communes", arcep_header("Source retenue pour l'estimation des locaux", "Source"))),
    Case("rncp-renamed-column", "rncp", ("Numero_Fiche", "export-fiches-csv-2026-08-30.zip [standard]"),
         mutate=rezip(RNCP, lambda n, d: d.replace(b"Numero_Fiche", b"Num_Fiche", 1) if "Standard" in n else d)),
    Case("rome-renamed-column", "rome", ("missing ['transition_num']", "column: 'transition_num'"),
         mutate=rezip(ROME, lambda n, d: d.replace(b"transition_num", b"transition_numerique", 1)
                      if "referentiel_code_rome" in n else d)),
    # a new optional column is a warning, and the file lands
    Case("urssaf-new-column", "urssaf", (), code=0, warn="no_unexpected_columns",
         mutate=csv_edit(URSSAF, add_column("taux_de_croissance"))),
    Case("mcf-new-column", "mcf", (), code=0, warn="no_unexpected_columns",
         mutate=csv_edit(MCF, add_column("note_moyenne"))),
    Case("arcep-new-column", "arcep", (), code=0, warn="no_unexpected_columns",
         mutate=sheet_edit(ARCEP, "Communes", lambda s: (s.insert_cols(7), s.cell(row=5, column=7, value="Taux")))),
    # French number formats where a number is expected
    Case("urssaf-french-number", "urssaf", ("non-numeric or negative count", "column: 'nombre_d_etablissements_2025'",
                                            "value: '1 234,5'"),
         mutate=csv_edit(URSSAF, set_cell("nombre_d_etablissements_2025", "1 234,5", where=in_972))),
    Case("mcf-french-number", "mcf", ("non-numeric or negative value", "column: 'frais_ttc_tot_min'"),
         mutate=csv_edit(MCF, set_cell("frais_ttc_tot_min", "1 200,50", where=in_972))),
    # a typographic minus (U+2212), as French word processors write it
    Case("tensions-french-number", "tensions", ("non-numeric value for FAP B0X32", "column: 'tension'",
                                                "value: '\u22120,94'"),
         mutate=sheet_edit(TENSIONS, "Tensions national", lambda s: s.cell(row=5, column=4, value="\u22120,94"))),
    # negative counts
    Case("urssaf-negative-count", "urssaf", ("negative count", "column: 'effectifs_salaries_2025'", "value: '-12'"),
         mutate=csv_edit(URSSAF, set_cell("effectifs_salaries_2025", "-12", where=in_972))),
    Case("mcf-negative-count", "mcf", ("negative value", "column: 'nb_action'"),
         mutate=csv_edit(MCF, set_cell("nb_action", "-3", where=in_972))),
    Case("arcep-negative-count", "arcep", ("premises_not_negative", "column 'premises'", "-5.0"),
         mutate=sheet_edit(ARCEP, "Communes", arcep_cell(4, -5))),
    # duplicate keys
    Case("mcf-duplicate-key", "mcf", ("offer listed twice", "column:"), mutate=csv_edit(MCF, duplicate_first())),
    Case("urssaf-duplicate-key", "urssaf", ("code_commune", "unexpected value"),
         mutate=csv_edit(URSSAF, duplicate_first())),
    Case("rncp-duplicate-key", "rncp", ("fiche listed twice", "column: 'Numero_Fiche'"),
         mutate=rezip(RNCP, lambda n, d: d + d.split(b"\n", 2)[1] + b"\n" if "Standard" in n else d)),
    # tenfold files (every row ten times)
    Case("urssaf-tenfold-file", "urssaf", ("code_commune",), mutate=csv_edit(URSSAF, tenfold)),
    Case("mcf-tenfold-file", "mcf", ("listed twice",), mutate=csv_edit(MCF, tenfold)),
    # encoding and delimiter changes
    # (served as a fault: the replay server's Opendatasoft filter reads UTF-8 only)
    Case("mcf-latin1", "mcf", ("not UTF-8",), faults=_f(MCF, Fault(200, body=_latin1(MCF)))),
    Case("urssaf-latin1", "urssaf", ("not UTF-8",), faults=_f(URSSAF, Fault(200, body=_latin1(URSSAF)))),
    Case("mcf-comma-delimiter", "mcf", ("';'-separated",),
         faults=_f(MCF, Fault(200, body=(SNAPSHOT / MCF).read_text("utf-8").replace(";", ",").encode()))),
    Case("urssaf-comma-delimiter", "urssaf", ("';'-separated",),
         faults=_f(URSSAF, Fault(200, body=(SNAPSHOT / URSSAF).read_text("utf-8").replace(";", ",").encode()))),
    # HTTP statuses: permanent ones at once, transient ones after the retries
    Case("mcf-http-404", "mcf", ("HTTP 404",), faults=_f(MCF, Fault(404, body=b"not found"))),
    Case("arcep-http-404", "arcep", ("HTTP 404", "2025t4-obs"), faults=_f(ARCEP, Fault(404))),
    Case("rncp-api-http-404", "rncp", ("HTTP 404", "dataset API"), faults=_f(RNCP_API, Fault(404))),
    Case("offers-http-404", "offers", ("HTTP 404",), faults=_f(OFFERS, Fault(404))),
    Case("tensions-http-410", "tensions", ("HTTP 410",), faults=_f(TENSIONS, Fault(410, body=b"gone"))),
    Case("urssaf-http-429", "urssaf", ("gave up after 2 attempts: HTTP 429",),
         faults=_f(URSSAF, *[Fault(429, {"Retry-After": "0"})] * TWICE)),
    Case("sirene-http-429", "sirene", ("gave up after 2 attempts: HTTP 429", "page 1"),
         faults=_f(SIRENE, *[Fault(429, {"Retry-After": "0"})] * TWICE)),
    Case("rome-http-503", "rome", ("gave up after 2 attempts: HTTP 503",), faults=_f(ROME, *[Fault(503)] * TWICE)),
    Case("tensions-http-500", "tensions", ("gave up after 2 attempts: HTTP 500",),
         faults=_f(TENSIONS, *[Fault(500)] * TWICE)),
    Case("bmo-api-http-502", "bmo", ("gave up after 2 attempts: HTTP 502", "dataset API"),
         faults=_f(BMO_API, *[Fault(502)] * TWICE), good=bmo_small()),
    Case("offers-http-503", "offers", ("gave up after 2 attempts: HTTP 503",),
         faults=_f(OFFERS, *[Fault(503)] * TWICE)),
    # invalid JSON from an API
    *(Case(f"{s}-invalid-json", s, ("invalid JSON",), faults=_f(rel, *[Fault(200, body=b'{"resources": [')] * TWICE),
           good=bmo_small() if s == "bmo" else None)
      for s, rel in (("bmo", BMO_API), ("arcep", ARCEP_API), ("rncp", RNCP_API), ("sirene", SIRENE),
                     ("offers", OFFERS))),
    # redirect loops
    *(Case(f"{s}-redirect-loop", s, ("redirect loop",), faults=_f(FILES[s], *[Fault(302, {"Location": _path(FILES[s])})]
                                                                  * 40))
      for s in ("mcf", "arcep", "tensions")),
    # servers trickling bytes: the total deadline names them
    Case("rome-trickling-server", "rome", ("total deadline", "OREF_HTTP_TOTAL_TIMEOUT"),
         faults=_f(ROME, *[Fault(200, trickle=(64, 0.05))] * TWICE)),
    Case("sirene-trickling-server", "sirene", ("total deadline",),
         faults=_f(SIRENE, *[Fault(200, body=b'{"results": []}' * 200, trickle=(8, 0.05))] * TWICE)),
    # older vintages served later: kept, not used, a warning
    Case("arcep-older-quarter", "arcep", (), code=0, warn="older_vintage_not_used", land_good_first=True,
         mutate=sheet_edit(ARCEP, "Communes", arcep_drop_last_quarter)),
    Case("bmo-older-survey-year", "bmo", (), code=0, warn="older_vintage_not_used", land_good_first=True,
         mutate=bmo_small(2024), good=bmo_small()),
    # the COG (its first file: a failure there lands nothing of the source)
    Case("geo-html-page", "geo", ("HTML page",), faults=_f(GEO, Fault(200, body=HTML))),
    Case("geo-http-404", "geo", ("HTTP 404",), faults=_f(GEO, Fault(404))),
    Case("geo-renamed-column", "geo", ("missing ['LIBELLE']", "column: 'LIBELLE'"),
         faults=_f(GEO, Fault(200, body=(SNAPSHOT / GEO).read_bytes().replace(b"LIBELLE", b"NOM", 1)))),
    # an all-secret file for the territory
    Case("bmo-all-secret", "bmo", ("secret", "base_open_data_bmo_2025.xlsx", "column: 'met'"),
         mutate=bmo_small(met="*"), good=bmo_small()),
]


# --- the harness -------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def published(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """A small published warehouse, copied into each case's data directory; its sha256."""
    path = tmp_path_factory.mktemp("published") / "oref.duckdb"
    con = duckdb.connect(str(path))
    con.execute("create schema marts")
    con.execute("create table marts.mart_indicators as select 'urssaf_digital_establishments' as indicator_code, "
                "'972' as territory_code, '2025' as period, 1234.0 as value")
    con.close()
    return path, hashlib.sha256(path.read_bytes()).hexdigest()


def _snapshot(root: Path, *mutations: Callable[[Path], None] | None) -> Path:
    """A hard-linked copy of the bundled snapshot with ``mutations`` applied (each replaces its files)."""
    if not any(mutations):
        return SNAPSHOT
    shutil.copytree(SNAPSHOT, root, copy_function=os.link)
    for mutate in mutations:
        if mutate is not None:
            mutate(root)
    return root


def _listing(data_dir: Path) -> list[str]:
    landing = data_dir / "landing"
    return sorted(str(p.relative_to(landing)) for p in landing.rglob("*") if p.is_file()) if landing.is_dir() else []


class Fetcher:
    def __init__(self, data_dir: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
        self.data_dir, self.monkeypatch, self.capsys = data_dir, monkeypatch, capsys
        for key in [k for k in os.environ if k.startswith(("OREF_", "FRANCE_TRAVAIL_"))]:
            monkeypatch.delenv(key)

    def __call__(self, source: str, snapshot: Path, faults: dict[str, list[Fault]] | None,
                 run_id: str) -> tuple[int, str]:
        with ReplayServer(snapshot, faults={k: list(v) for k, v in (faults or {}).items()}) as server:
            for key, value in {"OREF_DATA_DIR": str(self.data_dir), "OREF_SOURCE_MODE": "snapshot",
                               "OREF_SNAPSHOT_DIR": str(snapshot), "OREF_REPLAY_URL": server.base_url,
                               "OREF_TERRITORY": "972", "OREF_COMPARISON": "none", "OREF_HTTP_MAX_RETRIES": "1",
                               "OREF_HTTP_BACKOFF_BASE": "0.01", "OREF_HTTP_TOTAL_TIMEOUT": "3",
                               "OREF_HTTP_READ_TIMEOUT": "2", "OREF_HTTP_CONNECT_TIMEOUT": "2"}.items():
                self.monkeypatch.setenv(key, value)
            self.capsys.readouterr()
            code = main(["fetch", source, "--run-id", run_id])
            return code, self.capsys.readouterr().out

    def checks(self, run_id: str, source: str) -> list[dict[str, str]]:
        path = self.data_dir / "runs" / run_id / "checks" / f"{source}.json"
        return json.loads(path.read_text("utf-8")) if path.is_file() else []


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_bad_input(case: Case, tmp_path: Path, published: tuple[Path, str], monkeypatch: pytest.MonkeyPatch,
                   capsys: pytest.CaptureFixture[str]) -> None:
    data_dir = tmp_path / "data"
    warehouse = data_dir / "warehouse" / "oref.duckdb"
    warehouse.parent.mkdir(parents=True)
    shutil.copy(published[0], warehouse)
    fetch = Fetcher(data_dir, monkeypatch, capsys)
    good = _snapshot(tmp_path / "good", case.good)
    if case.land_good_first:
        code, output = fetch(case.source, good, None, "good-before")
        assert code == 0, output
    before = _listing(data_dir)

    bad = _snapshot(tmp_path / "bad", case.good, case.mutate)
    code, output = fetch(case.source, bad, case.faults, "bad")

    assert code == case.code, output
    assert "Traceback" not in output
    for expected in case.expect:
        assert expected in output, f"{expected!r} not in {output}"
    if case.code == 1:
        assert f"source '{case.source}'" in output, output
        named = FILE_NAMES[case.source]
        assert any(n in output for n in named), f"the message names neither the file nor the URL {named}: {output}"
        assert _listing(data_dir) == before, "a refused input landed something"
    if case.warn is not None:
        warned = [c for c in fetch.checks("bad", case.source) if c["check_name"] == case.warn]
        assert [(c["severity"], c["status"]) for c in warned] == [("warn", "fail")], output
        assert case.source in warned[0]["message"]
    assert hashlib.sha256(warehouse.read_bytes()).hexdigest() == published[1]

    # recovery: the good files land (or are already there) and the fetch exits 0
    code, output = fetch(case.source, good, None, "recovery")
    assert code == 0, output
    assert any(f.endswith(".manifest.json") for f in _listing(data_dir)), output
    assert hashlib.sha256(warehouse.read_bytes()).hexdigest() == published[1]
