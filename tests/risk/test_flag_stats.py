"""Alert governance (risk.stats, /staff/alerts/, /api/v1/flag-stats/): every figure of a small
clinic's flags computed by hand, the CSV equal to the table, role limits, bad periods refused
with the field named, and a constant number of queries whatever the number of flags.

The fixture (T = now; pat and quinn; "ack" = acknowledged that long after raising):

    flag  patient  rule           raised   what became of it
    H     pat      HEM-URGENT     T-380d   resolved completed T-370d    (before the period)
    I     pat      HEM-URGENT     T-350d   ack 1 h, completed T-349d    re-raised: 20 d after H
    A     pat      CLOT-BASELINE  T-100d   ack 2 h, completed T-90d
    B     pat      CLOT-BASELINE  T-80d    ack 4 h, snoozed twice, not_indicated T-70d
                                                                        re-raised: 10 d after A
    D     quinn    CLOT-BASELINE  T-60d    ack 9 h, declined T-55d      (pat's B 10 d before: other patient)
    E     quinn    CLOT-BASELINE  T-40d    snoozed now, due T+5d        re-raised: 15 d after D
    F     quinn    HEM-URGENT     T-30d    escalated, ack 30 min, due T-28d: open past due
                                                                        (quinn's D 25 d before: other rule)
    C     pat      CLOT-BASELINE  T-20d    open, due T-10d: open past due (50 d after B: not re-raised)
    G     pat      HEM-URGENT     T-10d    superseded T-9d

Over the last 12 months (H left out):
    CLOT-BASELINE: raised 5 (A B C D E), escalated 0, acknowledged 3 (A B D), median 4 h
        (2, 4, 9), completed 1 (A), not_indicated 1 (B), declined 1 (D), superseded 0,
        snoozed 2 (B once however many times, E), suppressed 2 (B D), re-raised 2 (B E),
        open past due 1 (C)
    HEM-URGENT: raised 3 (I F G), escalated 1 (F), acknowledged 2 (F I), median 0.75 h
        (0.5 and 1, interpolated), completed 1 (I), superseded 1 (G), snoozed 0, suppressed 0,
        re-raised 1 (I), open past due 1 (F)
"""

from __future__ import annotations

import csv
import io
import re
from datetime import date, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from ivigtrack.accounts.models import Site
from ivigtrack.audit.models import AuditEvent
from patients.models import Patient
from risk import stats
from risk.models import Resolution, ReviewFlag
from tests.factories import make_flag

pytestmark = [pytest.mark.django_db, pytest.mark.sqlite]

CLOT = {"kind": "clotting_studies", "rule": "CLOT-BASELINE", "priority": "routine"}
HEM = {"kind": "hematology_review", "rule": "HEM-URGENT", "priority": "urgent"}
H = timedelta(hours=1)
D = timedelta(days=1)


def figures(**given) -> dict:
    """One rule's row: the figures given, 0 for every other column (so a resolution added to the
    model, such as `lapsed`, is a column of zeros here)."""
    return {key: 0 for key, _ in stats.columns()[1:]} | {"median_hours_to_acknowledge": None} | given


EXPECTED = {
    "CLOT-BASELINE": figures(
        raised=5, acknowledged=3, median_hours_to_acknowledge=4.0, resolved_completed=1, resolved_not_indicated=1,
        resolved_declined=1, snoozed=2, suppressed=2, re_raised_30d=2, open_past_due=1,
    ),
    "HEM-URGENT": figures(
        raised=3, escalated=1, acknowledged=2, median_hours_to_acknowledge=0.75, resolved_completed=1,
        resolved_superseded=1, re_raised_30d=1, open_past_due=1,
    ),
}  # fmt: skip


def _resolved(when, resolution, **extra):
    return {"status": "resolved", "resolved_at": when, "resolution": resolution, **extra}


def _snooze_audit(flag, at):
    event = AuditEvent.objects.create(
        action="flag.snooze",
        actor_label="carol",
        patient_id=flag.patient_id,
        object_type="risk.reviewflag",
        object_id=str(flag.public_id),
        detail={"until": (at + 7 * D).isoformat(), "note": "after the course"},
    )
    AuditEvent.objects.filter(pk=event.pk).update(at=at)  # `at` is auto_now_add


