"""Journey: a clinician uploads a messy export, fixes the mapping in the browser, and sees curves."""

from __future__ import annotations

import io

import pandas as pd
import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

from tests.e2e.conftest import ARTIFACTS, download, upload_on_data_page
from tests.messy import messy_export

pytestmark = pytest.mark.e2e
WAIT_MS = 60_000


def test_upload_messy_export_fix_mapping_see_curves(page, server_url, tmp_path) -> None:
    page.set_default_timeout(WAIT_MS)  # clicks wait as long as the waits on a loaded CI machine
    table = pd.read_csv(io.BytesIO(messy_export(200)), dtype=str, keep_default_na=False)
    table.loc[5, "Age (years)"] = "sixty"  # one unreadable value: a warning in the validation report
    path = tmp_path / "registry_export.csv"
    path.write_bytes(table.to_csv(index=False).encode("utf-8"))
    upload_on_data_page(page, server_url, path)
    page.get_by_text("No column is mapped to the required start_1l").wait_for(timeout=WAIT_MS)
    page.screenshot(path=ARTIFACTS / "13_mapping_needed.png", full_page=True)

    # Which column holds start_1l? -> "Tx begin"
    page.get_by_text("Which column holds").first.wait_for(timeout=WAIT_MS)
    _choose(page, "Which column holds", "Tx begin")
    # The start dates are all ambiguous: answer month/day/year.
    page.get_by_text("month/day/year (03/15/2021)").first.click()
    # The names column blocks analysis until dropped.
    radios = page.locator('[data-testid="stRadio"]').filter(has_text="Patient name")
    radios.get_by_text("Drop", exact=True).click()

    page.locator('[data-testid="stSidebar"]').get_by_text("Uploaded file: registry_export.csv").wait_for(
        timeout=WAIT_MS)
    page.get_by_text("Save this mapping (JSON)").first.wait_for(timeout=WAIT_MS)
    report = download(page, page.get_by_text("Download the validation report")).read_text(encoding="utf-8")
    assert "sixty" in report and "unreadable number" in report and table.loc[5, "Patient ID"] in report
    page.screenshot(path=ARTIFACTS / "14_mapping_done.png", full_page=True)

    page.locator('[data-testid="stSidebar"]').get_by_text("Survival").click()
    page.locator(".js-plotly-plot").first.wait_for(timeout=WAIT_MS)
    page.get_by_text("registry_export.csv").first.wait_for(timeout=WAIT_MS)
    page.get_by_text("(ATZ_BEV): n =").first.wait_for(timeout=WAIT_MS)  # the KM legend
    page.screenshot(path=ARTIFACTS / "15_survival_from_mapped_export.png", full_page=True)


def _choose(page, label: str, option: str, attempts: int = 4) -> None:
    """Pick ``option`` in the selectbox whose label contains ``label``, typing to filter the list.

    Retried: a rerun of the page that lands while the list is open closes it again."""
    box = page.locator('[data-testid="stSelectbox"]').filter(has_text=label).first.get_by_role("combobox")
    for attempt in range(attempts):
        box.click()
        box.fill(option)
        choice = page.get_by_role("option", name=option, exact=True)
        try:
            choice.click(timeout=10_000)
            return
        except PlaywrightTimeoutError:  # the list closed under us
            if attempt == attempts - 1:
                raise
