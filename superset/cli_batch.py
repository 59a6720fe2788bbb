"""Run several ``superset`` CLI commands in one interpreter, in the Superset virtualenv.

Usage: ``superset/.venv/bin/python superset/cli_batch.py < commands.json`` where the JSON is a
list of argument lists, e.g. ``[["db", "upgrade"], ["init"]]``.

Each ``superset`` invocation spends 10 to 20 seconds importing Superset and building its app
before doing a second of work. This runs the very same click commands through Flask's CLI test
runner, sharing one app, and stops at the first command that fails (exit code 1 and its
traceback). Options can come from click's automatic environment variables (``FLASK_`` + the
command path + the option name), which keeps secrets such as passwords out of argv.

Three commands are added to Superset's: ``oref-import-assets`` (see :func:`import_assets`),
``oref-sync-roles`` and ``oref-set-user`` (see ``oref_roles.py`` beside this file).
"""

from __future__ import annotations

import json
import sys
import traceback
import zipfile

import click
import yaml
from flask.cli import with_appcontext


@click.command("oref-import-assets")
@click.option("--path", "-p", required=True, help="Export bundle (ZIP) to import")
@click.option("--username", "-u", required=True, help="User who will own the imported objects")
@with_appcontext
def import_assets(path: str, username: str) -> None:
    """Import an export bundle, overwriting every database, dataset, chart and dashboard in it.

    ``superset import-dashboards`` overwrites the dashboards only: charts, datasets and
    databases that already exist (same UUID) are kept as they are, so a changed chart or a
    moved warehouse would never reach an existing instance. Superset's asset importer (the
    one behind ``POST /api/v1/assets/import/``) overwrites them all; it only wants the bundle
    to declare itself as ``assets`` instead of ``Dashboard``.
    """
    from superset.commands.importers.v1.assets import ImportAssetsCommand
    from superset.commands.importers.v1.utils import METADATA_FILE_NAME, get_contents_from_bundle
    from superset.utils.core import override_user

    from superset import security_manager

    user = security_manager.find_user(username=username)
    if user is None:
        raise click.ClickException(f"unknown user {username!r}")
    with zipfile.ZipFile(path) as bundle:
        contents = get_contents_from_bundle(bundle)
    metadata = yaml.safe_load(contents[METADATA_FILE_NAME])
    metadata["type"] = "assets"
    contents[METADATA_FILE_NAME] = yaml.safe_dump(metadata)
    with override_user(user):
        ImportAssetsCommand(contents).run()
    click.echo(f"imported {len(contents) - 1} asset files from {path}")


@click.command("oref-sync-roles")
@with_appcontext
def sync_roles() -> None:
    """Create or update the roles Lecteur, Analyste and Steward from the imported datasets."""
    import oref_roles

    counts = oref_roles.sync_roles()
    click.echo("roles: " + ", ".join(f"{name} ({count} permissions)" for name, count in counts.items()))


@click.command("oref-set-user")
@click.option("--username", "-u", required=True)
@click.option("--role", "-r", required=True, type=click.Choice(["Lecteur", "Analyste", "Steward"]))
# From the environment only: argv is readable by any local user in /proc.
@click.option("--password", envvar="OREF_SET_USER_PASSWORD", required=True, hidden=True)
@with_appcontext
def set_user(username: str, role: str, password: str) -> None:
    """Create a user with one oref role, or give an existing user that role and password."""
    import oref_roles

    outcome = oref_roles.set_user(username, role, password)
    click.echo(f"user {username} {outcome} with role {role}")


def main() -> int:
    commands = json.load(sys.stdin)
    if not isinstance(commands, list) or not all(
        isinstance(argv, list) and argv and all(isinstance(arg, str) for arg in argv) for argv in commands
    ):
        print("expected a JSON list of non-empty argument lists on stdin", file=sys.stderr)
        return 2

    # Imported here: Superset reads its configuration (and checks the secret key) on import.
    from superset.app import create_app
    from superset.cli.main import superset

    for command in (import_assets, sync_roles, set_user):
        superset.add_command(command)
    app = create_app()
    runner = app.test_cli_runner()
    for argv in commands:
        name = " ".join(arg for arg in argv[:2] if not arg.startswith("-"))
        print(f"$ superset {name}", flush=True)
        result = runner.invoke(superset, argv)
        sys.stdout.write(result.output)
        if result.exit_code != 0:
            if result.exc_info is not None and not isinstance(result.exception, SystemExit):
                traceback.print_exception(*result.exc_info)
            print(f"superset {name}: exit code {result.exit_code}", file=sys.stderr)
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
