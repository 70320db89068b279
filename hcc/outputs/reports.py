"""Reports that leave the app: a self-contained HTML report, its PDF, and a PowerPoint deck.

One :class:`Report` is built from an :class:`hcc.analysis.AnalysisResult` (the same object the pages
and ``python -m hcc analyze`` use) and rendered three ways. Each rendering embeds what is needed to
reopen the view (:mod:`hcc.outputs.reproduce`): the cohort spec, the statistical settings, the mapping (if
any) and the data fingerprint (file name, rows, SHA-256). The HTML also embeds the CLI's JSON of the
same result, so a reader (or a test) can check that the report's numbers are the CLI's.
Everything is returned as text or bytes; nothing is written to disk.
"""

from __future__ import annotations

import base64
import concurrent.futures
import html
import io
import json
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from typing import Any

import pandas as pd
import plotly.graph_objects as go
import plotly.offline

from hcc.analysis import AnalysisResult, result_json
from hcc.formatting import format_hr, format_p, json_safe, method_label
from hcc.outputs.export import (BROWSER_START_SECONDS, RENDER_TIMEOUT_SECONDS, ExportError, SizePreset, export_session,
                        export_slot, figure_bytes, run_async)
from hcc.cohort.secondline import uptake
from hcc.errors import HCCError
from hcc.outputs.adjusted_figures import forest_figure, love_plot, weighted_km_figure
from hcc.outputs.competing_figures import cif_figure, pathway_figure
from hcc.outputs.competing_tables import cif_table, pathway_table, ratio_table
from hcc.outputs.figures import (KMFigureOptions, attrition_figure, km_figure, regimen_colors, response_bar_figure,
                                 sankey_figure)
from hcc.outputs.methods_text import methods_paragraph, software_versions
from hcc.outputs.tables import (attrition_table, comparison_table, endpoint_table, pairwise_table, plain_summary,
                        response_rates_table, table_notes, uptake_table)
from hcc.stats.adjusted import CoxSpec, MultivariableCox, cox_table, fit_multivariable, multivariable_json, ph_table
from hcc.stats.baseline import baseline_table, table1_header
from hcc.stats.weighting import DEFAULT_PS_COVARIATES, IPTWResult, IPTWSpec, balance_table, iptw_analysis, iptw_json
from hcc.i18n import N_, current_language, date_text, tr, trc, use_language
from hcc.schema import Endpoint, endpoint_label
from hcc.reference.trials import registry_vs_trials, trials_table

#: Format tag of the embedded reproduction record (bump when its keys change).
REPRODUCE_FORMAT = "hcc-report/1"
#: ``id`` of the ``<script type="application/json">`` blocks in the HTML report.
REPRODUCE_ID = "hcc-reproduce"
RESULTS_ID = "hcc-results"
#: Endpoints drawn by default: the two a tumor board compares with the trials.
DEFAULT_FIGURE_ENDPOINTS: tuple[Endpoint, ...] = (Endpoint.OS, Endpoint.PFS)
#: Figures in the PDF: the printable width of A4 portrait with 15 mm margins.
PDF_FIGURE = SizePreset("page", "A4 page width", 960, None, 7.1)
#: Deck tables: text size (pt) and rows per slide (fewer for wide tables, whose cells wrap); a longer
#: table continues on further slides.
DECK_TABLE_PT = 18
_DECK_ROWS, _DECK_ROWS_WIDE, _DECK_WIDE_COLUMNS = 10, 7, 7


@dataclass(frozen=True, eq=False)
class ReportFigure:
    key: str
    title: str
    figure: go.Figure


@dataclass(frozen=True, eq=False)
class ReportTable:
    key: str
    title: str
    table: pd.DataFrame
    in_deck: bool = False
    note: str = ""
    deck_columns: tuple[str, ...] | None = None  # the columns a slide shows (None = all); the report has all


@dataclass(frozen=True, eq=False)
class Report:
    """What every rendering shows: figures, tables, methods paragraph and provenance.

    ``reproduce`` is the record embedded in each rendering (see :func:`reproduce_record`);
    ``results`` is :func:`hcc.analysis.result_json` of the same result.
    """

    title: str
    caption: str
    created: datetime
    figures: tuple[ReportFigure, ...]
    tables: tuple[ReportTable, ...]
    summary_sentences: tuple[str, ...]
    methods: str
    versions: dict[str, str]
    reproduce: dict[str, Any]
    results: dict[str, Any]
    is_demo: bool = False
    notes: tuple[str, ...] = field(default_factory=tuple)
    language: str = "en"  # the language it was built in; every rendering is in it too

    @property
    def fingerprint(self) -> dict[str, Any]:
        return self.reproduce["data"]


