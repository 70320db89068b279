"""The fast path of ``analyze --stats km`` (:mod:`hcc.ingest.fastpath`): a clean CSV in the data contract
gives the same JSON as the full path, byte for byte; a file with any finding, or any doubt about how
it reads, is declined (the full path then reports every finding with its row)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from benchmarks.registry import write_registry_csv
from hcc.cli import common as cli_common
from hcc.cli.main import main
from hcc.cohort.rules import CohortSpec
from hcc.engine import TABLE
from hcc.ingest import fastpath
from hcc.ingest.registry import DEMO_PATH

N = 300


def _open(path: Path, **options) -> fastpath.Decision:
    return fastpath.open_clean(path, TABLE, **options)


@pytest.fixture(scope="module")
def clean_csv(tmp_path_factory) -> Path:
    """A synthetic registry in the data contract (ISO dates, yes/no, ages top-coded at 89): clean."""
    return write_registry_csv(N, tmp_path_factory.mktemp("fast") / "registry.csv", seed=7)


def _run(args: list[str], out: Path, *, fast: bool, monkeypatch, capsys) -> tuple[bytes, str]:
    """The --out file and stderr of one ``analyze`` run, the fast path allowed or not."""
    with monkeypatch.context() as m:
        if not fast:
            m.setattr(cli_common, "clean_registry", lambda args, columns=None: None)
        assert main(["analyze", *args, "--out", str(out), "--verbose"]) == 0
    return out.read_bytes(), capsys.readouterr().err


@pytest.mark.parametrize("options", [
    ["--preset", "main"],
    ["--preset", "full", "--lang", "ja"],
    ["--preset", "main", "--ci", "plain", "--lang", "ja"],
])
def test_a_clean_file_takes_the_fast_path_and_writes_the_same_json(clean_csv, tmp_path, options, monkeypatch,
                                                                   capsys) -> None:
    args = ["--data", str(clean_csv), "--stats", "km", *options]
    fast, said = _run(args, tmp_path / "fast.json", fast=True, monkeypatch=monkeypatch, capsys=capsys)
    full, _ = _run(args, tmp_path / "full.json", fast=False, monkeypatch=monkeypatch, capsys=capsys)
    assert "path: fast" in said
    assert fast == full
    assert json.loads(fast)["data"]["rows"] == N


def test_a_spec_with_rules_on_every_kind_of_column_gives_the_same_json(clean_csv, tmp_path, monkeypatch,
                                                                       capsys) -> None:
    """Numbers, categories, yes/no, dates and centers read alike in both paths (cohort rules on each)."""
    spec = tmp_path / "spec.json"
    spec.write_text(CohortSpec(exclude_concomitant_lrt=True, age_min=40, afp_below=1000, child_pugh=("A", "B"),
                               ecog_ps=(0, 1), with_mvi=False, centers=("C01", "C02", "C03", "C05", "C08"),
                               start_from="2010-01-01", other_below=20).to_json())
    args = ["--data", str(clean_csv), "--stats", "km", "--spec", str(spec)]
    fast, said = _run(args, tmp_path / "fast.json", fast=True, monkeypatch=monkeypatch, capsys=capsys)
    full, _ = _run(args, tmp_path / "full.json", fast=False, monkeypatch=monkeypatch, capsys=capsys)
    assert "path: fast" in said
    assert fast == full


def _lines(path: Path) -> list[str]:
    return path.read_text(encoding="utf-8").split("\n")


def _set_cell(lines: list[str], row: int, column: str, value: str) -> list[str]:
    """``lines`` with one cell replaced (``row``: 1 is the first patient)."""
    header = lines[0].split(",")
    cells = lines[row].split(",")
    cells[header.index(column)] = value
    return lines[:row] + [",".join(cells)] + lines[row + 1:]


def _first_row_with(lines: list[str], column: str) -> int:
    i = lines[0].split(",").index(column)
    return next(r for r in range(1, len(lines)) if lines[r] and lines[r].split(",")[i])


#: One change each that today's path reports (an error, warning, identifier finding or mapping
#: decision) or that a reader could read differently: each must be declined.
CELL_PROBLEMS = [
    ("start_1l", "15/03/2010"), ("start_1l", "2010/03/15"), ("start_1l", " 2010-03-15"), ("start_1l", "2010-02-30"),
    ("start_1l", "1650-01-01"), ("start_1l", ""), ("date_last_followup", "2001-01-01"),
    ("date_death", "soon"), ("start_2l", "2190-01-01"),
    ("patient_id", ""), ("patient_id", "SYN0002"), ("patient_id", "+81 3 1234 5678"),
    ("center", "someone@example.org"), ("center", "see the notes of the clinic"), ("center", "C05 "),
    ("regimen_1l", "sor"), ("regimen_1l", "Sorafenib"), ("regimen_1l", ""), ("regimen_2l", "Stivarga"),
    ("age", "90"), ("age", "17"), ("age", "sixty"), ("age", "60.125"), ("age", "6e1"), ("afp", "-1"),
    ("child_pugh_score", "5.5"), ("ecog", "5"), ("albi_score", "1.5"),
    ("concomitant_lrt", "Yes"), ("concomitant_lrt", "1"), ("mvi", "maybe"),
    ("sex", "m"), ("sex", "male"), ("best_response_1l", "partial response"), ("bclc", "E"), ("albi_grade", "2A"),
]


@pytest.mark.parametrize("column, value", CELL_PROBLEMS)
def test_every_kind_of_problem_in_a_cell_is_declined(clean_csv, tmp_path, column, value) -> None:
    lines = _lines(clean_csv)
    row = 1 if column != "patient_id" or value != "SYN0002" else 3  # a duplicate of row 2's code
    if column in ("date_death", "regimen_2l", "start_2l"):
        row = _first_row_with(lines, column)
    path = tmp_path / "registry.csv"
    path.write_text("\n".join(_set_cell(lines, row, column, value)), encoding="utf-8")
    decision = _open(path, explain=True)
    assert decision.registry is None and decision.reason


#: What Arrow's reader would take but the strict forms refuse (its own parsing leniencies, default null
#: strings, trimming): each must be declined.
ARROW_LENIENCIES = [
    ("start_1l", "2010-3-15"), ("start_1l", "2010-03-15 "), ("start_1l", "\t2010-03-15"), ("start_1l", "0099-05-20"),
    ("start_1l", "2262-04-12"), ("start_1l", "9999-12-31"), ("start_1l", "2010-03-15\u00a0"), ("start_1l", "NA"),
    ("date_last_followup", "null"), ("start_1l", "\u0662\u0660\u0661\u0660-03-15"),
    ("age", "6e1"), ("age", "+60"), ("age", "60."), ("age", "inf"), ("age", "nan"), ("age", "NaN"), ("age", "NA"),
    ("age", "\uff16\uff10"), ("age", "60\u00a0"), ("afp", ".5"), ("afp", "0x1A"), ("afp", "1_000"), ("afp", "null"),
    ("afp", "-inf"), ("concomitant_lrt", "TRUE"), ("concomitant_lrt", "True"), ("concomitant_lrt", "true"),
    ("mvi", "NA"), ("mvi", "null"), ("sex", "NA"), ("sex", "null"), ("sex", "NaN"), ("center", "C05\u00a0"),
    ("center", "C05\x0b"), ("patient_id", "SYN0000001\u3000"),
]


@pytest.mark.parametrize("column, value", ARROW_LENIENCIES)
def test_what_arrow_reads_leniently_is_declined(clean_csv, tmp_path, column, value) -> None:
    path = tmp_path / "registry.csv"
    path.write_text("\n".join(_set_cell(_lines(clean_csv), 1, column, value)), encoding="utf-8")
    decision = _open(path)
    assert decision.registry is None and decision.reason


def test_only_the_empty_cell_is_blank(clean_csv, tmp_path) -> None:
    """Arrow's default null strings are not blanks here (``null_values=[""]``): ``NA``, ``NaN``, ``null``,
    ``N/A`` in a text column are text, as the full path reads them (``keep_default_na=False``)."""
    lines = _lines(clean_csv)
    for row, value in enumerate(["NA", "NaN", "null", "N/A"], start=1):
        lines = _set_cell(lines, row, "center", value)
    lines = _set_cell(lines, 5, "center", "")
    path = tmp_path / "registry.csv"
    path.write_text("\n".join(lines), encoding="utf-8")
    clean = _open(path, columns=None).registry
    try:
        centers = clean.connection.execute("SELECT center FROM hcc_registry ORDER BY patient_id").fetchall()
    finally:
        clean.close()
    assert [c for (c,) in centers[:5]] == ["NA", "NaN", "null", "N/A", None]


def _edit_line(text: str, number: int, edit) -> str:
    lines = text.split("\n")
    return "\n".join(lines[:number] + [edit(lines[number])] + lines[number + 1:])


FILE_PROBLEMS = {
    "quotes": lambda text: text.replace("SYN0001", '"SYN0001"', 1),
    "byte-order mark": lambda text: "\ufeff" + text,
    "blank line": lambda text: text.replace("\n", "\n\n", 2),
    "bare carriage return": lambda text: text.replace("\n", "\r", 1),
    "short row": lambda text: _edit_line(text, 2, lambda line: line.rsplit(",", 1)[0]),
    "long row": lambda text: _edit_line(text, 2, lambda line: line + ",x"),
    "semicolons": lambda text: text.replace(",", ";"),
    "other column name": lambda text: text.replace("patient_id", "Patient ID", 1),
    "column outside the contract": lambda text: text.replace("\n", ",x\n"),
    "repeated column": lambda text: text.replace("center", "patient_id", 1),
    "required column missing": lambda text: text.replace("patient_id,", "", 1),
    "header only": lambda text: text.split("\n", 1)[0] + "\n",
}


@pytest.mark.parametrize("problem", sorted(FILE_PROBLEMS))
def test_every_doubt_about_the_file_is_declined(clean_csv, tmp_path, problem) -> None:
    path = tmp_path / "registry.csv"
    path.write_text(FILE_PROBLEMS[problem](clean_csv.read_text(encoding="utf-8")), encoding="utf-8")
    decision = _open(path)
    assert decision.registry is None and decision.reason


def test_latin1_bytes_are_declined(clean_csv, tmp_path) -> None:
    path = tmp_path / "registry.csv"
    path.write_bytes(clean_csv.read_bytes().replace(b"C05", b"C\xe905", 1))
    assert _open(path).registry is None


def test_the_demo_takes_the_fast_path_with_the_same_json(tmp_path, monkeypatch, capsys) -> None:
    """The bundled demo: its full path skips the identifier scan (synthetic; ages past 89), so does the
    fast path's check; the same JSON, ``synthetic_demo`` included."""
    args = ["--data", str(DEMO_PATH), "--stats", "km", "--preset", "main"]
    fast, said = _run(args, tmp_path / "fast.json", fast=True, monkeypatch=monkeypatch, capsys=capsys)
    full, _ = _run(args, tmp_path / "full.json", fast=False, monkeypatch=monkeypatch, capsys=capsys)
    assert "path: fast" in said
    assert fast == full and json.loads(fast)["data"]["synthetic_demo"] is True