@pytest.fixture
def clinic(patient_pat, patient_quinn):
    """The flags of the module docstring, by letter."""
    ReviewFlag.objects.all().delete()
    now = timezone.now()
    pat, quinn = patient_pat, patient_quinn

    def flag(patient, rule, raised_days_ago, **extra):
        raised = now - raised_days_ago * D
        ack = extra.pop("ack", None)
        if ack is not None:
            extra["acknowledged_at"] = raised + ack
        return make_flag(patient, **rule, raised_at=raised, due_at=extra.pop("due_at", raised + 7 * D), **extra)

    flags = {
        "H": flag(pat, HEM, 380, **_resolved(now - 370 * D, "completed")),
        "I": flag(pat, HEM, 350, ack=H, **_resolved(now - 349 * D, "completed")),
        "A": flag(pat, CLOT, 100, ack=2 * H, **_resolved(now - 90 * D, "completed")),
        "B": flag(pat, CLOT, 80, ack=4 * H, **_resolved(now - 70 * D, "not_indicated", note="on apixaban")),
        "D": flag(quinn, CLOT, 60, ack=9 * H, **_resolved(now - 55 * D, "declined", note="declines the test")),
        "E": flag(quinn, CLOT, 40, status="snoozed", snoozed_until=now + 3 * D, due_at=now + 5 * D),
        "F": flag(quinn, HEM, 30, status="acknowledged", ack=H / 2, escalated_at=now - 29 * D, due_at=now - 28 * D),
        "C": flag(pat, CLOT, 20, due_at=now - 10 * D),
        "G": flag(pat, HEM, 10, **_resolved(now - 9 * D, "superseded")),
    }
    _snooze_audit(flags["B"], now - 79 * D)
    _snooze_audit(flags["B"], now - 75 * D)
    _snooze_audit(flags["E"], now - 39 * D)
    return flags


def _table(stat_rows) -> dict:
    return {row["rule"]: {k: v for k, v in row.items() if k != "rule"} for row in map(stats.as_row, stat_rows)}


# --- the figures ---------------------------------------------------------------------------------


def test_every_column_over_the_last_12_months(clinic, clinician_carol):
    period = stats.stats_period(None, None)
    rows = stats.flag_stats(clinician_carol, period)
    assert [row.rule for row in rows] == ["HEM-URGENT", "CLOT-BASELINE"]  # the review table's order
    assert _table(rows) == EXPECTED
    by_rule = {row.rule: row for row in rows}
    assert by_rule["CLOT-BASELINE"].median_to_acknowledge == 4 * H
    assert by_rule["HEM-URGENT"].median_to_acknowledge == 45 * timedelta(minutes=1)
    assert by_rule["CLOT-BASELINE"].resolved_total == 3


def test_a_shorter_period_counts_its_own_flags_and_earlier_resolutions(clinic, clinician_carol):
    # raised in the last 45 days: E, F, C, G. E is still a re-raise: D (resolved 15 days before) is older.
    period = stats.stats_period(timezone.localdate() - timedelta(days=45), None)
    table = _table(stats.flag_stats(clinician_carol, period))
    assert table == {
        "HEM-URGENT": figures(raised=2, escalated=1, acknowledged=1, median_hours_to_acknowledge=0.5,
                              resolved_superseded=1, open_past_due=1),
        "CLOT-BASELINE": figures(raised=2, snoozed=1, re_raised_30d=1, open_past_due=1),
    }  # fmt: skip


def test_one_rule(clinic, clinician_carol):
    rows = stats.flag_stats(clinician_carol, stats.stats_period(None, None), rule="HEM-URGENT")
    assert _table(rows) == {"HEM-URGENT": EXPECTED["HEM-URGENT"]}


def test_every_resolution_is_a_column(clinic):
    keys = [key for key, _ in stats.columns()]
    assert [k for k in keys if k.startswith("resolved_")] == [f"resolved_{v}" for v in Resolution.values]


def test_figures_are_scoped_by_flag_scope(clinic, patient_pat):
    # a patient's scope is their own flags (pages and API refuse patients before this anyway)
    pat_only = _table(stats.flag_stats(patient_pat.user, stats.stats_period(None, None)))
    assert pat_only["CLOT-BASELINE"]["raised"] == 3 and pat_only["HEM-URGENT"]["raised"] == 2