def mapping_record(registry) -> dict | None:
    """The registry's column mapping as JSON data, or ``None`` when the file needed none (its
    columns already had the canonical names and nothing was recoded, dropped or capped)."""
    data = json.loads(registry.mapping.to_json())
    renamed = any(source != target for source, target in data.get("columns", {}).items())
    changed = any(data.get(k) for k in ("values", "date_formats", "dropped", "not_identifiers", "cap_age",
                                         "relative_dates", "sheet"))
    return data if renamed or changed else None


def reproduce_record(result: AnalysisResult, figure_endpoints: tuple[Endpoint, ...], options: KMFigureOptions,
                     mapping: dict | None, created: datetime) -> dict[str, Any]:
    """The provenance embedded in reports and decks: cohort spec, statistical settings, figure
    options, mapping (``None`` when the data needed none) and the data fingerprint."""
    reg = result.registry
    spec = next(iter(result.endpoints.values())).spec if result.endpoints else None
    return {
        "format": REPRODUCE_FORMAT,
        "created": created.isoformat(timespec="seconds"),
        "data": {"name": reg.name, "rows": reg.rows_read, "sha256": reg.sha256, "synthetic_demo": reg.is_demo},
        "cohort_spec": result.cohort.spec.to_dict(),
        "analysis_spec": None if spec is None else {k: list(v) if isinstance(v, tuple) else v
                                                    for k, v in asdict(spec).items()},
        "figure_options": asdict(options),
        "figure_endpoints": [e.value for e in figure_endpoints],
        "mapping": mapping if mapping is not None else mapping_record(reg),
        "versions": software_versions(),
    }


@dataclass(frozen=True, eq=False)
class AdjustedParts:
    """The adjusted analyses of a report: the multivariable Cox model and the propensity-weighted
    comparison, each ``None`` with its reason in ``not_estimable`` when it cannot be fitted."""

    model: MultivariableCox | None
    iptw: IPTWResult | None
    not_estimable: tuple[tuple[str, str], ...] = ()


def adjusted_parts(cohort, cox: CoxSpec = CoxSpec(), iptw: bool = True,
                   trim: tuple[float, float] | None = None) -> AdjustedParts:
    """Fit the report's adjusted analyses as ``python -m hcc analyze --cox FORMULA --iptw`` does: the
    multivariable Cox model ``cox`` (default OS on age, Child-Pugh class and BCLC stage) and the
    propensity weighting on the same endpoint, covariates and reference. A fit that fails is kept
    as its reason in plain words."""
    reasons = []
    try:
        model = fit_multivariable(cohort, cox)
    except HCCError as exc:
        model = None
        reasons.append((tr("Multivariable Cox model"), str(exc)))
    weighted = None
    if iptw:
        try:
            weighted = iptw_analysis(cohort, IPTWSpec(cox.endpoint, cox.covariates or DEFAULT_PS_COVARIATES,
                                                      cox.reference, trim))
        except HCCError as exc:
            reasons.append((tr("Propensity weighting (IPTW)"), str(exc)))
    return AdjustedParts(model, weighted, tuple(reasons))


def sentences(*parts: str) -> str:
    """Sentences as one text in the current language: a space between them in English, none in
    Japanese (a Japanese sentence ends in 。)."""
    return ("" if current_language() == "ja" else " ").join(p for p in parts if p)


def _against(what: str, reference: str | None) -> str:
    """The title of a comparison with the reference regimen (``OS: against SOR``)."""
    return tr("{what}: against {reference}", what=what, reference=reference)


def _table1_deck_columns(t1: pd.DataFrame) -> tuple[str, ...]:
    """Table 1's columns on a slide: characteristic, level, overall, the regimens and p — not the
    missing counts (the third column), the SMDs or the test names (after p). Found by position and
    by the codes ``SMD`` and ``p``, which every language writes so, not by the translated headers."""
    columns = list(t1.columns)
    after_p = columns.index("p") + 1 if "p" in columns else len(columns)
    return tuple(c for i, c in enumerate(columns[:after_p]) if i != 2 and not str(c).startswith("SMD"))


