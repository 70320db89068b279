"""Column and value mapping (hcc.ingest.mapping) and date-format detection (hcc.ingest.dates)."""

from __future__ import annotations

import pandas as pd
import pytest

from hcc.ingest import dates

from hcc.ingest import mapping as mp
from hcc.errors import SchemaError, SpecError
from hcc.ingest.io import read_table
from hcc.ingest.registry import auto_mapping, load_bytes
from hcc.schema import ATZ_BEV, COLUMNS, DUR_TRE, LEN, NIV_IPI, SOR, Col, Kind


@pytest.mark.parametrize("name", ["Regimen", "1L regimen", "first_line_tx", "治療", "First-line treatment",
                                  "regimen_1l", "REGIMEN 1L"])
def test_regimen_column_names(name) -> None:
    assert mp.propose_columns([name])[0].canonical == Col.REGIMEN_1L


@pytest.mark.parametrize("name, canonical", [
    ("Patient ID", Col.PATIENT_ID), ("Date of death", Col.DATE_DEATH), ("Last follow-up", Col.DATE_LAST_FOLLOWUP),
    ("ECOG PS", Col.ECOG), ("Gender", Col.SEX), ("BCLC stage", Col.BCLC), ("死亡日", Col.DATE_DEATH),
    ("Start_1L", Col.START_1L), ("date_progresion_1l", Col.DATE_PROGRESSION_1L),  # typo: fuzzy
])
def test_other_column_names(name, canonical) -> None:
    match = mp.propose_columns([name])[0]
    assert match.canonical == canonical
    assert match.how in {"exact", "synonym", "fuzzy"}


def test_unknown_and_ambiguous_columns_are_left_for_the_user() -> None:
    matches = {m.source: m for m in mp.propose_columns(["Regimen", "Treatment", "Favourite colour"])}
    assert matches["Regimen"].how == matches["Treatment"].how == "ambiguous"
    assert matches["Regimen"].canonical is None and matches["Favourite colour"].canonical is None


def test_exact_name_beats_a_synonym() -> None:
    matches = {m.source: m.canonical for m in mp.propose_columns(["regimen_1l", "Regimen"])}
    assert matches == {"regimen_1l": Col.REGIMEN_1L, "Regimen": None}


@pytest.mark.parametrize("text, code", [
    ("Atezo+Bev", ATZ_BEV), ("atezolizumab/bevacizumab", ATZ_BEV), ("Tecentriq + Avastin", ATZ_BEV),
    ("sorafenib", SOR), ("Nexavar", SOR), ("LENVIMA", LEN), ("Lenvatinib (8 mg)", LEN), ("ATZ_BEV", ATZ_BEV),
    ("durvalumab and tremelimumab", DUR_TRE), ("Opdivo+Yervoy", NIV_IPI), ("アテゾリズマブ＋ベバシズマブ", ATZ_BEV),
])
def test_free_text_regimens(text, code) -> None:
    assert mp.regimen_code(text) == code


@pytest.mark.parametrize("text", ["", "unknown drug", "sorafenib + unknown", "TACE"])
def test_unrecognised_regimens_are_not_guessed(text) -> None:
    assert mp.regimen_code(text) is None


@pytest.mark.parametrize("column, text, value", [
    (Col.BEST_RESPONSE_1L, "Partial response", "PR"), (Col.BEST_RESPONSE_1L, "stable", "SD"),
    (Col.BEST_RESPONSE_1L, "not evaluable", "NE"), (Col.MVI, "○", "yes"), (Col.MVI, "×", "no"),
    (Col.MVI, "TRUE", "yes"), (Col.EHS, "0", "no"), (Col.SEX, "female", "F"), (Col.SEX, "男性", "M"),
    (Col.CHILD_PUGH_CLASS, "Child-Pugh B", "B"), (Col.CHILD_PUGH_CLASS, "A6", "A"), (Col.BCLC, "stage C", "C"),
    (Col.ETIOLOGY, "Hepatitis C", "HCV"), (Col.ETIOLOGY, "NASH", "MASLD"), (Col.ALBI_GRADE, "grade 2a", "2a"),
])
def test_value_words(column, text, value) -> None:
    assert mp.value_proposal(column, text) == value


def _raw(table: dict[str, list[str]], name: str = "export.csv"):
    return read_table(pd.DataFrame(table).to_csv(index=False).encode(), name)


