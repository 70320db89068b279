"""Widget groups shared by pages: they read choices into hcc specs and never compute statistics."""

from __future__ import annotations


import streamlit as st

from hcc.i18n import tr, trc
from hcc.ingest.deid import SMALL_CELL, small_cells
from hcc.formatting import format_p
from hcc.outputs.competing_figures import cif_figure
from hcc.outputs.competing_tables import cif_table, competing_values_table, counts_table, ratio_table
from hcc.outputs.figures import KMFigureOptions, default_break_months, km_figure, regimen_colors
from hcc.outputs.tables import comparison_table, endpoint_table, pairwise_table, plain_summary, table_notes
from hcc.stats.survival import ADJUSTMENTS, CONF_TYPES, TESTS, AnalysisSpec, EndpointSummary
from hcc.schema import Endpoint
from hcc.reference.trials import registry_vs_trials
from ui.common import StateKeys
from ui.downloads import figure_downloads, table_downloads
from ui.present import on_screen
from ui.text import md, md_table, mds
from ui.i18n import shown_in_this_language

TRIAL_ENDPOINTS = (Endpoint.OS.value, Endpoint.PFS.value)

_MILESTONE_CHOICES = (3, 6, 9, 12, 18, 24, 36, 48, 60)
_DEFAULT = AnalysisSpec()


def analysis_spec_form(regimens: tuple[str, ...]) -> AnalysisSpec:
    """Statistical settings in a form (one recomputation per submit); returns the current spec."""
    with st.expander(trc("survival page", "Statistical settings")), st.form("stat_settings", border=False):
        c1, c2, c3 = st.columns(3)
        c1.selectbox(tr("Confidence interval of the curve"), CONF_TYPES, key=StateKeys.CONF_TYPE,
                     help=tr("log-log is the default of SAS and lifelines (R: conf.type = \"log-log\"); "
                             "the median's CI follows the same choice."))
        c1.selectbox(trc("statistical settings", "Test"), list(TESTS), format_func=shown_in_this_language(lambda k: tr(TESTS[k])),
                     key=StateKeys.RHO, help=tr("Peto–Peto weights early differences more (R survdiff rho = 1)."))
        c2.multiselect(tr("Milestone rates at (months)"), _MILESTONE_CHOICES, key=StateKeys.MILESTONES,
                       default=[int(m) for m in _DEFAULT.milestones_months])
        c2.number_input(tr("RMST horizon τ, months (0 = automatic)"), min_value=0, max_value=240, step=3,
                        key=StateKeys.TAU, help=tr("Automatic: the shortest follow-up among the regimens of 10 or "
                                                   "more patients, in whole months. τ may not pass any regimen's "
                                                   "last follow-up (survRM2's rule): a regimen followed for less is "
                                                   "shown as not estimable, with the largest τ all regimens allow."))
        c3.selectbox(tr("Reference regimen (hazard ratios, RMST differences)"), regimens, key=StateKeys.REFERENCE)
        c3.selectbox(tr("Pairwise p-value adjustment"), ADJUSTMENTS, format_func=shown_in_this_language(adjustment_name),
                     key=StateKeys.ADJUST)
        st.form_submit_button(trc("statistical settings", "Apply"))
    state = st.session_state
    reference = state.get(StateKeys.REFERENCE)
    return AnalysisSpec(
        conf_type=state.get(StateKeys.CONF_TYPE, _DEFAULT.conf_type),
        milestones_months=tuple(float(m) for m in sorted(state.get(StateKeys.MILESTONES) or
                                                         _DEFAULT.milestones_months)),
        tau_months=float(state[StateKeys.TAU]) if state.get(StateKeys.TAU) else None,
        reference=reference if reference in regimens else None,
        adjust=state.get(StateKeys.ADJUST, _DEFAULT.adjust),
        rho=state.get(StateKeys.RHO, _DEFAULT.rho),
    )


def adjustment_name(method: str) -> str:
    """A p-value adjustment (a value of ``ADJUSTMENTS``, as R's ``p.adjust`` names it) as shown."""
    names = {"holm": trc("p-value adjustment", "holm"), "bonferroni": trc("p-value adjustment", "bonferroni"),
             "none": trc("p-value adjustment", "none")}
    return names.get(method, method)


def indexed(table, n: int = 1):
    """``table`` indexed by its first ``n`` columns (for ``st.table``): by position, as their names are
    in the reader's language."""
    return table.set_index(list(table.columns[:n]) if n > 1 else table.columns[0])


def second_line_level_name(level: str) -> str:
    """How the After-first-line page groups second and third lines (a value of
    :data:`hcc.cohort.secondline.LEVELS`), in words."""
    names = {"regimen": trc("second-line level", "regimen"), "class": trc("second-line level", "class")}
    return names.get(level, level)


def first_column_as(table, label: str):
    """``table`` with its first column (the groups: "Regimen" or its translation) named ``label``."""
    return table.rename(columns={table.columns[0]: label})


