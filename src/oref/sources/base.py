"""What every source shares: the fetch context, results, file sniffing and the landing protocol."""

from __future__ import annotations

import codecs
import json
import logging
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, Literal

from oref.config import Settings
from oref.errors import HttpError, SourceError
from oref.http import Download, HttpClient
from oref.landing import LandedFile, LandingZone, is_older_vintage
from oref.quality.checks import CheckResult
from oref.reference import SourceMetadata, source_metadata

if TYPE_CHECKING:
    import duckdb
    import pandas as pd

log = logging.getLogger(__name__)

FileKind = Literal["csv", "xlsx", "zip", "json"]
FetchStatus = Literal["landed", "unchanged", "failed", "skipped"]


@dataclass
class FetchResult:
    """What happened to one source in one run (JSON-serialisable for Airflow's XCom)."""

    source: str
    status: FetchStatus
    files: list[str] = field(default_factory=list)
    rows: int = 0
    message: str = ""
    checks_passed: int = 0
    checks_failed: int = 0


@dataclass
class FetchContext:
    settings: Settings
    http: HttpClient
    landing: LandingZone
    run_id: str
    checks: list[CheckResult] = field(default_factory=list)
    # False: the monthly API extracts (offers, sirene) reuse this month's landed extract instead of
    # re-paging the API; True (``--refresh SOURCE``): ask the API for a new one
    refresh: bool = False

    def record_landing_problems(self) -> None:
        """Move the landing zone's warnings (unreadable manifests, files without one) to the checks."""
        self.checks.extend(self.landing.drain_problems())


@dataclass
class Validated:
    """What a source's validator learnt about a downloaded file before it may land."""

    rows: int
    data_vintage: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass
class FileOutcome:
    status: Literal["landed", "unchanged"]
    landed: LandedFile


class Source:
    """A source module subclasses this: where to fetch, how to page, what the file means.

    ``name`` is the source key: it names the raw tables (``raw.<name>_*``), the dbt source, the
    staging models (``stg_<name>__*``), the GX suites (``expectations/<name>_*.json``) and the
    snapshot generator (``scripts/snapshot/<name>.py``). Title, licence and cadence are read from
    the seed ``sources.csv`` (``oref.reference``), the one place they are written.
    """

    name: ClassVar[str]
    # requests per second per host, for politeness
    rate_limits: ClassVar[dict[str, float]] = {}
    # what a failed fetch (download or validation) does to the run. "use_last_good": the build reads
    # the source's last landed good files and the run publishes as "degraded", naming the source, its
    # vintage and age; "block": nothing is published, as when the source has never landed anything.
    # Every source keeps the default: each one's landed files stay valid for a month or more, and one
    # publisher being down should not hold back the others' new data.
    on_failure: ClassVar[Literal["block", "use_last_good"]] = "use_last_good"
    # what a build reads of the landed files: "latest", the newest data vintage of each logical name
    # (a file that is itself a series: BMO years, one file each; URSSAF years and ARCEP quarters, as
    # columns); "monthly", one extract per month, for a file that is a picture of the day (Mon Compte
    # Formation's catalogue, Sirene, job offers); "yearly", one file per data vintage, for a yearly
    # file served at one URL (DARES's tensions). See ``LandingZone.series``.
    series: ClassVar[Literal["latest", "monthly", "yearly"]] = "latest"

    def landed_files(self, landing: LandingZone, name: str) -> list[LandedFile]:
        """What a build loads of the logical file ``name``, oldest period first: its newest vintage
        alone, or one file per period for a source read as a series (``series``)."""
        if self.series == "latest":
            latest = landing.latest(self.name, name)
            return [latest] if latest is not None else []
        return landing.series(self.name, name, self.series)

    @property
    def metadata(self) -> SourceMetadata:
        return source_metadata(self.name)

    @property
    def title(self) -> str:
        return self.metadata.title

    @property
    def licence(self) -> str:
        return self.metadata.licence_label

    @property
    def cadence(self) -> str:
        return self.metadata.cadence

    def fetch(self, ctx: FetchContext) -> FetchResult:
        raise NotImplementedError

    def load(self, con: duckdb.DuckDBPyConnection, settings: Settings, landing: LandingZone,
             run_id: str) -> dict[str, int]:
        """Load the latest landed files into ``raw.*`` tables; return rows per table."""
        raise NotImplementedError


