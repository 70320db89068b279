"""Cohort rules and attrition counts on hand-built registries."""

from __future__ import annotations

import pytest

from hcc.cohort import MAIN, PRESETS, CohortSpec, apply_spec, apply_to_registry
from hcc.errors import EmptyCohortError, SpecError
from hcc.schema import Col
from tests.conftest import make_registry, registry_csv
from hcc.registry import load_bytes

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
