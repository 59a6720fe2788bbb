"""Guards around the DuckDB databases oref serves through Superset (SQL Lab and charts).

Loaded by ``superset_config.py`` (its folder is put on ``sys.path``):

- :func:`guard_duckdb_connection` is the ``DB_CONNECTION_MUTATOR``: every DuckDB connection
  Superset opens is read-only, without file or network access, without extensions, with a
  bounded memory, thread count and temporary spill, and its configuration locked, whatever the
  database's stored settings say (an admin editing the database in the UI cannot loosen them).
- :func:`sql_databases_only` is the ``databases`` dynamic filter: the database lists (SQL Lab's
  among them) show a user only the databases they were given SQL access to (``database_access``
  or a ``schema_access``), not every database holding a dataset they may chart.
- :func:`install` is called by ``FLASK_APP_MUTATOR`` once the app exists, and patches
  Superset 6.1 in place (``get_engine_spec`` always returns the built-in ``DuckDBEngineSpec``,
  so a subclass registered elsewhere would never be used):

  * before Superset parses a SQL Lab script, DuckDB's own parser checks it: only read
    statements (``SELECT``, ``WITH … SELECT``, ``DESCRIBE``, ``SHOW``, ``SUMMARIZE``, ``FROM …``)
    pass, and no function of :data:`FORBIDDEN_FUNCTIONS`; anything else is refused with a French
    message naming what was refused, before DuckDB executes anything. Some statements crash the
    whole process instead of raising (``CALL enable_logging(storage='file', …)`` with external
    access disabled ends in ``std::terminate``), so refusing them up front is the only safe way.
  * every DuckDB execution (SQL Lab, charts, samples) runs under a watchdog thread that calls
    ``interrupt()`` on the connection when the timeout passes or when "stop query" was asked.
    Superset's own SQL Lab timeout is a ``SIGALRM``: it cannot fire in gunicorn's worker
    threads, and a Python signal never interrupts DuckDB's C++ execution anyway.
  * "stop query" writes a cancel flag file (``$SUPERSET_HOME/sqllab-cancel/<token>``) that the
    running query's watchdog polls, so it works when the stop request reaches another gunicorn
    worker process than the query (workers on one host share the home; servers on several hosts
    would need it on a shared disk).
  * SQL Lab lists a file's schemas by their plain names (``marts``, not ``oref.marts``), so
    that schema permissions match them.
  * a ``LIMIT`` written by the user is kept when it is not above SQL Lab's row limit (Superset
    6.1 replaces any ``LIMIT`` by the row limit + 1).

Environment (read when the configuration loads; documented in ``.env.example``):
``OREF_SQLLAB_TIMEOUT`` (s), ``OREF_CHART_QUERY_TIMEOUT`` (s), ``OREF_DUCKDB_MEMORY_LIMIT``,
``OREF_DUCKDB_THREADS``, ``OREF_DUCKDB_MAX_TEMP_SIZE``.
"""

from __future__ import annotations

import logging
import os
import re
import threading
import time
import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

logger = logging.getLogger(__name__)

# --- What SQL Lab may run --------------------------------------------------------------------

