"""Static exports are isolated per request: concurrent sessions (threads of one process, as in a
Streamlit server) each get their own figure, report and deck back, never another's.

Before the fix, kaleido's process-global sync server served every thread: in a two-thread run of
``export_session`` + ``figure_bytes``, 5 of 6 trials returned the other thread's SVG at least once, and
exports raised ``AttributeError: 'GlobalKaleidoServer' object has no attribute '_thread'``.
"""

from __future__ import annotations

import io
import re
import subprocess
import threading
import time
import zipfile

import kaleido
import plotly.graph_objects as go
import pytest
from PIL import Image

from hcc.outputs import export
from hcc.analysis import analyze
from hcc.cohort.rules import CohortSpec
from hcc.outputs.reports import build_report, report_pdf, report_pptx
from hcc.outputs.export import ExportBusyError, export_session, export_slot, figure_bytes
from hcc.ingest.registry import load_bytes
from hcc.schema import Col, Endpoint
from tests.conftest import export_slots_taken, registry_csv

THREADS = 4
MARK = re.compile(rb"ISOMARK([0-9]+)X")


def _marker(i: int) -> str:
    return f"ISOMARK{i}X"


def _figure(i: int) -> go.Figure:
    """A small figure whose title is thread ``i``'s marker and whose height (px) identifies it in a PNG."""
    return go.Figure(go.Bar(x=["a", "b"], y=[i + 1, 2]),
                     layout={"title": {"text": _marker(i)}, "height": 300 + 20 * i})


def _pdf_text(pdf: bytes) -> bytes:
    """The PDF's text as poppler's pdftotext reads it (plotly's PDFs compress their text streams)."""
    return subprocess.run(["pdftotext", "-q", "-", "-"], input=pdf, capture_output=True, check=True,
                          timeout=60).stdout


def _only_marker(found: list[bytes], i: int, what: str) -> None:
    assert found, f"{what} of thread {i} carries no marker"
    assert set(found) == {str(i).encode()}, f"{what} of thread {i} holds markers of threads {sorted(set(found))}"


def _run_threads(work, n: int = THREADS) -> list[BaseException]:
    """Run ``work(i)`` in ``n`` threads released together; the exceptions they raised."""
    barrier = threading.Barrier(n)
    errors: list[BaseException] = []

    def run(i: int) -> None:
        try:
            barrier.wait(timeout=60)
            work(i)
        except BaseException as exc:  # noqa: BLE001 collected and asserted below
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=900)
    assert not any(t.is_alive() for t in threads), "an export thread hung"
    return errors


@pytest.fixture
def no_global_kaleido_server(monkeypatch):
    """Fail if anything reaches kaleido's process-wide sync server (the shared queue that leaked)."""
    def refuse(*args, **kwargs):
        raise AssertionError("kaleido's process-global sync server was used")

    for name in ("start_sync_server", "calc_fig_sync", "write_fig_sync"):
        monkeypatch.setattr(kaleido, name, refuse)
    yield
    assert not kaleido._global_server.is_running()  # noqa: SLF001


def test_concurrent_figure_exports_return_each_threads_own_figure(no_global_kaleido_server) -> None:
    """4 threads x 3 rounds, released together: rounds 0 and 2 inside ``export_session`` (SVG, PDF, PNG),
    round 1 one call each outside it (SVG). Every SVG and PDF holds its own thread's marker and no
    other; every PNG has its own thread's height; no export raises."""
    reps = 3
    checked = [0] * THREADS

    def work(i: int) -> None:
        fig = _figure(i)
        for rep in range(reps):
            if rep % 2 == 0:
                with export_session():
                    svg, pdf, png = (figure_bytes(fig, f, "column") for f in ("svg", "pdf", "png"))
                _only_marker(MARK.findall(_pdf_text(pdf)), i, f"PDF (round {rep})")
                with Image.open(io.BytesIO(png)) as img:
                    heights = [(300 + 20 * k) * export.SIZE_PRESETS["column"].png_scale for k in range(THREADS)]
                    nearest = min(range(THREADS), key=lambda k: abs(heights[k] - img.size[1]))
                    # Chromium rounds device pixels (±1); the threads' heights are ~37 px apart
                    assert nearest == i and abs(heights[i] - img.size[1]) <= 2, f"PNG of thread {i} is thread {nearest}'s"
                checked[i] += 2
            else:
                svg = figure_bytes(fig, "svg", "column")
            _only_marker(MARK.findall(svg), i, f"SVG (round {rep})")
            checked[i] += 1

    started = time.monotonic()
    errors = _run_threads(work)
    assert not errors, f"{len(errors)} export(s) failed: {[repr(e) for e in errors[:3]]}"
    assert checked == [7] * THREADS  # 3 files in each of 2 sessions + 1 alone
    print(f"{THREADS} threads x {reps} rounds: {time.monotonic() - started:.1f} s")


def test_a_busy_server_refuses_with_a_clear_message_instead_of_waiting_forever(monkeypatch) -> None:
    """Every browser slot taken by other sessions: a new export waits the bound, then says so."""
    monkeypatch.setattr(export, "EXPORT_WAIT_SECONDS", 0.2)
    with export_slots_taken():
        started = time.monotonic()
        with pytest.raises(ExportBusyError, match="Another export is running on this server; try again"):
            figure_bytes(_figure(0), "svg")
        with pytest.raises(ExportBusyError):
            with export_session():
                pass
        assert time.monotonic() - started < 10
    assert _all_slots_free()


