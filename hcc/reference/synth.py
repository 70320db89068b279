"""Synthetic demo registry of first-line systemic therapy for advanced HCC.

Everything this module writes is **synthetic**: no row describes a real
patient. It simulates a Japanese multicenter registry shaped like the model
study (:data:`hcc.reference.study.INOUE_2026`): 1,542 patients at eight centers starting
first-line sorafenib (SOR), lenvatinib (LEN) or atezolizumab + bevacizumab
(ATZ_BEV) in 2009-2022, each regimen only from its Japanese approval
(:data:`ERA_START`), data cut-off 30 June 2023 and a little loss to follow-up.
Run ``python -m hcc.reference.synth`` to (re)write ``data/demo_registry.csv``.

The model
---------
*Baseline*: age, sex, etiology (moving from viral to non-viral over the
years), Child-Pugh score and class, ALBI score (around a mean that worsens
with the Child-Pugh score) and grade, ECOG, macrovascular invasion,
extrahepatic spread, BCLC stage derived from them, and log-normal AFP. They
form a prognostic index: its exponential multiplies the death hazard before
progression, divides survival after progression and, by its square root, the
times to progression.

*First line*, a multi-state model in continuous time. Tumours are assessed 5-9
weeks after start, then every 6-9 weeks (per patient). A latent best response
(CR, PR, SD, PD, NE) is drawn with regimen-specific probabilities. A patient
alive at the first assessment with latent CR, PR or SD has disease control
documented there; responders have the response documented at the first,
second or third assessment. Latent progression is log-logistic from the first
assessment (SD) or Weibull from the response (CR, PR), and is found at the
next assessment; latent PD is found at the first assessment; latent NE
patients are never assessed and die early. Before progression the death hazard
is ``early_death_per_month`` until disease control is documented, lower in
disease control and lower still after a response. After progression, survival
is log-normal, scaled differently after primary progression (PD) and after a
response. Outcomes therefore depend on response only from the date it is
documented, as the time-dependent Cox models of the study assume. An
unobserved tumour indolence lengthens time to progression and post-progression
survival together. mRECIST equals RECIST 1.1 except that some SD read as PR.

*Second line*: about half of the patients who progress and live long enough
start a second-line drug 1-6 weeks after progression, chosen among those
approved in Japan at that date; second-line progression is a Weibull time,
recorded only if it comes before death.

*Registry*: events after a patient's end of follow-up (cut-off or loss to
follow-up) are blanked and best response is what was seen by then. Exactly
612 of 1,542 patients (the same fraction for other sizes) are "clean": none of
concomitant locoregional therapy, inter-line locoregional therapy or a trial
after first line. Clean patients are chosen independently of outcome, so the
main cohort is a random sample of the calibrated model; the others have a
slightly better prognosis and flags that fit their course (inter-line therapy
only after a progression, a trial only as a second line).

Calibration
-----------
The parameters of :data:`REGIMEN_MODELS` marked *calibrated* were fitted with a
scratch script that is not shipped: 40,000 random clean patients per regimen
(this module's own start dates, baselines and censoring), common random
numbers, scipy Nelder-Mead on the squared residuals of the Kaplan-Meier
medians of OS, PFS, PPS, DDC, DOR and second-line PFS (1 unit = 1%) and of the
time-dependent Cox hazard ratios of disease control and objective response for
OS (Efron, as :func:`hcc.stats.tdcox.time_dependent_cox`; 1 unit = 0.01), against
:func:`target_medians`, plus weak penalties pulling shapes and ratios towards
clinically plausible values within hard bounds. The fit was then checked on
two independent 600,000-patient registries: every median within 3% of its
target, every hazard ratio within 0.02. ``docs/demo-registry.md`` has the
table and what the parameters mean.
"""

from __future__ import annotations

import argparse
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.special import ndtri as _probit  # standard normal quantile

from hcc.schema import (
    ALBI_GRADE_UPPER,
    ALBI_GRADES,
    ATZ_BEV,
    CAB,
    OTHER,
    RAM,
    REG,
    TRIAL,
    BCLC_STAGES,
    BOOL_COLUMNS,
    CHILD_PUGH_CLASSES,
    COLUMNS,
    CR,
    DATE_COLUMNS,
    DAYS_PER_MONTH,
    ETIOLOGIES,
    LEN,
    NE,
    PD,
    PR,
    SD,
    SEXES,
    SOR,
    STUDY_REGIMENS,
    Col,
    Endpoint,
)
from hcc.reference.study import INOUE_2026

__all__ = [
    "ASSUMED_MEDIANS",
    "CUTOFF",
    "DEFAULT_OUT",
    "DEFAULT_SEED",
    "ERA_START",
    "REGIMEN_MODELS",
    "RegimenModel",
    "generate",
    "main",
    "write_csv",
]

#: Seed of the bundled file. Every seed gives the same population; this one
#: (the best of seeds 1-1000) gives a 1,542-patient file whose main cohort lies
#: close to the published medians and hazard ratios.
DEFAULT_SEED: int = 228
DEFAULT_OUT: Path = Path("data") / "demo_registry.csv"

#: Administrative data cut-off: nothing in the registry is later.
CUTOFF: np.datetime64 = np.datetime64("2023-06-30", "D")
#: First and last possible first-line start.
LAST_START: np.datetime64 = np.datetime64("2022-12-31", "D")
#: Japanese approval for HCC: no regimen is started before its date.
ERA_START: Mapping[str, np.datetime64] = {
    SOR: np.datetime64("2009-05-20", "D"),
    LEN: np.datetime64("2018-03-23", "D"),
    ATZ_BEV: np.datetime64("2020-10-01", "D"),  # approved 25 Sep 2020, in use from October
}


