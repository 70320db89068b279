"""Cohort rules and attrition counts on hand-built registries."""

from __future__ import annotations

import pytest

from hcc.cohort.rules import (
    MAIN, MAX_GROUPS, PRESETS, CohortSpec, apply_spec, apply_to_registry, cap_threshold, dropped_note, pool_rare,
)
import pandas as pd
from hcc.errors import EmptyCohortError, SpecError
from hcc.schema import Col
from tests.conftest import make_registry, registry_csv
from hcc.ingest.registry import load_bytes

ROWS = [
    {Col.REGIMEN_1L: "SOR"},
    {Col.REGIMEN_1L: "SOR", Col.CONCOMITANT_LRT: "yes"},
    {Col.REGIMEN_1L: "LEN", Col.INTERLINE_LRT: "yes"},
    {Col.REGIMEN_1L: "LEN", Col.CONCOMITANT_LRT: "yes", Col.INTERLINE_LRT: "yes"},
    {Col.REGIMEN_1L: "ATZ_BEV", Col.TRIAL_AFTER_1L: "yes"},
    {Col.REGIMEN_1L: "ATZ_BEV", Col.TRIAL_AFTER_1L: ""},
    {Col.REGIMEN_1L: "ATZ_BEV"},
]


def test_main_preset_attrition_counts() -> None:
    cohort = apply_spec(make_registry(ROWS).frame, PRESETS[MAIN])
    log = [(s.rule, s.excluded, s.remaining) for s in cohort.attrition]
    assert log == [
        ("Patients in the registry", 0, 7),
        ("Excluded: concomitant locoregional therapy", 2, 5),
        ("Excluded: inter-line locoregional therapy", 1, 4),
        ("Excluded: clinical trial after first line", 1, 3),
        ("Excluded: clinical trial after first line not recorded", 1, 2),
    ]
    assert cohort.by_regimen() == {"SOR": 1, "ATZ_BEV": 1}
    assert cohort.attrition[1].excluded_by_regimen == {"SOR": 1, "LEN": 1, "ATZ_BEV": 0}


def test_full_preset_keeps_everyone() -> None:
    cohort = apply_spec(make_registry(ROWS).frame, PRESETS["full"])
    assert cohort.n == 7 and cohort.regimens == ("SOR", "LEN", "ATZ_BEV")


def test_regimen_selection() -> None:
    cohort = apply_spec(make_registry(ROWS).frame, CohortSpec(regimens=("LEN",)))
    assert cohort.n == 2 and cohort.attrition[1].excluded == 5


def test_flag_column_absent_is_not_applied_rather_than_excluding_all() -> None:
    cols = [Col.PATIENT_ID, Col.REGIMEN_1L, Col.START_1L, Col.DATE_LAST_FOLLOWUP]
    reg = load_bytes(registry_csv([{}, {}], columns=cols), "no_flags.csv")
    cohort = apply_spec(reg.frame, PRESETS[MAIN])
    assert cohort.n == 2
    assert all(s.excluded == 0 for s in cohort.attrition)
    assert sum(s.rule.startswith("Not applied") for s in cohort.attrition) == 3


def test_validation_exclusions_lead_the_attrition_log() -> None:
    reg = make_registry([{}, {Col.START_1L: ""}, {}])
    cohort = apply_to_registry(reg, PRESETS["full"])
    assert [(s.rule, s.remaining) for s in cohort.attrition[:3]] == [
        ("Rows in the file", 3), ("Excluded at validation: missing start_1l", 2), ("Patients in the registry", 2)]


def test_empty_cohort_raises() -> None:
    with pytest.raises(EmptyCohortError):
        apply_spec(make_registry([{Col.CONCOMITANT_LRT: "yes"}]).frame, PRESETS[MAIN])


def test_spec_json_round_trip_and_errors() -> None:
    spec = CohortSpec(regimens=("SOR", "LEN"), exclude_interline_lrt=True)
    assert CohortSpec.from_json(spec.to_json()) == spec
    with pytest.raises(SpecError, match="unknown cohort setting"):
        CohortSpec.from_json('{"exclude_everything": true}')
    with pytest.raises(SpecError, match="true or false"):
        CohortSpec.from_json('{"exclude_interline_lrt": "yes"}')
    with pytest.raises(SpecError, match="not valid JSON"):
        CohortSpec.from_json("{")
    with pytest.raises(SpecError, match="not in this registry"):
        apply_spec(make_registry(ROWS).frame, CohortSpec(regimens=("CAB",)))


