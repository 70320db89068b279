"""Competing risks and the patient pathway (hcc.stats.competing) against R.

Reference values: ``tests/reference/competing_reference.R`` (R 4.2.2, survival 3.5-3, cmprsk 2.2-11)::

    fit <- survfit(Surv(time, factor(status)) ~ 1)     # pstate, std.err (IJ), lower/upper (log)
    cuminc(time, status, group, cencode = 0)$Tests       # Gray, rho = 0
    crr(time, status, cov1 = x, gtol = 1e-12)$coef, sqrt(diag($var))
    coxph(Surv(time, status == 1) ~ group, ties = "efron")
    survfit(Surv(tstart, tstop, state) ~ 1, id = id)$pstate

on three data sets: a hand-worked 18-patient case with ties (an event and a competing event at the
same time; a censoring at the time of a competing event), survival's ``mgus2`` (progression vs death,
by sex, as the survival vignette) and the demo registry's main cohort (R derives the times itself).
Tolerances: CIF, SE and CI 1e-6 absolute (observed ~1e-15); Gray 1e-6 relative; Fine–Gray 1e-5
relative; cause-specific 1e-7; state occupation 1e-6.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from hcc.cohort.competing import COMPETING, FIRST_LINE_FAILURE, SECOND_LINE, STATES, derive_competing, pathway
from hcc.cohort.rules import PRESETS, apply_to_registry
from hcc.ingest.registry import load_demo
from hcc.schema import DAYS_PER_MONTH
from hcc.stats.competing import (
    NO_EVENTS, PAST_FOLLOWUP, cause_specific_cox, cumulative_incidence, fine_gray, gray_test, pathway_occupation,
    state_occupation, summarize_competing,
)

REF = Path(__file__).parent / "reference"
CIF = pd.read_csv(REF / "competing_cif.csv")
GRAY = pd.read_csv(REF / "competing_gray.csv")
HR = pd.read_csv(REF / "competing_hr.csv")
STATES_REF = pd.read_csv(REF / "competing_states.csv")

HAND = {"time": np.array([1, 2, 2, 3, 4, 4, 5, 6, 7, 8, 1, 3, 3, 5, 6, 9, 9, 10], dtype=float),
        "status": np.array([1, 2, 0, 1, 1, 2, 0, 2, 1, 0, 2, 1, 1, 0, 1, 2, 0, 1]),
        "group": np.array(["A"] * 10 + ["B"] * 8, dtype=object)}


def _mgus2() -> dict[str, np.ndarray]:
    """survival's ``mgus2`` as the R script derived it (etime, event 1 = progression, 2 = death first)."""
    path = REF / "competing_mgus2.csv"
    d = pd.read_csv(path)
    return {"time": d["etime"].to_numpy(float), "status": d["event"].to_numpy(int),
            "group": d["sex"].to_numpy(object)}


@pytest.fixture(scope="module")
def cohort():
    return apply_to_registry(load_demo(), PRESETS["main"])


@pytest.fixture(scope="module")
def cases(cohort) -> dict[str, tuple[dict[str, np.ndarray], str]]:
    out = {"hand": (HAND, "A"), "mgus2": (_mgus2(), "F")}
    for d, name in ((SECOND_LINE, "demo_second_line"), (FIRST_LINE_FAILURE, "demo_first_line_failure")):
        data = derive_competing(cohort.frame, d)
        out[name] = ({"time": data.days, "status": data.status, "group": data.group}, "SOR")
    return out


CASES = ("hand", "mgus2", "demo_second_line", "demo_first_line_failure")


@pytest.mark.parametrize("case", CASES)
def test_cumulative_incidence_estimate_se_and_ci_match_survfit(cases, case) -> None:
    """``survfit(Surv(time, factor(status)) ~ 1)`` per group: every time, n.risk, pstate of both
    causes, IJ std.err and log CI (NA where the estimate is 0) to 1e-6."""
    c, _ = cases[case]
    for g in sorted(set(c["group"])):
        sel = c["group"] == g
        curve = cumulative_incidence(c["time"][sel], c["status"][sel])
        ref = CIF[(CIF.case == case) & (CIF.group == g)]
        np.testing.assert_array_equal(curve.time, ref["time"].to_numpy())
        np.testing.assert_array_equal(curve.n_risk, ref["n_risk"].to_numpy())
        for ours, theirs in (("cif", "cif"), ("se", "se"), ("lower", "lower"), ("upper", "upper"),
                             ("cif_competing", "cif2"), ("se_competing", "se2"),
                             ("lower_competing", "lower2"), ("upper_competing", "upper2")):
            np.testing.assert_allclose(getattr(curve, ours), ref[theirs].to_numpy(), rtol=0, atol=1e-6,
                                       err_msg=f"{case} {g} {ours}")