def build_report(result: AnalysisResult, figure_endpoints: tuple[Endpoint, ...] = DEFAULT_FIGURE_ENDPOINTS,
                 options: KMFigureOptions = KMFigureOptions(trial_medians=True), *, mapping: dict | None = None,
                 title: str | None = None, created: datetime | None = None,
                 extra_tables: tuple[ReportTable, ...] = (), adjusted: AdjustedParts | None = None,
                 table1: bool = True) -> Report:
    """Figures (attrition, a KM figure per endpoint in ``figure_endpoints``, best response, treatment
    sequences, and with ``adjusted`` the forest plot, the weighted KM curves and the love plot), tables
    (attrition, Table 1, per-endpoint statistics, pairwise tests, comparisons with the reference,
    registry vs trials, response rates, second-line uptake, with ``adjusted`` the Cox coefficients,
    its proportional-hazards check, the weighted hazard ratios and the balance table, the trial
    reference table), the methods paragraph and the provenance.

    The embedded results (``Report.results``) are the CLI's JSON: ``python -m hcc analyze`` of the
    same data and settings, plus, with ``adjusted``, its ``"multivariable"`` and ``"iptw"`` blocks as
    ``--cox``/``--iptw`` print them.

    ``result`` must hold every endpoint of ``figure_endpoints`` (``analyze`` computes all by default).
    """
    created = created or datetime.now(timezone.utc)
    title = title or tr("HCC Outcomes Explorer — report")
    cohort, reg = result.cohort, result.registry
    caption = f"{cohort.summary_line(full=True)} — {reg.label}"  # the cohort's whole name in the report
    subtitle = f"{cohort.summary_line()} — {reg.label}"  # shortened for figures (cohort_name)
    colors = regimen_colors(cohort.regimens)
    missing = [e.value for e in figure_endpoints if e not in result.endpoints]
    if missing:
        raise ValueError(f"the result lacks endpoint(s) {', '.join(missing)}")
    figures = [ReportFigure("attrition", tr("Who is in, and why (attrition)"),
                            attrition_figure(cohort.attrition, cohort.regimens, cohort.by_regimen(), colors,
                                                     caption))]
    tables = [ReportTable("attrition", trc("report table", "Attrition"),
                          attrition_table(cohort.attrition, cohort.regimens))]
    if table1:
        t1 = baseline_table(cohort.frame, cohort.regimens)
        tables.append(ReportTable(
            "table1", tr("Baseline characteristics (Table 1)"), t1.rename(columns=table1_header), in_deck=True,
            note=tr("Median [Q1, Q3] with Kruskal–Wallis test; n (%) with chi-square or Fisher's exact test; "
                    "SMD = standardized mean difference."),
            deck_columns=tuple(map(table1_header, _table1_deck_columns(t1)))))
    shown, unavailable = [], []
    for e in figure_endpoints:
        s = result.endpoints[e]
        if s.unavailable:  # said in the summary sentences, never silently left out
            unavailable.append(s.unavailable)
        if not s.curves:
            continue
        shown.append(s)
        figures.append(ReportFigure(f"km_{e.value}", trc("report", "{label} ({code})", label=endpoint_label(e),
                                                         code=e.value),
                                    km_figure(s, colors, subtitle=subtitle, options=options)))
        tables.append(ReportTable(f"{e.value}_groups", tr("{endpoint}: by regimen", endpoint=e.value),
                                  endpoint_table(s), in_deck=True, note=sentences(
                                      tr("Times in months; median (95% CI); rates as % (95% CI)."), *table_notes(s))))
        if s.pairwise:
            tables.append(ReportTable(f"{e.value}_pairwise", tr("{endpoint}: pairwise tests", endpoint=e.value),
                                      pairwise_table(s)))
        if s.cox:
            # in the deck too: a "not estimable — <reason>" HR must reach the slides, not only the page
            tables.append(ReportTable(f"{e.value}_reference", _against(e.value, s.reference),
                                      comparison_table(s), in_deck=True))
        if e in (Endpoint.OS, Endpoint.PFS):
            tables.append(ReportTable(f"{e.value}_trials", tr("{endpoint}: registry vs landmark trials",
                                                              endpoint=e.value),
                                      registry_vs_trials(s), in_deck=True))
    response = result.response
    if response is not None and response.rates:
        criterion, rates = next(iter(response.rates.items()))
        figures.append(ReportFigure("response", tr("Best overall response ({criterion})", criterion=criterion),
                                    response_bar_figure(rates, colors, subtitle=subtitle)))
        tables.append(ReportTable("response_rates", tr("Response rates ({criterion})", criterion=criterion),
                                  response_rates_table(rates), in_deck=True))
    for key, s in result.competing.items():
        if not any(g.n for g in s.groups):
            continue
        analysis = tr(s.definition.title)  # a constant of hcc.cohort.competing, translated where shown
        figures.append(ReportFigure(f"cif_{key}", analysis, cif_figure(s, colors, subtitle=caption)))
        tables.append(ReportTable(f"cif_{key}", tr("{analysis}: cumulative incidence", analysis=analysis),
                                  cif_table(s),
                                  note=tr("Aalen–Johansen, % (95% CI, log scale); death is the competing event.")))
        if s.fine_gray:
            tables.append(ReportTable(f"ratios_{key}", _against(analysis, s.reference), ratio_table(s),
                                      note=tr("Fine–Gray: how many reach the event; cause-specific: how fast among "
                                              "those still alive without it.")))
    if result.pathway is not None and any(g.n for g in result.pathway.groups):
        figures.append(ReportFigure("pathway", tr("Patient pathway: where patients are over time"),
                                    pathway_figure(result.pathway, colors, subtitle=caption)))
        tables.append(ReportTable("pathway", tr("Patient pathway: share in each state (%)"),
                                  pathway_table(result.pathway), in_deck=True))
    if result.sequences is not None and not result.sequences.empty:
        figures.append(ReportFigure("sequences", tr("Treatment sequences (first → second → third line)"),
                                    sankey_figure(result.sequences, colors, caption)))
        tables.append(ReportTable("uptake", tr("Second-line uptake by first-line regimen"),
                                  uptake_table(uptake(cohort.frame, cohort.regimens)), in_deck=True))
    results = json_safe(result_json(result))
    if adjusted is not None:
        figures, tables, results = _add_adjusted(adjusted, figures, tables, results, colors, caption)
    tables += list(extra_tables)
    tables.append(ReportTable("trials", tr("Landmark first-line trials (published)"), trials_table()))
    return Report(
        title=title, caption=caption, created=created, figures=tuple(figures), tables=tuple(tables),
        summary_sentences=tuple(plain_summary(s) for s in shown) + tuple(unavailable),
        methods=methods_paragraph(shown, response, competing=result.competing, pathway=result.pathway,
                                  cohort=cohort.name.full),
        versions=software_versions(),
        reproduce=reproduce_record(result, figure_endpoints, options, mapping, created),
        results=results, is_demo=reg.is_demo, language=current_language())


