"""hcc.stats.subgroups: ATZ_BEV vs SOR within subgroups of the demo's main cohort, against R survival 3.5-3.

Expected values: ``Rscript tests/reference/adjusted_reference.R``::

    ctl <- coxph.control(eps = 1e-12, toler.chol = 1e-13, iter.max = 100)
    coxph(Surv(os_time, os_status) ~ arm, data = two[two[[f]] == level, ], control = ctl)   # per level
    anova(coxph(Surv(os_time, os_status) ~ arm + f, data = two, control = ctl),
          coxph(Surv(os_time, os_status) ~ arm * f, data = two, control = ctl))            # interaction

``arm`` = factor(regimen, levels = c("SOR", "ATZ_BEV")); viral = HBV or HCV; AFP split at 400 ng/mL.
HR and CI: relative 1e-8; p values and the LR chi-square 1e-6.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from hcc.schema import AFP_400
from hcc.cohort.rules import MAIN, PRESETS, apply_to_registry
from hcc.errors import SpecError
from hcc.ingest.registry import load_demo
from hcc.schema import Col
from hcc.stats.subgroups import SUBGROUPS, subgroup_analysis, subgroup_json, subgroup_table

REF = Path(__file__).parent / "reference"
SUB = pd.read_csv(REF / "adjusted_subgroups.csv")
INTER = pd.read_csv(REF / "adjusted_interaction.csv").set_index("factor")
R_FACTOR = {"child_pugh_class": Col.CHILD_PUGH_CLASS, "bclc": Col.BCLC, "viral": Col.ETIOLOGY, "afp_grp": AFP_400}


@pytest.fixture(scope="module")
def results():
    cohort = apply_to_registry(load_demo(), PRESETS[MAIN])
    return {r: subgroup_analysis(cohort, ours, "ATZ_BEV", "SOR") for r, ours in R_FACTOR.items()}


@pytest.mark.parametrize("factor", list(R_FACTOR))
def test_levels_match_r(results, factor) -> None:
    """R: summary(coxph(Surv(os_time, os_status) ~ arm, subset = level)); exp(confint(fit)); levels in
    R's order (factor levels) match ours."""
    res = results[factor]
    expected = SUB[SUB["factor"] == factor]
    assert len(res.rows) == len(expected)
    for got, (_, row) in zip(res.rows, expected.iterrows()):
        assert got.n == row["n"] and got.events_a + got.events_b == row["events"]
        for attr in ("hr", "lower", "upper"):
            assert getattr(got, attr) == pytest.approx(row[attr], rel=1e-8), (got.level, attr)
        assert got.p == pytest.approx(row["p"], rel=1e-6)


@pytest.mark.parametrize("factor", list(R_FACTOR))
def test_interaction_matches_r(results, factor) -> None:
    """R: anova(coxph(~ arm + f), coxph(~ arm * f)) — Chisq, Df, Pr(>|Chi|)."""
    res, row = results[factor], INTER.loc[factor]
    assert res.interaction_df == row["df"]
    assert res.interaction_chisq == pytest.approx(row["chisq"], rel=1e-6)
    assert res.interaction_p == pytest.approx(row["p"], rel=1e-6)


def test_small_level_is_flagged_and_tables_render(results) -> None:
    """BCLC A has 6 ATZ_BEV and 6 SOR patients: flagged."""
    res = results["bclc"]
    a = next(r for r in res.rows if r.level == "A")
    assert (a.n_a, a.n_b) == (6, 6) and "only 6" in a.flag
    table = subgroup_table(res)
    assert list(table.iloc[:, 0]) == ["All patients", "A", "B", "C"]
    out = subgroup_json(res)
    assert out["interaction"]["df"] == 2 and len(out["levels"]) == 3


