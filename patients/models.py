"""Who the patient is and their history: the facts the risk engine reads."""

from __future__ import annotations

from datetime import date

from django.conf import settings
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db import models
from django.db.models import F, Q
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.functional import cached_property

from itrs import bodysize
from ivigtrack.models_base import ClinicalModel, Correctable, choices_constraint

from .labs import lab_egfr


class Sex(models.TextChoices):
    FEMALE = "female", "Female"
    MALE = "male", "Male"
    OTHER = "other", "Other"
    UNKNOWN = "unknown", "Unknown"


class Diagnosis(models.TextChoices):
    CIDP = "cidp", "CIDP"
    MMN = "mmn", "Multifocal motor neuropathy"
    GBS = "gbs", "Guillain-Barré syndrome"
    ITP = "itp", "Immune thrombocytopenia"
    PID = "pid", "Primary immunodeficiency"
    MYASTHENIA_GRAVIS = "myasthenia_gravis", "Myasthenia gravis"
    DERMATOMYOSITIS = "dermatomyositis", "Dermatomyositis"
    KAWASAKI = "kawasaki", "Kawasaki disease"
    DIC = "dic", "Disseminated intravascular coagulation"
    OTHER = "other", "Other"


# Plausibility gates (docs/labs.md): adults, and the wider ones under 18 (risk/README.md, Children).
# The database holds the outer (children's) range; the age-dependent gate is in `clean`.
WEIGHT_RANGE_KG = (25, 350)
HEIGHT_RANGE_CM = (120, 230)
CHILD_WEIGHT_RANGE_KG = (2, 350)
CHILD_HEIGHT_RANGE_CM = (45, 230)


def body_gates(date_of_birth: date | None, on: date) -> tuple[tuple[int, int], tuple[int, int]]:
    """(weight range kg, height range cm) for a person of that birth date on ``on``."""
    if date_of_birth is not None and bodysize.age_years(date_of_birth, on) < bodysize.ADULT_AGE:
        return CHILD_WEIGHT_RANGE_KG, CHILD_HEIGHT_RANGE_CM
    return WEIGHT_RANGE_KG, HEIGHT_RANGE_CM


def gate_errors(date_of_birth, on: date, *, weight_kg=None, height_cm=None) -> dict[str, list[str]]:
    (w_low, w_high), (h_low, h_high) = body_gates(date_of_birth, on)
    who = "under 18" if (w_low, w_high) == CHILD_WEIGHT_RANGE_KG else "an adult"
    errors = {}
    if weight_kg is not None and not w_low <= float(weight_kg) <= w_high:
        errors["weight_kg"] = [f"Weight must be between {w_low} and {w_high} kg for {who}."]
    if height_cm is not None and not h_low <= float(height_cm) <= h_high:
        errors["height_cm"] = [f"Height must be between {h_low} and {h_high} cm for {who}."]
    return errors


