from __future__ import annotations

import pytest

from oref.config import Settings, Territory
from oref.errors import ConfigError


def test_defaults_are_martinique_and_live() -> None:
    settings = Settings.from_env({})
    assert settings.territory == Territory("departement", "972")
    assert settings.source_mode == "live"
    assert settings.warehouse_path.name == "oref.duckdb"


@pytest.mark.parametrize(("raw", "kind", "code"), [
    ("971", "departement", "971"), ("2a", "departement", "2A"), ("75", "departement", "75"),
    ("reg:02", "region", "02"), ("REG:94", "region", "94"),
])
def test_territory_parsing(raw: str, kind: str, code: str) -> None:
    territory = Territory.parse(raw)
    assert (territory.kind, territory.code) == (kind, code)


def test_region_where_clause_does_not_collide_with_aisne() -> None:
    assert Territory.parse("reg:02").ods_where() == 'code_region="02"'
    assert Territory.parse("02").ods_where() == 'code_departement="02"'


@pytest.mark.parametrize("raw", ["9721", "reg:2", "Martinique", ""])
def test_bad_territory_is_refused_with_the_variable_named(raw: str) -> None:
    with pytest.raises(ConfigError, match="OREF_TERRITORY"):
        Territory.parse(raw)


def test_bad_mode_is_refused() -> None:
    with pytest.raises(ConfigError, match="OREF_SOURCE_MODE"):
        Settings.from_env({"OREF_SOURCE_MODE": "offline"})


def test_snapshot_urls_keep_the_real_path() -> None:
    settings = Settings.from_env({"OREF_SOURCE_MODE": "snapshot", "OREF_REPLAY_URL": "http://127.0.0.1:9/"})
    url = "https://open.urssaf.fr/api/explore/v2.1/catalog/datasets/x/exports/csv?where=a"
    assert settings.resolve_url(url) == "http://127.0.0.1:9/open.urssaf.fr/api/explore/v2.1/catalog/datasets/x/exports/csv?where=a"
    live = Settings.from_env({})
    assert live.resolve_url(url) == url