#: Medians (months) the model assumes where the study reports none: disease
#: control and responses of SOR and LEN last less than those of ATZ_BEV
#: (the study calls ATZ_BEV's the longest; REFLECT's mRECIST DOR were 7.3 and
#: 6.2 months for LEN and SOR).
ASSUMED_MEDIANS: Mapping[Endpoint, Mapping[str, float]] = {
    Endpoint.DDC: {SOR: 6.0, LEN: 7.4},
    Endpoint.DOR: {SOR: 9.0, LEN: 9.5},
}


def target_medians() -> dict[Endpoint, dict[str, float]]:
    """Medians (months) the generator is calibrated to, by endpoint and regimen.

    The study's numbers (:data:`hcc.reference.study.INOUE_2026`) completed by
    :data:`ASSUMED_MEDIANS`.
    """
    out = {endpoint: dict(by_regimen) for endpoint, by_regimen in INOUE_2026.median_months.items()}
    for endpoint, by_regimen in ASSUMED_MEDIANS.items():
        out.setdefault(endpoint, {}).update(by_regimen)
    return out


@dataclass(frozen=True)
class RegimenModel:
    """Outcome model of one first-line regimen. Times in months.

    The first five attributes are fixed from the literature; the others were
    calibrated (see the module docstring) and are hard-coded in
    :data:`REGIMEN_MODELS`.

    Attributes
    ----------
    p_cr, p_pr, p_ne : float
        Fixed. Latent best response probabilities (RECIST 1.1) of CR, PR and NE
        (never assessed). SD takes what CR, PR, NE and ``p_pd`` leave. Early
        deaths turn some latent CR/PR/SD/PD into a recorded NE.
    mrecist_upgrade : float
        Fixed. Probability that an SD by RECIST 1.1 is a PR by mRECIST.
    early_death_per_month : float
        Fixed. Death hazard before disease control is documented (average patient).
    second_line_share : float
        Fixed. Probability of second-line therapy for a patient who progressed
        and lived 3 weeks past the planned start; halved while no drug is
        approved for second line.
    p_pd : float
        Calibrated. Latent probability of primary progression (best response PD).
    sd_ttp_scale, sd_ttp_shape : float
        Calibrated. Log-logistic time from the first assessment to latent
        progression, SD (scale = median; a steep middle and a tail of long
        stable disease).
    response_ttp_scale : float
        Calibrated. Weibull time (shape :data:`RESPONSE_TTP_SHAPE`) from the
        documented response to latent progression, CR and PR.
    pps_median, pps_sigma : float
        Calibrated. Log-normal survival after progression for patients with SD:
        median (average patient) and log-scale SD.
    pps_ratio_pd, pps_ratio_response : float
        Calibrated. Multipliers of post-progression survival after primary
        progression (best response PD) and after a response (CR, PR).
    pfs_2l_scale : float
        Calibrated. Weibull time (shape :data:`PFS_2L_SHAPE`) from second-line
        start to second-line progression.
    indolence_sd : float
        Calibrated. Log-scale SD of an unobserved tumour indolence that
        lengthens, by the same factor, time to progression on first line,
        survival after it and progression-free time on second line.
    dc_death_ratio : float
        Calibrated. Death hazard before progression once disease control is
        documented, relative to ``early_death_per_month`` (after a response,
        times :data:`RESPONSE_DEATH_RATIO`).
    """

    p_cr: float
    p_pr: float
    p_ne: float
    mrecist_upgrade: float
    early_death_per_month: float
    second_line_share: float
    p_pd: float
    sd_ttp_scale: float
    sd_ttp_shape: float
    response_ttp_scale: float
    pps_median: float
    pps_sigma: float
    pps_ratio_pd: float
    pps_ratio_response: float
    pfs_2l_scale: float
    indolence_sd: float
    dc_death_ratio: float

    def __post_init__(self) -> None:
        if min(self.p_sd, self.p_cr, self.p_pr, self.p_ne, self.p_pd) < 0:
            raise ValueError(f"response probabilities must be >= 0 and sum to <= 1: {self}")

    @property
    def p_sd(self) -> float:
        """Latent probability of stable disease (the remainder)."""
        return 1.0 - self.p_cr - self.p_pr - self.p_ne - self.p_pd

    @property
    def response_probs(self) -> tuple[float, float, float, float, float]:
        """Latent best response probabilities in the order CR, PR, SD, PD, NE."""
        return (self.p_cr, self.p_pr, self.p_sd, self.p_pd, self.p_ne)


# Shared structural constants (not calibrated) -------------------------------
#: Weibull shape of time from response to progression (near-constant hazard).
RESPONSE_TTP_SHAPE: float = 1.2
#: Weibull shape of second-line progression-free time.
PFS_2L_SHAPE: float = 1.3
#: Pre-progression death hazard after a response, relative to that in disease
#: control (:attr:`RegimenModel.dc_death_ratio`).
RESPONSE_DEATH_RATIO: float = 0.6
#: Survival of latent NE patients (no assessment): log-normal median, months.
NE_SURVIVAL_MEDIAN: float = 1.2
NE_SURVIVAL_SIGMA: float = 0.7
#: Loss to follow-up hazard per year.
LOST_PER_YEAR: float = 0.03
#: Assessment schedule, weeks: first at 5-9, then every 6-9 (per patient).
FIRST_ASSESSMENT_WEEKS: tuple[float, float] = (5.0, 9.0)
ASSESSMENT_INTERVAL_WEEKS: tuple[float, float] = (6.0, 9.0)
#: Probability a response is first documented at assessment 1, 2, 3.
RESPONSE_AT_ASSESSMENT: tuple[float, float, float] = (0.6, 0.3, 0.1)
#: Second-line start, days after progression.
SECOND_LINE_GAP_DAYS: tuple[float, float] = (7.0, 42.0)
#: Excluded (not clean) patients: added to the prognostic index (fitter patients
#: receive locoregional therapy or enter trials).
EXCLUDED_PROGNOSIS_SHIFT: float = -0.2

