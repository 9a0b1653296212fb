"""python manage.py compare_rulesets OLD NEW: every active patient scored under both rulesets as of
now, nothing stored (risk/README.md, "Comparing rulesets")."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from itrs import rulesets
from risk.compare import compare


class Command(BaseCommand):
    help = "Score every active patient under two rulesets and print the tier table (nothing is stored)."

    def add_arguments(self, parser):
        parser.add_argument("old", help=f"the ruleset to compare from ({', '.join(rulesets.names())})")
        parser.add_argument("new", help="the ruleset to compare to")
        parser.add_argument("--patients", action="store_true", help="also list the patients who change tier")

    def handle(self, *args, old, new, patients=False, **options):
        try:
            result = compare(old, new)
        except KeyError as exc:
            raise CommandError(exc.args[0]) from None
        self.stdout.write(result.text())
        if patients:
            for c in result.changed:
                self.stdout.write(
                    f"  {c.mrn} {c.name}: {c.old_tier} {c.old_score} -> {c.new_tier} {c.new_score} "
                    f"({'; '.join(c.moved) or 'no factor change'}) /staff/patients/{c.public_id}/"
                )
