"""Validation: every bad cell is reported with file, row, column, value and fix; nothing is dropped silently."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from hcc.errors import DataFileError, SchemaError
from hcc.ingest.io import read_table
from hcc.ingest.registry import load_bytes
from hcc.schema import REQUIRED, Col
from hcc.ingest.validate import Rule, Severity
from tests.conftest import make_registry, registry_csv


def test_clean_rows_are_typed() -> None:
    reg = make_registry([{Col.AGE: "71", Col.BEST_RESPONSE_1L: "pr", Col.CONCOMITANT_LRT: "Yes",
                          Col.REGIMEN_1L: "atz_bev", Col.ALBI_GRADE: "2A"}])
    row = reg.frame.iloc[0]
    assert reg.issues == () and reg.n_patients == 1
    assert row[Col.AGE] == 71.0 and row[Col.BEST_RESPONSE_1L] == "PR"
    assert row[Col.CONCOMITANT_LRT] is True or bool(row[Col.CONCOMITANT_LRT]) is True
    assert row[Col.REGIMEN_1L] == "ATZ_BEV" and row[Col.ALBI_GRADE] == "2a"
    assert row[Col.START_1L] == pd.Timestamp("2020-01-01")


def test_other_regimens_are_kept_as_their_own() -> None:
    reg = make_registry([{Col.REGIMEN_1L: "DUR_TRE"}, {Col.REGIMEN_1L: "SOR"}, {Col.REGIMEN_1L: "DUR_TRE"}])
    assert reg.regimens == ("SOR", "DUR_TRE")


@pytest.mark.parametrize("column", REQUIRED)
def test_missing_required_value_excludes_row_with_reason(column: str) -> None:
    reg = make_registry([{}, {column: ""}])
    assert reg.n_patients == 1
    assert reg.excluded.to_dict("records") == [{"row": 3, "patient_id": "P002" if column != Col.PATIENT_ID else "",
                                                "reason": f"missing {column}"}]
    issue = [i for i in reg.issues if i.severity is Severity.ERROR][0]
    assert issue.row == 3 and issue.column == column and "test.csv" in issue.text()


def test_unreadable_required_date_excludes_row() -> None:
    # (15.03.2020 is read since day-first dates are detected per column; an impossible date is not)
    reg = make_registry([{Col.START_1L: "2020-02-30"}])
    assert reg.n_patients == 0 and reg.excluded["reason"].tolist() == ["unreadable start_1l"]
    assert "YYYY-MM-DD" in reg.issues[0].fix and reg.issues[0].value == "2020-02-30"


def test_bad_optional_values_are_blanked_with_warnings() -> None:
    reg = make_registry([{Col.AGE: "abc", Col.ECOG: "7", Col.CHILD_PUGH_SCORE: "5.5", Col.SEX: "X",
                          Col.MVI: "maybe", Col.DATE_DEATH: "2020-02-30"}])
    assert reg.n_patients == 1
    warned = {(i.column, i.row) for i in reg.issues if i.severity is Severity.WARNING}
    assert warned == {(Col.AGE, 2), (Col.ECOG, 2), (Col.CHILD_PUGH_SCORE, 2), (Col.SEX, 2), (Col.MVI, 2),
                      (Col.DATE_DEATH, 2)}
    row = reg.frame.iloc[0]
    assert pd.isna(row[Col.AGE]) and pd.isna(row[Col.ECOG]) and pd.isna(row[Col.DATE_DEATH])


def test_duplicate_ids_exclude_every_copy() -> None:
    data = registry_csv([{}, {}, {}]).decode().replace("P002", "P001").encode()
    reg = load_bytes(data, "dups.csv")
    assert reg.n_patients == 1
    assert reg.excluded["row"].tolist() == [2, 3]
    assert all("rows 2, 3" in i.message for i in reg.issues)


def test_missing_required_column_names_it() -> None:
    data = registry_csv([{}], columns=[Col.PATIENT_ID, Col.REGIMEN_1L, Col.START_1L])
    with pytest.raises(SchemaError, match="date_last_followup"):
        load_bytes(data, "short.csv")


def test_absent_optional_columns_are_listed() -> None:
    cols = [*REQUIRED, Col.DATE_DEATH]
    reg = load_bytes(registry_csv([{}], columns=cols), "min.csv")
    assert Col.BEST_RESPONSE_1L in reg.absent_columns and reg.n_patients == 1


@pytest.mark.parametrize("data, message", [
    (b"", "empty"), (b"   \n", "empty"), (b"PK\x03\x04\x00\x00binary", "not a text"),
    (b"patient_id,regimen_1l\n", "no patient rows"),
])
def test_unreadable_files_get_a_clear_message(data: bytes, message: str) -> None:
    with pytest.raises(DataFileError, match=message):
        read_table(data, "x.csv")


def test_semicolon_and_bom_and_shift_jis() -> None:
    text = registry_csv([{Col.CENTER: "東京"}]).decode().replace(",", ";")
    for encoded in (("\ufeff" + text).encode("utf-8"), text.encode("cp932")):
        reg = load_bytes(encoded, "jp.csv")
        assert reg.n_patients == 1 and reg.frame.iloc[0][Col.CENTER] == "東京"


def test_fingerprint_is_sha256_of_bytes() -> None:
    import hashlib
    data = registry_csv([{}])
    assert load_bytes(data, "a.csv").sha256 == hashlib.sha256(data).hexdigest()


def test_every_problem_is_a_row_with_its_rule() -> None:
    reg = make_registry([
        {Col.AGE: "12", Col.ECOG: "7", Col.CHILD_PUGH_SCORE: "4", Col.AFP: "-3"},           # out of range
        {Col.DATE_PROGRESSION_1L: "2019-06-01"},                                              # before start
        {Col.START_2L: "2019-12-01"},                                                         # 2L before 1L
        {Col.DATE_DEATH: "2020-12-30", Col.DATE_LAST_FOLLOWUP: "2021-01-01"},                 # 2 days: flagged
        {Col.DATE_DEATH: "2020-12-31", Col.DATE_LAST_FOLLOWUP: "2021-01-01"},                 # 1 day: tolerated
        {Col.SEX: "X", Col.MVI: "maybe", Col.AGE: "sixty"},
    ])
    rules = [(i.row, i.column, i.rule) for i in reg.issues]
    assert (2, Col.AGE, Rule.OUT_OF_RANGE) in rules and (2, Col.ECOG, Rule.OUT_OF_RANGE) in rules
    assert (2, Col.CHILD_PUGH_SCORE, Rule.OUT_OF_RANGE) in rules and (2, Col.AFP, Rule.OUT_OF_RANGE) in rules
    assert (3, Col.DATE_PROGRESSION_1L, Rule.DATE_ORDER) in rules and (4, Col.START_2L, Rule.DATE_ORDER) in rules
    assert (5, Col.DATE_DEATH, Rule.DATE_ORDER) in rules and not any(r[0] == 6 for r in rules)
    assert {(7, Col.SEX, Rule.UNKNOWN_CATEGORY), (7, Col.MVI, Rule.BAD_BOOLEAN), (7, Col.AGE, Rule.BAD_NUMBER)} <= set(rules)
    assert all(i.severity is Severity.WARNING for i in reg.issues)  # no required value is bad: every row stays
    assert reg.n_patients == 6 and {i.patient_id for i in reg.issues if i.row == 3} == {"P002"}


def test_a_bad_second_line_date_still_counts_for_os() -> None:
    from hcc.cohort.endpoints import derive
    from hcc.schema import Endpoint
    reg = make_registry([{Col.START_2L: "2019-12-01", Col.REGIMEN_2L: "REG"}, {}])
    assert derive(reg.frame, Endpoint.OS).n == 2
    assert derive(reg.frame, Endpoint.OS_2L).excluded_counts() == {"start_2l before start_1l": 1}


def test_decimal_comma_in_semicolon_files() -> None:
    data = "patient_id;regimen_1l;start_1l;date_last_followup;age;afp\nA;SOR;2020-01-01;2021-01-01;71,5;1.234,5\n"
    reg = load_bytes(data.encode("utf-8"), "eu.csv")
    assert reg.frame[Col.AGE].iloc[0] == 71.5 and reg.frame[Col.AFP].iloc[0] == 1234.5


def test_rule_counts_table() -> None:
    from hcc.outputs.tables import issues_table, rule_counts_table
    reg = make_registry([{Col.SEX: "X"}, {Col.SEX: "Y", Col.MVI: "?"}, {Col.START_1L: ""}])
    counts = rule_counts_table(reg.issues).set_index("Rule")
    assert counts.loc["unknown category", "Problems"] == 2 and counts.loc["missing required value", "Problems"] == 1
    assert list(issues_table(reg.issues).columns) == ["Severity", "Row", "Patient", "Column", "Value", "Rule",
                                                      "Problem", "How to fix"]


def test_the_typed_columns_are_kept_without_a_copy_each(monkeypatch: pytest.MonkeyPatch) -> None:
    """Issue 17: the frame takes each column validation typed as it is (setting them one by one
    copied each: ~0.5 s at 1M); what it holds is unchanged (the tests above)."""
    import hcc.ingest.validate as validate_

    made = {}

    def typed(text, col, decimal, *hashed):
        out = real(text, col, decimal, *hashed)
        made[col.name] = out[0]
        return out

    real = validate_._typed
    monkeypatch.setattr(validate_, "_typed", typed)
    frame = validate_.validate(read_table(registry_csv([{}, {}]), "test.csv")).frame
    for name in (Col.AGE, Col.START_1L, Col.REGIMEN_1L):
        assert np.shares_memory(frame[name].to_numpy(), made[name].to_numpy())


def test_a_registry_counts_its_regimens_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """Issue 17: the regimens of a registry (a count over every row) are counted once, not on every
    page run that names them."""
    import hcc.ingest.registry as registry_

    calls = []
    real = registry_.order_regimens
    monkeypatch.setattr(registry_, "order_regimens", lambda values: calls.append(1) or real(values))
    reg = make_registry([{Col.REGIMEN_1L: "LEN"}, {Col.REGIMEN_1L: "SOR"}, {Col.REGIMEN_1L: "LEN"}])
    assert reg.regimens == reg.regimens == ("SOR", "LEN") and reg.regimen_counts() == {"SOR": 1, "LEN": 2}
    assert len(calls) == 1


def test_the_registry_keeps_validations_date_order_tests_for_the_endpoints(monkeypatch: pytest.MonkeyPatch) -> None:
    """Issue 17: validation tests every date order over the file's rows; when those are the registry's rows
    (none excluded), the registry keeps the tests and every endpoint is derived from them — the same rows
    as derived alone, no comparison made again. With a row excluded, the registry's rows are others: not kept."""
    from hcc.cohort import endpoints
    from hcc.ingest import validate as validate_module  # where DateChecks finds the end of follow-up
    from hcc.schema import ENDPOINTS

    rows = [{}, {Col.DATE_PROGRESSION_1L: "2019-01-01"}, {Col.DATE_DEATH: "2018-01-01"}]  # progression before start
    reg = make_registry(rows)
    assert reg.date_checks is not None and reg.date_checks.frame is reg.frame
    assert any(i.rule is Rule.DATE_ORDER for i in reg.issues)
    alone = {e: endpoints.derive_rows(reg.frame, e) for e in ENDPOINTS}
    monkeypatch.setattr(validate_module, "follow_up_end", lambda frame: pytest.fail("compared again"))
    monkeypatch.setattr(reg.date_checks, "_dates", lambda column: pytest.fail("compared again"))
    for e in ENDPOINTS:
        shared = endpoints.derive_rows(reg.frame, e, reg.date_checks)
        assert shared.reasons == alone[e].reasons
        np.testing.assert_array_equal(shared.code, alone[e].code)
        np.testing.assert_array_equal(shared.days, alone[e].days)
    monkeypatch.undo()  # a new registry is validated: its own comparisons
    assert make_registry([*rows, {Col.PATIENT_ID: ""}]).date_checks is None