BASELINE = [
    {Col.CENTER: "C01", Col.START_1L: "2012-05-01", Col.CHILD_PUGH_CLASS: "A", Col.ALBI_GRADE: "1", Col.BCLC: "C",
     Col.ECOG: "0", Col.ETIOLOGY: "HCV", Col.MVI: "yes", Col.EHS: "no", Col.AFP: "12", Col.AGE: "71"},
    {Col.CENTER: "C02", Col.START_1L: "2019-03-01", Col.CHILD_PUGH_CLASS: "B", Col.ALBI_GRADE: "2b", Col.BCLC: "B",
     Col.ECOG: "1", Col.ETIOLOGY: "alcohol", Col.MVI: "no", Col.EHS: "yes", Col.AFP: "900", Col.AGE: "58"},
    {Col.CENTER: "C01", Col.START_1L: "2021-01-10", Col.CHILD_PUGH_CLASS: "", Col.ALBI_GRADE: "2a", Col.BCLC: "C",
     Col.ECOG: "", Col.ETIOLOGY: "", Col.MVI: "", Col.EHS: "", Col.AFP: "", Col.AGE: "80"},
]


@pytest.mark.parametrize("field, value, kept, removed_rule, not_recorded", [
    ("start_from", "2015-01-01", 2, "Excluded: first-line start outside 2015-01-01 to …", 0),
    ("start_to", "2019-12-31", 2, "Excluded: first-line start outside … to 2019-12-31", 0),
    ("centers", ("C01",), 2, "Excluded: treating center not C01", 0),
    ("child_pugh", ("A",), 1, "Excluded: Child-Pugh class not A", 1),
    ("albi", ("1", "2a"), 2, "Excluded: ALBI grade not 1, 2a", 0),
    ("bclc_stages", ("C",), 2, "Excluded: BCLC stage not C", 0),
    ("ecog_ps", (0,), 1, "Excluded: ECOG not 0", 1),
    ("etiologies", ("HCV", "alcohol"), 2, "Excluded: liver disease etiology not HCV, alcohol", 1),
    ("with_mvi", True, 1, "Excluded: macrovascular invasion absent", 1),
    ("with_ehs", False, 1, "Excluded: extrahepatic spread present", 1),
    ("afp_below", 400.0, 1, "Excluded: AFP ≥ 400 ng/mL", 1),
    ("afp_at_least", 400.0, 1, "Excluded: AFP < 400 ng/mL", 1),
    ("age_min", 60.0, 2, "Excluded: age outside 60– years", 0),
    ("age_max", 75.0, 2, "Excluded: age outside 0–75 years", 0),
])
def test_each_filter_rule(field, value, kept, removed_rule, not_recorded) -> None:
    """Each rule removes the patients who fail it, then (separately) those with the value blank."""
    cohort = apply_spec(make_registry(BASELINE).frame, CohortSpec(**{field: value}))
    assert cohort.n == kept
    steps = {s.rule: s.excluded for s in cohort.attrition[1:]}
    assert removed_rule in steps
    missing = [n for rule, n in steps.items() if rule.endswith("not recorded")]
    assert sum(missing) == not_recorded
    assert steps[removed_rule] + not_recorded + kept == 3


def test_rare_regimens_pooled_as_other() -> None:
    rows = [{Col.REGIMEN_1L: "SOR"}] * 3 + [{Col.REGIMEN_1L: "CAB"}, {Col.REGIMEN_1L: "REG"}]
    cohort = apply_spec(make_registry(rows).frame, CohortSpec(other_below=2))
    assert cohort.by_regimen() == {"SOR": 3, "Other": 2}
    only_other = apply_spec(make_registry(rows).frame, CohortSpec(other_below=2, regimens=("Other",)))
    assert only_other.n == 2


def test_query_round_trip_and_defaults_omitted() -> None:
    spec = CohortSpec(regimens=("SOR", "ATZ_BEV"), exclude_interline_lrt=True, start_from="2018-01-01",
                      ecog_ps=(0, 1), with_mvi=False, afp_below=400.0, age_max=80.0, other_below=10)
    query = spec.to_query()
    assert query == {"regimens": "SOR,ATZ_BEV", "other_below": "10", "exclude_interline_lrt": "yes",
                     "start_from": "2018-01-01", "ecog_ps": "0,1", "with_mvi": "no", "afp_below": "400", "age_max": "80"}
    assert CohortSpec.from_query({**query, "unrelated": "x"}) == spec
    assert CohortSpec().to_query() == {}
    assert CohortSpec.from_json(spec.to_json()) == spec


