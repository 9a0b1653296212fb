"""Server-rendered SVG charts (matplotlib, Agg backend, no JavaScript): two for the patient page
and one for the alert governance page.

The patient page's two charts, over the last 12 months:
- the timeline: IVIG doses in g/kg per day, steroid / estrogen / anticoagulant periods, central
  lines in place, thrombosis events and clotting-study results, on one shared date axis;
- the ITRS score over time, from the stored RiskAssessment history, on the tier bands.

They are drawn in black, greys and a few colours that stay apart in greyscale (hatching and
marker shapes carry the meaning too), so a printed page reads the same. Each SVG is cached per
patient, day and data version (one query over the patient's tables), so a page view after no
change costs one query and no drawing.

The alert governance chart (flags raised per week or month, stacked by priority) is cached by
its data: the series (one aggregate query, risk.stats.raised_series) is the key.
"""

from __future__ import annotations

import hashlib
import io
from collections import defaultdict
from datetime import date, datetime, time, timedelta

import matplotlib

matplotlib.use("Agg")  # no display; we never import pyplot

import matplotlib.dates as mdates  # noqa: E402
from django.core.cache import cache  # noqa: E402
from django.db.models import Count, Max, OuterRef, Q, Subquery  # noqa: E402
from django.utils import timezone  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.lines import Line2D  # noqa: E402
from matplotlib.patches import Patch  # noqa: E402

from infusions.models import Infusion, MedicationCourse, Regimen  # noqa: E402
from patients.lab_ranges import reference_mark  # noqa: E402
from patients.models import LabResult, Patient, ThrombosisEvent, VascularAccess  # noqa: E402

from .models import RiskAssessment  # noqa: E402

CHART_VERSION = 1  # bump when the drawing changes, so cached SVGs are redrawn
WINDOW_DAYS = 365
AHEAD_DAYS = 35  # upcoming planned courses are drawn past "today"
CACHE_SECONDS = 24 * 3600

INK = "#1d2733"
GRID = "#d5dbe1"
DOSE = "#1f4e79"
STOPPED = "#b5651d"
PERIOD_STYLE = {
    # lane: (face colour, hatch)
    "Central line / port": ("#7f8c99", ".."),
    "Steroid": ("#7b5ea7", "//"),
    "Estrogen": ("#c0508a", "\\\\"),
    "Anticoagulant": ("#2e7d4f", "xx"),
}
MED_LANES = {"steroid": "Steroid", "estrogen": "Estrogen", "anticoagulant": "Anticoagulant"}
EVENT_LANE = "Thrombosis"
EVENT_SHORT = {
    "dvt": "DVT",
    "pe": "PE",
    "upper_extremity_dvt": "Arm DVT",
    "jugular_vein": "Jugular",
    "cerebral_venous": "CVT",
    "splanchnic": "Splanchnic",
    "retinal_vein": "RVO",
    "mi": "MI",
    "ischemic_stroke": "Stroke",
    "tia": "TIA",
    "peripheral_arterial": "Arterial",
}
# Clotting studies, top to bottom; each point is marked against patients.lab_ranges (the lab's
# own limit when it gave one, else the typical adult range of docs/labs.md; display only).
CLOTTING_TESTS = [
    ("pt", "PT (s)"),
    ("inr", "INR"),
    ("aptt", "aPTT (s)"),
    ("fibrinogen", "Fibrinogen (g/L)"),
    ("d_dimer", "D-dimer (mg/L FEU)"),
    ("platelets", "Platelets (10⁹/L)"),
]
TIER_BANDS = [("Low", 0, 3.5, "#e3f1e6"), ("Moderate", 3.5, 6.5, "#fbefd5"), ("High", 6.5, 99, "#f7dcdc")]

RC = {
    "svg.fonttype": "none",  # text stays text: small files, crisp when printed, selectable
    "svg.hashsalt": "ivigtrack",  # stable ids, so the same data gives the same bytes
    "font.family": "sans-serif",
    "font.sans-serif": ["DejaVu Sans", "Arial", "Helvetica"],
    "font.size": 9,
    "axes.edgecolor": INK,
    "axes.labelcolor": INK,
    "xtick.color": INK,
    "ytick.color": INK,
    "hatch.linewidth": 0.6,
}


# --- cache ---------------------------------------------------------------------------------


