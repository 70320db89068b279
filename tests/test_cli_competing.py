"""``python -m hcc analyze``: the ``"competing_risks"`` block, against R's numbers.

R (tests/reference/competing_reference.R) derives both competing-risks endpoints and the pathway from
the raw demo CSV (main cohort) and runs survfit (Aalen–Johansen), cmprsk::cuminc (Gray),
cmprsk::crr (Fine–Gray) and coxph (cause-specific). The JSON's CIF at a milestone is R's curve at the
last time <= the milestone (``summary(fit, times = m * 30.4375)``).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from hcc.cli.main import main

DEMO = str(Path(__file__).resolve().parent.parent / "data" / "demo_registry.csv")
REF = Path(__file__).parent / "reference"
DAYS_PER_MONTH = 30.4375


@pytest.fixture(scope="module")
def block(tmp_path_factory) -> dict:
    out = tmp_path_factory.mktemp("cli") / "out.json"
    assert main(["analyze", "--data", DEMO, "--preset", "main", "--reference", "SOR", "--out", str(out)]) == 0
    return json.loads(out.read_text(encoding="utf-8"))["competing_risks"]


def test_block_has_the_issue_shape(block) -> None:
    assert set(block) == {"second_line", "first_line_failure", "states"}
    for key in ("second_line", "first_line_failure"):
        b = block[key]
        assert set(b["groups"]) == {"SOR", "LEN", "ATZ_BEV"}
        g = b["groups"]["LEN"]
        assert {"n", "events", "competing", "cif"} <= set(g)
        assert set(g["cif"]) == {"6", "12", "18", "24"}
        assert set(g["cif"]["12"]) >= {"event", "competing"} and set(g["cif"]["12"]["event"]) >= {"est", "ci"}
        assert set(b["gray"]) == {"statistic", "df", "p"}
        assert set(b["fine_gray"]) == {"LEN", "ATZ_BEV"} and set(b["fine_gray"]["LEN"]) == {"shr", "ci", "p"}
    assert set(block["states"]["groups"]["SOR"]["at"]["12"]) == {"on_first_line", "progressed", "second_line", "dead"}


@pytest.mark.parametrize("key", ["second_line", "first_line_failure"])
def test_numbers_are_r_numbers(block, key) -> None:
    """CIF (event and competing) with CI at every milestone 1e-6; counts exact; Gray 1e-6; Fine–Gray
    SHR, CI and p 1e-5; cause-specific 1e-7."""
    case = f"demo_{key}"
    cif = pd.read_csv(REF / "competing_cif.csv").query("case == @case")
    b = block[key]
    for g, got in b["groups"].items():
        curve = cif[cif.group == g]
        assert got["n"] == curve["n_risk"].iloc[0]
        for m, point in got["cif"].items():
            row = curve[curve.time <= float(m) * DAYS_PER_MONTH].iloc[-1]
            np.testing.assert_allclose([point["event"]["est"], *point["event"]["ci"], point["competing"]["est"],
                                        *point["competing"]["ci"]],
                                       row[["cif", "lower", "upper", "cif2", "lower2", "upper2"]].to_numpy(float),
                                       rtol=0, atol=1e-6)
    gray = pd.read_csv(REF / "competing_gray.csv").query("case == @case and cause == 1").iloc[0]
    assert b["gray"]["df"] == gray["df"]
    np.testing.assert_allclose([b["gray"]["statistic"], b["gray"]["p"]], [gray["statistic"], gray["p"]], rtol=1e-6)
    hr = pd.read_csv(REF / "competing_hr.csv").query("case == @case").set_index(["model", "term"])
    z = 1.959963984540054
    for term, got in b["fine_gray"].items():
        r = hr.loc[("fine_gray", term)]
        np.testing.assert_allclose([got["shr"], *got["ci"], got["p"]],
                                   [np.exp(r["coef"]), np.exp(r["coef"] - z * r["se"]), np.exp(r["coef"] + z * r["se"]),
                                    r["p"]], rtol=1e-5)
    for term, got in b["cause_specific"].items():
        r = hr.loc[("cause_specific", term)]
        np.testing.assert_allclose([got["hr"], got["p"]], [np.exp(r["coef"]), r["p"]], rtol=1e-7)


def test_states_are_r_state_occupation(block) -> None:
    ref = pd.read_csv(REF / "competing_states.csv")
    for _, r in ref.iterrows():
        got = block["states"]["groups"][r["group"]]["at"][f"{r['month']:g}"]
        np.testing.assert_allclose([got[k] for k in ("on_first_line", "progressed", "second_line", "dead")],
                                   r[["on_first_line", "progressed", "second_line", "dead"]].to_numpy(float),
                                   rtol=0, atol=1e-6)


def test_milestone_past_follow_up_says_not_estimable(tmp_path) -> None:
    out = tmp_path / "o.json"
    assert main(["analyze", "--data", DEMO, "--preset", "main", "--milestones", "12", "120", "--out", str(out)]) == 0
    b = json.loads(out.read_text(encoding="utf-8"))["competing_risks"]
    point = b["second_line"]["groups"]["LEN"]["cif"]["120"]["event"]
    assert point["est"] is None and point["ci"] == [None, None]
    assert point["not_estimable"] == "not estimable — past the last follow-up in this group"
    assert b["states"]["groups"]["LEN"]["at"]["120"] == {
        "not_estimable": "past the last follow-up in this group"}
