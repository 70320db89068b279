"""Open a registry kept on the server (Parquet file or DuckDB table) from the allow-listed directory.

Off unless ``HCC_SERVER_DATA_DIR`` or ``[server_data] dir`` in ``.streamlit/secrets.toml`` names a
directory (docs/deploy.md); the user can only pick files inside it. Call :func:`server_data_widget`
from the Data page.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

import streamlit as st

from hcc.errors import HCCError
from hcc.i18n import tr, trc
from hcc.ingest.database import database_mode_rows, row_count, too_large_for_memory
from hcc.ingest.serverdata import configured_dir, duckdb_tables, list_files, load_server_file, resolve
from ui.common import StateKeys
from ui.database import close_database, hold_database, open_database
from ui.text import md


T = TypeVar("T")


def _setting() -> str | None:
    try:
        return st.secrets.get("server_data", {}).get("dir")
    except (FileNotFoundError, KeyError, AttributeError):  # no secrets.toml: env var only
        return None


def server_data_widget() -> None:
    """Pick a Parquet file or DuckDB table in the server's data directory and load it into this
    session (as an upload would be); nothing is shown when the feature is off."""
    root = configured_dir(_setting())
    if root is None:
        return
    files = list_files(root)
    with st.expander(tr("Open a registry kept on the server"), expanded=False):
        if not files:
            st.info(tr("The server's data directory holds no Parquet or DuckDB file."))
            return
        relative = st.selectbox(tr("File in the server's data directory"), files, key=StateKeys.SERVER_FILE)
        table = None
        if relative.lower().endswith(".duckdb"):
            try:
                tables = duckdb_tables(resolve(root, relative))
            except HCCError as exc:  # a damaged or foreign file: say so instead of the crash message
                st.error(md(exc), icon=":material/error:")
                return
            table = st.selectbox(trc("server data", "Table"), tables, key=StateKeys.SERVER_TABLE)
        in_database = _database_mode_choice(root, relative, table)
        if not st.button(trc("server data", "Open"), key=StateKeys.SERVER_OPEN, icon=":material/folder_open:"):
            return
        if in_database:
            _open_in_database(root, relative, table)
            return
        registry = _opened(tr("Reading and checking {file}…", file=md(relative)),
                           lambda: load_server_file(root, relative, table),
                           lambda r: tr("{n} patients loaded", n=f"{r.n_patients:,}"))
        if registry is None:
            return
    close_database()
    st.session_state.pop(StateKeys.MEMO, None)
    st.session_state.pop(StateKeys.SOURCE, None)  # the server file replaces any upload held in the session
    st.session_state[StateKeys.REGISTRY] = registry
    st.rerun()  # so the sidebar, drawn before this page, names the new data


def _opened(working: str, open_: Callable[[], T], done: Callable[[T], str]) -> T | None:
    """``open_()`` inside a status box labelled ``working``, then ``done(result)``; None, with the
    reason shown, when it raises a :class:`hcc.errors.HCCError` (a file refused, a path not allowed)."""
    with st.status(working, expanded=False) as status:
        try:
            result = open_()
        except HCCError as exc:
            status.update(label=tr("Could not open it"), state="error")
            st.error(md(exc), icon=":material/error:")
            return None
        status.update(label=done(result), state="complete")
    return result


def _database_mode_choice(root, relative: str, table: str | None) -> bool:
    """Whether the file is to be opened in database mode: always when it is too large for memory
    (:func:`hcc.ingest.database.too_large_for_memory`), else as the user ticks."""
    try:
        rows, size = row_count(root, relative, table)
    except HCCError:  # an unreadable file: opening it says why
        rows, size = 0, 0
    if too_large_for_memory(rows, size):
        st.info(tr("{rows} rows: too many to load into memory (the limit is {limit}), so the file is analysed in the "
                   "database (its rows stay in the file). Overview, Survival and the cohort's attrition are available; "
                   "pages that need the rows in memory say so.", rows=f"{rows:,}", limit=f"{database_mode_rows():,}"),
                icon=":material/database:")
        return True
    return st.checkbox(tr("Analyse in the database (rows stay in the file)"), key=StateKeys.SERVER_IN_DATABASE,
                       help=tr("Only Overview, Survival and the cohort's attrition are available in database mode."))


def _open_in_database(root, relative: str, table: str | None) -> None:
    db = _opened(tr("Checking {file} in the database…", file=md(relative)), lambda: open_database(root, relative, table),
                 lambda d: tr("{n} patients, analysed in the database", n=f"{d.n_patients:,}"))
    if db is None:
        return
    hold_database(db)
    st.rerun()  # so the sidebar, drawn before this page, names the new data