def _methods_note(methods: dict[str, str]) -> str:
    """A model's ``methods`` record as a table note (``ties: Efron; …``) in the current language: the
    keys from :func:`hcc.formatting.method_label`, the values as the model wrote them (in the language it was fitted
    in, where its module translates them)."""
    return trc("report", "; ").join(trc("report", "{key}: {value}", key=method_label(k), value=tr(v))
                                    for k, v in methods.items())


def _add_adjusted(adjusted: AdjustedParts, figures: list, tables: list, results: dict, colors: dict[str, str],
                  caption: str) -> tuple[list, list, dict]:
    """The adjusted analyses' figures, tables and CLI JSON blocks; a part not estimable as its reason."""
    results = dict(results)
    model, weighted = adjusted.model, adjusted.iptw
    if model is not None:
        figures.append(ReportFigure("forest", tr("Multivariable Cox model (forest plot)"),
                                    forest_figure(model, caption)))
        tables.append(ReportTable("cox", tr("Multivariable Cox model"), cox_table(model), in_deck=True,
                                  note=_methods_note(model.methods)))
        tables.append(ReportTable("cox_ph", tr("Proportional-hazards check (scaled Schoenfeld residuals)"),
                                  ph_table(model), in_deck=True))
        results["multivariable"] = json_safe(multivariable_json(model))
    if weighted is not None:
        figures.append(ReportFigure("iptw_km", tr("Weighted curves (IPTW)"),
                                    weighted_km_figure(weighted, colors, caption)))
        figures.append(ReportFigure("love", tr("Covariate balance after weighting"), love_plot(weighted, caption)))
        tables.append(ReportTable("iptw_hr", tr("Propensity-weighted hazard ratios"), pd.DataFrame([
            {trc("report table", "Regimen"): trc("report table", "{regimen} vs {reference}", regimen=h.term,
                                                 reference=h.reference),
             trc("report table", "HR (95% CI)"): format_hr(h.hr, h.lower, h.upper), "p": format_p(h.p)}
            for h in weighted.cox]),
            in_deck=True, note=_methods_note(weighted.methods)))
        tables.append(ReportTable("balance", tr("Covariate balance (standardized mean differences)"),
                                  balance_table(weighted)))
        results["iptw"] = json_safe(iptw_json(weighted))
    if adjusted.not_estimable:
        tables.append(ReportTable("adjusted_not_estimable", tr("Adjusted analyses not estimable"), pd.DataFrame(
            [{trc("report table", "Analysis"): what, trc("report table", "Result"): trc(
                "report table", "not estimable — {reason}", reason=why)}
             for what, why in adjusted.not_estimable]), in_deck=True))
    return figures, tables, results


# -- HTML ------------------------------------------------------------------------------------------
_CSS = """
body{font-family:Arial,Helvetica,sans-serif;color:#111;max-width:1150px;margin:24px auto;padding:0 16px;
line-height:1.4}
h1{font-size:26px;margin-bottom:4px} h2{font-size:20px;border-bottom:2px solid #333;padding-bottom:3px;
margin-top:32px} h3{font-size:16px;margin-bottom:4px;break-after:avoid}
.caption{color:#333;font-size:15px} .note{color:#555;font-size:13px}
table{border-collapse:collapse;font-size:13px;margin:6px 0 14px} th,td{border:1px solid #bbb;padding:3px 6px;
text-align:left;vertical-align:top} th{background:#eee}
.methods{background:#f6f6f6;border-left:4px solid #0072B2;padding:10px 14px;font-size:15px}
pre{background:#f6f6f6;padding:8px;font-size:12px;overflow-x:auto;white-space:pre-wrap}
.figure{break-inside:avoid;page-break-inside:avoid;margin:10px 0 18px} .figure img{width:100%}
.demo{background:#fff4e5;border:1px solid #d55e00;padding:6px 10px}
@page{size:A4;margin:15mm} @media print{body{max-width:none;margin:0;padding:0} h2{break-after:avoid}
table{font-size:10px} .methods{font-size:12px}}
"""


