"""Degenerate statistics are never shown as ordinary numbers (issue 15): each case on a hand-made
registry, against R's output or R's warning (tests/reference/degenerate_reference.R, which writes
degenerate_*.csv), and as the renderers (table, sentence, JSON) show it."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from hcc.analysis import endpoint_json
from hcc.cohort.endpoints import EndpointData
from hcc.formatting import json_safe
from hcc.outputs.tables import comparison_table, endpoint_table, pairwise_table, plain_summary, table_notes
from hcc.schema import DAYS_PER_MONTH, Endpoint
from hcc.stats.survival import (
    AnalysisSpec, cox_by_group, kaplan_meier, pairwise_logrank, summarize, survival_at,
)

REF = Path(__file__).parent / "reference"
CASES = pd.read_csv(REF / "degenerate_cases.csv")


def _case(name: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    d = CASES[CASES["case"] == name]
    return d["time"].to_numpy(float), d["status"].to_numpy(bool), d["group"].to_numpy(object)


def _summary(name: str, endpoint: Endpoint = Endpoint.OS, scale: float = DAYS_PER_MONTH, **spec) -> object:
    """The case as an endpoint summary, times read as months (scaled to days)."""
    time, event, group = _case(name)
    data = EndpointData(endpoint, np.arange(len(time)).astype(str), group, time * scale, event, {},
                        pd.DataFrame(columns=["row", "patient_id", "reason"]))
    return summarize(data, tuple(dict.fromkeys(group)), AnalysisSpec(**spec))


def _r_cox(case: str) -> pd.DataFrame:
    ref = pd.read_csv(REF / "degenerate_cox.csv")
    return ref[ref["case"] == case].set_index("term")


def test_monotone_likelihood_is_not_estimable_where_r_warns_infinite() -> None:
    """R: coxph(Surv(time, status) ~ relevel(group, "A")) warns "Loglik converged before variable 1;
    coefficient may be infinite" (coef 22.5, se 23718): every death in B precedes the first in A."""
    assert "coefficient may be infinite" in _r_cox("monotone").loc["B", "warning"]
    time, event, group = _case("monotone")
    (term,) = cox_by_group(time, event, group, ("A", "B"), "A")
    assert not term.estimable and np.isnan(term.hr) and np.isnan(term.p)
    assert term.reason == "not estimable — every event in B precedes the first in A (monotone likelihood)"
    summary = _summary("monotone")
    cell = comparison_table(summary)["Hazard ratio (95% CI)"].iloc[0]
    assert cell == "not estimable — every death in B precedes the first in A (monotone likelihood)"
    cox = json_safe(endpoint_json(summary))["cox"][0]
    assert cox["hr"] is None and cox["p"] is None and cox["estimable"] is False and "monotone" in cox["reason"]


def test_group_without_events_is_listed_not_dropped_and_the_others_match_r() -> None:
    """R (same call, A reference): C has no deaths (coef -19.3, 'coefficient may be infinite'); B's
    coefficient 0.39196641 is the limit the app reaches by fitting without C."""
    ref = _r_cox("no_events")
    assert "coefficient may be infinite" in ref.loc["C", "warning"]
    time, event, group = _case("no_events")
    terms = {t.term: t for t in cox_by_group(time, event, group, ("A", "B", "C"), "A")}
    assert set(terms) == {"B", "C"}
    assert np.log(terms["B"].hr) == pytest.approx(ref.loc["B", "coef"], rel=1e-9)  # measured 1e-15
    assert not terms["C"].estimable and terms["C"].reason == "not estimable — no events in C"
    summary = _summary("no_events", tau_months=10)
    table = comparison_table(summary).set_index("Regimen")
    assert table.loc["C vs A", "Hazard ratio (95% CI)"] == "not estimable — no deaths in C"
    assert table.loc["C vs A", "p (Wald)"] == ""
    # its RMST difference is estimable (C was followed past tau) and is kept in the same row
    assert table.loc["C vs A", "RMST difference to 10 months (95% CI)"].startswith("+")


