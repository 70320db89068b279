"""Best overall response to first line, and what achieving it means for survival.

- :func:`response_rates`: per first-line regimen, the best overall response (RECIST 1.1, or
  mRECIST where recorded) counted as CR, PR, SD, PD, NE and not recorded; objective response rate
  (ORR = CR + PR) and disease control rate (DCR = CR + PR + SD) with exact Clopper–Pearson 95% CIs
  (R ``binom.test``), over the evaluable patients (CR, PR, SD or PD) and over all patients; each
  rate compared across regimens by :func:`hcc.stats.baseline.categorical_test`.
- :func:`response_models`: the time-dependent Cox model of overall survival on disease control
  (DC) and objective response (OR) per regimen and pooled, beside the study's published hazard
  ratio and the naive (immortal-time biased) fixed-covariate model (:mod:`hcc.stats.tdcox`).
- :func:`landmark`: overall survival from a landmark, by whether DC (or OR) was reached by then.
- :func:`swimmer_lanes`: one lane per patient for the swimmer plot.

Every number is tested against R in ``tests/test_response.py`` and ``tests/test_tdcox.py``
(``tests/reference/response_reference.R``); methods in ``docs/response.md``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy.stats import binomtest

from hcc.i18n import N_, tr
from hcc.stats.baseline import categorical_test
from hcc.cohort.endpoints import EndpointData
from hcc.formatting import json_number
from hcc.ingest.validate import follow_up_end
from hcc.stats.tdcox import REGIMEN_AS, SwitchData, TDCoxResult, fixed_covariate_cox, switch_data, time_dependent_cox
from hcc.schema import (
    CR, DAYS_PER_MONTH, DISEASE_CONTROL, NE, OBJECTIVE_RESPONSE, PD, PR, SD, SOURCE_ROW, Col, Endpoint,
)
from hcc.reference.study import INOUE_2026, PublishedStudy
from hcc.stats.survival import AnalysisSpec, CoxTerm, EndpointSummary, summarize

# -- names ------------------------------------------------------------------------------------------
#: Switching covariates: short name -> the date column at which it switches from 0 to 1.
COVARIATES: dict[str, str] = {"DC": Col.DATE_DC_1L, "OR": Col.DATE_RESPONSE_1L}
COVARIATE_LABELS: dict[str, str] = {"DC": N_("disease control"), "OR": N_("objective response")}
#: Response criteria: name -> best-response column.
CRITERIA: dict[str, str] = {"RECIST 1.1": Col.BEST_RESPONSE_1L, "mRECIST": Col.BEST_RESPONSE_1L_MRECIST}
#: Best response to second line (the After-first-line page; patients who started second line).
SECOND_LINE = N_("RECIST 1.1, second line")
SECOND_LINE_CRITERIA: dict[str, str] = {SECOND_LINE: Col.BEST_RESPONSE_2L}
NOT_RECORDED = N_("not recorded")
#: Counted categories, in display order.
CATEGORIES: tuple[str, ...] = (CR, PR, SD, PD, NE, NOT_RECORDED)
#: Patients whose best response could be assessed.
EVALUABLE: frozenset[str] = frozenset({CR, PR, SD, PD})
RATES: dict[str, frozenset[str]] = {"ORR": OBJECTIVE_RESPONSE, "DCR": DISEASE_CONTROL}
#: Denominators of the rates; over all patients, NE and not recorded count as neither response nor control.
DENOMINATORS: dict[str, str] = {"evaluable": N_("evaluable patients (CR, PR, SD or PD)"), "all": N_("all patients")}
#: The pooled row of :func:`response_models`.
POOLED = "pooled"
DEFAULT_LANDMARKS_MONTHS: tuple[float, ...] = (3.0, 6.0)


# -- response rates ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class Proportion:
    """``k`` of ``n`` with the exact (Clopper–Pearson) confidence interval; NaN when ``n = 0``."""

    k: int
    n: int
    estimate: float
    lower: float
    upper: float
    method: str = N_("Clopper–Pearson exact (R binom.test)")


def clopper_pearson(k: int, n: int, conf_level: float = 0.95) -> Proportion:
    """Proportion with the exact binomial CI, as R's ``binom.test(k, n)$conf.int``."""
    if n == 0:
        return Proportion(0, 0, math.nan, math.nan, math.nan)
    ci = binomtest(int(k), int(n)).proportion_ci(confidence_level=conf_level, method="exact")
    return Proportion(int(k), int(n), k / n, float(ci.low), float(ci.high))