def test_chart_series_per_month_by_priority(clinic, clinician_carol):
    series = stats.raised_series(clinician_carol, stats.stats_period(None, None))
    assert sum(n for _, _, n in series) == 8
    assert {priority: sum(n for _, p, n in series if p == priority) for priority in ("routine", "urgent")} == {
        "routine": 5,
        "urgent": 3,
    }
    assert all(bucket.day == 1 for bucket, _, _ in series)  # months
    weekly = stats.raised_series(clinician_carol, stats.stats_period(timezone.localdate() - timedelta(days=45), None))
    assert all(bucket.weekday() == 0 for bucket, _, _ in weekly) and sum(n for *_, n in weekly) == 4


# --- the page, its CSV and chart ---------------------------------------------------------------------


def _page_rows(content: str) -> dict[str, list[str]]:
    rows = {}
    for rule, cells in re.findall(r'<tr><th scope="row">([^<]+)</th>(.*?)</tr>', content, flags=re.S):
        rows[rule] = re.findall(r"<td [^>]*>([^<]*)</td>", cells)
    return rows


def test_page_shows_the_figures_and_the_csv_matches(clinic, nina_client):
    response = nina_client.get(reverse("staff:alerts"))
    assert response.status_code == 200
    content = response.content.decode()
    assert content.count("<h1>") == 1 and "<caption>" in content and 'th scope="col"' in content
    page = _page_rows(content)
    keys = [key for key, _ in stats.columns()][1:]
    expected_cells = {rule: [str(figures[key]) for key in keys] for rule, figures in EXPECTED.items()}
    assert page == expected_cells
    assert 'src="/staff/alerts/chart.svg?from=' in content

    download = nina_client.get(reverse("staff:alerts_csv"))
    assert download.status_code == 200 and download["Content-Type"].startswith("text/csv")
    assert "attachment" in download["Content-Disposition"]
    lines = list(csv.reader(io.StringIO(download.content.decode())))
    assert lines[0] == [heading for _, heading in stats.columns()]
    assert {line[0]: line[1:] for line in lines[1:]} == expected_cells == page


def test_page_filters_by_rule_and_period(clinic, carol_client):
    today = timezone.localdate()
    query = {"from": (today - timedelta(days=45)).isoformat(), "to": today.isoformat(), "rule": "clot-baseline"}
    content = carol_client.get(reverse("staff:alerts"), query).content.decode()
    assert list(_page_rows(content)) == ["CLOT-BASELINE"]
    assert _page_rows(content)["CLOT-BASELINE"][0] == "2"
    csv_lines = carol_client.get(reverse("staff:alerts_csv"), query).content.decode().splitlines()
    assert len(csv_lines) == 2 and csv_lines[1].startswith("CLOT-BASELINE,2,")


def test_empty_period(clinician_carol, carol_client):
    content = carol_client.get(reverse("staff:alerts"), {"from": "2001-01-01", "to": "2001-12-31"}).content.decode()
    assert "No flags were raised in this period." in content


def test_chart_is_an_svg_under_its_own_policy(clinic, nina_client):
    response = nina_client.get(reverse("staff:alerts_chart"))
    assert response.status_code == 200 and response["Content-Type"] == "image/svg+xml"
    assert b"<svg" in response.content and b"Flags raised per month" in response.content
    assert "default-src 'none'" in response["Content-Security-Policy"]
    assert nina_client.get(reverse("staff:alerts_chart")).content == response.content  # cached, same bytes


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"from": "2026-13-01"}, "From"),
        ({"to": "yesterday"}, "To"),
        ({"from": "2026-03-01", "to": "2026-02-01"}, "To"),
        ({"from": "1850-01-01", "to": "2026-02-01"}, "From"),
        ({"rule": "<b>x</b>"}, "Rule"),
    ],
)
def test_page_refuses_a_bad_period_with_a_form_error(query, field, nina_client):
    response = nina_client.get(reverse("staff:alerts"), query)
    assert response.status_code == 200  # a form page: the form says what to correct
    content = response.content.decode()
    assert 'class="error-summary"' in content and f"{field}: " in content
    assert "<caption>" not in content  # no figures for a period that is not one
    assert nina_client.get(reverse("staff:alerts_csv"), query).status_code == 400
    assert nina_client.get(reverse("staff:alerts_chart"), query).status_code == 400


def test_page_roles(client, pat_client, carol_client, nina_client):
    assert carol_client.get(reverse("staff:alerts")).status_code == 200
    assert nina_client.get(reverse("staff:alerts")).status_code == 200
    for name in ("staff:alerts", "staff:alerts_csv", "staff:alerts_chart"):
        assert pat_client.get(reverse(name)).status_code == 403
        response = client.get(reverse(name))
        assert response.status_code == 302 and response["Location"].startswith(reverse("login"))


