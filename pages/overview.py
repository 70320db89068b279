"""Overview: what the app does, what data is loaded, and where to go next."""

import streamlit as st

from hcc.i18n import tr, trc
from hcc.outputs.figures import regimen_colors
from hcc.schema import Endpoint, regimen_name
from ui.common import (
    route_through_app, cohort_caption, current_cohort, current_registry, rules_not_applied_warning,
    endpoint_summary,
)
from ui.present import presenting
from ui.views import attrition_log, os_headline, page_links, present_overview
from ui.text import md

route_through_app()

registry = current_registry()
cohort = current_cohort()
if cohort is not None:
    os_summary = endpoint_summary(registry, cohort, Endpoint.OS, comparisons=False)
    colors = regimen_colors(cohort.regimens)
    if presenting():
        present_overview(os_summary, cohort.attrition, cohort.regimens, cohort.by_regimen(), colors,
                         cohort_caption(cohort))
st.title("HCC Outcomes Explorer")
st.markdown(tr(
    "Kaplan–Meier survival by first-line regimen for patients with advanced hepatocellular carcinoma, "
    "from a de-identified registry export: overall survival, progression-free survival, post-progression "
    "survival, durations of disease control and response, and second-line outcomes — with log-rank tests, "
    "computed as R's `survival` package computes them."))

if registry.is_demo:
    st.info(tr("You are looking at the **synthetic demo registry**: simulated patients, not real ones, "
               "calibrated to resemble a published multicenter study (Cancer Medicine 2026). "
               "Upload your own registry on the Data page."), icon=":material/science:")

st.subheader(tr("Data loaded"))
cols = st.columns(4)
cols[0].metric(trc("data summary", "Source"), tr("Demo") if registry.is_demo else tr("Upload"), help=md(registry.label))
cols[1].metric(tr("Patients"), f"{registry.n_patients:,}")
cols[2].metric(tr("First-line regimens"), len(registry.regimens))
cols[3].metric(tr("Rows excluded at validation"), len(registry.excluded))
st.caption(md(registry.label + " · " + " · ".join(
    f"{regimen_name(r, with_code=False)} ({r}) {k:,}" for r, k in registry.regimen_counts().items())))

if cohort is not None:
    os_headline(os_summary, cohort_caption(cohort))
    st.subheader(tr("Current cohort"))
    st.write(md(cohort_caption(cohort)))
    rules_not_applied_warning(cohort)
    attrition_log(cohort.attrition)

page_links()
