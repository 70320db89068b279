"""Validation of a registry table against the data contract (:mod:`hcc.schema`).

Turns text cells into typed canonical columns and reports every problem as an :class:`Issue` naming
the file, the row, the column, the value and the fix. Nothing is silently dropped:

- a row is *excluded* (kept out of every analysis) only when a required value is missing or
  unreadable, or its ``patient_id`` is duplicated; each such row is listed with its reason;
- an unreadable optional value is blanked and reported as a warning.

Row numbers are spreadsheet rows: the header is row 1, the first patient is row 2.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import Enum

import numpy as np
import pandas as pd

from hcc.errors import SchemaError
from hcc.io import RawTable
from hcc.schema import COLUMNS, REQUIRED, STUDY_REGIMENS, Col, Column, Kind

#: Column added to the canonical frame: the row's spreadsheet row number in the source file.
SOURCE_ROW = "_source_row"
FIRST_DATA_ROW = 2

_TRUE = {"yes", "y", "true", "t", "1", "1.0"}
_FALSE = {"no", "n", "false", "f", "0", "0.0"}
_DATE_FORMATS = ("%Y-%m-%d", "%Y/%m/%d")
_ISO_LIKE = re.compile(r"^\d{4}[-/]\d{1,2}[-/]\d{1,2}$")


class Severity(str, Enum):
    ERROR = "error"      # the row is excluded
    WARNING = "warning"  # the value is blanked, the row stays


@dataclass(frozen=True)
class Issue:
    """One problem found in the file.

    ``row`` is the spreadsheet row (header = 1) or ``None`` for a file-level issue.
    """

    severity: Severity
    file: str
    row: int | None
    column: str | None
    value: str
    message: str
    fix: str

    def text(self) -> str:
        """One line for a user: where, what, how to fix."""
        where = self.file + (f", row {self.row}" if self.row is not None else "")
        where += f", column '{self.column}'" if self.column else ""
        shown = f" (value '{self.value}')" if self.value else ""
        return f"{where}: {self.message}{shown}. Fix: {self.fix}"


@dataclass(frozen=True, eq=False)
class Validated:
    """Result of :func:`validate`: the canonical frame of the rows kept, and what was found.

    ``frame`` has every contract column (absent optional ones are all-missing) plus
    :data:`SOURCE_ROW`; ``excluded`` has columns ``row``, ``patient_id``, ``reason``.
    """

    frame: pd.DataFrame
    issues: tuple[Issue, ...]
    excluded: pd.DataFrame
    absent_columns: tuple[str, ...]
    unknown_columns: tuple[str, ...]


def _fix_for(col: Column) -> str:
    if col.kind is Kind.DATE:
        return "write dates as YYYY-MM-DD (e.g. 2021-03-15)"
    if col.kind is Kind.BOOL:
        return "write yes or no (or 1 / 0), or leave blank if unknown"
    if col.kind is Kind.CATEGORY:
        return "use one of " + ", ".join(col.allowed) + ", or leave blank if unknown"
    if col.kind in (Kind.INT, Kind.FLOAT):
        rng = f" between {col.low:g} and {col.high:g}" if col.low is not None and col.high is not None else ""
        return f"write a {'whole ' if col.kind is Kind.INT else ''}number{rng}, or leave blank if unknown"
    return "fill in a value"


def _parse_dates(text: pd.Series) -> pd.Series:
    out = pd.Series(pd.NaT, index=text.index, dtype="datetime64[ns]")
    for fmt in _DATE_FORMATS:
        todo = out.isna() & (text != "")
        if not todo.any():
            break
        out[todo] = pd.to_datetime(text[todo], format=fmt, errors="coerce")
    return out


def _parse_bools(text: pd.Series) -> pd.Series:
    low = text.str.lower()
    out = pd.Series(pd.NA, index=text.index, dtype="boolean")
    out[low.isin(_TRUE)] = True
    out[low.isin(_FALSE)] = False
    return out


def _parse_numbers(text: pd.Series, col: Column) -> tuple[pd.Series, pd.Series]:
    """Numbers, and a mask of cells that are unreadable or outside the column's range."""
    num = pd.to_numeric(text, errors="coerce").astype(float)
    bad = num.isna() & (text != "")
    if col.low is not None:
        bad |= num < col.low
    if col.high is not None:
        bad |= num > col.high
    if col.kind is Kind.INT:
        bad |= num.notna() & (num != np.round(num))
    num[bad] = np.nan
    return num, bad


