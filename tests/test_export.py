"""Exports: figure files (PNG 300 dpi, SVG, PDF), safe CSV / XLSX, the HTML report against the CLI's
JSON, the PDF report and the deck, the methods paragraph, and reopening from an embedded record."""

from __future__ import annotations

import io
import json
import re
import shutil
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
from PIL import Image

from hcc.analysis import AnalysisResult, analyze
from hcc.cli.main import main
from hcc.cohort.rules import FULL, MAIN, PRESETS, CohortSpec
from hcc.outputs.reports import (DECK_TABLE_PT, REPRODUCE_ID, RESULTS_ID, adjusted_parts, build_report, deck_parts,
                                 report_html, report_pdf, report_pptx)
from hcc.errors import SpecError
from hcc.outputs.export import SIZE_PRESETS, export_session, figure_bytes, table_csv, tables_xlsx
from hcc.outputs.methods_text import methods_paragraph, software_versions
from hcc.ingest.registry import load_path
from hcc.outputs.tables import spreadsheet_safe
from hcc.outputs.reproduce import check_data, read_record
from hcc.schema import Col, Endpoint
from hcc.stats.survival import AnalysisSpec
from tests.conftest import registry_csv

NASTY = ["=1+1", "+cmd", "-2+3", "@SUM(A1)", "\tx", "\rx", "ok", "a=b"]


def _pdf_pages_render(pdf: bytes, tmp_path: Path) -> list[Path]:
    """Render every page with poppler's pdftoppm (as a reader would) and return the PNGs."""
    tmp_path.mkdir(parents=True, exist_ok=True)
    src = tmp_path / "doc.pdf"
    src.write_bytes(pdf)
    subprocess.run(["pdftoppm", "-r", "40", "-png", str(src), str(tmp_path / "page")], check=True, timeout=60)
    return sorted(tmp_path.glob("page*.png"))


@pytest.fixture(scope="module")
def data_file(tmp_path_factory) -> Path:
    start = pd.Timestamp("2020-01-01")
    rows = []
    for i, reg in enumerate(["SOR", "LEN", "ATZ_BEV"] * 10):
        progression = start + pd.Timedelta(days=40 + 23 * i + 7 * (i % 3))
        end = progression + pd.Timedelta(days=60 + 31 * (i % 7) + 11 * (i % 5))
        rows.append({Col.REGIMEN_1L: reg, Col.DATE_PROGRESSION_1L: f"{progression:%Y-%m-%d}" if i % 5 else "",
                     Col.DATE_DEATH: f"{end:%Y-%m-%d}" if i % 3 else "", Col.DATE_LAST_FOLLOWUP: f"{end:%Y-%m-%d}",
                     Col.CONCOMITANT_LRT: "yes" if i == 0 else "no"})
    path = tmp_path_factory.mktemp("data") / "reg.csv"
    path.write_bytes(registry_csv(rows))
    return path


@pytest.fixture(scope="module")
def result(data_file: Path) -> AnalysisResult:
    return analyze(load_path(data_file), PRESETS[MAIN], analysis=AnalysisSpec(conf_type="log"))


def test_spreadsheet_safe_neutralises_every_formula_start() -> None:
    safe = spreadsheet_safe(pd.DataFrame({"a": NASTY, "n": range(len(NASTY))}))
    assert safe["a"].tolist() == ["'" + v for v in NASTY[:6]] + ["ok", "a=b"]
    assert safe["n"].tolist() == list(range(len(NASTY)))


def test_csv_and_xlsx_cells_are_safe(tmp_path: Path) -> None:
    table = pd.DataFrame({"text": NASTY, "number": [1.5] * len(NASTY)})
    csv = pd.read_csv(io.BytesIO(table_csv(table)), encoding="utf-8-sig", keep_default_na=False)
    assert not any(str(v).startswith(("=", "+", "-", "@")) for v in csv["text"])
    book = openpyxl.load_workbook(io.BytesIO(tables_xlsx({"Table: one/two?": table, "second": table})))
    assert book.sheetnames == ["Table_ one_two_", "second"]
    for sheet in book.worksheets:
        cells = [c for row in sheet.iter_rows(min_row=2) for c in row]
        assert all(c.data_type != "f" for c in cells)
        assert not any(isinstance(c.value, str) and c.value.startswith(("=", "+", "-", "@", "\t", "\r"))
                       for c in cells)
        assert [c.value for c in sheet["B"][1:]] == [1.5] * len(NASTY)