#: The Japanese report's type: Noto Sans CJK JP (installed with the app, and what Chromium embeds in
#: the PDF), else the Japanese fonts of macOS and Windows; Latin letters and digits from the same font.
_CSS_JA = """
body{font-family:"Noto Sans CJK JP","Noto Sans JP","Hiragino Sans","Hiragino Kaku Gothic ProN","Yu Gothic",
Meiryo,sans-serif}
"""
#: The banner of a report of the synthetic demo registry.
DEMO_NOTE = N_("Synthetic demo registry: simulated patients, not real people.")


#: Characters written as JSON ``\\uXXXX`` escapes inside a ``<script>`` block: with no literal ``<`` no
#: text from the data (a file or regimen name such as ``</script><!--<script>``) can close the block or
#: put the HTML parser into its "script data escaped" state; ``>`` and ``&`` for good measure.
_SCRIPT_UNSAFE = {"<": "\\u003c", ">": "\\u003e", "&": "\\u0026", "\u2028": "\\u2028", "\u2029": "\\u2029"}


def _json_script(element_id: str, data: Any) -> str:
    """``data`` as a ``<script type="application/json">`` block whose text cannot end the block early.

    Every ``<``, ``>`` and ``&`` inside the JSON is written as a ``\\uXXXX`` escape, which
    ``json.loads`` reads back as the same character (so ``</``, ``<!--`` and ``<script`` never appear).
    """
    text = json.dumps(data, ensure_ascii=False, allow_nan=False)
    text = text.translate({ord(c): e for c, e in _SCRIPT_UNSAFE.items()})
    return f'<script type="application/json" id="{element_id}">{text}</script>'


def _table_html(t: ReportTable) -> str:
    body = t.table.to_html(index=False, escape=True, border=0, na_rep="—")
    note = f'<p class="note">{html.escape(t.note)}</p>' if t.note else ""
    return f'<h3 id="table-{html.escape(t.key)}">{html.escape(t.title)}</h3>{body}{note}'


def _figure_html(f: ReportFigure, static_svg: bytes | None) -> str:
    if static_svg is not None:
        src = "data:image/svg+xml;base64," + base64.b64encode(static_svg).decode("ascii")
        body = f'<img alt="{html.escape(f.title)}" src="{src}">'
    else:
        body = f.figure.to_html(full_html=False, include_plotlyjs=False, div_id=f"figure-{f.key}",
                                config={"displaylogo": False,
                                        "toImageButtonOptions": {"format": "png", "scale": 3}})
    return f'<div class="figure" id="fig-{html.escape(f.key)}">{body}</div>'


def report_html(report: Report, static_svgs: dict[str, bytes] | None = None) -> str:
    """The report as one self-contained HTML page (plotly.js inlined: it opens offline), in the
    language the report was built in.

    With ``static_svgs`` (figure key -> SVG bytes) figures are images instead of interactive
    plots (the printable variant used for the PDF).
    """
    with use_language(report.language) as lang:
        return _report_html(report, static_svgs, lang)


def _created(report: Report, english: str) -> str:
    """When the report was made: ``english`` (the English report's own form), or the date in the
    reader's form and the time (``2026年3月1日 14:05 UTC``)."""
    if current_language() == "en":
        return english
    return f"{date_text(report.created)} {report.created:%H:%M} UTC"


