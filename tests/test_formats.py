"""Every upload format, made by the library that writes it, maps to the same canonical registry and
gives identical analysis results (issue: upload any real registry export)."""

from __future__ import annotations

import io
import json
import zipfile
from dataclasses import replace

import openpyxl
import pandas as pd
import pyreadstat
import pytest

from hcc.ingest import mapping as mp
from hcc.analysis import analyze, result_json
from hcc.formatting import json_safe
from hcc.cohort.rules import PRESETS
from hcc.errors import DataFileError
from hcc.ingest.io import SAV, XLSX, read_table, sheet_names
from hcc.ingest.registry import load_demo, load_source, read_sources
from tests.messy import RENAMES, messy

N = 240  # patients: enough for every regimen and endpoint, small enough to keep the suite fast


@pytest.fixture(scope="module")
def demo_part() -> pd.DataFrame:
    return load_demo().frame.iloc[::6].head(N).reset_index(drop=True)  # every regimen, every era


@pytest.fixture(scope="module")
def text_table(demo_part) -> pd.DataFrame:
    return messy(demo_part)


def _csv(table: pd.DataFrame, encoding: str = "utf-8", sep: str = ",") -> bytes:
    return table.to_csv(index=False, sep=sep).encode(encoding)


def _typed(table: pd.DataFrame, demo_part: pd.DataFrame) -> pd.DataFrame:
    """The messy table with real dates and numbers, as a statistics package would hold it."""
    typed = table.copy()
    from hcc.schema import DATE_COLUMNS
    for col, name in RENAMES.items():
        if col in DATE_COLUMNS:
            typed[name] = demo_part[col]
    typed[RENAMES["age"]] = demo_part["age"].astype(float)
    return typed


def _xlsx(table: pd.DataFrame, demo_part: pd.DataFrame) -> bytes:
    """Registry on the second sheet; dates as Excel dates, except one column as serial numbers."""
    typed = _typed(table, demo_part)
    serial_col = RENAMES["date_last_followup"]
    typed[serial_col] = (demo_part["date_last_followup"] - pd.Timestamp("1899-12-30")).dt.days
    buf = io.BytesIO()
    with pd.ExcelWriter(buf, engine="openpyxl") as writer:
        pd.DataFrame({"About": ["Registry export, see sheet 'patients'"]}).to_excel(writer, sheet_name="README", index=False)
        typed.to_excel(writer, sheet_name="patients", index=False)
    return buf.getvalue()


def _parquet(table, demo_part) -> bytes:
    buf = io.BytesIO()
    _typed(table, demo_part).to_parquet(buf, index=False)
    return buf.getvalue()


def _labelled(table: pd.DataFrame, demo_part) -> tuple[pd.DataFrame, dict[str, dict[int, str]]]:
    """Regimen and sex as numeric codes with value labels (as SPSS and Stata registries store them)."""
    typed = _typed(table, demo_part)
    labels = {}
    for name in (RENAMES["regimen_1l"], RENAMES["sex"]):
        words = sorted(w for w in typed[name].unique() if w)
        codes = {w: i + 1 for i, w in enumerate(words)}
        typed[name] = typed[name].map(codes).astype(float)
        labels[name] = {i: w for w, i in codes.items()}
    return typed, labels


def _sav(table, demo_part, tmp_path) -> bytes:
    typed, labels = _labelled(table, demo_part)
    typed.columns = [_stata_name(c) for c in typed.columns]
    path = tmp_path / "registry.sav"  # pyreadstat writes only to a path; the test reads it back as bytes
    pyreadstat.write_sav(typed, str(path), variable_value_labels={_stata_name(k): v for k, v in labels.items()})
    return path.read_bytes()


def _stata_name(name: str) -> str:
    """A variable name SPSS and Stata accept (letters first, no spaces), as such exports have."""
    name = name.replace("1L ", "first line ")
    return "".join(ch if ch.isalnum() else "_" for ch in name).strip("_")[:32]


def _dta(table, demo_part) -> bytes:
    typed, labels = _labelled(table, demo_part)
    typed.columns = [_stata_name(c) for c in typed.columns]
    buf = io.BytesIO()
    typed.to_stata(buf, write_index=False, version=118, value_labels={_stata_name(k): v for k, v in labels.items()},
                   convert_dates={c: "td" for c in typed.columns if str(typed[c].dtype).startswith("datetime")})
    return buf.getvalue()


