"""Open-data export of each publish (préconisation 3) and the dbt documentation of each run.

After a publish, ``export_open_data`` reads the *published* warehouse read-only and writes
``<data>/opendata/<run_id>/``:

- ``indicateurs.csv`` / ``.parquet`` (``marts.mart_indicators``),
- ``tableau_de_bord_preconisations.csv`` / ``.parquet`` (``marts.mart_preconisation_scorecard``),
- ``datapackage.json``: a Frictionless Data Package (licence, sources and their vintages, one Table
  Schema per CSV derived from DuckDB's column types, SHA-256 and size of every file).

The package is written into a hidden temporary directory beside its final place and renamed, so a
half-written package never appears; ``<data>/opendata/LATEST`` then names the run (a text file,
not a symlink, so it survives copies to object storage or Windows shares).

``publish_dbt_docs`` copies the run's ``dbt docs generate`` output (``index.html``,
``static_index.html``, ``manifest.json``, ``catalog.json``) to ``<data>/docs/<run_id>/`` the same
way, with ``<data>/docs/LATEST``.

Licence: the package is ODbL-1.0 as soon as one source is ODbL (the URSSAF data is, and the ODbL
is share-alike), else Licence Ouverte 2.0 (``etalab-2.0``). Each source's own licence is listed
under ``sources``.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import secrets
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb

from oref import dbt
from oref.config import Settings
from oref.errors import OrefError

Progress = Callable[[str], None]

LATEST = "LATEST"
DOCS_FILES = ("index.html", "static_index.html", "manifest.json", "catalog.json")

LICENCES: dict[str, dict[str, str]] = {
    "ODbL-1.0": {
        "name": "ODbL-1.0",
        "title": "Open Data Commons Open Database License (ODbL) 1.0",
        "path": "https://opendatacommons.org/licenses/odbl/1-0/",
    },
    "etalab-2.0": {
        "name": "etalab-2.0",
        "title": "Licence Ouverte / Open Licence version 2.0 (Etalab)",
        "path": "https://www.etalab.gouv.fr/licence-ouverte-open-licence/",
    },
}


@dataclass(frozen=True)
class ExportedTable:
    """A warehouse table exported as ``<name>.csv`` and ``<name>.parquet``."""

    relation: str  # schema.table in the warehouse
    name: str  # file stem and resource name
    title: str
    primary_key: tuple[str, ...] = ()


EXPORTED_TABLES: tuple[ExportedTable, ...] = (
    ExportedTable("marts.mart_indicators", "indicateurs", "Indicateurs par territoire et période",
                  # territory codes overlap across levels (région 01 = Guadeloupe, département 01 = Ain)
                  ("indicator_code", "territory_level", "territory_code", "period")),
    # one row per indicator x territory (each indicator follows one préconisation): the dbt model's grain
    ExportedTable("marts.mart_preconisation_scorecard", "tableau_de_bord_preconisations",
                  "Tableau de bord des préconisations",
                  ("indicator_code", "territory_level", "territory_code")),
)

# What the package reads beside the exported tables: the sources and their licences, the run.
REQUIRED = ("marts.dim_source", "quality.runs")


class OpenDataError(OrefError):
    """The open-data export or the docs copy failed (the warehouse itself may already be published)."""


@dataclass
class OpenDataPackage:
    run_id: str
    path: str  # the package directory
    descriptor: str  # its datapackage.json
    licence: str
    rows: dict[str, int] = field(default_factory=dict)  # resource name -> rows
    files: dict[str, int] = field(default_factory=dict)  # file name -> bytes


@dataclass
class PostPublish:
    """What a publish leaves beside the warehouse: the open-data package and the dbt docs."""

    open_data: OpenDataPackage | None = None
    docs: str | None = None


def opendata_dir(settings: Settings) -> Path:
    return settings.data_dir / "opendata"


def docs_dir(settings: Settings) -> Path:
    return settings.data_dir / "docs"


# --- helpers -----------------------------------------------------------------------------------
_SAFE_RUN_ID = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]*$")


def _check_run_id(run_id: str) -> None:
    if not _SAFE_RUN_ID.match(run_id):
        raise OpenDataError(f"run id {run_id!r} is not usable as a directory name")


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _sql_string(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _write_text_atomic(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    tmp.write_text(text, "utf-8")
    os.replace(tmp, path)


def _install_dir(tmp: Path, final: Path) -> None:
    """Move a fully written directory into place; an older one of the same name is replaced."""
    old: Path | None = None
    if final.exists():
        old = final.with_name(f".{final.name}.{secrets.token_hex(4)}.old")
        os.replace(final, old)
    os.replace(tmp, final)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


# --- DuckDB types -> Table Schema ----------------------------------------------------------------
_INTEGER_TYPES = {"TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT", "UTINYINT", "USMALLINT", "UINTEGER",
                  "UBIGINT", "UHUGEINT"}
_NUMBER_TYPES = {"DOUBLE", "FLOAT", "REAL"}
_STRING_TYPES = {"VARCHAR", "UUID", "JSON"}
_TIMESTAMP_TYPES = {"TIMESTAMP", "TIMESTAMP_S", "TIMESTAMP_MS", "TIMESTAMP_NS", "DATETIME"}


def field_type(duckdb_type: str) -> str:
    """The Table Schema type of a DuckDB column type; ``OpenDataError`` when there is none."""
    t = duckdb_type.upper().strip()
    if t in _STRING_TYPES or t.startswith(("VARCHAR(", "ENUM(")):
        return "string"
    if t in _INTEGER_TYPES:
        return "integer"
    if t in _NUMBER_TYPES or t.startswith(("DECIMAL", "NUMERIC")):
        return "number"
    if t == "BOOLEAN":
        return "boolean"
    if t == "DATE":
        return "date"
    if t in _TIMESTAMP_TYPES or t in ("TIMESTAMP WITH TIME ZONE", "TIMESTAMPTZ"):
        return "datetime"
    if t == "TIME":
        return "time"
    if t.endswith("]"):
        return "array"
    if t.startswith(("STRUCT", "MAP")):
        return "object"
    raise OpenDataError(f"DuckDB type {duckdb_type} has no Table Schema equivalent")


def _csv_expression(column: str, duckdb_type: str) -> str:
    """The column as written to the CSV: ISO 8601 datetimes, JSON for nested values."""
    col = _ident(column)
    kind = field_type(duckdb_type)
    t = duckdb_type.upper()
    if kind == "datetime":
        utc = "timezone('UTC', {c})" if t in ("TIMESTAMP WITH TIME ZONE", "TIMESTAMPTZ") else "{c}::timestamp"
        ts = utc.format(c=col)
        suffix = " || 'Z'" if "ZONE" in t or t == "TIMESTAMPTZ" else ""
        return (f"(case when date_trunc('second', {ts}) = {ts} then strftime({ts}, '%Y-%m-%dT%H:%M:%S') "
                f"else strftime({ts}, '%Y-%m-%dT%H:%M:%S.%f') end){suffix} as {col}")
    if kind in ("array", "object"):
        return f"to_json({col})::varchar as {col}"
    return col


# --- reading the warehouse ---------------------------------------------------------------------
def _columns(con: duckdb.DuckDBPyConnection, relation: str) -> list[tuple[str, str, bool]]:
    """(name, DuckDB type, nullable) of each column, in table order."""
    schema, table = relation.split(".", 1)
    rows = con.execute(
        "select column_name, data_type, is_nullable from information_schema.columns "
        "where table_schema = ? and table_name = ? order by ordinal_position", [schema, table]).fetchall()
    return [(str(name), str(dtype), str(nullable).upper() == "YES") for name, dtype, nullable in rows]


def _manifest_docs(settings: Settings, run_id: str) -> dict[str, tuple[str, dict[str, str]]]:
    """model name -> (description, column descriptions) from the run's dbt manifest, if there is one."""
    for candidate in (dbt.target_dir(settings, run_id) / "manifest.json",
                      docs_dir(settings) / run_id / "manifest.json"):
        if candidate.is_file():
            try:
                manifest = json.loads(candidate.read_text("utf-8"))
            except (OSError, ValueError):
                continue
            out: dict[str, tuple[str, dict[str, str]]] = {}
            for node in manifest.get("nodes", {}).values():
                if node.get("resource_type") in ("model", "seed"):
                    columns = {name: (col.get("description") or "").strip()
                               for name, col in (node.get("columns") or {}).items()}
                    out[node["name"]] = ((node.get("description") or "").strip(), columns)
            return out
    return {}


