"""hcc.stats.distributions: the normal quantile and the chi-square upper tail, without scipy, equal to
scipy.special's (which ``--stats km`` used before) over a grid, and to R's on hand-checkable values."""

from __future__ import annotations

import math
import sys

import numpy as np
import pytest
from scipy.special import chdtrc as scipy_chdtrc
from scipy.special import ndtr as scipy_ndtr
from scipy.special import ndtri as scipy_ndtri

from hcc.stats.distributions import chdtrc, ndtr, ndtri

#: Statistics where the p-value is a normal float; beyond ~1000 both scipy and this module lose
#: ~x/2 ulps in exp(-x/2) (scipy's own error), so the bound there is 2e-13.
MODERATE = np.concatenate([np.linspace(0.0, 40.0, 161), np.geomspace(1e-12, 1000.0, 120)])
LARGE = np.geomspace(1000.0, 1e6, 120)


def _rel(a: float, b: float) -> float:
    return 0.0 if a == b else abs(a - b) / abs(b)


def test_ndtri_equals_scipy() -> None:
    ps = np.concatenate([np.linspace(0.0005, 0.9995, 1999), [1e-300, 1e-50, 1e-10, 1 - 1e-10, 0.975, 0.995]])
    assert max(_rel(ndtri(float(p)), float(scipy_ndtri(p))) for p in ps if p != 0.5) <= 1e-13
    assert ndtri(0.5) == 0.0


def test_ndtr_equals_scipy_on_arrays_and_scalars() -> None:
    """Down to the lower tail's 1e-300 (x = -37), where only a relative comparison means anything."""
    xs = np.concatenate([np.linspace(-37.0, 9.0, 4601), [0.0, -1e-300, 1e-10]])
    ours, theirs = ndtr(xs), scipy_ndtr(xs)
    assert np.max(np.abs(ours - theirs) / theirs) <= 1e-13
    assert ndtr(-1.959963984540054) == pytest.approx(0.025, rel=1e-14) and isinstance(ndtr(0.5), float)
    assert math.isnan(ndtr(math.nan))


@pytest.mark.parametrize("df", range(1, 61))
def test_chdtrc_equals_scipy_for_whole_degrees_of_freedom(df: int) -> None:
    ours = [chdtrc(df, float(x)) for x in MODERATE]
    theirs = scipy_chdtrc(df, MODERATE)
    assert max(_rel(a, float(b)) for a, b in zip(ours, theirs)) <= 1e-13
    for x, b in zip(LARGE, scipy_chdtrc(df, LARGE)):
        a = chdtrc(df, float(x))
        if b >= sys.float_info.min:
            assert _rel(a, float(b)) <= 2e-13, (df, x)
        else:  # scipy underflowed (to 0 or a subnormal): so does this, within the subnormals' spacing
            assert abs(a - b) <= 1e-300, (df, x)


def test_chdtrc_by_hand_and_edges() -> None:
    """R: pchisq(3.841459, 1, lower.tail = FALSE) = 0.05; pchisq(2, 2, lower.tail = FALSE) = exp(-1);
    pchisq(0, 3, lower.tail = FALSE) = 1."""
    assert chdtrc(1, 3.841458820694124) == pytest.approx(0.05, rel=1e-14)
    assert chdtrc(2, 2.0) == pytest.approx(math.exp(-1), rel=1e-15)
    assert chdtrc(3, 0.0) == 1.0 and chdtrc(3, math.inf) == 0.0 and math.isnan(chdtrc(3, math.nan))
    assert math.isnan(chdtrc(2, -1e-12)) and math.isnan(scipy_chdtrc(2, -1e-12))  # scipy's domain, kept
    with pytest.raises(ValueError):
        chdtrc(1.5, 2.0)