#: The outcome models. Response probabilities: real-world RECIST 1.1 series and
#: SHARP/REFLECT/IMbrave150; the rest calibrated (see module docstring).
REGIMEN_MODELS: Mapping[str, RegimenModel] = {
    SOR: RegimenModel(
        p_cr=0.005, p_pr=0.065, p_ne=0.09, mrecist_upgrade=0.10,
        early_death_per_month=0.03, second_line_share=0.6,
        # calibrated
        p_pd=0.232, sd_ttp_scale=3.26, sd_ttp_shape=1.00, response_ttp_scale=11.8,
        pps_median=9.95, pps_sigma=0.713, pps_ratio_pd=1.09, pps_ratio_response=2.49,
        pfs_2l_scale=10.6, indolence_sd=0.363, dc_death_ratio=0.211,
    ),
    LEN: RegimenModel(
        p_cr=0.01, p_pr=0.22, p_ne=0.08, mrecist_upgrade=0.32,
        early_death_per_month=0.03, second_line_share=0.6,
        # calibrated
        p_pd=0.117, sd_ttp_scale=4.09, sd_ttp_shape=2.12, response_ttp_scale=12.6,
        pps_median=5.82, pps_sigma=1.57, pps_ratio_pd=1.29, pps_ratio_response=1.20,
        pfs_2l_scale=4.39, indolence_sd=0.433, dc_death_ratio=0.302,
    ),
    ATZ_BEV: RegimenModel(
        p_cr=0.05, p_pr=0.25, p_ne=0.05, mrecist_upgrade=0.12,
        early_death_per_month=0.025, second_line_share=0.6,
        # calibrated
        p_pd=0.0425, sd_ttp_scale=4.13, sd_ttp_shape=3.32, response_ttp_scale=35.1,
        pps_median=10.4, pps_sigma=1.47, pps_ratio_pd=1.18, pps_ratio_response=1.31,
        pfs_2l_scale=6.19, indolence_sd=0.803, dc_death_ratio=0.286,
    ),
}

# Calendar -------------------------------------------------------------------
#: Relative number of first-line starts per calendar year (rising as options grew).
_ANNUAL_VOLUME: Mapping[int, float] = {
    2009: 80, 2010: 80, 2011: 85, 2012: 90, 2013: 90, 2014: 95, 2015: 95,
    2016: 100, 2017: 100, 2018: 130, 2019: 145, 2020: 155, 2021: 175, 2022: 185,
}
#: First-line regimen shares (SOR, LEN, ATZ_BEV) from each approval on.
_REGIMEN_SHARE: tuple[tuple[np.datetime64, tuple[float, float, float]], ...] = (
    (ERA_START[SOR], (1.0, 0.0, 0.0)),
    (ERA_START[LEN], (0.25, 0.75, 0.0)),
    (ERA_START[ATZ_BEV], (0.04, 0.26, 0.70)),
)
#: Relative chance of being a clean (main-cohort) patient, by first-line regimen:
#: locoregional add-ons and post-first-line trials were commoner in the SOR era.
_CLEAN_WEIGHT: Mapping[str, float] = {SOR: 0.28, LEN: 0.50, ATZ_BEV: 0.80}
_CENTER_WEIGHTS: tuple[float, ...] = (0.22, 0.17, 0.14, 0.12, 0.11, 0.09, 0.08, 0.07)

#: Japanese approval for HCC of every drug that can follow first line.
_APPROVED: Mapping[str, np.datetime64] = {
    **ERA_START,
    REG: np.datetime64("2017-06-26", "D"),
    RAM: np.datetime64("2019-06-18", "D"),
    CAB: np.datetime64("2020-11-27", "D"),
    OTHER: ERA_START[SOR],
}
#: Ramucirumab is approved only for AFP >= 400 ng/mL.
_RAM_AFP_MIN: float = 400.0
#: Second-line choices and their relative weights after each first-line regimen,
#: among drugs approved at second-line start. OTHER: any other systemic drug.
_SECOND_LINE_MENU: Mapping[str, tuple[tuple[str, float], ...]] = {
    SOR: ((REG, 0.45), (LEN, 0.30), (RAM, 0.15), (CAB, 0.10), (OTHER, 0.03)),
    LEN: ((SOR, 0.35), (REG, 0.10), (RAM, 0.20), (ATZ_BEV, 0.25), (CAB, 0.10), (OTHER, 0.03)),
    ATZ_BEV: ((LEN, 0.65), (SOR, 0.15), (RAM, 0.10), (CAB, 0.10), (OTHER, 0.03)),
}

