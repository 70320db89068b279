"""Cox-model quantities that R's ``survival`` computes in C and lifelines computes differently.

- :func:`cox_zph`: the proportional-hazards test of R's ``cox.zph`` (survival >= 3.0). It adds, for
  each coefficient, the covariate times g(t) (a centred transform of time) to the model and tests
  the added coefficients by a score test at the fitted coefficients (old ones fixed at their MLE, new
  ones at 0), using the full 2p x 2p information of the enlarged model — R's C routine ``zph1``.
  lifelines' ``proportional_hazard_test`` is the pre-3.0 approximation (a regression of scaled
  Schoenfeld residuals on g(t) with an averaged variance) and differs by several chi-square units.
  Time transform ``"km"``: g(t) = 1 - S(t-), S the unweighted, unstratified Kaplan–Meier curve of
  all rows, centred on its mean over the events. ``terms = TRUE``: one test per model term (a
  factor's columns jointly, df = its number of columns) and the GLOBAL test of all columns.
- :func:`robust_variance`: R's robust (sandwich) variance of a Cox fit with one row per subject:
  D'D, D the weighted dfbeta residuals (Efron score residuals, R ``coxscore2``, times the inverse
  information, times the case weight). lifelines' ``robust = True`` uses Breslow-type score
  residuals and differs from R by ~1e-3 relative when there are tied deaths.

Both use Efron's handling of tied deaths (R's default and lifelines' only method), case weights and
strata as in the fit. Agreement with R: ``tests/test_coxscore.py``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
from scipy.stats import chi2

__all__ = ["PHTest", "GLOBAL", "km_transform", "cox_zph", "robust_variance"]

GLOBAL = "GLOBAL"


@dataclass(frozen=True)
class PHTest:
    """One row of R's ``cox.zph(fit)$table``: the term (or ``"GLOBAL"``), chi-square, df, p."""

    term: str
    chisq: float
    df: int
    p: float


def km_transform(time: np.ndarray, event: np.ndarray) -> np.ndarray:
    """1 - S(t-) at each row's time, S the Kaplan–Meier curve of all rows (R ``transform = "km"``).

    Left-continuous: the curve just before t, as R's ``findInterval(times, fit$time, left.open = TRUE)``.
    """
    time = np.asarray(time, float)
    event = np.asarray(event, bool)
    uniq = np.unique(time)
    at_risk = len(time) - np.searchsorted(np.sort(time), uniq, side="left")
    deaths = np.bincount(np.searchsorted(uniq, time[event]), minlength=len(uniq))
    surv = np.cumprod(1.0 - deaths / at_risk)
    before = np.searchsorted(uniq, time, side="left")  # distinct times strictly below t
    return 1.0 - np.concatenate(([1.0], surv))[before]


@dataclass(frozen=True, eq=False)
class _EfronTerms:
    """Risk-set sums of a Cox fit, one entry per death (Efron's fractional risk sets).

    Rows are sorted by (stratum, time). ``group`` numbers the tied (stratum, time) sets in that order;
    ``dgroup`` the sets with a death. Per death term k (of the set's m deaths): the set ``tgroup``, the
    fraction ``frac`` = (k + 1)/m of the dying still in the risk set, the weight ``wt`` = (summed
    weight of the deaths)/m, and S0, mean x and covariance of x over that risk set.
    """

    order: np.ndarray
    x: np.ndarray
    score: np.ndarray
    weight: np.ndarray
    dead: np.ndarray
    group: np.ndarray
    group_start: np.ndarray
    dgroup: np.ndarray
    n_dead: np.ndarray
    tgroup: np.ndarray
    frac: np.ndarray
    wt: np.ndarray
    s0: np.ndarray
    xbar: np.ndarray
    var: np.ndarray


