"""Data: upload a registry export (kept in this session only) and read its validation report."""

import streamlit as st

from hcc.errors import HCCError
from hcc.registry import load_bytes
from hcc.report import contract_table, issues_table, spreadsheet_safe, template_csv
from pages._common import route_through_app, StateKeys, current_registry

route_through_app()

st.title("Data")
st.markdown("Upload a de-identified registry export as CSV, one row per patient, with the columns of the "
            "data format (`docs/data-format.md`). The file stays in this browser session's memory: it is "
            "never written to disk, logged, or shared with other users, and it is gone when you close the tab.")

with st.expander("Data format: the columns the app reads"):
    st.dataframe(contract_table(), hide_index=True)
    st.download_button("Download an empty template (CSV header)", template_csv(),
                       file_name="registry_template.csv", mime="text/csv")

upload = st.file_uploader("Registry file (CSV)", type=["csv", "txt", "tsv"], key=StateKeys.UPLOAD)
if upload is not None:
    try:
        registry = load_bytes(upload.getvalue(), upload.name)
    except HCCError as exc:
        st.error(str(exc), icon=":material/error:")
    else:
        if getattr(st.session_state.get(StateKeys.REGISTRY), "sha256", None) != registry.sha256:
            st.session_state[StateKeys.REGISTRY] = registry
            st.session_state.pop(StateKeys.MEMO, None)
            st.rerun()  # so the sidebar, drawn before this page, names the new file
if StateKeys.REGISTRY in st.session_state and st.button("Use the synthetic demo registry instead"):
    del st.session_state[StateKeys.REGISTRY]
    st.session_state.pop(StateKeys.MEMO, None)
    st.rerun()

registry = current_registry()
st.subheader(registry.label)
cols = st.columns(4)
cols[0].metric("Rows in file", f"{registry.rows_read:,}")
cols[1].metric("Patients kept", f"{registry.n_patients:,}")
cols[2].metric("Rows excluded", f"{len(registry.excluded):,}")
cols[3].metric("Warnings", f"{registry.n_warnings:,}")
st.caption(f"SHA-256 {registry.sha256}")

if registry.absent_columns:
    st.info("Optional columns not in the file (analyses that need them are unavailable): "
            + ", ".join(registry.absent_columns))
if registry.unknown_columns:
    st.info("Columns not in the data format, ignored: " + ", ".join(registry.unknown_columns))
if not registry.issues:
    st.success("No problems found.", icon=":material/check_circle:")
else:
    table = issues_table(registry.issues)
    st.warning(f"{registry.n_errors} row-excluding problem(s) and {registry.n_warnings} warning(s).")
    st.dataframe(table, hide_index=True)
    st.download_button("Download the validation report (CSV)", spreadsheet_safe(table).to_csv(index=False).encode("utf-8"),
                       file_name="validation_report.csv", mime="text/csv")
