"""Tables and sentences built from results, shared by the pages, the CLI and (later) reports."""

from __future__ import annotations

import math

import pandas as pd

from hcc.figures import format_p
from hcc.schema import COLUMNS, ENDPOINT_LABELS
from hcc.survival import EndpointSummary, GroupSummary


def format_months(x: float) -> str:
    """One decimal, or 'NR' (not reached) for NaN."""
    return "NR" if x is None or math.isnan(x) else f"{x:.1f}"


def format_median(g: GroupSummary) -> str:
    """E.g. ``20.6 (17.1–24.0)``; NR for a limit not reached."""
    if g.n == 0:
        return "—"
    return f"{format_months(g.median)} ({format_months(g.median_low)}–{format_months(g.median_high)})"


def format_rate(r) -> str:
    """A milestone rate as percent with CI, e.g. ``62% (55–68)``; '—' when not estimable."""
    if r.surv is None or math.isnan(r.surv):
        return "—"
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
        row = {"Regimen": g.group, "Patients": g.n, "Events": g.events,
               "Median, months (95% CI)": format_median(g)}
        for r in g.rates:
            row[f"{r.time:g}-month rate (95% CI)"] = format_rate(r)
        if g.rmst is not None:
            row[f"RMST to {g.rmst.tau:.0f} months (SE)"] = f"{g.rmst.estimate:.1f} ({g.rmst.se:.2f})"
            row["Median follow-up, months"] = format_months(g.followup_median)
        row["Log-rank" if test is None or test.rho == 0 else "Peto–Peto"] = p if i == 0 else ""
        rows.append(row)
    return pd.DataFrame(rows)


def pairwise_table(summary: EndpointSummary) -> pd.DataFrame:
    """Pairwise tests: the two regimens, chi-square, p and the adjusted p."""
    adj = summary.spec.adjust
    return pd.DataFrame([{"Comparison": f"{t.a} vs {t.b}", "Chi-square": f"{t.statistic:.2f}", "p": format_p(t.p),
                          f"p ({adj})" if adj != "none" else "p (unadjusted)": format_p(t.p_adj)}
                         for t in summary.pairwise])


def comparison_table(summary: EndpointSummary) -> pd.DataFrame:
    """Each regimen against the reference: Cox HR (95% CI, Wald p) and RMST difference (95% CI)."""
    diffs = {d.a: d for d in summary.rmst_differences}
    rows = []
    for c in summary.cox:
        d = diffs.get(c.term)
        rows.append({
            "Regimen": f"{c.term} vs {c.reference}",
            "Hazard ratio (95% CI)": f"{c.hr:.2f} ({c.lower:.2f}–{c.upper:.2f})",
            "p (Wald)": format_p(c.p),
            f"RMST difference to {summary.tau_months:.0f} months (95% CI)":
                "—" if d is None else f"{d.difference:+.1f} ({d.lower:+.1f} to {d.upper:+.1f})",
        })
    return pd.DataFrame(rows)


def overview_table(summaries: list[EndpointSummary]) -> pd.DataFrame:
    """Endpoints as rows; per regimen 'median (n)' in months; log-rank p."""
    rows = []
    for s in summaries:
        row = {"Endpoint": s.endpoint.value}
        for g in s.groups:
            row[g.group] = f"{format_months(g.median)} (n={g.n})" if g.n else "—"
        row["Log-rank"] = format_p(s.logrank.p) if s.logrank else "—"
        rows.append(row)
    return pd.DataFrame(rows)


def plain_summary(summary: EndpointSummary) -> str:
    """A sentence a clinician can read aloud, e.g. 'Median OS was longest with ATZ_BEV: 20.6 months
    (95% CI 17.1–24.0); log-rank p = 0.002 across 3 regimens.'"""
    groups = [g for g in summary.groups if g.n > 0]
    label = ENDPOINT_LABELS[summary.endpoint].lower()
    reached = [g for g in groups if not math.isnan(g.median)]
    unreached = [g.group for g in groups if math.isnan(g.median)]
    parts = []
    if reached:
        best = max(reached, key=lambda g: g.median)
        parts.append(f"Median {label} was longest with {best.group}: {format_months(best.median)} months "
                     f"(95% CI {format_months(best.median_low)}–{format_months(best.median_high)})")
    if unreached:
        parts.append(f"the median was not reached with {', '.join(unreached)}")
    text = "; ".join(parts) if parts else f"No {label} data"
    if summary.logrank is not None:
        text += f"; log-rank {format_p(summary.logrank.p)} across {len(groups)} regimens"
    return text + "."


_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_safe(frame: pd.DataFrame) -> pd.DataFrame:
    """Copy with text cells that a spreadsheet would run as a formula prefixed by an apostrophe."""
    def fix(v):
        return "'" + v if isinstance(v, str) and v.startswith(_FORMULA_START) else v
    return frame.map(fix)


def issues_table(issues) -> pd.DataFrame:
    """Validation issues as a table: severity, row, column, value, problem, fix."""
    return pd.DataFrame([{"Severity": i.severity.value, "Row": i.row, "Column": i.column, "Value": i.value,
                          "Problem": i.message, "Fix": i.fix} for i in issues],
                        columns=["Severity", "Row", "Column", "Value", "Problem", "Fix"])


def contract_table() -> pd.DataFrame:
    """The data contract (hcc.schema.COLUMNS) as a table for the Data page."""
    return pd.DataFrame([{"Column": c.name, "Required": "yes" if c.required else "", "Type": c.kind.value,
                          "Allowed values": ", ".join(c.allowed), "Meaning": c.meaning} for c in COLUMNS])


def template_csv() -> bytes:
    """An empty registry file: the header row with every canonical column."""
    return (",".join(contract_table()["Column"]) + "\n").encode("utf-8")


def attrition_table(attrition, regimens: tuple[str, ...]) -> pd.DataFrame:
    """The attrition log as a table: step, excluded (total and per regimen), remaining."""
    return pd.DataFrame([{"Step": s.rule, "Excluded": s.excluded,
                          **{f"Excluded {r}": s.excluded_by_regimen.get(r, 0) if s.excluded_by_regimen else None
                             for r in regimens},
                          "Remaining": s.remaining} for s in attrition])


def scenario_table(named: dict[str, tuple], endpoints: tuple) -> pd.DataFrame:
    """Cohorts side by side: patients per regimen and each endpoint's median (months) per regimen.

    ``named`` maps a scenario name to ``(cohort, {endpoint: EndpointSummary})``.
    """
    regimens: list[str] = []
    for cohort, _ in named.values():
        regimens += [r for r in cohort.regimens if r not in regimens]
    rows = [{"Measure": "Patients", "Regimen": "all",
             **{name: f"{c.n:,}" for name, (c, _) in named.items()}}]
    for r in regimens:
        rows.append({"Measure": "Patients", "Regimen": r,
                     **{name: f"{c.by_regimen().get(r, 0):,}" for name, (c, _) in named.items()}})
    for e in endpoints:
        for r in regimens:
            row = {"Measure": f"Median {e.value}, months (95% CI)", "Regimen": r}
            for name, (_, summaries) in named.items():
                g = {x.group: x for x in summaries[e].groups}.get(r)
                row[name] = format_median(g) if g is not None else "—"
            rows.append(row)
        row = {"Measure": f"{e.value} log-rank", "Regimen": ""}
        for name, (_, summaries) in named.items():
            test = summaries[e].logrank
            row[name] = format_p(test.p) if test else "—"
        rows.append(row)
    return pd.DataFrame(rows)
