"""What is given: products, regimens, infusions and the medications that change clot risk."""

from __future__ import annotations

from datetime import date, timedelta

from django.conf import settings
from django.db import models
from django.db.models import F, Q

from ivigtrack.models_base import ClinicalModel, Correctable, choices_constraint
from patients.models import Diagnosis, Patient, VascularAccess


class Product(ClinicalModel):
    """An IVIG product with its label maximum infusion rate (docs/products.md)."""

    name = models.CharField(max_length=80, unique=True)
    concentration_percent = models.DecimalField(max_digits=4, decimal_places=1)
    contains_sucrose = models.BooleanField(default=False)
    max_rate_mg_kg_min = models.DecimalField(
        max_digits=5,
        decimal_places=2,
        help_text="Label maximum rate (mg/kg/min) for the usual indication.",
    )
    indication_max_rates = models.JSONField(
        default=dict,
        blank=True,
        help_text='Label maximum by indication, e.g. {"itp": 4}.',
    )
    source = models.CharField(max_length=40, blank=True, help_text="Reference, e.g. [R6]")
    active = models.BooleanField(default=True)
    iga_ug_per_ml = models.DecimalField(
        max_digits=7,
        decimal_places=1,
        null=True,
        blank=True,
        help_text="Label IgA content (upper bound, ug/mL) where the label gives it, e.g. Privigen 25 [R6].",
    )
    renal_max_rate_mg_kg_min = models.DecimalField(
        max_digits=5,
        decimal_places=2,
        null=True,
        blank=True,
        help_text="Label maximum rate (mg/kg/min) in renal-risk patients, e.g. Panzyga 3.3 [R8].",
    )

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=Q(concentration_percent__gt=0, concentration_percent__lte=30),
                name="product_concentration_range",
            ),
            models.CheckConstraint(condition=Q(max_rate_mg_kg_min__gt=0), name="product_max_rate_positive"),
        ]

    def __str__(self) -> str:
        return self.name

    def label_max_rate(self, indication: str | None) -> float:
        rate = (self.indication_max_rates or {}).get(indication or "", self.max_rate_mg_kg_min)
        return float(rate)


class DosingWeight(models.TextChoices):
    ACTUAL = "actual", "Actual body weight"
    IDEAL = "ideal", "Ideal body weight"
    ADJUSTED = "adjusted", "Adjusted body weight"


class CareSetting(models.TextChoices):
    INPATIENT = "inpatient", "Inpatient"
    OUTPATIENT = "outpatient", "Outpatient"
    HOME = "home", "Home"


