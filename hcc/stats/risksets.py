"""Risk-set aggregates: per group and distinct time, the numbers at risk, events and censored.

These counts are sufficient for everything :mod:`hcc.stats.survival` reports by group: Kaplan–Meier
curves (R ``survfit``), the reverse-KM follow-up, RMST, the (weighted) log-rank test (R
``survdiff``) and a Cox model with the group as its only, categorical covariate (R ``coxph``,
Efron ties). Computing the statistics from them instead of from patient rows means only
O(distinct times × groups) numbers need to reach Python, whether the counts come from numpy
(:func:`risk_sets`) or from a database (``hcc.engine``); both give the same integers, hence the
same results.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

# no scipy: the same functions as scipy.special's (norm.ppf is ndtri, norm.sf(x) is ndtr(-x), chi2.sf(x, df)
# is chdtrc(df, x)) in closed form, so `--stats km` loads neither scipy.stats nor scipy.special
from hcc.stats.distributions import chdtrc, ndtr, ndtri


@dataclass(frozen=True, eq=False)
class RiskSets:
    """Events and censorings at each distinct time, by group.

    Attributes
    ----------
    time : distinct times with at least one observation (event or censoring), ascending, shape (m,).
    groups : group labels, shape (k,), in the order of the columns below.
    n_event : events at ``time[i]`` in group ``j``, integer array of shape (m, k).
    n_censor : censorings at ``time[i]`` in group ``j``, integer array of shape (m, k).
    """

    time: np.ndarray
    groups: tuple[str, ...]
    n_event: np.ndarray
    n_censor: np.ndarray

    @property
    def n_risk(self) -> np.ndarray:
        """Patients with time >= t, by group, shape (m, k) (reverse cumulative sum)."""
        total = self.n_event + self.n_censor
        return np.cumsum(total[::-1], axis=0)[::-1]

    def column(self, group: str) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """One group's (time, n_risk, n_event, n_censor) at the times it has observations."""
        j = self.groups.index(group)
        d, c = self.n_event[:, j], self.n_censor[:, j]
        seen = (d + c) > 0
        n_risk = np.cumsum((d + c)[::-1])[::-1]
        return self.time[seen], n_risk[seen], d[seen], c[seen]

    def subset(self, groups: tuple[str, ...]) -> RiskSets:
        """The counts of ``groups`` only, without the times none of them was observed at."""
        cols = [self.groups.index(g) for g in groups]
        d, c = self.n_event[:, cols], self.n_censor[:, cols]
        seen = ((d + c) > 0).any(axis=1)
        return RiskSets(self.time[seen], tuple(groups), d[seen], c[seen])


def risk_sets(time: np.ndarray, event: np.ndarray, group: np.ndarray | None, groups: tuple[str, ...],
              coded: tuple[np.ndarray, tuple[str, ...]] | None = None) -> RiskSets:
    """Count events and censorings per (distinct time, group) from patient rows; rows whose group
    is not in ``groups`` are left out. O(n log n) (one sort); O(n) when the times are whole numbers
    within a range not much wider than n / groups (days: counted by position, no sort).

    ``coded``: the same groups as (per row, the position of its label in ``labels``, -1 for none;
    ``labels``), when the caller has them (a cohort's factorized regimens), so that the labels need
    not be compared row by row (``group`` is then not read); the counts are the same.
    """
    t = np.asarray(time, dtype=float)
    e = np.asarray(event, dtype=bool)
    if coded is None:
        code = np.full(len(t), -1, dtype=np.int64)
        grp = np.asarray(group)
        for j, g in enumerate(groups):
            code[grp == g] = j
    else:
        codes, labels = coded
        to_group = np.array([groups.index(g) if g in groups else -1 for g in labels] + [-1], dtype=np.int64)
        code = to_group[codes]  # -1 (none) reads the last entry
    keep = code >= 0
    t, e, code = t[keep], e[keep], code[keep]
    k = len(groups)
    low = t.min() if len(t) else 0.0
    span = t.max() - low + 1 if len(t) else 0.0
    if len(t) and span * k <= 2 * len(t) + 100_000 and np.array_equal(t, np.floor(t)):
        # whole days: a patient's cell is found by position, and the distinct times are the nonempty ones
        cell = (t - low).astype(np.int64) * k + code
        events = np.bincount(cell, weights=e, minlength=int(span) * k).astype(np.int64).reshape(-1, k)
        total = np.bincount(cell, minlength=int(span) * k).astype(np.int64).reshape(-1, k)
        seen = np.flatnonzero(total.any(axis=1))
        return RiskSets(seen + low, tuple(groups), events[seen], total[seen] - events[seen])
    uniq, inverse = np.unique(t, return_inverse=True)
    cell = inverse * k + code
    size = len(uniq) * k
    events = np.bincount(cell, weights=e, minlength=size).astype(np.int64).reshape(len(uniq), k)
    total = np.bincount(cell, minlength=size).astype(np.int64).reshape(len(uniq), k)
    return RiskSets(uniq, tuple(groups), events, total - events)