def test_a_copy_of_the_demo_and_other_formats_take_the_full_path(tmp_path) -> None:
    """Only the bundled file is the demo (as :func:`hcc.ingest.registry.load_files` tells it); other formats
    go the full way."""
    copy = tmp_path / "demo.csv"
    copy.write_bytes(DEMO_PATH.read_bytes())
    assert _open(copy).registry is None  # its ages of 90 and more are an identifier finding
    assert _open(tmp_path / "x.parquet").registry is None


@pytest.mark.parametrize("column, value, accepted", [
    ("age", "95", True), ("center", "someone@example.org", True), ("patient_id", "0312345678", True),
    ("center", "see the notes of the clinic", True),
    ("age", "sixty", False), ("age", "111", False), ("center", "C05 ", False), ("start_1l", "2010-02-30", False),
    ("sex", "m", False), ("regimen_1l", "sor", False),
])
def test_the_demo_skips_the_identifier_checks_and_nothing_else(clean_csv, tmp_path, monkeypatch, column, value,
                                                               accepted) -> None:
    """What ``is_demo`` changes in the full path (:func:`hcc.ingest.registry.from_raw`: no
    :func:`hcc.ingest.deid.scan`) and nothing more: ages of 90 or more and identifier-like text are
    accepted in the demo; every other finding still declines."""
    import hcc.ingest.io

    path = tmp_path / "demo_registry.csv"
    path.write_text("\n".join(_set_cell(_lines(clean_csv), 1, column, value)), encoding="utf-8")
    assert (_open(path).registry is None) and (_open(path).reason != "")  # not the demo: declined
    monkeypatch.setattr(hcc.ingest.io, "DEMO_PATH", path.resolve())  # the one definition
    decision = _open(path)
    assert (decision.registry is not None) == accepted, decision.reason
    if decision.registry is not None:
        assert decision.registry.is_demo
        decision.registry.close()