class Regimen(Correctable, ClinicalModel):
    """The infusion schedule: a dose per day for N consecutive days, repeated every interval."""

    DosingWeight = DosingWeight

    Setting = CareSetting

    patient = models.ForeignKey(Patient, on_delete=models.CASCADE, related_name="regimens")
    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="regimens")
    indication = models.CharField(max_length=24, choices=Diagnosis.choices)
    dose_g_per_kg_per_day = models.DecimalField(max_digits=4, decimal_places=2, null=True, blank=True)
    dose_grams_per_day = models.DecimalField(
        max_digits=5,
        decimal_places=1,
        null=True,
        blank=True,
        help_text="For a fixed-gram order (e.g. 80 g).",
    )
    days_per_course = models.PositiveSmallIntegerField(default=1)
    interval_days = models.PositiveSmallIntegerField(null=True, blank=True, help_text="Empty for a one-off course.")
    dosing_weight = models.CharField(max_length=10, choices=DosingWeight.choices, default=DosingWeight.ACTUAL)
    start_date = models.DateField()
    end_date = models.DateField(null=True, blank=True)
    max_rate_mg_kg_min = models.DecimalField(max_digits=5, decimal_places=2, null=True, blank=True)
    setting = models.CharField(max_length=12, choices=Setting.choices, default=Setting.OUTPATIENT)
    note = models.TextField(blank=True)

    class Meta:
        ordering = ["-start_date", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(dose_g_per_kg_per_day__isnull=False) | Q(dose_grams_per_day__isnull=False),
                name="regimen_has_dose",
                violation_error_message="Give the dose in g/kg/day or in grams per day.",
            ),
            models.CheckConstraint(
                condition=Q(dose_g_per_kg_per_day__isnull=True)
                | Q(dose_g_per_kg_per_day__gt=0, dose_g_per_kg_per_day__lte=2.5),
                name="regimen_dose_per_kg_range",
                violation_error_message="The dose must be more than 0 and at most 2.5 g/kg/day.",
            ),
            models.CheckConstraint(
                condition=Q(dose_grams_per_day__isnull=True) | Q(dose_grams_per_day__gt=0, dose_grams_per_day__lte=250),
                name="regimen_dose_grams_range",
                violation_error_message="The daily dose must be more than 0 and at most 250 g.",
            ),
            models.CheckConstraint(
                condition=Q(days_per_course__gte=1, days_per_course__lte=7),
                name="regimen_days_per_course_range",
                violation_error_message="A course lasts 1 to 7 consecutive days.",
            ),
            models.CheckConstraint(
                condition=Q(interval_days__isnull=True) | Q(interval_days__gte=1, interval_days__lte=365),
                name="regimen_interval_range",
                violation_error_message="The interval must be 1 to 365 days.",
            ),
            models.CheckConstraint(
                condition=Q(interval_days__isnull=True) | Q(interval_days__gte=F("days_per_course")),
                name="regimen_interval_covers_course",
                violation_error_message="The interval cannot be shorter than the course.",
            ),
            models.CheckConstraint(
                condition=Q(end_date__isnull=True) | Q(end_date__gte=F("start_date")),
                name="regimen_end_after_start",
                violation_error_message="The end date cannot be before the start date.",
            ),
            models.CheckConstraint(
                condition=Q(max_rate_mg_kg_min__isnull=True) | Q(max_rate_mg_kg_min__gt=0, max_rate_mg_kg_min__lte=20),
                name="regimen_rate_range",
                violation_error_message="The maximum rate must be more than 0 and at most 20 mg/kg/min.",
            ),
            choices_constraint("indication", Diagnosis, name="regimen_indication_valid", message="Unknown indication."),
            choices_constraint(
                "dosing_weight", DosingWeight, name="regimen_dosing_weight_valid", message="Unknown dosing weight."
            ),
            choices_constraint("setting", CareSetting, name="regimen_setting_valid", message="Unknown setting."),
        ]

    def __str__(self) -> str:
        return f"{self.product} {self.dose_label} x{self.days_per_course}d" + (
            f" every {self.interval_days} d" if self.interval_days else " (one course)"
        )

    @property
    def dose_label(self) -> str:
        if self.dose_g_per_kg_per_day is not None:
            return f"{float(self.dose_g_per_kg_per_day):g} g/kg/day"
        return f"{float(self.dose_grams_per_day):g} g/day"

    def is_active_on(self, day: date) -> bool:
        return self.end_date is None or self.end_date >= day

    def course_starts(self, after: date, count: int = 3) -> list[date]:
        """The next `count` course start dates on or after `after` (the regimen's schedule).

        A schedule running past the last representable date (a regimen stored with a far-future
        date before dates were bounded) simply ends there instead of raising OverflowError."""
        starts: list[date] = []
        try:
            self._course_starts(after, count, starts)
        except OverflowError:
            pass
        return starts

    def _course_starts(self, after: date, count: int, starts: list[date]) -> None:
        if self.end_date is not None and self.end_date < after:
            return
        if self.start_date >= after:
            first = self.start_date
        elif self.interval_days:
            periods = -(-(after - self.start_date).days // self.interval_days)  # ceiling division
            first = self.start_date + timedelta(days=periods * self.interval_days)
        else:
            return  # a one-off course already started
        current = first
        while len(starts) < count and (self.end_date is None or current <= self.end_date):
            starts.append(current)
            if not self.interval_days:
                break
            current += timedelta(days=self.interval_days)

    def next_course_dates(self, after: date, count: int = 3) -> list[list[date]]:
        """Each planned course as its list of consecutive infusion days (ending at date.max)."""
        courses = []
        for start in self.course_starts(after, count):
            days = []
            for i in range(self.days_per_course):
                try:
                    days.append(start + timedelta(days=i))
                except OverflowError:
                    break
            courses.append(days)
        return courses

    def record_checks(self) -> dict[str, list[str]]:
        """One dose per regimen: g/kg/day or fixed grams per day, never both (one would be
        silently ignored)."""
        if self.dose_g_per_kg_per_day is not None and self.dose_grams_per_day is not None:
            return {"dose_grams_per_day": ["Give the dose in g/kg/day or as fixed grams per day, not both."]}
        return {}


class InfusionStatus(models.TextChoices):
    PLANNED = "planned", "Planned"
    ADMINISTERED = "administered", "Administered"
    STOPPED = "stopped", "Stopped"


class Source(models.TextChoices):
    STAFF = "staff", "Staff"
    PATIENT = "patient", "Patient"


class Infusion(Correctable, ClinicalModel):
    """One day's administration."""

    Status = InfusionStatus

    Source = Source

    patient = models.ForeignKey(Patient, on_delete=models.CASCADE, related_name="infusions")
    regimen = models.ForeignKey(
        Regimen,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="infusions",
    )
    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="infusions")
    lot_number = models.CharField(max_length=40, blank=True)
    started_at = models.DateTimeField()
    dose_grams = models.DecimalField(max_digits=5, decimal_places=1)
    max_rate_mg_kg_min = models.DecimalField(max_digits=5, decimal_places=2, null=True, blank=True)
    max_rate_ml_h = models.DecimalField(
        max_digits=6,
        decimal_places=1,
        null=True,
        blank=True,
        help_text="Pump rate, when only that is known.",
    )
    weight_kg_used = models.DecimalField(
        max_digits=5,
        decimal_places=1,
        null=True,
        blank=True,
        help_text="Patient weight on the day (for g/kg).",
    )
    status = models.CharField(max_length=14, choices=Status.choices, default=Status.ADMINISTERED)
    vascular_access = models.ForeignKey(
        VascularAccess,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="infusions",
    )
    hydration_given = models.BooleanField(null=True, blank=True)
    # The chair check (infusions.chair): why a rate above an applicable cap was used, and the
    # nurse's answers {"hydration_given", "rate_within_cap", "labs_current"}: yes | no | na.
    # Database defaults too: bulk loaders (COPY) that name older columns only keep working.
    rate_reason = models.TextField(blank=True, default="", db_default="")
    precautions = models.JSONField(
        default=dict, blank=True, db_default=models.Value({}, output_field=models.JSONField())
    )
    source = models.CharField(max_length=8, choices=Source.choices, default=Source.STAFF)
    reactions = models.TextField(blank=True)
    note = models.TextField(blank=True)
    # Why the patient's first infusion was given with no IgA result on file (ITRS-v1 IgA gate,
    # risk/README.md "IgA"); required then, audited with the infusion.
    iga_override_reason = models.CharField(max_length=300, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        ordering = ["-started_at", "-id"]
        indexes = [
            models.Index(fields=["patient", "-started_at"], name="infusion_patient_time"),
            models.Index(fields=["lot_number"], name="infusion_lot"),
            # The review sweep's reads (risk/snapshot.py): a chunk's administered infusions in a
            # time window, "any administered infusion before the window", and those without a
            # recorded risk yet; also the hourly sweep's "infused in the last 15 days".
            models.Index(
                fields=["patient", "started_at"], condition=Q(status="administered"), name="infusion_administered_time"
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(dose_grams__gt=0, dose_grams__lte=250),
                name="infusion_dose_range",
                violation_error_message="The dose must be more than 0 and at most 250 g.",
            ),
            models.CheckConstraint(
                condition=Q(max_rate_mg_kg_min__isnull=True) | Q(max_rate_mg_kg_min__gt=0, max_rate_mg_kg_min__lte=20),
                name="infusion_rate_range",
                violation_error_message="The maximum rate must be more than 0 and at most 20 mg/kg/min.",
            ),
            models.CheckConstraint(
                condition=Q(max_rate_ml_h__isnull=True) | Q(max_rate_ml_h__gt=0, max_rate_ml_h__lte=2000),
                name="infusion_pump_rate_range",
                violation_error_message="The pump rate must be more than 0 and at most 2000 mL/h.",
            ),
            choices_constraint("status", InfusionStatus, name="infusion_status_valid", message="Unknown status."),
            choices_constraint("source", Source, name="infusion_source_valid", message="Unknown source."),
        ]

    def __str__(self) -> str:
        return f"{self.product} {self.dose_grams:g} g on {self.started_at:%Y-%m-%d} ({self.get_status_display()})"

    @property
    def dose_g_per_kg(self) -> float | None:
        weight = self.weight_kg_used
        return None if not weight else float(self.dose_grams) / float(weight)


class MedicationCategory(models.TextChoices):
    STEROID = "steroid", "Glucocorticoid"
    ESTROGEN = "estrogen", "Estrogen or hormonal therapy"
    ANTICOAGULANT = "anticoagulant", "Anticoagulant"
    ANTIPLATELET = "antiplatelet", "Antiplatelet"
    DIURETIC = "diuretic", "Diuretic"
    THROMBOGENIC = "thrombogenic", "Other thrombogenic drug (SERM, IMiD)"
    OTHER = "other", "Other (free text, needs coding)"


class Intensity(models.TextChoices):
    PROPHYLACTIC = "prophylactic", "Prophylactic"
    THERAPEUTIC = "therapeutic", "Therapeutic (primary phase)"
    EXTENDED = "extended", "Extended phase"


DRUG_CATEGORIES = [c for c in MedicationCategory.choices if c[0] != "other"]


class DoseUnit(models.TextChoices):
    MG = "mg", "mg"
    MICROGRAM = "microgram", "microgram (µg)"


class Route(models.TextChoices):
    ORAL = "oral", "Oral"
    INTRAVENOUS = "intravenous", "Intravenous"
    INTRAMUSCULAR = "intramuscular", "Intramuscular"
    SUBCUTANEOUS = "subcutaneous", "Subcutaneous"
    TRANSDERMAL = "transdermal", "Transdermal (patch, gel)"
    VAGINAL = "vaginal", "Vaginal"
    INHALED = "inhaled", "Inhaled"
    TOPICAL = "topical", "Topical (skin, eye, ear)"
    INTRA_ARTICULAR = "intra_articular", "Intra-articular"
    RECTAL = "rectal", "Rectal"


class AnticoagulantIndication(models.TextChoices):
    VTE_TREATMENT = "vte_treatment", "Treatment of venous thromboembolism"
    VTE_PROPHYLAXIS = "vte_prophylaxis", "VTE prophylaxis"
    ATRIAL_FIBRILLATION = "atrial_fibrillation", "Atrial fibrillation"
    MECHANICAL_VALVE = "mechanical_valve", "Mechanical heart valve"
    OTHER = "other", "Other"


class Drug(ClinicalModel):
    """The dictionary that medication courses pick from (docs/records.md, Medicines).

    Seeded by a migration, extended in the admin. ``drug_class`` decides what scores
    (risk/README.md, P7 and P8); ``prednisolone_factor`` is mg of prednisolone per mg of the drug.
    """

    name = models.CharField(max_length=80, unique=True)
    synonyms = models.JSONField(default=list, blank=True, help_text="Brand and other names, a list of strings.")
    category = models.CharField(max_length=16, choices=DRUG_CATEGORIES)
    drug_class = models.CharField(max_length=40, help_text="e.g. doac, lmwh, combined_hormonal_contraceptive.")
    atc_code = models.CharField(max_length=10, blank=True)
    prednisolone_factor = models.DecimalField(
        max_digits=6,
        decimal_places=4,
        null=True,
        blank=True,
        help_text="Glucocorticoids: mg of prednisolone equivalent to 1 mg of this drug (BNF).",
    )
    default_unit = models.CharField(max_length=10, choices=DoseUnit.choices, default=DoseUnit.MG)
    search_text = models.TextField(blank=True, editable=False)  # name and synonyms, lower case
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            choices_constraint(
                "category", [c[0] for c in DRUG_CATEGORIES], name="drug_category_valid", message="Unknown category."
            ),
            choices_constraint("default_unit", DoseUnit, name="drug_unit_valid", message="Unknown unit."),
            models.CheckConstraint(
                condition=Q(prednisolone_factor__isnull=True) | Q(prednisolone_factor__gt=0),
                name="drug_prednisolone_factor_positive",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def save(self, *args, **kwargs):
        self.search_text = drug_search_text(self.name, self.synonyms)
        if kwargs.get("update_fields") is not None:
            kwargs["update_fields"] = {*kwargs["update_fields"], "search_text"}
        super().save(*args, **kwargs)


def drug_search_text(name: str, synonyms) -> str:
    return "\n".join([name, *(synonyms or [])]).casefold()


class MedicationCourse(Correctable, ClinicalModel):
    Category = MedicationCategory

    Intensity = Intensity

    Route = Route

    DoseUnit = DoseUnit

    Indication = AnticoagulantIndication

    patient = models.ForeignKey(Patient, on_delete=models.CASCADE, related_name="medications")
    category = models.CharField(max_length=16, choices=Category.choices)
    drug = models.ForeignKey(
        Drug,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="courses",
        help_text="Empty only for a free-text course (category other).",
    )
    drug_name = models.CharField(max_length=80, help_text="The dictionary name, or the free text as recorded.")
    dose = models.DecimalField(max_digits=10, decimal_places=3, null=True, blank=True)
    dose_unit = models.CharField(max_length=10, choices=DoseUnit.choices, blank=True)
    dose_mg_per_day = models.DecimalField(max_digits=12, decimal_places=6, null=True, blank=True)
    prednisolone_eq_mg_per_day = models.DecimalField(
        max_digits=9, decimal_places=2, null=True, blank=True, editable=False
    )
    route = models.CharField(max_length=20, choices=Route.choices, blank=True)
    intensity = models.CharField(max_length=14, choices=Intensity.choices, blank=True)
    indication = models.CharField(max_length=20, choices=AnticoagulantIndication.choices, blank=True)
    event = models.ForeignKey(
        "patients.ThrombosisEvent",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="treatments",
        help_text="Anticoagulants: the thrombosis this course treats (optional).",
    )
    start_date = models.DateField()
    end_date = models.DateField(null=True, blank=True)
    note = models.TextField(blank=True)

    class Meta:
        ordering = ["-start_date", "-id"]
        constraints = [
            choices_constraint(
                "category", MedicationCategory, name="medication_category_valid", message="Unknown category."
            ),
            models.CheckConstraint(
                condition=Q(end_date__isnull=True) | Q(end_date__gte=F("start_date")),
                name="medication_end_after_start",
                violation_error_message="The end date cannot be before the start date.",
            ),
            models.CheckConstraint(
                condition=Q(dose_mg_per_day__isnull=True) | Q(dose_mg_per_day__gt=0),
                name="medication_dose_positive",
                violation_error_message="The dose must be more than 0.",
            ),
            models.CheckConstraint(
                condition=Q(intensity="") | Q(category="anticoagulant"),
                name="medication_intensity_only_anticoagulant",
                violation_error_message="Intensity applies to anticoagulants only.",
            ),
            models.CheckConstraint(
                condition=Q(indication="") | Q(category="anticoagulant"),
                name="medication_indication_only_anticoagulant",
                violation_error_message="Indication applies to anticoagulants only.",
            ),
            choices_constraint("route", [*Route.values, ""], name="medication_route_valid", message="Unknown route."),
            models.CheckConstraint(
                condition=Q(drug__isnull=False) | Q(category="other"),
                name="medication_coded_unless_other",
                violation_error_message="Pick the drug from the dictionary.",
            ),
            choices_constraint(
                "indication",
                [*AnticoagulantIndication.values, ""],
                name="medication_indication_valid",
                message="Unknown indication.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.drug_name} ({self.get_category_display()}) from {self.start_date}"

    @property
    def needs_coding(self) -> bool:
        return self.drug_id is None

    @property
    def dose_label(self) -> str:
        if self.dose is None:
            return ""
        unit = "µg" if self.dose_unit == DoseUnit.MICROGRAM else "mg"
        return f"{float(self.dose):g} {unit}/day"
