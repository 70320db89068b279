"""Presentation mode for a tumor-board screen: a sidebar toggle carried by ``?present=1`` in the URL.

When on, the sidebar and Streamlit's chrome are hidden and every page shows its results as slides,
one result per screen (:func:`present`): a figure in the large-font, high-contrast style of
:func:`hcc.outputs.figures.presentation_style` (cohort line as subtitle), or a table in ≥ 18-px text,
split over several slides when long. A header row carries the slide counter ("3 / 9"), the slide's
title, Previous / Next and **Exit**. Keys: → / Page Down / Space next, ← / Page Up previous, Esc exit
(a small script in the page itself, nothing fetched from elsewhere). Past the last slide, Next opens
the next page's slides, so the whole app runs as one deck.

A slide fits 1280×720 without scrolling (figure height :data:`hcc.outputs.figures.PRESENT_HEIGHT`
plus the header row), and so fits any larger screen. (CSS zoom to fill a 1920×1080 screen was tried:
plotly.js sizes a figure from its zoomed box and then draws it zoomed again, twice too large.)
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from hcc.i18n import N_, tr
from hcc.outputs.figures import presentation_style
from ui.actions import guarded
from ui.common import PAGES, StateKeys
from ui.text import md, md_table

PARAM = "present"
#: Table rows on one slide: with ≥ 18-px text and the header row they fit a 720-px-high screen
#: (fewer when the table is wide, as its cells then wrap to two lines).
ROWS_PER_SLIDE = 11
ROWS_PER_WIDE_SLIDE = 7
WIDE_COLUMNS = 7
NEXT, PREVIOUS, EXIT = N_("Next ▶"), N_("◀ Previous"), N_("✕ Exit")  # shown as tr(NEXT) …
COUNTER_KEY = "hcc_slide_counter"  # the counter's container: CSS class st-key-hcc_slide_counter

_CSS = """<style>
[data-testid="stSidebar"], [data-testid="stSidebarCollapsedControl"], [data-testid="stHeader"],
[data-testid="stToolbar"], [data-testid="stDecoration"], [data-testid="stStatusWidget"],
[data-testid="stExpander"], [data-testid="stForm"], [data-testid="stDownloadButton"],
[data-testid="stPopover"] {display: none !important;}
[data-testid="stMain"] {margin-left: 0 !important;}
[data-testid="stMainBlockContainer"] {max-width: 100% !important; padding: 0.4rem 1.2rem 0 1.2rem !important;}
[data-testid="stMainBlockContainer"] [data-testid="stVerticalBlock"] {gap: 0.3rem;}
[data-testid="stMainBlockContainer"] p, [data-testid="stMainBlockContainer"] li {font-size: 1.3rem;}
[data-testid="stMainBlockContainer"] td, [data-testid="stMainBlockContainer"] th {font-size: 18px !important;
  line-height: 1.3 !important; padding: 0.3rem 0.5rem !important;}
[data-testid="stMainBlockContainer"] table {width: 100%;}
.st-key-hcc_slide_counter p {font-size: 1.35rem !important; margin: 0.35rem 0 0 0; white-space: nowrap;
  overflow: hidden; text-overflow: ellipsis;}
</style>"""

# Keys step through the slides by clicking the header's buttons (so each step is an ordinary
# Streamlit rerun). Registered once per browser tab; skipped while typing in a field. A constant (no
# data in st.html); its button labels are NEXT, PREVIOUS and EXIT below (tests/test_present.py checks).
# A button is found by its key (the class st-key-<key> of its container), so the keys work whatever
# the language of the labels; the English label is the fallback.
_KEYS_JS = """<script>
(() => {
  const w = window.parent && window.parent.document ? window.parent : window;
  if (w.__hccSlideKeys) return;
  w.__hccSlideKeys = true;
  const KEYED = {'Next ▶': 'present_next', '◀ Previous': 'present_prev', '✕ Exit': 'present_exit'};
  const click = (label) => {
    const usable = (x) => !x.disabled;
    const b = Array.from(w.document.querySelectorAll(`[class*="st-key-${KEYED[label]}"] button`)).find(usable)
      || Array.from(w.document.querySelectorAll('button')).find(
        (x) => x.innerText.trim().startsWith(label) && usable(x));
    if (b) b.click();
  };
  w.document.addEventListener('keydown', (e) => {
    const t = e.target && e.target.tagName;
    if (t === 'INPUT' || t === 'TEXTAREA' || t === 'SELECT' || e.altKey || e.ctrlKey || e.metaKey) return;
    if (!w.document.querySelector('.st-key-hcc_slide_counter')) return;
    if (['ArrowRight', 'PageDown', ' '].includes(e.key)) { e.preventDefault(); click('Next ▶'); }
    else if (['ArrowLeft', 'PageUp'].includes(e.key)) { e.preventDefault(); click('◀ Previous'); }
    else if (e.key === 'Escape') { e.preventDefault(); click('✕ Exit'); }
  });
})();
</script>"""


@dataclass(frozen=True, eq=False)
class Slide:
    """One result on one screen: a figure or a table (already in words for a reader), with a title."""

    title: str
    figure: go.Figure | None = None
    table: pd.DataFrame | None = None


def presenting() -> bool:
    """Whether presentation mode is on in this session."""
    return bool(st.session_state.get(StateKeys.PRESENT))


def presentation_toggle() -> None:
    """The sidebar toggle, started from the URL's ``?present=1`` and written back to it."""
    if StateKeys.PRESENT not in st.session_state:
        st.session_state[StateKeys.PRESENT] = st.query_params.get(PARAM) == "1"
    st.sidebar.toggle(tr("Presentation mode"), key=StateKeys.PRESENT,
                      help=tr("For a tumor-board screen: one result per screen in large type, settings and sidebar "
                              "hidden; arrow keys, Page Up/Down or Space step through the results, Esc leaves. "
                              "The link keeps it (?present=1)."))
    if presenting():
        if st.query_params.get(PARAM) != "1":
            st.query_params[PARAM] = "1"
        st.html(_CSS)
    elif PARAM in st.query_params:
        del st.query_params[PARAM]


