"""Which anticoagulant a medication course is: the drug dictionary's class when the course is
coded (``MedSnap.drug_class``), else its name matched against the list below.

The ITRS-v1 lab rules need three classes: heparins (the HIT wording of HEM-URGENT), vitamin K
antagonists and direct oral anticoagulants (the ISTH PT item is not scored on them, the PT being
prolonged by the drug). `course_class` reads the dictionary's class; for a course stored before
the dictionary (or free text), `drug_class` matches the name case-insensitively against the generic
and brand names below (first word, so "warfarin sodium" and "Eliquis 5 mg" match).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

from itrs.types import MedSnap

VKA = "vka"
DOAC = "doac"
HEPARIN = "heparin"  # unfractionated and low-molecular-weight heparins

_NAMES: dict[str, frozenset[str]] = {
    VKA: frozenset(
        {
            "warfarin",
            "coumadin",
            "jantoven",
            "marevan",
            "acenocoumarol",
            "sintrom",
            "phenprocoumon",
            "marcumar",
            "fluindione",
            "phenindione",
        }
    ),
    DOAC: frozenset(
        {
            "apixaban",
            "eliquis",
            "rivaroxaban",
            "xarelto",
            "edoxaban",
            "lixiana",
            "savaysa",
            "dabigatran",
            "pradaxa",
            "pradax",
            "betrixaban",
        }
    ),
    HEPARIN: frozenset(
        {
            "heparin",
            "ufh",
            "enoxaparin",
            "clexane",
            "lovenox",
            "dalteparin",
            "fragmin",
            "tinzaparin",
            "innohep",
            "nadroparin",
            "fraxiparine",
            "certoparin",
            "bemiparin",
            "reviparin",
            "lmwh",
        }
    ),
}


def drug_class(name: str) -> str | None:
    """``vka``, ``doac``, ``heparin`` or None for a drug name (generic or brand)."""
    words = name.lower().replace("-", " ").replace("/", " ").split()
    if not words:
        return None
    first = words[0].strip(".,;()")
    for cls, names in _NAMES.items():
        if first in names or (cls == HEPARIN and first.endswith("heparin")):
            return cls
    return None


# the dictionary's anticoagulant classes (infusions.Drug.drug_class) as the three the rules need
_DICTIONARY_CLASSES = {"vka": VKA, "doac": DOAC, "lmwh": HEPARIN, "ufh": HEPARIN}


def course_class(med: MedSnap) -> str | None:
    """``vka``, ``doac``, ``heparin`` or None for a course: its dictionary class when coded."""
    if med.drug_class:
        return _DICTIONARY_CLASSES.get(med.drug_class)
    return drug_class(med.drug)


def courses_of(meds: Iterable[MedSnap], cls: str) -> list[MedSnap]:
    return [m for m in meds if course_class(m) == cls]


def running_on(meds: Iterable[MedSnap], day: date) -> list[MedSnap]:
    """Courses started on or before ``day`` and not ended before it."""
    return [m for m in meds if m.start_date <= day and (m.end_date is None or m.end_date >= day)]


def ran_within(meds: Iterable[MedSnap], first: date, last: date) -> list[MedSnap]:
    """Courses that ran on at least one day from ``first`` to ``last`` (inclusive)."""
    return [m for m in meds if m.start_date <= last and (m.end_date is None or m.end_date >= first)]


CLASS_WORDS = {VKA: "a vitamin K antagonist", DOAC: "a direct oral anticoagulant", HEPARIN: "a heparin"}


def pt_confounder(current_anticoagulants: Iterable[MedSnap]) -> str:
    """ "warfarin (a vitamin K antagonist)" for the first current VKA or DOAC course, else ''."""
    for med in current_anticoagulants:
        cls = course_class(med)
        if cls in (VKA, DOAC):
            return f"{med.drug} ({CLASS_WORDS[cls]})"
    return ""
