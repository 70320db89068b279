"""Tables and sentences built from results, shared by the pages, the CLI and (later) reports.

Headers, labels and sentences are in the current language (:mod:`hcc.i18n`). A caller that picks a
column by name asks :func:`header` for it: ``table.set_index(header("Regimen"))`` works in every language.
"""

from __future__ import annotations

import math
import re
from typing import Any

import pandas as pd

from hcc.formatting import format_hr, format_months, format_p
from hcc.i18n import N_, tr, trc
from hcc.stats.response import COVARIATE_LABELS, DENOMINATORS, POOLED, RATES, ResponseSummary
from hcc.schema import COLUMNS, Col, endpoint_label, value_label
from hcc.stats.survival import EndpointSummary, GroupSummary


def header(name: str) -> str:
    """The column ``name`` (its English header, e.g. ``"Regimen"``) as the tables of this module and of
    :mod:`hcc.outputs.competing_tables` / :mod:`hcc.reference.trials` write it in the current language."""
    return trc("table header", name)


def format_median(g: GroupSummary) -> str:
    """E.g. ``20.6 (17.1–24.0)``; NR for a limit not reached."""
    if g.n == 0:
        return "—"
    return f"{format_months(g.median)} ({format_months(g.median_low)}–{format_months(g.median_high)})"


def format_rate(r) -> str:
    """A milestone rate as percent with CI, e.g. ``62% (55–68)``; ``0% (NA–NA)`` once the curve has
    reached 0; "not estimable — <reason>" when nobody was followed that long."""
    if r.surv is None or math.isnan(r.surv):
        return tr("not estimable — {reason}", reason=getattr(r, "reason", "") or tr("no patient followed this long"))
    lo = "NA" if math.isnan(r.lower) else f"{100 * r.lower:.0f}"
    hi = "NA" if math.isnan(r.upper) else f"{100 * r.upper:.0f}"
    return f"{100 * r.surv:.0f}% ({lo}–{hi})"


def endpoint_table(summary: EndpointSummary) -> pd.DataFrame:
    """One row per regimen: n, events, median (95% CI), milestone rates (95% CI), RMST (SE),
    median follow-up (reverse KM); times in months. The log-rank p is in the first row."""
    test = summary.logrank
    p = format_p(test.p) if test else "—"
    rows = []
    for i, g in enumerate(summary.groups):
        row = {trc("table header", "Regimen"): g.group, trc("table header", "Patients"): g.n, trc("table header", "Events"): g.events,
               trc("table header", "Median, months (95% CI)"): format_median(g)}
        for r in g.rates:
            row[tr("{months}-month rate (95% CI)", months=f"{r.time:g}")] = format_rate(r)
        if g.rmst is not None:
            row[tr("RMST to {tau} months (SE)", tau=f"{g.rmst.tau:g}")] = (
                f"{g.rmst.estimate:.1f} ({g.rmst.se:.2f})" if g.rmst.estimable else g.rmst.reason)
            row[trc("table header", "Median follow-up, months")] = format_months(g.followup_median)
        row[_test_header(test)] = p if i == 0 else ""
        rows.append(row)
    return pd.DataFrame(rows)


def _test_header(test) -> str:
    """The header of the log-rank (or Peto–Peto, rho = 1) p column."""
    return trc("table header", "Log-rank") if test is None or test.rho == 0 else "Peto–Peto"


def _versus(a: str, b: str) -> str:
    return trc("comparison", "{a} vs {b}", a=a, b=b)


def pairwise_table(summary: EndpointSummary) -> pd.DataFrame:
    """Pairwise tests: the two regimens, chi-square, p and the adjusted p."""
    adj = summary.spec.adjust
    method = {"holm": trc("p adjustment", "holm"), "bonferroni": trc("p adjustment", "bonferroni")}.get(adj, adj)
    adjusted = tr("p ({method})", method=method) if adj != "none" else trc("table header", "p (unadjusted)")
    return pd.DataFrame([{trc("table header", "Comparison"): _versus(t.a, t.b), trc("table header", "Chi-square"): f"{t.statistic:.2f}",
                          "p": format_p(t.p) + ("" if t.testable else f" ({t.reason})"),
                          adjusted: format_p(t.p_adj)}
                         for t in summary.pairwise])