def test_unknown_values_are_listed_never_dropped() -> None:
    raw = _raw({"ID": ["a", "b", "c"], "Regimen": ["Nexavar", "Mystery-mab", "LENVIMA"],
                "Start date": ["2020-01-01"] * 3, "Last follow-up": ["2021-01-01"] * 3, "Sex": ["m", "x", "f"]})
    m = mp.propose(raw)
    unknown = {(v.canonical_column, v.source) for v in mp.unknown_values(raw, m)}
    assert unknown == {(Col.REGIMEN_1L, "Mystery-mab"), (Col.SEX, "x")}
    registry = load_bytes(pd.DataFrame({"ID": ["a", "b", "c"], "Regimen": ["Nexavar", "Mystery-mab", "LENVIMA"],
                                        "Start date": ["2020-01-01"] * 3, "Last follow-up": ["2021-01-01"] * 3,
                                        "Sex": ["m", "x", "f"]}).to_csv(index=False).encode(), "export.csv")
    assert registry.regimens == (SOR, LEN, "Mystery-mab")  # kept as a regimen of its own
    assert [i.rule.value for i in registry.issues] == ["unknown category"] and registry.issues[0].value == "x"


def test_mapping_json_round_trip_and_errors() -> None:
    m = mp.Mapping(columns=(("Regimen", Col.REGIMEN_1L),), values=((Col.REGIMEN_1L, "Nexavar", SOR),),
                   date_formats=((Col.START_1L, dates.DMY),), dropped=("Name",), not_identifiers=("Notes",),
                   cap_age=True, relative_dates=True, sheet="patients")
    assert mp.Mapping.from_json(m.to_json()) == m
    with pytest.raises(SpecError, match="unknown column"):
        mp.Mapping.from_json('{"version": 1, "columns": {"Regimen": "regimen"}}')
    with pytest.raises(SpecError, match="more than one"):
        mp.Mapping.from_json('{"version": 1, "columns": {"A": "regimen_1l", "B": "regimen_1l"}}')
    with pytest.raises(SpecError, match="not a mapping"):
        mp.Mapping.from_json("[1, 2]")
    with pytest.raises(SpecError, match="JSON error"):
        mp.Mapping.from_json("{")


def test_mapping_naming_a_column_the_file_lacks() -> None:
    raw = _raw({"ID": ["a"], "Regimen": ["SOR"]})
    with pytest.raises(SpecError, match="does not have"):
        mp.apply(raw, mp.Mapping(columns=(("Therapy", Col.REGIMEN_1L),)))


def test_auto_mapping_refuses_what_needs_a_decision() -> None:
    with pytest.raises(SchemaError, match="start_1l.*not found"):
        auto_mapping(_raw({"ID": ["a"], "Regimen": ["SOR"], "Last follow-up": ["2020-01-01"]}))
    ambiguous = _raw({"ID": ["a", "b"], "Regimen": ["SOR", "LEN"], "Start date": ["01/02/2020", "03/04/2020"],
                      "Last follow-up": ["2021-01-01", "2021-01-01"]})
    with pytest.raises(SchemaError, match="date format of start_1l is ambiguous"):
        auto_mapping(ambiguous)
    questions = mp.date_questions(ambiguous, mp.propose(ambiguous))
    assert questions == {Col.START_1L: (dates.DMY, dates.MDY)}


@pytest.mark.parametrize("values, fmt", [
    (["2021-03-15", "2021/3/1"], dates.YMD), (["15/03/2021", "01/02/2021"], dates.DMY),
    (["03/15/2021", "01/02/2021"], dates.MDY), (["15.03.2021"], dates.DMY), (["2021年3月15日"], dates.YMD),
])
def test_date_formats_detected_per_column(values, fmt) -> None:
    found = dates.detect(pd.Series(values))
    assert found.fmt == fmt and not found.ambiguous
    assert dates.to_iso(pd.Series(values), fmt).iloc[0] in ("2021-03-15", "2021-03-01", "2021-02-01")


@pytest.mark.parametrize("values, iso_only", [
    (["2021-03-15", "1999-12-31", ""], True), (["2021-13-45"], True), (["٢٠٢١-٠٣-١٥", "2021-03-15"], True),
    (["2021-03-15", "2021-3-15"], False), (["2021-03-15", "15/03/2021"], False), (["2021-03-15", "44270"], False),
    (["2021-03-15 10:00"], False),
])
def test_a_column_of_iso_dates_is_detected_without_the_regex_counts_and_as_they_find(values, iso_only,
                                                                                     monkeypatch) -> None:
    """Issue 17: every value ISO (the common case; impossible dates and other digits included) returns at
    once what the counts of every format give."""
    for allow_serial in (False, True):
        fast = dates.detect(pd.Series(values), allow_serial=allow_serial)
        with monkeypatch.context() as patch:
            patch.setattr(dates, "_ISO_ONLY", dates.re.compile("(?!)"))  # never matches: the counts decide
            assert dates.detect(pd.Series(values), allow_serial=allow_serial) == fast
    counted = []
    extract = pd.core.strings.accessor.StringMethods.extract
    monkeypatch.setattr(pd.core.strings.accessor.StringMethods, "extract",
                        lambda *a, **k: counted.append(1) or extract(*a, **k))
    dates.detect(pd.Series(values))
    assert bool(counted) is not iso_only


