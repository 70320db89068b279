"""Download buttons for every figure (PNG 300 dpi, SVG, PDF at a size preset) and every table (CSV, XLSX),
and the "Reproduce in R" zip.

A static export starts a browser and takes seconds, so figure files are made only when asked
("Prepare files") and kept for that figure until it changes.
"""

from __future__ import annotations

import hashlib
from typing import Callable

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from hcc.cohort.rules import Cohort
from hcc.i18n import N_, tr, trc
from hcc.ingest.registry import Registry
from hcc.outputs.rscript import export_r, zip_bytes
from hcc.stats.survival import AnalysisSpec
from hcc.outputs.export import (FORMATS, MIME, SIZE_PRESETS, ExportError, export_session, figure_bytes, table_csv,
                        tables_xlsx)
from ui.actions import guarded
from ui.common import StateKeys
from ui.guard import log_failure
from ui.i18n import shown_in_this_language
from ui.present import on_screen
from ui.streamlit_internals import sweep_media_soon


def _fingerprint(fig: go.Figure, preset: str) -> str:
    return hashlib.sha256((preset + fig.to_json()).encode("utf-8")).hexdigest()


def _prepare(fig: go.Figure, preset: str, state_key: str, stamp: str) -> None:
    try:
        with export_session():
            st.session_state[state_key] = (stamp, {f: figure_bytes(fig, f, preset) for f in FORMATS})
    except ExportError as exc:  # e.g. every export browser busy: say so in the popover, keep the page
        st.session_state[state_key + StateKeys.EXPORT_ERROR] = str(exc)  # hcc.outputs.export words


def figure_downloads(fig: go.Figure, name: str) -> None:
    """A popover with a size choice, a "Prepare files" button and, once made, PNG / SVG / PDF downloads."""
    state_key = StateKeys.FIG_EXPORT + name
    with st.popover(tr("Download figure"), icon=":material/download:"):
        preset = st.radio(trc("figure export", "Size"), list(SIZE_PRESETS),
                          format_func=shown_in_this_language(lambda k: tr(SIZE_PRESETS[k].label)),
                          key=state_key + "_size", horizontal=True)
        stamp = _fingerprint(fig, preset)
        ready = st.session_state.get(state_key)
        if error := st.session_state.pop(state_key + StateKeys.EXPORT_ERROR, None):
            st.error(error, icon=":material/error:")
        if ready is None or ready[0] != stamp:
            st.button(tr("Prepare files (PNG 300 dpi, SVG, PDF)"), key=state_key + "_make",
                      on_click=guarded(_prepare, N_("Preparing the figure files")),
                      args=(fig, preset, state_key, stamp))
        if ready is not None and ready[0] == stamp:
            cols = st.columns(len(FORMATS))
            for col, fmt in zip(cols, FORMATS):
                col.download_button(fmt.upper(), ready[1][fmt], file_name=f"{name}_{preset}.{fmt}", mime=MIME[fmt],
                                    key=f"{state_key}_{fmt}", on_click="ignore")


def table_downloads(table: pd.DataFrame, name: str) -> None:
    """CSV and Excel downloads of ``table`` (cells made safe against spreadsheet formula injection); the
    Excel workbook is made when clicked (:func:`made_on_click`)."""
    left, right, _ = st.columns([1, 1, 4])
    left.download_button("CSV", table_csv(table), file_name=f"{name}.csv", mime=MIME["csv"], key=f"csv_{name}",
                         icon=":material/download:", on_click="ignore")
    # the workbook is made on click: openpyxl costs ~0.3 s to import and ~0.02 s a table on every page run
    right.download_button("Excel", made_on_click(lambda: tables_xlsx({name: table}), f"{name}.xlsx"),
                          file_name=f"{name}.xlsx", mime=MIME["xlsx"], key=f"xlsx_{name}",
                          icon=":material/download:", on_click="ignore")


def chart(fig: go.Figure, name: str, caption: str, where=st) -> None:
    """Show a figure (in presentation style when presenting) with its download popover below it.

    ``name`` keys the chart and names the files; ``where`` is a column or container (default: the page).
    """
    shown = on_screen(fig, caption)
    target = st.container() if where is st else where
    target.plotly_chart(shown, key=f"chart_{name}", theme=None, config={"displaylogo": False})
    with target:
        figure_downloads(shown, name)


SWEEP_AFTER_S = 5.0  # a generated file is fetched within milliseconds of its URL reaching the browser


def _sweep_soon() -> None:
    """Run Streamlit's own sweep of unreferenced media files twice, ``SWEEP_AFTER_S`` apart.

    A file generated on click is referenced by no session; Streamlit's sweep (at the end of every
    script run, in any session, and when a session ends) marks such a file on one pass and deletes it
    on the next. Without runs it would stay fetchable indefinitely; these two passes are what two more
    script runs would do, so the file's URL answers 404 within ~2 × SWEEP_AFTER_S of the click.
    """
    sweep_media_soon((SWEEP_AFTER_S, 2 * SWEEP_AFTER_S))


def made_on_click(make: Callable[[], bytes], file_name: str) -> Callable[[], bytes]:
    """``make`` as Streamlit's deferred download runs it on click: followed by :func:`_sweep_soon`, and
    a failure logged as its type and place only (Streamlit would log the message, which may quote data)
    before a generic error is raised for Streamlit to report."""
    def generate() -> bytes:
        try:
            data = make()
        except Exception as exc:  # noqa: BLE001 - see the docstring
            log_failure(f"Making {file_name}", exc)
            raise RuntimeError("the file could not be made (see the log line before)") from None
        _sweep_soon()
        return data

    return generate


def short_lived_download(label: str, make: Callable[[], bytes], file_name: str, mime: str, key: str) -> None:
    """A download button for patient-level content (e.g. the validation report): the file is made only
    when clicked (Streamlit's deferred download, ``data=callable``) and removed seconds later, so no
    ``/media/…`` URL of it exists before the click or long after it, whether or not the tab stays open."""
    st.download_button(label, made_on_click(make, file_name), file_name=file_name, mime=mime, key=key,
                       icon=":material/download:", on_click="ignore")


#: What the "Reproduce in R" button says the zip holds (Survival page and Report & slides).
REPRODUCE_IN_R_HELP = N_("A zip with the analysis-ready data of this cohort (patient code, regimen, and per endpoint "
                       "the time in days and the event; no dates), the patients' pathways between states, an R "
                       "script that recomputes the numbers of every endpoint, the response rates, the "
                       "time-dependent Cox models, the landmark analyses, the competing risks and the pathway "
                       "with R's survival and cmprsk packages, and a README saying how to run it "
                       "(Rscript analysis.R).")


def reproduce_in_r(registry: Registry, cohort: Cohort, settings: AnalysisSpec, key: str) -> None:
    """The "Reproduce in R" zip of this cohort and these settings: the same files as
    ``python -m hcc export-r`` (:func:`hcc.outputs.rscript.export_r`), zipped in memory when clicked,
    and, as patient-level content, made only on click and swept seconds later (:func:`short_lived_download`)."""
    short_lived_download(tr("Reproduce in R (zip)"),
                         lambda: zip_bytes(export_r(registry, cohort.spec, settings, cohort=cohort)),
                         "reproduce_in_r.zip", "application/zip", key)
    st.caption(tr(REPRODUCE_IN_R_HELP))
