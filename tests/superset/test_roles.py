"""Roles created by the bootstrap, what each sees, anonymous access, and `oref superset-user add`."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest
import requests
from superset_testing import (
    HTTP_TIMEOUT,
    SupersetServer,
    SupersetUser,
    api_session,
    database_id,
    error_messages,
    sql_lab,
)

from oref import superset_assets as sa

pytestmark = pytest.mark.slow


def _databases(session: requests.Session, server: SupersetServer) -> set[str]:
    response = session.get(f"{server.base_url}/api/v1/database/", timeout=HTTP_TIMEOUT)
    assert response.status_code == 200, response.text
    return {d["database_name"] for d in response.json()["result"]}


def _schemas(session: requests.Session, server: SupersetServer, database: int) -> set[str]:
    response = session.get(f"{server.base_url}/api/v1/database/{database}/schemas/", timeout=HTTP_TIMEOUT)
    assert response.status_code == 200, response.text
    return set(response.json()["result"])


def _role_permissions(admin: requests.Session, server: SupersetServer, role: str) -> set[tuple[str, str]]:
    found = admin.get(
        f"{server.base_url}/api/v1/security/roles/search/",
        params={"q": f"(filters:!((col:name,opr:eq,value:{role})),page_size:100)"},
        timeout=HTTP_TIMEOUT,
    ).json()["result"]
    (role_id,) = [r["id"] for r in found if r["name"] == role]
    response = admin.get(f"{server.base_url}/api/v1/security/roles/{role_id}/permissions/", timeout=HTTP_TIMEOUT)
    assert response.status_code == 200, response.text
    return {(p["permission_name"], p["view_menu_name"]) for p in response.json()["result"]}


def _datasets_by_database(admin: requests.Session, server: SupersetServer) -> dict[str, set[str]]:
    response = admin.get(
        f"{server.base_url}/api/v1/dataset/",
        params={"q": "(columns:!(id,table_name,database.database_name),page_size:100)"},
        timeout=HTTP_TIMEOUT,
    )
    assert response.status_code == 200, response.text
    by_database: dict[str, set[str]] = {}
    for dataset in response.json()["result"]:
        name = dataset["database"]["database_name"]
        by_database.setdefault(name, set()).add(f"[{name}].[{dataset['table_name']}](id:{dataset['id']})")
    return by_database


def test_roles_grant_the_datasets_of_their_databases(
    superset_server: SupersetServer, admin_api: requests.Session
) -> None:
    """Dataset permissions follow the imported datasets, by database; SQL Lab only where granted."""
    datasets = _datasets_by_database(admin_api, superset_server)
    assert datasets.get("oref"), datasets
    perms = {role: _role_permissions(admin_api, superset_server, role) for role in ("Lecteur", "Analyste", "Steward")}

    def data_access(role: str, kind: str) -> set[str]:
        return {view for permission, view in perms[role] if permission == kind}

    assert data_access("Lecteur", "datasource_access") == datasets["oref"]
    assert data_access("Analyste", "datasource_access") == datasets["oref"]
    assert data_access("Steward", "datasource_access") == datasets["oref"] | datasets.get("oref_qualite", set())
    assert data_access("Lecteur", "schema_access") == set()
    assert data_access("Analyste", "schema_access") == {"[oref].[marts]"}
    assert data_access("Steward", "schema_access") == {"[oref_qualite].[quality]"}
    for role in perms:
        assert data_access(role, "database_access") == set(), role
        assert not {p for p, _ in perms[role]} & {"all_database_access", "all_datasource_access"}, role
    # Lecteur reads: SQL Lab, writes on charts and dashboards, user management are not in it.
    assert ("can_execute_sql_query", "SQLLab") not in perms["Lecteur"]
    assert ("can_execute_sql_query", "SQLLab") in perms["Analyste"] and ("can_execute_sql_query", "SQLLab") in perms[
        "Steward"
    ]
    for write in (("can_write", "Dashboard"), ("can_write", "Chart"), ("can_add", "UserRegistrationsRestAPI")):
        assert write not in perms["Lecteur"], write
    assert ("can_read", "Dashboard") in perms["Lecteur"] and ("can_write", "DashboardFilterStateRestApi") in perms[
        "Lecteur"
    ]


def _dashboards(session: requests.Session, server: SupersetServer) -> set[str]:
    response = session.get(f"{server.base_url}/api/v1/dashboard/", params={"q": "(page_size:100)"},
                           timeout=HTTP_TIMEOUT)
    assert response.status_code == 200, response.text
    return {d["slug"] or str(d["id"]) for d in response.json()["result"]}


def test_each_role_sees_its_dashboards(
    superset_server: SupersetServer, superset_users: dict[str, SupersetUser], admin_api: requests.Session
) -> None:
    """Superset shows a dashboard to whoever may read one of its datasets: Lecteur and Analyste
    see every dashboard but those on the quality record, Steward sees them all."""
    every = _dashboards(admin_api, superset_server)
    on_quality = set()
    for dashboard in admin_api.get(f"{superset_server.base_url}/api/v1/dashboard/",
                                   params={"q": "(page_size:100)"}, timeout=HTTP_TIMEOUT).json()["result"]:
        datasets = admin_api.get(f"{superset_server.base_url}/api/v1/dashboard/{dashboard['id']}/datasets",
                                 timeout=HTTP_TIMEOUT).json()["result"]
        if any(d["database"]["name"] == "oref_qualite" for d in datasets):
            on_quality.add(dashboard["slug"] or str(dashboard["id"]))
    assert every - on_quality, every
    for role in ("lecteur", "analyste"):
        assert _dashboards(api_session(superset_server, superset_users[role]), superset_server) == every - on_quality
    assert _dashboards(api_session(superset_server, superset_users["steward"]), superset_server) == every


def test_public_role_is_empty_and_anonymous_users_are_refused(
    superset_server: SupersetServer, admin_api: requests.Session
) -> None:
    assert _role_permissions(admin_api, superset_server, "Public") == set()
    base = superset_server.base_url
    for path in ("/api/v1/dashboard/", "/api/v1/chart/", "/api/v1/database/", "/api/v1/dataset/"):
        assert requests.get(f"{base}{path}", timeout=HTTP_TIMEOUT).status_code == 401, path
    for path in ("/superset/welcome/", "/dashboard/list/", "/sqllab/"):
        response = requests.get(f"{base}{path}", timeout=HTTP_TIMEOUT, allow_redirects=False)
        assert response.status_code == 302 and "/login/" in response.headers["Location"], (path, response.status_code)
    response = requests.post(
        f"{base}/api/v1/sqllab/execute/", json={"database_id": 1, "sql": "select 1"}, timeout=HTTP_TIMEOUT
    )
    assert response.status_code in (400, 401), response.text  # 400: CSRF token missing, before anything else
    assert "data" not in response.text


def test_lecteur_has_no_sql_lab(superset_server: SupersetServer, superset_users: dict[str, SupersetUser]) -> None:
    lecteur = api_session(superset_server, superset_users["lecteur"])
    assert _databases(lecteur, superset_server) == set()
    response = sql_lab(lecteur, superset_server, 1, "select 1")
    assert response.status_code == 403, response.text
    response = lecteur.get(f"{superset_server.base_url}/sqllab/", timeout=HTTP_TIMEOUT, allow_redirects=False)
    assert response.status_code in (302, 403), response.status_code
    assert lecteur.get(f"{superset_server.base_url}/api/v1/dashboard/", timeout=HTTP_TIMEOUT).json()["count"] > 0


def test_analyste_sees_only_marts(superset_server: SupersetServer, superset_users: dict[str, SupersetUser]) -> None:
    analyste = api_session(superset_server, superset_users["analyste"])
    assert _databases(analyste, superset_server) == {"oref"}
    assert _schemas(analyste, superset_server, database_id(analyste, superset_server, "oref")) == {"marts"}


def test_steward_sees_quality_and_not_the_marts_in_sql_lab(
    superset_server: SupersetServer, superset_users: dict[str, SupersetUser], admin_api: requests.Session
) -> None:
    steward = api_session(superset_server, superset_users["steward"])
    assert _databases(steward, superset_server) == {"oref_qualite"}
    quality = database_id(steward, superset_server, "oref_qualite")
    assert _schemas(steward, superset_server, quality) == {"quality"}
    response = sql_lab(steward, superset_server, quality, "select count(*) as n from duckdb_tables()",
                       schema="quality")
    # duckdb_tables() is not a table of the quality schema: Superset refuses it; a quality table works
    assert response.status_code >= 400
    tables = admin_api.get(
        f"{superset_server.base_url}/api/v1/database/{quality}/tables/",
        params={"q": "(schema_name:quality)"},
        timeout=HTTP_TIMEOUT,
    ).json()["result"]
    if tables:
        name = tables[0]["value"]
        response = sql_lab(steward, superset_server, quality, f"select count(*) as n from quality.{name}",
                           schema="quality")
        assert response.status_code == 200, response.text
    # the warehouse's marts: hidden from the Steward's SQL Lab, and refused if asked for by id
    warehouse = database_id(admin_api, superset_server, "oref")
    response = sql_lab(steward, superset_server, warehouse, "select count(*) from marts.mart_indicators")
    assert response.status_code >= 400, response.text
    assert "data" not in response.json()
    assert error_messages(response)


def test_superset_user_add_command(superset_server: SupersetServer, tmp_path: Path) -> None:
    """`oref superset-user add`: a generated password in <data>/secrets (mode 600), never printed;
    run again with OREF_SUPERSET_USER_PASSWORD, it changes the role and the password."""
    oref = Path(sys.executable).with_name("oref")
    env = {
        **superset_server.env,
        "OREF_DATA_DIR": str(superset_server.data_dir),
        # superset-user works on <data>/superset; the test server's home is elsewhere
        "PATH": os.environ.get("PATH", ""),
    }
    home_link = superset_server.data_dir / "superset"
    if not home_link.exists():
        home_link.parent.mkdir(parents=True, exist_ok=True)
        home_link.symlink_to(superset_server.home)

    def add(role: str, password: str | None = None) -> subprocess.CompletedProcess[str]:
        run_env = dict(env)
        run_env.pop(sa.USER_PASSWORD_ENV, None)
        if password:
            run_env[sa.USER_PASSWORD_ENV] = password
        return subprocess.run(
            [str(oref), "superset-user", "add", "marie.dupont", "--role", role],
            env=run_env, capture_output=True, text=True, timeout=300, check=False,
        )

    first = add("lecteur")
    assert first.returncode == 0, first.stdout + first.stderr
    secret = sa.user_secret_path(superset_server.data_dir, "marie.dupont")
    assert stat.S_IMODE(secret.stat().st_mode) == 0o600
    password = secret.read_text().strip()
    assert str(secret) in first.stdout and password not in first.stdout + first.stderr
    user = SupersetUser("marie.dupont", password, "lecteur")
    lecteur = api_session(superset_server, user)
    assert sql_lab(lecteur, superset_server, 1, "select 1").status_code == 403

    again = add("lecteur")  # idempotent: same password, same role
    assert again.returncode == 0 and secret.read_text().strip() == password
    api_session(superset_server, user)

    new_password = "Nouveau-mot-de-passe-" + os.urandom(4).hex()
    changed = add("analyste", new_password)
    assert changed.returncode == 0, changed.stdout + changed.stderr
    assert new_password not in changed.stdout + changed.stderr
    assert not secret.exists()  # the stale generated password is gone
    analyste = api_session(superset_server, SupersetUser("marie.dupont", new_password, "analyste"))
    assert _databases(analyste, superset_server) == {"oref"}
    with pytest.raises(AssertionError, match=r"login as marie\.dupont failed"):
        api_session(superset_server, user)  # the old password no longer works
