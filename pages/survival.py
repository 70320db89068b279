"""Survival: Kaplan–Meier curves, medians, rates, RMST and tests by first-line regimen, every endpoint."""

import streamlit as st

from hcc.cohort.endpoints import DEFINITIONS
from hcc.formatting import method_label
from hcc.i18n import tr, trc
from hcc.outputs.figures import default_horizon_months, km_figure, regimen_colors
from hcc.outputs.tables import overview_table
from hcc.schema import DAYS_PER_MONTH, Endpoint, endpoint_label
from hcc.schema import SURVIVAL_ENDPOINTS as ENDPOINTS
from ui.common import StateKeys, cohort_page, endpoint_summary
from ui.downloads import figure_downloads, reproduce_in_r
from ui.present import Slide, on_screen, present, presenting, table_slides
from ui.text import md
from ui.widgets import analysis_spec_form, km_figure_options, summary_tables

cohort, registry, caption = cohort_page(tr("Survival by first-line regimen"))
spec = analysis_spec_form(cohort.regimens)


def summary_for(endpoint: Endpoint, comparisons: bool = True):
    # shown only if it takes a while (large registries; a result kept in the session returns at once)
    with st.spinner(tr("Computing {endpoint}…", endpoint=endpoint.value)):
        return endpoint_summary(registry, cohort, endpoint, spec, comparisons)


if presenting():  # every endpoint's curves, one a screen, then the all-endpoints table
    colors = regimen_colors(cohort.regimens)
    present("pages/survival.py", [Slide(f"{endpoint_label(e)} ({e.value})",
                                        figure=km_figure(s, colors, subtitle=caption))
                                  for e in ENDPOINTS if (s := summary_for(e)).curves]
            + table_slides(tr("All endpoints: median in months (n)"),
                           overview_table([summary_for(e, comparisons=False) for e in ENDPOINTS])), caption)


def open_selected_endpoint() -> None:
    rows = st.session_state[StateKeys.OVERVIEW].selection.rows
    if rows:
        st.session_state[StateKeys.ENDPOINT] = ENDPOINTS[rows[0]]


st.subheader(tr("All endpoints"))
st.caption(tr("Median in months (n) per regimen. Select a row to open that endpoint."))
# the endpoint opened below is computed once, with its comparisons (the same medians, n and log-rank)
opened = st.session_state.get(StateKeys.ENDPOINT, ENDPOINTS[0])
st.dataframe(overview_table([summary_for(e, comparisons=e == opened) for e in ENDPOINTS]), hide_index=True,
             on_select=open_selected_endpoint,
             selection_mode="single-row", key=StateKeys.OVERVIEW)

endpoint = st.radio(trc("survival page", "Endpoint"), ENDPOINTS, format_func=lambda e: e.value, horizontal=True,
                    key=StateKeys.ENDPOINT, captions=[endpoint_label(e) for e in ENDPOINTS])
left, right = st.columns([5, 1], vertical_alignment="bottom")
left.markdown(f"**{endpoint_label(endpoint)} ({endpoint.value})**")
with right.popover(trc("survival page", "Definitions"), width="stretch"):
    st.markdown("\n".join(trc("definition list", "- **{term}**: {text}", term=f"{endpoint_label(e)} ({e.value})",
                               text=DEFINITIONS[e].describe()) for e in ENDPOINTS))
summary = summary_for(endpoint)
if summary.unavailable:  # its source column is empty: say so instead of showing another endpoint
    st.warning(md(summary.unavailable), icon=":material/warning:")
    st.stop()
if not summary.curves:
    st.warning(tr("No patient in this cohort is eligible for {endpoint}.", endpoint=endpoint.value))
    st.stop()
colors = regimen_colors(cohort.regimens)


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
reproduce_in_r(registry, cohort, spec, key="reproduce_in_r_survival")