def comparison_table(summary: EndpointSummary) -> pd.DataFrame:
    """Each regimen against the reference: Cox HR (95% CI, Wald p) and RMST difference (95% CI)."""
    diffs = {d.a: d for d in summary.rmst_differences}
    rows = []
    for c in summary.cox:
        d = diffs.get(c.term)
        rows.append({
            trc("table header", "Regimen"): _versus(c.term, c.reference),
            trc("table header", "Hazard ratio (95% CI)"): c.reason if not c.estimable else
                format_hr(c.hr, c.lower, c.upper) + (f" — {c.note}" if c.note else ""),
            trc("table header", "p (Wald)"): format_p(c.p) if c.estimable else "",
            tr("RMST difference to {tau} months (95% CI)", tau=f"{summary.tau_months:g}"): _rmst_difference_cell(d),
        })
    return pd.DataFrame(rows)


def _rmst_difference_cell(d) -> str:
    if d is None:
        return "—"
    if not d.estimable:
        return d.reason
    return tr("{difference} ({low} to {high})", difference=f"{d.difference:+.1f}", low=f"{d.lower:+.1f}",
              high=f"{d.upper:+.1f}")


#: What NR means, said once under every table that shows it.
NR_NOTE = N_("NR = not reached: the curve (or its confidence limit) did not fall to 50% during follow-up.")


def table_notes(summary: EndpointSummary) -> tuple[str, ...]:
    """The notes under an endpoint's tables: NR explained (once, when NR appears), medians from the
    midpoint rule, and the RMST horizon rule with the largest admissible τ when a group falls short."""
    notes = []
    shown = [g for g in summary.groups if g.n]
    if any(math.isnan(x) for g in shown for x in (g.median, g.median_low, g.median_high)):
        notes.append(tr(NR_NOTE))
    if any(math.isnan(g.followup_median) for g in shown):
        notes.append(tr("Median follow-up NR: fewer than half of the patients were censored (most had the event), so "
                        "the reverse Kaplan–Meier curve did not reach 50%; the longest follow-up is in the figure."))
    notes += [tr("Median of {group}: {note}.", group=g.group, note=g.median_note) for g in shown if g.median_note]
    if any(g.rmst is not None and not g.rmst.estimable for g in shown):
        notes.append(tr("RMST: τ may not pass any group's last follow-up (survRM2's rule); the largest τ all groups "
                        "allow here is {tau} months (set it as the RMST horizon in the "
                        "statistical settings, or --tau on the command line).", tau=f"{summary.tau_max_months:.1f}"))
    return tuple(notes)


def overview_table(summaries: list[EndpointSummary]) -> pd.DataFrame:
    """Endpoints as rows; per regimen 'median (n)' in months; log-rank p."""
    rows = []
    for s in summaries:
        row = {trc("table header", "Endpoint"): s.endpoint.value}
        for g in s.groups:
            row[g.group] = trc("table cell", "not available") if s.unavailable else f"{format_months(g.median)} (n={g.n})" if g.n else "—"
        row[trc("table header", "Log-rank")] = format_p(s.logrank.p) if s.logrank else "—"
        rows.append(row)
    return pd.DataFrame(rows)


#: Fewest patients a group needs to be ranked in a sentence ("longest with ...").
MIN_TO_COMPARE = 10


def plain_summary(summary: EndpointSummary) -> str:
    """A sentence a clinician can read aloud, e.g. 'Median OS was longest with ATZ_BEV: 20.6 months
    (95% CI 17.1–24.0); log-rank p = 0.002 across 3 regimens.'

    Only groups of at least :data:`MIN_TO_COMPARE` patients whose median has a defined CI (its lower
    limit reached) are ranked; the others are named as "too few to compare: RAM (n = 1)" or "not
    ranked, median CI not defined"."""
    if summary.unavailable:
        return summary.unavailable
    groups = [g for g in summary.groups if g.n > 0]
    label = endpoint_label(summary.endpoint).lower()
    small = [g for g in groups if g.n < MIN_TO_COMPARE]
    sizable = [g for g in groups if g.n >= MIN_TO_COMPARE]
    reached = [g for g in sizable if not math.isnan(g.median)]
    # "Defined CI": a lower limit was reached (an open upper limit, "18.6–NR", is common and fine;
    # "NR–NR" is what one or two patients give).
    undefined = [g for g in reached if math.isnan(g.median_low)]
    reached = [g for g in reached if g not in undefined]
    unreached = [g.group for g in sizable if math.isnan(g.median)]
    parts = []
    if reached:
        best = max(reached, key=lambda g: g.median)
        parts.append(tr("Median {endpoint} was longest with {group}: {median} months (95% CI {low}–{high})",
                        endpoint=label, group=best.group, median=format_months(best.median),
                        low=format_months(best.median_low), high=format_months(best.median_high)))
    if unreached:
        parts.append(tr("the median was not reached with {groups}", groups=", ".join(unreached)))
    if undefined:
        parts.append(tr("not ranked, median CI not defined: {groups}", groups=", ".join(
            tr("{group} ({median} months)", group=g.group, median=format_months(g.median)) for g in undefined)))
    if small:
        parts.append(tr("too few to compare: {groups}", groups=", ".join(f"{g.group} (n = {g.n})" for g in small)))
    if not parts:
        parts.append(tr("No {endpoint} data", endpoint=label))
    if summary.logrank is not None:
        parts.append(tr("log-rank {p} across {n} regimens", p=format_p(summary.logrank.p), n=len(groups)))
    # Japanese writes each clause as a sentence of its own (。), English joins them with "; ".
    return trc("clause separator", "; ").join(parts) + trc("sentence end", ".")