def _report_html(report: Report, static_svgs: dict[str, bytes] | None, lang: str) -> str:
    static = static_svgs is not None
    rep = report.reproduce
    fp = rep["data"]
    parts = [f"<!DOCTYPE html><html lang='{lang}'><head><meta charset='utf-8'><title>{html.escape(report.title)}"
             "</title>", f"<style>{_CSS}</style>"]
    if lang == "ja":
        parts.append(f"<style>{_CSS_JA}</style>")
    if not static:
        parts.append(f'<script type="text/javascript">{plotly.offline.get_plotlyjs()}</script>')
    parts.append("</head><body>")
    parts.append(f"<h1>{html.escape(report.title)}</h1><p class='caption'>{html.escape(report.caption)}</p>")
    if report.is_demo:
        parts.append(f"<p class='demo'>{html.escape(tr(DEMO_NOTE))}</p>")
    parts.append("<p class='note'>" + tr(
        "Created {created} · data {name}, {rows} rows, SHA-256 {sha256}",
        created=html.escape(_created(report, rep["created"])), name=html.escape(fp["name"]), rows=f"{fp['rows']:,}",
        sha256=f"<code id='sha256'>{html.escape(fp['sha256'])}</code>") + "</p>")
    if report.summary_sentences:
        parts.append(f"<h2>{trc('report heading', 'Summary')}</h2>"
                     + "".join(f"<p>{html.escape(s)}</p>" for s in report.summary_sentences))
    parts.append(f"<h2>{trc('report heading', 'Statistical analysis')}</h2><p class='methods' id='methods'>"
                 f"{html.escape(report.methods)}</p>")
    parts.append(f"<h2>{trc('report heading', 'Figures')}</h2>")
    for f in report.figures:
        parts.append(_figure_html(f, (static_svgs or {}).get(f.key) if static else None))
    parts.append(f"<h2>{trc('report heading', 'Tables')}</h2>" + "".join(_table_html(t) for t in report.tables))
    parts.append(f"<h2>{trc('report heading', 'Reproducibility')}</h2><p>"
                 + tr("Load this file on the Data page (<i>Reopen a report</i>) with the same data file to recreate "
                      "the view; the SHA-256 above identifies the file.") + "</p>")
    parts.append(f"<h3>{trc('report heading', 'Cohort spec')}</h3><pre id='cohort-spec'>"
                 + html.escape(json.dumps(rep["cohort_spec"], indent=2)) + "</pre>")
    parts.append(f"<h3>{trc('report heading', 'Statistical settings')}</h3><pre id='analysis-spec'>"
                 + html.escape(json.dumps(rep["analysis_spec"], indent=2)) + "</pre>")
    parts.append(f"<h3>{trc('report heading', 'Column mapping')}</h3><pre id='mapping'>" + html.escape(
        tr("none (the file used the canonical columns)") if rep["mapping"] is None
        else json.dumps(rep["mapping"], indent=2)) + "</pre>")
    parts.append(f"<h3>{trc('report heading', 'Software')}</h3>" + pd.DataFrame(
        {trc("report table", "Software"): list(report.versions),
         trc("report table", "Version"): list(report.versions.values())}).to_html(index=False, border=0))
    parts.append(_json_script(REPRODUCE_ID, rep))
    if not static:
        parts.append(_json_script(RESULTS_ID, report.results))
    parts.append("</body></html>")
    return "\n".join(parts)


# -- PDF -------------------------------------------------------------------------------------------
async def _print_to_pdf(page: str) -> bytes:
    import choreographer  # kaleido's browser driver; same Chromium, found on PATH

    async with choreographer.Browser(headless=True) as browser:
        tab = await browser.create_tab("about:blank")
        tree = await tab.send_command("Page.getFrameTree")
        frame = tree["result"]["frameTree"]["frame"]["id"]
        await tab.send_command("Page.setDocumentContent", params={"frameId": frame, "html": page})
        out = await tab.send_command("Page.printToPDF", params={
            "printBackground": True, "preferCSSPageSize": True, "displayHeaderFooter": True,
            "headerTemplate": "<span></span>",
            "footerTemplate": "<div style='font-size:8px;width:100%;text-align:center;color:#555'>"
                              "<span class='pageNumber'></span> / <span class='totalPages'></span></div>"})
    if "error" in out:
        raise ExportError(tr("Chromium could not print the report as PDF."))
    return base64.b64decode(out["result"]["data"])


def html_to_pdf(page: str) -> bytes:
    """Print an HTML page to PDF with headless Chromium, in memory (A4, page numbers).

    The browser is started for this call alone (its own process, event loop and thread) and holds an
    export slot (:func:`hcc.outputs.export.export_slot`), so concurrent sessions never share it. Raises
    :class:`hcc.outputs.export.ExportError` when Chromium cannot start, fails or takes too long.
    """
    with export_slot():
        try:
            return run_async(_print_to_pdf, page, timeout=BROWSER_START_SECONDS + RENDER_TIMEOUT_SECONDS)
        except ExportError:
            raise
        except (concurrent.futures.TimeoutError, TimeoutError):
            raise ExportError(tr("Printing the report as PDF took too long; try again.")) from None
        except Exception as exc:  # noqa: BLE001 choreographer raises many types; the name is enough
            raise ExportError(tr("The report could not be printed as PDF ({error}); is Chromium installed on the "
                                 "server?", error=type(exc).__name__)) from exc


def report_pdf(report: Report) -> bytes:
    """The report as PDF: the printable HTML (figures as vector SVG) printed by Chromium.

    One export slot is held throughout, so a busy server refuses the whole report up front
    instead of after the figures.
    """
    with export_slot(), use_language(report.language):
        with export_session():
            svgs = {f.key: figure_bytes(f.figure, "svg", PDF_FIGURE) for f in report.figures}
        return html_to_pdf(report_html(report, static_svgs=svgs))