@pytest.mark.parametrize("data, message", [
    ({"child_pugh": ["D"]}, "not allowed"),
    ({"ecog_ps": [7]}, "0 to 4"),
    ({"start_from": "15/03/2020"}, "YYYY-MM-DD"),
    ({"start_from": "2021-01-01", "start_to": "2020-01-01"}, "after"),
    ({"age_min": 80, "age_max": 60}, "above"),
    ({"afp_below": "lots"}, "must be a number"),
    ({"with_mvi": "maybe"}, "true or false"),
    ({"regimens": "SOR"}, "must be a list"),
])
def test_bad_specs_are_refused_with_the_field_named(data, message) -> None:
    with pytest.raises(SpecError, match=message):
        CohortSpec.from_dict(data)


@pytest.mark.parametrize("params, message", [
    ({"other_below": "²"}, "'other_below' must be a whole number"),  # str.isdigit() accepts it, int() does not
    ({"other_below": "١٢"}, "'other_below' must be a whole number"),  # Arabic-Indic digits: int() would accept
    ({"ecog_ps": "1,²"}, "'ecog_ps' must be a whole number"),
    ({"age_min": "٦٠"}, "'age_min' must be a number"),  # float() would read 60
    ({"afp_below": "1_000"}, "'afp_below' must be a number"),
    ({"afp_below": "inf"}, "'afp_below' must be a number"),
    ({"age_max": "1e400"}, "'age_max' must be a finite number"),
    ({"other_below": "-5"}, "'other_below' must be a whole number"),
])
def test_link_numbers_are_ascii_only_and_refused_as_spec_errors(params, message) -> None:
    """A link is read with ASCII-only number parsing; anything else is a SpecError naming the field
    (the sidebar shows it), never a ValueError (the app's generic crash message)."""
    with pytest.raises(SpecError, match=message):
        CohortSpec.from_query(params)


@pytest.mark.parametrize("params, message", [
    ({"age_min": "200"}, "'age_min' 200 is outside 0 to 120 years"),
    ({"age_min": "-1"}, "'age_min' -1 is outside 0 to 120 years"),
    ({"age_max": "121"}, "'age_max' 121 is outside"),
    ({"age_min": "70", "age_max": "60"}, "above"),
    ({"afp_below": "-3"}, "'afp_below' must be 0 ng/mL or more"),
    ({"afp_at_least": "-0.5"}, "'afp_at_least' must be 0 ng/mL or more"),
    ({"start_from": "1980-01-01"}, "before 1990-01-01"),
    ({"child_pugh": "Z"}, "Child-Pugh class Z not allowed"),
    ({"ecog_ps": "5"}, "0 to 4"),
    ({"second_line_classes": "REG"}, "must map codes to classes"),
])
def test_out_of_range_link_values_are_spec_errors_not_dropped(params, message) -> None:
    """Values the sidebar's widgets cannot show (they would silently drop them) are refused with the
    field named, so the sidebar says the link could not be read."""
    with pytest.raises(SpecError, match=message):
        CohortSpec.from_query(params)


@pytest.mark.parametrize("text, message", [
    ('{"ecog_ps": [Infinity]}', "'ecog_ps' must be a whole number"),  # was OverflowError
    ('{"ecog_ps": [1.5]}', "'ecog_ps' must be a whole number"),  # was silently 1
    ('{"regimens": [["SOR"]]}', "list of names or codes"),
    ('{"other_below": true}', "whole number"),
    ('{"age_min": NaN}', "finite number"),
    ('{"second_line_classes": {"REG": ["TKI"]}}', "as text"),
    ("[" * 100_000 + "]" * 100_000, "nested far too deeply"),  # was RecursionError
    ('{"regimens": ' + "[" * 5_000 + "]" * 5_000 + "}", "nested far too deeply"),
    ('{"other_below": ' + "9" * 5_000 + "}", "a number too long to be read"),  # was a bare ValueError
    ('{"age_min": 1' + "0" * 400 + "}", "'age_min' has a value that cannot be read"),  # OverflowError
])
def test_spec_json_of_the_wrong_shape_is_a_spec_error(text, message) -> None:
    with pytest.raises(SpecError, match=message):
        CohortSpec.from_json(text)


def test_whole_numbers_written_as_json_floats_are_accepted() -> None:
    assert CohortSpec.from_json('{"ecog_ps": [0, 1.0], "other_below": 10.0}') == CohortSpec(ecog_ps=(0, 1),
                                                                                          other_below=10)


