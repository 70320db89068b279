"""Figures and tables in Japanese (hcc.outputs.figures, adjusted_figures, competing_figures, tables,
competing_tables, hcc.reference.trials): every builder, run under ``use_language("ja")``, writes Japanese
with no English word of its own left (tests/i18n_check.english_words over the figure JSON and the table
cells); the CJK font is set in Japanese only; wrap_text measures full-width characters and never lets a
Japanese title overflow."""

from __future__ import annotations

import re
from types import SimpleNamespace

import plotly.graph_objects as go
import pytest

from hcc.analysis import analyze_competing, analyze_endpoint, analyze_pathway
from hcc.cohort.endpoints import DEFINITIONS
from hcc.cohort.rules import MAIN, PRESETS, apply_to_registry
from hcc.cohort.secondline import LEVELS, class_map, treatment_paths, uptake
from hcc.i18n import tr, use_language
from hcc.ingest.registry import load_demo
from hcc.ingest.validate import Rule, Severity
from hcc.outputs import competing_tables, tables
from hcc.outputs.adjusted_figures import forest_figure, love_plot, subgroup_forest_figure, weighted_km_figure
from hcc.outputs.competing_figures import cif_figure, pathway_figure
from hcc.outputs.figures import (CJK_FONT, KMFigureOptions, _text_px, attrition_figure, fit_width, km_figure,
                                 presentation_style, regimen_colors, response_bar_figure, sankey_figure,
                                 swimmer_figure, wrap_text)
from hcc.reference.trials import TRIALS, registry_vs_trials, trials_table
from hcc.schema import COLUMNS, Endpoint
from hcc.stats.adjusted import CoxSpec, fit_multivariable
from hcc.stats.response import (COVARIATE_LABELS, DENOMINATORS, LANE_EVENTS, landmark, response_models,
                                response_rates, swimmer_lanes)
from hcc.stats.subgroups import subgroup_analysis
from hcc.stats.weighting import IPTWSpec, column_label, iptw_analysis
from tests.i18n_check import _figure_strings, _frame_strings, english_words

SUBTITLE = "主解析コホート（論文） · SOR 272 · LEN 159 · ATZ_BEV 181 — 合成デモレジストリ"
_JAPANESE = re.compile(r"[\u3040-\u30ff\u4e00-\u9fff]")