HYPERLINK = '=HYPERLINK("http://x","y")'


def test_spreadsheet_safe_guards_headers_multiindex_and_index_but_not_numbers() -> None:
    """A regimen name becomes a column header (Table 1, subgroups, IPTW balance): headers, every
    MultiIndex level and text row labels are guarded like cells; numbers and plain-number text
    ("-0.043", an SMD in Table 1) stay as they are; arithmetic such as "-2+3" is quoted."""
    table = pd.DataFrame({HYPERLINK: ["-0.043", "-2+3", "+cmd|' /C calc'!A0", "1e-3", "-.5"], "SOR": [-0.043] * 5},
                         index=pd.Index(["=a", "b", "@c", "-1", "d"], name="@name"))
    safe = spreadsheet_safe(table)
    assert list(safe.columns) == ["'" + HYPERLINK, "SOR"]
    assert safe.index.tolist() == ["'=a", "b", "'@c", "-1", "d"] and safe.index.name == "'@name"
    assert safe.iloc[:, 0].tolist() == ["-0.043", "'-2+3", "'+cmd|' /C calc'!A0", "1e-3", "-.5"]
    assert safe["SOR"].dtype == float and safe["SOR"].tolist() == [-0.043] * 5
    multi = pd.DataFrame([[1, "x"]], columns=pd.MultiIndex.from_tuples([("=a", "b"), ("c", "\t=d")], names=["+l", None]))
    assert spreadsheet_safe(multi).columns.tolist() == [("'=a", "b"), ("c", "'\t=d")]
    assert spreadsheet_safe(multi).columns.names == ["'+l", None]
    assert spreadsheet_safe(pd.DataFrame({"a": [1]})).index.equals(pd.RangeIndex(1))


def test_csv_and_xlsx_headers_are_literal_and_numbers_numeric() -> None:
    """The downloaded files: no formula anywhere (XLSX data_type 'f'), the header text shown as
    written behind its apostrophe, and numbers never quoted (no "'-0.043")."""
    table = pd.DataFrame({"Characteristic": ["Age", "Sex"], HYPERLINK: ["-0.043", "=1+2"], "SMD": [-0.043, 0.2],
                          "n": [-3, 4]})
    csv = table_csv(table).decode("utf-8-sig")
    header, first, second = csv.splitlines()
    assert header == 'Characteristic,"\'=HYPERLINK(""http://x"",""y"")",SMD,n'
    assert first == "Age,-0.043,-0.043,-3" and second == "Sex,'=1+2,0.2,4"
    sheet = openpyxl.load_workbook(io.BytesIO(tables_xlsx({"t": table}))).active
    cells = [c for row in sheet.iter_rows() for c in row]
    assert all(c.data_type != "f" for c in cells)
    assert [c.value for c in sheet[1]] == ["Characteristic", "'" + HYPERLINK, "SMD", "n"]
    assert [c.value for c in sheet["C"][1:]] == [-0.043, 0.2] and all(c.data_type == "n" for c in sheet["C"][1:])
    assert [c.value for c in sheet["D"][1:]] == [-3, 4] and sheet["B"][1].value == "-0.043"


def test_table1_with_a_formula_as_regimen_name_downloads_as_text() -> None:
    """The issue's case end to end: a regimen recorded as =HYPERLINK(…) becomes a Table 1 header; the
    CSV and the workbook show it as text, never as a live formula."""
    from hcc.stats.baseline import baseline_table
    from tests.conftest import make_registry
    rows = [{Col.REGIMEN_1L: r, Col.AGE: str(50 + i)} for i, r in enumerate(["SOR", HYPERLINK] * 10)]
    registry = make_registry(rows)
    table = baseline_table(registry.frame, registry.regimens)
    assert HYPERLINK in table.columns
    header = table_csv(table).decode("utf-8-sig").splitlines()[0]
    assert ',"\'=HYPERLINK(""http://x"",""y"")",' in header
    sheet = openpyxl.load_workbook(io.BytesIO(tables_xlsx({"Table 1": table}))).active
    assert "'" + HYPERLINK in [c.value for c in sheet[1]]
    assert all(c.data_type != "f" for row in sheet.iter_rows() for c in row)


