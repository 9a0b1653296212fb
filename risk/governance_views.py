"""Alert governance pages (DESIGN §6a): per rule over a period, what became of the flags it raised
(risk.stats), as a table, a weekly chart and a CSV download."""

from __future__ import annotations

import csv
from urllib.parse import urlencode

from csp.decorators import csp
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache

from ivigtrack.web.decorators import staff_required

from . import charts, stats
from .forms import AlertPeriodForm
from .views import SVG_POLICY


def _governance_filters(request: HttpRequest) -> tuple[AlertPeriodForm, stats.Period | None, str]:
    """The form (the last 12 months filled in when no date was given), and its period and rule
    when valid."""
    data = request.GET.copy()
    if not data.get("from") and not data.get("to"):
        default = stats.stats_period(None, None)
        data["from"], data["to"] = default.first.isoformat(), default.last.isoformat()
    form = AlertPeriodForm(data)
    if not form.is_valid():
        return form, None, ""
    return form, form.cleaned_data["period"], form.cleaned_data["rule"]


def _governance_query(period: stats.Period, rule: str) -> str:
    return urlencode({"from": period.first.isoformat(), "to": period.last.isoformat(), "rule": rule})


@never_cache
@staff_required
def alerts(request: HttpRequest) -> HttpResponse:
    """Per rule, what became of the flags raised in the period (risk.stats), with a chart of
    flags raised over time and the same table as CSV. A bad period is a form error, as on every
    form page (the CSV and the chart answer 400)."""
    form, period, rule = _governance_filters(request)
    if period is None:
        return render(request, "risk/alerts.html", {"form": form})  # the form says what to correct
    columns = stats.columns()
    rows = [
        [(heading, row[key]) for key, heading in columns]
        for row in map(stats.as_row, stats.flag_stats(request.user, period, rule=rule))
    ]
    headings = [heading for _, heading in columns]
    resolved = [i for i, (key, _) in enumerate(columns) if key.startswith("resolved_")]
    context = {
        "form": form,
        "period": period,
        "rule": rule,
        "headings": headings,
        # two header rows: "Resolved" over one column per resolution
        "head_before": headings[: resolved[0]],
        "head_resolved": [headings[i].removeprefix("Resolved: ") for i in resolved],
        "head_after": headings[resolved[-1] + 1 :],
        "rows": rows,
        "query": _governance_query(period, rule),
        "re_raise_days": stats.RE_RAISE_DAYS,
    }
    return render(request, "risk/alerts.html", context)


def _csv_cell(value) -> str:
    text = "" if value is None else str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@") else text  # never a formula in a spreadsheet


@never_cache
@staff_required
def alerts_csv(request: HttpRequest) -> HttpResponse:
    """The alert governance table as CSV: the page's columns and numbers."""
    form, period, rule = _governance_filters(request)
    if period is None:
        errors = "; ".join(f"{name}: {' '.join(errs)}" for name, errs in form.errors.items())
        return HttpResponse(errors, status=400, content_type="text/plain; charset=utf-8")
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    name = f"alert-governance-{period.first:%Y%m%d}-{period.last:%Y%m%d}{'-' + rule if rule else ''}.csv"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    columns = stats.columns()
    writer = csv.writer(response)
    writer.writerow([heading for _, heading in columns])
    for row in map(stats.as_row, stats.flag_stats(request.user, period, rule=rule)):
        writer.writerow([_csv_cell(row[key]) for key, _ in columns])
    return response


@never_cache
@staff_required
@csp(SVG_POLICY)
def alerts_chart(request: HttpRequest) -> HttpResponse:
    form, period, rule = _governance_filters(request)
    if period is None:
        return HttpResponse("Bad period.", status=400, content_type="text/plain")
    series = stats.raised_series(request.user, period, rule=rule)
    svg = charts.cached_raised_svg(series, period.first, period.last, period.weekly)
    return HttpResponse(svg, content_type="image/svg+xml")
