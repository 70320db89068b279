"""Milestone rates, RMST, reverse-KM follow-up, pairwise and weighted log-rank, Cox HR — against R.

Fixtures by ``Rscript tests/reference/survival_extras.R`` (R 4.2.2, survival 3.5-3) on lung (by sex,
by ph.ecog), veteran (by celltype) and two tiny data sets; the R call is named in each test.
Tolerance: relative 1e-9 unless stated (Cox: 1e-8, both fits converged tightly).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from hcc.stats.survival import (
    RMST, adjust_p, cox_by_group, followup_median, kaplan_meier, logrank, pairwise_logrank, rmst,
    rmst_difference, survival_at,
)

REF = Path(__file__).parent / "reference"
CASES = pd.read_csv(REF / "km_cases.csv")
CASES["group"] = CASES["group"].astype(str)


def _read(name: str) -> pd.DataFrame:
    return pd.read_csv(REF / name, na_values=["NA", "NaN"], keep_default_na=False)


def _data(case: str, group: str | None = None):
    d = CASES[CASES["case"] == case]
    if group is not None:
        d = d[d["group"] == str(group)]
    return d["time"].to_numpy(float), d["status"].to_numpy(bool), d["group"].to_numpy(object)


@pytest.mark.parametrize("key", sorted({(r["case"], r["conf_type"], str(r["group"]))
                                        for r in _read("km_rates.csv").to_dict("records")}), ids=str)
def test_rates_match_r_summary_times(key) -> None:
    """R: summary(survfit(..., conf.type = ct), times = t, extend = TRUE)."""
    case, conf_type, group = key
    ref = _read("km_rates.csv")
    ref = ref[(ref["case"] == case) & (ref["conf_type"] == conf_type) & (ref["group"].astype(str) == group)]
    time, event, _ = _data(case, group)
    curve = kaplan_meier(time, event, conf_type)
    got = survival_at(curve, ref["time"].to_numpy())
    for r, g in zip(ref.to_dict("records"), got):
        assert g.n_risk == r["n_risk"]
        if r["time"] > time.max() and curve.surv[-1] > 0:
            # Nobody followed this long: not estimable (R's extend = TRUE would carry the last value on).
            assert np.isnan(g.surv) and g.reason
            continue
        # Once the curve has reached 0 the rate is 0, as R's extend = TRUE gives (issue 15).
        for name in ("surv", "lower", "upper"):
            exp, act = r[name], getattr(g, name)
            assert (np.isnan(exp) and np.isnan(act)) or act == pytest.approx(exp, rel=1e-9), name


@pytest.mark.parametrize("row", _read("rmst.csv").to_dict("records"), ids=lambda r: f"{r['case']}-{r['group']}")
def test_rmst_and_se_match_r(row) -> None:
    """R: summary(survfit(...), rmean = tau)$table[c("rmean", "se(rmean)")]."""
    time, event, _ = _data(row["case"], row["group"])
    res = rmst(kaplan_meier(time, event), row["tau"])
    assert res.estimate == pytest.approx(row["rmean"], rel=1e-9)
    assert res.se == pytest.approx(row["se"], rel=1e-9)


def test_rmst_by_hand() -> None:
    """Deaths at 1, 2; censored 3, 4; tau 3.5: area = 1 + 0.75 + 0.5 * 1.5 = 2.5; R se 0.5303301."""
    res = rmst(kaplan_meier(np.array([1, 2, 3, 4.0]), np.array([1, 1, 0, 0])), 3.5)
    assert res.estimate == pytest.approx(2.5) and res.se == pytest.approx(0.5303301, rel=1e-6)


def test_rmst_difference_ci() -> None:
    d = rmst_difference("A", RMST(12, 10.0, 0.3), "B", RMST(12, 9.0, 0.4))
    assert d.difference == pytest.approx(1.0)
    assert d.upper - d.difference == pytest.approx(1.959963984540054 * 0.5)
    assert d.p == pytest.approx(0.0455002638963584, rel=1e-9)


@pytest.mark.parametrize("row", _read("followup.csv").to_dict("records"), ids=lambda r: f"{r['case']}-{r['group']}")
def test_reverse_km_followup_matches_r(row) -> None:
    """R: quantile(survfit(Surv(time, 1 - status) ~ 1), 0.5)$quantile."""
    time, event, _ = _data(row["case"], row["group"])
    got = followup_median(time, event)
    assert (np.isnan(row["followup_median"]) and np.isnan(got)) or got == pytest.approx(row["followup_median"])


@pytest.mark.parametrize("case", sorted(_read("pairwise.csv")["case"].unique()))
def test_pairwise_logrank_and_adjustment_match_r(case) -> None:
    """R: survdiff on each pair's subset; p.adjust(p, "holm") and p.adjust(p, "bonferroni")."""
    ref = _read("pairwise.csv")
    ref = ref[ref["case"] == case]
    time, event, group = _data(case)
    groups = tuple(sorted(set(group)))
    for adjust, col in (("holm", "p_holm"), ("bonferroni", "p_bonferroni")):
        got = {(t.a, t.b): t for t in pairwise_logrank(time, event, group, groups, adjust=adjust)}
        for r in ref.to_dict("records"):
            t = got[(str(r["a"]), str(r["b"]))]
            assert t.statistic == pytest.approx(r["chisq"], rel=1e-9)
            assert t.p == pytest.approx(r["p"], rel=1e-7)
            assert t.p_adj == pytest.approx(r[col], rel=1e-7)


