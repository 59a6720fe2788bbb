"""Superset without a server: the import bundle, superset_config.py, the SQL Lab statement check,
the files Superset opens, and the gunicorn command.

superset_config.py and the modules beside it import Flask and DuckDB, so they are loaded in the
Superset virtualenv (a subprocess), as Superset loads them.
"""

from __future__ import annotations

import io
import json
import os
import secrets
import shutil
import subprocess
import sys
import textwrap
import tomllib
import zipfile
from pathlib import Path
from typing import Any

import duckdb
import pytest
from superset_testing import SUPERSET_PYTHON, clean_environment, require_superset_venv

from oref import superset_assets as sa


def superset_python(code: str, *args: str, env: dict[str, str] | None = None, timeout: float = 120) -> str:
    """Run a snippet in the Superset virtualenv (cwd: superset/) and return its stdout."""
    require_superset_venv()
    result = subprocess.run(
        [str(SUPERSET_PYTHON), "-c", code, *args],
        env=clean_environment() if env is None else env,
        cwd=sa.SUPERSET_DIR,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return result.stdout


# runpy: the file alone, in a second; "superset": Superset's own loader (superset.config executes
# SUPERSET_CONFIG_PATH over its defaults), ten times slower.
_LOAD_CONFIG = """
import json, os, runpy, sys
if sys.argv[2] == "superset":
    os.environ["SUPERSET_CONFIG_PATH"] = sys.argv[1]
    import superset.config
    config = vars(superset.config)
else:
    config = runpy.run_path(sys.argv[1])
def plain(value):
    if isinstance(value, (set, frozenset)):
        return sorted(value)
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    if hasattr(value, "url_prefix"):  # a Flask blueprint
        return f"blueprint {value.name} {value.url_prefix}"
    if callable(value):
        return f"{getattr(value, '__module__', '')}.{getattr(value, '__name__', type(value).__name__)}"
    return value if isinstance(value, (str, int, float, bool, type(None))) else repr(value)
print(json.dumps({k: plain(v) for k, v in config.items() if k.isupper()}))
"""


def load_config(tmp_path: Path, *, through_superset: bool = False, **env: str) -> dict[str, Any]:
    """superset_config.py's settings, loaded in the Superset virtualenv with ``env`` (by
    Superset itself, over its defaults, when ``through_superset``)."""
    full_env = {**clean_environment(), "OREF_DATA_DIR": str(tmp_path / "data"), **env}
    require_superset_venv()
    loader = "superset" if through_superset else "runpy"
    result = subprocess.run(
        [str(SUPERSET_PYTHON), "-c", _LOAD_CONFIG, str(sa.SUPERSET_CONFIG), loader],
        env=full_env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    if result.returncode != 0:
        raise RuntimeError(result.stderr[-3000:])
    return dict(json.loads(result.stdout.splitlines()[-1]))


# --- One DuckDB --------------------------------------------------------------------------------------


def test_duckdb_version_is_the_same_in_both_environments() -> None:
    """One DuckDB storage format: the pipeline and Superset pin and install the same version."""
    pins = []
    for pyproject in (sa.REPO_ROOT / "pyproject.toml", sa.SUPERSET_DIR / "pyproject.toml"):
        deps = tomllib.loads(pyproject.read_text())["project"]["dependencies"]
        pins.append([dep.split("#")[0].strip() for dep in deps if dep.startswith("duckdb==")])
    assert pins[0] == pins[1] and len(pins[0]) == 1, pins

    superset_version = superset_python("import duckdb; print(duckdb.__version__)").strip()
    main_python = sa.REPO_ROOT / ".venv" / "bin" / "python"
    interpreter = str(main_python) if main_python.is_file() else sys.executable
    main_version = subprocess.run(
        [interpreter, "-c", "import duckdb; print(duckdb.__version__)"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    assert superset_version == main_version == duckdb.__version__
    assert pins[0][0] == f"duckdb=={main_version}"


# --- The import bundle -------------------------------------------------------------------------------


def test_bundle_declares_both_databases_with_their_files(tmp_path: Path) -> None:
    serving = tmp_path / "published" / "serving.duckdb"
    quality = tmp_path / "published" / "quality.duckdb"
    bundle = sa.build_import_bundle(serving, quality, tmp_path / "bundle.zip")
    with zipfile.ZipFile(bundle) as archive:
        names = archive.namelist()
        texts = {name.split("/", 1)[1]: archive.read(name).decode() for name in names}
    assert {name.split("/")[0] for name in names} == {sa.BUNDLE_ROOT}
    assert all(name.endswith(".yaml") for name in names)
    assert {"metadata.yaml", "databases/oref.yaml", "databases/oref_qualite.yaml"} <= set(texts)
    assert not any(sa.WAREHOUSE_PLACEHOLDER in t or sa.QUALITY_PLACEHOLDER in t for t in texts.values())
    assert f"sqlalchemy_uri: duckdb:///{serving}\n" in texts["databases/oref.yaml"]
    assert f"sqlalchemy_uri: duckdb:///{quality}\n" in texts["databases/oref_qualite.yaml"]
    # Same inputs, same bytes.
    assert bundle.read_bytes() == sa.render_import_bundle(serving, quality)


def test_bundle_skips_junk_files(tmp_path: Path) -> None:
    assets = tmp_path / "assets"
    shutil.copytree(sa.ASSETS_DIR, assets)
    for junk in (".DS_Store", "charts/.chart.yaml.swp", "charts/notes.txt", ".hidden/x.yaml"):
        (assets / junk).parent.mkdir(parents=True, exist_ok=True)
        (assets / junk).write_text("junk: true\n")
    (assets / "__pycache__").mkdir()
    (assets / "__pycache__" / "x.pyc").write_bytes(b"\0")
    rendered = sa.render_import_bundle(tmp_path / "s.duckdb", tmp_path / "q.duckdb", assets)
    with zipfile.ZipFile(io.BytesIO(rendered)) as archive:
        names = archive.namelist()
    expected = sorted(
        f"{sa.BUNDLE_ROOT}/{path.relative_to(sa.ASSETS_DIR).as_posix()}" for path in sa.ASSETS_DIR.rglob("*.yaml")
    )
    assert names == expected


def test_bundle_needs_both_placeholders(tmp_path: Path) -> None:
    assets = tmp_path / "assets"
    shutil.copytree(sa.ASSETS_DIR, assets)
    (assets / "databases" / "oref_qualite.yaml").unlink()
    with pytest.raises(ValueError, match=sa.QUALITY_PLACEHOLDER):
        sa.render_import_bundle(tmp_path / "s.duckdb", tmp_path / "q.duckdb", assets)


def test_datasets_belong_to_the_two_databases_by_schema() -> None:
    """Datasets of `oref` read `marts`, those of `oref_qualite` read `quality`: the roles grant
    dataset access by database, and SQL Lab access by those schemas."""
    yaml = pytest.importorskip("yaml")
    databases = {
        (doc := yaml.safe_load(path.read_text(encoding="utf-8")))["uuid"]: doc["database_name"]
        for path in (sa.ASSETS_DIR / "databases").glob("*.yaml")
    }
    assert sorted(databases.values()) == ["oref", "oref_qualite"]
    expected_schema = {"oref": "marts", "oref_qualite": "quality"}
    datasets = [yaml.safe_load(p.read_text(encoding="utf-8")) for p in (sa.ASSETS_DIR / "datasets").rglob("*.yaml")]
    assert datasets
    for dataset in datasets:
        database = databases[dataset["database_uuid"]]
        assert dataset["schema"] == expected_schema[database], (dataset["table_name"], database)


def test_bundle_rejects_unsafe_paths(tmp_path: Path) -> None:
    for name in ("a?b.duckdb", "a#b.duckdb", "a%20b.duckdb", "a:b.duckdb", "a'b.duckdb"):
        with pytest.raises(ValueError, match="Unsupported character"):
            sa.render_import_bundle(tmp_path / name, tmp_path / "q.duckdb")
        with pytest.raises(ValueError, match="Unsupported character"):
            sa.render_import_bundle(tmp_path / "s.duckdb", tmp_path / name)


# --- What Superset opens ------------------------------------------------------------------------------


def test_served_files_fall_back_to_the_warehouse_and_an_empty_quality_file(tmp_path: Path) -> None:
    warehouse_dir = tmp_path / "warehouse"
    warehouse_dir.mkdir()
    warehouse = warehouse_dir / "oref.duckdb"
    duckdb.connect(str(warehouse)).close()
    home = tmp_path / "home"

    files = sa.served_files(warehouse_dir / "serving.duckdb", warehouse_dir / "quality.duckdb", home, warehouse)
    assert files.warehouse == warehouse
    assert files.quality == home / sa.EMPTY_QUALITY_NAME
    with duckdb.connect(str(files.quality), read_only=True) as con:
        assert con.execute("select count(*) from duckdb_schemas() where schema_name = 'quality'").fetchone() == (1,)

    for name in ("serving.duckdb", "quality.duckdb"):
        duckdb.connect(str(warehouse_dir / name)).close()
    files = sa.served_files(warehouse_dir / "serving.duckdb", warehouse_dir / "quality.duckdb", home, warehouse)
    assert files == sa.ServedFiles(warehouse_dir / "serving.duckdb", warehouse_dir / "quality.duckdb")

    with pytest.raises(FileNotFoundError):
        sa.served_files(tmp_path / "none.duckdb", tmp_path / "q.duckdb", home, tmp_path / "nowarehouse.duckdb")


def test_gunicorn_command_serves_the_app_factory_with_threaded_workers(tmp_path: Path) -> None:
    command = sa.gunicorn_command("127.0.0.1", 8123, workers=3, threads=5, pidfile=tmp_path / "g.pid")
    assert command[0] == str(sa.GUNICORN_BIN)
    assert command[-1] == "superset.app:create_app()"
    joined = " ".join(command)
    for part in ("--bind 127.0.0.1:8123", "--worker-class gthread", "--workers 3", "--threads 5",
                 f"--pid {tmp_path / 'g.pid'}"):
        assert part in joined
    assert "superset run" not in joined and "flask" not in joined


# --- superset_config.py --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "key",
    ["", "short-key", "CHANGE_ME_TO_A_COMPLEX_RANDOM_SECRET", "YOUR_OWN_RANDOM_GENERATED_SECRET_KEY"],
)
def test_config_refuses_missing_short_or_default_key(tmp_path: Path, key: str) -> None:
    with pytest.raises(RuntimeError, match="SUPERSET_SECRET_KEY"):
        load_config(tmp_path, SUPERSET_SECRET_KEY=key)


def test_config_defaults(tmp_path: Path) -> None:
    config = load_config(tmp_path, SUPERSET_SECRET_KEY=secrets.token_urlsafe(48))
    expected_db = (tmp_path / "data" / "superset" / "superset.db").resolve()
    assert config["SQLALCHEMY_DATABASE_URI"] == f"sqlite:///{expected_db}?check_same_thread=false"
    assert config["CACHE_CONFIG"]["CACHE_TYPE"] == "SimpleCache"
    assert config["DATA_CACHE_CONFIG"]["CACHE_TYPE"] == "SimpleCache"
    assert "FILTER_STATE_CACHE_CONFIG" not in config  # Superset's metastore default stays
    assert config["PREVENT_UNSAFE_DB_CONNECTIONS"] is True
    assert config["WTF_CSRF_ENABLED"] is True
    assert "superset.views.core.explore_json" not in config["WTF_CSRF_EXEMPT_LIST"]


def test_config_from_environment(tmp_path: Path) -> None:
    uri = "postgresql+psycopg2://superset@db.invalid/superset"
    config = load_config(
        tmp_path,
        SUPERSET_SECRET_KEY=secrets.token_urlsafe(48),
        SUPERSET_DATABASE_URI=uri,
        SUPERSET_REDIS_URL="redis://127.0.0.1:6379/3",
        OREF_DATA_DIR=str(tmp_path / "elsewhere"),
        OREF_SQLLAB_TIMEOUT="12",
    )
    assert config["SQLALCHEMY_DATABASE_URI"] == uri
    assert config["DATA_DIR"] == str((tmp_path / "elsewhere" / "superset").resolve())
    for name in ("CACHE_CONFIG", "DATA_CACHE_CONFIG", "FILTER_STATE_CACHE_CONFIG"):
        assert config[name]["CACHE_TYPE"] == "RedisCache"
        assert config[name]["CACHE_REDIS_URL"] == "redis://127.0.0.1:6379/3"
    assert config["SQLLAB_TIMEOUT"] == 12


def test_config_french_no_anonymous_access_no_telemetry(tmp_path: Path) -> None:
    config = load_config(tmp_path, SUPERSET_SECRET_KEY=secrets.token_urlsafe(48))
    assert config["BABEL_DEFAULT_LOCALE"] == "fr"
    assert config["BABEL_TRANSLATION_DIRECTORIES"].startswith("translations;")
    assert config["PUBLIC_ROLE_LIKE"] is None and config["AUTH_USER_REGISTRATION"] is False
    assert config["SCARF_ANALYTICS"] is False
    # The pip build renders the Scarf pixel anyway: the Content-Security-Policy blocks it, and
    # every other origin for images, styles and fonts.
    assert config["TALISMAN_ENABLED"] is True
    policy = config["TALISMAN_CONFIG"]["content_security_policy"]
    assert policy["img-src"] == ["'self'", "blob:", "data:"]
    assert "scarf" not in json.dumps(config["TALISMAN_CONFIG"])
    assert all(source.startswith(("'", "data:")) for source in policy["style-src"] + policy["font-src"])
    assert config["TALISMAN_CONFIG"]["force_https"] is False
    assert config["BLUEPRINTS"] == ["blueprint oref /oref"]


def test_config_guards_sql_lab_and_duckdb(tmp_path: Path) -> None:
    config = load_config(tmp_path, through_superset=True, SUPERSET_SECRET_KEY=secrets.token_urlsafe(48))
    forbidden = set(config["DISALLOWED_SQL_FUNCTIONS"]["duckdb"])
    assert {"read_csv", "read_text", "read_blob", "glob", "read_parquet", "read_json", "sqlite_scan", "query",
            "query_table", "enable_logging"} <= forbidden
    assert "pg_read_file" in config["DISALLOWED_SQL_FUNCTIONS"]["postgresql"]  # Superset's own kept
    assert config["DB_CONNECTION_MUTATOR"] == "oref_sqllab.guard_duckdb_connection"
    assert config["FLASK_APP_MUTATOR"] == "oref_sqllab.install"
    assert config["EXTRA_DYNAMIC_QUERY_FILTERS"] == {"databases": "oref_sqllab.sql_databases_only"}
    assert config["SQLLAB_TIMEOUT"] == 30


def test_config_refuses_a_meaningless_bound(tmp_path: Path) -> None:
    with pytest.raises(RuntimeError, match="OREF_DUCKDB_MEMORY_LIMIT"):
        load_config(tmp_path, SUPERSET_SECRET_KEY=secrets.token_urlsafe(48), OREF_DUCKDB_MEMORY_LIMIT="lots")
    with pytest.raises(RuntimeError, match="OREF_SQLLAB_TIMEOUT"):
        load_config(tmp_path, SUPERSET_SECRET_KEY=secrets.token_urlsafe(48), OREF_SQLLAB_TIMEOUT="0")


_CONNECTION = """
import json, sys, duckdb
from sqlalchemy.engine.url import make_url
import oref_sqllab
oref_sqllab.configure(oref_sqllab.environment_limits(__import__("pathlib").Path(sys.argv[2])))
stored = {"connect_args": {"read_only": False, "config": {"enable_external_access": True,
          "lock_configuration": False, "custom_user_agent": "x"}}}
url, params = oref_sqllab.guard_duckdb_connection(make_url("duckdb:///" + sys.argv[1]), stored, "u", None, None)
con = duckdb.connect(sys.argv[1], **params["connect_args"])
names = ["enable_external_access", "lock_configuration", "autoinstall_known_extensions",
         "autoload_known_extensions", "allow_community_extensions", "allow_unsigned_extensions",
         "python_enable_replacements", "memory_limit", "threads", "max_temp_directory_size", "temp_directory"]
settings = {n: con.execute(f"select current_setting('{n}')").fetchone()[0] for n in names}
errors = {}
for sql in ["set threads = 8", "install httpfs", "load httpfs", "select * from read_text('/etc/hostname')",
            "create table t as select 1"]:
    try:
        con.execute(sql)
    except duckdb.Error as exc:
        errors[sql] = type(exc).__name__
print(json.dumps({"settings": settings, "errors": errors, "other": oref_sqllab.guard_duckdb_connection(
    make_url("postgresql://x@y/z"), {"a": 1}, "u", None, None)[1]}, default=str))
"""


def test_every_duckdb_connection_is_read_only_locked_and_bounded(tmp_path: Path) -> None:
    """DB_CONNECTION_MUTATOR overrides whatever a database's stored settings say."""
    warehouse = tmp_path / "w.duckdb"
    duckdb.connect(str(warehouse)).close()
    env = {**clean_environment(), "OREF_DUCKDB_MEMORY_LIMIT": "300MB", "OREF_DUCKDB_THREADS": "1",
           "OREF_DUCKDB_MAX_TEMP_SIZE": "500MB"}
    result = json.loads(superset_python(_CONNECTION, str(warehouse), str(tmp_path / "home"), env=env))
    settings = result["settings"]
    assert settings["enable_external_access"] is False and settings["lock_configuration"] is True
    for name in ("autoinstall_known_extensions", "autoload_known_extensions", "allow_community_extensions",
                 "allow_unsigned_extensions", "python_enable_replacements"):
        assert settings[name] is False, name
    assert settings["threads"] == 1
    assert settings["memory_limit"].startswith("286") and "MiB" in settings["memory_limit"]  # 300 MB
    assert settings["max_temp_directory_size"].startswith("476")  # 500 MB
    assert settings["temp_directory"] == str(tmp_path / "home" / "duckdb_tmp")
    # read-only, locked, no extension, no file
    assert set(result["errors"]) == {"set threads = 8", "install httpfs", "load httpfs",
                                     "select * from read_text('/etc/hostname')", "create table t as select 1"}
    assert result["other"] == {"a": 1}  # other engines untouched


# --- SQL Lab's statement check (DuckDB's own parser) ---------------------------------------------------

ALLOWED = [
    "select 1",
    "SELECT * FROM marts.mart_indicators WHERE value > 3 LIMIT 5",
    "with a as (select 1 as x) select x from a",
    "from marts.mart_indicators select indicator_code",
    "describe marts.mart_indicators",
    "show tables",
    "summarize marts.mart_indicators",
    "select 'it''s a string with -- and ;'",
    "(select 1) union all (select 2)",
]
REFUSED = {
    "select * from read_csv('/etc/passwd')": "fonction read_csv()",
    "select * from read_text('/etc/hostname')": "fonction read_text()",
    "select * from read_blob('/etc/hostname')": "fonction read_blob()",
    "select * from glob('/etc/*')": "fonction glob()",
    "select list_transform(['/etc/hostname'], x -> read_text(x))": "fonction read_text()",
    "select * from sqlite_scan('/tmp/x.db', 't')": "fonction sqlite_scan()",
    "select * from query('select 1')": "fonction query()",
    "select * from enable_logging(storage='file', storage_path='/tmp/x')": "fonction enable_logging()",
    "call enable_logging(storage='file', storage_path='/tmp/x')": "instruction CALL",
    "attach '/etc/hostname' as other": "instruction ATTACH",
    "copy (select 1) to '/tmp/out.csv'": "instruction COPY",
    "export database '/tmp/out'": "instruction EXPORT",
    "install httpfs": "instruction INSTALL",
    "load httpfs": "instruction LOAD",
    "set threads = 8": "instruction SET",
    "reset memory_limit": "instruction RESET",
    "pragma version": "instruction PRAGMA",
    "checkpoint": "instruction CHECKPOINT",
    "explain analyze select 1": "instruction EXPLAIN",
    "create table marts.x as select 1": "CREATE modifie",
    "drop table marts.mart_indicators": "DROP modifie",
    "insert into marts.mart_indicators (value) values (1)": "INSERT modifie",
    "update marts.mart_indicators set value = 0": "UPDATE modifie",
    "delete from marts.mart_indicators": "DELETE modifie",
    "select 1; drop table marts.mart_indicators": "DROP modifie",
    "/* a comment */ -- and another\n install httpfs": "instruction INSTALL",
    "selec 1": "ne peut pas l'analyser",
}

_CHECK = """
import json, sys
import oref_sqllab
out = {}
for sql in json.loads(sys.stdin.read()):
    try:
        oref_sqllab.check_read_only(sql)
        out[sql] = None
    except oref_sqllab.Refused as refused:
        out[sql] = refused.message
print(json.dumps(out))
"""


def test_sql_lab_statement_check() -> None:
    """Read statements pass; every other statement, and file/extension/meta functions, are refused
    with a French message naming what was refused. Nothing is executed."""
    require_superset_venv()
    result = subprocess.run(
        [str(SUPERSET_PYTHON), "-c", _CHECK],
        input=json.dumps(ALLOWED + list(REFUSED)),
        cwd=sa.SUPERSET_DIR,
        env=clean_environment(),
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    verdicts = json.loads(result.stdout)
    for sql in ALLOWED:
        assert verdicts[sql] is None, (sql, verdicts[sql])
    for sql, fragment in REFUSED.items():
        assert verdicts[sql] is not None and verdicts[sql].startswith("Requête refusée"), (sql, verdicts[sql])
        assert fragment in verdicts[sql], (sql, verdicts[sql])


def test_the_french_corrections_compile_and_win(tmp_path: Path) -> None:
    """Superset's French catalogue says "Impossible de trouver la base de données référencée" for a
    refused modification; oref's correction is compiled at start-up and overrides it."""
    code = textwrap.dedent(
        f"""
        import gettext, json
        from pathlib import Path
        import oref_web
        target = oref_web.french_corrections(Path({str(tmp_path)!r}))
        ours = gettext.GNUTranslations(open(target / "fr/LC_MESSAGES/messages.mo", "rb"))
        import superset.translations.utils as t
        theirs = gettext.GNUTranslations(open(Path(t.DIR) / "fr/LC_MESSAGES/messages.mo", "rb"))
        msg = ("This database does not allow for DDL/DML, but the query mutates data. "
               "Please contact your administrator for more assistance.")
        print(json.dumps([theirs.gettext(msg), ours.gettext(msg), ours.gettext("Error parsing")]))
        """
    )
    env = {**clean_environment(), "SUPERSET_SECRET_KEY": secrets.token_urlsafe(48)}
    theirs, ours, parsing = json.loads(superset_python(code, env=env).splitlines()[-1])
    assert theirs.startswith("Impossible de trouver la base de données")  # the wrong text we correct
    assert ours.startswith("Requête refusée : elle modifie des données")
    assert parsing == "Erreur d'analyse"


def test_user_names_are_plain(tmp_path: Path) -> None:
    """The name becomes a file name under <data>/secrets: nothing that could leave it."""
    for name in ("../x", "a/b", "Admin", "", "x" * 65, ".hidden"):
        with pytest.raises(sa.SupersetBootstrapError, match="invalid user name"):
            sa.add_user(name, "lecteur", tmp_path / "home", tmp_path / "data", {"SUPERSET_SECRET_KEY": "k" * 40})
    with pytest.raises(sa.SupersetBootstrapError, match="unknown role"):
        sa.add_user("marie", "admin", tmp_path / "home", tmp_path / "data", {"SUPERSET_SECRET_KEY": "k" * 40})
    assert not (tmp_path / "data").exists()


def test_environment_points_superset_at_the_config(tmp_path: Path) -> None:
    env = sa.superset_environment(tmp_path / "home", {"PATH": os.environ.get("PATH", "")})
    assert env["SUPERSET_CONFIG_PATH"] == str(sa.SUPERSET_CONFIG)
    assert env["SUPERSET_HOME"] == str(tmp_path / "home")
