"""Two users press "Prepare files" on the same figure at the same moment: each download holds that
user's own regimens and not the other's (figure export used to share one process-wide browser whose
result queue handed one session's figure to the other)."""

from __future__ import annotations

import subprocess
import tempfile
import time
import uuid
from pathlib import Path

import pytest
from playwright.sync_api import expect

from hcc.schema import Col
from tests.conftest import registry_csv
from tests.e2e.conftest import ARTIFACTS, ROOT, download, upload_on_data_page
from tests.e2e.test_isolation import _files_containing

pytestmark = pytest.mark.e2e
WAIT_MS = 90_000
PREPARE = "Prepare files (PNG 300 dpi, SVG, PDF)"
#: Size presets pressed in turn: each change asks for new files, so every round is a fresh export.
ROUNDS = ("Journal column (89 mm)", "Slide 16:9 (13.3 × 7.5 in)", "Journal column (89 mm)")


def _pdf_text(pdf: bytes) -> bytes:
    return subprocess.run(["pdftotext", "-q", "-", "-"], input=pdf, capture_output=True, check=True,
                          timeout=60).stdout


def test_two_sessions_preparing_the_same_figure_at_once_get_their_own_files(browser, server_url, tmp_path) -> None:
    started = time.time() - 1
    tag = uuid.uuid4().hex[:8].upper()
    markers = [f"MKA{tag}", f"MKB{tag}"]  # a regimen name of each user's registry: it is in the KM legend
    pages = []
    contexts = [browser.new_context(viewport={"width": 1400, "height": 1200}, accept_downloads=True)
                for _ in markers]
    try:
        for context, marker in zip(contexts, markers):
            rows = [{Col.REGIMEN_1L: ("SOR", marker)[i % 2], Col.DATE_DEATH: f"2020-{3 + i % 9:02d}-01",
                     Col.DATE_LAST_FOLLOWUP: f"2020-{3 + i % 9:02d}-01"} for i in range(12)]
            path = tmp_path / f"{marker.lower()}.csv"
            path.write_bytes(registry_csv(rows))
            page = context.new_page()
            upload_on_data_page(page, server_url, path)
            pages.append((page, path.name))
        for page, name in pages:
            sidebar = page.locator('[data-testid="stSidebar"]')
            expect(sidebar.get_by_text(f"Uploaded file: {name}")).to_be_visible(timeout=WAIT_MS)
            sidebar.locator('[data-testid="stSidebarNav"]').get_by_role("link", name="Survival", exact=True).click()
        for page, _ in pages:
            page.get_by_text("Download figure").first.wait_for(timeout=WAIT_MS)
            page.get_by_text("Download figure").first.click()

        for round_no, size in enumerate(ROUNDS):
            for page, _ in pages:
                page.get_by_text(size, exact=True).first.click()
                page.get_by_role("button", name=PREPARE).wait_for(timeout=WAIT_MS)
            # both clicks are sent before either export is awaited: the server runs them together
            for page, _ in pages:
                page.get_by_role("button", name=PREPARE).click()
            for (page, _), own, other in zip(pages, markers, reversed(markers)):
                svg = download(page, page.get_by_role("button", name="SVG", exact=True).first).read_bytes()
                pdf = _pdf_text(download(page, page.get_by_role("button", name="PDF", exact=True).first).read_bytes())
                for what, data in (("SVG", svg), ("PDF", pdf)):
                    assert own.encode() in data, f"round {round_no}: {what} lacks this session's regimen {own}"
                    assert other.encode() not in data, f"round {round_no}: {what} holds the other session's {other}"
        for page, _ in pages:
            assert page.locator('[data-testid="stException"]').count() == 0
            assert page.get_by_text("Something went wrong").count() == 0
        pages[0][0].screenshot(path=ARTIFACTS / "11_concurrent_export.png")
    finally:
        for context in contexts:
            context.close()
    # the server's export browsers left nothing of either figure on its disk (downloads are client side)
    tmp = Path(tempfile.gettempdir())
    skip = [tmp_path, *tmp.glob("playwright*"), ARTIFACTS]
    assert _files_containing([m.encode() for m in markers], [ROOT, tmp], started, skip) == []