# DuckDB functions that read or list server files, reach other databases, run SQL given as a
# string, change logging or profiling, checkpoint, or expose secrets. The file readers already
# fail with enable_external_access=false; listing them refuses the query before DuckDB runs it
# (and Superset's DISALLOWED_SQL_FUNCTIONS uses the same list for charts' ad hoc SQL). The
# extension functions (sqlite_scan, postgres_scan…) cannot load either; naming them gives the
# user a clear refusal instead of a "not in the catalog, install the extension" hint.
FORBIDDEN_FUNCTIONS: frozenset[str] = frozenset(
    {
        # files on the server
        "read_csv",
        "read_csv_auto",
        "sniff_csv",
        "read_json",
        "read_json_auto",
        "read_json_objects",
        "read_json_objects_auto",
        "read_ndjson",
        "read_ndjson_auto",
        "read_ndjson_objects",
        "read_parquet",
        "parquet_scan",
        "parquet_metadata",
        "parquet_schema",
        "parquet_file_metadata",
        "parquet_kv_metadata",
        "parquet_bloom_probe",
        "read_text",
        "read_blob",
        "read_xlsx",
        "glob",
        "st_read",
        "iceberg_scan",
        "iceberg_metadata",
        "iceberg_snapshots",
        "delta_scan",
        # other databases (extensions)
        "sqlite_scan",
        "sqlite_attach",
        "postgres_scan",
        "postgres_attach",
        "postgres_query",
        "mysql_scan",
        "mysql_query",
        # SQL given as a string, or objects of the Python process
        "query",
        "query_table",
        "json_execute_serialized_sql",
        "arrow_scan",
        "arrow_scan_dumb",
        "pandas_scan",
        "python_map_function",
        # logging, profiling, checkpoints (enable_logging to a file aborts the process)
        "enable_logging",
        "disable_logging",
        "truncate_duckdb_logs",
        "duckdb_logs",
        "duckdb_logs_parsed",
        "duckdb_log_contexts",
        "write_log",
        "checkpoint",
        "force_checkpoint",
        # secrets
        "duckdb_secrets",
        "which_secret",
    }
)

# DuckDB statement types (duckdb.StatementType names) that change data or structure.
_MODIFYING_TYPES = frozenset(
    {"INSERT", "UPDATE", "DELETE", "CREATE", "DROP", "ALTER", "CREATE_FUNC", "MERGE_INTO", "COPY_DATABASE"}
)
_READ_TYPES = frozenset({"SELECT"})

# Substituted for the error message DuckDB would give; also what charts show.
MESSAGE_MODIFYING = (
    "Requête refusée : {keyword} modifie des données ou leur structure. L'entrepôt est en lecture "
    "seule : SQL Lab refuse INSERT, UPDATE, DELETE, CREATE, DROP, ALTER et toute autre modification."
)
MESSAGE_STATEMENT = (
    "Requête refusée : l'instruction {keyword} n'est pas autorisée. SQL Lab n'exécute que des "
    "requêtes de lecture (SELECT, WITH … SELECT, DESCRIBE, SHOW, SUMMARIZE)."
)
MESSAGE_FUNCTION = (
    "Requête refusée : la fonction {function}() n'est pas autorisée dans SQL Lab (lecture de fichiers "
    "du serveur, accès à d'autres bases, extensions, journaux ou configuration de DuckDB)."
)
MESSAGE_SYNTAX = "Requête refusée : DuckDB ne peut pas l'analyser. {detail}"
MESSAGE_NO_SQL_ACCESS = (
    "Accès refusé : votre rôle ne donne pas accès à SQL Lab sur la base « {database} »."
)
MESSAGE_TIMEOUT = (
    "La requête a dépassé la durée maximale de {seconds} s et a été interrompue. Filtrez, agrégez ou "
    "limitez davantage les données lues."
)
MESSAGE_STOPPED = "Requête arrêtée à la demande de l'utilisateur."
MESSAGE_TABLES = (
    "Accès refusé : votre rôle ne permet pas de lire {tables}. SQL Lab ne donne accès qu'aux schémas "
    "de votre rôle (marts pour Analyste, quality pour Steward) ; qualifiez les tables par leur schéma."
)


class Refused(Exception):
    """A query refused before DuckDB runs it; ``message`` is what the user reads (French)."""

    def __init__(self, message: str, *, modifying: bool = False) -> None:
        super().__init__(message)
        self.message = message
        self.modifying = modifying


