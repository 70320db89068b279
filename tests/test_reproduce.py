"""Reopening a view from a report, a deck or a spec (:mod:`hcc.outputs.reproduce`): every malformed file ends
in one specific SpecError, and a crafted file cannot take the server's memory or time."""

from __future__ import annotations

import io
import json
import resource
import time
import tracemalloc
import zipfile

import pytest

from hcc.analysis import analyze
from hcc.cohort.rules import CohortSpec
from hcc.outputs.reports import (PPTX_RECORD_PART, REPRODUCE_FORMAT, REPRODUCE_ID, build_report, report_html,
                          report_pptx)
from hcc.errors import SpecError
from hcc.outputs.reproduce import MAX_RECORD_BYTES, MAX_RECORD_DEPTH, read_record
from hcc.schema import Col, Endpoint
from tests.conftest import make_registry

NASTY = "</script><!--<script>"


@pytest.fixture(scope="module")
def report():
    """A report of a tiny registry whose file name and a regimen name hold ``</script><!--<script>``."""
    rows = [{Col.REGIMEN_1L: ("SOR" + NASTY) if k % 2 else "LEN", Col.DATE_DEATH: f"2020-{1 + k:02d}-15",
             Col.DATE_LAST_FOLLOWUP: f"2020-{1 + k:02d}-15"} for k in range(10)]
    registry = make_registry(rows, name=f"reg{NASTY}.csv")
    return build_report(analyze(registry, CohortSpec(regimens=("SOR" + NASTY, "LEN"))), (Endpoint.OS,))


def _record(report) -> dict:
    return json.loads(json.dumps(report.reproduce))


def _html_with(record_text: str) -> bytes:
    return f'<html><body><script type="application/json" id="{REPRODUCE_ID}">{record_text}</script></body></html>'.encode()


