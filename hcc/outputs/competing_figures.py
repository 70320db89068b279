"""Figures of competing risks and of the patient pathway (plotly), one panel per first-line regimen.

* :func:`cif_figure` — stacked cumulative incidence: the event of interest from the bottom, the
  competing event stacked on it, and the event-free remainder up to 1, with the number at risk
  under each panel and Gray's p opening the subtitle.
* :func:`pathway_figure` — the patient pathway: state occupation probabilities stacked to 1, with
  the percentages in each state written at 6, 12 and 24 months.

Laid out by :func:`hcc.outputs.figures.apply_layout` (title, subtitle, legend below the plot) like
every other figure, so presentation and export styles treat them the same way.
"""

from __future__ import annotations

import html
import math

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from hcc.formatting import format_p
from hcc.i18n import tr, trc
from hcc.outputs.figures import _FONT, apply_layout, default_break_months
from hcc.schema import DAYS_PER_MONTH, regimen_name
from hcc.stats.competing import CompetingSummary, PathwaySummary

#: Event of interest, competing event, event-free remainder (Okabe–Ito, readable in grey print).
CIF_COLORS: tuple[str, str, str] = ("#0072B2", "#D55E00", "#E8E8E8")
#: On first line, progressed, on second line or later, dead.
STATE_COLORS: tuple[str, ...] = ("#009E73", "#E69F00", "#56B4E9", "#555555")
#: Months at which the pathway figure writes the percentages in each state.
PATHWAY_MONTHS: tuple[float, ...] = (6.0, 12.0, 24.0)


def _horizon_months(times_days: list[np.ndarray], minimum: float = 6.0) -> float:
    """Right end of the x axis: where 95% of the patients' times (days) are reached, at least
    ``minimum`` months (a long, sparse tail says little and squeezes the rest)."""
    pooled = np.concatenate([t for t in times_days if len(t)]) if any(len(t) for t in times_days) else np.zeros(1)
    return max(minimum, float(np.quantile(pooled, 0.95)) / DAYS_PER_MONTH)


def _breaks(horizon: float, panels: int) -> np.ndarray:
    """Tick and risk-table months: the KM figure's steps, coarser when panels share the width so
    the numbers at risk do not run into each other (about five per panel)."""
    step = default_break_months(horizon)
    while panels > 1 and horizon / step > 4:
        step *= 2
    end = math.ceil(horizon / step) * step
    return np.arange(0, end + 1e-9, step, dtype=float)


def _step_xy(time_days: np.ndarray, values: np.ndarray, start: float, horizon: float) -> tuple[np.ndarray, np.ndarray]:
    """Step-function points from time 0 to the last time (not extended past follow-up)."""
    x = np.concatenate(([0.0], time_days / DAYS_PER_MONTH))
    y = np.concatenate(([start], values))
    keep = np.concatenate(([True], x[:-1] <= horizon))  # one point past the axis end keeps the last step
    return x[keep], y[keep]


def _risk_at(n_risk: np.ndarray, time_days: np.ndarray, n: int, months: np.ndarray) -> list[str]:
    """Number at risk (time >= t) at each break, as R's ``summary(fit, times)``; blank past the last time."""
    out = []
    for m in months:
        t = m * DAYS_PER_MONTH
        if len(time_days) == 0 or t > time_days[-1]:
            out.append("")
            continue
        j = int(np.searchsorted(time_days, t, side="left"))
        out.append(str(n if t <= 0 else int(n_risk[j])))
    return out


#: Share of the figure's plot area kept free at its top for the panels' regimen names.
PANEL_TITLE_ROOM = 0.08


def _panel_title(group: str, color: str) -> str:
    """A panel's heading: the regimen's name (not its code) in its colour. Its patients are the
    number at risk at 0 (and the title's total): "(n = …)" here would not fit three panels on a
    1280-px tumor-board screen beside "Atezolizumab + bevacizumab"."""
    return f"<span style='color:{color}'><b>{html.escape(regimen_name(group, with_code=False))}</b></span>"


