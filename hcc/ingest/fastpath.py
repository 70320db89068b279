"""The fast path for a clean registry CSV in the data contract: checked in Arrow and held in DuckDB, or declined.

:func:`open_clean` takes the path of a delimited file and either returns the registry as a typed
DuckDB table (named as :mod:`hcc.engine` reads it; one per call, in its own in-memory connection) or
says why it declines; a declined file goes through today's path (:func:`hcc.ingest.registry.load_files`), which
reports every finding with its row. A file is accepted only when that path would find **nothing**:
no error, warning or note of :func:`hcc.ingest.validate.validate`, no identifier finding of
:func:`hcc.ingest.deid.scan` (skipped for the bundled demo, as that path skips it), no mapping or
date-format decision of :func:`hcc.ingest.registry.auto_mapping`, no encoding warning, within
:func:`hcc.ingest.io.check_shape`'s limits. Every check below is
*stricter* than the finding it stands for (it may decline a file the full path would read without a
word, never the reverse), and every value the table holds is one that both paths read the same way:

- the bytes: UTF-8 without BOM, no NUL, no double quote (no quoting dialect to disagree on), line
  ends ``\\n`` or ``\\r\\n``, no tab and no space at a cell's edge; the header is distinct canonical names
  (:data:`hcc.schema.COLUMNS`) separated by commas, the required ones among them; Arrow's reader
  (quoting off, one row per line; a blank line is a row of blanks) must read every row with the
  header's width;
- every cell in a strict form: dates ``YYYY-MM-DD`` (valid, years 1900-2199), numbers
  ``-?digits(.d or .dd)`` within the column's range (whole for integer columns, ages below
  :data:`hcc.schema.AGE_CAP`), yes/no columns ``yes`` or ``no``, categories exactly one of the
  allowed values, text without surrounding or repeated whitespace, ``@`` or a telephone-like form;
  regimen values that the mapping proposal and validation leave as written; only the empty cell is
  blank;
- no blank required value, no duplicate ``patient_id``, no date out of order
  (:data:`hcc.schema.DATE_ORDER`, :data:`hcc.schema.WITHIN_FOLLOWUP`).

How: the file's bytes (the very bytes hashed for the JSON's SHA-256) are read once by Arrow's
multi-threaded CSV reader, dates and yes/no typed by the reader itself (exact forms), the other
columns as text dictionary-encoded per block, so each block's *distinct* values are checked and typed
once (RE2 and vectorised kernels); the typed Arrow table is registered in DuckDB (read in place).
Blanks are NULL. Nothing is written to disk and nothing is kept after the call's connection closes.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from hcc.ingest import io as io_
from hcc.schema import (
    AGE_CAP, COLUMN_BY_NAME, COLUMNS, DATE_ORDER, REQUIRED, STUDY_REGIMENS, WITHIN_FOLLOWUP, Col, Column, Kind,
)

#: Text cells of the contract's free-text columns that the identifier scan or the reader's trim could
#: notice: surrounding whitespace (Python's, :data:`hcc.ingest.io._WHITESPACE`), three or more
#: whitespace characters (free text needs four words), ``@`` (e-mail) or a telephone-like form
#: (:data:`hcc.ingest.deid._PHONE`, with Python's Unicode digits as RE2's ``\\p{Nd}``).
_WS = "[" + "".join(f"\\x{{{ord(c):x}}}" for c in io_._WHITESPACE) + "]"
_TEXT_EDGE = f"^{_WS}|{_WS}$"
_TEXT_DOUBT = f"{_TEXT_EDGE}|{_WS}.*{_WS}.*{_WS}|@|^\\+?[\\p{{Nd}} ()-]{{9,}}$"
#: Dates both paths read alike (pandas' datetime64[ns] ends in 2262): the strict form, which Arrow's
#: ``date32`` reader and the range :data:`_DAYS` (days since 1970) accept exactly (tested against
#: this pattern in ``tests/test_fastpath.py``).
_DATE_FORM = "(19|20|21)[0-9]{2}-[0-9]{2}-[0-9]{2}"
_DAYS = tuple((d - date(1970, 1, 1)).days for d in (date(1900, 1, 1), date(2199, 12, 31)))
#: Numbers whose decimal value both parsers round alike (at most two decimals: one exact division).
_NUMBER_FORM = "-?[0-9]{1,9}(\\.[0-9]{1,2})?"
_YES, _NO = "yes", "no"
#: Most distinct values of a regimen column checked here (the mapping proposes for the most frequent
#: :data:`hcc.ingest.mapping.MAX_DISTINCT_VALUES` only).
_MAX_REGIMENS = 200
#: Their distinct values are checked against the mapping proposal.
_REGIMEN_COLUMNS = (Col.REGIMEN_1L, Col.REGIMEN_2L, Col.REGIMEN_3L)
#: Bytes per block of Arrow's reader: a block per thread at a time, and each block's distinct values
#: checked once (fewer, larger blocks: fewer repeats of the same values; measured 1-16 MB at 1M rows).
_BLOCK = 4 * 2**20


@dataclass
class CleanRegistry:
    """A clean registry file as a DuckDB table: what :func:`hcc.analysis.km_json` reports of a
    :class:`hcc.ingest.registry.Registry`, and the connection that holds the table (an
    :class:`hcc.engine.Engine`: ``dialect`` and ``query``)."""

    name: str
    sha256: str
    rows_read: int
    connection: Any = field(repr=False)
    is_demo: bool = False
    dialect: str = "duckdb"

    def columns(self, sql: str):
        return self.connection.execute(sql).fetchnumpy()  # numpy, not pandas: the fast path imports no pandas

    def query(self, sql: str):
        return self.connection.execute(sql).df()

    def close(self) -> None:
        self.connection.close()


@dataclass(frozen=True)
class Decision:
    """What :func:`open_clean` decided: the registry, or ``None`` and the reason (one line)."""

    registry: CleanRegistry | None
    reason: str


def _decline(reason: str) -> Decision:
    return Decision(None, reason)


def _header_columns(data: bytes) -> tuple[list[str] | None, str]:
    end = data.find(b"\n")
    header = data[:end].rstrip(b"\r").decode("ascii", errors="replace")
    names = header.split(",")
    known = {c.name for c in COLUMNS}
    if any(n not in known for n in names):
        return None, "the header has names outside the data contract (a mapping is proposed)"
    if len(set(names)) != len(names):
        return None, "the header repeats a column"
    if any(r not in names for r in REQUIRED):
        return None, "a required column is missing"
    return names, ""


def _bytes_doubt(data: bytes, name: str) -> str:
    """Why the file's bytes might read differently in Arrow and in :func:`hcc.ingest.io.read_table`
    ("" when they cannot). A blank line is not looked for here: Arrow reads it as a row of blank cells,
    whose blank ``patient_id`` declines (single-byte searches only: a two-byte search costs ~0.18 s at 1M)."""
    if not data or data.isspace():
        return "the file is empty"
    if io_._looks_binary(data) or b"\x00" in data:
        return "not a text file"
    if data.startswith(b"\xef\xbb\xbf"):
        return "a byte-order mark"
    if not (data.isascii() or io_._decodes(data, "utf-8")):
        return "not UTF-8"
    if b'"' in data:
        return "quoted cells"
    if b"\r" in data and data.count(b"\r") != data.count(b"\r\n"):
        return "a carriage return that does not end a line"
    if data.startswith((b"\n", b"\r")):
        return "a blank line"
    if b"\n" not in data:
        return "no patient rows"
    return ""


def _arrow_type(col: Column):
    """How Arrow's reader takes ``col``'s cells: dates and yes/no typed by the reader itself (both exact, see
    :func:`_read`), the identifier as plain text (a million distinct values), every other column as
    text dictionary-encoded per block (its distinct values are checked, then typed, once)."""
    import pyarrow as pa  # noqa: PLC0415

    if col.kind is Kind.DATE:
        return pa.date32()
    if col.kind is Kind.BOOL:
        return pa.bool_()
    if col.name == Col.PATIENT_ID:
        return pa.string()
    return pa.dictionary(pa.int32(), pa.string())


def _read(data: bytes, names: list[str]):
    """The cells of a file that passed :func:`_bytes_doubt` and :func:`_header_columns` as an Arrow table
    (raises ``pyarrow.ArrowInvalid`` for a row of another width or a date or yes/no cell outside its form).

    Exact where the reader types: a ``date32`` cell is 4 ASCII digits, ``-``, 2, ``-``, 2 making a valid
    date, after Arrow trims spaces and tabs (which :func:`_whitespace_doubt` rules out first); a boolean
    cell is exactly ``yes`` or ``no`` (no trim); only the empty cell is null (Arrow's default null
    strings ``NA``, ``NaN``, ``null``, ... are not: they stay text, or fail to type, as in the full path)."""
    import pyarrow as pa  # noqa: PLC0415
    from pyarrow import csv  # noqa: PLC0415

    return csv.read_csv(
        pa.BufferReader(data),
        read_options=csv.ReadOptions(use_threads=True, block_size=_BLOCK),
        parse_options=csv.ParseOptions(delimiter=",", quote_char=False, double_quote=False, escape_char=False,
                                       newlines_in_values=False, ignore_empty_lines=False),
        convert_options=csv.ConvertOptions(column_types={n: _arrow_type(COLUMN_BY_NAME[n]) for n in names},
                                           null_values=[""], strings_can_be_null=True,
                                           quoted_strings_can_be_null=False, true_values=[_YES],
                                           false_values=[_NO], check_utf8=False))  # the whole file is UTF-8


def _whitespace_doubt(data: bytes) -> str:
    """Why a cell might begin or end with a space or a tab ("" when none can): Arrow's date reader trims
    them, the strict forms refuse them. A tab anywhere declines; spaces only when one touches a cell's
    edge (:func:`hcc.ingest.io._may_need_trim`)."""
    if b"\t" in data or (b" " in data and io_._may_need_trim(data, ",")):
        return "a cell that may begin or end with whitespace"
    return ""


def _values(column):
    """The distinct values of each block of a dictionary-read column, as one text array."""
    import pyarrow as pa  # noqa: PLC0415

    return pa.concat_arrays([chunk.dictionary for chunk in column.chunks]) if column.num_chunks \
        else pa.nulls(0, pa.string())  # pa.array() of Python values would import pandas (pyarrow's shim)


def _column_doubt(col: Column, column, *, is_demo: bool = False) -> str:
    """Why a column as :func:`_read` gives it might not be clean ("" when it is): a blank required value,
    a date out of 1900-2199, a value outside its strict form (checked on distinct values).
    ``is_demo``: the bundled demo's full path skips the identifier scan (ages of 90 or more, and the
    identifier patterns of text), and so does this check."""
    import numpy as np  # noqa: PLC0415
    import pyarrow.compute as pc  # noqa: PLC0415

    if col.required and column.null_count:
        return "a blank required value"
    if col.kind is Kind.DATE:
        low, high = pc.min_max(column.cast("int32")).values()  # days since 1970 (year 0 is no Python date)
        ok = low.as_py() is None or (_DAYS[0] <= low.as_py() and high.as_py() <= _DAYS[1])
        return "" if ok else "a date outside 1900-2199"
    if col.kind is Kind.BOOL:
        return ""
    values = column if col.name == Col.PATIENT_ID else _values(column)
    if col.kind is Kind.CATEGORY:
        # a few distinct values per block, compared in Python: an Arrow value set from a list imports pandas
        return "" if set(values.to_pylist()) <= set(col.allowed) else "a value outside the allowed ones"
    if col.kind is Kind.TEXT:
        return "a text value in doubt" if _text_doubt(values, is_demo=is_demo) else ""
    if not _all(pc.match_substring_regex(values, f"^{_NUMBER_FORM}$")):
        return "a number outside its strict form"
    number = _numpy(pc.cast(values, "float64"))  # distinct values, no nulls
    # compared in numpy: a Python number given to an Arrow kernel imports pandas (pyarrow's shim)
    bounds = [number >= col.low if col.low is not None else None,
              number <= col.high if col.high is not None else None,
              number < AGE_CAP if col.name == Col.AGE and not is_demo else None,
              number == np.round(number) if col.kind is Kind.INT else None]
    return "" if all(b.all() for b in bounds if b is not None) else "a number out of its range"


def _text_doubt(values, *, is_demo: bool = False) -> bool:
    """Whether a text value (not null) matches :data:`_TEXT_DOUBT` (the demo: :data:`_TEXT_EDGE`). Values all
    of ASCII letters and digits (codes) match it exactly when one is 9 or more digits (a telephone-like
    form), and never the demo's: two cheap kernels instead of a regular expression per cell."""
    import pyarrow.compute as pc  # noqa: PLC0415

    if _all(pc.ascii_is_alnum(values)):
        long_ = _numpy(pc.utf8_length(values)) >= 9  # no nulls: a blank required value declined before
        return not is_demo and bool((_numpy(pc.ascii_is_decimal(values)) & long_).any())
    return bool(pc.any(pc.match_substring_regex(values, _TEXT_EDGE if is_demo else _TEXT_DOUBT)).as_py())


