"""Page forms for regimens, infusions and medication courses (validation lives in the services)."""

from __future__ import annotations

from django import forms

from ivigtrack.web.forms import Form, ServiceForm, date_field, datetime_field
from patients.models import Patient, ThrombosisEvent

from .chair import PRECAUTIONS
from .models import Infusion, MedicationCourse, Regimen
from .selectors import product_list
from .services import REGIMEN_FIELDS


def _products(current=None):
    """Products in use, plus the one already on the record (it may have been retired since)."""
    products = product_list()
    if current is not None:
        products = products | type(current).objects.filter(pk=current.pk)
    return products.order_by("name")


class RegimenForm(ServiceForm):
    start_date = date_field("First day of the first course")
    end_date = date_field("Last day", required=False, help_text="Leave empty while the regimen continues.")

    class Meta:
        model = Regimen
        fields = list(REGIMEN_FIELDS)
        labels = {
            "dose_g_per_kg_per_day": "Dose (g/kg per day)",
            "dose_grams_per_day": "Or a fixed dose (g per day)",
            "days_per_course": "Consecutive days per course",
            "interval_days": "Repeat every (days)",
            "max_rate_mg_kg_min": "Maximum rate (mg/kg/min)",
        }
        help_texts = {
            "dose_g_per_kg_per_day": "e.g. 2 g/kg over 5 days = 0.4 per day.",
            "max_rate_mg_kg_min": "Leave empty for the product label maximum. At risk: at most 3.3 mg/kg/min.",
        }
        widgets = {"note": forms.Textarea(attrs={"rows": 2})}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["product"].queryset = _products(self.instance.product if self.instance.product_id else None)
        self.fields["product"].empty_label = "Choose a product"


class InfusionForm(ServiceForm):
    started_at = datetime_field("Started at")

    class Meta:
        model = Infusion
        fields = [
            "regimen",
            "product",
            "lot_number",
            "started_at",
            "dose_grams",
            "max_rate_mg_kg_min",
            "max_rate_ml_h",
            "status",
            "vascular_access",
            "hydration_given",
            "reactions",
            "note",
            "rate_reason",
            "iga_override_reason",
        ]
        labels = {
            "rate_reason": "Why a rate above the cap (if so)",
            "iga_override_reason": "Given without an IgA result because",
            "dose_grams": "Dose (g)",
            "max_rate_mg_kg_min": "Maximum rate reached (mg/kg/min)",
            "max_rate_ml_h": "Or the pump rate (mL/h)",
            "vascular_access": "Given through",
            "hydration_given": "Hydration given before",
        }
        widgets = {
            "reactions": forms.Textarea(attrs={"rows": 2}),
            "note": forms.Textarea(attrs={"rows": 2}),
            "hydration_given": forms.NullBooleanSelect,
            "rate_reason": forms.Textarea(attrs={"rows": 2}),
        }
        help_texts = {
            "iga_override_reason": "Only for a first infusion with no IgA on file (required then).",
        }

    def __init__(self, *args, patient: Patient, **kwargs):
        super().__init__(*args, **kwargs)
        stored = self.instance.precautions or {}
        for key, label in PRECAUTIONS.items():
            self.fields[f"precaution_{key}"] = forms.ChoiceField(
                label=f"Chair check: {label.lower()}",
                choices=[("", "Not answered"), ("yes", "Yes"), ("no", "No"), ("na", "Not applicable")],
                required=False,
                initial=stored.get(key, ""),
            )
        self.fields["rate_reason"].help_text = (
            "Required in words when the rate is above the at-risk or renal cap shown above; "
            "without it the flag RATE-ABOVE-CAP is raised."
        )
        self.fields["regimen"].queryset = patient.regimens.select_related("product")
        self.fields["regimen"].required = False
        self.fields["regimen"].empty_label = "None (a one-off infusion)"
        self.fields["regimen"].help_text = "The infusion counts towards this regimen's course."
        self.fields["product"].queryset = _products(self.instance.product if self.instance.product_id else None)
        self.fields["product"].required = False
        self.fields["product"].empty_label = "The regimen's product"
        self.fields["product"].help_text = "Leave empty to use the regimen's product."
        self.fields["vascular_access"].queryset = patient.vascular_accesses.all()
        self.fields["vascular_access"].required = False
        self.fields["vascular_access"].empty_label = "Peripheral cannula / not recorded"

    def clean(self):
        data = super().clean()
        if not data.get("product") and not data.get("regimen"):
            self.add_error("product", "Choose the product (or the regimen it belongs to).")
        answers = {key: data.pop(f"precaution_{key}", "") for key in PRECAUTIONS}
        data["precautions"] = {key: value for key, value in answers.items() if value}
        return data