@pytest.fixture(scope="module")
def ja():
    """Every figure and table of this area, built in Japanese, and the texts other modules wrote into
    them (rule names, event words, reasons: translated by their own modules, not here)."""
    with use_language("ja"):
        cohort = apply_to_registry(load_demo(), PRESETS[MAIN])
        colors = regimen_colors(cohort.regimens)
        os_ = analyze_endpoint(cohort, Endpoint.OS)
        dor = analyze_endpoint(cohort, Endpoint.DOR)
        competing = analyze_competing(cohort)
        pathway = analyze_pathway(cohort)
        iptw = iptw_analysis(cohort, IPTWSpec())
        cox = fit_multivariable(cohort, CoxSpec())
        sub = subgroup_analysis(cohort, "child_pugh_class", "LEN", "SOR")
        rates = response_rates(cohort.frame, cohort.regimens, "RECIST 1.1")
        lanes = swimmer_lanes(cohort.frame, cohort.regimens, max_patients=30)
        paths = treatment_paths(cohort.frame, LEVELS[0], ())
        landmarks = [landmark(cohort.frame, 3.0, "DC")]
        models = response_models(cohort.frame, cohort.regimens)
        issue = SimpleNamespace(severity=Severity.WARNING, row=3, patient_id="P003", column="afp", value="-1",
                                rule=Rule.MISSING_VALUE, message="(message)", fix="(fix)")
        km = km_figure(os_, colors, SUBTITLE, KMFigureOptions(trial_medians=True, show_ci=True))
        figures = {
            "km": km,
            "km_kmunicate": km_figure(dor, colors, SUBTITLE, KMFigureOptions(kmunicate=True, percent=True)),
            "km_presentation": presentation_style(km, SUBTITLE),
            "km_column": fit_width(km, 560),
            "attrition": attrition_figure(cohort.attrition, cohort.regimens, cohort.by_regimen(), colors, SUBTITLE),
            "sankey": sankey_figure(paths, colors, SUBTITLE),
            "response": response_bar_figure(rates, colors, SUBTITLE),
            "swimmer": swimmer_figure(lanes, colors, SUBTITLE),
            "forest": forest_figure(cox, SUBTITLE),
            "subgroups": subgroup_forest_figure(sub, SUBTITLE),
            "love": love_plot(iptw, SUBTITLE),
            "weighted_km": weighted_km_figure(iptw, colors, SUBTITLE),
            **{f"cif_{k}": cif_figure(s, colors, SUBTITLE) for k, s in competing.items()},
            "pathway": pathway_figure(pathway, colors, SUBTITLE),
        }
        frames = {
            "endpoint": tables.endpoint_table(os_), "pairwise": tables.pairwise_table(os_),
            "comparison": tables.comparison_table(os_), "overview": tables.overview_table([os_, dor]),
            "issues": tables.issues_table([issue]), "rule_counts": tables.rule_counts_table([issue]),
            "contract": tables.contract_table(), "attrition": tables.attrition_table(cohort.attrition, cohort.regimens),
            "scenario": tables.scenario_table({"主解析": (cohort, {Endpoint.OS: os_})}, (Endpoint.OS,)),
            "uptake": tables.uptake_table(uptake(cohort.frame, cohort.regimens)),
            "classes": tables.class_table(["REG", "RAM"], {"REG": "TKI", "RAM": "TKI"}),
            "response_counts": tables.response_counts_table(rates), "response_rates": tables.response_rates_table(rates),
            "response_tests": tables.response_tests_table(rates), "models": tables.response_models_table(models),
            "landmark": tables.landmark_table(landmarks), "trials": trials_table(), "versus": registry_vs_trials(os_),
            **{f"{name}_{k}": build(s) for k, s in competing.items()
               for name, build in (("counts", competing_tables.counts_table), ("cif", competing_tables.cif_table),
                                   ("ratios", competing_tables.ratio_table))},
            "pathway": competing_tables.pathway_table(pathway),
        }
        sentences = [tables.plain_summary(os_), tables.plain_summary(dor), *tables.table_notes(os_),
                     *tables.table_notes(dor), tr(tables.NR_NOTE),
                     tables.format_rate(SimpleNamespace(surv=float("nan"), lower=0, upper=0, reason=""))]
        foreign = [s.rule for s in cohort.attrition] + list(LANE_EVENTS.values()) + list(DENOMINATORS.values()) \
            + list(COVARIATE_LABELS.values()) + [d.origin_label for d in DEFINITIONS.values()] \
            + [x for s in competing.values() for x in (s.definition.event_words, s.definition.competing_words,
                                                      s.definition.short_title, s.definition.origin_words)] \
            + list(pathway.states) + [column_label(c) for c in iptw.max_abs_smd()["column"]] \
            + [t.label for t in cox.terms] + [sub.label, *(r.level for r in (sub.overall, *sub.rows))] \
            + [str(x) for x in paths[["first", "second", "third"]].stack()] + [g.group for lm in landmarks
                                                                            for g in lm.summary.groups] \
            + [c.test for c in rates.comparisons] + [r.note for r in models] + [tables.format_rate(r) for g in os_.groups
                                                                               for r in g.rates] \
            + [c.meaning for c in COLUMNS] + [", ".join(c.allowed) for c in COLUMNS] + [Rule.MISSING_VALUE.value, issue.message, issue.fix] \
            + ["not estimable", "p not computed", "NR"] + list(class_map().values()) \
            + [f"{t.citation} {t.journal} doi:{t.doi}" for t in TRIALS] + [c.name for c in COLUMNS]  # as published; data
    return SimpleNamespace(figures=figures, frames=frames, sentences=[s for s in sentences if s], foreign=foreign)


def _words(texts) -> set[str]:
    return {w for t in texts for w in re.findall(r"[A-Za-z][A-Za-z'’\-–]*[A-Za-z]|[A-Za-z]", t)}


def _english(texts: list[str], foreign: list[str]) -> list[str]:
    """English words of ``texts`` that no other module's text (passed in ``foreign``) brought in
    (HTML entities such as ``&lt;`` in plotly text are not words)."""
    return english_words([re.sub(r"&#?\w+;", " ", t) for t in texts], allowed=_words(foreign))


@pytest.mark.parametrize("name", ["km", "km_kmunicate", "km_presentation", "km_column", "attrition", "sankey",
                                  "response", "swimmer", "forest", "subgroups", "love", "weighted_km",
                                  "cif_second_line", "cif_first_line_failure", "pathway"])
def test_every_figure_is_japanese(ja, name: str) -> None:
    fig = ja.figures[name]
    texts = list(_figure_strings(fig.to_plotly_json()))
    assert any(_JAPANESE.search(t) for t in texts if t != fig.layout.title.text)
    assert _JAPANESE.search(fig.layout.title.text)
    assert _english(texts, ja.foreign) == []
    assert fig.layout.font.family == CJK_FONT


def test_every_table_is_japanese(ja) -> None:
    for name, frame in ja.frames.items():
        texts = list(_frame_strings(frame))
        assert any(_JAPANESE.search(str(c)) for c in frame.columns), name
        assert _english(texts, ja.foreign) == [], name