def test_html_report_numbers_equal_the_cli_json(data_file: Path, result: AnalysisResult, tmp_path: Path,
                                                 capsys) -> None:
    """The report embeds the CLI's JSON of the same data, spec and settings, and its tables print
    those numbers (median and CI to one decimal)."""
    report = build_report(result, (Endpoint.OS, Endpoint.PFS))
    page = report_html(report)
    assert main(["analyze", "--data", str(data_file), "--preset", "main", "--ci", "log"]) == 0
    cli = json.loads(capsys.readouterr().out)
    embedded = json.loads(re.search(f'id="{RESULTS_ID}">(.*?)</script>', page, re.S).group(1))
    assert embedded == json.loads(json.dumps(cli))
    for endpoint in ("OS", "PFS"):
        for regimen, g in cli["endpoints"][endpoint]["groups"].items():
            lo, hi = (("NR" if x is None else f"{x:.1f}") for x in g["median_ci"])
            med = "NR" if g["median"] is None else f"{g['median']:.1f}"
            assert f"<td>{regimen}</td>\n      <td>{g['n']}</td>\n      <td>{g['events']}</td>\n      " \
                   f"<td>{med} ({lo}–{hi})</td>" in page
    record = json.loads(re.search(f'id="{REPRODUCE_ID}">(.*?)</script>', page, re.S).group(1))
    assert record["data"]["sha256"] == cli["data"]["sha256"] and record["mapping"] is None
    assert record["analysis_spec"]["conf_type"] == "log" and CohortSpec.from_dict(record["cohort_spec"]) == PRESETS[MAIN]
    assert "log transformation" in page and "plotly" in page.lower()


def test_methods_paragraph_follows_the_settings_used(result: AnalysisResult) -> None:
    summaries = [result.endpoints[Endpoint.OS]]
    versions = software_versions()
    text = methods_paragraph(summaries, result.response, versions)
    assert "Kaplan–Meier" in text and "Greenwood" in text and "the log transformation" in text
    assert "Holm's method" in text and "Clopper–Pearson" in text
    has_cox = bool(summaries[0].cox)  # a univariable Cox fit may be not estimable on tiny data
    assert ("Efron method for ties" in text) == has_cox and ("Hazard ratios" in text) == has_cox
    assert f"lifelines {versions['lifelines']}" in text and f"Python {versions['Python']}" in text
    other = analyze(result.registry, PRESETS[MAIN], analysis=AnalysisSpec(conf_type="plain", adjust="bonferroni",
                                                                          rho=1, tau_months=6))
    text2 = methods_paragraph([other.endpoints[Endpoint.OS]], None, versions)
    assert "no transformation" in text2 and "Bonferroni" in text2 and "Peto–Peto" in text2
    assert "τ = 6 months (OS) (chosen)" in text2 and "Clopper" not in text2


def test_methods_paragraph_names_cox_ties_on_the_demo() -> None:
    demo = load_path(Path(__file__).resolve().parent.parent / "data" / "demo_registry.csv")
    from hcc.analysis import analyze_endpoint
    from hcc.cohort.rules import apply_to_registry

    summary = analyze_endpoint(apply_to_registry(demo, PRESETS[MAIN]), Endpoint.OS)
    assert summary.cox
    text = methods_paragraph([summary])
    assert "Efron method for ties" in text and f"with {summary.reference} as the reference" in text
    assert f"τ = {summary.tau_months:g} months (OS)" in text


