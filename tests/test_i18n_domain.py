"""The domain's texts in Japanese (cohort names, attrition, endpoint definitions, "not estimable"
reasons, number formats, methods): produced in the caller's language at computation, with no English
word left, while English stays the source text."""

from __future__ import annotations

from dataclasses import replace

from hcc.cohort.endpoints import DEFINITIONS, derive, unavailable_message
from hcc.cohort.rules import PRESETS, CohortSpec, apply_spec, cohort_name, dropped_note
from hcc.formatting import format_hr, format_months, format_p
from hcc.i18n import use_language
from hcc.ingest.registry import load_bytes
from hcc.schema import Col, Endpoint, value_label
from tests.conftest import make_registry, registry_csv
from tests.i18n_check import english_words
from tests.test_cohort import ROWS, _without


def _no_english(texts) -> None:
    texts = [texts] if isinstance(texts, str) else list(texts)
    assert english_words(texts) == [], texts


def test_contract_values_are_shown_in_the_readers_language() -> None:
    assert [value_label(Col.SEX, v) for v in ("M", "F")] == ["M", "F"]
    with use_language("ja"):
        assert [value_label(Col.SEX, v) for v in ("M", "F", "X")] == ["男性", "女性", "X"]  # registry-own value kept
        assert value_label(Col.ETIOLOGY, "alcohol") == "アルコール" and value_label(Col.ETIOLOGY, "HBV") == "HBV"
        assert value_label(Col.REGIMEN_1L, "Other") == "その他" and value_label(Col.REGIMEN_1L, "SOR") == "SOR"


def test_number_formats_speak_japanese() -> None:
    nan = float("nan")
    assert (format_months(None), format_hr(nan, 1, 2), format_p(None)) == ("NR", "not estimable", "p not computed")
    with use_language("ja"):
        texts = [format_months(None), format_hr(nan, 1, 2), format_p(None)]
        assert texts[:2] == ["未到達", "推定不能"]
        _no_english(texts)
        assert format_months(12.34) == "12.3" and format_hr(0.5, 0.4, 0.7) == "0.50 (0.40–0.70)"


def test_cohort_name_and_attrition_in_japanese() -> None:
    reg = load_bytes(registry_csv(ROWS, columns=_without((Col.CONCOMITANT_LRT, Col.INTERLINE_LRT))), "x.csv")
    with use_language("ja"):
        cohort = apply_spec(reg.frame, PRESETS["main"])
        name = cohort.name
        assert name.full == "主解析コホート（論文） — 3条件中2条件を適用せず：局所療法の列なし"
        texts = [name.full, name.short, name.warning] + [s.rule for s in cohort.attrition]
        spec = CohortSpec(regimens=("SOR", "LEN"), centers=("C1",), child_pugh=("A",), etiologies=("alcohol",),
                          with_mvi=False, with_ehs=True, age_min=65.0, other_below=3, start_from="2020-01-01",
                          second_line_classes=(("REG", "TKI"),))
        texts += [cohort_name(spec).full, dropped_note("regimen", ["X", "Y"], 5), dropped_note("treating center", ["Z"])]
        edited = apply_spec(make_registry([{**r, Col.CHILD_PUGH_CLASS: "A"} for r in ROWS]).frame,
                            replace(PRESETS["main"], child_pugh=("A",), other_below=2))
        texts += [edited.name.full] + [s.rule for s in edited.attrition]
    assert any("Child-Pugh分類" in t for t in texts)
    _no_english(texts)
    # the step kinds, not their words, make the name: English computed, named in Japanese and back
    assert [s.not_applied for s in cohort.attrition].count(True) == 2


def test_endpoint_definitions_and_reasons_in_japanese() -> None:
    frame = make_registry(ROWS).frame
    with use_language("ja"):
        texts = [d.describe() for d in DEFINITIONS.values()]
        data = derive(frame, Endpoint.PPS)
        texts += list(data.not_eligible) + [unavailable_message(Endpoint.PFS, Col.DATE_PROGRESSION_1L)]
    assert texts[0] == "一次治療開始から全死因死亡までの期間（対象：全患者）。イベントのない患者は最終追跡日で打ち切りとする。"
    _no_english(texts)
    assert DEFINITIONS[Endpoint.OS].describe() == ("From first-line start to death from any cause, in all patients; "
                                                   "patients without the event are censored at last follow-up.")
