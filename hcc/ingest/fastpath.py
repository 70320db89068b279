"""The fast path for a clean registry CSV in the data contract: read and check it in DuckDB, or decline.

:func:`open_clean` takes the path of a delimited file and either returns the registry as a typed
DuckDB table (named as :mod:`hcc.engine` reads it; one per call, in its own in-memory connection) or
says why it declines; a declined file goes through today's path (:func:`hcc.ingest.registry.load_files`), which
reports every finding with its row. A file is accepted only when that path would find **nothing**:
no error, warning or note of :func:`hcc.ingest.validate.validate`, no identifier finding of
:func:`hcc.ingest.deid.scan`, no mapping or date-format decision of :func:`hcc.ingest.registry.auto_mapping`,
no encoding warning, within :func:`hcc.ingest.io.check_shape`'s limits. Every check below is
*stricter* than the finding it stands for (it may decline a file the full path would read without a
word, never the reverse), and every value the table holds is one that both paths read the same way:

- the bytes: UTF-8 without BOM, no NUL, no double quote (no quoting dialect to disagree on), line
  ends ``\\n`` or ``\\r\\n``, no blank line; the header is distinct canonical names
  (:data:`hcc.schema.COLUMNS`) separated by commas, the required ones among them; DuckDB must read
  exactly one row per line with the header's width;
- every cell in a strict form: dates ``YYYY-MM-DD`` (valid, years 1900-2199), numbers
  ``-?digits(.d or .dd)`` within the column's range (whole for integer columns, ages below
  :data:`hcc.ingest.deid.AGE_CAP`), yes/no columns ``yes`` or ``no``, categories exactly one of the
  allowed values, text without surrounding or repeated whitespace, ``@`` or a telephone-like form;
  regimen values that the mapping proposal and validation leave as written;
- no blank required value, no duplicate ``patient_id``, no date out of order
  (:data:`hcc.schema.DATE_ORDER`, :data:`hcc.schema.WITHIN_FOLLOWUP`).

Blanks are NULL. Nothing is written to disk and nothing is kept after the call's connection closes.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hcc.ingest import io as io_
from hcc.schema import COLUMNS, DATE_ORDER, REQUIRED, STUDY_REGIMENS, WITHIN_FOLLOWUP, Col, Column, Kind

#: Text cells of the contract's free-text columns that the identifier scan or the reader's trim could
#: notice: surrounding whitespace (Python's, :data:`hcc.ingest.io._WHITESPACE`), three or more
#: whitespace characters (free text needs four words), ``@`` (e-mail) or a telephone-like form
#: (:data:`hcc.ingest.deid._PHONE`, with Python's Unicode digits as RE2's ``\\p{Nd}``).
_WS = "[" + "".join(f"\\x{{{ord(c):x}}}" for c in io_._WHITESPACE) + "]"
_TEXT_DOUBT = f"^{_WS}|{_WS}$|{_WS}.*{_WS}.*{_WS}|@|^\\+?[\\p{{Nd}} ()-]{{9,}}$"
#: Dates both paths read alike (pandas' datetime64[ns] ends in 2262): the strict form, which
#: :func:`_date_check` accepts exactly (tested against this pattern in ``tests/test_fastpath.py``).
_DATE_FORM = "(19|20|21)[0-9]{2}-[0-9]{2}-[0-9]{2}"
#: Numbers whose decimal value both parsers round alike (at most two decimals: one exact division).
_NUMBER_FORM = "-?[0-9]{1,9}(\\.[0-9]{1,2})?"
_YES, _NO = "yes", "no"
#: Most distinct values of a regimen column checked here (the mapping proposes for the most frequent
#: :data:`hcc.ingest.mapping.MAX_DISTINCT_VALUES` only).
_MAX_REGIMENS = 200
#: Held in every table: their distinct values are checked against the mapping proposal.
_REGIMEN_COLUMNS = (Col.REGIMEN_1L, Col.REGIMEN_2L, Col.REGIMEN_3L)


@dataclass
class CleanRegistry:
    """A clean registry file as a DuckDB table: what :func:`hcc.analysis.km_json` reports of a
    :class:`hcc.ingest.registry.Registry`, and the connection that holds the table (an
    :class:`hcc.engine.Engine`: ``dialect`` and ``query``)."""

    name: str
    sha256: str
    rows_read: int
    connection: Any = field(repr=False)
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
    """Why the file's bytes might read differently in DuckDB and in :func:`hcc.ingest.io.read_table`
    ("" when they cannot)."""
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
    carriage_returns = b"\r" in data
    if carriage_returns and data.count(b"\r") != data.count(b"\r\n"):
        return "a carriage return that does not end a line"
    if data.startswith((b"\n", b"\r")) or b"\n\n" in data or (carriage_returns and b"\n\r\n" in data):
        return "a blank line"
    if b"\n" not in data:
        return "no patient rows"
    return ""


def _cell_check(col: Column, present: bool) -> tuple[str, str]:
    """(the typed SQL expression of ``col``, the SQL condition its raw cell ``v`` must meet)."""
    v = col.name
    if not present:
        sql_type = {Kind.DATE: "DATE", Kind.BOOL: "BOOLEAN", Kind.INT: "DOUBLE",
                    Kind.FLOAT: "DOUBLE"}.get(col.kind, "VARCHAR")
        return f"CAST(NULL AS {sql_type})", "TRUE"
    if col.kind is Kind.DATE:
        return f"TRY_CAST({v} AS DATE)", _date_check(v)
    if col.kind in (Kind.INT, Kind.FLOAT):
        from hcc.schema import AGE_CAP  # noqa: PLC0415  (an age of 90 or more is an identifier finding)

        number = f"TRY_CAST({v} AS DOUBLE)"
        bounds = [f"{number} >= {col.low!r}" if col.low is not None else "",
                  f"{number} <= {col.high!r}" if col.high is not None else "",
                  f"{number} < {AGE_CAP!r}" if col.name == Col.AGE else "",
                  f"{number} = round({number})" if col.kind is Kind.INT else ""]
        return number, " AND ".join([f"regexp_full_match({v}, '{_NUMBER_FORM}')"] + [b for b in bounds if b])
    if col.kind is Kind.BOOL:
        return (f"CASE {v} WHEN '{_YES}' THEN TRUE WHEN '{_NO}' THEN FALSE END",
                f"{v} IN ('{_YES}', '{_NO}')")
    if col.kind is Kind.CATEGORY:
        return v, f"{v} IN ({', '.join(repr(a) for a in col.allowed)})"
    return v, f"NOT regexp_matches({v}, '{_TEXT_DOUBT}')"


def _date_check(v: str) -> str:
    """The SQL condition that text ``v`` is a valid date in :data:`_DATE_FORM`: DuckDB's date read back
    as text is ``v`` itself (the canonical ``YYYY-MM-DD`` of a year 1900-2199). The same set as the
    pattern and a valid date, at about two thirds of a regular expression's cost per cell."""
    return (f"CAST(TRY_CAST({v} AS DATE) AS VARCHAR) = {v} "
            f"AND TRY_CAST({v} AS DATE) BETWEEN DATE '1900-01-01' AND DATE '2199-12-31'")


