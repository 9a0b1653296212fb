"""Forms for the worklist (filters and the three flag actions) and the patient list's search."""

from __future__ import annotations

from datetime import datetime, timedelta

from django import forms
from django.utils import timezone

from ivigtrack.web.forms import Form

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
