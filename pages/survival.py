"""Survival: Kaplan–Meier curves, medians (95% CI) and the log-rank test by first-line regimen."""

import streamlit as st

from hcc.analysis import analyze_endpoint
from hcc.endpoints import DEFINITIONS
from hcc.figures import km_figure, regimen_colors
from hcc.report import endpoint_table, overview_table, plain_summary
from hcc.schema import ENDPOINT_LABELS, ENDPOINTS, Endpoint
from pages._common import route_through_app, StateKeys, cohort_caption, current_cohort, current_registry, session_memo

route_through_app()

st.title("Survival by first-line regimen")
cohort = current_cohort()
if cohort is None:
    st.stop()
registry = current_registry()
caption = cohort_caption(cohort)
st.caption(caption)


def summary_for(endpoint: Endpoint):
    return session_memo(("km", registry.sha256, cohort.spec, endpoint.value, "log-log"),
                        lambda: analyze_endpoint(cohort, endpoint))


endpoint = st.radio("Endpoint", ENDPOINTS, format_func=lambda e: e.value, horizontal=True,
                    key=StateKeys.ENDPOINT)
st.markdown(f"**{ENDPOINT_LABELS[endpoint]}.** {DEFINITIONS[endpoint].describe()}")

summary = summary_for(endpoint)
if not summary.curves:
    st.warning(f"No patient in this cohort is eligible for {endpoint.value}.")
    st.stop()
show_ci = st.toggle("95% confidence bands", key=StateKeys.SHOW_CI)
colors = regimen_colors(cohort.regimens)
st.plotly_chart(km_figure(summary, colors, subtitle=caption, show_ci=show_ci), key="km_chart")
st.markdown(plain_summary(summary))
st.table(endpoint_table(summary).set_index("Regimen"))
st.caption(" · ".join(f"{k}: {v}" for k, v in summary.methods.items()))
if summary.not_eligible or summary.excluded:
    with st.expander("Patients not analysed for this endpoint"):
        for reason, count in {**summary.not_eligible, **summary.excluded}.items():
            st.write(f"- {reason}: {count}")

st.subheader("All endpoints at a glance")
st.dataframe(overview_table([summary_for(e) for e in ENDPOINTS]), hide_index=True)
