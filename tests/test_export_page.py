"""AppTest of the Report & slides page, presentation mode (?present=1) and the reopen widget."""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from tests.apptest import open_page, shown

from hcc.outputs.reports import build_report, report_html
from hcc.analysis import analyze
from hcc.cohort.rules import FULL, PRESETS
from hcc.ingest.registry import load_demo
from hcc.schema import Endpoint
from hcc.stats.survival import AnalysisSpec
from tests.conftest import export_slots_taken
from ui.common import StateKeys

TIMEOUT = 90


def _export_page(present: bool = False) -> AppTest:
    return open_page("pages/export.py", timeout=TIMEOUT, query={"present": "1"} if present else None)


def test_page_shows_methods_and_builds_the_html_report() -> None:
    at = _export_page()
    assert "Kaplan–Meier" in at.code[0].value and "log-rank" in at.code[0].value
    next(b for b in at.button if b.label.startswith("Build HTML")).click()
    at.run()
    assert not at.exception
    built = at.session_state[StateKeys.EXPORT_BUILT][1]
    assert b'id="hcc-reproduce"' in built["html"]
    assert "Download HTML report (interactive)" in [d.label for d in at.get("download_button")]


def test_presentation_mode_from_the_url_shows_one_result_per_screen() -> None:
    at = _export_page(present=True)
    assert at.session_state[StateKeys.PRESENT] is True
    assert at.query_params["present"] == ["1"] or at.query_params["present"] == "1"
    assert len(at.get("plotly_chart")) == 1 and not at.code  # one figure, no methods box
    assert any(m.value.startswith("**1 / ") for m in at.markdown)
    next(b for b in at.button if b.label == "Next ▶").click()
    at.run()
    assert any(m.value.startswith("**2 / ") for m in at.markdown)
    at.sidebar.toggle(key=StateKeys.PRESENT).set_value(False)
    at.run()
    assert "present" not in at.query_params and at.code


@pytest.mark.slow
def test_reopen_recreates_the_cohort_and_settings() -> None:
    demo = load_demo()
    result = analyze(demo, PRESETS[FULL], analysis=AnalysisSpec(conf_type="plain"))
    page = report_html(build_report(result, (Endpoint.OS,))).encode("utf-8")
    at = _export_page()
    at.get("file_uploader")[0].set_value(("report.html", page, "text/html"))
    at.run()
    assert any("Same data" in s.value for s in at.success), [s.value for s in at.success]
    next(b for b in at.button if b.label == "Recreate this view").click()
    at.run()
    assert not at.exception
    assert at.session_state[StateKeys.SPEC] == PRESETS[FULL]
    assert at.session_state[StateKeys.CONF_TYPE] == "plain"


def test_a_busy_export_server_shows_a_plain_message_and_keeps_the_page(monkeypatch) -> None:
    """Every export browser taken by other sessions: "Build PDF report" ends in an st.error saying
    so (not the crash message), and the page stays usable."""
    from hcc.outputs import export

    monkeypatch.setattr(export, "EXPORT_WAIT_SECONDS", 0.2)
    at = _export_page()
    with export_slots_taken():
        next(b for b in at.button if b.label.startswith("Build PDF")).click()
        at.run()
    assert not at.exception
    assert [e.value for e in at.error] == ["PDF report: Another export is running on this server; try again in a "
                                           "minute."]
    assert StateKeys.EXPORT_BUILT not in at.session_state
    assert any(b.label.startswith("Build PDF") for b in at.button)


def test_build_deck_with_a_file_name_over_255_characters() -> None:
    """The page's Build deck path with an upload whose name is 300+ characters: the deck is built
    (document properties cut to 255 characters), no crash message."""
    import dataclasses
    import io

    from pptx import Presentation

    long_name = "tumour_board_export_" + "x" * 300 + ".csv"
    at = _export_page()
    at.session_state[StateKeys.REGISTRY] = dataclasses.replace(load_demo(), name=long_name, is_demo=False,
                                                                      sha256="5" * 64)  # results are memoised by sha256
    at.run()
    assert not at.exception
    next(b for b in at.button if b.label.startswith("Build Slide deck")).click()
    at.run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    deck = Presentation(io.BytesIO(at.session_state[StateKeys.EXPORT_BUILT][1]["pptx"]))
    assert len(deck.core_properties.subject) == 255
    assert any(long_name in s.text_frame.text for s in deck.slides[0].shapes if s.has_text_frame)


@pytest.mark.parametrize("name, data, message", [
    ("cut.html", b'<html><script type="application/json" id="hcc-reproduce">{"format": "hcc-rep',
     "this report is incomplete"),
    ("deck.pptx", b"PK\x03\x04 not really a zip", "damaged or not a PowerPoint file"),
    ("spec.json", b"[" * 50_000, "nested too deeply"),
])
def test_reopening_a_malformed_file_shows_its_reason(name: str, data: bytes, message: str) -> None:
    """Through the page's reopen widget: a specific st.error naming the file, never the crash message."""
    at = _export_page()
    at.get("file_uploader")[0].set_value((name, data, "application/octet-stream"))
    at.run()
    assert not at.exception
    errors = [shown(e.value) for e in at.error]  # as the browser shows the escaped file name
    assert len(errors) == 1 and errors[0].startswith(f"{name}: ") and message in errors[0], errors
    assert not any(b.label == "Recreate this view" for b in at.button)
