"""Reading and checking files in Japanese (issue 21): the messages name the same file, row, column and
value as in English, hold no English word, and are translated once per message, not once per row."""

from __future__ import annotations

import pytest

from hcc.errors import DataFileError, SchemaError
from hcc.i18n import tr, use_language
from hcc.ingest import validate
from hcc.ingest.io import read_table
from hcc.ingest.registry import load_bytes
from hcc.ingest.validate import Rule, Severity
from hcc.schema import REQUIRED, Col
from tests.conftest import make_registry, registry_csv
from tests.i18n_check import english_words


def _japanese(text: str) -> str:
    assert english_words([text]) == [], text
    assert any("\u3040" <= ch <= "\u30ff" for ch in text), text  # kana: it is Japanese, not a fallback
    return text


def test_a_bad_date_names_file_row_column_and_value_in_japanese() -> None:
    english = make_registry([{Col.START_1L: "2020-02-30"}]).issues[0].text()
    assert english == ("test.csv, row 2, column 'start_1l': date cannot be read; row excluded (value '2020-02-30'). "
                       "Fix: write dates as YYYY-MM-DD (e.g. 2021-03-15)")
    with use_language("ja"):
        registry = make_registry([{Col.START_1L: "2020-02-30"}])
        text = _japanese(registry.issues[0].text())
        assert registry.excluded["reason"].tolist() == ["start_1lが読み取り不能"]
        assert registry.label == "アップロードしたファイル：test.csv" and registry.language == "ja"
    assert text.startswith("test.csv、2行目、列「start_1l」（値「2020-02-30」）：日付を読み取れない。この行を除外する。")
    assert "YYYY-MM-DD" in text


def test_an_unknown_category_and_a_duplicate_patient_code_in_japanese() -> None:
    rows = [{Col.PATIENT_ID: "P1", Col.BEST_RESPONSE_1L: "XX"}, {Col.PATIENT_ID: "P1"}]
    with use_language("ja"):
        issues = make_registry(rows).issues
        labels = {i.rule: tr(i.rule.value) for i in issues}
        texts = {i.rule: _japanese(i.text()) for i in issues}
    assert labels == {Rule.UNKNOWN_CATEGORY: "不明なカテゴリ値", Rule.DUPLICATE_ID: "patient_idの重複"}
    assert "2行目、列「best_response_1l」" in texts[Rule.UNKNOWN_CATEGORY] and "CR, PR, SD, PD" in texts[Rule.UNKNOWN_CATEGORY]
    assert "列「patient_id」（値「P1」）" in texts[Rule.DUPLICATE_ID] and "2, 3行目" in texts[Rule.DUPLICATE_ID]


def test_a_missing_required_column_in_japanese() -> None:
    data = registry_csv([{}], columns=[c for c in REQUIRED if c != Col.START_1L])
    with use_language("ja"), pytest.raises(SchemaError) as caught:
        load_bytes(data, "registry.csv")
    message = _japanese(str(caught.value))
    assert message.startswith("registry.csv：必須列start_1lが見つからない。")


def test_an_encoding_problem_in_japanese() -> None:
    lines = registry_csv([{Col.CENTER: "東京"}, {Col.CENTER: "大阪"}]).decode("utf-8").splitlines(keepends=True)
    data = "".join(lines[:2]).encode("utf-8") + lines[2].encode("cp932")  # row 3 pasted from a Shift-JIS file
    with use_language("ja"):
        issue = next(i for i in load_bytes(data, "bad.csv").issues if i.rule is Rule.TEXT_ENCODING)
        text = _japanese(issue.text())
        with pytest.raises(DataFileError) as caught:
            read_table(b"", "empty.csv")
    assert text.startswith("bad.csv：ファイル内で文字コードが混在している。") and "3行目" in text
    assert issue.severity is Severity.WARNING
    _japanese(str(caught.value))


def test_messages_are_translated_once_per_message_not_once_per_row(monkeypatch: pytest.MonkeyPatch) -> None:
    """A column with many bad cells costs the catalog the same few look-ups as one with two (issue 17)."""
    calls = []

    def counting(real):
        return lambda *args, **kwargs: calls.append(args) or real(*args, **kwargs)

    monkeypatch.setattr(validate, "tr", counting(validate.tr))
    monkeypatch.setattr(validate, "trc", counting(validate.trc))
    counts = []
    for n in (2, 60):
        calls.clear()
        with use_language("ja"):
            registry = make_registry([{Col.START_1L: "bad", Col.AGE: "old"}] * n)
        assert len(registry.issues) == 2 * n
        counts.append(len(calls))
    assert counts[0] == counts[1]
