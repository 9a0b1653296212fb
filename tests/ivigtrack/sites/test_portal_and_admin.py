"""The portal offers the patient's own site's phone and emergency number; the admin shows a
non-superuser staff member only their sites' patients."""

from __future__ import annotations

import pytest
from django.urls import reverse

from tests import factories

pytestmark = pytest.mark.django_db


def test_the_portal_offers_the_patients_own_site_to_call(patient_fred, patient_pat):
    page = factories.session_client(patient_fred.user).get(reverse("portal:home")).content.decode()
    assert 'href="tel:000"' in page and 'href="tel:+61255501234"' in page and "Far clinic" in page
    other = factories.session_client(patient_pat.user).get(reverse("portal:home")).content.decode()
    assert "tel:+61255501234" not in other


def test_the_admin_shows_staff_only_their_sites_patients(make_user, patient_pat, patient_fred, far_site):
    from django.contrib.auth.models import Permission

    admin_nurse = make_user("adm", "nurse", sites=[far_site], is_staff=True)
    admin_nurse.user_permissions.set(Permission.objects.filter(codename__in=["view_patient", "change_patient"]))
    client = factories.session_client(admin_nurse)
    listing = client.get(reverse("admin:patients_patient_changelist")).content.decode()
    assert "MRN-FRED" in listing and "MRN-PAT" not in listing
    assert client.get(reverse("admin:patients_patient_change", args=[patient_pat.pk])).status_code == 302  # not found
    assert client.get(reverse("admin:patients_patient_change", args=[patient_fred.pk])).status_code == 200
