"""Competing risks and multi-state models, matching R's ``survival`` and ``cmprsk``.

* :func:`cumulative_incidence` — Aalen–Johansen cumulative incidence of the event of interest and
  of the competing event, with the infinitesimal-jackknife standard error and log-transformed 95%
  CI of R ``survfit(Surv(time, factor(status)) ~ 1)`` (survival ≥ 3: ``std.err``, ``conf.type =
  "log"``, upper limit capped at 1, no CI where the estimate is 0). cmprsk's ``cuminc`` gives the
  same estimates but a different (Aalen-type) variance; that variance is not used here.
* :func:`gray_test` — Gray's (1988) k-sample test of the cumulative incidence of the event of
  interest, ``cmprsk::cuminc(...)$Tests`` (rho = 0, one stratum).
* :func:`fine_gray` — Fine–Gray subdistribution hazard ratios of a categorical group, ``cmprsk::crr``
  (Breslow ties, censoring weights from the Kaplan–Meier of censoring evaluated just before each
  time, sandwich variance including the estimation of those weights).
* :func:`cause_specific_cox` — cause-specific hazard ratios: Cox on the event of interest with the
  competing event censored, ``coxph(Surv(time, status == 1) ~ group)`` (Efron ties), via
  :func:`hcc.stats.risksets.cox_categorical`.
* :func:`state_occupation` — Aalen–Johansen state occupation probabilities of a forward-only
  multi-state model from counting-process rows, R ``survfit(Surv(tstart, tstop, state) ~ 1, id = id)``.

Ties: all transitions at the same time are processed together (one transition matrix per time,
as R), and censorings at a time after the transitions at that time (the censored are still at risk).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.special import chdtrc, ndtr, ndtri  # scipy.stats is not imported on the KM path (cold start)

from hcc.i18n import N_, tr
from hcc.cohort.competing import COMPETING_EVENT, EVENT, CompetingData, CompetingDef, PathwayData
from hcc.schema import DAYS_PER_MONTH
from hcc.stats.risksets import MAX_ABS_COEF, cox_categorical, risk_sets

Z95 = float(ndtri(0.975))


# Aalen–Johansen cumulative incidence ------------------------------------------------------------
@dataclass(frozen=True, eq=False)
class CIFCurve:
    """Cumulative incidence of the event (cause 1) and the competing event (cause 2), one group.

    Attributes
    ----------
    time : distinct observed times, ascending (the unit of the input).
    n_risk, n_event, n_competing, n_censor : counts at each time (at risk: time >= t).
    cif, cif_competing : Aalen–Johansen estimates just after each time.
    se, se_competing : infinitesimal-jackknife standard errors (R ``fit$std.err``).
    lower, upper, lower_competing, upper_competing : log-transformed 95% CI (NaN where the estimate is 0).
    """

    time: np.ndarray
    n_risk: np.ndarray
    n_event: np.ndarray
    n_competing: np.ndarray
    n_censor: np.ndarray
    cif: np.ndarray
    cif_competing: np.ndarray
    se: np.ndarray
    se_competing: np.ndarray
    lower: np.ndarray
    upper: np.ndarray
    lower_competing: np.ndarray
    upper_competing: np.ndarray

    @property
    def event_free(self) -> np.ndarray:
        """1 − both cumulative incidences: the probability of neither event yet (equals 1 − KM of
        the composite endpoint)."""
        return 1.0 - self.cif - self.cif_competing

    def at(self, t: float) -> tuple[int, int] | None:
        """Index of the last time <= t and the number at risk at t; None when t is past the last
        observed time (not estimable), as ``summary(fit, times = t)`` which refuses such times."""
        if len(self.time) == 0 or t > self.time[-1]:
            return None
        i = int(np.searchsorted(self.time, t, side="right")) - 1
        j = int(np.searchsorted(self.time, t, side="left"))
        return i, int(self.n_risk[j]) if j < len(self.time) else 0


def log_ci(p: np.ndarray, se: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """R's ``conf.type = "log"`` for a probability with standard error ``se``: exp(log p ∓ z se/p),
    upper capped at 1; NaN where p = 0 (``survfit_confint`` with ``logse = FALSE``)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        x = np.where(p > 0, p, np.nan)
        s = np.where(se == 0, 0.0, se / x)
        return np.exp(np.log(x) - Z95 * s), np.minimum(np.exp(np.log(x) + Z95 * s), 1.0)