def _all(mask) -> bool:
    import pyarrow.compute as pc  # noqa: PLC0415

    # a null is not true (skip_nulls=False); no fill_null(mask, False): a Python scalar imports pandas
    return len(mask) == 0 or pc.all(mask, skip_nulls=False).as_py() is True


def _typed(col: Column, column, rows: int):
    """``col`` as the typed column :mod:`hcc.engine` reads (dates DATE, numbers DOUBLE, yes/no BOOLEAN, text
    VARCHAR; an absent column all NULL), from a clean column of :func:`_read` (``None``: absent)."""
    import pyarrow as pa  # noqa: PLC0415
    import pyarrow.compute as pc  # noqa: PLC0415

    sql_type = {Kind.DATE: pa.date32(), Kind.BOOL: pa.bool_(), Kind.INT: pa.float64(),
                Kind.FLOAT: pa.float64()}.get(col.kind, pa.string())
    if column is None:
        return pa.nulls(rows, sql_type)
    if col.kind in (Kind.DATE, Kind.BOOL) or col.name == Col.PATIENT_ID:
        return column
    # each block's distinct values typed once, then spread over its rows
    return pa.chunked_array([pc.take(pc.cast(chunk.dictionary, sql_type), chunk.indices) for chunk in column.chunks],
                            sql_type)


