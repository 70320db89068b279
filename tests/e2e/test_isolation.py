"""Two users at once, each with their own upload: neither sees the other's patients, on any page,
after reruns; nothing of either upload reaches the disk or the server log."""

from __future__ import annotations

import os
import tempfile
import time
import uuid
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from hcc.schema import Col
from tests.conftest import registry_csv
from tests.e2e.conftest import ARTIFACTS, upload_on_data_page, ROOT

pytestmark = pytest.mark.e2e
WAIT_MS = 60_000
SCAN_MAX_BYTES = 5_000_000          # larger files are not ours (the uploads are < 5 kB)
SKIP_DIRS = {".git", ".venv", "node_modules", "__pycache__"}


def _registry(tag: str, regimens: list[str]) -> tuple[bytes, list[str]]:
    ids = [f"{tag}-{i:02d}" for i in range(1, len(regimens) + 1)]
    rows = [{Col.PATIENT_ID: pid, Col.REGIMEN_1L: r, Col.DATE_DEATH: f"2020-{3 + i % 9:02d}-01",
             Col.DATE_LAST_FOLLOWUP: f"2020-{3 + i % 9:02d}-01"} for i, (pid, r) in enumerate(zip(ids, regimens))]
    return registry_csv(rows), ids


class User:
    """One browser context (one Streamlit session) with its own file."""

    def __init__(self, page: Page, name: str, n: int, counts: dict[str, int], absent: list[str]) -> None:
        self.page, self.name, self.n, self.counts, self.absent = page, name, n, counts, absent
        self.sidebar = page.locator('[data-testid="stSidebar"]')

    def go(self, title: str) -> None:
        self.sidebar.locator('[data-testid="stSidebarNav"]').get_by_role("link", name=title, exact=True).click()

    def expect_own_data(self, where: str) -> None:
        page = self.page
        expect(self.sidebar.get_by_text(f"Uploaded file: {self.name}")).to_be_visible(timeout=WAIT_MS)
        if where == "Data":
            metric = page.locator('[data-testid="stMetric"]').filter(has_text="Patients kept")
            expect(metric.locator('[data-testid="stMetricValue"]')).to_have_text(str(self.n), timeout=WAIT_MS)
            return
        if where == "Survival":
            page.locator(".js-plotly-plot").first.wait_for(timeout=WAIT_MS)
            for regimen, k in self.counts.items():
                expect(page.get_by_text(f"({regimen}): n = {k},").first).to_be_visible(timeout=WAIT_MS)  # the legend
        caption = " · ".join(f"{r} {k}" for r, k in self.counts.items())
        expect(page.get_by_text(f"{caption} — Uploaded file: {self.name}").first).to_be_visible(timeout=WAIT_MS)
        for regimen in self.absent:
            assert page.get_by_text(f"({regimen}): n =").count() == 0, (self.name, where, regimen)


def _files_containing(needles: list[bytes], roots: list[Path], since: float, skip: list[Path]) -> list[str]:
    hits = []
    for root in roots:
        for dirpath, dirnames, filenames in os.walk(root, onerror=lambda e: None):
            dirnames[:] = [d for d in dirnames if d not in SKIP_DIRS
                           and not any(Path(dirpath, d) == s for s in skip)]
            for name in filenames:
                path = Path(dirpath, name)
                try:
                    st = path.lstat()
                    if not path.is_file() or st.st_mtime < since or st.st_size > SCAN_MAX_BYTES:
                        continue
                    data = path.read_bytes()
                except OSError:
                    continue
                if any(n in data for n in needles):
                    hits.append(str(path))
    return hits


def test_two_users_upload_different_registries_at_once(browser, server_url, tmp_path) -> None:
    started = time.time() - 1
    tag = uuid.uuid4().hex[:10].upper()
    csv_a, ids_a = _registry(f"ISOA{tag}", ["SOR"] * 4 + ["LEN"] * 3)
    csv_b, ids_b = _registry(f"ISOB{tag}", ["SOR"] * 5 + ["ATZ_BEV"] * 6)
    name_a, name_b = f"iso_a_{tag}.csv", f"iso_b_{tag}.csv"
    (tmp_path / name_a).write_bytes(csv_a)
    (tmp_path / name_b).write_bytes(csv_b)

    contexts = [browser.new_context(viewport={"width": 1400, "height": 1000}) for _ in range(2)]
    try:
        users = [User(contexts[0].new_page(), name_a, 7, {"SOR": 4, "LEN": 3}, ["ATZ_BEV"]),
                 User(contexts[1].new_page(), name_b, 11, {"SOR": 5, "ATZ_BEV": 6}, ["LEN"])]
        for u in users:
            upload_on_data_page(u.page, server_url, tmp_path / u.name)
        for u in users:  # both uploads are in flight before either is checked
            u.expect_own_data("Data")

        for title in ("Overview", "Survival", "Cohort", "Data"):
            for u in users:
                u.go(title)
            for u in users:
                u.expect_own_data(title)
            if title == "Cohort":  # reruns: the presets, interleaved between the two users
                for preset in ("Full cohort", "Main cohort (study)"):
                    for u in users:
                        u.sidebar.get_by_role("button", name=preset).click()
                    for u in users:
                        expect(u.page.get_by_text(f"{preset} · SOR").first).to_be_visible(timeout=WAIT_MS)
                        u.expect_own_data(title)
        for u in users:
            assert u.page.locator('[data-testid="stException"]').count() == 0
        users[0].page.screenshot(path=ARTIFACTS / "08_isolation_user_a.png", full_page=True)
    finally:
        for c in contexts:
            c.close()

    time.sleep(1)  # let the server finish the closed sessions
    needles = [i.encode() for i in ids_a + ids_b] + [name_a.encode(), name_b.encode()]
    # Chromium's own profile (client side, the user's machine) is not the server's disk.
    tmp = Path(tempfile.gettempdir())
    skip = [tmp_path, *[p for p in tmp.glob("playwright*")], ARTIFACTS]
    assert _files_containing(needles, [ROOT, tmp], started, skip) == []

    log = (ARTIFACTS / "server.log").read_bytes()
    assert not [n for n in needles if n in log], "an upload's patient ID or file name is in the server log"
