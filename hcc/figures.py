"""Plotly figures. Every regimen keeps one colour across the app (:func:`regimen_colors`)."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go

from hcc.endpoints import DEFINITIONS
from hcc.schema import DAYS_PER_MONTH, ENDPOINT_LABELS, STUDY_REGIMENS
from hcc.survival import EndpointSummary, KMCurve

#: Okabe–Ito palette (colour-blind safe). The study regimens have fixed colours; others follow.
_STUDY_COLORS = {"SOR": "#0072B2", "LEN": "#E69F00", "ATZ_BEV": "#009E73"}
_OTHER_COLORS = ("#CC79A7", "#D55E00", "#56B4E9", "#000000", "#F0E442")


def regimen_colors(regimens: tuple[str, ...]) -> dict[str, str]:
    """Colour per regimen: fixed for SOR / LEN / ATZ_BEV, the rest in order of ``regimens``."""
    others = iter(_OTHER_COLORS * (1 + len(regimens) // len(_OTHER_COLORS)))
    return {r: _STUDY_COLORS[r] if r in STUDY_REGIMENS else next(others) for r in regimens}


def format_p(p: float | None) -> str:
    """Clinical p-value format: ``p < 0.001`` or three decimals."""
    if p is None or np.isnan(p):
        return "p not computed"
    return "p < 0.001" if p < 0.001 else f"p = {p:.3f}"


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


def km_figure(summary: EndpointSummary, colors: dict[str, str], subtitle: str = "",
              show_ci: bool = False) -> go.Figure:
    """Kaplan–Meier curves by group, months on x, survival probability on y.

    Censored observations are marked with ``+``; the legend gives n and median per group; the
    log-rank p is annotated.
    """
    fig = go.Figure()
    for g in summary.groups:
        curve = summary.curves.get(g.group)
        if curve is None:
            continue
        color = colors.get(g.group, "#555555")
        t, s, lo, hi = _step(curve)
        med = "NR" if np.isnan(g.median) else f"{g.median:.1f} mo"
        name = f"{g.group} (n={g.n}, median {med})"
        if show_ci:
            fig.add_trace(go.Scatter(x=np.concatenate([t, t[::-1]]),
                                     y=np.concatenate([np.nan_to_num(hi, nan=1.0),
                                                       np.nan_to_num(lo, nan=0.0)[::-1]]),
                                     line_shape="hv", fill="toself", fillcolor=color, opacity=0.15,
                                     line=dict(width=0), hoverinfo="skip", showlegend=False,
                                     legendgroup=g.group))
        fig.add_trace(go.Scatter(
            x=t, y=s, mode="lines", line_shape="hv", line=dict(color=color, width=2.5), name=name,
            legendgroup=g.group,
            customdata=np.stack([np.concatenate(([curve.n], curve.n_risk)), lo, hi], axis=1),
            hovertemplate=(f"<b>{g.group}</b><br>%{{x:.1f}} months<br>S = %{{y:.3f}} "
                           "(95% CI %{customdata[1]:.3f}–%{customdata[2]:.3f})<br>"
                           "at risk %{customdata[0]}<extra></extra>")))
        cens = curve.n_censor > 0
        fig.add_trace(go.Scatter(x=curve.time[cens] / DAYS_PER_MONTH, y=curve.surv[cens], mode="markers",
                                 marker=dict(symbol="line-ns-open", size=8, color=color),
                                 legendgroup=g.group, showlegend=False, hoverinfo="skip"))
    title = ENDPOINT_LABELS[summary.endpoint]
    horizon = default_horizon_months(summary)
    fig.update_layout(
        title=dict(text=f"{title}<br><sup>{subtitle}</sup>" if subtitle else title),
        xaxis=dict(title=f"Months since {DEFINITIONS[summary.endpoint].origin_label}", range=[0, horizon],
                   dtick=6 if horizon <= 72 else 12, showgrid=True, zeroline=False),
        yaxis=dict(title="Probability", range=[0, 1.03], tickformat=".1f", zeroline=False),
        legend=dict(orientation="h", yanchor="bottom", y=-0.32, x=0),
        template="plotly_white", margin=dict(l=60, r=20, t=70, b=90), height=480,
        annotations=[dict(text=f"Log-rank {format_p(summary.logrank.p if summary.logrank else None)}",
                          x=0.98, y=0.98, xref="paper", yref="paper", showarrow=False,
                          xanchor="right", font=dict(size=14))],
    )
    return fig
