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


def test_the_demo_and_other_formats_take_the_full_path(tmp_path, monkeypatch, capsys) -> None:
    """The bundled demo (synthetic: no identifier scan; ages past 89) and non-CSV files go the full way."""
    assert _open(DEMO_PATH).reason == "the bundled demo"
    copy = tmp_path / "demo.csv"
    copy.write_bytes(DEMO_PATH.read_bytes())
    assert _open(copy).registry is None  # its ages of 90 and more are an identifier finding
    assert _open(tmp_path / "x.parquet").registry is None


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


def test_numbers_and_dates_in_the_strict_forms_read_the_same_in_duckdb_and_in_validation() -> None:
    """The typed table holds DuckDB's casts; validation parses with pandas: equal on every strict form
    (random numbers with 0-2 decimals, signs, leading zeros; random valid dates 1900-2199)."""
    import datetime

    import duckdb
    import numpy as np
    import pandas as pd

    from hcc.ingest.validate import _parse_dates, _parse_numbers
    from hcc.schema import Column, Kind

    rng = np.random.default_rng(17)
    n = 5000
    numbers = [("-" if rng.random() < 0.3 else "") + str(rng.integers(0, 10 ** int(rng.integers(1, 10))))
               + rng.choice(["", f".{rng.integers(0, 10)}", f".{rng.integers(0, 100):02d}"]) for _ in range(n)]
    first = datetime.date(1900, 1, 1).toordinal()
    dates = [datetime.date.fromordinal(first + int(k)).isoformat()
             for k in rng.integers(0, datetime.date(2199, 12, 31).toordinal() - first + 1, n)]
    con = duckdb.connect()
    cast = con.execute("SELECT list_transform(?, lambda v: TRY_CAST(v AS DOUBLE)), "
                       "list_transform(?, lambda v: TRY_CAST(v AS DATE))", [numbers, dates]).fetchone()
    con.close()
    parsed, unreadable, _ = _parse_numbers(pd.Series(numbers, dtype=object), Column("x", Kind.FLOAT, False, ""))
    assert not unreadable.any()
    assert parsed.abs().tolist() == [abs(x) for x in cast[0]] and list(np.signbit(parsed)) == list(np.signbit(cast[0]))
    assert list(_parse_dates(pd.Series(dates, dtype=object)).dt.date) == cast[1]


def test_the_table_lives_in_memory_only(clean_csv) -> None:
    """A per-call in-memory connection that may not spill rows to a temporary directory."""
    clean = _open(clean_csv).registry
    try:
        settings = clean.connection.execute("SELECT current_setting('temp_directory'), "
                                            "(SELECT COUNT(*) FROM duckdb_databases() WHERE path IS NOT NULL)").fetchone()
    finally:
        clean.close()
    assert settings == ("", 0)


def test_date_check_accepts_exactly_the_strict_form():
    """:func:`fastpath._date_check` (DuckDB's date read back as text) accepts exactly the cells the
    pattern :data:`fastpath._DATE_FORM` and a valid date accept: checked on valid dates, every one-character
    substitution, deletion and insertion of some, and forms DuckDB's reader takes otherwise."""
    import duckdb

    seeds = ["2009-05-20", "1900-01-01", "2199-12-31", "2008-02-29", "2000-02-29", "1999-12-31", "2010-10-10"]
    alphabet = "0123456789-/ .T+:\t\u0660\uff10aZ"
    cells = {*seeds, "1899-12-31", "2200-01-01", "2009-02-29", "1900-02-29", "2009-13-01", "2009-00-10",
             "2009-04-31", "2009-05-00", "0999-05-20", "10000-01-01", "infinity", "-infinity", "epoch", "today",
             "2009-05-20 00:00:00", "2009-05-20T00:00", "20090520", "2009-5-20", "09-05-20", "2009-05-20 (BC)",
             "2009-05-20BC", " 2009-05-20", "2009-05-20 ", "+2009-05-20", "-2009-05-20", "2009/05/20", ""}
    for seed in seeds[:3]:
        for i in range(len(seed) + 1):
            cells.add(seed[:i] + seed[i + 1:])
            for c in alphabet:
                cells.add(seed[:i] + c + seed[i + 1:])
                cells.add(seed[:i] + c + seed[i:])
    con = duckdb.connect()
    con.execute("CREATE TABLE t (v VARCHAR)")
    con.executemany("INSERT INTO t VALUES (?)", [[c] for c in sorted(cells)])
    new, old = fastpath._date_check("v"), f"regexp_full_match(v, '{fastpath._DATE_FORM}') AND TRY_CAST(v AS DATE) IS NOT NULL"
    rows = con.execute(f"SELECT v, COALESCE({new}, FALSE), COALESCE({old}, FALSE) FROM t").fetchall()
    assert len(rows) > 1000 and sum(r[2] for r in rows) > 20
    assert [r[0] for r in rows if r[1] != r[2]] == []