def test_dropped_note_names_the_values_and_the_pooling() -> None:
    assert dropped_note("regimen", ["XYZ"]) == ("Regimen XYZ is not in this registry, so it was left out of the "
                                               "cohort rules.")
    many = dropped_note("regimen", [f"R{i}" for i in range(7)], other_below=10)
    assert many.startswith("Regimens R0, R1, R2, R3, R4 and 2 more are not in this registry (regimens with "
                           "fewer than 10 patients are pooled as Other), so they were left out")


def _labels(sizes: dict[str, int]) -> pd.Series:
    return pd.Series([g for g, k in sizes.items() for _ in range(k)], dtype=object)


def test_group_cap_keeps_the_largest_and_pools_the_rest() -> None:
    """15 regimens of 20, 19, …, 6 patients: the 11 largest are kept and the 4 smallest (fewer than
    10 patients) pooled, so 12 groups are compared, Other included."""
    assert MAX_GROUPS == 12
    sizes = {f"R{i:02d}": 20 - i for i in range(15)}
    assert cap_threshold(pd.Series(sizes)) == 10
    labels, pooling = pool_rare(_labels(sizes), 0)
    assert labels.nunique() == MAX_GROUPS and (labels == "Other").sum() == 9 + 8 + 7 + 6
    assert (pooling.pooled, pooling.patients, pooling.below, pooling.capped) == (4, 30, 10, True)
    assert pooling.note == ("4 regimens with fewer than 10 patients (30 in all) pooled as Other to keep the "
                            "comparison readable; the cap is 12 groups.")


def test_group_cap_pools_ties_together_and_leaves_12_alone() -> None:
    """Ties at the boundary are pooled together, never split by name; 12 groups need no pooling;
    300 regimens of 3 patients all go to Other."""
    twelve = _labels({f"R{i}": 5 for i in range(12)})
    assert cap_threshold(twelve.value_counts()) == 0
    labels, pooling = pool_rare(twelve, 0)
    assert pooling is None and labels.equals(twelve)
    tied = {"A": 50, "B": 40, **{f"T{i}": 7 for i in range(20)}}
    labels, pooling = pool_rare(_labels(tied), 0)
    assert sorted(labels.unique()) == ["A", "B", "Other"] and pooling.below == 8
    many = _labels({f"R{i:03d}": 3 for i in range(300)})
    labels, pooling = pool_rare(many, 0)
    assert set(labels) == {"Other"} and (pooling.pooled, pooling.patients, pooling.below) == (300, 900, 4)


def test_cohort_rule_above_the_cap_is_the_cohort_rule() -> None:
    """other_below already leaving few groups: pooled by the rule, not the cap; blanks are untouched."""
    labels, pooling = pool_rare(pd.Series(["A"] * 30 + ["B"] * 3 + [None]), 5)
    assert labels.tolist() == ["A"] * 30 + ["Other"] * 3 + [None]
    assert not pooling.capped and pooling.note.endswith("pooled as Other (cohort rule).")
    assert pool_rare(pd.Series(["A", "B"]), 0)[1] is None


def test_capped_cohort_says_so_in_the_attrition_log() -> None:
    """20 regimens: 5 of 2 patients, 15 of 1 (tied): the 15 single-patient regimens are pooled."""
    rows = [{Col.REGIMEN_1L: f"R{i:02d}"} for i in range(20) for _ in range(1 + (i < 5))]
    cohort = apply_spec(make_registry(rows).frame, CohortSpec())
    assert set(cohort.regimens) == {"Other", "R00", "R01", "R02", "R03", "R04"}
    assert cohort.by_regimen()["Other"] == 15 and cohort.pooling.capped and cohort.n == 25
    assert cohort.attrition[1].rule == f"Not excluded: {cohort.pooling.note}"
    assert (cohort.attrition[1].excluded, cohort.attrition[1].remaining) == (0, 25)


def test_demo_main_cohort_has_the_documented_size() -> None:
    """docs/demo-registry.md: 1,542 patients, 612 in the main cohort (the study's numbers)."""
    from hcc.ingest.registry import load_demo
    demo = load_demo()
    assert demo.n_patients == 1542
    assert apply_to_registry(demo, PRESETS[MAIN]).n == 612


# -- the cohort's name (cohort_name): true on every screen, figure, report and JSON -------------------