def test_excel_serial_dates_only_for_excel() -> None:
    values = pd.Series(["44270", "2021-03-16"])
    assert dates.detect(values, allow_serial=True).fmt == dates.SERIAL
    assert list(dates.to_iso(values, dates.SERIAL)) == ["2021-03-15", "2021-03-16"]
    assert dates.detect(values).fmt == dates.YMD


def test_impossible_dates_stay_as_written_for_the_validator() -> None:
    assert list(dates.to_iso(pd.Series(["31/02/2021", "x"]), dates.DMY)) == ["31/02/2021", "x"]


def test_editor_tables_round_trip() -> None:
    raw = _raw({"ID": ["a", "b"], "Regimen": ["Nexavar", "Mystery"], "Start date": ["2020-01-01"] * 2,
                "Last follow-up": ["2021-01-01"] * 2})
    m = mp.propose(raw)
    rows = mp.column_rows(raw, m)
    assert list(rows[mp.MAPS_TO]) == [Col.PATIENT_ID, Col.REGIMEN_1L, Col.START_1L, Col.DATE_LAST_FOLLOWUP]
    assert mp.with_column_rows(m, raw, rows).columns == m.columns
    values = mp.value_rows(raw, m)
    assert dict(zip(values[mp.VALUE], values[mp.MAPS_TO])) == {"Nexavar": SOR, "Mystery": ""}
    values.loc[values[mp.VALUE] == "Mystery", mp.MAPS_TO] = LEN
    assert mp.with_value_rows(m, values).value_map(Col.REGIMEN_1L) == {"nexavar": SOR, "mystery": LEN}


def test_hospital_names_of_the_preset_columns_are_recognised() -> None:
    """The names seen in a hospital export (issue 15) map to the columns the Main preset needs."""
    from hcc.ingest.mapping import propose_columns
    got = {m.source: m.canonical for m in propose_columns(
        ["TACE/RFA during 1st line", "Locoregional therapy between lines", "Trial after 1st line"])}
    assert got == {"TACE/RFA during 1st line": "concomitant_lrt",
                   "Locoregional therapy between lines": "interline_lrt",
                   "Trial after 1st line": "trial_after_1l"}


def test_likely_sources_rank_unmapped_columns_and_skip_unrelated_ones() -> None:
    from hcc.ingest.mapping import likely_sources, propose
    from hcc.ingest.registry import read_sources
    csv = b"patient_id,regimen_1l,start_1l,date_last_followup,LRT (1L),LRT (1L to 2L),Blood group\n1,SOR,2020-01-01,2020-06-01,no,no,A\n"
    raw = read_sources([("x.csv", csv)]).raw
    mapping = propose(raw)
    assert likely_sources(raw, mapping, "concomitant_lrt")[0] == "LRT (1L)"
    assert likely_sources(raw, mapping, "interline_lrt")[0] == "LRT (1L to 2L)"
    assert "Blood group" not in likely_sources(raw, mapping, "interline_lrt")


def test_column_editor_offers_clinical_descriptions() -> None:
    from hcc.ingest.mapping import CHOICE_TO_COLUMN, column_choice
    choice = column_choice("concomitant_lrt")
    assert choice == "Locoregional therapy given together with first line (concomitant_lrt)"
    assert CHOICE_TO_COLUMN[choice] == "concomitant_lrt" and len(CHOICE_TO_COLUMN) == len(set(CHOICE_TO_COLUMN.values()))


