"""Page forms for patient records.

Forms only shape input: labels, widgets and choices come from the models; the services
validate against stored data and save (see ``ivigtrack.web.forms`` for the base forms and
how a service's errors reach the fields).
"""

from __future__ import annotations

from django import forms
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError

from ivigtrack.web.forms import Form, ServiceForm, date_field, datetime_field, decimal_field

from . import labs as lab_catalogue
from . import symptoms as symptom_catalogue
from .models import (
    CHILD_HEIGHT_RANGE_CM,
    CHILD_WEIGHT_RANGE_KG,
    Condition,
    LabResult,
    LabTest,
    Patient,
    ThrombosisEvent,
    VascularAccess,
)
from .selectors import home_site_for, site_scope

# --- patient -----------------------------------------------------------------------------


class PatientForm(ServiceForm):
    height_cm = decimal_field("Height (cm)", CHILD_HEIGHT_RANGE_CM, required=False, unit="cm")
    date_of_birth = date_field("Date of birth")

    class Meta:
        model = Patient
        fields = [
            "mrn",
            "given_name",
            "family_name",
            "date_of_birth",
            "sex",
            "height_cm",
            "diagnosis",
            "user",
            "site",
            "care_team",
            "active",
        ]
        labels = {"user": "Portal login", "active": "Active (under follow-up)", "site": "Home site"}

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        sites = site_scope(user)
        self.fields["site"].queryset = sites
        self.fields["site"].help_text = "Staff of this site see the patient. Changing it moves the patient."
        self.fields["site"].required = False  # the service's choice when empty (your only site), or its error
        if not self.instance.pk:
            only = home_site_for(user) if user is not None else None
            self.fields["site"].initial = only.pk if only else None
        self.fields["care_team"].queryset = (
            get_user_model()
            .objects.filter(is_active=True, role__in=("clinician", "nurse"), sites__in=sites)
            .distinct()
            .order_by("last_name", "first_name", "username")
        )
        self.fields["care_team"].required = False
        self.fields["care_team"].label_from_instance = lambda u: u.get_full_name() or u.username
        users = get_user_model().objects.filter(role="patient", is_active=True, patient__isnull=True)
        if self.instance.pk and self.instance.user_id:
            users = users | get_user_model().objects.filter(pk=self.instance.user_id)
        self.fields["user"].queryset = users.order_by("username")
        self.fields["user"].required = False
        self.fields["user"].help_text = "A patient-role login without a record. Leave empty if none."
        self.fields["user"].label_from_instance = lambda u: f"{u.username} ({u.get_full_name() or 'no name'})"


class PatientCreateForm(PatientForm):
    weight_kg = decimal_field("Weight (kg)", CHILD_WEIGHT_RANGE_KG, required=False, unit="kg")
    weight_measured_on = date_field("Weight measured on", required=False, help_text="Defaults to today.")

    class Meta(PatientForm.Meta):
        fields = [f for f in PatientForm.Meta.fields if f != "active"]

    def clean(self):
        data = super().clean()
        if data.get("weight_measured_on") and data.get("weight_kg") is None:
            self.add_error("weight_kg", "Give the weight measured on that date, or clear the date.")
        return data


class WeightForm(Form):
    weight_kg = decimal_field("Weight (kg)", CHILD_WEIGHT_RANGE_KG, required=True, unit="kg")
    measured_on = date_field("Measured on")


# --- history records -----------------------------------------------------------------------


class ConditionForm(ServiceForm):
    onset_date = date_field("Onset date", required=False)
    resolved_date = date_field("Resolved on", required=False, help_text="Leave empty while it is still present.")

    class Meta:
        model = Condition
        fields = ["code", "onset_date", "resolved_date", "note"]
        labels = {"code": "Condition"}
        widgets = {"note": forms.Textarea(attrs={"rows": 2})}


class VascularAccessForm(ServiceForm):
    inserted_on = date_field("Inserted on")
    removed_on = date_field("Removed on", required=False, help_text="Leave empty while the line is in place.")

    class Meta:
        model = VascularAccess
        fields = ["kind", "vein", "side", "inserted_on", "removed_on", "note"]
        labels = {"kind": "Device"}
        widgets = {"note": forms.Textarea(attrs={"rows": 2})}


