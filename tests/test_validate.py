"""Validation: every bad cell is reported with file, row, column, value and fix; nothing is dropped silently."""

from __future__ import annotations

import pandas as pd
import pytest

from hcc.errors import DataFileError, SchemaError
from hcc.io import read_table
from hcc.registry import load_bytes
from hcc.schema import REQUIRED, Col
from hcc.validate import Severity
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
    reg = make_registry([{Col.START_1L: "15.03.2020"}])
    assert reg.n_patients == 0 and reg.excluded["reason"].tolist() == ["unreadable start_1l"]
    assert "YYYY-MM-DD" in reg.issues[0].fix and reg.issues[0].value == "15.03.2020"


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
