"""hcc.stats.survival against R's survival package (fixtures in tests/reference/).

The expected values were made by ``Rscript tests/reference/survival_reference.R`` (R 4.2.2,
survival 3.5-3, see tests/reference/VERSIONS.txt) with, per case, group and CI type::

    fit <- survfit(Surv(time, status) ~ 1, data = sub, conf.type = ct)
    quantile(fit, probs = 0.5)            # median and its CI
    survdiff(Surv(time, status) ~ group)  # log-rank

Tolerance: relative 1e-9 (far tighter than the 6 significant digits required); counts exact.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from hcc.stats.survival import kaplan_meier, logrank, survival_quantile

REF = Path(__file__).parent / "reference"
RTOL = 1e-9


def _read(name: str) -> pd.DataFrame:
    return pd.read_csv(REF / name, na_values=["NA", "NaN"], keep_default_na=False)


CASES = _read("km_cases.csv")
MEDIANS = _read("km_medians.csv")
CURVES = _read("km_curves.csv")
LOGRANK = _read("logrank.csv")


def _group_data(case: str, group: str) -> tuple[np.ndarray, np.ndarray]:
    d = CASES[(CASES["case"] == case) & (CASES["group"].astype(str) == group)]
    return d["time"].to_numpy(float), d["status"].to_numpy(int)


def _assert_close(actual: float, expected: float) -> None:
    if np.isnan(expected) or np.isinf(expected):
        assert actual == expected or (np.isnan(actual) and np.isnan(expected))
    else:
        assert actual == pytest.approx(expected, rel=RTOL, abs=1e-12)


@pytest.mark.parametrize("row", MEDIANS.to_dict("records"),
                         ids=lambda r: f"{r['case']}-{r['conf_type']}-{r['group']}")
def test_median_and_ci_match_r_quantile_survfit(row: dict) -> None:
    """R: quantile(survfit(Surv(time, status) ~ 1, conf.type = ct), 0.5)."""
    time, status = _group_data(row["case"], str(row["group"]))
    curve = kaplan_meier(time, status, conf_type=row["conf_type"])
    q = survival_quantile(curve, 0.5)
    assert curve.n == row["n"] and curve.events == row["events"]
    _assert_close(q.estimate, row["median"])
    _assert_close(q.lower, row["lower"])
    _assert_close(q.upper, row["upper"])


@pytest.mark.parametrize("key", sorted({(r["case"], r["conf_type"], str(r["group"]))
                                        for r in CURVES.to_dict("records")}), ids=str)
def test_curve_matches_r_survfit(key: tuple[str, str, str]) -> None:
    """R: survfit(...)$time, n.risk, n.event, n.censor, surv, std.err, lower, upper."""
    case, conf_type, group = key
    ref = CURVES[(CURVES["case"] == case) & (CURVES["conf_type"] == conf_type)
                 & (CURVES["group"].astype(str) == group)]
    curve = kaplan_meier(*_group_data(case, group), conf_type=conf_type)
    np.testing.assert_array_equal(curve.time, ref["time"])
    np.testing.assert_array_equal(curve.n_risk, ref["n_risk"])
    np.testing.assert_array_equal(curve.n_event, ref["n_event"])
    np.testing.assert_array_equal(curve.n_censor, ref["n_censor"])
    np.testing.assert_allclose(curve.surv, ref["surv"], rtol=RTOL)
    np.testing.assert_allclose(curve.std_err, ref["std_err"], rtol=RTOL)
    np.testing.assert_allclose(curve.lower, ref["lower"], rtol=RTOL, equal_nan=True)
    np.testing.assert_allclose(curve.upper, ref["upper"], rtol=RTOL, equal_nan=True)


@pytest.mark.parametrize("row", LOGRANK.to_dict("records"), ids=lambda r: r["case"])
def test_logrank_matches_r_survdiff(row: dict) -> None:
    """R: survdiff(Surv(time, status) ~ group, data = d); p = pchisq(chisq, df, lower.tail = FALSE)."""
    d = CASES[CASES["case"] == row["case"]]
    res = logrank(d["time"].to_numpy(float), d["status"].to_numpy(int), d["group"].astype(str).to_numpy())
    assert res is not None and res.df == row["df"]
    assert res.statistic == pytest.approx(row["chisq"], rel=RTOL)
    assert res.p == pytest.approx(row["p"], rel=1e-7)


def test_flat_stretch_at_half_takes_midpoint_by_hand() -> None:
    """Four deaths at 1, 2, 3, 4: S = .75, .5, .25, 0, flat at 0.5 on [2, 3) -> median 2.5 (R: 2.5)."""
    curve = kaplan_meier(np.array([1, 2, 3, 4.0]), np.ones(4, bool))
    np.testing.assert_allclose(curve.surv, [0.75, 0.5, 0.25, 0.0])
    # Greenwood: sum d / (n (n - d)) = 1/12 + 1/6 at t = 2
    assert curve.std_err[1] == pytest.approx(np.sqrt(1 / 12 + 1 / 6))
    assert survival_quantile(curve).estimate == 2.5


def test_logrank_by_hand_two_groups() -> None:
    """A: deaths at 1, 3; B: death at 2, censored 4. O - E for A and its variance worked by hand.

    t=1: n=4 (A 2), d=1 -> E_A = 1/2, V = (2*2*1*3)/(16*3) = 1/4
    t=2: n=3 (A 1), d=1 -> E_A = 1/3, V = (1*2*1*2)/(9*2) = 2/9
    t=3: n=2 (A 1), d=1 -> E_A = 1/2, V = (1*1*1*1)/(4*1) = 1/4
    O_A - E_A = 2 - 4/3 = 2/3; chi-square = (2/3)^2 / (1/4 + 2/9 + 1/4) = 0.6153846...
    """
    res = logrank(np.array([1, 3, 2, 4.0]), np.array([1, 1, 1, 0]), np.array(["A", "A", "B", "B"]))
    assert res.statistic == pytest.approx((2 / 3) ** 2 / (1 / 4 + 2 / 9 + 1 / 4), rel=1e-12)


def test_single_group_has_no_logrank() -> None:
    assert logrank(np.array([1.0, 2.0]), np.array([1, 0]), np.array(["A", "A"])) is None


def test_bad_input_is_refused_readably() -> None:
    with pytest.raises(ValueError, match="non-negative"):
        kaplan_meier(np.array([-1.0, 2.0]), np.array([1, 1]))
    with pytest.raises(ValueError, match="conf_type"):
        kaplan_meier(np.array([1.0]), np.array([1]), conf_type="logit")