@pytest.mark.parametrize("case", CASES)
def test_gray_test_matches_cuminc(cases, case) -> None:
    """``cuminc(time, status, group)$Tests`` for cause 1: statistic and p 1e-6 relative, df exact."""
    c, _ = cases[case]
    groups = tuple(sorted(set(c["group"])))
    test = gray_test(c["time"], c["status"], c["group"], groups)
    ref = GRAY[(GRAY.case == case) & (GRAY.cause == 1)].iloc[0]
    assert test.df == ref["df"]
    np.testing.assert_allclose([test.statistic, test.p], [ref["statistic"], ref["p"]], rtol=1e-6)


@pytest.mark.parametrize("case", CASES)
def test_fine_gray_matches_crr(cases, case) -> None:
    """``crr(time, status, cov1 = model.matrix(~ relevel(group, ref))[, -1], gtol = 1e-12)``: log SHR
    and its sandwich SE 1e-5 relative; p 1e-5 relative."""
    c, ref_group = cases[case]
    groups = tuple(sorted(set(c["group"])))
    got = {h.term: h for h in fine_gray(c["time"], c["status"], c["group"], groups, ref_group)}
    for _, r in HR[(HR.case == case) & (HR.model == "fine_gray")].iterrows():
        h = got[r["term"]]
        se = (np.log(h.upper) - np.log(h.lower)) / (2 * 1.959963984540054)
        np.testing.assert_allclose([np.log(h.hr), se, h.p], [r["coef"], r["se"], r["p"]], rtol=1e-5)


@pytest.mark.parametrize("case", CASES)
def test_cause_specific_hr_matches_coxph(cases, case) -> None:
    """``coxph(Surv(time, status == 1) ~ group, ties = "efron")`` with eps = 1e-12: log HR, SE, p 1e-7."""
    c, ref_group = cases[case]
    groups = tuple(sorted(set(c["group"])))
    got = {h.term: h for h in cause_specific_cox(c["time"], c["status"], c["group"], groups, ref_group)}
    for _, r in HR[(HR.case == case) & (HR.model == "cause_specific")].iterrows():
        h = got[r["term"]]
        se = (np.log(h.upper) - np.log(h.lower)) / (2 * 1.959963984540054)
        np.testing.assert_allclose([np.log(h.hr), se, h.p], [r["coef"], r["se"], r["p"]], rtol=1e-7)


def test_state_occupation_matches_multistate_survfit(cohort) -> None:
    """``survfit(Surv(tstart, tstop, state) ~ 1, id = id)`` per regimen on the demo's main cohort
    (R builds the rows itself): pstate at 6, 12, 24 months to 1e-6."""
    data = pathway(cohort.frame)
    for _, r in STATES_REF.iterrows():
        occ = pathway_occupation(data, r["group"], len(STATES))
        np.testing.assert_allclose(occ.at(r["month"] * DAYS_PER_MONTH),
                                   r[["on_first_line", "progressed", "second_line", "dead"]].to_numpy(float),
                                   rtol=0, atol=1e-6, err_msg=f"{r['group']} {r['month']}")


def test_hand_worked_cif_steps() -> None:
    """Group A of the hand case, worked by hand: at t = 1 one event of 10 (F1 = 0.1); t = 2 one
    competing of 9 (F2 = 0.9/9 = 0.1), the censoring at 2 still at risk; t = 3 one event of 7
    (F1 = 0.1 + 0.8/7); t = 4 an event and a competing event of 6 together: both get S(4−)/6."""
    sel = HAND["group"] == "A"
    curve = cumulative_incidence(HAND["time"][sel], HAND["status"][sel])
    s3 = 0.8 * 6 / 7
    np.testing.assert_allclose(curve.cif[:4], [0.1, 0.1, 0.1 + 0.8 / 7, 0.1 + 0.8 / 7 + s3 / 6], rtol=1e-14)
    np.testing.assert_allclose(curve.cif_competing[:4], [0, 0.1, 0.1, 0.1 + s3 / 6], rtol=1e-14)
    assert curve.se[0] == pytest.approx(np.sqrt(0.1 * 0.9 / 10), rel=1e-14)  # binomial at the first step


