"""Overview: what the app does, what data is loaded, and where to go next."""

import streamlit as st

from hcc.schema import REGIMEN_LABELS
from ui.common import (
    route_through_app, PAGES, cohort_caption, current_cohort, current_registry, rules_not_applied_warning,
)
from ui.text import md

route_through_app()

registry = current_registry()
st.title("HCC Outcomes Explorer")
st.markdown(
    "Kaplan–Meier survival by first-line regimen for patients with advanced hepatocellular carcinoma, "
    "from a de-identified registry export: overall survival, progression-free survival, post-progression "
    "survival, durations of disease control and response, and second-line outcomes — with log-rank tests, "
    "computed as R's `survival` package computes them.")

if registry.is_demo:
    st.info("You are looking at the **synthetic demo registry**: simulated patients, not real ones, "
            "calibrated to resemble a published multicenter study (Cancer Medicine 2026). "
            "Upload your own registry on the Data page.", icon=":material/science:")

st.subheader("Data loaded")
cols = st.columns(4)
cols[0].metric("Source", "Demo" if registry.is_demo else "Upload", help=md(registry.label))
cols[1].metric("Patients", f"{registry.n_patients:,}")
cols[2].metric("First-line regimens", len(registry.regimens))
cols[3].metric("Rows excluded at validation", len(registry.excluded))
st.caption(md(registry.label + " · " + " · ".join(
    f"{REGIMEN_LABELS.get(r, r)} ({r}) {k:,}" for r, k in registry.regimen_counts().items())))

cohort = current_cohort()
if cohort is not None:
    st.subheader("Current cohort")
    st.write(md(cohort_caption(cohort)))
    rules_not_applied_warning(cohort)
    st.dataframe([{"Step": s.rule, "Excluded": s.excluded, "Remaining": s.remaining} for s in cohort.attrition],
                 hide_index=True)

st.subheader("Pages")
for spec in PAGES:
    if spec.path != "pages/overview.py":
        st.page_link(spec.path, label=spec.title, icon=spec.icon)
