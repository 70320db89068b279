"""Report & slides and figure downloads in a real browser; screenshots in tests/e2e/artifacts/."""

from __future__ import annotations

import io
import json
import re

import pytest
from PIL import Image

from tests.e2e.conftest import ARTIFACTS, download

pytestmark = pytest.mark.e2e
WAIT_MS = 90_000


def _download(page, button_name: str) -> bytes:
    return download(page, page.get_by_role("button", name=button_name, exact=True).first).read_bytes()


def test_report_downloads_and_figure_png(page, server_url) -> None:
    """Build and download the HTML report (its record and numbers inside), then a 300-dpi KM PNG."""
    page.set_viewport_size({"width": 1500, "height": 3000})
    page.goto(f"{server_url}/export")
    page.get_by_text("Statistical analysis (methods paragraph)").wait_for(timeout=WAIT_MS)
    page.get_by_role("button", name="Build HTML report (interactive)").click()
    html = _download(page, "Download HTML report (interactive)").decode("utf-8")
    record = json.loads(re.search(r'id="hcc-reproduce">(.*?)</script>', html, re.S).group(1))
    assert record["data"]["name"] == "demo_registry.csv" and record["cohort_spec"]["exclude_concomitant_lrt"]
    page.screenshot(path=ARTIFACTS / "09_export.png", full_page=True)
    page.goto(f"{server_url}/survival")
    page.get_by_text("Download figure").first.wait_for(timeout=WAIT_MS)
    page.get_by_text("Download figure").first.click()
    page.get_by_role("button", name="Prepare files (PNG 300 dpi, SVG, PDF)").click()
    png = _download(page, "PNG")
    with Image.open(io.BytesIO(png)) as img:
        assert img.size == (4000, 2250) and round(img.info["dpi"][0]) == 300


def test_presentation_mode_link(page, server_url) -> None:
    """?present=1 opens presentation mode: one result per screen, settings hidden."""
    page.set_viewport_size({"width": 1500, "height": 1000})
    page.goto(f"{server_url}/export?present=1")
    page.get_by_role("button", name="Next ▶").wait_for(timeout=WAIT_MS)
    assert page.get_by_text("Statistical analysis (methods paragraph)").count() == 0
    page.get_by_role("button", name="Next ▶").click()
    page.get_by_text("2 / ").first.wait_for(timeout=WAIT_MS)
    page.wait_for_timeout(1500)
    page.screenshot(path=ARTIFACTS / "10_presentation.png")
    assert "present=1" in page.url