def _efron_terms(time: np.ndarray, event: np.ndarray, x: np.ndarray, eta: np.ndarray, weights: np.ndarray,
                 strata: np.ndarray) -> _EfronTerms:
    n, p = x.shape
    x = x - x.mean(axis=0)  # as R's C code: centring steadies the sums and changes no ratio
    order = np.lexsort((time, strata))
    t, s, xs, w = time[order], strata[order], x[order], weights[order]
    dead = event[order].astype(float)
    score = np.exp(eta[order] - eta.max())  # a common factor cancels in every ratio
    risk = score * w
    new = np.ones(n, bool)
    new[1:] = (t[1:] != t[:-1]) | (s[1:] != s[:-1])
    starts = np.flatnonzero(new)
    group = np.cumsum(new) - 1

    def reverse_cumsum_by_stratum(a: np.ndarray) -> np.ndarray:
        out = np.empty_like(a)
        for st in np.unique(s):
            idx = np.flatnonzero(s == st)
            out[idx] = np.cumsum(a[idx][::-1], axis=0)[::-1]
        return out

    rx = risk[:, None] * xs
    rxx = rx[:, :, None] * xs[:, None, :]
    c0, c1, c2 = (reverse_cumsum_by_stratum(a)[starts] for a in (risk, rx, rxx))
    n_dead = np.add.reduceat(dead, starts)
    d0 = np.add.reduceat(risk * dead, starts)
    d1 = np.add.reduceat(rx * dead[:, None], starts, axis=0)
    d2 = np.add.reduceat(rxx * dead[:, None, None], starts, axis=0)
    dead_wt = np.add.reduceat(w * dead, starts)
    dg = np.flatnonzero(n_dead > 0)
    reps = n_dead[dg].astype(int)
    tgroup = np.repeat(dg, reps)
    k = np.arange(reps.sum()) - np.repeat(np.cumsum(reps) - reps, reps)
    frac = (k + 1) / n_dead[tgroup]
    # The k-th of m tied deaths sees the survivors and (k + 1)/m of the dying.
    s0 = c0[tgroup] - (1 - frac) * d0[tgroup]
    s1 = c1[tgroup] - (1 - frac)[:, None] * d1[tgroup]
    s2 = c2[tgroup] - (1 - frac)[:, None, None] * d2[tgroup]
    xbar = s1 / s0[:, None]
    var = s2 / s0[:, None, None] - xbar[:, :, None] * xbar[:, None, :]
    return _EfronTerms(order=order, x=xs, score=score, weight=w, dead=dead.astype(bool), group=group,
                       group_start=starts, dgroup=dg, n_dead=n_dead, tgroup=tgroup, frac=frac,
                       wt=(dead_wt / np.where(n_dead > 0, n_dead, 1))[tgroup], s0=s0, xbar=xbar, var=var)