def _date_order_doubt(cells) -> str:
    """The first date-order finding in the file's cells ("" if none): a later date before an earlier one
    (:data:`hcc.schema.DATE_ORDER`, with its slack), a date after the end of follow-up
    (:data:`hcc.schema.WITHIN_FOLLOWUP`), counted as validation counts them (a blank or absent date: no
    finding); on days since 1970."""
    import pyarrow.compute as pc  # noqa: PLC0415

    held = {c.name for c in COLUMNS if c.kind is Kind.DATE and c.name in cells.column_names}
    cast = {column: cells.column(column).cast("int32") for column in held}  # once per column, not per rule

    def days(column: str):
        return cast.get(column)

    for rule in DATE_ORDER:
        later, earlier = days(rule.later), days(rule.earlier)
        if later is not None and earlier is not None \
                and _any(pc.less(later, pc.subtract(earlier, _int32(rule.slack_days)))):
            return f"{rule.later} before {rule.earlier}"
    death, last = days(Col.DATE_DEATH), days(Col.DATE_LAST_FOLLOWUP)
    end = last if death is None else pc.coalesce(death, last)
    for column in WITHIN_FOLLOWUP:
        if days(column) is not None and _any(pc.greater(days(column), end)):
            return f"{column} after the end of follow-up"
    return ""


