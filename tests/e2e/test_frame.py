"""The app's frame in a real browser: names from an upload make no request leave the app's host (the
offline check too), and the validation report's download URL stops working seconds after it is used."""

from __future__ import annotations

import time
import urllib.error
import urllib.request
from urllib.parse import urlparse

import pytest

from hcc.schema import Col
from ui.downloads import SWEEP_AFTER_S
from tests.conftest import registry_csv
from tests.e2e.conftest import ARTIFACTS, download, upload_on_data_page
from tests.test_app_escaping import evil_csv

pytestmark = pytest.mark.e2e
WAIT_MS = 60_000
HEADINGS = {"Overview": "HCC Outcomes Explorer", "Cohort": "Cohort", "Survival": "Survival by first-line regimen",
            "Response": "Response and survival", "After first line": "After first line",
            "Adjusted comparisons": "Adjusted comparisons", "Report & slides": "Report & slides", "Data": "Data"}
EVIL_NAME = "[a](javascript:alert(1))<img src=x>$x$.csv"  # no "/" in a file name; the URLs are in the file


def test_hostile_names_make_no_request_to_another_host(browser, server_url, tmp_path) -> None:
    """Regimens, centers and columns named ``![x](http://evil.invalid/a.png)``, ``<img src=x>``, ``$x$`` … on
    every page: every request the browser makes goes to the app's own host (no image from elsewhere, no
    icon font from a CDN), and the page holds no such image or javascript: link."""
    path = tmp_path / EVIL_NAME
    path.write_bytes(evil_csv())
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    requests: list[str] = []
    context.on("request", lambda request: requests.append(request.url))
    try:
        page = context.new_page()
        upload_on_data_page(page, server_url, path)
        sidebar = page.locator('[data-testid="stSidebar"]')
        sidebar.get_by_text(f"Uploaded file: {EVIL_NAME}").wait_for(timeout=WAIT_MS)
        for title, heading in HEADINGS.items():
            sidebar.locator('[data-testid="stSidebarNav"]').get_by_role("link", name=title, exact=True).click()
            page.get_by_role("heading", name=heading, exact=True).first.wait_for(timeout=WAIT_MS)
            page.wait_for_timeout(2000)  # the page finishes drawing; late requests (images, fonts) are recorded
            bad = page.locator('img[src*="evil.invalid"], img[src="x"], a[href^="javascript"]')
            assert bad.count() == 0, (title, bad.first.evaluate("e => e.closest('[data-testid]').outerHTML"))
        page.screenshot(path=ARTIFACTS / "09_hostile_names_data.png", full_page=True)
    finally:
        context.close()
    host = urlparse(server_url).netloc
    elsewhere = sorted({u for u in requests if urlparse(u).scheme in ("http", "https", "ws", "wss")
                        and urlparse(u).netloc != host})
    assert len(requests) > 20, "the browser made requests, and they were recorded"
    assert elsewhere == []


def _status(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status
    except urllib.error.HTTPError as exc:
        return exc.code


def test_the_validation_report_url_dies_soon_after_the_download(browser, server_url, tmp_path) -> None:
    """The report holds patient codes and raw values. Its file is made on click and swept
    2 × SWEEP_AFTER_S later (ui/downloads.py); before, a /media URL outlived a closed tab by
    ~150 s (disconnectedSessionTTL 120 s + Streamlit's two-pass sweep)."""
    rows = [{Col.REGIMEN_1L: r, Col.DATE_DEATH: "2020-06-01", Col.DATE_LAST_FOLLOWUP: "2020-06-01"}
            for r in ("SOR", "LEN") * 3] + [{Col.START_1L: "31/12/2019"}]
    path = tmp_path / "report_lifetime.csv"
    path.write_bytes(registry_csv(rows))
    context = browser.new_context(viewport={"width": 1400, "height": 1000}, accept_downloads=True)
    try:
        page = context.new_page()
        upload_on_data_page(page, server_url, path)
        try:
            page.locator('[data-testid="stSidebar"]').get_by_text("Uploaded file: report_lifetime.csv").wait_for(
                timeout=WAIT_MS)
            page.get_by_text("1 row-excluding problem").first.wait_for(timeout=WAIT_MS)
            button = page.get_by_role("button", name="Download the validation report (CSV)")
            with page.expect_download(timeout=WAIT_MS) as started:
                download(page, button)  # retried if the click lands during a rerun
        except Exception:
            page.screenshot(path=ARTIFACTS / "10_report_lifetime_failed.png", full_page=True)
            raise
        url = started.value.url
        assert "31/12/2019" in started.value.path().read_text(encoding="utf-8")
        assert urlparse(url).path.startswith("/media/"), url
    finally:
        context.close()
    closed = time.monotonic()
    bound = 2 * SWEEP_AFTER_S + 20  # generous: the sweep timers run on a busy 2-core machine
    while _status(url) == 200 and time.monotonic() - closed < bound:
        time.sleep(0.5)
    alive = time.monotonic() - closed
    print(f"validation report URL answered 404 {alive:.1f} s after the tab closed")
    assert _status(url) == 404, f"still served {alive:.0f} s after the tab closed"