def _licence_code(raw: str | None) -> str:
    """Normalise a licence label or code (``ODbL``, ``fr-lo``, ``Licence Ouverte 2.0``) to a package code."""
    text = (raw or "").lower()
    return "ODbL-1.0" if "odbl" in text or "open database" in text else "etalab-2.0"


def _sources(con: duckdb.DuckDBPyConnection) -> list[dict[str, Any]]:
    """The package's ``sources``: one per row of ``marts.dim_source``, with its licence and vintage."""
    sources: list[dict[str, Any]] = []
    rows = con.execute(
        "select source_code, title_fr, publisher, licence_code, licence_url, homepage_url, "
        "source_vintage::varchar, fetched_at::varchar from marts.dim_source order by all").fetchall()
    for code, title, publisher, licence, licence_url, homepage, vintage, fetched_at in rows:
        entry: dict[str, Any] = {"name": code, "title": title or code}
        if homepage:
            entry["path"] = homepage
        if vintage:
            entry["version"] = str(vintage)
        lic: dict[str, str] = {"name": licence or _licence_code(licence)}
        if licence_url:
            lic["path"] = licence_url
        entry["licenses"] = [lic]
        if publisher:
            entry["publisher"] = publisher
        if fetched_at:
            entry["fetched_at"] = str(fetched_at).replace(" ", "T")
        sources.append(entry)
    return sources