@dataclass(frozen=True)
class RegimenResponse:
    """Best overall response of one regimen's patients.

    ``counts`` has every category of :data:`CATEGORIES`; ``rates`` maps (rate, denominator), e.g.
    ``("ORR", "evaluable")``, to a :class:`Proportion`.
    """

    regimen: str
    n: int
    counts: Mapping[str, int]
    rates: Mapping[tuple[str, str], Proportion]

    @property
    def evaluable(self) -> int:
        return sum(self.counts[c] for c in EVALUABLE)


@dataclass(frozen=True)
class RateComparison:
    """One rate compared across regimens: p-value and the test used ('' when not testable)."""

    rate: str
    denominator: str
    p: float
    test: str


@dataclass(frozen=True)
class ResponseSummary:
    """Best overall response by regimen under one criterion, with the comparisons across regimens."""

    criterion: str
    column: str
    groups: tuple[RegimenResponse, ...]
    comparisons: tuple[RateComparison, ...]
    methods: Mapping[str, str] = field(default_factory=dict)


def available_criteria(frame: pd.DataFrame) -> tuple[str, ...]:
    """RECIST 1.1 always; mRECIST where the cohort has at least one recorded value."""
    return tuple(c for c, col in CRITERIA.items()
                 if c == "RECIST 1.1" or (col in frame and frame[col].notna().any()))


def response_rates(frame: pd.DataFrame, regimens: tuple[str, ...], criterion: str = "RECIST 1.1",
                   conf_level: float = 0.95) -> ResponseSummary:
    """Counts, ORR and DCR per regimen (exact CIs, both denominators) and tests across regimens.

    Parameters
    ----------
    frame : cohort rows (``Cohort.frame``).
    regimens : regimens in display order (``Cohort.regimens``).
    criterion : a key of :data:`CRITERIA` or :data:`SECOND_LINE_CRITERIA` (pass only the patients
        who started second line for the latter).
    conf_level : confidence level of the CIs.
    """
    columns = {**CRITERIA, **SECOND_LINE_CRITERIA}
    if criterion not in columns:
        raise ValueError(f"criterion must be one of {list(columns)}, not {criterion!r}")
    column = columns[criterion]
    best = frame[column].where(frame[column].notna(), NOT_RECORDED)
    regimen = frame[Col.REGIMEN_1L]
    groups = []
    for r in regimens:
        values = best[regimen == r]
        counts = {c: int((values == c).sum()) for c in CATEGORIES}
        rates = {}
        for name, achieved in RATES.items():
            k = sum(counts[c] for c in achieved)
            rates[(name, "evaluable")] = clopper_pearson(k, sum(counts[c] for c in EVALUABLE), conf_level)
            rates[(name, "all")] = clopper_pearson(k, len(values), conf_level)
        groups.append(RegimenResponse(r, len(values), counts, rates))
    comparisons = []
    for name in RATES:
        for den in DENOMINATORS:
            table = np.array([[g.rates[(name, den)].k for g in groups],
                              [g.rates[(name, den)].n - g.rates[(name, den)].k for g in groups]])
            p, test = categorical_test(table) if len(groups) > 1 else (math.nan, "")
            comparisons.append(RateComparison(name, den, p, test))
    methods = {
        "rates": tr("ORR = CR + PR, DCR = CR + PR + SD, each over the evaluable patients (CR, PR, SD or PD) "
                    "and over all patients"),
        "confidence interval": tr("{level} exact Clopper–Pearson (R binom.test)", level=f"{conf_level:.0%}"),
        "comparison": tr("chi-square without continuity correction across regimens (R chisq.test(correct = "
                         "FALSE)); Fisher's exact test when an expected count is below 5"),
    }
    return ResponseSummary(criterion, column, tuple(groups), tuple(comparisons), methods)


# -- time-dependent Cox models ----------------------------------------------------------------------
@dataclass(frozen=True)
class ModelRow:
    """One line of the models table: a covariate, a regimen (or :data:`POOLED`), both models.

    ``td`` / ``naive`` are ``None`` when not estimable, with the reason in ``note``.
    """

    covariate: str
    group: str
    td: TDCoxResult | None
    naive: TDCoxResult | None
    published: float | None
    note: str = ""


def _published(study: PublishedStudy, covariate: str) -> Mapping[str, float]:
    return study.td_hr_disease_control if covariate == "DC" else study.td_hr_objective_response


def _try(fit, *args, **kwargs) -> tuple[TDCoxResult | None, str]:
    try:
        return fit(*args, **kwargs), ""
    except ValueError as exc:
        return None, str(exc)


