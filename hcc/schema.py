"""The data contract: the only module that spells a canonical column name,
a regimen code, a response category or an endpoint name.

Everything else imports from here. ``docs/data-format.md`` documents the same
columns for users; ``tests/test_schema.py`` checks that the two agree.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from hcc.i18n import N_, current_language, tr, trc

#: AFP cut-off of the HCC literature and trials (ng/mL), and the name of the derived yes/no column
#: "AFP >= 400 ng/mL" used by Table 1, the multivariable Cox covariates and the subgroups.
AFP_CUTOFF_NG_ML: float = 400.0
AFP_400 = "afp_400"
#: Treatment era: the derived column "year of first-line start" (calendar year of ``start_1l``), a Table 1
#: row and a covariate of the adjusted models (practice and regimens changed over the years).
ERA_YEAR = "year_1l"

#: Days per month used everywhere a duration is shown in months
#: (365.25 / 12, the convention of R's ``survival`` vignettes and most HCC trials).
DAYS_PER_MONTH: float = 30.4375


class Kind(str, Enum):
    """Type of a canonical column, as validated by :mod:`hcc.ingest.validate`."""

    TEXT = "text"
    DATE = "date"
    BOOL = "boolean"
    INT = "integer"
    FLOAT = "number"
    CATEGORY = "category"


class Col:
    """Canonical column names (the registry's one-row-per-patient layout)."""

    PATIENT_ID = "patient_id"
    CENTER = "center"
    REGIMEN_1L = "regimen_1l"
    START_1L = "start_1l"
    BEST_RESPONSE_1L = "best_response_1l"
    BEST_RESPONSE_1L_MRECIST = "best_response_1l_mrecist"
    DATE_DC_1L = "date_dc_1l"
    DATE_RESPONSE_1L = "date_response_1l"
    DATE_PROGRESSION_1L = "date_progression_1l"
    DATE_END_1L = "date_end_1l"
    CONCOMITANT_LRT = "concomitant_lrt"
    INTERLINE_LRT = "interline_lrt"
    TRIAL_AFTER_1L = "trial_after_1l"
    REGIMEN_2L = "regimen_2l"
    START_2L = "start_2l"
    DATE_PROGRESSION_2L = "date_progression_2l"
    BEST_RESPONSE_2L = "best_response_2l"
    DATE_RESPONSE_2L = "date_response_2l"
    REGIMEN_3L = "regimen_3l"
    START_3L = "start_3l"
    DATE_DEATH = "date_death"
    DATE_LAST_FOLLOWUP = "date_last_followup"
    AGE = "age"
    SEX = "sex"
    ETIOLOGY = "etiology"
    CHILD_PUGH_SCORE = "child_pugh_score"
    CHILD_PUGH_CLASS = "child_pugh_class"
    ALBI_SCORE = "albi_score"
    ALBI_GRADE = "albi_grade"
    BCLC = "bclc"
    ECOG = "ecog"
    MVI = "mvi"
    EHS = "ehs"
    AFP = "afp"


# Regimen codes --------------------------------------------------------------
SOR = "SOR"
LEN = "LEN"
ATZ_BEV = "ATZ_BEV"
#: The study's three first-line regimens, in display order. Any other value in
#: ``regimen_1l`` is kept as a regimen of its own, shown after these.
STUDY_REGIMENS: tuple[str, ...] = (SOR, LEN, ATZ_BEV)
# Second-line codes seen in Japanese practice (any other code is kept as recorded).
REG = "REG"      # regorafenib
RAM = "RAM"      # ramucirumab
CAB = "CAB"      # cabozantinib
OTHER = "OTHER"  # any other systemic therapy
TRIAL = "TRIAL"  # investigational therapy in a clinical trial
DUR_TRE = "DUR_TRE"  # durvalumab + tremelimumab
DUR = "DUR"          # durvalumab
NIV = "NIV"          # nivolumab
NIV_IPI = "NIV_IPI"  # nivolumab + ipilimumab
PEM = "PEM"          # pembrolizumab
#: ALBI grade upper bounds of grades 1, 2a and 2b (Hiraoka's modified ALBI; grade 3 above -1.39).
ALBI_GRADE_UPPER: tuple[float, ...] = (-2.60, -2.27, -1.39)

#: Label of the group that rare regimens are pooled into (cohort option "group rare regimens").
OTHER_REGIMEN = "Other"
#: Drug names of the regimen codes, the one place a code is spelled out for a reader.
REGIMEN_LABELS: dict[str, str] = {
    SOR: N_("Sorafenib"),
    LEN: N_("Lenvatinib"),
    ATZ_BEV: N_("Atezolizumab + bevacizumab"),
    REG: N_("Regorafenib"),
    RAM: N_("Ramucirumab"),
    CAB: N_("Cabozantinib"),
    DUR_TRE: N_("Durvalumab + tremelimumab"),
    DUR: N_("Durvalumab"),
    NIV: N_("Nivolumab"),
    NIV_IPI: N_("Nivolumab + ipilimumab"),
    PEM: N_("Pembrolizumab"),
    OTHER: N_("Other systemic therapy"),
    TRIAL: N_("Clinical trial drug"),
}


def regimen_name(code: str, *, with_code: bool = True) -> str:
    """What a clinician reads for a regimen code, in the current language: ``"Sorafenib (SOR)"``,
    ``"ソラフェニブ (SOR)"`` (or the name alone with ``with_code=False``); a code without a known name
    goes through :func:`value_label` (the pooled group and the app's own group words, such as a Sankey's
    "No second line — died", in the current language; a registry's own code as recorded)."""
    name = REGIMEN_LABELS.get(code)
    if name is None:
        return value_label(Col.REGIMEN_1L, code)
    return f"{tr(name)} ({code})" if with_code else tr(name)


def regimen_order(counts) -> tuple[str, ...]:
    """Regimen codes in display order: the study regimens (SOR, LEN, ATZ_BEV) present, then any others
    by descending number of patients (ties by code). ``counts``: code -> patients, all above 0 (a dict,
    or a pandas Series indexed by code); one order for the pandas path and the SQL engine."""
    codes = list(counts.keys())
    study = [r for r in STUDY_REGIMENS if r in codes]
    others = sorted((r for r in codes if r not in STUDY_REGIMENS), key=lambda r: (-counts[r], r))
    return tuple(study + others)

# Best overall response (RECIST 1.1 / mRECIST) ---------------------------------
CR, PR, SD, PD, NE = "CR", "PR", "SD", "PD", "NE"
RESPONSES: tuple[str, ...] = (CR, PR, SD, PD, NE)
#: Objective response: complete or partial response.
OBJECTIVE_RESPONSE: frozenset[str] = frozenset({CR, PR})
#: Disease control: complete response, partial response or stable disease.
DISEASE_CONTROL: frozenset[str] = frozenset({CR, PR, SD})

ETIOLOGIES: tuple[str, ...] = ("HBV", "HCV", "alcohol", "MASLD", "other")
SEXES: tuple[str, ...] = ("M", "F")
CHILD_PUGH_CLASSES: tuple[str, ...] = ("A", "B", "C")
ALBI_GRADES: tuple[str, ...] = ("1", "2a", "2b", "3")
BCLC_STAGES: tuple[str, ...] = ("0", "A", "B", "C", "D")


@dataclass(frozen=True)
class Column:
    """One column of the data contract.

    Attributes
    ----------
    name : canonical column name.
    kind : value type (see :class:`Kind`).
    required : a row without a value is excluded, with its reason.
    meaning : one line for users (shown in ``docs/data-format.md`` and the app), in English: show it with
        ``tr(column.meaning)``.
    allowed : permitted values for categories, else empty.
    low, high : inclusive numeric range for numbers, else ``None``.
    """

    name: str
    kind: Kind
    required: bool
    meaning: str
    allowed: tuple[str, ...] = ()
    low: float | None = None
    high: float | None = None


COLUMNS: tuple[Column, ...] = (
    Column(Col.PATIENT_ID, Kind.TEXT, True, N_("De-identified patient code, unique per row")),
    Column(Col.CENTER, Kind.TEXT, False, N_("Treating center (code)")),
    Column(Col.REGIMEN_1L, Kind.TEXT, True,
           N_("First-line systemic regimen: SOR, LEN, ATZ_BEV, or any other code (kept as its own regimen)")),
    Column(Col.START_1L, Kind.DATE, True,
           N_("Start of first-line therapy: the index date of every first-line endpoint")),
    Column(Col.BEST_RESPONSE_1L, Kind.CATEGORY, False, N_("Best overall response to first line, RECIST 1.1"),
           allowed=RESPONSES),
    Column(Col.BEST_RESPONSE_1L_MRECIST, Kind.CATEGORY, False, N_("Best overall response to first line, mRECIST"),
           allowed=RESPONSES),
    Column(Col.DATE_DC_1L, Kind.DATE, False, N_("First assessment documenting disease control (CR, PR or SD)")),
    Column(Col.DATE_RESPONSE_1L, Kind.DATE, False, N_("First assessment documenting objective response (CR or PR)")),
    Column(Col.DATE_PROGRESSION_1L, Kind.DATE, False,
           N_("First-line progression (blank = no progression on first line)")),
    Column(Col.DATE_END_1L, Kind.DATE, False, N_("End of first-line therapy (blank = ongoing)")),
    Column(Col.CONCOMITANT_LRT, Kind.BOOL, False, N_("Locoregional therapy given together with first line")),
    Column(Col.INTERLINE_LRT, Kind.BOOL, False, N_("Locoregional therapy between first and second line")),
    Column(Col.TRIAL_AFTER_1L, Kind.BOOL, False, N_("Entered a clinical trial after first line")),
    Column(Col.REGIMEN_2L, Kind.TEXT, False, N_("Second-line regimen (blank = none)")),
    Column(Col.START_2L, Kind.DATE, False, N_("Start of second-line therapy (blank = none)")),
    Column(Col.DATE_PROGRESSION_2L, Kind.DATE, False, N_("Second-line progression (blank = none)")),
    Column(Col.BEST_RESPONSE_2L, Kind.CATEGORY, False, N_("Best overall response to second line, RECIST 1.1"),
           allowed=RESPONSES),
    Column(Col.DATE_RESPONSE_2L, Kind.DATE, False, N_("First assessment documenting objective response to second line")),
    Column(Col.REGIMEN_3L, Kind.TEXT, False, N_("Third-line regimen (blank = none)")),
    Column(Col.START_3L, Kind.DATE, False, N_("Start of third-line therapy (blank = none)")),
    Column(Col.DATE_DEATH, Kind.DATE, False, N_("Date of death (blank = alive at last follow-up)")),
    Column(Col.DATE_LAST_FOLLOWUP, Kind.DATE, True, N_("Last date the patient was known alive, or the date of death")),
    Column(Col.AGE, Kind.FLOAT, False, N_("Age at first-line start, years"), low=18, high=110),
    Column(Col.SEX, Kind.CATEGORY, False, N_("Sex (M or F)"), allowed=SEXES),
    Column(Col.ETIOLOGY, Kind.CATEGORY, False, N_("Main etiology of liver disease"), allowed=ETIOLOGIES),
    Column(Col.CHILD_PUGH_SCORE, Kind.INT, False, N_("Child-Pugh score at baseline"), low=5, high=15),
    Column(Col.CHILD_PUGH_CLASS, Kind.CATEGORY, False, N_("Child-Pugh class at baseline"), allowed=CHILD_PUGH_CLASSES),
    Column(Col.ALBI_SCORE, Kind.FLOAT, False, N_("ALBI score at baseline"), low=-5, high=1),
    Column(Col.ALBI_GRADE, Kind.CATEGORY, False, N_("ALBI grade at baseline (1, 2a, 2b, 3)"), allowed=ALBI_GRADES),
    Column(Col.BCLC, Kind.CATEGORY, False, N_("BCLC stage at baseline"), allowed=BCLC_STAGES),
    Column(Col.ECOG, Kind.INT, False, N_("ECOG performance status at baseline"), low=0, high=4),
    Column(Col.MVI, Kind.BOOL, False, N_("Macrovascular invasion at baseline")),
    Column(Col.EHS, Kind.BOOL, False, N_("Extrahepatic spread at baseline")),
    Column(Col.AFP, Kind.FLOAT, False, N_("Alpha-fetoprotein at baseline, ng/mL"), low=0, high=None),
)
#: Column added to the canonical frame: the row's spreadsheet row number in the source file (header = 1).
SOURCE_ROW = "_source_row"
COLUMN_BY_NAME: dict[str, Column] = {c.name: c for c in COLUMNS}
REQUIRED: tuple[str, ...] = tuple(c.name for c in COLUMNS if c.required)
#: Safe Harbor: ages over 89 are identifying and are aggregated into "90 or older"
#: (:mod:`hcc.ingest.deid`'s finding; the fast path of ``analyze --stats km`` declines such a file).
AGE_CAP = 90
DATE_COLUMNS: tuple[str, ...] = tuple(c.name for c in COLUMNS if c.kind is Kind.DATE)
BOOL_COLUMNS: tuple[str, ...] = tuple(c.name for c in COLUMNS if c.kind is Kind.BOOL)


class Endpoint(str, Enum):
    """Endpoint names (definitions in :mod:`hcc.cohort.endpoints`, ``docs/endpoints.md``)."""

    OS = "OS"
    PFS = "PFS"
    PPS = "PPS"
    DDC = "DDC"
    DOR = "DOR"
    PFS_2L = "PFS_2L"
    OS_2L = "OS_2L"
    PFS2 = "PFS2"
    TTNT = "TTNT"


ENDPOINTS: tuple[Endpoint, ...] = tuple(Endpoint)
#: The Survival page's endpoints (first line, and second line by first-line regimen).
SURVIVAL_ENDPOINTS: tuple[Endpoint, ...] = (
    Endpoint.OS, Endpoint.PFS, Endpoint.PPS, Endpoint.DDC, Endpoint.DOR, Endpoint.PFS_2L, Endpoint.OS_2L,
)
#: The Second-line page's endpoints.
SECOND_LINE_ENDPOINTS: tuple[Endpoint, ...] = (
    Endpoint.PFS_2L, Endpoint.OS_2L, Endpoint.PFS2, Endpoint.TTNT, Endpoint.PPS,
)
FIRST_LINE_ENDPOINTS: tuple[Endpoint, ...] = (
    Endpoint.OS, Endpoint.PFS, Endpoint.PPS, Endpoint.DDC, Endpoint.DOR,
)
ENDPOINT_LABELS: dict[Endpoint, str] = {
    Endpoint.OS: N_("Overall survival"),
    Endpoint.PFS: N_("Progression-free survival"),
    Endpoint.PPS: N_("Post-progression survival"),
    Endpoint.DDC: N_("Duration of disease control"),
    Endpoint.DOR: N_("Duration of response"),
    Endpoint.PFS_2L: N_("Second-line progression-free survival"),
    Endpoint.OS_2L: N_("Overall survival from second-line start"),
    Endpoint.PFS2: N_("Progression-free survival 2 (to second progression)"),
    Endpoint.TTNT: N_("Time to next treatment"),
}

def endpoint_label(endpoint: Endpoint) -> str:
    """The endpoint's name in the current language (``"Overall survival"``, ``"全生存期間"``)."""
    return tr(ENDPOINT_LABELS[endpoint])


def endpoint_y_label(endpoint: Endpoint) -> str:
    """The y-axis title of the endpoint's Kaplan–Meier figure in the current language."""
    return tr(ENDPOINT_Y_LABELS[endpoint])


#: The y-axis of each endpoint's Kaplan–Meier figure: what the curve is the proportion of.
ENDPOINT_Y_LABELS: dict[Endpoint, str] = {
    Endpoint.OS: N_("Proportion alive"),
    Endpoint.PFS: N_("Proportion alive without progression"),
    Endpoint.PPS: N_("Proportion alive"),
    Endpoint.DDC: N_("Proportion still in disease control"),
    Endpoint.DOR: N_("Proportion still in response"),
    Endpoint.PFS_2L: N_("Proportion alive without progression"),
    Endpoint.OS_2L: N_("Proportion alive"),
    Endpoint.PFS2: N_("Proportion alive without second progression"),
    Endpoint.TTNT: N_("Proportion not yet on next treatment"),
}


@dataclass(frozen=True)
class DateRule:
    """Two dates that must be in order: ``later`` may not fall before ``earlier`` by more than
    ``slack_days`` (equal dates are allowed).

    One table (:data:`DATE_ORDER`) read by validation (a warning per row, :mod:`hcc.ingest.validate`),
    endpoint derivation (the row is excluded from every endpoint that reads both columns,
    :mod:`hcc.cohort.endpoints`) and the SQL engine (:mod:`hcc.engine`).
    """

    earlier: str
    later: str
    slack_days: int = 0

    @property
    def reason(self) -> str:
        """The exclusion reason shown in counts, e.g. ``"date_progression_1l before start_1l"``."""
        return tr("{later} before {earlier}", later=self.later, earlier=self.earlier)


#: A death recorded up to this many days before the last follow-up is not a contradiction
#: (registries often date the last contact by a record entered the day after death).
DEATH_TOLERANCE_DAYS = 1

DATE_ORDER: tuple[DateRule, ...] = (
    DateRule(Col.START_1L, Col.DATE_DC_1L),
    DateRule(Col.START_1L, Col.DATE_RESPONSE_1L),
    DateRule(Col.DATE_DC_1L, Col.DATE_RESPONSE_1L),
    DateRule(Col.START_1L, Col.DATE_PROGRESSION_1L),
    DateRule(Col.DATE_RESPONSE_1L, Col.DATE_PROGRESSION_1L),
    DateRule(Col.START_1L, Col.START_2L),
    DateRule(Col.START_2L, Col.DATE_PROGRESSION_2L),
    DateRule(Col.START_2L, Col.DATE_RESPONSE_2L),
    DateRule(Col.DATE_RESPONSE_2L, Col.DATE_PROGRESSION_2L),
    DateRule(Col.START_2L, Col.START_3L),
    DateRule(Col.START_1L, Col.DATE_DEATH),
    DateRule(Col.DATE_RESPONSE_1L, Col.DATE_DEATH),
    DateRule(Col.DATE_PROGRESSION_1L, Col.DATE_DEATH),
    DateRule(Col.START_2L, Col.DATE_DEATH),
    DateRule(Col.DATE_PROGRESSION_2L, Col.DATE_DEATH),
    DateRule(Col.START_1L, Col.DATE_LAST_FOLLOWUP),
    DateRule(Col.DATE_LAST_FOLLOWUP, Col.DATE_DEATH, DEATH_TOLERANCE_DAYS),
)

#: Dates that must not fall after the end of follow-up (death, else last follow-up).
WITHIN_FOLLOWUP: tuple[str, ...] = (
    Col.DATE_RESPONSE_1L, Col.DATE_PROGRESSION_1L, Col.START_2L, Col.DATE_PROGRESSION_2L, Col.DATE_RESPONSE_2L,
    Col.START_3L,
)


def after_followup_reason(column: str) -> str:
    """The exclusion reason for a date after the end of follow-up (a :data:`WITHIN_FOLLOWUP` column)."""
    return tr("{column} after the end of follow-up (death or last follow-up)", column=column)


def value_label(column: str, value: object) -> str:
    """A recorded value of a contract column as a reader sees it, in the current language.

    The contract's own vocabulary is translated (``value_label("sex", "M")`` is ``"M"`` in English,
    ``"男性"`` in Japanese; etiology ``"alcohol"`` / ``"other"``; the pooled regimen group
    :data:`OTHER_REGIMEN`; yes/no columns' ``True`` / ``"yes"`` …); codes that papers keep in Latin letters (HBV, CR, PD,
    Child-Pugh A, regimen codes) and every registry-own value are returned as recorded. English
    output is the value itself, unchanged. For a regimen's drug name use :func:`regimen_name`.
    """
    text = str(value)
    if column == Col.SEX:
        words = {"M": trc("sex", "M"), "F": trc("sex", "F")}
    elif column == Col.ETIOLOGY:
        words = {"alcohol": trc("etiology", "alcohol"), "other": trc("etiology", "other")}
    elif column in (Col.REGIMEN_1L, Col.REGIMEN_2L, Col.REGIMEN_3L, "regimen"):
        # the pooled group, and the app's own default group names (second-line classes): a registry's
        # own code is no message of the catalog and comes back as recorded
        return trc("regimen group", "Other") if text == OTHER_REGIMEN else tr(text)
    elif column in BOOL_COLUMNS and text in ("True", "False", "yes", "no"):
        yes = text in ("True", "yes")
        translated = trc("yes/no value", "yes") if yes else trc("yes/no value", "no")
        return text if current_language() == "en" else translated
    else:
        return text
    return words.get(text, text)
