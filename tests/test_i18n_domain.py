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
        assert (value_label(Col.MVI, True), value_label(Col.MVI, "no")) == ("あり", "なし")
    assert (value_label(Col.MVI, True), value_label(Col.MVI, "no")) == ("True", "no")


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
        assert [s.detail for s in edited.attrition][-1] == "Child-Pugh分類がA以外"  # flow diagram's box text
    assert any("Child-Pugh分類" in t for t in texts)
    _no_english(texts)
    # the step kinds, not their words, make the name: a cohort computed in English is named in Japanese
    assert [s.not_applied for s in cohort.attrition].count(True) == 2
    english = apply_spec(reg.frame, PRESETS["main"])
    with use_language("ja"):
        assert english.name.full == name.full
    assert english.name.full == "Main cohort (study) — 2 of 3 rules not applied: no locoregional-therapy columns"


def test_spec_errors_and_method_labels_in_japanese() -> None:
    import pytest
    from hcc.errors import SpecError
    from hcc.formatting import method_label
    assert method_label("ph test") == "ph test"
    with use_language("ja"):
        with pytest.raises(SpecError) as bad:
            CohortSpec.from_dict({"child_pugh": ["Z"], "regimens": ["SOR"]})
        texts = [str(bad.value), method_label("ph test"), method_label("hazard ratio")]
    assert texts[0] == "Child-Pugh分類 Z は指定できない。A, B, C のいずれかを用いること"
    _no_english(texts)


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


def _os_data():
    import numpy as np
    import pandas as pd
    from hcc.cohort.endpoints import EndpointData
    return EndpointData(Endpoint.OS, np.arange(6), np.array(["A"] * 3 + ["B"] * 3, dtype=object),
                        np.array([100.0, 200, 300, 150, 250, 350]), np.array([True, True, False, False, False, False]),
                        {}, pd.DataFrame({"row": [], Col.PATIENT_ID: [], "reason": []}))


def test_not_estimable_reasons_and_methods_in_japanese() -> None:
    from hcc.stats.survival import AnalysisSpec, summarize
    data = _os_data()
    english = summarize(data, ("A", "B"), AnalysisSpec(reference="A"))
    assert english.cox[0].reason == "not estimable — no deaths in B"
    with use_language("ja"):
        summary = summarize(data, ("A", "B"), AnalysisSpec(reference="A", milestones_months=(6.0, 60.0)))
        texts = [summary.cox[0].reason, *summary.methods.values(), *(r.reason for g in summary.groups for r in g.rates),
                 *(g.rmst.reason for g in summary.groups)]
    assert summary.cox[0].reason == "推定不能 — Bに死亡なし"
    _no_english([t for t in texts if t])
    assert set(summary.methods) == set(english.methods)  # the JSON keys stay English


def test_other_methods_and_labels_in_japanese() -> None:
    from hcc.analysis import analyze_competing, analyze_pathway
    from hcc.ingest.registry import load_demo
    from hcc.stats.baseline import baseline_table
    from hcc.stats.response import response_rates
    cohort = apply_spec(load_demo().frame, PRESETS["main"])
    with use_language("ja"):
        competing = analyze_competing(cohort)
        pathway = analyze_pathway(cohort)
        texts = [v for s in competing.values() for v in (*s.methods.values(), s.definition.title,
                                                         s.definition.event_words, *s.not_eligible)]
        texts += [*pathway.methods.values(), *pathway.states, *response_rates(cohort.frame, cohort.regimens).methods.values()]
        table = baseline_table(cohort.frame, cohort.regimens)
        texts += [*table["Characteristic"], *table["Level"], *table["Test"]]
    assert "累積発生率" in " ".join(texts)
    _no_english(texts)