def test_export_slot_is_reentrant_in_one_thread(monkeypatch) -> None:
    """A report holds a slot and prints inside it: the same thread must not wait for itself."""
    monkeypatch.setattr(export, "EXPORT_WAIT_SECONDS", 0.2)
    with export_slot():
        with export_slot():  # the same thread: no second slot, no wait
            with export_slot():
                pass
        free = sum(export._slots.acquire(timeout=0) for _ in range(export.MAX_CONCURRENT_EXPORTS))  # noqa: SLF001
        for _ in range(free):
            export._slots.release()  # noqa: SLF001
        assert free == export.MAX_CONCURRENT_EXPORTS - 1  # one slot for the thread, however deep
    assert _all_slots_free()  # released once, by the outer block


# -- reports and decks --------------------------------------------------------------------------------
def _result(i: int):
    """A small registry whose regimen names carry thread ``i``'s marker (they reach every figure)."""
    regimens = [f"SOR_ISOMARK{i}X", "LEN"]
    rows = []
    for k in range(16):
        rows.append({Col.REGIMEN_1L: regimens[k % 2], Col.START_1L: "2020-01-01",
                     Col.DATE_DEATH: f"2020-{1 + k % 11:02d}-{10 + k % 15:02d}" if k % 3 else "",
                     Col.DATE_LAST_FOLLOWUP: f"2020-{1 + k % 11:02d}-{10 + k % 15:02d}"})
    registry = load_bytes(registry_csv(rows), f"registry_ISOMARK{i}X.csv")
    return analyze(registry, CohortSpec())


@pytest.mark.slow  # ~1 min (12 browser starts); runs in `make test` with the other slow export test
def test_concurrent_pdf_reports_and_decks_hold_their_own_data(no_global_kaleido_server) -> None:
    """4 threads, each with its own registry (regimen marker), build a PDF report and a deck at the
    same moment: the PDF's text and the deck's slide text, notes and embedded record hold their own
    marker only, and each deck's figure images differ from every other thread's."""
    results = [_result(i) for i in range(THREADS)]
    assert all(r.cohort.n > 0 for r in results)
    reports = [build_report(r, (Endpoint.OS,)) for r in results]
    images: dict[int, set[bytes]] = {}

    def work(i: int) -> None:
        from pptx import Presentation

        pdf = report_pdf(reports[i])
        _only_marker(MARK.findall(_pdf_text(pdf)), i, "PDF report")
        deck = report_pptx(reports[i])
        prs = Presentation(io.BytesIO(deck))
        text = "\n".join(shape.text_frame.text for slide in prs.slides for shape in slide.shapes
                         if shape.has_text_frame)
        text += "\n".join(slide.notes_slide.notes_text_frame.text for slide in prs.slides if slide.has_notes_slide)
        _only_marker(MARK.findall(text.encode()), i, "deck text")
        with zipfile.ZipFile(io.BytesIO(deck)) as z:
            _only_marker(MARK.findall(z.read("customXml/hcc-reproduce.json")), i, "deck record")
            pictures = {z.read(n) for n in z.namelist() if n.startswith("ppt/media/")}
        assert len(pictures) == len(reports[i].figures)
        images[i] = pictures

    errors = _run_threads(work)
    assert not errors, f"{len(errors)} export(s) failed: {[repr(e) for e in errors[:3]]}"
    for i in range(THREADS):  # a leaked figure would appear in two decks
        for j in range(i + 1, THREADS):
            assert not images[i] & images[j], f"decks of threads {i} and {j} share a figure image"


def test_a_browser_that_cannot_start_is_a_clear_error_and_frees_its_slot(monkeypatch) -> None:
    """No Chromium (or one that dies at start): ExportError in plain words, inside and outside a
    session, and every slot is free again afterwards."""
    from choreographer.errors import ChromeNotFoundError

    from hcc.outputs.export import ExportError

    class NoBrowser:
        def __init__(self, *args, **kwargs) -> None:
            raise ChromeNotFoundError("no chrome here")

    monkeypatch.setattr(kaleido, "Kaleido", NoBrowser)
    monkeypatch.setattr(export, "EXPORT_WAIT_SECONDS", 0.2)
    with pytest.raises(ExportError, match=r"could not start \(ChromeNotFoundError\); is Chromium installed"):
        with export_session():
            pass
    with pytest.raises(ExportError, match=r"could not be drawn as a file \(ChromeNotFoundError\)"):
        figure_bytes(_figure(0), "svg")
    assert not export.export_session_open()
    assert _all_slots_free()


def _all_slots_free() -> bool:
    """Whether every browser slot can be taken now (the semaphore itself: export_slot is re-entrant)."""
    taken = [export._slots.acquire(timeout=0.5) for _ in range(export.MAX_CONCURRENT_EXPORTS)]  # noqa: SLF001
    for ok in taken:
        if ok:
            export._slots.release()  # noqa: SLF001
    return all(taken)