def test_cifs_add_up_to_one_minus_km_of_either_event(cohort) -> None:
    """F1 + F2 = 1 − KM of the composite (event or competing) at every time: the stacked figure's
    grey remainder is the composite endpoint's survival (e.g. first-line failure = PFS)."""
    from hcc.cohort.endpoints import derive
    from hcc.schema import Endpoint
    from hcc.stats.survival import kaplan_meier
    data = derive_competing(cohort.frame, FIRST_LINE_FAILURE)
    pfs = derive(cohort.frame, Endpoint.PFS)
    for g in cohort.regimens:
        curve = cumulative_incidence(data.days[data.group == g], data.status[data.group == g])
        km = kaplan_meier(pfs.days[pfs.group == g], pfs.event[pfs.group == g])
        np.testing.assert_allclose(curve.event_free, km.surv, atol=1e-12)


def test_group_without_events_is_not_estimable_and_leaves_the_others_as_r_limit() -> None:
    """A group with no event of interest: its Fine–Gray and cause-specific ratios are not estimable
    with that reason; the other group's SHR equals the fit without that group's patients (the limit
    of R's fit as that coefficient runs to −∞)."""
    t = np.concatenate([HAND["time"], [2.0, 3.0, 5.0, 7.0]])
    st = np.concatenate([HAND["status"], [2, 0, 2, 0]])
    grp = np.concatenate([HAND["group"], np.array(["C"] * 4, dtype=object)])
    fg = {h.term: h for h in fine_gray(t, st, grp, ("A", "B", "C"), "A")}
    assert np.isnan(fg["C"].hr) and fg["C"].note == NO_EVENTS
    alone = fine_gray(HAND["time"], HAND["status"], HAND["group"], ("A", "B"), "A")[0]
    assert fg["B"].hr == pytest.approx(alone.hr, rel=1e-12)
    cs = {h.term: h for h in cause_specific_cox(t, st, grp, ("A", "B", "C"), "A")}
    assert np.isnan(cs["C"].hr) and cs["C"].note == NO_EVENTS


def test_milestone_past_follow_up_is_not_estimable(cohort) -> None:
    """A milestone after a regimen's last observed time is NaN with the reason, never the last value."""
    s = summarize_competing(derive_competing(cohort.frame, SECOND_LINE), cohort.regimens, "SOR", (6.0, 600.0))
    for g in s.groups:
        ev, co = g.milestones[600.0]
        assert np.isnan(ev.est) and ev.reason == PAST_FOLLOWUP and co.reason == PAST_FOLLOWUP
        assert not np.isnan(g.milestones[6.0][0].est)


def test_state_occupation_by_hand() -> None:
    """Three patients: 1 progresses at 2 then dies at 4; 2 starts second line at 3 (no progression)
    and is censored at 5; 3 dies at 1. Worked by hand: after 1, 2/3 on first line and 1/3 dead; at
    2 one of the two on first line progresses; at 3 the other moves to second line; at 4 the
    progressed patient dies."""
    occ = state_occupation(np.array([0, 2, 0, 3, 0.]), np.array([2, 4, 3, 5, 1.]), np.array([0, 1, 0, 2, 0]),
                           np.array([1, 3, 2, 2, 3]), 4)
    np.testing.assert_allclose(occ.pstate, [[2 / 3, 0, 0, 1 / 3], [1 / 3, 1 / 3, 0, 1 / 3],
                                            [0, 1 / 3, 1 / 3, 1 / 3], [0, 0, 1 / 3, 2 / 3], [0, 0, 1 / 3, 2 / 3]],
                               atol=1e-15)
    assert occ.at(100.0) is None


def test_every_definition_is_used() -> None:
    assert {d.key for d in COMPETING} == {"second_line", "first_line_failure"}