def on_screen(fig: go.Figure, caption: str) -> go.Figure:
    """``fig`` as shown now: in presentation style (with the cohort line ``caption``) when presenting."""
    return presentation_style(fig, caption) if presenting() else fig


def table_slides(title: str, table: pd.DataFrame, rows: int | None = None) -> list[Slide]:
    """``table`` as one slide, or several of ``rows`` rows each titled "title (1/3)", "title (2/3)" …
    (default :data:`ROWS_PER_SLIDE`, or :data:`ROWS_PER_WIDE_SLIDE` for a table of many columns)."""
    rows = rows or (ROWS_PER_WIDE_SLIDE if len(table.columns) >= WIDE_COLUMNS else ROWS_PER_SLIDE)
    if len(table) <= rows:
        return [Slide(title, table=table)]
    parts = [table.iloc[i:i + rows] for i in range(0, len(table), rows)]
    return [Slide(tr("{title} ({i}/{n})", title=title, i=i, n=len(parts)), table=part)
            for i, part in enumerate(parts, start=1)]


def _exit() -> None:
    st.session_state[StateKeys.PRESENT] = False
    if PARAM in st.query_params:
        del st.query_params[PARAM]


def _neighbour(step: int):
    """The page ``step`` places after (or before) the current one in the page registry, if any."""
    current = st.session_state.get(StateKeys.PRESENT_PAGE)
    paths = [p.path for p in PAGES]
    if current not in paths:
        return None
    i = paths.index(current) + step
    return PAGES[i] if 0 <= i < len(PAGES) else None


def present(page: str, slides: list[Slide], caption: str) -> None:
    """Show this page's slides one at a time, then stop the page.

    ``page``: the page's script path (``pages/survival.py``), which keys the current slide;
    ``caption``: the cohort line, the subtitle of every figure and the line under every table.
    """
    state = st.session_state
    state[StateKeys.PRESENT_PAGE] = page
    positions = state.setdefault(StateKeys.PRESENT_SLIDE, {})
    if not isinstance(positions, dict):
        positions = state[StateKeys.PRESENT_SLIDE] = {}
    if not slides:
        slides = [Slide(tr("Nothing to present on this page"),
                        table=pd.DataFrame({"": [tr("No result for this cohort.")]}))]
    index = min(max(int(positions.get(page, 0)), 0), len(slides) - 1)
    before, after = _neighbour(-1), _neighbour(1)

    def go_to(i: int) -> None:
        positions[page] = i

    counter, prev_col, next_col, exit_col = st.columns([7, 1.3, 1.3, 1.6], vertical_alignment="bottom")
    with counter.container(key=COUNTER_KEY):
        st.markdown(tr("**{i} / {n} · {title}**", i=index + 1, n=len(slides), title=md(slides[index].title)))
    # A step within the page and a step to another page are different buttons (keys): a click on the
    # one must not count as a click on the other when the slide it lands on is the last.
    if index > 0:
        prev_col.button(tr(PREVIOUS), width="stretch", on_click=guarded(go_to, tr("Going back a slide")), args=(index - 1,),
                        key="present_prev")
    elif prev_col.button(tr(PREVIOUS), width="stretch", key="present_prev_page", disabled=before is None,
                         help=None if before is None else tr("Back to {page}", page=tr(before.title))):
        st.switch_page(before.path, query_params={PARAM: "1"})  # the page switch forgets the toggle's state
    if index < len(slides) - 1:
        next_col.button(tr(NEXT), width="stretch", on_click=guarded(go_to, tr("Going to the next slide")), args=(index + 1,),
                        key="present_next", type="primary")
    elif next_col.button(tr(NEXT), width="stretch", key="present_next_page", type="primary", disabled=after is None,
                         help=None if after is None else tr("On to {page}", page=tr(after.title))):
        st.switch_page(after.path, query_params={PARAM: "1"})
    exit_col.button(tr(EXIT), width="stretch", on_click=guarded(_exit, tr("Leaving presentation mode")), key="present_exit",
                    help=tr("Leave presentation mode (Esc)"))
    st.html(_KEYS_JS, unsafe_allow_javascript=True)

    slide = slides[index]
    if slide.figure is not None:
        st.plotly_chart(presentation_style(slide.figure, caption), theme=None, key="present_chart",
                        config={"displaylogo": False, "displayModeBar": False})
    elif slide.table is not None:
        st.table(md_table(slide.table), hide_index=True)
        st.caption(md(caption))
    st.stop()