@pytest.mark.parametrize("change", ["crlf", "columns reordered", "optional columns absent", "columns blank"])
def test_harmless_layouts_take_the_fast_path_with_the_same_json(clean_csv, tmp_path, change, monkeypatch,
                                                                capsys) -> None:
    """Line ends \\r\\n, the contract's columns in another order, optional columns left out or blank: the
    same JSON."""
    rows = [line.split(",") for line in _lines(clean_csv) if line]
    if change == "columns reordered":
        rows = [list(reversed(r)) for r in rows]
    if change == "optional columns absent":
        dropped = ("albi_score", "mvi", "date_dc_1l", "best_response_2l")
        keep = [i for i, name in enumerate(rows[0]) if name not in dropped]
        rows = [[r[i] for i in keep] for r in rows]
    if change == "columns blank":  # a rule not applied and an endpoint not available: said alike
        blank = [rows[0].index(name) for name in ("concomitant_lrt", "start_2l")]
        rows = rows[:1] + [["" if i in blank else v for i, v in enumerate(r)] for r in rows[1:]]
    path = tmp_path / "registry.csv"
    path.write_bytes(("\r\n" if change == "crlf" else "\n").join(",".join(r) for r in rows).encode("utf-8"))
    args = ["--data", str(path), "--stats", "km", "--preset", "main"]
    fast, said = _run(args, tmp_path / "fast.json", fast=True, monkeypatch=monkeypatch, capsys=capsys)
    full, _ = _run(args, tmp_path / "full.json", fast=False, monkeypatch=monkeypatch, capsys=capsys)
    assert "path: fast" in said
    assert fast == full