class Patient(ClinicalModel):
    mrn = models.CharField("MRN", max_length=32, unique=True)
    given_name = models.CharField(max_length=100)
    family_name = models.CharField(max_length=100)
    date_of_birth = models.DateField()
    sex = models.CharField(max_length=8, choices=Sex.choices)
    height_cm = models.DecimalField(max_digits=5, decimal_places=1, null=True, blank=True)
    weight_kg = models.DecimalField(
        max_digits=5,
        decimal_places=1,
        null=True,
        blank=True,
        help_text="Current weight; see weight history.",
    )
    weight_measured_on = models.DateField(null=True, blank=True)
    diagnosis = models.CharField(max_length=24, choices=Diagnosis.choices)
    active = models.BooleanField(default=True)
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="patient",
        help_text="The portal login of this patient.",
    )
    # The home site: staff see a patient only through it (patients.selectors), and the patient's
    # dates and times read in its time zone.
    site = models.ForeignKey("accounts.Site", on_delete=models.PROTECT, related_name="patients")
    care_team = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        blank=True,
        related_name="care_patients",
        help_text="Named staff: their worklist's “my patients”, and first to hear of urgent flags.",
    )
    # E-mail reminders (next infusion, labs due, a check-in due): the patient's own choice, in
    # the portal, with the moment they made it.
    reminders_opt_in = models.BooleanField(default=False, db_default=False)
    reminders_opt_in_changed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["family_name", "given_name", "id"]
        indexes = [
            models.Index(fields=["family_name", "given_name"], name="patient_name"),
            models.Index(fields=["id"], condition=Q(active=True), name="patient_active"),
            models.Index(fields=["site", "family_name", "given_name", "id"], name="patient_site_name"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(height_cm__isnull=True)
                | Q(height_cm__gte=CHILD_HEIGHT_RANGE_CM[0], height_cm__lte=CHILD_HEIGHT_RANGE_CM[1]),
                name="patient_height_plausible",
                violation_error_message="Height must be between 45 and 230 cm.",
            ),
            models.CheckConstraint(
                condition=Q(weight_kg__isnull=True)
                | Q(weight_kg__gte=CHILD_WEIGHT_RANGE_KG[0], weight_kg__lte=CHILD_WEIGHT_RANGE_KG[1]),
                name="patient_weight_plausible",
                violation_error_message="Weight must be between 2 and 350 kg.",
            ),
            models.CheckConstraint(
                condition=Q(weight_kg__isnull=True) | Q(weight_measured_on__isnull=False),
                name="patient_weight_has_date",
                violation_error_message="A weight needs the date it was measured.",
            ),
            # MRNs are unique ignoring case ("ab12" and "AB12" are one patient's number).
            models.UniqueConstraint(
                Lower("mrn"),
                name="patient_mrn_unique_ignoring_case",
                violation_error_code="mrn_taken",
                violation_error_message="A patient with this MRN already exists (MRNs are compared ignoring case).",
            ),
            choices_constraint("sex", Sex, name="patient_sex_valid", message="Unknown sex code."),
            choices_constraint(
                "diagnosis", Diagnosis, name="patient_diagnosis_valid", message="Unknown diagnosis code."
            ),
        ]

    def __str__(self) -> str:
        return f"{self.family_name}, {self.given_name} ({self.mrn})"

    def clean(self) -> None:
        super().clean()
        on = self.weight_measured_on or timezone.localdate()
        errors = gate_errors(self.date_of_birth, on, weight_kg=self.weight_kg, height_cm=self.height_cm)
        if errors:
            raise ValidationError(errors)

    def validate_constraints(self, exclude=None) -> None:
        """As Django's, but the case-insensitive MRN clash is put on the MRN field."""
        try:
            super().validate_constraints(exclude=exclude)
        except ValidationError as exc:
            errors = exc.update_error_dict({})
            general = errors.pop(NON_FIELD_ERRORS, [])
            taken = [e for e in general if getattr(e, "code", None) == "mrn_taken"]
            if taken:
                errors.setdefault("mrn", []).extend(taken)
            rest = [e for e in general if e not in taken]
            if rest:
                errors[NON_FIELD_ERRORS] = rest
            raise ValidationError(errors) from None

    def age_on(self, on: date) -> int:
        return bodysize.age_years(self.date_of_birth, on)

    @property
    def age(self) -> int:
        return self.age_on(timezone.localdate())

    @property
    def bmi(self) -> float | None:
        return bodysize.bmi(self.height_cm, self.weight_kg)

    @property
    def ideal_body_weight(self) -> float | None:
        return bodysize.ideal_body_weight(self.sex, self.height_cm)

    @property
    def adjusted_body_weight(self) -> float | None:
        return bodysize.adjusted_body_weight(self.sex, self.height_cm, self.weight_kg)


class WeightMeasurement(Correctable, ClinicalModel):
    """Weight history; exactly one current measurement per patient (mirrored on Patient)."""

    patient = models.ForeignKey(Patient, on_delete=models.CASCADE, related_name="weights")
    weight_kg = models.DecimalField(max_digits=5, decimal_places=1)
    measured_on = models.DateField()
    is_current = models.BooleanField(default=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        ordering = ["-measured_on", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["patient"],
                condition=Q(is_current=True),
                name="one_current_weight",
            ),
            models.CheckConstraint(
                condition=Q(weight_kg__gte=CHILD_WEIGHT_RANGE_KG[0], weight_kg__lte=CHILD_WEIGHT_RANGE_KG[1]),
                name="weight_plausible",
                violation_error_message="Weight must be between 2 and 350 kg.",
            ),
        ]

    def clean(self) -> None:
        super().clean()
        if self.patient_id and self.measured_on and self.weight_kg is not None:
            errors = gate_errors(self.patient.date_of_birth, self.measured_on, weight_kg=self.weight_kg)
            if errors:
                raise ValidationError(errors)