def sniff(path: Path, kind: FileKind, *, source: str, url: str) -> None:
    """Refuse what is obviously not the expected file: HTML error pages, empty or truncated files."""
    size = path.stat().st_size
    if size == 0:
        raise SourceError(source, f"empty {kind} file", url=url)
    head = path.open("rb").read(1024)
    lowered = head.lstrip().lower()
    if lowered.startswith((b"<!doctype html", b"<html", b"<head", b"<body")) or b"<html" in lowered[:512]:
        title = ""
        text = head.decode("utf-8", "replace")
        if "<title>" in text.lower():
            start = text.lower().index("<title>") + 7
            title = text[start: text.lower().find("</title>", start)].strip()
        raise SourceError(
            source,
            f"expected a {kind} file but the server sent an HTML page"
            + (f" titled {title!r}" if title else ""),
            url=url,
        )
    if kind in ("xlsx", "zip"):
        if not head.startswith(b"PK\x03\x04"):
            raise SourceError(source, f"expected a {kind} file (a zip container) but got {head[:16]!r}", url=url)
        try:
            with zipfile.ZipFile(path) as archive:
                broken = archive.testzip()
        except zipfile.BadZipFile as exc:
            raise SourceError(source, f"corrupt or truncated {kind} file: {exc}", url=url) from exc
        if broken is not None:
            raise SourceError(source, f"corrupt member {broken!r} in {kind} file", url=url)
    elif kind == "json":
        try:
            json.loads(path.read_bytes())
        except ValueError as exc:
            raise SourceError(source, f"invalid JSON: {exc}", url=url) from exc
    elif kind == "csv":
        # the whole file, in chunks: a publisher switching to Latin-1 often shows it only at the first accent
        decoder = codecs.getincrementaldecoder("utf-8")()
        offset = 0
        with path.open("rb") as stream:
            while chunk := stream.read(1 << 20):
                try:
                    decoder.decode(chunk)
                except UnicodeDecodeError as exc:
                    at = offset + exc.start
                    raise SourceError(source, f"CSV is not UTF-8 (byte {at}: {chunk[exc.start:exc.start + 4]!r}; "
                                      "a change of encoding?)", url=url) from exc
                offset += len(chunk)


def fetch_file(
    ctx: FetchContext,
    *,
    source: str,
    name: str,
    url: str,
    kind: FileKind,
    validate: Callable[[Path], Validated],
    params: dict[str, str] | None = None,
) -> FileOutcome:
    """Download one file, skip it when unchanged, validate it, then land it (or quarantine it).

    Raises ``SourceError`` naming the source, URL and problem; a rejected download is moved to the
    quarantine folder, never to the landing zone.
    """
    landed_before = ctx.landing.files(source, name)
    latest = ctx.landing.latest(source, name)
    ctx.record_landing_problems()
    same_url = latest is not None and latest.manifest.get("request") == _request_key(url, params)
    try:
        download = ctx.http.download(
            url,
            params=params,
            etag=latest.manifest.get("etag") if latest and same_url else None,
            last_modified=latest.manifest.get("last_modified") if latest and same_url else None,
            dest_dir=ctx.landing.root / ".incoming",
        )
    except HttpError as exc:
        raise SourceError(source, str(exc), url=url) from exc
    if download.not_modified and latest is not None:
        log.info("%s: %s not modified (HTTP 304)", source, name)
        return FileOutcome("unchanged", latest)
    if latest is not None and download.sha256 == latest.sha256:
        assert download.path is not None
        download.path.unlink(missing_ok=True)
        log.info("%s: %s unchanged (same sha256)", source, name)
        return FileOutcome("unchanged", latest)
    known = next((f for f in landed_before if f.sha256 == download.sha256), None)
    if known is not None and latest is not None:
        # a file landed before and set aside (an older vintage) is served again: not landed twice
        assert download.path is not None
        download.path.unlink(missing_ok=True)
        if is_older_vintage(known.data_vintage, latest.data_vintage):
            ctx.checks.append(older_vintage_check(source, name, url, known, latest))
        return FileOutcome("unchanged", latest)
    try:
        sniff(_require_path(download), kind, source=source, url=url)
        try:
            validated = validate(_require_path(download))
        except SourceError:
            raise
        except Exception as exc:  # a parser crash on odd input is still this file's fault
            raise SourceError(source, f"cannot parse {kind} file: {type(exc).__name__}: {exc}", url=url,
                              file=name) from exc
    except SourceError as exc:
        where = ctx.landing.quarantine(source, name, download, str(exc), ctx.run_id)
        exc.args = (f"{exc.args[0]} | quarantined: {where}" if where else exc.args[0],)
        raise
    landed = ctx.landing.land(
        source, name, download, rows=validated.rows, data_vintage=validated.data_vintage, run_id=ctx.run_id,
        extra={"request": _request_key(url, params), **validated.extra},
    )
    if latest is not None and is_older_vintage(validated.data_vintage, latest.data_vintage):
        # kept (the landing zone keeps everything) but not used: the build reads the newest data vintage
        ctx.checks.append(older_vintage_check(source, name, url, landed, latest))
        log.warning("%s: %s", source, ctx.checks[-1].message)
        return FileOutcome("unchanged", latest)
    return FileOutcome("landed", landed)


OLDER_VINTAGE_CHECK = "older_vintage_not_used"


def older_vintage_check(source: str, name: str, url: str, older: LandedFile, current: LandedFile) -> CheckResult:
    """The ``warn`` of a publisher serving an older data vintage than one already landed."""
    return CheckResult(
        source, OLDER_VINTAGE_CHECK, "oref", "warn", "fail",
        f"source {source!r}: {url} serves data vintage {older.data_vintage} of {name}, older than the "
        f"vintage {current.data_vintage} already landed ({current.path.name}, landed {current.vintage}): "
        f"kept in the landing zone as {older.path}, not used",
        observed=older.data_vintage, target=name)


