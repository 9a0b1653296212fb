"""Finding a drug in the dictionary by what a clinician types: a name, a brand, an id.

One query reads the (small) dictionary; matching is in Python, case-insensitive, on the name
and every synonym. An unknown name is a ValidationError that lists the closest names (difflib).
"""

from __future__ import annotations

import difflib
import re
import uuid

from django.core.exceptions import ValidationError

from .models import Drug

SUGGESTIONS = 5


def normalise(text: str) -> str:
    """Case, spacing and "a/b" vs "a + b" do not matter."""
    return " ".join((text or "").replace("/", " + ").split()).casefold()


def _names(drugs) -> dict[str, Drug]:
    """Every name and synonym, normalised, -> its drug (a synonym shared by two drugs is dropped)."""
    names: dict[str, Drug] = {}
    shared: set[str] = set()
    for drug in drugs:
        for name in (drug.name, *(drug.synonyms or [])):
            key = normalise(name)
            if key in names and names[key].pk != drug.pk:
                shared.add(key)
            names[key] = drug
    for key in shared:
        del names[key]
    return names


def dictionary(*, active_only: bool = True) -> list[Drug]:
    drugs = Drug.objects.order_by("name")
    return list(drugs.filter(active=True) if active_only else drugs)


def dictionary_datalist() -> list[str]:
    """Every name and synonym, for the form's type-ahead (one query)."""
    return sorted({name for drug in dictionary() for name in (drug.name, *(drug.synonyms or []))}, key=str.casefold)


def closest(text: str, drugs: list[Drug] | None = None, n: int = SUGGESTIONS) -> list[str]:
    """The dictionary names closest to ``text`` (a synonym's match names its drug)."""
    drugs = dictionary() if drugs is None else drugs
    names = _names(drugs)
    query = normalise(text)
    picked: list[str] = []
    contains = [drug.name for key, drug in names.items() if query and (query in key or key in query)]
    for name in [
        *contains,
        *(names[k].name for k in difflib.get_close_matches(query, list(names), n=n * 2, cutoff=0.5)),
    ]:
        if name not in picked:
            picked.append(name)
    return picked[:n]


def unknown_drug_error(text: str, drugs: list[Drug] | None = None) -> ValidationError:
    near = closest(text, drugs)
    if near:
        message = f"Unknown drug “{text}”. Did you mean: {', '.join(near)}?"
    else:
        message = f"Unknown drug “{text}”: pick one from the dictionary, or record it as free text (category other)."
    return ValidationError({"drug": [message]}, code="unknown_drug")


def resolve(value) -> Drug:
    """A Drug from a Drug, its public id, its name or a synonym (any case); else the error."""
    if isinstance(value, Drug):
        return value
    text = str(value or "").strip()
    if not text:
        raise ValidationError({"drug": ["Name the drug."]}, code="required")
    try:
        public_id = uuid.UUID(text)
    except ValueError:
        public_id = None
    if public_id is not None:
        drug = Drug.objects.filter(public_id=public_id, active=True).first()
        if drug is None:
            raise ValidationError({"drug": ["No drug in the dictionary has this id."]}, code="unknown_drug")
        return drug
    drugs = dictionary()
    drug = _names(drugs).get(normalise(text))
    if drug is None:
        raise unknown_drug_error(text, drugs)
    return drug


_WORD = re.compile(r"[a-z0-9]+")


def match_free_text(text: str, drugs: list[Drug]) -> Drug | None:
    """The one drug a free-text name stands for, or None when it is unknown or ambiguous.

    An exact name or synonym first; otherwise the drugs whose name or synonym appears in the
    text as whole words ("Prednisolone 5 mg tablets"): exactly one, or nothing.
    """
    names = _names(drugs)
    key = normalise(text)
    if key in names:
        return names[key]
    words = f" {' '.join(_WORD.findall(key))} "
    found = {
        drug.pk: drug
        for name, drug in names.items()
        if (pattern := " ".join(_WORD.findall(name))) and f" {pattern} " in words
    }
    return next(iter(found.values())) if len(found) == 1 else None
