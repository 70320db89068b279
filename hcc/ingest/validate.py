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
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from enum import Enum

import numpy as np
import pandas as pd

from hcc.errors import SchemaError
from hcc.i18n import N_, tr, trc
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
    """The validation rules, as named in the report (``docs/data-format.md`` lists them). The values are
    English keys, marked for the catalog: the report shows ``tr(rule.value)``."""

    MISSING_COLUMN = N_("missing required column")
    MISSING_VALUE = N_("missing required value")
    DUPLICATE_ID = N_("duplicate patient_id")
    BAD_DATE = N_("unreadable date")
    BAD_NUMBER = N_("unreadable number")
    OUT_OF_RANGE = N_("value out of range")
    UNKNOWN_CATEGORY = N_("unknown category")
    BAD_BOOLEAN = N_("unreadable yes/no")
    DATE_ORDER = N_("dates out of order")
    INCOMPLETE_FORM = N_("incomplete form")
    EVENT_CONFLICT = N_("conflicting values across events")
    TEXT_ENCODING = N_("text in another encoding")

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
        where = self.file
        if self.row is not None:
            where = tr("{where}, row {row}", where=where, row=self.row)
        if self.column:
            where = tr("{where}, column '{column}'", where=where, column=self.column)
        shown = tr(" (value '{value}')", value=self.value) if self.value else ""
        return tr("{where}: {message}{shown}. Fix: {fix}", where=where, message=self.message, shown=shown, fix=self.fix)


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
    date_checks: "DateChecks | None" = None  # of ``frame``, when no row was excluded (else None)


def _fix_for(col: Column) -> str:
    """How to fix a bad value of ``col``, in the current language (built once per column, not per row)."""
    if col.kind is Kind.DATE:
        return tr("write dates as YYYY-MM-DD (e.g. 2021-03-15)")
    if col.kind is Kind.BOOL:
        return tr("write yes or no (or 1 / 0), or leave blank if unknown")
    if col.kind is Kind.CATEGORY:
        return tr("use one of {values}, or leave blank if unknown", values=", ".join(col.allowed))
    if col.kind in (Kind.INT, Kind.FLOAT):
        whole = col.kind is Kind.INT
        if col.low is not None and col.high is not None:
            low, high = f"{col.low:g}", f"{col.high:g}"
            if whole:
                return tr("write a whole number between {low} and {high}, or leave blank if unknown", low=low, high=high)
            return tr("write a number between {low} and {high}, or leave blank if unknown", low=low, high=high)
        return tr("write a whole number, or leave blank if unknown") if whole else \
            tr("write a number, or leave blank if unknown")
    return tr("fill in a value")


def _kind_word(kind: Kind) -> str:
    """The kind of value a column holds, as a message names it ("date cannot be read")."""
    return {Kind.DATE: trc("value kind", "date"), Kind.BOOL: trc("value kind", "boolean"),
            Kind.INT: trc("value kind", "integer"), Kind.FLOAT: trc("value kind", "number"),
            Kind.CATEGORY: trc("value kind", "category"), Kind.TEXT: trc("value kind", "text")}[kind]


def _bad_value_message(col: Column, rule: Rule) -> str:
    """What is wrong with a bad value of ``col`` and what happens to it (once per column and rule)."""
    kind = _kind_word(col.kind)
    if rule is Rule.UNKNOWN_CATEGORY:
        return tr("{kind} is not an allowed value; row excluded", kind=kind) if col.required else \
            tr("{kind} is not an allowed value; value treated as missing", kind=kind)
    if rule is Rule.OUT_OF_RANGE:
        return tr("{kind} is outside the plausible range; row excluded", kind=kind) if col.required else \
            tr("{kind} is outside the plausible range; value treated as missing", kind=kind)
    return tr("{kind} cannot be read; row excluded", kind=kind) if col.required else \
        tr("{kind} cannot be read; value treated as missing", kind=kind)


