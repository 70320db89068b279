"""Competing-risks tables and downloads (hcc.outputs.competing_tables): formatting, and that the
CSV / Excel table holds every number the page shows."""

from __future__ import annotations

import math

import numpy as np
import pytest

from hcc.analysis import analyze_competing, analyze_pathway
from hcc.cohort.rules import PRESETS, apply_to_registry
from hcc.ingest.registry import load_demo
from hcc.outputs.competing_tables import (
    cif_table, competing_values_table, counts_table, format_cif, pathway_table, pathway_values_table, ratio_table,
)
from hcc.stats.competing import CIFPoint, PAST_FOLLOWUP


@pytest.fixture(scope="module")
def cohort():
    return apply_to_registry(load_demo(), PRESETS["main"])


def test_format_cif_words_for_every_case() -> None:
    assert format_cif(CIFPoint(0.3889, 0.329, 0.4597)) == "39% (33–46)"
    zero = CIFPoint(0.0, math.nan, math.nan, "no CI — no event by then (estimate 0)")
    assert format_cif(zero) == "0% (no CI: estimate 0)"
    assert format_cif(CIFPoint(math.nan, math.nan, math.nan, PAST_FOLLOWUP)) == PAST_FOLLOWUP


def test_download_holds_every_number_shown(cohort) -> None:
    """Counts, both cumulative incidences at every milestone with CI and at-risk, Gray, and both
    ratios: the values table has them at full precision, equal to the summary."""
    for key, s in analyze_competing(cohort).items():
        values = competing_values_table(s)
        shown_rows = len(cif_table(s)) * 2 + len(counts_table(s)) * 3 + 1 + len(ratio_table(s)) * 2
        assert len(values) == shown_rows
        sor = next(g for g in s.groups if g.group == "SOR")
        ev, co = sor.milestones[12.0]
        row = values.query("regimen == 'SOR' and months == 12 and quantity == 'cumulative incidence, event'").iloc[0]
        assert (row["value"], row["lower_95"], row["upper_95"], row["n_risk"]) == (ev.est, ev.lower, ev.upper,
                                                                                     sor.n_risk[12.0])
        gray = values.query("quantity == \"Gray's test chi-square\"").iloc[0]
        assert (gray["value"], gray["p"]) == (s.gray.statistic, s.gray.p)
        fg = values[values["quantity"].str.startswith("Fine–Gray")].set_index("regimen")
        for h in s.fine_gray:
            assert fg.loc[h.term, "value"] == h.hr and fg.loc[h.term, "p"] == h.p
        assert set(values.query("quantity == 'patients'")["value"]) == {g.n for g in s.groups}


def test_pathway_tables(cohort) -> None:
    summary = analyze_pathway(cohort)
    shown, values = pathway_table(summary), pathway_values_table(summary)
    assert len(shown) == len(values) == 3 * 4
    row = values.query("regimen == 'LEN' and months == 12").iloc[0]
    probs = row[list(summary.states)].to_numpy(float)
    assert probs.sum() == pytest.approx(1.0, abs=1e-12)
    assert shown.query("Regimen == 'LEN' and Months == '12'").iloc[0]["Dead (%)"] == f"{100 * probs[3]:.1f}"


def test_pathway_past_follow_up_reads_not_estimable(cohort) -> None:
    from hcc.cohort.competing import STATES, pathway
    from hcc.stats.competing import summarize_pathway
    summary = summarize_pathway(pathway(cohort.frame), cohort.regimens, STATES, (12.0, 400.0))
    shown, values = pathway_table(summary), pathway_values_table(summary)
    assert (shown.query("Months == '400'")["Dead (%)"] == "not estimable — past the last follow-up in this group").all()
    assert values.query("months == 400")[list(STATES)].isna().all().all()
    assert np.isfinite(values.query("months == 12")[list(STATES)].to_numpy(float)).all()
