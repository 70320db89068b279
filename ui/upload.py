"""Data page widgets: the uploader, loading the mapped registry, Clear data, and the validation report.

The uploaded bytes live only in this session (the uploader widget and session state): never on disk,
never in a cache shared with other sessions.
"""

from __future__ import annotations

import hashlib

import streamlit as st

from hcc.errors import HCCError
from hcc.i18n import current_language, tr, trc
from hcc.ingest.io import EXTENSIONS, fingerprint
from hcc.ingest.mapping import Mapping
from hcc.ingest.registry import Registry, Source, load_source, read_sources
from hcc.outputs.tables import issues_table, rule_counts_table, spreadsheet_safe
from ui.downloads import short_lived_download
from ui.keys import StateKeys
from ui.text import md


def _uploader_key() -> str:
    return f"{StateKeys.UPLOAD}_{st.session_state.get(StateKeys.UPLOAD_GEN, 0)}"


def clear_data() -> None:
    """Forget the upload, its mapping and every result computed from it (the "Clear data" button)."""
    for key in (StateKeys.REGISTRY, StateKeys.MEMO, StateKeys.SOURCE, StateKeys.MAPPING, StateKeys.MAPPING_GEN,
                StateKeys.SHEET):
        st.session_state.pop(key, None)
    st.session_state[StateKeys.UPLOAD_GEN] = st.session_state.get(StateKeys.UPLOAD_GEN, 0) + 1


def upload_widget() -> Source | None:
    """The file uploader (one file, or REDCap records + dictionary) and the Excel sheet chooser."""
    files = st.file_uploader(tr("Registry file"), type=sorted(EXTENSIONS), accept_multiple_files=True,
                             key=_uploader_key(),
                             help=tr("CSV/TSV, Excel, Parquet, SPSS or Stata; for REDCap, the record export "
                                     "together with the project's data dictionary."))
    held = st.session_state.get(StateKeys.SOURCE)
    if not files:  # the uploader forgets its file when the user visits another page; the session does not
        if held is not None:
            st.caption(tr("Working with **{name}**, uploaded earlier in this session. Upload another file to "
                          "replace it, or press Clear data.", name=md(held[1].raw.name)))
        return None if held is None else held[1]
    named = [(f.name, f.getvalue()) for f in files]
    # Each upload has its own file id (a new one for every file given to the uploader, whose bytes never
    # change): the SHA-256 of files hashed on an earlier run is not computed again (~0.13 s at 1M per run)
    ids = tuple(f.file_id for f in files)
    hashed = held[2] if held is not None and len(held) > 2 and held[2][0] == ids else None
    fingerprints = list(hashed[1]) if hashed else [fingerprint(data) for _, data in named]  # also the registry's
    digest = hashlib.sha256(b"".join(bytes.fromhex(h) for h in fingerprints)).hexdigest()
    sheet = st.session_state.get(StateKeys.SHEET)
    if held is not None and held[0] == (digest, sheet) and held[1].language == current_language():
        source = held[1]  # read before in this language (after a switch, it is read again to reword its notes)
    else:
        try:
            with st.spinner(tr("Reading the file…")):
                source = read_sources(named, sheet, fingerprints)
        except HCCError as exc:
            st.error(md(exc), icon=":material/error:")
            return None
        st.session_state[StateKeys.SOURCE] = ((digest, sheet), source, (ids, tuple(fingerprints)))
    if len(source.sheets) > 1:
        st.selectbox(trc("excel", "Sheet"), source.sheets, key=StateKeys.SHEET)
    if source.redcap:
        st.success(tr("REDCap export read with its data dictionary: {count} records.",
                      count=f"{source.raw.n_rows:,}"),
                   icon=":material/check_circle:")
    return source


def release_upload_cells(source: Source) -> None:
    """Once this upload's registry is loaded, let its cells go (:meth:`hcc.ingest.io.RawTable.release_cells`,
    ~250 MB for a 1M-row file): the mapping editors run on the results computed from them, and the
    file's bytes (which the uploader holds while the file is in it) give them back if the mapping
    changes. The bytes stay in this session only, as the upload did."""
    held, files = st.session_state.get(StateKeys.SOURCE), st.session_state.get(_uploader_key())
    if held is None or held[1] is not source:
        return
    if not files:  # the uploader forgot the file (another page was visited): the reader given before
        source.raw.release_cells()
        return
    named, sheet = [(f.name, f.getvalue()) for f in files], held[0][1]
    source.raw.release_cells(lambda: read_sources(named, sheet).raw.cells)


def load_registry(source: Source, mapping: Mapping) -> Registry | None:
    """The registry for this upload and mapping, or ``None`` after showing why.

    Only the session's current registry is kept (an upload can be large; each mapping edit would
    otherwise keep another copy)."""
    current = st.session_state.get(StateKeys.REGISTRY)
    if current is not None and (current.sha256, current.mapping, current.language) == (
            source.raw.sha256, mapping, current_language()):
        return current  # checked before in this language; after a switch it is checked again, reworded
    try:
        with st.spinner(tr("Mapping and checking the file…")):
            return load_source(source, mapping)
    except HCCError as exc:
        st.error(md(exc), icon=":material/error:")
        return None


def ready_step(registry: Registry) -> None:
    """The upload's end: it is loaded and analysed everywhere, with the way on to the results."""
    left, right = st.columns([4, 1], vertical_alignment="bottom")
    regimens, kept_out = md(", ".join(registry.regimens)), len(registry.excluded)
    values = {"name": md(registry.name), "patients": f"{registry.n_patients:,}", "regimens": regimens,
              "kept_out": f"{kept_out:,}"}
    if kept_out:
        text = tr("**Ready.** {name}: {patients} patients, first-line regimens {regimens}; {kept_out} rows kept out "
                  "(see below). Every page now analyses this file.", **values)
    else:
        text = tr("**Ready.** {name}: {patients} patients, first-line regimens {regimens}. Every page now analyses "
                  "this file.", **values)
    left.success(text, icon=":material/check_circle:")
    if right.button(tr("Go to Survival ▶"), type="primary", width="stretch", key="upload_ready_survival"):
        st.switch_page("pages/survival.py")


def validation_report(registry: Registry) -> None:
    """Counts by rule, every problem as a row, excluded rows, and the report as CSV."""
    if not registry.issues:
        st.success(tr("No problems found."), icon=":material/check_circle:")
        return
    st.warning(tr("{errors} row-excluding problem(s) and {warnings} warning(s).", errors=registry.n_errors,
                  warnings=registry.n_warnings))
    st.dataframe(rule_counts_table(registry.issues), hide_index=True)
    table = issues_table(registry.issues)
    st.dataframe(table, hide_index=True)
    short_lived_download(tr("Download the validation report (CSV)"),  # patient codes and raw values
                         lambda: spreadsheet_safe(table).to_csv(index=False).encode("utf-8"),
                         file_name="validation_report.csv", mime="text/csv", key="validation_report_csv")
    if len(registry.excluded):
        st.markdown(tr("**Rows kept out of every analysis ({n})**", n=len(registry.excluded)))
        st.dataframe(registry.excluded, hide_index=True)