def _layout(fig: go.Figure, title: str, subtitle: str, plot_height: int, x_title: str) -> None:
    """One x-axis title for all panels, room above the panels for their names, then the app's one
    layout rule (:func:`apply_layout`: title and subtitle in the top margin, legend under the plot)."""
    shrink = 1 - PANEL_TITLE_ROOM  # the panel names sit at the top of the plot area, under the subtitle
    for axis in fig.layout:
        if axis.startswith("yaxis") and fig.layout[axis].domain:
            lo, hi = fig.layout[axis].domain
            fig.layout[axis].domain = [lo * shrink, hi * shrink]
    for ann in fig.layout.annotations:
        if ann.yref == "paper" and ann.y is not None:
            ann.y = ann.y * shrink
    fig.add_annotation(text=html.escape(x_title, quote=False), xref="paper", yref="paper", x=0.5, y=0,
                       yshift=-34, xanchor="auto", yanchor="top", showarrow=False, font=dict(size=15))
    fig.update_layout(template="plotly_white", font=dict(family=_FONT, size=14), margin=dict(l=80, r=20))
    apply_layout(fig, "screen", title=title, subtitle=subtitle, plot_height=plot_height, bottom_px=70)


def cif_figure(summary: CompetingSummary, colors: dict[str, str], subtitle: str = "",
               horizon_months: float | None = None) -> go.Figure:
    """Stacked cumulative incidence by regimen (one panel each) with a number-at-risk row.

    Bottom band: cumulative incidence of the event of interest; middle: the competing event stacked
    on it; top (grey): neither yet. Black points with bars: the event's estimate and 95% CI at the
    summary's milestones. Months on x (days / 30.4375); the panel's regimen name is in its
    colour. Curves stop at each regimen's last observed time.
    """
    groups = [g for g in summary.groups if g.n]
    k = max(1, len(groups))
    horizon = horizon_months or _horizon_months([g.curve.time for g in groups])
    breaks = _breaks(horizon, k)
    horizon = float(breaks[-1])  # curves run to the axis end, where the at-risk row ends too
    fig = make_subplots(rows=2, cols=k, shared_xaxes=True, row_heights=[0.86, 0.14], vertical_spacing=0.09,
                        horizontal_spacing=0.04, subplot_titles=[
                            _panel_title(g.group, colors.get(g.group, "#333")) for g in groups])
    d = summary.definition
    names = (tr(d.event_words), tr(d.competing_words), tr("Neither yet"))
    for col, g in enumerate(groups, start=1):
        c = g.curve
        x, y1 = _step_xy(c.time, c.cif, 0.0, horizon)
        _, y2 = _step_xy(c.time, c.cif + c.cif_competing, 0.0, horizon)
        bands = (y1, y2 - y1, 1.0 - y2)
        for i, (y, fill) in enumerate(((y1, "tozeroy"), (y2, "tonexty"), (np.ones_like(y2), "tonexty"))):
            fig.add_trace(go.Scatter(
                x=x, y=y, mode="lines", line_shape="hv", line=dict(color=CIF_COLORS[i] if i < 2 else "#BBBBBB",
                                                                   width=1.5 if i < 2 else 0.5),
                fill=fill, fillcolor=CIF_COLORS[i], name=names[i], legendgroup=names[i], showlegend=col == 1,
                customdata=bands[i],
                hovertemplate=f"<b>{html.escape(g.group)}</b> · {html.escape(names[i])}<br>"
                              + tr("{months} months: {share}", months="%{x:.1f}", share="%{customdata:.1%}")
                              + "<extra></extra>"), row=1, col=col)
        shown = [(m, p) for m, (p, _) in g.milestones.items() if m <= horizon and not math.isnan(p.lower)]
        if shown:  # the event's 95% CI at the milestones (the table has both causes)
            fig.add_trace(go.Scatter(
                x=[m for m, _ in shown], y=[p.est for _, p in shown], mode="markers",
                marker=dict(color="#000000", size=6), name=tr("95% CI at milestones"), legendgroup="ci",
                showlegend=col == 1, error_y=dict(type="data", symmetric=False, color="#000000", thickness=1.5,
                                                  array=[p.upper - p.est for _, p in shown],
                                                  arrayminus=[p.est - p.lower for _, p in shown]),
                customdata=[[100 * p.lower, 100 * p.upper] for _, p in shown],
                hovertemplate=f"<b>{html.escape(g.group)}</b> · {html.escape(names[0])}<br>"
                              + tr("{months} months: {share} (95% CI {low}–{high}%)", months="%{x:g}", share="%{y:.1%}",
                                   low="%{customdata[0]:.0f}", high="%{customdata[1]:.0f}") + "<extra></extra>"),
                row=1, col=col)
        fig.add_trace(go.Scatter(x=breaks, y=[1] * len(breaks), text=_risk_at(c.n_risk, c.time, g.n, breaks),
                                 mode="text", textfont=dict(size=12, color=colors.get(g.group, "#333")),
                                 cliponaxis=False,  # the count at 0 months is centred on the panel's edge
                                 showlegend=False, hoverinfo="skip"), row=2, col=col)
        fig.update_yaxes(row=2, col=col, range=[0.5, 1.5], tickvals=[1], ticktext=[trc("risk table", "At risk")] if col == 1 else [""],
                         showgrid=False, zeroline=False, showline=False, ticks="", ticklabelstandoff=26)
        fig.update_xaxes(row=2, col=col, showticklabels=False, showgrid=False, zeroline=False)
        fig.update_xaxes(row=1, col=col, range=[-0.02 * breaks[-1], breaks[-1] * 1.02], tickvals=breaks,
                         showticklabels=True)
        fig.update_yaxes(row=1, col=col, range=[0, 1.0], tickformat=".0%", showticklabels=col == 1)
    fig.update_yaxes(row=1, col=1, title_text=tr("Cumulative probability"))
    test = summary.gray
    # Gray's p opens the second line: a presentation screen cuts long lines at the right
    gray = "" if test is None else tr("Gray's test {p}", p=format_p(test.p))
    _layout(fig, tr("{title} (n = {n})", title=tr(d.short_title), n=sum(g.n for g in groups)),
            " · ".join(x for x in (gray, subtitle) if x), 470, tr("Months since {origin}", origin=tr(d.origin_words)))
    return fig


