"""Open a registry kept on the server (Parquet file or DuckDB table) from the allow-listed directory.

Off unless ``HCC_SERVER_DATA_DIR`` or ``[server_data] dir`` in ``.streamlit/secrets.toml`` names a
directory (docs/deploy.md); the user can only pick files inside it. Call :func:`server_data_widget`
from the Data page.
"""

from __future__ import annotations

import streamlit as st

from hcc.errors import HCCError
from hcc.i18n import tr, trc
from hcc.ingest.serverdata import configured_dir, duckdb_tables, list_files, load_server_file, resolve
from ui.common import StateKeys
from ui.text import md


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
        if not st.button(trc("server data", "Open"), key=StateKeys.SERVER_OPEN, icon=":material/folder_open:"):
            return
        with st.status(tr("Reading and checking {file}…", file=md(relative)), expanded=False) as status:
            try:
                registry = load_server_file(root, relative, table)
            except HCCError as exc:
                status.update(label=tr("Could not open it"), state="error")
                st.error(md(exc), icon=":material/error:")
                return
            status.update(label=tr("{n} patients loaded", n=f"{registry.n_patients:,}"), state="complete")
    st.session_state.pop(StateKeys.MEMO, None)
    st.session_state.pop(StateKeys.SOURCE, None)  # the server file replaces any upload held in the session
    st.session_state[StateKeys.REGISTRY] = registry
    st.rerun()  # so the sidebar, drawn before this page, names the new data
