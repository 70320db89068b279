"""Plotly figures. Every regimen keeps one colour across the app (:func:`regimen_colors`)."""

from __future__ import annotations

import html
import math
from dataclasses import dataclass

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from hcc.cohort.endpoints import DEFINITIONS
from hcc.formatting import format_p
from hcc.schema import ATZ_BEV, DAYS_PER_MONTH, ENDPOINT_LABELS, LEN, SOR, STUDY_REGIMENS
from hcc.stats.survival import EndpointSummary, KMCurve, survival_at
from hcc.stats.response import CATEGORIES, LANE_EVENTS, ResponseSummary
from hcc.reference.trials import TRIALS, arms_for

#: Okabe–Ito palette (colour-blind safe). The study regimens have fixed colours; others follow.
_STUDY_COLORS = {SOR: "#0072B2", LEN: "#E69F00", ATZ_BEV: "#009E73"}
_OTHER_COLORS = ("#CC79A7", "#D55E00", "#56B4E9", "#000000", "#F0E442")
_FONT = "Arial, Helvetica, sans-serif"


def regimen_colors(regimens: tuple[str, ...]) -> dict[str, str]:
    """Colour per regimen: fixed for SOR / LEN / ATZ_BEV, the rest in order of ``regimens``."""
    others = iter(_OTHER_COLORS * (1 + len(regimens) // len(_OTHER_COLORS)))
    return {r: _STUDY_COLORS[r] if r in STUDY_REGIMENS else next(others) for r in regimens}


@dataclass(frozen=True)
class KMFigureOptions:
    """Cosmetic choices for :func:`km_figure` (none of them changes a statistic).

    Attributes
    ----------
    show_ci : shade the pointwise 95% CI of each curve.
    horizon_months : x-axis end; ``None`` = :func:`default_horizon_months`.
    break_months : spacing of x breaks and risk-table columns (3, 6 or 12); ``None`` = 3 up to
        2 years, 6 up to 6 years, else 12.
    percent : y axis in percent instead of probability.
    risk_table : number-at-risk table under the plot (R ``summary(fit, times)`` counts).
    kmunicate : risk table with at risk, cumulative events and censored (KMunicate layout).
    median_lines : dashed lines from 50% to each median and down to the axis.
    trial_medians : mark the landmark trials' medians of the same regimen on each curve
        (:func:`add_trial_medians`; OS and PFS only).
    """

    show_ci: bool = False
    horizon_months: float | None = None
    break_months: int | None = None
    percent: bool = False
    risk_table: bool = True
    kmunicate: bool = False
    median_lines: bool = True
    trial_medians: bool = False


def _step(curve: KMCurve) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Curve starting at (0, 1) in months, for a right-continuous step plot."""
    t = np.concatenate(([0.0], curve.time / DAYS_PER_MONTH))
    s = np.concatenate(([1.0], curve.surv))
    lo = np.concatenate(([1.0], curve.lower))
    hi = np.concatenate(([1.0], curve.upper))
    return t, s, lo, hi


def default_horizon_months(summary: EndpointSummary, min_at_risk_fraction: float = 0.05) -> float:
    """X-axis end: the last time any group still has >= 5% of its patients at risk, rounded up to
    6 months, so the plot is not dominated by a long, uninformative tail."""
    ends = []
    for curve in summary.curves.values():
        ok = curve.n_risk >= max(1, min_at_risk_fraction * curve.n)
        ends.append(curve.time[ok].max() / DAYS_PER_MONTH if ok.any() else curve.time.max() / DAYS_PER_MONTH)
    end = max(ends) if ends else 12.0
    return float(6 * np.ceil(max(end, 1.0) / 6))


def default_break_months(horizon: float) -> int:
    """3-month breaks up to 2 years, 6 up to 6 years, then 12."""
    return 3 if horizon <= 24 else 6 if horizon <= 72 else 12


@dataclass(frozen=True)
class RiskRow:
    """One row of the risk table: a group's counts at each break (months)."""

    group: str
    label: str
    counts: tuple[int, ...]


def risk_table(summary: EndpointSummary, breaks_months: np.ndarray, kmunicate: bool = False) -> list[RiskRow]:
    """Numbers at risk at each break (patients with time >= t, as R ``summary(fit, times)``) and,
    for KMunicate, cumulative events and censorings up to t."""
    rows = []
    for g in summary.groups:
        curve = summary.curves.get(g.group)
        if curve is None:
            continue
        days = breaks_months * DAYS_PER_MONTH
        at_risk = tuple(r.n_risk for r in survival_at(curve, days))
        rows.append(RiskRow(g.group, "At risk" if kmunicate else g.group, at_risk))
        if kmunicate:
            upto = np.searchsorted(curve.time, days, side="right")
            cum_e, cum_c = np.cumsum(curve.n_event), np.cumsum(curve.n_censor)
            rows.append(RiskRow(g.group, "Events", tuple(int(cum_e[i - 1]) if i else 0 for i in upto)))
            rows.append(RiskRow(g.group, "Censored", tuple(int(cum_c[i - 1]) if i else 0 for i in upto)))
    return rows


def _annotation(summary: EndpointSummary) -> str:
    test = summary.logrank
    text = f"{'Log-rank' if test is None or test.rho == 0 else 'Peto–Peto'} {format_p(test.p if test else None)}"
    if len(summary.cox) == 1:
        c = summary.cox[0]
        text += (f"<br>HR {c.term} vs {c.reference} {c.hr:.2f} (95% CI {c.lower:.2f}–{c.upper:.2f})" if c.estimable
                 else f"<br>HR {c.term} vs {c.reference}: {html.escape(c.reason)}")
    return text


def km_figure(summary: EndpointSummary, colors: dict[str, str], subtitle: str = "",
              options: KMFigureOptions = KMFigureOptions(), *, title: str | None = None,
              x_title: str | None = None) -> go.Figure:
    """Kaplan–Meier curves by group with a number-at-risk table on the same x axis.

    Months on x (days / 30.4375), survival on y (probability or percent). Censored observations are
    ticks; dashed lines mark the medians; the legend gives n and median per group; the log-rank p
    (and, for two groups, the Cox HR with 95% CI) is annotated. Hover shows time, survival, its CI
    and the number at risk.
    """
    horizon = options.horizon_months or default_horizon_months(summary)
    step = options.break_months or default_break_months(horizon)
    breaks = np.arange(0, horizon + 1e-9, step, dtype=float)
    scale = 100.0 if options.percent else 1.0
    rows = risk_table(summary, breaks, options.kmunicate) if options.risk_table else []
    n_rows = len(rows)
    if rows:
        table_share = min(0.45, 0.06 + 0.045 * n_rows)
        fig = make_subplots(rows=2, cols=1, shared_xaxes=True, vertical_spacing=0.16,
                            row_heights=[1 - table_share, table_share])
    else:
        fig = make_subplots(rows=1, cols=1)

    for g in summary.groups:
        curve = summary.curves.get(g.group)
        if curve is None:
            continue
        color = colors.get(g.group, "#555555")
        t, s, lo, hi = _step(curve)
        med = "NR" if np.isnan(g.median) else f"{g.median:.1f} mo"
        if options.show_ci:
            fig.add_trace(go.Scatter(
                x=np.concatenate([t, t[::-1]]),
                y=scale * np.concatenate([np.nan_to_num(hi, nan=1.0), np.nan_to_num(lo, nan=0.0)[::-1]]),
                line_shape="hv", fill="toself", fillcolor=color, opacity=0.18, line=dict(width=0),
                hoverinfo="skip", showlegend=False, legendgroup=g.group), row=1, col=1)
        fig.add_trace(go.Scatter(
            x=t, y=scale * s, mode="lines", line_shape="hv", line=dict(color=color, width=2.5),
            name=f"{html.escape(g.group)} (n={g.n}, median {med})", legendgroup=g.group,
            customdata=np.stack([np.concatenate(([curve.n], curve.n_risk)), scale * lo, scale * hi], axis=1),
            hovertemplate=(f"<b>{html.escape(g.group)}</b><br>%{{x:.1f}} months<br>"
                           f"S = %{{y:.{1 if options.percent else 3}f}} (95% CI %{{customdata[1]:.3f}}–"
                           "%{customdata[2]:.3f})<br>at risk %{customdata[0]}<extra></extra>")), row=1, col=1)
        cens = curve.n_censor > 0
        fig.add_trace(go.Scatter(x=curve.time[cens] / DAYS_PER_MONTH, y=scale * curve.surv[cens], mode="markers",
                                 marker=dict(symbol="line-ns-open", size=9, color=color, line=dict(width=1.5)),
                                 legendgroup=g.group, showlegend=False, hoverinfo="skip"), row=1, col=1)
        if options.median_lines and not math.isnan(g.median) and g.median <= horizon:
            fig.add_trace(go.Scatter(x=[0, g.median, g.median], y=[0.5 * scale, 0.5 * scale, 0],
                                     mode="lines", line=dict(color=color, width=1.2, dash="dash"),
                                     legendgroup=g.group, showlegend=False, hoverinfo="skip"), row=1, col=1)

    if rows:
        ys = list(range(n_rows, 0, -1))
        for row, y in zip(rows, ys):
            fig.add_trace(go.Scatter(x=breaks, y=[y] * len(breaks), text=[str(c) for c in row.counts],
                                     mode="text", textfont=dict(color=colors.get(row.group, "#333"), size=13),
                                     showlegend=False, hoverinfo="skip"), row=2, col=1)
        labels = [f"<span style='color:{colors.get(r.group, '#333')}'>"
                  f"{html.escape(r.group + ' ' + r.label if options.kmunicate else r.label)}</span>" for r in rows]
        # standoff: the counts at 0 months are centred on the axis and must not run into the labels
        fig.update_yaxes(row=2, col=1, range=[0.4, n_rows + 0.6], tickvals=ys, ticktext=labels,
                         showgrid=False, zeroline=False, showline=False, ticks="", ticklabelstandoff=14)
        fig.update_xaxes(row=2, col=1, showgrid=False, zeroline=False, showticklabels=False)
        fig.add_annotation(text="<b>Number at risk</b>" if not options.kmunicate else "<b>Numbers at each time</b>",
                           xref="paper", yref="paper", x=0, y=table_share, xanchor="left",
                           yanchor="bottom", showarrow=False, font=dict(size=13))
    # Tick labels and title under the curves; the risk table below reuses the same x axis.
    fig.update_xaxes(row=1, col=1, showticklabels=True,
                     title_text=x_title or f"Months since {DEFINITIONS[summary.endpoint].origin_label}")

    fig.update_xaxes(range=[-0.02 * horizon, horizon * 1.02], tickvals=breaks, showgrid=True, zeroline=False)
    fig.update_yaxes(row=1, col=1, title_text="Survival (%)" if options.percent else "Survival probability",
                     range=[0, 1.03 * scale], tickformat=".0f" if options.percent else ".1f", zeroline=False)
    title = f"{title or ENDPOINT_LABELS[summary.endpoint] + ' by first-line regimen'} (n = {summary.n})"
    if options.trial_medians:
        add_trial_medians(fig, summary, colors, horizon, scale)
    legend_rows = math.ceil(len(summary.curves) / 3)  # three entries fit on a line
    right = 200 if _has_trial_legend(fig) else 20  # room for the trial legend
    fig.update_layout(
        title=dict(text=f"{title}<br><sup>{html.escape(subtitle)}</sup>" if subtitle else title, x=0.01),
        legend=dict(orientation="h", yanchor="bottom", y=1.0, x=1, xanchor="right", font=dict(size=13)),
        template="plotly_white", font=dict(family=_FONT, size=14),
        margin=dict(l=70, r=right, t=90 + 24 * legend_rows, b=30), height=560 + 28 * n_rows + 24 * legend_rows,
        annotations=list(fig.layout.annotations) + [dict(
            text=_annotation(summary), x=0.99, y=0.97 if not rows else 1.0, xref="x domain", yref="y domain",
            showarrow=False, xanchor="right", yanchor="top", align="right", font=dict(size=14))],
    )
    return fig


#: One marker symbol per trial, so that a trial reads the same on every curve.
_TRIAL_SYMBOLS = ("diamond", "square", "triangle-up", "star", "hexagon", "pentagon", "cross")


def add_trial_medians(fig: go.Figure, summary: EndpointSummary, colors: dict[str, str], horizon: float,
                      scale: float = 1.0) -> None:
    """Mark each landmark trial's median (:mod:`hcc.reference.trials`) on the registry's curve of the same
    regimen: at x = the trial's median (months), y = the registry's S(x), with the trial's 95% CI as
    a horizontal bar. One legend entry per trial; hover gives arm, n, median (CI) and citation."""
    symbols = {t.name: _TRIAL_SYMBOLS[i % len(_TRIAL_SYMBOLS)] for i, t in enumerate(TRIALS)}
    shown: set[str] = set()
    for g in summary.groups:
        curve = summary.curves.get(g.group)
        if curve is None:
            continue
        for trial, arm, m in arms_for(g.group, summary.endpoint):
            if m.months > horizon:
                continue
            y = survival_at(curve, np.array([m.months * DAYS_PER_MONTH]))[0].surv
            if y is None or np.isnan(y):
                continue
            lo = m.months - m.low if m.low is not None else 0.0
            hi = m.high - m.months if m.high is not None else 0.0
            fig.add_trace(go.Scatter(
                x=[m.months], y=[scale * y], mode="markers", name=trial.name,
                legendgroup="trial:" + trial.name, showlegend=trial.name not in shown, legend="legend2",
                marker=dict(symbol=symbols[trial.name], size=13, color=colors.get(g.group, "#555555"),
                            line=dict(color="#000000", width=1.5)),
                error_x=dict(type="data", symmetric=False, array=[hi], arrayminus=[lo], color="#000000",
                             thickness=1.2, width=5, visible=m.low is not None or m.high is not None),
                hovertemplate=(f"<b>{html.escape(trial.name)}</b>: {html.escape(arm.label)} (n={arm.n})<br>"
                               f"median {html.escape(m.text())} months<br>registry {html.escape(g.group)} "
                               f"S = %{{y:.2f}} at that time<br>{html.escape(trial.citation)} {trial.journal} "
                               f"{trial.year}, doi:{trial.doi}<extra></extra>")), row=1, col=1)
            shown.add(trial.name)
    if shown:
        # Right of the plot, never over a curve; km_figure widens the right margin for it.
        fig.update_layout(legend2=dict(
            title=dict(text="Trial medians<br>(95% CI)"), x=1.01, xanchor="left", y=1.0, yanchor="top",
            bordercolor="#BBBBBB", borderwidth=1, font=dict(size=12)))


def _has_trial_legend(fig: go.Figure) -> bool:
    return "legend2" in fig.layout.to_plotly_json()


def fit_width(fig: go.Figure, width_px: int) -> go.Figure:
    """A copy of ``fig`` laid out for a narrow canvas (a journal column): the top legend gets as many
    lines as its entries need at this width (about 300 px an entry), and the trial legend moves from
    the right margin to below the figure."""
    out = go.Figure(fig)
    margin = out.layout.margin
    height = int(out.layout.height or 560)
    if _has_trial_legend(out):
        n2 = sum(1 for t in out.data if t.legend == "legend2" and t.showlegend is not False)
        out.update_layout(legend2=dict(orientation="h", x=0, xanchor="left", y=0, yanchor="top",
                                       yref="container", title=dict(side="top")))
        extra = 30 + 24 * math.ceil(n2 / 2)
        out.update_layout(legend2_y=extra / (height + extra), legend2_yanchor="top",
                          margin=dict(r=20, b=(margin.b or 30) + extra))
        height += extra
    if out.layout.legend.orientation == "h":
        entries = sum(1 for t in out.data if t.showlegend is not False and t.legend in (None, "legend")
                      and t.name)
        per_line = max(1, (width_px - 90) // 300)
        wanted = math.ceil(entries / per_line)
        have = math.ceil(entries / 3)
        if wanted > have:
            out.update_layout(margin=dict(t=(margin.t or 90) + 24 * (wanted - have)))
            height += 24 * (wanted - have)
    out.update_layout(height=height)
    return out


#: Presentation mode: sizes readable from the back of a room (a 1280-px-wide figure on a projector).
PRESENT_FONT = 22


def presentation_style(fig: go.Figure, caption: str) -> go.Figure:
    """A copy of ``fig`` for a tumor-board screen: large fonts, thick lines, black axes on white, and
    the cohort summary line ``caption`` under the title (added if the title lacks it)."""
    out = go.Figure(fig)
    title = out.layout.title.text or ""
    if caption and html.escape(caption) not in title and caption not in title:
        title = f"{title}<br><sup>{html.escape(caption)}</sup>" if title else f"<sup>{html.escape(caption)}</sup>"
    out.update_layout(
        font=dict(family=_FONT, size=PRESENT_FONT, color="#000000"), paper_bgcolor="#FFFFFF",
        plot_bgcolor="#FFFFFF", title=dict(text=title, font=dict(size=PRESENT_FONT + 6)),
        legend=dict(font=dict(size=PRESENT_FONT - 2)),
        margin=dict(t=int(1.5 * (out.layout.margin.t or 80)) + 30, l=(out.layout.margin.l or 70) + 30))
    if out.layout.to_plotly_json().get("yaxis2", {}).get("ticktext"):  # a risk table: its counts grow too
        out.update_layout(yaxis2=dict(ticklabelstandoff=30))
    if _has_trial_legend(out):
        out.update_layout(legend2=dict(font=dict(size=PRESENT_FONT - 4), title=dict(font=dict(size=PRESENT_FONT - 4))))
    out.update_xaxes(linecolor="#000000", linewidth=2, tickfont=dict(size=PRESENT_FONT - 2), gridcolor="#D0D0D0",
                     title_font=dict(size=PRESENT_FONT))
    out.update_yaxes(linecolor="#000000", linewidth=2, tickfont=dict(size=PRESENT_FONT - 2), gridcolor="#D0D0D0",
                     title_font=dict(size=PRESENT_FONT))
    for ann in out.layout.annotations:
        ann.font = dict(size=max(PRESENT_FONT - 2, (ann.font.size or 12) * 1.4), color=ann.font.color or "#000000")
    for trace in out.data:
        if trace.type == "scatter" and trace.mode == "lines" and trace.line.width:
            trace.line.width = trace.line.width * 1.8
        if trace.type == "scatter" and trace.mode == "text":
            trace.textfont.size = PRESENT_FONT - 2
    return out


def attrition_figure(attrition, regimens: tuple[str, ...], final_counts: dict[str, int],
                     colors: dict[str, str]) -> go.Figure:
    """CONSORT-style flow diagram of an attrition log: the remaining patients down the middle,
    each rule's exclusions (total and per regimen) in a box to the right, the analysed cohort at the
    bottom with its regimens. Rules that removed nobody are left out of the drawing (they are in the
    table); rules not applied are shown in grey."""
    shown = [s for s in attrition[1:] if s.excluded > 0 or s.rule.startswith("Not applied")]
    n_rows = len(shown) + 2
    row_h = 1.0
    fig = go.Figure()
    x_main, x_side, w_main, w_side, h = 0.27, 0.73, 0.40, 0.50, 0.62

    def box(x: float, y: float, w: float, text: str, fill: str, line: str) -> None:
        fig.add_shape(type="rect", x0=x - w / 2, x1=x + w / 2, y0=y - h / 2, y1=y + h / 2,
                      fillcolor=fill, line=dict(color=line, width=1.5))
        fig.add_annotation(x=x, y=y, text=text, showarrow=False, font=dict(size=13))

    def per_regimen(counts: dict[str, int]) -> str:
        parts = [f"<span style='color:{colors.get(r, '#333')}'>{html.escape(r)} {counts.get(r, 0)}</span>"
                 for r in regimens if counts.get(r, 0) or counts is final_counts]
        return " · ".join(parts)

    first = attrition[0]
    y_top = n_rows * row_h
    box(x_main, y_top, w_main, f"<b>{html.escape(first.rule)}</b><br>n = {first.remaining:,}", "#F2F2F2", "#555")
    y_end = y_top - (len(shown) + 1) * row_h
    # One continuous arrow down the middle; each rule branches off it to the right.
    fig.add_annotation(x=x_main, y=y_end + h / 2, ax=x_main, ay=y_top - h / 2, xref="x", yref="y", axref="x",
                       ayref="y", showarrow=True, arrowhead=2, arrowwidth=1.5, arrowcolor="#555", text="")
    for i, step in enumerate(shown, start=1):
        y = y_top - i * row_h
        grey = step.rule.startswith("Not applied")
        label = html.escape(step.rule.replace("Excluded: ", ""))
        detail = "" if grey else f"<br>n = {step.excluded:,}" + (
            f"<br>{per_regimen(step.excluded_by_regimen)}" if step.excluded_by_regimen else "")
        box(x_side, y, w_side, f"{'' if grey else 'Excluded: '}{label}{detail}",
            "#FAFAFA" if grey else "#FFF4E5", "#AAA" if grey else "#D55E00")
        fig.add_annotation(x=x_side - w_side / 2, y=y, ax=x_main, ay=y, xref="x", yref="y", axref="x", ayref="y",
                           showarrow=True, arrowhead=2, arrowwidth=1.2, arrowcolor="#555", text="")
        fig.add_annotation(x=x_main - 0.01, y=y - row_h / 2, text=f"{step.remaining:,} remain", showarrow=False,
                           xanchor="right", font=dict(size=12, color="#555"))
    y = y_end
    box(x_main, y, w_main, f"<b>Analysed</b>: n = {sum(final_counts.values()):,}<br>{per_regimen(final_counts)}",
        "#E8F4EA", "#009E73")
    fig.update_xaxes(visible=False, range=[0, 1])
    fig.update_yaxes(visible=False, range=[y - row_h * 0.6, n_rows * row_h + row_h * 0.6])
    fig.update_layout(template="plotly_white", height=110 + 95 * n_rows, margin=dict(l=10, r=10, t=10, b=10),
                      font=dict(family=_FONT, size=13), showlegend=False)
    return fig


def sankey_figure(paths, regimen_colors_: dict[str, str]) -> go.Figure:
    """Treatment sequences as a Sankey diagram: first line -> second line -> third line (or what
    happened instead). ``paths`` has columns first, second, third (None = path ends), n; hover shows
    counts and the share of the first-line regimen's patients."""
    stages = [("first", "1L"), ("second", "2L"), ("third", "3L")]
    labels: list[str] = []
    index: dict[tuple[str, str], int] = {}

    def node(stage: str, name: str) -> int:
        if (stage, name) not in index:
            index[(stage, name)] = len(labels)
            labels.append(name)
        return index[(stage, name)]

    totals = paths.groupby("first")["n"].sum()
    sources, targets, values, custom, colors = [], [], [], [], []
    for (a, _), (b, _) in zip(stages, stages[1:]):
        keys = list(dict.fromkeys(["first", a, b]))
        links = paths[paths[b].notna()].groupby(keys, sort=False)["n"].sum().reset_index()
        for row in links.to_dict("records"):
            first, src, dst, n = row["first"], row[a], row[b], row["n"]
            sources.append(node(a, str(src)))
            targets.append(node(b, str(dst)))
            values.append(int(n))
            custom.append(f"{n} of {totals[first]} {first} patients ({100 * n / totals[first]:.0f}%)")
            colors.append(regimen_colors_.get(first, "#999999"))
    link_colors = [f"rgba({int(c[1:3], 16)},{int(c[3:5], 16)},{int(c[5:7], 16)},0.35)" for c in colors]
    node_colors = [regimen_colors_.get(lbl, "#B0B0B0") if stage == "first" else "#B0B0B0"
                   for (stage, lbl) in index]
    # Fixed columns per line of therapy (otherwise plotly pushes paths that end early to the right),
    # nodes stacked top-down in order of appearance, sized by their patients.
    size = np.zeros(len(labels))
    for i, v in zip(targets, values):
        size[i] += v
    for i, v in zip(sources, values):
        size[i] = max(size[i], sum(val for src, val in zip(sources, values) if src == i))
    xs, ys = [0.0] * len(labels), [0.0] * len(labels)
    for col, (stage, _) in zip((0.001, 0.5, 0.999), stages):
        members = [i for (st, _), i in index.items() if st == stage]
        # Treatments first (largest on top), then the paths that end (no further line) at the bottom.
        members.sort(key=lambda i: (labels[i].startswith(("No ", "Died", "Alive")), -size[i]))
        total = sum(size[i] for i in members) or 1.0
        gap = 0.04 / max(len(members), 1)
        y = 0.0
        for i in members:
            h = size[i] / total * (1 - 0.04)
            xs[i], ys[i] = col, min(max(y + h / 2, 0.001), 0.999)
            y += h + gap
    fig = go.Figure(go.Sankey(
        arrangement="fixed",
        node=dict(label=[html.escape(x) for x in labels], pad=14, thickness=16, color=node_colors, x=xs, y=ys,
                  hovertemplate="%{label}: %{value} patients<extra></extra>"),
        link=dict(source=sources, target=targets, value=values, color=link_colors, customdata=custom,
                  hovertemplate="%{source.label} → %{target.label}<br>%{customdata}<extra></extra>"),
    ))
    fig.update_layout(template="plotly_white", font=dict(family=_FONT, size=13), height=560,
                      margin=dict(l=10, r=10, t=40, b=10),
                      title=dict(text="Treatment sequences: first line → second line → third line", x=0.01))
    return fig


#: Best-response categories: a colour-blind-safe diverging scale (ColorBrewer RdBu) from complete
#: response to progression, greys for not evaluable / not recorded; distinct from the regimen colours.
RESPONSE_COLORS: dict[str, str] = dict(zip(CATEGORIES, (  # CR, PR, SD, PD, NE, not recorded
    "#2166AC", "#67A9CF", "#D1E5F0", "#D6604D", "#9E9E9E", "#E0E0E0")))
_DARK_FILLS = {"#2166AC", "#D6604D"}  # white text on these


def response_bar_figure(summary: ResponseSummary, colors: dict[str, str], subtitle: str = "") -> go.Figure:
    """Best overall response per regimen as stacked bars (percent of all patients).

    One bar per regimen (its name in the regimen's colour, with n), stacked CR, PR, SD, PD, NE and not
    recorded in :data:`RESPONSE_COLORS`; ORR and DCR over the evaluable patients above each bar.
    Hover gives the count and the denominator.
    """
    groups = [g for g in summary.groups if g.n]
    x = [f"<span style='color:{colors.get(g.regimen, '#333')}'><b>{html.escape(g.regimen)}</b></span>"
         f"<br>n = {g.n}" for g in groups]
    fig = go.Figure()
    for cat in CATEGORIES:
        counts = np.array([g.counts[cat] for g in groups])
        if not counts.any():
            continue
        pct = np.array([100 * g.counts[cat] / g.n for g in groups])
        fig.add_trace(go.Bar(
            x=x, y=pct, name=cat, marker=dict(color=RESPONSE_COLORS[cat], line=dict(color="#FFFFFF", width=1)),
            text=[f"{p:.0f}%" if p >= 4 else "" for p in pct], textposition="inside", insidetextanchor="middle",
            textfont=dict(color="#FFFFFF" if RESPONSE_COLORS[cat] in _DARK_FILLS else "#222222", size=13),
            customdata=np.stack([counts, [g.n for g in groups], [g.regimen for g in groups]], axis=1),
            hovertemplate=f"<b>%{{customdata[2]}}</b> · {cat}<br>%{{customdata[0]}} of %{{customdata[1]}} patients "
                          "(%{y:.1f}%)<extra></extra>"))
    for xi, g in zip(x, groups):
        orr, dcr = g.rates[("ORR", "evaluable")], g.rates[("DCR", "evaluable")]
        text = ("evaluable: none" if orr.n == 0 else
                f"ORR {100 * orr.estimate:.0f}% · DCR {100 * dcr.estimate:.0f}%<br><sup>of {orr.n} evaluable</sup>")
        fig.add_annotation(x=xi, y=100, text=text, showarrow=False, yanchor="bottom", font=dict(size=13))
    title = f"Best overall response to first line ({html.escape(summary.criterion)})"
    # The cohort line and the data source on separate lines: the figure is often half the page wide.
    sub = "<br>".join(f"<sup>{html.escape(part)}</sup>" for part in subtitle.split(" — ") if part)
    fig.update_layout(
        barmode="stack", template="plotly_white", font=dict(family=_FONT, size=14), height=560,
        title=dict(text=f"{title}<br>{sub}" if sub else title, x=0.01),
        yaxis=dict(title="Patients (%)", range=[0, 115], tickvals=[0, 20, 40, 60, 80, 100]),
        legend=dict(title="Best response", traceorder="normal"), margin=dict(l=70, r=20, t=120, b=60),
        bargap=0.35)
    return fig


#: Swimmer-plot markers: event -> (symbol, fill colour, size); black and white so that they read on
#: every regimen colour.
_SWIMMER_MARKERS: dict[str, tuple[str, str, int]] = {
    "dc": ("circle", "#FFFFFF", 7), "response": ("star", "#F0E442", 10), "progression": ("x", "#000000", 7),
    "second_line": ("diamond-open", "#000000", 8), "death": ("square", "#000000", 7),
}


def swimmer_figure(lanes, colors: dict[str, str], subtitle: str = "") -> go.Figure:
    """Swimmer plot: one lane per patient from first-line start (months), coloured by regimen, with
    markers for first disease control, first response, progression, second-line start and death, and
    an arrow for patients alive at last follow-up. ``lanes`` as :func:`hcc.stats.response.swimmer_lanes`."""
    n = len(lanes)
    fig = go.Figure()
    for regimen in dict.fromkeys(lanes["regimen"]):
        sub = lanes[lanes["regimen"] == regimen]
        fig.add_trace(go.Bar(
            x=sub["end"], y=sub["lane"], base=0, orientation="h", name=html.escape(str(regimen)),
            marker=dict(color=colors.get(regimen, "#777777"), line=dict(width=0)), opacity=0.85,
            customdata=np.stack([sub["patient"], sub["regimen"]], axis=1), legendgroup="regimen",
            legendgrouptitle_text="First line",
            hovertemplate="%{customdata[0]} (%{customdata[1]})<br>followed %{x:.1f} months<extra></extra>"))
    for event, label in LANE_EVENTS.items():
        sub = lanes[lanes[event].notna()]
        if sub.empty:
            continue
        symbol, fill, size = _SWIMMER_MARKERS[event]
        fig.add_trace(go.Scatter(
            x=sub[event], y=sub["lane"], mode="markers", name=label, legendgroup="events",
            legendgrouptitle_text="Events",
            marker=dict(symbol=symbol, color=fill, size=size, line=dict(color="#000000", width=1.2)),
            customdata=sub["patient"],
            hovertemplate=f"%{{customdata}}: {label} at %{{x:.1f}} months<extra></extra>"))
    alive = lanes[lanes["alive"]]
    if not alive.empty:
        fig.add_trace(go.Scatter(
            x=alive["end"], y=alive["lane"], mode="markers", name="alive at last follow-up", legendgroup="events",
            marker=dict(symbol="arrow-right", color="#444444", size=9, line=dict(color="#444444", width=1)),
            customdata=alive["patient"],
            hovertemplate="%{customdata}: alive at last follow-up, %{x:.1f} months<extra></extra>"))
    total = lanes.attrs.get("n_total", n)
    shown = f"{n} patients" if n == total else f"a random sample of {n} of {total} patients"
    title = f"Course of each patient from first-line start ({shown})"
    fig.update_layout(
        template="plotly_white", font=dict(family=_FONT, size=13), barmode="overlay", bargap=0.25,
        height=max(420, 190 + 9 * n),
        title=dict(text=f"{title}<br><sup>{html.escape(subtitle)}</sup>" if subtitle else title, x=0.01),
        xaxis=dict(title="Months since first-line start", rangemode="tozero"),
        yaxis=dict(autorange="reversed", showticklabels=False, title="Patients", showgrid=False, zeroline=False),
        legend=dict(groupclick="toggleitem"), margin=dict(l=60, r=20, t=80, b=60))
    return fig


#: Landmark groups (reached by the landmark, not reached): Paul Tol's indigo and rose, colour-blind
#: safe and unlike any regimen colour, so a group is not mistaken for a regimen.
LANDMARK_COLORS: tuple[str, str] = ("#332288", "#CC6677")


def landmark_colors(groups: tuple[str, str]) -> dict[str, str]:
    """Colour per landmark group, for :func:`km_figure`."""
    return dict(zip(groups, LANDMARK_COLORS))
