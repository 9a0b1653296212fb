"""Explicit hooks from the record apps up to the apps above them.

Imports point one way (risk -> infusions -> patients -> ivigtrack), yet a write to a
patient record must re-assess that patient, a symptom report must raise its flag in
the same transaction, and its triage must know when the patient was last infused. The
upper apps register here in AppConfig.ready(): risk its listeners, infusions the one
provider of the last infusion; services call the hooks by name. This is not a signal:
it is called on purpose, once, by the service that needs it.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

_patient_changed: list[Callable[[int], None]] = []
_symptom_reported: list[Callable] = []
_symptom_report_edited: list[Callable] = []
_patient_moved: list[Callable[[int, int], None]] = []
_infusion_written: list[Callable] = []
_last_infusion_at: Callable[[int, datetime], datetime | None] | None = None


def on_patient_changed(fn: Callable[[int], None]) -> Callable[[int], None]:
    if fn not in _patient_changed:
        _patient_changed.append(fn)
    return fn


def on_symptom_reported(fn: Callable) -> Callable:
    if fn not in _symptom_reported:
        _symptom_reported.append(fn)
    return fn


def on_patient_moved(fn: Callable[[int, int], None]) -> Callable[[int, int], None]:
    if fn not in _patient_moved:
        _patient_moved.append(fn)
    return fn


def patient_moved(patient_id: int, site_id: int) -> None:
    """A patient's home site changed (inside the service's transaction): rows that copy the
    site (the flags) follow it."""
    for fn in _patient_moved:
        fn(patient_id, site_id)


def on_infusion_written(fn: Callable) -> Callable:
    if fn not in _infusion_written:
        _infusion_written.append(fn)
    return fn


def infusion_written(infusion, *, actor) -> None:
    """Call inside the infusion service's transaction (the chair check's RATE-ABOVE-CAP)."""
    for fn in _infusion_written:
        fn(infusion, actor=actor)


def patient_changed(patient_id: int) -> None:
    """Call inside the service's transaction; listeners defer their work to on_commit."""
    for fn in _patient_changed:
        fn(patient_id)


def symptom_reported(report, *, actor) -> None:
    """Call inside the service's transaction; listeners write in the same transaction."""
    for fn in _symptom_reported:
        fn(report, actor=actor)


def on_symptom_report_edited(fn: Callable) -> Callable:
    if fn not in _symptom_report_edited:
        _symptom_report_edited.append(fn)
    return fn


def symptom_report_edited(report, *, previous_triage: str, actor) -> None:
    """An edit raised the report's triage (inside the service's transaction): listeners act on
    its alert as on a new report's, in the same transaction."""
    for fn in _symptom_report_edited:
        fn(report, previous_triage=previous_triage, actor=actor)


def provide_last_infusion_at(fn: Callable[[int, datetime], datetime | None]) -> Callable:
    """Register the one answer to "when did this patient's last administered infusion start,
    at or before this instant?" (the infusions app, in its AppConfig.ready())."""
    global _last_infusion_at
    _last_infusion_at = fn
    return fn


def last_infusion_at(patient_id: int, at: datetime) -> datetime | None:
    """The start of the patient's last administered infusion at or before ``at``, or None."""
    if _last_infusion_at is None:  # a missing answer must not read as "never infused"
        raise RuntimeError("No provider for hooks.last_infusion_at: is the infusions app installed?")
    return _last_infusion_at(patient_id, at)
