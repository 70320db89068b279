"""Main user journeys in a real browser. Screenshots land in tests/e2e/artifacts/."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from hcc.analysis import analyze_endpoint
from hcc.cohort.rules import MAIN, PRESETS, apply_to_registry
from hcc.ingest.registry import load_demo
from hcc.formatting import format_months
from hcc.schema import Endpoint, regimen_name
from tests.e2e.conftest import ARTIFACTS, download, upload_on_data_page
from ui.common import PAGES

pytestmark = pytest.mark.e2e
WAIT_MS = 60_000


def _expected_legend_medians() -> list[str]:
    """Legend text the Survival page must show for the demo's main cohort, computed by hcc itself."""
    cohort = apply_to_registry(load_demo(), PRESETS[MAIN])
    summary = analyze_endpoint(cohort, Endpoint.OS)
    return [f"{regimen_name(g.group)}: n = {g.n}, median {format_months(g.median)} mo" for g in summary.groups]


def test_deep_link_on_fresh_server_goes_through_the_router(page, fresh_server_url) -> None:
    """First request of a new server is a deep link: the page must still get app.py's sidebar."""
    page.goto(f"{fresh_server_url}/survival")
    page.locator(".js-plotly-plot").first.wait_for(timeout=WAIT_MS)
    sidebar = page.locator('[data-testid="stSidebar"]')
    sidebar.get_by_role("button", name="Main cohort (study)").wait_for(timeout=WAIT_MS)
    sidebar.get_by_text("Overview").wait_for(timeout=WAIT_MS)
    assert sidebar.get_by_text("_common").count() == 0 and sidebar.get_by_text("common").count() == 0
    # pages/ holds only the page scripts (shared UI code is in ui/): the navigation lists exactly them
    assert sidebar.locator('[data-testid="stSidebarNavLink"]').count() == len(PAGES)
    page.screenshot(path=ARTIFACTS / "00_deep_link_survival.png", full_page=True)


def test_open_app_then_survival_page_shows_demo_numbers(page, server_url) -> None:
    page.goto(server_url)
    page.get_by_text("HCC Outcomes Explorer").first.wait_for(timeout=WAIT_MS)
    page.get_by_text("synthetic demo registry").first.wait_for(timeout=WAIT_MS)
    page.screenshot(path=ARTIFACTS / "01_overview.png", full_page=True)

    page.goto(f"{server_url}/survival")
    page.locator(".js-plotly-plot").first.wait_for(timeout=WAIT_MS)
    for legend in _expected_legend_medians():
        page.get_by_text(legend).first.wait_for(timeout=WAIT_MS)
    assert page.get_by_text("Log-rank p").count() >= 1
    page.screenshot(path=ARTIFACTS / "02_survival_os.png", full_page=True)

    # A click on the PFS row of the all-endpoints table opens PFS.
    grid = page.locator('[data-testid="stDataFrame"]').first
    box = grid.bounding_box()
    page.mouse.click(box["x"] + 12, box["y"] + 35 + 2 * 35 - 17)  # row 2 (PFS) selection checkbox
    page.get_by_text("Progression-free survival (PFS)", exact=True).first.wait_for(timeout=WAIT_MS)
    page.locator(".js-plotly-plot").get_by_text("Progression-free survival by first-line regimen").wait_for(
        timeout=WAIT_MS)
    page.locator(".js-plotly-plot").first.screenshot(path=ARTIFACTS / "02b_survival_pfs_figure.png")


def test_upload_messy_file_then_survival_uses_it(page, server_url, tmp_path) -> None:
    """Upload a CSV with one unusable row: the report names the row; Survival shows only this file."""
    from tests.conftest import registry_csv
    from hcc.schema import Col

    rows = [{Col.REGIMEN_1L: r, Col.DATE_DEATH: f"2020-0{3 + i % 6}-01", Col.DATE_LAST_FOLLOWUP: f"2020-0{3 + i % 6}-01"}
            for i, r in enumerate(["SOR", "ATZ_BEV"] * 5)]
    rows.append({Col.START_1L: "31/12/2019"})
    path = tmp_path / "messy_export.csv"
    path.write_bytes(registry_csv(rows))

    upload_on_data_page(page, server_url, path)
    page.get_by_text("Uploaded file: messy_export.csv").first.wait_for(timeout=WAIT_MS)
    page.get_by_text("1 row-excluding problem").first.wait_for(timeout=WAIT_MS)
    page.locator('[data-testid="stSidebar"]').get_by_text("Uploaded file: messy_export.csv").wait_for(timeout=WAIT_MS)
    report = download(page, page.get_by_text("Download the validation report")).read_text(encoding="utf-8")
    assert "31/12/2019" in report and ",12," in report  # the value and its spreadsheet row
    page.screenshot(path=ARTIFACTS / "03_data_upload.png", full_page=True)

    page.locator('[data-testid="stSidebar"]').get_by_text("Survival").click()
    page.locator(".js-plotly-plot").first.wait_for(timeout=WAIT_MS)
    page.get_by_text("Sorafenib (SOR): n = 5,").first.wait_for(timeout=WAIT_MS)
    page.get_by_text("Atezolizumab + bevacizumab (ATZ_BEV): n = 5,").first.wait_for(timeout=WAIT_MS)
    page.screenshot(path=ARTIFACTS / "04_survival_uploaded.png", full_page=True)


