"""De-identification guard (hcc.ingest.deid): identifiers found by column name and by contents, analysis blocked
until each is dropped or cleared, ages top-coded, dates made relative."""

from __future__ import annotations

from dataclasses import replace

import pandas as pd
import pytest

from hcc.ingest import deid

from hcc.ingest import mapping as mp
from hcc.errors import IdentifierError
from hcc.ingest.io import read_table
from hcc.ingest.registry import load_bytes, load_demo, read_sources, load_source
from hcc.schema import DATE_COLUMNS, Col

BASE = {"Patient ID": ["a", "b", "c", "d"], "Regimen": ["SOR", "LEN", "SOR", "LEN"],
        "Start date": ["2020-01-01"] * 4, "Last follow-up": ["2021-01-01"] * 4}


def _csv(extra: dict[str, list[str]]) -> bytes:
    return pd.DataFrame({**BASE, **extra}).to_csv(index=False).encode("utf-8")


@pytest.mark.parametrize("column, values, category", [
    ("Patient name", ["Ann Lee", "Bo Kim", "Cy Ng", "Di Wu"], deid.NAME),
    ("氏名", ["山田太郎", "佐藤花子", "鈴木一郎", "田中次郎"], deid.NAME),
    ("MRN", ["12345678", "23456789", "34567890", "45678901"], deid.RECORD_NUMBER),
    ("Phone", ["x", "y", "z", "w"], deid.PHONE),
    ("contact", ["ann@example.org", "bo@example.org", "cy@example.org", "di@example.org"], deid.EMAIL),
    ("tel_or_what", ["+81 3 1234 5678", "03-1234-5678", "(03) 1234 5678", "090 1234 5678"], deid.PHONE),
    ("Who", ["Smith, John", "Brown, Mary", "Lee, Ann", "Kim, Bo"], deid.NAME),
    ("zip", ["100-0001", "100-0002", "100-0003", "100-0004"], deid.ADDRESS),
    ("DOB", ["1950-01-01", "1951-02-02", "1952-03-03", "1953-04-04"], deid.BIRTH_DATE),
    ("Clinical notes", ["fine", "see chart", "stable", "well"], deid.FREE_TEXT),
    ("x1", ["patient came back with pain in the upper abdomen", "family history of liver cancer on the mother side",
            "started therapy after the tumor board in March", "declined second line because of fatigue"],
     deid.FREE_TEXT),
])
def test_identifiers_are_found_and_block_loading(column, values, category) -> None:
    data = _csv({column: values})
    findings = deid.scan(read_table(data, "f.csv"), mp.propose(read_table(data, "f.csv")))
    assert [(f.column, f.category) for f in findings] == [(column, category)]
    assert not any(v in f.how for v in values for f in findings)  # values are never shown
    with pytest.raises(IdentifierError, match=column):
        load_bytes(data, "f.csv")


@pytest.mark.parametrize("action", [mp.DROP, mp.NOT_IDENTIFIER])
def test_resolving_unblocks(action) -> None:
    data = _csv({"Patient name": ["Ann Lee", "Bo Kim", "Cy Ng", "Di Wu"]})
    raw = read_table(data, "f.csv")
    resolved = mp.resolve_identifier(mp.propose(raw), "Patient name", action)
    registry = load_bytes(data, "f.csv", resolved)
    assert registry.n_patients == 4
    assert ("Patient name" in registry.unknown_columns) == (action == mp.NOT_IDENTIFIER)


def test_ordinary_registry_columns_are_not_flagged() -> None:
    data = _csv({"Site": ["Osaka University Hospital", "Kyoto Center", "Osaka University Hospital", "Kobe"],
                 "Etiology": ["HBV", "HCV", "alcohol", "MASLD"], "AFP": ["12", "400", "3.5", "10000"]})
    raw = read_table(data, "f.csv")
    assert deid.scan(raw, mp.propose(raw)) == ()