def test_reference_without_events_makes_every_hr_not_estimable() -> None:
    time, event, group = _case("no_events")
    terms = cox_by_group(time, event, group, ("C", "A", "B"), "C")
    assert [t.term for t in terms] == ["A", "B"]
    assert all(t.reason == "not estimable — no events in C, the reference" for t in terms)


def test_pairwise_with_no_expected_events_is_r_p_one_and_says_not_testable() -> None:
    """R: survdiff(Surv(time, status) ~ group) gives chisq 0, df 0, p 1 when X has no expected events."""
    ref = pd.read_csv(REF / "degenerate_logrank.csv").iloc[0]
    assert ref["chisq"] == 0 and ref["p"] == 1 and ref["expected_X"] == 0
    time, event, group = _case("no_expected")
    (pair,) = pairwise_logrank(time, event, group, ("X", "Y"))
    assert pair.statistic == ref["chisq"] and pair.p == ref["p"] and not pair.testable
    assert pair.reason.startswith("not testable — no events expected in X: all its patients were censored")
    shown = pairwise_table(_summary("no_expected"))["p"].iloc[0]
    assert "not testable — no deaths expected in X" in shown
    out = json_safe(endpoint_json(_summary("no_expected")))["pairwise"][0]
    assert out["p"] == 1 and out["testable"] is False and out["reason"].startswith("not testable")


@pytest.mark.parametrize("row", pd.read_csv(REF / "degenerate_rates.csv").to_dict("records"),
                         ids=lambda r: f"{r['case']}-{r['time']:g}")
def test_rates_after_the_curve_reached_zero_are_zero_as_r(row) -> None:
    """R: summary(survfit(..., conf.type = "log-log"), times = c(3, 6, 10), extend = TRUE): 0 (CI NA)
    once the curve is 0. Past the last time of a curve that ends above 0, R's extend = TRUE carries the
    last value on; the app says not estimable (nobody was followed that long)."""
    time, event, _ = _case(row["case"])
    (got,) = survival_at(kaplan_meier(time, event), np.array([row["time"]]))
    assert got.n_risk == row["n_risk"]
    if row["time"] > time.max() and row["surv"] > 0:
        assert np.isnan(got.surv) and got.reason == "no patient followed this long"
        return
    assert got.surv == pytest.approx(row["surv"], rel=1e-9, abs=0)
    for name in ("lower", "upper"):
        exp, act = row[name], getattr(got, name)
        assert (np.isnan(exp) and np.isnan(act)) or act == pytest.approx(exp, rel=1e-9)


def test_rate_zero_and_not_estimable_as_the_user_sees_them() -> None:
    zero = _summary("to_zero", milestones_months=(10.0,))
    assert endpoint_table(zero)["10-month rate (95% CI)"].iloc[0] == "0% (NA–NA)"
    short = _summary("ends_censored", milestones_months=(10.0,))
    assert endpoint_table(short)["10-month rate (95% CI)"].iloc[0] == (
        "not estimable — follow-up ends at 6.0 months")
    assert json_safe(endpoint_json(short))["groups"]["Z"]["rates"]["10"]["estimable"] is False


def test_rmst_tau_past_a_groups_follow_up_is_not_estimable_as_survrm2() -> None:
    """survRM2::rmst2 stops when tau exceeds the shorter group's last observed time; the largest
    admissible tau (degenerate_rmst.csv) is the minimum over groups of the last time."""
    admissible = pd.read_csv(REF / "degenerate_rmst.csv").set_index("case")["time"]
    summary = _summary("monotone", tau_months=10)  # B's follow-up ends at 4 months
    assert summary.tau_max_months == pytest.approx(admissible["monotone"], rel=1e-12)
    b = {g.group: g for g in summary.groups}["B"]
    assert not b.rmst.estimable and np.isnan(b.rmst.estimate)
    assert b.rmst.reason == "not estimable — follow-up in B ends at 4.0 months, before τ = 10 months"
    (diff,) = summary.rmst_differences
    assert not diff.estimable and np.isnan(diff.p) and diff.reason == b.rmst.reason
    assert endpoint_table(summary)["RMST to 10 months (SE)"].tolist()[1] == b.rmst.reason
    assert any("the largest τ all groups allow here is 4.0 months" in n for n in table_notes(summary))
    ok = _summary("monotone", tau_months=4)
    assert all(g.rmst.estimable for g in ok.groups) and ok.rmst_differences[0].estimable


