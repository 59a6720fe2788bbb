"""The reference data of oref, read from the dbt seeds (``dbt_project/seeds``).

The seeds are the one place where a perimeter or a source's metadata is defined: dbt loads them
into the ``reference`` schema, and Python code (the sources, the snapshot generator, the tests)
reads the same files through this module instead of repeating their codes.

- NAF perimeters: ``naf_digital_perimeters.csv`` stores each code once, under the narrowest
  perimeter that contains it, narrowest perimeter first (it_core, ict_services, ict_oecd); a wider
  perimeter includes the narrower ones, as dbt's ``naf_in_perimeter`` macro reads them.
- Digital occupations: ``digital_fap2021.csv`` (BMO and tensions métiers) and
  ``rome_digital_occupations.csv`` (ROME 4.0 fiches, with the codes the job-offers API is queried on).
- Sources: ``sources.csv`` (title, publisher, licence, homepage, cadence per source key).
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from oref.config import PROJECT_ROOT

SEEDS_DIR = PROJECT_ROOT / "dbt_project" / "seeds"


@dataclass(frozen=True)
class SourceMetadata:
    """One row of ``sources.csv``."""

    code: str
    title: str
    publisher: str
    licence_code: str  # etalab-2.0, etalab-1.0 or ODbL-1.0
    licence_label: str
    licence_url: str
    homepage_url: str
    cadence: str


@cache
def read_seed(name: str, seeds_dir: Path = SEEDS_DIR) -> tuple[dict[str, str], ...]:
    """The rows of ``<seeds_dir>/<name>.csv``, as text, in file order."""
    with (seeds_dir / f"{name}.csv").open(encoding="utf-8", newline="") as handle:
        return tuple(csv.DictReader(handle))


def _true(value: str) -> bool:
    return value.strip().lower() == "true"


# --- NAF -----------------------------------------------------------------------------------------
def naf_perimeters(seeds_dir: Path = SEEDS_DIR) -> tuple[str, ...]:
    """The digital NAF perimeters, narrowest first (the order of the seed's rows)."""
    return tuple(dict.fromkeys(row["perimeter"] for row in read_seed("naf_digital_perimeters", seeds_dir)))


def naf_codes(perimeter: str, *, dotted: bool = True, seeds_dir: Path = SEEDS_DIR) -> tuple[str, ...]:
    """The NAF codes of ``perimeter`` and of the narrower ones, sorted.

    ``dotted``: Sirene's form (``62.01Z``); else URSSAF's APE form (``6201Z``).
    """
    order = naf_perimeters(seeds_dir)
    if perimeter not in order:
        raise KeyError(f"unknown NAF perimeter {perimeter!r}; known: {', '.join(order)}")
    included = set(order[: order.index(perimeter) + 1])
    column = "code_naf" if dotted else "code_naf_compact"
    return tuple(sorted(row[column] for row in read_seed("naf_digital_perimeters", seeds_dir)
                        if row["perimeter"] in included))


def naf_labels(seeds_dir: Path = SEEDS_DIR) -> dict[str, str]:
    """Dotted NAF code -> its label, for every code of the seed."""
    return {row["code_naf"]: row["label"] for row in read_seed("naf_digital_perimeters", seeds_dir)}


# --- occupations ---------------------------------------------------------------------------------
def digital_fap2021_codes(seeds_dir: Path = SEEDS_DIR) -> tuple[str, ...]:
    """The digital FAP2021 métiers (BMO from 2024, tensions), in the seed's order."""
    return tuple(row["occupation_code"] for row in read_seed("digital_fap2021", seeds_dir))


def digital_rome_codes(*, core_only: bool = True, seeds_dir: Path = SEEDS_DIR) -> tuple[str, ...]:
    """ROME codes of the digital occupations (``core_only``: the digital sector's own métiers)."""
    return tuple(row["rome_code"] for row in read_seed("rome_digital_occupations", seeds_dir)
                 if not core_only or _true(row["is_core_digital"]))


def offers_query_rome_codes(seeds_dir: Path = SEEDS_DIR) -> tuple[str, ...]:
    """The ROME codes the France Travail job-offers API is queried on, in the seed's order."""
    return tuple(row["rome_code"] for row in read_seed("rome_digital_occupations", seeds_dir)
                 if _true(row["is_offers_query_code"]))


# --- sources -------------------------------------------------------------------------------------
def source_metadata(code: str, seeds_dir: Path = SEEDS_DIR) -> SourceMetadata:
    """The row of ``sources.csv`` for the source key ``code`` (``bmo``, ``mcf``...)."""
    for row in read_seed("sources", seeds_dir):
        if row["source_code"] == code:
            return SourceMetadata(
                code=code, title=row["title_fr"], publisher=row["publisher"], licence_code=row["licence_code"],
                licence_label=row["licence_label"], licence_url=row["licence_url"],
                homepage_url=row["homepage_url"], cadence=row["cadence_fr"])
    raise KeyError(f"source {code!r} is not in {seeds_dir / 'sources.csv'}")


def source_codes(seeds_dir: Path = SEEDS_DIR) -> tuple[str, ...]:
    """Every source key of ``sources.csv``, in file order."""
    return tuple(row["source_code"] for row in read_seed("sources", seeds_dir))
