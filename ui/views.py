"""What the Overview, Cohort and Survival pages draw of a cohort and its endpoint summaries, however they
were computed: in memory (the pages, :func:`ui.common.endpoint_summary`) or in the database
(:mod:`ui.database`). One drawing, so both modes show the same words, figures and tables."""

from __future__ import annotations

from collections.abc import Callable

import streamlit as st

from hcc.cohort.endpoints import DEFINITIONS
from hcc.cohort.rules import AttritionStep, CohortSpec
from hcc.formatting import format_months, method_label
from hcc.i18n import tr, trc
from hcc.outputs.figures import attrition_figure, default_horizon_months, km_figure
from hcc.outputs.tables import attrition_table, overview_table
from hcc.schema import DAYS_PER_MONTH, Endpoint, endpoint_label, regimen_name
from hcc.schema import SURVIVAL_ENDPOINTS as ENDPOINTS
from hcc.stats.survival import EndpointSummary
from ui.common import PAGES, StateKeys
from ui.downloads import figure_downloads
from ui.present import Slide, on_screen, present, table_slides
from ui.text import md
from ui.widgets import km_figure_options, small_cell_note, summary_tables


def present_overview(os_summary: EndpointSummary, attrition: tuple[AttritionStep, ...], regimens: tuple[str, ...],
                     by_regimen: dict[str, int], colors: dict[str, str], caption: str) -> None:
    """The Overview's slides: overall survival by regimen, then who is in and why."""
    present("pages/overview.py", [
        Slide(tr("Overall survival by first-line regimen"), figure=km_figure(os_summary, colors, subtitle=caption)),
        Slide(tr("Who is in, and why"), figure=attrition_figure(attrition, regimens, by_regimen, colors, caption))],
        caption)


def os_headline(os_summary: EndpointSummary, caption: str) -> None:
    """The Overview's headline: median OS per regimen as metrics (n, deaths and CI in the help), and
    who they are (``caption``: the cohort line)."""
    st.subheader(tr("Headline: overall survival"))
    groups = [g for g in os_summary.groups if g.n]
    for column, g in zip(st.columns(max(len(groups), 1)), groups):
        column.metric(md(tr("Median OS, {regimen}", regimen=regimen_name(g.group))),
                      tr("{months} months", months=format_months(g.median)),
                      help=tr("{n} patients, {events} deaths; 95% CI {low}–{high} months (Kaplan–Meier, log-log "
                              "CI). Details and tests: Survival page.", n=g.n, events=g.events,
                              low=format_months(g.median_low), high=format_months(g.median_high)))
    st.caption(md(tr("Kaplan–Meier median overall survival from first-line start, {cohort}.", cohort=caption)))


def attrition_log(attrition: tuple[AttritionStep, ...]) -> None:
    """The cohort's attrition log as a table: each step, the patients it excluded and those remaining."""
    st.dataframe([{trc("attrition table", "Step"): tr(s.rule), trc("attrition table", "Excluded"): s.excluded,
                   trc("attrition table", "Remaining"): s.remaining} for s in attrition], hide_index=True)


def who_is_in(attrition: tuple[AttritionStep, ...], regimens: tuple[str, ...], by_regimen: dict[str, int],
              spec: CohortSpec, colors: dict[str, str], caption: str) -> None:
    """The Cohort page's flow diagram (with its downloads and the small-cell note), the attrition table
    of every rule, and the rules as a JSON file."""
    st.subheader(tr("Who is in, and why"))
    flow = on_screen(attrition_figure(attrition, regimens, by_regimen, colors, caption), caption)
    st.plotly_chart(flow, key="attrition_chart", theme=None)
    figure_downloads(flow, "attrition")
    small_cell_note(by_regimen)
    with st.expander(tr("Attrition table (every rule, including those that excluded nobody)")):
        st.dataframe(attrition_table(attrition, regimens), hide_index=True)
    st.download_button(tr("Download the cohort rules (JSON)"), spec.to_json().encode("utf-8"),
                       file_name="cohort_spec.json", mime="application/json")