#: What makes a spreadsheet (Excel, LibreOffice, Sheets) read a text cell as a formula or a command.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
#: A plain decimal number (optional sign, decimals, exponent): data, not a formula, even when it
#: starts with "-" or "+"; "-2+3" or "-1e5*2" are not plain numbers and are quoted.
_PLAIN_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")


def spreadsheet_cell(value: Any) -> Any:
    """One cell or header made safe for a spreadsheet: text a spreadsheet would run as a formula
    (starting with =, +, -, @, tab or carriage return) gets a leading apostrophe; numbers, and text
    that is just a plain number such as "-0.043", are returned unchanged (quoting them would turn
    data into text)."""
    if isinstance(value, str) and value.startswith(_FORMULA_START) and not _PLAIN_NUMBER.fullmatch(value):
        return "'" + value
    return value


def _safe_labels(index: pd.Index) -> pd.Index:
    """Column or row labels through :func:`spreadsheet_cell`, every level of a MultiIndex and the names."""
    names = [spreadsheet_cell(n) for n in index.names]
    if isinstance(index, pd.MultiIndex):
        return pd.MultiIndex.from_tuples([tuple(spreadsheet_cell(v) for v in t) for t in index], names=names)
    if index.dtype == object:
        return pd.Index([spreadsheet_cell(v) for v in index], dtype=object, name=names[0])
    return index.rename(names[0])  # numeric or date labels cannot start a formula


def spreadsheet_safe(frame: pd.DataFrame) -> pd.DataFrame:
    """Copy safe to open in a spreadsheet (CSV or XLSX): every text cell, column header (each level
    of a MultiIndex) and row label that would run as a formula gets a leading apostrophe
    (:func:`spreadsheet_cell`). Regimen, center and subgroup names come from the uploaded file and
    become headers (Table 1, subgroups, IPTW balance), so headers are guarded like cells. Numeric
    cells keep their type."""
    out = frame.map(spreadsheet_cell)
    out.columns = _safe_labels(frame.columns)
    out.index = _safe_labels(frame.index)
    return out


_ISSUE_COLUMNS = ["Severity", "Row", "Patient", "Column", "Value", "Rule", "Problem", "How to fix"]