def _condition(col: Column) -> str:
    """The SQL condition a present column's raw cell meets when the full path finds nothing in it."""
    condition = f"({col.name} IS NULL OR COALESCE({_cell_check(col, True)[1]}, FALSE))"  # NULL would pass as OK
    return f"({col.name} IS NOT NULL AND {condition})" if col.required else condition


def _typed_select(names: list[str], held: frozenset[str] | None, source: str) -> str:
    """The typed registry (the columns in ``held``, the dates and the regimens; all when ``held`` is None;
    absent ones as typed NULLs), the
    row's identifier hash ``_pid`` (duplicates) and ``_ok``: every cell of the row in its strict form,
    required ones filled."""
    typed = [f"{_cell_check(col, col.name in names)[0]} AS {col.name}" for col in COLUMNS
             if held is None or col.name in held or col.name in _REGIMEN_COLUMNS or col.kind is Kind.DATE]
    ok = " AND ".join(_condition(col) for col in COLUMNS if col.name in names)
    return f"SELECT {', '.join(typed)}, hash({Col.PATIENT_ID}) AS _pid, {ok} AS _ok FROM {source}"


def _checks_sql(table: str) -> tuple[str, list[str]]:
    """One aggregate over the typed table, and the finding each of its columns (after the first
    three) counts: dates out of order. A duplicate hash of ``patient_id`` (a duplicate, or one chance
    in billions a collision) declines."""
    parts = ["COUNT(*)", "COUNT_IF(NOT _ok)", "COUNT(*) - COUNT(DISTINCT _pid)"]
    what = []
    for rule in DATE_ORDER:
        bound = f"{rule.earlier} - INTERVAL '{rule.slack_days}' DAY" if rule.slack_days else rule.earlier
        parts.append(f"COUNT_IF({rule.later} < {bound})")
        what.append(f"{rule.later} before {rule.earlier}")
    end = f"COALESCE({Col.DATE_DEATH}, {Col.DATE_LAST_FOLLOWUP})"
    for col in WITHIN_FOLLOWUP:
        parts.append(f"COUNT_IF({col} > {end})")
        what.append(f"{col} after the end of follow-up")
    return f"SELECT {', '.join(parts)} FROM {table}", what


