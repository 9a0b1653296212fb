"""Synthetic patients with believable histories, fast enough for 100,000 patients.

Distributions are rough clinic-like proportions (our own, for load and demo, not epidemiology):
diagnoses weighted to CIDP and PID, maintenance schedules of docs/products.md, about two years of
infusions (about 20 per patient on average), common cardiovascular factors, a few percent with
lines, thrombophilia, cancer, prior clots, steroids, estrogens, anticoagulants, and coagulation
panels for some. Patients go in with bulk_create (their ids are needed); the child rows go in
with PostgreSQL COPY (bulk_create on SQLite). Records are facts loaded in bulk, not clinical
writes: they bypass the services and their audit rows, as an import would.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta

from django.db import transaction
from django.utils import timezone

from infusions.models import Drug, Infusion, MedicationCourse, Product, Regimen
from ivigtrack.accounts.models import Site
from ivigtrack.bulk import copy_rows
from patients.models import Condition, LabResult, Patient, ThrombosisEvent, VascularAccess, WeightMeasurement

GIVEN_F = [
    "Alice",
    "Brenda",
    "Carla",
    "Dora",
    "Elena",
    "Fatima",
    "Gwen",
    "Helga",
    "Ines",
    "Joan",
    "Kira",
    "Lena",
    "Maya",
]
GIVEN_M = ["Adam", "Bruno", "Carl", "David", "Emil", "Farid", "Gareth", "Hugo", "Ivan", "Jonas", "Karl", "Luis", "Omar"]
FAMILY = [
    "Ashdown",
    "Brook",
    "Carver",
    "Dale",
    "Elmore",
    "Frost",
    "Grange",
    "Hale",
    "Irwin",
    "Jansen",
    "Keller",
    "Lowe",
    "Marsh",
    "Nolan",
    "Orme",
    "Pryce",
    "Quill",
    "Rowe",
    "Shaw",
    "Thorne",
    "Upton",
    "Vance",
    "Wells",
    "Yates",
]

DIAGNOSES = [
    ("cidp", 45),
    ("pid", 20),
    ("mmn", 10),
    ("itp", 8),
    ("myasthenia_gravis", 5),
    ("dermatomyositis", 4),
    ("gbs", 3),
    ("other", 5),
]
# diagnosis -> (g/kg/day, days per course, interval days)
SCHEDULES = {
    "cidp": (1.0, 1, 21),
    "pid": (0.5, 1, 28),
    "mmn": (0.5, 2, 28),
    "itp": (1.0, 2, 42),
    "myasthenia_gravis": (1.0, 1, 28),
    "dermatomyositis": (1.0, 2, 28),
    "gbs": (0.4, 5, None),
    "other": (0.4, 1, 28),
}
CONDITIONS = [
    ("hypertension", 0.30),
    ("diabetes", 0.12),
    ("dyslipidemia", 0.20),
    ("smoking", 0.12),
    ("atrial_fibrillation", 0.04),
    ("heart_failure", 0.03),
    ("thrombophilia", 0.03),
    ("thrombophilia_high_risk", 0.005),
    ("active_cancer", 0.04),
    ("paraproteinemia", 0.03),
    ("reduced_mobility", 0.10),
    ("bedbound", 0.01),
    ("renal_impairment", 0.05),
]


def _utc(day: date, hour: int) -> datetime:
    return datetime.combine(day, time(hour, 0), tzinfo=UTC)


def generate(
    count: int,
    *,
    seed: int = 1,
    prefix: str | None = None,
    batch: int = 1000,
    progress: Callable[[int], None] | None = None,
    today: date | None = None,
    sites: int = 1,
) -> int:
    """Create `count` synthetic patients (idempotent per MRN prefix + seed). Returns how many were created.

    ``sites`` > 1 spreads them evenly over that many sites (codes SYN01, SYN02…, created if
    missing, each in its own time zone); 1 puts them all in the default site."""
    rng = random.Random(seed)
    site_ids = synthetic_sites(sites)
    today = today or timezone.localdate()
    prefix = prefix or f"SYN{seed}-"
    existing = set(Patient.objects.filter(mrn__startswith=prefix).values_list("mrn", flat=True))
    products = list(Product.objects.filter(active=True).values_list("id", "name", "max_rate_mg_kg_min"))
    created = 0
    for start in range(0, count, batch):
        numbers = [n for n in range(start, min(start + batch, count)) if f"{prefix}{n:06d}" not in existing]
        if numbers:
            with transaction.atomic():
                created += _batch(rng, numbers, prefix, products, today, site_ids)
        if progress:
            progress(min(batch, count - start))
    return created


SITE_ZONES = ("Europe/London", "Australia/Sydney", "America/New_York", "Europe/Berlin", "Asia/Singapore")


def synthetic_sites(count: int) -> list[int]:
    """The ids of the sites synthetic patients go to: the default site, or SYN01…SYNnn."""
    if count <= 1:
        return [Site.objects.default().pk]
    ids = []
    for i in range(1, count + 1):
        site, _ = Site.objects.get_or_create(
            code=f"SYN{i:02d}",
            defaults={"name": f"Synthetic clinic {i}", "time_zone": SITE_ZONES[(i - 1) % len(SITE_ZONES)]},
        )
        ids.append(site.pk)
    return ids


def _batch(rng: random.Random, numbers: list[int], prefix: str, products, today: date, site_ids: list[int]) -> int:
    now = timezone.now()
    people = []
    for n in numbers:
        sex = "female" if rng.random() < 0.55 else "male"
        age = min(92, max(18, int(rng.gauss(57, 16))))
        height = round(rng.gauss(165 if sex == "female" else 178, 7), 1)
        height = min(225.0, max(125.0, height))
        bmi = min(55, max(17, rng.gauss(27, 5)))
        weight = round(min(300.0, max(30.0, bmi * (height / 100) ** 2)), 1)
        has_weight = rng.random() > 0.04
        measured = today - timedelta(days=rng.randint(0, 200))
        people.append(
            Patient(
                mrn=f"{prefix}{n:06d}",
                given_name=rng.choice(GIVEN_F if sex == "female" else GIVEN_M),
                family_name=rng.choice(FAMILY),
                date_of_birth=today - timedelta(days=age * 365 + rng.randint(0, 364)),
                sex=sex,
                height_cm=height,
                weight_kg=weight if has_weight else None,
                weight_measured_on=measured if has_weight else None,
                diagnosis=rng.choices([d for d, _ in DIAGNOSES], [w for _, w in DIAGNOSES])[0],
                site_id=site_ids[n % len(site_ids)],
            )
        )
    Patient.objects.bulk_create(people, batch_size=1000)
    if people[0].pk is None:  # SQLite before RETURNING support: read the ids back
        ids = dict(Patient.objects.filter(mrn__in=[p.mrn for p in people]).values_list("mrn", "id"))
        for p in people:
            p.pk = p.id = ids[p.mrn]

    weights, conditions, accesses, events, labs, meds, infusions = [], [], [], [], [], [], []
    regimen_objs = []
    for p in people:
        if p.weight_kg:
            weights.append((uuid.uuid4(), now, now, p.pk, p.weight_kg, p.weight_measured_on, True))
        for code, share in CONDITIONS:
            if rng.random() < share:
                onset = today - timedelta(days=rng.randint(30, 3000))
                conditions.append((uuid.uuid4(), now, now, p.pk, code, onset, None, ""))
        if p.sex == "female" and rng.random() < 0.01:
            conditions.append(
                (uuid.uuid4(), now, now, p.pk, "pregnancy_postpartum", today - timedelta(days=90), None, "")
            )
        if rng.random() < 0.06:
            kind = rng.choice(["port", "port", "picc", "cvc_tunneled"])
            accesses.append(
                (
                    uuid.uuid4(),
                    now,
                    now,
                    p.pk,
                    kind,
                    rng.choice(["internal_jugular", "subclavian", "arm"]),
                    rng.choice(["left", "right"]),
                    today - timedelta(days=rng.randint(10, 900)),
                    None,
                    "",
                )
            )
        if rng.random() < 0.04:
            events.append(
                (
                    uuid.uuid4(),
                    now,
                    now,
                    p.pk,
                    rng.choice(["dvt", "pe", "upper_extremity_dvt"]),
                    "confirmed",
                    today - timedelta(days=rng.randint(20, 2500)),
                    rng.choice(["unprovoked", "minor_transient"]),
                    "",
                )
            )
        if rng.random() < 0.02:
            events.append(
                (
                    uuid.uuid4(),
                    now,
                    now,
                    p.pk,
                    rng.choice(["mi", "ischemic_stroke", "tia"]),
                    "confirmed",
                    today - timedelta(days=rng.randint(60, 3000)),
                    "unknown",
                    "",
                )
            )
        if rng.random() < 0.15:
            started = today - timedelta(days=rng.randint(1, 400))
            ended = started + timedelta(days=rng.randint(10, 200)) if rng.random() < 0.6 else None
            meds.append(
                (uuid.uuid4(), now, now, p.pk, "steroid", "prednisolone", 20, 20, "oral", "", started, ended, "")
            )
        if p.sex == "female" and rng.random() < 0.08:
            meds.append(
                (
                    uuid.uuid4(),
                    now,
                    now,
                    p.pk,
                    "estrogen",
                    "estradiol (oral HRT)",
                    None,
                    None,
                    "oral",
                    "",
                    today - timedelta(days=rng.randint(30, 2000)),
                    None,
                    "",
                )
            )
        if rng.random() < 0.05:
            meds.append(
                (
                    uuid.uuid4(),
                    now,
                    now,
                    p.pk,
                    "anticoagulant",
                    "apixaban",
                    10,
                    None,
                    "oral",
                    rng.choice(["therapeutic", "extended", "prophylactic"]),
                    today - timedelta(days=rng.randint(10, 700)),
                    None,
                    "",
                )
            )
        if rng.random() < 0.08:
            meds.append(
                (
                    uuid.uuid4(),
                    now,
                    now,
                    p.pk,
                    "diuretic",
                    "furosemide",
                    40,
                    None,
                    "oral",
                    "",
                    today - timedelta(days=rng.randint(10, 900)),
                    None,
                    "",
                )
            )
        # labs: baseline pre-IVIG set for most, a coagulation panel for some
        if rng.random() < 0.9:
            at = _utc(today - timedelta(days=rng.randint(200, 700)), 8)
            for test, value, unit in (
                ("platelets", rng.gauss(250, 50), "10^9/L"),
                ("creatinine", rng.gauss(0.9, 0.2), "mg/dL"),
                ("iga", rng.gauss(200, 60), "mg/dL"),
            ):
                labs.append(_lab(p.pk, test, value, unit, at, now))
        if rng.random() < 0.4:
            at = _utc(today - timedelta(days=rng.randint(5, 400)), 8)
            for test, value, unit in (
                ("pt", rng.gauss(12.5, 0.6), "s"),
                ("inr", rng.gauss(1.0, 0.08), "ratio"),
                ("aptt", rng.gauss(30, 3), "s"),
                ("fibrinogen", rng.gauss(3.2, 0.6), "g/L"),
                ("platelets", rng.gauss(250, 50), "10^9/L"),
            ):
                labs.append(_lab(p.pk, test, value, unit, at, now))
        # the regimen and about two years of infusions on its schedule
        dose, days, interval = SCHEDULES[p.diagnosis]
        product_id, _, label_max = rng.choice(products)
        rate = round(min(float(label_max), rng.choice([2.0, 3.0, 3.3, 4.0, 6.0, 8.0])), 2)
        if interval:
            begin = today - timedelta(days=rng.randint(60, 730))
        else:
            begin = today - timedelta(days=rng.randint(0, 400))
        regimen_objs.append(
            Regimen(
                patient_id=p.pk,
                product_id=product_id,
                indication=p.diagnosis,
                dose_g_per_kg_per_day=dose,
                days_per_course=days,
                interval_days=interval,
                dosing_weight="actual",
                start_date=begin,
                max_rate_mg_kg_min=rate,
                setting="outpatient",
            )
        )
        grams = round(dose * float(p.weight_kg or 70), 1)
        course = begin
        while course <= today:
            for d in range(days):
                day = course + timedelta(days=d)
                if day > today - timedelta(days=1):
                    break
                infusions.append(
                    (
                        uuid.uuid4(),
                        now,
                        now,
                        p.pk,
                        product_id,
                        f"LOT{rng.randint(1000, 9999)}",
                        _utc(day, 9 + rng.randint(0, 6)),
                        min(grams, 250.0),
                        rate,
                        "administered",
                        "staff",
                        "",
                        "",
                        p.weight_kg,
                        "",
                    )
                )
            if not interval:
                break
            course += timedelta(days=interval)

    Regimen.objects.bulk_create(regimen_objs, batch_size=1000)
    copy_rows(
        WeightMeasurement,
        ["public_id", "created_at", "updated_at", "patient_id", "weight_kg", "measured_on", "is_current"],
        weights,
    )
    copy_rows(
        Condition,
        ["public_id", "created_at", "updated_at", "patient_id", "code", "onset_date", "resolved_date", "note"],
        conditions,
    )
    copy_rows(
        VascularAccess,
        [
            "public_id",
            "created_at",
            "updated_at",
            "patient_id",
            "kind",
            "vein",
            "side",
            "inserted_on",
            "removed_on",
            "note",
        ],
        accesses,
    )
    copy_rows(
        ThrombosisEvent,
        [
            "public_id",
            "created_at",
            "updated_at",
            "patient_id",
            "kind",
            "status",
            "diagnosed_on",
            "provocation",
            "note",
        ],
        events,
    )
    copy_rows(
        MedicationCourse,
        [
            "public_id",
            "created_at",
            "updated_at",
            "patient_id",
            "category",
            "drug_name",
            "dose_mg_per_day",
            "prednisolone_eq_mg_per_day",
            "route",
            "intensity",
            "start_date",
            "end_date",
            "note",
            "drug_id",
            "dose",
            "dose_unit",
            "indication",
        ],
        _coded(meds),
    )
    copy_rows(
        LabResult,
        [
            "public_id",
            "created_at",
            "updated_at",
            "patient_id",
            "test",
            "value",
            "unit",
            "entered_value",
            "entered_unit",
            "collected_at",
            "needs_verification",
            "verification_reason",
        ],
        labs,
    )
    copy_rows(
        Infusion,
        [
            "public_id",
            "created_at",
            "updated_at",
            "patient_id",
            "product_id",
            "lot_number",
            "started_at",
            "dose_grams",
            "max_rate_mg_kg_min",
            "status",
            "source",
            "reactions",
            "note",
            "weight_kg_used",
            "iga_override_reason",
        ],
        infusions,
    )
    return len(people)


def _coded(meds: list[tuple]) -> list[tuple]:
    """The synthetic courses linked to the drug dictionary (the dose as given in mg; an
    anticoagulant treats a VTE)."""
    drug_ids = dict(Drug.objects.values_list("name", "pk"))
    rows = []
    for row in meds:
        category, name, dose = row[4], row[5], row[6]
        indication = "vte_treatment" if category == "anticoagulant" else ""
        rows.append((*row, drug_ids[name], dose, "mg" if dose is not None else "", indication))
    return rows


def _lab(patient_id: int, test: str, value: float, unit: str, at: datetime, now: datetime) -> tuple:
    value = round(max(value, 0.2), 2)
    return (uuid.uuid4(), now, now, patient_id, test, value, unit, value, unit, at, False, "")
