"""The clinicians' ruleset comparison page (`/staff/rulesets/`): every active patient the user
may see scored under two rulesets as of now, nothing stored (risk.compare)."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache

from itrs import rulesets
from ivigtrack.audit.services import audit_record
from ivigtrack.web.decorators import clinician_required
from patients.selectors import patient_scope
from risk.compare import TIERS, compare


@never_cache
@clinician_required
def rulesets_page(request: HttpRequest) -> HttpResponse:
    names = rulesets.names()
    old = request.GET.get("old") or names[0]
    new = request.GET.get("new") or rulesets.CURRENT
    if old not in names or new not in names:
        return render(
            request,
            "risk/rulesets.html",
            {"names": names, "old": old, "new": new, "error": f"Choose two of: {', '.join(names)}."},
            status=400,
        )
    ids = list(patient_scope(request.user).filter(active=True).order_by("id").values_list("id", flat=True))
    result = compare(old, new, patient_ids=ids)
    # a staff read of the patients listed (their names and tiers)
    audit_record(
        actor=request.user, action="rulesets.compare", detail={"old": old, "new": new, "changed": len(result.changed)}
    )
    context = {
        "names": names,
        "old": old,
        "new": new,
        "result": result,
        "tiers": TIERS,
        "rows": result.rows(),
        "column_totals": result.column_totals(),
        "factor_rows": result.factors.most_common(),
        "old_summary": rulesets.get(old).summary,
        "new_summary": rulesets.get(new).summary,
    }
    return render(request, "risk/rulesets.html", context)
