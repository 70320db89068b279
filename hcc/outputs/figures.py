"""Plotly figures. Every regimen keeps one colour across the app (:func:`regimen_colors`)."""

from __future__ import annotations

import html
import math
import re
import unicodedata
from dataclasses import dataclass

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from hcc.cohort.endpoints import DEFINITIONS
from hcc.cohort.secondline import PATH_ENDS
from hcc.formatting import format_p
from hcc.i18n import current_language, tr, trc
from hcc.schema import (ATZ_BEV, DAYS_PER_MONTH, ENDPOINT_Y_LABELS, LEN, REGIMEN_LABELS, SOR, STUDY_REGIMENS,
                        endpoint_label, endpoint_y_label, regimen_name)
from hcc.stats.survival import EndpointSummary, KMCurve, survival_at
from hcc.stats.response import CATEGORIES, LANE_EVENTS, ResponseSummary
from hcc.reference.trials import TRIALS, arms_for

#: Okabe–Ito palette (colour-blind safe). The study regimens have fixed colours; others follow.
_STUDY_COLORS = {SOR: "#0072B2", LEN: "#E69F00", ATZ_BEV: "#009E73"}
_OTHER_COLORS = ("#CC79A7", "#D55E00", "#56B4E9", "#000000", "#F0E442")
_FONT = "Arial, Helvetica, sans-serif"
#: The font of a figure in Japanese: fonts every viewer has that carry the CJK glyphs (Noto Sans CJK JP
#: on Linux and in the static export's Chromium, Hiragino on a Mac, Yu Gothic / Meiryo on Windows);
#: nothing is fetched from the web. Their Latin letters are close to Arial's.
CJK_FONT = '"Noto Sans CJK JP", "Noto Sans JP", "Hiragino Sans", "Yu Gothic", Meiryo, sans-serif'


