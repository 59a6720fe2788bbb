"""The one settings object of oref, read from the environment.

Every oref setting (territory, paths, source mode, HTTP tuning, API credentials) is read here, by
``Settings.from_env``, and passed on as a ``Settings``: the Airflow DAG, the CLI and the tests all
go through it. Elsewhere the environment is only handed on whole to child processes (dbt,
Superset). Settings is also the one place that validates the territory: dbt receives the validated
codes as vars and does not check them again.
"""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

from oref import __version__
from oref.errors import ConfigError

SourceMode = Literal["snapshot", "live"]

# The repository: dbt_project/, expectations/ and the bundled snapshot live under it.
PROJECT_ROOT = Path(__file__).resolve().parents[2]

# Real hosts of the sources. In snapshot mode every https URL is served by the replay server under
# ``<replay_url>/<host>``, so the path after the host segment is the real URL path; the replay server
# also knows each host that has a folder in the snapshot.
LIVE_HOSTS: tuple[str, ...] = (
    "www.insee.fr",
    "www.data.gouv.fr",
    "static.data.gouv.fr",
    "open.urssaf.fr",
    "opendata.caissedesdepots.fr",
    "statistiques.francetravail.org",
    "recherche-entreprises.api.gouv.fr",
    "api.francetravail.io",
    "entreprise.francetravail.fr",
)
# Snapshot mode only: the credentials the replay server's OAuth emulator accepts (and nothing else
# does), so the offers source runs its real token flow offline. Never used in live mode.
REPLAY_FRANCE_TRAVAIL_CLIENT = ("oref-replay-client", "oref-replay-secret")

_DEPT_RE = re.compile(r"^(?:\d{2}|2A|2B|97[1-6])$")
_REGION_RE = re.compile(r"^\d{2}$")

# The peers every dashboard sets the territory beside: the five DROM. France entière is
# added by the marts from the national files. OREF_COMPARISON overrides the list ("none" disables).
DEFAULT_COMPARISON: tuple[str, ...] = ("971", "972", "973", "974", "976")

# Départements of each région (2016 map). Region-level territories expand through this table.
REGION_DEPARTEMENTS: dict[str, tuple[str, ...]] = {
    "01": ("971",), "02": ("972",), "03": ("973",), "04": ("974",), "06": ("976",),
    "11": ("75", "77", "78", "91", "92", "93", "94", "95"),
    "24": ("18", "28", "36", "37", "41", "45"),
    "27": ("21", "25", "39", "58", "70", "71", "89", "90"),
    "28": ("14", "27", "50", "61", "76"),
    "32": ("02", "59", "60", "62", "80"),
    "44": ("08", "10", "51", "52", "54", "55", "57", "67", "68", "88"),
    "52": ("44", "49", "53", "72", "85"),
    "53": ("22", "29", "35", "56"),
    "75": ("16", "17", "19", "23", "24", "33", "40", "47", "64", "79", "86", "87"),
    "76": ("09", "11", "12", "30", "31", "32", "34", "46", "48", "65", "66", "81", "82"),
    "84": ("01", "03", "07", "15", "26", "38", "42", "43", "63", "69", "73", "74"),
    "93": ("04", "05", "06", "13", "83", "84"),
    "94": ("2A", "2B"),
}
# the 101 départements of the COG, in code order (2A and 2B between 19 and 21, the DROM last)
ALL_DEPARTEMENTS: tuple[str, ...] = tuple(sorted(
    (d for codes in REGION_DEPARTEMENTS.values() for d in codes),
    key=lambda d: (len(d), d.replace("2A", "20A").replace("2B", "20B"))))


def parse_comparison(raw: str | None) -> tuple[str, ...]:
    """``OREF_COMPARISON``: comma-separated département codes; unset = the DROM; ``none`` = no peers."""
    if raw is None or not raw.strip():
        return DEFAULT_COMPARISON
    if raw.strip().lower() == "none":
        return ()
    codes = tuple(dict.fromkeys(c.strip().upper() for c in raw.split(",") if c.strip()))
    bad = [c for c in codes if not _DEPT_RE.match(c)]
    if bad:
        raise ConfigError(f"OREF_COMPARISON={raw!r}: {bad[0]!r} is not a département code (e.g. '971', '2A')")
    return codes