def cumulative_incidence(time: np.ndarray, status: np.ndarray) -> CIFCurve:
    """Aalen–Johansen cumulative incidence functions of causes 1 and 2 with R's IJ standard errors.

    CIF_k(t) = Σ_{s ≤ t} S(s−) d_k(s) / n(s), S the Kaplan–Meier of either event. The standard error
    is the infinitesimal jackknife R's ``survfit`` reports for multi-state curves: the square root of
    Σ_i U_i(t)², U_i the influence of patient i, propagated through the product-integral
    (U_S(t) = U_S(t−)(1 − dΛ) − S(t−) dU_Λ; U_F(t) = U_F(t−) + U_S(t−) dΛ_k + S(t−) dU_Λk, with
    dU_Λk,i = (dN_ik − Y_i dΛ_k) / n). Summed in closed form (:func:`_ij_variance`): O(n log n) time
    and O(n) memory, so a registry of millions of patients fits.
    """
    t = np.asarray(time, dtype=float)
    st = np.asarray(status, dtype=np.int64)
    if len(t) == 0:
        empty = np.zeros(0)
        return CIFCurve(empty, *(np.zeros(0, dtype=np.int64),) * 4, *(empty,) * 8)
    uniq, inv = np.unique(t, return_inverse=True)
    m = len(uniq)
    d1 = np.bincount(inv, weights=st == EVENT, minlength=m)
    d2 = np.bincount(inv, weights=st == COMPETING_EVENT, minlength=m)
    tot = np.bincount(inv, minlength=m).astype(float)
    n = np.cumsum(tot[::-1])[::-1]
    h1, h2 = d1 / n, d2 / n
    s = np.cumprod(1.0 - h1 - h2)
    s_before = np.concatenate(([1.0], s[:-1]))
    f1, f2 = np.cumsum(s_before * h1), np.cumsum(s_before * h2)
    var1 = _ij_variance(inv, st, EVENT, n, tot, h1, h1 + h2, s_before, f1)
    var2 = _ij_variance(inv, st, COMPETING_EVENT, n, tot, h2, h1 + h2, s_before, f2)
    se1, se2 = np.sqrt(var1), np.sqrt(var2)
    lo1, up1 = log_ci(f1, se1)
    lo2, up2 = log_ci(f2, se2)
    return CIFCurve(uniq, n.astype(np.int64), d1.astype(np.int64), d2.astype(np.int64),
                    (tot - d1 - d2).astype(np.int64), f1, f2, se1, se2, lo1, up1, lo2, up2)


def _ij_variance(inv: np.ndarray, status: np.ndarray, cause: int, n: np.ndarray, tot: np.ndarray, hk: np.ndarray,
                 h: np.ndarray, s_before: np.ndarray, fk: np.ndarray) -> np.ndarray:
    """Σ_i U_i(t)² at every distinct time, U_i the influence of patient i on F_k(t).

    Unrolling the recursion of :func:`cumulative_incidence` gives U_i(t) = Σ_{r ≤ t} [S(r−) u_ki(r) −
    (F_k(t) − F_k(r)) u_i(r) / (1 − h(r))], u the hazard influences. For a patient whose time
    T_i ≤ t this is P_i + F_k(t) Q_i with P_i, Q_i fixed once T_i is passed; every patient still at
    risk after t has the same value F_k(t) B(t) − A(t). So the sum is
    ΣP² + 2F ΣPQ + F² ΣQ² over the patients seen by t (cumulative sums) plus (at risk after t) ×
    (F B − A)².
    """
    m = len(n)
    with np.errstate(divide="ignore", invalid="ignore"):
        c = np.where(h < 1, 1.0 / (1.0 - h), 0.0)  # at h = 1 nothing follows: the factor is multiplied by 0
    a = np.cumsum((s_before * hk + c * fk * h) / n)
    b = np.cumsum(c * h / n)
    ended = status != 0
    jump = np.where(ended, (s_before[inv] * (status == cause) + c[inv] * fk[inv]) / n[inv], 0.0)
    p = jump - a[inv]
    q = np.where(ended, -c[inv] / n[inv], 0.0) + b[inv]
    pp = np.cumsum(np.bincount(inv, weights=p * p, minlength=m))
    pq = np.cumsum(np.bincount(inv, weights=p * q, minlength=m))
    qq = np.cumsum(np.bincount(inv, weights=q * q, minlength=m))
    after = n - tot
    return np.maximum(pp + 2 * fk * pq + fk ** 2 * qq + after * (fk * b - a) ** 2, 0.0)


# Gray's test -------------------------------------------------------------------------------------
@dataclass(frozen=True)
class GrayTest:
    """Gray's test of equal cumulative incidence of the event of interest across groups."""

    statistic: float
    df: int
    p: float


