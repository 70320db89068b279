"""Figures of the adjusted comparisons: forest plots, subgroup forest plot, love plot, weighted KM.

Plotly, in the conventions of :mod:`hcc.outputs.figures` (Okabe–Ito regimen colours, white template, Arial).
Hazard-ratio axes are logarithmic with a reference line at HR = 1; each row is labelled with its
HR (95% CI) and p on the right.
"""

from __future__ import annotations

import html
import math

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from hcc.stats.adjusted import MultivariableCox
from hcc.stats.subgroups import SubgroupResult
from hcc.formatting import format_hr, format_p
from hcc.i18n import tr
from hcc.schema import DAYS_PER_MONTH, ENDPOINT_Y_LABELS, endpoint_label, endpoint_y_label, regimen_name
from hcc.outputs.figures import apply_layout
from hcc.stats.weighting import SMD_TARGET, IPTWResult, column_label

__all__ = ["forest_figure", "subgroup_forest_figure", "love_plot", "weighted_km_figure", "weighted_at_risk"]

_FONT = "Arial, Helvetica, sans-serif"
_INK = "#222222"
_FLAG = "#D55E00"
_ROW_PX = 38


def _hr_text(hr: float, lo: float, hi: float, p: float) -> str:
    if not all(map(math.isfinite, (hr, lo, hi))):
        return format_hr(hr, lo, hi)  # "not estimable"
    return f"{format_hr(hr, lo, hi)} · {format_p(p)}"


_TICKS = (0.01, 0.02, 0.05, 0.1, 0.2, 0.25, 0.5, 0.75, 1.0, 1.5, 2.0, 4.0, 5.0, 10.0, 20.0, 50.0, 100.0)


def _log_axis(lows: list[float], highs: list[float]) -> dict:
    """Range (log10 units) and readable ticks covering every CI (at least 0.8 to 1.25)."""
    finite = [v for v in (*lows, *highs) if math.isfinite(v) and v > 0]
    lo, hi = (min(finite), max(finite)) if finite else (0.5, 2.0)
    lo, hi = min(lo, 0.8), max(hi, 1.25)
    ticks = [t for t in _TICKS if lo / 1.2 <= t <= hi * 1.2]
    return dict(range=[math.log10(lo) - 0.08, math.log10(hi) + 0.08], tickvals=ticks,
                ticktext=[f"{t:g}" for t in ticks])


def _forest(labels: list[str], hr: list[float], lo: list[float], hi: list[float], texts: list[str],
            colors: list[str], sizes: list[float], title: str, subtitle: str, note: str) -> go.Figure:
    n = len(labels)
    y = list(range(n, 0, -1))
    fig = make_subplots(rows=1, cols=2, column_widths=[0.64, 0.36], shared_yaxes=True, horizontal_spacing=0.01)
    ok = [math.isfinite(h) for h in hr]
    fig.add_trace(go.Scatter(
        x=[h if k else None for h, k in zip(hr, ok)], y=y, mode="markers",
        marker=dict(symbol="square", size=sizes, color=colors, line=dict(width=0)),
        error_x=dict(type="data", symmetric=False, color=_INK, thickness=1.6, width=0,
                     array=[(b - h) if k else None for h, b, k in zip(hr, hi, ok)],
                     arrayminus=[(h - a) if k else None for h, a, k in zip(hr, lo, ok)]),
        customdata=np.array(texts, dtype=object), text=labels,
        hovertemplate="<b>%{text}</b><br>" + tr("HR {hr}", hr="%{customdata}") + "<extra></extra>", showlegend=False),
        row=1, col=1)
    fig.add_vline(x=1, line=dict(color="#555555", width=1.2), row=1, col=1)
    fig.add_trace(go.Scatter(x=[0] * n, y=y, mode="text", text=[html.escape(t) for t in texts],
                             textposition="middle right", textfont=dict(size=13, color=_INK),
                             hoverinfo="skip", showlegend=False), row=1, col=2)
    fig.update_xaxes(type="log", row=1, col=1, **_log_axis(lo, hi), title_text=tr("Hazard ratio (log scale; below 1 = lower hazard)"),
                     showgrid=True, gridcolor="#E5E5E5", zeroline=False)
    fig.update_xaxes(row=1, col=2, range=[0, 1], visible=False)
    fig.update_yaxes(tickvals=y, ticktext=[html.escape(t) for t in labels], range=[0.4, n + 1.2], showgrid=False,
                     zeroline=False, automargin=True, row=1, col=1)
    fig.add_annotation(text=f"<b>{tr('HR (95% CI) · p')}</b>", xref="x2", yref="y", x=0, y=n + 0.55, showarrow=False,
                       xanchor="left", yanchor="bottom", font=dict(size=13))
    if note:
        fig.add_annotation(text=html.escape(note), xref="paper", yref="paper", x=0, y=0, yshift=-62,
                           showarrow=False, xanchor="left", yanchor="top", font=dict(size=12, color="#444444"))
    fig.update_layout(template="plotly_white", font=dict(family=_FONT, size=14), margin=dict(l=20, r=20))
    return apply_layout(fig, "screen", 0, title=title, subtitle=subtitle, plot_height=_ROW_PX * (n + 1) + 10,
                        bottom_px=100)