class Interrupted(Exception):
    """A DuckDB query interrupted by the watchdog (timeout or stop); the message is French."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


_parser_local = threading.local()
_parser_lock = threading.Lock()
_parser_db: Any = None


def _parser() -> Any:
    """A per-thread cursor on a private in-memory DuckDB, used to parse, never to run user SQL."""
    global _parser_db
    cursor = getattr(_parser_local, "cursor", None)
    if cursor is None:
        import duckdb

        with _parser_lock:
            if _parser_db is None:
                config = {**_LOCKED_CONFIG, "threads": 1, "memory_limit": "256MB"}
                _parser_db = duckdb.connect(":memory:", config=config)
            cursor = _parser_db.cursor()
        _parser_local.cursor = cursor
    return cursor


def _function_names(node: Any, found: set[str]) -> set[str]:
    """Every ``function_name`` in a ``json_serialize_sql`` tree (scalar, aggregate, table functions)."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "function_name" and isinstance(value, str):
                found.add(value.lower())
            else:
                _function_names(value, found)
    elif isinstance(node, list):
        for value in node:
            _function_names(value, found)
    return found


def _first_word(text: str) -> str:
    words = re.findall(r"[A-Za-z_]+", re.sub(r"--[^\n]*|/\*.*?\*/", " ", text, flags=re.S))
    return words[0].upper() if words else ""


def _keyword(statement: Any, script: str) -> tuple[str, bool]:
    """The leading keyword of a statement, to name it in a refusal (``INSTALL``, ``COPY``…).

    The second value says whether the user wrote that keyword: DuckDB rewrites some statements
    (``PRAGMA version`` becomes a SELECT, a ``PIVOT`` without ``IN`` list starts with a
    ``CREATE TYPE``), and then the script's own first keyword names it better.
    """
    try:
        keyword = _first_word(str(statement.query))
    except Exception:  # DuckDB cannot always render a statement back
        keyword = ""
    if keyword and re.search(rf"(?<![A-Za-z_]){keyword}(?![A-Za-z_])", script, flags=re.I):
        return keyword, True
    return _first_word(script) or statement.type.name, False


def check_read_only(sql: str) -> None:
    """Raise :class:`Refused` unless every statement of ``sql`` is a read DuckDB accepts.

    DuckDB's own parser decides (``extract_statements`` for the statement types,
    ``json_serialize_sql`` for the functions called), so what is checked is exactly what DuckDB
    would run; nothing is executed.
    """
    import json

    import duckdb

    if "\x00" in sql:
        raise Refused(MESSAGE_SYNTAX.format(detail="caractère NUL dans la requête."))
    cursor = _parser()
    try:
        statements = cursor.extract_statements(sql)
    except duckdb.Error as exc:
        raise Refused(MESSAGE_SYNTAX.format(detail=str(exc).split("\n")[0])) from None
    if not statements:
        raise Refused(MESSAGE_SYNTAX.format(detail="la requête est vide."))
    for statement in statements:
        kind = statement.type.name
        if kind in _READ_TYPES:
            continue
        keyword, written = _keyword(statement, sql)
        if kind in _MODIFYING_TYPES and written:
            raise Refused(MESSAGE_MODIFYING.format(keyword=keyword), modifying=True)
        raise Refused(MESSAGE_STATEMENT.format(keyword=keyword))
    # A literal, not a bound parameter: DuckDB prepares json_serialize_sql(?) in ~15 ms, the
    # literal in ~0.3 ms. Standard SQL strings only escape quotes by doubling them.
    literal = sql.replace("'", "''")
    tree = json.loads(cursor.execute(f"select json_serialize_sql('{literal}')").fetchone()[0])
    if tree.get("error"):
        # SELECT-typed for extract_statements but not a plain query: PRAGMA, for one.
        raise Refused(MESSAGE_STATEMENT.format(keyword=_first_word(sql)))
    forbidden = sorted(_function_names(tree, set()) & FORBIDDEN_FUNCTIONS)
    if forbidden:
        raise Refused(MESSAGE_FUNCTION.format(function=forbidden[0]))


# --- Connection settings -----------------------------------------------------------------------