class ThrombosisEventForm(ServiceForm):
    diagnosed_on = date_field("Diagnosed on")

    class Meta:
        model = ThrombosisEvent
        fields = ["kind", "status", "diagnosed_on", "provocation", "vascular_access", "note"]
        labels = {"kind": "Event", "vascular_access": "Related line (if catheter-related)"}
        widgets = {"note": forms.Textarea(attrs={"rows": 2})}

    def __init__(self, *args, patient: Patient, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["vascular_access"].queryset = patient.vascular_accesses.all()
        self.fields["vascular_access"].required = False


def _lab_choices() -> list[tuple[str, str]]:
    choices = []
    for code, label in LabTest.choices:
        spec = lab_catalogue.LABS.get(code)
        choices.append((code, f"{label} ({spec.unit})" if spec else label))
    return choices


def lab_units() -> list[str]:
    units: list[str] = []
    for spec in lab_catalogue.LABS.values():
        for unit in (spec.unit, *spec.conversions):
            if unit not in units:
                units.append(unit)
    return units


class LabForm(ServiceForm):
    test = forms.ChoiceField(label="Test", choices=_lab_choices)
    value = forms.FloatField(label="Value")
    unit = forms.CharField(
        label="Unit",
        required=False,
        max_length=16,
        help_text="Leave empty for the unit shown next to the test; another known unit is converted.",
        widget=forms.TextInput(attrs={"list": "lab-units", "autocomplete": "off"}),
    )
    collected_at = datetime_field("Collected at")
    reference_high = forms.FloatField(
        label="Lab's upper reference limit",
        required=False,
        help_text="Optional, in the value's unit unless the reference unit says otherwise "
        "(e.g. the D-dimer cut-off or PT normal).",
    )
    reference_low = forms.FloatField(
        label="Lab's lower reference limit",
        required=False,
        help_text="Optional, in the same unit as the upper limit.",
    )
    reference_unit = forms.CharField(
        label="Unit of the reference limits",
        required=False,
        max_length=16,
        help_text="Leave empty when the limits are in the value's unit (a D-dimer cut-off of "
        "500 ng/mL FEU is stored as 0.5 mg/L FEU).",
        widget=forms.TextInput(attrs={"list": "lab-units", "autocomplete": "off"}),
    )

    class Meta:
        model = LabResult
        fields = ["test", "value", "unit", "collected_at", "reference_high", "reference_low"]


# One sample, several tests: the clotting panel (DESIGN's lab panel form). Values in the unit
# shown; any field may be left empty.
PANEL_TESTS = ["pt", "inr", "aptt", "fibrinogen", "platelets", "d_dimer"]


class LabPanelForm(Form):
    collected_at = datetime_field("Collected at")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for test in PANEL_TESTS:
            spec = lab_catalogue.LABS[test]
            self.fields[test] = forms.FloatField(label=f"{spec.display} ({spec.unit})", required=False)

    def results(self) -> list[dict]:
        return [
            {"test": test, "value": self.cleaned_data[test]}
            for test in PANEL_TESTS
            if self.cleaned_data.get(test) is not None
        ]

    def clean(self):
        cleaned = super().clean()
        if not self.errors and not self.results():
            raise ValidationError("Enter at least one result.")
        return cleaned


# --- symptoms ------------------------------------------------------------------------------

# The same three groups, worded for who reads them: the patient on the portal, or staff
# recording what a patient reports (who must act, not be told to call for help themselves).
SYMPTOM_GROUPS = [
    ("emergency", "Call emergency services now if you have any of these", symptom_catalogue.EMERGENCY),
    ("urgent", "Seek care today if you have any of these", symptom_catalogue.URGENT),
    ("routine", "Anything else", symptom_catalogue.ROUTINE),
]
STAFF_SYMPTOM_HEADINGS = {
    "emergency": "Emergency: the patient needs emergency care now",
    "urgent": "Urgent: same-day assessment",
    "routine": "Other symptoms",
}


def symptom_checklist(selected, *, for_staff: bool = False) -> list[dict]:
    """The checklist grouped by urgency, for templates that render each checkbox themselves
    (each carries data-triage so a small script can reveal the emergency advice at once)."""
    chosen = set(selected or [])
    return [
        {
            "triage": triage,
            "heading": STAFF_SYMPTOM_HEADINGS[triage] if for_staff else heading,
            "items": [{"code": code, "label": label, "checked": code in chosen} for code, label in items.items()],
        }
        for triage, heading, items in SYMPTOM_GROUPS
    ]


class SymptomReportForm(Form):
    symptoms = forms.MultipleChoiceField(
        label="Symptoms",
        choices=list(symptom_catalogue.ALL.items()),
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": "Tick at least one symptom (or “Something else” and describe it below)."},
    )
    note = forms.CharField(
        label="Anything you want to add",
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )

    def checklist(self) -> list[dict]:
        selected = self.data.getlist("symptoms") if self.is_bound else self.initial.get("symptoms", [])
        return symptom_checklist(selected)


class CheckinForm(SymptomReportForm):
    """The portal check-in: the warning-sign checklist, or "I feel fine" (no symptom at all)."""

    FINE = "fine"

    symptoms = forms.MultipleChoiceField(
        label="Symptoms",
        choices=list(symptom_catalogue.ALL.items()),
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )
    answer = forms.ChoiceField(choices=[(FINE, "I feel fine"), ("symptoms", "Send to the clinic")])

    def clean(self):
        data = super().clean()
        ticked = data.get("symptoms") or []
        if data.get("answer") == self.FINE and ticked:
            self.add_error("symptoms", "You ticked symptoms: press “Send to the clinic” so the clinic sees them.")
        elif data.get("answer") == "symptoms" and not ticked:
            self.add_error("symptoms", "Tick what you have now, or press “I feel fine”.")
        return data


class RemindersForm(Form):
    reminders_opt_in = forms.BooleanField(
        label="Send me reminders by e-mail",
        required=False,
        help_text="Your next infusion 2 days ahead, blood tests due, and the check-ins after an infusion.",
    )


class StaffSymptomReportForm(SymptomReportForm):
    reported_at = datetime_field("Symptoms reported at", required=False, help_text="Defaults to now.")
    note = forms.CharField(label="Note", required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 3}))

    def checklist(self) -> list[dict]:
        selected = self.data.getlist("symptoms") if self.is_bound else self.initial.get("symptoms", [])
        return symptom_checklist(selected, for_staff=True)