def from_long(group: np.ndarray, time: np.ndarray, n_event: np.ndarray, n_censor: np.ndarray,
              groups: tuple[str, ...]) -> RiskSets:
    """:class:`RiskSets` from long-format aggregates (one row per observed (group, time)), as a
    database returns them; groups not in ``groups`` are left out."""
    grp = np.asarray(group, dtype=object)
    code = np.full(len(grp), -1, dtype=np.int64)
    for j, g in enumerate(groups):
        code[grp == g] = j
    keep = code >= 0
    uniq, inverse = np.unique(np.asarray(time, dtype=float)[keep], return_inverse=True)
    k = len(groups)
    events = np.zeros((len(uniq), k), dtype=np.int64)
    censor = np.zeros((len(uniq), k), dtype=np.int64)
    np.add.at(events, (inverse, code[keep]), np.asarray(n_event, dtype=np.int64)[keep])
    np.add.at(censor, (inverse, code[keep]), np.asarray(n_censor, dtype=np.int64)[keep])
    return RiskSets(uniq, tuple(groups), events, censor)


@dataclass(frozen=True)
class ChiSquare:
    """A chi-square test: statistic, degrees of freedom, p."""

    statistic: float
    df: int
    p: float


def logrank_test(rs: RiskSets, rho: int = 0) -> ChiSquare:
    """k-sample (weighted) log-rank test, as R ``survdiff(Surv(time, status) ~ group, rho = rho)``.

    Weight S(t-)^rho at each event time, S the pooled Kaplan–Meier (rho = 1: Peto–Peto). As R,
    groups with no expected events are dropped, the statistic is (O - E)' V^-1 (O - E) over the
    remaining groups but the first, and df = (groups with E > 0) - 1; 0 when fewer than two remain.
    A singular V (degenerate tiny data, where R's ``solve`` fails) uses its pseudo-inverse, as
    lifelines does.
    """
    d = rs.n_event.astype(float)
    r = rs.n_risk.astype(float)
    deaths = d.sum(axis=1)
    at_risk = r.sum(axis=1)
    at_event = deaths > 0
    if rho == 0:
        w = np.ones(len(deaths))
    else:
        surv = np.cumprod(1.0 - deaths / at_risk)
        w = np.concatenate(([1.0], surv[:-1])) ** rho  # left-continuous pooled KM
    d, r, deaths, at_risk, w = d[at_event], r[at_event], deaths[at_event], at_risk[at_event], w[at_event]
    frac = r / at_risk[:, None]
    observed = (w[:, None] * d).sum(axis=0)
    expected = (w[:, None] * frac * deaths[:, None]).sum(axis=0)
    with np.errstate(divide="ignore", invalid="ignore"):
        kt = np.where(at_risk > 1, w ** 2 * deaths * (at_risk - deaths) / (at_risk - 1), 0.0)
    var = np.diag((kt[:, None] * frac).sum(axis=0)) - (kt[:, None] * frac).T @ frac
    ok = expected > 0
    df = int(ok.sum()) - 1
    if df < 1:
        return ChiSquare(0.0, 0, np.nan)
    diff = (observed - expected)[ok][1:]
    v = var[np.ix_(ok, ok)][1:, 1:]
    try:
        stat = float(diff @ np.linalg.solve(v, diff))
    except np.linalg.LinAlgError:  # e.g. one patient at risk at every event time (R's solve() stops here)
        stat = float(diff @ np.linalg.pinv(v) @ diff)
    return ChiSquare(stat, df, float(chdtrc(df, stat)))


