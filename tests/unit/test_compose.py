"""Static checks of docker-compose.yml and docker/ (no Docker engine on these machines)."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = ROOT / "docker-compose.yml"
EXPECTED_SERVICES = {
    "postgres",
    "redis",
    "airflow-init",
    "airflow-apiserver",
    "airflow-scheduler",
    "airflow-dag-processor",
    "airflow-triggerer",
    "superset-init",
    "superset",
}
DATA_DIR = "/opt/oref/data"
SECRET_WORDS = ("PASSWORD", "SECRET", "KEY", "TOKEN")
# ${VAR}, ${VAR:-default}, ${VAR:?message}...; `$${VAR}` is an escaped, container-side variable.
VARIABLE = re.compile(r"(?<!\$)\$\{([A-Za-z_][A-Za-z0-9_]*)")
REFERENCE = re.compile(r"\$\{[A-Za-z_][A-Za-z0-9_]*(?::?[-?][^}]*)?\}")


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    data = yaml.safe_load(COMPOSE.read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


@pytest.fixture(scope="module")
def services(compose: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return compose["services"]


def _environment(service: dict[str, Any]) -> dict[str, str]:
    env = service.get("environment") or {}
    if isinstance(env, list):  # the KEY=value form
        env = dict(item.split("=", 1) for item in env)
    return {str(k): str(v) for k, v in env.items()}


def _documented_variables() -> set[str]:
    names = set()
    for line in (ROOT / ".env.example").read_text(encoding="utf-8").splitlines():
        match = re.match(r"\s*#?\s*([A-Z_][A-Z0-9_]*)=", line)
        if match:
            names.add(match.group(1))
    return names


def _duckdb_pin(text: str) -> str:
    pins = set(re.findall(r"\bduckdb==([0-9][0-9A-Za-z.]*)", text))
    assert len(pins) == 1, f"expected one duckdb== pin, found {pins}"
    return pins.pop()


def test_expected_services_exist(services: dict[str, dict[str, Any]]) -> None:
    assert set(services) >= EXPECTED_SERVICES


def test_every_long_running_service_has_a_healthcheck(services: dict[str, dict[str, Any]]) -> None:
    one_shots = {"airflow-init", "superset-init"}
    missing = [name for name, svc in services.items() if name not in one_shots and "healthcheck" not in svc]
    assert not missing


def test_superset_mounts_the_data_volume_read_only(services: dict[str, dict[str, Any]]) -> None:
    for name in ("superset", "superset-init"):
        mounts = [v for v in services[name]["volumes"] if str(v).split(":")[1:2] == [DATA_DIR]]
        assert mounts, f"{name} does not mount {DATA_DIR}"
        assert all(str(v).endswith(":ro") for v in mounts), f"{name} mounts {DATA_DIR} read-write: {mounts}"


def test_airflow_writes_the_same_data_volume(services: dict[str, dict[str, Any]]) -> None:
    superset_volume = next(str(v).split(":")[0] for v in services["superset"]["volumes"] if DATA_DIR in str(v))
    for name in ("airflow-scheduler", "airflow-apiserver", "airflow-dag-processor", "airflow-triggerer"):
        assert f"{superset_volume}:{DATA_DIR}" in services[name]["volumes"], name
        env = _environment(services[name])
        assert env["OREF_DATA_DIR"] == DATA_DIR
        assert env["OREF_SOURCE_MODE"] == "live"
        assert env["AIRFLOW__CORE__EXECUTOR"] == "LocalExecutor"


def test_airflow_init_creates_the_writer_pool(services: dict[str, dict[str, Any]]) -> None:
    command = " ".join(services["airflow-init"]["command"])
    assert "airflow db migrate" in command
    assert "airflow pools set oref_duckdb_writer 1" in command


def _strings(node: Any) -> list[str]:
    """Every key and value of the loaded file (what compose interpolates; comments are not)."""
    if isinstance(node, dict):
        return [s for key, value in node.items() for s in (*_strings(key), *_strings(value))]
    if isinstance(node, list):
        return [s for item in node for s in _strings(item)]
    return [node] if isinstance(node, str) else []


def test_every_variable_is_documented_in_env_example(compose: dict[str, Any]) -> None:
    used = {name for text in _strings(compose) for name in VARIABLE.findall(text)}
    assert used, "no ${VAR} found: the pattern is broken"
    assert not used - _documented_variables(), "add them to .env.example"


def test_no_literal_secrets(services: dict[str, dict[str, Any]]) -> None:
    offenders = []
    for name, svc in services.items():
        for key, value in _environment(svc).items():
            if any(word in key.upper() for word in SECRET_WORDS) and not REFERENCE.fullmatch(value):
                offenders.append(f"{name}: {key}={value}")
    assert not offenders
    text = COMPOSE.read_text(encoding="utf-8")
    assert "admin:admin" not in text
    # Credentials inside URIs come from the environment too.
    for uri in re.findall(r"\w+(?:\+\w+)?://[^\s\"']+", text):
        userinfo = uri.split("://", 1)[1].rsplit("@", 1)
        if len(userinfo) == 2 and ":" in userinfo[0]:
            password = userinfo[0].split(":", 1)[1]
            assert REFERENCE.fullmatch(password), f"literal password in {uri}"


def test_required_secrets_fail_when_unset() -> None:
    text = COMPOSE.read_text(encoding="utf-8")
    for variable in ("POSTGRES_PASSWORD", "SUPERSET_SECRET_KEY", "SUPERSET_ADMIN_PASSWORD",
                     "AIRFLOW_FERNET_KEY", "AIRFLOW_JWT_SECRET"):
        references = re.findall(rf"\$\{{{variable}(:?[-?]?)", text)
        assert references, variable
        assert set(references) == {":?"}, f"{variable} must be ${{{variable}:?...}} everywhere"


def test_images_are_pinned(services: dict[str, dict[str, Any]]) -> None:
    images = {name: svc["image"] for name, svc in services.items() if "image" in svc}
    assert set(images) == set(services), "every service names its image"
    for name, image in images.items():
        tag = image.rsplit(":", 1)[1] if ":" in image.split("/")[-1] else ""
        assert tag and tag != "latest", f"{name}: {image} is not pinned"
    froms = {
        dockerfile: re.findall(r"^FROM\s+(\S+)", (ROOT / "docker" / dockerfile).read_text(), re.MULTILINE)
        for dockerfile in ("airflow.Dockerfile", "superset.Dockerfile")
    }
    assert froms == {
        "airflow.Dockerfile": ["apache/airflow:3.3.2-python3.11"],
        "superset.Dockerfile": ["apache/superset:6.1.0"],
    }


def test_referenced_dockerfiles_and_mounts_exist(services: dict[str, dict[str, Any]]) -> None:
    for name, svc in services.items():
        build = svc.get("build")
        if build:
            assert (ROOT / build["context"] / build["dockerfile"]).is_file(), name
        for volume in svc.get("volumes", []):
            source = str(volume).split(":")[0]
            if source.startswith("."):
                assert (ROOT / source).exists(), f"{name}: {source}"
    assert (ROOT / "docker" / "postgres-init.sql").is_file()


def test_named_volumes_are_declared(compose: dict[str, Any], services: dict[str, dict[str, Any]]) -> None:
    used = {
        str(v).split(":")[0]
        for svc in services.values()
        for v in svc.get("volumes", [])
        if not str(v).startswith((".", "/"))
    }
    assert used <= set(compose["volumes"])


def test_postgres_init_creates_both_databases() -> None:
    sql = (ROOT / "docker" / "postgres-init.sql").read_text(encoding="utf-8")
    assert re.findall(r"CREATE DATABASE (\w+);", sql) == ["airflow", "superset"]
    statements = "\n".join(line for line in sql.splitlines() if not line.lstrip().startswith("--"))
    assert "PASSWORD" not in statements.upper()


def test_superset_image_duckdb_pin_matches_the_pipeline() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    pipeline = _duckdb_pin("\n".join(project["project"]["dependencies"]))
    image = _duckdb_pin((ROOT / "docker" / "superset.Dockerfile").read_text(encoding="utf-8"))
    assert image == pipeline


def test_superset_config_is_the_repository_one(services: dict[str, dict[str, Any]]) -> None:
    svc = services["superset"]
    config = _environment(svc)["SUPERSET_CONFIG_PATH"]
    mounts = {str(v).split(":")[1]: str(v) for v in svc["volumes"]}
    mount_point = next(point for point in mounts if config.startswith(point + "/"))
    source, _, mode = mounts[mount_point].split(":")
    assert mode == "ro"
    assert (ROOT / source / Path(config).relative_to(mount_point)).resolve() == (
        ROOT / "superset" / "superset_config.py"
    )
