"""The After-first-line page's competing-risks and patient-pathway sections (AppTest)."""

from __future__ import annotations

import html
import json

from hcc.analysis import analyze_competing, analyze_pathway
from hcc.cohort.rules import PRESETS, apply_to_registry
from hcc.ingest.registry import load_demo
from hcc.schema import Col
from hcc.formatting import format_p
from tests.apptest import open_page, shown, shown_table


def _charts(at) -> dict[str, dict]:
    """The page's plotly figures by title text (as shown: plotly renders the HTML entities)."""
    out = {}
    for chart in at.get("plotly_chart"):
        spec = json.loads(chart.proto.spec)
        out[html.unescape(spec["layout"]["title"]["text"])] = spec
    return out


def test_sections_show_the_demo_numbers_of_the_analysis() -> None:
    """Both cumulative-incidence figures and the pathway figure are drawn; the tables show the
    numbers of hcc.analysis (the CLI's) for the demo's main cohort."""
    at = open_page("pages/secondline.py")
    titles = list(_charts(at))

    def titled(title: str, subtitle: str) -> bool:  # apply_layout: bold title, then the subtitle line
        return any(t.startswith(f"<b>{title}</b>") and subtitle in t for t in titles)

    assert titled("Second line after progression (n = 441)", f"Gray's test {format_p(0.015)} · Main cohort")
    assert titled("First-line failure (n = 612)", f"Gray's test {format_p(1e-4)} · Main cohort")
    assert titled("Where patients are after first-line start (n = 612)", "Main cohort")
    cohort = apply_to_registry(load_demo(), PRESETS["main"])
    second = analyze_competing(cohort)["second_line"]
    sor = next(g for g in second.groups if g.group == "SOR")
    ev, co = sor.milestones[12.0]
    tables = [shown_table(t.value) for t in at.table]
    cif = next(t for t in tables if "Second line started, % (95% CI)" in t.columns)
    row = cif.loc[("SOR", "12")]
    assert row["Second line started, % (95% CI)"] == (
        f"{100 * ev.est:.0f}% ({100 * ev.lower:.0f}–{100 * ev.upper:.0f})")
    assert row["Died without second line, % (95% CI)"] == (
        f"{100 * co.est:.0f}% ({100 * co.lower:.0f}–{100 * co.upper:.0f})")
    ratios = next(t for t in tables if "Subdistribution HR, Fine–Gray (95% CI)" in t.columns
                  and "Second line" not in str(t.index.name))
    fg = {h.term: h for h in second.fine_gray}["LEN"]
    assert f"{fg.hr:.2f} ({fg.lower:.2f}–{fg.upper:.2f})" in ratios["Subdistribution HR, Fine–Gray (95% CI)"].tolist()
    pathway = next(t for t in tables if "Dead (%)" in t.columns)
    atz = next(g for g in analyze_pathway(cohort).groups if g.group == "ATZ_BEV")
    assert pathway.loc[("ATZ_BEV", "24"), "Dead (%)"] == f"{100 * atz.at[24.0][3]:.1f}"
    text = " ".join(shown(m.value) for m in at.markdown)
    assert "Gray's test across regimens (second line started)" in text
    assert "Subdistribution hazard ratio (Fine–Gray)" in text and "Cause-specific hazard ratio" in text


def test_a_regimen_without_second_line_is_not_estimable_not_a_number() -> None:
    """A regimen whose progressed patients never start second line: its cumulative incidence is 0
    (no CI), and its Fine–Gray and cause-specific ratios read "not estimable — …", never a number."""
    from tests.conftest import make_registry
    rows = []
    for i in range(12):
        rows.append({Col.PATIENT_ID: f"A{i}", Col.REGIMEN_1L: "SOR", Col.DATE_PROGRESSION_1L: "2020-03-01",
                     Col.START_2L: f"2020-03-{10 + i:02d}", Col.REGIMEN_2L: "REG",
                     Col.DATE_LAST_FOLLOWUP: "2020-12-01"})
        rows.append({Col.PATIENT_ID: f"B{i}", Col.REGIMEN_1L: "LEN", Col.DATE_PROGRESSION_1L: "2020-03-01",
                     Col.DATE_DEATH: f"2020-04-{10 + i:02d}", Col.DATE_LAST_FOLLOWUP: f"2020-04-{10 + i:02d}"})
    at = open_page("pages/secondline.py", registry=make_registry(rows, "no_second_line.csv"))
    tables = [shown_table(t.value) for t in at.table]
    ratios = next(t for t in tables if "Subdistribution HR, Fine–Gray (95% CI)" in t.columns)
    first = ratios.iloc[0]
    assert first["Subdistribution HR, Fine–Gray (95% CI)"].startswith("not estimable — no events of interest")
    assert first["Cause-specific HR (95% CI)"].startswith("not estimable — no events of interest")
    cif = next(t for t in tables if "Second line started, % (95% CI)" in t.columns)
    len_rows = cif.loc["LEN"] if "LEN" in cif.index.get_level_values(0) else None
    assert len_rows is not None and (len_rows["Second line started, % (95% CI)"].str.startswith("0% (no CI")
                                     | len_rows["Second line started, % (95% CI)"].str.startswith("not estimable")).all()