def _pptx_with(members: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in members.items():
            z.writestr(name, data)
    return buf.getvalue()


def test_a_name_with_script_and_comment_tags_round_trips_through_the_html_report(report) -> None:
    """``</script><!--<script>`` in the file and regimen names: the page parses to exactly one record
    block whose JSON is the record, and reopening gives the same cohort and fingerprint."""
    from html.parser import HTMLParser

    page = report_html(report)

    class Scripts(HTMLParser):
        def __init__(self) -> None:
            super().__init__()
            self.blocks: list[tuple[dict, str]] = []
            self._open: dict | None = None

        def handle_starttag(self, tag, attrs) -> None:
            if tag == "script":
                self._open = dict(attrs)
                self.blocks.append((self._open, ""))

        def handle_data(self, data) -> None:
            if self._open is not None:
                attrs, text = self.blocks[-1]
                self.blocks[-1] = (attrs, text + data)

        def handle_endtag(self, tag) -> None:
            if tag == "script":
                self._open = None

    parser = Scripts()
    parser.feed(page)
    records = [text for attrs, text in parser.blocks if attrs.get("id") == REPRODUCE_ID]
    assert len(records) == 1 and json.loads(records[0]) == _record(report)
    assert page.count(f'id="{REPRODUCE_ID}"') == 1
    assert "<!--" not in page and page.count("<script") == page.count("</script>")
    reopened = read_record(page.encode(), "report.html")
    assert reopened.data == report.fingerprint and reopened.data["name"] == f"reg{NASTY}.csv"
    assert reopened.cohort_spec.regimens == ("SOR" + NASTY, "LEN")


def test_a_long_file_name_and_caption_fit_the_decks_properties(report) -> None:
    """python-pptx refuses document properties over 255 characters: they are cut with an ellipsis,
    the slides and the embedded record keep the full text."""
    from pptx import Presentation

    from hcc.outputs.reports import CORE_PROPERTY_CHARS, Report

    long_report = Report(**{**report.__dict__, "caption": "C" * 320, "title": "T" * 300})
    deck = report_pptx(long_report, figure_keys=())  # no figure: no browser needed
    props = Presentation(io.BytesIO(deck)).core_properties
    assert props.subject == "C" * (CORE_PROPERTY_CHARS - 1) + "…" and props.title == "T" * 254 + "…"
    assert len(props.comments) <= CORE_PROPERTY_CHARS
    texts = [s.text_frame.text for s in Presentation(io.BytesIO(deck)).slides[0].shapes if s.has_text_frame]
    assert "C" * 320 in texts and "T" * 300 in texts
    assert read_record(deck, "deck.pptx").data == report.fingerprint


@pytest.mark.parametrize("name, data, message", [
    ("cut.html", None, "this report is incomplete (it ends inside its embedded record)"),
    ("plain.html", b"<html><body><p>minutes of the tumor board</p></body></html>",
     "not a report of this app (no embedded record)"),
    ("badjson.html", _html_with('{"format": "hcc-report/1", "cohort_spec": {'),
     "the report's embedded record is not valid JSON"),
    ("list.html", _html_with("[1, 2, 3]"), "the embedded record is not a JSON object"),
    ("format.html", _html_with('{"format": "other/9"}'), "record format 'other/9' is not 'hcc-report/1'"),
    ("nospec.html", _html_with(json.dumps({"format": REPRODUCE_FORMAT})), "the record has no cohort spec"),
    ("badspec.html", _html_with(json.dumps({"format": REPRODUCE_FORMAT, "cohort_spec": {"age_min": "old"}})),
     "age_min"),
    ("unknown.html", _html_with(json.dumps({"format": REPRODUCE_FORMAT, "cohort_spec": {"colour": 1}})),
     "unknown cohort setting(s): colour"),
    ("rows.html", _html_with(json.dumps({"format": REPRODUCE_FORMAT, "cohort_spec": {},
                                         "data": {"name": "x", "rows": "many", "sha256": "ab"}})),
     "data fingerprint (file name, rows, SHA-256) is damaged"),
    ("endpoints.html", _html_with(json.dumps({"format": REPRODUCE_FORMAT, "cohort_spec": {},
                                              "figure_endpoints": ["OS", "XYZ"]})),
     "figure endpoints must be a list of"),
    ("options.html", _html_with(json.dumps({"format": REPRODUCE_FORMAT, "cohort_spec": {},
                                            "figure_options": {"show_ci": "yes"}})),
     "figure option show_ci has an unusable value"),
    ("analysis.html", _html_with(json.dumps({"format": REPRODUCE_FORMAT, "cohort_spec": {},
                                             "analysis_spec": {"milestones_months": ["six"]}})),
     "statistical settings cannot be used"),
    ("mapping.html", _html_with(json.dumps({"format": REPRODUCE_FORMAT, "cohort_spec": {}, "mapping": [1]})),
     "mapping or date is damaged"),
    ("notzip.pptx", b"this is not a zip file at all", "damaged or not a PowerPoint file"),
    ("truncated.pptx", None, "damaged or not a PowerPoint file"),
    ("norecord.pptx", _pptx_with({"ppt/presentation.xml": b"<p/>"}), "no embedded record"),
    ("badrecord.pptx", _pptx_with({PPTX_RECORD_PART.lstrip("/"): b"{not json"}),
     "the deck's embedded record is not valid JSON"),
    ("binary.pptx", _pptx_with({PPTX_RECORD_PART.lstrip("/"): b"\xff\xfe\x00"}), "is not UTF-8 text"),
    ("spec.json", b'{"regimens": ["SOR"', "spec.json is not valid JSON"),
    ("array.json", b'["SOR"]', "a cohort spec must be a JSON object"),
    ("deep.json", b"[" * 100_000 + b"]" * 100_000, "nested too deeply"),
    ("deep2.json", json.dumps({"regimens": [[[[[[[[[[[[[[[[["SOR"]]]]]]]]]]]]]]]]]}).encode(), "nested too deeply"),
    ("kinds.json", b'{"regimens": 5}', "kinds.json: 'regimens' must be a list"),
    ("report.docx", b"", "choose a report (.html), a deck (.pptx) or a cohort spec (.json)"),
])
def test_each_malformed_file_gets_its_own_message(report, name: str, data: bytes | None, message: str) -> None:
    if name == "cut.html":  # a real report cut inside its record, as an interrupted download is
        page = report_html(report).encode()
        data = page[:page.index(f'id="{REPRODUCE_ID}">'.encode()) + 60]
    if name == "truncated.pptx":  # a real deck cut in half
        deck = report_pptx(report, figure_keys=())
        data = deck[:len(deck) // 2]
    with pytest.raises(SpecError) as caught:
        read_record(data, name)
    assert message in str(caught.value)
    assert "\n" not in str(caught.value)  # one line


def test_a_deep_record_under_the_limit_still_opens() -> None:
    """The depth bound leaves room: a real record nests 4 levels; 12 levels of mapping still open."""
    nested: dict = {"leaf": "x"}
    for _ in range(MAX_RECORD_DEPTH - 4):
        nested = {"n": nested}
    record = {"format": REPRODUCE_FORMAT, "cohort_spec": {"regimens": ["SOR"]}, "mapping": nested}
    assert read_record(json.dumps(record).encode(), "record.json").cohort_spec.regimens == ("SOR",)


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: kilobytes


def test_a_zip_bomb_deck_is_refused_within_bounded_time_and_memory() -> None:
    """A ~0.5 MB .pptx whose record part expands to 300 MB (the issue's 612 kB deck took 3.2 GB):
    refused after reading at most MAX_RECORD_BYTES + 1 bytes. Peak Python allocation during the read
    stays under 5 × that, the process's peak RSS grows by under 1 GB, and it takes under 10 s."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as z:
        with z.open(PPTX_RECORD_PART.lstrip("/"), "w", force_zip64=True) as member:
            member.write(b'{"format": "hcc-report/1", "x": "')
            chunk = b" " * (1 << 20)
            for _ in range(300):
                member.write(chunk)
    bomb = buf.getvalue()
    assert len(bomb) < 1_000_000
    rss_before = _rss_mb()
    tracemalloc.start()
    started = time.monotonic()
    try:
        with pytest.raises(SpecError, match="larger than 2 MB, far more than a record of this app holds"):
            read_record(bomb, "bomb.pptx")
        elapsed = time.monotonic() - started
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert elapsed < 10
    assert peak < 5 * MAX_RECORD_BYTES, f"peak {peak / 1e6:.1f} MB"
    assert _rss_mb() - rss_before < 1024
    print(f"zip bomb ({len(bomb) / 1e3:.0f} kB -> 300 MB): refused in {elapsed:.2f} s, peak {peak / 1e6:.1f} MB")


def test_an_oversized_record_in_a_report_is_refused_before_parsing() -> None:
    huge = _html_with(json.dumps({"format": REPRODUCE_FORMAT, "cohort_spec": {}, "pad": "x" * MAX_RECORD_BYTES}))
    with pytest.raises(SpecError, match="embedded record is larger than 2 MB"):
        read_record(huge, "big.html")
    unterminated = huge.replace(b"</script>", b"")
    with pytest.raises(SpecError, match="embedded record is larger than 2 MB"):
        read_record(unterminated, "big.html")
    with pytest.raises(SpecError, match="larger than 2 MB"):
        read_record(b" " * (MAX_RECORD_BYTES + 1) + b"{}", "big.json")