def _run_created(con: duckdb.DuckDBPyConnection, run_id: str) -> str:
    """When the run finished (``quality.runs``), else now: the package's ``created``."""
    row = con.execute("select max(finished_at) from quality.runs where run_id = ?", [run_id]).fetchone()
    when = row[0] if row and row[0] is not None else datetime.now(UTC).replace(tzinfo=None)
    return when.replace(microsecond=0).isoformat() + "Z"


def _latest_run(con: duckdb.DuckDBPyConnection) -> str | None:
    row = con.execute("select run_id from quality.runs order by finished_at desc nulls last limit 1").fetchone()
    return str(row[0]) if row else None


def _territory(con: duckdb.DuckDBPyConnection, settings: Settings) -> str:
    """'Martinique (972)' from the warehouse, else the configured code."""
    kind, code = settings.territory.kind, settings.territory.code
    row = con.execute("select any_value(territory_name) from marts.mart_indicators "
                      "where territory_level = ? and territory_code = ?", [kind, code]).fetchone()
    name = row[0] if row and row[0] else None
    return f"{name} ({settings.territory.label})" if name else settings.territory.label


# --- the export --------------------------------------------------------------------------------
def _export_table(con: duckdb.DuckDBPyConnection, table: ExportedTable, out: Path,
                  docs: dict[str, tuple[str, dict[str, str]]]) -> tuple[list[dict[str, Any]], int]:
    columns = _columns(con, table.relation)
    names = [c for c, _, _ in columns]
    missing = [c for c in table.primary_key if c not in names]
    if missing:
        raise OpenDataError(f"{table.relation} has no column {', '.join(missing)} (its primary key)")
    if table.primary_key:
        keys = ", ".join(_ident(c) for c in table.primary_key)
        dup = con.execute(f"select {keys}, count(*) from {table.relation} group by all having count(*) > 1 "
                          "limit 1").fetchone()
        if dup:
            raise OpenDataError(f"{table.relation}: key ({', '.join(table.primary_key)}) is not unique: {dup[:-1]}")
        order = keys
    else:
        order = "all"
    csv_select = ", ".join(_csv_expression(c, t) for c, t, _ in columns)
    csv_path, parquet_path = out / f"{table.name}.csv", out / f"{table.name}.parquet"
    con.execute(f"copy (select {csv_select} from {table.relation} order by {order}) to {_sql_string(str(csv_path))} "
                "(format csv, header true, delimiter ',', quote '\"', escape '\"', nullstr '')")
    con.execute(f"copy (select * from {table.relation} order by {order}) to {_sql_string(str(parquet_path))} "
                "(format parquet, compression zstd)")
    row = con.execute(f"select count(*) from {table.relation}").fetchone()
    rows = int(row[0]) if row else 0
    _, column_docs = docs.get(table.relation.split(".", 1)[1], ("", {}))
    fields: list[dict[str, Any]] = []
    for name, dtype, nullable in columns:
        spec: dict[str, Any] = {"name": name, "type": field_type(dtype)}
        description = column_docs.get(name)
        if description:
            spec["description"] = " ".join(description.split())
        if not nullable or name in table.primary_key:
            spec["constraints"] = {"required": True}
        fields.append(spec)
    return fields, rows