def data_version(patient: Patient) -> str:
    """A fingerprint of everything the charts draw, in one query: per table the row count (so
    deletes count) and the latest update time, plus the patient row (weight)."""
    annotations = {}
    for name, model in (
        ("inf", Infusion),
        ("med", MedicationCourse),
        ("reg", Regimen),
        ("acc", VascularAccess),
        ("evt", ThrombosisEvent),
        ("lab", LabResult),
        ("ra", RiskAssessment),
    ):
        rows = model.objects.filter(patient=OuterRef("pk")).order_by().values("patient")
        annotations[f"{name}_n"] = Subquery(rows.annotate(n=Count("pk")).values("n")[:1])
        annotations[f"{name}_t"] = Subquery(rows.annotate(t=Max("updated_at")).values("t")[:1])
    row = type(patient).objects.filter(pk=patient.pk).annotate(**annotations).values("updated_at", *annotations).get()
    return hashlib.sha256(repr(sorted(row.items())).encode()).hexdigest()[:20]


def cached_svg(kind: str, patient: Patient, today: date | None = None) -> bytes:
    today = today or timezone.localdate()
    key = f"ivigtrack:chart:{CHART_VERSION}:{kind}:{patient.pk}:{today.isoformat()}:{data_version(patient)}"
    svg = cache.get(key)
    if svg is None:
        svg = RENDERERS[kind](patient, today)
        cache.set(key, svg, CACHE_SECONDS)
    return svg


# --- helpers -------------------------------------------------------------------------------


def _window(today: date) -> tuple[date, date]:
    return today - timedelta(days=WINDOW_DAYS), today + timedelta(days=AHEAD_DAYS)


def _start_of(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


def _num(value: float) -> str:
    return f"{value:.3g}" if value < 10 else f"{value:.0f}"


def _to_svg(fig: Figure) -> bytes:
    buffer = io.BytesIO()
    with matplotlib.rc_context(RC):
        fig.savefig(buffer, format="svg", metadata={"Date": None}, facecolor="white")
    return buffer.getvalue()


def _date_axis(ax, start: date, end: date, today: date) -> None:
    ax.set_xlim(start, end)
    locator = mdates.MonthLocator()
    ax.xaxis.set_major_locator(locator)
    ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator))
    ax.axvline(today, color=INK, linestyle="--", linewidth=0.9)
    ax.grid(axis="x", color=GRID, linewidth=0.6)
    ax.set_axisbelow(True)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)


def _empty_note(ax, text: str) -> None:
    ax.text(0.5, 0.5, text, transform=ax.transAxes, ha="center", va="center", color="#5a6672", style="italic")


# --- timeline ------------------------------------------------------------------------------


def timeline_data(patient: Patient, today: date) -> dict:
    start, end = _window(today)
    since = _start_of(start)
    weight = float(patient.weight_kg) if patient.weight_kg else None

    doses: dict[tuple[date, str], float] = defaultdict(float)
    no_weight = set()
    for started_at, grams, used, status in Infusion.objects.filter(
        patient=patient, started_at__gte=since, started_at__lt=_start_of(end)
    ).values_list("started_at", "dose_grams", "weight_kg_used", "status"):
        day = timezone.localdate(started_at)
        kg = float(used) if used else weight
        if not kg:
            no_weight.add(day)
            continue
        doses[(day, status)] += float(grams) / kg

    upcoming = []
    for regimen in Regimen.objects.filter(patient=patient).filter(Q(end_date__isnull=True) | Q(end_date__gte=today)):
        per_kg = regimen.dose_g_per_kg_per_day
        if per_kg is None and regimen.dose_grams_per_day is not None and weight:
            per_kg = float(regimen.dose_grams_per_day) / weight
        if per_kg is None:
            continue
        for course in regimen.next_course_dates(today + timedelta(days=1), count=6):
            upcoming.extend((day, float(per_kg)) for day in course if day <= end)

    periods: dict[str, list[tuple[date, date | None, str]]] = defaultdict(list)
    for access in VascularAccess.objects.filter(patient=patient).filter(
        Q(removed_on__isnull=True) | Q(removed_on__gte=start)
    ):
        periods["Central line / port"].append((access.inserted_on, access.removed_on, access.get_kind_display()))
    for course in MedicationCourse.objects.filter(patient=patient, category__in=list(MED_LANES)).filter(
        Q(end_date__isnull=True) | Q(end_date__gte=start)
    ):
        dose = f" {course.dose_label}" if course.dose is not None else ""
        periods[MED_LANES[course.category]].append((course.start_date, course.end_date, f"{course.drug_name}{dose}"))

    events = list(
        ThrombosisEvent.objects.filter(patient=patient, diagnosed_on__gte=start).values_list(
            "diagnosed_on", "kind", "status"
        )
    )
    labs = list(
        LabResult.objects.filter(
            patient=patient, test__in=[t for t, _ in CLOTTING_TESTS], collected_at__gte=since
        ).values_list("test", "collected_at", "value", "reference_high", "needs_verification")
    )
    return {
        "doses": dict(doses),
        "no_weight_days": sorted(no_weight),
        "upcoming": upcoming,
        "periods": dict(periods),
        "events": events,
        "labs": labs,
    }


