"""Build PatientSnapshots from the database with a fixed number of set-based queries.

One query per record type for the whole list of patient ids (never a query per patient),
reading only the columns and the time windows the rules need:
- infusions of the last INFUSION_WINDOW days: an older infusion can only make the index
  course a "first course or >= 8 weeks gap" (T1 = 1) either way, and `has_earlier_infusions`
  says whether any older administered infusion exists (for pre-IVIG labs);
- labs of the last LAB_WINDOW days; symptom reports of the last SYMPTOM_WINDOW days.

`load_snapshots` runs those 10 queries through the ORM (any database). The assessment path
(`load_chunk`, then `risk.histories.load_histories` under the chunk's lock) reads the same rows on PostgreSQL
in one UNION ALL statement, and the chunk's current assessments and flags in one more: the
query count of a sweep chunk and of one patient after a write stays small and fixed. Both
paths give equal snapshots (same rows, same order: tests/risk check it).
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable
from datetime import UTC, date, datetime, timedelta

from django.db import connection
from django.db.models import Exists, OuterRef, Q
from psycopg import adapters as _pg_adapters
from psycopg.pq import Format as _PgFormat

from infusions.models import Infusion, MedicationCourse, Product, Regimen
from itrs.types import (
    AccessSnap,
    ConditionSnap,
    EventSnap,
    InfusionSnap,
    LabSnap,
    MedSnap,
    PatientSnapshot,
    RegimenSnap,
    SymptomSnap,
)
from patients.models import Condition, LabResult, Patient, SymptomReport, ThrombosisEvent, VascularAccess

_C_TIMESTAMPTZ_LOADER = _pg_adapters.get_loader(_pg_adapters.types["timestamptz"].oid, _PgFormat.TEXT)

INFUSION_WINDOW = timedelta(days=120)
LAB_WINDOW = timedelta(days=730)
SYMPTOM_WINDOW = timedelta(days=90)
MEDICATION_WINDOW = timedelta(days=400)


def _f(value) -> float | None:
    return None if value is None else float(value)


def _label_max(product: tuple, indication: str) -> float:
    return float(product[3].get(indication, product[2]))


def load_snapshots(patient_ids: Iterable[int], as_of: datetime) -> dict[int, PatientSnapshot]:
    """Snapshots for many patients: 10 queries whatever the number of patients."""
    ids = list(patient_ids)
    if not ids:
        return {}
    return _build(_fetch_rows(ids, as_of), as_of)


def load_chunk(
    patient_ids: Iterable[int], as_of: datetime, *, risk_window: timedelta
) -> tuple[dict[int, PatientSnapshot], list[tuple[int, int, datetime]]]:
    """What `risk.services.process_patients` reads before it locks the chunk: the snapshots, and
    the administered infusions of the last `risk_window` with no risk recorded yet
    ((infusion id, patient id, started_at), newest first).

    On PostgreSQL the same rows as `load_snapshots` come in one UNION ALL statement (one round
    trip for a chunk or for one patient); elsewhere the 10 queries plus one.
    """
    ids = list(patient_ids)
    if not ids:
        return {}, []
    if connection.vendor == "postgresql":
        rows = _fetch_rows_one_query(ids, as_of, risk_window)
        return _build(rows, as_of), rows["unscored"]
    unscored = list(
        Infusion.objects.filter(
            patient_id__in=ids,
            status="administered",
            started_at__lte=as_of,
            started_at__gte=as_of - risk_window,
            risk__isnull=True,
        ).values_list("id", "patient_id", "started_at")
    )
    return load_snapshots(ids, as_of), unscored


# --- fetching: rows per record type, the same tuples from either path ------------------------------
#
# products (id, name, concentration_percent, max_rate_mg_kg_min, indication_max_rates)
# base (id, date_of_birth, sex, height_cm, weight_kg, weight_measured_on, diagnosis, has_earlier,
#       the site's time zone)
# conditions (patient_id, code, onset_date, resolved_date)
# accesses (patient_id, kind, vein, inserted_on, removed_on, id)
# events (patient_id, kind, status, diagnosed_on, provocation, vascular_access_id)
# labs (patient_id, test, value, collected_at, reference_high, needs_verification)
# meds (patient_id, category, drug_name, start_date, end_date, dose_mg_per_day, prednisolone_eq, intensity,
#       drug_class, route, indication)
# regimens (id, patient_id, product_id, indication, dose_g_per_kg_per_day, dose_grams_per_day,
#           days_per_course, interval_days, dosing_weight, start_date, end_date, max_rate, setting,
#           created_at)
# infusions (patient_id, regimen_id, product_id, started_at, dose_grams, max_rate_mg_kg_min,
#            max_rate_ml_h, status)
# symptoms (patient_id, reported_at, triage, symptoms)
# Each list in the models' default order (Meta.ordering), as the ORM returns it.


def _local_days(as_of: datetime) -> tuple[date, date]:
    """The earliest and the latest calendar day ``as_of`` is anywhere (UTC-12 to UTC+14): rows are
    loaded for either, and the engine keeps those of the patient's own local day."""
    return (as_of - timedelta(hours=12)).date(), (as_of + timedelta(hours=14)).date()