EXTRA_COLUMNS_CHECK = "no_unexpected_columns"


def extra_columns_check(source: str, file: str, new: list[str]) -> CheckResult:
    """A column the source does not declare: a ``warn`` (ignored by the load), never a blocking error."""
    return CheckResult(source, EXTRA_COLUMNS_CHECK, "oref", "warn", "fail" if new else "pass",
                       f"source {source!r}: new column(s) {new} in {file}, not declared: ignored" if new else "",
                       observed=", ".join(new), target=file)


def reuse_monthly_extract(ctx: FetchContext, source: str, name: str) -> FetchResult | None:
    """This month's landed extract of an API source (offers, sirene), unless ``ctx.refresh`` asks for a new one.

    The API extracts are monthly periods: a rerun in a month that already has its extract reuses it
    (status ``unchanged``, no request made) instead of re-paging the API.
    """
    if ctx.refresh:
        return None
    landed = ctx.landing.latest(source, name)
    ctx.record_landing_problems()
    if landed is None:
        return None
    from datetime import UTC, datetime

    period = datetime.now(UTC).strftime("%Y-%m")
    if landed.fetched_at.astimezone(UTC).strftime("%Y-%m") != period:
        return None
    message = (f"the extract of {period} ({name}, landed {landed.vintage}) was reused; "
               f"`oref fetch --refresh {source}` asks the API for a new one")
    log.info("%s: %s", source, message)
    return FetchResult(source, "unchanged", [str(landed.path)], int(landed.manifest.get("rows") or 0), message)


def _require_path(download: Download) -> Path:
    assert download.path is not None
    return download.path


def _request_key(url: str, params: dict[str, str] | None) -> str:
    if not params:
        return url
    return url + "?" + "&".join(f"{k}={v}" for k, v in sorted(params.items()))


def provenance_columns(landed: LandedFile, run_id: str) -> dict[str, Any]:
    """The provenance every raw row carries."""
    return {
        "_source": landed.source,
        "_source_url": landed.manifest.get("url"),
        "_file_sha256": landed.sha256,
        "_vintage": landed.data_vintage,
        "_fetched_at": landed.manifest["fetched_at"],
        "_run_id": run_id,
    }


PROVENANCE_DDL = (
    "_source varchar, _source_url varchar, _file_sha256 varchar, _vintage varchar, "
    "_fetched_at timestamp, _run_id varchar"
)


def gx_gate(ctx: FetchContext, suite: str, frame: pd.DataFrame, *, source: str, target: str,
            extra: list[CheckResult] | None = None) -> list[CheckResult]:
    """Run the GX landing suite ``expectations/<suite>.json`` on ``frame`` before a file may land.

    Every result is recorded for the quality report; an error-level failure raises ``SourceError``
    naming the failed expectations with their column and sample values.
    """
    from oref.quality.gx_runner import run_suite

    checks = run_suite(ctx.settings.expectations_dir / f"{suite}.json", frame, source=source, target=target)
    checks.extend(extra or [])
    ctx.checks.extend(checks)
    failed = [c for c in checks if c.blocking]
    if failed:
        details = "; ".join(f"{c.check_name}: {c.message}" for c in failed)
        raise SourceError(source, f"landing suite {suite} failed ({details})", file=target)
    return checks


def table_rows(con: duckdb.DuckDBPyConnection, table: str) -> int:
    """Row count of a table the loader just created (tables are ours, never user input)."""
    row = con.execute(f"select count(*) from {table}").fetchone()
    return int(row[0]) if row else 0


def ods_export_params(settings: Settings) -> dict[str, str]:
    """Query of an Opendatasoft ``exports/csv`` call: the scope filter and the ``;`` delimiter.

    The scope is the territory's départements and the comparison ones (``code_departement in (...)``).
    ``/exports`` has no paging limit, unlike ``/records`` (offset + limit <= 10,000).
    """
    return {"where": settings.scope_ods_where(), "delimiter": ";"}


def sql_literal(value: object) -> str:
    """A SQL string literal (DuckDB cannot take parameters in DDL such as CREATE VIEW ... read_csv(?))."""
    return "'" + str(value).replace("'", "''") + "'"


def provenance_select(landed: LandedFile, run_id: str) -> str:
    """SQL select-list fragment with the provenance literals (values are ours, not user input)."""
    p = provenance_columns(landed, run_id)

    def lit(value: Any) -> str:
        return "null" if value is None else "'" + str(value).replace("'", "''") + "'"

    return (
        f"{lit(p['_source'])} as _source, {lit(p['_source_url'])} as _source_url, "
        f"{lit(p['_file_sha256'])} as _file_sha256, {lit(p['_vintage'])} as _vintage, "
        f"cast({lit(p['_fetched_at'])} as timestamptz) as _fetched_at, {lit(p['_run_id'])} as _run_id"
    )
