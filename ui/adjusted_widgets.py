"""Widgets of the Adjusted comparisons page: the settings form (read into hcc specs) and the rendering
of each section. No statistics here: every number comes from hcc.stats.adjusted / hcc.stats.subgroups / hcc.stats.weighting."""

from __future__ import annotations

from dataclasses import dataclass

import streamlit as st

from hcc.stats.adjusted import COVARIATES, CoxSpec, MultivariableCox, cox_table, ph_table
from hcc.outputs.adjusted_figures import forest_figure, love_plot, subgroup_forest_figure, weighted_km_figure
from hcc.stats.coxscore import GLOBAL
from hcc.formatting import format_hr, format_p, method_label
from hcc.i18n import N_, tr, trc
from hcc.schema import AFP_400, ATZ_BEV, FIRST_LINE_ENDPOINTS, Col, Endpoint, endpoint_label
from hcc.stats.subgroups import SUBGROUPS, SubgroupResult, subgroup_table
from hcc.stats.weighting import DEFAULT_PS_COVARIATES, IPTWResult, IPTWSpec, balance_table, weights_table
from ui.downloads import chart, table_downloads
from ui.common import StateKeys
from ui.text import md
from ui.i18n import shown_in_this_language

AFP_FORMS = {Col.AFP: N_("log10 AFP (continuous)"), AFP_400: N_("AFP ≥ 400 ng/mL (yes / no)")}
#: Weight truncation: its name (an option value, kept in the session; shown as tr(name)) → percentiles.
TRIMS = {"none": None, N_("1st and 99th"): (1.0, 99.0), N_("5th and 95th"): (5.0, 95.0)}
CHOICES = tuple(k for k in COVARIATES if k != AFP_400)
DEFAULT_COVARIATES = (Col.AGE, Col.CHILD_PUGH_CLASS, Col.BCLC, Col.ECOG, Col.MVI, Col.EHS, Col.AFP)
_NAMES = {k: c.label for k, c in COVARIATES.items()}  # shown as tr(label)


@dataclass(frozen=True)
class AdjustedChoices:
    """What the form asked for."""

    cox: CoxSpec
    subgroup: str
    a: str
    b: str
    iptw: IPTWSpec | None


def trim_name(trim: str) -> str:
    """A weight truncation as shown ("none" in a table of percentiles needs its context)."""
    return trc("weight truncation", "none") if trim == "none" else tr(trim)