def _parse_categories(text: pd.Series, col: Column) -> pd.Series:
    lookup = {a.lower(): a for a in col.allowed}
    return text.str.lower().map(lookup)


def _canonical_regimen(text: pd.Series) -> pd.Series:
    lookup = {code.lower(): code for code in STUDY_REGIMENS}
    return text.map(lambda v: lookup.get(v.lower(), v))


def validate(raw: RawTable) -> Validated:
    """Check and type a raw table against the data contract.

    Parameters
    ----------
    raw : cells as read by :func:`hcc.io.read_table`, with canonical column names.

    Returns
    -------
    Validated

    Raises
    ------
    SchemaError
        If a required column is missing: the message lists them and the file's columns.
    """
    cells = raw.cells
    missing = [name for name in REQUIRED if name not in cells.columns]
    if missing:
        raise SchemaError(
            f"{raw.name}: required column(s) {', '.join(missing)} not found. "
            f"The file has: {', '.join(cells.columns[:30])}. Rename the columns as in the data format "
            "(docs/data-format.md) and upload again."
        )
    known = {c.name for c in COLUMNS}
    unknown = tuple(c for c in cells.columns if c not in known)
    absent = tuple(c.name for c in COLUMNS if c.name not in cells.columns)

    rows = pd.Series(np.arange(len(cells)) + FIRST_DATA_ROW, index=cells.index)
    issues: list[Issue] = []
    excluded: dict[int, str] = {}
    frame = pd.DataFrame(index=cells.index)

    for col in COLUMNS:
        text = cells[col.name] if col.name in cells.columns else pd.Series("", index=cells.index)
        if col.kind is Kind.DATE:
            values = _parse_dates(text)
            bad = values.isna() & (text != "")
        elif col.kind is Kind.BOOL:
            values = _parse_bools(text)
            bad = values.isna() & (text != "")
        elif col.kind in (Kind.INT, Kind.FLOAT):
            values, bad = _parse_numbers(text, col)
        elif col.kind is Kind.CATEGORY:
            values = _parse_categories(text, col)
            bad = values.isna() & (text != "")
        else:
            values = text.where(text != "", None)
            if col.name == Col.REGIMEN_1L:
                values = _canonical_regimen(text).where(text != "", None)
            bad = pd.Series(False, index=cells.index)
        frame[col.name] = values

        for idx in bad[bad].index:
            severity = Severity.ERROR if col.required else Severity.WARNING
            what = "cannot be read" if col.kind is not Kind.CATEGORY else "is not an allowed value"
            issues.append(Issue(severity, raw.name, int(rows[idx]), col.name, str(text[idx]),
                                f"{col.kind.value} {what}" + ("; row excluded" if col.required else
                                                               "; value treated as missing"),
                                _fix_for(col)))
            if col.required:
                excluded.setdefault(idx, f"unreadable {col.name}")
        if col.required:
            for idx in text[text == ""].index:
                issues.append(Issue(Severity.ERROR, raw.name, int(rows[idx]), col.name, "",
                                    "required value is missing; row excluded", _fix_for(col)))
                excluded.setdefault(idx, f"missing {col.name}")

    ids = frame[Col.PATIENT_ID]
    dup = ids.notna() & ids.duplicated(keep=False)
    for pid, group in ids[dup].groupby(ids[dup]):
        where = ", ".join(str(int(rows[i])) for i in group.index)
        for idx in group.index:
            issues.append(Issue(Severity.ERROR, raw.name, int(rows[idx]), Col.PATIENT_ID, str(pid),
                                f"patient_id appears on rows {where}; all copies excluded",
                                "keep one row per patient"))
            excluded.setdefault(idx, "duplicate patient_id")

    frame[SOURCE_ROW] = rows
    keep = ~frame.index.isin(list(excluded))
    excl = pd.DataFrame({
        "row": [int(rows[i]) for i in excluded],
        Col.PATIENT_ID: [cells[Col.PATIENT_ID][i] for i in excluded],
        "reason": list(excluded.values()),
    }).sort_values("row", ignore_index=True)
    return Validated(frame=frame[keep].reset_index(drop=True), issues=tuple(issues), excluded=excl,
                     absent_columns=absent, unknown_columns=unknown)