def endpoint_choice() -> Endpoint:
    """The Survival page's endpoint radio, its name and the definitions of every endpoint."""
    endpoint = st.radio(trc("survival page", "Endpoint"), ENDPOINTS, format_func=lambda e: e.value, horizontal=True,
                        key=StateKeys.ENDPOINT, captions=[endpoint_label(e) for e in ENDPOINTS])
    left, right = st.columns([5, 1], vertical_alignment="bottom")
    left.markdown(f"**{endpoint_label(endpoint)} ({endpoint.value})**")
    with right.popover(trc("survival page", "Definitions"), width="stretch"):
        st.markdown("\n".join(trc("definition list", "- **{term}**: {text}", term=f"{endpoint_label(e)} ({e.value})",
                                  text=DEFINITIONS[e].describe()) for e in ENDPOINTS))
    return endpoint


#: An endpoint's summary in the current cohort and analysis settings, with or without the pairwise
#: comparisons (the page's own way of computing it, in memory or in the database).
SummaryFor = Callable[[Endpoint, bool], EndpointSummary]


def present_survival(summary_for: SummaryFor, colors: dict[str, str], caption: str) -> None:
    """The Survival page's slides: every endpoint's curves, one a screen, then the all-endpoints table."""
    present("pages/survival.py", [Slide(f"{endpoint_label(e)} ({e.value})", figure=km_figure(s, colors, subtitle=caption))
                                  for e in ENDPOINTS if (s := summary_for(e, True)).curves]
            + table_slides(tr("All endpoints: median in months (n)"),
                           overview_table([summary_for(e, False) for e in ENDPOINTS])), caption)


def _open_selected_endpoint() -> None:
    rows = st.session_state[StateKeys.OVERVIEW].selection.rows
    if rows:
        st.session_state[StateKeys.ENDPOINT] = ENDPOINTS[rows[0]]


def all_endpoints_table(summary_for: SummaryFor) -> None:
    """The seven endpoints' medians (n) per regimen; selecting a row opens that endpoint below. The endpoint
    open is computed once, with its comparisons (the same medians, n and log-rank)."""
    st.subheader(tr("All endpoints"))
    st.caption(tr("Median in months (n) per regimen. Select a row to open that endpoint."))
    opened = st.session_state.get(StateKeys.ENDPOINT, ENDPOINTS[0])
    st.dataframe(overview_table([summary_for(e, e == opened) for e in ENDPOINTS]), hide_index=True,
                 on_select=_open_selected_endpoint, selection_mode="single-row", key=StateKeys.OVERVIEW)


def endpoint_detail(summary: EndpointSummary, endpoint: Endpoint, colors: dict[str, str], caption: str) -> None:
    """One endpoint on the Survival page: why it is not shown (and the page stops there), else its
    Kaplan–Meier figure with options and downloads, its tables, methods and the patients not analysed."""
    if summary.unavailable:  # its source column is empty: say so instead of showing another endpoint
        st.warning(md(summary.unavailable), icon=":material/warning:")
        st.stop()
    if not summary.curves:
        st.warning(tr("No patient in this cohort is eligible for {endpoint}.", endpoint=endpoint.value))
        st.stop()

    @st.fragment
    def figure_block() -> None:
        longest = max(c.time[-1] for c in summary.curves.values()) / DAYS_PER_MONTH
        options = km_figure_options(endpoint.value, default_horizon_months(summary), longest)
        fig = on_screen(km_figure(summary, colors, subtitle=caption, options=options), caption)
        st.plotly_chart(fig, key="km_chart", theme=None, config={"toImageButtonOptions": {"format": "png", "scale": 3}})
        figure_downloads(fig, f"km_{endpoint.value}")

    figure_block()
    summary_tables(summary)
    with st.expander(tr("Methods and patients not analysed")):
        for name, text in summary.methods.items():
            st.markdown(trc("definition list", "- **{term}**: {text}", term=method_label(name), text=text))
        for reason, count in {**summary.not_eligible, **summary.excluded}.items():
            st.markdown(tr("- not analysed — {reason}: {count}", reason=reason, count=count))


def page_links() -> None:
    """The Overview's links to every other page."""
    st.subheader(trc("overview", "Pages"))
    for spec in PAGES:
        if spec.path != "pages/overview.py":
            st.page_link(spec.path, label=tr(spec.title), icon=spec.icon)
