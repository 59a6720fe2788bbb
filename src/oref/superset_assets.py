"""Superset assets: build the import bundle, bootstrap an instance, add users, serve it.

Superset (apache-superset 6.1) lives in its own virtualenv, ``superset/.venv`` (created by
``cd superset && uv sync``), because its pins clash with Airflow's. This module never imports
Superset: it drives that virtualenv through subprocesses (``superset/cli_batch.py``, gunicorn).

The import bundle is built from ``superset/assets/``, an unzipped Superset export (databases,
datasets, charts, dashboards as YAML). Two DuckDB databases are declared there: ``oref`` points
at the placeholder ``__OREF_WAREHOUSE__`` (replaced by the served marts, ``serving.duckdb``) and
``oref_qualite`` at ``__OREF_QUALITY__`` (the quality record, ``quality.duckdb``).

Environment read by :func:`bootstrap` (no credential has a default value):

- ``SUPERSET_SECRET_KEY``: Superset's secret key (checked by ``superset/superset_config.py``).
- ``SUPERSET_ADMIN_USER`` / ``SUPERSET_ADMIN_PASSWORD``: the admin account to create.
- ``SUPERSET_ADMIN_EMAIL`` (optional): its e-mail, ``<user>@localhost.invalid`` by default.
- ``SUPERSET_DATABASE_URI``, ``SUPERSET_REDIS_URL`` (optional): see superset_config.py.

:func:`gunicorn_command` is how Superset is served (``make up``, ``oref superset-serve``, the
tests); :func:`add_user` gives a colleague an account with one of the roles of
``superset/oref_roles.py``.
"""

from __future__ import annotations

import io
import json
import os
import re
import secrets
import subprocess
import tempfile
import zipfile
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[2]
SUPERSET_DIR = REPO_ROOT / "superset"
ASSETS_DIR = SUPERSET_DIR / "assets"
SUPERSET_CONFIG = SUPERSET_DIR / "superset_config.py"
SUPERSET_VENV = SUPERSET_DIR / ".venv"
SUPERSET_BIN = SUPERSET_VENV / "bin" / "superset"
GUNICORN_BIN = SUPERSET_VENV / "bin" / "gunicorn"

WAREHOUSE_PLACEHOLDER = "__OREF_WAREHOUSE__"
QUALITY_PLACEHOLDER = "__OREF_QUALITY__"
# In every dataset's `extra`: the run that built the served marts. A new publication changes the
# datasets at the next import, so their `changed_on` moves, and with it every chart-data cache key
# (Superset keys its data cache on the dataset's `changed_on`): no chart serves last month's
# figures from a cache after a publication.
PUBLICATION_PLACEHOLDER = "__OREF_PUBLICATION__"
BUNDLE_ROOT = "oref_superset_assets"
# The file Superset opens for `oref_qualite` while no run has written quality.duckdb.
EMPTY_QUALITY_NAME = "quality-empty.duckdb"

# `oref superset-user add NAME --role <key>` -> the Superset role (superset/oref_roles.py).
USER_ROLES = {"lecteur": "Lecteur", "analyste": "Analyste", "steward": "Steward"}
USER_PASSWORD_ENV = "OREF_SUPERSET_USER_PASSWORD"
_USER_NAME = re.compile(r"[a-z0-9][a-z0-9._-]{0,63}")

# Characters allowed in the warehouse path: it is written into a SQLAlchemy URL and into a
# plain YAML scalar, where '?', '#', '%', ':' or quotes would change the meaning.
_SAFE_PATH = re.compile(r"[\w ./+,=~-]+")
# Fixed timestamp for every zip entry, so that the same inputs give the same bytes.
_ZIP_DATE_TIME = (1980, 1, 1, 0, 0, 0)
_KNOWN_WEAK_PASSWORDS = frozenset({"admin", "password", "changeme", "superset", "secret"})
_OUTPUT_TAIL_LINES = 60


class SupersetBootstrapError(RuntimeError):
    """A Superset command failed, or the environment does not allow running it."""


def _absolute(path: Path) -> Path:
    """Absolute, normalised path that keeps symlinks: a warehouse published by swapping a
    symlink is followed at each connection (Superset opens one per query)."""
    return Path(os.path.abspath(path))