def test_cohort_presets_and_shared_link(browser, page, server_url) -> None:
    """Main ↔ Full changes the diagram and n; a rule changed in the sidebar goes into the URL, and the
    copied URL opened in a fresh browser context shows the same cohort."""
    page.goto(f"{server_url}/cohort")
    caption = page.get_by_text("Main cohort (study) · SOR").first
    caption.wait_for(timeout=WAIT_MS)
    sidebar = page.locator('[data-testid="stSidebar"]')
    sidebar.get_by_role("button", name="Full cohort").click()
    page.get_by_text("Full cohort · SOR").first.wait_for(timeout=WAIT_MS)
    expect(page.locator(".js-plotly-plot").get_by_text("concomitant locoregional")).to_have_count(0, timeout=WAIT_MS)
    sidebar.get_by_role("button", name="Main cohort (study)").click()
    page.get_by_text("Main cohort (study) · SOR").first.wait_for(timeout=WAIT_MS)
    page.locator(".js-plotly-plot").get_by_text("concomitant locoregional therapy").first.wait_for(timeout=WAIT_MS)

    sidebar.get_by_text("Cohort rules").click()
    sidebar.get_by_text("Exclude clinical-trial entry after first line").click()
    page.get_by_text("Full cohort + no concomitant LRT, no inter-line LRT · SOR").first.wait_for(timeout=WAIT_MS)
    page.wait_for_function("() => window.location.search.includes('exclude_interline_lrt=yes') && "
                           "!window.location.search.includes('trial')", timeout=WAIT_MS)
    shown = page.get_by_text("Full cohort + no concomitant LRT, no inter-line LRT · SOR").first.inner_text()
    url = page.url
    page.screenshot(path=ARTIFACTS / "05_cohort_custom.png", full_page=True)

    other = browser.new_context(viewport={"width": 1400, "height": 1000})
    fresh = other.new_page()
    fresh.goto(url)
    fresh.get_by_text(shown).first.wait_for(timeout=WAIT_MS)
    fresh.locator(".js-plotly-plot").first.wait_for(timeout=WAIT_MS)
    fresh.screenshot(path=ARTIFACTS / "06_cohort_from_link.png", full_page=True)
    other.close()


@pytest.mark.parametrize("path, heading, figures", [
    ("response", "Response and survival", 5),
    ("secondline", "After first line", 7),
])
def test_response_and_second_line_pages_render_their_figures(page, server_url, path, heading, figures) -> None:
    page.goto(f"{server_url}/{path}")
    page.get_by_role("heading", name=heading).wait_for(timeout=WAIT_MS)
    expect(page.locator(".js-plotly-plot")).to_have_count(figures, timeout=WAIT_MS)
    assert page.locator('[data-testid="stException"]').count() == 0
    page.screenshot(path=ARTIFACTS / f"07_{path}.png", full_page=True)


def test_exports_download_and_are_not_empty(page, server_url) -> None:
    """Table 1 (CSV, Excel), the cohort rules (JSON) and the data template download with content."""
    import json
    page.goto(f"{server_url}/cohort")
    page.get_by_text("Baseline characteristics").first.wait_for(timeout=WAIT_MS)
    got = {}
    for label in ("Table 1 (CSV)", "Table 1 (Excel)", "Download the cohort rules (JSON)"):
        got[label] = download(page, page.get_by_role("button", name=label)).read_bytes()
    assert got["Table 1 (CSV)"].startswith(b"Characteristic,Level") and len(got["Table 1 (CSV)"]) > 500
    assert got["Table 1 (Excel)"][:2] == b"PK"
    assert json.loads(got["Download the cohort rules (JSON)"])["exclude_concomitant_lrt"] is True
    page.goto(f"{server_url}/data")
    page.get_by_role("heading", name="Synthetic demo registry (not real patients)").wait_for(timeout=WAIT_MS)
    page.get_by_text("Data format: the columns the app reads").click()
    template = download(page, page.get_by_role("button", name="Download an empty template (CSV header)"))
    assert template.read_text().startswith("patient_id,center,regimen_1l")