# -- PowerPoint ------------------------------------------------------------------------------------
def _textbox(slide, text: str, left: float, top: float, width: float, height: float, size: int,
             bold: bool = False, color: tuple[int, int, int] = (0, 0, 0)) -> None:
    from pptx.dml.color import RGBColor
    from pptx.util import Inches, Pt

    frame = slide.shapes.add_textbox(Inches(left), Inches(top), Inches(width), Inches(height)).text_frame
    frame.word_wrap = True
    for i, line in enumerate(text.split("\n")):
        para = frame.paragraphs[0] if i == 0 else frame.add_paragraph()
        para.text = line
        para.font.size, para.font.bold = Pt(size), bold
        para.font.color.rgb = RGBColor(*color)


def deck_parts(t: ReportTable) -> list[pd.DataFrame]:
    """The slides of a deck table: its :attr:`ReportTable.deck_columns`, :data:`_DECK_ROWS` rows a
    slide (:data:`_DECK_ROWS_WIDE` when it has many columns), every row on some slide."""
    table = (t.table[list(t.deck_columns)] if t.deck_columns else t.table).fillna("—").astype(str)
    rows = _DECK_ROWS_WIDE if len(table.columns) >= _DECK_WIDE_COLUMNS else _DECK_ROWS
    return [table.iloc[i:i + rows] for i in range(0, max(len(table), 1), rows)]


def _table_slides(prs, t: ReportTable, footer: str) -> None:
    from pptx.util import Inches, Pt

    parts = deck_parts(t)
    for k, table in enumerate(parts, start=1):
        slide = prs.slides.add_slide(prs.slide_layouts[6])
        _textbox(slide, trc("deck", "{title} ({part}/{parts})", title=t.title, part=k, parts=len(parts))
                 if len(parts) > 1 else t.title, 0.4, 0.2, 12.5, 0.7, 28, bold=True)
        rows, cols = len(table) + 1, len(table.columns)
        shape = slide.shapes.add_table(rows, cols, Inches(0.4), Inches(1.0), Inches(12.5), Inches(0.45 * rows))
        for j, name in enumerate(table.columns):
            shape.table.cell(0, j).text = str(name)
        for i, row in enumerate(table.itertuples(index=False), start=1):
            for j, value in enumerate(row):
                shape.table.cell(i, j).text = value
        for cell in (shape.table.cell(i, j) for i in range(rows) for j in range(cols)):
            for para in cell.text_frame.paragraphs:
                para.font.size = Pt(DECK_TABLE_PT)
        _textbox(slide, footer, 0.4, 7.05, 12.5, 0.35, 11, color=(85, 85, 85))
        slide.notes_slide.notes_text_frame.text = sentences(
            trc("speaker notes", "{title}.", title=t.title), t.note,
            tr("Columns as in the report.") if not t.deck_columns else
            tr("The report's table also has the columns {columns}.", columns=trc("list", ", ").join(
                str(c) for c in t.table.columns if c not in t.deck_columns)))


#: Relationship type and part name of the reproduction record inside a .pptx (an OPC part of its
#: own: document properties are limited to 255 characters).
PPTX_RECORD_RELTYPE = "urn:hcc-outcomes-explorer:reproduce"
PPTX_RECORD_PART = "/customXml/hcc-reproduce.json"


#: Longest text of a document property (title, subject, comments, …) in an Office file; python-pptx
#: refuses longer ones ("exceeded 255 char limit for property").
CORE_PROPERTY_CHARS = 255


def _core_property(text: str) -> str:
    """``text`` cut to :data:`CORE_PROPERTY_CHARS` characters, ending in "…" when cut (the slides
    and the embedded record keep the full text)."""
    return text if len(text) <= CORE_PROPERTY_CHARS else text[:CORE_PROPERTY_CHARS - 1] + "…"


def _attach_record(prs, record: str) -> None:
    from pptx.opc.package import Part
    from pptx.opc.packuri import PackURI

    part = Part(PackURI(PPTX_RECORD_PART), "application/json", prs.part.package, record.encode("utf-8"))
    prs.part.relate_to(part, PPTX_RECORD_RELTYPE)


#: A Japanese deck's typeface for East Asian text: Yu Gothic (every Windows since 8.1 and Office for
#: Mac have it; elsewhere the viewer substitutes its own Japanese font). Latin text keeps the theme's.
DECK_EA_TYPEFACE = "Yu Gothic"


def _east_asian_runs(prs) -> None:
    """Every run of text in the deck (slides, tables, notes) marked Japanese (``lang="ja-JP"``, English
    as its alternative) with :data:`DECK_EA_TYPEFACE` as its East Asian typeface: PowerPoint then
    draws the Japanese in that font whatever the theme says."""
    from pptx.oxml.ns import qn
    from pptx.oxml.xmlchemy import OxmlElement

    parts = [slide for slide in prs.slides] + [slide.notes_slide for slide in prs.slides if slide.has_notes_slide]
    for part in parts:
        for run in part.shapes._spTree.iter(qn("a:r")):
            rpr = run.get_or_add_rPr()
            rpr.set("lang", "ja-JP")
            rpr.set("altLang", "en-US")
            ea = rpr.find(qn("a:ea"))
            if ea is None:
                ea = OxmlElement("a:ea")
                rpr.insert_element_before(ea, "a:cs", "a:sym", "a:hlinkClick", "a:hlinkMouseOver", "a:rtl",
                                          "a:extLst")
            ea.set("typeface", DECK_EA_TYPEFACE)


