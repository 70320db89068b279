"""The "Reproduce in R" journey in a real browser: on the Survival page a clinician clicks
"Reproduce in R (zip)", gets the zip, and `Rscript analysis.R` in the unzipped folder writes
results_r.json, the competing risks and the pathway included. The zip's files are the CLI's for the same cohort and settings. Screenshots (1440×1000):
artifacts/20_reproduce_in_r_survival.png, 21_reproduce_in_r_export.png."""

from __future__ import annotations

import io
import json
import shutil
import subprocess
import zipfile
from pathlib import Path

import pytest

from hcc.cli.main import main
from hcc.outputs.rscript import FILES, RESULTS_FILE, SCRIPT_FILE
from tests.e2e.conftest import ARTIFACTS, ROOT, download

pytestmark = pytest.mark.e2e
WAIT_MS = 90_000
BUTTON = "Reproduce in R (zip)"


def test_reproduce_in_r_zip_from_the_survival_page_runs_in_r(browser, server_url, tmp_path: Path) -> None:
    context = browser.new_context(viewport={"width": 1440, "height": 1000}, accept_downloads=True)
    try:
        page = context.new_page()
        page.goto(f"{server_url}/survival")
        button = page.get_by_role("button", name=BUTTON)
        button.wait_for(timeout=WAIT_MS)
        button.scroll_into_view_if_needed()
        page.wait_for_timeout(1000)
        page.screenshot(path=ARTIFACTS / "20_reproduce_in_r_survival.png")
        data = download(page, button).read_bytes()
        page.goto(f"{server_url}/export")
        other = page.get_by_role("button", name=BUTTON)
        other.wait_for(timeout=WAIT_MS)
        other.scroll_into_view_if_needed()
        page.wait_for_timeout(1000)
        page.screenshot(path=ARTIFACTS / "21_reproduce_in_r_export.png")
    finally:
        context.close()
    folder = tmp_path / "zip"
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        archive.extractall(folder)
    unzipped = folder / "reproduce_in_r"
    assert sorted(p.name for p in unzipped.iterdir()) == sorted(FILES)
    # the page opens on the main cohort with the reference regimen selectbox on the first regimen
    cli = tmp_path / "cli"
    assert main(["export-r", "--data", str(ROOT / "data" / "demo_registry.csv"), "--preset", "main",
                 "--reference", "SOR", "--out", str(cli)]) == 0
    assert {f: (unzipped / f).read_bytes() for f in FILES} == {f: (cli / f).read_bytes() for f in FILES}
    done = subprocess.run([shutil.which("Rscript") or "Rscript", SCRIPT_FILE], cwd=unzipped, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    results = json.loads((unzipped / RESULTS_FILE).read_text(encoding="utf-8"))
    assert results["cohort"]["n"] == 612 and results["endpoints"]["OS"]["groups"]["SOR"]["n"] == 272
    assert "OS" in done.stdout and "median" in done.stdout
    # the competing risks and the pathway are recomputed too (cmprsk), in the CLI JSON's shape
    competing = results["competing_risks"]
    assert set(competing) == {"second_line", "first_line_failure", "states"}
    assert competing["second_line"]["fine_gray"]["LEN"]["shr"] > 0 and competing["second_line"]["gray"]["df"] == 2
    assert "Gray's test" in done.stdout and "second_line (competing risks)" in done.stdout