def test_small_groups_are_not_ranked_in_the_sentence() -> None:
    """RAM (n = 1, median 40 months, CI NR–NR) would have been crowned "longest"; A (n = 20) is ranked."""
    months = np.concatenate([np.arange(1.0, 21.0), [40.0]])
    data = EndpointData(Endpoint.OS, np.arange(21).astype(str), np.array(["A"] * 20 + ["RAM"], object),
                        months * DAYS_PER_MONTH, np.ones(21, bool), {},
                        pd.DataFrame(columns=["row", "patient_id", "reason"]))
    text = plain_summary(summarize(data, ("A", "RAM")))
    assert text.startswith("Median overall survival was longest with A: 10.5 months (95% CI 5.0–15.0)")
    assert "with RAM" not in text and "too few to compare: RAM (n = 1)" in text


def test_an_endpoint_with_an_empty_source_column_is_not_available() -> None:
    from hcc.analysis import analyze_endpoint
    from hcc.cohort.rules import CohortSpec, apply_spec
    from tests.conftest import make_registry
    from hcc.schema import Col
    rows = [{Col.REGIMEN_1L: r, Col.DATE_DEATH: "2021-06-01"} for r in ("SOR", "LEN", "SOR", "LEN")]
    cohort = apply_spec(make_registry(rows).frame.assign(**{Col.DATE_PROGRESSION_1L: pd.NaT}), CohortSpec())
    summary = analyze_endpoint(cohort, Endpoint.PFS)
    assert not summary.curves
    assert summary.unavailable == ("PFS is not available in this registry: column date_progression_1l has no "
                                   "values (no first-line progression recorded).")
    assert plain_summary(summary) == summary.unavailable
    assert json_safe(endpoint_json(summary))["available"] is False
    assert analyze_endpoint(cohort, Endpoint.OS).curves  # OS needs no progression date
    from hcc.analysis import km_json
    registry = make_registry(rows)
    assert km_json(registry, CohortSpec(), (Endpoint.PFS,))["endpoints"]["PFS"] == {
        "unit": "months", "available": False, "reason": summary.unavailable}  # --stats km says it too


def test_median_at_exactly_half_says_it_uses_the_midpoint_rule() -> None:
    """R: quantile(survfit(Surv(c(1, 2, 3, 4), c(1, 1, 0, 0)) ~ 1), 0.5) is 3 (midpoint of 2 and 4),
    while print(fit) shows 2; the app keeps quantile.survfit's value and says so."""
    data = EndpointData(Endpoint.OS, np.arange(4).astype(str), np.array(["A"] * 4, object),
                        np.array([1.0, 2, 3, 4]) * DAYS_PER_MONTH, np.array([1, 1, 0, 0], bool), {},
                        pd.DataFrame(columns=["row", "patient_id", "reason"]))
    summary = summarize(data, ("A",))
    (g,) = summary.groups
    assert g.median == pytest.approx(3.0, rel=1e-12)
    assert "midpoint between 2.0 months" in g.median_note and "R's print() shows 2.0" in g.median_note
    assert any(n.startswith("Median of A: the curve ends at exactly 50%") for n in table_notes(summary))


def test_a_median_without_a_lower_limit_is_not_ranked() -> None:
    """"NR–NR" (no CI limit reached) is not ranked even with n >= 10; "18.6–NR" (upper open) is."""
    from dataclasses import replace as _replace
    from hcc.stats.survival import GroupSummary
    base = _summary("no_events")
    groups = (GroupSummary("SOR", 50, 40, 18.4, 16.2, 19.3), GroupSummary("ATZ_BEV", 30, 10, 23.7, 18.6, np.nan),
              GroupSummary("LEN", 12, 3, 40.0, np.nan, np.nan))
    text = plain_summary(_replace(base, groups=groups))
    assert text.startswith("Median overall survival was longest with ATZ_BEV: 23.7 months (95% CI 18.6–NR)")
    assert "not ranked, median CI not defined: LEN (40.0 months)" in text
