"""Database mode: a server-side registry too large for memory, checked and analysed where it lies.

A Parquet file or DuckDB table in the allow-listed server directory (:mod:`hcc.ingest.serverdata`) is
opened as a DuckDB view (:class:`hcc.engine.DuckDBEngine`, made by ``ui.database.open_database``: the
engine sits downstream of ingest) on a connection of its own: read-only, no file or URL outside that
directory reachable (:func:`lockdown_sql`). Its patient rows never enter pandas: the contract checks
below (:func:`check_table`) are SQL aggregates, and the pages analyse it with :mod:`hcc.engine`.

The engine needs the canonical, validated registry, so the table is checked against
:data:`hcc.schema.COLUMNS` in SQL: required columns present, each column stored as its kind (DATE,
BOOLEAN, a number, text), no blank required value, categories among the allowed values, numbers in
range (whole where the contract says so), first-line regimens written as the study's codes, text
blanks stored as NULL, one row per ``patient_id``. Where the upload path would exclude a row or
blank a value, database mode cannot (the file is read-only), so any such finding refuses the file
with the column, the counts, the first rows (row numbers as an upload of the same file would give:
the first patient is row 2) and the fix. Dates out of order (:data:`hcc.schema.DATE_ORDER`,
:data:`hcc.schema.WITHIN_FOLLOWUP`) are warnings, as in the upload path: the row stays and each
endpoint that reads those dates leaves the patient out with that reason (:func:`hcc.engine.count_endpoints`).
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass, field
from pathlib import Path

from typing import Any

from hcc.errors import SchemaError
from hcc.i18n import tr
from hcc.ingest.io import MAX_BYTES, MAX_ROWS
from hcc.ingest.serverdata import _connect, resolve
from hcc.ingest.validate import FIRST_DATA_ROW, Rule, _fix_for
from hcc.schema import COLUMNS, DATE_ORDER, REQUIRED, STUDY_REGIMENS, WITHIN_FOLLOWUP, Col, Column, Kind

#: Environment variable lowering the row count from which a server file opens in database mode
#: (default :data:`hcc.ingest.io.MAX_ROWS`, the in-memory limit); tests and small deployments set it.
ROWS_ENV_VAR = "HCC_DATABASE_MODE_ROWS"
#: Offending rows named per finding.
FIRST_ROWS = 5
#: DuckDB column types that hold numbers.
_NUMERIC = ("TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT", "UTINYINT", "USMALLINT", "UINTEGER",
            "UBIGINT", "UHUGEINT", "FLOAT", "DOUBLE", "REAL")
#: The table the checks read: the source with each row's number in the file (``_row``).
_NUMBERED = "hcc_numbered"


def database_mode_rows() -> int:
    """Rows from which a server file is analysed in the database instead of memory."""
    value = os.environ.get(ROWS_ENV_VAR, "")
    return int(value) if value.isdigit() and int(value) > 0 else MAX_ROWS


def row_count(root: Path, relative: str, table: str | None = None) -> tuple[int, int]:
    """(rows, bytes) of a server file (a DuckDB table: its rows, and the file's bytes), without reading
    the rows: the Parquet footer, or DuckDB's count."""
    path = resolve(root, relative)
    size = path.stat().st_size
    if path.suffix.lower() == ".parquet":
        import pyarrow.parquet as pq  # noqa: PLC0415

        try:
            return pq.ParquetFile(str(path)).metadata.num_rows, size
        except Exception:  # noqa: BLE001 - a damaged file: the reader says so when it is opened
            return 0, size
    import duckdb  # noqa: PLC0415

    with _connect(path) as con:
        try:
            quoted = '"' + str(table).replace('"', "") + '"'
            return int(con.execute(f"SELECT COUNT(*) FROM {quoted}").fetchall()[0][0]), size
        except duckdb.Error:  # e.g. a view reading outside the directory: opening it says why
            return 0, size


def too_large_for_memory(rows: int, size: int) -> bool:
    """True when the in-memory path would refuse the file (:data:`MAX_BYTES`), or it reaches
    :func:`database_mode_rows`."""
    return rows >= database_mode_rows() or size > MAX_BYTES


@dataclass(eq=False)
class DatabaseRegistry:
    """A registry opened in database mode: its engine (a DuckDB connection holding the view
    :data:`hcc.engine.TABLE`; patient data: keep it per session and :meth:`close` it when replaced),
    what it is called, its size and regimens, and the date-order warnings found.

    ``fingerprint`` identifies the file's version (path, size, modification time), for session memo keys.
    """

    engine: Any  # hcc.engine.DuckDBEngine
    label: str
    n_patients: int
    regimen_counts: dict[str, int]
    fingerprint: str
    absent_columns: tuple[str, ...] = ()
    warnings: tuple[str, ...] = field(default=())

    @property
    def regimens(self) -> tuple[str, ...]:
        return tuple(self.regimen_counts)

    def close(self) -> None:
        self.engine.close()


def _quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def lockdown_sql(root: Path) -> tuple[str, ...]:
    """DuckDB settings, run once a connection's view is made: no file outside ``root`` and no URL
    reachable from then on (a DuckDB file's views included), and no setting changed back."""
    return (f"SET allowed_directories = [{_quote(str(root.resolve()))}]", "SET enable_external_access = false",
            "SET lock_configuration = true")


def fingerprint(path: Path, table: str | None) -> str:
    """The file's version (path, table, size, modification time) as a hex digest, for memo keys."""
    stat = path.stat()
    return hashlib.sha256(f"{path}|{table}|{stat.st_size}|{stat.st_mtime_ns}".encode()).hexdigest()


def database_label(name: str) -> str:
    return tr("{name} (server data, analysed in the database)", name=name)


def _type_ok(col: Column, sql_type: str) -> bool:
    if col.kind is Kind.DATE:
        return sql_type == "DATE"
    if col.kind is Kind.BOOL:
        return sql_type == "BOOLEAN"
    if col.kind in (Kind.INT, Kind.FLOAT):
        return sql_type in _NUMERIC or sql_type.startswith("DECIMAL")
    return sql_type == "VARCHAR"


_STORED_AS = {Kind.DATE: "DATE", Kind.BOOL: "BOOLEAN", Kind.INT: "BIGINT", Kind.FLOAT: "DOUBLE",
              Kind.CATEGORY: "VARCHAR", Kind.TEXT: "VARCHAR"}


def _blank_text(column: str) -> str:
    """Empty or white-space text. Trimmed only where the text sorts before "!", i.e. starts with a space or
    a control character (trimming ten million unique ids costs seconds)."""
    return f"({column} < '!' AND trim({column}) = '')"


def _bad_values(col: Column) -> list[tuple[Rule, str]]:
    """(rule, SQL condition true on a bad value of ``col``) for its value checks."""
    c = col.name
    out: list[tuple[Rule, str]] = []
    if col.required:
        blank = f"{c} IS NULL" + (f" OR {_blank_text(c)}" if col.kind in (Kind.TEXT, Kind.CATEGORY) else "")
        out.append((Rule.MISSING_VALUE, blank))
    if col.kind is Kind.CATEGORY:
        out.append((Rule.UNKNOWN_CATEGORY, f"{c} NOT IN ({', '.join(_quote(a) for a in col.allowed)})"))
    elif col.kind is Kind.TEXT and not col.required:
        out.append((Rule.MISSING_VALUE, _blank_text(c)))  # a blank must be NULL, not text
    if col.name == Col.REGIMEN_1L:
        lowered = ", ".join(_quote(r.lower()) for r in STUDY_REGIMENS)
        exact = ", ".join(_quote(r) for r in STUDY_REGIMENS)
        out.append((Rule.UNKNOWN_CATEGORY, f"{c} NOT IN ({exact}) AND lower(trim({c})) IN ({lowered})"))
    if col.kind in (Kind.INT, Kind.FLOAT):
        real = f"CAST({c} AS DOUBLE)"
        unreadable = f"isnan({real}) OR isinf({real})"
        if col.kind is Kind.INT:
            unreadable += f" OR {real} <> round({real})"
        out.append((Rule.BAD_NUMBER, unreadable))
        bounds = ([f"{real} < {col.low!r}"] if col.low is not None else []) + \
                 ([f"{real} > {col.high!r}"] if col.high is not None else [])
        if bounds:
            out.append((Rule.OUT_OF_RANGE, " OR ".join(bounds)))
    return out


def _fix(col: Column, rule: Rule) -> str:
    if rule is Rule.MISSING_VALUE and not col.required:
        return tr("store a blank as NULL (no value), not as empty text")
    if col.name == Col.REGIMEN_1L and rule is Rule.UNKNOWN_CATEGORY:
        return tr("write the study regimens exactly as {codes}", codes=", ".join(STUDY_REGIMENS))
    return _fix_for(col)


def _first_rows(engine: Any, condition: str) -> str:
    rows = engine.query(f"SELECT _row FROM {_NUMBERED} WHERE {condition} ORDER BY _row LIMIT {FIRST_ROWS}")
    return ", ".join(str(int(r)) for r in rows["_row"])


def _finding(name: str, column: str, rule: Rule, count: int, rows: str, fix: str) -> str:
    return tr("{file}, column '{column}': {rule} in {count} rows (first rows: {rows}). Fix: {fix}",
              file=name, column=column, rule=tr(rule.value), count=f"{count:,}", rows=rows, fix=fix)


def check_table(engine: Any, table: str, name: str,
                parquet: Path | None) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """Check the view ``table`` of ``engine`` (an :class:`hcc.engine.Engine`: its ``query`` runs SQL) against
    the data contract, in the database.

    Returns the optional columns absent (the view is remade with them as NULLs of their type, as the
    in-memory frame has them) and the date-order warnings (one line per rule broken: count, first
    rows). Raises SchemaError naming every finding (file, column, rule, count, first rows, fix).
    ``name``: the file as shown; ``parquet``: the Parquet file behind the view, read again with its row
    numbers (``None``: a DuckDB table, numbered in stored order)."""
    types = dict(zip(*engine.query(f"SELECT column_name AS c, data_type AS t FROM information_schema.columns "
                                   f"WHERE table_name = '{table}'")[["c", "t"]].T.to_numpy()))
    missing = [c for c in REQUIRED if c not in types]
    if missing:
        raise SchemaError(tr(
            "{file}: required column(s) {missing} not found. The table has: {columns}. Rename the columns as in the "
            "data format (docs/data-format.md), or write the table with hcc.engine.write_parquet.",
            file=name, missing=", ".join(missing), columns=", ".join(list(types)[:30])))
    findings = [tr("{file}, column '{column}': stored as {found}; the data format needs {kind} values stored as "
                   "{wanted}. Fix: write the table with hcc.engine.write_parquet (dates as DATE, yes/no as BOOLEAN).",
                   file=name, column=c.name, found=types[c.name], kind=c.kind.value, wanted=_STORED_AS[c.kind])
                for c in COLUMNS if c.name in types and not _type_ok(c, types[c.name])]
    if findings:
        raise SchemaError("\n\n".join(findings))
    absent = tuple(c.name for c in COLUMNS if c.name not in types)
    if absent:  # the engine reads every contract column: absent optional ones are NULL, as in memory
        engine.query(f"ALTER VIEW {table} RENAME TO hcc_source")
        nulls = ", ".join(f"CAST(NULL AS {_STORED_AS[c.kind]}) AS {c.name}" for c in COLUMNS if c.name in absent)
        engine.query(f"CREATE VIEW {table} AS SELECT *, {nulls} FROM hcc_source")
    if parquet is not None:
        source = (f"SELECT *, file_row_number + {FIRST_DATA_ROW} AS _row FROM "
                  f"read_parquet({_quote(str(parquet))}, file_row_number = true)")
        if absent:
            source = f"SELECT *, {nulls} FROM ({source}) s"
    else:  # a DuckDB table: its rows in stored order
        source = f"SELECT *, ROW_NUMBER() OVER () + {FIRST_DATA_ROW - 1} AS _row FROM {table}"
    engine.query(f"CREATE TEMPORARY VIEW {_NUMBERED} AS {source}")

    # one scan counts every value check and every date-order rule; the duplicate ids are one GROUP BY;
    # the first rows are looked up only for what was found
    checks = [(col, rule, cond) for col in COLUMNS for rule, cond in _bad_values(col)]
    orders = _date_order_rules()
    conditions = [cond for _, _, cond in checks] + [cond for _, cond, _ in orders]
    counts = engine.query("SELECT " + ", ".join(f"SUM(CASE WHEN {cond} THEN 1 ELSE 0 END) AS k{i}"
                                                for i, cond in enumerate(conditions)) + f" FROM {table}")
    found = [int(counts[f"k{i}"].iloc[0] or 0) for i in range(len(conditions))]
    for (col, rule, cond), count in zip(checks, found):
        if count:
            findings.append(_finding(name, col.name, rule, count, _first_rows(engine, cond), _fix(col, rule)))
    duplicated = (f"{Col.PATIENT_ID} IN (SELECT {Col.PATIENT_ID} FROM {table} WHERE {Col.PATIENT_ID} IS NOT NULL "
                  f"GROUP BY 1 HAVING COUNT(*) > 1)")
    n_duplicated = int(engine.query(f"SELECT COUNT(*) AS n FROM (SELECT 1 FROM {table} WHERE {Col.PATIENT_ID} "
                                    f"IS NOT NULL GROUP BY {Col.PATIENT_ID} HAVING COUNT(*) > 1) d")["n"].iloc[0])
    if n_duplicated:
        rows = engine.query(f"SELECT COUNT(*) AS n FROM {table} WHERE {duplicated}")["n"].iloc[0]
        findings.append(_finding(name, Col.PATIENT_ID, Rule.DUPLICATE_ID, int(rows), _first_rows(engine, duplicated),
                                 tr("keep one row per patient")))
    if findings:
        raise SchemaError(tr("{file} cannot be analysed in the database: the table breaks the data format, and a "
                             "read-only table cannot have rows excluded or values blanked as an upload would. "
                             "{count} problem(s):", file=name, count=len(findings)) + "\n\n" + "\n\n".join(findings))
    warnings = [tr("{file}, column '{column}': {message} ({count} rows; first rows: {rows}).", file=name, column=column,
                   message=message, count=f"{count:,}", rows=_first_rows(engine, cond))
                for (column, cond, message), count in zip(orders, found[len(checks):]) if count]
    return absent, tuple(warnings)


def _date_order_rules() -> list[tuple[str, str, str]]:
    """(column, SQL condition true when out of order, warning) for :data:`hcc.schema.DATE_ORDER` and
    :data:`hcc.schema.WITHIN_FOLLOWUP`, as :mod:`hcc.ingest.validate` words them. ``DATE - integer``
    is a DATE in DuckDB (an INTERVAL would make it a timestamp, slower)."""
    end = f"COALESCE({Col.DATE_DEATH}, {Col.DATE_LAST_FOLLOWUP})"
    rules = [(r.later, f"{r.later} < {r.earlier}" + (f" - {int(r.slack_days)}" if r.slack_days else ""),
              tr("{later} is before {earlier}; analyses that use both dates leave this patient out",
                 later=r.later, earlier=r.earlier)) for r in DATE_ORDER]
    rules += [(c, f"{c} > {end}", tr("{column} is after the end of follow-up (death, else last follow-up); "
                                     "analyses that use it leave this patient out", column=c)) for c in WITHIN_FOLLOWUP]
    return rules