def gray_test(time: np.ndarray, status: np.ndarray, group: np.ndarray, groups: tuple[str, ...]) -> GrayTest | None:
    """Gray's k-sample test (Gray 1988, Ann Stat 16:1141), ρ = 0, as ``cmprsk::cuminc(ftime, fstatus,
    group)$Tests[1, ]`` (cause 1). Score for each group: Σ_t [d_1g − d_1 R_g / Σ R], R_g =
    n_g (1 − F_g(t−)) / S_g(t−), with Gray's variance; statistic s' V⁻¹ s over the first k − 1 groups,
    df = k − 1. None with fewer than two groups.
    """
    ng = len(groups)
    if ng < 2:
        return None
    code = np.full(len(time), -1)
    for j, g in enumerate(groups):
        code[np.asarray(group) == g] = j
    keep = code >= 0
    t, st, code = np.asarray(time, float)[keep], np.asarray(status)[keep], code[keep]
    uniq, inv = np.unique(t, return_inverse=True)
    m = len(uniq)
    d = np.zeros((3, m, ng))
    np.add.at(d, (st, inv, code), 1.0)
    tot = d.sum(axis=0)
    rs_all = np.cumsum(tot[::-1], axis=0)[::-1]  # at risk (time >= t) per group
    ng1 = ng - 1
    score = np.zeros(ng1)
    v = np.zeros((ng1, ng1))
    v2 = np.zeros((ng1, ng))
    v3 = np.zeros(ng)
    c = np.zeros((ng, ng))
    skmm, f1m, fm = np.ones(ng), np.zeros(ng), 0.0
    for i in range(m):
        d1, d2, rs = d[1, i], d[2, i], rs_all[i]
        nd1, nd2 = d1.sum(), d2.sum()
        if nd1 == 0 and nd2 == 0:
            continue
        live = rs > 0
        safe_rs = np.where(live, rs, 1.0)
        skm = np.where(live, skmm * (rs - d1 - d2) / safe_rs, skmm)
        f1 = np.where(live, f1m + skmm * d1 / safe_rs, f1m)
        live &= skmm > 0
        ratio = np.where(live, rs / np.where(live, skmm, 1.0), 0.0)  # n_g / S_g(t-), Gray's h_g
        tr = ratio.sum()
        tq = (ratio * (1 - f1m)).sum()
        f = fm + nd1 / tr
        a = -np.outer(ratio, ratio) / tr
        a[np.diag_indices(ng)] = ratio * (1 - ratio / tr)
        if fm < 1:
            c += a * nd1 / (tr * (1 - fm))
        score += np.where(live[:ng1], d1[:ng1] - nd1 * ratio[:ng1] * (1 - f1m[:ng1]) / tq, 0.0)
        if nd1 > 0:
            for k in np.flatnonzero(live):
                t4 = 1 - (1 - f) / skm[k] if skm[k] > 0 else 1.0
                t5 = 1 - (nd1 - 1) / (tr * skmm[k] - 1) if nd1 > 1 else 1.0
                t3 = t5 * skmm[k] * nd1 / (tr * rs[k])
                v3[k] += t4 * t4 * t3
                col = a[:ng1, k] - t4 * c[:ng1, k]
                v2[:, k] += col * t4 * t3
                v += np.outer(col, col) * t3
        if nd2 > 0:
            for k in np.flatnonzero((skm > 0) & (d2 > 0)):
                t4 = (1 - f) / skm[k]
                t5 = 1 - (d2[k] - 1) / (rs[k] - 1) if d2[k] > 1 else 1.0
                t3 = t5 * skmm[k] ** 2 * d2[k] / rs[k] ** 2
                v3[k] += t4 * t4 * t3
                col = t4 * c[:ng1, k]
                v2[:, k] -= col * t4 * t3
                v += np.outer(col, col) * t3
        fm, f1m, skmm = f, f1, skm
    cc = c[:ng1]
    v = v + (cc * v3) @ cc.T + cc @ v2.T + v2 @ cc.T
    try:
        stat = float(score @ np.linalg.solve(v, score))
    except np.linalg.LinAlgError:
        return GrayTest(float("nan"), ng1, float("nan"))
    return GrayTest(stat, ng1, float(chdtrc(ng1, stat)))


# Fine–Gray and cause-specific hazard ratios ------------------------------------------------------
@dataclass(frozen=True)
class HazardRatio:
    """One group's hazard ratio against the reference: estimate, Wald 95% CI and p (NaN: not estimable)."""

    term: str
    reference: str
    hr: float
    lower: float
    upper: float
    p: float
    note: str = ""