@dataclass(frozen=True)
class CoxFit:
    """Cox model with a categorical covariate: log hazard ratios against the reference group,
    their Wald standard errors, whether Newton–Raphson converged, and iterations used."""

    terms: tuple[str, ...]
    coef: np.ndarray
    se: np.ndarray
    loglik: float
    converged: bool
    iterations: int
    #: Per term: True when the partial likelihood keeps rising as the coefficient moves further out
    #: (monotone likelihood: no finite estimate; R warns "coefficient may be infinite").
    runs_off: tuple[bool, ...] = ()

    def wald(self, conf_level: float = 0.95) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """(HR, lower, upper, p): exp(coef), exp(coef ∓ z·se), two-sided Wald p (R summary.coxph)."""
        z = ndtri(1 - (1 - conf_level) / 2)
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            p = 2 * ndtr(-np.abs(self.coef / self.se))
            return np.exp(self.coef), np.exp(self.coef - z * self.se), np.exp(self.coef + z * self.se), p


def _efron_sums(d_tot: np.ndarray, s0: np.ndarray, d0: np.ndarray) -> tuple[np.ndarray, ...]:
    """Per event time, sums over Efron's l = 0..d-1 of 1/den, φ/den, 1/den², φ/den², φ²/den² and
    log den, with φ = l/d and den = S0 - φ·D0 (S0: risk score of the risk set, D0: of the tied events)."""
    d_int = d_tot.astype(np.int64)
    idx = np.repeat(np.arange(len(d_int)), d_int)
    starts = np.cumsum(d_int) - d_int
    phi = (np.arange(idx.size) - starts[idx]) / d_tot[idx]
    den = s0[idx] - phi * d0[idx]
    inv, inv2 = 1.0 / den, 1.0 / den ** 2
    m = len(d_int)

    def per_time(x: np.ndarray) -> np.ndarray:
        return np.bincount(idx, weights=x, minlength=m)

    return (per_time(inv), per_time(phi * inv), per_time(inv2), per_time(phi * inv2),
            per_time(phi * phi * inv2), per_time(np.log(den)))


#: A |log HR| this large means the partial likelihood keeps rising towards an infinite coefficient
#: (e.g. every event of one group before any of another's; R warns "coefficient may be infinite").
MAX_ABS_COEF = 15.0


def cox_categorical(rs: RiskSets, reference: str, max_iter: int = 50) -> CoxFit:
    """Cox proportional-hazards fit of ``Surv(time, status) ~ group`` (reference level ``reference``)
    with Efron's handling of ties, by Newton–Raphson with step halving from 0, on the risk sets.

    Equals R's ``coxph(..., ties = "efron")`` run to full convergence (stops when a step changes no
    coefficient by more than 1e-12 relative or the log partial likelihood by less than 1e-15
    relative). Standard errors from the inverse information at the estimate. A fit whose
    coefficients pass :data:`MAX_ABS_COEF` is stopped there and marked not converged.
    """
    others = tuple(g for g in rs.groups if g != reference)
    cols = [rs.groups.index(g) for g in others]
    at_event = rs.n_event.sum(axis=1) > 0
    r = rs.n_risk[at_event].astype(float)
    d = rs.n_event[at_event].astype(float)
    d_tot = d.sum(axis=1)
    d_x = d.sum(axis=0)[cols]  # events per non-reference group: the score's observed part

    def evaluate(beta: np.ndarray) -> tuple[float, np.ndarray, np.ndarray]:
        full = np.zeros(len(rs.groups))
        full[cols] = beta
        theta = np.exp(full)
        s0, d0 = r @ theta, d @ theta
        inv, phi_inv, inv2, phi_inv2, phi2_inv2, log_den = _efron_sums(d_tot, s0, d0)
        rt, dt = r[:, cols] * theta[cols], d[:, cols] * theta[cols]
        loglik = float(d_x @ beta - log_den.sum())
        s1 = (rt * inv[:, None] - dt * phi_inv[:, None]).sum(axis=0)
        grad = d_x - s1
        info = (np.diag(s1) - (rt * inv2[:, None]).T @ rt + (rt * phi_inv2[:, None]).T @ dt
                + (dt * phi_inv2[:, None]).T @ rt - (dt * phi2_inv2[:, None]).T @ dt)
        return loglik, grad, info

    return _newton_raphson(evaluate, others, max_iter)


