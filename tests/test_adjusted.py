"""hcc.stats.adjusted: multivariable Cox models on the demo registry against R's survival 3.5-3.

Expected values: ``Rscript tests/reference/adjusted_reference.R`` (R 4.2.2, survival 3.5-3), which
derives OS and PFS in R from the raw demo CSV (main cohort) and codes the covariates as
hcc.stats.adjusted does (factor levels in schema order, reference first; ECOG 0 / 1 / 2+; log10 AFP)::

    ctl <- coxph.control(eps = 1e-12, toler.chol = 1e-13, iter.max = 100)
    coxph(Surv(os_time, os_status) ~ regimen + age + child_pugh_class + bclc, data = d, control = ctl)
    coxph(Surv(pfs_time, pfs_status) ~ regimen + age + sex + etiology + albi_grade + bclc + ecog_f + mvi +
          ehs + log10_afp + strata(center), data = d, control = ctl)
    coxph(Surv(os_time, os_status) ~ regimen + age + ecog_f + afp_400, data = dm, control = ctl)  # blanks
    summary(fit)$coefficients; exp(confint(fit)); fit$concordance; 2 * diff(fit$loglik);
    cox.zph(fit, transform = "km", terms = TRUE)$table

HR and CI: relative 1e-8; Wald p 1e-6 (a small p moves faster than the coefficient); concordance and
the LR statistic 1e-8; cox.zph chi-squares 1e-7 (measured <= 1e-9).
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from hcc.stats.adjusted import (
    COVARIATES, CoxSpec, cox_table, fit_multivariable, multivariable_json, parse_formula, ph_table,
)
from hcc.schema import AFP_400
from hcc.cohort.rules import MAIN, PRESETS, apply_to_registry
from hcc.stats.coxscore import GLOBAL
from hcc.errors import SpecError
from hcc.ingest.registry import load_demo
from hcc.schema import Col, Endpoint

REF = Path(__file__).parent / "reference"
COEF = pd.read_csv(REF / "adjusted_coef.csv")
FIT = pd.read_csv(REF / "adjusted_fit.csv").set_index("model")
ZPH = pd.read_csv(REF / "adjusted_zph.csv")
# R's variable names in adjusted_reference.R -> hcc.stats.adjusted's covariate keys.
R_NAMES = {"regimen": Col.REGIMEN_1L, "ecog_f": Col.ECOG, "log10_afp": Col.AFP}
R_LEVELS = {"2+": "≥2"}
FACTORS = (Col.REGIMEN_1L, *[k for k, c in COVARIATES.items() if c.categorical])


def _r_term(name: str) -> str:
    """R coefficient name (e.g. ``child_pugh_classB``, ``ecog_f2+``) -> ours (``child_pugh_class=B``)."""
    for r, ours in R_NAMES.items():
        if name.startswith(r):
            rest = name[len(r):]
            return ours if not rest else f"{ours}={R_LEVELS.get(rest, rest)}"
    for key in sorted(FACTORS, key=len, reverse=True):
        if name.startswith(key) and name != key:
            return f"{key}={name[len(key):]}"
    return name


@pytest.fixture(scope="module")
def cohort():
    return apply_to_registry(load_demo(), PRESETS[MAIN])


def _blanked(cohort):
    """AFP blank where the patient number is a multiple of 11, ECOG where a multiple of 13 (as the R script)."""
    frame = cohort.frame.copy()
    num = frame[Col.PATIENT_ID].str.slice(3).astype(int)
    frame.loc[num % 11 == 0, Col.AFP] = np.nan
    frame.loc[num % 13 == 0, Col.ECOG] = np.nan
    return dataclasses.replace(cohort, frame=frame), int((num % 11 == 0).sum()), int((num % 13 == 0).sum())


SPECS = {
    "demo_os": CoxSpec(Endpoint.OS, (Col.AGE, Col.CHILD_PUGH_CLASS, Col.BCLC), "SOR"),
    "demo_pfs_center": CoxSpec(Endpoint.PFS, (Col.AGE, Col.SEX, Col.ETIOLOGY, Col.ALBI_GRADE, Col.BCLC, Col.ECOG,
                                              Col.MVI, Col.EHS, Col.AFP), "SOR", center_stratum=True),
    "demo_missing": CoxSpec(Endpoint.OS, (Col.AGE, Col.ECOG, AFP_400), "SOR"),
}


@pytest.fixture(scope="module")
def models(cohort):
    blanked, _, _ = _blanked(cohort)
    return {name: fit_multivariable(blanked if name == "demo_missing" else cohort, spec)
            for name, spec in SPECS.items()}


@pytest.mark.parametrize("model", list(SPECS))
def test_coefficients_match_r(models, model) -> None:
    """R: summary(fit)$coefficients and exp(confint(fit)) (see the module docstring for each fit)."""
    expected = COEF[COEF["model"] == model].assign(term=lambda d: d["term"].map(_r_term)).set_index("term")
    got = {t.term: t for t in models[model].terms}
    assert set(got) == set(expected.index)
    for name, row in expected.iterrows():
        t = got[name]
        assert t.coef == pytest.approx(row["coef"], rel=1e-8)
        for attr in ("hr", "lower", "upper"):
            assert getattr(t, attr) == pytest.approx(row[attr], rel=1e-8), (name, attr)
        assert t.p == pytest.approx(row["p"], rel=1e-6), name


@pytest.mark.parametrize("model", list(SPECS))
def test_fit_statistics_match_r(models, model) -> None:
    """R: fit$n, fit$nevent, fit$concordance["concordance"] (within strata), 2 * diff(fit$loglik)."""
    m, row = models[model], FIT.loc[model]
    assert (m.n, m.events) == (row["n"], row["events"])
    assert m.concordance == pytest.approx(row["concordance"], rel=1e-8)
    assert m.lr_statistic == pytest.approx(row["lr"], rel=1e-8)
    assert m.lr_df == row["lr_df"]
    assert m.lr_p == pytest.approx(row["lr_p"], rel=1e-6)


@pytest.mark.parametrize("model", list(SPECS))
def test_ph_tests_match_r_cox_zph(models, model) -> None:
    """R: cox.zph(fit, transform = "km", terms = TRUE, global = TRUE)$table."""
    expected = ZPH[ZPH["model"] == model]
    got = models[model].ph_tests
    assert [t.term for t in got] == [R_NAMES.get(t, t) for t in expected["term"]]
    for t, (_, row) in zip(got, expected.iterrows()):
        assert t.df == row["df"]
        assert t.chisq == pytest.approx(row["chisq"], rel=1e-7), t.term
        assert t.p == pytest.approx(row["p"], rel=1e-7), t.term


def test_complete_case_counts_who_was_dropped(cohort, models) -> None:
    """R drops 92 of 612 (na.omit); the missing counts are those of the blanked columns."""
    _, n_afp, n_ecog = _blanked(cohort)
    m = models["demo_missing"]
    assert (m.n_eligible, m.n, m.dropped) == (612, 520, 92)
    assert m.missing[AFP_400] == n_afp and m.missing[Col.ECOG] == n_ecog
    assert multivariable_json(m)["dropped_incomplete"] == 92


def test_sparse_levels_are_flagged(models) -> None:
    """ALBI grade 3 has 5 patients in the main cohort: flagged in the term and in the warnings."""
    m = models["demo_pfs_center"]
    albi3 = next(t for t in m.terms if t.term == f"{Col.ALBI_GRADE}=3")
    assert albi3.n == 5 and "only 5 patients" in albi3.flag
    assert any("ALBI grade 3" in w for w in m.warnings)
    assert "only 5 patients" in cox_table(m).set_index("Term").loc["ALBI grade 3 vs 1", "Note"]


def test_ph_table_and_violation(models) -> None:
    """demo_os: Child-Pugh class violates PH (cox.zph p = 0.0149) and so does GLOBAL (p = 0.0476)."""
    m = models["demo_os"]
    assert {t.term for t in m.ph_violations} == {Col.CHILD_PUGH_CLASS, GLOBAL}
    table = ph_table(m).set_index("Term")
    assert table.loc["Child-Pugh class", "Proportional hazards"].startswith("violated")
    assert table.loc["Age", "Proportional hazards"] == "no evidence against"


def test_multivariable_json_shape(models) -> None:
    out = multivariable_json(models["demo_os"])
    assert {"terms", "n", "events", "concordance", "ph_test", "lr_test", "methods"} <= set(out)
    assert {"term", "hr", "ci", "p"} <= set(out["terms"][0])
    assert out["ph_test"][-1]["term"] == GLOBAL
    assert out["methods"]["ties"] == "Efron"


def test_parse_formula() -> None:
    assert parse_formula("age + child_pugh_class+bclc") == ((Col.AGE, Col.CHILD_PUGH_CLASS, Col.BCLC), False)
    assert parse_formula("regimen_1l+afp_400+strata(center)") == ((AFP_400,), True)
    assert parse_formula("ecog+center") == ((Col.ECOG,), True)
    with pytest.raises(SpecError, match="unknown covariate weight"):
        parse_formula("age+weight")


def test_spec_rejects_bad_choices() -> None:
    with pytest.raises(SpecError, match="either as log10"):
        CoxSpec(covariates=(Col.AFP, AFP_400))
    with pytest.raises(SpecError, match="unknown covariate"):
        CoxSpec(covariates=("height",))
    with pytest.raises(SpecError, match="twice"):
        CoxSpec(covariates=(Col.AGE, Col.AGE))


def test_single_regimen_cohort_has_no_regimen_term(cohort) -> None:
    one = dataclasses.replace(cohort, frame=cohort.frame[cohort.frame[Col.REGIMEN_1L] == "SOR"], regimens=("SOR",))
    m = fit_multivariable(one, CoxSpec(covariates=(Col.AGE,)))
    assert [t.term for t in m.terms] == [Col.AGE] and m.reference is None


def test_unrecorded_covariates_are_readable_errors(cohort) -> None:
    frame = cohort.frame.copy()
    frame[Col.AFP] = np.nan
    with pytest.raises(SpecError, match="not recorded for any patient of this cohort: log10 AFP"):
        fit_multivariable(dataclasses.replace(cohort, frame=frame), CoxSpec(covariates=(Col.AFP,)))
    frame = cohort.frame.copy()
    frame.loc[frame[Col.DATE_DEATH].notna(), Col.AGE] = np.nan  # only the censored have an age
    with pytest.raises(SpecError, match="no patient with an event has every chosen covariate"):
        fit_multivariable(dataclasses.replace(cohort, frame=frame), CoxSpec(covariates=(Col.AGE,)))


def test_treatment_era_as_a_covariate_matches_r(cohort) -> None:
    """Year of first-line start (``year_1l``, per year) in the multivariable Cox model. R
    (tests/reference/era_reference.R): coxph(Surv(os_time, os_status) ~ regimen + age + year_1l, Efron),
    summary()$coefficients and exp(confint()) (Wald 95%)."""
    from hcc.schema import ERA_YEAR

    expected = pd.read_csv(REF / "era_coef.csv").assign(term=lambda d: d["term"].map(
        lambda t: ERA_YEAR if t == "year_1l" else _r_term(t))).set_index("term")
    model = fit_multivariable(cohort, CoxSpec(Endpoint.OS, (Col.AGE, ERA_YEAR), "SOR"))
    got = {t.term: t for t in model.terms}
    assert set(got) == set(expected.index)
    for name, row in expected.iterrows():
        t = got[name]
        assert t.coef == pytest.approx(row["coef"], rel=1e-7), name
        for attr in ("hr", "lower", "upper"):
            assert getattr(t, attr) == pytest.approx(row[attr], rel=1e-8), (name, attr)
        assert t.p == pytest.approx(row["p"], rel=1e-6), name
    assert parse_formula("age+year_1l") == ((Col.AGE, ERA_YEAR), False)


def test_covariate_codes_per_distinct_value_equal_the_per_cell_map() -> None:
    """as_text, yes_no and the ECOG coding, now computed once per distinct value, give exactly what
    the per-cell ``map`` gave, missing cells (None, NaN, pd.NA) as None, on each column type."""
    from hcc.stats.adjusted import ECOG_2PLUS, NO, YES, _ecog, as_text, yes_no

    def per_cell(s, code):
        return s.astype(object).map(lambda v: None if pd.isna(v) else code(v))

    def ecog_cell(v):
        return ECOG_2PLUS if v >= 2 else str(int(v))

    text = ["A", None, "B", "A", np.nan, "C"]
    columns = [pd.Series(text, dtype=object), pd.Series(text, dtype="string[pyarrow]"),
               pd.Series(text, dtype=pd.ArrowDtype(__import__("pyarrow").string())),
               pd.Series(text, dtype="category"), pd.Series([1.0, np.nan, 2.5, 1.0]),
               pd.Series([1, 1.0, True, None, "1"], dtype=object), pd.Series([], dtype=object)]
    for s in columns:
        assert as_text(s).tolist() == per_cell(s, str).tolist()
    for s in [pd.Series([True, None, False, True], dtype=object), pd.Series([True, pd.NA, False], dtype="boolean"),
              pd.Series([1.0, 0.0, np.nan])]:
        assert yes_no(s).tolist() == per_cell(s, lambda v: YES if bool(v) else NO).tolist()
    s = pd.Series(["0", "1", "2", "3", None, "4", "x", "1"], dtype=object)
    assert _ecog(s).tolist() == per_cell(pd.to_numeric(s, errors="coerce"), ecog_cell).tolist()


def test_large_tied_fits_take_the_batch_computation_with_the_same_estimates() -> None:
    """From BATCH_MIN_ROWS rows of mostly tied times lifelines' batch Efron computation is asked for;
    its weighted fit equals the per-time computation's to 1e-10 (small or untied fits: lifelines chooses)."""
    import warnings

    from lifelines import CoxPHFitter
    from lifelines.exceptions import StatisticalWarning

    from hcc.stats.adjusted import BATCH_MIN_ROWS, _batch_mode
    from hcc.stats.survival import COX_FIT_OPTIONS

    rng = np.random.default_rng(3)
    n = BATCH_MIN_ROWS
    arm = rng.integers(0, 3, n)
    days = np.floor(rng.exponential(300 * np.exp(0.2 * arm)))
    assert _batch_mode(days) is True
    assert _batch_mode(days[:BATCH_MIN_ROWS - 1]) is None and _batch_mode(rng.random(n)) is None
    frame = pd.DataFrame({"a": arm == 1, "b": arm == 2, "_t": days, "_e": rng.random(n) < 0.7,
                          "_w": rng.uniform(0.5, 2, n)}).astype(float)
    with warnings.catch_warnings():  # lifelines' note on non-integer weights (IPTW's robust variance is ours)
        warnings.simplefilter("ignore", StatisticalWarning)
        fits = [CoxPHFitter().fit(frame, "_t", "_e", weights_col="_w", fit_options=COX_FIT_OPTIONS, batch_mode=mode)
                for mode in (True, False)]
    np.testing.assert_allclose(fits[0].params_, fits[1].params_, rtol=1e-10)
    np.testing.assert_allclose(fits[0].standard_errors_, fits[1].standard_errors_, rtol=1e-10)