class ConditionCode(models.TextChoices):
    THROMBOPHILIA = (
        "thrombophilia",
        "Thrombophilia (FVL/PT heterozygous, protein C/S deficiency)",
    )
    THROMBOPHILIA_HIGH_RISK = (
        "thrombophilia_high_risk",
        "High-risk thrombophilia (APS, antithrombin deficiency, homozygous or compound)",
    )
    ACTIVE_CANCER = "active_cancer", "Active cancer"
    PARAPROTEINEMIA = "paraproteinemia", "Paraproteinaemia / monoclonal gammopathy"
    CRYOGLOBULINEMIA = "cryoglobulinemia", "Cryoglobulinaemia"
    SEVERE_HYPERTRIGLYCERIDEMIA = (
        "severe_hypertriglyceridemia",
        "Severe hypertriglyceridaemia",
    )
    POLYCYTHEMIA = "polycythemia", "Polycythaemia"
    PREGNANCY_POSTPARTUM = "pregnancy_postpartum", "Pregnancy or ≤6 weeks post-partum"
    HYPERTENSION = "hypertension", "Hypertension"
    DIABETES = "diabetes", "Diabetes"
    DYSLIPIDEMIA = "dyslipidemia", "Dyslipidaemia"
    SMOKING = "smoking", "Current smoking"
    ATRIAL_FIBRILLATION = "atrial_fibrillation", "Atrial fibrillation"
    HEART_FAILURE = "heart_failure", "Heart failure"
    BEDBOUND = "bedbound", "Confined to bed or chair (≥72 h)"
    REDUCED_MOBILITY = "reduced_mobility", "Reduced mobility"
    HOSPITAL_ADMISSION = "hospital_admission", "Hospital admission"
    MAJOR_SURGERY_OR_TRAUMA = "major_surgery_or_trauma", "Major surgery or trauma"
    VOLUME_DEPLETION = "volume_depletion", "Volume depletion"
    ACUTE_INFECTION_OR_SEPSIS = "acute_infection_or_sepsis", "Acute infection or sepsis"
    RENAL_IMPAIRMENT = "renal_impairment", "Renal impairment"
    IGA_DEFICIENCY = "iga_deficiency", "IgA deficiency"


class Condition(Correctable, ClinicalModel):
    Code = ConditionCode

    patient = models.ForeignKey(Patient, on_delete=models.CASCADE, related_name="conditions")
    code = models.CharField(max_length=32, choices=Code.choices)
    onset_date = models.DateField(null=True, blank=True)
    resolved_date = models.DateField(null=True, blank=True)
    note = models.TextField(blank=True)

    class Meta:
        ordering = ["-onset_date", "-id"]
        constraints = [
            choices_constraint("code", ConditionCode, name="condition_code_valid", message="Unknown condition code."),
            models.CheckConstraint(
                condition=Q(resolved_date__isnull=True)
                | Q(onset_date__isnull=True)
                | Q(resolved_date__gte=F("onset_date")),
                name="condition_resolved_after_onset",
                violation_error_message="The resolved date cannot be before the onset date.",
            ),
        ]

    def __str__(self) -> str:
        return self.get_code_display()


class AccessKind(models.TextChoices):
    PICC = "picc", "PICC"
    CVC_TUNNELED = "cvc_tunneled", "Tunnelled CVC"
    CVC_NON_TUNNELED = "cvc_non_tunneled", "Non-tunnelled CVC"
    PORT = "port", "Implanted port"


class Vein(models.TextChoices):
    INTERNAL_JUGULAR = "internal_jugular", "Internal jugular"
    SUBCLAVIAN = "subclavian", "Subclavian"
    FEMORAL = "femoral", "Femoral"
    ARM = "arm", "Arm vein"
    OTHER = "other", "Other"


class Side(models.TextChoices):
    LEFT = "left", "Left"
    RIGHT = "right", "Right"
    UNKNOWN = "unknown", "Unknown"