def _numpy(array):
    """A null-free Arrow array (or chunked array) of numbers or booleans as a numpy array, read off its
    data buffer: ``Array.to_numpy`` imports pandas (pyarrow's pandas shim, ~0.3 s of a cold start)."""
    import numpy as np  # noqa: PLC0415
    import pyarrow as pa  # noqa: PLC0415
    import pyarrow.compute as pc  # noqa: PLC0415

    if isinstance(array, pa.ChunkedArray):
        array = array.combine_chunks()
    if array.null_count:  # its buffer would hold arbitrary values at the nulls
        raise ValueError("only null-free arrays")
    if pa.types.is_boolean(array.type):  # bits, not bytes: as 0/1 bytes
        return _numpy(pc.cast(array, pa.int8())).astype(bool)
    dtype = {
        pa.int8(): np.int8, pa.int32(): np.int32, pa.int64(): np.int64, pa.float64(): np.float64}[array.type]
    return np.frombuffer(array.buffers()[1], dtype=dtype, count=len(array),
                         offset=array.offset * np.dtype(dtype).itemsize)


def _int32(value: int):
    """``value`` as an Arrow int32 scalar, made from its bytes: ``pa.scalar`` (and any Python number given
    to a kernel) imports pandas through pyarrow's pandas shim, ~0.3 s of a cold start."""
    import numpy as np  # noqa: PLC0415
    import pyarrow as pa  # noqa: PLC0415

    return pa.Array.from_buffers(pa.int32(), 1, [None, pa.py_buffer(np.int32(value).tobytes())])[0]