def settings_form(regimens: tuple[str, ...]) -> AdjustedChoices:
    """The page's settings in one form (one recomputation per Apply); returns the current choices."""
    state = st.session_state
    with st.expander(tr("Model settings (covariates, reference, subgroups, weighting)")), \
            st.form("adjusted_settings", border=False):
        c1, c2, c3 = st.columns(3)
        c1.selectbox(trc("model settings", "Endpoint"), FIRST_LINE_ENDPOINTS, format_func=shown_in_this_language(endpoint_label),
                     key=StateKeys.ADJ_ENDPOINT)
        c1.selectbox(tr("Reference regimen (hazard ratios against it)"), regimens, key=StateKeys.ADJ_REFERENCE)
        c1.toggle(tr("Center as stratum (a baseline hazard per center)"), key=StateKeys.ADJ_CENTER)
        c2.multiselect(tr("Adjust for"), CHOICES, default=list(DEFAULT_COVARIATES), key=StateKeys.ADJ_COVARIATES,
                       format_func=shown_in_this_language(lambda k: tr(COVARIATES[k].label).replace("log10 AFP", "AFP")),
                       help=tr("Also the covariates of the propensity model. The regimen is always in the model."))
        c2.radio(tr("AFP enters as"), list(AFP_FORMS), format_func=shown_in_this_language(lambda k: tr(AFP_FORMS[k])),
                 key=StateKeys.ADJ_AFP_FORM)
        c3.selectbox(tr("Subgroups by"), list(SUBGROUPS), format_func=shown_in_this_language(lambda k: tr(SUBGROUPS[k].label)),
                     key=StateKeys.ADJ_SUBGROUP)
        a_default = regimens.index(ATZ_BEV) if ATZ_BEV in regimens else len(regimens) - 1
        left, right = c3.columns(2)
        left.selectbox(tr("Subgroups: regimen"), regimens, index=a_default, key=StateKeys.ADJ_SUB_A)
        right.selectbox(trc("subgroup comparison", "against"), regimens, key=StateKeys.ADJ_SUB_B)
        c3.toggle(tr("Propensity weighting (IPTW)"), value=True, key=StateKeys.ADJ_IPTW)
        c3.selectbox(tr("Truncate weights at the percentiles"), list(TRIMS), format_func=shown_in_this_language(trim_name),
                     key=StateKeys.ADJ_TRIM)
        st.form_submit_button(trc("model settings", "Apply"), type="primary")
    endpoint = Endpoint(state.get(StateKeys.ADJ_ENDPOINT, Endpoint.OS))
    afp = state.get(StateKeys.ADJ_AFP_FORM, Col.AFP)
    chosen = state.get(StateKeys.ADJ_COVARIATES, list(DEFAULT_COVARIATES))
    covariates = tuple(afp if k == Col.AFP else k for k in chosen)
    reference = state.get(StateKeys.ADJ_REFERENCE, regimens[0])
    cox = CoxSpec(endpoint, covariates, reference, bool(state.get(StateKeys.ADJ_CENTER, False)))
    iptw = IPTWSpec(endpoint, covariates or DEFAULT_PS_COVARIATES, reference,
                    TRIMS[state.get(StateKeys.ADJ_TRIM, "none")]) if state.get(StateKeys.ADJ_IPTW, True) else None
    return AdjustedChoices(cox, state.get(StateKeys.ADJ_SUBGROUP, Col.CHILD_PUGH_CLASS),
                           state.get(StateKeys.ADJ_SUB_A, regimens[a_default]), state.get(StateKeys.ADJ_SUB_B,
                                                                                          regimens[0]), iptw)


def _name(key: str) -> str:
    """A model term's name for a reader (a covariate's label, "Regimen"), else the key as in the file."""
    if key == Col.REGIMEN_1L:
        return trc("adjusted page", "Regimen")
    return tr(_NAMES[key]) if key in _NAMES else key


def _left_out(n_eligible: int, n: int, missing: dict[str, int]) -> None:
    dropped = n_eligible - n
    if not dropped:
        st.caption(tr("All {n} patients with this endpoint have every chosen covariate recorded.", n=n_eligible))
        return
    which = ", ".join(f"{md(_name(k))} {v}" for k, v in missing.items() if v)
    st.warning(tr("**{dropped} of {n} patients left out** (complete-case analysis): a chosen covariate is not "
                  "recorded — missing: {which}. If missingness is related to prognosis, the estimates can be "
                  "biased; choose fewer covariates to keep more patients.", dropped=dropped, n=n_eligible,
                  which=which), icon=":material/person_remove:")