# Baseline -------------------------------------------------------------------
#: Etiology mix (HBV, HCV, alcohol, MASLD, other) in 2009 and in 2023;
#: interpolated linearly in between.
_ETIOLOGY_EARLY: tuple[float, ...] = (0.15, 0.55, 0.15, 0.05, 0.10)
_ETIOLOGY_LATE: tuple[float, ...] = (0.15, 0.25, 0.27, 0.20, 0.13)
#: Child-Pugh score 5..9, early and late (more score 5 in later years).
_CHILD_PUGH_EARLY: tuple[float, ...] = (0.50, 0.34, 0.11, 0.04, 0.01)
_CHILD_PUGH_LATE: tuple[float, ...] = (0.60, 0.30, 0.07, 0.025, 0.005)
#: Mean ALBI score by Child-Pugh score 5..9, and the spread around it.
_ALBI_MEAN: tuple[float, ...] = (-2.70, -2.33, -2.02, -1.78, -1.55)
_ALBI_SD: float = 0.28
#: ALBI grade upper bounds: grade 1 <= -2.60 < 2a <= -2.27 < 2b <= -1.39 < 3.
_ALBI_UPPER: tuple[float, ...] = ALBI_GRADE_UPPER
_ECOG_PROBS: tuple[float, ...] = (0.78, 0.19, 0.03)
_P_MALE, _P_MVI, _P_EHS = 0.80, 0.28, 0.32
#: Log-normal AFP (ng/mL): median, log-SD, multiplier with macrovascular invasion.
_AFP_MEDIAN, _AFP_SIGMA, _AFP_MVI_RATIO = 40.0, 2.3, 3.0
#: Log-hazard weights of the prognostic index, and its approximate mean
#: (subtracted so that an average patient has index 0).
_PI_ALBI: tuple[float, ...] = (0.0, 0.3, 0.55, 0.9)
_PI_ECOG: tuple[float, ...] = (0.0, 0.3, 0.7)
_PI_MVI, _PI_EHS, _PI_AFP400 = 0.35, 0.15, 0.3
_PI_MEAN: float = 0.55


@dataclass(frozen=True)
class _Cohort:
    """Patients before outcomes: calendar, regimen, baseline (arrays of length n)."""

    start: np.ndarray  # datetime64[D]
    regimen: np.ndarray  # index into STUDY_REGIMENS
    center: np.ndarray
    clean: np.ndarray
    age: np.ndarray
    male: np.ndarray
    etiology: np.ndarray
    child_pugh: np.ndarray
    albi: np.ndarray
    albi_grade: np.ndarray  # index into ALBI_GRADES
    ecog: np.ndarray
    bclc: np.ndarray
    mvi: np.ndarray
    ehs: np.ndarray
    afp: np.ndarray
    prognostic_index: np.ndarray
    lost_days: np.ndarray  # days from start to loss to follow-up (may be beyond the cut-off)

    @property
    def censor_days(self) -> np.ndarray:
        """Day (from start) on which follow-up ends if the patient is alive."""
        admin = (CUTOFF - self.start).astype(int)
        # Lost at the earliest the day after start: every patient has some follow-up.
        return np.minimum(admin, np.maximum(np.floor(self.lost_days), 1)).astype(int)


@dataclass(frozen=True)
class _Draws:
    """Uniform(0, 1) draws behind every outcome (one column per random choice).

    Outcomes are deterministic functions of these and of the parameters, so a
    calibration can reuse them (common random numbers).
    """

    response: np.ndarray
    indolence: np.ndarray
    first_assessment: np.ndarray
    interval: np.ndarray
    response_at: np.ndarray
    ttp: np.ndarray
    early_death: np.ndarray
    ne_death: np.ndarray
    pps: np.ndarray
    mrecist: np.ndarray
    end_1l: np.ndarray
    gap_2l: np.ndarray
    gets_2l: np.ndarray
    regimen_2l: np.ndarray
    pfs_2l: np.ndarray
    flag: np.ndarray
    extra_flag: np.ndarray

    @classmethod
    def sample(cls, rng: np.random.Generator, n: int) -> _Draws:
        names = list(cls.__dataclass_fields__)
        block = rng.random((len(names), n))
        return cls(**dict(zip(names, block)))


def _interpolated_choice(u: np.ndarray, early: Sequence[float], late: Sequence[float],
                         era: np.ndarray) -> np.ndarray:
    """Index drawn from probabilities moving linearly from ``early`` to ``late``."""
    probs = np.outer(1 - era, early) + np.outer(era, late)
    cum = np.cumsum(probs / probs.sum(axis=1, keepdims=True), axis=1)
    return np.minimum((u[:, None] > cum).sum(axis=1), len(early) - 1)