def test_reopen_from_report_and_spec(result: AnalysisResult, data_file: Path) -> None:
    page = report_html(build_report(result, (Endpoint.OS,))).encode("utf-8")
    reopened = read_record(page, "report.html")
    assert reopened.cohort_spec == PRESETS[MAIN] and reopened.analysis_spec.conf_type == "log"
    assert reopened.figure_endpoints == ("OS",) and reopened.figure_options.trial_medians
    assert check_data(reopened, result.registry).same
    other = load_path(Path(__file__).resolve().parent.parent / "data" / "demo_registry.csv")
    check = check_data(reopened, other)
    assert not check.same and "Different data" in check.message and "reg.csv" in check.message
    bare = read_record(json.dumps({"regimens": ["SOR"]}).encode(), "spec.json")
    assert bare.cohort_spec.regimens == ("SOR",) and bare.data is None and check_data(bare, other).same
    with pytest.raises(SpecError, match="not a report"):
        read_record(b"<html></html>", "x.html")
    with pytest.raises(SpecError, match="choose a report"):
        read_record(b"", "x.docx")


def test_cli_report_html_and_errors(data_file: Path, tmp_path: Path, capsys) -> None:
    out = tmp_path / "r.html"
    assert main(["report", "--data", str(data_file), "--figures", "OS", "--out", str(out)]) == 0
    assert f'id="{REPRODUCE_ID}"' in out.read_text(encoding="utf-8")
    assert main(["report", "--data", str(data_file), "--out", str(tmp_path / "r.docx")]) == 2
    assert "must end in .html, .pdf, .pptx" in capsys.readouterr().err


@pytest.mark.slow
def test_static_exports_pdf_report_and_deck(result: AnalysisResult, tmp_path: Path) -> None:
    """One browser for everything: PNG size and dpi, SVG parses, PDF pages render; the PDF report
    renders; the deck opens with python-pptx with the expected slides and its record."""
    from pptx import Presentation

    assert shutil.which("pdftoppm"), "poppler-utils (pdftoppm) is needed"
    report = build_report(result, (Endpoint.OS,))
    km = report.figures[1].figure
    with export_session():
        png = figure_bytes(km, "png", "slide")
        with Image.open(io.BytesIO(png)) as img:
            assert img.size == (4000, 2250) and round(img.info["dpi"][0]) == 300
        column = figure_bytes(km, "png", "column")
        with Image.open(io.BytesIO(column)) as img:
            assert img.size[0] == round(SIZE_PRESETS["column"].width_inches * 300)
        svg = ET.fromstring(figure_bytes(km, "svg", "slide"))
        assert svg.tag.endswith("svg") and svg.get("width") == "1280"
        figure_pdf = figure_bytes(km, "pdf", "column")
        pdf = report_pdf(report)
        deck = report_pptx(report)
    assert len(_pdf_pages_render(figure_pdf, tmp_path / "figure")) == 1
    pages = _pdf_pages_render(pdf, tmp_path / "report")
    assert len(pages) >= 2
    with Image.open(pages[0]) as first:  # A4 portrait at 40 dpi, not blank
        assert first.size == (331, 468) and first.convert("L").getextrema()[0] < 100
    prs = Presentation(io.BytesIO(deck))
    deck_slides = sum(len(deck_parts(t)) for t in report.tables if t.in_deck and not t.table.empty)
    assert len(prs.slides) == 1 + len(report.figures) + deck_slides + 1  # title, figures, tables, appendix
    texts = [shape.text_frame.text for shape in prs.slides[0].shapes if shape.has_text_frame]
    assert any(report.fingerprint["sha256"][:12] + "…" in t for t in texts)  # the short form on the title slide
    assert [s.shape_type for s in prs.slides[1].shapes][0] == 13  # a picture (MSO_SHAPE_TYPE.PICTURE)
    assert read_record(deck, "deck.pptx").data["sha256"] == result.registry.sha256


