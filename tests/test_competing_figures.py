"""Competing-risks figures (hcc.outputs.competing_figures): what each figure draws."""

from __future__ import annotations

import html

from hcc.formatting import format_p

import numpy as np
import pytest

from hcc.analysis import analyze_competing, analyze_pathway
from hcc.cohort.rules import PRESETS, apply_to_registry
from hcc.ingest.registry import load_demo
from hcc.outputs.competing_figures import cif_figure, pathway_figure
from hcc.outputs.figures import regimen_colors
from hcc.schema import DAYS_PER_MONTH


@pytest.fixture(scope="module")
def cohort():
    return apply_to_registry(load_demo(), PRESETS["main"])


def test_cif_figure_stacks_event_competing_and_remainder(cohort) -> None:
    """Per regimen: the event band ends at F1, the competing band at F1 + F2, the remainder at 1;
    the at-risk row shows R's n.risk (time >= t) at each break; CI bars at the milestones."""
    s = analyze_competing(cohort)["second_line"]
    fig = cif_figure(s, regimen_colors(cohort.regimens), subtitle="cohort")
    by_name = {}
    for tr in fig.data:
        by_name.setdefault(tr.name, []).append(tr)
    assert set(by_name) >= {"Second line started", "Died without second line", "Neither yet", "95% CI at milestones"}
    sor = next(g for g in s.groups if g.group == "SOR")
    event, comp, rest = (by_name[n][0] for n in ("Second line started", "Died without second line", "Neither yet"))
    assert event.fill == "tozeroy" and comp.fill == rest.fill == "tonexty"
    # SOR's last plotted point of each band
    i = np.flatnonzero(np.isclose(np.asarray(event.x)[1:] * DAYS_PER_MONTH, sor.curve.time[: len(event.x) - 1]))
    assert len(i) == len(event.x) - 1
    assert event.y[-1] == pytest.approx(sor.curve.cif[len(event.x) - 2])
    assert comp.y[-1] == pytest.approx(sor.curve.cif[len(event.x) - 2] + sor.curve.cif_competing[len(event.x) - 2])
    assert set(rest.y) == {1.0}
    risk = [tr for tr in fig.data if tr.mode == "text"][0]
    for month, text in zip(risk.x, risk.text):
        if text:
            j = int(np.searchsorted(sor.curve.time, month * DAYS_PER_MONTH, side="left"))
            assert int(text) == (sor.n if month == 0 else sor.curve.n_risk[j])
    ci = by_name["95% CI at milestones"][0]
    ev12 = sor.milestones[12.0][0]
    k = list(ci.x).index(12.0)
    assert ci.y[k] == ev12.est and ci.error_y.array[k] == pytest.approx(ev12.upper - ev12.est)
    assert html.escape(f"Gray's test {format_p(0.015)}") in fig.layout.title.text


def test_pathway_figure_writes_the_shares_at_6_12_24(cohort) -> None:
    summary = analyze_pathway(cohort)
    fig = pathway_figure(summary, regimen_colors(cohort.regimens))
    assert [tr.name for tr in fig.data[:4]] == list(summary.states)
    atz = next(g for g in summary.groups if g.group == "ATZ_BEV")
    p24 = atz.occupation.at(24 * DAYS_PER_MONTH)
    texts = {a.text for a in fig.layout.annotations}
    assert f"{100 * p24[3]:.0f}%" in texts and f"{100 * p24[0]:.0f}%" in texts
    # the top band of every panel (dead) ends at 1: shares add up
    dead = [tr for tr in fig.data if tr.name == summary.states[-1]]
    assert all(np.allclose(tr.y, 1.0) for tr in dead)
