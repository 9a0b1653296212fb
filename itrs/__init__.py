"""The clinical rules as plain Python: snapshot types, body size, the ITRS engine, the ISTH DIC
score, Padua/Caprini for comparison, and the review rules that decide which flags a patient needs.

Nothing here imports Django or the project's apps (ruff's banned-import rule fails the build if
anything does): every function reads plain snapshots and an instant, so the rules can be tested
without a database and read without knowing the web app. `risk/README.md` lists every factor,
its points and its source for clinicians.
"""

from itrs import rulesets as rulesets  # noqa: E402  registers every ruleset version (itrs/rulesets.py)
