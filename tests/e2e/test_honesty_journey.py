"""Journey (issue 15): a registry whose locoregional-therapy columns were not recognised is analysed
under the Main preset; the Survival page and the KM figure's subtitle say which rules were not applied;
the clinician maps the two columns from the Data page's list and the study's 612 patients return."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

from tests.e2e.conftest import ARTIFACTS, upload_on_data_page
from tests.test_app_honesty import NOT_APPLIED, demo_without_lrt_names

pytestmark = pytest.mark.e2e
WAIT_MS = 60_000
ONE_LINE = 1440


def _choose(page, label: str, option: str, attempts: int = 4) -> None:
    """Pick ``option`` in the selectbox whose label contains ``label`` (retried: a rerun that lands
    while the list is open closes it)."""
    box = page.locator('[data-testid="stSelectbox"]').filter(has_text=label).first.get_by_role("combobox")
    for attempt in range(attempts):
        box.click()
        box.fill(option)
        try:
            page.get_by_role("option", name=option, exact=True).click(timeout=10_000)
            return
        except PlaywrightTimeoutError:
            if attempt == attempts - 1:
                raise


def _survival(page, attempts: int = 3) -> None:
    """Open the Survival page from the sidebar once the current page has finished running (a click
    that lands while the Data page reloads the file can be lost: retried)."""
    page.locator('[data-testid="stStatusWidget"]').wait_for(state="hidden", timeout=WAIT_MS)
    for attempt in range(attempts):
        page.locator('[data-testid="stSidebar"]').get_by_role("link", name="Survival").click()
        try:
            page.locator(".js-plotly-plot").first.wait_for(timeout=WAIT_MS)
            return
        except PlaywrightTimeoutError:
            if attempt == attempts - 1:
                raise


def test_rules_not_applied_are_said_then_mapping_restores_612(browser, server_url, tmp_path) -> None:
    context = browser.new_context(viewport={"width": ONE_LINE, "height": 1000})
    page = context.new_page()
    page.set_default_timeout(WAIT_MS)
    path = tmp_path / "hospital_export.csv"
    path.write_bytes(demo_without_lrt_names())
    upload_on_data_page(page, server_url, path)
    page.get_by_text("so the Main cohort (study) rule excluding concomitant locoregional therapy cannot be "
                     "applied").first.wait_for(timeout=WAIT_MS)
    page.locator('[data-testid="stSidebar"]').get_by_text("Uploaded file: hospital_export.csv").wait_for(
        timeout=WAIT_MS)
    page.screenshot(path=ARTIFACTS / "40_preset_column_unmapped.png", full_page=True)

    _survival(page)
    main = page.locator('[data-testid="stMain"]')
    main.get_by_text(NOT_APPLIED + " · SOR").first.wait_for(timeout=WAIT_MS)
    warning = main.locator('[data-testid="stAlert"]').filter(has_text="2 of 3 rules not applied").first
    warning.wait_for(timeout=WAIT_MS)
    assert "are therefore still in the cohort" in warning.inner_text()
    # the KM figure's subtitle (SVG text) names the rules not applied
    page.locator(".js-plotly-plot .gtitle").filter(has_text="2 of 3 rules not applied").first.wait_for(
        timeout=WAIT_MS)
    page.screenshot(path=ARTIFACTS / "41_survival_rules_not_applied.png", full_page=True)

    page.locator('[data-testid="stSidebar"]').get_by_role("link", name="Data", exact=True).click()
    _choose(page, "Which column holds locoregional therapy given together with first line", "LRT (1L)")
    page.locator('[data-testid="stSelectbox"]').filter(
        has_text="Which column holds locoregional therapy between first and second line").first.wait_for()
    _choose(page, "Which column holds locoregional therapy between first and second line", "LRT (1L to 2L)")
    page.get_by_text("No column is mapped to").first.wait_for(state="detached", timeout=WAIT_MS)

    _survival(page)
    caption = main.get_by_text(re.compile(r"^Main cohort \(study\) · SOR \d+")).first
    caption.wait_for(timeout=WAIT_MS)
    counts = [int(n) for n in re.findall(r"(?:SOR|LEN|ATZ_BEV) (\d+)", caption.inner_text())]
    assert sum(counts) == 612
    assert main.locator('[data-testid="stAlert"]').filter(has_text="not applied").count() == 0
    page.screenshot(path=ARTIFACTS / "42_survival_after_mapping.png", full_page=True)
    context.close()


def _subtitle_fits(page, where: str) -> list[str]:
    """Measure the KM figure as drawn: the subtitle naming the rules not applied is there, on more
    than one line, and no text of the figure (title and subtitle lines included) runs past its box.
    Returns the title's text lines."""
    from tests.e2e.conftest import settle
    from tests.e2e.test_layout import _MEASURE, _check_figures

    settle(page)
    page.locator(".js-plotly-plot .gtitle").filter(has_text="2 of 3 rules not applied").first.wait_for(
        timeout=WAIT_MS)
    figures = page.evaluate(_MEASURE)
    assert figures, where
    _check_figures(figures, where)  # includes: no text drawn outside the figure's box
    title = page.evaluate("""() => {
      const plot = Array.from(document.querySelectorAll('.js-plotly-plot')).find(
        (p) => (p.querySelector('.g-gtitle') || {}).textContent?.includes('not applied'));
      const right = plot.querySelector('.svg-container').getBoundingClientRect().right;
      const spans = Array.from(plot.querySelectorAll('.g-gtitle text tspan.line'));
      const parts = spans.length ? spans : Array.from(plot.querySelectorAll('.g-gtitle text'));
      return {right: right, lines: parts.map((t) => [t.textContent, t.getBoundingClientRect().right])};
    }""")
    for text, line_right in title["lines"]:
        assert line_right <= title["right"] + 2, (where, text, line_right, title["right"])
    lines = [text for text, _ in title["lines"]]
    return lines


def test_long_cohort_subtitle_is_wrapped_inside_the_km_figure(browser, server_url, tmp_path) -> None:
    """The KM subtitle "Main cohort (study) — 2 of 3 rules not applied: …" is wrapped by apply_layout
    within the figure at 1440×1000 and on the presentation slide at 1280×720: no line is cut at the
    figure's right edge (bounding boxes of every title/subtitle line)."""
    context = browser.new_context(viewport={"width": ONE_LINE, "height": 1000})
    page = context.new_page()
    page.set_default_timeout(WAIT_MS)
    path = tmp_path / "hospital_export.csv"
    path.write_bytes(demo_without_lrt_names())
    upload_on_data_page(page, server_url, path)
    page.locator('[data-testid="stSidebar"]').get_by_text("Uploaded file: hospital_export.csv").wait_for(
        timeout=WAIT_MS)
    _survival(page)
    lines = _subtitle_fits(page, "survival 1440x1000")
    assert any("2 of 3 rules not applied" in line for line in lines), lines
    km = page.locator(".js-plotly-plot").filter(has=page.locator(".g-gtitle", has_text="not applied")).first
    km.scroll_into_view_if_needed()
    page.screenshot(path=ARTIFACTS / "43_survival_long_subtitle_1440.png")

    page.set_viewport_size({"width": 1280, "height": 720})
    page.locator('[data-testid="stSidebar"]').get_by_text("Presentation mode").click()
    page.locator(".st-key-hcc_slide_counter").wait_for(timeout=WAIT_MS)
    lines = _subtitle_fits(page, "survival presentation 1280x720")
    assert any("2 of 3 rules not applied" in line for line in lines), lines
    page.screenshot(path=ARTIFACTS / "44_survival_long_subtitle_present_1280.png")
    context.close()
