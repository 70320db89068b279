"""The "Reproduce in R" button on the Survival page and on Report & slides (AppTest): made only on
click (no /media URL before), and the zip it makes holds exactly the files ``python -m hcc export-r``
writes for the same cohort and settings (byte-equal, no normalisation: the export has no time stamp)."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pytest

import ui.downloads
from hcc.cli.main import main
from hcc.outputs.rscript import FILES
from tests.apptest import open_page
from ui.common import StateKeys

ROOT = Path(__file__).resolve().parent.parent
TIMEOUT = 90
BUTTON = "Reproduce in R (zip)"


@pytest.fixture()
def made(monkeypatch) -> dict:
    """The page's button wired as usual, with its file maker kept so the test can click it."""
    makers: dict = {}
    original = ui.downloads.short_lived_download

    def keep(label, make, file_name, mime, key):
        makers[key] = (make, file_name, mime)
        original(label, make, file_name, mime, key)

    monkeypatch.setattr(ui.downloads, "short_lived_download", keep)
    return makers


def _zip_files(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return {Path(name).name: archive.read(name) for name in archive.namelist()}


def _cli_files(tmp_path: Path, options: list[str]) -> dict[str, bytes]:
    out = tmp_path / "cli"
    assert main(["export-r", "--data", str(ROOT / "data" / "demo_registry.csv"), *options, "--out", str(out)]) == 0
    return {name: (out / name).read_bytes() for name in FILES}


@pytest.mark.parametrize(("page", "key"), [("pages/survival.py", "reproduce_in_r_survival"),
                                           ("pages/export.py", "reproduce_in_r_export")])
def test_page_zip_equals_the_cli_export(page: str, key: str, made: dict, tmp_path: Path) -> None:
    """The page opens on the demo's main cohort with the default settings (reference: the first
    regimen in the selectbox, SOR): its zip is byte-for-byte the CLI's files for the same."""
    at = open_page(page, timeout=TIMEOUT)
    button = [b for b in at.get("download_button") if b.label == BUTTON]
    assert len(button) == 1 and button[0].proto.deferred_file_id and not button[0].proto.url
    make, file_name, mime = made[key]
    assert (file_name, mime) == ("reproduce_in_r.zip", "application/zip")
    page_files = _zip_files(ui.downloads.made_on_click(make, file_name)())
    assert page_files == _cli_files(tmp_path, ["--preset", "main", "--reference", "SOR"])
    # the competing risks and the pathway are part of the zip, and the caption says so
    assert "pathway_data.csv" in page_files and b"cmprsk::cuminc" in page_files["analysis.R"]
    assert any("competing risks" in c.value and "cmprsk" in c.value for c in at.caption)


def test_changed_settings_reach_the_zip(made: dict, tmp_path: Path) -> None:
    """Settings applied in the Survival page's form (milestones, reference, tau, CI) are those of the
    zip: equal to the CLI export with the same options."""
    at = open_page("pages/survival.py", timeout=TIMEOUT)
    at.multiselect(key=StateKeys.MILESTONES).set_value([3, 36])
    at.selectbox(key=StateKeys.REFERENCE).set_value("ATZ_BEV")
    at.number_input(key=StateKeys.TAU).set_value(12)
    at.selectbox(key=StateKeys.CONF_TYPE).set_value("plain")
    at.button[0].click().run()  # the form's Apply button
    assert not at.exception
    make, file_name, _ = made["reproduce_in_r_survival"]
    page_files = _zip_files(make())
    assert b'reference         <- "ATZ_BEV"' in page_files["analysis.R"]
    assert page_files == _cli_files(tmp_path, ["--preset", "main", "--reference", "ATZ_BEV", "--tau", "12",
                                               "--ci", "plain", "--milestones", "3", "36"])


def test_the_zip_holds_this_sessions_upload(made: dict) -> None:
    """With an uploaded registry in the session, the zip holds its patients (codes F01…), not the demo's,
    and its README names the uploaded file and its fingerprint."""
    from hcc.ingest.mapping import Mapping
    from hcc.ingest.registry import load_files
    mapping_path = ROOT / "tests" / "reference" / "response_fixture.mapping.json"
    registry = load_files([str(ROOT / "tests" / "reference" / "response_fixture.csv")],
                          Mapping.from_json(mapping_path.read_text(), mapping_path.name))
    open_page("pages/survival.py", timeout=TIMEOUT, registry=registry)
    make, _, _ = made["reproduce_in_r_survival"]
    files = _zip_files(make())
    data = files["analysis_data.csv"].decode()
    assert "\nF01,SOR," in data and "SYN" not in data
    assert registry.sha256 in files["README.txt"].decode() and "response_fixture.csv" in files["README.txt"].decode()
