"""Form helpers for the pages of every app.

Forms only shape input: labels, widgets and choices come from the models; the services
validate against stored data and save. A service's ValidationError names its fields, and
`add_service_errors` puts each message on the matching form field.
"""

from __future__ import annotations

from datetime import date, datetime

from django import forms
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.forms.utils import from_current_timezone
from django.utils import timezone
from django.utils.html import format_html

from ivigtrack import dates
from ivigtrack.duplicates import DuplicateRecord, record_link

DATETIME_FORMAT = "%Y-%m-%dT%H:%M"


# Dates are typed as the site writes them. A native <input type="date"> shows the browser's
# locale (mm/dd/yyyy on a US-set machine in a UK clinic), which a page cannot change; a text
# field in the site's format, with the format as its hint, reads the same on every machine
# and without JavaScript. ISO 8601 is read too (it cannot be misread).


class DateInput(forms.TextInput):
    """A date as the site writes it (31/12/2026), digits on a phone's keypad."""

    def __init__(self, attrs=None):
        super().__init__(attrs={"inputmode": "numeric", "autocomplete": "off", "size": 12, **(attrs or {})})

    def format_value(self, value):
        if isinstance(value, datetime):
            value = value.date()
        if isinstance(value, date):
            return dates.format_date(value)
        return super().format_value(value)

    def get_context(self, name, value, attrs):
        context = super().get_context(name, value, attrs)
        context["widget"]["attrs"].setdefault("placeholder", dates.PATTERN[dates.current()])
        return context


class DateTimeInput(forms.TextInput):
    """A date and time as the site writes them (31/12/2026 15:38), in the request's zone."""

    def __init__(self, attrs=None):
        super().__init__(attrs={"autocomplete": "off", "size": 18, **(attrs or {})})

    def format_value(self, value):
        if isinstance(value, str) and value:
            try:  # an initial value given as ISO text (now_local_input)
                value = datetime.strptime(value, DATETIME_FORMAT)
            except ValueError:
                return value
        if isinstance(value, datetime):
            if timezone.is_aware(value):
                value = timezone.localtime(value)
            return dates.format_datetime(value)
        return super().format_value(value)

    def get_context(self, name, value, attrs):
        context = super().get_context(name, value, attrs)
        context["widget"]["attrs"].setdefault("placeholder", f"{dates.PATTERN[dates.current()]} hh:mm")
        return context


class _FormatHint:
    """The field's help text ends with the site's format (read when the form is drawn)."""

    example_suffix = ""

    @property
    def help_text(self) -> str:
        code = dates.current()
        own = f"Format {dates.PATTERN[code]}{self.pattern_suffix}, e.g. {dates.EXAMPLE[code]}{self.example_suffix}."
        return " ".join(filter(None, (self._help_text, own)))

    @help_text.setter
    def help_text(self, value) -> None:
        self._help_text = value


class SiteDateField(_FormatHint, forms.DateField):
    widget = DateInput
    pattern_suffix = ""

    def to_python(self, value):
        if value in self.empty_values:
            return None
        if isinstance(value, datetime):
            return value.date()
        if isinstance(value, date):
            return value
        try:
            return dates.parse_date(str(value))
        except ValueError as exc:
            raise ValidationError(str(exc), code="invalid") from None


class SiteDateTimeField(_FormatHint, forms.DateTimeField):
    widget = DateTimeInput
    pattern_suffix = " hh:mm"
    example_suffix = " 15:38"

    def to_python(self, value):
        if value in self.empty_values:
            return None
        if isinstance(value, datetime):
            return from_current_timezone(value)
        try:
            return from_current_timezone(dates.parse_datetime(str(value)))
        except ValueError as exc:
            raise ValidationError(str(exc), code="invalid") from None


def date_field(label: str, *, required: bool = True, help_text: str = "") -> forms.DateField:
    return SiteDateField(label=label, required=required, help_text=help_text, widget=DateInput())


def datetime_field(label: str, *, required: bool = True, help_text: str = "") -> forms.DateTimeField:
    return SiteDateTimeField(label=label, required=required, help_text=help_text, widget=DateTimeInput())


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
                own = getattr(field, "_help_text", field.help_text)  # a site field adds its format after
                field.help_text = " ".join(filter(None, (own, f"Local time ({zone}).")))


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
