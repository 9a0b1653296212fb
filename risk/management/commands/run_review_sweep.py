"""python manage.py run_review_sweep [--hourly]: one sweep in-process, without a broker."""

from __future__ import annotations

import sys

from django.core.management.base import BaseCommand
from tqdm import tqdm

from risk.services.sweep import sweep_inline, sweep_patient_ids


class Command(BaseCommand):
    help = "Assess active patients and reconcile review flags in this process (no broker needed)."

    def add_arguments(self, parser):
        parser.add_argument("--hourly", action="store_true", help="only patients whose state moves with time soon")

    def handle(self, *args, hourly=False, **options):
        from django.utils import timezone

        total = len(sweep_patient_ids(full=not hourly, now=timezone.now()))
        bar = tqdm(total=total, unit="patient", disable=not sys.stderr.isatty(), desc="review sweep")
        try:
            run = sweep_inline(full=not hourly, trigger="command", progress=bar.update)
        finally:
            bar.close()
        seconds = run.duration_seconds or 0.0
        self.stdout.write(
            f"Sweep {run.public_id}: {run.patients} patients in {seconds:.1f} s; "
            f"assessments changed {run.assessments_changed}; flags raised {run.flags_raised}, "
            f"escalated {run.flags_escalated}, resolved {run.flags_resolved}; errors {run.errors}."
        )
        if run.errors:
            for item in run.error_detail[:10]:
                self.stderr.write(f"  patient {item.get('patient_id')}: {item.get('error')}")
