"""Figures and tables as files: PNG (300 dpi), SVG and PDF through plotly's static export, CSV and XLSX.

Static export is kaleido 1.x driving the machine's Chromium (found on ``PATH``; nothing is downloaded
at run time, and MathJax is switched off so no page asks the network for it). Each export that starts
its own browser takes seconds; for many figures wrap the calls in :func:`export_session`, which keeps
one browser open. Everything is returned as bytes: nothing is written to disk.

Isolation (a Streamlit server runs every session as a thread of one process): every browser here is
*private* to one request, i.e. to one :func:`export_session` block or one single :func:`figure_bytes`
call, and a result comes back on that request's own future. kaleido's process-global sync server
(``kaleido.start_sync_server`` / ``calc_fig_sync``, one browser and one shared result queue for the
whole process) is never used: with it, two sessions exporting at once received each other's figures.
At most :data:`MAX_CONCURRENT_EXPORTS` browsers run at once; a request that cannot get one within
:data:`EXPORT_WAIT_SECONDS` raises :class:`ExportBusyError` instead of piling up Chromium processes.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import io
import logging
import threading
from collections.abc import Callable, Coroutine, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

import kaleido
import pandas as pd
import plotly.graph_objects as go
from PIL import Image

from hcc.errors import HCCError
from hcc.i18n import N_, tr
from hcc.outputs.figures import fit_width
from hcc.outputs.tables import spreadsheet_safe

#: Below this layout width a figure is re-laid out for a narrow canvas (:func:`hcc.outputs.figures.fit_width`).
NARROW_PX = 1100
#: Resolution of PNG exports (dots per inch, written into the file's pHYs chunk).
PNG_DPI = 300
FORMATS: tuple[str, ...] = ("png", "svg", "pdf")
MIME = {"png": "image/png", "svg": "image/svg+xml", "pdf": "application/pdf", "csv": "text/csv",
        "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "html": "text/html", "pptx": "application/vnd.openxmlformats-officedocument.presentationml.presentation",
        "json": "application/json"}
_KALEIDO_OPTIONS = {"mathjax": False}  # no MathJax from a CDN: our figures use no LaTeX
#: Headless browsers (kaleido renderers and PDF printers) running at once in this process. Each is a
#: Chromium of roughly 100-200 MB; the rest wait their turn.
MAX_CONCURRENT_EXPORTS = 2
#: How long a request waits for a free browser before :class:`ExportBusyError` (seconds).
EXPORT_WAIT_SECONDS = 120.0
#: Longest time one figure or one page print may take once its browser is running (seconds).
RENDER_TIMEOUT_SECONDS = 90.0
#: Longest time a browser may take to start or to close (seconds).
BROWSER_START_SECONDS = 60.0

T = TypeVar("T")
LOG = logging.getLogger(__name__)


class ExportError(HCCError):
    """A figure or report could not be made into a file (browser missing, crashed or too slow)."""


class ExportBusyError(ExportError):
    """Every export browser of this server stayed busy for :data:`EXPORT_WAIT_SECONDS`."""


@dataclass(frozen=True)
class SizePreset:
    """Size of an exported figure.

    ``width_px`` × ``height_px`` is the layout size in CSS pixels (what fonts and margins are drawn
    against); ``width_inches`` is the printed width, so a PNG is ``width_inches × 300`` pixels wide.
    ``height_px = None`` keeps the figure's own height (tall figures such as a KM plot with its
    risk table stay readable in a narrow column). ``label`` is English, marked for the catalog: show
    it as ``tr(preset.label)``.
    """

    key: str
    label: str
    width_px: int
    height_px: int | None
    width_inches: float

    @property
    def png_scale(self) -> float:
        """Device pixels per layout pixel for a 300-dpi PNG of the printed width."""
        return self.width_inches * PNG_DPI / self.width_px

    def height_for(self, fig: go.Figure) -> int:
        return self.height_px or int(fig.layout.height or 560)


#: A full 16:9 slide (13.333 × 7.5 in, PowerPoint's default) and one journal column (89 mm, the
#: single-column width of Nature, Lancet and NEJM-style layouts).
SIZE_PRESETS: dict[str, SizePreset] = {
    "slide": SizePreset("slide", N_("Slide 16:9 (13.3 × 7.5 in)"), 1280, 720, 40 / 3),
    "column": SizePreset("column", N_("Journal column (89 mm)"), 560, None, 89 / 25.4),
}


def _opts(fig: go.Figure, fmt: str, preset: SizePreset) -> dict:
    return {"format": fmt, "width": preset.width_px, "height": preset.height_for(fig),
            "scale": preset.png_scale if fmt == "png" else 1}


def _set_dpi(png: bytes, dpi: int = PNG_DPI) -> bytes:
    """The same PNG with its pHYs chunk saying ``dpi`` (kaleido writes none)."""
    with Image.open(io.BytesIO(png)) as img:
        out = io.BytesIO()
        img.save(out, format="PNG", dpi=(dpi, dpi), optimize=False)
    return out.getvalue()


# -- one private browser per request ----------------------------------------------------------------
_slots = threading.BoundedSemaphore(MAX_CONCURRENT_EXPORTS)  # counts browsers; holds no data
_local = threading.local()  # this thread's open export_session renderer and slot depth


@contextlib.contextmanager
def export_slot() -> Iterator[None]:
    """Hold one of the :data:`MAX_CONCURRENT_EXPORTS` browser slots for the block (re-entrant per thread).

    Raises :class:`ExportBusyError` when none is free within :data:`EXPORT_WAIT_SECONDS`.
    """
    depth = getattr(_local, "slot_depth", 0)
    if depth == 0 and not _slots.acquire(timeout=EXPORT_WAIT_SECONDS):
        raise ExportBusyError(tr("Another export is running on this server; try again in a minute."))
    _local.slot_depth = depth + 1
    try:
        yield
    finally:
        _local.slot_depth = depth
        if depth == 0:
            _slots.release()


def run_async(coro_fn: Callable[..., Coroutine[Any, Any, T]], *args: Any, timeout: float | None = None) -> T:
    """Run an async function to completion on a fresh event loop in a worker thread of its own.

    Safe inside Streamlit's script thread (which may have a loop) and from any number of threads at
    once: nothing but the returned value leaves the worker.
    """
    pool = concurrent.futures.ThreadPoolExecutor(max_workers=1, thread_name_prefix="hcc-export")
    try:
        return pool.submit(lambda: asyncio.run(coro_fn(*args))).result(timeout=timeout)
    finally:
        pool.shutdown(wait=False)  # after a timeout the caller is told at once; the worker ends on its own


class _Renderer:
    """A private headless Chromium (one ``kaleido.Kaleido``) on its own event loop in its own thread.

    Renders are submitted with :func:`asyncio.run_coroutine_threadsafe`, so each caller waits on its
    own future; nothing is queued or shared with another renderer.
    """

    def __init__(self) -> None:
        self._loop = asyncio.new_event_loop()
        self._ready: concurrent.futures.Future[None] = concurrent.futures.Future()
        self._thread = threading.Thread(target=self._loop.run_until_complete, args=(self._main(),),
                                        name="hcc-export-renderer", daemon=True)
        self._thread.start()
        try:
            self._ready.result(timeout=BROWSER_START_SECONDS)
        except BaseException:
            self.close()
            raise

    async def _main(self) -> None:
        self._stop = asyncio.Event()
        try:
            async with kaleido.Kaleido(n=1, **_KALEIDO_OPTIONS) as k:
                self._kaleido = k
                self._ready.set_result(None)
                await self._stop.wait()
        except BaseException as exc:  # noqa: BLE001 reported to the thread that asked for the browser
            if not self._ready.done():
                self._ready.set_exception(exc)
            else:  # failed while closing: the figures were delivered; the type is enough for the log
                LOG.warning("export browser did not close cleanly (%s)", type(exc).__name__)

    def render(self, spec: dict, opts: dict) -> bytes:
        """One figure's bytes from this renderer's browser (:data:`RENDER_TIMEOUT_SECONDS` at most)."""
        future = asyncio.run_coroutine_threadsafe(self._kaleido.calc_fig(spec, opts=opts), self._loop)
        return future.result(timeout=RENDER_TIMEOUT_SECONDS)

    def _request_stop(self) -> None:
        if hasattr(self, "_stop"):  # absent only if _main never started
            self._stop.set()

    def close(self) -> None:
        """Close the browser and end the thread (also after a failed start)."""
        if self._thread.is_alive():
            with contextlib.suppress(RuntimeError):  # the loop may already have finished
                self._loop.call_soon_threadsafe(self._request_stop)
            self._thread.join(timeout=BROWSER_START_SECONDS)
        if not self._thread.is_alive():
            self._loop.close()


async def _render_once(spec: dict, opts: dict) -> bytes:
    async with kaleido.Kaleido(n=1, **_KALEIDO_OPTIONS) as k:
        return await k.calc_fig(spec, opts=opts)


def _render(spec: dict, opts: dict) -> bytes:
    renderer: _Renderer | None = getattr(_local, "renderer", None)
    try:
        if renderer is not None:
            return renderer.render(spec, opts)
        with export_slot():
            return run_async(_render_once, spec, opts, timeout=BROWSER_START_SECONDS + RENDER_TIMEOUT_SECONDS)
    except ExportError:
        raise
    except (concurrent.futures.TimeoutError, TimeoutError):
        raise ExportError(tr("Drawing the figure as a file took too long; try again, or choose fewer figures.")) from None
    except Exception as exc:  # noqa: BLE001 kaleido/choreographer raise many types; the name is enough
        raise ExportError(tr("The figure could not be drawn as a file ({error}); is Chromium installed on the server?",
                             error=type(exc).__name__)) from exc


def figure_bytes(fig: go.Figure, fmt: str, preset: SizePreset | str = "slide") -> bytes:
    """The figure as ``fmt`` ('png' at 300 dpi, 'svg' or 'pdf') at the preset's size.

    The look is the on-screen one (the figure's own template and fonts), as plotly.js draws it.
    Drawn by this thread's :func:`export_session` browser, or else by a browser started for this one
    call; either way a browser no other request uses. Raises ``ValueError`` for an unknown format or
    preset, :class:`ExportError` (or :class:`ExportBusyError`) when no file can be made.
    """
    if fmt not in FORMATS:
        raise ValueError(f"format must be one of {FORMATS}, not {fmt!r}")
    preset = SIZE_PRESETS[preset] if isinstance(preset, str) else preset
    if preset.width_px < NARROW_PX:
        fig = fit_width(fig, preset.width_px)
    data = _render(fig.to_plotly_json(), _opts(fig, fmt, preset))
    return _set_dpi(data) if fmt == "png" else data


def export_session_open() -> bool:
    """Whether this thread is inside an :func:`export_session` (another thread's session does not count)."""
    return getattr(_local, "renderer", None) is not None


@contextlib.contextmanager
def export_session() -> Iterator[None]:
    """Keep one private browser open for every :func:`figure_bytes` of this thread inside the block.

    The browser belongs to the calling thread (one Streamlit session's script run) and is closed at
    the end of the block; other threads' exports never reach it. Re-entrant: an inner session reuses
    the outer browser. Holds one export slot for the block (:func:`export_slot`).
    """
    if export_session_open():
        yield
        return
    with export_slot():
        try:
            renderer = _Renderer()
        except Exception as exc:  # noqa: BLE001 see _render
            raise ExportError(tr("The export browser could not start ({error}); is Chromium installed on the server?",
                                 error=type(exc).__name__)) from exc
        _local.renderer = renderer
        try:
            yield
        finally:
            _local.renderer = None
            renderer.close()


def table_csv(table: pd.DataFrame) -> bytes:
    """UTF-8 CSV (with BOM, so Excel reads the en dashes) of the spreadsheet-safe table."""
    return spreadsheet_safe(table).to_csv(index=False).encode("utf-8-sig")


def _sheet_name(name: str, used: set[str]) -> str:
    base = "".join("_" if c in "[]:*?/\\" else c for c in name)[:31] or "Sheet"
    out, i = base, 1
    while out in used:
        i += 1
        out = f"{base[:28]}_{i}"
    used.add(out)
    return out


def tables_xlsx(tables: Mapping[str, pd.DataFrame]) -> bytes:
    """An Excel workbook with one sheet per table (sheet names cut to Excel's 31 characters), every
    text cell made safe against formula injection (:func:`hcc.outputs.tables.spreadsheet_safe`)."""
    buf = io.BytesIO()
    used: set[str] = set()
    with pd.ExcelWriter(buf, engine="openpyxl") as writer:
        for name, table in tables.items():
            spreadsheet_safe(table).to_excel(writer, sheet_name=_sheet_name(name, used), index=False)
    return buf.getvalue()
