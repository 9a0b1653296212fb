"""The registry of ITRS versions: every ruleset the app can score with, and the current one.

New assessments use the current ruleset (`CURRENT`, `itrs.engine.RULESET`); assessments stored
under an older name keep it (and its inputs), and `compare_rulesets` (risk/README.md, "Comparing
rulesets") scores the same patients under two of them. A new version is the previous one with
the changed steps replaced (`Ruleset.replace`), never a copy of the engine: ITRS-v1 is
`itrs.v1`. The package imports this module first, so `itrs.engine.assess` always finds them.
"""

from __future__ import annotations

from itrs import engine
from itrs.engine import ITRS_V0, Ruleset
from itrs.v1 import ITRS_V1

for _ruleset in (ITRS_V0, ITRS_V1):
    engine.register(_ruleset)

CURRENT = engine.RULESET
assert CURRENT in engine.registered(), f"the current ruleset {CURRENT} is not registered"


def current() -> Ruleset:
    return engine.registered()[CURRENT]


def get(name: str) -> Ruleset:
    """The ruleset called ``name``; KeyError names the known ones."""
    known = engine.registered()
    try:
        return known[name]
    except KeyError:
        raise KeyError(f"Unknown ruleset {name!r}; known: {', '.join(known)}") from None


def names() -> list[str]:
    return list(engine.registered())
