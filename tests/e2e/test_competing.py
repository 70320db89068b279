"""The competing-risks and patient-pathway figures render in a real browser (normal and presentation
mode). Screenshots: tests/e2e/artifacts/competing_*.png."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from hcc.cohort.competing import STATES
from tests.e2e.conftest import ARTIFACTS

pytestmark = pytest.mark.e2e
WAIT_MS = 90_000
TITLES = ("Second line after progression (n", "First-line failure (n",
          "Where patients are after first-line start")


def _figure(page, title: str):
    return page.locator(".js-plotly-plot").filter(has=page.locator(".gtitle", has_text=title))


@pytest.mark.parametrize("present, viewport", [(False, (1440, 1000)), (True, (1280, 720))])
def test_competing_and_pathway_figures_render(browser, server_url, present, viewport) -> None:
    context = browser.new_context(viewport={"width": viewport[0], "height": viewport[1]})
    page = context.new_page()
    try:
        page.goto(f"{server_url}/secondline" + ("?present=1" if present else ""))
        page.get_by_role("heading", name="After first line").wait_for(timeout=WAIT_MS)
        for title in TITLES:
            figure = _figure(page, title)
            expect(figure).to_have_count(1, timeout=WAIT_MS)
            figure.scroll_into_view_if_needed()
            # stacked areas are filled paths; three regimens x (3 bands or 4 states)
            assert figure.locator("path.js-fill").count() >= 9
            mode = "present" if present else "normal"
            figure.screenshot(path=ARTIFACTS / f"competing_{mode}_{TITLES.index(title)}.png")
        cif = _figure(page, TITLES[0])
        expect(cif.locator(".legendtext", has_text="Second line started")).to_have_count(1)
        expect(cif.locator("text", has_text="At risk")).to_have_count(1)
        pathway = _figure(page, TITLES[2])
        for state in STATES:
            expect(pathway.locator(".legendtext", has_text=state)).to_have_count(1)
        assert page.locator('[data-testid="stException"]').count() == 0
    finally:
        context.close()