# Fixed for the life of every connection: no file or network access beyond the database file
# itself, no extension installed or loaded (autoinstall would try to download sqlite_scanner for
# `sqlite_scan`), no replacement scans of Python variables of the Superset process, and the
# configuration locked so that SET cannot undo it.
_LOCKED_CONFIG: dict[str, Any] = {
    "enable_external_access": False,
    "autoinstall_known_extensions": False,
    "autoload_known_extensions": False,
    "allow_community_extensions": False,
    "allow_unsigned_extensions": False,
    "python_enable_replacements": False,
    "lock_configuration": True,
}
# Every connection to one file in one process must carry the same configuration (DuckDB refuses
# a second one with "different configuration"); Superset's user agent may vary, so fix it.
_USER_AGENT = "oref-superset"


@dataclass(frozen=True)
class DuckDBLimits:
    """Resource bounds of every DuckDB connection Superset opens, and the query timeouts."""

    memory_limit: str = "1GB"
    threads: int = 1
    max_temp_directory_size: str = "2GB"
    temp_directory: str = ""
    sqllab_timeout: int = 30
    chart_timeout: int = 60

    @classmethod
    def from_env(cls, env: Mapping[str, str], data_dir: Path) -> DuckDBLimits:
        def number(name: str, default: int) -> int:
            raw = env.get(name) or str(default)
            if not raw.isdigit() or int(raw) < 1:
                raise RuntimeError(f"{name}={raw!r}: expected a whole number ≥ 1")
            return int(raw)

        def size(name: str, default: str) -> str:
            raw = (env.get(name) or default).strip()
            if not re.fullmatch(r"\d+(\.\d+)?\s*(B|KB|MB|GB|TB|KiB|MiB|GiB|TiB)", raw, flags=re.I):
                raise RuntimeError(f"{name}={raw!r}: expected a size such as 1GB or 512MB")
            return raw

        return cls(
            memory_limit=size("OREF_DUCKDB_MEMORY_LIMIT", cls.memory_limit),
            threads=number("OREF_DUCKDB_THREADS", cls.threads),
            max_temp_directory_size=size("OREF_DUCKDB_MAX_TEMP_SIZE", cls.max_temp_directory_size),
            temp_directory=str(data_dir / "duckdb_tmp"),
            sqllab_timeout=number("OREF_SQLLAB_TIMEOUT", cls.sqllab_timeout),
            chart_timeout=number("OREF_CHART_QUERY_TIMEOUT", cls.chart_timeout),
        )

    def connect_config(self) -> dict[str, Any]:
        return {
            **_LOCKED_CONFIG,
            "memory_limit": self.memory_limit,
            "threads": self.threads,
            "max_temp_directory_size": self.max_temp_directory_size,
            "temp_directory": self.temp_directory,
            "custom_user_agent": _USER_AGENT,
        }


_limits = DuckDBLimits()


def configure(limits: DuckDBLimits) -> None:
    """Set the bounds used by the mutator and the watchdog (called by superset_config.py)."""
    global _limits
    _limits = limits


def guard_duckdb_connection(uri: Any, params: dict[str, Any], *_: Any) -> tuple[Any, dict[str, Any]]:
    """``DB_CONNECTION_MUTATOR``: impose read-only, the locked settings and the bounds on DuckDB."""
    if not str(getattr(uri, "drivername", "")).startswith("duckdb"):
        return uri, params
    connect_args = dict(params.get("connect_args") or {})
    connect_args["read_only"] = True
    # Stored settings first, ours over them: nothing stored in the metadata database can loosen
    # them (custom_user_agent included, see _USER_AGENT).
    connect_args["config"] = {**dict(connect_args.get("config") or {}), **_limits.connect_config()}
    return uri, {**params, "connect_args": connect_args}


# --- Who sees which database ---------------------------------------------------------------------


def _sql_database_names() -> tuple[set[str], set[str]]:
    """(database perms, database names) the current user was given SQL access to."""
    from superset import security_manager

    database_perms = security_manager.user_view_menu_names("database_access")
    schema_databases = {perm.split(".")[0][1:-1] for perm in security_manager.user_view_menu_names("schema_access")}
    return database_perms, schema_databases