#: A ratio against the reference cannot be estimated when the group (or the reference) has no event of interest.
NO_EVENTS = N_("not estimable — no events of interest in this group or in the reference")


def _censoring_km_before(time: np.ndarray, status: np.ndarray) -> np.ndarray:
    """G(t−) at each patient's own time: Kaplan–Meier of censoring (status 0 as the 'event') just
    before t, as ``cmprsk::crr`` evaluates it (``approx(..., xout = ftime * (1 - 100 eps))``)."""
    uniq, inv = np.unique(time, return_inverse=True)
    cens = np.bincount(inv, weights=status == 0, minlength=len(uniq))
    tot = np.bincount(inv, minlength=len(uniq)).astype(float)
    n = np.cumsum(tot[::-1])[::-1]
    g = np.cumprod(1.0 - cens / n)
    return np.concatenate(([1.0], g[:-1]))[inv]


def fine_gray(time: np.ndarray, status: np.ndarray, group: np.ndarray, groups: tuple[str, ...], reference: str,
              max_iter: int = 100) -> tuple[HazardRatio, ...]:
    """Fine–Gray subdistribution hazard ratios of each group against ``reference``, as
    ``cmprsk::crr(time, status, cov1 = model.matrix(~ relevel(group, ref))[, -1])``.

    Risk set at an event time t: patients with time ≥ t (weight 1) and patients with an earlier
    competing event, weighted G(t−)/G(T_i−) (G: Kaplan–Meier of censoring); Breslow ties; Newton–
    Raphson from 0 with step halving until max |score| < 1e-9 (crr's ``gtol`` set to 1e-12 agrees).
    Variance: crr's sandwich V⁻¹ (Σ (η_i + ψ_i)^⊗2) V⁻¹, η_i the score residual and ψ_i the term for
    estimating G (Fine & Gray 1999, JASA 94:496). Wald 95% CI and p. With one categorical covariate
    every risk-set sum is a per-group cumulative sum, so the fit is O(n log n).

    A group without any event of interest has an infinite negative log SHR (R's crr then stops with
    a huge coefficient); it is reported not estimable, and the other groups are fitted without its
    patients — the limit of the full fit. A group without patients is not estimable either.
    """
    others = tuple(g for g in groups if g != reference)
    grp = np.asarray(group, dtype=object)
    keep = np.isin(grp, groups)
    order = np.argsort(np.asarray(time, float)[keep], kind="stable")
    t = np.asarray(time, float)[keep][order]
    st = np.asarray(status)[keep][order]
    grp = grp[keep][order]
    counts = {g: int(np.sum(grp == g)) for g in others}
    silent = {g for g in others if counts[g] and not np.any((grp == g) & (st == EVENT))}
    empty = {g: HazardRatio(g, reference, np.nan, np.nan, np.nan, np.nan, tr(NO_PATIENTS) if not counts[g] else tr(NO_EVENTS))
             for g in others if not counts[g] or g in silent}
    names = tuple(g for g in others if g not in empty)
    if not np.any((grp == reference) & (st == EVENT)) or not names:
        return tuple(empty.get(g, HazardRatio(g, reference, np.nan, np.nan, np.nan, np.nan, tr(NO_EVENTS))) for g in others)
    rows = ~np.isin(grp, tuple(silent))
    t, st, grp = t[rows], st[rows], grp[rows]
    code = np.zeros(len(t), dtype=np.int64)  # 0 = reference, j = names[j - 1]
    for j, g in enumerate(names, start=1):
        code[grp == g] = j
    fit = _FineGrayData(t, st, code, len(names) + 1, _censoring_km_before(t, st))
    beta = np.zeros(len(names))
    converged = False
    for _ in range(max_iter):
        score, info = fit.score_info(beta)
        if np.max(np.abs(score)) < 1e-9:
            converged = True
            break
        try:
            step = np.linalg.solve(info, score)
        except np.linalg.LinAlgError:
            break
        base = fit.loglik(beta)
        for _half in range(30):
            with np.errstate(over="ignore", invalid="ignore"):
                new = fit.loglik(beta + step)
            if np.isfinite(new) and new >= base - 1e-12 * abs(base):
                break
            step = step / 2
        beta = beta + step
        if np.any(np.abs(beta) > MAX_ABS_COEF):
            break
    _, info = fit.score_info(beta)
    cov = fit.sandwich(beta, info)
    se = np.sqrt(np.diag(cov)) if cov is not None else np.full(len(beta), np.nan)
    out = dict(empty)
    for g, b, s in zip(names, beta, se):
        if not converged or abs(b) > MAX_ABS_COEF or not np.isfinite(s) or s <= 0:
            out[g] = HazardRatio(g, reference, np.nan, np.nan, np.nan, np.nan,
                                 tr(NOT_CONVERGED))
            continue
        out[g] = HazardRatio(g, reference, float(np.exp(b)), float(np.exp(b - Z95 * s)), float(np.exp(b + Z95 * s)),
                             float(2 * ndtr(-abs(b / s))))
    return tuple(out[g] for g in others)


