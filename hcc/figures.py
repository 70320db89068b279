"""Plotly figures. Every regimen keeps one colour across the app (:func:`regimen_colors`)."""

from __future__ import annotations

import html
import math
from dataclasses import dataclass

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from hcc.endpoints import DEFINITIONS
from hcc.schema import ATZ_BEV, DAYS_PER_MONTH, ENDPOINT_LABELS, LEN, SOR, STUDY_REGIMENS
from hcc.survival import EndpointSummary, KMCurve, survival_at

#: Okabe–Ito palette (colour-blind safe). The study regimens have fixed colours; others follow.
_STUDY_COLORS = {SOR: "#0072B2", LEN: "#E69F00", ATZ_BEV: "#009E73"}
_OTHER_COLORS = ("#CC79A7", "#D55E00", "#56B4E9", "#000000", "#F0E442")
_FONT = "Arial, Helvetica, sans-serif"


def regimen_colors(regimens: tuple[str, ...]) -> dict[str, str]:
    """Colour per regimen: fixed for SOR / LEN / ATZ_BEV, the rest in order of ``regimens``."""
    others = iter(_OTHER_COLORS * (1 + len(regimens) // len(_OTHER_COLORS)))
    return {r: _STUDY_COLORS[r] if r in STUDY_REGIMENS else next(others) for r in regimens}


def format_p(p: float | None) -> str:
    """Clinical p-value format: ``p < 0.001`` or three decimals."""
    if p is None or np.isnan(p):
        return "p not computed"
    return "p < 0.001" if p < 0.001 else f"p = {p:.3f}"


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
    """

    show_ci: bool = False
    horizon_months: float | None = None
    break_months: int | None = None
    percent: bool = False
    risk_table: bool = True
    kmunicate: bool = False
    median_lines: bool = True


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
        text += f"<br>HR {c.term} vs {c.reference} {c.hr:.2f} (95% CI {c.lower:.2f}–{c.upper:.2f})"
    return text


def km_figure(summary: EndpointSummary, colors: dict[str, str], subtitle: str = "",
              options: KMFigureOptions = KMFigureOptions()) -> go.Figure:
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
        fig.update_yaxes(row=2, col=1, range=[0.4, n_rows + 0.6], tickvals=ys, ticktext=labels,
                         showgrid=False, zeroline=False, showline=False, ticks="")
        fig.update_xaxes(row=2, col=1, showgrid=False, zeroline=False, showticklabels=False)
        fig.add_annotation(text="<b>Number at risk</b>" if not options.kmunicate else "<b>Numbers at each time</b>",
                           xref="paper", yref="paper", x=0, y=table_share, xanchor="left",
                           yanchor="bottom", showarrow=False, font=dict(size=13))
    # Tick labels and title under the curves; the risk table below reuses the same x axis.
    fig.update_xaxes(row=1, col=1, showticklabels=True,
                     title_text=f"Months since {DEFINITIONS[summary.endpoint].origin_label}")

    fig.update_xaxes(range=[-0.02 * horizon, horizon * 1.02], tickvals=breaks, showgrid=True, zeroline=False)
    fig.update_yaxes(row=1, col=1, title_text="Survival (%)" if options.percent else "Survival probability",
                     range=[0, 1.03 * scale], tickformat=".0f" if options.percent else ".1f", zeroline=False)
    label = ENDPOINT_LABELS[summary.endpoint]
    title = f"{label} by first-line regimen (n = {summary.n})"
    fig.update_layout(
        title=dict(text=f"{title}<br><sup>{html.escape(subtitle)}</sup>" if subtitle else title, x=0.01),
        legend=dict(orientation="h", yanchor="bottom", y=1.0, x=1, xanchor="right", font=dict(size=13)),
        template="plotly_white", font=dict(family=_FONT, size=14),
        margin=dict(l=70, r=20, t=110, b=30), height=560 + 28 * n_rows,
        annotations=list(fig.layout.annotations) + [dict(
            text=_annotation(summary), x=0.99, y=0.97 if not rows else 1.0, xref="x domain", yref="y domain",
            showarrow=False, xanchor="right", yanchor="top", align="right", font=dict(size=14))],
    )
    return fig


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