def report_pptx(report: Report, figure_keys: tuple[str, ...] | None = None) -> bytes:
    """A 16:9 deck: a title slide (cohort summary, short data fingerprint, date), one slide per figure
    (``figure_keys``, default all; 300-dpi PNG filling the slide), the key tables in
    :data:`DECK_TABLE_PT`-pt text (over several slides when long, each with a footer holding the
    cohort and the short fingerprint), and an appendix slide with the full SHA-256. The reproduction
    record is in the deck's properties (comments), the title and appendix slides' notes.

    In the language the report was built in; a Japanese deck names a Japanese typeface for every run
    of text (:func:`_east_asian_runs`)."""
    with use_language(report.language) as lang:
        return _report_pptx(report, figure_keys, lang)


def _report_pptx(report: Report, figure_keys: tuple[str, ...] | None, lang: str) -> bytes:
    from pptx import Presentation
    from pptx.util import Inches

    prs = Presentation()
    prs.slide_width, prs.slide_height = Inches(40 / 3), Inches(7.5)
    fp, rep = report.fingerprint, report.reproduce
    record = json.dumps(rep, ensure_ascii=False)
    footer = tr("{caption} · data SHA-256 {sha256}… (full in the notes and the last slide)", caption=report.caption,
                sha256=fp["sha256"][:12])
    created = _created(report, report.created.strftime("%Y-%m-%d %H:%M UTC"))
    title = prs.slides.add_slide(prs.slide_layouts[6])
    _textbox(title, report.title, 0.6, 1.2, 12.1, 1.2, 40, bold=True)
    _textbox(title, report.caption, 0.6, 2.6, 12.1, 1.0, 24)
    _textbox(title, tr("Data: {name} · {rows} rows · SHA-256 {sha256}…", name=fp["name"], rows=f"{fp['rows']:,}",
                       sha256=fp["sha256"][:12]) + "\n" + tr("Created {created}", created=created),
             0.6, 4.0, 12.1, 1.0, 18, color=(60, 60, 60))
    if report.is_demo:
        _textbox(title, tr(DEMO_NOTE), 0.6, 5.6, 12.1, 0.6, 18, color=(213, 94, 0))
    title.notes_slide.notes_text_frame.text = tr("Data SHA-256 {sha256}", sha256=fp["sha256"]) + f"\n\n{record}"
    chosen = [f for f in report.figures if figure_keys is None or f.key in figure_keys]
    images = []
    if chosen:  # no browser for a deck without figures
        with export_session():
            images = [(f, figure_bytes(f.figure, "png", "slide")) for f in chosen]
    for f, png in images:
        slide = prs.slides.add_slide(prs.slide_layouts[6])
        slide.shapes.add_picture(io.BytesIO(png), 0, 0, width=prs.slide_width, height=prs.slide_height)
        slide.notes_slide.notes_text_frame.text = sentences(trc("speaker notes", "{title}.", title=f.title),
                                                            report.caption)
    for t in report.tables:
        if t.in_deck and not t.table.empty:
            _table_slides(prs, t, footer)
    appendix = prs.slides.add_slide(prs.slide_layouts[6])
    _textbox(appendix, tr("Appendix: data and settings"), 0.4, 0.25, 12.5, 0.7, 28, bold=True)
    _textbox(appendix, "\n".join((
        tr("Data file: {name} · {rows} rows", name=fp["name"], rows=f"{fp['rows']:,}"),
        f"SHA-256 {fp['sha256']}",
        tr("Cohort: {cohort}", cohort=report.caption),
        tr("Created {created}", created=created),
        tr("The cohort spec, statistical settings and mapping are embedded in this file: open it on the Data page "
           "(Reopen a saved view) with the same data file to recreate the view."))),
             0.4, 1.2, 12.5, 4.0, 18)
    appendix.notes_slide.notes_text_frame.text = record
    prs.core_properties.title = _core_property(report.title)
    prs.core_properties.subject = _core_property(report.caption)
    prs.core_properties.comments = _core_property(
        tr("{format}: data SHA-256 {sha256}…; full record in the deck", format=REPRODUCE_FORMAT,
           sha256=fp["sha256"][:16]))
    if lang == "ja":
        _east_asian_runs(prs)
    _attach_record(prs, record)
    out = io.BytesIO()
    prs.save(out)
    return out.getvalue()
