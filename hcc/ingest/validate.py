"""Validation of a registry table against the data contract (:mod:`hcc.schema`).

Turns text cells into typed canonical columns and reports every problem as an :class:`Issue` naming
the file, the row, the column, the value and the fix. Nothing is silently dropped:

- a row is *excluded* (kept out of every analysis) only when a required value is missing or
  unreadable, or its ``patient_id`` is duplicated; each such row is listed with its reason;
- an unreadable optional value is blanked and reported as a warning;
- dates out of order are reported as warnings: the row stays, and each analysis that uses one of
  those dates leaves the patient out with that reason (:func:`hcc.cohort.endpoints.date_problems`), so a
  patient with a bad second-line date still counts for OS.

Every issue carries a *rule* (:class:`Rule`) so that the report can be counted by rule.

Row numbers are spreadsheet rows: the header is row 1, the first patient is row 2.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import Enum

import numpy as np
import pandas as pd

from hcc.errors import SchemaError
from hcc.ingest.io import RawTable
from hcc.schema import (
    COLUMNS, DATE_ORDER, REQUIRED, SOURCE_ROW, STUDY_REGIMENS, WITHIN_FOLLOWUP, Col, Column, Kind,
)

FIRST_DATA_ROW = 2

_TRUE = {"yes", "y", "true", "t", "1", "1.0"}
_FALSE = {"no", "n", "false", "f", "0", "0.0"}
_DATE_FORMATS = ("%Y-%m-%d", "%Y/%m/%d")
_ISO_LIKE = re.compile(r"^\d{4}[-/]\d{1,2}[-/]\d{1,2}$")


class Severity(str, Enum):
    ERROR = "error"      # the row is excluded
    WARNING = "warning"  # the value is blanked, or the row is left out of the analyses it cannot enter


class Rule(str, Enum):
    """The validation rules, as named in the report (``docs/data-format.md`` lists them)."""

    MISSING_COLUMN = "missing required column"
    MISSING_VALUE = "missing required value"
    DUPLICATE_ID = "duplicate patient_id"
    BAD_DATE = "unreadable date"
    BAD_NUMBER = "unreadable number"
    OUT_OF_RANGE = "value out of range"
    UNKNOWN_CATEGORY = "unknown category"
    BAD_BOOLEAN = "unreadable yes/no"
    DATE_ORDER = "dates out of order"
    INCOMPLETE_FORM = "incomplete form"
    EVENT_CONFLICT = "conflicting values across events"
    TEXT_ENCODING = "text in another encoding"


@dataclass(frozen=True)
class Issue:
    """One problem found in the file.

    ``row`` is the spreadsheet row (header = 1) or ``None`` for a file-level issue; ``patient_id``
    is the row's patient code as written (``""`` when blank or file-level).
    """

    severity: Severity
    file: str
    row: int | None
    column: str | None
    value: str
    message: str
    fix: str
    rule: Rule = Rule.MISSING_VALUE
    patient_id: str = ""

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


@dataclass(frozen=True, eq=False)
class _Distinct:
    """A text column as its distinct values and, per row, the index of its value (one hash pass,
    :func:`pandas.factorize`): every parse and check below runs on the distinct values only (a
    million-row column holds a few thousand distinct dates) and is spread back with ``codes``."""

    codes: np.ndarray
    values: pd.Series  # the distinct cells, as text

    @classmethod
    def of(cls, text: pd.Series) -> "_Distinct":
        codes, distinct = pd.factorize(text, use_na_sentinel=False)  # Arrow's hash for Arrow strings
        return cls(np.asarray(codes), pd.Series(np.asarray(distinct, dtype=object), dtype=object))

    def spread(self, per_value: np.ndarray | pd.Series) -> np.ndarray:
        """A per-distinct-value array as one value per row."""
        return np.asarray(per_value)[self.codes]

    @property
    def filled(self) -> np.ndarray:
        """Per distinct value: not blank."""
        return (self.values != "").to_numpy()


def _parse_dates(distinct: pd.Series) -> pd.Series:
    """Distinct cells as dates (``NaT`` when blank or unreadable), trying :data:`_DATE_FORMATS` in turn."""
    out = pd.Series(pd.NaT, index=distinct.index, dtype="datetime64[ns]")
    for fmt in _DATE_FORMATS:
        todo = out.isna() & (distinct != "")
        if not todo.any():
            break
        out[todo] = pd.to_datetime(distinct[todo], format=fmt, errors="coerce")
    return out


def _parse_bools(distinct: pd.Series) -> pd.Series:
    low = distinct.str.lower()
    out = pd.Series(pd.NA, index=distinct.index, dtype="boolean")
    out[low.isin(_TRUE)] = True
    out[low.isin(_FALSE)] = False
    return out


def _parse_numbers(distinct: pd.Series, col: Column,
                   decimal: str = ".") -> tuple[pd.Series, pd.Series, pd.Series]:
    """Numbers, a mask of unreadable cells, and a mask of readable cells outside the column's range
    (of the distinct cells; blanks are neither unreadable nor out of range).

    ``decimal=","`` reads ``1,5`` as 1.5 (semicolon-separated exports from European locales).
    """
    text = distinct
    if decimal == ",":
        text = text.str.replace(".", "", regex=False).str.replace(",", ".", regex=False)
    num = pd.to_numeric(text, errors="coerce").astype(float)
    unreadable = num.isna() & (distinct != "")
    out = pd.Series(False, index=text.index)
    if col.low is not None:
        out |= num < col.low
    if col.high is not None:
        out |= num > col.high
    if col.kind is Kind.INT:
        unreadable |= num.notna() & (num != np.round(num))
    num[unreadable | out] = np.nan
    return num, unreadable, out


def _parse_categories(distinct: pd.Series, col: Column) -> pd.Series:
    lookup = {a.lower(): a for a in col.allowed}
    return distinct.str.lower().map(lookup).astype(object)


def _canonical_regimen(distinct: pd.Series) -> pd.Series:
    lookup = {code.lower(): code for code in STUDY_REGIMENS}
    return distinct.map(lambda v: lookup.get(v.lower(), v)).astype(object)


def _typed(text: pd.Series, col: Column, decimal: str) -> tuple[pd.Series, np.ndarray, np.ndarray, np.ndarray]:
    """One contract column typed: (values, unreadable mask, out-of-range mask, filled mask), each
    computed on the column's distinct cells and spread back to its rows."""
    d = _Distinct.of(text)
    filled_d = d.filled
    out_d = np.zeros(len(d.values), dtype=bool)
    if col.kind is Kind.DATE:
        parsed = _parse_dates(d.values)
        bad_d = parsed.isna().to_numpy() & filled_d
    elif col.kind is Kind.BOOL:
        parsed = _parse_bools(d.values)
        bad_d = parsed.isna().to_numpy() & filled_d
    elif col.kind in (Kind.INT, Kind.FLOAT):
        parsed, bad, out = _parse_numbers(d.values, col, decimal)
        bad_d, out_d = bad.to_numpy(), out.to_numpy()
    elif col.kind is Kind.CATEGORY:
        parsed = _parse_categories(d.values, col)
        bad_d = parsed.isna().to_numpy() & filled_d
    else:
        parsed = _canonical_regimen(d.values) if col.name == Col.REGIMEN_1L else d.values
        parsed = parsed.where(filled_d, None)
        bad_d = np.zeros(len(d.values), dtype=bool)
    if isinstance(parsed.dtype, pd.BooleanDtype):  # nullable booleans: spread the codes, keep pd.NA
        values = pd.Series(parsed.array.take(d.codes), index=text.index)
    else:
        values = pd.Series(parsed.to_numpy()[d.codes], index=text.index, dtype=parsed.dtype)
    return values, d.spread(bad_d), d.spread(out_d), d.spread(filled_d)


