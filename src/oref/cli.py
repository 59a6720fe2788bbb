"""The ``oref`` command: run, fetch, build, publish, rollback, status."""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from oref.config import Settings
from oref.errors import OrefError
from oref.sources import SOURCE_NAMES


def _say(message: str) -> None:
    print(message, flush=True)


@contextlib.contextmanager
def _sources_online(settings: Settings) -> Iterator[Settings]:
    """In snapshot mode with no replay server given, serve the bundled snapshot for this command."""
    if settings.source_mode == "snapshot" and not settings.replay_url:
        from oref.replay import ReplayServer

        with ReplayServer(settings.snapshot_dir) as server:
            _say(f"replay server: {server.base_url} serving {settings.snapshot_dir}")
            yield settings.with_(replay_url=server.base_url)
    else:
        yield settings


def _print_summary(summary: object) -> None:
    from oref.pipeline import RunSummary

    assert isinstance(summary, RunSummary)
    _say("")
    _say(f"Run {summary.run_id} — territory {summary.territory}, sources: {summary.source_mode}")
    _say(f"  {'source':<10} {'status':<10} {'rows':>9}  checks ok/failed")
    for f in summary.fetches:
        _say(f"  {f.source:<10} {f.status:<10} {f.rows:>9,}  {f.checks_passed}/{f.checks_failed}")
        if f.status == "failed":
            _say(f"      ! {f.message}")
    if summary.build:
        b = summary.build
        loaded = sum(b.rows.values())
        _say(f"  loaded {loaded:,} raw rows into {len(b.rows)} tables")
        _say(f"  checks: {b.checks_passed} passed, {b.checks_failed} failed (error), {b.checks_warned} warnings")
    if summary.published:
        _say(f"  published: {summary.published.path} ({summary.published.bytes:,} bytes)")
        _say(f"  serving file: {summary.published.serving}")
        if summary.published.previous:
            _say(f"  previous kept: {summary.published.previous}")
    else:
        _say("  published: nothing (the warehouse is unchanged)")
    if summary.open_data:
        _say(f"  open data: {summary.open_data}")
    if summary.docs:
        _say(f"  dbt docs: {summary.docs}/index.html")
    if summary.status:
        _say(f"  run {summary.status}; quality report: {summary.report}; quality store: {summary.quality_store}")
    if summary.error:
        _say(f"  error: {summary.error}")


def cmd_run(settings: Settings, args: argparse.Namespace) -> int:
    from oref.pipeline import run

    as_of = _as_of(args.as_of)
    refresh = _known_sources(args.refresh)
    if as_of is not None:  # no fetch: nothing to serve
        summary = run(settings, run_id=args.run_id, progress=_say, force=args.force, as_of=as_of)
    else:
        with _sources_online(settings) as live:
            summary = run(live, run_id=args.run_id, progress=_say, force=args.force, refresh=refresh)
    _print_summary(summary)
    return _verdict(summary.status)


# exit codes of `oref run`, `oref build` and `oref quality`: 0 published (or nothing new), 2 published
# with stale sources, 1 blocked or failed (and anything unknown)
EXIT_CODES = {"published": 0, "unchanged": 0, "degraded": 2, "blocked": 1, "failed": 1}


def _verdict(status: str | None) -> int:
    _say(f"verdict: {status or 'failed (no run record)'}")
    return EXIT_CODES.get(status or "", 1)


def _as_of(text: str | None) -> datetime | None:
    """``2025-06-30`` -> the end of that day (UTC): the files landed up to and including it; a full
    ISO timestamp is taken as is (UTC when naive)."""
    from datetime import timedelta

    if not text:
        return None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise OrefError(f"--as-of {text!r}: expected a date (2025-06-30) or an ISO timestamp") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    if len(text) == 10:  # a bare date: the whole day
        moment += timedelta(days=1, microseconds=-1)
    return moment


def _known_sources(names: list[str] | None) -> tuple[str, ...]:
    unknown = [n for n in names or [] if n not in SOURCE_NAMES]
    if unknown:
        raise OrefError(f"unknown source(s): {', '.join(unknown)}; known: {', '.join(SOURCE_NAMES)}")
    return tuple(names or ())


