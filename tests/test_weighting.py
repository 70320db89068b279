"""hcc.stats.weighting: propensity scores, stabilized IPTW, balance, weighted KM and weighted Cox against R.

Expected values: ``Rscript tests/reference/adjusted_reference.R`` (R 4.2.2, survival 3.5-3, nnet) on
the demo's main cohort, OS, propensity covariates age + Child-Pugh class + BCLC + ECOG (0/1/2+) +
log10 AFP + MVI + EHS::

    glm(treated ~ ..., family = binomial, control = glm.control(epsilon = 1e-14))      # SOR vs ATZ_BEV
    multinom(regimen ~ ..., reltol = 1e-15, maxit = 5000)                            # three regimens
    w <- P(regimen) / P(regimen | x);  pmin(pmax(w, quantile(w, .01)), quantile(w, .99))  # truncation
    coxph(Surv(os_time, os_status) ~ regimen, weights = w, robust = TRUE, control = ctl)
    summary(survfit(Surv(os_time, os_status) ~ regimen_1l, weights = w, conf.type = "log-log"),
            censored = FALSE)
    cox.zph(weighted coxph fit, transform = "km")$table

Tolerances: binary propensities and weights 1e-10; multinomial ones 1e-6 (nnet's BFGS stops ~2e-8
from the optimum; statsmodels' Newton goes to 1e-14); weighted Cox coefficient, robust SE, HR and CI
1e-6 (1e-8 for the binary model); weighted KM estimates and CI 1e-8; SMDs 1e-6 (after weighting, absolute
1e-7: an SMD near 0 inherits nnet's 2e-8 in the weights).
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from hcc.cohort.rules import MAIN, PRESETS, apply_to_registry
from hcc.errors import SpecError
from hcc.ingest.registry import load_demo
from hcc.schema import Col
from hcc.stats.weighting import (
    IPTWSpec, balance_table, iptw_analysis, iptw_json, stabilized_weights, truncate_weights, weighted_km,
    weights_table,
)

REF = Path(__file__).parent / "reference"
WEIGHTS = pd.read_csv(REF / "iptw_weights.csv")
COX = pd.read_csv(REF / "iptw_cox.csv")
KM = pd.read_csv(REF / "iptw_km.csv")
SMD = pd.read_csv(REF / "iptw_smd.csv")
ZPH = pd.read_csv(REF / "iptw_zph.csv")
MODELS = {"binary": ("ATZ_BEV", 1e-10, 1e-8), "multinomial": (None, 1e-6, 1e-6),
          "multinomial_trunc": (None, 1e-6, 1e-6)}


@pytest.fixture(scope="module")
def results():
    cohort = apply_to_registry(load_demo(), PRESETS[MAIN])
    two = dataclasses.replace(cohort, frame=cohort.frame[cohort.frame[Col.REGIMEN_1L].isin(["SOR", "ATZ_BEV"])],
                              regimens=("SOR", "ATZ_BEV"))
    return {"binary": iptw_analysis(two, IPTWSpec(reference="SOR")),
            "multinomial": iptw_analysis(cohort, IPTWSpec(reference="SOR")),
            "multinomial_trunc": iptw_analysis(cohort, IPTWSpec(reference="SOR", trim=(1, 99)))}


@pytest.mark.parametrize("model", list(MODELS))
def test_weights_match_r(results, model) -> None:
    """R: fitted(glm) / fitted(multinom) -> P(own regimen | x); stabilized weights; truncated weights."""
    res = results[model]
    ref = WEIGHTS[WEIGHTS["model"] == model.replace("_trunc", "")].set_index("patient_id")
    tol = MODELS[model][1]
    got = pd.Series(res.weights, index=res.patient_id).loc[ref.index]
    np.testing.assert_allclose(got, ref["w_trunc" if model.endswith("trunc") else "w"], rtol=tol)
    own = res.propensity[np.arange(res.n), [res.regimens.index(r) for r in res.regimen]]
    np.testing.assert_allclose(pd.Series(own, index=res.patient_id).loc[ref.index], ref["p_own"], rtol=tol)


@pytest.mark.parametrize("model", list(MODELS))
def test_weighted_cox_matches_r(results, model) -> None:
    """R: coxph(Surv(os_time, os_status) ~ regimen, weights = w, robust = TRUE) — coef, robust se,
    exp(coef), exp(confint(fit)) (robust), Pr(>|z|)."""
    expected = COX[COX["model"] == model].set_index("term")
    got = {h.term: h for h in results[model].cox}
    assert set(got) == set(expected.index)
    tol = MODELS[model][2]
    for term, row in expected.iterrows():
        h = got[term]
        assert h.reference == "SOR"
        assert h.coef == pytest.approx(row["coef"], rel=tol)
        assert h.robust_se == pytest.approx(row["robust_se"], rel=tol)
        for attr in ("hr", "lower", "upper"):
            assert getattr(h, attr) == pytest.approx(row[attr], rel=tol), attr
        assert h.p == pytest.approx(row["p"], rel=max(tol, 1e-6))


@pytest.mark.parametrize("model", list(MODELS))
def test_weighted_cox_zph_matches_r(results, model) -> None:
    """R: cox.zph(coxph(Surv(os_time, os_status) ~ regimen, weights = w, robust = TRUE),
    transform = "km")$table — case weights enter the score test (R's zph1)."""
    expected = ZPH[ZPH["model"] == model]
    got = results[model].ph_tests
    assert [t.term for t in got] == [Col.REGIMEN_1L, "GLOBAL"]
    for t, (_, row) in zip(got, expected.iterrows()):
        assert t.df == row["df"]
        assert t.chisq == pytest.approx(row["chisq"], rel=MODELS[model][2])


@pytest.mark.parametrize("model", ["binary", "multinomial"])
def test_weighted_km_matches_r(results, model) -> None:
    """R: summary(survfit(..., weights = w, conf.type = "log-log"), censored = FALSE): n.risk,
    n.event, surv, std.err (R's summary shows it on the survival scale: S * our log-scale SE), CI."""
    tol = 1e-6 if model == "multinomial" else 1e-8
    for regimen, curve in results[model].curves.items():
        ref = KM[(KM["model"] == model) & (KM["group"] == regimen)]
        assert len(ref) > 50
        i = np.searchsorted(curve.time, ref["time"].to_numpy())
        np.testing.assert_array_equal(curve.time[i], ref["time"])
        np.testing.assert_allclose(curve.n_risk[i], ref["n_risk"], rtol=tol)
        np.testing.assert_allclose(curve.n_event[i], ref["n_event"], rtol=tol)
        np.testing.assert_allclose(curve.surv[i], ref["surv"], rtol=tol, atol=1e-14)
        alive = ref["surv"].to_numpy() > 0
        j = i[alive]
        np.testing.assert_allclose(curve.surv[j] * curve.std_err[j], ref["std_err"][alive], rtol=tol)
        np.testing.assert_allclose(curve.lower[i][alive], ref["lower"][alive], rtol=tol)
        np.testing.assert_allclose(curve.upper[i][alive], ref["upper"][alive], rtol=tol)


def test_weighted_km_tiny_by_hand() -> None:
    """By hand (and R survfit(Surv(t, e) ~ 1, weights = w)): times 1, 2, 2, 3; events 1, 1, 0, 0;
    weights 0.5, 1.5, 2, 1. n = 5, 4.5; d = 0.5, 1.5: S = 0.9, 0.9 * (1 - 1.5/4.5) = 0.6."""
    c = weighted_km(np.array([1.0, 2.0, 2.0, 3.0]), np.array([1, 1, 0, 0]), np.array([0.5, 1.5, 2.0, 1.0]))
    np.testing.assert_allclose(c.n_risk, [5.0, 4.5, 1.0])
    np.testing.assert_allclose(c.surv, [0.9, 0.6, 0.6], rtol=1e-15)


R_SMD_NAMES = {"log10_afp": Col.AFP, "ecog_f": Col.ECOG}


def _r_column(name: str) -> str:
    for r, ours in R_SMD_NAMES.items():
        if name.startswith(r):
            rest = name[len(r):]
            return ours if not rest else f"{ours}={'≥2' if rest == '2+' else rest}"
    for key in (Col.CHILD_PUGH_CLASS, Col.BCLC, Col.MVI, Col.EHS):
        if name.startswith(key):
            return f"{key}={name[len(key):]}"
    return name


def test_smd_matches_r(results) -> None:
    """R: (weighted.mean(x_a, w_a) - weighted.mean(x_b, w_b)) / sqrt((s2_a + s2_b) / 2), s2 = var() for
    age and log10 AFP, p(1 - p) for each 0/1 level column; every pair of regimens; w = 1 before."""
    got = results["multinomial"].balance.set_index(["column", "a", "b"])
    ref = SMD.assign(column=SMD["column"].map(_r_column)).set_index(["column", "a", "b"])
    assert set(got.index) == set(ref.index)
    np.testing.assert_allclose(got.loc[ref.index, "before"], ref["before"], rtol=1e-10, atol=1e-14)
    np.testing.assert_allclose(got.loc[ref.index, "after"], ref["after"], rtol=1e-6, atol=1e-7)


def test_weighting_improves_balance(results) -> None:
    worst = results["multinomial"].max_abs_smd()
    assert worst["before"].max() > 0.1 > worst["after"].max()
    table = balance_table(results["multinomial"])
    assert (table["Balanced (max |SMD| < 0.1)"] == "yes").all()


def test_stabilized_and_truncated_weights_by_hand() -> None:
    """Two of four on A (share 1/2): P(own) 0.25 -> 2, 0.5 -> 1; B share 1/2: 0.8 -> 0.625, 0.5 -> 1.
    Truncation at the 0th/50th percentiles clips to [0.625, 1]."""
    w = stabilized_weights(np.array(["A", "A", "B", "B"]), np.array([0.25, 0.5, 0.8, 0.5]))
    np.testing.assert_allclose(w, [2.0, 1.0, 0.625, 1.0])
    np.testing.assert_allclose(truncate_weights(w, 0, 50), [1.0, 1.0, 0.625, 1.0])


def test_tables_and_json(results) -> None:
    res = results["multinomial_trunc"]
    out = iptw_json(res)
    assert out["trim_percentiles"] == [1, 99]
    assert {"balance", "weighted_cox", "weights", "max_abs_smd_after"} <= set(out)
    assert {c["term"] for c in out["weighted_cox"]} == {"LEN", "ATZ_BEV"}
    assert list(weights_table(res)["Regimen"]) == ["SOR", "LEN", "ATZ_BEV"]
    assert res.ph_tests[-1].term == "GLOBAL"


def test_bad_specs() -> None:
    with pytest.raises(SpecError, match="percentiles"):
        IPTWSpec(trim=(99, 1))
    with pytest.raises(SpecError, match="at least one covariate"):
        IPTWSpec(covariates=())
    cohort = apply_to_registry(load_demo(), PRESETS[MAIN])
    one = dataclasses.replace(cohort, frame=cohort.frame[cohort.frame[Col.REGIMEN_1L] == "SOR"], regimens=("SOR",))
    with pytest.raises(SpecError, match="at least one other regimen"):
        iptw_analysis(one, IPTWSpec())


def test_propensity_equals_statsmodels_fit_and_separation_is_still_an_error() -> None:
    """The propensity Newton iterations (statsmodels' steps, stopped once a step is 1e-10 relative)
    give statsmodels ``MNLogit.fit(method="newton", tol=1e-14)``'s probabilities to 1e-12; a covariate
    that predicts the regimen exactly still ends in the plain-words error."""
    from statsmodels.discrete.discrete_model import MNLogit

    from hcc.stats.weighting import propensity

    rng = np.random.default_rng(5)
    n = 2000
    x = np.column_stack([np.round(rng.normal(70, 10, n), 1), rng.random(n) < 0.12, rng.integers(0, 3, n) == 2])
    treatment = rng.choice(np.array(["SOR", "LEN", "ATZ_BEV"]), n)
    design = np.column_stack([np.ones(n), x]).astype(float)
    codes = pd.Index(("SOR", "LEN", "ATZ_BEV")).get_indexer(treatment)
    theirs = MNLogit(codes, design).fit(method="newton", maxiter=200, tol=1e-14, disp=0).predict(design)
    np.testing.assert_allclose(propensity(x, treatment, ("SOR", "LEN", "ATZ_BEV")), theirs, rtol=1e-12)
    separated = np.column_stack([x[:, 0], treatment == "LEN"]).astype(float)
    with pytest.raises(SpecError, match="does not converge"):
        propensity(separated, treatment, ("SOR", "LEN", "ATZ_BEV"))