def response_models(frame: pd.DataFrame, regimens: tuple[str, ...], regimen_as: str = "stratum",
                    study: PublishedStudy = INOUE_2026) -> tuple[ModelRow, ...]:
    """Time-dependent and naive Cox models of OS on DC and on OR, per regimen and pooled.

    Parameters
    ----------
    frame : cohort rows (``Cohort.frame``).
    regimens : regimens fitted one by one, in display order.
    regimen_as : how the pooled model accounts for the regimen: 'stratum' or 'covariate'
        (see :data:`hcc.stats.tdcox.REGIMEN_AS`).
    study : where the published hazard ratios come from.
    """
    if regimen_as not in REGIMEN_AS or regimen_as is None:
        raise ValueError("regimen_as must be 'stratum' or 'covariate'")
    # The 16 fits read these columns only: each regimen's rows are taken once, not per fit, and
    # without the cohort's other columns (at 1M patients, copying them was most of the time).
    used = (Col.PATIENT_ID, Col.REGIMEN_1L, Col.START_1L, Col.DATE_DEATH, Col.DATE_LAST_FOLLOWUP, SOURCE_ROW,
            *COVARIATES.values())
    frame = frame[[c for c in used if c in frame]]
    own = {r: frame.loc[frame[Col.REGIMEN_1L] == r] for r in regimens}
    rows = []
    for cov, column in COVARIATES.items():
        published = _published(study, cov)
        settings = [(r, own[r], {"regimen": r}) for r in regimens]
        if len(regimens) > 1:
            settings.append((POOLED, frame, {"regimen_as": regimen_as}))
        for group, rows_of, kwargs in settings:
            td, note = _try(time_dependent_cox, rows_of, column, **kwargs)
            naive, _ = _try(fixed_covariate_cox, rows_of, column, **kwargs)
            rows.append(ModelRow(cov, group, td, naive, published.get(group), note))
    return tuple(rows)


# -- landmark analysis ------------------------------------------------------------------------------
def landmark_labels(months: float, covariate: str) -> tuple[str, str]:
    """Group names: (reached by the landmark, not reached), e.g. ('DC by 3 months', 'No DC by 3 months')."""
    return (tr("{covariate} by {months} months", covariate=covariate, months=f"{months:g}"),
            tr("No {covariate} by {months} months", covariate=covariate, months=f"{months:g}"))


@dataclass(frozen=True, eq=False)
class LandmarkResult:
    """Overall survival from a landmark by whether the covariate was reached by then.

    Attributes
    ----------
    landmark_months : the landmark L, months after first-line start.
    covariate : 'DC' or 'OR'.
    regimen : the regimen analysed, or ``None`` for the whole cohort.
    groups : (reached, not reached) labels; the second is the HR's reference.
    summary : KM, log-rank and Cox by group, times from the landmark (``None`` if nobody is at risk).
    not_at_risk : patients who died or were censored on or before the landmark (left out).
    excluded : reason -> patients whose dates cannot be used (:func:`hcc.stats.tdcox.switch_data`).
    """

    landmark_months: float
    covariate: str
    regimen: str | None
    groups: tuple[str, str]
    summary: EndpointSummary | None
    not_at_risk: int
    excluded: Mapping[str, int]

    @property
    def cox(self) -> CoxTerm | None:
        """HR of reaching the covariate vs not, or ``None`` when not estimable (:attr:`cox_reason`)."""
        term = self.summary.cox[0] if self.summary is not None and self.summary.cox else None
        return term if term is not None and term.estimable else None

    @property
    def cox_reason(self) -> str:
        """Why the HR is not given ("not estimable — no deaths in …"), "" when it is or no model was fitted."""
        term = self.summary.cox[0] if self.summary is not None and self.summary.cox else None
        return term.reason if term is not None and not term.estimable else ""


def landmark_data(data: SwitchData, months: float) -> tuple[EndpointData, tuple[str, str], int]:
    """Patients followed beyond the landmark, their OS from it and their group.

    At risk: OS time > L (alive and followed at L). Reached: the switch date on or before
    ``start_1l + L``. L in days is ``months * 30.4375``.
    """
    if months <= 0:
        raise ValueError("the landmark must be a positive number of months")
    cov = next(k for k, v in COVARIATES.items() if v == data.switch_col)
    reached, not_reached = landmark_labels(months, cov)
    lm_days = months * DAYS_PER_MONTH
    at_risk = data.days > lm_days
    got = np.isfinite(data.switch_days) & (data.switch_days <= lm_days)
    group = np.where(got, reached, not_reached).astype(object)[at_risk]
    not_at_risk = int((~at_risk).sum())
    endpoint = EndpointData(
        endpoint=Endpoint.OS, patient_id=data.patient_id[at_risk], group=group,
        days=data.days[at_risk] - lm_days, event=data.event[at_risk],
        not_eligible={tr("died or censored by {months} months", months=f"{months:g}"): not_at_risk} if not_at_risk else {},
        excluded=data.excluded)
    return endpoint, (reached, not_reached), not_at_risk