def _load(name: str, data: bytes, *, sheet: str | None = None, mapping: mp.Mapping | None = None):
    source = read_sources([(name, data)], sheet)
    chosen = mapping or replace(mp.propose(source.raw), cap_age=True)
    assert not mp.missing_required(chosen), name
    return load_source(source, chosen)


def _analysis(registry) -> str:
    """The CLI's analysis JSON of the main cohort, without the file's name and fingerprint."""
    result = result_json(analyze(registry, PRESETS["main"]))
    result.pop("data")
    return json.dumps(json_safe(result), sort_keys=True)


def _canonical(registry) -> pd.DataFrame:
    return registry.frame[list(RENAMES)].reset_index(drop=True)


@pytest.fixture(scope="module")
def expected(text_table, demo_part):
    registry = _load("messy.csv", _csv(text_table))
    return registry, _analysis(registry)


def test_messy_csv_maps_back_to_the_demo_rows(expected, demo_part) -> None:
    registry, _ = expected
    from hcc.ingest.deid import cap_ages
    want, _ = cap_ages(demo_part)
    pd.testing.assert_frame_equal(_canonical(registry), want[list(RENAMES)].reset_index(drop=True))
    assert registry.n_errors == 0 and registry.regimens == ("SOR", "LEN", "ATZ_BEV")


@pytest.mark.parametrize("variant", ["utf-8-sig", "cp932", "latin-1", "tsv", "semicolon"])
def test_text_variants_give_the_same_registry(variant, text_table, expected) -> None:
    table = text_table
    if variant == "cp932":  # a Japanese export: Japanese column name, Shift-JIS bytes
        table = text_table.rename(columns={RENAMES["regimen_1l"]: "治療"})
    if variant == "semicolon":  # European export: decimal comma
        table = text_table.assign(**{RENAMES["age"]: text_table[RENAMES["age"]].str.replace(".", ",", regex=False)})
    encoding = {"cp932": "cp932", "latin-1": "latin-1", "utf-8-sig": "utf-8-sig"}.get(variant, "utf-8")
    if encoding == "latin-1":
        table = table.replace({"○": "yes", "×": "no"})
    sep = {"tsv": "\t", "semicolon": ";"}.get(variant, ",")
    registry = _load(f"export.{'tsv' if sep == chr(9) else 'csv'}", _csv(table, encoding, sep))
    pd.testing.assert_frame_equal(_canonical(registry), _canonical(expected[0]))


def test_xlsx_on_a_chosen_sheet_with_serial_dates(text_table, demo_part, expected) -> None:
    data = _xlsx(text_table, demo_part)
    assert sheet_names(data, "reg.xlsx") == ("README", "patients")
    source = read_sources([("reg.xlsx", data)], "patients")
    assert source.sheets == ("README", "patients") and source.raw.source_format == XLSX
    detected = mp.date_detections(source.raw, mp.propose(source.raw))
    assert detected["date_last_followup"].fmt == "SERIAL"
    registry = _load("reg.xlsx", data, sheet="patients")
    pd.testing.assert_frame_equal(_canonical(registry), _canonical(expected[0]))


def test_parquet(text_table, demo_part, expected) -> None:
    registry = _load("reg.parquet", _parquet(text_table, demo_part))
    pd.testing.assert_frame_equal(_canonical(registry), _canonical(expected[0]))


def test_spss_with_value_labels(text_table, demo_part, expected, tmp_path) -> None:
    data = _sav(text_table, demo_part, tmp_path)
    raw = read_table(data, "reg.sav")
    assert raw.source_format == SAV and "Nexavar" in set(raw.cells["first_line_regimen"])
    registry = _load("reg.sav", data)
    pd.testing.assert_frame_equal(_canonical(registry), _canonical(expected[0]))


def test_stata_with_value_labels(text_table, demo_part, expected) -> None:
    registry = _load("reg.dta", _dta(text_table, demo_part))
    pd.testing.assert_frame_equal(_canonical(registry), _canonical(expected[0]))


def test_every_format_gives_identical_analysis(text_table, demo_part, expected, tmp_path) -> None:
    """The full analysis JSON (every endpoint, test and estimate) is the same whatever the format."""
    files = {"reg.parquet": _parquet(text_table, demo_part), "reg.dta": _dta(text_table, demo_part),
             "reg.sav": _sav(text_table, demo_part, tmp_path), "reg.tsv": _csv(text_table, sep="\t")}
    for name, data in files.items():
        registry = _load(name, data)
        assert _analysis(registry) == expected[1], name


