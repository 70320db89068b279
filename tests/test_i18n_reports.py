"""The report, the deck, the methods paragraph, reopening a report and the CLI in Japanese: every word
from the catalog (no English word left, by the detector of the Japanese pages), the Japanese fonts
named (CSS for the HTML/PDF, an East Asian typeface on every run of the deck), every number of the
English methods paragraph kept, ``--lang ja`` for ``report`` and ``analyze``. English is unchanged:
the existing tests of these modules (test_export, test_reproduce, test_cli*) pass as they were."""

from __future__ import annotations

import html
import io
import json
import re
import zipfile
from collections import Counter
from pathlib import Path

import pytest

from hcc.analysis import analyze
from hcc.cli.main import main
from hcc.cohort.rules import FULL, MAIN, PRESETS, apply_to_registry
from hcc.errors import SpecError
from hcc.i18n import use_language
from hcc.ingest.registry import load_path
from hcc.outputs.reports import DECK_EA_TYPEFACE, adjusted_parts, build_report, report_html, report_pptx
from hcc.outputs.methods_text import methods_paragraph
from hcc.outputs.reproduce import check_data, read_record
from hcc.schema import Col, Endpoint
from tests.conftest import registry_csv
from tests.i18n_check import english_words

DEMO_CSV = Path(__file__).resolve().parent.parent / "data" / "demo_registry.csv"
#: Names a Japanese methods section keeps as written: the packages of the software table and the R
#: functions the methods cite (R ``quantile.survfit``, ``binom.test``, ``cmprsk::crr``), the tests'
#: eponyms not in the detector's list.
CODE_NAMES = ("numpy scipy statsmodels tableone openpyxl streamlit python pptx quantile survfit binom crr coxph "
              "Kruskal Wallis Harrell Clopper").split()
_JAPANESE = re.compile(r"[\u3040-\u30ff\u4e00-\u9fff]")


@pytest.fixture(scope="module")
def demo_result():
    with use_language("ja"):
        return analyze(load_path(DEMO_CSV), PRESETS[MAIN])


@pytest.fixture(scope="module")
def demo_ja(demo_result):
    """The demo's report with its adjusted analyses, built in Japanese (the Report page's and
    ``hcc report --lang ja``'s)."""
    with use_language("ja"):
        return build_report(demo_result, (Endpoint.OS, Endpoint.PFS), adjusted=adjusted_parts(demo_result.cohort))


def _html_texts(page: str) -> list[str]:
    """What a reader of the page reads: its text, without scripts, styles and the JSON of the
    reproduction record (code, shown in <pre>)."""
    body = re.sub(r"<(script|style|pre)\b[^>]*>.*?</\1>", " ", page, flags=re.S)
    return [html.unescape(t).strip() for t in re.split(r"<[^>]+>", body) if t.strip()]


def test_the_report_in_japanese_has_no_english_word_and_names_a_japanese_font(demo_ja) -> None:
    page = report_html(demo_ja, static_svgs={})
    assert page.startswith("<!DOCTYPE html><html lang='ja'>")
    assert '"Noto Sans CJK JP"' in page and "Yu Gothic" in page
    texts = _html_texts(page)
    assert {"統計解析", "図", "表", "再現性", "患者背景（表1）", "多変量Coxモデル"} <= set(texts)
    assert any(t.startswith("作成日時：") and "年" in t and "月" in t and "日" in t for t in texts)
    assert english_words(texts, allowed=CODE_NAMES) == []


def test_the_deck_in_japanese_has_no_english_word_and_a_japanese_typeface_on_every_run(demo_ja) -> None:
    """Read from the saved file's XML, as PowerPoint reads it: every run is ja-JP with the East
    Asian typeface; the slides' and the notes' text (the notes' JSON record aside) is Japanese."""
    deck = report_pptx(demo_ja, figure_keys=())
    texts, runs = [], 0
    with zipfile.ZipFile(io.BytesIO(deck)) as z:
        for name in z.namelist():
            if not re.fullmatch(r"ppt/(slides/slide|notesSlides/notesSlide)\d+\.xml", name):
                continue
            xml = z.read(name).decode("utf-8")
            for run in re.findall(r"<a:r>.*?</a:r>", xml, flags=re.S):
                runs += 1
                assert re.search(r'<a:rPr[^>]*\blang="ja-JP"', run), (name, run[:200])
                assert f'<a:ea typeface="{DECK_EA_TYPEFACE}"/>' in run, (name, run[:200])
                text = html.unescape("".join(re.findall(r"<a:t>(.*?)</a:t>", run, flags=re.S)))
                texts.append(text.split("\n\n{")[0] if not text.startswith("{") else "")
    assert runs > 50
    assert "付録：データと設定" in texts and any(t.startswith("患者背景（表1）（1/") for t in texts)
    assert english_words(texts, allowed=CODE_NAMES) == []