def _fetch_rows(ids: list[int], as_of: datetime) -> dict[str, list[tuple]]:
    earliest, latest = _local_days(as_of)
    rows: dict[str, list[tuple]] = {}
    rows["products"] = list(
        Product.objects.values_list("id", "name", "concentration_percent", "max_rate_mg_kg_min", "indication_max_rates")
    )
    rows["base"] = list(
        Patient.objects.filter(pk__in=ids)
        .annotate(
            has_earlier=Exists(
                Infusion.objects.filter(
                    patient=OuterRef("pk"), status="administered", started_at__lt=as_of - INFUSION_WINDOW
                )
            )
        )
        .values_list(
            "id",
            "date_of_birth",
            "sex",
            "height_cm",
            "weight_kg",
            "weight_measured_on",
            "diagnosis",
            "has_earlier",
            "site__time_zone",
        )
    )
    rows["conditions"] = list(
        Condition.objects.filter(patient_id__in=ids).values_list("patient_id", "code", "onset_date", "resolved_date")
    )
    rows["accesses"] = list(
        VascularAccess.objects.filter(patient_id__in=ids).values_list(
            "patient_id", "kind", "vein", "inserted_on", "removed_on", "id"
        )
    )
    rows["events"] = list(
        ThrombosisEvent.objects.filter(patient_id__in=ids).values_list(
            "patient_id", "kind", "status", "diagnosed_on", "provocation", "vascular_access_id"
        )
    )
    rows["labs"] = list(
        LabResult.objects.filter(
            patient_id__in=ids, collected_at__gte=as_of - LAB_WINDOW, collected_at__lte=as_of
        ).values_list("patient_id", "test", "value", "collected_at", "reference_high", "needs_verification")
    )
    rows["meds"] = list(
        MedicationCourse.objects.filter(patient_id__in=ids, start_date__lte=latest)
        .filter(Q(end_date__isnull=True) | Q(end_date__gte=earliest - MEDICATION_WINDOW))
        .values_list(
            "patient_id",
            "category",
            "drug_name",
            "start_date",
            "end_date",
            "dose_mg_per_day",
            "prednisolone_eq_mg_per_day",
            "intensity",
            "drug__drug_class",
            "route",
            "indication",
        )
    )
    rows["regimens"] = list(
        Regimen.objects.filter(patient_id__in=ids)
        .filter(Q(end_date__isnull=True) | Q(end_date__gte=earliest))
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
            "created_at",
        )
    )
    rows["infusions"] = list(
        Infusion.objects.filter(
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
        )
    )
    rows["symptoms"] = list(
        SymptomReport.objects.filter(
            patient_id__in=ids, reported_at__gte=as_of - SYMPTOM_WINDOW, reported_at__lte=as_of
        ).values_list("patient_id", "reported_at", "triage", "symptoms")
    )
    return rows


