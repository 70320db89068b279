"""After first line: treatment sequences, second-line uptake and outcomes, post-progression survival."""

import streamlit as st

from hcc.i18n import tr, trc
from hcc.analysis import analyze_by_second_line, analyze_competing, analyze_pathway
from hcc.outputs.competing_figures import cif_figure, pathway_figure
from hcc.outputs.competing_tables import WHICH_RATIO, pathway_table, pathway_values_table
from hcc.outputs.figures import km_figure, regimen_colors, sankey_figure
from hcc.outputs.tables import (
    class_table, response_counts_table, response_rates_table, response_tests_table, uptake_table,
)
from hcc.stats.response import SECOND_LINE, response_rates
from hcc.schema import SECOND_LINE_ENDPOINTS, Col, Endpoint, endpoint_label, regimen_name
from hcc.cohort.secondline import LEVELS, class_map, derive_by_second_line_given, treatment_paths, uptake
from hcc.stats.survival import summarize
from ui.actions import guarded
from ui.common import StateKeys, cohort_page, endpoint_summary, session_memo
from ui.downloads import figure_downloads, table_downloads
from ui.present import Slide, on_screen, present, presenting, table_slides
from ui.widgets import competing_section, indexed, km_section, second_line_level_name
from ui.sidebar import key as cohort_key
from ui.text import md, md_table
from ui.i18n import shown_in_this_language

cohort, registry, caption = cohort_page(tr("After first line"))
overrides = cohort.spec.second_line_classes
colors = regimen_colors(cohort.regimens)
ALL = "all"  # the post-progression scope over every first-line regimen


def show(summary, title: str, chart_key: str, group_label: str | None = None) -> None:
    km_section(summary, title, chart_key, colors, caption, group_label or tr("First-line regimen"))


def all_or(scope: str) -> str:
    return trc("first-line scope", "all") if scope == ALL else scope


if presenting():
    level = st.session_state.get(StateKeys.SL_LEVEL) or LEVELS[0]
    paths = session_memo(("paths", registry.sha256, cohort.spec, level),
                         lambda: treatment_paths(cohort.frame, level, overrides))
    slides = [Slide(tr("Treatment sequences"), figure=sankey_figure(paths, colors, caption)),
              *table_slides(tr("Second-line uptake"), uptake_table(uptake(cohort.frame, cohort.regimens)))]
    for e in SECOND_LINE_ENDPOINTS:
        s = endpoint_summary(registry, cohort, e)
        if s.curves:
            slides.append(Slide(f"{endpoint_label(e)} ({e.value})", figure=km_figure(
                s, colors, subtitle=caption, title=tr("{endpoint} by first-line regimen", endpoint=endpoint_label(e)))))
    competing = session_memo(("competing", registry.sha256, cohort.spec), lambda: analyze_competing(cohort))
    slides += [Slide(tr(s.definition.title), figure=cif_figure(s, colors, subtitle=caption))
               for s in competing.values()]
    pathway_summary = session_memo(("pathway", registry.sha256, cohort.spec), lambda: analyze_pathway(cohort))
    slides.append(Slide(tr("Patient pathway"), figure=pathway_figure(pathway_summary, colors, subtitle=caption)))
    present("pages/secondline.py", slides, caption)
st.subheader(tr("Treatment sequences"))
level = st.segmented_control(tr("Show second and third line as"), LEVELS, default=LEVELS[0],
                             format_func=shown_in_this_language(second_line_level_name), key=StateKeys.SL_LEVEL)
paths = session_memo(("paths", registry.sha256, cohort.spec, level),
                     lambda: treatment_paths(cohort.frame, level or LEVELS[0], overrides))
st.plotly_chart(on_screen(sankey_figure(paths, colors, caption), caption), key="sankey", theme=None)
st.table(md_table(indexed(uptake_table(uptake(cohort.frame, cohort.regimens)))))


st.subheader(tr("Who reaches second line, and who dies first (competing risks)"))
st.caption(tr("Death is a competing event: a patient who dies cannot start second line, so 1 − Kaplan–Meier "
              "would overstate uptake. Aalen–Johansen cumulative incidence with 95% CI (as R's survfit); "
              "Gray's test across regimens; hazard ratios against the reference regimen."))
competing = session_memo(("competing", registry.sha256, cohort.spec), lambda: analyze_competing(cohort))
for key, s in competing.items():
    st.markdown(f"**{tr(s.definition.title)}**")
    competing_section(s, key, colors, caption)
st.markdown(tr(WHICH_RATIO))

st.subheader(trc("after first line page", "Patient pathway: where patients are over time"))
st.caption(tr("Share of patients on first line without progression, progressed without second line, on second "
              "line or later, or dead, from first-line start (Aalen–Johansen state occupation, as R's multi-state "
              "survfit); the numbers are written at 6, 12 and 24 months."))
