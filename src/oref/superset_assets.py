"""Superset assets: build the dashboard import bundle and bootstrap a Superset instance.

Superset (apache-superset 6.1) lives in its own virtualenv, ``superset/.venv`` (created by
``cd superset && uv sync``), because its pins clash with Airflow's. This module never imports
Superset: it drives the ``superset`` command of that virtualenv through subprocesses.

The import bundle is built from ``superset/assets/``, an unzipped Superset export (databases,
datasets, charts, dashboards as YAML). The DuckDB database there points at the placeholder
``__OREF_WAREHOUSE__``, replaced by the absolute path of the published warehouse.

Environment read by :func:`bootstrap` (no credential has a default value):

- ``SUPERSET_SECRET_KEY``: Superset's secret key (checked by ``superset/superset_config.py``).
- ``SUPERSET_ADMIN_USER`` / ``SUPERSET_ADMIN_PASSWORD``: the admin account to create.
- ``SUPERSET_ADMIN_EMAIL`` (optional): its e-mail, ``<user>@localhost.invalid`` by default.
- ``SUPERSET_DATABASE_URI``, ``SUPERSET_REDIS_URL`` (optional): see superset_config.py.
"""

from __future__ import annotations

import io
import json
import os
import re
import subprocess
import tempfile
import zipfile
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
SUPERSET_DIR = REPO_ROOT / "superset"
ASSETS_DIR = SUPERSET_DIR / "assets"
SUPERSET_CONFIG = SUPERSET_DIR / "superset_config.py"
SUPERSET_VENV = SUPERSET_DIR / ".venv"
SUPERSET_BIN = SUPERSET_VENV / "bin" / "superset"

WAREHOUSE_PLACEHOLDER = "__OREF_WAREHOUSE__"
BUNDLE_ROOT = "oref_superset_assets"

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
    """SQLAlchemy URI of the DuckDB warehouse, from its absolute path."""
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


def render_import_bundle(warehouse: Path, assets_dir: Path = ASSETS_DIR) -> bytes:
    """Zip the assets under one top-level folder, the warehouse placeholder filled in.

    The result is deterministic: entries are sorted and carry a fixed timestamp and mode.
    """
    if not (assets_dir / "metadata.yaml").is_file():
        raise FileNotFoundError(f"Not a Superset assets folder (no metadata.yaml): {assets_dir}")
    path_text = _absolute(warehouse).as_posix()
    uri = warehouse_uri(warehouse)
    buffer = io.BytesIO()
    replaced = False
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as bundle:
        for path in _asset_files(assets_dir):
            text = path.read_text(encoding="utf-8")
            if WAREHOUSE_PLACEHOLDER in text:
                text = text.replace(f"duckdb:///{WAREHOUSE_PLACEHOLDER}", uri)
                text = text.replace(WAREHOUSE_PLACEHOLDER, path_text)
                replaced = True
            info = zipfile.ZipInfo(f"{BUNDLE_ROOT}/{path.relative_to(assets_dir).as_posix()}", _ZIP_DATE_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            bundle.writestr(info, text.encode("utf-8"))
    if not replaced:
        raise ValueError(f"No {WAREHOUSE_PLACEHOLDER} placeholder found under {assets_dir}")
    return buffer.getvalue()


def build_import_bundle(warehouse: Path, destination: Path, assets_dir: Path = ASSETS_DIR) -> Path:
    """Write the import bundle for ``warehouse`` to ``destination`` (a .zip file)."""
    destination.parent.mkdir(parents=True, exist_ok=True)
    destination.write_bytes(render_import_bundle(warehouse, assets_dir))
    return destination


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


def bootstrap(
    warehouse: Path,
    superset_home: Path,
    env: Mapping[str, str] | None = None,
    assets_dir: Path = ASSETS_DIR,
) -> None:
    """Prepare a Superset instance serving ``warehouse``; safe to call again.

    Runs, in the Superset virtualenv: ``superset db upgrade``, ``init``, ``fab create-admin``,
    ``fab reset-password`` (an existing admin gets the password of the environment) and
    ``oref-import-assets``, which imports the bundle built from ``assets_dir`` and overwrites
    the database (so a moved warehouse is followed), datasets, charts and dashboard it holds.
    The commands run in one interpreter through ``superset/cli_batch.py``: each separate
    ``superset`` process spends 10 to 20 seconds starting up.
    """
    if not SUPERSET_BIN.is_file():
        raise SupersetBootstrapError(f"Superset is not installed in {SUPERSET_VENV}: run `cd superset && uv sync`")
    warehouse = _absolute(warehouse)
    if not warehouse.is_file():
        raise FileNotFoundError(f"Warehouse not found: {warehouse}")
    superset_home.mkdir(parents=True, exist_ok=True)
    env = superset_environment(superset_home, env)
    _require(env, "SUPERSET_SECRET_KEY")
    user = _require(env, "SUPERSET_ADMIN_USER")
    password = _require(env, "SUPERSET_ADMIN_PASSWORD")
    if password == user or password.lower() in _KNOWN_WEAK_PASSWORDS:
        raise SupersetBootstrapError("SUPERSET_ADMIN_PASSWORD is a well-known default: choose another")
    email = env.get("SUPERSET_ADMIN_EMAIL") or f"{user}@localhost.invalid"
    warehouse_uri(warehouse)  # refuse an unusable path before running anything

    # The password reaches the commands through click's automatic environment variables
    # (FLASK_ + command path + option name), never through argv, which any local user can
    # read in /proc.
    batch_env = {
        **env,
        "FLASK_FAB_CREATE_ADMIN_PASSWORD": password,
        "FLASK_FAB_RESET_PASSWORD_PASSWORD": password,
    }
    with tempfile.TemporaryDirectory(prefix="oref-superset-") as tmp:
        bundle = build_import_bundle(warehouse, Path(tmp) / f"{BUNDLE_ROOT}.zip", assets_dir)
        commands = [
            ["db", "upgrade"],
            # init before create-admin: it creates the Admin role the new user is given.
            ["init"],
            ["fab", "create-admin", "--username", user, "--firstname", "Admin", "--lastname", "oref", "--email", email],
            ["fab", "reset-password", "--username", user],
            # Not `import-dashboards`: it keeps existing charts, datasets and databases as they
            # were; this one (superset/cli_batch.py) overwrites everything in the bundle.
            ["oref-import-assets", "--path", str(bundle), "--username", user],
        ]
        output = _run(
            [str(SUPERSET_VENV / "bin" / "python"), str(SUPERSET_DIR / "cli_batch.py")],
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