# One statement for a chunk (PostgreSQL): each branch is one query of `_fetch_rows`, with the
# same WHERE clause, its columns in typed slots (NULL elsewhere) and its model's default order
# numbered in `o`, so the rows of each kind arrive as the ORM returns them. Branch 10 is the
# infusions whose risk is not recorded yet (`risk.services._record_infusion_risk`).
# slots: k | a b c bigint | t1 t2 t3 text | d1 d2 date | ts timestamptz | n1 n2 n3 numeric |
#        f1 f2 float8 | i1 i2 int | bo bool | j jsonb | o bigint
_CHUNK_SQL = """
SELECT 0 AS k, pr.id AS a, NULL::bigint AS b, NULL::bigint AS c, pr.name::text AS t1, NULL::text AS t2,
       NULL::text AS t3, NULL::date AS d1, NULL::date AS d2, NULL::timestamptz AS ts,
       pr.concentration_percent AS n1, pr.max_rate_mg_kg_min AS n2, NULL::numeric AS n3,
       NULL::float8 AS f1, NULL::float8 AS f2, NULL::int AS i1, NULL::int AS i2, NULL::bool AS bo,
       pr.indication_max_rates AS j, 0::bigint AS o
  FROM infusions_product pr
UNION ALL
SELECT 1, p.id, NULL, NULL, p.sex, p.diagnosis, (SELECT s.time_zone FROM accounts_site s WHERE s.id = p.site_id),
       p.date_of_birth, p.weight_measured_on, NULL,
       p.height_cm, p.weight_kg, NULL, NULL, NULL, NULL, NULL,
       EXISTS (SELECT 1 FROM infusions_infusion u WHERE u.patient_id = p.id AND u.status = 'administered'
               AND NOT u.entered_in_error AND u.started_at < %(infusion_from)s),
       NULL, row_number() OVER (ORDER BY p.family_name, p.given_name, p.id)
  FROM patients_patient p WHERE p.id = ANY(%(ids)s)
UNION ALL
SELECT 2, c.patient_id, NULL, NULL, c.code, NULL, NULL, c.onset_date, c.resolved_date, NULL,
       NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
       row_number() OVER (ORDER BY c.onset_date DESC, c.id DESC)
  FROM patients_condition c WHERE c.patient_id = ANY(%(ids)s) AND NOT c.entered_in_error
UNION ALL
SELECT 3, v.patient_id, v.id, NULL, v.kind, v.vein, NULL, v.inserted_on, v.removed_on, NULL,
       NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
       row_number() OVER (ORDER BY v.inserted_on DESC, v.id DESC)
  FROM patients_vascularaccess v WHERE v.patient_id = ANY(%(ids)s) AND NOT v.entered_in_error
UNION ALL
SELECT 4, e.patient_id, e.vascular_access_id, NULL, e.kind, e.status, e.provocation, e.diagnosed_on, NULL, NULL,
       NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
       row_number() OVER (ORDER BY e.diagnosed_on DESC, e.id DESC)
  FROM patients_thrombosisevent e WHERE e.patient_id = ANY(%(ids)s) AND NOT e.entered_in_error
UNION ALL
SELECT 5, l.patient_id, NULL, NULL, l.test, NULL, NULL, NULL, NULL, l.collected_at,
       NULL, NULL, NULL, l.value, l.reference_high, NULL, NULL, l.needs_verification, NULL,
       row_number() OVER (ORDER BY l.collected_at DESC, l.id DESC)
  FROM patients_labresult l
 WHERE l.patient_id = ANY(%(ids)s) AND l.collected_at >= %(lab_from)s AND l.collected_at <= %(as_of)s
   AND NOT l.entered_in_error
UNION ALL
SELECT 6, m.patient_id, NULL, NULL, m.category, m.drug_name, m.intensity, m.start_date, m.end_date, NULL,
       m.dose_mg_per_day, m.prednisolone_eq_mg_per_day, NULL, NULL, NULL, NULL, NULL, NULL,
       jsonb_build_array(dr.drug_class, m.route, m.indication),
       row_number() OVER (ORDER BY m.start_date DESC, m.id DESC)
  FROM infusions_medicationcourse m LEFT JOIN infusions_drug dr ON dr.id = m.drug_id
 WHERE m.patient_id = ANY(%(ids)s) AND m.start_date <= %(latest_day)s
   AND (m.end_date IS NULL OR m.end_date >= %(medication_from)s)
   AND NOT m.entered_in_error
UNION ALL
SELECT 7, r.patient_id, r.id, r.product_id, r.indication, r.dosing_weight, r.setting, r.start_date, r.end_date,
       r.created_at, r.dose_g_per_kg_per_day, r.dose_grams_per_day, r.max_rate_mg_kg_min, NULL, NULL,
       r.days_per_course, r.interval_days, NULL, NULL,
       row_number() OVER (ORDER BY r.start_date DESC, r.id DESC)
  FROM infusions_regimen r
 WHERE r.patient_id = ANY(%(ids)s) AND (r.end_date IS NULL OR r.end_date >= %(earliest_day)s)
   AND NOT r.entered_in_error
UNION ALL
SELECT 8, i.patient_id, i.regimen_id, i.product_id, i.status, NULL, NULL, NULL, NULL, i.started_at,
       i.dose_grams, i.max_rate_mg_kg_min, i.max_rate_ml_h, NULL, NULL, NULL, NULL, NULL, NULL,
       row_number() OVER (ORDER BY i.started_at DESC, i.id DESC)
  FROM infusions_infusion i
 WHERE i.patient_id = ANY(%(ids)s) AND i.started_at >= %(infusion_from)s AND i.status = 'administered'
   AND i.started_at <= %(as_of)s AND NOT i.entered_in_error
UNION ALL
SELECT 9, s.patient_id, NULL, NULL, s.triage, NULL, NULL, NULL, NULL, s.reported_at,
       NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, s.symptoms,
       row_number() OVER (ORDER BY s.reported_at DESC, s.id DESC)
  FROM patients_symptomreport s
 WHERE s.patient_id = ANY(%(ids)s) AND s.reported_at >= %(symptom_from)s AND s.reported_at <= %(as_of)s
   AND NOT s.entered_in_error
UNION ALL
SELECT 10, i.patient_id, i.id, NULL, NULL, NULL, NULL, NULL, NULL, i.started_at,
       NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
       row_number() OVER (ORDER BY i.started_at DESC, i.id DESC)
  FROM infusions_infusion i
 WHERE i.patient_id = ANY(%(ids)s) AND i.status = 'administered' AND i.started_at <= %(as_of)s
   AND i.started_at >= %(risk_from)s AND NOT i.entered_in_error
   AND NOT EXISTS (SELECT 1 FROM risk_infusionrisk ir WHERE ir.infusion_id = i.id)
ORDER BY k, o
"""


