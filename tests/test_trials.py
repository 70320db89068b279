"""The landmark-trial reference table (hcc.reference.trials) and its overlay on the KM figure."""

from __future__ import annotations

import pytest

from hcc.analysis import analyze_endpoint
from hcc.cohort.rules import FULL, PRESETS, apply_to_registry
from hcc.outputs.figures import KMFigureOptions, km_figure, regimen_colors
from hcc.schema import ATZ_BEV, LEN, SOR, Col, Endpoint
from hcc.reference.trials import TRIALS, arms_for, registry_vs_trials, trials_table
from tests.conftest import make_registry

NAMES = {"IMbrave150 (updated OS)", "IMbrave150 (primary)", "REFLECT", "SHARP", "HIMALAYA", "CheckMate 9DW"}


def test_every_landmark_trial_is_there_with_its_citation() -> None:
    assert {t.name for t in TRIALS} == NAMES
    for t in TRIALS:
        assert t.doi.startswith("10.") and t.journal and 2000 < t.year < 2030 and t.citation.endswith("et al.")
        assert t.os_hr_low < t.os_hr < t.os_hr_high
        for arm in t.arms:
            assert arm.n > 0
            for m in (arm.os, arm.pfs):
                if m is not None and m.months is not None:
                    assert (m.low is None or m.low <= m.months) and (m.high is None or m.months <= m.high)


def test_published_numbers_as_printed() -> None:
    """Spot checks against the papers (shared/study.md): medians in months, HR with 95% CI."""
    by_name = {t.name: t for t in TRIALS}
    imb = by_name["IMbrave150 (updated OS)"]
    assert (imb.arms[0].os.months, imb.arms[0].os.low, imb.arms[0].os.high) == (19.2, 17.0, 23.7)
    assert (imb.os_hr, imb.os_hr_low, imb.os_hr_high) == (0.66, 0.52, 0.85)
    assert by_name["REFLECT"].arms[0].os.months == 13.6 and by_name["REFLECT"].arms[0].regimen == LEN
    assert by_name["SHARP"].arms[0].os.months == 10.7 and by_name["SHARP"].arms[1].regimen is None
    assert by_name["HIMALAYA"].arms[0].orr_percent == 20.1
    assert by_name["CheckMate 9DW"].arms[0].os.text() == "23.7 (18.8–29.4)"
    assert by_name["IMbrave150 (primary)"].arms[0].os.text() == "NR"


def test_arms_for_matches_regimen_and_endpoint_and_skips_ttp() -> None:
    sor_pfs = arms_for(SOR, Endpoint.PFS)
    assert "SHARP" not in {t.name for t, _, _ in sor_pfs}  # SHARP reports time to progression, not PFS
    assert {t.name for t, _, _ in arms_for(SOR, Endpoint.OS)} == NAMES - {"CheckMate 9DW"}
    assert [t.name for t, _, _ in arms_for(ATZ_BEV, Endpoint.OS)] == ["IMbrave150 (updated OS)"]  # primary: NR
    assert arms_for(SOR, Endpoint.PPS) == []


def test_trials_table_cites_every_arm() -> None:
    table = trials_table()
    assert len(table) == sum(len(t.arms) for t in TRIALS)
    assert table["Citation"].str.contains("doi:10.").all()
    assert (table.loc[table["Trial"] == "HIMALAYA", "Citation"].str.contains("secondary source")).all()


@pytest.fixture(scope="module")
def os_summary():
    end = [f"{2020 + (i % 27) // 12}-{1 + (i % 27) % 12:02d}-20" for i in range(30)]  # up to 27 months
    rows = [{Col.REGIMEN_1L: reg, Col.START_1L: "2020-01-01", Col.DATE_DEATH: end[i] if i % 4 else "",
             Col.DATE_LAST_FOLLOWUP: end[i]} for i, reg in enumerate([SOR, LEN, "XYZ"] * 10)]
    cohort = apply_to_registry(make_registry(rows), PRESETS[FULL])
    return cohort, analyze_endpoint(cohort, Endpoint.OS)


def test_registry_vs_trials_puts_registry_medians_beside_trials(os_summary) -> None:
    _, summary = os_summary
    table = registry_vs_trials(summary)
    sor = table[table["Regimen"] == SOR]
    assert len(sor) == len(arms_for(SOR, Endpoint.OS))
    g = next(g for g in summary.groups if g.group == SOR)
    assert sor["Registry median, months (95% CI)"].str.startswith(f"{g.median:.1f}").all()
    first = sor.iloc[0]
    trial_median = float(first["Trial median, months (95% CI)"].split()[0])
    assert first["Registry minus trial, months"] == f"{g.median - trial_median:+.1f}"
    assert table.loc[table["Regimen"] == "XYZ", "Citation"].tolist() == ["no trial of this regimen"]


def test_overlay_marks_trial_medians_on_the_half_line(os_summary) -> None:
    """Each trial arm's median is a marker at x = its median, y = 0.5 (where a median is read off a KM
    plot, not at a survival rate of the registry's curve), in the registry regimen's colour, with one
    legend entry per trial and arm ("REFLECT: Lenvatinib")."""
    cohort, summary = os_summary
    colors = regimen_colors(cohort.regimens)
    fig = km_figure(summary, colors, options=KMFigureOptions(trial_medians=True, horizon_months=30))
    marks = [t for t in fig.data if t.legend == "legend2"]
    horizon_arms = [(reg, t, a, m) for reg in (SOR, LEN) for t, a, m in arms_for(reg, Endpoint.OS) if m.months <= 30]
    assert len(marks) == len(horizon_arms)
    for trace, (reg, trial, arm, m) in zip(marks, horizon_arms):
        assert trace.y[0] == 0.5
        assert trace.x[0] == m.months
        assert trace.marker.color == colors[reg]
        assert trace.name == f"{trial.name}: {arm.label}"
        assert trace.showlegend is not False
    plain = km_figure(summary, colors, options=KMFigureOptions(trial_medians=False))
    assert not [t for t in plain.data if t.legend == "legend2"]
