"""Propensity-weighted comparison of first-line regimens (inverse probability of treatment weighting).

1. Propensity of each regimen given baseline covariates: multinomial logistic regression (binary
   logistic for two regimens; statsmodels ``MNLogit``, maximum likelihood — R ``nnet::multinom`` /
   ``glm(family = binomial)``). Covariates coded as in :data:`hcc.stats.adjusted.COVARIATES`; complete cases.
2. Stabilized weights w = P(A = a) / P(A = a | X), P(A = a) the regimen's share of the analysed
   patients (target: the average treatment effect in this cohort). Optional truncation at chosen
   percentiles of the weights (e.g. 1st and 99th: weights below/above are set to those values;
   quantiles as R's ``quantile(type = 7)``).
3. Balance: standardized mean differences of every covariate (each level of a factor as a 0/1
   column) between each pair of regimens, before and after weighting (cobalt's convention: weighted
   means over the pooled *unweighted* SD, sqrt((s_a^2 + s_b^2) / 2), s^2 the sample variance or
   p(1 - p) for a 0/1 column). Target |SMD| < 0.1.
4. Outcomes: weighted Kaplan–Meier curves (R ``survfit(..., weights = w)``: weighted counts, and
   R's default for non-integer weights, the infinitesimal-jackknife standard error; log-log CI) and
   the weighted Cox hazard ratio with robust (sandwich) standard errors (R ``coxph(..., weights = w,
   robust = TRUE)``; one row per patient, so the sandwich is R's grouped jackknife by patient).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy.stats import norm

from hcc.i18n import tr, trc
from hcc.stats.adjusted import COVARIATES, ModelFrame, fit_cox_frame, level_text, model_frame, term_label
from hcc.cohort.rules import Cohort
from hcc.stats.coxscore import PHTest, cox_zph, robust_variance
from hcc.errors import SpecError
from hcc.formatting import format_months
from hcc.schema import DAYS_PER_MONTH, Col, Endpoint
from hcc.stats.survival import KMCurve, confidence_limits, survival_quantile
from hcc.stats.threadsafe import thread_warnings

__all__ = ["DEFAULT_PS_COVARIATES", "IPTWSpec", "IPTWResult", "WeightedHR", "propensity",
           "stabilized_weights", "truncate_weights", "smd_table", "weighted_km", "iptw_analysis",
           "iptw_json", "column_label", "balance_table", "weights_table", "SMD_TARGET"]

SMD_TARGET = 0.1
DEFAULT_PS_COVARIATES: tuple[str, ...] = (Col.AGE, Col.CHILD_PUGH_CLASS, Col.BCLC, Col.ECOG, Col.AFP,
                                          Col.MVI, Col.EHS)
#: Regimens with fewer analysed patients than this make propensities unstable: flagged.
MIN_REGIMEN_PATIENTS = 20


@dataclass(frozen=True)
class IPTWSpec:
    """A propensity-weighted comparison.

    Attributes
    ----------
    endpoint : the outcome.
    covariates : keys of :data:`hcc.stats.adjusted.COVARIATES` in the propensity model.
    reference : regimen the weighted hazard ratios are against (``None`` = the cohort's first).
    trim : truncate the weights at these percentiles, e.g. ``(1, 99)``; ``None`` = no truncation.
    """

    endpoint: Endpoint = Endpoint.OS
    covariates: tuple[str, ...] = DEFAULT_PS_COVARIATES
    reference: str | None = None
    trim: tuple[float, float] | None = None

    def __post_init__(self) -> None:
        unknown = [c for c in self.covariates if c not in COVARIATES]
        if unknown:
            raise SpecError(tr("unknown covariate {unknown} (choose from {allowed})", unknown=", ".join(unknown),
                               allowed=", ".join(COVARIATES)))
        if not self.covariates:
            raise SpecError(tr("choose at least one covariate for the propensity model"))
        if self.trim is not None and not 0 <= self.trim[0] < self.trim[1] <= 100:
            raise SpecError(tr("trimming percentiles must satisfy 0 <= lower < upper <= 100"))


#: statsmodels' Newton step adds this to the Hessian's diagonal (its ``ridge_factor``); kept, so the
#: iterates are statsmodels' own.
_RIDGE = 1e-10
PROPENSITY_MAX_ITER = 200


def propensity(x: np.ndarray, treatment: np.ndarray, groups: tuple[str, ...]) -> np.ndarray:
    """P(regimen = g | x) for each row and each of ``groups`` (columns in ``groups`` order).

    Multinomial logistic regression with an intercept, by Newton–Raphson to full convergence (equal to
    R ``nnet::multinom``'s and, for two groups, ``glm(family = binomial)``'s fitted probabilities).
    The iterates are statsmodels ``MNLogit(...).fit(method="newton")``'s; they stop once a step moved
    no coefficient by more than 1e-10 (1 + |coefficient|), that step taken (Newton's next step is then
    ~1e-20: rounding noise). statsmodels' own rule (every step below 1e-14, absolute) is not reached
    with 10^5 patients, whose rounding noise is ~1e-12: that fit ran to the iteration limit and was
    reported as not converging. A fit still moving after :data:`PROPENSITY_MAX_ITER` steps
    (separation: a covariate predicting the regimen) is an error, as before.
    """
    from statsmodels.discrete.discrete_model import MNLogit  # here: importing statsmodels costs ~0.5 s

    codes = pd.Index(groups).get_indexer(treatment)  # each row's position in groups
    design = np.column_stack([np.ones(len(codes)), np.asarray(x, float)])
    model = MNLogit(codes, design)
    n = len(codes)
    params = np.zeros(model.K * (model.J - 1))
    converged = False
    with thread_warnings() as caught:
        try:
            for _ in range(PROPENSITY_MAX_ITER):
                hess = -model.hessian(params) / n
                hess[np.diag_indices(len(params))] += _RIDGE
                step = np.linalg.solve(hess, -model.score(params) / n)
                params = params - step
                if np.all(np.abs(step) <= 1e-10 * (1 + np.abs(params))):  # the next step is rounding noise
                    converged = True
                    break
        except np.linalg.LinAlgError:
            raise SpecError(tr("the propensity model cannot be fitted (a covariate level occurs with one regimen "
                               "only, or covariates duplicate each other): choose fewer covariates")) from None
    if not converged or not np.all(np.isfinite(params)) or any(
            "separation" in str(w.message).lower() or "converge" in str(w.message).lower() for w in caught):
        raise SpecError(tr("the propensity model does not converge (some covariate predicts the regimen "
                           "perfectly): choose fewer covariates or merge rare levels"))
    return np.asarray(model.predict(params.reshape(model.K, -1, order="F"), design), float)


def stabilized_weights(treatment: np.ndarray, p_own: np.ndarray) -> np.ndarray:
    """P(A = a_i) / P(A = a_i | x_i), P(A = a) the share of regimen a among the rows."""
    values, inverse, counts = np.unique(treatment, return_inverse=True, return_counts=True)
    return (counts / len(treatment))[inverse] / np.asarray(p_own, float)


def truncate_weights(w: np.ndarray, lower_pct: float, upper_pct: float) -> np.ndarray:
    """Weights clipped to their ``lower_pct`` and ``upper_pct`` percentiles (R ``quantile(type = 7)``)."""
    lo, hi = np.percentile(w, [lower_pct, upper_pct])
    return np.clip(w, lo, hi)


def weighted_km(time: np.ndarray, event: np.ndarray, weights: np.ndarray, conf_type: str = "log-log",
                conf_level: float = 0.95) -> KMCurve:
    """Kaplan–Meier curve from weighted counts, with R's infinitesimal-jackknife standard error.

    S(t) = prod over t_j <= t of (1 - d_j / n_j), with d_j, n_j the summed weights of the events and of
    those at risk (R ``survfit(Surv(time, status) ~ 1, weights = w)``). Standard error of log S(t) (``std.err``, as the
    unweighted curve's; R's ``summary()`` shows it times S): R's default for non-integer case weights,
    the infinitesimal jackknife sqrt(sum_i (w_i dlogS(t)/dw_i)^2), where dlogS(t)/dw_i =
    A(min(t, T_i)) - event_i [T_i <= t] / (n(T_i) - d(T_i)) and A(t) = sum over t_j <= t of
    d_j / (n_j (n_j - d_j)).
    """
    t = np.asarray(time, float)
    e = np.asarray(event, bool)
    w = np.asarray(weights, float)
    uniq, idx = np.unique(t, return_inverse=True)
    n_event = np.bincount(idx, weights=w * e, minlength=len(uniq))
    n_censor = np.bincount(idx, weights=w * ~e, minlength=len(uniq))
    at = np.bincount(idx, weights=w, minlength=len(uniq))
    n_risk = np.cumsum(at[::-1])[::-1]
    surv = np.cumprod(1.0 - n_event / n_risk)
    with np.errstate(divide="ignore", invalid="ignore"):
        a = np.cumsum(np.where(n_event > 0, n_event / (n_risk * (n_risk - n_event)), 0.0))
        own = 1.0 / (n_risk - n_event)
        # Rows still at risk after t_j contribute A(t_j)^2 w^2; rows ended at or before t_j a fixed term.
        w2 = np.bincount(idx, weights=w ** 2, minlength=len(uniq))
        beyond = np.concatenate((np.cumsum(w2[::-1])[::-1][1:], [0.0]))
        ended = (w ** 2) * (a[idx] - np.where(e, own[idx], 0.0)) ** 2
        ended_by = np.cumsum(np.bincount(idx, weights=ended, minlength=len(uniq)))
        std_err = np.sqrt(a ** 2 * beyond + ended_by)
    std_err = np.where(surv > 0, std_err, np.inf)
    lower, upper = confidence_limits(surv, std_err, conf_type, conf_level)
    return KMCurve(time=uniq, n_risk=n_risk, n_event=n_event, n_censor=n_censor, surv=surv, std_err=std_err,
                   lower=lower, upper=upper, conf_type=conf_type, conf_level=conf_level)


def _balance_columns(mf: ModelFrame) -> pd.DataFrame:
    """Every covariate as analysed, a factor as one 0/1 column per level (the reference included)."""
    cols: dict[str, np.ndarray] = {}
    for key, idx in mf.terms.items():
        if key not in mf.levels:
            cols[key] = mf.x.iloc[:, idx[0]].to_numpy()
            continue
        ref, _ = mf.levels[key]
        block = mf.x.iloc[:, idx].to_numpy()
        cols[f"{key}={ref}"] = 1.0 - block.sum(axis=1)
        for j, name in enumerate(mf.x.columns[idx]):
            cols[name] = block[:, j]
    return pd.DataFrame(cols)


def smd_table(columns: pd.DataFrame, treatment: np.ndarray, weights: np.ndarray,
              order: tuple[str, ...], binary: set[str]) -> pd.DataFrame:
    """SMD per column and regimen pair (a later in ``order`` than b), before and after weighting.

    Columns: ``column``, ``a``, ``b``, ``before``, ``after`` (see the module docstring for the formula).
    """
    rows = []
    for j, a in enumerate(order):
        for b in order[:j]:
            ia, ib = treatment == a, treatment == b
            for name in columns.columns:
                x = columns[name].to_numpy(float)
                if name in binary:
                    va, vb = x[ia].mean() * (1 - x[ia].mean()), x[ib].mean() * (1 - x[ib].mean())
                else:
                    va, vb = x[ia].var(ddof=1), x[ib].var(ddof=1)
                sd = math.sqrt((va + vb) / 2)

                def diff(w: np.ndarray) -> float:
                    return float(np.average(x[ia], weights=w[ia]) - np.average(x[ib], weights=w[ib]))
                rows.append({"column": name, "a": a, "b": b,
                             "before": diff(np.ones(len(x))) / sd if sd > 0 else 0.0,
                             "after": diff(weights) / sd if sd > 0 else 0.0})
    return pd.DataFrame(rows, columns=["column", "a", "b", "before", "after"])


@dataclass(frozen=True)
class WeightedHR:
    """Weighted Cox HR of one regimen vs the reference, robust (sandwich) SE and Wald CI."""

    term: str
    reference: str
    coef: float
    robust_se: float
    hr: float
    lower: float
    upper: float
    p: float


@dataclass(frozen=True, eq=False)
class IPTWResult:
    """Everything the propensity-weighting section shows."""

    spec: IPTWSpec
    reference: str
    regimens: tuple[str, ...]
    patient_id: np.ndarray
    regimen: np.ndarray
    propensity: np.ndarray
    weights: np.ndarray
    n_eligible: int
    missing: dict[str, int]
    balance: pd.DataFrame
    curves: dict[str, KMCurve]
    cox: tuple[WeightedHR, ...]
    ph_tests: tuple[PHTest, ...]
    events: int
    warnings: tuple[str, ...] = ()
    methods: dict[str, str] = field(default_factory=dict)

    @property
    def n(self) -> int:
        return len(self.weights)

    @property
    def dropped(self) -> int:
        return self.n_eligible - self.n

    def max_abs_smd(self) -> pd.DataFrame:
        """Per covariate column: the largest |SMD| over the regimen pairs, before and after."""
        b = self.balance.assign(before=self.balance["before"].abs(), after=self.balance["after"].abs())
        return b.groupby("column", sort=False)[["before", "after"]].max().reset_index()


def iptw_analysis(cohort: Cohort, spec: IPTWSpec) -> IPTWResult:
    """Propensities, stabilized (optionally truncated) weights, balance, weighted KM and weighted Cox HR."""
    reference = spec.reference if spec.reference in cohort.regimens else cohort.regimens[0]
    mf = model_frame(cohort.frame, spec.endpoint, spec.covariates, cohort.regimens, with_regimen=False)
    order = tuple([reference, *[r for r in cohort.regimens if r != reference]])
    order = tuple(r for r in order if (mf.regimen == r).any())
    if len(order) < 2 or reference not in order:
        raise SpecError(tr("propensity weighting needs the reference and at least one other regimen with "
                           "patients who have every chosen covariate recorded"))
    if mf.x.shape[1] == 0:
        raise SpecError(tr("every chosen covariate has a single value in these patients: nothing to balance on"))
    notes = [tr("{regimen}: only {n} patients — propensities and weights are unstable", regimen=r,
                n=(mf.regimen == r).sum())
             for r in order if (mf.regimen == r).sum() < MIN_REGIMEN_PATIENTS]
    probs = propensity(mf.x.to_numpy(), mf.regimen, order)
    p_own = probs[np.arange(mf.n), pd.Index(order).get_indexer(mf.regimen)]
    w = stabilized_weights(mf.regimen, p_own)
    if spec.trim is not None:
        w = truncate_weights(w, *spec.trim)
    binary = {c for c in _balance_columns(mf).columns if c not in mf.terms or c in mf.levels}
    balance = smd_table(_balance_columns(mf), mf.regimen, w, order, binary)
    curves = {r: weighted_km(mf.days[mf.regimen == r], mf.event[mf.regimen == r], w[mf.regimen == r])
              for r in order}
    arms = pd.DataFrame({f"{Col.REGIMEN_1L}={r}": (mf.regimen == r).astype(float) for r in order[1:]})
    cox_frame = ModelFrame(arms, mf.days, mf.event, mf.regimen, mf.patient_id, None,
                           {Col.REGIMEN_1L: list(range(len(order) - 1))}, {}, mf.n, {}, {})
    fitter, note = fit_cox_frame(cox_frame, weights=w)
    if note:
        notes.append(note)
    beta = fitter.params_[arms.columns].to_numpy()
    se = np.sqrt(np.diag(robust_variance(mf.days, mf.event, arms.to_numpy(), beta, w)))
    z = norm.ppf(0.975)
    cox = tuple(WeightedHR(r, reference, float(b), float(s), float(np.exp(b)), float(np.exp(b - z * s)),
                           float(np.exp(b + z * s)), float(2 * norm.sf(abs(b / s))))
                for r, b, s in zip(order[1:], beta, se))
    ph = cox_zph(mf.days, mf.event, arms.to_numpy(), beta,
                 {Col.REGIMEN_1L: list(range(len(order) - 1))}, weights=w)
    methods = {
        "propensity": tr("multinomial logistic regression with intercept (statsmodels MNLogit; R nnet::multinom, "
                         "or glm(family = binomial) for two regimens)"),
        "weights": (tr("stabilized: P(regimen) / P(regimen | covariates), truncated at the {lower}th and {upper}th "
                       "percentiles", lower=f"{spec.trim[0]:g}", upper=f"{spec.trim[1]:g}") if spec.trim
                    else tr("stabilized: P(regimen) / P(regimen | covariates)")),
        "balance": tr("standardized mean difference: weighted means over the pooled unweighted SD (cobalt)"),
        "km": tr("weighted Kaplan–Meier (R survfit(weights = w)); infinitesimal-jackknife SE, log-log 95% CI"),
        "hazard ratio": tr("weighted Cox, Efron ties, robust sandwich SE, Wald 95% CI "
                           "(R coxph(weights = w, robust = TRUE))"),
        "ph test": tr("cox.zph of the weighted model (R cox.zph, transform 'km')"),
        "missing": tr("complete cases only"),
    }
    return IPTWResult(spec=spec, reference=reference, regimens=order, patient_id=mf.patient_id, regimen=mf.regimen,
                      propensity=probs, weights=w, n_eligible=mf.n_eligible, missing=mf.missing, balance=balance,
                      curves=curves, cox=cox, ph_tests=ph, events=int(mf.event.sum()), warnings=tuple(notes),
                      methods=methods)


def column_label(column: str) -> str:
    """A balance column in words, e.g. ``bclc=C`` -> ``BCLC stage: C``."""
    key, _, level = column.partition("=")
    c = COVARIATES.get(key)
    if c is None:
        return column
    return tr("{covariate}: {level}", covariate=tr(c.label), level=level_text(key, level)) if level \
        else term_label(key, None, None)


def balance_table(result: IPTWResult) -> pd.DataFrame:
    """Per covariate column: SMD of each regimen pair before → after, and the largest |SMD| after."""
    out = pd.DataFrame({trc("result table", "Covariate"): [column_label(c) for c in result.max_abs_smd()["column"]]})
    for (a, b), part in result.balance.groupby(["a", "b"], sort=False):
        out[tr("{a} vs {b}: before", a=a, b=b)] = part["before"].map(lambda v: f"{v:+.3f}").to_numpy()
        out[tr("{a} vs {b}: after", a=a, b=b)] = part["after"].map(lambda v: f"{v:+.3f}").to_numpy()
    worst = result.max_abs_smd()["after"].to_numpy()
    out[trc("result table", "Balanced (max |SMD| < 0.1)")] = np.where(
        worst < SMD_TARGET, trc("yes/no value", "yes"), trc("yes/no value", "no"))
    return out


def weights_table(result: IPTWResult) -> pd.DataFrame:
    """Per regimen: patients, events, weight min / median / max, effective sample size, weighted median."""
    rows = []
    for r in result.regimens:
        w = result.weights[result.regimen == r]
        med = survival_quantile(result.curves[r], 0.5).estimate
        rows.append({trc("result table", "Regimen"): r, trc("result table", "Patients"): int(len(w)),
                     trc("result table", "Weight min"): f"{w.min():.2f}",
                     trc("result table", "Weight median"): f"{np.median(w):.2f}",
                     trc("result table", "Weight max"): f"{w.max():.2f}",
                     trc("result table", "Effective n"): f"{w.sum() ** 2 / (w ** 2).sum():.0f}",
                     trc("result table", "Median (mo)"): format_months(med / DAYS_PER_MONTH)})
    return pd.DataFrame(rows)


def iptw_json(result: IPTWResult) -> dict[str, Any]:
    """The CLI's ``"iptw"`` block: weights, balance table and weighted HRs."""
    return {
        "endpoint": result.spec.endpoint.value,
        "covariates": list(result.spec.covariates),
        "reference": result.reference,
        "trim_percentiles": None if result.spec.trim is None else list(result.spec.trim),
        "n": result.n, "events": result.events, "n_eligible": result.n_eligible,
        "dropped_incomplete": result.dropped, "missing": result.missing,
        "weights": {r: {"n": int((result.regimen == r).sum()),
                        "min": float(result.weights[result.regimen == r].min()),
                        "max": float(result.weights[result.regimen == r].max()),
                        "effective_n": float(result.weights[result.regimen == r].sum() ** 2
                                             / (result.weights[result.regimen == r] ** 2).sum())}
                    for r in result.regimens},
        "balance": [{"covariate": row.column, "a": row.a, "b": row.b, "smd_before": float(row.before),
                     "smd_after": float(row.after)} for row in result.balance.itertuples()],
        "max_abs_smd_after": float(result.balance["after"].abs().max()),
        "weighted_cox": [{"term": h.term, "reference": h.reference, "hr": h.hr, "ci": [h.lower, h.upper],
                          "p": h.p, "robust_se": h.robust_se} for h in result.cox],
        "ph_test": [{"term": t.term, "chisq": t.chisq, "df": t.df, "p": t.p} for t in result.ph_tests],
        "warnings": list(result.warnings),
        "methods": result.methods,
    }
