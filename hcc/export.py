"""Figures and tables as files: PNG (300 dpi), SVG and PDF through plotly's static export, CSV and XLSX.

Static export is kaleido 1.x driving the machine's Chromium (found on ``PATH``; nothing is downloaded
at run time, and MathJax is switched off so no page asks the network for it). Each export that starts
its own browser takes seconds; for many figures wrap the calls in :func:`export_session`, which keeps
one browser open. Everything is returned as bytes: nothing is written to disk.
"""

from __future__ import annotations

import contextlib
import io
from collections.abc import Iterator, Mapping
from dataclasses import dataclass

import kaleido
import pandas as pd
import plotly.graph_objects as go
from PIL import Image

from hcc.figures import fit_width
from hcc.report import spreadsheet_safe

#: Below this layout width a figure is re-laid out for a narrow canvas (:func:`hcc.figures.fit_width`).
NARROW_PX = 1100
#: Resolution of PNG exports (dots per inch, written into the file's pHYs chunk).
PNG_DPI = 300
FORMATS: tuple[str, ...] = ("png", "svg", "pdf")
MIME = {"png": "image/png", "svg": "image/svg+xml", "pdf": "application/pdf", "csv": "text/csv",
        "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "html": "text/html", "pptx": "application/vnd.openxmlformats-officedocument.presentationml.presentation",
        "json": "application/json"}
_KALEIDO_OPTIONS = {"mathjax": False}  # no MathJax from a CDN: our figures use no LaTeX


@dataclass(frozen=True)
class SizePreset:
    """Size of an exported figure.

    ``width_px`` × ``height_px`` is the layout size in CSS pixels (what fonts and margins are drawn
    against); ``width_inches`` is the printed width, so a PNG is ``width_inches × 300`` pixels wide.
    ``height_px = None`` keeps the figure's own height (tall figures such as a KM plot with its
    risk table stay readable in a narrow column).
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
    "slide": SizePreset("slide", "Slide 16:9 (13.3 × 7.5 in)", 1280, 720, 40 / 3),
    "column": SizePreset("column", "Journal column (89 mm)", 560, None, 89 / 25.4),
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


def figure_bytes(fig: go.Figure, fmt: str, preset: SizePreset | str = "slide") -> bytes:
    """The figure as ``fmt`` ('png' at 300 dpi, 'svg' or 'pdf') at the preset's size.

    The look is the on-screen one (the figure's own template and fonts), as plotly.js draws it.
    Raises ``ValueError`` for an unknown format or preset.
    """
    if fmt not in FORMATS:
        raise ValueError(f"format must be one of {FORMATS}, not {fmt!r}")
    preset = SIZE_PRESETS[preset] if isinstance(preset, str) else preset
    if preset.width_px < NARROW_PX:
        fig = fit_width(fig, preset.width_px)
    spec = fig.to_plotly_json()
    if kaleido_server_running():
        data = kaleido.calc_fig_sync(spec, opts=_opts(fig, fmt, preset))
    else:
        data = kaleido.calc_fig_sync(spec, opts=_opts(fig, fmt, preset), kopts=_KALEIDO_OPTIONS)
    return _set_dpi(data) if fmt == "png" else data


def kaleido_server_running() -> bool:
    """Whether an :func:`export_session` browser is open in this process."""
    return kaleido._global_server.is_running()  # noqa: SLF001 kaleido 1.5 has no public accessor


@contextlib.contextmanager
def export_session() -> Iterator[None]:
    """Keep one browser open for every :func:`figure_bytes` inside the block (batch exports).

    Re-entrant: an inner session inside an outer one reuses the outer browser.
    """
    if kaleido_server_running():
        yield
        return
    kaleido.start_sync_server(**_KALEIDO_OPTIONS, silence_warnings=True)
    try:
        yield
    finally:
        kaleido.stop_sync_server(silence_warnings=True)


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
    text cell made safe against formula injection (:func:`hcc.report.spreadsheet_safe`)."""
    buf = io.BytesIO()
    used: set[str] = set()
    with pd.ExcelWriter(buf, engine="openpyxl") as writer:
        for name, table in tables.items():
            spreadsheet_safe(table).to_excel(writer, sheet_name=_sheet_name(name, used), index=False)
    return buf.getvalue()
