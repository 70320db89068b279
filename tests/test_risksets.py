"""hcc.stats.risksets: the counts every by-group statistic is computed from, and the log-rank and Cox fits on them.

The statistics themselves are checked against R through hcc.stats.survival's public functions (which now
run on these counts) in tests/test_survival.py, tests/test_survival_extras.py (R survdiff, coxph
Efron at 1e-8) and tests/test_demo_reference.py; here: the counts by hand, the long-format path a
database uses, and R's handling of degenerate groups.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from hcc.stats.risksets import cox_categorical, from_long, logrank_test, risk_sets
from hcc.stats.survival import cox_by_group, kaplan_meier, km_from_counts, logrank

TIME = np.array([1, 3, 2, 4, 2, 2, 5.0])
EVENT = np.array([1, 1, 1, 0, 0, 1, 1], bool)
GROUP = np.array(["A", "A", "B", "B", "A", "B", "X"], object)


def test_counts_by_hand() -> None:
    """Times 1, 2, 3, 4 (X left out): A has an event at 1 and 3 and a censoring at 2; B events at
    2 (two) and a censoring at 4. At risk in A: 3, 2, 1, 0; in B: 3, 3, 1, 1."""
    rs = risk_sets(TIME, EVENT, GROUP, ("A", "B"))
    np.testing.assert_array_equal(rs.time, [1, 2, 3, 4])
    np.testing.assert_array_equal(rs.n_event, [[1, 0], [0, 2], [1, 0], [0, 0]])
    np.testing.assert_array_equal(rs.n_censor, [[0, 0], [1, 0], [0, 0], [0, 1]])
    np.testing.assert_array_equal(rs.n_risk, [[3, 3], [2, 3], [1, 1], [0, 1]])
    time, n_risk, n_event, n_censor = rs.column("A")
    np.testing.assert_array_equal(time, [1, 2, 3])
    np.testing.assert_array_equal(n_risk, [3, 2, 1])


def test_long_format_gives_the_same_counts_and_curve() -> None:
    """A database returns one row per observed (group, time): the same RiskSets, the same KM bits."""
    rs = risk_sets(TIME, EVENT, GROUP, ("A", "B", "X"))
    g, t = np.nonzero((rs.n_event + rs.n_censor).T)
    long = from_long(np.array(rs.groups, object)[g], rs.time[t], rs.n_event[t, g], rs.n_censor[t, g], rs.groups)
    for field in ("time", "n_event", "n_censor"):
        np.testing.assert_array_equal(getattr(long, field), getattr(rs, field))
    direct = kaplan_meier(TIME[GROUP == "B"], EVENT[GROUP == "B"])
    counted = km_from_counts(*long.column("B"))
    np.testing.assert_array_equal(direct.surv, counted.surv)
    np.testing.assert_array_equal(direct.std_err, counted.std_err)


def test_group_without_expected_events_is_dropped_as_in_r() -> None:
    """R: survdiff(Surv(time, status) ~ group) with A deaths at 1, 3; B death 2, censored 4; C censored
    at 0.5 (before any death): expected C = 0, so C is dropped; chisq = 0.615384615384615 on 1 df,
    the two-group value worked by hand in tests/test_survival.py."""
    res = logrank(np.array([1, 3, 2, 4, 0.5]), np.array([1, 1, 1, 0, 0]), np.array(["A", "A", "B", "B", "C"]))
    assert res.df == 1
    assert res.statistic == pytest.approx(0.615384615384615, rel=1e-12)


def test_only_one_group_with_expected_events_has_no_test() -> None:
    rs = risk_sets(np.array([1.0, 2.0, 0.5]), np.array([1, 1, 0], bool), np.array(["A", "A", "B"]), ("A", "B"))
    assert logrank_test(rs).df == 0
    assert logrank(np.array([1.0, 2.0, 0.5]), np.array([1, 1, 0]), np.array(["A", "A", "B"])) is None


def test_cox_without_ties_equals_the_closed_form_score_at_zero() -> None:
    """Two groups, no ties: at beta = 0 the Efron score is O_B - E_B of the log-rank test and the
    information its variance, so one Newton step from 0 is (O - E) / V (the log-rank 'one-step' HR)."""
    time = np.array([1, 2, 3, 4, 5, 6.0])
    event = np.ones(6, bool)
    group = np.array(["A", "B", "A", "B", "B", "A"], object)
    fit = cox_categorical(risk_sets(time, event, group, ("A", "B")), "A", max_iter=1)
    # at risk (A, B): (3,3) (2,3) (2,2) (1,2) (1,1) (1,0); B events at 2, 4, 5
    e_b = 3 / 6 + 3 / 5 + 2 / 4 + 2 / 3 + 1 / 2 + 0
    v = 9 / 36 + 6 / 25 + 4 / 16 + 2 / 9 + 1 / 4 + 0
    assert fit.coef[0] == pytest.approx((3 - e_b) / v, rel=1e-12)


def test_complete_separation_is_flagged_not_reported_as_converged() -> None:
    """R: coxph(Surv(time, status) ~ group) with REG deaths at 5, 6 and RAM deaths at 7, 8 warns
    "Ran out of iterations and did not converge" (coef 21.7): the HR is infinite in truth."""
    time = np.array([5, 6, 7, 8.0])
    group = np.array(["REG", "REG", "RAM", "RAM"], object)
    fit = cox_categorical(risk_sets(time, np.ones(4, bool), group, ("RAM", "REG")), "RAM")
    assert fit.coef[0] > 8 and fit.runs_off == (True,)  # the fit runs off towards +infinity
    # Issue 15: no number is reported for it, only the reason (it used to be HR > 1e5 with a note).
    (term,) = cox_by_group(time, np.ones(4, bool), group, ("RAM", "REG"), "RAM")
    assert not term.estimable and np.isnan(term.hr) and np.isnan(term.p)
    assert term.reason == "not estimable — every event in REG precedes the first in RAM (monotone likelihood)"


def test_singular_variance_gives_zero_not_an_error() -> None:
    """A and B each die at time 1: both expect one death, the variance is 0. R's survdiff stops with
    "system is exactly singular"; the app reports chi-square 0 (pseudo-inverse, as lifelines did)
    rather than failing the page, since O - E is 0 as well."""
    res = logrank(np.array([1.0, 1.0]), np.array([1, 1]), np.array(["A", "B"]))
    assert res.df == 1 and res.statistic == 0.0


def test_wald_se_is_nan_where_the_variance_is_not_positive() -> None:
    """By hand: inv([[1, 2], [2, 1]]) = [[-1/3, 2/3], [2/3, -1/3]], a negative variance (the square
    root used to give NaN with a RuntimeWarning); a singular matrix has no inverse at all."""
    from hcc.stats.risksets import wald_se
    assert np.isnan(wald_se(np.array([[1.0, 2.0], [2.0, 1.0]]))).all()
    assert np.isnan(wald_se(np.ones((2, 2)))).all()
    np.testing.assert_allclose(wald_se(np.array([[4.0, 0.0], [0.0, 0.25]])), [0.5, 2.0], rtol=1e-15)


#: 28 groups of 2 patients (times in days, event flags) whose Cox fit runs off to |log HR| > 40 in
#: one Newton step, leaving an information matrix whose inverse has a negative diagonal entry.
_RUNAWAY_T = [21, 14, 13, 14, 13, 19, 19, 17, 13, 20, 1, 16, 24, 9, 20, 13, 8, 28, 29, 18, 7, 19, 3, 1, 16, 17, 14, 8,
              25, 14, 28, 16, 4, 22, 20, 21, 24, 22, 4, 19, 4, 26, 29, 10, 8, 19, 9, 22, 7, 26, 18, 5, 15, 7, 9, 29]
_RUNAWAY_E = "01001100000110010100101011111010111110111000011110001111"


def test_runaway_cox_fit_reports_not_estimable_without_warnings() -> None:
    """Many tiny groups (as 300 regimens of 3 patients): the HR whose variance is not positive is
    reported as not estimable (CI and p NaN, JSON null) with a note, and no RuntimeWarning is raised
    (warnings are errors here: before the fix this test failed on 'invalid value in sqrt')."""
    from hcc.stats.survival import cox_by_group
    time = np.array(_RUNAWAY_T, dtype=float)
    event = np.array([c == "1" for c in _RUNAWAY_E])
    group = np.repeat(np.arange(28), 2).astype(str)
    terms = cox_by_group(time, event, group, tuple(np.unique(group)), reference="0")
    # Issue 15: not estimable is a field with its reason (groups without deaths, a monotone likelihood),
    # and no number is left in it; every group but the reference has a row (none is dropped).
    bad = [t for t in terms if not t.estimable]
    assert {t.term for t in terms} == set(np.unique(group)) - {"0"}
    assert bad and all(np.isnan(t.hr) and np.isnan(t.lower) and np.isnan(t.upper) and np.isnan(t.p) for t in bad)
    assert all(t.reason.startswith("not estimable — ") for t in bad)
    assert any(t.reason == "not estimable — no events in 1" for t in bad)
    assert all(t.note for t in terms)  # the fit did not converge: every term says so


def test_not_estimable_hr_is_shown_as_such_in_the_comparison_table() -> None:
    """The page / report table prints the reason, not "nan (nan–nan)"; the CLI JSON gives null and the note."""
    from hcc.analysis import endpoint_json
    from hcc.formatting import json_safe
    from hcc.cohort.endpoints import EndpointData
    from hcc.outputs.tables import comparison_table
    from hcc.schema import Endpoint
    from hcc.stats.survival import summarize
    group = np.repeat(np.arange(28), 2).astype(str)
    data = EndpointData(Endpoint.OS, np.arange(len(group)).astype(str), group, np.array(_RUNAWAY_T, dtype=float),
                        np.array([c == "1" for c in _RUNAWAY_E]), {},
                        pd.DataFrame(columns=["row", "patient_id", "reason"]))
    summary = summarize(data, tuple(np.unique(group)))
    table = comparison_table(summary)
    assert (table["Hazard ratio (95% CI)"] == "not estimable — no deaths in 1").any()
    assert not table["Hazard ratio (95% CI)"].str.contains("nan").any()
    cox = json_safe(endpoint_json(summary))["cox"]
    assert any(c["hr"] is None and c["ci"] == [None, None] and c["p"] is None and c["estimable"] is False
               and c["reason"] == "not estimable — no deaths in 1" for c in cox)


# -- Cox on counting-process rows (hcc.stats.risksets.cell_risk_sets / cox_cells) ---------------------

def test_cell_risk_sets_count_start_lt_t_le_stop_by_brute_force() -> None:
    """At risk at an event time t of its stratum: start < t <= stop (R Surv(tstart, tstop, event)),
    compared with a double loop over rows and event times, for random intervals with ties."""
    from hcc.stats.risksets import cell_risk_sets

    rng = np.random.default_rng(7)
    n = 300
    start = rng.integers(0, 20, n).astype(float)
    stop = start + rng.integers(1, 15, n)
    event, cell, stratum = rng.random(n) < 0.4, rng.integers(0, 3, n), rng.integers(0, 2, n)
    rs = cell_risk_sets(start, stop, event, cell, np.eye(3), stratum)
    want_risk, want_event = [], []
    for s in (0, 1):
        for t in np.unique(stop[(stratum == s) & event]):
            here = stratum == s
            want_risk.append([int(((start < t) & (t <= stop) & here & (cell == c)).sum()) for c in range(3)])
            want_event.append([int(((stop == t) & event & here & (cell == c)).sum()) for c in range(3)])
    np.testing.assert_array_equal(rs.n_risk, want_risk)
    np.testing.assert_array_equal(rs.n_event, want_event)


def test_cox_cells_without_time_dependence_is_the_categorical_cox() -> None:
    """One (0, T] row per patient and the group as indicator cells: the same fit as cox_categorical
    (itself R-exact, tests above), coefficients and SEs to 1e-10."""
    from hcc.stats.risksets import cell_risk_sets, cox_cells

    rng = np.random.default_rng(3)
    n = 500
    group = rng.choice(np.array(["A", "B", "C"], dtype=object), n)
    time = np.ceil(rng.exponential(np.where(group == "A", 30, np.where(group == "B", 20, 45))))
    event = rng.random(n) < 0.7
    ref = cox_categorical(risk_sets(time, event, group, ("A", "B", "C")), "A")
    code = np.select([group == "A", group == "B"], [0, 1], 2)
    fit = cox_cells(cell_risk_sets(np.zeros(n), time, event, code, np.array([[0, 0], [1, 0], [0, 1]])), ("B", "C"))
    assert fit.converged and ref.converged
    np.testing.assert_allclose(fit.coef, ref.coef, rtol=1e-10)
    np.testing.assert_allclose(fit.se, ref.se, rtol=1e-10)
