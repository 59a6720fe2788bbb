"""One module per source. ``SOURCE_NAMES`` is the order sources are fetched and loaded in."""

from __future__ import annotations

from oref.sources.base import Source

SOURCE_NAMES: tuple[str, ...] = ("geo", "bmo", "urssaf")


def get_source(name: str) -> Source:
    """The source object for ``name`` (modules are imported lazily to keep DAG parsing cheap)."""
    if name == "geo":
        from oref.sources.geo import GeoSource

        return GeoSource()
    if name == "bmo":
        from oref.sources.bmo import BmoSource

        return BmoSource()
    if name == "urssaf":
        from oref.sources.urssaf import UrssafSource

        return UrssafSource()
    raise KeyError(f"unknown source {name!r}; known: {', '.join(SOURCE_NAMES)}")