def test_verbose_names_the_reason_of_a_decline(clean_csv, tmp_path, monkeypatch, capsys) -> None:
    path = tmp_path / "registry.csv"
    path.write_text("\n".join(_set_cell(_lines(clean_csv), 1, "sex", "m")), encoding="utf-8")
    main(["analyze", "--data", str(path), "--stats", "km", "--out", str(tmp_path / "o.json"), "--verbose"])
    assert "path: full (a blank required value or a cell outside the strict forms, in sex)" in capsys.readouterr().err


@pytest.mark.parametrize("column, value", [("start_1l", "15/03/2010"), ("mvi", "maybe"), ("age", "sixty")])
def test_a_decline_names_the_column_never_the_cell(clean_csv, tmp_path, column, value) -> None:
    """A cell Arrow's reader refuses (its error quotes the cell) or a check refuses: the reason names the
    column only."""
    path = tmp_path / "registry.csv"
    path.write_text("\n".join(_set_cell(_lines(clean_csv), 2, column, value)), encoding="utf-8")
    explained, quiet = _open(path, explain=True).reason, _open(path).reason
    assert explained.endswith(f"in {column}") and value not in explained and value not in quiet


def test_the_messy_export_of_the_mapping_tests_is_declined(tmp_path) -> None:
    """tests/messy.py: the demo as hospital exports write it (other names, free-text regimens, DMY dates)."""
    from hcc.ingest.registry import load_demo
    from tests.messy import messy

    path = tmp_path / "export.csv"
    messy(load_demo().frame).to_csv(path, index=False)
    decision = _open(path)
    assert decision.registry is None and "outside the data contract" in decision.reason


def test_an_unknown_reference_regimen_is_the_same_error_on_both_paths(clean_csv, tmp_path, monkeypatch,
                                                                      capsys) -> None:
    args = ["analyze", "--data", str(clean_csv), "--stats", "km", "--reference", "XYZ"]
    assert main(args) == 2
    fast = capsys.readouterr().err
    monkeypatch.setattr(cli_common, "clean_registry", lambda args, columns=None: None)
    assert main(args) == 2
    assert fast == capsys.readouterr().err and "--reference XYZ: no such regimen" in fast


