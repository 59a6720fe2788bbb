"""Superset configuration for oref.

Loaded by Superset through ``SUPERSET_CONFIG_PATH``. Everything that differs between machines
or is secret comes from the environment; nothing here is a usable credential.

Environment variables:

- ``SUPERSET_SECRET_KEY`` (required): signs session cookies and encrypts the database
  connection secrets stored in the metadata database. At least 32 characters, random.
- ``SUPERSET_DATABASE_URI`` (optional): SQLAlchemy URI of the metadata database, e.g. a
  PostgreSQL database. Defaults to SQLite in ``$SUPERSET_HOME/superset.db``.
- ``SUPERSET_HOME`` (optional): Superset's data directory. Defaults to
  ``$OREF_DATA_DIR/superset``.
- ``OREF_DATA_DIR`` (optional): oref's data directory, ``./data`` by default.
- ``SUPERSET_REDIS_URL`` (optional): Redis URL for the caches, e.g. ``redis://127.0.0.1:6379/1``.
  Without it, each process keeps an in-memory cache.
- ``OREF_SQLLAB_TIMEOUT``, ``OREF_CHART_QUERY_TIMEOUT`` (seconds, default 30 and 60),
  ``OREF_DUCKDB_MEMORY_LIMIT`` (default ``1GB``), ``OREF_DUCKDB_THREADS`` (default 1),
  ``OREF_DUCKDB_MAX_TEMP_SIZE`` (default ``2GB``): bounds of every DuckDB query (oref_sqllab.py).

Two modules beside this file do the work that needs Superset itself: ``oref_sqllab.py`` (what
SQL Lab may run, timeouts, "stop query", DuckDB connection settings) and ``oref_web.py`` (the
quality reports page and the French 404 page).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

# oref_sqllab.py and oref_web.py live beside this file, which Superset loads by path.
sys.path.insert(0, str(Path(__file__).resolve().parent))

import oref_sqllab
import oref_web

# --- Secret key ---------------------------------------------------------------------------
# Superset only warns about a weak key in debug mode and accepts any non-default one; a leaked
# or guessable key lets anyone forge an admin session and decrypt stored passwords, so refuse
# to start rather than run with one.
_MIN_SECRET_KEY_LENGTH = 32
_KNOWN_DEFAULT_SECRET_KEYS = frozenset(
    {
        # Superset's own defaults and the values its docs and docker files ship with.
        "CHANGE_ME_TO_A_COMPLEX_RANDOM_SECRET",
        "\2\1thisismyscretkey\1\2\\e\\y\\y\\h",
        "thisISaSECRET_1234",
        "TEST_NON_DEV_SECRET",
        "YOUR_OWN_RANDOM_GENERATED_SECRET_KEY",
        "test-secret-change-me",
    }
)


def _secret_key() -> str:
    key = os.environ.get("SUPERSET_SECRET_KEY", "")
    if not key:
        raise RuntimeError(
            "SUPERSET_SECRET_KEY is not set: Superset refuses to start without a secret key "
            "(generate one with: openssl rand -base64 42)."
        )
    if key in _KNOWN_DEFAULT_SECRET_KEYS:
        raise RuntimeError(
            "SUPERSET_SECRET_KEY is a publicly known default value: set a random secret key "
            "(generate one with: openssl rand -base64 42)."
        )
    if len(key) < _MIN_SECRET_KEY_LENGTH:
        raise RuntimeError(
            f"SUPERSET_SECRET_KEY is too short ({len(key)} characters, "
            f"at least {_MIN_SECRET_KEY_LENGTH} required): "
            "generate one with: openssl rand -base64 42."
        )
    return key


SECRET_KEY = _secret_key()

# --- Storage --------------------------------------------------------------------------------
# Resolved once to absolute paths so that the server, the CLI and the workers agree on the
# same files whatever their working directory.
OREF_DATA_DIR = Path(os.environ.get("OREF_DATA_DIR") or "data").resolve()
DATA_DIR = str(Path(os.environ.get("SUPERSET_HOME") or OREF_DATA_DIR / "superset").resolve())


def _metadata_database_uri() -> str:
    uri = os.environ.get("SUPERSET_DATABASE_URI")
    if uri:
        return uri
    # SQLite needs its directory to exist before the first connection.
    Path(DATA_DIR).mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{Path(DATA_DIR) / 'superset.db'}?check_same_thread=false"


SQLALCHEMY_DATABASE_URI = _metadata_database_uri()

# --- Caches ---------------------------------------------------------------------------------
# Redis is shared by every worker, so a chart computed once is served to all; SimpleCache is
# per process but needs no service, which is enough for a single local server.
_REDIS_URL = os.environ.get("SUPERSET_REDIS_URL")
_CACHE_TIMEOUT = 24 * 60 * 60


def _cache(prefix: str) -> dict[str, Any]:
    if _REDIS_URL:
        return {
            "CACHE_TYPE": "RedisCache",
            "CACHE_REDIS_URL": _REDIS_URL,
            "CACHE_KEY_PREFIX": f"oref_superset_{prefix}_",
            "CACHE_DEFAULT_TIMEOUT": _CACHE_TIMEOUT,
        }
    return {"CACHE_TYPE": "SimpleCache", "CACHE_DEFAULT_TIMEOUT": _CACHE_TIMEOUT}


CACHE_CONFIG = _cache("metadata")
DATA_CACHE_CONFIG = _cache("data")
if _REDIS_URL:
    # Without Redis these two stay in Superset's default, the metadata database, which
    # survives restarts; an in-memory cache would lose users' filter states.
    FILTER_STATE_CACHE_CONFIG = _cache("filter_state")
    EXPLORE_FORM_DATA_CACHE_CONFIG = _cache("explore_form_data")

# --- Language -------------------------------------------------------------------------------
# The observatories' users read French; English stays selectable. Flask-AppBuilder takes the
# locale from the session, else this default (never from the browser's Accept-Language).
BABEL_DEFAULT_LOCALE = "fr"
# Superset's catalogue ("translations", relative to its package), then oref's corrections to it
# (superset/translations, compiled by oref_web.french_corrections), which win.
BABEL_TRANSLATION_DIRECTORIES = f"translations;{oref_web.french_corrections(Path(DATA_DIR))}"
LANGUAGES = {
    "fr": {"flag": "fr", "name": "Français"},
    "en": {"flag": "us", "name": "English"},
}

# Numbers and dates as French readers write them: 13 013 ; 0,25 ; 1 200 € ; janvier 2025.
D3_FORMAT = {
    "decimal": ",",
    # A no-break space, not the narrow one (U+202F): at a Big Number's size the narrow space is
    # too thin to read, and 1893 must read 1 893.
    "thousands": "\u00a0",
    "grouping": [3],
    "currency": ["", "\u00a0€"],
    # French writes a space before the percent sign: 67,9 %
    "percent": "\u00a0%",
}
D3_TIME_FORMAT = {
    "dateTime": "%A %e %B %Y à %X",
    "date": "%d/%m/%Y",
    "time": "%H:%M:%S",
    "periods": ["AM", "PM"],
    "days": ["dimanche", "lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi"],
    "shortDays": ["dim.", "lun.", "mar.", "mer.", "jeu.", "ven.", "sam."],
    "months": [
        "janvier",
        "février",
        "mars",
        "avril",
        "mai",
        "juin",
        "juillet",
        "août",
        "septembre",
        "octobre",
        "novembre",
        "décembre",
    ],
    "shortMonths": [
        "janv.",
        "févr.",
        "mars",
        "avr.",
        "mai",
        "juin",
        "juil.",
        "août",
        "sept.",
        "oct.",
        "nov.",
        "déc.",
    ],
}

# --- Security -------------------------------------------------------------------------------
# Refuse SQLite, shillelagh and the Superset meta-database as analytics databases: they would
# let a user with database rights read files on the server.
PREVENT_UNSAFE_DB_CONNECTIONS = True
PREVENT_UNSAFE_DEFAULT_URLS_ON_DATASET = True

# No anonymous access: the Public role stays empty (every page redirects to the login, every
# API call answers 401), and nobody registers themselves; `oref superset-user add` creates
# accounts with one of the roles Lecteur, Analyste or Steward (superset/oref_roles.py).
AUTH_ROLE_PUBLIC = "Public"
PUBLIC_ROLE_LIKE: str | None = None
AUTH_USER_REGISTRATION = False

# Jinja templating in SQL is off: it widens what a SQL Lab user can make the server do.
FEATURE_FLAGS: dict[str, bool] = {
    "ENABLE_TEMPLATE_PROCESSING": False,
    "ALERT_REPORTS": False,
    "EMBEDDED_SUPERSET": False,
}

# CSRF protection on every form and state-changing API call. Superset's default exempt list
# is trimmed to the two endpoints that cannot be abused to change data: the UI event logger
# (sent with navigator.sendBeacon, which cannot carry the CSRF header; it only appends to the
# activity log) and the chart data endpoint (read-only; a cross-site page cannot read the
# answer). The screenshot, explore_json and samples endpoints are no longer exempt.
WTF_CSRF_ENABLED = True
WTF_CSRF_EXEMPT_LIST = [
    "superset.views.core.log",
    "superset.charts.data.api.data",
]

# Never send server-side stack traces to the browser.
SHOW_STACKTRACE = False

# --- Telemetry ----------------------------------------------------------------------------------
# Superset's pip build renders a Scarf pixel (apachesuperset.gateway.scarf.sh) on every page;
# SCARF_ANALYTICS only takes effect when the frontend is built, so the Content-Security-Policy
# below is what keeps browsers from calling it: no image, font or style comes from another
# origin. Only the map tile servers stay reachable (connect-src), for deck.gl base maps.
SCARF_ANALYTICS = False
TALISMAN_ENABLED = True
TALISMAN_CONFIG = {
    "content_security_policy": {
        "base-uri": ["'self'"],
        "default-src": ["'self'"],
        "img-src": ["'self'", "blob:", "data:"],
        "worker-src": ["'self'", "blob:"],
        "connect-src": [
            "'self'",
            "https://api.mapbox.com",
            "https://events.mapbox.com",
            "https://tile.openstreetmap.org",
            "https://tile.osm.ch",
            "https://a.basemaps.cartocdn.com",
        ],
        "object-src": "'none'",
        "style-src": ["'self'", "'unsafe-inline'"],
        "font-src": ["'self'", "data:"],
        "script-src": ["'self'", "'strict-dynamic'"],
    },
    "content_security_policy_nonce_in": ["script-src"],
    # Plain HTTP on loopback: no redirect to HTTPS, and cookies not marked Secure. Behind a TLS
    # reverse proxy, set these at the proxy. (Talisman only sends HSTS over HTTPS.)
    "force_https": False,
    "session_cookie_secure": False,
}
TALISMAN_DEV_CONFIG = TALISMAN_CONFIG

# --- SQL Lab and DuckDB (oref_sqllab.py) -----------------------------------------------------
# The warehouse is published by the pipeline and is read-only for Superset: every DuckDB
# connection is opened read-only, without file, network or extension access, with bounded
# memory, threads and temporary spill, and its configuration locked (DB_CONNECTION_MUTATOR
# imposes this whatever a database's stored settings say). SQL Lab runs read statements only,
# checked by DuckDB's parser before anything runs; every query is interrupted at its timeout.
_DUCKDB_LIMITS = oref_sqllab.environment_limits(Path(DATA_DIR))
oref_sqllab.configure(_DUCKDB_LIMITS)
DB_CONNECTION_MUTATOR = oref_sqllab.guard_duckdb_connection
FLASK_APP_MUTATOR = oref_sqllab.install
SQLLAB_TIMEOUT = _DUCKDB_LIMITS.sqllab_timeout
# The browser waits a little longer than the server's own interruption, so users read the
# server's message rather than a client-side timeout.
SUPERSET_WEBSERVER_TIMEOUT = max(_DUCKDB_LIMITS.sqllab_timeout, _DUCKDB_LIMITS.chart_timeout) + 10
# Superset checks these (with its own SQL parser) in SQL Lab and in charts' ad hoc SQL; SQL Lab
# also gets DuckDB's own parser in front (oref_sqllab.check_read_only). Superset's lists for
# the other engines are kept.
_SUPERSET_DEFAULTS = sys.modules.get("superset.config")
DISALLOWED_SQL_FUNCTIONS: dict[str, set[str]] = {
    **getattr(_SUPERSET_DEFAULTS, "DISALLOWED_SQL_FUNCTIONS", {}),
    "duckdb": set(oref_sqllab.FORBIDDEN_FUNCTIONS),
}
# The database lists (SQL Lab's) show only databases a role was given SQL access to.
EXTRA_DYNAMIC_QUERY_FILTERS = {"databases": oref_sqllab.sql_databases_only}

# --- oref pages -------------------------------------------------------------------------------
# /oref/rapports/<run_id>: the run's HTML quality report (Steward, Admin); French 404 page.
BLUEPRINTS = [oref_web.blueprint]
