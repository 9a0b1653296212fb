"""Coding free text against the dictionary (the data migration and the lookups)."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from infusions import drugs


@pytest.mark.parametrize(
    ("text", "name"),
    [
        ("prednisolone", "prednisolone"),
        ("Prednisolone 5 mg tablets", "prednisolone"),
        ("ELIQUIS", "apixaban"),
        ("estradiol/norethisterone (oral HRT)", "estradiol + norethisterone (oral HRT)"),
        ("frusemide 40mg", "furosemide"),
        ("heparin", "unfractionated heparin"),
        ("bananas", None),
        ("warfarin then apixaban", None),  # two drugs: ambiguous, left for a person to code
        ("oral HRT", "estradiol (oral HRT)"),
        ("HRT", None),  # oral or transdermal? ambiguous
    ],
)
def test_free_text_matches_only_when_unambiguous(db, text, name):
    found = drugs.match_free_text(text, drugs.dictionary(active_only=False))
    assert (found.name if found else None) == name


def test_resolve_by_id_name_or_brand_and_suggest_otherwise(db):
    apixaban = drugs.resolve("apixaban")
    assert drugs.resolve(str(apixaban.public_id)) == apixaban == drugs.resolve(" eliquis ")
    with pytest.raises(ValidationError) as err:
        drugs.resolve("predisolone")
    assert "prednisolone" in err.value.message_dict["drug"][0]
    with pytest.raises(ValidationError):
        drugs.resolve("00000000-0000-0000-0000-000000000000")
    assert "Eliquis" in drugs.dictionary_datalist()
