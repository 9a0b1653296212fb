"""Explicit hooks from the record apps up to the risk app.

Imports point one way (risk -> infusions -> patients -> ivigtrack), yet a write to a
patient record must re-assess that patient and a symptom report must raise its flag in
the same transaction. The risk app registers its listeners here in AppConfig.ready();
services call the hooks by name. This is not a signal: it is called on purpose, once,
by the service that made the change.
"""

from __future__ import annotations

from collections.abc import Callable

_patient_changed: list[Callable[[int], None]] = []
_symptom_reported: list[Callable] = []


def on_patient_changed(fn: Callable[[int], None]) -> Callable[[int], None]:
    if fn not in _patient_changed:
        _patient_changed.append(fn)
    return fn


def on_symptom_reported(fn: Callable) -> Callable:
    if fn not in _symptom_reported:
        _symptom_reported.append(fn)
    return fn


def patient_changed(patient_id: int) -> None:
    """Call inside the service's transaction; listeners defer their work to on_commit."""
    for fn in _patient_changed:
        fn(patient_id)


def symptom_reported(report, *, actor) -> None:
    """Call inside the service's transaction; listeners write in the same transaction."""
    for fn in _symptom_reported:
        fn(report, actor=actor)