def forest_figure(model: MultivariableCox, subtitle: str = "") -> go.Figure:
    """Forest plot of every coefficient of a multivariable Cox model (flagged rows in orange)."""
    terms = model.terms
    title = tr("{endpoint}: multivariable Cox model (n = {n}, events = {events})",
               endpoint=endpoint_label(model.spec.endpoint), n=model.n, events=model.events)
    ph = next(t for t in model.ph_tests if t.term == "GLOBAL")
    parts = [tr("Concordance {c}", c=f"{model.concordance:.3f}"), tr("likelihood-ratio test {p}", p=format_p(model.lr_p)),
             tr("proportional hazards (global) {p}", p=format_p(ph.p))]
    if model.spec.center_stratum:
        parts.append(tr("stratified by center"))
    if model.dropped:
        parts.append(tr("{n} patients left out for missing covariates", n=model.dropped))
    note = " · ".join(parts)
    return _forest([tr(t.label) + (" ⚠" if t.flag else "") for t in terms], [t.hr for t in terms],
                   [t.lower for t in terms], [t.upper for t in terms],
                   [_hr_text(t.hr, t.lower, t.upper, t.p) for t in terms],
                   [_FLAG if t.flag else _INK for t in terms], [11] * len(terms), title, subtitle, note)


def subgroup_forest_figure(result: SubgroupResult, subtitle: str = "") -> go.Figure:
    """Subgroup forest plot: overall and per level, marker area growing with the patients in the row."""
    rows = (result.overall, *result.rows)
    biggest = max(r.n for r in rows) or 1
    label = tr(result.label)
    title = tr("{endpoint}: {a} vs {b} by {factor}", endpoint=endpoint_label(result.endpoint), a=result.a, b=result.b,
               factor=label)
    note = (tr("Interaction (likelihood ratio): {p}", p=format_p(result.interaction_p))
            if math.isfinite(result.interaction_p) else tr("Interaction not testable (fewer than two levels)"))
    if result.missing:
        note += " · " + tr("{n} patients without {factor} recorded left out of the levels", n=result.missing,
                           factor=label)
    # Each level says what it is a level of: "Child-Pugh A (n = 401)", "AFP ≥ 400 ng/mL (n = 180)".
    factor = tr(result.label.removesuffix(" class"))
    labels = [(f"{tr(r.level)} (n = {r.n})" if i == 0 else f"{factor} {tr(r.level)} (n = {r.n})")
              + (" ⚠" if r.flag else "") for i, r in enumerate(rows)]
    return _forest(labels, [r.hr for r in rows], [r.lower for r in rows], [r.upper for r in rows],
                   [_hr_text(r.hr, r.lower, r.upper, r.p) for r in rows],
                   [_INK] + [_FLAG if r.flag else "#0072B2" for r in result.rows],
                   [8 + 10 * math.sqrt(r.n / biggest) for r in rows], title, subtitle, note)


def love_plot(result: IPTWResult, subtitle: str = "") -> go.Figure:
    """Largest |SMD| over the regimen pairs per covariate, before (open) and after (filled) weighting."""
    worst = result.max_abs_smd().iloc[::-1]
    labels = [tr(column_label(c)) for c in worst["column"]]
    fig = go.Figure()
    fig.add_trace(go.Scatter(x=worst["before"], y=labels, mode="markers", name=tr("Before weighting"),
                             marker=dict(symbol="circle-open", size=11, color="#555555", line=dict(width=2))))
    fig.add_trace(go.Scatter(x=worst["after"], y=labels, mode="markers", name=tr("After weighting"),
                             marker=dict(symbol="circle", size=10, color="#0072B2")))
    fig.add_vline(x=SMD_TARGET, line=dict(color=_FLAG, dash="dash", width=1.5))
    fig.add_vline(x=0, line=dict(color="#999999", width=1))
    top = max(0.25, float(np.nanmax(worst[["before", "after"]].to_numpy())) * 1.1)
    fig.update_xaxes(range=[-0.005, top], title_text=tr("Absolute standardized mean difference "
                                                        "(largest over regimen pairs)"))
    title = tr("Covariate balance (n = {n}); target |SMD| < {target}", n=result.n, target=f"{SMD_TARGET:g}")
    fig.update_layout(template="plotly_white", font=dict(family=_FONT, size=14), margin=dict(l=20, r=20))
    return apply_layout(fig, "screen", title=title, subtitle=subtitle, plot_height=40 + 26 * len(labels),
                        bottom_px=64)


