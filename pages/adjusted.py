"""Adjusted comparisons: multivariable Cox model with its proportional-hazards check, subgroup forest plot,
and the propensity-weighted (IPTW) comparison with balance diagnostics."""

import pandas as pd
import streamlit as st

from hcc.outputs.adjusted_figures import forest_figure, love_plot, subgroup_forest_figure, weighted_km_figure
from hcc.stats.adjusted import fit_multivariable, ph_table
from hcc.errors import HCCError
from hcc.i18n import tr, trc
from hcc.outputs.figures import regimen_colors
from hcc.stats.subgroups import subgroup_analysis
from hcc.stats.weighting import iptw_analysis
from ui.adjusted_widgets import cox_section, iptw_section, settings_form, subgroup_section
from ui.common import cohort_page, session_memo
from ui.present import Slide, present, presenting, table_slides
from ui.text import md

cohort, registry, caption = cohort_page(tr("Adjusted comparisons"))
if not presenting():
    st.markdown(tr("Patients given different regimens differ in era, liver function and stage. These analyses "
                   "answer *adjusted for what?*: a Cox model with the regimen and baseline covariates, hazard ratios "
                   "within subgroups, and a comparison weighted so that the regimens' patients look alike."))
if len(cohort.regimens) < 2:
    st.info(tr("This cohort holds a single regimen: there is nothing to compare. Widen the cohort in the sidebar."),
            icon=":material/info:")
    st.stop()
choices = settings_form(cohort.regimens)


def memo(name: str, settings, compute):
    return session_memo((name, registry.sha256, cohort.spec, settings), compute)


if presenting():  # forest plot, PH check, subgroups, weighted curves and balance: one a screen
    slides = []

    def attempt(what: str, compute):
        try:
            return compute()
        except HCCError as exc:  # said in words on the slide, never a number
            slides.extend(table_slides(tr("{what}: not estimable", what=what),
                                       pd.DataFrame({trc("slide table header", "Why"): [str(exc)]})))
            return None

    args = (choices.subgroup, choices.a, choices.b, choices.cox.endpoint)
    if model := attempt(trc("adjusted page", "Multivariable Cox model"),
                        lambda: memo("mv_cox", choices.cox, lambda: fit_multivariable(cohort, choices.cox))):
        slides += [Slide(trc("adjusted page", "Multivariable Cox model"), figure=forest_figure(model, caption)),
                   *table_slides(trc("adjusted page", "Proportional-hazards check (scaled Schoenfeld residuals)"),
                                 ph_table(model))]
    if sub := attempt(trc("adjusted page", "Subgroups"),
                      lambda: memo("subgroups", args, lambda: subgroup_analysis(cohort, *args))):
        slides.append(Slide(trc("adjusted page", "Subgroups"), figure=subgroup_forest_figure(sub, caption)))
    if choices.iptw is not None and (iptw := attempt(
            trc("adjusted page", "Propensity weighting"),
            lambda: memo("iptw", choices.iptw, lambda: iptw_analysis(cohort, choices.iptw)))):
        slides += [Slide(trc("adjusted page", "Weighted curves (IPTW)"),
                         figure=weighted_km_figure(iptw, regimen_colors(cohort.regimens), caption)),
                   Slide(trc("adjusted page", "Covariate balance after weighting"), figure=love_plot(iptw, caption))]
    present("pages/adjusted.py", slides, caption)


def shown(compute, render, *args) -> None:
    """Run ``compute``; render its result, or say in words why it cannot be computed."""
    try:
        result = compute()
    except HCCError as exc:
        st.error(md(exc), icon=":material/error:")  # messages name regimens and columns from the file
        return
    render(result, *args)


cox_tab, sub_tab, iptw_tab = st.tabs([trc("adjusted page", "Multivariable Cox"), trc("adjusted page", "Subgroups"),
                                      trc("adjusted page", "Propensity weighting")])
with cox_tab:
    shown(lambda: memo("mv_cox", choices.cox, lambda: fit_multivariable(cohort, choices.cox)), cox_section, caption)
with sub_tab:
    args = (choices.subgroup, choices.a, choices.b, choices.cox.endpoint)
    shown(lambda: memo("subgroups", args, lambda: subgroup_analysis(cohort, *args)), subgroup_section, caption)
with iptw_tab:
    if choices.iptw is None:
        st.info(tr("Turn on *Propensity weighting (IPTW)* in the model settings."), icon=":material/info:")
    else:
        shown(lambda: memo("iptw", choices.iptw, lambda: iptw_analysis(cohort, choices.iptw)), iptw_section,
              regimen_colors(cohort.regimens), caption)
