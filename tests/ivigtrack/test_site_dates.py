"""Dates in the site's format: pages print them with the year as the site writes them (day or
month first, or ISO), and forms read what is typed in that format, refusing the other order
with a message that says which one the site uses."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from django.template import engines
from django.urls import reverse
from django.utils import timezone

from ivigtrack import dates
from ivigtrack.accounts.models import Site
from ivigtrack.accounts.zones import activate_for_user, deactivate
from patients import services

pytestmark = pytest.mark.django_db
COLLECTED = datetime(2026, 12, 1, 15, 38, tzinfo=UTC)


@pytest.fixture
def site_format():
    """Set the default site's date format (pat's site, where nina and carol work), in UTC."""

    def set_format(code: str) -> Site:
        site = Site.objects.default()
        site.date_format, site.time_zone = code, "UTC"
        site.save(update_fields=["date_format", "time_zone"])
        return site

    return set_format


@pytest.fixture
def dated_lab(patient_pat, nurse_nina):
    return services.lab_record(
        actor=nurse_nina, patient=patient_pat, test="platelets", value=250, collected_at=COLLECTED
    )


def detail(client, patient) -> str:
    return client.get(reverse("staff:patient_detail", kwargs={"patient_id": patient.public_id})).content.decode()


@pytest.mark.parametrize(
    "code, printed, not_printed",
    [
        ("dmy", "01/12/2026 15:38", "12/01/2026"),
        ("mdy", "12/01/2026 15:38", "01/12/2026"),
        ("ymd", "2026-12-01 15:38", "1 Dec"),
    ],
)
def test_the_patient_page_prints_dates_in_the_sites_format(nina_client, patient_pat, dated_lab, site_format,
                                                           code, printed, not_printed):  # fmt: skip
    site_format(code)
    page = detail(nina_client, patient_pat)
    assert printed in page
    assert not_printed not in page
    assert "1 Dec 2026 15:38" not in page


def test_a_year_is_always_printed_and_machine_formats_are_left_alone():
    template = engines["django"].from_string(
        '{{ d|date:"j M" }}|{{ d|date:"D j M" }}|{{ t|date:"j M H:i:s" }}|{{ d|date:"Y-m-d" }}'
    )
    moment = datetime(2026, 3, 5, 9, 7, 3, tzinfo=UTC)
    with timezone.override("UTC"):
        dates.activate("mdy")
        try:
            assert (
                template.render({"d": date(2026, 3, 5), "t": moment})
                == "03/05/2026|Thu 03/05/2026|03/05/2026 09:07:03|2026-03-05"
            )
        finally:
            dates.deactivate()
        assert template.render({"d": date(2026, 3, 5), "t": moment}).startswith("05/03/2026|")  # default: day first


def test_the_portal_prints_the_patients_site_format(pat_client, patient_pat, site_format, privigen):
    from infusions.models import Regimen

    site_format("mdy")
    start = timezone.localdate() + timedelta(days=4)
    Regimen.objects.create(patient=patient_pat, product=privigen, indication="cidp", dose_g_per_kg_per_day="0.4",
                           days_per_course=1, interval_days=28, start_date=start)  # fmt: skip
    page = pat_client.get(reverse("portal:home")).content.decode()
    assert start.strftime("%m/%d/%Y") in page


@pytest.fixture
def privigen(db):
    from infusions.models import Product

    return Product.objects.get(name="Privigen 10%")


def _weight_page(patient):
    return reverse("staff:weight_add", kwargs={"patient_id": patient.public_id})


@pytest.mark.parametrize(
    "code, typed, expected",
    [
        ("dmy", "01/11/2026", date(2026, 11, 1)),
        ("dmy", "1.11.2026", date(2026, 11, 1)),
        ("dmy", "01112026", date(2026, 11, 1)),
        ("mdy", "11/01/2026", date(2026, 11, 1)),
        ("ymd", "2026/11/01", date(2026, 11, 1)),
        ("mdy", "2026-11-01", date(2026, 11, 1)),  # ISO is read on every site
    ],
)
def test_forms_read_the_sites_format(nina_client, patient_pat, site_format, code, typed, expected):
    site_format(code)
    response = nina_client.post(_weight_page(patient_pat), {"weight_kg": "71", "measured_on": typed})
    assert response.status_code == 302, response.context["form"].errors
    assert patient_pat.weights.get(weight_kg=71).measured_on == expected


@pytest.mark.parametrize(
    "code, typed, words",
    [
        ("dmy", "11/30/2026", "There is no month 30: Enter the date as dd/mm/yyyy, e.g. 31/12/2026."),
        ("mdy", "30/11/2026", "There is no month 30: Enter the date as mm/dd/yyyy, e.g. 12/31/2026."),
        ("dmy", "31/11/2026", "There is no day 31 in that month"),
        ("dmy", "1/11/26", "Enter the date as dd/mm/yyyy"),
        ("dmy", "next week", "Enter the date as dd/mm/yyyy"),
    ],
)
def test_forms_refuse_the_other_order_with_a_clear_message(nina_client, patient_pat, site_format, code, typed, words):
    site_format(code)
    response = nina_client.post(_weight_page(patient_pat), {"weight_kg": "71", "measured_on": typed})
    assert response.status_code == 200
    assert words in " ".join(response.context["form"].errors["measured_on"])
    assert not patient_pat.weights.filter(weight_kg=71).exists()


def test_forms_show_the_format_and_the_value_in_it(nina_client, patient_pat, dated_lab, site_format):
    site_format("mdy")
    weight = patient_pat.weights.get()
    page = nina_client.get(
        reverse("staff:weight_edit", kwargs={"patient_id": patient_pat.public_id, "record_id": weight.public_id})
    ).content.decode()
    assert f'value="{weight.measured_on:%m/%d/%Y}"' in page and "Format mm/dd/yyyy, e.g. 12/31/2026." in page
    assert 'type="date"' not in page and 'inputmode="numeric"' in page
    page = nina_client.get(
        reverse("staff:lab_edit", kwargs={"patient_id": patient_pat.public_id, "record_id": dated_lab.public_id})
    ).content.decode()
    assert 'value="12/01/2026 15:38"' in page and "mm/dd/yyyy hh:mm" in page


def test_a_datetime_typed_in_the_sites_format_is_the_sites_wall_clock(nina_client, patient_pat, site_format):
    site = site_format("mdy")
    site.time_zone = "America/New_York"
    site.save(update_fields=["time_zone"])
    url = reverse("staff:lab_add", kwargs={"patient_id": patient_pat.public_id})
    response = nina_client.post(url, {"test": "platelets", "value": "240", "collected_at": "12/01/2026 09:15"})
    assert response.status_code == 302, response.context["form"].errors
    lab = patient_pat.labs.get(value=240)
    assert lab.collected_at == datetime(2026, 12, 1, 14, 15, tzinfo=UTC)
    response = nina_client.post(url, {"test": "platelets", "value": "241", "collected_at": "13/01/2026 09:15"})
    assert "There is no month 13" in " ".join(response.context["form"].errors["collected_at"])


def test_staff_of_several_sites_use_their_first_site_and_the_patients_site_on_its_pages(make_user):
    alpha = Site.objects.create(name="Alpha", code="ALPHA", date_format="mdy", time_zone="UTC")
    beta = Site.objects.create(name="Beta", code="BETA", date_format="ymd", time_zone="UTC")
    both = make_user("both", "nurse", sites=[beta, alpha])
    try:
        activate_for_user(both)
        assert dates.current() == "mdy"  # Alpha comes first (sites by name)
        assert timezone.get_current_timezone_name() != "" and dates.format_date(date(2026, 12, 1)) == "12/01/2026"
        from ivigtrack.accounts.zones import activate_site

        activate_site(beta)  # a page about a patient of Beta
        assert dates.format_date(date(2026, 12, 1)) == "2026-12-01"
    finally:
        deactivate()
    assert dates.current() == dates.DEFAULT


def test_the_sites_api_names_the_format(nina_api, site_format):
    site_format("mdy")
    rows = nina_api.get("/api/v1/sites/").json()["results"]
    assert [row["date_format"] for row in rows] == ["mdy"]


def test_the_worklist_rows_follow_a_change_of_the_sites_format(nina_client, patient_pat, make_flag, site_format):
    """The worklist remembers its rows (risk/flag_rows.py): the format they print is part of the key."""
    due = datetime(2027, 1, 2, 9, 30, tzinfo=UTC)
    make_flag(patient_pat, reason="format-row", due_at=due)
    site_format("dmy")
    assert b"02/01/2027 09:30" in nina_client.get(reverse("staff:worklist")).content
    site_format("mdy")
    assert b"01/02/2027 09:30" in nina_client.get(reverse("staff:worklist")).content
