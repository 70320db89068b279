"""The competing-risks and patient-pathway figures render in a real browser (normal and presentation
mode). Screenshots: tests/e2e/artifacts/competing_*.png."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from hcc.cohort.competing import COMPETING, STATES
from tests.e2e.conftest import ARTIFACTS, next_slide, settle

pytestmark = pytest.mark.e2e
WAIT_MS = 90_000
TITLES = ("Second line after progression (n", "First-line failure (n",
          "Where patients are after first-line start")


def _figure(page, title: str):
    return page.locator(".js-plotly-plot").filter(has=page.locator(".gtitle", has_text=title))


def _check(page, title: str, shot: str) -> None:
    """The figure titled ``title`` is drawn with its stacked areas (3 regimens x 3 bands or 4 states)."""
    figure = _figure(page, title)
    expect(figure).to_have_count(1, timeout=WAIT_MS)
    figure.scroll_into_view_if_needed()
    assert figure.locator("path.js-fill").count() >= 9
    figure.screenshot(path=ARTIFACTS / shot)
    if title == TITLES[0]:
        expect(figure.locator(".legendtext", has_text="Second line started")).to_have_count(1)
        expect(figure.locator("text", has_text="At risk")).to_have_count(1)
    if title == TITLES[2]:
        for state in STATES:
            expect(figure.locator(".legendtext", has_text=state)).to_have_count(1)


def test_competing_and_pathway_figures_render_on_the_page(browser, server_url) -> None:
    context = browser.new_context(viewport={"width": 1440, "height": 1000})
    page = context.new_page()
    try:
        page.goto(f"{server_url}/secondline")
        page.get_by_role("heading", name="After first line").wait_for(timeout=WAIT_MS)
        for i, title in enumerate(TITLES):
            _check(page, title, f"competing_normal_{i}.png")
        assert page.locator('[data-testid="stException"]').count() == 0
    finally:
        context.close()


def test_competing_and_pathway_figures_are_slides_in_presentation_mode(browser, server_url) -> None:
    """At 1280x720 the three figures are slides of the page (reached with the arrow key), each fitting
    the screen: the figure's bottom edge is inside the viewport."""
    slides = [d.title for d in COMPETING] + ["Patient pathway"]  # the slide titles of pages/secondline.py
    context = browser.new_context(viewport={"width": 1280, "height": 720})
    page = context.new_page()
    try:
        page.goto(f"{server_url}/secondline?present=1")
        counter = page.locator(".st-key-hcc_slide_counter")
        counter.wait_for(timeout=WAIT_MS)
        # the key script (ui/present.py) is registered once the page has drawn it: a key pressed before
        # that is lost, under load too
        page.wait_for_function("() => window.__hccSlideKeys === true", timeout=WAIT_MS)
        for i, (slide, title) in enumerate(zip(slides, TITLES)):
            for _ in range(14):
                if slide in counter.inner_text():
                    break
                settle(page)
                next_slide(page, counter.inner_text())
            assert slide in counter.inner_text(), (slide, counter.inner_text())
            _check(page, title, f"competing_present_{i}.png")
            box = _figure(page, title).bounding_box()
            assert box is not None and box["y"] + box["height"] <= 720 + 1, (title, box)
        assert page.locator('[data-testid="stException"]').count() == 0
    finally:
        context.close()
