"""What each performance trick of the sweep buys: a first pass over the same patients with every
trick on, and with each one switched off in turn, interleaved, medians printed.

    .venv/bin/python bench/tricks.py [--patients 10000] [--sample 2000] [--repeat 5]

It runs in one process on the benchmark database of ``--patients`` (made by ``make bench`` or
``make bench-quick``), on ``--sample`` active patients in chunks of 1,000 (the sweep's chunk).
Each pass deletes those patients' assessments, flags and infusion risks inside a transaction,
runs `process_patients` on every chunk (a first pass: every assessment is new) and rolls back,
so the database ends as it began. Switching a trick off means replacing its named function with
the plain code it stands for; the results are equal either way (tests hold them so).

The tricks measured (each function's comment quotes this figure):
- ``gc_paused``: no cyclic garbage collection while a chunk runs (risk/services/assessment.py)
- ``encoded_parts``: each result value JSON-encoded once, for both the fingerprint and the row
- ``snapshot_inputs_json``: the stored snapshot encoded by the C encoder from the dataclasses'
  ``__dict__``, not ``json.dumps(dataclasses.asdict(snapshot))``
- ``fast_timestamps``: psycopg's C loader for timestamptz columns (risk/snapshot.py)
- ``lean_infusion_risk``: the risk at each infusion scored with ``explain=False``
- ``copy``: assessments and audit rows written by COPY, not bulk_create (ivigtrack/bulk.py)
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import json
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.dbsetup import db_url  # noqa: E402


class _Rollback(Exception):
    pass


def _switches():
    """name -> (module, attribute, replacement): the plain code each trick stands for."""
    from itrs import engine
    from ivigtrack import bulk
    from risk import snapshot
    from risk.services import assessment

    class _FullEngine:
        """`engine` with every call explained (no lean scoring of past infusions)."""

        def __getattr__(self, name):
            return getattr(engine, name)

        @staticmethod
        def assess(snap, as_of, *, explain=True):
            return engine.assess(snap, as_of)

    def encoded_twice(data):
        parts = {k: assessment._SORTED_JSON.encode(v) for k, v in sorted(data.items()) if k != "as_of"}
        return assessment._fingerprint(data), parts

    return {
        "gc_paused": (assessment, "_gc_paused", lambda pause: contextlib.nullcontext()),
        "encoded_parts": (assessment, "_encoded_parts", encoded_twice),
        "snapshot_inputs_json": (
            assessment,
            "snapshot_inputs_json",
            lambda snap: json.dumps(dataclasses.asdict(snap), default=str),
        ),
        "fast_timestamps": (snapshot, "fast_timestamps", lambda cursor: None),
        "lean_infusion_risk": (assessment, "engine", _FullEngine()),
        "copy": (bulk, "use_copy", lambda rows: False),
    }


def _first_pass(chunks: list[list[int]]) -> float:
    from django.db import transaction
    from django.utils import timezone

    from risk.models import InfusionRisk, ReviewFlag, RiskAssessment
    from risk.services.assessment import process_patients

    ids = [pid for chunk in chunks for pid in chunk]
    now = timezone.now()
    seconds = 0.0
    try:
        with transaction.atomic():
            RiskAssessment.objects.filter(patient_id__in=ids).delete()
            ReviewFlag.objects.filter(patient_id__in=ids).delete()
            InfusionRisk.objects.filter(infusion__patient_id__in=ids).delete()
            started = time.perf_counter()
            for chunk in chunks:
                process_patients(chunk, as_of=now)
            seconds = time.perf_counter() - started
            raise _Rollback
    except _Rollback:
        pass
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--patients", type=int, default=10000, help="which benchmark database")
    parser.add_argument("--sample", type=int, default=2000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()

    os.environ["DATABASE_URL"] = db_url(args.patients)
    os.environ["DJANGO_SETTINGS_MODULE"] = "bench.settings"
    import django

    django.setup()
    from patients.models import Patient

    ids = list(Patient.objects.filter(active=True).order_by("id").values_list("id", flat=True)[: args.sample])
    chunks = [ids[i : i + 1000] for i in range(0, len(ids), 1000)]
    switches = _switches()
    samples: dict[str, list[float]] = {"all tricks on": []} | {f"without {name}": [] for name in switches}
    _first_pass(chunks)  # warm the caches once
    variants = [None, *switches]
    for round_ in range(args.repeat):
        # Rotate the order every round, so drift and the previous pass's dead rows hit each alike.
        for name in variants[round_ % len(variants) :] + variants[: round_ % len(variants)]:
            if name is None:
                samples["all tricks on"].append(_first_pass(chunks))
                continue
            module, attribute, plain = switches[name]
            kept = getattr(module, attribute)
            setattr(module, attribute, plain)
            try:
                samples[f"without {name}"].append(_first_pass(chunks))
            finally:
                setattr(module, attribute, kept)

    base = statistics.median(samples["all tricks on"])
    print(f"first pass of {len(ids)} patients, chunks of 1000, median of {args.repeat} (one process)")
    print(f"{'variant':<32} {'seconds':>8} {'vs all on':>10}")
    for name, values in samples.items():
        median = statistics.median(values)
        print(f"{name:<32} {median:>8.3f} {median / base - 1:>+10.1%}")


if __name__ == "__main__":
    main()