def _draw_starts(rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
    """First-line start dates and regimens (each after its approval)."""
    years = np.array(sorted(_ANNUAL_VOLUME))
    january = np.array([np.datetime64(f"{y}-01-01", "D") for y in (*years, years[-1] + 1)])
    first = np.maximum(january[:-1], ERA_START[SOR])
    last = np.minimum(january[1:], LAST_START + 1)
    span = (last - first).astype(int)
    weight = np.array([_ANNUAL_VOLUME[y] for y in years]) * span / 365.25
    year = rng.choice(years.size, size=n, p=weight / weight.sum())
    start = first[year] + np.floor(rng.random(n) * span[year]).astype(int)

    since = np.array([d for d, _ in _REGIMEN_SHARE])
    shares = np.array([s for _, s in _REGIMEN_SHARE])
    era = np.searchsorted(since, start, side="right") - 1
    cum = np.cumsum(shares[era], axis=1)
    regimen = np.minimum((rng.random(n)[:, None] > cum).sum(axis=1), len(STUDY_REGIMENS) - 1)
    order = np.argsort(start, kind="stable")
    return start[order], regimen[order]


def _pick_clean(rng: np.random.Generator, regimen: np.ndarray, n_main: int) -> np.ndarray:
    """Exactly ``n_main`` clean patients, weighted by regimen (Efraimidis-Spirakis)."""
    weight = np.array([_CLEAN_WEIGHT[r] for r in STUDY_REGIMENS])[regimen]
    key = np.log(rng.random(regimen.size)) / weight
    clean = np.zeros(regimen.size, dtype=bool)
    clean[np.argsort(-key, kind="stable")[:n_main]] = True
    return clean


def _draw_cohort(rng: np.random.Generator, n: int, n_main: int) -> _Cohort:
    """Calendar, regimen, center, clean status and baseline of ``n`` patients."""
    start, regimen = _draw_starts(rng, n)
    clean = _pick_clean(rng, regimen, n_main)
    center = rng.choice(len(_CENTER_WEIGHTS), size=n, p=_CENTER_WEIGHTS)
    # 0 in 2009, 1 at the end of 2022: baseline mix drifts with the years.
    era = np.clip((start - np.datetime64("2009-01-01", "D")).astype(int) / (14 * 365.25), 0, 1)

    u = rng.random((9, n))
    z = rng.standard_normal((3, n))
    age = np.clip(68.0 + 5.0 * era + 9.0 * z[0], 35.0, 92.0).round(1)
    male = u[0] < _P_MALE
    etiology = _interpolated_choice(u[1], _ETIOLOGY_EARLY, _ETIOLOGY_LATE, era)
    child_pugh = 5 + _interpolated_choice(u[2], _CHILD_PUGH_EARLY, _CHILD_PUGH_LATE, era)
    albi = np.clip(np.array(_ALBI_MEAN)[child_pugh - 5] + _ALBI_SD * z[1], -4.0, 0.0).round(2)
    albi_grade = np.searchsorted(np.array(_ALBI_UPPER), albi, side="left")
    ecog = np.searchsorted(np.cumsum(_ECOG_PROBS), u[3], side="right").clip(0, 2)
    mvi = u[4] < _P_MVI
    ehs = u[5] < _P_EHS
    # BCLC C with vascular invasion, spread or symptoms; else mostly B.
    bclc = np.where(mvi | ehs | (ecog > 0) | (child_pugh > 7), BCLC_STAGES.index("C"),
                    np.where(u[6] < 0.88, BCLC_STAGES.index("B"), BCLC_STAGES.index("A")))
    afp = np.maximum(_AFP_MEDIAN * np.where(mvi, _AFP_MVI_RATIO, 1.0)
                     * np.exp(_AFP_SIGMA * z[2]), 1.0).round(1)
    index = (np.array(_PI_ALBI)[albi_grade] + np.array(_PI_ECOG)[ecog] + _PI_MVI * mvi
             + _PI_EHS * ehs + _PI_AFP400 * (afp >= 400) - _PI_MEAN)
    index = index + np.where(clean, 0.0, EXCLUDED_PROGNOSIS_SHIFT)
    lost_days = -np.log(u[7]) / LOST_PER_YEAR * 365.25
    return _Cohort(
        start=start, regimen=regimen, center=center, clean=clean, age=age, male=male,
        etiology=etiology, child_pugh=child_pugh, albi=albi, albi_grade=albi_grade, ecog=ecog,
        bclc=bclc, mvi=mvi, ehs=ehs, afp=afp, prognostic_index=index, lost_days=lost_days,
    )


def _per_patient(models: Mapping[str, RegimenModel], regimen: np.ndarray, name: str) -> np.ndarray:
    return np.array([getattr(models[r], name) for r in STUDY_REGIMENS], dtype=float)[regimen]


def _weibull(u: np.ndarray, scale: np.ndarray, shape: float | np.ndarray) -> np.ndarray:
    """Weibull time whose survival function equals ``u``."""
    return scale * (-np.log(u)) ** (1.0 / shape)


def _log_logistic(u: np.ndarray, scale: np.ndarray, shape: float | np.ndarray) -> np.ndarray:
    """Log-logistic time whose survival function equals ``u`` (``scale`` is the median)."""
    return scale * ((1.0 - u) / u) ** (1.0 / shape)


@dataclass(frozen=True)
class _Course:
    """Each patient's course in days from first-line start, before censoring.

    NaN where an event does not happen (at any time).
    """

    category: np.ndarray  # latent best response, index into (CR, PR, SD, PD, NE)
    dc: np.ndarray
    response: np.ndarray
    progression: np.ndarray
    end_1l: np.ndarray
    death: np.ndarray
    second_start: np.ndarray
    regimen_2l: np.ndarray  # code, "" for none
    second_progression: np.ndarray


_LATENT = (CR, PR, SD, PD, NE)


def _simulate_course(cohort: _Cohort, draws: _Draws,
                     models: Mapping[str, RegimenModel]) -> _Course:
    """First and second line of every patient, vectorised (see module docstring)."""
    reg = cohort.regimen
    month = DAYS_PER_MONTH

    def p(name: str) -> np.ndarray:
        return _per_patient(models, reg, name)

    hazard_ratio = np.exp(cohort.prognostic_index)  # > 1: worse prognosis
    # Unobserved tumour indolence: slow tumours progress late and live long after.
    indolence = np.exp(p("indolence_sd") * _probit(draws.indolence))
    # Progression depends less than death on the liver and the patient.
    ttp_factor = hazard_ratio ** -0.5 * indolence

    probs = np.array([models[r].response_probs for r in STUDY_REGIMENS])[reg]
    category = np.minimum((draws.response[:, None] > np.cumsum(probs, axis=1)).sum(axis=1), 4)
    responder, stable = category <= 1, category == 2
    primary_pd, latent_ne = category == 3, category == 4

    lo, hi = FIRST_ASSESSMENT_WEEKS
    first = 7.0 * (lo + (hi - lo) * draws.first_assessment)
    lo, hi = ASSESSMENT_INTERVAL_WEEKS
    interval = 7.0 * (lo + (hi - lo) * draws.interval)
    nth = np.searchsorted(np.cumsum(RESPONSE_AT_ASSESSMENT), draws.response_at, side="right")
    response = np.where(responder, first + np.minimum(nth, 2) * interval, np.nan)

    # Latent progression, found at the next assessment.
    sd_gap = _log_logistic(draws.ttp, p("sd_ttp_scale") * month * ttp_factor, p("sd_ttp_shape"))
    or_gap = _weibull(draws.ttp, p("response_ttp_scale") * month * ttp_factor, RESPONSE_TTP_SHAPE)
    latent = np.where(stable, first + sd_gap, np.where(responder, response + or_gap, np.nan))
    found = first + np.ceil((latent - first) / interval) * interval
    progression = np.where(primary_pd, first, np.where(stable | responder, found, np.inf))

    # Death before progression: piecewise-constant hazard (inverse cumulative hazard).
    rate = p("early_death_per_month") / month * hazard_ratio
    exposure = -np.log(draws.early_death) / rate  # in "early-hazard days"
    dc_rate = p("dc_death_ratio")
    or_rate = dc_rate * RESPONSE_DEATH_RATIO
    at_response = first + dc_rate * (np.nan_to_num(response, nan=np.inf) - first)
    pre = np.where(exposure <= first, exposure,
                   np.where(primary_pd, np.inf,
                            np.where(~responder | (exposure <= at_response),
                                     first + (exposure - first) / dc_rate,
                                     response + (exposure - at_response) / or_rate)))
    ne_death = NE_SURVIVAL_MEDIAN * month / hazard_ratio * np.exp(
        NE_SURVIVAL_SIGMA * _probit(draws.ne_death))
    pre = np.where(latent_ne, ne_death, pre)
    pre = np.maximum(pre, 1.0)  # no death on the day of start

    progressed = progression < pre
    ratio = np.where(primary_pd, p("pps_ratio_pd"), np.where(responder, p("pps_ratio_response"), 1.0))
    pps = (p("pps_median") * month * ratio / hazard_ratio * indolence
           * np.exp(p("pps_sigma") * _probit(draws.pps)))
    death = np.where(progressed, progression + pps, pre)
    progression = np.where(progressed, progression, np.nan)
    alive_at_first = death > first
    dc = np.where((responder | stable) & alive_at_first, first, np.nan)
    response = np.where(death > response, response, np.nan)

    # End of first line: with death, or 0-3 weeks after progression.
    end_1l = np.where(progressed, progression + 21.0 * draws.end_1l, death)

    # Second line.
    lo, hi = SECOND_LINE_GAP_DAYS
    start_2l = progression + lo + (hi - lo) * draws.gap_2l
    start_2l_date = cohort.start + np.nan_to_num(start_2l, nan=0.0).astype(int)
    code, weights = _second_line_weights(reg, start_2l_date, cohort.afp)
    approved = weights[:, [c != OTHER for c in code]].sum(axis=1) > 0
    share = p("second_line_share") * np.where(approved, 1.0, 0.5)
    gets_2l = progressed & (death - start_2l > 21.0) & (draws.gets_2l < share)
    end_1l = np.where(gets_2l, np.minimum(end_1l, start_2l), np.minimum(end_1l, death))
    start_2l = np.where(gets_2l, start_2l, np.nan)
    cum = np.cumsum(weights / weights.sum(axis=1, keepdims=True), axis=1)
    pick = np.minimum((draws.regimen_2l[:, None] > cum).sum(axis=1), len(code) - 1)
    regimen_2l = np.where(gets_2l, np.array(code, dtype=object)[pick], "")
    progression_2l = start_2l + _weibull(draws.pfs_2l, p("pfs_2l_scale") * month * ttp_factor,
                                         PFS_2L_SHAPE)
    progression_2l = np.where(progression_2l < death, progression_2l, np.nan)

    return _Course(category=category, dc=dc, response=response, progression=progression,
                   end_1l=end_1l, death=death, second_start=start_2l, regimen_2l=regimen_2l,
                   second_progression=progression_2l)


def _second_line_weights(regimen: np.ndarray, on: np.ndarray,
                         afp: np.ndarray) -> tuple[list[str], np.ndarray]:
    """Codes of all second-line options and each patient's weights (0 if unavailable)."""
    code = sorted({c for menu in _SECOND_LINE_MENU.values() for c, _ in menu})
    weights = np.zeros((regimen.size, len(code)))
    for r, first_line in enumerate(STUDY_REGIMENS):
        for option, weight in _SECOND_LINE_MENU[first_line]:
            available = (regimen == r) & (on >= _APPROVED[option])
            if option == RAM:
                available &= afp >= _RAM_AFP_MIN
            weights[available, code.index(option)] = weight
    return code, weights


def _to_frame(cohort: _Cohort, course: _Course, draws: _Draws,
              models: Mapping[str, RegimenModel]) -> pd.DataFrame:
    """Censor each course at its follow-up end, round to days, and lay out the registry."""
    censor = cohort.censor_days
    day = {name: np.rint(getattr(course, name)) for name in
           ("dc", "response", "progression", "end_1l", "death", "second_start", "second_progression")}
    dead = day["death"] <= censor
    last = np.where(dead, day["death"], censor)
    # Nothing after the patient's last follow-up (comparisons with NaN are False).
    seen = {name: np.where(t <= last, t, np.nan) for name, t in day.items()}

    category = np.array(_LATENT, dtype=object)[course.category]
    best = np.where(~np.isnan(seen["response"]), category,
                    np.where(~np.isnan(seen["dc"]), SD,
                             np.where((course.category == _LATENT.index(PD))
                                      & ~np.isnan(seen["progression"]), PD, NE)))
    upgrade = (best == SD) & (draws.mrecist < _per_patient(models, cohort.regimen, "mrecist_upgrade"))
    best_mrecist = np.where(upgrade, PR, best)

    has_2l = ~np.isnan(seen["second_start"])
    regimen_2l = np.where(has_2l, course.regimen_2l, None)
    concomitant, interline, trial = _exclusion_flags(
        cohort.clean, ~np.isnan(seen["progression"]), has_2l, draws)
    regimen_2l = np.where(trial, TRIAL, regimen_2l)

    def date(days: np.ndarray) -> pd.Series:
        shifted = cohort.start + np.where(np.isnan(days), 0, days).astype("timedelta64[D]")
        return pd.Series(np.where(np.isnan(days), np.datetime64("NaT"), shifted),
                         dtype="datetime64[ns]")

    n = cohort.start.size
    width = max(4, len(str(n)))
    class_a, class_b, class_c = CHILD_PUGH_CLASSES
    cp_class = np.where(cohort.child_pugh <= 6, class_a, np.where(cohort.child_pugh <= 9, class_b, class_c))
    values = {
        Col.PATIENT_ID: [f"SYN{i:0{width}d}" for i in range(1, n + 1)],
        Col.CENTER: [f"C{c + 1:02d}" for c in cohort.center],
        Col.REGIMEN_1L: np.array(STUDY_REGIMENS, dtype=object)[cohort.regimen],
        Col.START_1L: pd.Series(cohort.start, dtype="datetime64[ns]"),
        Col.BEST_RESPONSE_1L: best,
        Col.BEST_RESPONSE_1L_MRECIST: best_mrecist,
        Col.DATE_DC_1L: date(seen["dc"]),
        Col.DATE_RESPONSE_1L: date(seen["response"]),
        Col.DATE_PROGRESSION_1L: date(seen["progression"]),
        Col.DATE_END_1L: date(seen["end_1l"]),
        Col.CONCOMITANT_LRT: concomitant,
        Col.INTERLINE_LRT: interline,
        Col.TRIAL_AFTER_1L: trial,
        Col.REGIMEN_2L: regimen_2l,
        Col.START_2L: date(seen["second_start"]),
        Col.DATE_PROGRESSION_2L: date(seen["second_progression"]),
        # Filled by _later_lines from its own random stream, so the columns above never change.
        Col.BEST_RESPONSE_2L: np.full(n, None, dtype=object),
        Col.DATE_RESPONSE_2L: pd.Series(pd.NaT, index=range(n), dtype="datetime64[ns]"),
        Col.REGIMEN_3L: np.full(n, None, dtype=object),
        Col.START_3L: pd.Series(pd.NaT, index=range(n), dtype="datetime64[ns]"),
        Col.DATE_DEATH: date(seen["death"]),
        Col.DATE_LAST_FOLLOWUP: date(last.astype(float)),
        Col.AGE: cohort.age,
        Col.SEX: np.where(cohort.male, SEXES[0], SEXES[1]),
        Col.ETIOLOGY: np.array(ETIOLOGIES, dtype=object)[cohort.etiology],
        Col.CHILD_PUGH_SCORE: pd.array(cohort.child_pugh, dtype="Int64"),
        Col.CHILD_PUGH_CLASS: cp_class,
        Col.ALBI_SCORE: cohort.albi,
        Col.ALBI_GRADE: np.array(ALBI_GRADES, dtype=object)[cohort.albi_grade],
        Col.BCLC: np.array(BCLC_STAGES, dtype=object)[cohort.bclc],
        Col.ECOG: pd.array(cohort.ecog, dtype="Int64"),
        Col.MVI: cohort.mvi,
        Col.EHS: cohort.ehs,
        Col.AFP: cohort.afp,
    }
    frame = pd.DataFrame({column.name: values[column.name] for column in COLUMNS})
    for column in (Col.BEST_RESPONSE_1L, Col.BEST_RESPONSE_1L_MRECIST, Col.CHILD_PUGH_CLASS, Col.SEX):
        frame[column] = frame[column].astype(object)
    return frame


def _exclusion_flags(clean: np.ndarray, progressed: np.ndarray, has_2l: np.ndarray,
                     draws: _Draws) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Concomitant LRT, inter-line LRT and trial-after-first-line flags.

    Clean patients have none. Every other patient has at least one, fitting
    their course: inter-line therapy only after a first-line progression, a
    trial only as a second line; patients who never progressed had concomitant
    therapy. A few have concomitant therapy on top.
    """
    u = draws.flag
    trial = ~clean & has_2l & (u < 0.25)
    interline = ~clean & ~trial & progressed & (u < 0.6)
    concomitant = ~clean & ((~trial & ~interline) | (draws.extra_flag < 0.15))
    return concomitant, interline, trial


def default_n_main(n_patients: int) -> int:
    """Clean patients for a registry of ``n_patients``: the study's 612 / 1,542."""
    return int(round(n_patients * INOUE_2026.n_main / INOUE_2026.n_patients))


def generate(n_patients: int = INOUE_2026.n_patients, seed: int = DEFAULT_SEED,
             n_main: int | None = None) -> pd.DataFrame:
    """Generate a synthetic registry, one row per patient.

    Parameters
    ----------
    n_patients : int, default 1542
        Number of patients (rows).
    seed : int, default :data:`DEFAULT_SEED`
        Seed of ``numpy.random.default_rng``; the same seed gives the same frame.
    n_main : int, optional
        Exactly this many patients have none of the three exclusion flags
        (the main cohort). Default: ``round(n_patients * 612 / 1542)``, so 612
        at the default size.

    Returns
    -------
    pandas.DataFrame
        Every column of :data:`hcc.schema.COLUMNS`, in that order: dates as
        ``datetime64[ns]`` (``NaT`` when blank), flags as ``bool``, Child-Pugh
        score and ECOG as ``Int64``, age, ALBI and AFP as ``float``, the rest
        as text (``None`` when blank).

    Raises
    ------
    ValueError
        If ``n_patients < 1`` or ``n_main`` is outside ``[0, n_patients]``.
    """
    if n_patients < 1:
        raise ValueError(f"n_patients must be at least 1, got {n_patients}")
    n_main = default_n_main(n_patients) if n_main is None else n_main
    if not 0 <= n_main <= n_patients:
        raise ValueError(f"n_main must be between 0 and n_patients ({n_patients}), got {n_main}")
    rng = np.random.default_rng(seed)
    cohort = _draw_cohort(rng, n_patients, n_main)
    draws = _Draws.sample(rng, n_patients)
    course = _simulate_course(cohort, draws, REGIMEN_MODELS)
    frame = _to_frame(cohort, course, draws, REGIMEN_MODELS)
    return _later_lines(frame, np.random.default_rng([seed, 2]))


#: Best response to second line, when second-line progression did not come within 10 weeks:
#: CR, PR, SD (real-world ORR after first-line systemic therapy is ~5-15%).
_RESPONSE_2L = (0.02, 0.12, 0.86)
_THIRD_LINE_SHARE = 0.35
_THIRD_LINE_MENU = (REG, RAM, CAB, LEN, SOR, OTHER)


def _later_lines(frame: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
    """Second-line best response (and its date) and third line, drawn after everything else.

    Descriptive only (no outcome depends on them): PD when second-line progression came within 10
    weeks, NE when follow-up ended before the first assessment (6 weeks), else CR / PR / SD; a
    response is dated at an assessment 6–12 weeks in, before any progression. A share of patients
    alive two weeks after second-line progression start a third line within two months.
    """
    n = len(frame)
    u = rng.random((n, 5))
    start2 = frame[Col.START_2L]
    prog2 = frame[Col.DATE_PROGRESSION_2L]
    last = frame[Col.DATE_LAST_FOLLOWUP]
    has2 = start2.notna()
    days_to_prog = (prog2 - start2).dt.days
    early_pd = has2 & (days_to_prog <= 70)
    followed = (last - start2).dt.days >= 42
    cum = np.cumsum(_RESPONSE_2L)
    drawn = np.array((CR, PR, SD), dtype=object)[np.minimum((u[:, 0, None] > cum).sum(axis=1), 2)]
    response_day = np.where(u[:, 1] < 0.5, 42, 84) + np.floor(u[:, 2] * 14)
    resp_date = start2 + pd.to_timedelta(response_day, unit="D")
    ok = (resp_date <= last) & (prog2.isna() | (resp_date <= prog2))
    best = np.where(~has2, None, np.where(early_pd, PD, np.where(~followed, NE, drawn)))
    responder = np.isin(best, (CR, PR))
    best = np.where(responder & ~ok.to_numpy(), SD, best)
    responder = np.isin(best, (CR, PR))
    frame[Col.BEST_RESPONSE_2L] = pd.Series(best, dtype=object)
    frame[Col.DATE_RESPONSE_2L] = resp_date.where(responder)

    start3 = prog2 + pd.to_timedelta(7 + np.floor(u[:, 3] * 53), unit="D")
    third = prog2.notna() & (u[:, 4] < _THIRD_LINE_SHARE) & (start3 <= last) & (
        frame[Col.DATE_DEATH].isna() | (start3 < frame[Col.DATE_DEATH]))
    pick = np.floor(u[:, 4] / _THIRD_LINE_SHARE * len(_THIRD_LINE_MENU)).astype(int) % len(_THIRD_LINE_MENU)
    choice = np.array(_THIRD_LINE_MENU, dtype=object)[pick]
    # Never repeat the first- or second-line drug.
    repeat = (choice == frame[Col.REGIMEN_1L].to_numpy()) | (choice == frame[Col.REGIMEN_2L].to_numpy())
    choice = np.where(repeat, OTHER, choice)
    frame[Col.REGIMEN_3L] = pd.Series(np.where(third, choice, None), dtype=object)
    frame[Col.START_3L] = start3.where(third)
    return frame


def write_csv(frame: pd.DataFrame, path: str | Path) -> None:
    """Write a registry frame as the app's CSV.

    Dates as ISO ``YYYY-MM-DD``, booleans as ``yes``/``no``, blanks as empty
    fields, ``\\n`` line ends, UTF-8.

    Parameters
    ----------
    frame : pandas.DataFrame
        Canonical registry frame, as from :func:`generate`.
    path : str or pathlib.Path
        Output file; its directory must exist.
    """
    out = frame.copy()
    for column in BOOL_COLUMNS:
        if column in out:
            out[column] = out[column].map({True: "yes", False: "no"})
    for column in DATE_COLUMNS:
        if column in out:
            out[column] = pd.to_datetime(out[column]).dt.strftime("%Y-%m-%d")
    out.to_csv(path, index=False, lineterminator="\n", encoding="utf-8")


def main(argv: Sequence[str] | None = None) -> None:
    """Command line: ``python -m hcc.reference.synth [--n N] [--seed S] [--out PATH]``."""
    parser = argparse.ArgumentParser(
        prog="python -m hcc.reference.synth",
        description="Write the synthetic demo registry (no real patient) as CSV.")
    parser.add_argument("--n", type=int, default=INOUE_2026.n_patients, help="patients (default 1542)")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED, help=f"seed (default {DEFAULT_SEED})")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help=f"output CSV (default {DEFAULT_OUT})")
    args = parser.parse_args(argv)
    frame = generate(args.n, args.seed)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    write_csv(frame, args.out)
    clean = ~frame[[Col.CONCOMITANT_LRT, Col.INTERLINE_LRT, Col.TRIAL_AFTER_1L]].any(axis=1)
    print(f"wrote {len(frame)} synthetic patients ({int(clean.sum())} in the main cohort) to {args.out}")


if __name__ == "__main__":
    main()
