"""One module per source. ``SOURCE_NAMES`` is the order sources are fetched and loaded in."""

from __future__ import annotations

import importlib

from oref.sources.base import Source

# name -> "module:Class"; modules are imported lazily to keep DAG parsing cheap
_REGISTRY: dict[str, str] = {
    "geo": "oref.sources.geo:GeoSource",
    "bmo": "oref.sources.bmo:BmoSource",
    "urssaf": "oref.sources.urssaf:UrssafSource",
    "rome": "oref.sources.rome:RomeSource",
    "rncp": "oref.sources.rncp:RncpSource",  # before mcf: training offers refer to certifications
    "mcf": "oref.sources.mcf:McfSource",
    "tensions": "oref.sources.tensions:TensionsSource",
    "arcep": "oref.sources.arcep:ArcepSource",
    "sirene": "oref.sources.sirene:SireneSource",
    "offers": "oref.sources.offers:OffersSource",
}
SOURCE_NAMES: tuple[str, ...] = tuple(_REGISTRY)


def get_source(name: str) -> Source:
    """The source object for ``name``."""
    try:
        target = _REGISTRY[name]
    except KeyError:
        raise KeyError(f"unknown source {name!r}; known: {', '.join(SOURCE_NAMES)}") from None
    module_name, class_name = target.split(":")
    source: Source = getattr(importlib.import_module(module_name), class_name)()
    return source
