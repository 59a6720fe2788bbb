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
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

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
# The observatories' users read French; English stays selectable.
BABEL_DEFAULT_LOCALE = "fr"
LANGUAGES = {
    "fr": {"flag": "fr", "name": "Français"},
    "en": {"flag": "us", "name": "English"},
}

# Numbers and dates as French readers write them: 13 013 ; 0,25 ; 1 200 € ; janvier 2025.
D3_FORMAT = {
    "decimal": ",",
    "thousands": "\u202f",
    "grouping": [3],
    "currency": ["", "\u00a0€"],
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

# The warehouse is published by the pipeline and is read-only for Superset: the `oref`
# database is imported with allow_dml=false and opened read-only; nothing here turns it on.
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

# Talisman sets HTTPS-oriented headers (HSTS, strict CSP) that break a plain-HTTP local
# server; put Superset behind a TLS reverse proxy with its own headers before exposing it.
TALISMAN_ENABLED = False

# Never send server-side stack traces to the browser.
SHOW_STACKTRACE = False