def _without(columns: tuple[str, ...]) -> list[str]:
    from hcc.schema import COLUMNS
    return [c.name for c in COLUMNS if c.name not in columns]


def test_preset_is_named_only_when_every_rule_was_applied() -> None:
    cohort = apply_spec(make_registry(ROWS).frame, PRESETS[MAIN])
    assert cohort.name.preset_exactly and cohort.name.full == "Main cohort (study)"
    assert cohort.name.warning == ""
    assert cohort.summary_line() == "Main cohort (study) · SOR 1 · ATZ_BEV 1"


def test_main_preset_without_the_lrt_columns_says_which_rules_were_not_applied() -> None:
    reg = load_bytes(registry_csv(ROWS, columns=_without((Col.CONCOMITANT_LRT, Col.INTERLINE_LRT))), "x.csv")
    cohort = apply_spec(reg.frame, PRESETS[MAIN])
    name = cohort.name
    assert cohort.n == 5  # only the trial rule ran
    assert name.full == "Main cohort (study) — 2 of 3 rules not applied: no locoregional-therapy columns"
    assert name.short == name.full  # the caveat is never shortened away
    assert not name.preset_exactly
    assert "concomitant locoregional therapy or inter-line locoregional therapy are therefore still in" in name.warning
    assert cohort.summary_line().startswith("Main cohort (study) — 2 of 3 rules not applied")


def test_one_missing_column_is_named() -> None:
    reg = load_bytes(registry_csv(ROWS, columns=_without((Col.TRIAL_AFTER_1L,))), "x.csv")
    name = apply_spec(reg.frame, PRESETS[MAIN]).name
    assert name.full == "Main cohort (study) — 1 of 3 rules not applied: no trial-after-first-line column"
    assert "Map the column on the Data page (or in the mapping file) to apply this rule." in name.warning


def test_edited_cohort_is_described_by_its_rules() -> None:
    from dataclasses import replace
    from hcc.cohort.rules import cohort_name
    frame = make_registry([{**row, Col.CHILD_PUGH_CLASS: "A"} for row in ROWS]).frame
    spec = replace(PRESETS[MAIN], regimens=("SOR", "ATZ_BEV"), child_pugh=("A",))
    assert apply_spec(frame, spec).name.full == "Main cohort (study) + Child-Pugh A, without LEN"
    full = CohortSpec(exclude_concomitant_lrt=True, ecog_ps=(0, 1), with_mvi=False, afp_below=400.0, age_min=65.0)
    assert cohort_name(full).full == ("Full cohort + no concomitant LRT, ECOG 0, 1, without MVI, "
                                                 "AFP < 400, age ≥ 65")


def test_long_description_is_shortened_in_subtitles_and_whole_in_the_report() -> None:
    spec = CohortSpec(child_pugh=("A",), albi=("1", "2a"), bclc_stages=("B", "C"), ecog_ps=(0, 1),
                      etiologies=("HBV", "HCV"), with_mvi=False, with_ehs=True, afp_below=400.0, age_min=65.0,
                      age_max=80.0)
    from hcc.cohort.rules import cohort_name
    name = cohort_name(spec)
    assert name.full.endswith("AFP < 400, age 65–80")
    assert name.short.startswith("Full cohort + Child-Pugh A, ALBI 1, 2a")
    assert name.short.endswith("more rules)") and len(name.short) < len(name.full)
    assert name.short.count(",") < name.full.count(",")


def test_several_missing_columns_are_listed_in_one_phrase() -> None:
    spec = CohortSpec(ecog_ps=(0, 1), afp_below=400.0)
    name = apply_spec(make_registry(ROWS).frame, spec).name
    assert name.full == "Full cohort + ECOG 0, 1, AFP < 400 — 2 of 2 rules not applied: no ECOG or AFP columns"


def test_regimen_choice_is_named_by_what_it_leaves_out() -> None:
    from dataclasses import replace
    from hcc.cohort.rules import cohort_name
    frame = make_registry(ROWS).frame
    named = {regs: apply_spec(frame, replace(PRESETS["full"], regimens=regs)).name.full
             for regs in (("SOR", "LEN", "ATZ_BEV"), ("SOR",), ("SOR", "LEN"))}
    assert named == {("SOR", "LEN", "ATZ_BEV"): "Full cohort", ("SOR",): "Full cohort + SOR only",
                     ("SOR", "LEN"): "Full cohort, without ATZ_BEV"}
    assert cohort_name(CohortSpec(regimens=("SOR", "LEN"))).full == "Full cohort + SOR, LEN only"  # before applying
