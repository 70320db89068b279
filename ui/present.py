"""Presentation mode for a tumor-board screen: a sidebar toggle carried by ``?present=1`` in the URL.

When on, every page hides its settings (expanders, forms, downloads), figures switch to the
large-font, high-contrast style of :func:`hcc.outputs.figures.presentation_style` with the cohort summary
line on each, and the Report & slides page shows one result per screen.
"""

from __future__ import annotations

import plotly.graph_objects as go
import streamlit as st

from hcc.outputs.figures import presentation_style
from ui.common import StateKeys

PARAM = "present"
_CSS = """<style>
[data-testid="stExpander"], [data-testid="stForm"], [data-testid="stDownloadButton"],
[data-testid="stPopover"] {display: none !important;}
[data-testid="stMainBlockContainer"] {max-width: 100%; padding-top: 1.5rem;}
[data-testid="stMainBlockContainer"] p, [data-testid="stMainBlockContainer"] li,
[data-testid="stMainBlockContainer"] td, [data-testid="stMainBlockContainer"] th {font-size: 1.35rem;}
[data-testid="stMainBlockContainer"] h1 {font-size: 2.6rem;}
</style>"""


def presenting() -> bool:
    """Whether presentation mode is on in this session."""
    return bool(st.session_state.get(StateKeys.PRESENT))


def presentation_toggle() -> None:
    """The sidebar toggle, started from the URL's ``?present=1`` and written back to it."""
    if StateKeys.PRESENT not in st.session_state:
        st.session_state[StateKeys.PRESENT] = st.query_params.get(PARAM) == "1"
    st.sidebar.toggle("Presentation mode", key=StateKeys.PRESENT,
                      help="Large fonts and high contrast for a tumor-board screen; settings hidden; "
                           "one result per screen on the Report & slides page. The link keeps it (?present=1).")
    if presenting():
        if st.query_params.get(PARAM) != "1":
            st.query_params[PARAM] = "1"
        st.html(_CSS)
    elif PARAM in st.query_params:
        del st.query_params[PARAM]


def on_screen(fig: go.Figure, caption: str) -> go.Figure:
    """``fig`` as shown now: in presentation style (with the cohort line ``caption``) when presenting."""
    return presentation_style(fig, caption) if presenting() else fig
