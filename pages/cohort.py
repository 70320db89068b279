"""Cohort: who is in and why (flow diagram, attrition), baseline table, and what-if scenarios."""

import streamlit as st

from hcc.stats.baseline import baseline_table, table1_header, to_xlsx
from hcc.cohort.rules import apply_to_registry
from hcc.i18n import N_, tr
from hcc.outputs.figures import attrition_figure, regimen_colors
from hcc.outputs.tables import scenario_table, spreadsheet_safe
from hcc.schema import Endpoint
from ui.actions import guarded
from ui.common import StateKeys, cohort_index, cohort_page, current_spec, endpoint_summary, session_memo
from ui.present import Slide, present, presenting, table_slides
from ui.sidebar import load_spec
from ui.views import who_is_in

cohort, registry, caption = cohort_page(tr("Cohort"))
colors = regimen_colors(cohort.regimens)
if presenting():
    table1 = session_memo(("table1", registry.sha256, cohort.spec), lambda: baseline_table(cohort.frame, cohort.regimens))
    shown = [c for c in table1.columns if c not in ("Missing", "Test") and not str(c).startswith("SMD")]
    present("pages/cohort.py", [Slide(tr("Who is in, and why"), figure=attrition_figure(
        cohort.attrition, cohort.regimens, cohort.by_regimen(), colors, caption))]
            + table_slides(tr("Baseline characteristics (Table 1; tests and SMDs on the page)"),
                           table1[shown].rename(columns=table1_header)),
            caption)
st.markdown(tr("Change the rules in the sidebar (**Cohort rules**); every page follows this cohort. "
               "The address bar holds the rules: copy it to reopen or share the same cohort on the same data."))

who_is_in(cohort.attrition, cohort.regimens, cohort.by_regimen(), cohort.spec, colors, caption)

st.subheader(tr("Baseline characteristics"))
table = session_memo(("table1", registry.sha256, cohort.spec),
                     lambda: baseline_table(cohort.frame, cohort.regimens)).rename(columns=table1_header)
st.dataframe(table, hide_index=True)
st.caption(tr("Median [Q1, Q3] with Kruskal–Wallis test; n (%) with chi-square, or Fisher's exact test when an "
              "expected count is below 5; SMD = standardized mean difference."))
left, right = st.columns(2)
left.download_button(tr("Table 1 (CSV)"), spreadsheet_safe(table).to_csv(index=False).encode("utf-8"),
                     file_name="table1.csv", mime="text/csv")
right.download_button(tr("Table 1 (Excel)"), to_xlsx(spreadsheet_safe(table)), file_name="table1.xlsx",
                      mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")

st.subheader(tr("What-if: compare two cohorts"))
c1, c2 = st.columns(2)
c1.button(tr("Save the current cohort as scenario A"), key="scenario_a_save",
          on_click=guarded(lambda: st.session_state.update({StateKeys.SCENARIO_A: current_spec()}),
                           N_("Saving scenario A")))
saved = st.session_state.get(StateKeys.SCENARIO_A)
if saved is not None:
    c2.button(tr("Restore scenario A in the sidebar"), key="scenario_a_restore",
              on_click=guarded(load_spec, N_("Restoring scenario A")), args=(saved,))
if saved is None:
    st.info(tr("Save the current cohort as scenario A, change the rules in the sidebar, and compare here."))
else:
    endpoints = (Endpoint.OS, Endpoint.PFS)

    def with_summaries(c):
        return c, {e: endpoint_summary(registry, c, e, comparisons=False) for e in endpoints}

    cohort_a = session_memo(("cohort", registry.sha256, saved),
                            lambda: apply_to_registry(registry, saved, cohort_index(registry)))
    named = {tr("A: {cohort}", cohort=cohort_a.name.short): with_summaries(cohort_a),
             tr("B (current): {cohort}", cohort=cohort.name.short): with_summaries(cohort)}
    st.dataframe(scenario_table(named, endpoints), hide_index=True)
