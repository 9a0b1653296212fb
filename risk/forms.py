"""Forms for the worklist (filters and the three flag actions), the patient list's search and the
alert governance page's period."""

from __future__ import annotations

from datetime import datetime, timedelta

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone

from ivigtrack.web.forms import Form, add_service_errors, date_field

from . import stats
from .models import FlagKind, Priority, Resolution

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
    kind = forms.ChoiceField(label="Kind", required=False, choices=[("", "All kinds"), *FlagKind.choices])
    priority = forms.ChoiceField(label="Priority", required=False, choices=[("", "All priorities"), *Priority.choices])


class AcknowledgeForm(Form):
    note = forms.CharField(label="Note", required=False, max_length=1000)


class SnoozeForm(Form):
    duration = forms.ChoiceField(label="Snooze for", choices=SNOOZE_CHOICES, initial="7d")
    note = forms.CharField(label="Note", required=False, max_length=1000)

    def until(self, now: datetime | None = None) -> datetime:
        days = int(self.cleaned_data["duration"].rstrip("d"))
        return (now or timezone.now()) + timedelta(days=days)


class ResolveForm(Form):
    resolution = forms.ChoiceField(label="Outcome", choices=Resolution.choices)
    note = forms.CharField(label="Note", required=False, max_length=1000)


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
