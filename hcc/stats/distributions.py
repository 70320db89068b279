"""The distribution functions of the risk-set statistics (KM, log-rank, Cox Wald and RMST tests),
without scipy.

``python -m hcc analyze --stats km`` needs only these (the z of a confidence interval, the log-rank
and RMST-difference p-values); importing ``scipy.special`` for them cost ~0.15 s of a cold start. They
are closed forms on the standard library's ``math`` and ``statistics`` functions, equal to scipy's
to ~1e-13 relative (``tests/test_distributions.py``).
"""

from __future__ import annotations

import math
from statistics import NormalDist

import numpy as np

_STANDARD_NORMAL = NormalDist()
_SQRT_2_OVER_PI = math.sqrt(2 / math.pi)
_SQRT1_2 = math.sqrt(0.5)
#: Below exp(-_EXP_FLOOR) ``math.exp`` underflows; the upper tail is then computed as exp(log(sum) - x/2).
_EXP_FLOOR = 700.0
#: Cephes' MAXLOG, log of the largest double: scipy's igamc returns 0 below exp(-MAXLOG).
_MAXLOG = 7.09782712893383996843e2


def ndtri(p: float) -> float:
    """Standard normal quantile: x with P(Z <= x) = p (scipy.special.ndtri, R ``qnorm(p)``), by
    Wichura's algorithm AS 241 (:meth:`statistics.NormalDist.inv_cdf`, ~1e-16 relative).

    Parameters
    ----------
    p : probability, 0 < p < 1.
    """
    return _STANDARD_NORMAL.inv_cdf(p)


def ndtr(x: float | np.ndarray) -> float | np.ndarray:
    """Standard normal distribution function P(Z <= x) (scipy.special.ndtr, R ``pnorm(x)``), elementwise
    on an array, computed as scipy's: 0.5 + 0.5·erf(x/√2) near 0, else 0.5·erfc(|x|/√2) (or 1 minus it),
    so that the lower tail keeps its relative precision."""
    if np.ndim(x) == 0:
        return _ndtr(float(x))
    return np.vectorize(_ndtr, otypes=[float])(x)


def _ndtr(a: float) -> float:
    if math.isnan(a):
        return math.nan
    x = a * _SQRT1_2
    z = abs(x)
    if z < _SQRT1_2:
        return 0.5 + 0.5 * math.erf(x)
    y = 0.5 * math.erfc(z)
    return 1.0 - y if x > 0 else y


def chdtrc(df: int, x: float) -> float:
    """Upper tail of the chi-square distribution, P(X > x) for X ~ χ²(df) (scipy.special.chdtrc,
    R ``pchisq(x, df, lower.tail = FALSE)``), for a whole number of degrees of freedom.

    Closed forms (Abramowitz & Stegun 26.4.4 and 26.4.5), with h = x / 2 and r = sqrt(x):

    - even df = 2k: exp(-h) · Σ_{i<k} h^i / i!;
    - odd df = 2k + 1: erfc(sqrt(h)) + sqrt(2/π) · exp(-h) · Σ_{i=1..k} r^(2i-1) / (1·3·…·(2i-1)).

    Every term is positive, so the sums lose no precision; for x/2 beyond exp's range the exponential
    is applied to the logarithm of the sum. Where scipy's ``igamc`` underflows to 0 (its leading factor
    h^(df/2) · exp(-h) / Γ(df/2) below exp(-709.78), a p-value under ~1e-300) this is 0 too.
    NaN for a NaN or negative ``x`` (as scipy's); 1 for x = 0.

    Parameters
    ----------
    df : degrees of freedom, a whole number >= 1.
    x : the statistic.
    """
    if df < 1 or int(df) != df:
        raise ValueError(f"chdtrc needs a whole number of degrees of freedom >= 1, not {df!r}")
    df = int(df)
    if math.isnan(x) or x < 0:  # outside the domain: NaN, as scipy's
        return math.nan
    if x == 0:
        return 1.0
    if math.isinf(x):
        return 0.0
    h = x / 2
    if h > df / 2 and df / 2 * math.log(h) - h - math.lgamma(df / 2) < -_MAXLOG:
        return 0.0
    if df % 2 == 0:
        term = total = 1.0
        for i in range(1, df // 2):
            term *= h / i
            total += term
        return _times_exp_minus(total, h)
    r = math.sqrt(x)
    term, total = r, 0.0
    for i in range(1, (df + 1) // 2):
        total += term
        term *= x / (2 * i + 1)
    return math.erfc(math.sqrt(h)) + (_times_exp_minus(_SQRT_2_OVER_PI * total, h) if total else 0.0)


def _times_exp_minus(value: float, h: float) -> float:
    """value · exp(-h), without exp(-h) underflowing before the product does."""
    if h < _EXP_FLOOR:
        return value * math.exp(-h)
    return math.exp(math.log(value) - h)