def has_sql_access(database: Any) -> bool:
    """SQL on a database needs ``database_access`` or a ``schema_access`` on it.

    Superset also lets a user query any table they have a ``datasource_access`` on, so a Steward
    (who charts the marts) could run SQL on the warehouse; oref keeps SQL to the schemas a role
    was given.
    """
    from superset import security_manager

    if security_manager.can_access_all_databases() or security_manager.can_access_database(database):
        return True
    _, schema_databases = _sql_database_names()
    return str(database.database_name) in schema_databases


def sql_databases_only(query: Any) -> Any:
    """``EXTRA_DYNAMIC_QUERY_FILTERS["databases"]``: list only the databases of :func:`has_sql_access`."""
    from sqlalchemy import or_
    from superset.models.core import Database

    from superset import security_manager

    if security_manager.can_access_all_databases():
        return query
    database_perms, schema_databases = _sql_database_names()
    return query.filter(or_(Database.perm.in_(database_perms), Database.database_name.in_(schema_databases)))


# --- Watchdog: timeout and stop ------------------------------------------------------------------

_POLL_SECONDS = 0.1
_CANCEL_TOKEN = re.compile(r"[0-9a-f]{32}")
_active = threading.local()
_cancel_dir = Path("sqllab-cancel")


class _Watchdog:
    """Interrupts one DuckDB execution when its deadline passes or its cancel flag appears."""

    def __init__(self, cursor: Any, timeout: int, cancel_flag: Path | None) -> None:
        self.cursor = cursor
        self.timeout = timeout
        self.cancel_flag = cancel_flag
        self.reason: str | None = None
        self._deadline = time.monotonic() + timeout
        self._done = threading.Event()
        # Held while interrupting, and by the executing thread when it finishes: an interrupt
        # never lands on the connection after its query returned.
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._watch, name="oref-duckdb-watchdog", daemon=True)

    def _watch(self) -> None:
        while not self._done.wait(_POLL_SECONDS):
            if time.monotonic() >= self._deadline:
                reason = "timeout"
            elif self.cancel_flag is not None and self.cancel_flag.exists():
                reason = "stopped"
            else:
                continue
            with self._lock:
                if self._done.is_set():
                    return
                self.reason = reason
                try:
                    self.cursor.interrupt()
                except Exception:
                    logger.exception("could not interrupt a DuckDB query")
            return

    def __enter__(self) -> _Watchdog:
        _active.watchdog = self
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        with self._lock:
            self._done.set()
        _active.watchdog = None
        self._thread.join(timeout=1)
        if self.cancel_flag is not None:
            self.cancel_flag.unlink(missing_ok=True)

    def translate(self, exc: BaseException) -> BaseException:
        """The French exception for an interrupted query, or ``exc`` itself."""
        if self.reason == "timeout":
            return Interrupted(MESSAGE_TIMEOUT.format(seconds=self.timeout))
        if self.reason == "stopped":
            return Interrupted(MESSAGE_STOPPED)
        return exc


@contextmanager
def _watched(cursor: Any, timeout: int, cancel_flag: Path | None) -> Iterator[_Watchdog | None]:
    """Run the block under a watchdog, unless one already watches this thread (SQL Lab's)."""
    if getattr(_active, "watchdog", None) is not None:
        yield None
        return
    with _Watchdog(cursor, timeout, cancel_flag) as dog:
        try:
            yield dog
        except Exception as exc:
            translated = dog.translate(exc)
            if translated is exc:
                raise
            raise translated from exc


def _cancel_flag(token: object) -> Path | None:
    if isinstance(token, str) and _CANCEL_TOKEN.fullmatch(token):
        return _cancel_dir / token
    return None


# --- Patches -------------------------------------------------------------------------------------


