"""The words and distributions the synthetic catalog is made of (products, donors, lots, posts)."""

from dataclasses import dataclass


@dataclass(frozen=True)
class Family:
    """A kind of product within a category: what its name, markers and sizes look like."""

    base: str
    code: str
    cell_type: str
    markers: str
    isolation: str
    container: str
    sizes: tuple[tuple[str, int], ...]
    purity: float | None
    uses: tuple[str, ...]


VIAL_SIZES = (("10M", 10_000_000), ("25M", 25_000_000), ("50M", 50_000_000), ("100M", 100_000_000))
SMALL_SIZES = (("1M", 1_000_000), ("2M", 2_000_000), ("5M", 5_000_000), ("10M", 10_000_000))
T_USES = (
    "CAR-T development and transduction",
    "Activation and expansion studies",
    "Killing and degranulation assays",
    "Cytokine release assays",
    "Exhaustion and memory phenotyping",
    "Defined CD4:CD8 formulations",
)


def _t_cell(base: str, code: str, cell_type: str, markers: str) -> Family:
    return Family(base, code, cell_type, markers, "Negative immunomagnetic selection", "vial", VIAL_SIZES, 90.0, T_USES)


FAMILIES: dict[str, tuple[Family, ...]] = {
    "leukopak": (
        Family(
            "Leukopak",
            "LP",
            "Leukapheresis mononuclear cells",
            "CD3+ CD19+ CD14+ CD56+",
            "Leukapheresis",
            "bag",
            (("full", 10_000_000_000), ("half", 5_000_000_000), ("quarter", 2_500_000_000)),
            None,
            ("Process development", "Cell therapy manufacturing runs", "Isolation of any immune subset"),
        ),
    ),
    "pbmc": (
        Family(
            "PBMCs",
            "PBMC",
            "Peripheral blood mononuclear cells",
            "CD3+ CD19+ CD14+ CD56+",
            "Density gradient (Ficoll-Paque)",
            "vial",
            VIAL_SIZES,
            None,
            ("Mixed lymphocyte reactions", "Transduction screening", "Immunogenicity assays", "ELISpot"),
        ),
    ),
    "t-cell": (
        _t_cell("Pan T cells", "TC-CD3", "CD3+ T cells", "CD3+"),
        _t_cell("CD4+ T cells", "TC-CD4", "CD4+ helper T cells", "CD3+ CD4+"),
        _t_cell("CD8+ T cells", "TC-CD8", "CD8+ cytotoxic T cells", "CD3+ CD8+"),
        _t_cell("Naive T cells", "TC-NAIVE", "Naive T cells", "CD3+ CD45RA+ CCR7+"),
        _t_cell("Memory T cells", "TC-MEM", "Memory T cells", "CD3+ CD45RO+"),
        _t_cell("Regulatory T cells", "TC-TREG", "Regulatory T cells (Tregs)", "CD4+ CD25+ CD127lo FOXP3+"),
    ),
    "nk-cell": (
        Family(
            "NK cells",
            "NK",
            "Natural killer cells",
            "CD56+ CD3-",
            "Negative immunomagnetic selection",
            "vial",
            SMALL_SIZES,
            85.0,
            ("CAR-NK development", "Cytotoxicity assays", "ADCC assays"),
        ),
    ),
    "monocyte": (
        Family(
            "CD14+ monocytes",
            "MO",
            "Classical monocytes",
            "CD14+",
            "Positive immunomagnetic selection",
            "vial",
            VIAL_SIZES,
            90.0,
            ("Macrophage differentiation", "Dendritic cell generation", "Myeloid co-culture models"),
        ),
    ),
    "b-cell": (
        Family(
            "CD19+ B cells",
            "BC",
            "B cells",
            "CD19+ CD20+",
            "Negative immunomagnetic selection",
            "vial",
            SMALL_SIZES,
            90.0,
            ("CD19 CAR-T target cells", "B-cell biology", "Antibody discovery"),
        ),
    ),
    "hspc": (
        Family(
            "CD34+ HSPCs, mobilized",
            "HSPC-MPB",
            "Hematopoietic stem and progenitor cells",
            "CD34+ CD45dim",
            "Positive immunomagnetic selection",
            "vial",
            SMALL_SIZES,
            90.0,
            ("Gene modification", "Colony-forming assays", "Humanized mouse engraftment"),
        ),
        Family(
            "CD34+ HSPCs, cord blood",
            "HSPC-CB",
            "Cord blood hematopoietic progenitors",
            "CD34+",
            "Positive immunomagnetic selection",
            "vial",
            SMALL_SIZES,
            90.0,
            ("Gene modification", "Colony-forming assays", "Humanized mouse engraftment"),
        ),
    ),
    "bone-marrow": (
        Family(
            "Bone marrow MNCs",
            "BM",
            "Bone marrow mononuclear cells",
            "CD34+ CD45+ CD105+",
            "Density gradient (Ficoll-Paque)",
            "vial",
            VIAL_SIZES,
            None,
            ("Stromal cell isolation", "Progenitor assays", "Marrow niche models"),
        ),
    ),
    "cord-blood": (
        Family(
            "Cord blood MNCs",
            "CB",
            "Cord blood mononuclear cells",
            "CD34+ CD3+ CD56+",
            "Density gradient (Ficoll-Paque)",
            "vial",
            VIAL_SIZES,
            None,
            ("Naive lymphocyte studies", "CAR-NK starting material", "Progenitor expansion"),
        ),
    ),
}
GENERIC_FAMILY = FAMILIES["pbmc"][0]
# How often each category's products occur: a few big categories, a tail of small ones.
CATEGORY_WEIGHTS = {
    "leukopak": 20,
    "pbmc": 20,
    "t-cell": 25,
    "nk-cell": 8,
    "monocyte": 7,
    "b-cell": 6,
    "hspc": 6,
    "bone-marrow": 4,
    "cord-blood": 4,
}
QUALIFIERS = (
    "Donor-matched",
    "Recallable-donor",
    "High-viability",
    "Untouched",
    "Pre-screened",
    "Single-donor",
    "Pooled",
    "Activated",
    "Expanded",
    "Low-volume",
    "Bulk",
    "Validated",
)
MOBILIZATION = ("none", "none", "none", "G-CSF", "G-CSF + plerixafor")
DONOR_HEALTH = ("Healthy",) * 8 + ("Type 2 diabetes", "Rheumatoid arthritis", "Systemic lupus erythematosus")
STABILITY = {
    "fresh": "Ships ambient or refrigerated; use within 48 hours of collection.",
    "cryopreserved": "Store in liquid nitrogen vapour (≤ −150 °C) on receipt; thawing costs 10–15% viability.",
}
SHIPPING = {"fresh": ("ambient", "refrigerated"), "cryopreserved": ("dry_ice", "ln2")}
# Sentences any product's description may use, drawn independently of its facets, so the
# fraction of products containing a word is known and does not depend on the filters.
GENERIC_SENTENCES = (
    "Each lot is tested for sterility, mycoplasma and endotoxin before release.",
    "Viability is measured by flow cytometry with 7-AAD at the time of packaging.",
    "Donors are consented under an IRB-approved protocol and screened for infectious disease markers.",
    "A certificate of analysis with subset composition accompanies every shipment.",
    "Cells are frozen at a controlled rate in a DMSO-based cryomedium.",
    "Lots from recallable donors can be reserved for longitudinal studies.",
    "Shipping is arranged Monday to Wednesday to avoid weekend transit.",
    "Our scientists can advise on thawing, resting and activation protocols.",
    "Flow cytometry reports include CD3, CD4, CD8, CD19, CD14 and CD56 percentages.",
    "Material is for research use only and not for diagnostic or therapeutic use.",
    "Custom isolations and larger quantities are available on request.",
    "Residual red blood cells and granulocytes are kept to a minimum.",
    "Collections are processed within hours to preserve function.",
    "HLA typing at high resolution is provided for every donor.",
    "Serology covers HIV, hepatitis B, hepatitis C, HTLV and syphilis.",
    "Cells perform well in transduction with lentiviral and retroviral vectors.",
    "Cytotoxicity, proliferation and cytokine secretion are verified on reference lots.",
    "Packaging is validated to hold temperature for at least 72 hours.",
    "Matched plasma and serum from the same donor can be supplied.",
    "Recovery after thaw typically exceeds eighty percent.",
    "Donor demographics include age, sex, ethnicity and body mass index.",
    "Documentation supports regulatory filings for clinical translation.",
    "Sterile, closed-system processing reduces contamination risk.",
    "Batch records are retained for fifteen years.",
    "Samples are barcoded and tracked from collection to delivery.",
    "Quality control includes morphology review and cell counting.",
    "Our logistics team monitors every shipment until delivery.",
    "Standing orders keep a study supplied from the same donors.",
    "Cells can be supplied with matched genomic DNA.",
    "Endotoxin levels are below detection in released lots.",
)
GENERIC_SENTENCES_PER_PRODUCT = 4
STOPWORDS = frozenset(
    {
        "a", "an", "and", "are", "as", "at", "be", "by", "can", "for", "from", "in", "is", "it", "its", "of", "on",
        "or", "our", "the", "to", "with", "within", "every", "each", "any", "after", "before", "until", "same",
        "least", "more", "than", "not",
    }
)  # fmt: skip
# HLA alleles with rough population frequencies, per locus.
HLA_POOLS = {
    "A": {"02:01": 27, "01:01": 14, "03:01": 12, "24:02": 9, "11:01": 6, "68:01": 4, "29:02": 4, "31:01": 3,
          "26:01": 3, "23:01": 3, "30:01": 3, "32:01": 3, "33:03": 2, "25:01": 2, "02:05": 2},
    "B": {"07:02": 12, "08:01": 10, "44:02": 8, "35:01": 7, "15:01": 6, "40:01": 5, "44:03": 5, "51:01": 5,
          "18:01": 4, "57:01": 4, "14:02": 3, "27:05": 3, "38:01": 2, "13:02": 2, "53:01": 2, "58:01": 2},
    "C": {"07:01": 15, "07:02": 13, "04:01": 12, "06:02": 8, "05:01": 8, "03:04": 7, "12:03": 5, "03:03": 5,
          "02:02": 5, "01:02": 4, "08:02": 4, "16:01": 4, "15:02": 3, "17:01": 2},
    "DRB1": {"15:01": 14, "07:01": 13, "03:01": 12, "04:01": 9, "01:01": 9, "13:01": 6, "11:01": 6, "13:02": 5,
             "04:04": 4, "08:01": 3, "11:04": 3, "12:01": 2, "14:01": 2, "16:01": 2, "09:01": 2},
}  # fmt: skip
ETHNICITIES = {
    "White": 55,
    "Black or African American": 15,
    "Hispanic or Latino": 17,
    "Asian": 10,
    "Native Hawaiian or Other Pacific Islander": 1,
    "American Indian or Alaska Native": 2,
}
BLOOD_TYPES = {"O+": 37, "A+": 36, "B+": 9, "AB+": 3, "O-": 7, "A-": 6, "B-": 1, "AB-": 1}
SMOKING = {"none": 80, "tobacco": 10, "vape": 6, "thc": 4}
DISEASES = ("Type 2 diabetes", "Rheumatoid arthritis", "Systemic lupus erythematosus", "Multiple sclerosis")
LOT_STATUS = {"available": 65, "reserved": 10, "depleted": 20, "quarantine": 5}
LOTS_PER_PRODUCT = {1: 40, 2: 40, 3: 20}
AUTHORS = ("Marcus Feld, PhD", "Anna Lindqvist, PhD", "Dr. Priya Raman", "Tomás Oliveira", "CellShop Team")
POST_SUBJECTS = (
    "CAR-T persistence", "T-cell exhaustion", "Donor selection", "HLA matching", "CMV serostatus",
    "Leukopak logistics", "Cryopreservation", "Thaw recovery", "CD4:CD8 ratios", "Memory T cells",
    "Regulatory T cells", "CAR-NK cells", "NK-cell cytotoxicity", "CD34+ mobilization", "Cord blood",
    "Bone marrow niches", "Monocyte-derived macrophages", "B-cell targets", "Cytokine release syndrome",
    "Lentiviral transduction", "Gene editing", "Allogeneic CAR-T", "Solid tumours", "Process development",
    "Closed-system manufacturing", "Flow cytometry panels", "Starting material variability", "GMP leukopaks",
    "Apheresis scheduling", "Humanized mice", "Tumour microenvironment", "Checkpoint inhibitors",
    "Cell therapy potency assays", "Viability assays", "Donor recall programs", "Fresh vs frozen cells",
    "Ex vivo expansion", "IL-15 support", "Stem cell gene therapy", "Immune monitoring",
)  # fmt: skip
POST_ANGLES = (
    "what the data say", "a practical guide", "common pitfalls", "a 2024 update", "lessons from the clinic",
    "questions to ask a supplier", "five things to check", "a primer", "methods compared", "case notes",
    "for process developers", "what we learned", "open questions", "a reading list", "in the lab",
    "from bench to bedside", "myths and facts", "the numbers", "a checklist", "recent papers",
    "planning a study", "troubleshooting", "a field guide", "interview notes", "for new researchers",
    "cost and time", "quality control", "regulatory notes", "scale-up", "beyond the basics",
    "workflow tips", "a short history", "state of the art", "debate", "frequently asked questions",
    "for assay developers", "a comparison", "the next five years", "a decision tree", "worked examples",
    "from our customers", "a quick reference", "key papers", "what changed", "hidden variables",
    "how to choose", "measurement matters", "a deeper look", "inside the process", "an overview",
    "tips for reproducibility", "for immunologists", "for engineers", "data sheet walkthrough",
    "an FAQ", "risk and mitigation", "timing matters", "where the field is going", "a second look",
    "a buyer's view",
)  # fmt: skip