def test_the_methods_paragraph_in_japanese_keeps_every_number_and_method(demo_result, demo_ja) -> None:
    """である調, as a Japanese journal's statistical-analysis section, with every number of the
    English paragraph of the same results (confidence level, milestones, τ, versions, days per month)."""
    r = demo_result
    with use_language("en"):
        english = methods_paragraph([r.endpoints[Endpoint.OS], r.endpoints[Endpoint.PFS]], r.response,
                                    competing=r.competing, pathway=r.pathway, cohort=r.cohort.name.full)
    japanese = demo_ja.methods
    assert "ハザード比とWald法による95%信頼区間は、SORを対照とした単変量Cox比例ハザードモデル（同順位はEfron法）で算出した。" \
        in japanese
    assert "Kaplan–Meier法で推定し" in japanese and japanese.endswith("Rのsurvivalパッケージと照合した。")
    number = re.compile(r"\d+(?:\.\d+)*")
    assert not Counter(number.findall(english)) - Counter(number.findall(japanese))


def test_reopening_a_report_speaks_japanese(demo_ja) -> None:
    with use_language("ja"):
        with pytest.raises(SpecError, match="レポート（.html）、スライド（.pptx）またはコホート定義（.json）を選ぶこと"):
            read_record(b"{}", "notes.txt")
        page = report_html(demo_ja, static_svgs={}).encode("utf-8")
        check = check_data(read_record(page, "report.html"), load_path(DEMO_CSV))
    assert check.same and check.message.startswith("レポートと同じデータ：demo_registry.csv（")


def test_cli_report_and_analyze_in_japanese(tmp_path: Path, capsys) -> None:
    """``--lang ja``: the report is Japanese; the JSON keeps its keys and says its labels in Japanese;
    an error line is Japanese too; the help stays English."""
    data = tmp_path / "reg.csv"
    data.write_bytes(registry_csv([
        {Col.REGIMEN_1L: regimen, Col.DATE_DEATH: f"2020-{1 + i % 11:02d}-15" if i % 3 else "",
         Col.DATE_LAST_FOLLOWUP: f"2020-{1 + i % 11:02d}-15"} for i, regimen in enumerate(["SOR", "LEN"] * 8)]))
    out = tmp_path / "report.html"
    assert main(["report", "--data", str(data), "--figures", "OS", "--lang", "ja", "--out", str(out)]) == 0
    assert out.read_text(encoding="utf-8").startswith("<!DOCTYPE html><html lang='ja'>")
    capsys.readouterr()
    assert main(["analyze", "--data", str(data), "--stats", "km", "--lang", "ja"]) == 0
    japanese = json.loads(capsys.readouterr().out)
    assert main(["analyze", "--data", str(data), "--stats", "km"]) == 0
    english = json.loads(capsys.readouterr().out)

    def keys(x: object) -> object:
        return {k: keys(v) for k, v in x.items()} if isinstance(x, dict) else [keys(v) for v in x] \
            if isinstance(x, list) else None

    assert keys(japanese) == keys(english)
    with use_language("ja"):
        assert japanese["cohort"]["label"] == apply_to_registry(load_path(data), PRESETS[FULL]).name.full
    assert main(["analyze", "--data", str(data), "--reference", "XYZ", "--lang", "ja"]) == 2
    assert "--reference XYZ：該当するレジメンがない" in capsys.readouterr().err
    assert main(["report", "--help"]) == 0
    help_text = capsys.readouterr().out
    assert "--lang {en,ja}" in help_text and _JAPANESE.search(help_text) is None


def test_an_english_report_names_no_japanese_font() -> None:
    """The Japanese CSS and typefaces are added in Japanese only: the English HTML is as it was."""
    from tests.conftest import make_registry

    rows = [{Col.REGIMEN_1L: r, Col.DATE_DEATH: f"2020-{1 + i % 11:02d}-15", Col.DATE_LAST_FOLLOWUP: "2020-12-31"}
            for i, r in enumerate(["SOR", "LEN"] * 5)]
    report = build_report(analyze(make_registry(rows), PRESETS[FULL]), (), table1=False)
    page = report_html(report, static_svgs={})
    assert report.language == "en" and page.startswith("<!DOCTYPE html><html lang='en'>")
    assert "Noto Sans CJK" not in page and _JAPANESE.search(page) is None
    deck = report_pptx(report, figure_keys=())
    with zipfile.ZipFile(io.BytesIO(deck)) as z:
        assert not any(b"<a:ea typeface=\"Yu Gothic\"" in z.read(n) or b'lang="ja-JP"' in z.read(n)
                       for n in z.namelist())


@pytest.mark.slow
def test_the_japanese_pdf_embeds_noto_sans_cjk_and_its_text_reads_back(demo_ja, tmp_path: Path) -> None:
    """Chromium prints the Japanese page with Noto Sans CJK JP (OpenType/CFF, so embedded as Type 3
    glyphs whose descriptors name the font; `pdffonts` lists them as ``[none] Type 3``) and
    poppler's ``pdftotext`` reads the Japanese back. Figures left out (the printable page without
    SVGs): they are kaleido's, tested in test_export."""
    import shutil
    import subprocess

    from hcc.outputs.reports import html_to_pdf

    assert shutil.which("pdftotext"), "poppler-utils (pdftotext) is needed"
    pdf = html_to_pdf(report_html(demo_ja, static_svgs={}))
    assert re.search(rb"/FontName\s*/[A-Z]{6}\+NotoSansCJKjp-Regular", pdf)
    path = tmp_path / "report.pdf"
    path.write_bytes(pdf)
    text = subprocess.run(["pdftotext", str(path), "-"], check=True, capture_output=True, timeout=60).stdout
    text = text.decode("utf-8")
    assert "統計解析" in text and "ログランク検定" in text