def weighted_km_figure(result: IPTWResult, colors: dict[str, str], subtitle: str = "",
                       show_ci: bool = True) -> go.Figure:
    """IPTW-weighted Kaplan–Meier curves by regimen (months on x), with pointwise 95% CI bands and,
    under them on the same x axis, the weighted number at risk (sum of the stabilized weights of the
    patients with time >= t, rounded; R ``summary(survfit(..., weights = w), times)$n.risk``)."""
    horizon = float(np.percentile(np.concatenate([c.time for c in result.curves.values()]), 95)) / DAYS_PER_MONTH
    step = 3 if horizon <= 24 else 6 if horizon <= 72 else 12
    breaks = np.arange(0, horizon + 1e-9, step, dtype=float)
    n_rows = len(result.regimens)
    table_share = min(0.4, 0.06 + 0.045 * n_rows)
    fig = make_subplots(rows=2, cols=1, shared_xaxes=True, vertical_spacing=0.16,
                        row_heights=[1 - table_share, table_share])
    for r in result.regimens:
        curve = result.curves[r]
        color = colors.get(r, "#555555")
        t = np.concatenate(([0.0], curve.time / DAYS_PER_MONTH))
        s = np.concatenate(([1.0], curve.surv))
        if show_ci:
            lo = np.concatenate(([1.0], np.nan_to_num(curve.lower, nan=0.0)))
            hi = np.concatenate(([1.0], np.nan_to_num(curve.upper, nan=1.0)))
            fig.add_trace(go.Scatter(x=np.concatenate([t, t[::-1]]), y=np.concatenate([hi, lo[::-1]]),
                                     line_shape="hv", fill="toself", fillcolor=color, opacity=0.15,
                                     line=dict(width=0), hoverinfo="skip", showlegend=False, legendgroup=r),
                          row=1, col=1)
        n = int((result.regimen == r).sum())
        fig.add_trace(go.Scatter(x=t, y=s, mode="lines", line_shape="hv", line=dict(color=color, width=2.5),
                                 name=f"{html.escape(regimen_name(r))}: n = {n}", legendgroup=r,
                                 hovertemplate=f"<b>{html.escape(r)}</b><br>"
                                               + tr("{months} months", months="%{x:.1f}") + "<br>"
                                               + tr("weighted S = {s}", s="%{y:.3f}") + "<extra></extra>"),
                      row=1, col=1)
    ys = list(range(n_rows, 0, -1))
    for r, y in zip(result.regimens, ys):
        fig.add_trace(go.Scatter(x=breaks, y=[y] * len(breaks), mode="text", showlegend=False, hoverinfo="skip",
                                 text=[str(k) for k in weighted_at_risk(result.curves[r], breaks)],
                                 textfont=dict(color=colors.get(r, "#333"), size=13)), row=2, col=1)
    fig.update_yaxes(row=2, col=1, range=[0.4, n_rows + 0.6], tickvals=ys, showgrid=False, zeroline=False,
                     ticktext=[f"<span style='color:{colors.get(r, '#333')}'>{html.escape(r)}</span>"
                               for r in result.regimens], showline=False, ticks="", ticklabelstandoff=14)
    fig.update_xaxes(row=2, col=1, showgrid=False, zeroline=False, showticklabels=False)
    fig.add_annotation(text=f"<b>{tr('Number at risk (weighted)')}</b>", xref="paper", yref="paper", x=0, y=table_share,
                       xanchor="left", yanchor="bottom", showarrow=False, font=dict(size=13))
    hrs = "<br>".join(html.escape(tr("{term} vs {reference}: HR {hr}", term=h.term, reference=h.reference,
                                     hr=_hr_text(h.hr, h.lower, h.upper, h.p))) for h in result.cox)
    fig.add_annotation(text=f"{tr('Weighted Cox (robust SE)')}<br>{hrs}", x=0.99, y=0.98, xref="x domain", yref="y domain",
                       showarrow=False, xanchor="right", yanchor="top", align="right", font=dict(size=13))
    # Far tails rest on a handful of (weighted) patients: show up to the 95th percentile of follow-up.
    title = tr("{endpoint}, weighted by inverse probability of treatment", endpoint=endpoint_label(result.spec.endpoint))
    fig.update_xaxes(range=[-0.02 * horizon, horizon * 1.02], tickvals=breaks, zeroline=False)
    fig.update_xaxes(row=1, col=1, title_text=tr("Months"), showticklabels=True)
    y_label = (endpoint_y_label(result.spec.endpoint) if result.spec.endpoint in ENDPOINT_Y_LABELS
               else tr("Survival probability"))
    fig.update_yaxes(row=1, col=1, title_text=tr("{label} (weighted)", label=y_label), range=[0, 1.03], tickformat=".1f",
                     zeroline=False)
    fig.update_layout(template="plotly_white", font=dict(family=_FONT, size=14), margin=dict(l=70, r=20))
    return apply_layout(fig, "screen", title=title, subtitle=subtitle, plot_height=420 + 28 * n_rows, bottom_px=24,
                        table_rows=n_rows)


def weighted_at_risk(curve, breaks_months: np.ndarray) -> list[int]:
    """Weighted number at risk of ``curve`` at each break (months): the summed weights of the patients
    with time >= t, rounded to a whole patient (0 past the last time)."""
    idx = np.searchsorted(curve.time, breaks_months * DAYS_PER_MONTH, side="left")
    return [int(round(float(curve.n_risk[i]))) if i < len(curve.time) else 0 for i in idx]