def render_timeline(patient: Patient, today: date) -> bytes:
    data = timeline_data(patient, today)
    start, end = _window(today)
    with matplotlib.rc_context(RC):
        fig = Figure(figsize=(10, 7.4), layout="constrained")
        ax_dose, ax_periods, ax_labs = fig.subplots(3, 1, sharex=True, gridspec_kw={"height_ratios": [2.1, 1.9, 2.3]})
        _draw_doses(ax_dose, data, today)
        _draw_periods(ax_periods, data, start, end, today)
        _draw_labs(ax_labs, data)
        for ax in (ax_dose, ax_periods, ax_labs):
            _date_axis(ax, start, end, today)
        ax_dose.annotate(
            "today", (today, 1), xycoords=("data", "axes fraction"), xytext=(3, -2),
            textcoords="offset points", va="top", fontsize=8,
        )  # fmt: skip
        return _to_svg(fig)


def _draw_doses(ax, data: dict, today: date) -> None:
    ax.set_title("IVIG dose per day (g/kg)", loc="left", fontsize=10, fontweight="bold", color=INK)
    styles = {
        "administered": {"color": DOSE, "edgecolor": DOSE, "label": "Given"},
        "stopped": {"color": "white", "edgecolor": STOPPED, "hatch": "////", "label": "Stopped early"},
        "planned": {"color": "white", "edgecolor": DOSE, "hatch": "....", "label": "Planned (recorded)"},
    }
    drawn = []
    for status, style in styles.items():
        days = [(day, dose) for (day, s), dose in data["doses"].items() if s == status]
        if days:
            ax.bar([d for d, _ in days], [v for _, v in days], width=1.6, linewidth=0.8, **style)
            drawn.append(status)
    if data["upcoming"]:
        ax.bar(
            [d for d, _ in data["upcoming"]], [v for _, v in data["upcoming"]], width=1.6,
            color="white", edgecolor="#5a6672", linestyle="--", linewidth=0.8, label="Next courses (regimen)",
        )  # fmt: skip
        drawn.append("upcoming")
    values = [v for v in data["doses"].values()] + [v for _, v in data["upcoming"]]
    ax.set_ylim(0, max([1.0, *values]) * 1.25)
    ax.set_ylabel("g/kg")
    ax.grid(axis="y", color=GRID, linewidth=0.6)
    if drawn:
        ax.legend(loc="upper left", fontsize=8, frameon=False, ncol=4)
    else:
        _empty_note(ax, "No infusions in the last 12 months")
    if data["no_weight_days"]:
        ax.text(
            0.995, 0.97, f"{len(data['no_weight_days'])} infusion day(s) without a weight: not drawn",
            transform=ax.transAxes, ha="right", va="top", fontsize=8, color=STOPPED,
        )  # fmt: skip


