"""What ITRS-v1 makes of one medication course: does it score, and why (risk/README.md, P7, P8).

The engine's P7 and P8 (`itrs.v1`) and the API's ``scored`` / ``scored_because`` both call
`med_scoring`, so the page, the API and the score say the same thing.
"""

from __future__ import annotations

from itrs.types import MedSnap

SYSTEMIC_ROUTES = frozenset({"oral", "intravenous", "intramuscular"})
FULL_ANTICOAGULATION = frozenset({"therapeutic", "extended"})

# P7, 2 points: classes that score, with the reason shown
P7_SCORES = {
    "combined_hormonal_contraceptive": "combined hormonal contraception (any route): P7, combined pill RR 3.8 [R48]",
    "oral_hrt": "oral menopausal hormone therapy: P7, oral estrogen OR ~4.2 (ESTHER) [N4]",
    "serm": "selective estrogen receptor modulator: P7, tamoxifen PE RR ~3, raloxifene VTE RR ~3.1 [N2]",
    "imid": "thalidomide-class IMiD: P7, VTE in up to 26% in myeloma without prophylaxis [N3]",
}
# recorded, not scored under P7, with the reason
P7_NOT_SCORED = {
    "transdermal_hrt": "transdermal estradiol for menopause: no VTE excess in observational studies "
    "(ESTHER, OR ~0.9) [N4]",
    "vaginal_estrogen": "vaginal (local) estradiol: local dose, no VTE excess [N4]",
    "progestogen_only": "progestogen-only contraception: not an estrogen, not scored under P7",
}
ROUTE_WORDS = {
    "inhaled": "inhaled",
    "topical": "topical",
    "intra_articular": "intra-articular",
    "rectal": "rectal",
    "transdermal": "transdermal",
    "vaginal": "vaginal",
    "subcutaneous": "subcutaneous",
}
UNCODED = "free text, not in the drug dictionary: needs coding; it scores nothing until it is coded"


def p7_scores(m: MedSnap) -> bool:
    """An estrogen or thrombogenic course that counts under P7 (a free-text class of an
    estrogen course stored before the dictionary counts, as in ITRS-v0)."""
    if m.category not in ("estrogen", "thrombogenic"):
        return False
    return m.drug_class in P7_SCORES or (m.drug_class == "" and m.category == "estrogen")


def steroid_route(m: MedSnap) -> str:
    """systemic | local | unknown"""
    if not m.route:
        return "unknown"
    return "systemic" if m.route in SYSTEMIC_ROUTES else "local"


def med_scoring(m: MedSnap) -> tuple[bool, str]:
    """(scored, why) for one course under ITRS-v1. "Scored" means the course enters a rule;
    whether it adds points now also depends on its dates (P8 timing)."""
    if m.category == "other":
        return False, UNCODED
    if m.category in ("estrogen", "thrombogenic"):
        if p7_scores(m):
            return True, P7_SCORES.get(m.drug_class, "estrogen-containing therapy: P7 [R48]")
        return False, P7_NOT_SCORED.get(m.drug_class, "not a P7 class")
    if m.category == "steroid":
        route = steroid_route(m)
        if route == "systemic":
            eq = m.prednisolone_eq_mg_per_day
            dose = f", {eq:g} mg/day prednisolone equivalent" if eq is not None else ""
            return True, f"systemic glucocorticoid ({m.route}{dose}): P8 by time since start [R45][R46][N5]"
        if route == "local":
            words = ROUTE_WORDS.get(m.route, m.route.replace("_", " "))
            return False, f"{words} glucocorticoid: P8 scores systemic routes (oral, intravenous, intramuscular) only"
        return False, "route not recorded: P8 cannot be assessed until it is (the score is provisional)"
    if m.category == "anticoagulant":
        if m.intensity in FULL_ANTICOAGULATION:
            return True, (
                f"{m.intensity} anticoagulation: lifts override (b) after a VTE; adds no points"
                + ("; VTE anticoagulation reviews apply" if m.indication in ("vte_treatment", "") else "")
            )
        return False, "prophylactic anticoagulation: recorded, does not lower the score (no validated effect) [R28]"
    if m.category == "antiplatelet":
        return False, "antiplatelet: recorded, does not lower the score (no validated effect for IVIG) [R28]"
    if m.category == "diuretic":
        return True, "current diuretic: S4, 1 point [R15]"
    return False, "not a category the score uses"
