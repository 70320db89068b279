"""Survival: Kaplan–Meier curves, medians, rates, RMST and tests by first-line regimen, every endpoint."""

import streamlit as st

from hcc.i18n import tr
from hcc.outputs.figures import regimen_colors
from hcc.schema import Endpoint
from ui.common import cohort_page, endpoint_summary
from ui.downloads import reproduce_in_r
from ui.views import all_endpoints_table, endpoint_choice, endpoint_detail, present_survival
from ui.present import presenting
from ui.widgets import analysis_spec_form

cohort, registry, caption = cohort_page(tr("Survival by first-line regimen"))
spec = analysis_spec_form(cohort.regimens)


def summary_for(endpoint: Endpoint, comparisons: bool = True):
    # shown only if it takes a while (large registries; a result kept in the session returns at once)
    with st.spinner(tr("Computing {endpoint}…", endpoint=endpoint.value)):
        return endpoint_summary(registry, cohort, endpoint, spec, comparisons)


if presenting():
    present_survival(summary_for, regimen_colors(cohort.regimens), caption)
all_endpoints_table(summary_for)
endpoint = endpoint_choice()
endpoint_detail(summary_for(endpoint), endpoint, regimen_colors(cohort.regimens), caption)
reproduce_in_r(registry, cohort, spec, key="reproduce_in_r_survival")