Evaluate = Callable[[np.ndarray], tuple[float, np.ndarray, np.ndarray]]


def _newton_raphson(evaluate: Evaluate, terms: tuple[str, ...], max_iter: int) -> CoxFit:
    """Maximise a log partial likelihood from 0 by Newton–Raphson with step halving; ``evaluate(beta)``
    gives (log-likelihood, score, information). Stops when a step changes no coefficient by more than
    1e-12 relative or the log-likelihood by less than 1e-15 relative (full convergence: R's coxph
    with ``eps = 1e-12`` gives the same estimate); past :data:`MAX_ABS_COEF` it stops, not converged."""
    beta = np.zeros(len(terms))
    loglik, grad, info = evaluate(beta)
    converged, it = False, 0
    for it in range(1, max_iter + 1):
        try:
            step = np.linalg.solve(info, grad)
        except np.linalg.LinAlgError:
            break
        halvings = 0
        while True:
            candidate = beta + step
            # A long Newton step can overflow exp(beta); the non-finite log-likelihood then halves it.
            with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
                new_loglik, new_grad, new_info = evaluate(candidate)
            if np.isfinite(new_loglik) and new_loglik >= loglik - 1e-12 * abs(loglik) or halvings >= 30:
                break
            step, halvings = step / 2, halvings + 1
        done = (np.all(np.abs(step) <= 1e-12 * (1 + np.abs(candidate)))
                or abs(new_loglik - loglik) <= 1e-15 * abs(new_loglik))
        beta, loglik, grad, info = candidate, new_loglik, new_grad, new_info
        if np.any(np.abs(beta) > MAX_ABS_COEF):
            break
        if done:
            converged = True
            break
    return CoxFit(terms, beta, wald_se(info), loglik, converged, it, _runs_off(beta, loglik, evaluate))


#: |log HR| from which a coefficient is checked for running off (an HR beyond 1 : 3,000).
RUN_OFF_COEF = 8.0


def _runs_off(beta: np.ndarray, loglik: float, evaluate) -> tuple[bool, ...]:
    """Monotone likelihood per coefficient: the profile is flat outward (moving a large coefficient
    5 further from 0 lowers the log partial likelihood by less than 1e-6), or the fit stopped at
    :data:`MAX_ABS_COEF`. Finite data never support an HR beyond 1 : 3,000 with a flat likelihood."""
    out = []
    for i, b in enumerate(beta):
        if abs(b) < RUN_OFF_COEF:
            out.append(False)
            continue
        further = beta.copy()
        further[i] += np.sign(b) * 5.0
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            moved = evaluate(further)[0]
        out.append(bool(abs(b) > MAX_ABS_COEF or not np.isfinite(moved) or moved >= loglik - 1e-6))
    return tuple(out)


def wald_se(info: np.ndarray) -> np.ndarray:
    """Wald standard errors, sqrt of the diagonal of the inverse information matrix; NaN (not
    estimable) for a coefficient whose variance is not a positive finite number.

    A fit running off towards an infinite coefficient (a group whose patients all die before
    anyone else's) leaves a numerically singular information matrix whose inverse can have zero or
    negative diagonal entries; R's ``coxph`` then warns and prints NA. Taking the square root
    regardless gave NaN with a RuntimeWarning (seen with 300 regimens of 3 patients each).
    """
    try:
        var = np.diag(np.linalg.inv(info))
    except np.linalg.LinAlgError:
        return np.full(len(info), np.nan)
    estimable = np.isfinite(var) & (var > 0)
    return np.where(estimable, np.sqrt(np.where(estimable, var, 1.0)), np.nan)


# Cox models on counting-process data ((start, stop] rows), covariates with a few distinct values ----

@dataclass(frozen=True, eq=False)
class CellRiskSets:
    """Risk sets of counting-process data whose covariate vector takes a few distinct values (cells).

    A row ``(start, stop]`` is at risk at an event time ``t`` of its stratum when ``start < t <= stop``
    (R ``Surv(tstart, tstop, event)``). With covariates that are indicators (a time-dependent 0/1
    covariate, a regimen), every patient-interval is one of a few cells, and Efron's partial
    likelihood depends on the data only through, per stratum and event time, the number at risk and
    the number of events in each cell.

    Attributes
    ----------
    z : covariate vector of each cell, shape (C, p).
    n_risk : at risk per (stratum, event time) row and cell, shape (m, C).
    n_event : events per (stratum, event time) row and cell, shape (m, C).
    """

    z: np.ndarray
    n_risk: np.ndarray
    n_event: np.ndarray