def _draw_periods(ax, data: dict, start: date, end: date, today: date) -> None:
    ax.set_title("Medicines, lines and thrombosis events", loc="left", fontsize=10, fontweight="bold", color=INK)
    lanes = [*PERIOD_STYLE, EVENT_LANE]
    y_of = {lane: len(lanes) - 1 - i for i, lane in enumerate(lanes)}
    span_days = (end - start).days
    for lane, (colour, hatch) in PERIOD_STYLE.items():
        for begin, finish, label in data["periods"].get(lane, []):
            left = max(begin, start)
            right = min(finish or end, end)
            if right < left:
                continue
            width = max((right - left).days, 1)
            ax.broken_barh(
                [(mdates.date2num(left), width)], (y_of[lane] - 0.32, 0.64),
                facecolors=colour, edgecolor=INK, linewidth=0.5, hatch=hatch, alpha=0.85,
            )  # fmt: skip
            if width > span_days * 0.08:
                ax.text(
                    mdates.date2num(left) + 2, y_of[lane], label + ("" if finish else " (ongoing)"),
                    va="center", ha="left", fontsize=7.5, color="white",
                    bbox={"boxstyle": "square,pad=0.15", "facecolor": INK, "edgecolor": "none", "alpha": 0.75},
                )  # fmt: skip
    styles = {
        "confirmed": {"marker": "X", "color": "#b3261e", "markersize": 10},
        "suspected": {"marker": "o", "markerfacecolor": "white", "color": "#b3261e", "markersize": 9},
        "ruled_out": {"marker": "o", "markerfacecolor": "white", "color": "#7f8c99", "markersize": 8},
    }
    same_day = defaultdict(list)
    for diagnosed_on, kind, status in data["events"]:
        same_day[(diagnosed_on, status)].append(EVENT_SHORT.get(kind, kind))
    for (diagnosed_on, status), kinds in sorted(same_day.items()):
        ax.plot([diagnosed_on], [y_of[EVENT_LANE]], linestyle="none", markeredgewidth=1.5, **styles[status])
        near_end = (end - diagnosed_on).days < span_days * 0.2
        ax.annotate(
            f"{', '.join(kinds)} ({status.replace('_', ' ')})", (diagnosed_on, y_of[EVENT_LANE]),
            xytext=(-7 if near_end else 7, 0), textcoords="offset points", va="center",
            ha="right" if near_end else "left", fontsize=7.5, color=INK,
        )  # fmt: skip
    ax.set_yticks(list(y_of.values()), list(y_of))
    ax.set_ylim(-0.7, len(lanes) - 0.3)
    ax.tick_params(axis="y", length=0)
    if not data["periods"] and not data["events"]:
        _empty_note(ax, "No steroid, estrogen or anticoagulant courses, lines or thrombosis events in this period")
    handles = [
        Line2D([], [], linestyle="none", marker="X", color="#b3261e", markersize=8, label="Thrombosis confirmed"),
        Line2D([], [], linestyle="none", marker="o", markerfacecolor="white", color="#b3261e", label="suspected"),
        Line2D([], [], linestyle="none", marker="o", markerfacecolor="white", color="#7f8c99", label="ruled out"),
    ]
    if data["events"]:
        ax.legend(handles=handles, loc="lower right", bbox_to_anchor=(1, 1), fontsize=7.5, frameon=False, ncol=3)


def _draw_labs(ax, data: dict) -> None:
    ax.set_title(
        "Clotting studies (filled red = outside the typical range or the lab's limit)",
        loc="left", fontsize=10, fontweight="bold", color=INK,
    )  # fmt: skip
    y_of = {test: len(CLOTTING_TESTS) - 1 - i for i, (test, _) in enumerate(CLOTTING_TESTS)}
    by_test = defaultdict(list)
    for test, collected_at, value, reference_high, doubtful in data["labs"]:
        by_test[test].append((timezone.localdate(collected_at), value, reference_high, doubtful))
    for test, rows in by_test.items():
        crowded = len(rows) > 16
        for day, value, reference_high, doubtful in rows:
            abnormal = bool(reference_mark(test, value, high=reference_high))
            if doubtful:
                style = {"marker": "D", "markerfacecolor": "white", "color": STOPPED}
            elif abnormal:
                style = {"marker": "o", "markerfacecolor": "#b3261e", "color": "#b3261e"}
            else:
                style = {"marker": "o", "markerfacecolor": "white", "color": INK}
            ax.plot([day], [y_of[test]], linestyle="none", markersize=6, markeredgewidth=1.2, **style)
            if abnormal or doubtful or not crowded:
                ax.annotate(
                    _num(value) + ("?" if doubtful else ""), (day, y_of[test]), xytext=(0, 6),
                    textcoords="offset points", ha="center", fontsize=7, color=INK,
                )  # fmt: skip
    ax.set_yticks(list(y_of.values()), [label for _, label in CLOTTING_TESTS])
    ax.set_ylim(-0.6, len(CLOTTING_TESTS) - 0.2)
    ax.tick_params(axis="y", length=0)
    if not by_test:
        _empty_note(ax, "No clotting studies in the last 12 months")
    elif any(row[4] for row in data["labs"]):
        ax.legend(
            handles=[Line2D([], [], linestyle="none", marker="D", markerfacecolor="white", color=STOPPED,
                            label="needs verification (not used)")],
            loc="lower right", fontsize=7.5, frameon=False,
        )  # fmt: skip


# --- score ---------------------------------------------------------------------------------


def score_data(patient: Patient, today: date) -> list[tuple[datetime, int, str, bool]]:
    start = _start_of(today - timedelta(days=WINDOW_DAYS))
    fields = ("assessed_at", "score", "tier", "provisional")
    rows = list(
        RiskAssessment.objects.filter(patient=patient, assessed_at__gte=start)
        .order_by("assessed_at", "id")
        .values_list(*fields)
    )
    before = (
        RiskAssessment.objects.filter(patient=patient, assessed_at__lt=start)
        .order_by("-assessed_at", "-id")
        .values_list(*fields)
        .first()
    )
    if before is not None:  # the score in force when the window opens
        rows.insert(0, (start, *before[1:]))
    return rows