class VascularAccess(Correctable, ClinicalModel):
    Kind = AccessKind

    Vein = Vein

    Side = Side

    patient = models.ForeignKey(Patient, on_delete=models.CASCADE, related_name="vascular_accesses")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    vein = models.CharField(max_length=20, choices=Vein.choices)
    side = models.CharField(max_length=8, choices=Side.choices, default=Side.UNKNOWN)
    inserted_on = models.DateField()
    removed_on = models.DateField(null=True, blank=True)
    note = models.TextField(blank=True)

    class Meta:
        ordering = ["-inserted_on", "-id"]
        verbose_name_plural = "vascular access devices"
        constraints = [
            choices_constraint("kind", AccessKind, name="access_kind_valid", message="Unknown device kind."),
            choices_constraint("vein", Vein, name="access_vein_valid", message="Unknown vein."),
            models.CheckConstraint(
                condition=Q(removed_on__isnull=True) | Q(removed_on__gte=F("inserted_on")),
                name="access_removed_after_inserted",
                violation_error_message="The removal date cannot be before the insertion date.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} ({self.get_vein_display()}, {self.get_side_display()})"


ARTERIAL_KINDS = ("mi", "ischemic_stroke", "tia", "peripheral_arterial")


class EventKind(models.TextChoices):
    DVT = "dvt", "Deep vein thrombosis (leg)"
    PE = "pe", "Pulmonary embolism"
    UPPER_EXTREMITY_DVT = "upper_extremity_dvt", "Upper-extremity DVT"
    JUGULAR_VEIN = "jugular_vein", "Jugular vein thrombosis"
    CEREBRAL_VENOUS = "cerebral_venous", "Cerebral venous thrombosis"
    SPLANCHNIC = "splanchnic", "Splanchnic vein thrombosis"
    RETINAL_VEIN = "retinal_vein", "Retinal vein occlusion"
    MI = "mi", "Myocardial infarction"
    ISCHEMIC_STROKE = "ischemic_stroke", "Ischaemic stroke"
    TIA = "tia", "Transient ischaemic attack"
    PERIPHERAL_ARTERIAL = "peripheral_arterial", "Peripheral arterial thrombosis"


class EventStatus(models.TextChoices):
    SUSPECTED = "suspected", "Suspected"
    CONFIRMED = "confirmed", "Confirmed"
    RULED_OUT = "ruled_out", "Ruled out"


class Provocation(models.TextChoices):
    MAJOR_TRANSIENT = "major_transient", "Major transient factor"
    MINOR_TRANSIENT = "minor_transient", "Minor transient factor"
    PERSISTENT = "persistent", "Persistent factor"
    UNPROVOKED = "unprovoked", "Unprovoked"
    CATHETER_RELATED = "catheter_related", "Catheter-related"
    UNKNOWN = "unknown", "Unknown"


class ThrombosisEvent(Correctable, ClinicalModel):
    Kind = EventKind

    Status = EventStatus

    Provocation = Provocation

    patient = models.ForeignKey(Patient, on_delete=models.CASCADE, related_name="thrombosis_events")
    kind = models.CharField(max_length=24, choices=Kind.choices)
    status = models.CharField(max_length=12, choices=Status.choices)
    diagnosed_on = models.DateField()
    provocation = models.CharField(max_length=20, choices=Provocation.choices, default=Provocation.UNKNOWN)
    vascular_access = models.ForeignKey(
        VascularAccess,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="thrombosis_events",
    )
    note = models.TextField(blank=True)

    class Meta:
        ordering = ["-diagnosed_on", "-id"]
        constraints = [
            choices_constraint("kind", EventKind, name="event_kind_valid", message="Unknown thrombosis kind."),
            choices_constraint("status", EventStatus, name="event_status_valid", message="Unknown status."),
            choices_constraint(
                "provocation", Provocation, name="event_provocation_valid", message="Unknown provocation."
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} ({self.get_status_display()}, {self.diagnosed_on})"

    @property
    def is_arterial(self) -> bool:
        return self.kind in ARTERIAL_KINDS


class LabTest(models.TextChoices):
    PT = "pt", "Prothrombin time (PT)"
    INR = "inr", "INR"
    APTT = "aptt", "aPTT"
    FIBRINOGEN = "fibrinogen", "Fibrinogen"
    D_DIMER = "d_dimer", "D-dimer"
    PLATELETS = "platelets", "Platelet count"
    CREATININE = "creatinine", "Creatinine"
    IGA = "iga", "IgA"
    IGG = "igg", "IgG"
    SERUM_VISCOSITY = "serum_viscosity", "Serum viscosity"
    HEMOGLOBIN = "hemoglobin", "Haemoglobin"
    TRIGLYCERIDES = "triglycerides", "Triglycerides"


class LabResult(Correctable, ClinicalModel):
    """A lab value in its canonical unit (see patients/labs.py), with what was entered."""

    patient = models.ForeignKey(Patient, on_delete=models.CASCADE, related_name="labs")
    test = models.CharField(max_length=16, choices=LabTest.choices)
    value = models.FloatField()
    unit = models.CharField(max_length=16)  # always the canonical unit of the test
    entered_value = models.FloatField(null=True, blank=True)
    entered_unit = models.CharField(max_length=16, blank=True)
    collected_at = models.DateTimeField()
    reference_high = models.FloatField(null=True, blank=True)  # canonical unit, like value
    reference_low = models.FloatField(null=True, blank=True)  # canonical unit, like value
    needs_verification = models.BooleanField(default=False)
    verification_reason = models.CharField(max_length=200, blank=True)
    verified_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    verified_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-collected_at", "-id"]
        indexes = [
            models.Index(
                fields=["patient", "test", "-collected_at"],
                name="lab_patient_test_time",
            )
        ]
        constraints = [
            choices_constraint("test", LabTest, name="lab_test_valid", message="Unknown lab test."),
            models.CheckConstraint(
                condition=Q(value__gte=0),
                name="lab_value_not_negative",
                violation_error_message="A lab value cannot be negative.",
            ),
            models.CheckConstraint(
                condition=Q(reference_high__isnull=True) | Q(reference_high__gt=0),
                name="lab_reference_high_positive",
                violation_error_message="The reference upper limit must be positive.",
            ),
            models.CheckConstraint(
                condition=Q(reference_low__isnull=True) | Q(reference_low__gte=0),
                name="lab_reference_low_not_negative",
                violation_error_message="The reference lower limit cannot be negative.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_test_display()} {self.value:g} {self.unit} ({self.collected_at:%Y-%m-%d})"

    @cached_property
    def egfr(self) -> dict | None:
        """A creatinine's eGFR (CKD-EPI 2021; `patients.labs.lab_egfr`), None for other tests."""
        return lab_egfr(self)


class Triage(models.TextChoices):
    EMERGENCY = "emergency", "Emergency"
    URGENT = "urgent", "Urgent"
    ROUTINE = "routine", "Routine"


class ReportKind(models.TextChoices):
    REPORT = "report", "Report"
    CHECKIN = "checkin", "Check-in"  # the answer to "How are you since your infusion?"


class SymptomReport(Correctable, ClinicalModel):
    Triage = Triage
    Kind = ReportKind

    patient = models.ForeignKey(Patient, on_delete=models.CASCADE, related_name="symptom_reports")
    reported_at = models.DateTimeField(default=timezone.now)
    symptoms = models.JSONField(default=list, blank=True)  # a report needs one (the service), a check-in not
    note = models.TextField(blank=True)
    reported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    source = models.CharField(
        max_length=8,
        choices=[("staff", "Staff"), ("patient", "Patient")],
        default="staff",
    )
    triage = models.CharField(max_length=10, choices=Triage.choices)
    advice = models.TextField()
    days_since_infusion = models.IntegerField(null=True, blank=True)
    # A check-in may name no symptom ("I feel fine"); a report names at least one.
    kind = models.CharField(
        max_length=8, choices=ReportKind.choices, default=ReportKind.REPORT, db_default=ReportKind.REPORT
    )

    class Meta:
        ordering = ["-reported_at", "-id"]
        constraints = [
            choices_constraint("triage", Triage, name="symptom_triage_valid", message="Unknown triage."),
            choices_constraint("kind", ReportKind, name="symptom_kind_valid", message="Unknown kind."),
        ]

    def __str__(self) -> str:
        return f"{self.get_triage_display()} report {self.reported_at:%Y-%m-%d %H:%M}"