def test_concordance_counts_equal_lifelines() -> None:
    """Harrell's C's counts in numpy equal lifelines' B-tree walk exactly, on small data sets with tied
    times, tied predictions, all-censored and single patients; the model's C (with and without
    strata) equals lifelines' ``concordance_index_``."""
    from lifelines import CoxPHFitter
    from lifelines.utils.concordance import _concordance_summary_statistics

    from hcc.stats.adjusted import _concordance, concordance_counts
    from hcc.stats.survival import COX_FIT_OPTIONS

    rng = np.random.default_rng(0)
    for _ in range(200):
        n = int(rng.integers(1, 40))
        t, e = rng.integers(0, 6, n).astype(float), rng.random(n) < rng.random()
        p = rng.integers(0, 4, n).astype(float)
        assert concordance_counts(t, p, e) == tuple(int(v) for v in _concordance_summary_statistics(t, p, e))
    n = 300
    frame = pd.DataFrame({"x": rng.normal(size=n), "b": rng.integers(0, 2, n).astype(float),
                          "_t": np.floor(rng.exponential(50, n)), "_e": (rng.random(n) < 0.7).astype(int),
                          "_s": rng.integers(0, 3, n)})
    plain = CoxPHFitter().fit(frame.drop(columns="_s"), "_t", "_e", fit_options=COX_FIT_OPTIONS)
    strata = CoxPHFitter(strata=["_s"]).fit(frame, "_t", "_e", fit_options=COX_FIT_OPTIONS)
    for fitter in (plain, strata):
        assert _concordance(fitter) == fitter.concordance_index_
