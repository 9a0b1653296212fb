"""The drug dictionary as first seeded (migration 0005); the admin extends it.

Each entry: name, category, class, ATC code, prednisolone factor (glucocorticoids: mg of
prednisolone equivalent to 1 mg of the drug), default unit, synonyms (brand and other names).
What each class means for the score is in risk/README.md (P7, P8, S4, anticoagulation).

Sources: ATC codes from the WHO Collaborating Centre for Drug Statistics ATC/DDD index;
glucocorticoid equivalence from the BNF "Glucocorticoid therapy" table (prednisolone 5 mg =
prednisone 5 mg = methylprednisolone 4 mg = hydrocortisone 20 mg = dexamethasone 750 µg =
betamethasone 750 µg; deflazacort 6 mg). Budesonide has no BNF equivalence: it acts mostly where
it is given (inhaled, intestinal), so no prednisolone equivalent is computed for it.
"""

from __future__ import annotations

from decimal import Decimal

# (name, category, drug_class, atc_code, prednisolone_factor, default_unit, synonyms)
DRUGS: tuple[tuple, ...] = (
    # --- anticoagulants ---
    ("apixaban", "anticoagulant", "doac", "B01AF02", None, "mg", ["Eliquis"]),
    ("rivaroxaban", "anticoagulant", "doac", "B01AF01", None, "mg", ["Xarelto"]),
    ("edoxaban", "anticoagulant", "doac", "B01AF03", None, "mg", ["Lixiana", "Savaysa"]),
    ("dabigatran", "anticoagulant", "doac", "B01AE07", None, "mg", ["Pradaxa", "Pradax", "dabigatran etexilate"]),
    ("warfarin", "anticoagulant", "vka", "B01AA03", None, "mg", ["Coumadin", "Marevan", "Jantoven"]),
    ("acenocoumarol", "anticoagulant", "vka", "B01AA07", None, "mg", ["Sintrom", "Sinthrome"]),
    ("phenprocoumon", "anticoagulant", "vka", "B01AA04", None, "mg", ["Marcumar", "Falithrom"]),
    ("enoxaparin", "anticoagulant", "lmwh", "B01AB05", None, "mg", ["Clexane", "Lovenox", "Inhixa"]),
    ("dalteparin", "anticoagulant", "lmwh", "B01AB04", None, "mg", ["Fragmin"]),
    ("tinzaparin", "anticoagulant", "lmwh", "B01AB10", None, "mg", ["Innohep"]),
    (
        "unfractionated heparin",
        "anticoagulant",
        "ufh",
        "B01AB01",
        None,
        "mg",
        ["heparin", "heparin sodium", "UFH"],
    ),
    ("fondaparinux", "anticoagulant", "fondaparinux", "B01AX05", None, "mg", ["Arixtra"]),
    # --- antiplatelets ---
    ("aspirin", "antiplatelet", "cox_inhibitor", "B01AC06", None, "mg", ["acetylsalicylic acid", "ASA"]),
    ("clopidogrel", "antiplatelet", "p2y12_inhibitor", "B01AC04", None, "mg", ["Plavix"]),
    ("prasugrel", "antiplatelet", "p2y12_inhibitor", "B01AC22", None, "mg", ["Efient", "Effient"]),
    ("ticagrelor", "antiplatelet", "p2y12_inhibitor", "B01AC24", None, "mg", ["Brilique", "Brilinta"]),
    # --- glucocorticoids (the route decides whether P8 scores) ---
    ("prednisolone", "steroid", "glucocorticoid", "H02AB06", Decimal("1"), "mg", ["Deltacortril", "Pevanti"]),
    ("prednisone", "steroid", "glucocorticoid", "H02AB07", Decimal("1"), "mg", ["Deltasone", "Rayos"]),
    (
        "methylprednisolone",
        "steroid",
        "glucocorticoid",
        "H02AB04",
        Decimal("1.25"),
        "mg",
        ["Medrol", "Solu-Medrol", "Depo-Medrone"],
    ),
    (
        "dexamethasone",
        "steroid",
        "glucocorticoid",
        "H02AB02",
        Decimal("6.6667"),
        "mg",
        ["Decadron", "Dexsol"],
    ),
    (
        "hydrocortisone",
        "steroid",
        "glucocorticoid",
        "H02AB09",
        Decimal("0.25"),
        "mg",
        ["Solu-Cortef", "Hydrocortone", "Plenadren"],
    ),
    (
        "betamethasone",
        "steroid",
        "glucocorticoid",
        "H02AB01",
        Decimal("6.6667"),
        "mg",
        ["Celestone", "Betnesol", "Betnovate"],
    ),
    ("budesonide", "steroid", "glucocorticoid", "H02AB16", None, "mg", ["Entocort", "Pulmicort", "Budenofalk"]),
    ("deflazacort", "steroid", "glucocorticoid", "H02AB13", Decimal("0.8333"), "mg", ["Calcort", "Emflaza"]),
    # --- estrogen-containing and related hormonal products, by class ---
    (
        "ethinylestradiol",
        "estrogen",
        "combined_hormonal_contraceptive",
        "G03AA07",
        None,
        "microgram",
        [
            "ethinyl estradiol",
            "combined pill",
            "combined oral contraceptive",
            "Microgynon",
            "Rigevidon",
            "Yasmin",
            "Marvelon",
            "Cilest",
            "Loestrin",
        ],
    ),
    (
        "ethinylestradiol + norelgestromin patch",
        "estrogen",
        "combined_hormonal_contraceptive",
        "G03AA13",
        None,
        "microgram",
        ["contraceptive patch", "Evra", "Ortho Evra", "Xulane"],
    ),
    (
        "ethinylestradiol + etonogestrel vaginal ring",
        "estrogen",
        "combined_hormonal_contraceptive",
        "G02BB01",
        None,
        "microgram",
        ["contraceptive vaginal ring", "NuvaRing", "SyreniRing"],
    ),
    (
        "estradiol (oral HRT)",
        "estrogen",
        "oral_hrt",
        "G03CA03",
        None,
        "mg",
        ["oral estradiol", "oral HRT", "Progynova", "Elleste Solo", "Zumenon"],
    ),
    (
        "estradiol + norethisterone (oral HRT)",
        "estrogen",
        "oral_hrt",
        "G03FA01",
        None,
        "mg",
        ["Kliovance", "Kliofem", "Elleste Duet", "Activelle"],
    ),
    (
        "conjugated estrogens (oral HRT)",
        "estrogen",
        "oral_hrt",
        "G03CA57",
        None,
        "mg",
        ["conjugated equine estrogens", "Premarin", "Prempro"],
    ),
    (
        "estradiol (transdermal HRT)",
        "estrogen",
        "transdermal_hrt",
        "G03CA03",
        None,
        "microgram",
        ["estradiol patch", "estradiol gel", "Estradot", "Evorel", "Oestrogel", "Sandrena", "Climara"],
    ),
    (
        "estradiol (vaginal)",
        "estrogen",
        "vaginal_estrogen",
        "G03CA03",
        None,
        "microgram",
        ["vaginal estradiol", "Vagifem", "Vagirux", "Estring", "Imvexxy"],
    ),
    (
        "desogestrel (progestogen-only pill)",
        "estrogen",
        "progestogen_only",
        "G03AC09",
        None,
        "microgram",
        ["desogestrel", "Cerazette", "Cerelle", "Hana"],
    ),
    (
        "levonorgestrel intrauterine system",
        "estrogen",
        "progestogen_only",
        "G02BA03",
        None,
        "microgram",
        ["levonorgestrel IUS", "Mirena", "Kyleena", "Jaydess"],
    ),
    (
        "etonogestrel implant",
        "estrogen",
        "progestogen_only",
        "G03AC08",
        None,
        "mg",
        ["Nexplanon", "Implanon"],
    ),
    (
        "medroxyprogesterone acetate injection",
        "estrogen",
        "progestogen_only",
        "G03AC06",
        None,
        "mg",
        ["Depo-Provera", "Sayana Press", "DMPA"],
    ),
    ("tamoxifen", "thrombogenic", "serm", "L02BA01", None, "mg", ["Nolvadex", "Soltamox"]),
    ("raloxifene", "thrombogenic", "serm", "G03XC01", None, "mg", ["Evista"]),
    ("thalidomide", "thrombogenic", "imid", "L04AX02", None, "mg", ["Thalomid"]),
    ("lenalidomide", "thrombogenic", "imid", "L04AX04", None, "mg", ["Revlimid"]),
    ("pomalidomide", "thrombogenic", "imid", "L04AX06", None, "mg", ["Imnovid", "Pomalyst"]),
    # --- diuretics (S4) ---
    ("furosemide", "diuretic", "loop_diuretic", "C03CA01", None, "mg", ["frusemide", "Lasix"]),
    ("bumetanide", "diuretic", "loop_diuretic", "C03CA02", None, "mg", ["Burinex", "Bumex"]),
    ("torasemide", "diuretic", "loop_diuretic", "C03CA04", None, "mg", ["torsemide", "Demadex"]),
    ("hydrochlorothiazide", "diuretic", "thiazide", "C03AA03", None, "mg", ["HCTZ"]),
    ("indapamide", "diuretic", "thiazide_like", "C03BA11", None, "mg", ["Natrilix", "Lozol"]),
    ("spironolactone", "diuretic", "potassium_sparing", "C03DA01", None, "mg", ["Aldactone"]),
)

FIELDS = ("name", "category", "drug_class", "atc_code", "prednisolone_factor", "default_unit", "synonyms")


def drug_rows() -> list[dict]:
    return [dict(zip(FIELDS, row, strict=True)) for row in DRUGS]