def test_each_column_is_counted_and_its_date_format_detected_once_per_file(monkeypatch) -> None:
    """The proposal, the mapping editor's tables (on the page's run and its rerun), the identifier scan
    and the load all need a column's counts or its date format: they are computed once per file
    (issue 17: at 1M rows each such pass over the file cost about a second)."""
    from collections import Counter

    from hcc.ingest import deid
    from hcc.ingest.registry import from_raw
    from tests.conftest import registry_csv

    raw = read_table(registry_csv([{Col.REGIMEN_1L: "Nexavar", Col.AGE: "91"}, {Col.REGIMEN_1L: "LEN"}]), "r.csv")
    from hcc.ingest import io

    counted, detected = Counter(), Counter()
    factorize, detect = io._factorize, dates.detect  # a column's counting pass (RawTable.factorized)
    monkeypatch.setattr(io, "_factorize", lambda text: counted.update([text.name]) or factorize(text))
    monkeypatch.setattr(dates, "detect", lambda values, **k: detected.update([values.name]) or detect(values, **k))
    mapping = mp.propose(raw)
    for _ in range(2):  # the Data page's run, then its rerun
        mp.column_rows(raw, mapping), mp.date_questions(raw, mapping), mp.value_rows(raw, mapping)
        assert [f.column for f in deid.scan(raw, mapping)] == [Col.AGE]
    registry = from_raw(raw, mp.resolve_identifier(mapping, Col.AGE, mp.CAP_AGE))
    assert registry.n_ages_capped == 1 and registry.frame[Col.REGIMEN_1L].tolist() == [SOR, LEN]
    assert set(detected) == {c.name for c in COLUMNS if c.kind is Kind.DATE} and set(detected.values()) == {1}
    assert {Col.REGIMEN_1L, Col.AGE, Col.SEX} <= set(counted) and set(counted.values()) == {1}


def test_examples_of_a_column_whose_counts_are_known_take_no_pass_over_it() -> None:
    """Issue 17: a column whose every value is in the first rows (a yes/no column, sex), counted already
    for the value proposal, shows its examples without computing its distinct values over every row."""
    from tests.conftest import registry_csv

    rows = [{Col.SEX: "M"}, {Col.SEX: "F"}] * 600 + [{Col.SEX: "X"}]  # more rows than the examples look at
    raw = read_table(registry_csv(rows), "test.csv")
    assert list(mp._first_distinct(raw, Col.SEX, 3)) == ["M", "F", "X"]  # "X" after the first rows: found
    raw = read_table(registry_csv(rows[:-1]), "test.csv")
    raw.value_counts(Col.SEX)
    assert list(mp._first_distinct(raw, Col.SEX, 3)) == ["M", "F"]
    assert raw.known(("distinct", Col.SEX)) is None


def test_counts_and_distinct_values_come_from_one_hash_pass_as_pandas_gives_them() -> None:
    """Issue 17: a column's counts (the value proposal), distinct values (dates) and validation's codes
    come from one hash pass per column (:meth:`RawTable.factorized`), and are exactly what pandas gives:
    Arrow cells in several chunks (as the reader makes them) with tied counts, and object cells."""
    import numpy as np
    import pyarrow as pa

    from hcc.ingest.io import RawTable

    words = [["b", "a", "", "c"], ["a", "d", "b"], ["d", "", "e", "c", "c"]]  # ties: a, b, d, "" twice
    cells = pd.DataFrame({"arrow": pd.Series(pd.arrays.ArrowExtensionArray(pa.chunked_array(words))),
                          "object": pd.Series([w for chunk in words for w in chunk], dtype=object)})
    raw = RawTable("t.csv", cells, "0" * 64, 0)
    for column in cells.columns:
        pd.testing.assert_series_equal(raw.value_counts(column), cells[column].value_counts())
        distinct, expected = raw.distinct(column), cells[column].unique()
        assert type(distinct) is type(expected) and list(distinct) == list(expected)
        codes, uniques = raw.factorized(column)
        pandas_codes, pandas_uniques = pd.factorize(cells[column], use_na_sentinel=False)
        assert np.array_equal(codes, pandas_codes) and list(uniques) == list(pandas_uniques)
        assert codes.dtype == np.int8  # kept small while the cells are


def test_validation_hashes_no_column_the_mapping_editor_hashed(monkeypatch) -> None:
    """Issue 17: the proposal hashes each mapped column once (two at a time); validation types the
    columns the mapping only renamed from those codes instead of hashing them again (~1 s at 1M)."""
    from hcc.ingest import validate
    from hcc.ingest.registry import from_raw
    from tests.conftest import registry_csv

    raw = read_table(registry_csv([{Col.PATIENT_ID: "P1"}, {Col.PATIENT_ID: "P2"}, {Col.PATIENT_ID: "P1"}]), "r.csv")
    mapping = mp.propose(raw)
    hashed = []
    real = validate._Distinct.of

    def of(cls, text, factorized=None):
        if factorized is None and text.name in raw.columns:  # a file column hashed here
            hashed.append(text.name)
        return real(text, factorized)

    monkeypatch.setattr(validate._Distinct, "of", classmethod(of))
    registry = from_raw(raw, mapping)
    assert hashed == [] and len(registry.frame) == 1  # the two P1 rows still found and kept out
    assert {i.rule for i in registry.issues} == {validate.Rule.DUPLICATE_ID}