def cmd_fetch(settings: Settings, args: argparse.Namespace) -> int:
    from oref.pipeline import fetch_all, new_run_id

    names = tuple(args.sources) or SOURCE_NAMES
    unknown = [n for n in names if n not in SOURCE_NAMES]
    if unknown:
        _say(f"unknown source(s): {', '.join(unknown)}; known: {', '.join(SOURCE_NAMES)}")
        return 2
    run_id = args.run_id or new_run_id()
    refresh = _known_sources(args.refresh)
    with _sources_online(settings) as live:
        results = fetch_all(live, run_id, _say, names, refresh=refresh)
    for r in results:
        _say(f"  {r.source:<10} {r.status:<10} {r.rows:>9,} rows  {r.message if r.status == 'failed' else ''}")
    return 0 if all(r.status != "failed" for r in results) else 1


def cmd_build(settings: Settings, args: argparse.Namespace) -> int:
    import duckdb

    from oref.pipeline import build, describe_failure, finish, new_run_id, read_steps

    run_id = args.run_id or new_run_id()
    try:
        result = build(settings, run_id, _say, as_of=_as_of(args.as_of))
    except (OrefError, OSError, duckdb.Error) as exc:
        message = describe_failure("build", exc)
        _say(f"oref build: {message}")
        try:
            record = finish(settings, run_id, _say, error=message)  # the run ends here: record why
        except (OrefError, OSError, duckdb.Error) as again:
            _say(f"oref build: the run was not recorded: {describe_failure('finish', again)}")
            return 1
        return _verdict(record.status)
    stale = read_steps(settings, run_id).get("build", {}).get("stale") or []
    _say(f"build ready: {result.path} ({result.checks_passed} checks passed); publish with `oref publish`")
    if stale:
        _say(f"  stale source(s), their last good files used: {', '.join(stale)}")
    return _verdict("degraded" if stale else "published")


def cmd_quality(settings: Settings, args: argparse.Namespace) -> int:
    """Print a run's verdict (default: the latest run); exit with the run's code."""
    from oref.quality.report import render_verdict

    _say(render_verdict(settings, args.run_id))
    return EXIT_CODES.get(_run_status(settings, args.run_id) or "", 1)


def _run_status(settings: Settings, run_id: str | None) -> str | None:
    """The status the quality store records for ``run_id`` (default: the latest run)."""
    import duckdb

    from oref.quality.store import readable, schema_of

    store = settings.quality_path
    if not store.is_file() or readable(store) is not None:
        return None
    con = duckdb.connect(str(store), read_only=True)
    try:
        query = f"select status from {schema_of(con)}.runs"
        row = (con.execute(query + " where run_id = ?", [run_id]) if run_id
               else con.execute(query + " order by finished_at desc, started_at desc limit 1")).fetchone()
    finally:
        con.close()
    return str(row[0]) if row else None


def cmd_publish(settings: Settings, args: argparse.Namespace) -> int:
    """Publish a build, then export it: the same two steps as `oref run` and the DAG."""
    from oref.pipeline import export, finish, publish, run_id_of

    build_path = Path(args.build) if args.build else _latest_build(settings)
    if build_path is None:
        _say(f"no build in {settings.build_dir}: run `oref build` first")
        return 1
    run_id = run_id_of(build_path)
    try:
        result = publish(settings, build_path, _say)
        _say(f"published {build_path.name} -> {result.path}")
        if run_id is None:
            _say("the build records no run (quality.runs): nothing to export")
            return 1
        export(settings, run_id, _say)
    finally:
        record = finish(settings, run_id, _say) if run_id is not None else None
    return _verdict(record.status if record else None)


def cmd_export(settings: Settings, args: argparse.Namespace) -> int:
    from oref.pipeline import export, published_run

    if not settings.warehouse_path.exists():
        _say(f"no published warehouse at {settings.warehouse_path}: run `oref run` first")
        return 1
    run_id = args.run_id or published_run(settings)
    if run_id is None:
        _say("the published warehouse records no run (quality.runs): nothing to export")
        return 1
    export(settings, run_id, _say)
    return 0