def regimen_colors(regimens: tuple[str, ...]) -> dict[str, str]:
    """Colour per regimen: fixed for SOR / LEN / ATZ_BEV, the rest in order of ``regimens``."""
    others = iter(_OTHER_COLORS * (1 + len(regimens) // len(_OTHER_COLORS)))
    return {r: _STUDY_COLORS[r] if r in STUDY_REGIMENS else next(others) for r in regimens}


#: The styles every figure is drawn in: on a page, on a tumor-board screen, in an exported file.
STYLES: tuple[str, ...] = ("screen", "presentation", "export")
#: Base font size (px) per style; presentation reads from the back of a room.
STYLE_FONT: dict[str, int] = {"screen": 14, "presentation": 22, "export": 14}
#: Width (CSS px) a figure is expected to be drawn at, per style, when the caller does not know it:
#: the wide page's main column, a 1280-px projector, a 16:9 slide.
STYLE_WIDTH: dict[str, int] = {"screen": 1000, "presentation": 1180, "export": 1280}
_LAYOUT_META = "hcc_layout"  # key in fig.layout.meta: what apply_layout needs to lay the figure out again
_TAG = re.compile(r"<[^>]+>")


def _wide(char: str) -> bool:
    """A full-width character (kanji, kana, full-width punctuation): about one em, twice a Latin letter."""
    return unicodedata.east_asian_width(char) in ("W", "F")


def _text_px(text: str, font_px: float) -> float:
    """Rough width of ``text`` (HTML tags ignored) at ``font_px``: 0.56 em a Latin character (Arial),
    1 em a full-width one (kanji, kana, （）、。)."""
    plain = html.unescape(_TAG.sub("", text))
    wide = sum(map(_wide, plain))
    return font_px * (0.56 * (len(plain) - wide) + 1.0 * wide)


#: Japanese text may break between any two full-width characters, but never before closing
#: punctuation nor after an opening bracket (禁則処理, the line-breaking rule of Japanese typesetting).
_NO_LINE_START = set("、。，．）」』】〕〉》ー・：；？！ぁぃぅぇぉっゃゅょァィゥェォッャュョ)]}:;,.?!%")
_NO_LINE_END = set("（「『【〔〈《([{")


def _tokens(text: str) -> list[tuple[str, str]]:
    """``text`` as (separator before, unbreakable piece): a Latin word, or one full-width character
    with the punctuation that must stay with it."""
    out: list[tuple[str, str]] = []
    sep = ""
    for char in text:
        if char == " ":
            sep += " "
            continue
        prev = out[-1][1] if out else ""
        glue = out and not sep and (
            char in _NO_LINE_START or prev[-1] in _NO_LINE_END or not (_wide(char) or _wide(prev[-1])))
        if glue:
            out[-1] = (out[-1][0], prev + char)
        else:
            out.append((sep, char))
        sep = ""
    return out


def wrap_text(text: str, width_px: float, font_px: float) -> list[str]:
    """``text`` broken into lines no wider than ``width_px`` (Arial at ``font_px``): at spaces, and in
    Japanese also between full-width characters (never before 、。） nor after （)."""
    lines: list[str] = []
    if any(map(_wide, text)):
        for sep, piece in _tokens(text):
            if lines and _text_px(lines[-1] + sep + piece, font_px) <= width_px:
                lines[-1] += sep + piece
            else:
                lines.append(piece)
        return lines or [""]
    for word in text.split(" "):
        if lines and _text_px(lines[-1] + " " + word, font_px) <= width_px:
            lines[-1] += " " + word
        else:
            lines.append(word)
    return lines or [""]


def legend_rows(names: list[str], width_px: float, font_px: float) -> int:
    """Lines a horizontal legend of ``names`` takes at ``width_px`` (entries packed left to right,
    each its text plus ~45 px of symbol and gap), as plotly.js wraps it."""
    rows, used = (1 if names else 0), 0.0
    for name in names:
        w = _text_px(name, font_px) + 45
        if used and used + w > width_px:
            rows, used = rows + 1, 0.0
        used += w
    return rows


def _legend_names(fig: go.Figure, legend: str) -> list[str]:
    names, seen = [], set()
    for t in fig.data:
        if t.type in ("sankey",):  # no legend entries
            continue
        if t.showlegend is False or not t.name or (t.legend or "legend") != legend:
            continue
        key = (t.legendgroup, t.name) if t.legendgroup else (id(t), t.name)
        if key not in seen:
            seen.add(key)
            names.append(t.name)
    return names


def apply_layout(fig: go.Figure, style: str = "screen", n_legend_items: int | None = None, *,
                 title: str | None = None, subtitle: str | None = None, plot_height: int | None = None,
                 width_px: int | None = None, bottom_px: int | None = None, dense: bool | None = None,
                 table_rows: int | None = None) -> go.Figure:
    """The one layout rule of every figure (page, tumor-board screen and exported file), in place.

    - **Title** (bold) and **subtitle** (the cohort line, smaller) left-aligned in the top margin, each
      wrapped to the figure's width; the top margin is as tall as their lines, so nothing is drawn
      over them.
    - **Legend** horizontal *below* the plot (anchored to the bottom of the figure), wrapped over
      as many lines as its entries need at ``width_px``; a second legend (``legend2``: the trials'
      medians) sits under the first. The bottom margin grows by the legends' lines.
    - **Height** = top margin + ``plot_height`` (the plot, its axes and any risk table) + bottom
      margin, so more legend lines never squeeze the plot.

    Parameters
    ----------
    fig : the figure, built by a figure builder of :mod:`hcc.outputs` (or any plotly figure).
    style : ``"screen"``, ``"presentation"`` (22-px fonts, thick black axes) or ``"export"``.
    n_legend_items : entries of the main legend; ``None`` counts them from the traces. With 0 the
        legend is hidden.
    title, subtitle : plain text (escaped here); ``None`` keeps the ones of an earlier call.
    plot_height : px between the margins; ``None`` keeps the earlier one (or the figure's height
        less its margins).
    width_px : width the figure will be drawn at; ``None`` = :data:`STYLE_WIDTH` of the style.
    bottom_px : room under the plot for the x-axis ticks and title, before any legend line.
    dense : the figure's text sits in drawn boxes (a flow diagram): :func:`presentation_style` grows
        it less.
    table_rows : rows of a number-at-risk table drawn as a second subplot (``yaxis2``) under the
        curves: its rows and the x-axis room above it get fixed pixels, whatever the plot's height.

    Figure builders call it last; :func:`presentation_style` and :func:`fit_width` call it again
    with another style or width (the arguments are kept in ``fig.layout.meta``). New figures (e.g.
    competing-risk curves) should call it too rather than placing title or legend themselves.
    """
    if style not in STYLES:
        raise ValueError(f"style must be one of {STYLES}, not {style!r}")
    meta = dict(fig.layout.meta or {}) if isinstance(fig.layout.meta, dict) else {}
    kept = dict(meta.get(_LAYOUT_META, {}))
    # A figure not laid out here before (any plotly figure) keeps its own title markup as it is.
    raw = None
    if title is None:
        raw = kept.get("raw_title") if "title" in kept else (fig.layout.title.text or "")
    if title is None:
        title = kept.get("title", "")
    if subtitle is None:
        subtitle = kept.get("subtitle", "")
    if plot_height is None:
        m = fig.layout.margin
        plot_height = kept.get("plot_height") or int((fig.layout.height or 560) - (m.t or 80) - (m.b or 60))
    if bottom_px is None:
        bottom_px = kept.get("bottom_px", 60)
    font = STYLE_FONT[style]
    width = width_px or STYLE_WIDTH[style]
    usable = width - (fig.layout.margin.l or 60) - (fig.layout.margin.r or 20) + 40
    title_px, sub_px = font + 4, max(12, round(font * 0.8))
    title_lines = wrap_text(title, (width - 40) / 1.12, title_px) if title else []  # bold runs ~12% wider
    sub_lines = wrap_text(subtitle, width - 30, sub_px) if subtitle else []
    if len(sub_lines) > 1 and " — " in subtitle:  # the cohort line and the data source, each whole
        sub_lines = [line for part in subtitle.split(" — ") if part for line in wrap_text(part, width - 30, sub_px)]
    if raw:
        title_lines = raw.split("<br>")
    text = raw or "<br>".join(f"<b>{html.escape(line)}</b>" for line in title_lines)
    if sub_lines:
        text += ("<br>" if text else "") + "<br>".join(
            f"<span style='font-size:{sub_px}px'>{html.escape(line)}</span>" for line in sub_lines)
    # plotly.js anchors a title by its first line and spaces every further line by the title's font
    # (1.3 em), small subtitle lines too (measured: the block spans 14 px + 1 em + 1.3 em per line).
    lines = len(title_lines) + len(sub_lines)
    top = 16 + round(title_px + 1.3 * title_px * max(lines - 1, 0)) + 14 if lines else 20
    legend_font = font - 1 if style != "presentation" else font - 4  # 18 px on a tumor-board screen
    names = _legend_names(fig, "legend")
    if n_legend_items is None:
        n_legend_items = len(names)
    # A legend line is its text or its marker (up to ~16 px), whichever is taller, plus plotly's gaps.
    rows1 = legend_rows(names, usable, legend_font) if n_legend_items else 0
    names2 = _legend_names(fig, "legend2")
    rows2 = legend_rows(names2, usable, legend_font - 1) if names2 else 0
    legend1_h = rows1 * (round(legend_font * 1.3) + 10) + (10 if rows1 else 0)
    legend2_h = (rows2 + 1) * (round((legend_font - 1) * 1.3) + 10) + 10 if rows2 else 0  # + its title line
    bottom = round(bottom_px * font / STYLE_FONT["screen"]) + legend1_h + legend2_h + 6  # axis text grows with font
    n_table = int(kept.get("table_rows", 0) if table_rows is None else table_rows)
    if n_table:  # a risk table under the curves: its rows and the x axis between get fixed pixels
        table_px = n_table * round((font - 1) * 1.25 + 4) + 8
        gap_px = round(2.7 * font) + 34  # tick labels, axis title, the table's heading
        plot_height = max(plot_height, table_px + gap_px + 170)
        split = table_px / plot_height
        fig.update_layout(yaxis=dict(domain=[(table_px + gap_px) / plot_height, 1]), yaxis2=dict(domain=[0, split]))
        headings = _risk_table_headings()
        for ann in fig.layout.annotations:
            if ann.text in headings and ann.yref == "paper":
                ann.y = split
    height = top + plot_height + bottom
    _fit_y_title(fig, plot_height, font)
    fig.update_layout(
        title=dict(text=text, x=0.01, xanchor="left", y=1 - (10 + title_px) / height, yanchor="top", yref="container",
                   font=dict(size=title_px)),
        showlegend=bool(n_legend_items) or bool(names2),
        margin=dict(t=top, b=bottom), height=height,
        meta={**meta, _LAYOUT_META: {**kept, "title": title, "raw_title": raw, "subtitle": subtitle,
                                     "plot_height": plot_height,
                                     "bottom_px": bottom_px, "style": style,
                                     "dense": kept.get("dense", False) if dense is None else dense,
                                     "table_rows": n_table}})
    if n_legend_items:
        fig.update_layout(legend=dict(
            orientation="h", x=0, xanchor="left", xref="container", y=(legend2_h + 4) / height, yanchor="bottom",
            yref="container", font=dict(size=legend_font)))
    else:
        fig.update_layout(legend=dict(visible=False) if not names2 else dict())
    if current_language() == "ja":  # English keeps the figure's own font
        fig.update_layout(font=dict(family=CJK_FONT))
    if names2:
        fig.update_layout(legend2=dict(
            orientation="h", x=0, xanchor="left", xref="container", y=4 / height, yanchor="bottom",
            yref="container", font=dict(size=legend_font - 1), title=dict(side="top",
                                                                         font=dict(size=legend_font - 1))))
    return fig


def _risk_table_headings() -> set[str]:
    """The headings a risk table under the curves may have (KM, KMunicate, weighted), in English and in
    the current language."""
    english = ("Number at risk", "Numbers at each time", "Number at risk (weighted)")
    shown = (tr("Number at risk"), tr("Numbers at each time"), tr("Number at risk (weighted)"))
    return {f"<b>{text}</b>" for text in (*english, *shown)}


def _fit_y_title(fig: go.Figure, plot_height: int, font: int) -> None:
    """Break the y-axis title over two lines when it is longer than its axis (a long endpoint label
    on a short presentation plot), and let the left margin grow to hold it."""
    axis = fig.layout.yaxis
    text = (axis.title.text or "").replace("<br>", " ")
    if not text:
        return
    lo, hi = axis.domain or (0, 1)
    size = axis.title.font.size or font
    room = (hi - lo) * plot_height * 0.95
    if _text_px(text, size) > room and (" " in text or any(map(_wide, text))):
        text = "<br>".join(wrap_text(text, max(room, _text_px(text, size) / 3), size))  # at most ~3 lines
    fig.update_layout(yaxis=dict(title=dict(text=text), automargin=True))


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
        rows.append(RiskRow(g.group, trc("risk table", "At risk") if kmunicate else g.group, at_risk))
        if kmunicate:
            upto = np.searchsorted(curve.time, days, side="right")
            cum_e, cum_c = np.cumsum(curve.n_event), np.cumsum(curve.n_censor)
            rows.append(RiskRow(g.group, trc("risk table", "Events"), tuple(int(cum_e[i - 1]) if i else 0 for i in upto)))
            rows.append(RiskRow(g.group, trc("risk table", "Censored"),
                                tuple(int(cum_c[i - 1]) if i else 0 for i in upto)))
    return rows


def _annotation(summary: EndpointSummary) -> str:
    test = summary.logrank
    p = format_p(test.p if test else None)
    text = tr("Log-rank {p}", p=p) if test is None or test.rho == 0 else tr("Peto–Peto {p}", p=p)
    if len(summary.cox) == 1:
        c = summary.cox[0]
        text += "<br>" + (tr("HR {term} vs {reference} {hr} (95% CI {low}–{high})", term=c.term, reference=c.reference,
                             hr=f"{c.hr:.2f}", low=f"{c.lower:.2f}", high=f"{c.upper:.2f}") if c.estimable
                          else tr("HR {term} vs {reference}: {reason}", term=c.term, reference=c.reference,
                                  reason=html.escape(c.reason)))
    return text


def km_figure(summary: EndpointSummary, colors: dict[str, str], subtitle: str = "",
              options: KMFigureOptions = KMFigureOptions(), *, title: str | None = None,
              x_title: str | None = None, y_title: str | None = None) -> go.Figure:
    """Kaplan–Meier curves by group with a number-at-risk table on the same x axis.

    Months on x (days / 30.4375), survival on y (probability or percent), the y axis named for the
    endpoint (:data:`hcc.schema.ENDPOINT_Y_LABELS`, e.g. "Proportion still in response") unless
    ``y_title`` is given. Laid out by :func:`apply_layout`. Censored observations are
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
        med = trc("median", "NR") if np.isnan(g.median) else tr("{months} mo", months=f"{g.median:.1f}")
        if options.show_ci:
            fig.add_trace(go.Scatter(
                x=np.concatenate([t, t[::-1]]),
                y=scale * np.concatenate([np.nan_to_num(hi, nan=1.0), np.nan_to_num(lo, nan=0.0)[::-1]]),
                line_shape="hv", fill="toself", fillcolor=color, opacity=0.18, line=dict(width=0),
                hoverinfo="skip", showlegend=False, legendgroup=g.group), row=1, col=1)
        fig.add_trace(go.Scatter(
            x=t, y=scale * s, mode="lines", line_shape="hv", line=dict(color=color, width=2.5),
            name=tr("{regimen}: n = {n}, median {median}", regimen=html.escape(regimen_name(g.group)), n=g.n,
                    median=med), legendgroup=g.group,
            customdata=np.stack([np.concatenate(([curve.n], curve.n_risk)), scale * lo, scale * hi], axis=1),
            hovertemplate=(f"<b>{html.escape(g.group)}</b><br>{_months_hover('%{x:.1f}')}<br>"
                           + tr("S = {s} (95% CI {low}–{high})", s=f"%{{y:.{1 if options.percent else 3}f}}",
                                low="%{customdata[1]:.3f}", high="%{customdata[2]:.3f}")
                           + "<br>" + tr("at risk {n}", n="%{customdata[0]}") + "<extra></extra>")), row=1, col=1)
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
        heading = tr("Number at risk") if not options.kmunicate else tr("Numbers at each time")
        fig.add_annotation(text=f"<b>{heading}</b>",
                           xref="paper", yref="paper", x=0, y=table_share, xanchor="left",
                           yanchor="bottom", showarrow=False, font=dict(size=13))
    # Tick labels and title under the curves; the risk table below reuses the same x axis.
    fig.update_xaxes(row=1, col=1, showticklabels=True,
                     title_text=x_title or tr("Months since {origin}",
                                              origin=tr(DEFINITIONS[summary.endpoint].origin_label)))

    fig.update_xaxes(range=[-0.02 * horizon, horizon * 1.02], tickvals=breaks, showgrid=True, zeroline=False)
    if y_title is None:
        y_title = (endpoint_y_label(summary.endpoint) if summary.endpoint in ENDPOINT_Y_LABELS
                   else tr("Survival probability"))
    fig.update_yaxes(row=1, col=1, title_text=tr("{label} (%)", label=y_title) if options.percent else y_title,
                     range=[0, 1.03 * scale], tickformat=".0f" if options.percent else ".1f", zeroline=False)
    title = tr("{title} (n = {n})", title=title or tr("{endpoint} by first-line regimen",
                                                        endpoint=endpoint_label(summary.endpoint)), n=summary.n)
    if options.trial_medians:
        add_trial_medians(fig, summary, colors, horizon, scale)
    fig.update_layout(
        template="plotly_white", font=dict(family=_FONT, size=14), margin=dict(l=70, r=20),
        annotations=list(fig.layout.annotations) + [dict(
            text=_annotation(summary), x=0.99, y=0.97 if not rows else 1.0, xref="x domain", yref="y domain",
            showarrow=False, xanchor="right", yanchor="top", align="right", font=dict(size=14))],
    )
    return apply_layout(fig, "screen", title=title, subtitle=subtitle, plot_height=440 + 28 * n_rows,
                        bottom_px=24 if rows else 64, table_rows=n_rows)


def _months_hover(value: str) -> str:
    """A hover line "12.3 months" (``value`` a plotly field such as ``%{x:.1f}``)."""
    return tr("{months} months", months=value)


#: One marker symbol per trial, so that a trial reads the same on every curve.
_TRIAL_SYMBOLS = ("diamond", "square", "triangle-up", "star", "hexagon", "pentagon", "cross")


def add_trial_medians(fig: go.Figure, summary: EndpointSummary, colors: dict[str, str], horizon: float,
                      scale: float = 1.0) -> None:
    """Mark each landmark trial's median (:mod:`hcc.reference.trials`) on the S = 0.5 line, where a
    median is read off a Kaplan–Meier plot: at x = the trial's median (months), y = 0.5, in the colour
    of the registry's regimen, with the trial's 95% CI as a horizontal bar. One legend entry per trial
    arm ("REFLECT: Lenvatinib"), in the second legend that :func:`apply_layout` puts under the plot;
    hover gives arm, n, median (CI) and citation."""
    symbols = {t.name: _TRIAL_SYMBOLS[i % len(_TRIAL_SYMBOLS)] for i, t in enumerate(TRIALS)}
    shown = False
    for g in summary.groups:
        curve = summary.curves.get(g.group)
        if curve is None:
            continue
        for trial, arm, m in arms_for(g.group, summary.endpoint):
            if m.months > horizon:
                continue
            lo = m.months - m.low if m.low is not None else 0.0
            hi = m.high - m.months if m.high is not None else 0.0
            fig.add_trace(go.Scatter(
                x=[m.months], y=[0.5 * scale], mode="markers", name=f"{tr(trial.name)}: {tr(arm.label)}",
                legendgroup="trial:" + trial.name, legend="legend2",
                marker=dict(symbol=symbols[trial.name], size=13, color=colors.get(g.group, "#555555"),
                            line=dict(color="#000000", width=1.5)),
                error_x=dict(type="data", symmetric=False, array=[hi], arrayminus=[lo], color="#000000",
                             thickness=1.2, width=5, visible=m.low is not None or m.high is not None),
                hovertemplate=(f"<b>{html.escape(tr(trial.name))}</b>: {html.escape(tr(arm.label))} (n={arm.n})<br>"
                               + tr("median {median} months", median=html.escape(m.text())) + "<br>"
                               f"{html.escape(trial.citation)} {trial.journal} "
                               f"{trial.year}, doi:{trial.doi}<extra></extra>")), row=1, col=1)
            shown = True
    if shown:
        fig.update_layout(legend2=dict(title=dict(text=tr("Trial medians (95% CI), on the 50% line"))))


def _kept(fig: go.Figure) -> dict:
    meta = fig.layout.meta
    return dict(meta.get(_LAYOUT_META, {})) if isinstance(meta, dict) else {}


def fit_width(fig: go.Figure, width_px: int) -> go.Figure:
    """A copy of ``fig`` laid out (:func:`apply_layout`, export style) for a canvas ``width_px`` wide
    (e.g. a journal column): title, subtitle and legends wrap to that width and the margins grow with
    their lines. A figure not built by this module's builders is returned as it is."""
    out = go.Figure(fig)
    if not _kept(out):  # a figure not built by this module: its own layout stands
        return out
    return apply_layout(out, "export", width_px=width_px)


#: Presentation mode: sizes readable from the back of a room (a 1280-px-wide figure on a projector).
PRESENT_FONT = STYLE_FONT["presentation"]
#: Height of a figure in presentation mode (px): with the slide's header row it fits a 1280×720
#: projector without scrolling; taller screens enlarge the whole slide (ui/present.py).
PRESENT_HEIGHT = 610


def presentation_style(fig: go.Figure, caption: str, height_px: int = PRESENT_HEIGHT) -> go.Figure:
    """A copy of ``fig`` for a tumor-board screen: large fonts, thick lines, black axes on white, the
    cohort summary line ``caption`` as subtitle when the figure has none, laid out by
    :func:`apply_layout` in presentation style and no taller than ``height_px`` (the plot gives way,
    never the title, subtitle or legend)."""
    out = go.Figure(fig)
    kept = _kept(out)
    subtitle = kept.get("subtitle") or caption
    dense = bool(kept.get("dense"))  # text inside drawn boxes (flow diagram): it may not grow past them
    out.update_layout(
        font=dict(family=_FONT, size=PRESENT_FONT, color="#000000"), paper_bgcolor="#FFFFFF",
        plot_bgcolor="#FFFFFF", margin=dict(l=(out.layout.margin.l or 70) + (0 if dense else 20)))
    if out.layout.to_plotly_json().get("yaxis2", {}).get("ticktext"):  # a risk table: its counts grow too
        out.update_layout(yaxis2=dict(ticklabelstandoff=30))
    out.update_xaxes(linecolor="#000000", linewidth=2, tickfont=dict(size=PRESENT_FONT - 2), gridcolor="#D0D0D0",
                     title_font=dict(size=PRESENT_FONT))
    out.update_yaxes(linecolor="#000000", linewidth=2, tickfont=dict(size=PRESENT_FONT - 2), gridcolor="#D0D0D0",
                     title_font=dict(size=PRESENT_FONT))
    for ann in out.layout.annotations:
        if ann.yshift:  # a note placed in pixels under the axis moves down as the axis text grows
            ann.yshift = ann.yshift * PRESENT_FONT / STYLE_FONT["screen"]
        size = (ann.font.size or 12) * (1.15 if dense else 1.4)
        ann.font = dict(size=min(size, PRESENT_FONT - 2) if dense else max(PRESENT_FONT - 2, size),
                        color=ann.font.color or "#000000")
    for trace in out.data:
        if trace.type == "scatter" and trace.mode == "lines" and trace.line.width:
            trace.line.width = trace.line.width * 1.8
        if trace.type == "scatter" and trace.mode == "text":
            trace.textfont.size = PRESENT_FONT - 2
        if trace.type == "sankey":
            trace.textfont = dict(size=PRESENT_FONT - 4)
    seen: set[str] = set()
    for trace in out.data:  # trial medians: one entry per trial (the marker's colour gives the arm)
        if trace.type == "scatter" and trace.legend == "legend2" and trace.name:
            trace.name = trace.name.split(": ")[0]
            trace.showlegend = trace.name not in seen
            seen.add(trace.name)
    apply_layout(out, "presentation", subtitle=subtitle)
    over = int(out.layout.height) - height_px
    if over > 0:
        plot = int(_kept(out)["plot_height"])
        apply_layout(out, "presentation", plot_height=max(240, plot - over))
    return out


def _not_applied(step) -> bool:
    # By the step's kind (any language); a step made without one (older callers) by its English words.
    return step.not_applied or step.rule.startswith("Not applied")


def attrition_figure(attrition, regimens: tuple[str, ...], final_counts: dict[str, int],
                     colors: dict[str, str], subtitle: str = "") -> go.Figure:
    """CONSORT-style flow diagram of an attrition log: the remaining patients down the middle,
    each rule's exclusions (total and per regimen) in a box to the right, the analysed cohort at the
    bottom with its regimens. Rules that removed nobody are left out of the drawing (they are in the
    table); rules not applied are shown in grey."""
    shown = [s for s in attrition[1:] if s.excluded > 0 or _not_applied(s)]
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
    box(x_main, y_top, w_main, f"<b>{html.escape(tr(first.rule))}</b><br>n = {first.remaining:,}", "#F2F2F2", "#555")
    y_end = y_top - (len(shown) + 1) * row_h
    # One continuous arrow down the middle; each rule branches off it to the right.
    fig.add_annotation(x=x_main, y=y_end + h / 2, ax=x_main, ay=y_top - h / 2, xref="x", yref="y", axref="x",
                       ayref="y", showarrow=True, arrowhead=2, arrowwidth=1.5, arrowcolor="#555", text="")
    for i, step in enumerate(shown, start=1):
        y = y_top - i * row_h
        grey = _not_applied(step)
        # A rule not applied is named as it is; an excluding rule gets "Excluded: " said here once.
        label = html.escape(step.rule if grey else tr("Excluded: {reason}", reason=step.detail))
        detail = "" if grey else f"<br>n = {step.excluded:,}" + (
            f" · {per_regimen(step.excluded_by_regimen)}" if step.excluded_by_regimen else "")
        box(x_side, y, w_side, f"{label}{detail}",
            "#FAFAFA" if grey else "#FFF4E5", "#AAA" if grey else "#D55E00")
        fig.add_annotation(x=x_side - w_side / 2, y=y, ax=x_main, ay=y, xref="x", yref="y", axref="x", ayref="y",
                           showarrow=True, arrowhead=2, arrowwidth=1.2, arrowcolor="#555", text="")
        fig.add_annotation(x=x_main - 0.01, y=y - row_h / 2, text=tr("{n} remain", n=f"{step.remaining:,}"),
                           showarrow=False,
                           xanchor="right", font=dict(size=12, color="#555"))
    y = y_end
    box(x_main, y, w_main, tr("<b>Analysed</b>: n = {n}", n=f"{sum(final_counts.values()):,}")
        + f"<br>{per_regimen(final_counts)}",
        "#E8F4EA", "#009E73")
    fig.update_xaxes(visible=False, range=[0, 1])
    fig.update_yaxes(visible=False, range=[y - row_h * 0.6, n_rows * row_h + row_h * 0.6])
    fig.update_layout(template="plotly_white", margin=dict(l=10, r=10), font=dict(family=_FONT, size=13))
    return apply_layout(fig, "screen", 0, title=tr("Who is in, and why"), subtitle=subtitle,
                        plot_height=90 + 80 * n_rows, bottom_px=10, dense=True)


def sankey_figure(paths, regimen_colors_: dict[str, str], subtitle: str = "") -> go.Figure:
    """Treatment sequences as a Sankey diagram: first line -> second line -> third line (or what
    happened instead). ``paths`` has columns first, second, third (None = path ends), n. Each node is
    labelled with the drug name (code in parentheses) and its number of patients; hover shows
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
            custom.append(tr("{n} of {total} {regimen} patients ({percent}%)", n=n, total=totals[first],
                             regimen=first, percent=f"{100 * n / totals[first]:.0f}"))
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
    ends = {tr(label) for label in PATH_ENDS}  # as treatment_paths wrote them, in this language
    for col, (stage, _) in zip((0.001, 0.42, 0.999), stages):
        members = [i for (st, _), i in index.items() if st == stage]
        # Treatments first (largest on top), then the paths that end (no further line) at the bottom.
        members.sort(key=lambda i: (labels[i] in ends, -size[i]))
        total = sum(size[i] for i in members) or 1.0
        gap = 0.04 / max(len(members), 1)
        y = 0.0
        for i in members:
            h = size[i] / total * (1 - 0.04)
            xs[i], ys[i] = col, min(max(y + h / 2, 0.001), 0.999)
            y += h + gap
    # Labels need a line of their own: small neighbouring nodes are pushed apart (then all rescaled).
    for stage, _ in stages:
        members = sorted((i for (st, _), i in index.items() if st == stage), key=lambda i: ys[i])
        for a, b in zip(members, members[1:]):
            ys[b] = max(ys[b], ys[a] + _SANKEY_MIN_GAP)
        if members and ys[members[-1]] > 0.999:
            lo, hi = ys[members[0]], ys[members[-1]]
            for i in members:
                ys[i] = 0.001 + (ys[i] - lo) / (hi - lo or 1) * (0.998 - _SANKEY_MIN_GAP / 2) if hi > lo else ys[i]
    shown_labels = [f"{html.escape(regimen_name(x))}: {int(size[i])}" for i, x in enumerate(labels)]
    fig = go.Figure(go.Sankey(
        arrangement="fixed",
        node=dict(label=shown_labels, pad=14, thickness=16, color=node_colors, x=xs, y=ys,
                  hovertemplate=tr("{label} patients", label="%{label}") + "<extra></extra>"),
        link=dict(source=sources, target=targets, value=values, color=link_colors, customdata=custom,
                  hovertemplate="%{source.label} → %{target.label}<br>%{customdata}<extra></extra>"),
    ))
    fig.update_layout(template="plotly_white", font=dict(family=_FONT, size=13), margin=dict(l=10, r=10))
    return apply_layout(fig, "screen", 0, title=tr("Treatment sequences: first line → second line → third line"),
                        subtitle=subtitle, plot_height=max(480, 26 * len(labels)), bottom_px=10)


#: Least vertical distance between Sankey node centres (fraction of the plot), so labels never overlap.
_SANKEY_MIN_GAP = 0.055


#: Best-response categories: a colour-blind-safe diverging scale (ColorBrewer RdBu) from complete
#: response to progression, greys for not evaluable / not recorded; distinct from the regimen colours.
RESPONSE_COLORS: dict[str, str] = dict(zip(CATEGORIES, (  # CR, PR, SD, PD, NE, not recorded
    "#2166AC", "#67A9CF", "#D1E5F0", "#D6604D", "#9E9E9E", "#E0E0E0")))
_DARK_FILLS = {"#2166AC", "#D6604D"}  # white text on these


def response_bar_figure(summary: ResponseSummary, colors: dict[str, str], subtitle: str = "") -> go.Figure:
    """Best overall response per regimen as stacked bars (percent of all patients).

    One bar per regimen (its name in the regimen's colour, with n), stacked CR, PR, SD, PD, NE and not
    recorded in :data:`RESPONSE_COLORS`; ORR and DCR above each bar over all patients, the bars'
    denominator (the rates over the evaluable patients are in the rates table).
    Hover gives the count and the denominator.
    """
    groups = [g for g in summary.groups if g.n]
    x = [f"<span style='color:{colors.get(g.regimen, '#333')}'><b>{html.escape(regimen_name(g.regimen, with_code=False))}"
         f"</b></span><br>({html.escape(g.regimen)}) n = {g.n}" if g.regimen in REGIMEN_LABELS else
         f"<span style='color:{colors.get(g.regimen, '#333')}'><b>{html.escape(regimen_name(g.regimen))}</b></span>"
         f"<br>n = {g.n}"
         for g in groups]
    fig = go.Figure()
    for cat in CATEGORIES:
        counts = np.array([g.counts[cat] for g in groups])
        if not counts.any():
            continue
        pct = np.array([100 * g.counts[cat] / g.n for g in groups])
        fig.add_trace(go.Bar(
            x=x, y=pct, name=_category(cat), marker=dict(color=RESPONSE_COLORS[cat], line=dict(color="#FFFFFF", width=1)),
            text=[f"{p:.0f}%" if p >= 4 else "" for p in pct], textposition="inside", insidetextanchor="middle",
            textfont=dict(color="#FFFFFF" if RESPONSE_COLORS[cat] in _DARK_FILLS else "#222222", size=13),
            customdata=np.stack([counts, [g.n for g in groups], [g.regimen for g in groups]], axis=1),
            hovertemplate=f"<b>%{{customdata[2]}}</b> · {_category(cat)}<br>"
                          + tr("{k} of {n} patients ({percent}%)", k="%{customdata[0]}", n="%{customdata[1]}",
                               percent="%{y:.1f}") + "<extra></extra>"))
    for xi, g in zip(x, groups):
        # Over all patients, as the bars: the header and the bar under it share one denominator.
        orr, dcr = g.rates[("ORR", "all")], g.rates[("DCR", "all")]
        fig.add_annotation(x=xi, y=100, text=f"ORR {100 * orr.estimate:.0f}%<br>DCR {100 * dcr.estimate:.0f}%",
                           showarrow=False, yanchor="bottom", font=dict(size=13))
    title = tr("Best overall response to first line ({criterion})", criterion=html.escape(summary.criterion))
    fig.update_layout(
        barmode="stack", template="plotly_white", font=dict(family=_FONT, size=14),
        yaxis=dict(title=tr("Patients (% of all)"), range=[0, 122], tickvals=[0, 20, 40, 60, 80, 100]),
        legend=dict(title=tr("Best response"), traceorder="normal"), margin=dict(l=70, r=20), bargap=0.35)
    return apply_layout(fig, "screen", title=title, subtitle=subtitle, plot_height=400, bottom_px=70)


def _category(cat: str) -> str:
    """A best-response category for a reader: RECIST codes as they are (CR, PR …), words translated."""
    return trc("best response", "not recorded") if cat == "not recorded" else cat


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
            legendgrouptitle_text=tr("First line"),
            hovertemplate="%{customdata[0]} (%{customdata[1]})<br>"
                          + tr("followed {months} months", months="%{x:.1f}") + "<extra></extra>"))
    for event, label in LANE_EVENTS.items():
        sub = lanes[lanes[event].notna()]
        if sub.empty:
            continue
        symbol, fill, size = _SWIMMER_MARKERS[event]
        fig.add_trace(go.Scatter(
            x=sub[event], y=sub["lane"], mode="markers", name=tr(label), legendgroup="events",
            legendgrouptitle_text=trc("swimmer legend", "Events"),
            marker=dict(symbol=symbol, color=fill, size=size, line=dict(color="#000000", width=1.2)),
            customdata=sub["patient"],
            hovertemplate="%{customdata}: " + tr("{event} at {months} months", event=tr(label), months="%{x:.1f}")
                          + "<extra></extra>"))
    alive = lanes[lanes["alive"]]
    if not alive.empty:
        fig.add_trace(go.Scatter(
            x=alive["end"], y=alive["lane"], mode="markers", name=tr("alive at last follow-up"), legendgroup="events",
            marker=dict(symbol="arrow-right", color="#444444", size=9, line=dict(color="#444444", width=1)),
            customdata=alive["patient"],
            hovertemplate="%{customdata}: " + tr("alive at last follow-up, {months} months", months="%{x:.1f}")
                          + "<extra></extra>"))
    total = lanes.attrs.get("n_total", n)
    shown = trc("swimmer title", "{n} patients", n=n) if n == total else tr("a random sample of {n} of {total} patients", n=n, total=total)
    title = tr("Course of each patient from first-line start ({shown})", shown=shown)
    fig.update_layout(
        template="plotly_white", font=dict(family=_FONT, size=13), barmode="overlay", bargap=0.25,
        xaxis=dict(title=tr("Months since first-line start"), rangemode="tozero"),
        yaxis=dict(autorange="reversed", showticklabels=False, title=trc("swimmer axis", "Patients"), showgrid=False,
                   zeroline=False),
        legend=dict(groupclick="toggleitem"), margin=dict(l=60, r=20))
    return apply_layout(fig, "screen", title=title, subtitle=subtitle, plot_height=max(300, 50 + 9 * n),
                        bottom_px=64)


#: Landmark groups (reached by the landmark, not reached): Paul Tol's indigo and rose, colour-blind
#: safe and unlike any regimen colour, so a group is not mistaken for a regimen.
LANDMARK_COLORS: tuple[str, str] = ("#332288", "#CC6677")


def landmark_colors(groups: tuple[str, str]) -> dict[str, str]:
    """Colour per landmark group, for :func:`km_figure`."""
    return dict(zip(groups, LANDMARK_COLORS))
