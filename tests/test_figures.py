"""The figures' one layout rule (hcc.outputs.figures.apply_layout) and the figure contents a clinician reads:
trial medians on the 50% line, Sankey names and counts, endpoint y axes, response headers, the weighted
number at risk. Geometry in a real browser: tests/e2e/test_layout.py."""

from __future__ import annotations

import re

import numpy as np
import plotly.graph_objects as go
import pytest

from hcc.analysis import analyze_endpoint
from hcc.cohort.rules import MAIN, PRESETS, apply_to_registry
from hcc.cohort.secondline import LEVELS, treatment_paths
from hcc.ingest.registry import load_demo
from hcc.outputs.adjusted_figures import forest_figure, love_plot, weighted_at_risk, weighted_km_figure
from hcc.outputs.figures import (
    PRESENT_HEIGHT, STYLE_FONT, KMFigureOptions, apply_layout, attrition_figure, fit_width, km_figure, legend_rows,
    presentation_style, regimen_colors, response_bar_figure, sankey_figure, swimmer_figure, wrap_text,
)
from hcc.schema import DAYS_PER_MONTH, ENDPOINT_Y_LABELS, REGIMEN_LABELS, Endpoint, regimen_name
from hcc.stats.adjusted import CoxSpec, fit_multivariable, model_frame
from hcc.stats.response import response_rates, swimmer_lanes
from hcc.stats.weighting import IPTWSpec, iptw_analysis

CAPTION = "Main cohort (study) · SOR 272 · LEN 159 · ATZ_BEV 181 — Synthetic demo registry (not real patients)"


@pytest.fixture(scope="module")
def demo():
    registry = load_demo()
    return apply_to_registry(registry, PRESETS[MAIN])


@pytest.fixture(scope="module")
def figures(demo) -> dict[str, go.Figure]:
    """Every figure builder, on the demo's main cohort."""
    c = demo
    colors = regimen_colors(c.regimens)
    os_ = analyze_endpoint(c, Endpoint.OS)
    iptw = iptw_analysis(c, IPTWSpec())
    cox = fit_multivariable(c, CoxSpec())
    return {
        "km_trials": km_figure(os_, colors, subtitle=CAPTION, options=KMFigureOptions(trial_medians=True)),
        "km_dor": km_figure(analyze_endpoint(c, Endpoint.DOR), colors, subtitle=CAPTION),
        "attrition": attrition_figure(c.attrition, c.regimens, c.by_regimen(), colors, CAPTION),
        "sankey": sankey_figure(treatment_paths(c.frame, LEVELS[0], ()), colors, CAPTION),
        "response": response_bar_figure(response_rates(c.frame, c.regimens, "RECIST 1.1"), colors, CAPTION),
        "swimmer": swimmer_figure(swimmer_lanes(c.frame, c.regimens, max_patients=40), colors, CAPTION),
        "forest": forest_figure(cox, CAPTION),
        "love": love_plot(iptw, CAPTION),
        "weighted_km": weighted_km_figure(iptw, colors, CAPTION),
    }


def _title_lines(fig: go.Figure) -> int:
    return fig.layout.title.text.count("<br>") + 1


@pytest.mark.parametrize("style", ["screen", "presentation", "export"])
def test_every_figure_keeps_title_on_top_and_legends_below_the_plot(figures, style) -> None:
    """For every builder and style: the top margin holds every title/subtitle line (1 em + 1.3 em a
    further line, as plotly.js spaces them), the legends are anchored to the figure's bottom inside the
    bottom margin (legend2 under legend), and height = margins + plot."""
    for name, fig in figures.items():
        out = presentation_style(fig, CAPTION) if style == "presentation" else (
            fit_width(fig, 1280) if style == "export" else fig)
        lay = out.layout
        title_px = STYLE_FONT[style] + 4
        assert lay.title.yref == "container" and lay.title.yanchor == "top", name
        needed = 16 + title_px + 1.3 * title_px * (_title_lines(out) - 1) + 14
        assert lay.margin.t >= needed - 1, (name, lay.margin.t, needed)
        assert lay.title.y * lay.height >= lay.height - lay.margin.t, name  # the title starts inside the top margin
        meta = lay.meta["hcc_layout"]
        assert lay.height == lay.margin.t + meta["plot_height"] + lay.margin.b, name
        if lay.showlegend and lay.legend.visible is not False and meta.get("style"):
            legends = [t for t in out.data if t.type != "sankey" and t.showlegend is not False and t.name]
            if any((t.legend or "legend") == "legend" for t in legends):
                assert lay.legend.yref == "container" and lay.legend.yanchor == "bottom", name
                assert lay.legend.y * lay.height < lay.margin.b, name  # below the plot area
            if any(t.legend == "legend2" for t in legends):
                assert lay.legend2.y < lay.legend.y, name
        if style == "presentation":
            assert lay.height <= max(PRESENT_HEIGHT, meta["plot_height"] + lay.margin.t + lay.margin.b), name
            assert lay.font.size == STYLE_FONT["presentation"]


def test_presentation_figures_fit_a_1280x720_screen(figures) -> None:
    """Every figure except the (row-per-covariate) forest plot fits the presentation height."""
    for name, fig in figures.items():
        if name in ("forest",):
            continue
        assert presentation_style(fig, CAPTION).layout.height <= PRESENT_HEIGHT + 45, name