def _patch_engine_spec() -> None:
    from superset.common.db_query_status import QueryStatus
    from superset.constants import QUERY_CANCEL_KEY, QUERY_EARLY_CANCEL_KEY
    from superset.db_engine_specs.duckdb import DuckDBEngineSpec

    from superset import db

    spec: Any = DuckDBEngineSpec
    if getattr(spec, "_oref_guarded", False):
        return
    original_execute = spec.execute.__func__
    original_execute_with_cursor = spec.execute_with_cursor.__func__
    original_extract_error_message = spec.extract_error_message.__func__

    def execute(cls: Any, cursor: Any, query: str, database: Any, **kwargs: Any) -> None:
        # Charts, samples and SQL Lab all end here: the read-only check is the last wall before
        # DuckDB, and a query not already watched by SQL Lab gets the chart timeout.
        check_read_only(query)
        with _watched(cursor, _limits.chart_timeout, None):
            original_execute(cls, cursor, query, database, **kwargs)

    def execute_with_cursor(cls: Any, cursor: Any, sql: str, query: Any) -> None:
        flag = _cancel_flag(query.extra.get(QUERY_CANCEL_KEY))
        with _watched(cursor, _limits.sqllab_timeout, flag):
            original_execute_with_cursor(cls, cursor, sql, query)

    def get_cancel_query_id(cls: Any, cursor: Any, query: Any) -> str:
        # Any unique token: the flag file named after it is what the watchdog polls.
        return uuid.uuid4().hex

    def prepare_cancel_query(cls: Any, query: Any) -> None:
        # Stop asked before the token was stored: execute_sql_statements sees STOPPED and skips.
        if QUERY_CANCEL_KEY not in query.extra:
            query.set_extra_json_key(QUERY_EARLY_CANCEL_KEY, True)
            db.session.commit()

    def cancel_query(cls: Any, cursor: Any, query: Any, cancel_query_id: str) -> bool:
        flag = _cancel_flag(cancel_query_id)
        if flag is None:
            return False
        # STOPPED is committed before the flag appears, so the interrupted query, refreshing
        # its row, reports "stopped" rather than an error.
        query.status = QueryStatus.STOPPED
        db.session.commit()
        flag.parent.mkdir(parents=True, exist_ok=True)
        flag.touch()
        return True

    def get_schema_names(cls: Any, inspector: Any) -> set[str]:
        # duckdb_engine lists "<catalog>.<schema>" for every attached catalog ("oref.marts",
        # "system.main"…). Superset's schema permissions split on dots, so "[oref].[oref.marts]"
        # never matches and a user with schema_access on marts saw no schema at all. A served
        # file is one catalog: list its schemas by their plain names, as datasets name them.
        from sqlalchemy import text

        rows = inspector.bind.execute(
            text("select schema_name from duckdb_schemas() where database_name = current_database()")
        )
        return {str(row[0]) for row in rows}

    def extract_error_message(cls: Any, ex: Exception) -> str:
        seen: BaseException | None = ex
        while seen is not None:
            if isinstance(seen, Refused | Interrupted):
                return seen.message
            seen = seen.__cause__
        return str(original_extract_error_message(cls, ex))

    spec.execute = classmethod(execute)
    spec.execute_with_cursor = classmethod(execute_with_cursor)
    spec.get_cancel_query_id = classmethod(get_cancel_query_id)
    spec.prepare_cancel_query = classmethod(prepare_cancel_query)
    spec.cancel_query = classmethod(cancel_query)
    spec.get_schema_names = classmethod(get_schema_names)
    spec.extract_error_message = classmethod(extract_error_message)
    spec._oref_guarded = True