def fast_timestamps(cursor) -> None:
    """Decode timestamptz on this cursor with psycopg's C loader.

    Django's loader is written in Python (it re-labels the zone); with the session in UTC, as
    Django sets it when USE_TZ, the C loader gives the very same values (tzinfo=timezone.utc)
    several times faster.

    Performance trick (bench/tricks.py): without it a first pass takes 6% longer; the steady
    state, which reads as many rows and writes almost nothing, gains more.
    """
    if connection.timezone_name == "UTC" and connection.timezone is UTC:
        cursor.cursor.adapters.register_loader("timestamptz", _C_TIMESTAMPTZ_LOADER)


_KINDS = ("products", "base", "conditions", "accesses", "events", "labs", "meds", "regimens", "infusions", "symptoms")


def _fetch_rows_one_query(ids: list[int], as_of: datetime, risk_window: timedelta) -> dict[str, list[tuple]]:
    earliest, latest = _local_days(as_of)
    params = {
        "ids": ids,
        "as_of": as_of,
        "earliest_day": earliest,
        "latest_day": latest,
        "infusion_from": as_of - INFUSION_WINDOW,
        "lab_from": as_of - LAB_WINDOW,
        "symptom_from": as_of - SYMPTOM_WINDOW,
        "medication_from": earliest - MEDICATION_WINDOW,
        "risk_from": as_of - risk_window,
    }
    rows: dict[str, list[tuple]] = {name: [] for name in _KINDS}
    unscored: list[tuple] = []
    products, base, conditions, accesses, events = (
        rows["products"],
        rows["base"],
        rows["conditions"],
        rows["accesses"],
        rows["events"],
    )
    labs, meds, regimens, infusions, symptoms = (
        rows["labs"],
        rows["meds"],
        rows["regimens"],
        rows["infusions"],
        rows["symptoms"],
    )
    with connection.cursor() as cursor:
        fast_timestamps(cursor)
        cursor.execute(_CHUNK_SQL, params)
        # jsonb arrives as text (Django's loader; JSONField.from_db_value parses it): parse it too.
        for k, a, b, c, t1, t2, t3, d1, d2, ts, n1, n2, n3, f1, f2, i1, i2, bo, j, _ in cursor.fetchall():
            if k == 8:
                infusions.append((a, b, c, ts, n1, n2, n3, t1))
            elif k == 5:
                labs.append((a, t1, f1, ts, f2, bo))
            elif k == 2:
                conditions.append((a, t1, d1, d2))
            elif k == 1:
                base.append((a, d1, t1, n1, n2, d2, t2, bo, t3))
            elif k == 7:
                regimens.append((b, a, c, t1, n1, n2, i1, i2, t2, d1, d2, n3, t3, ts))
            elif k == 6:
                meds.append((a, t1, t2, d1, d2, n1, n2, t3, *json.loads(j)))
            elif k == 10:
                unscored.append((b, a, ts))
            elif k == 3:
                accesses.append((a, t1, t2, d1, d2, b))
            elif k == 4:
                events.append((a, t1, t2, d1, t3, b))
            elif k == 9:
                symptoms.append((a, ts, t1, None if j is None else json.loads(j)))
            elif k == 0:
                products.append((a, t1, n1, n2, None if j is None else json.loads(j)))
    rows["unscored"] = unscored
    return rows


