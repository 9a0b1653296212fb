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


def test_the_admin_extends_the_dictionary_and_the_api_then_finds_it(make_user, carol_api, patient_pat):
    from django.test import Client
    from django.urls import reverse

    from infusions.models import Drug

    root = make_user("root", "clinician", is_superuser=True, is_staff=True)
    client = Client()
    client.force_login(root)
    assert client.get(reverse("admin:infusions_drug_changelist"), {"q": "eliquis"}).status_code == 200
    response = client.post(
        reverse("admin:infusions_drug_add"),
        {
            "name": "argatroban",
            "synonyms": '["Exembol"]',
            "category": "anticoagulant",
            "drug_class": "direct_thrombin_inhibitor",
            "atc_code": "B01AE03",
            "default_unit": "mg",
            "active": "on",
        },
    )
    assert response.status_code == 302, response.context["adminform"].form.errors
    assert Drug.objects.get(name="argatroban").search_text == "argatroban\nexembol"
    found = carol_api.get("/api/v1/drugs/", {"q": "exembol"}).json()["results"]
    assert [d["name"] for d in found] == ["argatroban"]
    from datetime import date

    from infusions import services

    services.medication_record(
        actor=root,
        patient=patient_pat,
        drug="argatroban",
        route="intravenous",
        intensity="therapeutic",
        start_date=date(2026, 1, 1),
    )
    argatroban = Drug.objects.get(name="argatroban")
    assert client.get(reverse("admin:infusions_drug_delete", args=[argatroban.pk])).status_code == 403  # in use