def landmark(frame: pd.DataFrame, months: float, covariate: str = "DC", regimen: str | None = None,
             spec: AnalysisSpec | None = None) -> LandmarkResult:
    """Landmark analysis of overall survival at ``months`` after first-line start.

    Kaplan–Meier curves from the landmark per group, log-rank test and Cox HR (reached vs not; Efron,
    Wald CI) with :func:`hcc.stats.survival.summarize` — R: ``survfit``, ``survdiff`` and ``coxph`` on the
    landmark data. ``spec`` sets the CI type and milestones (its reference is always "not reached").
    """
    if covariate not in COVARIATES:
        raise ValueError(f"covariate must be one of {list(COVARIATES)}")
    if regimen is not None:
        frame = frame.loc[frame[Col.REGIMEN_1L] == regimen]
    data = switch_data(frame, COVARIATES[covariate])
    endpoint, groups, not_at_risk = landmark_data(data, months)
    base = spec or AnalysisSpec()
    spec = AnalysisSpec(conf_type=base.conf_type, conf_level=base.conf_level,
                        milestones_months=base.milestones_months, reference=groups[1])
    summary = summarize(endpoint, groups, spec) if endpoint.n else None
    return LandmarkResult(float(months), covariate, regimen, groups, summary, not_at_risk,
                          data.excluded_counts())


# -- swimmer plot -----------------------------------------------------------------------------------
#: Sort orders of the swimmer plot.
SWIMMER_SORTS: dict[str, str] = {
    "duration": N_("longest follow-up first"),
    "regimen": N_("by regimen, then longest follow-up"),
    "control": N_("earliest disease control first"),
}
#: Lane columns (months from first-line start; NaN = did not happen during follow-up).
LANE_EVENTS: dict[str, str] = {
    "dc": N_("first disease control"), "response": N_("first response"), "progression": N_("progression"),
    "second_line": N_("second-line start"), "death": N_("death"),
}


def swimmer_lanes(frame: pd.DataFrame, regimens: tuple[str, ...] | None = None, *, max_patients: int = 200,
                  sort: str = "duration", seed: int = 0) -> pd.DataFrame:
    """One lane per patient, for :func:`hcc.outputs.figures.swimmer_figure`.

    Parameters
    ----------
    frame : cohort rows.
    regimens : keep these first-line regimens (``None`` = all).
    max_patients : at most this many lanes; larger cohorts are sampled without replacement, with
        a fixed ``seed`` after ordering by patient code, so the same cohort gives the same lanes.
    sort : a key of :data:`SWIMMER_SORTS`.

    Returns
    -------
    pandas.DataFrame
        ``patient`` (code), ``regimen``, ``end`` (months to death or last follow-up), one column per
        :data:`LANE_EVENTS` (months; NaN when absent or after the end), ``alive`` (bool), ``lane``
        (0 = top), and ``n_total`` (patients before sampling) in ``attrs``.
    """
    if sort not in SWIMMER_SORTS:
        raise ValueError(f"sort must be one of {list(SWIMMER_SORTS)}")
    if regimens is not None:
        frame = frame.loc[frame[Col.REGIMEN_1L].isin(regimens)]
    start = frame[Col.START_1L]
    end = follow_up_end(frame)
    end_months = (end - start).dt.days / DAYS_PER_MONTH
    usable = end_months.notna() & (end_months >= 0)
    frame, start, end_months = frame[usable], start[usable], end_months[usable]
    lanes = pd.DataFrame({"patient": frame[Col.PATIENT_ID].to_numpy(),
                          "regimen": frame[Col.REGIMEN_1L].to_numpy(), "end": end_months.to_numpy()})
    for name, col in zip(LANE_EVENTS, (Col.DATE_DC_1L, Col.DATE_RESPONSE_1L, Col.DATE_PROGRESSION_1L,
                                       Col.START_2L, Col.DATE_DEATH)):
        months = ((frame[col] - start).dt.days / DAYS_PER_MONTH).to_numpy()
        lanes[name] = np.where((months >= 0) & (months <= lanes["end"]), months, np.nan)
    lanes["alive"] = lanes["death"].isna()
    n_total = len(lanes)
    lanes = lanes.sort_values("patient", ignore_index=True)
    if n_total > max_patients:
        keep = np.random.default_rng(seed).choice(n_total, size=max_patients, replace=False)
        lanes = lanes.iloc[np.sort(keep)]
    if sort == "duration":
        lanes = lanes.sort_values(["end", "patient"], ascending=[False, True])
    elif sort == "regimen":
        order = {r: i for i, r in enumerate(regimens or dict.fromkeys(lanes["regimen"]))}
        lanes = lanes.assign(_o=lanes["regimen"].map(order)).sort_values(
            ["_o", "end", "patient"], ascending=[True, False, True]).drop(columns="_o")
    else:
        lanes = lanes.sort_values(["dc", "end"], ascending=[True, False], na_position="last")
    lanes = lanes.reset_index(drop=True)
    lanes["lane"] = np.arange(len(lanes))
    lanes.attrs["n_total"] = n_total
    return lanes


