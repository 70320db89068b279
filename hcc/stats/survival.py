"""Kaplan–Meier estimation, median survival with confidence interval, and the log-rank test.

Every number agrees with R's ``survival`` package (tested in ``tests/test_survival.py`` against
fixtures made by ``tests/reference/survival_reference.R``):

- curve: Kaplan–Meier product-limit estimate at every distinct time (event or censoring), as
  ``survfit(Surv(time, status) ~ 1)``;
- standard error: Greenwood, on the cumulative-hazard scale (R's ``std.err``);
- pointwise CI: ``conf.type = "log-log"`` (default), ``"log"`` or ``"plain"``, as
  ``survival:::survfit_confint``;
- median and its CI: as ``quantile.survfit`` — the first time the curve (or a CI limit) is at or
  below 0.5, and the midpoint of the flat stretch when the curve sits exactly at 0.5 (tolerance
  ``sqrt(.Machine$double.eps)``);
- log-rank: ``survdiff(..., rho = 0)`` chi-square with k - 1 degrees of freedom.

Times are in whatever unit is passed in (days throughout the package); quantiles scale linearly.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from hcc.cohort.endpoints import EndpointData
from hcc.i18n import N_, tr, trc
from hcc.stats.risksets import RiskSets, cox_categorical, logrank_test, risk_sets
from hcc.schema import DAYS_PER_MONTH, Endpoint
from hcc.stats.choices import ADJUSTMENTS, CONF_TYPES
from hcc.stats.distributions import ndtr, ndtri  # as in hcc.stats.risksets: no scipy

#: R's quantile.survfit tolerance: sqrt(.Machine$double.eps).
QUANTILE_TOL: float = float(np.sqrt(np.finfo(float).eps))


@dataclass(frozen=True, eq=False)
class KMCurve:
    """A Kaplan–Meier curve at each distinct observed time, as R's ``survfit`` object.

    Attributes
    ----------
    time : distinct times (events and censorings), ascending.
    n_risk : patients with time >= t.
    n_event, n_censor : events and censorings at t.
    surv : product-limit estimate S(t).
    std_err : Greenwood standard error of the cumulative hazard (R's ``std.err``; inf once S = 0).
    lower, upper : pointwise CI of S(t) (NaN where undefined, as in R: S = 0, or S = 1 for log-log).
    conf_type : 'log-log', 'log' or 'plain'.
    conf_level : e.g. 0.95.
    """

    time: np.ndarray
    n_risk: np.ndarray
    n_event: np.ndarray
    n_censor: np.ndarray
    surv: np.ndarray
    std_err: np.ndarray
    lower: np.ndarray
    upper: np.ndarray
    conf_type: str
    conf_level: float

    @property
    def n(self) -> int:
        return int(self.n_risk[0]) if len(self.n_risk) else 0

    @property
    def events(self) -> int:
        return int(self.n_event.sum())


def confidence_limits(surv: np.ndarray, std_err: np.ndarray, conf_type: str = "log-log",
                      conf_level: float = 0.95) -> tuple[np.ndarray, np.ndarray]:
    """Pointwise CI of S(t) from the cumulative-hazard standard error.

    Follows ``survival:::survfit_confint`` with ``logse = TRUE``:

    - ``log-log``: exp(-exp(log(-log S) ∓ z·se / log S)); undefined where S is 0 or 1;
    - ``log``: S·exp(∓ z·se), upper capped at 1; undefined where S = 0;
    - ``plain``: S ∓ z·se·S, clipped to [0, 1].
    """
    if conf_type not in CONF_TYPES:
        raise ValueError(f"conf_type must be one of {CONF_TYPES}, not {conf_type!r}")
    z = ndtri(1 - (1 - conf_level) / 2)
    with np.errstate(divide="ignore", invalid="ignore"):
        if conf_type == "plain":
            half = std_err * surv * z
            return np.maximum(surv - half, 0.0), np.minimum(surv + half, 1.0)
        if conf_type == "log":
            s = np.where(surv == 0, np.nan, surv)
            return np.exp(np.log(s) - z * std_err), np.minimum(np.exp(np.log(s) + z * std_err), 1.0)
        s = np.where((surv == 0) | (surv == 1), np.nan, surv)
        half = z * std_err / np.log(s)
        loglog = np.log(-np.log(s))
        return np.exp(-np.exp(loglog - half)), np.exp(-np.exp(loglog + half))


def kaplan_meier(time: np.ndarray, event: np.ndarray, conf_type: str = "log-log",
                 conf_level: float = 0.95) -> KMCurve:
    """Kaplan–Meier estimate with Greenwood standard error and pointwise CI.

    Parameters
    ----------
    time : durations, shape (n,), non-negative.
    event : event indicators, shape (n,); True/1 = event, False/0 = censored.
    conf_type : 'log-log' (default, R ``conf.type = "log-log"``), 'log' (R's default) or 'plain'.
    conf_level : confidence level of the pointwise interval.

    Returns
    -------
    KMCurve, equal to R's ``survfit(Surv(time, event) ~ 1, conf.type = conf_type)``.
    """
    t = np.asarray(time, dtype=float)
    d = np.asarray(event, dtype=bool)
    if t.shape != d.shape or t.ndim != 1:
        raise ValueError("time and event must be 1-d arrays of the same length")
    if len(t) == 0:
        raise ValueError("no patients to estimate a survival curve from")
    if np.isnan(t).any() or (t < 0).any():
        raise ValueError("durations must be non-negative numbers")
    uniq, inverse = np.unique(t, return_inverse=True)
    n_event = np.bincount(inverse, weights=d, minlength=len(uniq)).astype(int)
    n_total = np.bincount(inverse, minlength=len(uniq))
    n_risk = np.cumsum(n_total[::-1])[::-1]
    return km_from_counts(uniq, n_risk, n_event, n_total - n_event, conf_type, conf_level)


def km_from_counts(time: np.ndarray, n_risk: np.ndarray, n_event: np.ndarray, n_censor: np.ndarray,
                   conf_type: str = "log-log", conf_level: float = 0.95) -> KMCurve:
    """Kaplan–Meier curve from risk-set counts at each distinct time (as :func:`kaplan_meier`).

    Parameters
    ----------
    time : distinct observed times, ascending, shape (m,).
    n_risk, n_event, n_censor : integer counts at each time, shape (m,).
    conf_type, conf_level : as :func:`kaplan_meier`.
    """
    with np.errstate(divide="ignore", invalid="ignore"):
        surv = np.cumprod(1.0 - n_event / n_risk)
        greenwood = np.where(n_event > 0, n_event / (n_risk * (n_risk - n_event)), 0.0)
    std_err = np.sqrt(np.cumsum(greenwood))
    lower, upper = confidence_limits(surv, std_err, conf_type, conf_level)
    return KMCurve(time=np.asarray(time, dtype=float), n_risk=n_risk, n_event=n_event, n_censor=n_censor,
                   surv=surv, std_err=std_err, lower=lower, upper=upper, conf_type=conf_type,
                   conf_level=conf_level)


def _approx_constant_right(x: np.ndarray, y: np.ndarray, v: float) -> float:
    """R's ``approx(x, y, v, method = "constant", f = 1)`` for distinct, NaN-free x."""
    order = np.argsort(x, kind="stable")
    xs, ys = x[order], y[order]
    if v < xs[0] or v > xs[-1]:
        return np.nan
    return float(ys[np.searchsorted(xs, v, side="left")])


def _findq(x: np.ndarray, y: np.ndarray, p: float, tol: float) -> float:
    """R's ``survival:::findq``: the time where the CDF-like ``y`` first reaches ``p``.

    ``x`` and ``y`` start with (0, 0); when ``y`` equals ``p`` (within ``tol``) along a flat stretch
    the result is the stretch's midpoint, and if the curve ends on it, the midpoint to the last time.
    """
    if np.all(np.isnan(y)) or np.nanmax(y) < p:
        return np.nan
    xmax = x[-1]
    # duplicated(y): NaN counts as a duplicate of an earlier NaN, as in R
    key = np.where(np.isnan(y), np.inf, y)
    _, first = np.unique(key, return_index=True)
    keep = np.zeros(len(y), dtype=bool)
    keep[first] = True
    x, y = x[keep], y[keep]
    n = len(y)
    pos = np.arange(1, n + 1, dtype=float)
    ok = ~np.isnan(y)
    i1 = _approx_constant_right(y[ok] + tol, pos[ok], p)
    i2 = _approx_constant_right(y[ok] - tol, pos[ok], p)

    def at(i: float) -> float:
        return np.nan if np.isnan(i) else float(x[int(i) - 1])

    quant = (at(i1) + at(i2)) / 2
    if p == 0:
        quant = float(x[0])
    if not np.isnan(y[-1]) and abs(p - y[-1]) < tol:
        quant = (at(i1) + xmax) / 2
    return quant


@dataclass(frozen=True)
class Quantile:
    """A survival-time quantile and its CI, in the curve's time unit (NaN = not reached)."""

    estimate: float
    lower: float
    upper: float


def survival_quantile(curve: KMCurve, prob: float = 0.5, tol: float = QUANTILE_TOL) -> Quantile:
    """Time by which a fraction ``prob`` has had the event, with CI from the CI curves.

    As R's ``quantile(fit, probs = prob)`` (``prob = 0.5`` is the median printed by ``survfit``):
    the lower limit is where the lower CI curve reaches 1 - prob, the upper limit where the upper
    CI curve does. NaN means not reached (R's NA).
    """
    x = np.concatenate(([0.0], curve.time))

    def q(s: np.ndarray) -> float:
        return _findq(x, np.concatenate(([0.0], 1.0 - s)), prob, tol)

    return Quantile(q(curve.surv), q(curve.lower), q(curve.upper))


#: lifelines Newton–Raphson settings that reach R's converged Cox estimates (~1e-12 relative on R's
#: data sets, 1e-15 on a 7-patient case where the default stops 2e-7 away): lifelines' Newton
#: decrement criterion is quadratic in the step, so it needs a far smaller number than R's eps.
COX_FIT_OPTIONS: dict[str, float] = {"precision": 1e-15, "r_precision": 1e-15}

#: Groups smaller than this do not set the default RMST horizon.
MIN_GROUP_FOR_TAU = 10

#: Test weights offered: rho of R's survdiff (weight S(t-)^rho, S the pooled Kaplan–Meier).
TESTS: dict[int, str] = {0: N_("log-rank"), 1: N_("Peto–Peto (Fleming–Harrington rho = 1)")}
#: How tied event times are handled in every Cox fit here (R coxph's default, ties = "efron").
COX_TIES = "Efron"
#: What one event of an endpoint is, in the words of a not-estimable reason ("no deaths in LEN").
EVENT_NOUNS: dict[Endpoint, str] = {Endpoint.OS: "death", Endpoint.OS_2L: "death", Endpoint.PPS: "death"}


def event_noun(noun: str, plural: bool = False) -> str:
    """An :data:`EVENT_NOUNS` word ("event", "death") as a reader sees it, in the current language."""
    if noun == "death":
        return trc("event noun", "deaths") if plural else trc("event noun", "death")
    if noun == "event":
        return trc("event noun", "events") if plural else trc("event noun", "event")
    return noun + ("s" if plural else "")


@dataclass(frozen=True)
class LogRank:
    """k-sample (weighted) log-rank test, as R ``survdiff(..., rho = rho)``."""

    statistic: float
    df: int
    p: float
    rho: int = 0

    @property
    def method(self) -> str:
        return logrank_method_name(self.rho)


def logrank_method_name(rho: int) -> str:
    """How the (weighted) log-rank test with this ``rho`` is named in results and reports."""
    return tr("{test}, k - 1 df (R survdiff, rho = {rho})", test=tr(TESTS[rho]), rho=rho)


def logrank(time: np.ndarray, event: np.ndarray, group: np.ndarray, rho: int = 0) -> LogRank | None:
    """Log-rank chi-square across the groups; ``None`` with fewer than two groups to compare.

    ``rho = 0`` is the log-rank test, ``rho = 1`` the Peto–Peto modification of the Gehan–Wilcoxon
    test (weights S(t-) of the pooled Kaplan–Meier, more sensitive to early differences). Computed
    from the risk sets (:func:`hcc.stats.risksets.logrank_test`) as R's ``survdiff(rho = rho)`` does
    (tested to 1e-9), including its degrees of freedom: groups with no expected events do not count.
    """
    if rho not in TESTS:
        raise ValueError(f"rho must be one of {sorted(TESTS)}")
    groups = tuple(np.unique(np.asarray(group)))
    if len(groups) < 2:
        return None
    return logrank_from_risk_sets(risk_sets(time, event, group, groups), rho)


def logrank_from_risk_sets(rs: RiskSets, rho: int = 0) -> LogRank | None:
    """:func:`logrank` on risk-set counts; ``None`` with fewer than two groups to compare."""
    if len(rs.groups) < 2:
        return None
    res = logrank_test(rs, rho)
    return None if res.df < 1 else LogRank(statistic=res.statistic, df=res.df, p=res.p, rho=rho)


@dataclass(frozen=True)
class PairwiseTest:
    """Log-rank test of one pair of groups, with the multiplicity-adjusted p."""

    a: str
    b: str
    statistic: float
    p: float
    p_adj: float
    #: False when one group of the pair has no expected events (R survdiff: chi-square 0, df 0, p 1);
    #: ``reason`` then says why, in plain words, and renderers show it beside R's p = 1.
    testable: bool = True
    reason: str = ""


def adjust_p(p: np.ndarray, method: str = "holm") -> np.ndarray:
    """Multiplicity adjustment as R's ``p.adjust``: 'holm' (step-down), 'bonferroni' or 'none'."""
    p = np.asarray(p, dtype=float)
    if method == "none" or len(p) == 0:
        return p.copy()
    m = len(p)
    if method == "bonferroni":
        return np.minimum(p * m, 1.0)
    if method == "holm":
        order = np.argsort(p, kind="stable")
        stepped = np.minimum(np.maximum.accumulate((m - np.arange(m)) * p[order]), 1.0)
        out = np.empty(m)
        out[order] = stepped
        return out
    raise ValueError(f"method must be one of {ADJUSTMENTS}")


def pairwise_logrank(time: np.ndarray, event: np.ndarray, group: np.ndarray, groups: tuple[str, ...],
                     adjust: str = "holm", rho: int = 0) -> tuple[PairwiseTest, ...]:
    """Every pair of ``groups`` compared on its own data (R ``survdiff`` on the subset), p adjusted
    across the pairs with :func:`adjust_p` (R ``p.adjust``)."""
    present = tuple(g for g in groups if (group == g).any())
    return pairwise_from_risk_sets(risk_sets(time, event, group, present), adjust, rho)


def _not_testable_reason(pair: RiskSets, noun: str) -> str:
    """Why a pair has no log-rank test: which group has no expected events, in plain words."""
    at_event = pair.n_event.sum(axis=1) > 0
    if not at_event.any():
        return tr("not testable — no {events} in {a} or {b}", events=event_noun(noun, True), a=pair.groups[0],
                  b=pair.groups[1])
    idle = [g for j, g in enumerate(pair.groups) if pair.n_risk[at_event, j].sum() == 0]
    who = idle[0] if idle else pair.groups[0]
    return tr("not testable — no {events} expected in {group}: all its patients were censored before the pair's "
              "first {event} (R survdiff gives chi-square 0, p = 1)", events=event_noun(noun, True), group=who,
              event=event_noun(noun))


def pairwise_from_risk_sets(rs: RiskSets, adjust: str = "holm", rho: int = 0,
                            noun: str = "event") -> tuple[PairwiseTest, ...]:
    """:func:`pairwise_logrank` on risk-set counts (each pair's own risk sets: R ``survdiff`` on
    the pair's subset). A pair in which a group has no expected events gets chi-square 0 and p = 1,
    as R's ``survdiff`` (df 0), marked not testable with the reason (``noun``: what an event is)."""
    pairs, stats, ps, reasons = [], [], [], []
    for i, a in enumerate(rs.groups):
        for b in rs.groups[i + 1:]:
            pair = rs.subset((a, b))
            res = logrank_test(pair, rho)
            pairs.append((a, b))
            untestable = res.df < 1
            stats.append(0.0 if untestable else res.statistic)
            ps.append(1.0 if untestable else res.p)
            reasons.append(_not_testable_reason(pair, noun) if untestable else "")
    adjusted = adjust_p(np.array(ps), adjust)
    return tuple(PairwiseTest(a, b, s, p, q, not why, why)
                 for (a, b), s, p, q, why in zip(pairs, stats, ps, adjusted, reasons))


@dataclass(frozen=True)
class SurvivalAt:
    """S(t) with its pointwise CI and the number at risk at t (R ``summary(fit, times = t)``)."""

    time: float
    surv: float
    lower: float
    upper: float
    n_risk: int
    #: Why the estimate is not given (NaN), in plain words; "" when it is.
    reason: str = ""

    @property
    def estimable(self) -> bool:
        return not np.isnan(self.surv)


def survival_at(curve: KMCurve, times: np.ndarray) -> tuple[SurvivalAt, ...]:
    """The curve's value, CI and number at risk at each of ``times``.

    As R's ``summary(fit, times = times)``: the estimate is that of the last observed time <= t
    (1 with CI (1, 1) before the first observed time); the number at risk counts patients with
    time >= t (so 0 past the last time). Past the last observed time the estimate is 0 when the
    curve has reached 0 (as R ``summary(fit, times = t, extend = TRUE)``: 0 with CI NA), else NaN
    (not estimable: nobody was followed that long; R carries the last value forward only with
    ``extend = TRUE``, which would show a number nobody was observed to have).
    """
    out = []
    for t in np.atleast_1d(np.asarray(times, dtype=float)):
        idx = np.searchsorted(curve.time, t, side="right") - 1
        first_at_or_after = np.searchsorted(curve.time, t, side="left")
        n_risk = int(curve.n_risk[first_at_or_after]) if first_at_or_after < len(curve.time) else 0
        if idx < 0:
            out.append(SurvivalAt(float(t), 1.0, 1.0, 1.0, n_risk))
        elif t > curve.time[-1] and curve.surv[-1] == 0:
            out.append(SurvivalAt(float(t), 0.0, np.nan, np.nan, 0))
        elif t > curve.time[-1]:
            out.append(SurvivalAt(float(t), np.nan, np.nan, np.nan, 0, tr("no patient followed this long")))
        else:
            out.append(SurvivalAt(float(t), float(curve.surv[idx]), float(curve.lower[idx]),
                                  float(curve.upper[idx]), n_risk))
    return tuple(out)


@dataclass(frozen=True)
class RMST:
    """Restricted mean survival time to ``tau`` and its standard error, in the curve's time unit."""

    tau: float
    estimate: float
    se: float
    #: False when ``tau`` is past the group's last observed time (survRM2's rule); ``reason`` says so.
    estimable: bool = True
    reason: str = ""


def rmst(curve: KMCurve, tau: float) -> RMST:
    """Area under the Kaplan–Meier curve from 0 to ``tau``, with R's standard error.

    As ``print(survfit(...), rmean = tau)`` (``survival:::survmean``): the variance is
    sum over event times t_j <= tau of A_j^2 d_j / (n_j (n_j - d_j)), A_j the area under the curve
    from t_j to tau (a Greenwood-type formula; not lifelines' variance of min(T, tau)).
    """
    n_risk, n_event = curve.n_risk.astype(float), curve.n_event.astype(float)
    with np.errstate(divide="ignore", invalid="ignore"):
        hh = np.where(n_risk - n_event == 0, 0.0, n_event / (n_risk * (n_risk - n_event)))
    keep = curve.time <= tau
    if not keep.any():
        return RMST(float(tau), float(tau), 0.0)
    t = np.concatenate((curve.time[keep], [tau]))
    s = np.concatenate((curve.surv[keep], [curve.surv[keep][-1]]))
    h = np.concatenate((hh[keep], [0.0]))
    rect = np.diff(np.concatenate(([0.0], t))) * np.concatenate(([1.0], s[:-1]))
    var = np.sum(np.cumsum(rect[1:][::-1]) ** 2 * h[::-1][1:])
    return RMST(float(tau), float(rect.sum()), float(np.sqrt(var)))


@dataclass(frozen=True)
class RMSTDifference:
    """RMST of ``a`` minus RMST of ``b`` (independent groups), with a normal-approximation CI."""

    a: str
    b: str
    tau: float
    difference: float
    lower: float
    upper: float
    p: float
    estimable: bool = True
    reason: str = ""


def rmst_difference(a: str, ra: RMST, b: str, rb: RMST, conf_level: float = 0.95) -> RMSTDifference:
    """Difference of two RMSTs with SE sqrt(se_a^2 + se_b^2) (as R's ``survRM2::rmst2``).

    Not estimable (NaN, with the reason) when either RMST is not (τ past its follow-up), or when
    both standard errors are 0 (no events before τ in either group: no variance, no test)."""
    for g, r in ((a, ra), (b, rb)):
        if not r.estimable:
            return RMSTDifference(a, b, ra.tau, np.nan, np.nan, np.nan, np.nan, False, r.reason)
    if ra.se == 0 and rb.se == 0:
        return RMSTDifference(a, b, ra.tau, np.nan, np.nan, np.nan, np.nan, False,
                              tr("not estimable — no events before τ in {a} or {b}, so no variance", a=a, b=b))
    diff = ra.estimate - rb.estimate
    se = float(np.hypot(ra.se, rb.se))
    z = ndtri(1 - (1 - conf_level) / 2)
    p = float(2 * ndtr(-abs(diff) / se)) if se > 0 else np.nan
    return RMSTDifference(a, b, ra.tau, diff, diff - z * se, diff + z * se, p)


def followup_median(time: np.ndarray, event: np.ndarray) -> float:
    """Median follow-up by the reverse Kaplan–Meier method: the median of the KM curve with
    censoring as the event (R ``quantile(survfit(Surv(time, 1 - status) ~ 1), 0.5)``)."""
    if len(time) == 0:
        return np.nan
    return survival_quantile(kaplan_meier(time, ~np.asarray(event, dtype=bool))).estimate


@dataclass(frozen=True)
class CoxTerm:
    """Hazard ratio of one group against the reference, from a Cox model with group as covariate."""

    term: str
    reference: str
    hr: float
    lower: float
    upper: float
    p: float
    note: str = ""
    #: False when the data give no finite hazard ratio (no events in a group, monotone likelihood):
    #: ``hr``, CI and p are then NaN and ``reason`` says why in plain words.
    estimable: bool = True
    reason: str = ""


def cox_by_group(time: np.ndarray, event: np.ndarray, group: np.ndarray, groups: tuple[str, ...],
                 reference: str) -> tuple[CoxTerm, ...]:
    """Univariable Cox HR of each group vs ``reference``: Efron ties, Wald 95% CI and p.

    As R's ``coxph(Surv(time, status) ~ relevel(group, ref), ties = "efron")`` with
    ``exp(confint(fit))``, fitted to full convergence on the risk sets
    (:func:`hcc.stats.risksets.cox_categorical`). Groups without any event, and coefficients with a
    monotone likelihood, get a row marked not estimable with the reason (:func:`cox_from_risk_sets`);
    a fit that does not converge is kept with a ``note``.
    """
    present = tuple(g for g in groups if (group == g).any())
    return cox_from_risk_sets(risk_sets(time, event, group, present), reference)


#: The note of a hazard ratio whose variance cannot be estimated (its CI and p are NaN, JSON null).
NOT_ESTIMABLE_HR = N_("not estimable — too few events in a group for a variance")


def _not_estimable(term: str, reference: str, reason: str) -> CoxTerm:
    return CoxTerm(term, reference, np.nan, np.nan, np.nan, np.nan, reason, estimable=False, reason=reason)


def _monotone_reason(rs: RiskSets, term: str, reference: str, coef: float, noun: str) -> str:
    """In plain words why a coefficient runs off (monotone likelihood)."""
    def event_times(g: str) -> np.ndarray:
        return rs.time[rs.n_event[:, rs.groups.index(g)] > 0]

    first, later = (term, reference) if coef > 0 else (reference, term)
    if event_times(first).max() < event_times(later).min():
        return tr("not estimable — every {event} in {first} precedes the first in {later} (monotone likelihood)",
                  event=event_noun(noun), first=first, later=later)
    if coef > 0:
        return tr("not estimable — the hazard ratio of {term} runs off towards infinity: the data give no finite "
                  "estimate (monotone likelihood)", term=term)
    return tr("not estimable — the hazard ratio of {term} runs off towards zero: the data give no finite estimate "
              "(monotone likelihood)", term=term)


def cox_from_risk_sets(rs: RiskSets, reference: str, noun: str = "event") -> tuple[CoxTerm, ...]:
    """:func:`cox_by_group` on risk-set counts; every group but the reference gets a row.

    A group without events, a reference without events, and a coefficient whose likelihood is
    monotone (:attr:`hcc.stats.risksets.CoxFit.runs_off`: R warns "coefficient may be infinite")
    give a not-estimable row with the reason (``noun``: what an event is, e.g. "death"). The
    other groups are fitted without the event-free ones (their limit as that group's HR -> 0,
    which is what R's coxph converges to, tested to 1e-9).
    """
    with_events = tuple(g for j, g in enumerate(rs.groups) if rs.n_event[:, j].any())
    others = tuple(g for g in rs.groups if g != reference)
    if reference not in with_events:
        why = tr("not estimable — no {events} in {reference}, the reference", events=event_noun(noun, True),
                 reference=reference)
        return tuple(_not_estimable(g, reference, why) for g in others)
    rows = {g: _not_estimable(g, reference, tr("not estimable — no {events} in {group}", events=event_noun(noun, True),
                                               group=g))
            for g in others if g not in with_events}
    if len(with_events) >= 2:
        fit = cox_categorical(rs.subset(with_events), reference)
        hr, lower, upper, p = fit.wald()
        unstable = tr("unstable fit (very few events in a group)") if not fit.converged else ""
        for i, g in enumerate(fit.terms):
            if fit.runs_off and fit.runs_off[i]:
                rows[g] = _not_estimable(g, reference, _monotone_reason(rs, g, reference, fit.coef[i], noun))
            elif not np.isfinite(fit.se[i]):
                rows[g] = _not_estimable(g, reference, tr(NOT_ESTIMABLE_HR))
            else:
                rows[g] = CoxTerm(g, reference, float(hr[i]), float(lower[i]), float(upper[i]), float(p[i]),
                                  unstable)
    return tuple(rows[g] for g in others)


@dataclass(frozen=True)
class AnalysisSpec:
    """How survival is summarized (every field has the default the app opens with).

    Attributes
    ----------
    conf_type : CI transformation of the curve and the median: 'log-log', 'log' or 'plain'.
    conf_level : confidence level.
    milestones_months : times for the milestone rates.
    tau_months : RMST horizon; ``None`` = the shortest of the groups' last observed times (so every
        group's RMST is estimable on the same horizon), floored to a whole month; groups of fewer
        than 10 patients are ignored for this unless all are that small.
    reference : group the HRs and RMST differences are against; ``None`` = the first group.
    adjust : pairwise p-value adjustment: 'holm', 'bonferroni' or 'none'.
    rho : 0 log-rank, 1 Peto–Peto (R survdiff rho).
    """

    conf_type: str = "log-log"
    conf_level: float = 0.95
    milestones_months: tuple[float, ...] = (6.0, 12.0, 18.0, 24.0)
    tau_months: float | None = None
    reference: str | None = None
    adjust: str = "holm"
    rho: int = 0

    def __post_init__(self) -> None:
        if self.conf_type not in CONF_TYPES:
            raise ValueError(f"conf_type must be one of {CONF_TYPES}")
        if self.adjust not in ADJUSTMENTS:
            raise ValueError(f"adjust must be one of {ADJUSTMENTS}")
        if self.rho not in TESTS:
            raise ValueError(f"rho must be one of {sorted(TESTS)}")
        # "not 0 < x < inf" also refuses NaN, which every plain comparison lets through.
        if self.tau_months is not None and not 0 < self.tau_months < np.inf:
            raise ValueError(f"tau_months must be a positive number of months, not {self.tau_months:g}")
        if any(not 0 < m < np.inf for m in self.milestones_months):
            raise ValueError("milestones must be positive numbers of months, not "
                             + ", ".join(f"{m:g}" for m in self.milestones_months if not 0 < m < np.inf))


@dataclass(frozen=True)
class GroupSummary:
    """One group's statistics, times in months (NaN = not reached / not estimable).

    ``rates`` are S(t) at the milestones (their ``time`` in months); ``rmst`` is in months;
    ``followup_median`` by reverse Kaplan–Meier.
    """

    group: str
    n: int
    events: int
    median: float
    median_low: float
    median_high: float
    rates: tuple[SurvivalAt, ...] = ()
    rmst: RMST | None = None
    followup_median: float = np.nan
    #: Said beside the median when it comes from quantile.survfit's midpoint rule on a curve that
    #: ends exactly at S = 0.5 (R's print() then shows the time S reached 0.5).
    median_note: str = ""
    #: Last observed time (event or censoring), months: the longest τ this group allows.
    last_months: float = np.nan


@dataclass(frozen=True, eq=False)
class EndpointSummary:
    """Kaplan–Meier summary of one endpoint by group, with the tests and the methods used.

    ``curves`` are in days; every number in ``groups``, ``rmst_differences`` is in months.
    ``notes`` say what changed the groups (pooling as "Other"); every renderer shows them.
    """

    endpoint: Endpoint
    groups: tuple[GroupSummary, ...]
    curves: dict[str, KMCurve]
    logrank: LogRank | None
    spec: AnalysisSpec
    not_eligible: dict[str, int]
    excluded: dict[str, int]
    pairwise: tuple[PairwiseTest, ...] = ()
    cox: tuple[CoxTerm, ...] = ()
    rmst_differences: tuple[RMSTDifference, ...] = ()
    tau_months: float = np.nan
    reference: str | None = None
    unit: str = "months"
    methods: dict[str, str] = field(default_factory=dict)
    #: What changed the groups compared, e.g. second-line regimens pooled as "Other" by the group cap.
    notes: tuple[str, ...] = ()
    #: Largest admissible RMST horizon (survRM2's rule): the shortest last follow-up among the groups, months.
    tau_max_months: float = np.nan
    #: Why the endpoint is not computed at all (e.g. its source column has no values), "" when it is.
    unavailable: str = ""

    @property
    def n(self) -> int:
        return sum(g.n for g in self.groups)

    @property
    def conf_type(self) -> str:
        return self.spec.conf_type

    @property
    def conf_level(self) -> float:
        return self.spec.conf_level


def _months(x: float) -> float:
    return x / DAYS_PER_MONTH


def _median_note(curve: KMCurve, median_days: float) -> str:
    """The midpoint rule said in words when the curve ends exactly at S = 0.5 ("" otherwise)."""
    if np.isnan(median_days) or abs(curve.surv[-1] - 0.5) >= QUANTILE_TOL:
        return ""
    reached = curve.time[np.argmax(np.abs(curve.surv - 0.5) < QUANTILE_TOL)]
    return tr("the curve ends at exactly 50%, so the median is the midpoint between {months} months (when it reached "
              "50%) and the last follow-up (R quantile.survfit; R's print() shows {months})",
              months=f"{_months(reached):.1f}")


def _group_summary(g: str, curve: KMCurve, spec: AnalysisSpec, tau_days: float) -> GroupSummary:
    med = survival_quantile(curve, 0.5)
    last = _months(curve.time[-1])
    rates = tuple(SurvivalAt(r.time / DAYS_PER_MONTH, r.surv, r.lower, r.upper, r.n_risk,
                             tr("follow-up ends at {months} months", months=f"{last:.1f}") if r.reason else "")
                  for r in survival_at(curve, np.array(spec.milestones_months) * DAYS_PER_MONTH))
    if curve.time[-1] < tau_days * (1 - 1e-12):  # survRM2: tau may not pass a group's last observed time
        summary_rmst = RMST(_months(tau_days), np.nan, np.nan, False,
                            tr("not estimable — follow-up in {group} ends at {last} months, before τ = {tau} months",
                               group=g, last=f"{last:.1f}", tau=f"{_months(tau_days):g}"))
    else:
        r = rmst(curve, tau_days)
        summary_rmst = RMST(_months(r.tau), _months(r.estimate), _months(r.se))
    # Reverse Kaplan–Meier (censoring as the event) from the same counts: R quantile(survfit(Surv(time, 1 - status) ~ 1)).
    reverse = km_from_counts(curve.time, curve.n_risk, curve.n_censor, curve.n_event)
    return GroupSummary(g, curve.n, curve.events, _months(med.estimate), _months(med.lower), _months(med.upper),
                        rates=rates, rmst=summary_rmst,
                        followup_median=_months(survival_quantile(reverse).estimate),
                        median_note=_median_note(curve, med.estimate), last_months=last)


def summarize(data: EndpointData, groups: tuple[str, ...], spec: AnalysisSpec | None = None, *,
              comparisons: bool = True) -> EndpointSummary:
    """Everything the Survival page and the CLI report for one endpoint, by group.

    ``comparisons=False`` skips the pairwise tests and the Cox model, for overviews that show only
    medians and the global test.

    Per group: KM curve, n, events, median (CI), milestone rates (CI), RMST (SE), reverse-KM
    follow-up. Across groups: the (weighted) log-rank test, pairwise tests with adjusted p, Cox HRs
    and RMST differences against the reference group. Groups without eligible patients get n = 0.
    Counts the patients once into risk sets (:func:`hcc.stats.risksets.risk_sets`), then
    :func:`summarize_risk_sets`.
    """
    return summarize_risk_sets(risk_sets(data.days, data.event, data.group, tuple(groups)), data.endpoint,
                               spec, not_eligible=dict(data.not_eligible), excluded=data.excluded_counts(),
                               comparisons=comparisons)


def summarize_risk_sets(rs: RiskSets, endpoint: Endpoint, spec: AnalysisSpec | None = None, *,
                        not_eligible: dict[str, int] | None = None, excluded: dict[str, int] | None = None,
                        comparisons: bool = True) -> EndpointSummary:
    """:func:`summarize` from risk-set counts (per group and distinct time, in days), e.g. as
    aggregated by a database (``hcc.engine``); the same counts give the same summary.

    RMST follows survRM2's rule: τ may not pass any compared group's last observed time; a group
    followed for less is "not estimable" (with the largest admissible τ, ``tau_max_months``), and so
    are its differences. Not-estimable hazard ratios, untestable pairs and rates past follow-up
    carry their reason (see ``docs/methods.md``, "When a number is not given")."""
    spec = spec or AnalysisSpec()
    groups = rs.groups
    curves: dict[str, KMCurve] = {}
    for g in groups:
        time, n_risk, n_event, n_censor = rs.column(g)
        if len(time):
            curves[g] = km_from_counts(time, n_risk, n_event, n_censor, spec.conf_type, spec.conf_level)
    if spec.tau_months is not None:
        tau_days = spec.tau_months * DAYS_PER_MONTH
    elif curves:
        # Groups of fewer than 10 patients would pull the common horizon down to almost nothing.
        sizable = [c for c in curves.values() if c.n >= MIN_GROUP_FOR_TAU] or list(curves.values())
        shortest = min(c.time[-1] for c in sizable)
        tau_days = max(np.floor(shortest / DAYS_PER_MONTH), 1.0) * DAYS_PER_MONTH
    else:
        tau_days = 12 * DAYS_PER_MONTH
    rows = [_group_summary(g, curves[g], spec, tau_days) if g in curves else GroupSummary(g, 0, 0, np.nan, np.nan, np.nan)
            for g in groups]
    noun = EVENT_NOUNS.get(endpoint, "event")
    present_groups = tuple(g for g in groups if g in curves)
    present = rs.subset(present_groups)
    test = logrank_from_risk_sets(present, spec.rho) if present_groups else None
    reference = spec.reference if spec.reference in present_groups else (present_groups[0] if present_groups else None)
    several = comparisons and len(present_groups) > 1
    pairwise = pairwise_from_risk_sets(present, spec.adjust, spec.rho, noun) if several else ()
    cox = cox_from_risk_sets(present, reference, noun) if several and reference is not None else ()
    by_group = {r.group: r for r in rows}
    diffs = tuple(rmst_difference(g, by_group[g].rmst, reference, by_group[reference].rmst, spec.conf_level)
                  for g in present_groups if g != reference)
    methods = {
        "estimator": tr("Kaplan–Meier (R survfit)"),
        "variance": "Greenwood",
        "ci": tr("{conf_type} transformed, {level} (R conf.type = \"{conf_type}\")", conf_type=spec.conf_type,
                 level=f"{spec.conf_level:.0%}"),
        "median": tr("first time S(t) <= 0.5; midpoint of a flat stretch at 0.5 (R quantile.survfit)"),
        "test": logrank_method_name(spec.rho),
        "pairwise": tr("{test} per pair, p adjusted by {adjust} (R p.adjust)", test=tr(TESTS[spec.rho]),
                       adjust=spec.adjust),
        "hazard ratio": tr("univariable Cox, {ties} ties, Wald CI (R coxph)", ties=COX_TIES),
        "RMST": tr("area under the KM curve to tau, SE as R print(fit, rmean = tau); differences with "
                   "SE sqrt(se1^2 + se2^2)"),
        "follow-up": tr("median by reverse Kaplan–Meier"),
    }
    return EndpointSummary(endpoint=endpoint, groups=tuple(rows), curves=curves, logrank=test, spec=spec,
                           not_eligible=dict(not_eligible or {}), excluded=dict(excluded or {}),
                           pairwise=pairwise, cox=cox, rmst_differences=diffs,
                           tau_months=_months(tau_days), reference=reference, methods=methods,
                           tau_max_months=min((c.time[-1] for c in curves.values()), default=np.nan) / DAYS_PER_MONTH)
