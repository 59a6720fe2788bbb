"""Helpers of the Superset tests, for tests/superset/conftest.py and any Superset test module.

- :func:`start_server` / :func:`stop_server`: bootstrap a Superset home on a warehouse and serve
  it with :func:`oref.superset_assets.gunicorn_command`, the command ``make up`` runs.
- :func:`create_user`: a user with one oref role (``lecteur``, ``analyste``, ``steward``).
- :func:`api_session`: a ``requests.Session`` logged in as a user through the login form (cookie
  session + CSRF header: it calls the REST API and opens pages such as /oref/rapports/).
- :func:`launch_chromium`, :func:`browser_login`: Debian's Chromium under Playwright, and a page
  logged in through the login form.
- :func:`sql_lab`, :func:`database_id`, :func:`error_messages`: SQL Lab as its editor calls it.
"""

from __future__ import annotations

import os
import re
import secrets
import signal
import socket
import subprocess
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import requests

from oref import superset_assets as sa
from oref.config import Settings

ADMIN_USER = "oref_test_admin"
SERVER_START_TIMEOUT = 240
HTTP_TIMEOUT = 60
# Short, so that the runaway-query tests end quickly; charts keep their own timeout.
SQLLAB_TIMEOUT_SECONDS = 6
SUPERSET_PYTHON = sa.SUPERSET_VENV / "bin" / "python"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]
ROLES = tuple(sa.USER_ROLES)  # lecteur, analyste, steward


def require_superset_venv() -> None:
    if not SUPERSET_PYTHON.is_file():
        pytest.fail(f"{sa.SUPERSET_VENV} is missing: run `cd superset && uv sync --frozen`")


def clean_environment() -> dict[str, str]:
    """The caller's environment without anything that configures Superset, Flask or oref."""
    return {
        key: value for key, value in os.environ.items() if not key.startswith(("SUPERSET_", "FLASK_", "OREF_"))
    }


# --- The server ----------------------------------------------------------------------------------


@dataclass
class SupersetServer:
    base_url: str
    home: Path
    data_dir: Path
    env: dict[str, str]
    process: subprocess.Popen[bytes]
    log: Path
    files: sa.ServedFiles
    users: dict[str, SupersetUser] = field(default_factory=dict)

    @property
    def admin(self) -> SupersetUser:
        return SupersetUser(self.env["SUPERSET_ADMIN_USER"], self.env["SUPERSET_ADMIN_PASSWORD"], "admin")

    def log_tail(self, lines: int = 60) -> str:
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])

    def log_text(self) -> str:
        return self.log.read_text(errors="replace")


@dataclass(frozen=True)
class SupersetUser:
    name: str
    password: str = field(repr=False)
    role: str  # lecteur, analyste, steward or admin


def published_files(warehouse: Path) -> Settings:
    """The settings of the data directory that published ``warehouse`` (its serving and quality paths)."""
    return Settings.from_env({"OREF_DATA_DIR": str(warehouse.parent.parent)})


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def stop_server(process: subprocess.Popen[bytes]) -> None:
    """Stop gunicorn and its workers (it leads its own process group)."""
    if process.poll() is not None:
        return
    for sig, grace in ((signal.SIGTERM, 20), (signal.SIGKILL, 10)):
        try:
            os.killpg(process.pid, sig)
        except ProcessLookupError:
            return
        try:
            process.wait(timeout=grace)
            return
        except subprocess.TimeoutExpired:
            continue


def start_server(
    home: Path,
    warehouse: Path,
    started: list[subprocess.Popen[bytes]],
    extra_env: Mapping[str, str] | None = None,
    *,
    workers: int = 2,
    threads: int = 4,
) -> SupersetServer:
    """Bootstrap a Superset home on ``warehouse`` and serve it with gunicorn on a free port.

    ``warehouse`` is a published ``<data>/warehouse/oref.duckdb``; the served marts and the quality
    record published beside it are used when present (see :func:`oref.superset_assets.served_files`).
    """
    require_superset_venv()
    data_dir = home / "data"
    env = clean_environment()
    env.update(
        SUPERSET_SECRET_KEY=secrets.token_urlsafe(48),
        SUPERSET_ADMIN_USER=ADMIN_USER,
        SUPERSET_ADMIN_PASSWORD=secrets.token_urlsafe(24),
        OREF_DATA_DIR=str(data_dir),
        OREF_SQLLAB_TIMEOUT=str(SQLLAB_TIMEOUT_SECONDS),
        **(extra_env or {}),
    )
    published = published_files(warehouse)
    files = sa.bootstrap(published.serving_path, published.quality_path, home, env=env, warehouse=warehouse)
    port = free_port()
    log = home / "server.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            sa.gunicorn_command("127.0.0.1", port, workers=workers, threads=threads),
            env=sa.superset_environment(home, env),
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    started.append(process)
    server = SupersetServer(f"http://127.0.0.1:{port}", home, data_dir, env, process, log, files)
    deadline = time.monotonic() + SERVER_START_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"Superset exited with code {process.returncode}:\n{server.log_tail()}")
        try:
            if requests.get(f"{server.base_url}/health", timeout=10).status_code == 200:
                return server
        except (requests.ConnectionError, requests.Timeout):  # workers still importing Superset
            pass
        time.sleep(1)
    pytest.fail(f"Superset did not answer within {SERVER_START_TIMEOUT} s:\n{server.log_tail()}")