@dataclass(frozen=True, eq=False)
class _Distinct:
    """A text column as its distinct values and, per row, the index of its value (one hash pass,
    :func:`pandas.factorize`): every parse and check below runs on the distinct values only (a
    million-row column holds a few thousand distinct dates) and is spread back with ``codes``."""

    codes: np.ndarray
    values: pd.Series  # the distinct cells, as text
    filled: np.ndarray  # per distinct value: not blank

    @classmethod
    def of(cls, text: pd.Series, factorized: tuple | None = None) -> "_Distinct":
        """``factorized``: the column's :meth:`hcc.ingest.io.RawTable.factorized`, when the mapping editor
        has hashed it already (the same codes and distinct cells as hashing it here)."""
        codes, distinct = factorized or pd.factorize(text, use_na_sentinel=False)  # Arrow's hash for Arrow strings
        # blank or not, compared before the cells become Python strings (in Arrow for Arrow cells: ~0.1 s
        # less for a million distinct patient codes); a missing cell is not blank, as `!= ""` on objects says
        filled = distinct != ""
        filled = filled.to_numpy(dtype=bool, na_value=True) if hasattr(filled, "to_numpy") else np.asarray(filled)
        return cls(np.asarray(codes, dtype=np.intp), pd.Series(np.asarray(distinct, dtype=object), dtype=object),
                   np.asarray(filled, dtype=bool))

    def spread(self, per_value: np.ndarray | pd.Series) -> np.ndarray:
        """A per-distinct-value array as one value per row."""
        per_value = np.asarray(per_value)
        if per_value.dtype == bool and len(per_value) and (per_value.all() or not per_value.any()):
            return np.full(len(self.codes), per_value[0])  # no bad value, all filled, …: no gather per row
        return per_value[self.codes]


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