def km_figure_options(endpoint: str, default_horizon: float, max_months: float) -> KMFigureOptions:
    """Cosmetic toggles for the KM figure (used inside a fragment, so they only redraw)."""
    c1, c2, c3, c4 = st.columns([1, 1, 1, 2])
    show_ci = c1.toggle(tr("95% CI bands"), key=StateKeys.SHOW_CI)
    percent = c1.toggle(trc("figure option", "Percent"), key=StateKeys.PERCENT)
    risk = c2.toggle(tr("Number at risk"), value=True, key=StateKeys.RISK_TABLE)
    kmunicate = c2.toggle(tr("KMunicate table"), key=StateKeys.KMUNICATE, disabled=not risk,
                          help=tr("At risk, cumulative events and censored under each break."))
    medians = c3.toggle(tr("Median lines"), value=True, key=StateKeys.MEDIAN_LINES)
    trials = c3.toggle(tr("Trial medians"), key=StateKeys.TRIAL_MEDIANS, disabled=endpoint not in TRIAL_ENDPOINTS,
                       help=tr("The landmark trials' medians of the same regimen, marked on each curve (OS, PFS)."))
    top = max(3.0, float(max_months))
    horizon = c4.slider(tr("Horizon, months"), min_value=3.0, max_value=top, step=3.0,
                        value=min(default_horizon, top), key=StateKeys.HORIZON + endpoint,
                        format="%g")  # "60", not "60.00"
    breaks = c4.segmented_control(tr("Breaks every (months)"), [3, 6, 12], key=StateKeys.BREAKS,
                                  default=default_break_months(horizon))
    return KMFigureOptions(show_ci=show_ci, horizon_months=horizon, break_months=breaks, percent=percent,
                           risk_table=risk, kmunicate=kmunicate and risk, median_lines=medians,
                           trial_medians=trials and endpoint in TRIAL_ENDPOINTS)


def small_cell_note(counts: dict[str, int]) -> None:
    """A warning under a table whose groups have 1–4 patients (re-identification risk when shared)."""
    small = small_cells(counts)
    if small:
        st.caption(":material/warning: " + tr("Fewer than {n} patients in {groups}: take care when showing or sharing "
                                              "this table outside the care team (small cells can identify patients).",
                                              n=SMALL_CELL, groups=mds(small)))


def summary_tables(summary: EndpointSummary, name: str | None = None, group_label: str | None = None) -> None:
    """The sentence and tables under a KM figure: per-group statistics, pairwise tests, and each
    group against the reference (Survival and After-first-line pages), with CSV / Excel downloads
    named after ``name`` (default: the endpoint; give one per figure when a page shows several).
    ``group_label`` heads the groups' column (default the table's own, "Regimen"; e.g. "Second line" when the
    groups are not regimens)."""
    name = name or summary.endpoint.value
    st.markdown(md(plain_summary(summary)))
    for note in summary.notes:  # what changed the groups, e.g. second-line regimens pooled as Other
        st.info(md(note), icon=":material/info:")
    table = endpoint_table(summary)
    group_label = group_label or table.columns[0]
    table = first_column_as(table, group_label)
    st.table(md_table(table.set_index(group_label)))
    for note in table_notes(summary):  # NR explained once, midpoint-rule medians, the RMST horizon rule
        st.caption(md(note))
    small_cell_note({g.group: g.n for g in summary.groups})
    table_downloads(table, f"{name}_by_group")
    if summary.pairwise:
        left, right = st.columns(2)
        left.markdown(tr("**Pairwise comparisons**"))
        left.table(md_table(indexed(pairwise_table(summary))))
        right.markdown(tr("**Against {reference}**", reference=md(summary.reference)))
        right.table(md_table(first_column_as(comparison_table(summary), group_label).set_index(group_label)))
    if summary.endpoint.value in TRIAL_ENDPOINTS:
        st.markdown(tr("**Registry against the landmark trials** (published medians; citations in the last column)"))
        versus = registry_vs_trials(summary)
        st.dataframe(versus, hide_index=True)
        table_downloads(versus, f"{name}_registry_vs_trials")


def km_section(summary: EndpointSummary, title: str, name: str, colors: dict[str, str], caption: str,
               group_label: str | None = None) -> None:
    """One summary's figure (titled ``title``; keyed and downloaded as ``name``), sentence and tables, as
    the Survival page shows them: for a page that shows several (After first line)."""
    group_colors = {**regimen_colors(tuple(g.group for g in summary.groups)), **colors}
    fig = on_screen(km_figure(summary, group_colors, subtitle=caption, title=title), caption)
    st.plotly_chart(fig, key=name, theme=None)
    figure_downloads(fig, name)
    summary_tables(summary, name, group_label)


def competing_section(s, name: str, colors: dict[str, str], caption: str) -> None:
    """One competing-risks analysis (:class:`hcc.stats.competing.CompetingSummary`) on the page: stacked
    cumulative incidence, counts, milestones, Gray's test, the two kinds of hazard ratio, who is not in it
    and the CSV/Excel of every number."""
    fig = on_screen(cif_figure(s, colors, subtitle=caption), caption)
    st.plotly_chart(fig, key=f"cif_{name}", theme=None)
    figure_downloads(fig, f"cif_{name}")
    st.table(md_table(indexed(counts_table(s))))
    st.table(md_table(indexed(cif_table(s), 2)))
    if s.gray is not None:
        event_words = tr(s.definition.event_words)
        st.markdown(md(tr("Gray's test across regimens ({events}): χ² = {chi2:.2f}, df = {df}, {p}.",
                          events=event_words.lower(), chi2=s.gray.statistic, df=s.gray.df, p=format_p(s.gray.p))))
    if s.fine_gray:
        st.table(md_table(indexed(ratio_table(s))))
    left = [f"{k}: {v}" for k, v in {**s.not_eligible, **s.excluded}.items()]
    if left:
        st.caption(md(tr("Not in this analysis — {reasons}.", reasons="; ".join(left))))
    table_downloads(competing_values_table(s), f"competing_{name}")
