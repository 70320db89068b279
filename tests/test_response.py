"""hcc.stats.response: best-response counting, ORR/DCR with exact CIs and their tests, the landmark
analysis and the swimmer lanes; R parity from ``Rscript tests/reference/response_reference.R``
(R 4.2.2, survival 3.5-3) on the demo main cohort and ``tests/reference/response_fixture.csv``."""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from hcc.stats.baseline import CHI_SQUARE, FISHER
from hcc.cohort.rules import PRESETS, apply_to_registry
from hcc.outputs.figures import regimen_colors, response_bar_figure, swimmer_figure
from hcc.ingest.mapping import Mapping
from hcc.ingest.registry import load_demo, load_path
from hcc.outputs.tables import landmark_table, response_counts_table, response_models_table, response_rates_table
from hcc.stats.response import (
    CRITERIA, NOT_RECORDED, POOLED, analyze_response, available_criteria, clopper_pearson, landmark,
    response_json, response_models, response_rates, swimmer_lanes,
)
from hcc.schema import DAYS_PER_MONTH, Col
from tests.conftest import make_registry

REF = Path(__file__).parent / "reference"
# The fixture's free-text 'note' column describes each test case; the mapping confirms it is not identifying.
FIXTURE_MAPPING = Mapping.from_json((REF / "response_fixture.mapping.json").read_text(encoding="utf-8"))
RATES = pd.read_csv(REF / "response_rates.csv")
TESTS = pd.read_csv(REF / "response_tests.csv")
LANDMARK = pd.read_csv(REF / "response_landmark.csv", na_values=["NA"], keep_default_na=False)
CRITERION_OF = {col: name for name, col in CRITERIA.items()}


@lru_cache(maxsize=None)
def _cohort(name: str):
    registry = load_demo() if name == "demo" else load_path(REF / "response_fixture.csv", FIXTURE_MAPPING)
    return apply_to_registry(registry, PRESETS["main"])


@lru_cache(maxsize=None)
def _rates(name: str, column: str):
    cohort = _cohort(name)
    return response_rates(cohort.frame, cohort.regimens, CRITERION_OF[column])


@lru_cache(maxsize=None)
def _landmark(name: str, months: float, covariate: str, group: str):
    return landmark(_cohort(name).frame, months, covariate, None if group == "all" else group)


# -- counting on tiny registries ------------------------------------------------------------------------
def test_counts_and_rates_by_hand() -> None:
    """SOR: CR, PR, SD, PD, NE, blank -> ORR 2/4 evaluable, 2/6 all; DCR 3/4, 3/6. LEN: only NE and blank."""
    best = ["CR", "PR", "SD", "PD", "NE", ""]
    rows = [{Col.REGIMEN_1L: "SOR", Col.BEST_RESPONSE_1L: b} for b in best]
    rows += [{Col.REGIMEN_1L: "LEN", Col.BEST_RESPONSE_1L: b} for b in ("NE", "")]
    summary = response_rates(make_registry(rows).frame, ("SOR", "LEN"))
    sor, len_ = summary.groups
    assert dict(sor.counts) == {"CR": 1, "PR": 1, "SD": 1, "PD": 1, "NE": 1, NOT_RECORDED: 1}
    assert (sor.n, sor.evaluable) == (6, 4)
    assert [(sor.rates[k].k, sor.rates[k].n) for k in
            [("ORR", "evaluable"), ("ORR", "all"), ("DCR", "evaluable"), ("DCR", "all")]] == [(2, 4), (2, 6), (3, 4), (3, 6)]
    assert len_.evaluable == 0 and np.isnan(len_.rates[("ORR", "evaluable")].estimate)
    assert len_.rates[("ORR", "all")].k == 0 and len_.rates[("ORR", "all")].n == 2


def test_mrecist_offered_only_when_recorded() -> None:
    rows = [{Col.BEST_RESPONSE_1L: "SD"}, {Col.BEST_RESPONSE_1L: "PR"}]
    assert available_criteria(make_registry(rows).frame) == ("RECIST 1.1",)
    rows[0][Col.BEST_RESPONSE_1L_MRECIST] = "PR"
    assert available_criteria(make_registry(rows).frame) == ("RECIST 1.1", "mRECIST")
    summary = response_rates(make_registry(rows).frame, ("SOR",), "mRECIST")
    assert summary.groups[0].counts["PR"] == 1 and summary.groups[0].counts[NOT_RECORDED] == 1


def test_clopper_pearson_edges() -> None:
    """R: binom.test(0, 10)$conf.int = (0, 0.30849710781876083); binom.test(10, 10): (0.69150289218123917, 1)."""
    assert clopper_pearson(0, 10).lower == 0 and clopper_pearson(0, 10).upper == pytest.approx(0.30849710781876083, rel=1e-10)
    assert clopper_pearson(10, 10).lower == pytest.approx(0.69150289218123917, rel=1e-10)
    assert clopper_pearson(10, 10).upper == 1
    assert np.isnan(clopper_pearson(0, 0).estimate)