def _typed(text: pd.Series, col: Column, decimal: str,
           factorized: tuple | None = None) -> tuple[pd.Series, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """One contract column typed: (values, unreadable mask, out-of-range mask, filled mask, codes),
    each computed on the column's distinct cells and spread back to its rows; ``codes`` numbers each
    row's cell (equal cells, equal codes: :class:`_Distinct`, from ``factorized`` when known)."""
    d = _Distinct.of(text, factorized)
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
        if not filled_d.all():  # blanks become None (nothing to blank: no copy of a million patient codes)
            parsed = parsed.where(filled_d, None)
        bad_d = np.zeros(len(d.values), dtype=bool)
    if isinstance(parsed.dtype, pd.BooleanDtype):  # nullable booleans: spread the codes, keep pd.NA
        values = pd.Series(parsed.array.take(d.codes), index=text.index)
    else:
        values = pd.Series(parsed.to_numpy()[d.codes], index=text.index, dtype=parsed.dtype)
    return values, d.spread(bad_d), d.spread(out_d), d.spread(filled_d), d.codes


def _typed_columns(cells: pd.DataFrame, decimal: str, known=lambda name: None):
    """``(column, text, typed)`` for every contract column in :data:`COLUMNS` order, ``typed`` as
    :func:`_typed` gives it (codes kept for ``patient_id`` only, for the duplicate check). The next
    column is typed in a second thread while this one is reported: the hashing and parsing run in
    Arrow, numpy and pandas kernels that release the GIL (2 cores; one column ahead, so memory holds
    one extra column at most). ``known(name)``: a column's codes and distinct cells when already
    hashed (:meth:`hcc.ingest.io.RawTable.factorized`), else ``None``."""
    def one(col: Column):
        present = col.name in cells.columns
        text = cells[col.name] if present else pd.Series("", index=cells.index)
        values, bad, out, filled, codes = _typed(text, col, decimal, known(col.name) if present else None)
        return text, (values, bad, out, filled, codes if col.name == Col.PATIENT_ID else None)

    with ThreadPoolExecutor(max_workers=2) as pool:
        ahead = pool.submit(one, COLUMNS[0])
        for i, col in enumerate(COLUMNS):
            current = ahead
            if i + 1 < len(COLUMNS):
                ahead = pool.submit(one, COLUMNS[i + 1])
            yield (col, *current.result())


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
        raise SchemaError(tr(
            "{file}: required column(s) {missing} not found. The file has: {columns}. Rename the columns as "
            "in the data format (docs/data-format.md) and upload again.",
            file=raw.name, missing=", ".join(missing), columns=", ".join(cells.columns[:30])))
    known = {c.name for c in COLUMNS}
    unknown = tuple(c for c in cells.columns if c not in known)
    absent = tuple(c.name for c in COLUMNS if c.name not in cells.columns)

    rows = pd.Series(np.arange(len(cells)) + FIRST_DATA_ROW, index=cells.index)
    issues: list[Issue] = []
    excluded: dict[int, str] = {}
    typed: dict[str, pd.Series] = {}  # the frame's columns, in COLUMNS order

    pids = cells[Col.PATIENT_ID]
    hashed = lambda name: raw.known(("factorize", name))  # noqa: E731 - by the mapping editor, if it did
    for col, text, (values, bad_np, out_np, filled_np, codes) in _typed_columns(cells, raw.decimal, hashed):
        if col.name == Col.PATIENT_ID:
            # a code used by more than one row: the same patient_id (one hash pass, validation's own)
            duplicated = filled_np & (np.bincount(codes)[codes] > 1)
        bad = pd.Series(bad_np, index=cells.index)
        out_of_range = pd.Series(out_np, index=cells.index)
        filled = pd.Series(filled_np, index=cells.index)
        rule = {Kind.DATE: Rule.BAD_DATE, Kind.BOOL: Rule.BAD_BOOLEAN, Kind.INT: Rule.BAD_NUMBER,
                Kind.FLOAT: Rule.BAD_NUMBER, Kind.CATEGORY: Rule.UNKNOWN_CATEGORY}.get(col.kind, Rule.MISSING_VALUE)
        typed[col.name] = values

        # every text is translated once per column, never per row (a million-row file, issue 17)
        fix = _fix_for(col) if (bad_np.any() or out_np.any() or (col.required and not filled_np.all())) else ""
        severity = Severity.ERROR if col.required else Severity.WARNING
        for mask, this_rule in ((bad, rule), (out_of_range, Rule.OUT_OF_RANGE)):
            if not mask.any():
                continue
            message = _bad_value_message(col, this_rule)
            reason = trc("exclusion reason", "unreadable {column}", column=col.name)
            for idx in mask[mask].index:
                issues.append(Issue(severity, raw.name, int(rows[idx]), col.name, str(text[idx]),
                                    message, fix, this_rule, str(pids[idx])))
                if col.required:
                    excluded.setdefault(idx, reason)
        if col.required and not filled_np.all():
            message, reason = tr("required value is missing; row excluded"), trc("exclusion reason", "missing {column}", column=col.name)
            for idx in text[~filled].index:
                issues.append(Issue(Severity.ERROR, raw.name, int(rows[idx]), col.name, "",
                                    message, fix, Rule.MISSING_VALUE, str(pids[idx])))
                excluded.setdefault(idx, reason)

    typed[SOURCE_ROW] = rows
    # each column is this function's own new array: the frame takes them as they are (setting them one
    # by one copied each, ~0.5 s at 1M; copy=False also leaves them unconsolidated, no 2-D block copy)
    frame = pd.DataFrame(typed, index=cells.index, copy=False)
    ids = frame[Col.PATIENT_ID]
    dup = pd.Series(duplicated, index=ids.index)  # = ids.notna() & ids.duplicated(keep=False)
    if dup.any():  # the templates once, filled in per patient
        dup_message, dup_fix = tr("patient_id appears on rows {rows}; all copies excluded"), tr("keep one row per patient")
        dup_reason = tr("duplicate patient_id")
    for pid, group in (ids[dup].groupby(ids[dup]) if dup.any() else ()):  # no grouping of nothing (~0.2 s at 1M)
        where = ", ".join(str(int(rows[i])) for i in group.index)
        message = dup_message.format(rows=where)
        for idx in group.index:
            issues.append(Issue(Severity.ERROR, raw.name, int(rows[idx]), Col.PATIENT_ID, str(pid),
                                message, dup_fix, Rule.DUPLICATE_ID, str(pid)))
            excluded.setdefault(idx, dup_reason)

    checks = DateChecks(frame)
    issues += _date_order_issues(frame, raw.name, excluded, checks)
    keep = _kept(frame.index, excluded)
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
                     absent_columns=absent, unknown_columns=unknown,
                     date_checks=checks if kept is frame else None)  # its masks are the kept rows'


