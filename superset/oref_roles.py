"""oref's Superset roles, computed from what is imported (run by ``superset/cli_batch.py``).

- ``Lecteur``: reads every dashboard but the quality one. The read-only part of Superset's Gamma
  role (see :func:`reader_permissions`) plus ``datasource_access`` on every dataset of the
  database ``oref``. No SQL Lab.
- ``Analyste``: Lecteur, plus SQL Lab (the permissions of Superset's ``sql_lab`` role) on the
  schema ``marts`` of ``oref`` only (``schema_access``).
- ``Steward``: Lecteur, plus ``datasource_access`` on every dataset of ``oref_qualite`` (the
  quality dashboard), plus SQL Lab on its schema ``quality``.

Dataset permissions are listed from the datasets present in the metadata database at each
bootstrap, by database name: a dataset added to the bundle is covered by the next
``oref superset-import``, and one removed loses its permission. Each run replaces the roles'
permissions with the computed ones, so the sync is idempotent; it runs after ``superset init``,
which rebuilds Gamma and sql_lab.
"""

from __future__ import annotations

from typing import Any

WAREHOUSE_DATABASE = "oref"
QUALITY_DATABASE = "oref_qualite"
LECTEUR = "Lecteur"
ANALYSTE = "Analyste"
STEWARD = "Steward"
ROLES = (LECTEUR, ANALYSTE, STEWARD)
# What each role may query in SQL Lab: (database, schema).
SQL_SCHEMAS = {ANALYSTE: (WAREHOUSE_DATABASE, "marts"), STEWARD: (QUALITY_DATABASE, "quality")}

# Permissions that only read, among Gamma's. Gamma can also create and edit charts,
# dashboards, tags and themes, invalidate caches, export bundles and manage user registrations:
# a reader needs none of that.
_READ_PERMISSIONS = frozenset(
    {
        "can_read",
        "can_list",
        "can_show",
        "can_get",
        "can_get_drill_info",
        "can_external_metadata",
        "can_external_metadata_by_name",
        "can_query",
        "can_query_form_data",
        "can_time_range",
        "can_dashboard",
        "can_dashboard_permalink",
        "can_slice",
        "can_explore",
        "can_explore_json",
        "can_fetch_datasource_metadata",
        "can_drill",
        "can_view_chart_as_table",
        "can_view_query",
        "can_csv",
        "can_export_streaming_csv",
        "can_share_chart",
        "can_share_dashboard",
        "can_language_pack",
        "can_log",
        "can_recent_activity",
        "can_userinfo",
        "resetmypassword",
        "can_this_form_get",
        "can_this_form_post",
    }
)
# Writes a reader needs to use a dashboard: native filter state, permalinks (share a view),
# the explore form state, and their own profile settings.
_STATE_WRITES = frozenset(
    {
        ("can_write", "DashboardFilterStateRestApi"),
        ("can_write", "DashboardPermalinkRestApi"),
        ("can_write", "ExploreFormDataRestApi"),
        ("can_write", "ExplorePermalinkRestApi"),
        ("can_write", "CurrentUserRestApi"),
    }
)
# Gamma's menus a reader does not need (lists of databases, datasets, plugins, tags, tasks…).
_READER_MENUS = frozenset({"Home", "Dashboards", "Charts"})
_NOT_FOR_READERS = frozenset({"UserRegistrationsRestAPI"})


def reader_permissions(gamma: list[Any]) -> list[Any]:
    """The read-only part of Gamma's permission-views."""
    kept = []
    for pvm in gamma:
        permission, view = pvm.permission.name, pvm.view_menu.name
        if view in _NOT_FOR_READERS:
            continue
        if permission == "menu_access":
            if view in _READER_MENUS:
                kept.append(pvm)
        elif permission in _READ_PERMISSIONS or (permission, view) in _STATE_WRITES:
            kept.append(pvm)
    return kept


def _dataset_permissions(security_manager: Any, database_name: str) -> list[Any]:
    """``datasource_access`` on every dataset of ``database_name``, created if missing."""
    from superset.connectors.sqla.models import SqlaTable
    from superset.models.core import Database

    from superset import db

    tables = (
        db.session.query(SqlaTable)
        .join(Database, SqlaTable.database_id == Database.id)
        .filter(Database.database_name == database_name)
        .order_by(SqlaTable.id)
        .all()
    )
    return [security_manager.add_permission_view_menu("datasource_access", table.perm) for table in tables]


def _schema_permission(security_manager: Any, database_name: str, schema: str) -> Any:
    """``schema_access`` on one schema. DuckDB has no catalog level in Superset's permissions, and
    oref_sqllab.py makes SQL Lab list schemas by their plain names, so ``[oref].[marts]`` is what
    both SQL Lab's schema list and the table-access check of a query look for."""
    perm = security_manager.get_schema_perm(database_name, None, schema)
    return security_manager.add_permission_view_menu("schema_access", perm)


def sync_roles() -> dict[str, int]:
    """Create or update the three roles; return each role's number of permissions."""
    from superset import db, security_manager

    gamma = security_manager.find_role("Gamma")
    sql_lab = security_manager.find_role("sql_lab")
    if gamma is None or sql_lab is None:
        raise RuntimeError("roles Gamma and sql_lab missing: run `superset init` first")
    reader = reader_permissions(list(gamma.permissions))
    warehouse = _dataset_permissions(security_manager, WAREHOUSE_DATABASE)
    quality = _dataset_permissions(security_manager, QUALITY_DATABASE)
    sql = list(sql_lab.permissions)

    wanted = {
        LECTEUR: reader + warehouse,
        ANALYSTE: reader + warehouse + sql + [_schema_permission(security_manager, *SQL_SCHEMAS[ANALYSTE])],
        STEWARD: reader + warehouse + quality + sql + [_schema_permission(security_manager, *SQL_SCHEMAS[STEWARD])],
    }
    counts = {}
    for name, pvms in wanted.items():
        role = security_manager.add_role(name)
        role.permissions = list(dict.fromkeys(pvms))  # unique, stable order
        counts[name] = len(role.permissions)
    # The Public role (anonymous users) stays empty: no dashboard without logging in.
    public = security_manager.find_role(security_manager.auth_role_public)
    if public is not None:
        public.permissions = []
    db.session.commit()
    return counts


def set_user(username: str, role_name: str, password: str) -> str:
    """Create ``username`` with the single role ``role_name``, or give an existing one that role
    and password. Returns ``"created"`` or ``"updated"``."""
    from superset import db, security_manager

    if role_name not in ROLES:
        raise ValueError(f"unknown role {role_name!r}: one of {', '.join(ROLES)}")
    role = security_manager.find_role(role_name)
    if role is None:
        raise RuntimeError(f"role {role_name} does not exist yet: run `oref superset-import` first")
    user = security_manager.find_user(username=username)
    if user is None:
        created = security_manager.add_user(
            username=username,
            first_name=username,
            last_name=role_name,
            email=f"{username}@localhost.invalid",
            role=role,
            password=password,
        )
        if not created:
            raise RuntimeError(f"could not create the user {username!r} (is its e-mail already used?)")
        return "created"
    user.roles = [role]
    user.active = True
    security_manager.reset_password(user.id, password)  # hashes as FAB does, and commits
    db.session.commit()
    return "updated"