def cmd_rollback(settings: Settings, args: argparse.Namespace) -> int:
    from oref.publish import rollback

    result = rollback(settings)
    _say(f"rolled back: {result.path} is the previous warehouse again; {result.serving} rewritten from it")
    return 0


def cmd_superset_import(settings: Settings, args: argparse.Namespace) -> int:
    import os

    from oref.superset_assets import import_dashboards

    import_dashboards(settings, _say)
    user = os.environ.get("SUPERSET_ADMIN_USER") or "admin"
    where = ("$SUPERSET_ADMIN_PASSWORD" if os.environ.get("SUPERSET_ADMIN_PASSWORD")
             else str(settings.data_dir / "secrets" / "superset_admin_password"))
    _say(f"[superset] dashboards imported; user {user!r}, password in {where}")
    return 0


def _superset_env(settings: Settings) -> dict[str, str]:
    """The environment of the Superset commands: the caller's, the data dir and the secret key."""
    from oref.superset_assets import data_dir_environment

    return data_dir_environment(settings.data_dir)


def cmd_superset_user(settings: Settings, args: argparse.Namespace) -> int:
    from oref.superset_assets import USER_PASSWORD_ENV, add_user

    secret = add_user(args.name, args.role, settings.data_dir / "superset", settings.data_dir, _superset_env(settings))
    _say(f"[superset] user {args.name!r}, role {args.role}; password in {secret or '$' + USER_PASSWORD_ENV}")
    return 0


def cmd_superset_serve(settings: Settings, args: argparse.Namespace) -> int:
    """Become gunicorn serving Superset (exec: Ctrl-C and signals reach gunicorn directly)."""
    import os

    from oref.superset_assets import gunicorn_command, superset_environment

    home = settings.data_dir / "superset"
    command = gunicorn_command(args.host, args.port, workers=args.workers, threads=args.threads,
                               pidfile=Path(args.pidfile) if args.pidfile else None)
    _say(f"[superset] serving http://{args.host}:{args.port} with gunicorn ({args.workers} workers)")
    os.execve(command[0], command, superset_environment(home, _superset_env(settings)))


def _latest_build(settings: Settings) -> Path | None:
    builds = sorted(settings.build_dir.glob("*/oref.duckdb"), key=lambda p: p.stat().st_mtime)
    return builds[-1] if builds else None


def cmd_status(settings: Settings, args: argparse.Namespace) -> int:
    import duckdb

    from oref.landing import LandingZone

    status: dict[str, object] = {"territory": settings.territory.label, "data_dir": str(settings.data_dir)}
    wh = settings.warehouse_path
    if wh.exists():
        con = duckdb.connect(str(wh), read_only=True)
        try:
            last = con.execute("select run_id, finished_at, territory, source_mode, checks_passed, checks_failed "
                               "from quality.runs order by finished_at desc limit 1").fetchone()
            indicators = con.execute("select count(distinct indicator_code), count(*) from marts.mart_indicators"
                                     ).fetchone()
        finally:
            con.close()
        status["warehouse"] = {
            "path": str(wh), "bytes": wh.stat().st_size,
            "published_at": datetime.fromtimestamp(wh.stat().st_mtime, UTC).isoformat(timespec="seconds"),
            "last_run": dict(zip(["run_id", "finished_at", "territory", "source_mode", "checks_passed",
                                  "checks_failed"], [str(v) for v in last], strict=True)) if last else None,
            "indicators": indicators[0] if indicators else 0, "indicator_rows": indicators[1] if indicators else 0,
        }
    else:
        status["warehouse"] = None
    from oref.opendata import docs_dir, latest, opendata_dir

    for key, root in (("open_data", opendata_dir(settings)), ("docs", docs_dir(settings))):
        run = latest(root)
        status[key] = str(root / run) if run else None
    landing = LandingZone(settings)
    status["sources"] = {
        name: [{"file": f.name, "vintage": f.vintage, "data_vintage": f.data_vintage, "rows": f.manifest.get("rows"),
                "fetched_at": f.manifest.get("fetched_at")} for f in landing.latest_by_name(name).values()]
        for name in SOURCE_NAMES
    }
    if args.json:
        _say(json.dumps(status, indent=2, ensure_ascii=False, default=str))
        return 0
    w = status["warehouse"]
    if isinstance(w, dict):
        _say(f"warehouse: {w['path']} ({w['bytes']:,} bytes, published {w['published_at']})")
        _say(f"  {w['indicators']} indicators, {w['indicator_rows']} rows; last run: {w['last_run']}")
    else:
        _say(f"warehouse: not published yet ({wh})")
    _say(f"open data: {status['open_data'] or 'none exported yet'}")
    _say(f"dbt docs:  {status['docs'] or 'none published yet'}")
    for name, files in status["sources"].items():  # type: ignore[union-attr,attr-defined]
        if not files:
            _say(f"  {name:<8} nothing landed")
        for f in files:
            _say(f"  {name:<8} {f['file']:<28} data {f['data_vintage']:<6} landed {f['vintage']}  {f['rows']} rows")
    return 0