def pathway_figure(summary: PathwaySummary, colors: dict[str, str], subtitle: str = "",
                   horizon_months: float | None = None) -> go.Figure:
    """Where patients are over time: state occupation probabilities stacked to 1 per regimen (one
    panel each), with each state's percentage written at 6, 12 and 24 months (dotted lines).
    A regimen's bands stop at its last observed time."""
    groups = [g for g in summary.groups if g.n]
    k = max(1, len(groups))
    horizon = horizon_months or max(26.0, _horizon_months([g.occupation.time for g in groups]))
    breaks = _breaks(horizon, k)
    horizon = float(breaks[-1])  # curves run to the axis end, where the at-risk row ends too
    fig = make_subplots(rows=1, cols=k, horizontal_spacing=0.04, subplot_titles=[
        _panel_title(g.group, colors.get(g.group, "#333")) for g in groups])
    for col, g in enumerate(groups, start=1):
        occ = g.occupation
        cum = np.cumsum(occ.pstate, axis=1) if len(occ.time) else np.zeros((0, len(summary.states)))
        for i, state in enumerate(summary.states):
            # everyone is on first line at time 0, so every cumulative band starts at 1
            x, y = _step_xy(occ.time, cum[:, i], 1.0, horizon)
            share = np.concatenate(([1.0 if i == 0 else 0.0], occ.pstate[:, i]))[:len(x)]
            fig.add_trace(go.Scatter(
                x=x, y=y, mode="lines", line_shape="hv", line=dict(color=STATE_COLORS[i], width=0.5),
                fill="tozeroy" if i == 0 else "tonexty", fillcolor=STATE_COLORS[i], name=tr(state), legendgroup=state,
                showlegend=col == 1, customdata=share,
                hovertemplate=f"<b>{html.escape(g.group)}</b> · {html.escape(tr(state))}<br>"
                              + tr("{months} months: {share}", months="%{x:.1f}", share="%{customdata:.1%}")
                              + "<extra></extra>"), row=1, col=col)
        for m in PATHWAY_MONTHS:
            if m > horizon:
                continue
            fig.add_vline(x=m, line=dict(color="#222", width=1, dash="dot"), row=1, col=col)
            p = g.occupation.at(m * DAYS_PER_MONTH)
            if p is None:
                fig.add_annotation(x=m, y=0.5, text=tr("not<br>estimable"), showarrow=False, font=dict(size=11),
                                   bgcolor="rgba(255,255,255,0.8)", row=1, col=col)
                continue
            base = 0.0
            for i, v in enumerate(p):
                if v >= 0.08:  # a band thinner than this has no room for its number
                    fig.add_annotation(x=m, y=base + v / 2, text=f"{100 * v:.0f}%", showarrow=False,
                                       font=dict(size=12, color="white" if i in (0, 3) else "#111"),
                                       bgcolor="rgba(0,0,0,0)", row=1, col=col)
                base += v
        fig.update_xaxes(row=1, col=col, range=[0, breaks[-1] * 1.02], tickvals=breaks)
        fig.update_yaxes(row=1, col=col, range=[0, 1.0], tickformat=".0%", showticklabels=col == 1)
    fig.update_yaxes(row=1, col=1, title_text=tr("Share of patients"))
    _layout(fig, tr("Where patients are after first-line start (n = {n})", n=sum(g.n for g in groups)), subtitle, 440,
            tr("Months since first-line start"))
    return fig
