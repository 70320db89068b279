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


def endpoint_table(summary: EndpointSummary) -> pd.DataFrame:
    """One row per regimen: n, events, median (95% CI) in months, and the log-rank p in the last column."""
    p = format_p(summary.logrank.p) if summary.logrank else "—"
    return pd.DataFrame([{
        "Regimen": g.group, "Patients": g.n, "Events": g.events,
        "Median, months (95% CI)": format_median(g),
        "Log-rank": p if i == 0 else "",
    } for i, g in enumerate(summary.groups)])


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