def test_cli_deck_with_a_caption_over_255_characters(tmp_path: Path, capsys) -> None:
    """``report --out deck.pptx`` from a file whose name makes the caption 300+ characters: the deck
    is written (python-pptx used to stop with "exceeded 255 char limit for property"), its subject
    is cut with an ellipsis and its title slide keeps the whole caption."""
    from pptx import Presentation

    long_name = "registry_export_" + "hepatocellular_carcinoma_first_line_" * 6 + "x" * 17 + ".csv"
    assert len(long_name) < 255
    source = tmp_path / long_name
    source.write_bytes(registry_csv([{Col.REGIMEN_1L: ("SOR", "LEN", "ATZ_BEV")[k % 3],
                                      Col.DATE_DEATH: f"2020-{1 + k % 11:02d}-15",
                                      Col.DATE_LAST_FOLLOWUP: f"2020-{1 + k % 11:02d}-15"} for k in range(12)]))
    out = tmp_path / "deck.pptx"
    assert main(["report", "--data", str(source), "--preset", "full", "--figures", "OS", "--out", str(out)]) == 0, \
        capsys.readouterr().err
    prs = Presentation(str(out))
    caption = next(s.text_frame.text for s in prs.slides[0].shapes if s.has_text_frame and long_name in s.text_frame.text)
    assert len(caption) > 300
    assert len(prs.core_properties.subject) == 255 and prs.core_properties.subject.endswith("…")
    assert caption.startswith(prs.core_properties.subject[:-1])