def cox_section(model: MultivariableCox, caption: str) -> None:
    """Counts, left-out patients, forest plot, coefficient table, proportional-hazards check."""
    c = st.columns(5)
    c[0].metric(tr("Patients in the model"), model.n)
    c[1].metric(trc("model metric", "Events"), model.events)
    c[2].metric(tr("Left out (missing data)"), model.dropped)
    c[3].metric(tr("Concordance"), f"{model.concordance:.3f}")
    c[4].metric(tr("Likelihood-ratio test"), format_p(model.lr_p),
                help=tr("chi-square {chi2:.1f}, {df} df, against no covariates", chi2=model.lr_statistic,
                        df=model.lr_df))
    _left_out(model.n_eligible, model.n, model.missing)
    for note in model.warnings:
        st.warning(md(note), icon=":material/warning:")  # notes name regimens from the file
    chart(forest_figure(model, caption), "forest_plot", caption)
    table = cox_table(model)
    st.dataframe(table, hide_index=True, height=36 * (len(table) + 1) + 2)
    table_downloads(table, "multivariable_cox")
    st.markdown(tr("**Proportional-hazards check** (scaled Schoenfeld residuals: does each hazard ratio stay the "
                   "same over follow-up?)"))
    st.dataframe(ph_table(model), hide_index=True)
    bad = [t for t in model.ph_violations if t.term != GLOBAL]
    if bad:
        names = ", ".join(f"{md(_name(t.term))} ({format_p(t.p)})" for t in bad)
        st.warning(tr("**Proportional hazards look violated for {names}.** The hazard ratio of such a term changes "
                      "over follow-up, so the single HR above is an average over time. Compare restricted mean "
                      "survival time (RMST) on the Survival page, or, for a covariate, put it in as a stratum "
                      "instead (center: 'Center as stratum').", names=names), icon=":material/timeline:")
        st.page_link("pages/survival.py", label=tr("Survival page (RMST)"), icon=":material/monitoring:")
    elif any(t.term == GLOBAL for t in model.ph_violations):
        st.warning(tr("The global proportional-hazards test is significant although no single term is: read the "
                      "hazard ratios as averages over follow-up."), icon=":material/timeline:")
    with st.expander(tr("Methods (estimators and their R equivalents)")):
        st.markdown("\n".join(trc("definition list", "- **{term}**: {text}", term=md(method_label(k)), text=md(v))
                               for k, v in model.methods.items()))


def subgroup_section(result: SubgroupResult, caption: str) -> None:
    chart(subgroup_forest_figure(result, caption), "subgroup_forest_plot", caption)
    st.dataframe(table := subgroup_table(result), hide_index=True)
    table_downloads(table, "subgroups")
    st.caption(tr("Hazard ratio of {a} against {b} within each level (univariable Cox, Efron ties, Wald 95% CI). "
                  "The interaction p tests whether the hazard ratio differs between levels; subgroup HRs are "
                  "descriptive and many subgroups will show chance differences.", a=md(result.a), b=md(result.b)))


def iptw_section(result: IPTWResult, colors: dict[str, str], caption: str) -> None:
    _left_out(result.n_eligible, result.n, result.missing)
    for note in result.warnings:
        st.warning(md(note), icon=":material/warning:")
    chart(weighted_km_figure(result, colors, caption), "iptw_km", caption)
    left, right = st.columns([2, 3])
    left.markdown(tr("**Weighted hazard ratios** (robust SE)"))
    left.dataframe([{trc("adjusted page", "Regimen"): trc("adjusted page", "{a} vs {b}", a=h.term, b=h.reference),
                     trc("adjusted page", "HR (95% CI)"): format_hr(h.hr, h.lower, h.upper), "p": format_p(h.p)}
                    for h in result.cox], hide_index=True)
    right.markdown(tr("**Weights** (stabilized; effective n = (sum w)² / sum w²)"))
    right.dataframe(weights_table(result), hide_index=True)
    ph = result.ph_tests[-1]
    left.caption(tr("Proportional hazards of the weighted model (R cox.zph): {p} — the hazard ratio changes over "
                    "follow-up; see RMST.", p=format_p(ph.p)) if ph.p < 0.05 else
                 tr("Proportional hazards of the weighted model (R cox.zph): {p}.", p=format_p(ph.p)))
    chart(love_plot(result, caption), "love_plot", caption)
    st.dataframe(table := balance_table(result), hide_index=True)
    table_downloads(table, "balance")
    with st.expander(tr("Methods (estimators and their R equivalents)")):
        st.markdown("\n".join(trc("definition list", "- **{term}**: {text}", term=md(method_label(k)), text=md(v))
                               for k, v in result.methods.items()))
