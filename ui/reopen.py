"""Reopen a view from a report, a deck or a cohort spec file (for the Data and Report & slides pages)."""

from __future__ import annotations

import streamlit as st

from hcc.errors import HCCError
from hcc.i18n import N_, tr
from hcc.outputs.reproduce import Reopened, check_data, read_record
from ui.actions import guarded
from ui.common import StateKeys, current_registry
from ui.sidebar import load_spec
from ui.text import md


def _apply(reopened: Reopened) -> None:
    """Put the record's cohort, statistical settings and figure options into the widgets."""
    load_spec(reopened.cohort_spec)
    state = st.session_state
    a = reopened.analysis_spec
    if a is not None:
        state.update({StateKeys.CONF_TYPE: a.conf_type, StateKeys.MILESTONES: [int(m) for m in a.milestones_months],
                      StateKeys.TAU: int(a.tau_months or 0), StateKeys.ADJUST: a.adjust, StateKeys.RHO: a.rho})
        if a.reference:
            state[StateKeys.REFERENCE] = a.reference
    o = reopened.figure_options
    if o is not None:
        state.update({StateKeys.SHOW_CI: o.show_ci, StateKeys.PERCENT: o.percent, StateKeys.RISK_TABLE: o.risk_table,
                      StateKeys.KMUNICATE: o.kmunicate, StateKeys.MEDIAN_LINES: o.median_lines,
                      StateKeys.TRIAL_MEDIANS: o.trial_medians})
        if o.break_months:
            state[StateKeys.BREAKS] = o.break_months
    if reopened.figure_endpoints:
        state[StateKeys.EXPORT_FIGURES] = list(reopened.figure_endpoints)


def reopen_widget() -> None:
    """Upload a report (.html), deck (.pptx) or cohort spec (.json); check the data fingerprint
    against the loaded data (warning when they differ) and recreate the view with one click."""
    file = st.file_uploader(tr("Reopen a report, deck or cohort spec"), type=["html", "pptx", "json"],
                            key=StateKeys.REOPEN_FILE,
                            help=tr("Recreates the cohort, the statistical settings and the figure options it was "
                                    "made with. Load the same data file first: its SHA-256 is checked."))
    if file is None:
        return
    try:
        reopened = read_record(file.getvalue(), file.name)
    except (HCCError, ValueError) as exc:
        st.error(md(f"{file.name}: {exc}"), icon=":material/error:")
        return
    check = check_data(reopened, current_registry())
    (st.success if check.same else st.warning)(md(check.message),
                                                icon=":material/verified:" if check.same else ":material/warning:")
    if reopened.created:
        if reopened.mapping:
            st.caption(tr("Made {created}; mapping: embedded.", created=md(reopened.created)))
        else:
            st.caption(tr("Made {created}; mapping: none.", created=md(reopened.created)))
    st.button(tr("Recreate this view"), on_click=guarded(_apply, N_("Recreating the view")), args=(reopened,),
              icon=":material/history:", type="primary")