@dataclass(frozen=True)
class Territory:
    """The observed territory: a département (``972``) or a région (``reg:02``).

    Région and département codes overlap (``02`` is both the Aisne and the Martinique région),
    hence the explicit ``reg:`` prefix.
    """

    kind: Literal["departement", "region"]
    code: str

    @classmethod
    def parse(cls, raw: str) -> Territory:
        """``972``, ``2A`` or ``reg:02``; a code that is not one of the 101 départements or 18 régions
        of the COG (``00``, ``reg:99``) is refused with the valid forms listed."""
        value = raw.strip()
        valid = ("valid forms: a département code, one of " + ", ".join(ALL_DEPARTEMENTS)
                 + "; or 'reg:' and a région code, one of " + ", ".join(sorted(REGION_DEPARTEMENTS)))
        if value.lower().startswith("reg:"):
            code = value[4:].strip()
            if not _REGION_RE.match(code):
                raise ConfigError(f"OREF_TERRITORY={raw!r}: a région code is two digits, e.g. 'reg:02'")
            if code not in REGION_DEPARTEMENTS:
                raise ConfigError(f"OREF_TERRITORY={raw!r}: no région has the code {code!r}; {valid}")
            return cls("region", code)
        code = value.upper()
        if code in ("FR", "FRANCE"):
            raise ConfigError(f"OREF_TERRITORY={raw!r}: a run observes one département or one région; France "
                              "entière is published beside it as the comparison of every run")
        if not _DEPT_RE.match(code):
            raise ConfigError(
                f"OREF_TERRITORY={raw!r}: expected a département code (e.g. '972', '2A', '75') "
                "or 'reg:NN' for a région"
            )
        if code not in ALL_DEPARTEMENTS:
            raise ConfigError(f"OREF_TERRITORY={raw!r}: no département has the code {code!r}; {valid}")
        return cls("departement", code)

    @property
    def label(self) -> str:
        return f"reg:{self.code}" if self.kind == "region" else self.code

    def ods_where(self) -> str:
        """Opendatasoft ODSQL filter selecting this territory in URSSAF-style exports."""
        column = "code_region" if self.kind == "region" else "code_departement"
        return f'{column}="{self.code}"'

    @property
    def departements(self) -> tuple[str, ...]:
        """The département codes this territory covers."""
        if self.kind == "departement":
            return (self.code,)
        try:
            return REGION_DEPARTEMENTS[self.code]
        except KeyError:
            raise ConfigError(f"unknown région code {self.code!r}") from None


def _positive_int(env: Mapping[str, str], name: str, default: int) -> int:
    text = (env.get(name) or "").strip()
    if not text:
        return default
    if not text.isdigit() or int(text) < 1:
        raise ConfigError(f"{name}={text!r}: expected a whole number, 1 or more")
    return int(text)


def parse_drift_severity(value: str | None) -> Literal["warn", "error"]:
    """``OREF_DRIFT_SEVERITY``: ``warn`` (default) or ``error`` (a drift blocks the publication)."""
    text = (value or "warn").strip().lower()
    if text not in ("warn", "error"):
        raise ConfigError(f"OREF_DRIFT_SEVERITY={value!r}: expected 'warn' or 'error'")
    return "error" if text == "error" else "warn"


def parse_drift_factors(value: str | None) -> tuple[tuple[str, float], ...]:
    """``OREF_DRIFT_FACTORS=code=5,other=2`` -> ``(("code", 5.0), ("other", 2.0))``; each factor > 1."""
    pairs: list[tuple[str, float]] = []
    for item in (value or "").split(","):
        if not item.strip():
            continue
        code, sep, number = item.partition("=")
        try:
            factor = float(number)
        except ValueError:
            factor = 0.0
        if not sep or not code.strip() or factor <= 1:
            raise ConfigError(f"OREF_DRIFT_FACTORS: {item.strip()!r} is not indicator_code=factor (factor > 1)")
        pairs.append((code.strip(), factor))
    return tuple(pairs)


