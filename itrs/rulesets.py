"""The registry of ITRS versions: every ruleset the app can score with, and the current one.

New assessments use `CURRENT`; assessments stored under an older name keep it (and its inputs),
and `compare_rulesets` (risk/README.md, "Comparing rulesets") scores the same patients under two
of them. A new version is the previous one with the changed steps replaced (`Ruleset.replace`),
never a copy of the engine.
"""

from __future__ import annotations

from itrs.engine import ITRS_V0, Ruleset
from itrs.v1 import ITRS_V1

RULESETS: dict[str, Ruleset] = {r.name: r for r in (ITRS_V0, ITRS_V1)}
CURRENT = ITRS_V1.name


def current() -> Ruleset:
    return RULESETS[CURRENT]


def get(name: str) -> Ruleset:
    """The ruleset called ``name``; KeyError names the known ones."""
    try:
        return RULESETS[name]
    except KeyError:
        raise KeyError(f"Unknown ruleset {name!r}; known: {', '.join(RULESETS)}") from None


def names() -> list[str]:
    return list(RULESETS)