def test_cli_report_without_a_browser_is_one_error_line(data_file: Path, tmp_path: Path, monkeypatch, capsys) -> None:
    """Chromium missing (or every export browser busy): ``error: …`` on stderr, exit 2, no traceback."""
    import kaleido
    from choreographer.errors import ChromeNotFoundError

    def no_browser(*args, **kwargs):
        raise ChromeNotFoundError("no chrome")

    monkeypatch.setattr(kaleido, "Kaleido", no_browser)
    assert main(["report", "--data", str(data_file), "--figures", "OS", "--out", str(tmp_path / "r.pdf")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and err.count("\n") == 1 and "Traceback" not in err
    assert "could not start (ChromeNotFoundError); is Chromium installed on the server?" in err
    assert not (tmp_path / "r.pdf").exists()


def test_html_report_competing_risks_equal_the_cli_json(result: AnalysisResult) -> None:
    """The report's competing-risks and pathway tables print the numbers of the CLI's
    ``competing_risks`` block (CIF % with CI, Fine–Gray SHR with CI, state shares), and the methods
    paragraph names the estimators."""
    from hcc.analysis import competing_json
    from hcc.formatting import format_hr

    report = build_report(result, (Endpoint.OS,))
    page = report_html(report)
    block = competing_json(result.competing, result.pathway)
    assert {"cif_second_line", "cif_first_line_failure", "pathway"} <= {f.key for f in report.figures}
    checked = 0
    for key in ("second_line", "first_line_failure"):
        for regimen, g in block[key]["groups"].items():
            point = g["cif"]["12"]["event"]
            if point["est"] is None or point["ci"][0] is None:
                continue
            cell = f"{100 * point['est']:.0f}% ({100 * point['ci'][0]:.0f}–{100 * point['ci'][1]:.0f})"
            assert f"<td>{regimen}</td>\n      <td>12</td>\n      <td>{g['cif']['12']['n_risk']}</td>\n      " \
                   f"<td>{cell}</td>" in page
            checked += 1
        for regimen, h in block[key]["fine_gray"].items():
            if h["shr"] is not None:
                assert f"<td>{format_hr(h['shr'], *h['ci'])}</td>" in page
    assert checked
    for regimen, g in block["states"]["groups"].items():
        at12 = g["at"]["12"]
        if "dead" in at12:
            assert f"<td>{100 * at12['on_first_line']:.1f}</td>" in page
    assert "Aalen–Johansen" in report.methods and "Gray's test" in report.methods and "Fine–Gray" in report.methods


DEMO_CSV = Path(__file__).resolve().parent.parent / "data" / "demo_registry.csv"


@pytest.fixture(scope="module")
def demo_report():
    """The demo's report with its adjusted analyses (the Report & slides page's and ``hcc report``'s)."""
    result = analyze(load_path(DEMO_CSV), PRESETS[MAIN])
    return build_report(result, (Endpoint.OS, Endpoint.PFS), adjusted=adjusted_parts(result.cohort))


def test_report_with_adjusted_analyses_equals_the_cli_json_with_cox_and_iptw(demo_report, capsys) -> None:
    """Table 1, the adjusted analyses and second line are in the report, and the embedded results are
    exactly what ``analyze --cox "age+child_pugh_class+bclc" --iptw`` prints for the same data."""
    assert main(["analyze", "--data", str(DEMO_CSV), "--preset", "main", "--cox", "age+child_pugh_class+bclc",
                 "--iptw"]) == 0
    cli = json.loads(capsys.readouterr().out)
    page = report_html(demo_report)
    embedded = json.loads(re.search(f'id="{RESULTS_ID}">(.*?)</script>', page, re.S).group(1))
    assert embedded == json.loads(json.dumps(cli))
    assert {"multivariable", "iptw"} <= set(embedded)
    keys = {f.key for f in demo_report.figures}
    assert {"attrition", "km_OS", "km_PFS", "response", "sequences", "forest", "iptw_km", "love"} <= keys
    tables = {t.key for t in demo_report.tables}
    assert {"table1", "cox", "cox_ph", "iptw_hr", "balance", "uptake"} <= tables
    assert 'id="table-table1"' in page and 'id="fig-forest"' in page and 'id="fig-iptw_km"' in page


def test_deck_has_table1_and_adjusted_slides_with_table_text_of_18_pt(demo_report) -> None:
    """Without figures (no browser needed): the deck's table slides hold Table 1 (over several slides,
    every row somewhere) and the adjusted analyses, every cell in >= 18-pt text; the title slide shows
    only the short fingerprint, the full SHA-256 is in its notes and on the appendix slide."""
    from pptx import Presentation
    from pptx.util import Pt

    prs = Presentation(io.BytesIO(report_pptx(demo_report, figure_keys=())))
    titles = [next((sh.text_frame.text for sh in slide.shapes if sh.has_text_frame), "") for slide in prs.slides]
    table1 = [t for t in titles if t.startswith("Baseline characteristics (Table 1)")]
    assert len(table1) >= 2
    for name in ("Multivariable Cox model", "Proportional-hazards check", "Propensity-weighted hazard ratios",
                 "Second-line uptake", "Response rates"):
        assert any(t.startswith(name) for t in titles), (name, titles)
    tables = [sh.table for slide in prs.slides for sh in slide.shapes if sh.has_table]
    assert tables
    sizes = {para.font.size for table in tables for row in table.rows for cell in row.cells
             for para in cell.text_frame.paragraphs}
    assert sizes == {Pt(DECK_TABLE_PT)} and DECK_TABLE_PT >= 18
    t1 = next(t for t in demo_report.tables if t.key == "table1")
    shown_rows = sum(len(table.rows) - 1 for slide, title in zip(prs.slides, titles)
                     if title.startswith("Baseline characteristics") for table in
                     [sh.table for sh in slide.shapes if sh.has_table])
    assert shown_rows == len(t1.table)
    sha = demo_report.fingerprint["sha256"]
    title_text = " ".join(sh.text_frame.text for sh in prs.slides[0].shapes if sh.has_text_frame)
    assert sha not in title_text and sha[:12] + "…" in title_text
    assert sha in prs.slides[0].notes_slide.notes_text_frame.text
    assert titles[-1] == "Appendix: data and settings"
    assert any(sha in sh.text_frame.text for sh in prs.slides[-1].shapes if sh.has_text_frame)


def test_adjusted_analyses_that_cannot_be_fitted_are_said_not_estimable() -> None:
    """One regimen only: no regimen contrast to fit; the report says "not estimable — <reason>" in a
    deck table instead of leaving the analyses out."""
    from hcc.cohort.rules import apply_to_registry
    from tests.conftest import make_registry

    rows = [{Col.REGIMEN_1L: "SOR", Col.AGE: str(50 + i), Col.START_1L: "2020-01-01",
             Col.DATE_DEATH: f"2020-{1 + i % 11:02d}-15", Col.DATE_LAST_FOLLOWUP: f"2020-{1 + i % 11:02d}-15"}
            for i in range(12)]
    registry = make_registry(rows)
    parts = adjusted_parts(apply_to_registry(registry, PRESETS[FULL]))
    assert parts.model is None and parts.iptw is None and len(parts.not_estimable) == 2
    result = analyze(registry, PRESETS[FULL])
    report = build_report(result, (), adjusted=parts)
    table = next(t for t in report.tables if t.key == "adjusted_not_estimable")
    assert table.in_deck and all(r.startswith("not estimable — ") for r in table.table["Result"])
    assert "multivariable" not in report.results and "iptw" not in report.results


def test_deck_compares_against_the_reference_with_reasons_in_place_of_numbers() -> None:
    """A degenerate registry (LEN: 12 patients, no deaths): the deck's "OS: against SOR" slide gives
    LEN's hazard ratio as "not estimable — no deaths in LEN" (not a number, not left out), its RMST
    difference beside it, in the deck's table text size; RAM (n = 1) is listed too."""
    from pptx import Presentation
    from pptx.util import Pt

    from tests.conftest import make_registry

    rows = [{Col.REGIMEN_1L: "SOR", Col.DATE_DEATH: f"2020-{m + 1:02d}-15", Col.DATE_LAST_FOLLOWUP: f"2020-{m + 1:02d}-15"}
            for m in range(1, 12)] + [{Col.REGIMEN_1L: "SOR", Col.DATE_DEATH: "2020-12-20",
                                       Col.DATE_LAST_FOLLOWUP: "2020-12-20"}]
    rows += [{Col.REGIMEN_1L: "LEN"} for _ in range(12)]
    rows += [{Col.REGIMEN_1L: "RAM", Col.DATE_DEATH: "2020-03-01", Col.DATE_LAST_FOLLOWUP: "2020-03-01"}]
    report = build_report(analyze(make_registry(rows, "tiny.csv"), PRESETS[FULL]), (Endpoint.OS,), table1=False)
    prs = Presentation(io.BytesIO(report_pptx(report, figure_keys=())))
    slides = [s for s in prs.slides
              if any(sh.has_text_frame and sh.text_frame.text == "OS: against SOR" for sh in s.shapes)]
    assert len(slides) == 1
    (table,) = [sh.table for sh in slides[0].shapes if sh.has_table]
    cells = [[c.text for c in row.cells] for row in table.rows]
    assert cells[0][:3] == ["Regimen", "Hazard ratio (95% CI)", "p (Wald)"]
    assert cells[0][3].startswith("RMST difference to")
    by_regimen = {row[0]: row for row in cells[1:]}
    assert set(by_regimen) == {"LEN vs SOR", "RAM vs SOR"}
    assert by_regimen["LEN vs SOR"][1] == "not estimable — no deaths in LEN"
    assert by_regimen["LEN vs SOR"][2] == ""  # no p-value beside a hazard ratio that is not given
    assert re.fullmatch(r"[+-]\d+\.\d \([+-]\d+\.\d to [+-]\d+\.\d\)", by_regimen["LEN vs SOR"][3])
    assert {p.font.size for row in table.rows for c in row.cells for p in c.text_frame.paragraphs} == {Pt(DECK_TABLE_PT)}


def test_a_japanese_figure_pdf_embeds_its_cjk_glyphs(result: AnalysisResult, tmp_path: Path) -> None:
    """A KM figure built in Japanese asks for Noto Sans CJK JP (fonts-noto-cjk, in set-up and CI) and its
    PDF carries the glyphs: every font embedded (Chromium writes them as unnamed Type 3 fonts, so pdffonts
    cannot name Noto; the text layer proves the glyphs are the CJK ones) and the Japanese readable back."""
    import unicodedata

    from hcc.i18n import use_language
    from hcc.outputs.figures import CJK_FONT, km_figure, regimen_colors

    with use_language("ja"):
        fig = km_figure(result.endpoints[Endpoint.OS], regimen_colors(result.cohort.regimens), "主解析コホート")
    assert fig.layout.font.family == CJK_FONT
    path = tmp_path / "km_ja.pdf"
    path.write_bytes(figure_bytes(fig, "pdf", "column"))
    fonts = subprocess.run(["pdffonts", str(path)], capture_output=True, text=True, check=True, timeout=60).stdout
    rows = fonts.splitlines()[2:]
    assert rows and all(row.split()[-5] == "yes" for row in rows)  # the "emb" column
    text = subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True, check=True, timeout=60).stdout
    text = unicodedata.normalize("NFKC", text)  # Noto CJK maps some kanji to their Kangxi radical code points
    assert "全生存期間" in text and "at-risk数" in text and "主解析コホート" in text