def _any(mask) -> bool:
    import pyarrow.compute as pc  # noqa: PLC0415

    return bool(pc.any(mask).as_py())


def _regimen_doubt(values: list[str], column: str) -> str:
    """Why the distinct values of a regimen column might be mapped or recoded by the full path ("" if not)."""
    from hcc.ingest.mapping import value_proposal  # noqa: PLC0415

    if len(values) > _MAX_REGIMENS:
        return f"more than {_MAX_REGIMENS} distinct values in {column}"
    study = {code.lower(): code for code in STUDY_REGIMENS}
    for v in values:
        if value_proposal(column, v) not in (None, v):
            return f"{column} value {v!r} would be mapped to {value_proposal(column, v)}"
        if column == Col.REGIMEN_1L and study.get(v.lower(), v) != v:
            return f"{column} value {v!r} would be recoded"
    return ""


def open_clean(path: str | Path, table: str, columns: frozenset[str] | None = None, *,
               explain: bool = False) -> Decision:
    """The registry file at ``path`` as a typed DuckDB table when it is clean (see the module's
    docstring), else ``Decision(None, reason)``.

    ``table``: the name of the table (:data:`hcc.engine.TABLE` for :mod:`hcc.engine`'s queries).
    ``columns``: the contract columns the table must hold (every column is checked all the same;
    :func:`hcc.engine.columns_read` names what an analysis reads); None holds all. ``explain``: name
    the column of a doubtful cell. The bundled demo (:data:`hcc.ingest.io.DEMO_PATH`) is checked
    as its full path reads it: without the identifier scan (:func:`hcc.ingest.registry.load_files`).
    Raises what :func:`hcc.ingest.io.read_file` raises (not a regular file, over the size limit), as the
    full path would.
    """
    path = Path(path)
    is_demo = path.resolve() == io_.DEMO_PATH
    if path.suffix.lower() not in (".csv", ".txt"):
        return _decline("not a .csv file")
    data = io_.read_file(path)
    doubt = _bytes_doubt(data, path.name)
    if doubt:
        return _decline(doubt)
    names, doubt = _header_columns(data)
    if names is None:
        return _decline(doubt)
    doubt = _whitespace_doubt(data)
    if doubt:
        return _decline(doubt)
    import pyarrow as pa  # noqa: PLC0415  (only for a file that may take the fast path)

    # the hash runs beside Arrow's read: hashlib releases the GIL on large buffers, Arrow while it reads
    workers = ThreadPoolExecutor(max_workers=2)
    try:
        sha256 = workers.submit(io_.fingerprint, data)
        try:
            cells = _read(data, names)
        except pa.ArrowException as exc:  # its message quotes the cell: never shown
            column = _read_error_column(str(exc), names) if explain else None
            return _decline(f"a blank required value or a cell outside the strict forms, in {column}" if column
                            else "Arrow's reader refused a row (another width, or a cell outside its form)")
        del data  # the bytes stay the hash's until it is done
        return _checked(cells, names, path.name, sha256, table, columns, is_demo, workers, explain)
    finally:
        workers.shutdown(wait=False)