# --- Users and sessions --------------------------------------------------------------------------


def api_session(server: SupersetServer, user: SupersetUser) -> requests.Session:
    """A ``requests.Session`` logged in as ``user`` through the login form.

    It carries the session cookie (pages, such as /oref/rapports/, and the REST API accept it) and
    the CSRF token header that Superset wants on state-changing API calls.
    """
    session = requests.Session()
    login_page = session.get(f"{server.base_url}/login/", timeout=HTTP_TIMEOUT)
    token = re.search(r'name="csrf_token"\s+id="csrf_token"\s+value="([^"]+)"', login_page.text)
    assert token, "no CSRF token on the login page"
    response = session.post(
        f"{server.base_url}/login/",
        data={"username": user.name, "password": user.password, "csrf_token": token.group(1)},
        timeout=HTTP_TIMEOUT,
        allow_redirects=False,
    )
    assert response.status_code == 302 and "/login" not in response.headers.get("Location", ""), (
        f"login as {user.name} failed: {response.status_code} {response.headers.get('Location')}"
    )
    csrf = session.get(f"{server.base_url}/api/v1/security/csrf_token/", timeout=HTTP_TIMEOUT)
    assert csrf.status_code == 200, csrf.text
    session.headers["X-CSRFToken"] = csrf.json()["result"]
    session.headers["Referer"] = server.base_url
    return session


def _role_id(admin: requests.Session, server: SupersetServer, role_name: str) -> int:
    response = admin.get(
        f"{server.base_url}/api/v1/security/roles/search/",
        params={"q": f"(filters:!((col:name,opr:eq,value:{role_name})))"},
        timeout=HTTP_TIMEOUT,
    )
    assert response.status_code == 200, response.text
    (role,) = [r for r in response.json()["result"] if r["name"] == role_name]
    return int(role["id"])


def create_user(server: SupersetServer, name: str, role: str) -> SupersetUser:
    """Create ``name`` with one oref role (``lecteur``, ``analyste``, ``steward``) and a random
    password, through the security REST API as the admin (the CLI, `oref superset-user add`,
    takes 10-20 s per call to start Superset; it has its own test)."""
    assert role in sa.USER_ROLES, role
    admin = api_session(server, server.admin)
    password = secrets.token_urlsafe(18)
    response = admin.post(
        f"{server.base_url}/api/v1/security/users/",
        json={
            "active": True,
            "email": f"{name}@localhost.invalid",
            "first_name": name,
            "last_name": role,
            "password": password,
            "roles": [_role_id(admin, server, sa.USER_ROLES[role])],
            "username": name,
        },
        timeout=HTTP_TIMEOUT,
    )
    assert response.status_code == 201, response.text
    user = SupersetUser(name, password, role)
    server.users[name] = user
    return user


def browser_login(page: Any, server: SupersetServer, user: SupersetUser) -> None:
    """Log a Playwright page in through Superset's login form; it lands on the welcome page."""
    page.goto(f"{server.base_url}/login/")
    page.wait_for_selector("#username")
    page.fill("#username", user.name)
    page.fill("#password", user.password)
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r".*/superset/welcome/?.*"), timeout=HTTP_TIMEOUT * 1000)


def launch_chromium(playwright: Any) -> Any:
    """Debian's Chromium (never a downloaded browser), headless."""
    if not Path(CHROMIUM).is_file():
        pytest.fail(f"{CHROMIUM} is missing: install Debian's chromium package")
    return playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)


# --- SQL Lab ---------------------------------------------------------------------------------------


def database_id(session: requests.Session, server: SupersetServer, name: str) -> int:
    """The id of a database the session's user can list (SQL Lab's list)."""
    response = session.get(f"{server.base_url}/api/v1/database/", timeout=HTTP_TIMEOUT)
    assert response.status_code == 200, response.text
    ids = [d["id"] for d in response.json()["result"] if d["database_name"] == name]
    assert ids, f"database {name} not listed for this user"
    return int(ids[0])


def sql_lab(
    session: requests.Session,
    server: SupersetServer,
    database: int,
    sql: str,
    *,
    schema: str = "marts",
    client_id: str | None = None,
    limit: int = 1000,
) -> requests.Response:
    """Run ``sql`` as SQL Lab's editor does (synchronously, with its row limit)."""
    return session.post(
        f"{server.base_url}/api/v1/sqllab/execute/",
        json={
            "database_id": database,
            "sql": sql,
            "schema": schema,
            "runAsync": False,
            "queryLimit": limit,
            "client_id": client_id or secrets.token_hex(5),
        },
        timeout=HTTP_TIMEOUT,
    )


def error_messages(response: requests.Response) -> str:
    """The user-facing messages of a failed SQL Lab call, joined."""
    body = response.json()
    return " | ".join(str(error.get("message", "")) for error in body.get("errors", [])) or str(body)