def _ij_by_definition(time: np.ndarray, status: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The IJ variance of both CIFs straight from its definition: every patient's influence
    propagated through the Aalen–Johansen recursion (a patients × times matrix)."""
    uniq, inv = np.unique(time, return_inverse=True)
    m = len(uniq)
    d1 = np.bincount(inv, weights=status == 1, minlength=m)
    d2 = np.bincount(inv, weights=status == 2, minlength=m)
    n = np.cumsum(np.bincount(inv, minlength=m)[::-1])[::-1].astype(float)
    h1, h2 = d1 / n, d2 / n
    s_before = np.concatenate(([1.0], np.cumprod(1 - h1 - h2)[:-1]))
    at_risk = np.arange(m)[None, :] <= inv[:, None]
    own = np.arange(m)[None, :] == inv[:, None]
    u1 = ((own & (status == 1)[:, None]) - at_risk * h1) / n
    u2 = ((own & (status == 2)[:, None]) - at_risk * h2) / n
    us, f1, f2 = np.zeros(len(time)), np.zeros(len(time)), np.zeros(len(time))
    v1, v2 = np.empty(m), np.empty(m)
    for j in range(m):
        f1 = f1 + us * h1[j] + s_before[j] * u1[:, j]
        f2 = f2 + us * h2[j] + s_before[j] * u2[:, j]
        us = us * (1 - h1[j] - h2[j]) - s_before[j] * (u1[:, j] + u2[:, j])
        v1[j], v2[j] = f1 @ f1, f2 @ f2
    return v1, v2


@pytest.mark.parametrize("seed", range(5))
def test_closed_form_ij_variance_equals_its_definition(seed) -> None:
    """The O(n log n) sum of squared influences equals the patients × times computation, on random
    data with many ties and, for odd seeds, every patient left at the last time having an event
    (h = 1 there, S drops to 0)."""
    rng = np.random.default_rng(seed)
    time = rng.integers(1, 15, 60).astype(float)
    status = rng.choice([0, 1, 2], 60)
    if seed % 2:
        status[time == time.max()] = rng.choice([1, 2], int((time == time.max()).sum()))
    curve = cumulative_incidence(time, status)
    v1, v2 = _ij_by_definition(time, status)
    np.testing.assert_allclose(curve.se ** 2, v1, rtol=1e-10, atol=1e-15)
    np.testing.assert_allclose(curve.se_competing ** 2, v2, rtol=1e-10, atol=1e-15)


def test_group_without_competing_events_has_zero_competing_incidence_without_ci() -> None:
    """A regimen whose patients never have the competing event: its competing CIF is 0 throughout,
    with no CI (R: NA), and the event CIF is then 1 − KM of the event; Gray's test still runs."""
    from hcc.cohort.competing import CompetingData
    t = np.array([1, 2, 3, 4, 5, 6, 2, 3, 4, 5, 6, 7.0])
    st = np.array([1, 0, 1, 1, 0, 1, 2, 1, 2, 1, 0, 2])
    grp = np.array(["A"] * 6 + ["B"] * 6, dtype=object)
    data = CompetingData(SECOND_LINE, np.arange(12), grp, t * DAYS_PER_MONTH, st, {}, pd.DataFrame(
        {"row": [], "patient_id": [], "reason": []}))
    s = summarize_competing(data, ("A", "B", "C"), "A", (3.0, 100.0))
    a = next(g for g in s.groups if g.group == "A")
    ev, co = a.milestones[3.0]
    assert co.est == 0 and np.isnan(co.lower) and co.reason.startswith("no CI")
    assert not np.isnan(ev.lower) and ev.reason == ""
    assert np.all(a.curve.cif_competing == 0) and np.all(np.isnan(a.curve.lower_competing))
    assert a.milestones[100.0][0].reason == PAST_FOLLOWUP
    c = next(g for g in s.groups if g.group == "C")
    assert c.n == 0 and c.milestones[3.0][0].reason.startswith("not estimable — no patients")
    assert s.gray is not None and s.gray.df == 1 and np.isfinite(s.gray.p)
    for ratios in (s.fine_gray, s.cause_specific):
        by_term = {h.term: h for h in ratios}
        assert set(by_term) == {"B", "C"} and np.isfinite(by_term["B"].hr)
        assert np.isnan(by_term["C"].hr) and by_term["C"].note == "not estimable — no patients in this group"
