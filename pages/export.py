"""Report & slides: the HTML report, its PDF and a PowerPoint deck of the current cohort and settings,
the methods paragraph to paste into a manuscript, and (in presentation mode) one result per screen."""

import streamlit as st

from hcc.analysis import analyze
from hcc.i18n import N_, tr, trc
from hcc.outputs.reports import adjusted_parts, build_report, report_html, report_pdf, report_pptx
from hcc.outputs.export import MIME, ExportError
from hcc.outputs.figures import KMFigureOptions
from hcc.schema import SURVIVAL_ENDPOINTS, Endpoint
from ui.actions import guarded
from ui.common import StateKeys, cohort_page, session_memo
from ui.downloads import reproduce_in_r
from ui.present import Slide, present, presenting, table_slides
from ui.reopen import reopen_widget
from ui.widgets import analysis_spec_form

cohort, registry, caption = cohort_page(tr("Report & slides"))
analysis = analysis_spec_form(cohort.regimens)
state = st.session_state
if presenting():  # no settings on screen: the last choices (or the defaults)
    chosen = state.get(StateKeys.EXPORT_FIGURES) or [Endpoint.OS.value, Endpoint.PFS.value]
    trials = state.get(StateKeys.TRIAL_MEDIANS, True)
else:
    chosen = st.multiselect(tr("Kaplan–Meier figures of"), [e.value for e in SURVIVAL_ENDPOINTS],
                            default=[Endpoint.OS.value, Endpoint.PFS.value], key=StateKeys.EXPORT_FIGURES,
                            placeholder=trc("multiselect placeholder", "Choose options"))
    trials = st.toggle(tr("Mark the landmark trials' medians on OS and PFS"), value=True, key=StateKeys.TRIAL_MEDIANS)
endpoints = tuple(Endpoint(e) for e in chosen)
options = KMFigureOptions(trial_medians=trials)
result = session_memo(("analysis", registry.sha256, cohort.spec, analysis),
                      lambda: analyze(registry, cohort.spec, analysis=analysis))
settings = (registry.sha256, cohort.spec, analysis, endpoints, options)
report = session_memo(("report",) + settings, lambda: build_report(result, endpoints, options,
                                                                  adjusted=adjusted_parts(cohort)))

if presenting():
    present("pages/export.py", [Slide(f.title, figure=f.figure) for f in report.figures]
            + [s for t in report.tables if t.in_deck
               for s in table_slides(t.title, t.table[list(t.deck_columns)] if t.deck_columns else t.table)], caption)

st.subheader(tr("Statistical analysis (methods paragraph)"))
st.caption(tr("Written from the estimators, CI methods, tests and package versions used for these results. "
              "Copy with the button at the top right of the box."))
st.code(report.methods, language=None, wrap_lines=True)

st.subheader(trc("report page", "Files"))
st.markdown(tr("{n_figures} figures ({figures}) and {n_tables} tables; every file embeds the cohort spec, the "
               "statistical settings and the data fingerprint (SHA-256 `{sha}…`, {rows} rows).",
               n_figures=len(report.figures),
               figures=trc("list of figures", ", ").join(f.title for f in report.figures),
               n_tables=len(report.tables), sha=registry.sha256[:12], rows=f"{registry.rows_read:,}"))
built = state.get(StateKeys.EXPORT_BUILT)
files = built[1] if built is not None and built[0] == settings else {}
#: Per format: the file's name on its buttons ("Build …", "Download …"), the action named if building
#: fails (as the English has always said it: lower case), and the maker.
makers = {"html": (tr("HTML report (interactive)"), N_("Building the html report (interactive)"),
                   lambda: report_html(report).encode("utf-8")),
          "pdf": (tr("PDF report"), N_("Building the pdf report"), lambda: report_pdf(report)),
          "pptx": (tr("Slide deck (PowerPoint)"), N_("Building the slide deck (powerpoint)"),
                   lambda: report_pptx(report))}


def build(fmt: str) -> None:  # a callback: the file is made before the page reruns, and kept
    try:
        state[StateKeys.EXPORT_BUILT] = (settings, {**files, fmt: makers[fmt][2]()})
    except ExportError as exc:  # e.g. every export browser busy
        state[StateKeys.EXPORT_BUILT + StateKeys.EXPORT_ERROR] = f"{makers[fmt][0]}: {exc}"


if error := state.pop(StateKeys.EXPORT_BUILT + StateKeys.EXPORT_ERROR, None):
    st.error(error, icon=":material/error:")

for column, (fmt, (label, action, _make)) in zip(st.columns(3), makers.items()):
    if fmt not in files:
        column.button(tr("Build {file}", file=label), key=f"build_{fmt}", width="stretch",
                      on_click=guarded(build, action), args=(fmt,))
    else:
        column.download_button(tr("Download {file}", file=label), files[fmt], file_name=f"hcc_report.{fmt}",
                               mime=MIME[fmt],
                               key=f"download_{fmt}", icon=":material/download:", type="primary", width="stretch",
                               on_click="ignore")

st.subheader(tr("Reproduce in R"))
reproduce_in_r(registry, cohort, analysis, key="reproduce_in_r_export")

with st.expander(tr("Reopen a report or deck")):
    reopen_widget()