def test_holm_by_hand() -> None:
    """p = (0.01, 0.04, 0.03): Holm = (0.03, 0.06, 0.06) (R p.adjust)."""
    np.testing.assert_allclose(adjust_p(np.array([0.01, 0.04, 0.03]), "holm"), [0.03, 0.06, 0.06])


@pytest.mark.parametrize("row", _read("logrank_rho1.csv").to_dict("records"), ids=lambda r: r["case"])
def test_peto_peto_matches_r_survdiff_rho1(row) -> None:
    """R: survdiff(Surv(time, status) ~ group, rho = 1)."""
    time, event, group = _data(row["case"])
    res = logrank(time, event, group, rho=1)
    assert res.statistic == pytest.approx(row["chisq"], rel=1e-9) and res.df == row["df"]


@pytest.mark.parametrize("key", sorted({(r["case"], str(r["reference"]))
                                        for r in _read("cox_regimen.csv").to_dict("records")}), ids=str)
def test_cox_hr_matches_r_coxph_efron(key) -> None:
    """R: coxph(Surv(time, status) ~ relevel(factor(group), ref), ties = "efron",
    control = coxph.control(eps = 1e-12)); exp(confint(fit)). Both converged tightly; 1e-8 (a 1-patient group, lung ph.ecog = 3, agrees to 1.0e-9)."""
    case, reference = key
    ref = _read("cox_regimen.csv")
    ref = ref[(ref["case"] == case) & (ref["reference"].astype(str) == reference)]
    time, event, group = _data(case)
    got = {t.term: t for t in cox_by_group(time, event, group, tuple(sorted(set(group))), reference)}
    for r in ref.to_dict("records"):
        t = got[str(r["term"])]
        for name, col in (("hr", "hr"), ("lower", "lower"), ("upper", "upper"), ("p", "p")):
            assert getattr(t, name) == pytest.approx(r[col], rel=1e-8), (r["term"], name)


def test_overview_summary_skips_only_the_comparisons() -> None:
    """comparisons=False keeps every per-group number and the global test, drops pairwise and Cox."""
    from hcc.cohort.rules import MAIN, PRESETS, apply_to_registry
    from hcc.analysis import analyze_endpoint
    from hcc.ingest.registry import load_demo
    cohort = apply_to_registry(load_demo(), PRESETS[MAIN])
    full = analyze_endpoint(cohort, "OS")
    light = analyze_endpoint(cohort, "OS", comparisons=False)
    assert repr(light.groups) == repr(full.groups) and light.logrank == full.logrank  # repr: NaN-safe
    assert light.pairwise == () and light.cox == () and full.pairwise and full.cox
