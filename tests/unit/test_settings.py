from __future__ import annotations

import pytest

from oref.config import Settings, Territory, parse_comparison
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


@pytest.mark.parametrize("raw", ["9721", "reg:2", "Martinique", "", "00", "20", "975", "96", "reg:99", "reg:05",
                                 "FR"])
def test_bad_territory_is_refused_with_the_variable_named(raw: str) -> None:
    with pytest.raises(ConfigError, match="OREF_TERRITORY"):
        Territory.parse(raw)


def test_a_code_no_territory_has_is_refused_with_the_valid_forms_listed() -> None:
    with pytest.raises(ConfigError) as info:
        Territory.parse("00")
    message = str(info.value)
    assert message.startswith("OREF_TERRITORY='00': no département has the code '00'; valid forms:")
    assert "01, 02, 03" in message and "19, 2A, 2B, 21" in message and "974, 976" in message
    assert "'reg:' and a région code, one of 01, 02, 03, 04, 06, 11, 24" in message
    with pytest.raises(ConfigError, match="no région has the code '99'"):
        Territory.parse("reg:99")


def test_bad_mode_is_refused() -> None:
    with pytest.raises(ConfigError, match="OREF_SOURCE_MODE"):
        Settings.from_env({"OREF_SOURCE_MODE": "offline"})


def test_snapshot_urls_keep_the_real_path() -> None:
    settings = Settings.from_env({"OREF_SOURCE_MODE": "snapshot", "OREF_REPLAY_URL": "http://127.0.0.1:9/"})
    url = "https://open.urssaf.fr/api/explore/v2.1/catalog/datasets/x/exports/csv?where=a"
    assert settings.resolve_url(url) == "http://127.0.0.1:9/open.urssaf.fr/api/explore/v2.1/catalog/datasets/x/exports/csv?where=a"
    live = Settings.from_env({})
    assert live.resolve_url(url) == url


def test_comparison_defaults_to_the_drom_and_can_be_disabled_or_listed() -> None:
    assert parse_comparison(None) == parse_comparison("  ") == ("971", "972", "973", "974", "976")
    assert parse_comparison("none") == parse_comparison(" NONE ") == ()
    assert parse_comparison("2a, 75,971,75") == ("2A", "75", "971")
    settings = Settings.from_env({"OREF_COMPARISON": "971,973"})
    assert settings.comparison_departements == ("971", "973")
    assert Settings.from_env({"OREF_COMPARISON": "none"}).comparison_departements == ()


@pytest.mark.parametrize(("raw", "bad"), [("971,9721", "9721"), ("Guadeloupe", "GUADELOUPE"), ("reg:01", "REG:01")])
def test_bad_comparison_is_refused_naming_the_variable_and_the_value(raw: str, bad: str) -> None:
    with pytest.raises(ConfigError) as info:
        Settings.from_env({"OREF_COMPARISON": raw})
    message = str(info.value)
    assert message.startswith(f"OREF_COMPARISON={raw!r}: {bad!r} is not a département code")


def test_scope_puts_the_territory_first_without_repeating_it() -> None:
    settings = Settings.from_env({"OREF_TERRITORY": "972"})
    assert settings.scope_departements == ("972", "971", "973", "974", "976")
    assert settings.scope_ods_where() == 'code_departement in ("972", "971", "973", "974", "976")'
    assert settings.scope_label == "972+971-973-974-976"
    region = Settings.from_env({"OREF_TERRITORY": "reg:02", "OREF_COMPARISON": "971"})
    assert (region.scope_departements, region.scope_label) == (("972", "971"), "reg02+971")
    alone = Settings.from_env({"OREF_TERRITORY": "75", "OREF_COMPARISON": "none"})
    assert (alone.scope_departements, alone.scope_label) == (("75",), "75")
    # a long custom list keeps file names short, and still one name per list
    many = Settings.from_env({"OREF_COMPARISON": ",".join(f"{n:02d}" for n in range(1, 40))})
    other = Settings.from_env({"OREF_COMPARISON": ",".join(f"{n:02d}" for n in range(1, 41))})
    assert many.scope_label.startswith("972+39peers-") and len(many.scope_label) < 40
    assert many.scope_label != other.scope_label


def test_fetch_workers_default_and_refusal() -> None:
    assert Settings.from_env({}).fetch_workers == 4
    assert Settings.from_env({"OREF_FETCH_WORKERS": "1"}).fetch_workers == 1
    with pytest.raises(ConfigError, match="OREF_FETCH_WORKERS='0': expected a whole number, 1 or more"):
        Settings.from_env({"OREF_FETCH_WORKERS": "0"})
