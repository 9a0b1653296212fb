"""python manage.py seed_demo [--patients N] [--seed S]

Without --patients: the demo clinic (idempotent): a clinician, a nurse and two patient
logins (printed), the vignette patients (founding cases V01 and V02 among them) entered
through the services, and synthetic patients up to about 40, then one review sweep.
With --patients N: N synthetic patients with about two years of history, for benchmarks.
"""

from __future__ import annotations

import sys

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone
from tqdm import tqdm

from demo import synthetic, vignettes
from ivigtrack.accounts.models import Site
from patients.models import Patient

DEMO_USERS = [
    # username, password, role, first, last
    ("clinician", "demo-clinician-pass", "clinician", "Claire", "Whitfield"),
    ("nurse", "demo-nurse-pass", "nurse", "Noah", "Pemberton"),
    ("patient1", "demo-patient1-pass", "patient", "Arthur", "Benson"),
    ("patient2", "demo-patient2-pass", "patient", "Hannah", "Ibbotson"),
]
DEMO_SYNTHETIC = 32


class Command(BaseCommand):
    help = "Create the demo clinic, or N synthetic patients for benchmarks (--patients N)."

    def add_arguments(self, parser):
        parser.add_argument("--patients", type=int, default=None, help="generate N synthetic patients")
        parser.add_argument("--seed", type=int, default=1, help="random seed (same seed, same patients)")
        parser.add_argument("--sites", type=int, default=1, help="spread synthetic patients over N sites")
        parser.add_argument("--no-sweep", action="store_true", help="do not run the review sweep afterwards")

    def handle(self, *args, patients=None, seed=1, no_sweep=False, sites=1, **options):
        if patients is not None:
            created = self._synthetic(patients, seed, sites=sites)
            self.stdout.write(
                self.style.SUCCESS(f"{created} synthetic patients created ({patients - created} existed).")
            )
            return
        users = self._users()
        self._vignettes(users)
        self._synthetic(DEMO_SYNTHETIC, seed=7, prefix="DEMO-")
        if not no_sweep:
            from risk.services.sweep import sweep_inline

            run = sweep_inline(full=True, trigger="command")
            self.stdout.write(f"Review sweep: {run.patients} patients, {run.flags_raised} flags raised.")
        self.stdout.write(self.style.SUCCESS(f"Demo clinic ready: {Patient.objects.count()} patients."))
        self.stdout.write("Demo logins (username / password):")
        for username, password, role, *_ in DEMO_USERS:
            self.stdout.write(f"  {role:<10} {username} / {password}")
        self.stdout.write("  admin: create one with `python manage.py createsuperuser`")

    def _users(self):
        User = get_user_model()
        users = {}
        for username, password, role, first, last in DEMO_USERS:
            user, created = User.objects.get_or_create(
                username=username,
                defaults={"role": role, "first_name": first, "last_name": last, "email": f"{username}@demo.test"},
            )
            if created:
                user.set_password(password)
                user.save()
            if role != "patient":
                user.sites.add(Site.objects.default())  # staff see the patients of their sites
            users[username] = user
        return users

    def _vignettes(self, users) -> None:
        clock = timezone.now()
        actor = users["clinician"]
        for code, build in vignettes.VIGNETTES.items():
            mrn = f"DEMO-{code}"
            if Patient.objects.filter(mrn=mrn).exists():
                continue
            with transaction.atomic():
                build(actor, clock, mrn=mrn)
        for username, mrn in (("patient1", "DEMO-V01"), ("patient2", "DEMO-V16")):
            Patient.objects.filter(mrn=mrn, user__isnull=True).update(user=users[username])

    def _synthetic(self, count: int, seed: int, prefix: str | None = None, sites: int = 1) -> int:
        bar = tqdm(total=count, unit="patient", disable=not sys.stderr.isatty(), desc="synthetic patients")
        try:
            return synthetic.generate(count, seed=seed, prefix=prefix, progress=bar.update, sites=sites)
        finally:
            bar.close()