def validate(raw: RawTable) -> Validated:
    """Check and type a raw table against the data contract.

    Parameters
    ----------
    raw : cells as read by :func:`hcc.ingest.io.read_table`, with canonical column names.

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

    pids = cells[Col.PATIENT_ID]
    for col in COLUMNS:
        text = cells[col.name] if col.name in cells.columns else pd.Series("", index=cells.index)
        values, bad_np, out_np, filled_np = _typed(text, col, raw.decimal)
        bad = pd.Series(bad_np, index=cells.index)
        out_of_range = pd.Series(out_np, index=cells.index)
        filled = pd.Series(filled_np, index=cells.index)
        rule = {Kind.DATE: Rule.BAD_DATE, Kind.BOOL: Rule.BAD_BOOLEAN, Kind.INT: Rule.BAD_NUMBER,
                Kind.FLOAT: Rule.BAD_NUMBER, Kind.CATEGORY: Rule.UNKNOWN_CATEGORY}.get(col.kind, Rule.MISSING_VALUE)
        frame[col.name] = values

        consequence = "; row excluded" if col.required else "; value treated as missing"
        for mask, this_rule in ((bad, rule), (out_of_range, Rule.OUT_OF_RANGE)):
            for idx in mask[mask].index:
                severity = Severity.ERROR if col.required else Severity.WARNING
                what = {Rule.UNKNOWN_CATEGORY: "is not an allowed value",
                        Rule.OUT_OF_RANGE: "is outside the plausible range"}.get(this_rule, "cannot be read")
                issues.append(Issue(severity, raw.name, int(rows[idx]), col.name, str(text[idx]),
                                    f"{col.kind.value} {what}{consequence}", _fix_for(col), this_rule,
                                    str(pids[idx])))
                if col.required:
                    excluded.setdefault(idx, f"unreadable {col.name}")
        if col.required:
            for idx in text[~filled].index:
                issues.append(Issue(Severity.ERROR, raw.name, int(rows[idx]), col.name, "",
                                    "required value is missing; row excluded", _fix_for(col), Rule.MISSING_VALUE,
                                    str(pids[idx])))
                excluded.setdefault(idx, f"missing {col.name}")

    ids = frame[Col.PATIENT_ID]
    dup = ids.notna() & ids.duplicated(keep=False)
    for pid, group in ids[dup].groupby(ids[dup]):
        where = ", ".join(str(int(rows[i])) for i in group.index)
        for idx in group.index:
            issues.append(Issue(Severity.ERROR, raw.name, int(rows[idx]), Col.PATIENT_ID, str(pid),
                                f"patient_id appears on rows {where}; all copies excluded",
                                "keep one row per patient", Rule.DUPLICATE_ID, str(pid)))
            excluded.setdefault(idx, "duplicate patient_id")

    frame[SOURCE_ROW] = rows
    issues += _date_order_issues(frame, raw.name, excluded)
    keep = ~frame.index.isin(list(excluded))
    excl = pd.DataFrame({
        "row": [int(rows[i]) for i in excluded],
        Col.PATIENT_ID: [cells[Col.PATIENT_ID][i] for i in excluded],
        "reason": list(excluded.values()),
    }).sort_values("row", ignore_index=True)
    # frame[keep].reset_index() made two copies of the typed table (0.75 GB at the peak for a 199 MB
    # upload): select only when rows are excluded, and renumber in place (both are this function's own)
    kept = frame[keep] if not keep.all() else frame
    kept.index = pd.RangeIndex(len(kept))
    return Validated(frame=kept, issues=tuple(issues), excluded=excl,
                     absent_columns=absent, unknown_columns=unknown)


def follow_up_end(frame: pd.DataFrame) -> pd.Series:
    """End of follow-up per patient: the date of death, else the last follow-up (SQL: ``COALESCE``
    of the two, :mod:`hcc.engine`)."""
    return frame[Col.DATE_DEATH].fillna(frame[Col.DATE_LAST_FOLLOWUP])


def _date_order_issues(frame: pd.DataFrame, file: str, excluded: dict[int, str]) -> list[Issue]:
    """Warnings for dates out of order, one per row and pair (:data:`hcc.schema.DATE_ORDER`)."""
    issues = []
    rows_kept = ~frame.index.isin(list(excluded))

    def add(mask: pd.Series, column: str, value_col: str, message: str, fix: str) -> None:
        for idx in mask[mask & rows_kept].index:
            value = frame.at[idx, value_col]
            issues.append(Issue(Severity.WARNING, file, int(frame.at[idx, SOURCE_ROW]), column,
                                value.strftime("%Y-%m-%d"), message, fix, Rule.DATE_ORDER,
                                str(frame.at[idx, Col.PATIENT_ID] or "")))

    for rule in DATE_ORDER:
        earlier, later = rule.earlier, rule.later
        add(frame[later] < frame[earlier] - pd.Timedelta(days=rule.slack_days), later, later,
            f"{later} is before {earlier}; analyses that use both dates leave this patient out",
            f"check {later} and {earlier} against the chart")
    end = follow_up_end(frame)
    for col in WITHIN_FOLLOWUP:
        add(frame[col] > end, col, col, f"{col} is after the end of follow-up (death, else last follow-up); "
            "analyses that use it leave this patient out", f"check {col}, {Col.DATE_DEATH} and "
            f"{Col.DATE_LAST_FOLLOWUP}")
    return issues