def test_saved_mapping_round_trips_and_maps_next_months_file(text_table, expected) -> None:
    source = read_sources([("messy.csv", _csv(text_table))])
    chosen = replace(mp.propose(source.raw), cap_age=True, date_formats=(("start_1l", "DMY"),))
    again = mp.Mapping.from_json(chosen.to_json())
    assert again == chosen
    next_month = text_table.head(100)
    registry = _load("next.csv", _csv(next_month), mapping=again)
    pd.testing.assert_frame_equal(_canonical(registry), _canonical(expected[0]).head(100))


# Bad files ---------------------------------------------------------------------------------------

def _zip_bomb() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("xl/workbook.xml", "<workbook/>")
        z.writestr("xl/worksheets/sheet1.xml", b"\0" * (300 * 2**20))
    return buf.getvalue()


def _truncated_xlsx() -> bytes:
    buf = io.BytesIO()
    book = openpyxl.Workbook()
    book.active.append(["patient_id"])
    book.save(buf)
    return buf.getvalue()[:200]


@pytest.mark.parametrize("name, data, message", [
    ("bomb.xlsx", "bomb", "unsafe"),
    ("cut.xlsx", "truncated", "damaged or incomplete"),
    ("locked.xlsx", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 600, "password-protected"),
    ("junk.csv", bytes(range(256)) * 40, "not a text"),
    ("fake.parquet", b"PAR1 not really", "Parquet file cannot be read"),
    ("fake.sav", b"$FL2 not really", "SPSS file cannot be read"),
    ("fake.dta", b"<stata_dta> not really", "Stata file cannot be read"),
    ("wide.csv", "wide", "columns"),
    ("header.csv", b"patient_id,regimen_1l\n", "no patient rows"),
])
def test_bad_files_get_a_clear_message(name, data, message) -> None:
    data = {"bomb": _zip_bomb, "truncated": _truncated_xlsx}.get(data, lambda: data)() if isinstance(data, str) \
        and data != "wide" else data
    if data == "wide":
        data = (",".join(f"c{i}" for i in range(6000)) + "\n" + ",".join("1" * 6000) + "\n").encode()
    with pytest.raises(DataFileError, match=message):
        read_table(data, name)


def test_thousand_columns_and_an_all_blank_column_are_read(text_table, expected) -> None:
    wide = pd.concat([text_table, pd.DataFrame("", index=text_table.index,
                                               columns=[f"lab_{i}" for i in range(1000)])], axis=1)
    registry = _load("wide.csv", _csv(wide))
    assert len(registry.unknown_columns) == 1000
    pd.testing.assert_frame_equal(_canonical(registry), _canonical(expected[0]))


def test_oversized_file_is_refused_before_parsing(monkeypatch) -> None:
    import hcc.ingest.io
    monkeypatch.setattr(hcc.ingest.io, "MAX_BYTES", 1000)
    with pytest.raises(DataFileError, match="limit is"):
        read_table(b"a,b\n" + b"1,2\n" * 500, "big.csv")


def test_uploaded_bytes_are_never_written(monkeypatch, text_table, demo_part, tmp_path) -> None:
    """Reading every format happens in memory: opening any file for writing fails the test."""
    import builtins
    data = {"r.xlsx": _xlsx(text_table, demo_part), "r.sav": _sav(text_table, demo_part, tmp_path),
            "r.dta": _dta(text_table, demo_part), "r.parquet": _parquet(text_table, demo_part)}
    real_open = builtins.open

    def guarded(file, mode="r", *args, **kwargs):
        assert not any(m in mode for m in "wax+"), f"tried to write {file}"
        return real_open(file, mode, *args, **kwargs)

    monkeypatch.setattr(builtins, "open", guarded)
    for name, blob in data.items():
        assert len(read_table(blob, name, sheet="patients" if name.endswith("xlsx") else None).cells) == N


def test_xlsx_xml_is_parsed_with_defusedxml() -> None:
    """openpyxl switches to defusedxml (no entity expansion, no external entities) when it is installed."""
    from openpyxl.xml import DEFUSEDXML
    assert DEFUSEDXML is True


