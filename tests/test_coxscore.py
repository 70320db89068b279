"""hcc.stats.coxscore against R's survival 3.5-3: cox.zph (transform "km") and the robust Cox variance.

Fixtures: ``tests/reference/adjusted_reference.R`` exports R's ``lung`` (complete cases) and
``veteran`` data sets and writes ``cox.zph(fit)$table`` for models fitted on them.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from lifelines import CoxPHFitter

from hcc.stats.coxscore import GLOBAL, cox_zph, km_transform, robust_variance
from hcc.stats.survival import COX_FIT_OPTIONS

REF = Path(__file__).parent / "reference"
ZPH = pd.read_csv(REF / "adjusted_zph.csv")


def _fit(x: pd.DataFrame, time, status, strata=None) -> np.ndarray:
    data = x.assign(_t=np.asarray(time, float), _e=np.asarray(status, int))
    if strata is not None:
        data["_s"] = strata
    fitter = CoxPHFitter(strata=["_s"] if strata is not None else None)
    fitter.fit(data, "_t", "_e", fit_options=COX_FIT_OPTIONS)
    return fitter.params_[x.columns].to_numpy()


def _lung():
    lung = pd.read_csv(REF / "zph_lung.csv")
    x = pd.DataFrame({"age": lung["age"], "sex": lung["sex"]})
    for level in (1, 2, 3):
        x[f"ecog{level}"] = (lung["ph.ecog"] == level).astype(float)
    x["wt.loss"] = lung["wt.loss"]
    return lung, x


def _assert_table(model: str, tests, names: list[str]) -> None:
    expected = ZPH[ZPH["model"] == model]
    assert [t.term for t in tests] == [*names, GLOBAL]
    for got, (_, row) in zip(tests, expected.iterrows()):
        assert got.df == row["df"]
        assert got.chisq == pytest.approx(row["chisq"], rel=1e-7)
        assert got.p == pytest.approx(row["p"], rel=1e-7)


def test_zph_lung_matches_r() -> None:
    """R: fit <- coxph(Surv(time, status) ~ age + sex + factor(ph.ecog) + wt.loss, data = lung2,
    control = ctl); cox.zph(fit, transform = "km", terms = TRUE, global = TRUE)$table.

    Chi-squares to 1e-7 (measured 1e-9; the rest is the two fits' convergence)."""
    lung, x = _lung()
    beta = _fit(x, lung["time"], lung["status"])
    tests = cox_zph(lung["time"], lung["status"], x.to_numpy(), beta,
                    {"age": [0], "sex": [1], "ecog": [2, 3, 4], "wt.loss": [5]})
    _assert_table("lung", tests, ["age", "sex", "ecog", "wt.loss"])


def test_zph_with_strata_matches_r() -> None:
    """R: coxph(Surv(time, status) ~ age + factor(ph.ecog) + wt.loss + strata(sex), data = lung2);
    cox.zph(fit, transform = "km")$table."""
    lung, x = _lung()
    x = x.drop(columns="sex")
    beta = _fit(x, lung["time"], lung["status"], strata=lung["sex"].to_numpy())
    tests = cox_zph(lung["time"], lung["status"], x.to_numpy(), beta, {"age": [0], "ecog": [1, 2, 3], "wt.loss": [4]},
                    strata=lung["sex"].to_numpy())
    _assert_table("lung_strata", tests, ["age", "ecog", "wt.loss"])


def test_zph_veteran_many_ties_matches_r() -> None:
    """R: coxph(Surv(time, status) ~ trt + celltype + karno + diagtime + age + prior, data = veteran);
    cox.zph(fit, transform = "km")$table (veteran has many tied death times: Efron's fractions)."""
    v = pd.read_csv(REF / "zph_veteran.csv")
    x = pd.DataFrame({"trt": v["trt"].astype(float)})
    for cell in ("smallcell", "adeno", "large"):
        x[cell] = (v["celltype"] == cell).astype(float)
    for col in ("karno", "diagtime", "age", "prior"):
        x[col] = v[col].astype(float)
    beta = _fit(x, v["time"], v["status"])
    tests = cox_zph(v["time"], v["status"], x.to_numpy(), beta,
                    {"trt": [0], "celltype": [1, 2, 3], "karno": [4], "diagtime": [5], "age": [6], "prior": [7]})
    _assert_table("veteran", tests, ["trt", "celltype", "karno", "diagtime", "age", "prior"])


def test_zph_differs_from_lifelines_old_approximation() -> None:
    """The reason this module exists: lifelines' proportional_hazard_test (pre-3.0 approximation)
    gives another chi-square for karno on veteran than R's cox.zph (12.935)."""
    from lifelines.statistics import proportional_hazard_test

    v = pd.read_csv(REF / "zph_veteran.csv")
    x = pd.DataFrame({"karno": v["karno"].astype(float), "_t": v["time"], "_e": v["status"]})
    fitter = CoxPHFitter().fit(x, "_t", "_e", fit_options=COX_FIT_OPTIONS)
    old = proportional_hazard_test(fitter, x, time_transform="km").summary.loc["karno", "test_statistic"]
    ours = cox_zph(v["time"], v["status"], x[["karno"]].to_numpy(), fitter.params_.to_numpy(), {"karno": [0]})[0]
    assert abs(old - ours.chisq) > 0.5


def test_km_transform_is_left_continuous() -> None:
    """By hand: times 1, 2, 2, 3 with events at 1 and at one of the 2s: S = 3/4 after 1 (4 at risk),
    3/4 * 2/3 = 1/2 after 2 (3 at risk). 1 - S(t-) = 0, 1/4, 1/4, 1/2."""
    got = km_transform(np.array([1.0, 2.0, 2.0, 3.0]), np.array([1, 1, 0, 0]))
    np.testing.assert_allclose(got, [0.0, 0.25, 0.25, 0.5], rtol=0, atol=1e-15)


def test_robust_variance_matches_r_on_lung() -> None:
    """R: fit <- coxph(Surv(time, status) ~ age + sex + wt.loss, data = lung2, robust = TRUE,
    weights = 1 + (seq_len(nrow(lung2)) %% 3) / 2, control = ctl); sqrt(diag(fit$var)).

    To 1e-7 (lifelines' own robust = True differs from R by ~1e-3 here)."""
    ref = pd.read_csv(REF / "robust_lung.csv")
    lung, x = _lung()
    x = x[["age", "sex", "wt.loss"]]
    w = 1 + (np.arange(1, len(lung) + 1) % 3) / 2
    data = x.assign(_t=lung["time"], _e=lung["status"], _w=w)
    beta = CoxPHFitter().fit(data, "_t", "_e", weights_col="_w", robust=True,
                             fit_options=COX_FIT_OPTIONS).params_.to_numpy()
    np.testing.assert_allclose(beta, ref["coef"], rtol=1e-8)
    se = np.sqrt(np.diag(robust_variance(lung["time"], lung["status"], x.to_numpy(), beta, w)))
    np.testing.assert_allclose(se, ref["robust_se"], rtol=1e-7)


def test_zph_needs_an_event() -> None:
    with pytest.raises(ValueError, match="event"):
        cox_zph(np.array([1.0, 2.0]), np.array([0, 0]), np.array([[0.0], [1.0]]), np.array([0.0]), {"x": [0]})
