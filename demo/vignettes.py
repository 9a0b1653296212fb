"""Clinical vignettes (docs/vignette-cases.md) entered through the services.

Used by `seed_demo` (with today's clock, so the demo clinic shows the founding cases) and by
the acceptance tests (with time frozen at the vignette clock 2025-03-01 09:00 UTC). Every
record goes through the same services the pages and the API use.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

from infusions import services as infusion_services
from infusions.models import Product
from patients import services as patient_services

VIGNETTE_CLOCK = datetime(2025, 3, 1, 9, 0, tzinfo=UTC)


def _at(day: date, hour: int = 9, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=UTC)


VIGNETTE_IGA_REASON = "Vignette history: the IgA result is not part of the case."


def _product(name: str) -> Product:
    return Product.objects.get(name=name)


def _given(actor, patient, product, starts, grams: str, *, regimen=None, lots=None, **extra) -> None:
    """Record administered infusions, one per start time (lots: one lot number per start)."""
    for i, started_at in enumerate(starts):
        if lots:
            extra["lot_number"] = lots[i]
        if i == 0 and not patient.labs.filter(test="iga").exists() and not patient.infusions.exists():
            # ITRS-v1 first-infusion IgA gate: the vignettes' histories carry no IgA result
            extra = {**extra, "iga_override_reason": VIGNETTE_IGA_REASON}
        else:
            extra = {k: v for k, v in extra.items() if k != "iga_override_reason"}
        infusion_services.infusion_record(
            actor=actor,
            patient=patient,
            regimen=regimen,
            product=product,
            started_at=started_at,
            dose_grams=grams,
            status="administered",
            **extra,
        )


def _years_ago(today: date, years: int, days: int = 30) -> date:
    return date(today.year - years, today.month, 1) - timedelta(days=days)


def _panel(actor, patient, at: datetime, **values) -> None:
    for test, value in values.items():
        ref = {"pt": 13.9, "d_dimer": 0.5}.get(test)
        patient_services.lab_record(
            actor=actor, patient=patient, test=test, value=value, collected_at=at, reference_high=ref
        )


def v01(actor, clock: datetime, *, mrn: str = "V01", event: bool = True, labs: bool = False):
    """CIDP, 5-day inpatient course, then PE + leg DVT (founding case a). Day 11 = clock."""
    today = clock.date()
    day0 = today - timedelta(days=11)
    p = patient_services.patient_create(
        actor=actor,
        mrn=mrn,
        given_name="Arthur",
        family_name="Benson",
        date_of_birth=_years_ago(today, 64),
        sex="male",
        height_cm=178,
        diagnosis="cidp",
        weight_kg=96,
        weight_measured_on=day0 - timedelta(days=1),
    )
    patient_services.condition_add(actor=actor, patient=p, code="hypertension", onset_date=today - timedelta(days=3000))
    patient_services.condition_add(
        actor=actor,
        patient=p,
        code="reduced_mobility",
        onset_date=day0 - timedelta(days=30),
        note="Walks <=10 m with a frame",
    )
    patient_services.condition_add(
        actor=actor,
        patient=p,
        code="hospital_admission",
        onset_date=day0 - timedelta(days=1),
        resolved_date=day0 + timedelta(days=6),
    )
    gamunex = _product("Gamunex-C 10%")
    induction = infusion_services.regimen_create(
        actor=actor,
        patient=p,
        product=gamunex,
        indication="cidp",
        dose_g_per_kg_per_day="0.40",
        days_per_course=5,
        interval_days=None,
        start_date=day0,
        max_rate_mg_kg_min="8.0",
        setting="inpatient",
    )
    infusion_services.regimen_create(
        actor=actor,
        patient=p,
        product=gamunex,
        indication="cidp",
        dose_g_per_kg_per_day="1.00",
        days_per_course=1,
        interval_days=21,
        start_date=day0 + timedelta(days=21),
        max_rate_mg_kg_min="8.0",
        setting="outpatient",
    )
    _given(
        actor,
        p,
        gamunex,
        [_at(day0 + timedelta(days=i), 10) for i in range(5)],
        "40",
        regimen=induction,
        max_rate_mg_kg_min="8.0",
        lots=[f"GX24-{118 + i}" for i in range(5)],
    )
    if event:
        patient_services.symptom_report_submit(
            actor=actor,
            patient=p,
            symptoms=["limb_pain_swelling"],
            reported_at=_at(day0 + timedelta(days=9), 18),
            note="Left calf swollen, warm",
        )
        patient_services.symptom_report_submit(
            actor=actor,
            patient=p,
            symptoms=["chest_pain", "sudden_breathlessness"],
            reported_at=clock - timedelta(hours=3),
            note="Sharp pain on deep breathing",
        )
        patient_services.thrombosis_event_record(
            actor=actor,
            patient=p,
            kind="pe",
            status="confirmed",
            diagnosed_on=today,
            provocation="minor_transient",
            note="Bilateral segmental PE on CTPA",
        )
        patient_services.thrombosis_event_record(
            actor=actor,
            patient=p,
            kind="dvt",
            status="confirmed",
            diagnosed_on=today,
            provocation="minor_transient",
            note="Left femoral-popliteal DVT",
        )
    if labs:
        _panel(
            actor,
            p,
            clock - timedelta(hours=1) if not event else clock,
            d_dimer=5.8,
            platelets=232,
            pt=12.4,
            inr=1.0,
            aptt=30,
            fibrinogen=4.9,
            creatinine=1.0,
        )
    return p


def v02(actor, clock: datetime, *, mrn: str = "V02", event: bool = True, labs: bool = False):
    """Fortnightly IVIG through a right internal jugular port; IJV thrombosis (founding case b)."""
    today = clock.date()
    p = patient_services.patient_create(
        actor=actor,
        mrn=mrn,
        given_name="Beatrice",
        family_name="Calloway",
        date_of_birth=_years_ago(today, 52),
        sex="female",
        height_cm=165,
        diagnosis="cidp",
        weight_kg=70,
        weight_measured_on=today - timedelta(days=20),
    )
    port = patient_services.vascular_access_add(
        actor=actor,
        patient=p,
        kind="port",
        vein="internal_jugular",
        side="right",
        inserted_on=today - timedelta(days=425),
        note="Tip at cavo-atrial junction",
    )
    privigen = _product("Privigen 10%")
    last = today - timedelta(days=5)
    regimen = infusion_services.regimen_create(
        actor=actor,
        patient=p,
        product=privigen,
        indication="cidp",
        dose_g_per_kg_per_day="0.80",
        days_per_course=1,
        interval_days=14,
        start_date=last - timedelta(days=14 * 20),
        max_rate_mg_kg_min="8.0",
    )
    _given(
        actor,
        p,
        privigen,
        [_at(last - timedelta(days=14 * k), 10) for k in (2, 1, 0)],
        "56",
        regimen=regimen,
        max_rate_mg_kg_min="8.0",
        vascular_access=port,
        lots=[f"PV-{700 + k}" for k in (2, 1, 0)],
    )
    if event:
        patient_services.symptom_report_submit(
            actor=actor,
            patient=p,
            symptoms=["neck_face_arm_swelling"],
            reported_at=clock - timedelta(hours=2),
            note="Right neck pain, arm heavy",
        )
        patient_services.thrombosis_event_record(
            actor=actor,
            patient=p,
            kind="jugular_vein",
            status="confirmed",
            diagnosed_on=today,
            provocation="catheter_related",
            vascular_access=port,
            note="Thrombus around the catheter, extends to brachiocephalic vein",
        )
    if labs:
        _panel(actor, p, clock, platelets=268, pt=12.8, aptt=31, fibrinogen=3.6, d_dimer=2.1)
    return p


def v04(actor, clock: datetime, *, mrn: str = "V04"):
    """Young woman with MMN, nothing else: low."""
    today = clock.date()
    p = patient_services.patient_create(
        actor=actor,
        mrn=mrn,
        given_name="Chloe",
        family_name="Dunmore",
        date_of_birth=_years_ago(today, 28),
        sex="female",
        height_cm=168,
        diagnosis="mmn",
        weight_kg=58,
        weight_measured_on=today - timedelta(days=30),
    )
    gammagard = _product("Gammagard Liquid 10%")
    last = today - timedelta(days=28)
    regimen = infusion_services.regimen_create(
        actor=actor,
        patient=p,
        product=gammagard,
        indication="mmn",
        dose_g_per_kg_per_day="0.50",
        days_per_course=2,
        interval_days=28,
        start_date=last - timedelta(days=28 * 12),
        max_rate_mg_kg_min="9.0",
    )
    days = [_at(last - timedelta(days=28 * k) + timedelta(days=d), 10) for k in (1, 0) for d in range(2)]
    _given(actor, p, gammagard, days, "29", regimen=regimen, max_rate_mg_kg_min="9.0")
    _panel(actor, p, clock - timedelta(days=200), creatinine=0.7, iga=180, platelets=250)
    patient_services.symptom_report_submit(
        actor=actor, patient=p, symptoms=["other"], note="Mild headache on day 1", reported_at=_at(last, 20)
    )
    return p


def v07(actor, clock: datetime, *, mrn: str = "V07"):
    """Oral HRT with full-dose maintenance: moderate."""
    today = clock.date()
    p = patient_services.patient_create(
        actor=actor,
        mrn=mrn,
        given_name="Diane",
        family_name="Ellery",
        date_of_birth=_years_ago(today, 58),
        sex="female",
        height_cm=166,
        diagnosis="cidp",
        weight_kg=72,
        weight_measured_on=today - timedelta(days=10),
    )
    infusion_services.medication_record(
        actor=actor,
        patient=p,
        category="estrogen",
        drug="estradiol + norethisterone (oral HRT)",
        start_date=today - timedelta(days=3 * 365),
        route="oral",
    )
    privigen = _product("Privigen 10%")
    last = today - timedelta(days=7)
    regimen = infusion_services.regimen_create(
        actor=actor,
        patient=p,
        product=privigen,
        indication="cidp",
        dose_g_per_kg_per_day="1.00",
        days_per_course=1,
        interval_days=21,
        start_date=last - timedelta(days=21 * 10),
        max_rate_mg_kg_min="8.0",
    )
    _given(
        actor,
        p,
        privigen,
        [_at(last - timedelta(days=21 * k), 10) for k in (1, 0)],
        "72",
        regimen=regimen,
        max_rate_mg_kg_min="8.0",
    )
    _panel(actor, p, clock - timedelta(days=40), platelets=240, creatinine=0.8, iga=150)
    return p


def v10(actor, clock: datetime, *, mrn: str = "V10", steroid_days: int = 21):
    """New high-dose prednisolone with a 2-day induction: moderate."""
    today = clock.date()
    p = patient_services.patient_create(
        actor=actor,
        mrn=mrn,
        given_name="Edward",
        family_name="Fairley",
        date_of_birth=_years_ago(today, 49),
        sex="male",
        height_cm=182,
        diagnosis="cidp",
        weight_kg=85,
        weight_measured_on=today - timedelta(days=3),
    )
    infusion_services.medication_record(
        actor=actor,
        patient=p,
        category="steroid",
        drug="prednisolone",
        dose_mg_per_day=60,
        start_date=today - timedelta(days=steroid_days),
        route="oral",
    )
    panzyga = _product("Panzyga 10%")
    start = today - timedelta(days=1)
    regimen = infusion_services.regimen_create(
        actor=actor,
        patient=p,
        product=panzyga,
        indication="cidp",
        dose_g_per_kg_per_day="1.00",
        days_per_course=2,
        interval_days=None,
        start_date=start,
        max_rate_mg_kg_min="3.0",
        setting="outpatient",
    )
    _panel(actor, p, clock - timedelta(days=5), platelets=260, creatinine=0.9, iga=210)
    starts = [min(_at(start + timedelta(days=d), 8), clock - timedelta(hours=1)) for d in range(2)]
    _given(actor, p, panzyga, starts, "85", regimen=regimen, max_rate_mg_kg_min="3.0")
    return p


def v12(actor, clock: datetime, *, mrn: str = "V12"):
    """Weight never recorded: provisional."""
    today = clock.date()
    p = patient_services.patient_create(
        actor=actor,
        mrn=mrn,
        given_name="Frank",
        family_name="Garside",
        date_of_birth=_years_ago(today, 55),
        sex="male",
        height_cm=175,
        diagnosis="cidp",
    )
    gamunex = _product("Gamunex-C 10%")
    last = today - timedelta(days=7)
    regimen = infusion_services.regimen_create(
        actor=actor,
        patient=p,
        product=gamunex,
        indication="cidp",
        dose_grams_per_day="80",
        days_per_course=1,
        interval_days=21,
        start_date=last - timedelta(days=21 * 8),
        note="Letter says 'about 70 kg' (not recorded)",
    )
    _given(
        actor,
        p,
        gamunex,
        [_at(last - timedelta(days=21 * k), 10) for k in (1, 0)],
        "80",
        regimen=regimen,
        max_rate_ml_h="300",
    )
    _panel(actor, p, clock - timedelta(days=60), platelets=230, creatinine=1.0, iga=160)
    return p


def v15(actor, clock: datetime, *, mrn: str = "V15"):
    """Home infusions; the last documented infusion 2025-02-20 (9 days before the clock)."""
    today = clock.date()
    p = patient_services.patient_create(
        actor=actor,
        mrn=mrn,
        given_name="Grace",
        family_name="Hollis",
        date_of_birth=_years_ago(today, 44),
        sex="female",
        height_cm=170,
        diagnosis="cidp",
        weight_kg=65,
        weight_measured_on=today - timedelta(days=30),
    )
    gamunex = _product("Gamunex-C 10%")
    last = today - timedelta(days=9)
    infusion_services.regimen_create(
        actor=actor,
        patient=p,
        product=gamunex,
        indication="cidp",
        dose_g_per_kg_per_day="0.50",
        days_per_course=1,
        interval_days=21,
        start_date=last - timedelta(days=21 * 6),
        setting="home",
        max_rate_mg_kg_min="6.0",
    )
    _given(
        actor, p, gamunex, [_at(last - timedelta(days=21 * k), 10) for k in (1, 0)], "32.5", max_rate_mg_kg_min="6.0"
    )
    _panel(actor, p, clock - timedelta(days=90), platelets=220, creatinine=0.8, iga=140)
    return p


def v16(actor, clock: datetime, *, mrn: str = "V16"):
    """Low-risk patient reports calf swelling four days after an infusion."""
    today = clock.date()
    p = patient_services.patient_create(
        actor=actor,
        mrn=mrn,
        given_name="Hannah",
        family_name="Ibbotson",
        date_of_birth=_years_ago(today, 36),
        sex="female",
        height_cm=165,
        diagnosis="cidp",
        weight_kg=60,
        weight_measured_on=today - timedelta(days=25),
    )
    privigen = _product("Privigen 10%")
    last = today - timedelta(days=4)
    regimen = infusion_services.regimen_create(
        actor=actor,
        patient=p,
        product=privigen,
        indication="cidp",
        dose_g_per_kg_per_day="1.00",
        days_per_course=1,
        interval_days=21,
        start_date=last - timedelta(days=21 * 10),
        max_rate_mg_kg_min="6.0",
    )
    _given(
        actor,
        p,
        privigen,
        [_at(last - timedelta(days=21 * k), 10) for k in (1, 0)],
        "60",
        regimen=regimen,
        max_rate_mg_kg_min="6.0",
    )
    _panel(actor, p, clock - timedelta(days=100), platelets=250, creatinine=0.7, iga=170)
    patient_services.symptom_report_submit(
        actor=actor,
        patient=p,
        symptoms=["limb_pain_swelling", "limb_discoloration"],
        reported_at=clock - timedelta(hours=1),
        note="Left calf pain and swelling, warm, redder than the other leg",
    )
    return p


VIGNETTES = {"V01": v01, "V02": v02, "V04": v04, "V07": v07, "V10": v10, "V12": v12, "V15": v15, "V16": v16}
