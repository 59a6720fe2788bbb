"""The fetch scope shared by the territory-filtered sources: the territory and its comparison peers.

``Settings.scope_departements`` lists the configured territory's départements, then the comparison
départements (``OREF_COMPARISON``, the five DROM by default). Territory-filtered sources fetch and
load the whole scope so every indicator can set the territory beside its peers. The territory
without data stays an error of each source; a peer without data is only a ``warn`` check, recorded
by ``coverage_check`` below (and the peer is then absent from the comparisons).
"""

from __future__ import annotations

from collections.abc import Mapping

from oref.config import Settings
from oref.quality.checks import CheckResult

COVERAGE_CHECK = "comparison_departements_present"


def comparison_peers(settings: Settings) -> tuple[str, ...]:
    """The scope's départements outside the configured territory, in configured order."""
    own = set(settings.territory.departements)
    return tuple(d for d in settings.scope_departements if d not in own)


def coverage_check(source: str, settings: Settings, counts: Mapping[str, int], *, target: str,
                   what: str = "rows") -> CheckResult:
    """``warn`` naming the comparison départements with no ``what`` in ``counts`` (département -> count)."""
    peers = comparison_peers(settings)
    missing = [d for d in peers if not counts.get(d)]
    if missing:
        return CheckResult(source, COVERAGE_CHECK, "oref", "warn", "fail",
                           f"no {what} for comparison département(s) {', '.join(missing)}: "
                           f"{settings.territory.label} is compared without them",
                           observed=",".join(missing), target=target)
    message = (f"{what} for every comparison département ({', '.join(peers)})" if peers
               else "no comparison département configured (OREF_COMPARISON=none)")
    return CheckResult(source, COVERAGE_CHECK, "oref", "warn", "pass", message, target=target)


def describe_counts(settings: Settings, counts: Mapping[str, int]) -> str:
    """``972: 250; peers 971: 264, 973: 0`` for run summaries (territory keys first, then the peers)."""
    own = [f"{d}: {counts.get(d, 0)}" for d in settings.territory.departements]
    peers = [f"{d}: {counts.get(d, 0)}" for d in comparison_peers(settings)]
    return "; ".join(filter(None, [", ".join(own), ("peers " + ", ".join(peers)) if peers else ""]))
