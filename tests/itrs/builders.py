"""Hand-built `PatientSnapshot`s for the pure risk tests, and the vignettes' facts.

Small record builders with neutral defaults (override what a test is about), `add()` to put
records into a snapshot, and one function per vignette (docs/vignette-cases.md) returning a
`Case(snapshot, as_of)`. The vignette histories are complete (events, labs and symptom reports
after the pre-event instant included): the engine must ignore what lies after ``as_of``, and a
DB-level test can load the same facts into the database and expect the same results.

Vignette clock: 2025-03-01 09:00 UTC (`NOW`).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta
from typing import NamedTuple

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

NOW = datetime(2025, 3, 1, 9, 0, tzinfo=UTC)
TODAY = NOW.date()


class Case(NamedTuple):
    snapshot: PatientSnapshot
    as_of: datetime


# --- time -----------------------------------------------------------------------------------


def days_before(days: int, today: date = TODAY) -> date:
    """The date ``days`` before ``today`` (negative: after)."""
    return today - timedelta(days=days)


def at(day: date, hour: int = 9, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=UTC)


def born(age: int, on: date = TODAY) -> date:
    """A date of birth that makes the patient exactly ``age`` on ``on`` (birthday that day)."""
    try:
        return on.replace(year=on.year - age)
    except ValueError:  # 29 February
        return date(on.year - age, 3, 1)


# --- products -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Product:
    name: str
    concentration_percent: float
    label_max_rate_mg_kg_min: float  # for the indication used in these tests
    product_id: int


GAMUNEX_C = Product("Gamunex-C", 10, 8.0, 1)  # CIDP
PRIVIGEN = Product("Privigen", 10, 8.0, 2)  # CIDP/PI
GAMMAGARD_MMN = Product("Gammagard Liquid", 10, 9.0, 3)  # MMN
PANZYGA = Product("Panzyga", 10, 12.0, 4)  # CIDP


# --- records --------------------------------------------------------------------------------


def patient(
    *,
    age: int = 30,
    sex: str = "female",
    height_cm: float | None = 170.0,
    weight_kg: float | None = 65.0,
    diagnosis: str = "cidp",
    on: date = TODAY,
    **fields,
) -> PatientSnapshot:
    """A neutral adult (BMI 22.5, no history): ITRS-v0 score 0 until a test adds something."""
    return PatientSnapshot(
        patient_id=fields.pop("patient_id", 1),
        date_of_birth=fields.pop("date_of_birth", born(age, on)),
        sex=sex,
        height_cm=height_cm,
        weight_kg=weight_kg,
        weight_measured_on=fields.pop("weight_measured_on", days_before(7, on) if weight_kg else None),
        diagnosis=diagnosis,
        **fields,
    )


def condition(code: str, onset: date | None = None, resolved: date | None = None) -> ConditionSnap:
    return ConditionSnap(code=code, onset_date=onset, resolved_date=resolved)


def access(
    kind: str = "port",
    *,
    vein: str = "subclavian",
    inserted_on: date | None = None,
    removed_on: date | None = None,
) -> AccessSnap:
    return AccessSnap(kind=kind, vein=vein, inserted_on=inserted_on or days_before(365), removed_on=removed_on)


def event(
    kind: str = "dvt",
    *,
    status: str = "confirmed",
    diagnosed_on: date | None = None,
    provocation: str = "unknown",
    catheter_related: bool = False,
) -> EventSnap:
    return EventSnap(
        kind=kind,
        status=status,
        diagnosed_on=diagnosed_on or days_before(365),
        provocation=provocation,
        catheter_related=catheter_related,
    )


def lab(
    test: str,
    value: float,
    *,
    collected_at: datetime | None = None,
    reference_high: float | None = None,
    needs_verification: bool = False,
) -> LabSnap:
    return LabSnap(
        test=test,
        value=value,
        collected_at=collected_at or NOW - timedelta(hours=2),
        reference_high=reference_high,
        needs_verification=needs_verification,
    )


DRUGS = {
    "steroid": "prednisolone",
    "estrogen": "estradiol (oral HRT)",
    "anticoagulant": "apixaban",
    "antiplatelet": "aspirin",
    "diuretic": "furosemide",
    "thrombogenic": "tamoxifen",
    "other": "bananas",
}
# the dictionary class and usual route of each default drug (infusions/drug_catalogue.py)
CLASSES = {
    "steroid": ("glucocorticoid", "oral"),
    "estrogen": ("oral_hrt", "oral"),
    "anticoagulant": ("doac", "oral"),
    "antiplatelet": ("cox_inhibitor", "oral"),
    "diuretic": ("loop_diuretic", "oral"),
    "thrombogenic": ("serm", "oral"),
    "other": ("", "oral"),
}


def med(
    category: str,
    *,
    drug: str | None = None,
    start_date: date | None = None,
    end_date: date | None = None,
    intensity: str = "",
    dose_mg_per_day: float | None = None,
    drug_class: str | None = None,
    route: str | None = None,
    indication: str | None = None,
    prednisolone_factor: float = 1.0,
) -> MedSnap:
    default_class, default_route = CLASSES[category]
    return MedSnap(
        category=category,
        drug=drug or DRUGS[category],
        start_date=start_date or days_before(30),
        end_date=end_date,
        dose_mg_per_day=dose_mg_per_day,
        prednisolone_eq_mg_per_day=(
            dose_mg_per_day * prednisolone_factor if category == "steroid" and dose_mg_per_day is not None else None
        ),
        intensity=intensity,
        drug_class=default_class if drug_class is None else drug_class,
        route=default_route if route is None else route,
        indication=("vte_treatment" if category == "anticoagulant" else "") if indication is None else indication,
    )


def regimen(
    product: Product = PRIVIGEN,
    *,
    indication: str = "cidp",
    g_per_kg: float | None = 0.4,
    grams: float | None = None,
    days: int = 1,
    interval: int | None = 21,
    dosing_weight: str = "actual",
    start_date: date | None = None,
    end_date: date | None = None,
    max_rate: float | None = 3.0,
    setting: str = "outpatient",
) -> RegimenSnap:
    """An order; ``grams`` makes it a fixed-gram order (g_per_kg then defaults to None)."""
    return RegimenSnap(
        product_name=product.name,
        product_concentration_percent=product.concentration_percent,
        label_max_rate_mg_kg_min=product.label_max_rate_mg_kg_min,
        indication=indication,
        dose_g_per_kg_per_day=None if grams is not None else g_per_kg,
        dose_grams_per_day=grams,
        days_per_course=days,
        interval_days=interval,
        dosing_weight=dosing_weight,
        start_date=start_date or days_before(365),
        end_date=end_date,
        max_rate_mg_kg_min=max_rate,
        setting=setting,
        product_id=product.product_id,
    )


def infusion(
    started_at: datetime,
    grams: float,
    product: Product = PRIVIGEN,
    *,
    status: str = "administered",
    rate: float | None = 3.0,
    ml_h: float | None = None,
) -> InfusionSnap:
    return InfusionSnap(
        started_at=started_at,
        dose_grams=grams,
        status=status,
        product_name=product.name,
        product_concentration_percent=product.concentration_percent,
        label_max_rate_mg_kg_min=product.label_max_rate_mg_kg_min,
        max_rate_mg_kg_min=rate,
        max_rate_ml_h=ml_h,
        product_id=product.product_id,
    )


def course(first_day: date, grams_per_day: float, *, days: int = 1, **kw) -> tuple[InfusionSnap, ...]:
    """``days`` consecutive daily infusions from ``first_day`` at 09:00 UTC."""
    return tuple(infusion(at(first_day + timedelta(days=d)), grams_per_day, **kw) for d in range(days))


def history(
    last_first_day: date, *, interval: int, courses: int, grams_per_day: float, days: int = 1, **kw
) -> tuple[InfusionSnap, ...]:
    """``courses`` courses every ``interval`` days, the last one starting on ``last_first_day``."""
    out: list[InfusionSnap] = []
    for k in reversed(range(courses)):
        out.extend(course(last_first_day - timedelta(days=k * interval), grams_per_day, days=days, **kw))
    return tuple(out)


def symptom(reported_at: datetime, triage: str, *codes: str) -> SymptomSnap:
    return SymptomSnap(reported_at=reported_at, triage=triage, symptoms=codes)


_FIELD_OF = {
    ConditionSnap: "conditions",
    AccessSnap: "accesses",
    EventSnap: "events",
    LabSnap: "labs",
    MedSnap: "medications",
    RegimenSnap: "regimens",
    InfusionSnap: "infusions",
    SymptomSnap: "symptom_reports",
}


def add(snapshot: PatientSnapshot, *records) -> PatientSnapshot:
    """``snapshot`` with ``records`` (any mix, or tuples of them) appended where they belong."""
    changes: dict[str, tuple] = {}
    flat = []
    for record in records:
        flat.extend(record if isinstance(record, tuple) else (record,))
    for record in flat:
        name = _FIELD_OF[type(record)]
        changes[name] = changes.get(name, getattr(snapshot, name)) + (record,)
    return replace(snapshot, **changes)


# --- the vignettes (docs/vignette-cases.md) ---------------------------------------------------

V01_PRE_EVENT = datetime(2025, 2, 23, 12, 0, tzinfo=UTC)  # day 5, after the last induction dose
V02_PRE_EVENT = datetime(2025, 2, 28, 9, 0, tzinfo=UTC)  # day 4 after the last infusion


def v01_snapshot() -> PatientSnapshot:
    """V01: 64-year-old man, CIDP, 0.4 g/kg/day x 5 as an inpatient; PE + leg DVT on day 11.

    Day d is 2025-02-18 + d: infusions days 1-5 (19-23 Feb), admitted day -1 (17 Feb),
    discharged day 6 (24 Feb), calf symptoms day 9, PE/DVT confirmed day 11 (1 Mar = NOW).
    """
    gamunex = GAMUNEX_C
    return PatientSnapshot(
        patient_id=101,
        date_of_birth=date(1960, 6, 15),
        sex="male",
        height_cm=178.0,
        weight_kg=96.0,
        weight_measured_on=date(2025, 2, 17),
        diagnosis="cidp",
        conditions=(
            condition("hypertension", date(2015, 1, 1)),
            condition("reduced_mobility", date(2025, 1, 20)),
            condition("hospital_admission", date(2025, 2, 17), date(2025, 2, 24)),
            condition("hospital_admission", date(2025, 3, 1)),  # re-admission on day 11
        ),
        events=(
            event("pe", diagnosed_on=date(2025, 3, 1)),
            event("dvt", diagnosed_on=date(2025, 3, 1)),
        ),
        labs=tuple(
            lab(test, value, collected_at=at(date(2025, 3, 1), 7, 30), reference_high=ref)
            for test, value, ref in (
                ("d_dimer", 5.8, 0.5),
                ("platelets", 232, None),
                ("pt", 12.4, 13.9),
                ("inr", 1.0, None),
                ("aptt", 30, None),
                ("fibrinogen", 4.9, None),
                ("creatinine", 1.0, None),
            )
        ),
        regimens=(
            regimen(
                gamunex,
                g_per_kg=0.4,
                days=5,
                interval=None,
                start_date=date(2025, 2, 19),
                end_date=date(2025, 2, 23),
                max_rate=8.0,
                setting="inpatient",
            ),
            regimen(gamunex, g_per_kg=1.0, days=1, interval=21, start_date=date(2025, 3, 12), max_rate=8.0),
        ),
        infusions=course(date(2025, 2, 19), 40.0, days=5, product=gamunex, rate=8.0, ml_h=460),
        symptom_reports=(
            symptom(at(date(2025, 2, 27), 18), "urgent", "limb_pain_swelling"),
            symptom(at(date(2025, 3, 1), 7), "emergency", "chest_pain", "sudden_breathlessness"),
        ),
    )


def v01_pre_event() -> Case:
    return Case(v01_snapshot(), V01_PRE_EVENT)


def v01_post_event() -> Case:
    return Case(v01_snapshot(), NOW)


def v02_snapshot() -> PatientSnapshot:
    """V02: 52-year-old woman, Privigen 0.8 g/kg every 14 days through a right IJ port; IJV clot."""
    last = date(2025, 2, 24)
    return PatientSnapshot(
        patient_id=102,
        date_of_birth=date(1972, 8, 10),
        sex="female",
        height_cm=165.0,
        weight_kg=70.0,
        weight_measured_on=date(2025, 2, 10),
        diagnosis="cidp",
        accesses=(access("port", vein="internal_jugular", inserted_on=date(2024, 1, 2)),),
        events=(
            event(
                "jugular_vein",
                diagnosed_on=date(2025, 3, 1),
                provocation="catheter_related",
                catheter_related=True,
            ),
        ),
        labs=tuple(
            lab(test, value, collected_at=at(date(2025, 3, 1), 8))
            for test, value in (("platelets", 268), ("pt", 12.8), ("aptt", 31), ("fibrinogen", 3.6), ("d_dimer", 2.1))
        ),
        regimens=(
            regimen(PRIVIGEN, g_per_kg=0.8, interval=14, start_date=last - timedelta(days=14 * 19), max_rate=8.0),
        ),
        infusions=history(last, interval=14, courses=10, grams_per_day=56.0, rate=8.0, ml_h=336),
        symptom_reports=(symptom(at(date(2025, 3, 1), 7, 30), "urgent", "neck_face_arm_swelling"),),
    )


def v02_pre_event() -> Case:
    return Case(v02_snapshot(), V02_PRE_EVENT)


def v02_post_event() -> Case:
    return Case(v02_snapshot(), NOW)


def v04() -> Case:
    """V04: 28-year-old woman with MMN, 0.5 g/kg/day x 2 every 4 weeks at the 9 mg/kg/min label max."""
    return Case(
        PatientSnapshot(
            patient_id=104,
            date_of_birth=date(1996, 9, 12),
            sex="female",
            height_cm=168.0,
            weight_kg=58.0,
            weight_measured_on=date(2025, 2, 20),
            diagnosis="mmn",
            labs=(
                lab("creatinine", 0.7, collected_at=at(date(2024, 6, 1))),
                lab("iga", 180, collected_at=at(date(2023, 5, 2))),
            ),
            regimens=(
                regimen(
                    GAMMAGARD_MMN,
                    indication="mmn",
                    g_per_kg=0.5,
                    days=2,
                    interval=28,
                    start_date=date(2023, 6, 1),
                    max_rate=9.0,
                ),
            ),
            infusions=history(
                date(2025, 2, 20),
                interval=28,
                courses=4,
                grams_per_day=29.0,
                days=2,
                product=GAMMAGARD_MMN,
                rate=9.0,
                ml_h=313,
            ),
            symptom_reports=(symptom(at(date(2025, 2, 20), 15), "routine", "other"),),
        ),
        NOW,
    )


def v07(*, rate: float = 8.0) -> Case:
    """V07: 58-year-old woman on oral HRT, Privigen 1 g/kg (72 g) every 3 weeks at ``rate``."""
    ml_h = 346 if rate == 8.0 else None
    return Case(
        PatientSnapshot(
            patient_id=107,
            date_of_birth=date(1966, 11, 5),
            sex="female",
            height_cm=166.0,
            weight_kg=72.0,
            weight_measured_on=date(2025, 2, 22),
            diagnosis="cidp",
            medications=(med("estrogen", drug="estradiol/norethisterone (oral HRT)", start_date=date(2022, 3, 1)),),
            regimens=(regimen(PRIVIGEN, g_per_kg=1.0, interval=21, start_date=date(2024, 1, 6), max_rate=rate),),
            infusions=history(date(2025, 2, 22), interval=21, courses=5, grams_per_day=72.0, rate=rate, ml_h=ml_h),
        ),
        NOW,
    )


def v10(*, days: int = 2, steroid_days_ago: int = 21) -> Case:
    """V10: 49-year-old man, first course of Panzyga 2 g/kg over ``days`` days at 3.0 mg/kg/min,
    prednisolone 60 mg/day started ``steroid_days_ago`` days ago (ongoing)."""
    per_kg = 2.0 / days
    grams = round(85 * per_kg)  # 85 g/day over 2 days; 34 g/day over 5 days
    first = TODAY - timedelta(days=days)
    return Case(
        PatientSnapshot(
            patient_id=110,
            date_of_birth=date(1975, 7, 20),
            sex="male",
            height_cm=182.0,
            weight_kg=85.0,
            weight_measured_on=first,
            diagnosis="cidp",
            medications=(med("steroid", start_date=days_before(steroid_days_ago), dose_mg_per_day=60),),
            regimens=(regimen(PANZYGA, g_per_kg=per_kg, days=days, interval=None, start_date=first, max_rate=3.0),),
            infusions=course(first, grams, days=days, product=PANZYGA, rate=3.0, ml_h=153),
        ),
        NOW,
    )


def v12() -> Case:
    """V12: 55-year-old man, weight never recorded; fixed 80 g Gamunex-C every 3 weeks at 300 mL/h."""
    return Case(
        PatientSnapshot(
            patient_id=112,
            date_of_birth=date(1969, 5, 2),
            sex="male",
            height_cm=175.0,
            weight_kg=None,
            weight_measured_on=None,
            diagnosis="cidp",
            regimens=(regimen(GAMUNEX_C, grams=80.0, interval=21, start_date=date(2024, 3, 1), max_rate=None),),
            infusions=history(
                date(2025, 2, 20), interval=21, courses=4, grams_per_day=80.0, product=GAMUNEX_C, rate=None, ml_h=300
            ),
        ),
        NOW,
    )


def v15(*, future_grams: float = 32.5) -> Case:
    """V15: 44-year-old woman; an "administered" infusion logged for 2025-03-11 (in the future)."""
    return Case(
        PatientSnapshot(
            patient_id=115,
            date_of_birth=date(1980, 6, 30),
            sex="female",
            height_cm=170.0,
            weight_kg=65.0,
            weight_measured_on=date(2025, 2, 20),
            diagnosis="cidp",
            regimens=(
                regimen(
                    GAMUNEX_C, g_per_kg=0.5, interval=21, start_date=date(2024, 4, 4), max_rate=6.0, setting="home"
                ),
            ),
            infusions=history(
                date(2025, 2, 20), interval=21, courses=4, grams_per_day=32.5, product=GAMUNEX_C, rate=6.0
            )
            + (infusion(datetime(2025, 3, 11, 10, 0, tzinfo=UTC), future_grams, GAMUNEX_C, rate=6.0),),
            symptom_reports=(symptom(NOW - timedelta(minutes=5), "routine", "other"),),
        ),
        NOW,
    )


def v16(*, dvt: str | None = None) -> Case:
    """V16: 36-year-old woman, Privigen 60 g every 3 weeks; calf swelling day 4. ``dvt``: None,
    "suspected" or "confirmed" (a DVT record dated today)."""
    snap = PatientSnapshot(
        patient_id=116,
        date_of_birth=date(1988, 10, 14),
        sex="female",
        height_cm=165.0,
        weight_kg=60.0,
        weight_measured_on=date(2025, 2, 25),
        diagnosis="cidp",
        regimens=(regimen(PRIVIGEN, g_per_kg=1.0, interval=21, start_date=date(2024, 2, 6), max_rate=6.0),),
        infusions=history(date(2025, 2, 25), interval=21, courses=4, grams_per_day=60.0, rate=6.0),
        symptom_reports=(symptom(at(TODAY, 8), "urgent", "limb_pain_swelling", "limb_discoloration"),),
    )
    if dvt:
        snap = add(snap, event("dvt", status=dvt, diagnosed_on=TODAY))
    return Case(snap, NOW)
