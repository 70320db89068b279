"""Tables of competing risks and of the patient pathway, as the page, the report, the deck and the
CSV / Excel downloads show them (percentages with 95% CI; "not estimable — reason" in place of a number).

Headers and words are in the current language (:mod:`hcc.i18n`); the unformatted ``*_values_table``
downloads are data for scripts and keep English keys, as the JSON does.
"""

from __future__ import annotations

import math

import pandas as pd

from hcc.formatting import format_hr, format_p_plain
from hcc.i18n import N_, tr, trc
from hcc.stats.competing import CIFPoint, CompetingSummary, PathwaySummary

#: Which question each ratio answers, in plain words (page, report).
WHICH_RATIO = N_(
    "**Subdistribution hazard ratio (Fine–Gray)** answers *how many* patients reach the event: it compares "
    "the cumulative incidence curves, so a regimen whose patients die sooner shows fewer events even if "
    "the event is not less likely among those still alive. **Cause-specific hazard ratio** answers *how "
    "fast* the event happens among patients still alive and without it (competing events censored): the "
    "question of biology or of a treatment policy. Read them together; they can point different ways.")


def format_cif(p: CIFPoint) -> str:
    """A cumulative incidence as percent with its CI, e.g. ``39% (33–46)``; the reason when not
    estimable; ``0%`` (no CI) before the first event."""
    if math.isnan(p.est):
        return p.reason or tr("not estimable")
    if math.isnan(p.lower) or math.isnan(p.upper):
        return tr("{percent}% (no CI: estimate 0)", percent=f"{100 * p.est:.0f}") if p.est == 0 else f"{100 * p.est:.0f}%"
    return f"{100 * p.est:.0f}% ({100 * p.lower:.0f}–{100 * p.upper:.0f})"


def counts_table(summary: CompetingSummary) -> pd.DataFrame:
    """Per regimen: patients, events of interest, competing events, censored."""
    d = summary.definition
    return pd.DataFrame([{trc("table header", "Regimen"): g.group, trc("table header", "Patients"): g.n, tr(d.event_words): g.events,
                          tr(d.competing_words): g.competing,
                          trc("table header", "Censored (alive, neither)"): g.n - g.events - g.competing}
                         for g in summary.groups])


def cif_table(summary: CompetingSummary) -> pd.DataFrame:
    """One row per regimen and milestone: at risk, cumulative incidence of the event and of the
    competing event, % (95% CI)."""
    d = summary.definition
    rows = []
    for g in summary.groups:
        for m, (ev, co) in g.milestones.items():
            rows.append({trc("table header", "Regimen"): g.group, trc("table header", "Months"): f"{m:g}", trc("table header", "At risk"): g.n_risk[m],
                         tr("{event}, % (95% CI)", event=tr(d.event_words)): format_cif(ev),
                         tr("{event}, % (95% CI)", event=tr(d.competing_words)): format_cif(co)})
    return pd.DataFrame(rows)


def competing_values_table(summary: CompetingSummary) -> pd.DataFrame:
    """Every number of one competing-risks analysis, unformatted (proportions and ratios at full
    precision), one row per number, for CSV / Excel: counts, cumulative incidence of the event and
    of the competing event at each milestone with CI and number at risk, Gray's test, Fine–Gray and
    cause-specific ratios. ``note`` holds the reason where a value is not estimable (value blank)."""
    key = summary.definition.key
    rows: list[dict] = []

    def add(regimen: str, quantity: str, months: float | None = None, value: float | None = None,
            lower: float | None = None, upper: float | None = None, p: float | None = None, note: str = "",
            **extra) -> None:
        rows.append({"analysis": key, "regimen": regimen, "quantity": quantity, "months": months, "value": value,
                     "lower_95": lower, "upper_95": upper, "p": p, "note": note, **extra})

    for g in summary.groups:
        add(g.group, "patients", value=g.n)
        add(g.group, "events", value=g.events, note=summary.definition.event_words)
        add(g.group, "competing events", value=g.competing, note=summary.definition.competing_words)
        for m, (ev, co) in g.milestones.items():
            for name, pt in (("cumulative incidence, event", ev), ("cumulative incidence, competing", co)):
                add(g.group, name, m, pt.est, pt.lower, pt.upper, note=pt.reason, n_risk=g.n_risk[m])
    if summary.gray is not None:
        add("all", "Gray's test chi-square", value=summary.gray.statistic, p=summary.gray.p,
            note=f"df = {summary.gray.df}")
    for name, ratios in (("Fine–Gray subdistribution HR", summary.fine_gray),
                         ("cause-specific HR", summary.cause_specific)):
        for h in ratios:
            add(h.term, f"{name} vs {h.reference}", value=h.hr, lower=h.lower, upper=h.upper, p=h.p, note=h.note)
    return pd.DataFrame(rows)


def ratio_table(summary: CompetingSummary) -> pd.DataFrame:
    """Each regimen against the reference: Fine–Gray SHR and cause-specific HR with 95% CI and p
    (the reason in place of a number when not estimable)."""
    cs = {h.term: h for h in summary.cause_specific}
    rows = []
    for h in summary.fine_gray:
        c = cs.get(h.term)
        rows.append({trc("table header", "Regimen"): h.term, trc("table header", "Against"): h.reference,
                     trc("table header", "Subdistribution HR, Fine–Gray (95% CI)"): h.note or format_hr(h.hr, h.lower, h.upper),
                     "p (Fine–Gray)": format_p_plain(h.p),
                     trc("table header", "Cause-specific HR (95% CI)"): "—" if c is None else c.note or format_hr(c.hr, c.lower, c.upper),
                     trc("table header", "p (cause-specific)"): "" if c is None else format_p_plain(c.p)})
    return pd.DataFrame(rows)


def pathway_table(summary: PathwaySummary) -> pd.DataFrame:
    """One row per regimen and milestone: the share of patients in each state (%)."""
    rows = []
    for g in summary.groups:
        for m, p in g.at.items():
            row = {trc("table header", "Regimen"): g.group, trc("table header", "Months"): f"{m:g}"}
            for state, v in zip(summary.states, p if p is not None else [None] * len(summary.states)):
                row[tr("{state} (%)", state=tr(state))] = (
                    tr("not estimable — past the last follow-up in this group") if v is None else f"{100 * v:.1f}")
            rows.append(row)
    return pd.DataFrame(rows)


def pathway_values_table(summary: PathwaySummary) -> pd.DataFrame:
    """The pathway's state probabilities at the milestones, unformatted, for CSV / Excel (blank with
    the reason past a regimen's follow-up)."""
    rows = []
    for g in summary.groups:
        for m, p in g.at.items():
            row = {"regimen": g.group, "patients": g.n, "months": m}
            for state, v in zip(summary.states, p if p is not None else [None] * len(summary.states)):
                row[state] = v
            row["note"] = "" if p is not None else "not estimable — past the last follow-up in this group"
            rows.append(row)
    return pd.DataFrame(rows)
