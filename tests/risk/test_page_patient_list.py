"""The patient list: search by name or MRN, tier badges (provisional never shown plain), next
planned infusion, open flag count, paging, and a fixed number of queries."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from infusions.models import Product, Regimen
from ivigtrack.accounts.models import Site
from patients.models import Patient

pytestmark = pytest.mark.django_db


def test_lists_patients_with_tier_next_infusion_and_flags(
    nina_client, patient_pat, patient_quinn, make_assessment, make_flag
):
    make_assessment(patient_pat, score=8, tier="high")
    make_assessment(patient_quinn, score=1, tier="low", provisional=True)
    make_flag(patient_pat)
    make_flag(patient_pat, kind="symptom_alert", rule="SYM-URGENT", priority="urgent")
    start = timezone.localdate() + timedelta(days=3)
    Regimen.objects.create(
        patient=patient_pat, product=Product.objects.get(name="Privigen 10%"), indication="cidp",
        dose_g_per_kg_per_day=Decimal("1"), days_per_course=2, interval_days=21, start_date=start,
    )  # fmt: skip
    content = nina_client.get(reverse("staff:patient_list")).content.decode()
    assert "Doe, Pat" in content and "Roe, Quinn" in content
    assert 'tier-high">High</span>' in content
    # provisional is never shown as a plain tier
    assert "Low (provisional — incomplete data)" in content
    assert 'tier-low">Low</span>' not in content
    assert start.strftime("%a %d/%m/%Y") in content
    assert "Privigen 10%, 1 g/kg/day" in content
    assert '<span class="badge count">2</span>' in content
    assert "None planned" in content  # Quinn


def test_not_assessed_patients_say_so(nina_client, patient_pat):
    assert "Not assessed yet" in nina_client.get(reverse("staff:patient_list")).content.decode()


@pytest.mark.parametrize("query", ["doe", "Pat", "mrn-pat", "pat doe"])
def test_search_by_name_or_mrn(nina_client, patient_pat, patient_quinn, query):
    content = nina_client.get(reverse("staff:patient_list"), {"q": query}).content.decode()
    assert "Doe, Pat" in content
    assert "Roe, Quinn" not in content


def test_search_without_match_explains(nina_client, patient_pat):
    content = nina_client.get(reverse("staff:patient_list"), {"q": "zzz"}).content.decode()
    assert "No patients match this search" in content


def test_filter_by_tier(nina_client, patient_pat, patient_quinn, make_assessment):
    make_assessment(patient_pat, score=8, tier="high")
    high = nina_client.get(reverse("staff:patient_list"), {"tier": "high"}).content.decode()
    assert "Doe, Pat" in high and "Roe, Quinn" not in high
    none = nina_client.get(reverse("staff:patient_list"), {"tier": "none"}).content.decode()
    assert "Roe, Quinn" in none and "Doe, Pat" not in none


def _many_patients(count: int, make_assessment, make_flag) -> None:
    product = Product.objects.get(name="Privigen 10%")
    today = timezone.localdate()
    for i in range(count):
        patient = Patient.objects.create(
            mrn=f"L{i:03}", given_name="Lee", family_name=f"List{i:03}", date_of_birth=date(1960, 1, 1),
            sex="female", diagnosis="cidp", site=Site.objects.default(),
        )  # fmt: skip
        make_assessment(patient, score=i % 9, tier=["low", "moderate", "high"][i % 3], provisional=bool(i % 2))
        make_flag(patient)
        Regimen.objects.create(
            patient=patient, product=product, indication="cidp", dose_g_per_kg_per_day=Decimal("0.4"),
            days_per_course=5, interval_days=28, start_date=today - timedelta(days=i),
        )  # fmt: skip


@pytest.mark.parametrize("count", [3, 30])
def test_query_count_is_constant(nina_client, count, make_assessment, make_flag, django_assert_max_num_queries):
    _many_patients(count, make_assessment, make_flag)
    # session, user, the user's sites, count, the page with risk and flag annotations, the page's
    # regimens, and the session save (SESSION_SAVE_EVERY_REQUEST: savepoint, update, release)
    with django_assert_max_num_queries(9):
        response = nina_client.get(reverse("staff:patient_list"))
    assert response.content.count(b"/staff/patients/") >= min(count, 25)


def test_paginates(nina_client, make_assessment, make_flag):
    _many_patients(30, make_assessment, make_flag)
    first = nina_client.get(reverse("staff:patient_list")).content.decode()
    assert "Page 1 of 2 · 30 in all" in first
    assert "List000" in first and "List029" not in first
    second = nina_client.get(reverse("staff:patient_list"), {"page": 2, "q": "lee"}).content.decode()
    assert "List029" in second and "List000" not in second
    assert "q=lee&amp;page=1" in second  # the search is kept across pages