class _FineGrayData:
    """Sorted times, statuses and group codes (0 = reference) with the per-failure risk-set weights.

    For the k-th failure (ties repeated, Breslow) at time T_k the weighted number of group g in the
    risk set is W_g(T_k) = Y_g(T_k) + G(T_k−) C_g(T_k): Y_g patients of g with time ≥ T_k, C_g the
    sum of 1/G(T_j−) over g's competing events before T_k.
    """

    def __init__(self, t: np.ndarray, st: np.ndarray, code: np.ndarray, k: int, wt: np.ndarray) -> None:
        self.t, self.st, self.code, self.k, self.wt = t, st, code, k, wt
        self.fail = np.flatnonzero(st == EVENT)
        tk = t[self.fail]
        self.g_fail = wt[self.fail]
        self.w = np.empty((len(tk), k))
        comp = st == COMPETING_EVENT
        for g in range(k):
            in_g = code == g
            times_g = t[in_g]
            at_risk = in_g.sum() - np.searchsorted(times_g, tk, side="left")
            comp_g = comp & in_g
            cum = np.concatenate(([0.0], np.cumsum(1.0 / wt[comp_g])))
            before = np.searchsorted(t[comp_g], tk, side="left")
            self.w[:, g] = at_risk + self.g_fail * cum[before]
        self.x_fail = np.zeros((len(tk), k - 1))
        named = code[self.fail] > 0
        self.x_fail[np.flatnonzero(named), code[self.fail][named] - 1] = 1.0

    def _theta(self, beta: np.ndarray) -> np.ndarray:
        return np.exp(np.concatenate(([0.0], beta)))

    def xbar(self, beta: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """S0 per failure and x̄ (failures × non-reference groups)."""
        parts = self.w * self._theta(beta)[None, :]
        s0 = parts.sum(axis=1)
        return s0, parts[:, 1:] / s0[:, None]

    def loglik(self, beta: np.ndarray) -> float:
        s0, _ = self.xbar(beta)
        return float((self.x_fail @ beta).sum() - np.log(s0).sum())

    def score_info(self, beta: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        _, xb = self.xbar(beta)
        return (self.x_fail - xb).sum(axis=0), np.diag(xb.sum(axis=0)) - xb.T @ xb

    def sandwich(self, beta: np.ndarray, info: np.ndarray) -> np.ndarray | None:
        """crr's robust covariance V⁻¹ (Σ_i (η_i + ψ_i)(η_i + ψ_i)') V⁻¹.

        η_i = 1[i fails](x_i − x̄(T_i)) − Σ_k w_i(T_k) e^{x_i β} (x_i − x̄(T_k)) / S0(T_k);
        ψ_i = 1[i censored] q(T_i)/Y(T_i) − Σ_{censorings at u ≤ T_i} q(u)/Y(u)², with
        q(u) = Σ_{T_k ≥ u} Σ_{j: T_j < u, competing} w_j(T_k) e^{x_j β}(x_j − x̄(T_k)) / S0(T_k) and Y(u)
        the number with time ≥ u. Each sum over failures or competing events is a cumulative sum.
        """
        t, st, code, wt = self.t, self.st, self.code, self.wt
        p = self.k - 1
        x = np.zeros((len(t), p))
        named = code > 0
        x[np.flatnonzero(named), code[named] - 1] = 1.0
        r = self._theta(beta)[code]
        s0, xb = self.xbar(beta)
        tk = t[self.fail]
        # Σ over failures with T_k <= T_i, and (for competing events) with T_k > T_i
        upto = np.searchsorted(tk, t, side="right")
        a1 = np.concatenate(([0.0], np.cumsum(1.0 / s0)))[upto]
        a2 = np.vstack([np.zeros(p), np.cumsum(xb / s0[:, None], axis=0)])[upto]
        c = self.g_fail / s0
        tail1 = np.concatenate((np.cumsum(c[::-1])[::-1], [0.0]))
        tail2 = np.vstack([np.cumsum((c[:, None] * xb)[::-1], axis=0)[::-1], np.zeros(p)])
        eta = -r[:, None] * (x * a1[:, None] - a2)
        comp = st == COMPETING_EVENT
        eta[comp] -= (r[comp] / wt[comp])[:, None] * (x[comp] * tail1[upto[comp]][:, None] - tail2[upto[comp]])
        eta[self.fail] += self.x_fail - xb
        # q at each distinct censoring time u
        cens = st == 0
        psi = np.zeros_like(eta)
        if cens.any():
            uc, counts = np.unique(t[cens], return_counts=True)
            y = len(t) - np.searchsorted(t, uc, side="left")
            comp_idx = np.flatnonzero(comp)
            acc0 = np.concatenate(([0.0], np.cumsum(r[comp_idx] / wt[comp_idx])))
            acc1 = np.vstack([np.zeros(p), np.cumsum((r[comp_idx] / wt[comp_idx])[:, None] * x[comp_idx], axis=0)])
            before = np.searchsorted(t[comp_idx], uc, side="left")
            from_k = np.searchsorted(tk, uc, side="left")
            q = acc1[before] * tail1[from_k][:, None] - acc0[before][:, None] * tail2[from_k]
            cum = np.cumsum(counts[:, None] * q / (y ** 2)[:, None], axis=0)
            seen = np.searchsorted(uc, t, side="right")
            psi -= np.vstack([np.zeros(p), cum])[seen]
            own = np.searchsorted(uc, t[cens])
            psi[cens] += q[own] / y[own][:, None]
        total = eta + psi
        try:
            bread = np.linalg.inv(info)
        except np.linalg.LinAlgError:
            return None
        return bread @ (total.T @ total) @ bread


def cause_specific_cox(time: np.ndarray, status: np.ndarray, group: np.ndarray, groups: tuple[str, ...],
                       reference: str) -> tuple[HazardRatio, ...]:
    """Cause-specific hazard ratios of the event of interest (competing events censored), as
    ``coxph(Surv(time, status == 1) ~ relevel(group, ref), ties = "efron")``: Wald CI and p."""
    present = tuple(g for g in groups if np.any(np.asarray(group) == g))
    if reference not in present or len(present) < 2:
        return tuple(HazardRatio(g, reference, np.nan, np.nan, np.nan, np.nan, tr(NO_PATIENTS))
                     for g in groups if g != reference)
    no_events = {g: HazardRatio(g, reference, np.nan, np.nan, np.nan, np.nan, tr(NO_EVENTS)) for g in present
                 if g != reference and not np.any((np.asarray(group) == g) & (np.asarray(status) == EVENT))}
    fitted = tuple(g for g in present if g not in no_events)
    if len(fitted) < 2 or not np.any((np.asarray(group) == reference) & (np.asarray(status) == EVENT)):
        return tuple(no_events.get(g, HazardRatio(g, reference, np.nan, np.nan, np.nan, np.nan,
                                                  tr(NO_EVENTS) if g in present else tr(NO_PATIENTS)))
                     for g in groups if g != reference)
    present = fitted
    rs = risk_sets(time, np.asarray(status) == EVENT, group, present)
    fit = cox_categorical(rs, reference)
    out = {}
    for g, b, s in zip(fit.terms, fit.coef, fit.se):
        if not fit.converged or not np.isfinite(s):
            out[g] = HazardRatio(g, reference, np.nan, np.nan, np.nan, np.nan,
                                 tr(NOT_CONVERGED))
        else:
            out[g] = HazardRatio(g, reference, float(np.exp(b)), float(np.exp(b - Z95 * s)),
                                 float(np.exp(b + Z95 * s)), float(2 * ndtr(-abs(b / s))))
    out.update(no_events)
    return tuple(out.get(g, HazardRatio(g, reference, np.nan, np.nan, np.nan, np.nan, tr(NO_PATIENTS)))
                 for g in groups if g != reference)


# Multi-state state occupation --------------------------------------------------------------------
@dataclass(frozen=True, eq=False)
class StateOccupation:
    """Aalen–Johansen probabilities of being in each state over time, one group.

    time : distinct transition or censoring times, ascending; pstate : (times, states) probabilities
    just after each time (rows sum to 1); n_risk : patients under observation (in any transient state).
    """

    time: np.ndarray
    pstate: np.ndarray
    n_risk: np.ndarray

    def at(self, t: float) -> np.ndarray | None:
        """Probabilities at time t (last time <= t); None past the last observed time."""
        if len(self.time) == 0 or t > self.time[-1]:
            return None
        i = int(np.searchsorted(self.time, t, side="right")) - 1
        return self.pstate[i] if i >= 0 else np.eye(self.pstate.shape[1])[0]


def state_occupation(tstart: np.ndarray, tstop: np.ndarray, from_state: np.ndarray, to_state: np.ndarray,
                     n_states: int) -> StateOccupation:
    """Aalen–Johansen estimate p(t) = p(t−)(I + dA(t)), dA_hj(t) = transitions h→j at t / number in
    state h at risk at t (rows with tstart < t ≤ tstop), everyone in state 0 at time 0, as R
    ``survfit(Surv(tstart, tstop, state) ~ 1, id = id)$pstate``. Rows with ``to_state == from_state``
    are censored at ``tstop``."""
    t0, t1 = np.asarray(tstart, float), np.asarray(tstop, float)
    fs, ts = np.asarray(from_state, np.int64), np.asarray(to_state, np.int64)
    times, at_time = np.unique(t1, return_inverse=True)
    # in state h at risk at u: rows of h with tstart < u, minus those with tstop < u (sorted counts)
    n_h = np.zeros((len(times), n_states))
    for h in range(n_states):
        mine = fs == h
        n_h[:, h] = (np.searchsorted(np.sort(t0[mine]), times, side="left")
                     - np.searchsorted(np.sort(t1[mine]), times, side="left"))
    moved = fs != ts
    counts = np.zeros((len(times), n_states, n_states))
    np.add.at(counts, (at_time[moved], fs[moved], ts[moved]), 1.0)
    p = np.zeros(n_states)
    p[0] = 1.0
    out = np.empty((len(times), n_states))
    for i in range(len(times)):
        if counts[i].any():
            with np.errstate(invalid="ignore", divide="ignore"):
                rates = np.where(n_h[i][:, None] > 0, counts[i] / n_h[i][:, None], 0.0)
            p = p @ (np.eye(n_states) + rates - np.diag(rates.sum(axis=1)))
        out[i] = p
    n_risk = n_h.sum(axis=1).astype(np.int64)
    return StateOccupation(times, out, n_risk)


def pathway_occupation(data: PathwayData, group: str, n_states: int) -> StateOccupation:
    """:func:`state_occupation` of one group's rows of a :class:`hcc.cohort.competing.PathwayData`."""
    sel = data.group == group
    return state_occupation(data.tstart[sel], data.tstop[sel], data.from_state[sel], data.to_state[sel], n_states)


# Summaries: what the page, the CLI, the report and the deck show ----------------------------------
PAST_FOLLOWUP = N_("not estimable — past the last follow-up in this group")
NO_CI = N_("no CI — no event by then (estimate 0)")
NOT_CONVERGED = N_("not estimable — the model did not converge (too few events in a group)")
NO_PATIENTS = N_("not estimable — no patients in this group")


@dataclass(frozen=True)
class CIFPoint:
    """A cumulative incidence at a milestone (months) with its 95% CI; ``reason`` says why a value
    is missing (estimate past follow-up; CI undefined at an estimate of 0)."""

    est: float
    lower: float
    upper: float
    reason: str = ""


@dataclass(frozen=True, eq=False)
class CompetingGroup:
    """One regimen's competing-risks result: counts, the curves (times in days) and the milestones."""

    group: str
    n: int
    events: int
    competing: int
    curve: CIFCurve
    milestones: dict[float, tuple[CIFPoint, CIFPoint]]
    n_risk: dict[float, int]


@dataclass(frozen=True, eq=False)
class CompetingSummary:
    """Everything shown for one competing-risks endpoint (:data:`hcc.cohort.competing.COMPETING`)."""

    definition: CompetingDef
    groups: tuple[CompetingGroup, ...]
    gray: GrayTest | None
    reference: str
    fine_gray: tuple[HazardRatio, ...]
    cause_specific: tuple[HazardRatio, ...]
    not_eligible: dict[str, int]
    excluded: dict[str, int]
    milestones_months: tuple[float, ...]

    @property
    def methods(self) -> dict[str, str]:
        """The methods, in the current language (keys stay English)."""
        return {
            "estimator": tr("Aalen–Johansen cumulative incidence (R survfit(Surv(time, factor(status)) ~ 1))"),
            "variance": tr("infinitesimal jackknife (R survfit std.err for multi-state curves)"),
            "ci": tr("95% CI on the log scale, upper limit capped at 1 (R conf.type = 'log'); none at an estimate of 0"),
            "test": tr("Gray's test of the cumulative incidence of the event, rho = 0 (R cmprsk::cuminc $Tests)"),
            "fine_gray": tr("Fine–Gray subdistribution hazard ratio, Breslow ties, sandwich variance (R cmprsk::crr)"),
            "cause_specific": tr("cause-specific Cox hazard ratio, competing event censored, Efron ties (R coxph)"),
            "ties": tr("an event and a competing event on the same day in different patients are processed together; "
                       "in one patient, the event of interest counts (second line given, progression recorded)"),
        }


def _point(curve: CIFCurve, t_days: float, cause: int) -> CIFPoint:
    located = curve.at(t_days)
    if located is None:
        return CIFPoint(np.nan, np.nan, np.nan, tr(PAST_FOLLOWUP))
    i, _ = located
    if i < 0:
        return CIFPoint(0.0, np.nan, np.nan, tr(NO_CI))
    est = (curve.cif if cause == EVENT else curve.cif_competing)[i]
    lo = (curve.lower if cause == EVENT else curve.lower_competing)[i]
    hi = (curve.upper if cause == EVENT else curve.upper_competing)[i]
    return CIFPoint(float(est), float(lo), float(hi), "" if est > 0 else tr(NO_CI))


def summarize_competing(data: CompetingData, groups: tuple[str, ...], reference: str | None = None,
                        milestones_months: tuple[float, ...] = (6.0, 12.0, 18.0, 24.0)) -> CompetingSummary:
    """Per regimen: counts, Aalen–Johansen curves and milestone CIFs with CI; across regimens Gray's
    test; against ``reference`` (default: the first group) Fine–Gray and cause-specific hazard ratios.
    Times are in days in the curves and months at the milestones (days / 30.4375)."""
    present = tuple(g for g in groups if np.any(data.group == g))
    ref = reference if reference in present else (present[0] if present else (groups[0] if groups else ""))
    out = []
    for g in groups:
        sel = data.group == g
        curve = cumulative_incidence(data.days[sel], data.status[sel])
        points, risk = {}, {}
        for m in milestones_months:
            t = m * DAYS_PER_MONTH
            if not sel.any():
                points[m] = (CIFPoint(np.nan, np.nan, np.nan, tr(NO_PATIENTS)),) * 2
                risk[m] = 0
                continue
            points[m] = (_point(curve, t, EVENT), _point(curve, t, COMPETING_EVENT))
            located = curve.at(t)
            risk[m] = located[1] if located else 0
        out.append(CompetingGroup(g, int(sel.sum()), int((data.status[sel] == EVENT).sum()),
                                  int((data.status[sel] == COMPETING_EVENT).sum()), curve, points, risk))
    # every regimen gets a row; one without patients or events reads "not estimable — <reason>"
    fg = fine_gray(data.days, data.status, data.group, groups, ref) if len(present) > 1 else ()
    cs = cause_specific_cox(data.days, data.status, data.group, groups, ref) if len(present) > 1 else ()
    return CompetingSummary(data.definition, tuple(out), gray_test(data.days, data.status, data.group, present),
                            ref, fg, cs, data.not_eligible,
                            {str(k): int(v) for k, v in data.excluded["reason"].value_counts().items()},
                            tuple(milestones_months))


@dataclass(frozen=True, eq=False)
class PathwayGroup:
    """One regimen's state occupation (times in days) and its values at the milestones (None: past
    the last follow-up, not estimable)."""

    group: str
    n: int
    occupation: StateOccupation
    at: dict[float, np.ndarray | None]


@dataclass(frozen=True, eq=False)
class PathwaySummary:
    """State occupation per regimen (:data:`hcc.cohort.competing.STATES`)."""

    states: tuple[str, ...]
    groups: tuple[PathwayGroup, ...]
    milestones_months: tuple[float, ...]
    excluded: dict[str, int]
    @property
    def methods(self) -> dict[str, str]:
        """The methods, in the current language (keys stay English)."""
        return {"estimator": tr("Aalen–Johansen state occupation probabilities "
                                "(R survfit(Surv(tstart, tstop, state) ~ 1, id = id)$pstate)"),
                "states": tr("forward only: on first line without progression -> progressed, no second line yet -> "
                             "on second line or later -> dead; moves on the same day go straight to the later state")}


def summarize_pathway(data: PathwayData, groups: tuple[str, ...], states: tuple[str, ...],
                      milestones_months: tuple[float, ...] = (6.0, 12.0, 24.0)) -> PathwaySummary:
    """State occupation per regimen with the probabilities at each milestone (months)."""
    out = []
    for g in groups:
        occ = pathway_occupation(data, g, len(states))
        n = len(np.unique(data.id[data.group == g]))
        out.append(PathwayGroup(g, n, occ, {m: occ.at(m * DAYS_PER_MONTH) if n else None for m in milestones_months}))
    return PathwaySummary(states, tuple(out), tuple(milestones_months),
                          {str(k): int(v) for k, v in data.excluded["reason"].value_counts().items()})