def _refuse_before_parsing(query: Any) -> None:
    """SQL Lab's first check of a query: SQL access to its database, then DuckDB's parser.

    It runs before Superset's own table-access check, which parses the script with sqlglot:
    ``EXPORT DATABASE`` fails there as a syntax error, and file functions as a missing
    permission on a table named ``main``; the user reads what was refused instead.
    """
    from superset.errors import ErrorLevel, SupersetError, SupersetErrorType
    from superset.exceptions import SupersetErrorException

    database = query.database
    if database is None or database.db_engine_spec.engine != "duckdb":
        return
    if not has_sql_access(database):
        raise SupersetErrorException(
            SupersetError(
                message=MESSAGE_NO_SQL_ACCESS.format(database=database.database_name),
                error_type=SupersetErrorType.QUERY_SECURITY_ACCESS_ERROR,
                level=ErrorLevel.ERROR,
            ),
            status=403,
        )
    try:
        check_read_only(query.sql)
    except Refused as refused:
        # Not INVALID_SQL_ERROR: SQL Lab titles that one "Unable to parse SQL". These two are shown
        # as "<engine_name> Error" followed by the message.
        kind = SupersetErrorType.QUERY_SECURITY_ACCESS_ERROR
        if refused.modifying:
            kind = SupersetErrorType.DML_NOT_ALLOWED_ERROR
        error = SupersetError(
            message=refused.message, error_type=kind, level=ErrorLevel.ERROR, extra={"engine_name": "DuckDB"}
        )
        raise SupersetErrorException(error, status=400) from None


def _patch_sql_lab() -> None:
    from flask import current_app
    from superset.commands.sql_lab.execute import ExecuteSqlCommand

    from superset import sql_lab

    module: Any = sql_lab
    command: Any = ExecuteSqlCommand
    if getattr(module, "_oref_guarded", False):
        return
    original_validate_access = command._validate_access
    original_apply_limit = module.apply_limit

    def validate_access(self: Any, query: Any, template_params: Any = None) -> None:
        _refuse_before_parsing(query)
        original_validate_access(self, query, template_params)

    def apply_limit(query: Any, parsed_statement: Any) -> None:
        # Superset 6.1 sets LIMIT <row limit + 1> on every read statement, so a user's LIMIT 5
        # became LIMIT 1001. Keep the user's LIMIT when it is within the row limit (the
        # behaviour of Superset before its sqlglot rewrite); otherwise cap it as Superset does.
        if not parsed_statement.is_mutating() and not query.select_as_cta_used:
            sql_max_row = current_app.config["SQL_MAX_ROW"]
            row_limit = min(filter(None, (query.limit, sql_max_row)), default=None)
            user_limit = parsed_statement.get_limit_value()
            if user_limit is not None and row_limit is not None and user_limit <= row_limit:
                query.limit = row_limit
                return
        original_apply_limit(query, parsed_statement)

    command._validate_access = validate_access
    module.apply_limit = apply_limit
    module._oref_guarded = True


def _patch_security_messages() -> None:
    from superset.security.manager import SupersetSecurityManager

    manager: Any = SupersetSecurityManager

    def get_table_access_error_msg(self: Any, tables: Any) -> str:
        # Superset's message is an untranslated f-string naming permissions users cannot ask for.
        return MESSAGE_TABLES.format(tables=", ".join(f"`{table}`" for table in sorted(map(str, tables))))

    manager.get_table_access_error_msg = get_table_access_error_msg


def install(app: Any) -> None:
    """``FLASK_APP_MUTATOR``: patch Superset once its modules can be imported."""
    global _cancel_dir
    _cancel_dir = Path(app.config["DATA_DIR"]) / "sqllab-cancel"
    _cancel_dir.mkdir(parents=True, exist_ok=True)
    # Flags of queries that ended before their watchdog could remove them (a killed worker).
    cutoff = time.time() - 24 * 3600
    for stale in _cancel_dir.iterdir():
        try:
            if stale.stat().st_mtime < cutoff:
                stale.unlink(missing_ok=True)
        except FileNotFoundError:  # another worker, starting at the same time, removed it
            continue
    Path(_limits.temp_directory or app.config["DATA_DIR"]).mkdir(parents=True, exist_ok=True)
    _patch_engine_spec()
    _patch_sql_lab()
    _patch_security_messages()


def environment_limits(data_dir: Path, env: Mapping[str, str] | None = None) -> DuckDBLimits:
    """The bounds from the environment (superset_config.py calls this once)."""
    return DuckDBLimits.from_env(os.environ if env is None else env, data_dir)