def _file_resource(path: Path, **extra: Any) -> dict[str, Any]:
    return {**extra, "path": path.name, "bytes": path.stat().st_size, "hash": f"sha256:{_sha256(path)}"}


def export_open_data(settings: Settings, run_id: str) -> OpenDataPackage:
    """Write ``<data>/opendata/<run_id>/`` from the published warehouse (see the module docstring)."""
    _check_run_id(run_id)
    warehouse = settings.warehouse_path
    if not warehouse.is_file():
        raise OpenDataError(f"no published warehouse at {warehouse}")
    root = opendata_dir(settings)
    root.mkdir(parents=True, exist_ok=True)
    tmp = root / f".tmp-{run_id}-{secrets.token_hex(4)}"
    tmp.mkdir()
    docs = _manifest_docs(settings, run_id)
    try:
        con = duckdb.connect(str(warehouse), read_only=True)
        try:
            existing = {f"{s}.{t}" for s, t in con.execute(
                "select table_schema, table_name from information_schema.tables").fetchall()}
            for relation in (*(t.relation for t in EXPORTED_TABLES), *REQUIRED):
                if relation not in existing:
                    raise OpenDataError(f"{relation} is not in the published warehouse")
            latest = _latest_run(con)
            if latest is not None and latest != run_id:
                raise OpenDataError(f"the published warehouse was built by run {latest}, not {run_id}")
            sources = _sources(con)
            created = _run_created(con, run_id)
            territory = _territory(con, settings)
            resources: list[dict[str, Any]] = []
            rows: dict[str, int] = {}
            for table in EXPORTED_TABLES:
                fields, count = _export_table(con, table, tmp, docs)
                rows[table.name] = count
                model_doc, _ = docs.get(table.relation.split(".", 1)[1], ("", {}))
                description = " ".join(model_doc.split()) or table.title
                schema: dict[str, Any] = {"fields": fields, "missingValues": [""]}
                if table.primary_key:
                    schema["primaryKey"] = list(table.primary_key)
                resources.append(_file_resource(
                    tmp / f"{table.name}.csv", name=table.name, type="table", title=table.title,
                    description=description, format="csv", mediatype="text/csv", encoding="utf-8",
                    dialect={"delimiter": ",", "header": True, "quoteChar": '"', "doubleQuote": True},
                    schema=schema))
                resources[-1]["rows"] = count
                resources.append(_file_resource(
                    tmp / f"{table.name}.parquet", name=f"{table.name}_parquet", type="file",
                    title=f"{table.title} (Parquet)",
                    description=f"Le même contenu que {table.name}.csv, au format Apache Parquet (types natifs).",
                    format="parquet", mediatype="application/vnd.apache.parquet"))
        finally:
            con.close()
        odbl = [str(s["title"]) for s in sources
                if any(_licence_code(lic.get("name")) == "ODbL-1.0" for lic in s.get("licenses", []))]
        licence = "ODbL-1.0" if odbl else "etalab-2.0"
        contents = ["la table des indicateurs (une ligne par indicateur × territoire × période)",
                    "le tableau de bord des préconisations"]
        package = {
            "name": f"oref-{settings.territory.label.replace(':', '-').lower()}-indicateurs",
            "id": f"oref-{settings.territory.label.replace(':', '-').lower()}-{run_id}",
            "title": f"Indicateurs emploi-formation du numérique — {territory}",
            "description": (
                f"Indicateurs de l'observatoire régional emploi-formation (OREF) pour {territory} et ses "
                "territoires de comparaison, publiés à chaque actualisation de l'entrepôt oref : "
                + " et ".join(contents) + ". Une valeur vide est inconnue (secret statistique, ratio sans "
                "dénominateur), jamais zéro ; suppressed_count donne le nombre de cellules sous secret. "
                + ("JEU DE DÉMONSTRATION : ces données viennent du snapshot livré avec oref, où seules certaines "
                   "sources, périodes et territoires sont réels ; la colonne data_origin dit, ligne par ligne, si "
                   "le chiffre est réel ou synthétique (data_origin_note dit ce qui est généré). Un chiffre "
                   "synthétique n'est pas un chiffre officiel. " if settings.source_mode == "snapshot" else
                   "La colonne data_origin vaut « réel » sur chaque ligne : toutes les sources sont les "
                   "fichiers publiés. ")
                + f"Exécution {run_id}. "
                + (f"Licence ODbL 1.0 : {'la source' if len(odbl) == 1 else 'les sources'} "
                   f"« {' », « '.join(odbl)} » {'est' if len(odbl) == 1 else 'sont'} sous ODbL, licence à "
                   "partage à l'identique qui s'étend aux bases qui en sont dérivées."
                   if odbl else "Licence Ouverte 2.0 (Etalab), comme toutes les sources.")
            ),
            "version": run_id,
            "created": created,
            "keywords": ["emploi", "formation", "numérique", "OREF", "indicateurs", territory],
            "licenses": [LICENCES[licence]],
            "sources": sources,
            "resources": resources,
        }
        _write_text_atomic(tmp / "datapackage.json",
                           json.dumps(package, indent=2, ensure_ascii=False, sort_keys=False) + "\n")
        files = {p.name: p.stat().st_size for p in sorted(tmp.iterdir())}
        final = root / run_id
        _install_dir(tmp, final)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    _write_text_atomic(root / LATEST, run_id + "\n")
    return OpenDataPackage(run_id, str(final), str(final / "datapackage.json"), licence, rows, files)


