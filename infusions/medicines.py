"""What the current ruleset makes of a medication course (the ``scored`` / ``scored_because``
of the API and the medicines table): the same function the engine uses (`itrs.medicines`)."""

from __future__ import annotations

from itrs.medicines import med_scoring
from itrs.types import MedSnap

from .models import MedicationCourse


def med_snap(course: MedicationCourse) -> MedSnap:
    return MedSnap(
        category=course.category,
        drug=course.drug_name,
        start_date=course.start_date,
        end_date=course.end_date,
        dose_mg_per_day=None if course.dose_mg_per_day is None else float(course.dose_mg_per_day),
        prednisolone_eq_mg_per_day=(
            None if course.prednisolone_eq_mg_per_day is None else float(course.prednisolone_eq_mg_per_day)
        ),
        intensity=course.intensity,
        drug_class=course.drug.drug_class if course.drug_id else "",
        route=course.route,
        indication=course.indication,
    )


def medication_scoring(course: MedicationCourse) -> tuple[bool, str]:
    if getattr(course, "entered_in_error", False):
        return False, "Entered in error: it counts in no rule or score."
    cached = getattr(course, "_scoring", None)
    if cached is None:
        cached = course._scoring = med_scoring(med_snap(course))
    return cached


def with_scoring(courses) -> list[MedicationCourse]:
    """The courses, each with ``scoring`` (scored, why) for the medicines table."""
    courses = list(courses)
    for course in courses:
        course.scoring = medication_scoring(course)
    return courses