def _checked(cells, names: list[str], name: str, sha256, table: str, columns: frozenset[str] | None,
             is_demo: bool, workers: ThreadPoolExecutor, explain: bool) -> Decision:
    """:func:`open_clean` once the file is read: check every column, hold the typed table."""
    import pyarrow as pa  # noqa: PLC0415

    rows = cells.num_rows
    if rows < 1:
        return _decline("no patient rows")
    if rows > io_._row_budget(len(names)):
        return _decline("over the row or cell limit")
    # the million identifiers (a regular expression per cell, one hash set) beside the other columns
    distinct_ids = workers.submit(_identifier_checks, cells.column(Col.PATIENT_ID), is_demo)
    for col in COLUMNS:
        if col.name in names and col.name != Col.PATIENT_ID:
            doubt = _column_doubt(col, cells.column(col.name), is_demo=is_demo)
            if doubt:
                return _decline(f"a blank required value or a cell outside the strict forms, in "
                                f"{col.name if explain else 'some column'}")
    for column in _REGIMEN_COLUMNS:
        if column in names:
            doubt = _regimen_doubt(sorted(set(_values(cells.column(column)).to_pylist()) - {None}), column)
            if doubt:
                return _decline(doubt)
    doubt = _date_order_doubt(cells)
    if doubt:
        return _decline(doubt)
    held = [col for col in COLUMNS if columns is None or col.name in columns or col.name == Col.REGIMEN_1L]
    typed = pa.table({col.name: _typed(col, cells.column(col.name) if col.name in names else None, rows)
                      for col in held})
    del cells
    doubt, repeated = distinct_ids.result()
    if doubt:
        return _decline(f"a blank required value or a cell outside the strict forms, in "
                        f"{Col.PATIENT_ID if explain else 'some column'}")
    if repeated:
        return _decline("a duplicate patient_id")
    return _hold(typed, table, name, sha256, rows, is_demo)


def _identifier_checks(ids, is_demo: bool) -> tuple[str, bool]:
    """(why the ``patient_id`` column is in doubt, whether a value repeats)."""
    import pyarrow.compute as pc  # noqa: PLC0415

    doubt = _column_doubt(COLUMN_BY_NAME[Col.PATIENT_ID], ids, is_demo=is_demo)
    if doubt:
        return doubt, False
    ids = ids.combine_chunks()
    # strictly increasing codes (an export sorted by patient) are distinct: one comparison instead of a hash set
    if len(ids) < 2 or _all(pc.greater(ids.slice(1), ids.slice(0, len(ids) - 1))):
        return "", False
    return "", pc.count_distinct(ids).as_py() != len(ids)


def _read_error_column(message: str, names: list[str]) -> str | None:
    """The column Arrow's error message names ("In CSV column #k: ..."), never the cell it quotes."""
    import re  # noqa: PLC0415

    found = re.match(r"In CSV column #(\d+):", message)
    return names[int(found.group(1))] if found and int(found.group(1)) < len(names) else None


def _hold(typed, table: str, name: str, sha256, rows: int, is_demo: bool) -> Decision:
    """The typed Arrow table as ``table`` of a new in-memory DuckDB connection: registered, not copied
    (DuckDB reads Arrow's buffers in place and keeps the table alive until the connection closes; a copy
    into DuckDB's storage cost more than the engine's few scans of it save, measured at 1M)."""
    import duckdb  # noqa: PLC0415

    # in memory only: no spilling to a temporary directory (patient rows never touch the disk)
    con = duckdb.connect(config={"threads": 2, "preserve_insertion_order": False, "temp_directory": ""})
    try:
        con.register(table, typed)
    except BaseException:
        con.close()
        raise
    return Decision(CleanRegistry(name, sha256.result(), rows, con, is_demo=is_demo), "")