def test_ages_over_89_block_until_top_coded() -> None:
    data = _csv({"Age": ["70", "89.9", "90", "97"]})
    raw = read_table(data, "f.csv")
    findings = deid.scan(raw, mp.propose(raw))
    assert [(f.category, f.how) for f in findings] == [(deid.AGE_OVER_89, "contents: 2 patient(s) aged 90 or older")]
    registry = load_bytes(data, "f.csv", replace(mp.propose(raw), cap_age=True))
    # the note after top-coding states the question's count: 90 is already "90 or older", 97 becomes 90
    assert list(registry.frame[Col.AGE]) == [70, 89.9, 90, 90] and registry.n_ages_capped == 2


def test_relative_dates_keep_every_interval() -> None:
    demo = load_demo()
    shifted = deid.relative_dates(demo.frame)
    assert (shifted[Col.START_1L] == deid.RELATIVE_ORIGIN).all()
    for col in DATE_COLUMNS:
        pd.testing.assert_series_equal(shifted[col] - shifted[Col.START_1L], demo.frame[col] - demo.frame[Col.START_1L])


def test_relative_dates_give_identical_survival() -> None:
    from hcc.analysis import analyze, result_json
    from hcc.cohort.rules import PRESETS
    demo = load_demo()
    text = demo.frame.head(300).drop(columns="_source_row")
    data = text.to_csv(index=False, date_format="%Y-%m-%d").replace("True", "yes").replace("False", "no") \
        .encode("utf-8")
    source = read_sources([("d.csv", data)])
    plain = load_source(source, replace(mp.propose(source.raw), cap_age=True))
    relative = load_source(source, replace(mp.propose(source.raw), cap_age=True, relative_dates=True))
    a, b = result_json(analyze(plain, PRESETS["full"])), result_json(analyze(relative, PRESETS["full"]))
    assert a["endpoints"] == b["endpoints"]


def test_small_cells() -> None:
    assert deid.small_cells({"SOR": 120, "LEN": 3, "X": 0}) == ["LEN"]
    assert deid.small_cells(pd.Series({"a": 4, "b": 5})) == ["a"]


DATE_SPELLINGS = {
    "iso": ["2021-03-15", "2020-12-01", "2019-01-31", "2022-07-04"],
    "slashes": ["2021/03/15", "2020/12/1", "2019/1/31", "2022/07/04"],
    "dotted day first": ["15.03.2021", "01.12.2020", "31.01.2019", "04.07.2022"],
    "dashed day first": ["15-03-2021", "01-12-2020", "31-01-2019", "04-07-2022"],
    "month first": ["03/15/2021", "12/01/2020", "01/31/2019", "07/04/2022"],
    "japanese": ["2021年3月15日", "2020年12月1日", "2019年1月31日", "2022年7月4日"],
    "with time": ["2021-03-15 10:30", "2020-12-01 08:00", "2019-01-31 23:59", "2022-07-04 00:00"],
    "excel serials": ["44270", "44166", "43496", "44746"],
}


@pytest.mark.parametrize("spelling", sorted(DATE_SPELLINGS))
def test_an_unmapped_date_column_is_not_taken_for_telephone_numbers(spelling) -> None:
    """E.g. the date columns of a REDCap repeating instrument before they are mapped: every value of a
    YYYY-MM-DD column matched the telephone pattern (nine or more digits, dashes and spaces)."""
    raw = read_table(_csv({"Visit": DATE_SPELLINGS[spelling]}), "dates.csv")
    assert [f for f in deid.scan(raw, mp.propose(raw)) if f.category == deid.PHONE] == []


@pytest.mark.parametrize("number", ["+81 3-1234-5678", "(03) 1234 5678", "090-1234-5678", "555-123-4567"])
def test_real_telephone_numbers_are_still_found(number) -> None:
    raw = read_table(_csv({"Contact": [number] * 4}), "phones.csv")
    assert [(f.column, f.category) for f in deid.scan(raw, mp.propose(raw))] == [("Contact", deid.PHONE)]