def warehouse_uri(warehouse: Path) -> str:
    """SQLAlchemy URI of a DuckDB file (the served marts, the quality record), from its absolute path."""
    text = _absolute(warehouse).as_posix()
    if not _SAFE_PATH.fullmatch(text):
        raise ValueError(
            f"Unsupported character in warehouse path {text!r}: use letters, digits, spaces and . / + , = ~ - _ only"
        )
    return f"duckdb:///{text}"


def _asset_files(assets_dir: Path) -> Iterator[Path]:
    """The YAML files of the bundle, in a stable order; editor and OS junk is skipped."""
    for path in sorted(assets_dir.rglob("*.yaml")):
        relative = path.relative_to(assets_dir)
        if path.is_file() and not any(part.startswith(".") for part in relative.parts):
            yield path


def render_import_bundle(warehouse: Path, quality: Path, assets_dir: Path = ASSETS_DIR) -> bytes:
    """Zip the assets under one top-level folder, the two database placeholders filled in.

    ``warehouse`` is the file the ``oref`` database opens (the served marts), ``quality`` the one
    ``oref_qualite`` opens. The result is deterministic: entries are sorted and carry a fixed
    timestamp and mode.
    """
    if not (assets_dir / "metadata.yaml").is_file():
        raise FileNotFoundError(f"Not a Superset assets folder (no metadata.yaml): {assets_dir}")
    placeholders = {WAREHOUSE_PLACEHOLDER: warehouse, QUALITY_PLACEHOLDER: quality}
    replacements = {name: (warehouse_uri(path), _absolute(path).as_posix()) for name, path in placeholders.items()}
    publication = re.sub(r"[^A-Za-z0-9_.-]", "_", publication_of(warehouse)) if warehouse.is_file() else "none"
    buffer = io.BytesIO()
    replaced: set[str] = set()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as bundle:
        for path in _asset_files(assets_dir):
            text = path.read_text(encoding="utf-8").replace(PUBLICATION_PLACEHOLDER, publication)
            for name, (uri, path_text) in replacements.items():
                if name in text:
                    text = text.replace(f"duckdb:///{name}", uri).replace(name, path_text)
                    replaced.add(name)
            info = zipfile.ZipInfo(f"{BUNDLE_ROOT}/{path.relative_to(assets_dir).as_posix()}", _ZIP_DATE_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            bundle.writestr(info, text.encode("utf-8"))
    missing = sorted(set(placeholders) - replaced)
    if missing:
        raise ValueError(f"No {', '.join(missing)} placeholder found under {assets_dir}")
    return buffer.getvalue()


def publication_of(served: Path) -> str:
    """What identifies the publication of the served marts: the run that built them.

    Read from ``marts.dash_context``; a file without it (the whole warehouse as a fallback, an older
    build) is identified by its size and modification time instead.
    """
    import duckdb

    try:
        with duckdb.connect(str(served), read_only=True) as con:
            row = con.execute("select run_id from marts.dash_context").fetchone()
        if row and row[0]:
            return str(row[0])
    except duckdb.Error:
        pass
    stat = served.stat()
    return f"{stat.st_size}-{stat.st_mtime_ns}"


def build_import_bundle(
    warehouse: Path, quality: Path, destination: Path, assets_dir: Path = ASSETS_DIR
) -> Path:
    """Write the import bundle for ``warehouse`` and ``quality`` to ``destination`` (a .zip file)."""
    destination.parent.mkdir(parents=True, exist_ok=True)
    destination.write_bytes(render_import_bundle(warehouse, quality, assets_dir))
    return destination


@dataclass(frozen=True)
class ServedFiles:
    """The DuckDB files the two Superset databases open."""

    warehouse: Path  # `oref`: the served marts
    quality: Path  # `oref_qualite`: the quality record


def served_files(serving: Path, quality: Path, superset_home: Path, warehouse: Path | None = None) -> ServedFiles:
    """What Superset opens, with the fallbacks that let it start before a run wrote both files.

    ``oref`` opens ``serving`` (serving.duckdb, the marts alone), else ``warehouse`` (the whole
    published warehouse) while no run has published serving.duckdb. ``oref_qualite`` opens
    ``quality`` (quality.duckdb), else an empty DuckDB file with the schema ``quality``, created
    under ``superset_home`` for the purpose. The next bootstrap after a run repoints both.
    """
    serving, quality = _absolute(serving), _absolute(quality)
    if not serving.is_file():
        if warehouse is None or not _absolute(warehouse).is_file():
            raise FileNotFoundError(f"Neither the served marts nor the warehouse exist: {serving}")
        serving = _absolute(warehouse)
    if not quality.is_file():
        quality = _absolute(superset_home) / EMPTY_QUALITY_NAME
        if not quality.is_file():
            import duckdb

            quality.parent.mkdir(parents=True, exist_ok=True)
            with duckdb.connect(str(quality)) as con:
                con.execute("create schema if not exists quality")
    return ServedFiles(serving, quality)


def superset_environment(superset_home: Path, base: Mapping[str, str] | None = None) -> dict[str, str]:
    """Environment for the Superset commands: the caller's, plus oref's config and home."""
    env = dict(os.environ if base is None else base)
    env["SUPERSET_CONFIG_PATH"] = str(SUPERSET_CONFIG)
    env["SUPERSET_HOME"] = str(_absolute(superset_home))
    # Superset and its libraries print colours and progress bars meant for a terminal.
    env.setdefault("NO_COLOR", "1")
    env.setdefault("PYTHONUNBUFFERED", "1")
    return env


def _require(env: Mapping[str, str], name: str) -> str:
    value = env.get(name, "")
    if not value:
        raise SupersetBootstrapError(f"{name} is not set")
    return value


def _run(
    command: Sequence[str],
    env: Mapping[str, str],
    *,
    stdin: str | None = None,
    secrets: Sequence[str] = (),
    timeout: float = 900,
) -> str:
    """Run a command quietly; return its output, or raise with the tail of it."""
    label = " ".join(Path(command[0]).name if i == 0 else arg for i, arg in enumerate(command[:3]))
    try:
        result = subprocess.run(
            list(command),
            env=dict(env),
            input=stdin if stdin is not None else "",
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            timeout=timeout,
            check=False,
        )
    except subprocess.TimeoutExpired as exc:
        raise SupersetBootstrapError(f"`{label}` timed out after {timeout:.0f} s") from exc
    output = result.stdout or ""
    for secret in secrets:
        output = output.replace(secret, "***")
    if result.returncode != 0:
        tail = "\n".join(output.splitlines()[-_OUTPUT_TAIL_LINES:])
        raise SupersetBootstrapError(f"`{label}` failed with exit code {result.returncode}:\n{tail}")
    return output


def _superset_python() -> str:
    if not SUPERSET_BIN.is_file():
        raise SupersetBootstrapError(f"Superset is not installed in {SUPERSET_VENV}: run `cd superset && uv sync`")
    return str(SUPERSET_VENV / "bin" / "python")


def bootstrap(
    serving: Path,
    quality: Path,
    superset_home: Path,
    env: Mapping[str, str] | None = None,
    assets_dir: Path = ASSETS_DIR,
    *,
    warehouse: Path | None = None,
) -> ServedFiles:
    """Prepare a Superset instance serving the marts and the quality record; safe to call again.

    ``serving``, ``quality`` and ``warehouse`` are ``Settings.serving_path``, ``quality_path`` and
    ``warehouse_path``; see :func:`served_files` for the fallbacks (returned).

    Runs, in the Superset virtualenv: ``superset db upgrade``, ``init``, ``fab create-admin``,
    ``fab reset-password`` (an existing admin gets the password of the environment),
    ``oref-import-assets``, which imports the bundle built from ``assets_dir`` and overwrites
    the databases (so a moved file is followed), datasets, charts and dashboards it holds, and
    ``oref-sync-roles`` (Lecteur, Analyste, Steward from the imported datasets). The commands run
    in one interpreter through ``superset/cli_batch.py``: each separate ``superset`` process
    spends 10 to 20 seconds starting up.
    """
    python = _superset_python()
    superset_home.mkdir(parents=True, exist_ok=True)
    files = served_files(serving, quality, superset_home, warehouse)
    env = superset_environment(superset_home, env)
    _require(env, "SUPERSET_SECRET_KEY")
    user = _require(env, "SUPERSET_ADMIN_USER")
    password = _require(env, "SUPERSET_ADMIN_PASSWORD")
    if password == user or password.lower() in _KNOWN_WEAK_PASSWORDS:
        raise SupersetBootstrapError("SUPERSET_ADMIN_PASSWORD is a well-known default: choose another")
    email = env.get("SUPERSET_ADMIN_EMAIL") or f"{user}@localhost.invalid"

    # The password reaches the commands through click's automatic environment variables
    # (FLASK_ + command path + option name), never through argv, which any local user can
    # read in /proc.
    batch_env = {
        **env,
        "FLASK_FAB_CREATE_ADMIN_PASSWORD": password,
        "FLASK_FAB_RESET_PASSWORD_PASSWORD": password,
    }
    with tempfile.TemporaryDirectory(prefix="oref-superset-") as tmp:
        bundle = build_import_bundle(files.warehouse, files.quality, Path(tmp) / f"{BUNDLE_ROOT}.zip", assets_dir)
        commands = [
            ["db", "upgrade"],
            # init before create-admin: it creates the Admin role the new user is given.
            ["init"],
            ["fab", "create-admin", "--username", user, "--firstname", "Admin", "--lastname", "oref", "--email", email],
            ["fab", "reset-password", "--username", user],
            # Not `import-dashboards`: it keeps existing charts, datasets and databases as they
            # were; this one (superset/cli_batch.py) overwrites everything in the bundle.
            ["oref-import-assets", "--path", str(bundle), "--username", user],
            # After the import: dataset permissions are computed from the imported datasets.
            ["oref-sync-roles"],
        ]
        output = _run(
            [python, str(SUPERSET_DIR / "cli_batch.py")],
            batch_env,
            stdin=json.dumps(commands),
            secrets=[password],
        )
    if f"User {user} not found" in output:
        # create-admin also says "already exists" when another user has the same e-mail.
        raise SupersetBootstrapError(
            f"Could not create the Superset admin {user!r}: is SUPERSET_ADMIN_EMAIL ({email}) "
            "already used by another account?"
        )
    return files


def user_secret_path(data_dir: Path, name: str) -> Path:
    """Where :func:`add_user` writes a generated password: ``<data>/secrets/superset_user_<name>``."""
    return data_dir / "secrets" / f"superset_user_{name}"


def add_user(
    name: str,
    role: str,
    superset_home: Path,
    data_dir: Path,
    env: Mapping[str, str] | None = None,
) -> Path | None:
    """Give ``name`` a Superset account with one oref role (``lecteur``, ``analyste``, ``steward``).

    The password is ``$OREF_SUPERSET_USER_PASSWORD`` when set; otherwise it is generated once and
    kept in :func:`user_secret_path` (mode 600), whose path is returned. Running it again sets
    the role and the password again (the same generated one, read back from that file). The
    password never appears in argv or in the output.
    """
    python = _superset_python()
    if not _USER_NAME.fullmatch(name):
        raise SupersetBootstrapError(
            f"invalid user name {name!r}: lowercase letters, digits, '.', '_' or '-' (at most 64)"
        )
    if role not in USER_ROLES:
        raise SupersetBootstrapError(f"unknown role {role!r}: one of {', '.join(USER_ROLES)}")
    env = superset_environment(superset_home, env)
    _require(env, "SUPERSET_SECRET_KEY")
    secret_file: Path | None = user_secret_path(data_dir, name)
    assert secret_file is not None
    password = env.get(USER_PASSWORD_ENV, "")
    if password:
        # A stale generated password would mislead whoever reads the file later.
        secret_file.unlink(missing_ok=True)
        secret_file = None
    else:
        secret_file.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        if not secret_file.is_file():
            fd = os.open(secret_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w", encoding="utf-8") as out:
                out.write(secrets.token_urlsafe(18) + "\n")
        password = secret_file.read_text("utf-8").strip()
    if len(password) < 12 or password.lower() in _KNOWN_WEAK_PASSWORDS:
        raise SupersetBootstrapError(f"{USER_PASSWORD_ENV} is too weak: at least 12 characters, not a default")
    command = ["oref-set-user", "--username", name, "--role", USER_ROLES[role]]
    _run(
        [python, str(SUPERSET_DIR / "cli_batch.py")],
        {**env, "OREF_SET_USER_PASSWORD": password},
        stdin=json.dumps([command]),
        secrets=[password],
    )
    return secret_file


def gunicorn_command(
    host: str = "127.0.0.1",
    port: int = 8088,
    *,
    workers: int = 2,
    threads: int = 8,
    pidfile: Path | None = None,
) -> list[str]:
    """The command that serves Superset: gunicorn with threaded workers on Superset's app factory.

    ``make up`` (through ``oref superset-serve``) and the tests start the same command. gthread
    workers: each worker process answers several requests at once with threads, so a dashboard's
    charts load in parallel, and a long SQL Lab query does not block the other users of its
    worker. Queries are bounded by oref_sqllab.py's watchdog, not by gunicorn's ``--timeout``
    (which, for gthread workers, only restarts a worker whose main loop stops answering).
    """
    command = [
        str(GUNICORN_BIN),
        "--bind", f"{host}:{port}",
        "--worker-class", "gthread",
        "--workers", str(workers),
        "--threads", str(threads),
        "--timeout", "120",
        # Ctrl-C / make down: workers get 10 s to finish their requests, then are killed.
        "--graceful-timeout", "10",
        # Superset's URLs carry rison-encoded state longer than gunicorn's default limits.
        "--limit-request-line", "0",
        "--limit-request-field_size", "0",
        "--access-logfile", "-",
        # gunicorn's default access log line, plus the worker's pid: which process served what.
        "--access-logformat", '%(h)s %(l)s %(u)s %(t)s "%(r)s" %(s)s %(b)s "%(f)s" "%(a)s" worker=%(p)s',
    ]
    if pidfile is not None:
        command += ["--pid", str(pidfile)]
    return [*command, "superset.app:create_app()"]


# --- Importing the dashboards of a data directory -------------------------------------------------
def local_secret(data_dir: Path, name: str, env: Mapping[str, str]) -> str:
    """A secret from the environment, else one generated once under ``<data>/secrets`` (mode 600).

    For a laptop's ``make run``/``make up`` only: deployments pass secrets in the environment.
    """
    if env.get(name):
        return env[name]
    directory = data_dir / "secrets"
    directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    path = directory / name.lower()
    if not path.exists():
        path.touch(mode=0o600)
        path.write_text(secrets.token_urlsafe(48 if "KEY" in name else 18) + "\n", "utf-8")
    return path.read_text("utf-8").strip()


def data_dir_environment(data_dir: Path, base: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment of the Superset commands for a data directory: its secret key, its admin."""
    env = dict(os.environ if base is None else base)
    env.setdefault("OREF_DATA_DIR", str(data_dir))
    env["SUPERSET_SECRET_KEY"] = local_secret(data_dir, "SUPERSET_SECRET_KEY", env)
    env["SUPERSET_ADMIN_USER"] = env.get("SUPERSET_ADMIN_USER") or "admin"
    env["SUPERSET_ADMIN_PASSWORD"] = local_secret(data_dir, "SUPERSET_ADMIN_PASSWORD", env)
    return env


def import_dashboards(settings: Any, progress: Any = print) -> ServedFiles:
    """(Re)import the dashboards of ``settings.data_dir`` into its Superset home (``<data>/superset``).

    What ``oref superset-import``, ``make run``, ``make up`` and the refresh's export step run: the
    databases follow the published files, every dataset carries the new publication (their chart
    caches start afresh), the roles are rebuilt.
    """
    if not (settings.serving_path.exists() or settings.warehouse_path.exists()):
        raise FileNotFoundError(f"no published warehouse at {settings.warehouse_path}: run `oref run` first")
    env = data_dir_environment(settings.data_dir)
    progress("[superset] migrating metadata, importing the dashboards ...")
    files = bootstrap(settings.serving_path, settings.quality_path, settings.data_dir / "superset", env,
                      warehouse=settings.warehouse_path)
    progress(f"[superset] databases: oref -> {files.warehouse}, oref_qualite -> {files.quality}")
    return files


def refresh_after_publish(settings: Any, progress: Any = print) -> str:
    """After a publication, re-import the dashboards of a Superset that already serves this data dir.

    Only an existing Superset home is refreshed (``make run`` or ``oref superset-import`` created
    it): a run elsewhere, or with ``OREF_SUPERSET_REFRESH=0``, does not start one. Returns what
    was done, for the run's record.
    """
    home = settings.data_dir / "superset"
    if not settings.superset_refresh:
        return "skipped (OREF_SUPERSET_REFRESH=0)"
    if not SUPERSET_BIN.is_file() or not home.is_dir():
        return f"skipped (no Superset home at {home})"
    import_dashboards(settings, progress)
    return f"dashboards re-imported into {home}"
