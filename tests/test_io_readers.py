"""hcc.ingest.io's two readers of delimited text (issue 17): Arrow's multi-threaded CSV reader for
UTF-8 files, pandas' reader for everything else and for every file whose dialect Arrow could read
differently. Both must give the same cells: each case below is read both ways (the pandas way by
turning the Arrow path off) and compared cell by cell; the cases that must not take the Arrow path are
checked to have left it. A structural test keeps row-wise Python out of reading and validation."""

from __future__ import annotations

import ast
from pathlib import Path

import pandas as pd
import pytest

from hcc.ingest import io as io_
from hcc.ingest.io import read_table
from hcc.ingest.registry import DEMO_PATH, from_raw

ROOT = Path(__file__).resolve().parent.parent


def _both(data: bytes, monkeypatch) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(cells as read now, cells as pandas' reader alone reads them), both as Python strings."""
    fast = read_table(data, "f.csv").cells
    with monkeypatch.context() as m:
        m.setattr(io_, "_read_arrow", lambda *args: None)
        slow = read_table(data, "f.csv").cells
    assert all(t == object for t in slow.dtypes)
    return fast, slow


def _arrow(cells: pd.DataFrame) -> bool:
    return all(isinstance(t, pd.ArrowDtype) for t in cells.dtypes)


ARROW_CASES = {
    "plain": b"patient_id,center,age\nP1,C1,61\nP2,C2,70\n",
    "quoted separators and doubled quotes": b'a,b\n"x, y","say ""hi"""\n"",z\n',
    "byte-order mark and CRLF": b"\xef\xbb\xbfa,b\r\n1,2\r\n3,4\r\n",
    "blank lines": b"a,b\n1,2\n\n3,4\n\n",
    "padding, ideographic and control spaces": "a,b\n  x\u3000 ,\t y\x1f\n\u3000, \n".encode(),
    "ASCII control spaces": b"a,b\n" + b"p,q\n" * 20 + b"\x0bx\x1c,\x1fy \x0c\n",  # rows: not 'binary'
    "semicolons and decimal commas": b"a;b\n1,5;2\n3;4,25\n",
    "tabs": b"a\tb\nx\ty\n",
    "japanese text": "施設,年齢\n千葉大学,61\n".encode(),
    "empty cells and NA words": b"a,b,c\n,NA,null\nN/A,,-\n",
}

PANDAS_CASES = {
    "duplicate header names": b"a,a,b\n1,2,3\n",
    "blank header name": b"a,,b\n1,2,3\n",
    "space-padded header name": b"a, b\n1,2\n",
    "quote after a separator and a space": b'a,b\n1, "x,y"\n',
    "line break inside quotes": b'a,b\n1,"two\nlines"\n',
    "short row": b"a,b,c\n1,2\n3,4,5\n",
    "shift-jis": "施設,年齢\n千葉大学,61\n".encode("cp932"),
    "carriage return inside the header": b"\r0\n0\n",  # found by tests/test_properties.py
}


@pytest.mark.parametrize("data", ARROW_CASES.values(), ids=ARROW_CASES.keys())
def test_arrow_reads_utf8_files_as_pandas_does(data, monkeypatch) -> None:
    fast, slow = _both(data, monkeypatch)
    assert _arrow(fast), "a plain UTF-8 file should take the Arrow path"
    assert list(fast.columns) == list(slow.columns)
    pd.testing.assert_frame_equal(fast.astype(object), slow)


@pytest.mark.parametrize("data", PANDAS_CASES.values(), ids=PANDAS_CASES.keys())
def test_dialects_arrow_could_read_differently_go_to_pandas(data, monkeypatch) -> None:
    fast, slow = _both(data, monkeypatch)
    assert not _arrow(fast)
    pd.testing.assert_frame_equal(fast, slow)


def test_cells_are_trimmed_exactly_as_python_strips() -> None:
    text = "a,b\n\u3000\u00a0x y\x1c\u2003 ,\u200bz\n"  # U+200B is not whitespace for Python: kept
    cells = read_table(text.encode(), "f.csv").cells
    assert cells.iloc[0].tolist() == ["x y", "\u200bz"]


def test_a_ragged_file_gets_the_same_message_from_both_readers(monkeypatch) -> None:
    data = b"a,b\n1,2\n3,4,5,6\n"
    with pytest.raises(io_.DataFileError) as fast:
        read_table(data, "f.csv")
    monkeypatch.setattr(io_, "_read_arrow", lambda *args: None)
    with pytest.raises(io_.DataFileError) as slow:
        read_table(data, "f.csv")
    assert str(fast.value) == str(slow.value)
    assert "Check that every row has the same number of columns" in str(fast.value)


def test_the_demo_registry_is_the_same_registry_through_either_reader(monkeypatch) -> None:
    data = DEMO_PATH.read_bytes()
    fast = from_raw(read_table(data, "demo.csv"), is_demo=True)
    monkeypatch.setattr(io_, "_read_arrow", lambda *args: None)
    slow = from_raw(read_table(data, "demo.csv"), is_demo=True)
    pd.testing.assert_frame_equal(fast.frame, slow.frame)
    assert fast.issues == slow.issues
    pd.testing.assert_frame_equal(fast.excluded, slow.excluded)


def _row_wise_calls(path: Path) -> list[str]:
    """``DataFrame.apply(..., axis=1)``, ``iterrows`` and ``itertuples`` calls in a module."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            name = node.func.attr
            row_apply = name == "apply" and any(k.arg == "axis" for k in node.keywords)
            if row_apply or name in ("iterrows", "itertuples"):
                found.append(f"{path.name}:{node.lineno} {name}")
    return found


def test_reading_mapping_and_validation_have_no_row_wise_python() -> None:
    """A million-row upload passes through these modules; a Python call per row costs seconds. (The
    REDCap data dictionary, a few hundred rows, is read row by row in ``read_dictionary``.)"""
    ingest = ROOT / "hcc" / "ingest"
    found = [c for p in sorted(ingest.glob("*.py")) for c in _row_wise_calls(p)]
    assert [f.split(":")[0] + " " + f.split()[-1] for f in found] == ["redcap.py iterrows"], found


def test_whitespace_is_pythons():
    """``io._WHITESPACE`` is written out; it must stay exactly the characters ``str.isspace`` accepts."""
    from hcc.ingest import io as io_

    assert io_._WHITESPACE == "".join(chr(c) for c in range(0x110000) if chr(c).isspace())


@pytest.mark.parametrize("data, trimmed", [
    (b"a,b\nx y,z\n", False),                       # inner spaces only: nothing to trim
    (b"a,b\nx ,z\n", True), (b"a,b\nx, z\n", True), (b'a,b\n" x",z\n', True), (b"a,b\nx,z \n", True),
    (b"a,b\n" + b"p,q\n" * 20 + b"x\x0b,z\n", True), (b"a\tb\nx\ty\n", False), (b"a,b\nx\ty,z\n", True),
])
def test_an_ascii_file_is_trimmed_only_when_a_cell_may_need_it(data, trimmed, monkeypatch) -> None:
    """Issue 17: trimming a 1M-row registry's cells costs ~0.4 s; a file whose cells cannot begin or end
    with whitespace skips it, with the same cells as Python's strip (the cases above compare readers)."""
    import pyarrow.compute as pc

    calls = []
    real = pc.ascii_trim
    monkeypatch.setattr(pc, "ascii_trim", lambda *a, **k: calls.append(1) or real(*a, **k))
    fast, slow = _both(data, monkeypatch)
    assert bool(calls) is trimmed
    pd.testing.assert_frame_equal(fast.astype(object), slow)