def cell_risk_sets(start: np.ndarray, stop: np.ndarray, event: np.ndarray, cell: np.ndarray, z: np.ndarray,
                   stratum: np.ndarray | None = None) -> CellRiskSets:
    """Count, per stratum and distinct event time, the rows at risk and the events by cell.

    ``cell[i]`` indexes the rows of ``z``; ``stratum`` (integer codes, default one stratum) gives each
    its own event times and risk sets (R ``+ strata()``). At risk: ``start < t <= stop``, counted as
    #(start < t) - #(stop < t) by binary search in each (stratum, cell)'s sorted starts and stops:
    O(n log n), whatever the number of event times.
    """
    start, stop = np.asarray(start, dtype=float), np.asarray(stop, dtype=float)
    event, cell = np.asarray(event, dtype=bool), np.asarray(cell, dtype=np.int64)
    strata = np.zeros(len(stop), dtype=np.int64) if stratum is None else np.asarray(stratum, dtype=np.int64)
    n_cells = len(z)
    risk_parts, event_parts = [], []
    for s in np.unique(strata):
        here = strata == s
        times, where = np.unique(stop[here & event], return_inverse=True)
        risk = np.zeros((len(times), n_cells), dtype=np.int64)
        for c in range(n_cells):
            rows = here & (cell == c)
            risk[:, c] = (np.searchsorted(np.sort(start[rows]), times, side="left")
                          - np.searchsorted(np.sort(stop[rows]), times, side="left"))
        died = np.zeros((len(times), n_cells), dtype=np.int64)
        np.add.at(died, (where, cell[here & event]), 1)
        risk_parts.append(risk)
        event_parts.append(died)
    return CellRiskSets(np.asarray(z, dtype=float), np.concatenate(risk_parts), np.concatenate(event_parts))


def cox_cells(rs: CellRiskSets, terms: tuple[str, ...], max_iter: int = 50) -> CoxFit:
    """Cox proportional-hazards fit with Efron's handling of ties on :class:`CellRiskSets`, by
    Newton–Raphson with step halving from 0 to full convergence (:func:`_newton_raphson`).

    Equals R's ``coxph(Surv(tstart, tstop, event) ~ covariates [+ strata(s)], ties = "efron")``
    (``tests/test_tdcox.py``: 1e-8 relative on HR, CI and p). Per event time with ``d`` deaths, risk
    scores S0 = Σ r_c θ_c and D0 = Σ d_c θ_c (θ_c = exp(z_c·β)) and ``l = 0..d-1``: the log-likelihood
    adds Σ d_c z_c·β - Σ_l log(S0 - l/d·D0), with the matching score and information (Efron 1977;
    Therneau & Grambsch 2000, section 3.3). Standard errors from the inverse information (Wald).
    """
    z, r, d = rs.z, rs.n_risk.astype(float), rs.n_event.astype(float)
    d_tot = d.sum(axis=1)
    observed = d.sum(axis=0) @ z
    zz = np.einsum("cp,cq->cpq", z, z)

    def evaluate(beta: np.ndarray) -> tuple[float, np.ndarray, np.ndarray]:
        theta = np.exp(z @ beta)
        rt, dt = r * theta, d * theta
        inv, phi_inv, inv2, phi_inv2, phi2_inv2, log_den = _efron_sums(d_tot, rt.sum(axis=1), dt.sum(axis=1))
        s1, d1 = rt @ z, dt @ z
        loglik = float(observed @ beta - log_den.sum())
        grad = observed - (s1 * inv[:, None] - d1 * phi_inv[:, None]).sum(axis=0)
        second = np.einsum("c,cpq->pq", rt.T @ inv - dt.T @ phi_inv, zz)
        info = (second - (s1 * inv2[:, None]).T @ s1 + (s1 * phi_inv2[:, None]).T @ d1
                + (d1 * phi_inv2[:, None]).T @ s1 - (d1 * phi2_inv2[:, None]).T @ d1)
        return loglik, grad, info

    return _newton_raphson(evaluate, terms, max_iter)