def _first_doubtful_column(con, names: list[str], source: str) -> str:
    """The first column with a cell outside its strict form or a blank required value (a second
    read of the file, only to explain a decline)."""
    present = [col for col in COLUMNS if col.name in names]
    counts = con.execute("SELECT " + ", ".join(f"COUNT_IF(NOT {_condition(col)})" for col in present)
                         + f" FROM {source}").fetchone()
    return next((col.name for col, k in zip(present, counts) if k), "?")


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
    the column of a doubtful cell (a second read of the file). Raises what
    :func:`hcc.ingest.io.read_file` raises (not a regular file, over the size limit), as the full path would.
    """
    path = Path(path)
    if path.resolve() == io_.DEMO_PATH:
        return _decline("the bundled demo")
    if path.suffix.lower() not in (".csv", ".txt"):
        return _decline("not a .csv file")
    data = io_.read_file(path)
    doubt = _bytes_doubt(data, path.name)
    if doubt:
        return _decline(doubt)
    names, doubt = _header_columns(data)
    if names is None:
        return _decline(doubt)
    rows = data.count(b"\n") + (0 if data.endswith(b"\n") else 1) - 1
    if rows < 1:
        return _decline("no patient rows")
    if rows > io_._row_budget(len(names)):
        return _decline("over the row or cell limit")
    stat = path.stat()
    # the hash runs beside DuckDB's scan: hashlib releases the GIL on large buffers, DuckDB while it reads
    hashing = ThreadPoolExecutor(max_workers=1)
    sha256 = hashing.submit(io_.fingerprint, data)
    hashing.shutdown(wait=False)
    del data

    import duckdb  # noqa: PLC0415  (only for a file that may take the fast path)

    # in memory only: no spilling to a temporary directory (patient rows never touch the disk)
    con = duckdb.connect(config={"threads": 2, "preserve_insertion_order": False, "temp_directory": ""})
    try:
        types = "{" + ", ".join(f"'{n}': 'VARCHAR'" for n in names) + "}"
        source = (f"read_csv({_sql_text(str(path))}, header = true, delim = ',', quote = '\"', escape = '\"', "
                  f"auto_detect = false, columns = {types})")
        try:
            con.execute(f"CREATE TABLE {table} AS {_typed_select(names, columns, source)}")
        except duckdb.Error:
            con.close()
            return _decline("DuckDB's reader refused a row (another width?)")
        after = path.stat()
        if (after.st_size, after.st_mtime_ns) != (stat.st_size, stat.st_mtime_ns):
            con.close()
            return _decline("the file changed while it was read")
        sql, what = _checks_sql(table)
        n, doubtful, duplicates, *findings = con.execute(sql).fetchone()
        reason = ""
        if n != rows:
            reason = f"DuckDB read {n} rows, the file has {rows} lines"
        elif doubtful:
            reason = (f"a blank required value or a cell outside the strict forms, in "
                      f"{_first_doubtful_column(con, names, source) if explain else 'some column'}")
        elif duplicates:
            reason = "a duplicate patient_id"
        elif any(findings):
            reason = next(w for w, k in zip(what, findings) if k)
        for column in _REGIMEN_COLUMNS:
            if reason or column not in names:
                continue
            values = [r[0] for r in con.execute(f"SELECT DISTINCT {column} FROM {table} WHERE {column} IS NOT NULL "
                                                f"LIMIT {_MAX_REGIMENS + 1}").fetchall()]
            reason = _regimen_doubt(values, column)
        if reason:
            con.close()
            return _decline(reason)
    except BaseException:
        con.close()
        raise
    return Decision(CleanRegistry(path.name, sha256.result(), rows, con), "")


def _sql_text(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"