def _prepare(time: np.ndarray, event: np.ndarray, x: np.ndarray, weights: np.ndarray | None,
             strata: np.ndarray | None) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Arrays as floats/bools, weights 1 and one stratum by default, strata as integer codes."""
    time = np.asarray(time, float)
    event = np.asarray(event, bool)
    x = np.asarray(x, float).reshape(len(time), -1)
    weights = np.ones(len(time)) if weights is None else np.asarray(weights, float)
    codes = np.zeros(len(time), int) if strata is None else np.unique(np.asarray(strata), return_inverse=True)[1]
    if not event.any():
        raise ValueError("needs at least one event")
    return time, event, x, weights, codes


def cox_zph(time: np.ndarray, event: np.ndarray, x: np.ndarray, beta: np.ndarray,
            terms: Mapping[str, list[int]], weights: np.ndarray | None = None,
            strata: np.ndarray | None = None) -> tuple[PHTest, ...]:
    """Score tests of proportional hazards per term and GLOBAL, as R ``cox.zph(fit, transform = "km")``.

    Parameters
    ----------
    time, event : shape (n,), the fit's follow-up times and event indicators.
    x : shape (n, p), the fit's design matrix (one column per coefficient, in ``beta``'s order).
    beta : shape (p,), the fitted coefficients (Efron ties).
    terms : term name -> indices of its columns in ``x`` (a factor's dummy columns together).
    weights : case weights of the fit (default 1).
    strata : stratum label per row (default one stratum).

    Returns
    -------
    One :class:`PHTest` per term, in ``terms`` order, then ``GLOBAL`` (df = p).
    """
    time, event, x, weights, codes = _prepare(time, event, x, weights, strata)
    p = x.shape[1]
    ttimes = km_transform(time, event)
    gtime = (ttimes - ttimes[event].mean())
    e = _efron_terms(time, event, x, x @ np.asarray(beta, float), weights, codes)
    g_row = gtime[e.order]
    gk = g_row[e.group_start[e.tgroup]]
    dx = (e.weight * e.dead)[:, None] * e.x
    u2 = (g_row[:, None] * dx).sum(axis=0) - ((e.wt * gk)[:, None] * e.xbar).sum(axis=0)
    i11 = np.einsum("k,kij->ij", e.wt, e.var)
    i12 = np.einsum("k,kij->ij", e.wt * gk, e.var)
    i22 = np.einsum("k,kij->ij", e.wt * gk * gk, e.var)
    imat = np.block([[i11, i12], [i12.T, i22]])
    u = np.concatenate((np.zeros(p), u2))  # the fitted model's own score is 0 at its MLE

    def score_test(cols: list[int]) -> float:
        kk = np.concatenate((np.arange(p), p + np.asarray(cols, int)))
        return float(u[kk] @ np.linalg.solve(imat[np.ix_(kk, kk)], u[kk]))

    out = []
    for name, cols in terms.items():
        stat = score_test(list(cols))
        out.append(PHTest(name, stat, len(cols), float(chi2.sf(stat, len(cols)))))
    stat = score_test(list(range(p)))
    out.append(PHTest(GLOBAL, stat, p, float(chi2.sf(stat, p))))
    return tuple(out)


def robust_variance(time: np.ndarray, event: np.ndarray, x: np.ndarray, beta: np.ndarray,
                    weights: np.ndarray | None = None, strata: np.ndarray | None = None) -> np.ndarray:
    """R's robust variance of a Cox fit with one row per subject (``coxph(..., robust = TRUE)``).

    D'D with D = w * (score residuals) @ inverse(information): the Efron score residuals of R's
    ``coxscore2`` and the weighted Efron information at ``beta``. Returns the p x p matrix.
    """
    time, event, x, weights, codes = _prepare(time, event, x, weights, strata)
    e = _efron_terms(time, event, x, x @ np.asarray(beta, float), weights, codes)
    n, p = x.shape
    info = np.einsum("k,kij->ij", e.wt, e.var)
    n_groups = len(e.group_start)
    # Per death term: hazard increment and its mean; summed per tied set (dying rows get the
    # fraction-weighted version of the same sums).
    haz = e.wt / e.s0
    h = np.bincount(e.tgroup, weights=haz, minlength=n_groups)
    m = np.stack([np.bincount(e.tgroup, weights=haz * e.xbar[:, j], minlength=n_groups) for j in range(p)], 1)
    hf = np.bincount(e.tgroup, weights=haz * e.frac, minlength=n_groups)
    mf = np.stack([np.bincount(e.tgroup, weights=haz * e.frac * e.xbar[:, j], minlength=n_groups)
                   for j in range(p)], 1)
    nd = np.where(e.n_dead > 0, e.n_dead, 1)
    mbar = np.stack([np.bincount(e.tgroup, weights=e.xbar[:, j], minlength=n_groups) for j in range(p)], 1) / nd[:, None]
    # Cumulative over the tied sets up to each row's own time, restarting in each stratum. The
    # per-term hazard above carries the deaths' average weight; R's hazard uses the same.
    stratum_of_group = codes[e.order][e.group_start]
    first = np.r_[True, stratum_of_group[1:] != stratum_of_group[:-1]]
    seg = np.cumsum(first) - 1

    def cum(a: np.ndarray) -> np.ndarray:
        c = np.cumsum(a, axis=0)
        base = np.concatenate((np.zeros((1,) + a.shape[1:]), c[:-1]))[np.flatnonzero(first)][seg]
        return c - base

    ch, cm = cum(h), cum(m)
    g = e.group
    resid = -e.score[:, None] * (e.x * ch[g][:, None] - cm[g])
    d = e.dead
    gd = g[d]
    resid[d] += (e.score[d, None] * (e.x[d] * h[gd][:, None] - m[gd])
                 + (e.x[d] - mbar[gd]) - e.score[d, None] * (e.x[d] * hf[gd][:, None] - mf[gd]))
    dfbeta = (resid @ np.linalg.inv(info)) * e.weight[:, None]
    return dfbeta.T @ dfbeta