# --- the API ---------------------------------------------------------------------------------------


def test_api_gives_the_same_figures(clinic, nina_api):
    response = nina_api.get("/api/v1/flag-stats/")
    assert response.status_code == 200
    body = response.json()
    assert body["to"] == timezone.localdate().isoformat() and body["rule"] == ""
    assert body["from"] == stats.year_before(timezone.localdate()).isoformat()
    by_rule = {row["rule"]: row for row in body["results"]}
    for rule, figures in EXPECTED.items():
        row = by_rule[rule]
        assert row["median_seconds_to_acknowledge"] == figures["median_hours_to_acknowledge"] * 3600
        assert row["resolved"] == {v: figures[f"resolved_{v}"] for v in Resolution.values}
        for key in ("raised", "escalated", "acknowledged", "snoozed", "suppressed", "re_raised_30d", "open_past_due"):
            assert row[key] == figures[key], (rule, key)
    one = nina_api.get("/api/v1/flag-stats/", {"rule": "HEM-URGENT"}).json()
    assert [row["rule"] for row in one["results"]] == ["HEM-URGENT"]


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"from": "2026-13-01"}, "from"),
        ({"to": "not-a-date"}, "to"),
        ({"from": "2026-03-01", "to": "2026-02-01"}, "to"),
        ({"to": "2200-01-01"}, "to"),
        ({"rule": "x" * 30}, "rule"),
        ({"rule": "drop table"}, "rule"),
    ],
)
def test_api_refuses_a_bad_period_naming_the_field(query, field, carol_api):
    response = carol_api.get("/api/v1/flag-stats/", query)
    assert response.status_code == 400
    assert field in response.json()


def test_api_roles(anon, pat_api, admin_api):
    assert anon.get("/api/v1/flag-stats/").status_code == 401
    assert pat_api.get("/api/v1/flag-stats/").status_code == 403
    assert admin_api.get("/api/v1/flag-stats/").status_code == 200


# --- constant queries ---------------------------------------------------------------------------------


def _many_flags(n: int) -> None:
    """n patients, each with a resolved, snoozed-once flag and a re-raised open one, over two rules."""
    now = timezone.now()
    patients = Patient.objects.bulk_create(
        Patient(mrn=f"GOV-{n}-{i}", given_name="G", family_name=f"F{i}", date_of_birth=date(1970, 1, 1), sex="female",
                height_cm=170, weight_kg=70, weight_measured_on=date(2025, 1, 1), diagnosis="cidp",
                site=Site.objects.default())
        for i in range(n)
    )  # fmt: skip
    for i, patient in enumerate(patients):
        rule = CLOT if i % 2 else {"kind": "data_quality", "rule": "WEIGHT-STALE", "priority": "routine"}
        first = make_flag(patient, **rule, raised_at=now - 50 * D, acknowledged_at=now - 49 * D,
                          **_resolved(now - 40 * D, "declined"))  # fmt: skip
        _snooze_audit(first, now - 45 * D)
        make_flag(patient, **rule, raised_at=now - 30 * D, due_at=now - D)


def _queries(client, path: str) -> int:
    client.get(path)  # warm (content types, the session)
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(path).status_code == 200
    return len(ctx.captured_queries)


def test_page_and_api_queries_are_constant_in_the_flags(carol_client, carol_api, django_assert_max_num_queries):
    counts = []
    for n in (3, 30):
        _many_flags(n)
        # session, user, the user's sites, the stats (+ the medians on SQLite), the session saved
        # (savepoint, update, release)
        with django_assert_max_num_queries(8):
            page = carol_client.get(reverse("staff:alerts"))
        assert _page_rows(page.content.decode())["CLOT-BASELINE"][0] == str(ReviewFlag.objects.filter(
            rule="CLOT-BASELINE").count())  # fmt: skip
        with django_assert_max_num_queries(6):  # token, sites, the stats (+ medians on SQLite), the audit row
            assert carol_api.get("/api/v1/flag-stats/").status_code == 200
        counts.append(
            (
                _queries(carol_client, reverse("staff:alerts")),
                _queries(carol_api, "/api/v1/flag-stats/"),
                _queries(carol_client, reverse("staff:alerts_csv")),
                _queries(carol_client, reverse("staff:alerts_chart")),
            )
        )
    assert counts[0] == counts[1]