# -- everything, for the CLI ------------------------------------------------------------------------
@dataclass(frozen=True, eq=False)
class ResponseAnalysis:
    """Response rates per criterion, the models, and the landmark analyses of one cohort."""

    rates: Mapping[str, ResponseSummary]
    models: tuple[ModelRow, ...]
    landmarks: tuple[LandmarkResult, ...]
    regimen_as: str


def analyze_response(frame: pd.DataFrame, regimens: tuple[str, ...],
                     landmarks_months: tuple[float, ...] = DEFAULT_LANDMARKS_MONTHS,
                     regimen_as: str = "stratum") -> ResponseAnalysis:
    """Everything of this module for one cohort (landmarks over the whole cohort)."""
    rates = {c: response_rates(frame, regimens, c) for c in available_criteria(frame)}
    models = response_models(frame, regimens, regimen_as)
    marks = tuple(landmark(frame, m, cov) for m in landmarks_months for cov in COVARIATES)
    return ResponseAnalysis(rates, models, marks, regimen_as)


def _proportion_json(p: Proportion) -> dict[str, Any]:
    return {"k": p.k, "n": p.n, "est": json_number(p.estimate), "ci": [json_number(p.lower), json_number(p.upper)]}


def _model_json(m: TDCoxResult | None) -> dict[str, Any] | None:
    if m is None:
        return None
    return {"hr": m.hr, "ci": [m.ci_low, m.ci_high], "p": m.p, "n": m.n_patients, "events": m.n_events,
            "n_switched": m.n_switched}


def response_json(analysis: ResponseAnalysis) -> dict[str, Any]:
    """The CLI's ``response``, ``tdcox`` and ``landmark`` keys (README, 'Headless analysis')."""
    response = {}
    for criterion, s in analysis.rates.items():
        response[criterion] = {
            "column": s.column,
            "regimens": {g.regimen: {"n": g.n, "counts": dict(g.counts), "evaluable": g.evaluable,
                                     **{rate.lower(): {den: _proportion_json(g.rates[(rate, den)])
                                                       for den in DENOMINATORS} for rate in RATES}}
                         for g in s.groups},
            "tests": [{"rate": c.rate, "denominator": c.denominator, "p": json_number(c.p), "test": tr(c.test) if c.test else None}
                      for c in s.comparisons],
        }
    tdcox: dict[str, dict[str, Any]] = {cov: {} for cov in COVARIATES}
    for row in analysis.models:
        entry = _model_json(row.td) or {"hr": None, "note": row.note}
        if row.group == POOLED:
            entry["regimen_as"] = analysis.regimen_as
        entry["published_hr"] = row.published
        entry["naive"] = _model_json(row.naive)
        tdcox[row.covariate][row.group] = entry
    landmarks: dict[str, dict[str, Any]] = {}
    for lm in analysis.landmarks:
        s, cox = lm.summary, lm.cox
        groups = {g.group: {"n": g.n, "events": g.events} for g in s.groups} if s else {}
        landmarks.setdefault(f"{lm.landmark_months:g}", {})[lm.covariate] = {
            "groups": groups, "reference": lm.groups[1], "not_at_risk": lm.not_at_risk,
            "hr": None if cox is None else cox.hr, "ci": None if cox is None else [cox.lower, cox.upper],
            "p": None if cox is None else cox.p,
            "logrank_p": None if s is None or s.logrank is None else s.logrank.p,
            **({"estimable": False, "reason": lm.cox_reason} if lm.cox_reason else {}),
        }
    return {"response": response, "tdcox": tdcox, "landmark": landmarks}