def test_legend_wraps_with_many_groups() -> None:
    """Twelve groups need more legend lines than three, and the bottom margin grows by them while the
    plot keeps its height."""
    def fig_with(n: int) -> go.Figure:
        fig = go.Figure([go.Scatter(x=[0, 1], y=[1, 0], name=f"Regimen number {i} (n = 100, median 12.3 mo)")
                         for i in range(n)])
        return apply_layout(fig, "screen", title="T", subtitle="S", plot_height=400, bottom_px=60)

    few, many = fig_with(3), fig_with(12)
    assert legend_rows([t.name for t in many.data], 1000, 13) > legend_rows([t.name for t in few.data], 1000, 13)
    assert many.layout.margin.b > few.layout.margin.b
    assert many.layout.height - many.layout.margin.b - many.layout.margin.t == 400


def test_wrap_text_breaks_at_spaces_within_the_width() -> None:
    lines = wrap_text("Overall survival by first-line regimen in a long title " * 3, 400, 18)
    assert len(lines) > 1
    assert all(0.56 * 18 * len(line) <= 400 for line in lines)
    assert " ".join(lines).split() == ("Overall survival by first-line regimen in a long title " * 3).split()


def test_a_plain_figure_keeps_its_own_title_through_export_and_presentation() -> None:
    """A figure not built here (no layout record) keeps its title markup when re-laid out."""
    fig = go.Figure(go.Bar(x=["a"], y=[1]), layout={"title": {"text": "Mine <i>x</i>"}, "height": 300})
    narrow = fit_width(fig, 560)
    assert narrow.layout.title.text == "Mine <i>x</i>"
    assert presentation_style(narrow, "cohort").layout.title.text.startswith("Mine <i>x</i><br>")


def test_apply_layout_refuses_an_unknown_style() -> None:
    with pytest.raises(ValueError, match="style must be one of"):
        apply_layout(go.Figure(), "poster")


def test_trial_medians_in_presentation_one_entry_per_trial(figures) -> None:
    shown = presentation_style(figures["km_trials"], CAPTION)
    marks = [t for t in shown.data if t.legend == "legend2"]
    entries = [t.name for t in marks if t.showlegend is not False]
    assert len(entries) == len(set(entries)) == len({t.name for t in marks})
    assert all(t.y[0] == 0.5 for t in marks)


def test_y_axis_says_what_the_curve_is_the_proportion_of(figures) -> None:
    assert figures["km_dor"].layout.yaxis.title.text == "Proportion still in response"
    assert ENDPOINT_Y_LABELS[Endpoint.DDC] == "Proportion still in disease control"
    assert figures["km_trials"].layout.yaxis.title.text == "Proportion alive"
    assert figures["weighted_km"].layout.yaxis.title.text == "Proportion alive (weighted)"


def test_sankey_nodes_carry_names_and_counts(figures, demo) -> None:
    """Every node reads "<drug name> (<code>): <patients>"; the first-line nodes' counts are the cohort's."""
    labels = list(figures["sankey"].data[0].node.label)
    assert all(re.search(r": \d+$", label) for label in labels)
    for code, n in demo.by_regimen().items():
        assert f"{REGIMEN_LABELS[code]} ({code}): {n}" in labels
    assert any(label.startswith("Regorafenib (REG)") for label in labels)


def test_sankey_labels_do_not_overlap(figures) -> None:
    """Nodes of one column are at least a label's line apart."""
    node = figures["sankey"].data[0].node
    for x in set(node.x):
        ys = sorted(y for y, xx in zip(node.y, node.x) if xx == x)
        assert all(b - a >= 0.03 for a, b in zip(ys, ys[1:])), (x, ys)


def test_response_headers_use_the_bars_denominator(figures, demo) -> None:
    """ORR/DCR above each bar are over all patients (the bars' denominator), one annotation per bar."""
    rates = response_rates(demo.frame, demo.regimens, "RECIST 1.1")
    heads = [a.text for a in figures["response"].layout.annotations if a.text.startswith("ORR")]
    groups = [g for g in rates.groups if g.n]
    assert len(heads) == len(groups)
    for text, g in zip(heads, groups):
        orr, dcr = g.rates[("ORR", "all")], g.rates[("DCR", "all")]
        assert text == f"ORR {100 * orr.estimate:.0f}%<br>DCR {100 * dcr.estimate:.0f}%"
    assert figures["response"].layout.yaxis.title.text == "Patients (% of all)"


def test_regimens_are_named_in_legends(figures) -> None:
    names = [t.name for t in figures["km_trials"].data if t.name and t.legend is None]
    assert names[0].startswith("Sorafenib (SOR): n = ")
    assert regimen_name("ATZ_BEV") == "Atezolizumab + bevacizumab (ATZ_BEV)"
    assert regimen_name("XYZ") == "XYZ"


def test_weighted_km_has_a_weighted_number_at_risk_table(demo) -> None:
    """Under the weighted curves, the summed weights of the patients with time >= t, rounded: the
    table's numbers equal a direct sum over the patients."""
    spec = IPTWSpec()
    result = iptw_analysis(demo, spec)
    fig = weighted_km_figure(result, regimen_colors(demo.regimens), CAPTION)
    tables = [t for t in fig.data if t.mode == "text"]
    assert len(tables) == len(result.regimens)
    mf = model_frame(demo.frame, spec.endpoint, spec.covariates, demo.regimens, with_regimen=False)
    assert list(mf.patient_id) == list(result.patient_id)  # the weights are in the model frame's row order
    breaks = np.asarray(tables[0].x, float)
    for r, trace in zip(result.regimens, tables):
        mine = result.regimen == r
        direct = [int(round(float(result.weights[mine & (mf.days >= b * DAYS_PER_MONTH)].sum()))) for b in breaks]
        assert [int(t) for t in trace.text] == direct == weighted_at_risk(result.curves[r], breaks)
        assert direct[0] == int(round(float(result.weights[mine].sum())))
    assert any("Number at risk (weighted)" in (a.text or "") for a in fig.layout.annotations)
