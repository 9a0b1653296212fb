"""Form helpers for the pages of every app.

Forms only shape input: labels, widgets and choices come from the models; the services
validate against stored data and save. A service's ValidationError names its fields, and
`add_service_errors` puts each message on the matching form field.
"""

from __future__ import annotations

from django import forms
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.utils import timezone
from django.utils.html import format_html

from ivigtrack.duplicates import DuplicateRecord, record_link

DATETIME_FORMAT = "%Y-%m-%dT%H:%M"


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, attrs=None):
        super().__init__(attrs=attrs, format="%Y-%m-%d")


class DateTimeInput(forms.DateTimeInput):
    input_type = "datetime-local"

    def __init__(self, attrs=None):
        super().__init__(attrs=attrs, format=DATETIME_FORMAT)


def date_field(label: str, *, required: bool = True, help_text: str = "") -> forms.DateField:
    return forms.DateField(label=label, required=required, help_text=help_text, widget=DateInput())


def datetime_field(label: str, *, required: bool = True, help_text: str = "") -> forms.DateTimeField:
    return forms.DateTimeField(
        label=label,
        required=required,
        help_text=help_text,
        widget=DateTimeInput(),
        input_formats=[DATETIME_FORMAT, "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M:%S"],
    )


def decimal_field(label: str, bounds: tuple[float, float], *, required: bool, unit: str, places: int = 1):
    """A decimal within `bounds`, its range and unit as the help text."""
    return forms.DecimalField(
        label=label,
        required=required,
        min_value=bounds[0],
        max_value=bounds[1],
        decimal_places=places,
        help_text=f"{bounds[0]}–{bounds[1]} {unit}.",
    )


def now_local_input() -> str:
    """The current minute in the clinic's zone, as a datetime-local value."""
    return timezone.localtime().strftime(DATETIME_FORMAT)


def add_service_errors(form: forms.BaseForm, exc: ValidationError) -> None:
    """Put a service's ValidationError on the form: each message on its field when the form
    has that field, otherwise at the top of the form (named, so it is still clear)."""
    if isinstance(exc, DuplicateRecord):
        url = record_link(exc.existing)
        message = exc.messages[0]
        form.add_error(None, format_html('{} <a href="{}">Open it</a>.', message, url) if url else message)
        return
    if not hasattr(exc, "error_dict"):
        form.add_error(None, exc)
        return
    for name, errors in exc.error_dict.items():
        if name in form.fields:
            form.add_error(name, errors)
            continue
        prefix = "" if name == NON_FIELD_ERRORS else f"{name.replace('_', ' ').capitalize()}: "
        for error in errors:
            for message in error.messages:
                form.add_error(None, f"{prefix}{message}")


class PlainLabels:
    """Labels without Django's trailing colon (the field groups read better without it)."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)
        # A time typed into a form is the site's wall clock: say which (the request's zone is the
        # patient's site zone, ivigtrack.accounts.zones).
        zone = timezone.get_current_timezone_name()
        for field in self.fields.values():
            if isinstance(field, forms.DateTimeField):
                field.help_text = " ".join(filter(None, (field.help_text, f"Local time ({zone}).")))


class Form(PlainLabels, forms.Form):
    pass


class ServiceForm(PlainLabels, forms.ModelForm):
    """A ModelForm for labels, widgets and choices only.

    The model's full_clean (and so the instance) is left to the service: editing never
    mutates the stored object before the service has compared old and new values.
    """

    def _post_clean(self) -> None:
        pass

    def service_data(self) -> dict:
        return dict(self.cleaned_data)