def test_numbers_and_dates_in_the_strict_forms_read_the_same_in_arrow_and_in_validation() -> None:
    """The typed table holds Arrow's reading (:func:`fastpath._typed`: numbers cast from their text,
    dates read as ``date32``); validation parses with pandas: equal on every strict form (random numbers
    with 0-2 decimals, signs, leading zeros; random valid dates 1900-2199)."""
    import datetime

    import numpy as np
    import pandas as pd
    import pyarrow as pa

    from hcc.ingest.validate import _parse_dates, _parse_numbers
    from hcc.schema import COLUMN_BY_NAME, Column, Kind

    rng = np.random.default_rng(17)
    n = 5000
    numbers = [("-" if rng.random() < 0.3 else "") + str(rng.integers(0, 10 ** int(rng.integers(1, 10))))
               + rng.choice(["", f".{rng.integers(0, 10)}", f".{rng.integers(0, 100):02d}"]) for _ in range(n)]
    first = datetime.date(1900, 1, 1).toordinal()
    dates = [datetime.date.fromordinal(first + int(k)).isoformat()
             for k in rng.integers(0, datetime.date(2199, 12, 31).toordinal() - first + 1, n)]
    read = fastpath._read(("afp,start_1l\n" + "\n".join(f"{x},{d}" for x, d in zip(numbers, dates))).encode(),
                          ["afp", "start_1l"])
    cast = fastpath._typed(COLUMN_BY_NAME["afp"], read.column("afp"), n).to_pylist()
    assert all(isinstance(x, float) for x in cast) and read.column("start_1l").type == pa.date32()
    parsed, unreadable, _ = _parse_numbers(pd.Series(numbers, dtype=object), Column("x", Kind.FLOAT, False, ""))
    assert not unreadable.any()
    assert parsed.abs().tolist() == [abs(x) for x in cast] and list(np.signbit(parsed)) == list(np.signbit(cast))
    assert list(_parse_dates(pd.Series(dates, dtype=object)).dt.date) == read.column("start_1l").to_pylist()


def test_the_table_lives_in_memory_only(clean_csv) -> None:
    """A per-call in-memory connection that may not spill rows to a temporary directory."""
    clean = _open(clean_csv).registry
    try:
        settings = clean.connection.execute("SELECT current_setting('temp_directory'), "
                                            "(SELECT COUNT(*) FROM duckdb_databases() WHERE path IS NOT NULL)").fetchone()
    finally:
        clean.close()
    assert settings == ("", 0)


def _date_cell_accepted(cell: str) -> bool:
    """Whether the fast path's checks accept ``cell`` in a date column: the whitespace look at the bytes,
    Arrow's ``date32`` reader, the column's range."""
    import pyarrow as pa

    from hcc.schema import COLUMN_BY_NAME

    data = f"start_1l\n{cell}\n".encode()
    if fastpath._whitespace_doubt(data):
        return False
    try:
        cells = fastpath._read(data, ["start_1l"])
    except pa.ArrowInvalid:
        return False
    return not fastpath._column_doubt(COLUMN_BY_NAME["start_1l"], cells.column(0))


def test_date_check_accepts_exactly_the_strict_form():
    """The fast path's date check (:func:`_date_cell_accepted`: Arrow's own date reader, after the look
    for whitespace at a cell's edge, and the range) accepts exactly the cells the pattern
    :data:`fastpath._DATE_FORM` and a valid date accept: checked on valid dates, every one-character
    substitution, deletion and insertion of some, and forms readers take otherwise."""
    import datetime
    import re

    seeds = ["2009-05-20", "1900-01-01", "2199-12-31", "2008-02-29", "2000-02-29", "1999-12-31", "2010-10-10"]
    alphabet = "0123456789-/ .T+:\t\u0660\uff10aZ\u00a0\x0b"
    cells = {*seeds, "1899-12-31", "2200-01-01", "2009-02-29", "1900-02-29", "2009-13-01", "2009-00-10",
             "2009-04-31", "2009-05-00", "0999-05-20", "0099-05-20", "2262-04-12", "9999-12-31", "0000-01-01",
             "10000-01-01", "infinity", "-infinity", "epoch", "today", "NA", "NaN", "null", "2009-05-20 00:00:00",
             "2009-05-20T00:00", "20090520", "2009-5-20", "2020-1-1", "09-05-20", "2009-05-20 (BC)",
             "2009-05-20BC", " 2009-05-20", "2009-05-20 ", "\t2009-05-20", "+2009-05-20", "-2009-05-20",
             "2009/05/20", "\u0662\u0660\u0660\u0669-05-20"}
    for seed in seeds[:3]:
        for i in range(len(seed) + 1):
            cells.add(seed[:i] + seed[i + 1:])
            for c in alphabet:
                cells.add(seed[:i] + c + seed[i + 1:])
                cells.add(seed[:i] + c + seed[i:])
    cells.discard("")

    def strict(cell: str) -> bool:
        if not re.fullmatch(fastpath._DATE_FORM, cell):
            return False
        try:
            datetime.date(int(cell[:4]), int(cell[5:7]), int(cell[8:]))
        except ValueError:
            return False
        return True

    verdicts = [(cell, _date_cell_accepted(cell), strict(cell)) for cell in sorted(cells)]
    assert len(verdicts) > 1000 and sum(v[2] for v in verdicts) > 20
    assert [cell for cell, new, old in verdicts if new != old] == []