def _headers(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` with the validation report's (English) column names in the current language."""
    names = {"Severity": trc("table header", "Severity"), "Row": trc("table header", "Row"),
             "Patient": trc("table header", "Patient"), "Column": trc("table header", "Column"),
             "Value": trc("table header", "Value"), "Rule": trc("table header", "Rule"),
             "Problem": trc("table header", "Problem"), "How to fix": trc("table header", "How to fix"),
             "Problems": trc("table header", "Problems"), "Rows affected": trc("table header", "Rows affected")}
    return frame.rename(columns=names)


def _severity(value: str) -> str:
    return {"error": trc("issue severity", "error"), "warning": trc("issue severity", "warning")}.get(value, value)


def _issues_frame(issues) -> pd.DataFrame:
    return pd.DataFrame([{"Severity": _severity(i.severity.value), "Row": i.row, "Patient": i.patient_id,
                          "Column": i.column, "Value": i.value, "Rule": tr(i.rule.value), "Problem": i.message,
                          "How to fix": i.fix} for i in issues], columns=_ISSUE_COLUMNS)


def issues_table(issues) -> pd.DataFrame:
    """The validation report: one row per problem (severity, spreadsheet row, patient_id, column, value,
    rule, problem, how to fix)."""
    return _headers(_issues_frame(issues))


def rule_counts_table(issues) -> pd.DataFrame:
    """Problems counted by rule and severity, with the number of patients (rows) affected."""
    table = _issues_frame(issues)
    if table.empty:
        return _headers(pd.DataFrame(columns=["Rule", "Severity", "Problems", "Rows affected"]))
    grouped = table.groupby(["Rule", "Severity"], sort=False)
    return _headers(pd.DataFrame({"Problems": grouped.size(), "Rows affected": grouped["Row"].nunique()}).reset_index()
                    .sort_values("Problems", ascending=False, ignore_index=True))


def contract_table() -> pd.DataFrame:
    """The data contract (hcc.schema.COLUMNS) as a table for the Data page."""
    kinds = {"text": trc("column type", "text"), "date": trc("column type", "date"),
             "boolean": trc("column type", "boolean"), "integer": trc("column type", "integer"),
             "number": trc("column type", "number"), "category": trc("column type", "category")}
    return pd.DataFrame([{trc("table header", "Column"): c.name,
                          trc("table header", "Required"): trc("required column", "yes") if c.required else "",
                          trc("table header", "Type"): kinds.get(c.kind.value, c.kind.value), trc("table header", "Allowed values"): ", ".join(c.allowed),
                          trc("table header", "Meaning"): tr(c.meaning)} for c in COLUMNS])


def template_csv() -> bytes:
    """An empty registry file: the header row with every canonical column (the same in every language)."""
    return (",".join(c.name for c in COLUMNS) + "\n").encode("utf-8")


def attrition_table(attrition, regimens: tuple[str, ...]) -> pd.DataFrame:
    """The attrition log as a table: step, excluded (total and per regimen), remaining."""
    # Counts as whole numbers ("1,542"), "—" where a step has no per-regimen breakdown (never None / 388.0).
    return pd.DataFrame([{trc("table header", "Step"): tr(s.rule), trc("table header", "Excluded"): f"{s.excluded:,}",
                          **{tr("Excluded {regimen}", regimen=r): f"{s.excluded_by_regimen.get(r, 0):,}"
                             if s.excluded_by_regimen else "—" for r in regimens},
                          trc("table header", "Remaining"): f"{s.remaining:,}"} for s in attrition])


def scenario_table(named: dict[str, tuple], endpoints: tuple) -> pd.DataFrame:
    """Cohorts side by side: patients per regimen and each endpoint's median (months) per regimen.

    ``named`` maps a scenario name to ``(cohort, {endpoint: EndpointSummary})``.
    """
    regimens: list[str] = []
    for cohort, _ in named.values():
        regimens += [r for r in cohort.regimens if r not in regimens]
    measure, regimen, patients = trc("table header", "Measure"), trc("table header", "Regimen"), tr("Patients")
    rows = [{measure: patients, regimen: trc("all regimens", "all"),
             **{name: f"{c.n:,}" for name, (c, _) in named.items()}}]
    for r in regimens:
        rows.append({measure: patients, regimen: r,
                     **{name: f"{c.by_regimen().get(r, 0):,}" for name, (c, _) in named.items()}})
    for e in endpoints:
        for r in regimens:
            row = {measure: tr("Median {endpoint}, months (95% CI)", endpoint=e.value), regimen: r}
            for name, (_, summaries) in named.items():
                g = {x.group: x for x in summaries[e].groups}.get(r)
                row[name] = format_median(g) if g is not None else "—"
            rows.append(row)
        row = {measure: tr("{endpoint} log-rank", endpoint=e.value), regimen: ""}
        for name, (_, summaries) in named.items():
            test = summaries[e].logrank
            row[name] = format_p(test.p) if test else "—"
        rows.append(row)
    return pd.DataFrame(rows)


def uptake_table(rows) -> pd.DataFrame:
    """Second-line uptake per first-line regimen (see :func:`hcc.cohort.secondline.uptake`)."""
    return pd.DataFrame([{
        trc("table header", "First-line regimen"): u.regimen, trc("table header", "Patients"): u.patients, trc("table header", "Progressed on first line"): u.progressed,
        trc("table header", "Started second line after progression"): (f"{u.started_after_progression} ({100 * u.share:.0f}%)"
                                                      if u.progressed else "—"),
        trc("table header", "Started second line (all)"): u.started,
        trc("table header", "Progression to second-line start, months, median [Q1, Q3]"):
            "—" if math.isnan(u.gap_median) else f"{u.gap_median:.1f} [{u.gap_q1:.1f}, {u.gap_q3:.1f}]",
    } for u in rows])


def class_table(codes: list[str], classes: dict[str, str]) -> pd.DataFrame:
    """The second-line codes present and their class, for editing (the classes are the user's own
    words, kept as written; the headers are translated)."""
    return pd.DataFrame({trc("table header", "Second-line code"): codes, trc("table header", "Class"): [value_label(Col.REGIMEN_2L, classes.get(c, "Other"))
                                                                                  for c in codes]})


def format_proportion(p) -> str:
    """E.g. ``36/142 · 25.4% (18.4–33.3)``; '—' when the denominator is 0."""
    if p.n == 0:
        return "—"
    return f"{p.k}/{p.n} · {100 * p.estimate:.1f}% ({100 * p.lower:.1f}–{100 * p.upper:.1f})"


def _category_header(cat: str) -> str:
    """A best-response column: the RECIST code (CR, PR …), or "Not recorded"."""
    return trc("table header", "Not recorded") if cat == "not recorded" else cat.capitalize() if cat.islower() else cat


def response_counts_table(summary: ResponseSummary) -> pd.DataFrame:
    """Per regimen: patients, best response counts (CR, PR, SD, PD, NE, not recorded), evaluable."""
    return pd.DataFrame([{trc("table header", "Regimen"): g.regimen, trc("table header", "Patients"): g.n,
                          **{_category_header(cat): k for cat, k in g.counts.items()},
                          trc("table header", "Evaluable (CR, PR, SD, PD)"): g.evaluable} for g in summary.groups])


def response_rates_table(summary: ResponseSummary) -> pd.DataFrame:
    """Per regimen: ORR and DCR as k/n · % (exact 95% CI), over the evaluable patients and over all
    patients."""
    of = {"evaluable": N_("{rate}, of evaluable"), "all": N_("{rate}, of all patients")}
    return pd.DataFrame([{trc("table header", "Regimen"): g.regimen, **{tr(of[den], rate=rate): format_proportion(g.rates[(rate, den)])
                                                       for rate in RATES for den in DENOMINATORS}}
                         for g in summary.groups])


def response_tests_table(summary: ResponseSummary) -> pd.DataFrame:
    """Each rate compared across regimens: denominator, test and p."""
    return pd.DataFrame([{trc("table header", "Rate"): c.rate, trc("table header", "Denominator"): tr(DENOMINATORS[c.denominator]),
                          trc("table header", "Test"): tr(c.test) if c.test else "—",
                          "p": format_p(c.p) if c.test else "—"} for c in summary.comparisons])


def _hr(m) -> str:
    return "—" if m is None else format_hr(m.hr, m.ci_low, m.ci_high)


def response_models_table(rows) -> pd.DataFrame:
    """Time-dependent Cox HR for OS of reaching DC / OR (see :func:`hcc.stats.response.response_models`),
    per regimen and pooled, beside the published HR and the naive, immortal-time-biased HR."""
    out = []
    for r in rows:
        td = r.td
        out.append({
            trc("table header", "Reached"): tr(COVARIATE_LABELS[r.covariate]),
            trc("table header", "Regimen"): trc("all regimens", "Pooled") if r.group == POOLED else r.group,
            trc("table header", "Patients"): "—" if td is None else td.n_patients, trc("table header", "Deaths"): "—" if td is None else td.n_events,
            trc("table header", "Reached it"): "—" if td is None else td.n_switched,
            trc("table header", "Time-dependent HR (95% CI)"): _hr(td) if td is not None else tr("not estimable: {reason}", reason=r.note),
            "p": "—" if td is None else format_p(td.p),
            trc("table header", "Study HR"): "—" if r.published is None else f"{r.published:.2f}",
            trc("table header", "Naive HR (95% CI) — biased (immortal time)"): _hr(r.naive),
        })
    return pd.DataFrame(out)


def landmark_table(results) -> pd.DataFrame:
    """Landmark analyses (see :func:`hcc.stats.response.landmark`): per landmark and group, patients,
    deaths, median OS from the landmark (95% CI); HR (reached vs not) and log-rank p."""
    rows = []
    for lm in results:
        s, cox = lm.summary, lm.cox
        for i, g in enumerate(s.groups if s is not None else ()):
            rows.append({
                trc("table header", "Landmark"): tr("{months} months", months=f"{lm.landmark_months:g}"), trc("table header", "Group"): tr(g.group),
                trc("table header", "Patients"): g.n, trc("table header", "Deaths"): g.events,
                trc("table header", "Median OS from landmark, months (95% CI)"): format_median(g),
                trc("table header", "HR (95% CI)"): ((lm.cox_reason or "—") if cox is None else format_hr(cox.hr, cox.lower, cox.upper)
                                    + (f" ({cox.note})" if getattr(cox, "note", "") else "")) if i == 0
                else trc("hazard ratio", "reference"),
                trc("table header", "Log-rank"): (format_p(s.logrank.p) if s.logrank else "—") if i == 0 else "",
            })
    return pd.DataFrame(rows)