def _kept(index: pd.Index, excluded: dict[int, str]) -> np.ndarray:
    """Per row of ``index`` (unique labels): not in ``excluded`` (``~index.isin(list(excluded))``
    by position, without hashing the million labels)."""
    if not index.is_unique:
        return ~index.isin(list(excluded))
    keep = np.ones(len(index), dtype=bool)
    if excluded:
        keep[index.get_indexer(list(excluded))] = False
    return keep


def follow_up_end(frame: pd.DataFrame) -> pd.Series:
    """End of follow-up per patient: the date of death, else the last follow-up (SQL: ``COALESCE``
    of the two, :mod:`hcc.engine`)."""
    return frame[Col.DATE_DEATH].fillna(frame[Col.DATE_LAST_FOLLOWUP])


class DateChecks:
    """The date-order tests of one frame's rows (:data:`hcc.schema.DATE_ORDER`, :data:`WITHIN_FOLLOWUP`),
    each computed once when first asked: validation reports them, and every endpoint's derivation
    (:func:`hcc.cohort.endpoints.derive_rows`) leaves those rows out (at 1M rows ~40 ms an endpoint when
    each computed them again). Holds the frame and its masks (one byte a row each): keep it where the
    frame is kept (the registry, the session), never beyond. Comparisons with a missing date (NaT) are
    False, as in pandas."""

    def __init__(self, frame: pd.DataFrame) -> None:
        self.frame = frame
        self._masks: dict[tuple, np.ndarray] = {}

    def _dates(self, column: str) -> np.ndarray:  # numpy compares a million rows without pandas' overhead
        return self.frame[column].to_numpy(dtype="datetime64[ns]")

    def before(self, rule) -> np.ndarray:
        """Rows whose ``rule.later`` is more than ``rule.slack_days`` before ``rule.earlier``."""
        key = ("order", rule.earlier, rule.later, rule.slack_days)
        if key not in self._masks:
            self._masks[key] = self._dates(rule.later) < (self._dates(rule.earlier)
                                                          - np.timedelta64(rule.slack_days, "D"))
        return self._masks[key]

    def after_followup(self, column: str) -> np.ndarray:
        """Rows whose ``column`` is after the end of follow-up (:func:`follow_up_end`)."""
        if ("end",) not in self._masks:
            self._masks[("end",)] = follow_up_end(self.frame).to_numpy(dtype="datetime64[ns]")
        key = ("after", column)
        if key not in self._masks:
            self._masks[key] = self._dates(column) > self._masks[("end",)]
        return self._masks[key]


def _date_order_issues(frame: pd.DataFrame, file: str, excluded: dict[int, str],
                       checks: DateChecks | None = None) -> list[Issue]:
    """Warnings for dates out of order, one per row and pair (:data:`hcc.schema.DATE_ORDER`);
    ``checks``: the frame's :class:`DateChecks` (kept by the caller for the endpoints)."""
    issues = []
    rows_kept = _kept(frame.index, excluded)
    checks = DateChecks(frame) if checks is None else checks

    def add(mask: np.ndarray, column: str, value_col: str, message: str, fix: str) -> None:
        for idx in frame.index[mask & rows_kept]:
            value = frame.at[idx, value_col]
            issues.append(Issue(Severity.WARNING, file, int(frame.at[idx, SOURCE_ROW]), column,
                                value.strftime("%Y-%m-%d"), message, fix, Rule.DATE_ORDER,
                                str(frame.at[idx, Col.PATIENT_ID] or "")))

    for rule in DATE_ORDER:
        earlier, later = rule.earlier, rule.later
        add(checks.before(rule), later, later,
            tr("{later} is before {earlier}; analyses that use both dates leave this patient out",
               later=later, earlier=earlier),
            tr("check {later} and {earlier} against the chart", later=later, earlier=earlier))
    for col in WITHIN_FOLLOWUP:
        add(checks.after_followup(col), col, col,
            tr("{column} is after the end of follow-up (death, else last follow-up); analyses that use it "
               "leave this patient out", column=col),
            tr("check {column}, {death} and {last}", column=col, death=Col.DATE_DEATH, last=Col.DATE_LAST_FOLLOWUP))
    return issues
