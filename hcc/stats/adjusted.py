"""Adjusted comparisons of first-line regimens: multivariable Cox models and subgroup analyses.

- :func:`fit_multivariable`: Cox model of an endpoint on the regimen (against a chosen reference) and
  the chosen baseline covariates, optionally stratified by center — R's ``coxph(Surv(time, status) ~
  regimen + age + ... + strata(center), ties = "efron")``. Complete cases only, the number left out
  shown. Every fit is checked for proportional hazards with :func:`hcc.stats.coxscore.cox_zph` (R's
  ``cox.zph``, survival >= 3.0).
(Subgroup analyses: :mod:`hcc.stats.subgroups`; propensity weighting: :mod:`hcc.stats.weighting`.)

Covariates are coded as :data:`COVARIATES` says (the reference level first); the same coding is
used by :mod:`hcc.stats.weighting` for the propensity model. Agrees with R to ~1e-8 (``tests/test_adjusted.py``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from lifelines import CoxPHFitter
from lifelines.exceptions import ConvergenceError, ConvergenceWarning

from hcc.cohort.rules import Cohort
from hcc.stats.coxscore import GLOBAL, PHTest, cox_zph
from hcc.cohort.endpoints import derive
from hcc.errors import SpecError
from hcc.i18n import N_, tr, trc
from hcc.formatting import format_hr, format_p_plain, json_number
from hcc.schema import (
    AFP_400, AFP_CUTOFF_NG_ML, ALBI_GRADES, BCLC_STAGES, CHILD_PUGH_CLASSES, ERA_YEAR, ETIOLOGIES, SEXES, Col,
    Endpoint, value_label,
)
from hcc.stats.survival import COX_FIT_OPTIONS, COX_TIES
from hcc.stats.threadsafe import thread_warnings

__all__ = ["Covariate", "COVARIATES", "CoxSpec", "ModelFrame", "ModelTerm", "MultivariableCox",
           "parse_formula", "model_frame", "fit_multivariable", "fit_cox_frame", "term_label",
           "multivariable_json", "cox_table", "ph_table", "format_hr", "format_p_plain", "MIN_LEVEL_PATIENTS",
           "YES", "NO", "as_text", "yes_no"]

#: Categorical levels with fewer patients than this in the analysed patients are flagged.
MIN_LEVEL_PATIENTS = 10
#: A proportional-hazards test below this p is reported as a violation.
PH_ALPHA = 0.05
#: AFP below 1 ng/mL (below assay detection limits) is counted as 1 before log10.
AFP_FLOOR = 1.0
ECOG_2PLUS = "≥2"
YES, NO = "yes", "no"
_TIME, _EVENT, _STRATUM, _WEIGHT = "_time", "_event", "_stratum", "_weight"


@dataclass(frozen=True)
class Covariate:
    """How one covariate enters a model.

    Attributes
    ----------
    key : its name in formulas (a canonical column, or ``afp_400``).
    label : for tables and plots.
    column : the registry column it is read from.
    levels : categorical levels, reference first; empty for a continuous covariate.
    code : maps the column (a Series) to model values: numbers, or level strings (NaN = missing).
    unit : what one unit of a continuous covariate is (for labels).
    """

    key: str
    label: str
    column: str
    levels: tuple[str, ...] = ()
    code: Callable[[pd.Series], pd.Series] = lambda s: pd.to_numeric(s, errors="coerce").astype(float)
    unit: str = ""

    @property
    def categorical(self) -> bool:
        return bool(self.levels)


def _per_distinct(s: pd.Series, code: Callable[[Any], str]) -> pd.Series:
    """``code`` of each value, None for a missing one, computed once per distinct value (one hash
    pass instead of a Python call per patient); as ``s.map(lambda v: None if pd.isna(v) else code(v))``."""
    codes, uniques = pd.factorize(s, use_na_sentinel=True)
    labels = np.array([*(code(v) for v in uniques), None], dtype=object)  # code -1 (missing) -> None
    return pd.Series(labels[codes], index=s.index, dtype=object)


def as_text(s: pd.Series) -> pd.Series:
    """Values as strings, missing as None."""
    if s.dtype == object and len({type(v) for v in pd.factorize(s)[1]}) > 1:
        # 1, 1.0 and True hash as one value but read "1", "1.0" and "True": one string per cell
        return s.astype(object).where(s.notna(), None).map(lambda v: None if v is None else str(v))
    return _per_distinct(s, str)


def yes_no(s: pd.Series) -> pd.Series:
    """A boolean column as ``yes`` / ``no``, missing as None."""
    return _per_distinct(s, lambda v: YES if bool(v) else NO)


def _ecog(s: pd.Series) -> pd.Series:
    return _per_distinct(pd.to_numeric(s, errors="coerce"), lambda v: ECOG_2PLUS if v >= 2 else str(int(v)))


def _log10_afp(s: pd.Series) -> pd.Series:
    return np.log10(np.maximum(pd.to_numeric(s, errors="coerce").astype(float), AFP_FLOOR))


def start_year(s: pd.Series) -> pd.Series:
    """Calendar year of a date column (first-line start) as a number; missing as NaN."""
    return pd.to_datetime(s, errors="coerce").dt.year.astype(float)


def _afp_400(s: pd.Series) -> pd.Series:
    v = pd.to_numeric(s, errors="coerce").astype(float)
    return pd.Series(np.where(v.isna(), None, np.where(v >= AFP_CUTOFF_NG_ML, YES, NO)), index=s.index, dtype=object)


COVARIATES: dict[str, Covariate] = {c.key: c for c in (
    Covariate(Col.AGE, N_("Age"), Col.AGE, unit=N_("per year")),
    Covariate(Col.SEX, N_("Sex"), Col.SEX, SEXES, as_text),
    Covariate(Col.ETIOLOGY, N_("Etiology"), Col.ETIOLOGY, ETIOLOGIES, as_text),
    Covariate(Col.CHILD_PUGH_CLASS, N_("Child-Pugh class"), Col.CHILD_PUGH_CLASS, CHILD_PUGH_CLASSES, as_text),
    Covariate(Col.CHILD_PUGH_SCORE, N_("Child-Pugh score"), Col.CHILD_PUGH_SCORE, unit=N_("per point")),
    Covariate(Col.ALBI_GRADE, N_("ALBI grade"), Col.ALBI_GRADE, ALBI_GRADES, as_text),
    Covariate(Col.ALBI_SCORE, N_("ALBI score"), Col.ALBI_SCORE, unit=N_("per unit")),
    Covariate(Col.BCLC, N_("BCLC stage"), Col.BCLC, BCLC_STAGES, as_text),
    Covariate(Col.ECOG, N_("ECOG PS"), Col.ECOG, ("0", "1", ECOG_2PLUS), _ecog),
    Covariate(Col.MVI, N_("Macrovascular invasion"), Col.MVI, (NO, YES), yes_no),
    Covariate(Col.EHS, N_("Extrahepatic spread"), Col.EHS, (NO, YES), yes_no),
    Covariate(Col.AFP, N_("log10 AFP"), Col.AFP, code=_log10_afp, unit=N_("per 10-fold")),
    Covariate(AFP_400, N_("AFP ≥ 400 ng/mL"), Col.AFP, (NO, YES), _afp_400),
    Covariate(ERA_YEAR, N_("Year of first-line start"), Col.START_1L, code=start_year, unit=N_("per year")),
)}
_NAMES_FOR_ERRORS = {Col.CENTER: N_("Center"), **{k: c.label for k, c in COVARIATES.items()}}
#: Formula words that stratify by center instead of adding a covariate.
CENTER_WORDS: frozenset[str] = frozenset({Col.CENTER, f"strata({Col.CENTER})"})


@dataclass(frozen=True)
class CoxSpec:
    """A multivariable Cox model of one endpoint.

    Attributes
    ----------
    endpoint : the endpoint (``hcc.schema.Endpoint``).
    covariates : keys of :data:`COVARIATES`, in the order shown; the regimen is always in the model
        when the cohort has more than one.
    reference : regimen the hazard ratios are against (``None`` = the cohort's first regimen).
    center_stratum : a baseline hazard per center (R ``+ strata(center)``) instead of none.
    """

    endpoint: Endpoint = Endpoint.OS
    covariates: tuple[str, ...] = (Col.AGE, Col.CHILD_PUGH_CLASS, Col.BCLC)
    reference: str | None = None
    center_stratum: bool = False

    def __post_init__(self) -> None:
        unknown = [c for c in self.covariates if c not in COVARIATES]
        if unknown:
            raise SpecError(tr("unknown covariate {unknown} (choose from {allowed})", unknown=", ".join(unknown),
                               allowed=", ".join(COVARIATES)))
        if len(set(self.covariates)) != len(self.covariates):
            raise SpecError(tr("a covariate is listed twice"))
        if Col.AFP in self.covariates and AFP_400 in self.covariates:
            raise SpecError(tr("choose AFP either as log10 or as >= 400 ng/mL, not both"))


def parse_formula(formula: str) -> tuple[tuple[str, ...], bool]:
    """``"age+child_pugh_class+strata(center)"`` -> (covariate keys, center as stratum).

    The regimen term (``regimen_1l``) may be written and is always in the model anyway.
    """
    words = [w.strip() for w in formula.replace(" ", "").split("+") if w.strip()]
    unknown = [w for w in words if w not in COVARIATES and w not in CENTER_WORDS and w != Col.REGIMEN_1L]
    if unknown:
        raise SpecError(tr("--cox: unknown covariate {unknown} (choose from {allowed})", unknown=", ".join(unknown),
                           allowed=", ".join([*COVARIATES, Col.CENTER])))
    keys = tuple(w for w in words if w in COVARIATES)
    return keys, any(w in CENTER_WORDS for w in words)


@dataclass(frozen=True, eq=False)
class ModelFrame:
    """The complete-case data of one model.

    Attributes
    ----------
    x : design matrix, one column per coefficient (dummy columns ``key=level``).
    days, event : the endpoint, in days.
    regimen : first-line regimen per row.
    stratum : center per row when stratified, else ``None``.
    terms : term key -> its columns in ``x`` (the regimen under ``regimen_1l``).
    levels : term key -> (reference level, levels with a column) for categorical terms.
    n_eligible : patients with the endpoint (before dropping incomplete rows).
    missing : covariate -> patients without a value, among the eligible.
    level_counts : (term key, level) -> (patients, events), analysed rows.
    """

    x: pd.DataFrame
    days: np.ndarray
    event: np.ndarray
    regimen: np.ndarray
    patient_id: np.ndarray
    stratum: np.ndarray | None
    terms: dict[str, list[int]]
    levels: dict[str, tuple[str, tuple[str, ...]]]
    n_eligible: int
    missing: dict[str, int]
    level_counts: dict[tuple[str, str], tuple[int, int]]

    @property
    def n(self) -> int:
        return len(self.days)

    @property
    def dropped(self) -> int:
        return self.n_eligible - self.n


def _regimen_covariate(regimens: tuple[str, ...], reference: str) -> Covariate:
    ordered = (reference, *[r for r in regimens if r != reference])
    return Covariate(Col.REGIMEN_1L, "Regimen", Col.REGIMEN_1L, ordered, as_text)


def model_frame(frame: pd.DataFrame, endpoint: Endpoint | str, covariates: tuple[str, ...],
                regimens: tuple[str, ...], reference: str | None = None, center_stratum: bool = False,
                *, with_regimen: bool = True) -> ModelFrame:
    """Derive the endpoint and code the covariates; keep complete cases.

    Categorical covariates become 0/1 columns for each level but the reference (the first level of
    :data:`COVARIATES` present among the analysed rows, as R's ``factor`` + ``droplevels``).
    """
    data = derive(frame, endpoint)
    reference = reference if reference in regimens else regimens[0]
    specs = [COVARIATES[k] for k in covariates]
    if with_regimen and len(regimens) > 1:
        specs = [_regimen_covariate(regimens, reference), *specs]
    used = list(dict.fromkeys([c.column for c in specs] + ([Col.CENTER] if center_stratum else [])))
    rows = frame[[Col.PATIENT_ID, *used]].set_index(Col.PATIENT_ID).loc[data.patient_id]  # only the model's columns
    coded = {c.key: c.code(rows[c.column]).reset_index(drop=True) for c in specs}
    complete = np.ones(len(rows), bool)
    missing: dict[str, int] = {}
    for c in specs:
        miss = coded[c.key].isna().to_numpy()
        if c.categorical:
            miss |= ~coded[c.key].isin(c.levels).to_numpy()
        missing[c.key] = int(miss.sum())
        complete &= ~miss
    stratum = None
    if center_stratum:
        centers = rows[Col.CENTER].reset_index(drop=True)
        missing[Col.CENTER] = int(centers.isna().sum())
        complete &= centers.notna().to_numpy()
        stratum = centers.to_numpy(dtype=object)[complete]
    event = np.asarray(data.event, bool)[complete]
    columns: dict[str, np.ndarray] = {}
    terms: dict[str, list[int]] = {}
    levels: dict[str, tuple[str, tuple[str, ...]]] = {}
    counts: dict[tuple[str, str], tuple[int, int]] = {}
    for c in specs:
        values = coded[c.key][complete].to_numpy()
        if not c.categorical:
            terms[c.key] = [len(columns)]
            columns[c.key] = values.astype(float)
            continue
        at = {lv: values == lv for lv in c.levels}  # one comparison of the object column per level
        present = [lv for lv in c.levels if at[lv].any()]
        for lv in present:
            counts[(c.key, lv)] = (int(at[lv].sum()), int(event[at[lv]].sum()))
        if len(present) < 2:
            continue  # a factor with one level is constant: R drops it (NA coefficient)
        levels[c.key] = (present[0], tuple(present[1:]))
        terms[c.key] = list(range(len(columns), len(columns) + len(present) - 1))
        for lv in present[1:]:
            columns[f"{c.key}={lv}"] = at[lv].astype(float)
    return ModelFrame(x=pd.DataFrame(columns), days=data.days[complete], event=event,
                      regimen=np.asarray(data.group, dtype=object)[complete],
                      patient_id=np.asarray(data.patient_id, dtype=object)[complete], stratum=stratum,
                      terms=terms, levels=levels, n_eligible=data.n, missing=missing, level_counts=counts)


@dataclass(frozen=True)
class ModelTerm:
    """One coefficient: its hazard ratio with Wald 95% CI and p.

    ``term`` is ``key`` for a continuous covariate and ``key=level`` for a level of a factor;
    ``n``/``events`` are the patients (events) at that level; ``flag`` says why to distrust it.
    """

    term: str
    covariate: str
    label: str
    level: str | None
    reference: str | None
    coef: float
    se: float
    hr: float
    lower: float
    upper: float
    p: float
    n: int | None = None
    events: int | None = None
    flag: str = ""


@dataclass(frozen=True, eq=False)
class MultivariableCox:
    """A fitted multivariable Cox model with its proportional-hazards check."""

    spec: CoxSpec
    reference: str | None
    terms: tuple[ModelTerm, ...]
    n: int
    events: int
    n_eligible: int
    missing: dict[str, int]
    concordance: float
    lr_statistic: float
    lr_df: int
    lr_p: float
    ph_tests: tuple[PHTest, ...]
    warnings: tuple[str, ...] = ()
    methods: dict[str, str] = field(default_factory=dict)

    @property
    def dropped(self) -> int:
        return self.n_eligible - self.n

    @property
    def ph_violations(self) -> tuple[PHTest, ...]:
        """Terms (and GLOBAL) whose proportional-hazards test has p < 0.05."""
        return tuple(t for t in self.ph_tests if t.p < PH_ALPHA)


def term_label(key: str, level: str | None, reference: str | None) -> str:
    """A coefficient in words, e.g. ``Child-Pugh class B vs A``, ``Age (per year)``, ``LEN vs SOR``."""
    if key == Col.REGIMEN_1L:
        return tr("{level} vs {reference}", level=level, reference=reference)
    c = COVARIATES[key]
    if level is None:
        return tr("{covariate} ({unit})", covariate=tr(c.label), unit=tr(c.unit)) if c.unit else tr(c.label)
    if level == YES and reference == NO:
        return tr(c.label)
    return tr("{covariate} {level} vs {reference}", covariate=tr(c.label), level=level_text(key, level),
              reference=level_text(key, reference))


def level_text(key: str, level: str | None) -> str | None:
    """A covariate level as a reader sees it (sex, etiology, yes/no in the current language)."""
    if level in (YES, NO) and key in (Col.MVI, Col.EHS, AFP_400):
        return trc("yes/no value", level)
    return level if level is None else value_label(key, level)


#: From this many rows, a fit whose times are mostly ties (whole days: a few thousand distinct times
#: among 10^5-10^6 patients) takes lifelines' batch Efron computation, 2-4 times faster there than
#: the per-time one its own heuristic picks (``benchmarks/pages.py``); same estimates to ~1e-12.
BATCH_MIN_ROWS = 10_000


def _batch_mode(days: np.ndarray) -> bool | None:
    """lifelines' ``batch_mode``: True for a large fit with at most one distinct time per 4 rows,
    else None (lifelines chooses, as before: every small fit is computed exactly as it was)."""
    return True if len(days) >= BATCH_MIN_ROWS and len(np.unique(days)) * 4 <= len(days) else None


def fit_cox_frame(mf: ModelFrame, weights: np.ndarray | None = None) -> tuple[CoxPHFitter, str]:
    """lifelines Cox fit (Efron, R-tight precision) of ``mf``; returns the fitter and a note that is
    non-empty when lifelines flagged the fit as poorly converged. Case weights as R ``weights =``;
    the model-based variance (robust variance: :func:`hcc.stats.coxscore.robust_variance`)."""
    data = mf.x.copy()
    data[_TIME], data[_EVENT] = mf.days, mf.event.astype(int)
    if mf.stratum is not None:
        data[_STRATUM] = mf.stratum
    if weights is not None:
        data[_WEIGHT] = weights
    fitter = CoxPHFitter(strata=[_STRATUM] if mf.stratum is not None else None)
    with thread_warnings() as caught:
        try:
            fitter.fit(data, duration_col=_TIME, event_col=_EVENT, fit_options=COX_FIT_OPTIONS,
                       weights_col=_WEIGHT if weights is not None else None, batch_mode=_batch_mode(mf.days))
        except (ConvergenceError, np.linalg.LinAlgError):
            raise SpecError(tr("the Cox model cannot be fitted with these covariates (a level without events, or "
                               "covariates that duplicate each other): choose fewer covariates")) from None
    note = tr("the fit did not converge cleanly (a level with very few events?)") if any(
        issubclass(w.category, ConvergenceWarning) for w in caught) else ""
    return fitter, note


def concordance_counts(time: np.ndarray, pred: np.ndarray, event: np.ndarray) -> tuple[int, int, int]:
    """Harrell's C's counts as lifelines' ``_concordance_summary_statistics`` gives them (correct, tied,
    pairs), in numpy: each patient is compared with every death before it (a death: strictly
    before; a censored patient: at or before its time); ``correct`` counts the deaths with a smaller
    ``pred``, ``tied`` those with an equal one. lifelines walks a Python B-tree once per patient
    (~8 s at 400,000); here one Fenwick tree over the deaths' distinct ``pred`` values is updated
    and queried once per distinct time, vectorised (Harrell 1982; R ``concordance``)."""
    time, pred, event = np.asarray(time, float), np.asarray(pred, float), np.asarray(event, bool)
    if not event.any():
        return 0, 0, 0
    values = np.unique(pred[event])
    bucket = np.searchsorted(values, pred)  # deaths' values below pred: buckets 0 .. bucket-1
    same = (bucket < len(values)) & (values[np.minimum(bucket, len(values) - 1)] == pred)
    tree = np.zeros(len(values) + 1, np.int64)  # Fenwick tree, 1-based, counts per bucket
    per_value = np.zeros(len(values), np.int64)
    order = np.lexsort((~event, time))  # by time, deaths before censored at one time (as lifelines)
    t_sorted, e_sorted = time[order], event[order]
    starts = np.flatnonzero(np.r_[True, (t_sorted[1:] != t_sorted[:-1]) | (e_sorted[1:] != e_sorted[:-1])])
    ends = np.r_[starts[1:], len(order)]
    correct = tied = pairs = 0
    inserted = 0
    for a, b in zip(starts, ends):
        rows = order[a:b]
        idx = bucket[rows].copy()  # prefix sums over buckets < bucket: Fenwick positions 1..idx
        less = np.zeros(len(rows), np.int64)
        while (live := idx > 0).any():
            less[live] += tree[idx[live]]
            idx[live] -= idx[live] & -idx[live]
        correct += int(less.sum())
        tied += int(per_value[bucket[rows][same[rows]]].sum())
        pairs += inserted * len(rows)
        if e_sorted[a]:
            np.add.at(per_value, bucket[rows], 1)
            pos = bucket[rows] + 1
            while len(pos):
                np.add.at(tree, pos, 1)
                pos = pos + (pos & -pos)
                pos = pos[pos <= len(values)]
            inserted += len(rows)
    return correct, tied, pairs


def _concordance(fitter: CoxPHFitter) -> float:
    """lifelines' ``concordance_index_`` of a fitted model (within strata, summed, as R's), from
    :func:`concordance_counts` on the predictions lifelines kept at the fit."""
    df = fitter._predicted_partial_hazards_  # lifelines 0.30.3's (P, T, E) frame, what its property reads
    groups = [g for _, g in df.groupby(fitter.strata)] if fitter.strata else [df]
    correct = tied = pairs = 0
    for g in groups:
        if len(g) > 1:
            c, t, p = concordance_counts(g["T"].to_numpy(), -g["P"].to_numpy(), g["E"].to_numpy())
            correct, tied, pairs = correct + c, tied + t, pairs + p
    if pairs == 0:
        raise ZeroDivisionError("No admissable pairs in the dataset.")  # as lifelines
    return (correct + tied / 2) / pairs


def fit_multivariable(cohort: Cohort, spec: CoxSpec) -> MultivariableCox:
    """Fit ``spec`` on the cohort: HR (Wald 95% CI, p) per coefficient, n and events used,
    concordance, likelihood-ratio test against the null model, and ``cox.zph`` per term and GLOBAL.

    As R's ``coxph(Surv(days, event) ~ relevel(regimen, ref) + covariates [+ strata(center)],
    ties = "efron")`` on the complete cases; ``concordance`` as R's ``fit$concordance`` (within
    strata); LR = 2 (loglik(beta) - loglik(0)).
    """
    reference = spec.reference if spec.reference in cohort.regimens else cohort.regimens[0]
    mf = model_frame(cohort.frame, spec.endpoint, spec.covariates, cohort.regimens, reference, spec.center_stratum)
    absent = [k for k, v in mf.missing.items() if mf.n_eligible and v == mf.n_eligible]
    if absent:
        raise SpecError(tr("not recorded for any patient of this cohort: {covariates} — leave it out of the model",
                           covariates=", ".join(tr(_NAMES_FOR_ERRORS[k]) if k in _NAMES_FOR_ERRORS else k
                                                for k in absent)))
    if mf.n == 0 or not mf.event.any():
        raise SpecError(tr("no patient with an event has every chosen covariate recorded: choose fewer covariates"))
    if mf.x.shape[1] == 0:
        raise SpecError(tr("nothing to fit: every chosen covariate has a single value in these patients"))
    fitter, note = fit_cox_frame(mf)
    summ = fitter.summary
    notes = [note] if note else []
    terms = []
    for key, cols in mf.terms.items():
        ref, lvls = mf.levels.get(key, (None, ()))
        for i, col in enumerate(cols):
            name = mf.x.columns[col]
            level = lvls[i] if lvls else None
            n, ev = mf.level_counts.get((key, level), (None, None)) if level is not None else (None, None)
            flag = ""
            if n is not None and ev == 0:
                flag = tr("no events at this level: HR not estimable")
            elif n is not None and n < MIN_LEVEL_PATIENTS:
                flag = tr("only {n} patients at this level", n=n)
            row = summ.loc[name]
            terms.append(ModelTerm(name, key, term_label(key, level, ref), level, ref, float(row["coef"]),
                                   float(row["se(coef)"]), float(row["exp(coef)"]),
                                   float(row["exp(coef) lower 95%"]), float(row["exp(coef) upper 95%"]),
                                   float(row["p"]), n, ev, flag))
    for (key, level), (n, ev) in mf.level_counts.items():
        if key in mf.levels and level == mf.levels[key][0] and (n < MIN_LEVEL_PATIENTS or ev == 0):
            notes.append(tr("reference level {level} of {covariate} has only {n} patients ({events} events)",
                            level=level_text(key, level), n=n, events=ev,
                            covariate=term_label(key, None, None) if key != Col.REGIMEN_1L else tr("regimen")))
    dropped_constant = [k for k in (Col.REGIMEN_1L, *spec.covariates) if k not in mf.terms and
                        (k != Col.REGIMEN_1L or len(cohort.regimens) > 1)]
    if dropped_constant:
        notes.append(tr("left out (a single value in these patients): {covariates}", covariates=", ".join(dropped_constant)))
    flagged = [t for t in terms if t.flag]
    if flagged:
        notes.append(tr("sparse levels: {levels}", levels="; ".join(f"{t.label} ({t.flag})" for t in flagged)))
    beta = fitter.params_[mf.x.columns].to_numpy()
    ph = cox_zph(mf.days, mf.event, mf.x.to_numpy(), beta, mf.terms, strata=mf.stratum)
    lr = fitter.log_likelihood_ratio_test()
    methods = {
        "model": (tr("Cox proportional hazards (R coxph), stratified by center (R strata(center))")
                  if spec.center_stratum else tr("Cox proportional hazards (R coxph)")),
        "ties": COX_TIES,
        "ci": tr("Wald 95%, exp(coef ± 1.96 se) (R confint)"),
        "variance": tr("model-based (inverse information)"),
        "missing": tr("complete cases only"),
        "concordance": tr("Harrell's C on the linear predictor, within strata (R fit$concordance)"),
        "lr test": tr("2 (loglik(beta) - loglik(0)), chi-square with one df per coefficient"),
        "ph test": tr("scaled Schoenfeld residuals: exact score test per term and GLOBAL, "
                      "transform 'km' (R cox.zph, survival >= 3.0)"),
        "AFP": tr("log10(AFP), AFP below {floor} ng/mL counted as {floor}", floor=f"{AFP_FLOOR:g}"),
        "ECOG PS": tr("categorical 0, 1, {top}", top=ECOG_2PLUS),
    }
    return MultivariableCox(spec=spec, reference=reference if Col.REGIMEN_1L in mf.terms else None,
                            terms=tuple(terms), n=mf.n, events=int(mf.event.sum()), n_eligible=mf.n_eligible,
                            missing=mf.missing, concordance=float(_concordance(fitter)),
                            lr_statistic=float(lr.test_statistic), lr_df=int(lr.degrees_freedom),
                            lr_p=float(lr.p_value), ph_tests=ph, warnings=tuple(notes), methods=methods)


# Tables and JSON -------------------------------------------------------------------------------------

def cox_table(model: MultivariableCox) -> pd.DataFrame:
    """One row per coefficient: label, patients (events) at the level, HR (95% CI), p, flag."""
    return pd.DataFrame([{
        trc("result table", "Term"): t.label,
        trc("result table", "Patients (events)"): "" if t.n is None else f"{t.n} ({t.events})",
        trc("result table", "HR (95% CI)"): format_hr(t.hr, t.lower, t.upper), "p": format_p_plain(t.p),
        trc("result table", "Note"): t.flag,
    } for t in model.terms])


def ph_table(model: MultivariableCox) -> pd.DataFrame:
    """R's ``cox.zph`` table in words: term, chi-square, df, p, verdict."""
    names = {Col.REGIMEN_1L: tr("Regimen"), **{k: tr(c.label) for k, c in COVARIATES.items()}, GLOBAL: tr("Global test")}
    return pd.DataFrame([{
        trc("result table", "Term"): names.get(t.term, t.term), trc("result table", "Chi-square"): f"{t.chisq:.2f}",
        trc("result table", "df"): t.df, "p": format_p_plain(t.p),
        trc("result table", "Proportional hazards"): (tr("violated (p < 0.05)") if t.p < PH_ALPHA
                                                      else tr("no evidence against")),
    } for t in model.ph_tests])


def multivariable_json(model: MultivariableCox) -> dict[str, Any]:
    """The CLI's ``"multivariable"`` block (see README, 'Headless analysis')."""
    return {
        "endpoint": model.spec.endpoint.value,
        "reference": model.reference,
        "covariates": list(model.spec.covariates),
        "center_stratum": model.spec.center_stratum,
        "terms": [{"term": t.term, "label": t.label, "hr": json_number(t.hr), "ci": [json_number(t.lower), json_number(t.upper)],
                   "p": json_number(t.p), "coef": json_number(t.coef), "se": json_number(t.se), "flag": t.flag} for t in model.terms],
        "n": model.n, "events": model.events, "n_eligible": model.n_eligible, "dropped_incomplete": model.dropped,
        "missing": model.missing,
        "concordance": model.concordance,
        "lr_test": {"statistic": model.lr_statistic, "df": model.lr_df, "p": model.lr_p},
        "ph_test": [{"term": t.term, "chisq": t.chisq, "df": t.df, "p": t.p} for t in model.ph_tests],
        "warnings": list(model.warnings),
        "methods": model.methods,
    }