def test_sentences_and_notes_are_japanese(ja) -> None:
    assert all(_JAPANESE.search(s) for s in ja.sentences)
    assert _english(ja.sentences, ja.foreign) == []


def test_a_column_is_found_by_its_header_in_every_language(ja) -> None:
    """Pages pick columns with :func:`hcc.outputs.tables.header`, not the English name."""
    with use_language("ja"):
        assert ja.frames["endpoint"].set_index(tables.header("Regimen")).index.tolist()[:3] == ["SOR", "LEN", "ATZ_BEV"]
        assert tables.header("Regimen") == "レジメン"
    assert tables.header("Regimen") == "Regimen"


def test_english_figures_keep_their_font_and_template_stays_english() -> None:
    """The CJK font is set in Japanese only; the template header row is the canonical columns."""
    fig = go.Figure(go.Scatter(x=[0, 1], y=[0, 1], name="a"))
    fig.update_layout(font=dict(family="Arial, Helvetica, sans-serif"))
    from hcc.outputs.figures import apply_layout
    assert apply_layout(go.Figure(fig), title="Overall survival").layout.font.family == "Arial, Helvetica, sans-serif"
    with use_language("ja"):
        assert apply_layout(go.Figure(fig), title="全生存期間").layout.font.family == CJK_FONT
        header = tables.template_csv()
    assert header == tables.template_csv() and header.startswith(b"patient_id,")


def test_wrap_text_measures_full_width_characters() -> None:
    """A kanji or kana is about one em, twice a Latin letter: a Japanese title wraps to the width, between
    characters (no spaces needed), never starting a line with 、。） and never overflowing."""
    assert _text_px("全生存期間", 10) == pytest.approx(50)
    assert _text_px("OS", 10) == pytest.approx(11.2)
    title = "一次治療レジメン別の全生存期間（n = 612）：主解析コホート（論文）、ソラフェニブ、レンバチニブ、アテゾリズマブ＋ベバシズマブ"
    lines = wrap_text(title, 300, 18)
    assert len(lines) > 1 and "".join(lines).replace(" ", "") == title.replace(" ", "")
    assert all(_text_px(line, 18) <= 300 for line in lines)
    assert not any(line[0] in "、。）：" for line in lines)


def test_japanese_legend_rows_grow_with_width() -> None:
    from hcc.outputs.figures import legend_rows
    names = ["アテゾリズマブ＋ベバシズマブ (ATZ_BEV)：n = 181、中央値 未到達"] * 3
    assert legend_rows(names, 1000, 13) > legend_rows([n.encode("ascii", "ignore").decode() for n in names], 1000, 13)


def test_the_flow_diagram_greys_a_rule_not_applied_in_japanese_too() -> None:
    """Rules whose column is empty are grey boxes named as not applied, found by the step's kind (not
    its English words); excluding rules say 除外 once."""
    from hcc.cohort.rules import apply_spec
    from hcc.ingest.registry import load_bytes
    from hcc.schema import Col
    from tests.conftest import registry_csv

    cols = [Col.PATIENT_ID, Col.REGIMEN_1L, Col.START_1L, Col.DATE_LAST_FOLLOWUP]
    reg = load_bytes(registry_csv([{}, {}], columns=cols), "no_flags.csv")
    for lang in ("en", "ja"):
        with use_language(lang):
            cohort = apply_spec(reg.frame, PRESETS[MAIN])
            fig = attrition_figure(cohort.attrition, cohort.regimens, cohort.by_regimen(), {}, "")
        grey = [s for s in fig.layout.shapes if s.fillcolor == "#FAFAFA"]
        assert len(grey) == 3, lang
        texts = [a.text for a in fig.layout.annotations if a.text]
        if lang == "ja":
            assert not any("Not applied" in t or "Excluded" in t for t in texts)
            assert any("適用" in t for t in texts)


def test_the_sankey_puts_the_paths_that_end_at_the_bottom_in_both_languages(ja) -> None:
    """In every column, the nodes of paths that end (no further line, died / alive) sit below the
    treatments, whatever the language their labels are written in."""
    from hcc.cohort.secondline import PATH_ENDS

    for lang in ("ja", "en"):
        with use_language(lang):
            cohort = apply_to_registry(load_demo(), PRESETS[MAIN])
            fig = sankey_figure(treatment_paths(cohort.frame, LEVELS[0], ()), {}, SUBTITLE)
            ends = tuple(tr(e) for e in PATH_ENDS)
        node = fig.data[0].node
        for x in (0.42, 0.999):
            column = [(y, label.startswith(ends)) for label, y, x_ in zip(node.label, node.y, node.x) if x_ == x]
            last_treatment = max(y for y, end in column if not end)
            assert all(y > last_treatment for y, end in column if end), (lang, x)