def test_overall_row_is_the_two_regimen_cox(results) -> None:
    """The 'All patients' row equals the univariable Cox of ATZ_BEV vs SOR on both regimens (same
    patients in every factor's analysis)."""
    hrs = {round(r.overall.hr, 12) for r in results.values()}
    assert len(hrs) == 1
    assert results["viral"].overall.n == 453


def test_not_estimable_level() -> None:
    """A level where one regimen has no events gets no HR, with the reason."""
    cohort = apply_to_registry(load_demo(), PRESETS[MAIN])
    frame = cohort.frame.copy()
    sor = frame[Col.REGIMEN_1L] == "SOR"
    frame.loc[sor & (frame[Col.SEX] == "F"), Col.DATE_DEATH] = pd.NaT
    import dataclasses
    res = subgroup_analysis(dataclasses.replace(cohort, frame=frame), Col.SEX, "ATZ_BEV", "SOR")
    female = next(r for r in res.rows if r.level == "F")
    assert np.isnan(female.hr) and "no events" in female.flag


def test_bad_requests() -> None:
    cohort = apply_to_registry(load_demo(), PRESETS[MAIN])
    with pytest.raises(SpecError, match="unknown subgroup"):
        subgroup_analysis(cohort, "height", "ATZ_BEV", "SOR")
    with pytest.raises(SpecError, match="two different regimens"):
        subgroup_analysis(cohort, Col.SEX, "SOR", "SOR")
    assert set(SUBGROUPS) >= {Col.CHILD_PUGH_CLASS, Col.BCLC, Col.ETIOLOGY, AFP_400}


def test_level_with_one_regimen_has_no_interaction_to_test() -> None:
    """Every ATZ_BEV patient recoded to Child-Pugh A: level B holds SOR only. Its row is not estimable
    and the interaction has 0 df (R: the arm:B coefficient is aliased, NA, and anova has nothing to test)."""
    import dataclasses
    cohort = apply_to_registry(load_demo(), PRESETS[MAIN])
    frame = cohort.frame.copy()
    frame.loc[frame[Col.REGIMEN_1L] == "ATZ_BEV", Col.CHILD_PUGH_CLASS] = "A"
    res = subgroup_analysis(dataclasses.replace(cohort, frame=frame), Col.CHILD_PUGH_CLASS, "ATZ_BEV", "SOR")
    b = next(r for r in res.rows if r.level == "B")
    assert b.n_a == 0 and np.isnan(b.hr) and "no patient on one regimen" in b.flag
    assert res.interaction_df == 0 and np.isnan(res.interaction_p)


def test_cell_cox_equals_the_per_patient_fit() -> None:
    """The subgroups' Cox fits on cell risk sets equal lifelines' per-patient Efron fit (what they were
    before) on tied whole-day times, an arm, a 3-level factor and their interaction: 1e-9 relative."""
    from lifelines import CoxPHFitter

    from hcc.stats.subgroups import _binary_cox
    from hcc.stats.survival import COX_FIT_OPTIONS

    rng = np.random.default_rng(7)
    n = 600
    arm, level = rng.integers(0, 2, n), rng.integers(0, 3, n)
    days = np.floor(rng.exponential(200 * np.exp(0.3 * arm - 0.2 * level)))  # ties, some at day 0
    event = rng.random(n) < 0.7
    x = np.column_stack([arm, level == 1, level == 2, arm * (level == 1), arm * (level == 2)]).astype(float)
    ours = _binary_cox(days, event, x, tuple("abcde"))
    frame = pd.DataFrame(x, columns=list("abcde")).assign(_t=days, _e=event.astype(int))
    theirs = CoxPHFitter().fit(frame, "_t", "_e", fit_options=COX_FIT_OPTIONS)
    np.testing.assert_allclose(ours.coef, theirs.params_.to_numpy(), rtol=1e-9)
    np.testing.assert_allclose(ours.se, theirs.standard_errors_.to_numpy(), rtol=1e-9)
    assert ours.loglik == pytest.approx(theirs.log_likelihood_, rel=1e-12)