@dataclass(frozen=True)
class Settings:
    territory: Territory = field(default_factory=lambda: Territory("departement", "972"))
    comparison_departements: tuple[str, ...] = DEFAULT_COMPARISON
    data_dir: Path = Path("data")
    source_mode: SourceMode = "live"
    replay_url: str | None = None
    snapshot_dir: Path = Path("data/snapshot")
    connect_timeout: float = 10.0
    read_timeout: float = 120.0
    # the whole of one HTTP call, retries included: a server trickling bytes never hits read_timeout
    total_timeout: float = 600.0
    max_retries: int = 4
    # sources fetched at once by `oref run`/`oref fetch` (each host keeps its rate limit across them)
    fetch_workers: int = 4
    backoff_base: float = 1.0
    backoff_max: float = 60.0
    max_download_bytes: int = 2 * 1024**3
    france_travail_client_id: str | None = None
    france_travail_client_secret: str | None = field(default=None, repr=False)  # never printed
    # fault injection (oref.pause): OREF_PAUSE_AT=fetch|dbt|audit|publish stops the run there for a kill
    pause_at: str | None = None
    pause_seconds: float = 600.0
    # builds of past runs kept in warehouse/builds/ for debugging (older ones are removed by the next build)
    keep_builds: int = 3
    # drift checks against the previous publication (oref.quality.drift): an indicator value moving
    # beyond x factor (or / factor) and raw row counts beyond it; severity "warn" or "error"
    drift_factor: float = 3.0
    drift_severity: Literal["warn", "error"] = "warn"
    # per-indicator factors, ("indicator_code", factor) pairs (OREF_DRIFT_FACTORS=code=5,other=2)
    drift_factors: tuple[tuple[str, float], ...] = ()
    # a blocked, degraded or failed run POSTs its verdict here (oref.alerts); may hold a token: never printed
    alert_webhook_url: str | None = field(default=None, repr=False)
    # mail recipients of the Airflow alert (Airflow's SMTP notifier), OREF_ALERT_EMAIL=a@x,b@y
    alert_email: tuple[str, ...] = ()
    # after a publication, re-import the dashboards of this data dir's Superset (OREF_SUPERSET_REFRESH=0: no)
    superset_refresh: bool = True
    # the Superset whose chart caches the oref_superset_refresh DAG warms
    superset_url: str = "http://127.0.0.1:8088"
    # sources whose failed fetch blocks the run, whatever their declared policy (Source.on_failure):
    # OREF_BLOCK_ON_FAILURE=offers,bmo
    block_on_failure: tuple[str, ...] = ()
    user_agent: str = f"oref/{__version__} (open-source OREF indicator warehouse; python-requests)"
    project_root: Path = PROJECT_ROOT

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if env is None else env
        mode = (env.get("OREF_SOURCE_MODE") or "live").strip().lower()
        if mode not in ("snapshot", "live"):
            raise ConfigError(f"OREF_SOURCE_MODE={mode!r}: expected 'snapshot' or 'live'")
        root = PROJECT_ROOT
        data_dir = Path(env.get("OREF_DATA_DIR") or "data").expanduser()
        snapshot_dir = Path(env.get("OREF_SNAPSHOT_DIR") or root / "data" / "snapshot").expanduser()
        # In snapshot mode without OREF_REPLAY_URL the CLI starts a replay server in-process.
        replay_url = env.get("OREF_REPLAY_URL") or None
        client_id = env.get("FRANCE_TRAVAIL_CLIENT_ID") or None
        client_secret = env.get("FRANCE_TRAVAIL_CLIENT_SECRET") or None
        if mode == "snapshot" and not (client_id and client_secret):
            client_id, client_secret = REPLAY_FRANCE_TRAVAIL_CLIENT
        try:
            return cls(
                territory=Territory.parse(env.get("OREF_TERRITORY") or "972"),
                comparison_departements=parse_comparison(env.get("OREF_COMPARISON")),
                data_dir=data_dir.resolve(),
                source_mode=mode,  # type: ignore[arg-type]
                replay_url=replay_url.rstrip("/") if replay_url else None,
                snapshot_dir=snapshot_dir.resolve(),
                connect_timeout=float(env.get("OREF_HTTP_CONNECT_TIMEOUT") or "10"),
                read_timeout=float(env.get("OREF_HTTP_READ_TIMEOUT") or "120"),
                total_timeout=float(env.get("OREF_HTTP_TOTAL_TIMEOUT") or "600"),
                max_retries=int(env.get("OREF_HTTP_MAX_RETRIES") or "4"),
                fetch_workers=_positive_int(env, "OREF_FETCH_WORKERS", 4),
                backoff_base=float(env.get("OREF_HTTP_BACKOFF_BASE") or "1.0"),
                france_travail_client_id=client_id,
                france_travail_client_secret=client_secret,
                project_root=root,
                pause_at=(env.get("OREF_PAUSE_AT") or "").strip().lower() or None,
                pause_seconds=float(env.get("OREF_PAUSE_SECONDS") or "600"),
                keep_builds=int(env.get("OREF_KEEP_BUILDS") or "3"),
                alert_webhook_url=(env.get("OREF_ALERT_WEBHOOK_URL") or "").strip() or None,
                alert_email=tuple(r.strip() for r in (env.get("OREF_ALERT_EMAIL") or "").split(",") if r.strip()),
                superset_refresh=(env.get("OREF_SUPERSET_REFRESH") or "1").strip() != "0",
                superset_url=(env.get("OREF_SUPERSET_URL") or "http://127.0.0.1:8088").strip().rstrip("/"),
                block_on_failure=tuple(n.strip().lower() for n in (env.get("OREF_BLOCK_ON_FAILURE") or "").split(",")
                                       if n.strip()),
                drift_factor=float(env.get("OREF_DRIFT_FACTOR") or "3"),
                drift_severity=parse_drift_severity(env.get("OREF_DRIFT_SEVERITY")),
                drift_factors=parse_drift_factors(env.get("OREF_DRIFT_FACTORS")),
            )
        except ValueError as exc:  # a non-numeric timeout or retry count
            raise ConfigError(f"invalid numeric OREF_HTTP_* setting: {exc}") from exc

    def with_(self, **changes: object) -> Settings:
        return replace(self, **changes)  # type: ignore[arg-type]

    @property
    def scope_departements(self) -> tuple[str, ...]:
        """Départements whose rows are fetched and loaded: the territory's, then the comparison peers."""
        return tuple(dict.fromkeys((*self.territory.departements, *self.comparison_departements)))

    @property
    def scope_label(self) -> str:
        """The scope in landed file names: ``972`` alone, ``972+971-973-974-976`` with comparison peers.

        Territory-filtered sources name their landed file with it, so a run with another
        ``OREF_COMPARISON`` lands and loads its own logical file instead of the other scope's.
        """
        own = self.territory.departements
        peers = [d for d in self.scope_departements if d not in own]
        label = self.territory.label.replace(":", "")
        if not peers:
            return label
        joined = "-".join(peers)
        if len(joined) > 48:  # a long custom list: keep file names short, still one name per scope
            joined = f"{len(peers)}peers-{hashlib.sha256(joined.encode()).hexdigest()[:10]}"
        return f"{label}+{joined}"

    def scope_ods_where(self) -> str:
        """Opendatasoft ODSQL filter selecting the scope's départements (``code_departement`` column)."""
        codes = ", ".join(f'"{c}"' for c in self.scope_departements)
        return f"code_departement in ({codes})"

    # --- where things live -------------------------------------------------------------------
    @property
    def landing_dir(self) -> Path:
        return self.data_dir / "landing"

    @property
    def quarantine_dir(self) -> Path:
        return self.data_dir / "quarantine"

    @property
    def warehouse_dir(self) -> Path:
        return self.data_dir / "warehouse"

    @property
    def warehouse_path(self) -> Path:
        return self.warehouse_dir / "oref.duckdb"

    @property
    def previous_warehouse_path(self) -> Path:
        return self.warehouse_dir / "oref.previous.duckdb"

    @property
    def serving_path(self) -> Path:
        """The marts alone (schema ``marts``), published beside the warehouse: what Superset opens."""
        return self.warehouse_dir / "serving.duckdb"

    @property
    def quality_path(self) -> Path:
        """Every run's quality record (schema ``quality``), rewritten at the end of each run.

        Not ``quality.duckdb``: DuckDB names a file's catalog after its stem, and a catalog named
        like the schema makes every ``quality.runs`` ambiguous ("Ambiguous reference to catalog or
        schema"), in Superset's queries as in ours.
        """
        return self.warehouse_dir / "quality_store.duckdb"

    @property
    def build_dir(self) -> Path:
        return self.warehouse_dir / "builds"

    @property
    def reports_dir(self) -> Path:
        return self.data_dir / "reports"

    @property
    def runs_dir(self) -> Path:
        return self.data_dir / "runs"

    @property
    def dbt_project_dir(self) -> Path:
        return self.project_root / "dbt_project"

    @property
    def seeds_dir(self) -> Path:
        """The reference data (dbt seeds) that Python reads through ``oref.reference``."""
        return self.dbt_project_dir / "seeds"

    @property
    def expectations_dir(self) -> Path:
        return self.project_root / "expectations"

    # --- where sources are fetched from --------------------------------------------------------
    def resolve_url(self, url: str) -> str:
        """Map a real source URL to the URL actually fetched in this mode.

        Live mode fetches the URL as is. Snapshot mode fetches
        ``<replay_url>/<host><path>?<query>`` from the loopback replay server, so the same fetch code,
        paging and error handling run in both modes.
        """
        if self.source_mode == "live":
            return url
        parts = urlsplit(url)
        if parts.scheme != "https" or not parts.hostname:
            # Already a replay URL (e.g. a resource URL the replay server rewrote).
            return url
        if self.replay_url is None:
            raise ConfigError("snapshot mode needs a replay server: set OREF_REPLAY_URL or use the oref CLI")
        query = f"?{parts.query}" if parts.query else ""
        return f"{self.replay_url}/{parts.hostname}{parts.path}{query}"