class MedicationForm(ServiceForm):
    """A course picked from the drug dictionary: type a name or a brand; the browser offers the
    dictionary (a datalist, no JavaScript needed) and an unknown name comes back with the
    closest names. "Free text" records a drug outside the dictionary: it scores nothing."""

    drug = forms.CharField(
        label="Drug",
        max_length=80,
        widget=forms.TextInput(attrs={"list": "drug-dictionary", "autocomplete": "off"}),
        help_text="Generic or brand name, e.g. apixaban, Eliquis, prednisolone, Microgynon.",
    )
    free_text = forms.BooleanField(
        label="Not in the dictionary: record as free text (it scores nothing and is flagged for coding)",
        required=False,
    )
    start_date = date_field("Start date")
    end_date = date_field("End date", required=False, help_text="Leave empty while it continues.")

    class Meta:
        model = MedicationCourse
        fields = [
            "drug",
            "dose",
            "dose_unit",
            "route",
            "intensity",
            "indication",
            "event",
            "start_date",
            "end_date",
            "note",
        ]
        labels = {
            "dose": "Dose per day",
            "dose_unit": "Unit",
            "intensity": "Intensity (anticoagulants only)",
            "indication": "Why anticoagulated (anticoagulants only)",
            "event": "Thrombosis it treats (anticoagulants, optional)",
        }
        help_texts = {
            "dose": "Up to 3 decimals, e.g. 0.035 mg, or 35 in micrograms.",
            "dose_unit": "Leave empty for the drug's usual unit.",
        }
        widgets = {"note": forms.Textarea(attrs={"rows": 2})}

    def __init__(self, *args, patient: Patient | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["route"].required = True
        self.fields["dose_unit"].choices = [("", "The drug's usual unit"), *MedicationCourse.DoseUnit.choices]
        self.fields["indication"].help_text = "Default: treatment of VTE."
        events = patient.thrombosis_events.all() if patient is not None else ThrombosisEvent.objects.none()
        self.fields["event"].queryset = events
        self.fields["event"].required = False
        if self.instance.pk:
            self.initial["drug"] = self.instance.drug_name
            self.initial["free_text"] = self.instance.category == MedicationCourse.Category.OTHER

    def clean(self):
        data = super().clean()
        if data.pop("free_text", False):
            data["category"] = MedicationCourse.Category.OTHER
        elif self.instance.pk:
            data["category"] = ""  # follows from the drug
        return data


class PortalInfusionForm(Form):
    """What a patient logs after a home infusion: always an administered infusion."""

    started_at = datetime_field("When did it start?", help_text="Date and time. It cannot be in the future.")
    product = forms.ModelChoiceField(label="Product", queryset=product_list(), empty_label="Choose your product")
    dose_grams = forms.DecimalField(
        label="How many grams?",
        min_value=0.5,
        max_value=250,  # the Infusion dose constraint
        decimal_places=1,
        help_text="The total grams from the vial labels, e.g. 30.",
    )
    lot_number = forms.CharField(
        label="Lot number", max_length=40, required=False, help_text="Printed on the vial label."
    )
    reactions = forms.CharField(
        label="Any reactions?",
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Headache, chills, rash… Leave empty if none.",
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["product"].queryset = product_list()