def render_score(patient: Patient, today: date) -> bytes:
    rows = score_data(patient, today)
    start, end = _window(today)
    with matplotlib.rc_context(RC):
        fig = Figure(figsize=(10, 2.9), layout="constrained")
        ax = fig.subplots()
        ax.set_title("ITRS score over time (tier bands)", loc="left", fontsize=10, fontweight="bold", color=INK)
        top = max([10, *[r[1] + 2 for r in rows]])
        for label, low, high, colour in TIER_BANDS:
            ax.axhspan(low, min(high, top), color=colour, linewidth=0)
            ax.text(end, (low + min(high, top)) / 2, f" {label}", va="center", ha="left", fontsize=8, color=INK)
        if rows:
            xs = [timezone.localtime(r[0]) for r in rows] + [timezone.now()]
            ys = [r[1] for r in rows] + [rows[-1][1]]
            ax.step(xs, ys, where="post", color=INK, linewidth=1.6)
            for at, score, _tier, provisional in rows:
                face = "white" if provisional else INK
                ax.plot([timezone.localtime(at)], [score], marker="o", markersize=5, color=INK, markerfacecolor=face)
            ax.legend(
                handles=[
                    Line2D([], [], marker="o", color=INK, linestyle="none", label="assessment"),
                    Line2D([], [], marker="o", color=INK, markerfacecolor="white", linestyle="none",
                           label="provisional (incomplete data)"),
                    Patch(facecolor="white", edgecolor="white", label=f"current: {rows[-1][1]} ({rows[-1][2]})"),
                ],
                loc="upper left", fontsize=8, frameon=False, ncol=3,
            )  # fmt: skip
        else:
            _empty_note(ax, "No assessments yet")
        ax.set_ylim(0, top)
        ax.set_ylabel("points")
        _date_axis(ax, start, end, today)
        return _to_svg(fig)


RENDERERS = {"timeline": render_timeline, "score": render_score}


# --- alert governance ----------------------------------------------------------------------

PRIORITY_STYLE = {
    # priority: (face colour, hatch), drawn bottom to top
    "routine": ("#9fb3c8", ""),
    "urgent": ("#d08a2f", "//"),
    "emergency": ("#b3261e", "xx"),
}


def cached_raised_svg(series: list[tuple[date, str, int]], first: date, last: date, weekly: bool) -> bytes:
    """The "flags raised" chart of this series, drawn once per distinct series and period."""
    digest = hashlib.sha256(repr((series, first, last, weekly)).encode()).hexdigest()[:24]
    key = f"ivigtrack:chart:{CHART_VERSION}:raised:{digest}"
    svg = cache.get(key)
    if svg is None:
        svg = render_raised(series, first, last, weekly)
        cache.set(key, svg, CACHE_SECONDS)
    return svg


def render_raised(series: list[tuple[date, str, int]], first: date, last: date, weekly: bool) -> bytes:
    per_priority: dict[str, dict[date, int]] = defaultdict(dict)
    for bucket, priority, n in series:
        per_priority[priority][bucket] = n
    buckets = sorted({bucket for bucket, _, _ in series})
    with matplotlib.rc_context(RC):
        fig = Figure(figsize=(10, 3.2), layout="constrained")
        ax = fig.subplots()
        step = "week" if weekly else "month"
        ax.set_title(f"Flags raised per {step}, by priority", loc="left", fontsize=10, fontweight="bold", color=INK)
        bottom = [0] * len(buckets)
        for priority, (colour, hatch) in PRIORITY_STYLE.items():
            heights = [per_priority[priority].get(bucket, 0) for bucket in buckets]
            if any(heights):
                ax.bar(
                    buckets, heights, bottom=bottom, width=5 if weekly else 24, align="edge", color=colour,
                    edgecolor=INK, linewidth=0.5, hatch=hatch, label=priority.capitalize(),
                )  # fmt: skip
                bottom = [b + h for b, h in zip(bottom, heights, strict=True)]
        ax.set_xlim(first, last + timedelta(days=1))
        locator = mdates.AutoDateLocator(maxticks=14)
        ax.xaxis.set_major_locator(locator)
        ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator))
        ax.yaxis.get_major_locator().set_params(integer=True)
        ax.set_ylabel("flags")
        ax.grid(axis="y", color=GRID, linewidth=0.6)
        ax.set_axisbelow(True)
        for side in ("top", "right"):
            ax.spines[side].set_visible(False)
        if buckets:
            ax.legend(loc="upper left", fontsize=8, frameon=False, ncol=3)
        else:
            _empty_note(ax, "No flags raised in this period")
        return _to_svg(fig)