# -- R parity -----------------------------------------------------------------------------------------
@pytest.mark.parametrize("row", RATES.to_dict("records"),
                         ids=lambda r: f"{r['data']}-{r['criterion']}-{r['group']}-{r['rate']}-{r['denominator']}")
def test_rates_match_r_binom_test(row) -> None:
    """R: binom.test(k, n)$conf.int (Clopper-Pearson exact). k, n exact; limits rel. 1e-9."""
    g = {x.regimen: x for x in _rates(row["data"], row["criterion"]).groups}[row["group"]]
    p = g.rates[(row["rate"], row["denominator"])]
    assert (p.k, p.n) == (row["k"], row["n"])
    assert p.estimate == pytest.approx(row["estimate"], rel=1e-12)
    assert p.lower == pytest.approx(row["lower"], rel=1e-9, abs=1e-15)
    assert p.upper == pytest.approx(row["upper"], rel=1e-9)


@pytest.mark.parametrize("row", TESTS.to_dict("records"),
                         ids=lambda r: f"{r['data']}-{r['criterion']}-{r['rate']}-{r['denominator']}")
def test_rate_comparisons_match_r(row) -> None:
    """R: chisq.test(table, correct = FALSE)$p.value when every expected count >= 5, else
    fisher.test(table)$p.value (2 x 2 here, exact). Rel. 1e-9."""
    c = next(x for x in _rates(row["data"], row["criterion"]).comparisons
             if (x.rate, x.denominator) == (row["rate"], row["denominator"]))
    if row["min_expected"] >= 5:
        assert c.test == CHI_SQUARE and c.p == pytest.approx(row["chisq_p"], rel=1e-9)
    else:
        assert c.test == FISHER and c.p == pytest.approx(row["fisher_p"], rel=1e-9)


@pytest.mark.parametrize("row", LANDMARK.to_dict("records"),
                         ids=lambda r: f"{r['data']}-{r['covariate']}-{r['landmark_months']}-{r['group']}-{r['level']}")
def test_landmark_matches_r(row) -> None:
    """R on the landmark data (OS time > L days, L = months * 30.4375; time from L):
    survfit(Surv(time, dead) ~ 1, conf.type = "log-log") per group and quantile(fit, 0.5) (rel. 1e-9);
    survdiff(Surv(time, dead) ~ grp) (chi-square and p rel. 1e-9);
    coxph(Surv(time, dead) ~ grp, ties = "efron") HR, CI and p (rel. 1e-7: on these small landmark
    sets the two converged fits still differ by ~2.5e-8; 6 significant digits need 5e-7)."""
    res = _landmark(row["data"], row["landmark_months"], row["covariate"], row["group"])
    label = res.groups[0] if row["level"] == "achieved" else res.groups[1]
    g = {x.group: x for x in res.summary.groups}[label]
    assert (g.n, g.events) == (row["n"], row["events"])
    for got, want in ((g.median, row["median_days"]), (g.median_low, row["lower_days"]),
                      (g.median_high, row["upper_days"])):
        assert (np.isnan(got) and np.isnan(want)) or got * DAYS_PER_MONTH == pytest.approx(want, rel=1e-9)
    assert res.summary.logrank.statistic == pytest.approx(row["chisq"], rel=1e-9)
    assert res.summary.logrank.p == pytest.approx(row["p_logrank"], rel=1e-9)
    assert res.cox.reference == res.groups[1] and res.cox.term == res.groups[0]
    assert res.cox.hr == pytest.approx(row["hr"], rel=1e-7)
    assert res.cox.lower == pytest.approx(row["hr_lower"], rel=1e-7)
    assert res.cox.upper == pytest.approx(row["hr_upper"], rel=1e-7)
    assert res.cox.p == pytest.approx(row["hr_p"], rel=1e-7)


def test_landmark_without_deaths_in_a_group_has_no_hazard_ratio() -> None:
    """Fixture, OR at 3 months: both responders still at risk are alive (R: 'beta may be infinite')."""
    res = _landmark("fixture", 3.0, "OR", "all")
    assert res.cox is None and res.summary.logrank is not None
    assert res.cox_reason == "not estimable — no deaths in OR by 3 months"  # said, not dropped (issue 15)
    assert res.not_at_risk == 4 and res.excluded == {"date_death before date_response_1l": 1,
                                                      "no follow-up time (death or last follow-up on the first-line start date)": 1}


