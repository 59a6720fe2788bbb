"""``python -m oref.dashboards generate|check|record``: the dashboards-as-code commands.

- ``generate`` writes ``superset/assets/{datasets,charts,dashboards}`` from the catalogue.
- ``check`` exits 1 when the written files differ from the catalogue or a chart's recorded query
  context is missing or stale (run by the tests).
- ``record`` imports the bundle into a running Superset and records, chart by chart, the query
  its front end sends (``superset/query_contexts.json``); see ``oref.dashboards.record``.
"""

from __future__ import annotations

import argparse
import sys

from oref.dashboards import render


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m oref.dashboards")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("generate", help="write the YAML bundle from the catalogue")
    sub.add_parser("check", help="fail if the bundle is not what the catalogue generates")
    record = sub.add_parser("record", help="record the charts' query contexts from a running Superset")
    record.add_argument("--url", required=True, help="Superset base URL, e.g. http://127.0.0.1:8088")
    record.add_argument("--user", required=True)
    record.add_argument("--password-file", required=True)
    record.add_argument("--missing", action="store_true", help="only the charts without an up-to-date recording")
    args = parser.parse_args(argv)
    if args.command == "generate":
        written = render.write()
        print(f"{len(written)} files in {render.ASSETS_DIR}")
        missing = render.missing_recordings()
        if missing:
            print(f"{len(missing)} chart(s) need their query context recorded: {', '.join(missing)}")
        return 0
    if args.command == "check":
        problems = render.check()
        for problem in problems:
            print(problem)
        return 1 if problems else 0
    from oref.dashboards.record import record_all

    only = tuple(render.missing_recordings()) if args.missing else ()
    if args.missing and not only:
        print("every chart has an up-to-date recording")
        return 0
    code = record_all(args.url, args.user, args.password_file, only=only)
    render.write()
    return code


if __name__ == "__main__":
    sys.exit(main())