def _recorded_state(record: Path, source: str) -> str | None:
    """A source's state in a run's ``quality.json`` (stale, failed...), when the run recorded one."""
    try:
        states = json.loads(record.read_text("utf-8")).get("source_status") or []
    except (OSError, ValueError):
        return None
    return next((str(s["status"]) for s in states if s.get("source") == source), None)


def cmd_sources(settings: Settings, args: argparse.Namespace) -> int:
    """Every source with its mode, last vintage, last fetch, rows and last status."""
    from oref.landing import LandingZone
    from oref.sources import get_source

    # every fetch records its step, whether `oref run` or an Airflow task ran it
    last_status: dict[str, tuple[str, str, str]] = {}
    steps = sorted(settings.runs_dir.glob("*/steps/fetch_*.json"), key=lambda p: p.stat().st_mtime)
    for path in steps:  # oldest first: later runs overwrite
        step = json.loads(path.read_text("utf-8"))
        fetch = step["result"]
        status = fetch["status"]
        if status == "failed":  # the run's record says whether its last good files stood in (stale)
            status = _recorded_state(path.parent.parent / "quality.json", fetch["source"]) or status
        last_status[fetch["source"]] = (status, fetch.get("message", ""), step.get("source_mode", ""))
    landing = LandingZone(settings)
    rows_out: list[dict[str, Any]] = []
    for name in SOURCE_NAMES:
        source = get_source(name)
        files = list(landing.latest_by_name(name).values())
        latest = max(files, key=lambda f: f.manifest["fetched_at"]) if files else None
        status, message, mode = last_status.get(name, ("never run", "", "-"))
        rows_out.append({
            "source": name, "title": source.title, "licence": source.licence, "cadence": source.cadence,
            "mode": mode,
            "data_vintage": latest.data_vintage if latest else None,
            "last_fetch": latest.manifest["fetched_at"] if latest else None,
            "rows": sum(int(f.manifest.get("rows") or 0) for f in files),
            "files": len(files), "status": status,
            "message": message if status in ("failed", "stale", "skipped") else "",
        })
    if args.json:
        _say(json.dumps(rows_out, indent=2, ensure_ascii=False))
        return 0
    _say(f"{'source':<9} {'mode':<9} {'vintage':<12} {'last fetch':<26} {'rows':>8}  status")
    for r in rows_out:
        _say(f"{r['source']:<9} {r['mode']:<9} {r['data_vintage'] or '-':<12} {r['last_fetch'] or '-':<26} "
             f"{r['rows']:>8,}  {r['status']}{' — ' + r['message'] if r['message'] else ''}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="oref", description="Indicator warehouse for OREF observatories.")
    parser.add_argument("-v", "--verbose", action="store_true", help="log HTTP retries and details")
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("run", help="fetch every source, build, audit and publish")
    p.add_argument("--run-id")
    p.add_argument("--force", action="store_true", help="rebuild even when nothing changed since the published run")
    p.add_argument("--as-of", metavar="DATE", help="no fetch: rebuild and publish from the files landed up to "
                                                   "DATE (2025-06-30: that whole day, UTC)")
    p.add_argument("--refresh", metavar="SOURCE", action="append",
                   help="fetch a new monthly API extract of SOURCE (offers, sirene) even if this month's "
                        "has landed; repeatable")
    p.set_defaults(func=cmd_run)
    p = sub.add_parser("fetch", help="fetch sources into the landing zone")
    p.add_argument("sources", nargs="*", help=f"among {', '.join(SOURCE_NAMES)} (default: all)")
    p.add_argument("--run-id")
    p.add_argument("--refresh", metavar="SOURCE", action="append",
                   help="fetch a new monthly API extract of SOURCE even if this month's has landed; repeatable")
    p.set_defaults(func=cmd_fetch)
    p = sub.add_parser("build", help="load the latest landed files into a new build file and audit it")
    p.add_argument("--run-id")
    p.add_argument("--as-of", metavar="DATE", help="build from the files landed up to DATE (2025-06-30: that "
                                                   "whole day, UTC)")
    p.set_defaults(func=cmd_build)
    p = sub.add_parser("publish", help="atomically publish a build (default: the latest)")
    p.add_argument("build", nargs="?")
    p.set_defaults(func=cmd_publish)
    p = sub.add_parser("export", help="(re)write the open-data package and the dbt docs of the published warehouse")
    p.add_argument("run_id", nargs="?", help="default: the run that built the published warehouse")
    p.set_defaults(func=cmd_export)
    p = sub.add_parser("rollback", help="restore the previously published warehouse")
    p.set_defaults(func=cmd_rollback)
    p = sub.add_parser("superset-import", help="(re)import the Superset dashboards on the published warehouse")
    p.set_defaults(func=cmd_superset_import)
    p = sub.add_parser("superset-user", help="give a colleague a Superset account")
    p = p.add_subparsers(dest="action", required=True).add_parser("add", help="create or update a user")
    p.add_argument("name", help="user name: lowercase letters, digits, . _ -")
    p.add_argument("--role", required=True, choices=["lecteur", "analyste", "steward"])
    p.set_defaults(func=cmd_superset_user)
    p = sub.add_parser("superset-serve", help="serve Superset with gunicorn (make up does; Ctrl-C stops it)")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8088)
    p.add_argument("--workers", type=int, default=2, help="worker processes (default 2)")
    p.add_argument("--threads", type=int, default=8, help="threads per worker (default 8)")
    p.add_argument("--pidfile", help="where gunicorn writes its master's pid")
    p.set_defaults(func=cmd_superset_serve)
    p = sub.add_parser("sources", help="every source: mode, last vintage, last fetch, rows, status")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_sources)
    p = sub.add_parser("quality", help="a run's verdict: published, degraded or blocked, and why "
                                       "(exit 0, 2 or 1)")
    p.add_argument("run_id", nargs="?", help="default: the latest run")
    p.set_defaults(func=cmd_quality)
    p = sub.add_parser("status", help="what is published and what has landed")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_status)
    return parser


# the commands that write into the data directory, and so take its run lock
WRITING_COMMANDS = frozenset({"run", "fetch", "build", "publish", "export", "rollback"})


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING,
                        format="%(levelname)s %(name)s: %(message)s")
    try:
        settings = Settings.from_env()
        if args.command not in WRITING_COMMANDS:
            return int(args.func(settings, args))
        from oref.lock import run_lock

        # one writer per data directory: a second command exits at once naming the holder (oref.lock)
        with run_lock(settings, args.command, run_id=getattr(args, "run_id", None), progress=_say):
            return int(args.func(settings, args))
    except (OrefError, RuntimeError, FileNotFoundError) as exc:
        _say(f"oref {args.command}: {exc}")
        return 1
    except OSError as exc:  # a full disk, a permission: the step and the path, never a traceback
        from oref.pipeline import describe_failure

        _say(f"oref {describe_failure(args.command, exc)}")
        return 1
    except Exception as exc:
        import duckdb

        if not isinstance(exc, duckdb.Error):
            raise
        _say(f"oref {args.command}: {type(exc).__name__}: {exc}")
        return 1


if __name__ == "__main__":
    sys.exit(main())