def publish_dbt_docs(settings: Settings, run_id: str) -> Path | None:
    """Copy the run's ``dbt docs generate`` output to ``<data>/docs/<run_id>/``; None when there is none."""
    _check_run_id(run_id)
    target = dbt.target_dir(settings, run_id)
    if not (target / "index.html").is_file() or not (target / "catalog.json").is_file():
        return None
    root = docs_dir(settings)
    root.mkdir(parents=True, exist_ok=True)
    tmp = root / f".tmp-{run_id}-{secrets.token_hex(4)}"
    tmp.mkdir()
    try:
        for name in DOCS_FILES:
            if (target / name).is_file():
                shutil.copy2(target / name, tmp / name)
        final = root / run_id
        _install_dir(tmp, final)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    _write_text_atomic(root / LATEST, run_id + "\n")
    return final


def latest(root: Path) -> str | None:
    """The run id a ``LATEST`` file names, if any."""
    path = root / LATEST
    if not path.is_file():
        return None
    return path.read_text("utf-8").strip() or None


def after_publish(settings: Settings, run_id: str, progress: Progress = print) -> PostPublish:
    """The docs copy and the open-data export of a publish that has already happened.

    Raises ``OpenDataError`` saying the warehouse *is* published when either fails.
    """
    result = PostPublish()
    try:
        docs = publish_dbt_docs(settings, run_id)
        result.docs = str(docs) if docs else None
        progress(f"[docs] {docs}" if docs else f"[docs] no dbt docs were generated for run {run_id}")
        progress("[opendata] export ...")
        result.open_data = export_open_data(settings, run_id)
        progress(f"[opendata] {result.open_data.path} ({result.open_data.licence}, "
                 + ", ".join(f"{name} {n:,} rows" for name, n in result.open_data.rows.items()) + ")")
    except Exception as exc:  # any failure here must say that the publish itself succeeded
        raise OpenDataError(
            f"the warehouse IS published ({settings.warehouse_path}), but the open-data export of run "
            f"{run_id} failed: {exc}. Fix it and re-export with `oref export`."
        ) from exc
    return result
