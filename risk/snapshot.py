"""Build PatientSnapshots from the database with a fixed number of set-based queries.

One query per record type for the whole list of patient ids (never a query per patient),
reading only the columns and the time windows the rules need:
- infusions of the last INFUSION_WINDOW days: an older infusion can only make the index
  course a "first course or >= 8 weeks gap" (T1 = 1) either way, and `has_earlier_infusions`
  says whether any older administered infusion exists (for pre-IVIG labs);
- labs of the last LAB_WINDOW days; symptom reports of the last SYMPTOM_WINDOW days.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime, timedelta

from django.db.models import Exists, OuterRef, Q

from infusions.models import Infusion, MedicationCourse, Product, Regimen
from patients.models import Condition, LabResult, Patient, SymptomReport, ThrombosisEvent, VascularAccess

from .models import FlagKind, ReviewFlag, RiskAssessment
from .types import (
    AccessSnap,
    ConditionSnap,
    EventSnap,
    FlagHistory,
    InfusionSnap,
    LabSnap,
    MedSnap,
    PatientSnapshot,
    RegimenSnap,
    SymptomSnap,
)

INFUSION_WINDOW = timedelta(days=120)
LAB_WINDOW = timedelta(days=730)
SYMPTOM_WINDOW = timedelta(days=90)
MEDICATION_WINDOW = timedelta(days=400)


def _f(value) -> float | None:
    return None if value is None else float(value)


def _products() -> dict[int, tuple[str, float, float, dict]]:
    return {
        pk: (name, float(conc), float(rate), by_ind or {})
        for pk, name, conc, rate, by_ind in Product.objects.values_list(
            "id", "name", "concentration_percent", "max_rate_mg_kg_min", "indication_max_rates"
        )
    }


def _label_max(product: tuple, indication: str) -> float:
    return float(product[3].get(indication, product[2]))


def load_snapshots(patient_ids: Iterable[int], as_of: datetime) -> dict[int, PatientSnapshot]:
    """Snapshots for many patients: 10 queries whatever the number of patients."""
    ids = list(patient_ids)
    if not ids:
        return {}
    today = as_of.date()
    products = _products()

    patients = Patient.objects.filter(pk__in=ids).annotate(
        has_earlier=Exists(
            Infusion.objects.filter(
                patient=OuterRef("pk"), status="administered", started_at__lt=as_of - INFUSION_WINDOW
            )
        )
    )
    base = {
        row[0]: row
        for row in patients.values_list(
            "id",
            "date_of_birth",
            "sex",
            "height_cm",
            "weight_kg",
            "weight_measured_on",
            "diagnosis",
            "has_earlier",
        )
    }

    conditions = defaultdict(list)
    for pid, code, onset, resolved in Condition.objects.filter(patient_id__in=ids).values_list(
        "patient_id", "code", "onset_date", "resolved_date"
    ):
        conditions[pid].append(ConditionSnap(code=code, onset_date=onset, resolved_date=resolved))

    accesses = defaultdict(list)
    for pid, kind, vein, inserted, removed in VascularAccess.objects.filter(patient_id__in=ids).values_list(
        "patient_id", "kind", "vein", "inserted_on", "removed_on"
    ):
        accesses[pid].append(AccessSnap(kind=kind, vein=vein, inserted_on=inserted, removed_on=removed))

    events = defaultdict(list)
    for pid, kind, status, diagnosed, provocation, access_id in ThrombosisEvent.objects.filter(
        patient_id__in=ids
    ).values_list("patient_id", "kind", "status", "diagnosed_on", "provocation", "vascular_access_id"):
        events[pid].append(
            EventSnap(
                kind=kind,
                status=status,
                diagnosed_on=diagnosed,
                provocation=provocation,
                catheter_related=access_id is not None or provocation == "catheter_related",
            )
        )

    labs = defaultdict(list)
    for pid, test, value, collected, ref_high, doubtful in LabResult.objects.filter(
        patient_id__in=ids, collected_at__gte=as_of - LAB_WINDOW, collected_at__lte=as_of
    ).values_list("patient_id", "test", "value", "collected_at", "reference_high", "needs_verification"):
        labs[pid].append(
            LabSnap(
                test=test, value=value, collected_at=collected, reference_high=ref_high, needs_verification=doubtful
            )
        )

    meds = defaultdict(list)
    for pid, category, drug, start, end, dose, pred, intensity in (
        MedicationCourse.objects.filter(patient_id__in=ids, start_date__lte=today)
        .filter(Q(end_date__isnull=True) | Q(end_date__gte=today - MEDICATION_WINDOW))
        .values_list(
            "patient_id",
            "category",
            "drug",
            "start_date",
            "end_date",
            "dose_mg_per_day",
            "prednisolone_eq_mg_per_day",
            "intensity",
        )
    ):
        meds[pid].append(
            MedSnap(
                category=category,
                drug=drug,
                start_date=start,
                end_date=end,
                dose_mg_per_day=_f(dose),
                prednisolone_eq_mg_per_day=_f(pred),
                intensity=intensity,
            )
        )

    regimens = defaultdict(list)
    regimen_indication: dict[int, str] = {}
    for row in (
        Regimen.objects.filter(patient_id__in=ids)
        .filter(Q(end_date__isnull=True) | Q(end_date__gte=today))
        .values_list(
            "id",
            "patient_id",
            "product_id",
            "indication",
            "dose_g_per_kg_per_day",
            "dose_grams_per_day",
            "days_per_course",
            "interval_days",
            "dosing_weight",
            "start_date",
            "end_date",
            "max_rate_mg_kg_min",
            "setting",
        )
    ):
        (rid, pid, product_id, indication, per_kg, grams, days, interval, dosing, start, end, rate, setting) = row
        product = products[product_id]
        regimen_indication[rid] = indication
        regimens[pid].append(
            RegimenSnap(
                product_name=product[0],
                product_concentration_percent=product[1],
                label_max_rate_mg_kg_min=_label_max(product, indication),
                indication=indication,
                dose_g_per_kg_per_day=_f(per_kg),
                dose_grams_per_day=_f(grams),
                days_per_course=days,
                interval_days=interval,
                dosing_weight=dosing,
                start_date=start,
                end_date=end,
                max_rate_mg_kg_min=_f(rate),
                setting=setting,
                product_id=product_id,
            )
        )

    infusions = defaultdict(list)
    for pid, regimen_id, product_id, started, grams, rate, ml_h, status in Infusion.objects.filter(
        patient_id__in=ids, started_at__gte=as_of - INFUSION_WINDOW, status="administered", started_at__lte=as_of
    ).values_list(
        "patient_id",
        "regimen_id",
        "product_id",
        "started_at",
        "dose_grams",
        "max_rate_mg_kg_min",
        "max_rate_ml_h",
        "status",
    ):
        product = products[product_id]
        indication = regimen_indication.get(regimen_id) or base[pid][6]
        infusions[pid].append(
            InfusionSnap(
                started_at=started,
                dose_grams=float(grams),
                status=status,
                product_name=product[0],
                product_concentration_percent=product[1],
                label_max_rate_mg_kg_min=_label_max(product, indication),
                max_rate_mg_kg_min=_f(rate),
                max_rate_ml_h=_f(ml_h),
                product_id=product_id,
            )
        )

    symptoms = defaultdict(list)
    for pid, reported, triage, codes in SymptomReport.objects.filter(
        patient_id__in=ids, reported_at__gte=as_of - SYMPTOM_WINDOW, reported_at__lte=as_of
    ).values_list("patient_id", "reported_at", "triage", "symptoms"):
        symptoms[pid].append(SymptomSnap(reported_at=reported, triage=triage, symptoms=tuple(codes or ())))

    snapshots = {}
    for pid, (_, dob, sex, height, weight, weighed_on, diagnosis, has_earlier) in base.items():
        snapshots[pid] = PatientSnapshot(
            patient_id=pid,
            date_of_birth=dob,
            sex=sex,
            height_cm=_f(height),
            weight_kg=_f(weight),
            weight_measured_on=weighed_on,
            diagnosis=diagnosis,
            conditions=tuple(conditions[pid]),
            accesses=tuple(accesses[pid]),
            events=tuple(events[pid]),
            labs=tuple(labs[pid]),
            medications=tuple(meds[pid]),
            regimens=tuple(regimens[pid]),
            infusions=tuple(infusions[pid]),
            symptom_reports=tuple(symptoms[pid]),
            has_earlier_infusions=bool(has_earlier),
        )
    return snapshots


def load_snapshot(patient_id: int, as_of: datetime) -> PatientSnapshot | None:
    return load_snapshots([patient_id], as_of).get(patient_id)


def load_histories(patient_ids: Iterable[int]) -> tuple[dict[int, FlagHistory], dict[int, dict], dict[int, ReviewFlag]]:
    """Flag history, current assessment summary and unresolved flags for many patients: 3 queries.

    Returns (histories, current assessments {pid: {id, fingerprint, tier, tier_rose_at}},
    unresolved flags {(pid, kind): ReviewFlag}).
    """
    ids = list(patient_ids)
    reviews: dict[int, datetime] = {}
    # Only a review closed by a person counts as a haematology review; a flag the sweep closed
    # because its rule lapsed is not one.
    for pid, resolved_at in (
        ReviewFlag.objects.filter(
            patient_id__in=ids,
            kind=FlagKind.HEMATOLOGY_REVIEW,
            status="resolved",
            resolution="completed",
            resolved_by__isnull=False,
        )
        .order_by("patient_id", "resolved_at")
        .values_list("patient_id", "resolved_at")
    ):
        reviews[pid] = resolved_at  # ordered ascending: the last one wins

    current = {
        row["patient_id"]: row
        for row in RiskAssessment.objects.filter(patient_id__in=ids, is_current=True).values(
            "id", "patient_id", "fingerprint", "tier", "score", "tier_rose_at"
        )
    }

    open_flags: dict[tuple[int, str], ReviewFlag] = {}
    by_patient: dict[int, dict] = defaultdict(dict)
    for flag in ReviewFlag.objects.filter(patient_id__in=ids, status__in=("open", "acknowledged", "snoozed")):
        open_flags[(flag.patient_id, flag.kind)] = flag
        by_patient[flag.patient_id][flag.kind] = {
            "rule": flag.rule,
            "priority": flag.priority,
            "status": flag.status,
            "snoozed_until": flag.snoozed_until,
        }

    histories = {
        pid: FlagHistory(
            last_hematology_review_on=reviews.get(pid),
            tier_last_rose_at=(current.get(pid) or {}).get("tier_rose_at"),
            open_flags=by_patient.get(pid, {}),
        )
        for pid in ids
    }
    return histories, current, open_flags