def test_text_doubt_is_the_pattern_with_a_shortcut_for_codes() -> None:
    """:func:`fastpath._text_doubt` (kernels for values of ASCII letters and digits, else the pattern) flags
    exactly what :data:`fastpath._TEXT_DOUBT` (and the demo's :data:`fastpath._TEXT_EDGE`) match, value by
    value and over a column: codes, digit runs of 8-10 (telephone-like from 9), Unicode digits and spaces."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    rng = np.random.default_rng(3)
    alphabet = list("aZ09 @()-+") + ["\t", "\u00a0", "\u0663", "\uff11", "\u3000"]
    values = {"SYN0000001", "C05", "SOR", "A1", "12345678", "123456789", "0123456789", "+81312345678", "1234 5678 9",
              "\u0663" * 9, "\uff11" * 9, "a b c d", " C05", "C05 ", "C 05", "a@b", "x"}
    values |= {"".join(rng.choice(alphabet, int(rng.integers(1, 12)))) for _ in range(600)}
    values |= {"".join(rng.choice(list("0123456789"), int(rng.integers(7, 12)))) for _ in range(50)}
    values |= {"".join(rng.choice(list("AZaz09"), int(rng.integers(1, 12)))) for _ in range(50)}
    for demo, pattern in ((False, fastpath._TEXT_DOUBT), (True, fastpath._TEXT_EDGE)):
        expected = pc.match_substring_regex(pa.array(sorted(values)), pattern).to_pylist()
        assert [fastpath._text_doubt(pa.array([v]), is_demo=demo) for v in sorted(values)] == expected
        codes = [v for v in sorted(values) if v.isascii() and v.isalnum()]
        assert len(codes) > 50 and fastpath._text_doubt(pa.array(codes), is_demo=demo) == any(
            pc.match_substring_regex(pa.array(codes), pattern).to_pylist())
    assert fastpath._text_doubt(pa.array(["SYN0000001", "123456789"])) and not fastpath._text_doubt(pa.array(["C05"]))


def test_every_date_order_rule_declines(clean_csv, tmp_path) -> None:
    """Each rule of :data:`hcc.schema.DATE_ORDER` (one day past its slack) and of
    :data:`hcc.schema.WITHIN_FOLLOWUP` (one day after the end of follow-up), broken in one row of the
    clean file, declines the file with that rule's finding; the slack itself does not."""
    import datetime

    from hcc.schema import DATE_ORDER, WITHIN_FOLLOWUP, Col

    lines = _lines(clean_csv)
    header = lines[0].split(",")

    def row_with(*columns: str) -> int:
        return next(r for r in range(1, len(lines)) if lines[r] and all(lines[r].split(",")[header.index(c)]
                                                                        for c in columns))

    def shifted(row: int, column: str, days: int) -> str:
        day = datetime.date.fromisoformat(lines[row].split(",")[header.index(column)])
        return (day + datetime.timedelta(days=days)).isoformat()

    def reason(changed: list[str]) -> str:
        path = tmp_path / "registry.csv"
        path.write_text("\n".join(changed), encoding="utf-8")
        return _open(path).reason

    for rule in DATE_ORDER:
        row = row_with(rule.earlier, rule.later)
        late = _set_cell(lines, row, rule.later, shifted(row, rule.earlier, -rule.slack_days - 1))
        assert reason(late) == f"{rule.later} before {rule.earlier}"
    rule = DATE_ORDER[-1]  # the death tolerance: a death one day before the last follow-up is no finding
    row = row_with(Col.DATE_DEATH)
    assert reason(_set_cell(lines, row, Col.DATE_DEATH, shifted(row, Col.DATE_LAST_FOLLOWUP, -rule.slack_days))) == ""
    for column in WITHIN_FOLLOWUP:  # the end: death, else the last follow-up
        row = row_with(column)
        end = Col.DATE_DEATH if lines[row].split(",")[header.index(Col.DATE_DEATH)] else Col.DATE_LAST_FOLLOWUP
        found = reason(_set_cell(lines, row, column, shifted(row, end, 1)))
        assert found == f"{column} after the end of follow-up" or found.endswith(f"before {column}")