def _build(rows: dict[str, list[tuple]], as_of: datetime) -> dict[int, PatientSnapshot]:
    products = {pk: (name, float(conc), float(rate), by_ind or {}) for pk, name, conc, rate, by_ind in rows["products"]}
    base = {row[0]: row for row in rows["base"]}

    conditions = defaultdict(list)
    for pid, code, onset, resolved in rows["conditions"]:
        conditions[pid].append(ConditionSnap(code=code, onset_date=onset, resolved_date=resolved))

    accesses = defaultdict(list)
    lines: dict[int, tuple] = {}
    for pid, kind, vein, inserted, removed, access_id in rows["accesses"]:
        accesses[pid].append(AccessSnap(kind=kind, vein=vein, inserted_on=inserted, removed_on=removed))
        lines[access_id] = (kind, vein, removed)

    events = defaultdict(list)
    for pid, kind, status, diagnosed, provocation, access_id in rows["events"]:
        line = lines.get(access_id, ("", "", None))
        events[pid].append(
            EventSnap(
                kind=kind,
                status=status,
                diagnosed_on=diagnosed,
                provocation=provocation,
                catheter_related=access_id is not None or provocation == "catheter_related",
                access_kind=line[0],
                access_vein=line[1],
                access_removed_on=line[2],
            )
        )

    labs = defaultdict(list)
    for pid, test, value, collected, ref_high, doubtful in rows["labs"]:
        labs[pid].append(
            LabSnap(
                test=test, value=value, collected_at=collected, reference_high=ref_high, needs_verification=doubtful
            )
        )

    meds = defaultdict(list)
    for pid, category, drug, start, end, dose, pred, intensity, drug_class, route, indication in rows["meds"]:
        meds[pid].append(
            MedSnap(
                category=category,
                drug=drug,
                start_date=start,
                end_date=end,
                dose_mg_per_day=_f(dose),
                prednisolone_eq_mg_per_day=_f(pred),
                intensity=intensity,
                drug_class=drug_class or "",
                route=route,
                indication=indication,
            )
        )

    regimens = defaultdict(list)
    regimen_indication: dict[int, str] = {}
    for row in rows["regimens"]:
        (
            rid,
            pid,
            product_id,
            indication,
            per_kg,
            grams,
            days,
            interval,
            dosing,
            start,
            end,
            rate,
            setting,
            entered,
        ) = row
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
                recorded_at=entered,
            )
        )

    infusions = defaultdict(list)
    label_max: dict[tuple[int, str], float] = {}
    for pid, regimen_id, product_id, started, grams, rate, ml_h, status in rows["infusions"]:
        product = products[product_id]
        indication = regimen_indication.get(regimen_id) or base[pid][6]
        key = (product_id, indication)
        label = label_max.get(key)
        if label is None:
            label = label_max[key] = _label_max(product, indication)
        infusions[pid].append(
            InfusionSnap(
                started_at=started,
                dose_grams=float(grams),
                status=status,
                product_name=product[0],
                product_concentration_percent=product[1],
                label_max_rate_mg_kg_min=label,
                max_rate_mg_kg_min=_f(rate),
                max_rate_ml_h=_f(ml_h),
                product_id=product_id,
            )
        )

    symptoms = defaultdict(list)
    for pid, reported, triage, codes in rows["symptoms"]:
        symptoms[pid].append(SymptomSnap(reported_at=reported, triage=triage, symptoms=tuple(codes or ())))

    empty = ()
    snapshots = {}
    for pid, (_, dob, sex, height, weight, weighed_on, diagnosis, has_earlier, time_zone) in base.items():
        snapshots[pid] = PatientSnapshot(
            patient_id=pid,
            date_of_birth=dob,
            sex=sex,
            height_cm=_f(height),
            weight_kg=_f(weight),
            weight_measured_on=weighed_on,
            diagnosis=diagnosis,
            conditions=tuple(conditions[pid]) if pid in conditions else empty,
            accesses=tuple(accesses[pid]) if pid in accesses else empty,
            events=tuple(events[pid]) if pid in events else empty,
            labs=tuple(labs[pid]) if pid in labs else empty,
            medications=tuple(meds[pid]) if pid in meds else empty,
            regimens=tuple(regimens[pid]) if pid in regimens else empty,
            infusions=tuple(infusions[pid]) if pid in infusions else empty,
            symptom_reports=tuple(symptoms[pid]) if pid in symptoms else empty,
            has_earlier_infusions=bool(has_earlier),
            time_zone=time_zone or "UTC",
        )
    return snapshots
