"""Forms for the worklist (filters and the flag actions), the patient list's search and the
alert governance page's period."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone

from ivigtrack.web.forms import Form, add_service_errors, date_field

from . import stats
from .models import (
    DECISIONS,
    STAFF_RESOLUTIONS,
    AnticoagulationPlan,
    FlagKind,
    IvigPlan,
    Priority,
    ThrombophiliaTesting,
)

SNOOZE_CHOICES = [
    ("1d", "1 day"),
    ("3d", "3 days"),
    ("7d", "1 week"),
    ("14d", "2 weeks"),
    ("28d", "4 weeks"),
]


class PatientSearchForm(Form):
    q = forms.CharField(label="Search", required=False, max_length=100, help_text="Name or MRN")
    tier = forms.ChoiceField(
        label="Risk tier",
        required=False,
        choices=[("", "Any"), ("low", "Low"), ("moderate", "Moderate"), ("high", "High"), ("none", "Not assessed")],
    )


class WorklistFilterForm(Form):
    q = forms.CharField(label="Patient", required=False, max_length=100, help_text="Name or MRN")
    sort = forms.ChoiceField(
        label="Sort by",
        required=False,
        choices=[("priority", "Most urgent first"), ("due", "Soonest due"), ("raised", "Newest raised")],
    )
    kind = forms.ChoiceField(label="Kind", required=False, choices=[("", "All kinds"), *FlagKind.choices])
    priority = forms.ChoiceField(label="Priority", required=False, choices=[("", "All priorities"), *Priority.choices])


class PublicIdsField(forms.MultipleChoiceField):
    """Ids ticked on a page. Each must be a UUID; which of them the user may act on is for the
    view to decide (it looks them up in what the user may see)."""

    def valid_value(self, value) -> bool:
        try:
            uuid.UUID(str(value))
        except ValueError:
            return False
        return True


class BulkAcknowledgeForm(Form):
    ids = PublicIdsField(error_messages={"required": "Tick at least one flag."})
    note = forms.CharField(label="Note", required=False, max_length=1000)


class AcknowledgeForm(Form):
    note = forms.CharField(label="Note", required=False, max_length=1000)


class SnoozeForm(Form):
    # At most 4 weeks: the service's snooze_max_days (28 by default) says the same.
    duration = forms.ChoiceField(label="Snooze for", choices=SNOOZE_CHOICES, initial="7d")
    # Required by the service (which refuses an emergency first, with its own message).
    reason = forms.CharField(
        label="Reason", required=False, max_length=1000, help_text="Required: why it can wait (kept with the flag)."
    )
    past_due_ok = forms.BooleanField(
        label="Snooze past the flag's due date: I mean it", required=False, help_text="Recorded in the audit."
    )

    def until(self, now: datetime | None = None) -> datetime:
        days = int(self.cleaned_data["duration"].rstrip("d"))
        return (now or timezone.now()) + timedelta(days=days)


class UnsnoozeForm(Form):
    """No fields: the button is the whole form."""


class ResolveForm(Form):
    resolution = forms.ChoiceField(label="Outcome", choices=STAFF_RESOLUTIONS)
    note = forms.CharField(
        label="Note",
        required=False,
        max_length=1000,
        help_text="Required for not indicated and declined, which keep this rule quiet for months.",
    )

    def clean(self):
        data = super().clean()
        if data.get("resolution") in DECISIONS and not (data.get("note") or "").strip():
            self.add_error("note", "Say why: a note is required for not indicated and declined.")
        return data

    @classmethod
    def for_flag(cls, flag) -> type[ResolveForm]:
        """A haematology review flag is completed by recording the review: its form asks for it."""
        return HaematologyResolveForm if flag.kind == FlagKind.HEMATOLOGY_REVIEW else cls


REVIEW_FORM_FIELDS = (
    "reviewed_on",
    "reviewer_name",
    "anticoagulation_plan",
    "ivig_plan",
    "thrombophilia_testing",
    "next_review_on",
    "review_note",
)


def _review_fields(required: bool) -> dict:
    return {
        "reviewed_on": date_field("Reviewed on", required=required),
        "reviewer_name": forms.CharField(
            label="Reviewer",
            required=False,
            max_length=200,
            help_text="The haematologist, if not you (e.g. an outside consultant).",
        ),
        "anticoagulation_plan": forms.ChoiceField(
            label="Anticoagulation plan", required=required, choices=[("", "---"), *AnticoagulationPlan.choices]
        ),
        "ivig_plan": forms.ChoiceField(label="IVIG plan", required=required, choices=[("", "---"), *IvigPlan.choices]),
        "thrombophilia_testing": forms.ChoiceField(
            label="Thrombophilia testing", required=required, choices=[("", "---"), *ThrombophiliaTesting.choices]
        ),
        "next_review_on": date_field(
            "Next review by", required=False, help_text="Optional: overrides the plan's own interval."
        ),
        "review_note": forms.CharField(label="What the haematologist advised", required=False, max_length=4000),
    }


class HaematologyReviewForm(Form):
    """A haematology review, recorded from the patient page."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields.update(_review_fields(required=True))
        self.fields["reviewed_on"].initial = timezone.localdate()

    def review_data(self) -> dict:
        return review_data(self.cleaned_data)


def review_data(data: dict) -> dict:
    values = {name: data.get(name) for name in REVIEW_FORM_FIELDS if name != "review_note"}
    values["note"] = data.get("review_note") or ""
    values["reviewer_name"] = values.get("reviewer_name") or ""
    return values


class HaematologyResolveForm(ResolveForm):
    """Resolving a haematology review flag: "completed" records the review (what was decided)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields.update(_review_fields(required=False))
        self.fields["reviewed_on"].initial = timezone.localdate()
        for name in ("reviewed_on", "anticoagulation_plan", "ivig_plan", "thrombophilia_testing"):
            self.fields[name].help_text = "Needed to complete the flag: what the haematologist decided."
        self.fields[
            "resolution"
        ].help_text = "Completed records the haematology review below; it is what the review rules count."

    def clean(self):
        data = super().clean()
        if data.get("resolution") == "completed":
            for name in ("reviewed_on", "anticoagulation_plan", "ivig_plan", "thrombophilia_testing"):
                if not data.get(name):
                    self.add_error(name, "Required to complete a haematology review: record what was decided.")
        return data

    def review_data(self) -> dict | None:
        if self.cleaned_data.get("resolution") != "completed":
            return None
        return review_data(self.cleaned_data)


class AlertPeriodForm(Form):
    """The alert governance page's period and rule (`?from=&to=&rule=`); the checks are
    risk.stats' (the API calls the same ones)."""

    rule = forms.CharField(label="Rule", required=False, max_length=20, help_text="e.g. CLOT-BASELINE; empty for all")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # "from" is a Python keyword, so the two dates are added here rather than declared
        self.fields = {
            "from": date_field("From", required=False),
            "to": date_field("To", required=False, help_text="Both days included"),
            **self.fields,
        }

    def clean(self):
        data = super().clean()
        if self.errors:
            return data
        try:
            data["period"] = stats.stats_period(data.get("from"), data.get("to"))
            data["rule"] = stats.check_rule(data.get("rule", ""))
        except ValidationError as exc:
            add_service_errors(self, exc)
        return data