def test_landmark_at_risk_and_grouping_by_hand() -> None:
    """Landmark 3 months = 91.3125 days: OS 91 days is not at risk, 92 is; DC on day 91 counts as reached."""
    rows = [{Col.DATE_DC_1L: "2020-04-01", Col.DATE_DEATH: "2020-07-01", Col.DATE_LAST_FOLLOWUP: "2020-07-01"},
            {Col.DATE_DEATH: "2020-04-01", Col.DATE_LAST_FOLLOWUP: "2020-04-01"},            # day 91
            {Col.DATE_DEATH: "2020-04-02", Col.DATE_LAST_FOLLOWUP: "2020-04-02"},            # day 92
            {Col.DATE_DC_1L: "2020-04-02", Col.DATE_LAST_FOLLOWUP: "2020-09-01"}]            # DC day 92
    res = landmark(make_registry(rows).frame, 3, "DC")
    groups = {g.group: g.n for g in res.summary.groups}
    assert res.not_at_risk == 1 and groups == {"DC by 3 months": 1, "No DC by 3 months": 2}
    assert min(res.summary.curves["No DC by 3 months"].time) == pytest.approx(92 - 3 * DAYS_PER_MONTH)


# -- models table, swimmer, JSON, figures -------------------------------------------------------------------
def test_models_table_has_published_and_naive() -> None:
    cohort = _cohort("fixture")
    rows = response_models(cohort.frame, cohort.regimens, "covariate")
    assert [(r.covariate, r.group) for r in rows] == [(c, g) for c in ("DC", "OR") for g in ("SOR", "LEN", POOLED)]
    table = response_models_table(rows)
    assert table.loc[0, "Study HR"] == "0.51" and table.loc[2, "Study HR"] == "—"
    assert "Naive HR (95% CI) — biased (immortal time)" in table.columns


def test_swimmer_lanes_sample_sort_and_clip() -> None:
    frame = _cohort("demo").frame
    lanes = swimmer_lanes(frame, max_patients=50, sort="duration", seed=0)
    again = swimmer_lanes(frame.sample(frac=1, random_state=3), max_patients=50, sort="duration", seed=0)
    assert len(lanes) == 50 and lanes.attrs["n_total"] == 612
    assert lanes["patient"].tolist() == again["patient"].tolist()  # row order does not matter
    assert lanes["end"].is_monotonic_decreasing and lanes["lane"].tolist() == list(range(50))
    assert (lanes[["dc", "response", "progression", "second_line", "death"]].max(axis=1).fillna(0)
            <= lanes["end"] + 1e-12).all()
    assert (lanes["alive"] == lanes["death"].isna()).all()
    by_regimen = swimmer_lanes(frame, ("ATZ_BEV", "SOR"), max_patients=500, sort="regimen")
    assert set(by_regimen["regimen"]) == {"ATZ_BEV", "SOR"} and by_regimen["regimen"].iloc[0] == "ATZ_BEV"
    assert len(by_regimen) == 181 + 272


def test_swimmer_drops_markers_after_follow_up() -> None:
    rows = [{Col.DATE_DC_1L: "2020-02-01", Col.DATE_PROGRESSION_1L: "2021-06-01", Col.DATE_LAST_FOLLOWUP: "2020-12-01"}]
    lanes = swimmer_lanes(make_registry(rows).frame)
    assert lanes.loc[0, "dc"] == pytest.approx(31 / DAYS_PER_MONTH) and np.isnan(lanes.loc[0, "progression"])
    assert bool(lanes.loc[0, "alive"])


def test_figures_and_tables_build() -> None:
    cohort = _cohort("fixture")
    summary = response_rates(cohort.frame, cohort.regimens)
    colors = regimen_colors(cohort.regimens)
    bar = response_bar_figure(summary, colors, "Main cohort — test")
    assert [t.name for t in bar.data] == ["CR", "PR", "SD", "PD", "NE", NOT_RECORDED]
    swim = swimmer_figure(swimmer_lanes(cohort.frame), colors)
    assert {t.name for t in swim.data} >= {"SOR", "LEN", "death", "alive at last follow-up", "first response"}
    assert list(response_counts_table(summary)["Regimen"]) == ["SOR", "LEN"]
    assert response_rates_table(summary).iloc[0, 1] == "2/10 · 20.0% (2.5–55.6)"
    assert len(landmark_table([_landmark("fixture", 3.0, "DC", "all")])) == 2


def test_json_for_the_cli() -> None:
    cohort = _cohort("fixture")
    out = json.loads(json.dumps(response_json(analyze_response(cohort.frame, cohort.regimens, (3.0,))),
                                allow_nan=False))
    assert set(out) == {"response", "tdcox", "landmark"}
    sor = out["response"]["RECIST 1.1"]["regimens"]["SOR"]
    assert sor["orr"]["evaluable"] == {"k": 2, "n": 10, "est": 0.2, "ci": [pytest.approx(0.025210726326833365),
                                                                         pytest.approx(0.5560954623076414)]}
    assert set(out["tdcox"]["DC"]) == {"SOR", "LEN", "pooled"} and out["tdcox"]["DC"]["pooled"]["regimen_as"] == "stratum"
    assert out["landmark"]["3"]["OR"]["hr"] is None and out["landmark"]["3"]["DC"]["logrank_p"] > 0
