"""Presentation mode (ui/present.py) on every page, in AppTest: one result per screen with a slide
counter, Next / Previous stepping (and on to the next page past the last slide), Exit, no settings.
Geometry at 1280×720 and 1920×1080 in a real browser: tests/e2e/test_layout.py."""

from __future__ import annotations

import re

import pandas as pd
import pytest

from tests.apptest import open_page
from ui.common import PAGES
from ui.keys import StateKeys
from ui.present import EXIT, NEXT, PREVIOUS, ROWS_PER_SLIDE, ROWS_PER_WIDE_SLIDE, table_slides

_COUNTER = re.compile(r"\*\*(\d+) / (\d+) · ")


def _counter(at) -> tuple[int, int]:
    found = [m.groups() for m in (_COUNTER.match(e.value) for e in at.markdown) if m]
    assert len(found) == 1, [e.value[:80] for e in at.markdown]
    return int(found[0][0]), int(found[0][1])


def _results(at) -> int:
    """Figures and tables on the screen."""
    return len(at.get("plotly_chart")) + len(at.table) + len(at.dataframe)


@pytest.mark.parametrize("page", [p.path for p in PAGES])
def test_every_page_presents_one_result_per_screen(page) -> None:
    """Opened with ?present=1: a counter "1 / N", exactly one figure or table, no page title, no settings
    form, no download button, and the Previous / Next / Exit buttons."""
    at = open_page(page, query={"present": "1"})
    index, total = _counter(at)
    assert index == 1 and total >= 1
    assert _results(at) == 1
    assert not at.title  # the slide's header and the figure carry the title
    assert not at.get("download_button")
    labels = [b.label for b in at.button]
    assert {PREVIOUS, NEXT, EXIT} <= set(labels)


def test_next_and_previous_step_through_the_slides() -> None:
    at = open_page("pages/response.py", query={"present": "1"})
    _, total = _counter(at)
    for expected in range(2, total + 1):
        next(b for b in at.button if b.label == NEXT).click()
        at.run()
        assert _counter(at) == (expected, total)
    next(b for b in at.button if b.label == PREVIOUS).click()
    at.run()
    assert _counter(at) == (total - 1, total)
    assert at.session_state[StateKeys.PRESENT_SLIDE]["pages/response.py"] == total - 2  # kept per page
    # Past the last slide Next opens the next page (st.switch_page, which AppTest does not follow):
    # tests/e2e/test_layout.py steps across pages with the keyboard.


def test_exit_leaves_presentation_mode() -> None:
    at = open_page("pages/survival.py", query={"present": "1"})
    next(b for b in at.button if b.label == EXIT).click()
    at.run()
    assert at.session_state[StateKeys.PRESENT] is False
    assert "present" not in at.query_params
    assert at.title and len(at.get("plotly_chart")) == 1  # the page as usual
    assert not [e for e in at.markdown if _COUNTER.match(e.value)]


def test_the_cohort_page_presents_table_1_over_several_slides() -> None:
    at = open_page("pages/cohort.py", query={"present": "1"})
    _, total = _counter(at)
    assert total >= 3  # the flow diagram, then Table 1 in parts
    next(b for b in at.button if b.label == NEXT).click()
    at.run()
    assert len(at.table) == 1 and len(at.table[0].value) <= ROWS_PER_SLIDE


def test_the_key_script_clicks_the_buttons_by_their_labels() -> None:
    """The page script is a constant (no data in st.html) that names the same buttons as the page."""
    from ui.present import _KEYS_JS

    for label in (NEXT, PREVIOUS, EXIT):
        assert f"click('{label}')" in _KEYS_JS
    assert "ArrowRight" in _KEYS_JS and "PageDown" in _KEYS_JS and "Escape" in _KEYS_JS and "PageUp" in _KEYS_JS
    assert "http" not in _KEYS_JS and "src=" not in _KEYS_JS  # nothing fetched


def test_long_tables_are_split_with_numbered_titles() -> None:
    table = pd.DataFrame({"a": range(25)})
    slides = table_slides("T", table)
    assert [s.title for s in slides] == ["T (1/3)", "T (2/3)", "T (3/3)"]
    assert pd.concat([s.table for s in slides])["a"].tolist() == list(range(25))
    wide = pd.DataFrame({f"c{i}": range(10) for i in range(9)})
    assert all(len(s.table) <= ROWS_PER_WIDE_SLIDE for s in table_slides("W", wide))
    assert [s.title for s in table_slides("S", pd.DataFrame({"a": [1]}))] == ["S"]
