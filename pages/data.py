"""Data: upload a registry export (kept in this session only), map it to the data contract, read its report."""

import pandas as pd
import streamlit as st

from hcc.i18n import N_, tr, trc
from hcc.ingest.deid import aged_90_or_older
from hcc.outputs.tables import contract_table, template_csv
from ui.actions import guarded
from ui.common import StateKeys, current_cohort, current_registry, route_through_app
from ui.database import close_database, database_data_summary
from ui.mapping_ui import mapping_widget
from ui.present import present, presenting, table_slides
from ui.reopen import reopen_widget
from ui.server_data import server_data_widget
from ui.text import md, mds
from ui.upload import (clear_data, load_registry, ready_step, release_upload_cells, upload_widget,
                       validation_report)

route_through_app()
if presenting():  # no result on this page: what data the results are from
    registry = current_registry()
    present("pages/data.py", table_slides(tr("Data loaded"), pd.DataFrame({
        "": [trc("data summary", "Source"), tr("Rows in file"), tr("Patients kept"), tr("Rows excluded"),
             trc("data summary", "Warnings"), tr("SHA-256 (first 12)")],
        trc("data summary", "Value"): [registry.label, f"{registry.rows_read:,}", f"{registry.n_patients:,}",
                                       f"{len(registry.excluded):,}", f"{registry.n_warnings:,}", registry.sha256[:12]],
    })), registry.label)

st.title(tr("Data"))
st.markdown(tr("Upload a de-identified registry export, one row per patient: CSV (any separator, UTF-8 or "
               "Shift-JIS), Excel, Parquet, SPSS, Stata, or a REDCap record export with its data dictionary. The file "
               "stays in this browser session's memory: it is never written to disk, logged, or shared with other "
               "users, and it is gone when you close the tab or press **Clear data**."))

with st.expander(tr("Data format: the columns the app reads")):
    st.dataframe(contract_table(), hide_index=True)
    st.download_button(tr("Download an empty template (CSV header)"), template_csv(),
                       file_name="registry_template.csv", mime="text/csv")

source = upload_widget()
server_data_widget()  # only when the deployment allow-lists a server data directory (docs/deploy.md)
pending = False  # an upload whose mapping is not complete (or that cannot be read yet)
if source is not None:
    with st.expander(tr("Map your file to the data format"), expanded=True):
        mapping = mapping_widget(source)
    registry = load_registry(source, mapping) if mapping is not None else None
    if registry is not None and registry is not st.session_state.get(StateKeys.REGISTRY):
        close_database()  # an upload replaces a server registry open in database mode
        st.session_state[StateKeys.REGISTRY] = registry
        st.session_state[StateKeys.MAPPING] = (registry.sha256, mapping)  # the editors restart from it
        st.session_state.pop(StateKeys.MEMO, None)  # results of the same file under another mapping are stale
        release_upload_cells(source)  # before the cohort is computed: the peak holds no cells
        # memoized now, so the rerun's sidebar (which names the cohort) and the analysis pages start from
        # it instead of each applying the rules again (~1 s at 1M); an empty cohort's error goes with the rerun
        current_cohort()
        st.rerun()  # so the sidebar, drawn before this page, names the new file
    if mapping is None:
        st.info(tr("Until the mapping is complete, the other pages keep showing {data}.",
                   data=md(current_registry().label.lower())), icon=":material/info:")
    pending = registry is None
    if registry is not None:
        ready_step(registry)

if database_data_summary():  # a server registry in database mode: no rows here to summarize
    st.stop()
if StateKeys.REGISTRY in st.session_state:
    st.button(tr("Clear data"), key=StateKeys.CLEAR_DATA, icon=":material/delete:",
              on_click=guarded(clear_data, N_("Clearing the data")),
              help=tr("Remove the uploaded file and everything computed from it from this session; the pages "
                      "return to the synthetic demo registry."))

if pending:  # nothing of the data shown elsewhere (e.g. the demo's "No problems found") under this upload
    st.caption(tr("The summary and the validation report of this file appear here once the mapping is complete."))
    st.subheader(tr("Reopen a saved view"))
    reopen_widget()
    st.stop()
registry = current_registry()
st.subheader(md(registry.label))
cols = st.columns(4)
cols[0].metric(tr("Rows in file"), f"{registry.rows_read:,}")
cols[1].metric(tr("Patients kept"), f"{registry.n_patients:,}")
cols[2].metric(tr("Rows excluded"), f"{len(registry.excluded):,}")
cols[3].metric(trc("data summary", "Warnings"), f"{registry.n_warnings:,}")
st.caption(f"SHA-256 {registry.sha256}")
if registry.n_ages_capped:
    st.info(tr("{patients} in the file: ages recorded as 90, meaning “90 or older” (HIPAA Safe Harbor).",
               patients=aged_90_or_older(registry.n_ages_capped)))
if registry.absent_columns:
    st.info(tr("Optional columns not in the file (analyses that need them are unavailable): {columns}",
               columns=mds(registry.absent_columns)))
if registry.unknown_columns:
    st.info(tr("Columns not mapped to the data format, ignored: {columns}", columns=mds(registry.unknown_columns)))
validation_report(registry)

st.subheader(tr("Reopen a saved view"))
reopen_widget()