pathway_summary = session_memo(("pathway", registry.sha256, cohort.spec), lambda: analyze_pathway(cohort))
fig = on_screen(pathway_figure(pathway_summary, colors, subtitle=caption), caption)
st.plotly_chart(fig, key="pathway", theme=None)
figure_downloads(fig, "pathway")
st.table(md_table(indexed(pathway_table(pathway_summary), 2)))
table_downloads(pathway_values_table(pathway_summary), "pathway")


def save_classes() -> None:
    edited = st.session_state[StateKeys.SL_CLASSES_EDITOR]["edited_rows"]
    table = class_table(codes, class_map(overrides))
    code, klass = table.columns  # their names are in the reader's language
    pairs = dict(overrides)
    for row, change in edited.items():
        if change.get(klass):
            pairs[table.iloc[row][code]] = change[klass].strip()
    st.session_state[cohort_key("second_line_classes")] = sorted(pairs.items())


codes = sorted(str(c) for c in cohort.frame[Col.REGIMEN_2L].dropna().unique())
with st.expander(tr("Second-line classes (editable; part of the cohort rules and the link)")):
    st.data_editor(classes := class_table(codes, class_map(overrides)), hide_index=True,
                   disabled=[classes.columns[0]], key=StateKeys.SL_CLASSES_EDITOR,
                   on_change=guarded(save_classes, tr("Saving the second-line classes")))

st.subheader(tr("Second-line outcomes by first-line regimen"))
endpoint = st.radio(trc("after first line page", "Endpoint"), SECOND_LINE_ENDPOINTS, format_func=lambda e: e.value,
                    horizontal=True, key=StateKeys.SL_ENDPOINT)
summary = endpoint_summary(registry, cohort, endpoint)
if summary.curves:
    show(summary, tr("{endpoint} by first-line regimen", endpoint=endpoint_label(endpoint)), "sl_by_first")

st.subheader(tr("Within one first-line regimen, by second-line treatment"))
c1, c2 = st.columns(2)
first = c1.selectbox(tr("After first-line"), cohort.regimens, index=len(cohort.regimens) - 1, key=StateKeys.SL_FIRST)
endpoint2 = c2.radio(trc("after first line page", "Endpoint"), (Endpoint.PFS_2L, Endpoint.OS_2L),
                     format_func=lambda e: e.value, horizontal=True, key=StateKeys.SL_ENDPOINT_2)
by_2l = session_memo(("by2l", registry.sha256, cohort.spec, first, endpoint2.value, level),
                     lambda: analyze_by_second_line(cohort, endpoint2, first, level or LEVELS[0]))
if by_2l.curves:
    shown_level = second_line_level_name(level or LEVELS[0])
    show(by_2l, tr("{endpoint} after {regimen}, by second-line {level}", endpoint=endpoint_label(endpoint2),
                   regimen=regimen_name(first), level=shown_level), "sl_by_second",
         tr("Second-line {level}", level=shown_level))
else:
    st.info(tr("No patient in this cohort started second line after {regimen}.", regimen=md(first)))

if cohort.frame[Col.BEST_RESPONSE_2L].notna().any():
    st.subheader(tr("Response to second line, by first-line regimen"))
    treated = cohort.frame[cohort.frame[Col.START_2L].notna()]
    rates = session_memo(("rates2l", registry.sha256, cohort.spec),
                         lambda: response_rates(treated, cohort.regimens, SECOND_LINE))
    st.caption(tr("Best response to second line (RECIST 1.1) among patients who started second line; "
                  "exact Clopper–Pearson 95% CI; denominators as stated."))
    st.table(md_table(indexed(response_counts_table(rates))))
    st.table(md_table(indexed(response_rates_table(rates))))
    st.table(md_table(response_tests_table(rates)))

st.subheader(tr("Post-progression survival by whether second line was given"))
st.caption(tr("Descriptive only: patients must live long enough to receive second line, so this comparison "
              "favours the treated group by design (it is not an estimate of the effect of second line)."))
scope = st.selectbox(tr("First-line regimen"), (ALL, *cohort.regimens), key=StateKeys.SL_PPS_SCOPE,
                     format_func=shown_in_this_language(all_or))
pps = session_memo(("pps2l", registry.sha256, cohort.spec, scope),
                   lambda: summarize(*derive_by_second_line_given(cohort.frame, Endpoint.PPS,
                                                                  None if scope == ALL else scope)))
if pps.curves:
    show(pps, tr("Post-progression survival ({scope} first line), by whether second line was given",
                 scope=all_or(scope)), "sl_pps", tr("Second line"))