def _redcap_files(demo_part: pd.DataFrame) -> list[tuple[str, bytes]]:
    """The same patients as a REDCap project: a baseline form with coded radio/dropdown/yes-no fields, a
    repeating treatment_line instrument (instance 1 = first line), and the data dictionary."""
    from hcc.schema import BOOL_COLUMNS
    header = ["Variable / Field Name", "Form Name", "Field Type", "Field Label",
              "Choices, Calculations, OR Slider Labels", "Identifier?"]
    regimen_codes = {"SOR": "1", "LEN": "2", "ATZ_BEV": "3"}
    dictionary = [
        ("record_id", "baseline", "text", "Record ID", ""), ("site", "baseline", "text", "Site", ""),
        ("age", "baseline", "text", "Age", ""), ("sex", "baseline", "radio", "Sex", "1, Male | 2, Female"),
        ("child_pugh_class", "baseline", "dropdown", "Child-Pugh", "1, A | 2, B | 3, C"),
        ("ecog", "baseline", "text", "ECOG", ""),
        *[(c, "baseline", "yesno", c, "") for c in ("concomitant_lrt", "interline_lrt", "trial_after_1l")],
        ("date_death", "follow_up", "text", "Death", ""), ("last_follow_up", "follow_up", "text", "Last FU", ""),
        ("regimen", "treatment_line", "dropdown", "Regimen", "1, Sorafenib | 2, Lenvatinib | 3, Atezo+Bev"),
        ("start", "treatment_line", "text", "Start", ""), ("date_progression", "treatment_line", "text", "PD", ""),
        ("best_response", "treatment_line", "radio", "BOR", "1, CR | 2, PR | 3, SD | 4, PD | 5, NE"),
    ]
    dict_csv = pd.DataFrame([(n, f, t, lab, ch, "") for n, f, t, lab, ch in dictionary], columns=header)

    def iso(col: str) -> pd.Series:
        return demo_part[col].dt.strftime("%Y-%m-%d").fillna("")

    def text(col: str) -> pd.Series:
        return demo_part[col].map(lambda v: "" if pd.isna(v) else f"{v:g}" if isinstance(v, float) else str(v))

    base = pd.DataFrame({
        "record_id": demo_part["patient_id"], "redcap_repeat_instrument": "", "redcap_repeat_instance": "",
        "site": demo_part["center"], "age": text("age"),
        "sex": demo_part["sex"].map({"M": "1", "F": "2"}).fillna(""),
        "child_pugh_class": demo_part["child_pugh_class"].map({"A": "1", "B": "2", "C": "3"}).fillna(""),
        "ecog": text("ecog"), "date_death": iso("date_death"), "last_follow_up": iso("date_last_followup"),
        **{c: demo_part[c].map({True: "1", False: "0"}).astype(object).fillna("") for c in BOOL_COLUMNS
           if c in ("concomitant_lrt", "interline_lrt", "trial_after_1l")}})
    lines = pd.DataFrame({
        "record_id": demo_part["patient_id"], "redcap_repeat_instrument": "treatment_line",
        "redcap_repeat_instance": "1", "regimen": demo_part["regimen_1l"].map(regimen_codes),
        "start": iso("start_1l"), "date_progression": iso("date_progression_1l"),
        "best_response": demo_part["best_response_1l"].map(
            {"CR": "1", "PR": "2", "SD": "3", "PD": "4", "NE": "5"}).fillna("")})
    records = pd.concat([base, lines], ignore_index=True).fillna("").sort_values("record_id", kind="stable")
    records["treatment_line_complete"] = (records["redcap_repeat_instrument"] == "treatment_line").map(
        {True: "2", False: ""})
    return [("records.csv", records.to_csv(index=False).encode()), ("dictionary.csv", dict_csv.to_csv(index=False).encode())]


def test_redcap_export_maps_to_the_same_registry_and_analysis(demo_part, expected) -> None:
    source = read_sources(_redcap_files(demo_part))
    assert source.redcap
    mapping = replace(mp.propose(source.raw), cap_age=True)
    assert not mp.missing_required(mapping)
    registry = load_source(source, mapping)
    assert registry.n_errors == 0
    pd.testing.assert_frame_equal(_canonical(registry), _canonical(expected[0]))
    assert _analysis(registry) == expected[1]
