"""REDCap exports, read natively: the record CSV (raw codes or labels) with its data dictionary.

:func:`flatten` turns REDCap's layout into one row per patient for :mod:`hcc.ingest.mapping`:

- radio, dropdown, yes/no and true/false codes are decoded to their labels from the dictionary's
  "Choices, Calculations, OR Slider Labels" (``1, Sorafenib | 2, Lenvatinib``);
- checkbox columns ``field___code`` are folded into one column: yes/no for a single-choice checkbox,
  else the checked labels joined by ``"; "``;
- rows of a longitudinal project (``redcap_event_name``) are merged per record, the first event
  with a value winning; conflicting values are reported;
- a repeating instrument (``redcap_repeat_instrument``/``redcap_repeat_instance``), such as one
  instance per treatment line, is pivoted to columns ``<field>_1l``, ``<field>_2l``, ... (instance
  number = line number), which the column matcher maps to ``regimen_1l``, ``start_2l``, ...;
- ``<form>_complete`` status other than Complete is reported per record ("incomplete form") and
  the status columns are removed;
- fields marked ``Identifier? = y`` are returned as declared identifiers for :mod:`hcc.ingest.deid`.

The labels export is recognised by its header (field labels instead of variable names) and renamed
back to variable names first.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import pandas as pd

from hcc.errors import DataFileError
from hcc.i18n import tr
from hcc.ingest.io import RawTable, python_text
from hcc.ingest.mapping import normalize
from hcc.ingest.validate import FIRST_DATA_ROW, Issue, Rule, Severity

EVENT, REPEAT_INSTRUMENT, REPEAT_INSTANCE = "redcap_event_name", "redcap_repeat_instrument", "redcap_repeat_instance"
_LABEL_HEADERS = {"event name": EVENT, "repeat instrument": REPEAT_INSTRUMENT, "repeat instance": REPEAT_INSTANCE}
_CHOICE_HEADER = re.compile(r"^(?P<label>.*) \(choice=(?P<choice>.*)\)$")
_COMPLETE = {"2", "complete"}
_CHECKED = {"1", "checked"}
# Dictionary header cells (normalised).
_NAME, _FORM, _TYPE, _LABEL, _CHOICES, _IDENTIFIER = (
    "variable field name", "form name", "field type", "field label",
    "choices calculations or slider labels", "identifier")


@dataclass(frozen=True)
class Field:
    """One field of a REDCap data dictionary."""

    name: str
    form: str
    field_type: str
    label: str
    choices: tuple[tuple[str, str], ...]
    identifier: bool


@dataclass(frozen=True)
class Dictionary:
    """A REDCap data dictionary: fields in project order."""

    fields: tuple[Field, ...]

    @property
    def forms(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(f.form for f in self.fields))

    def by_name(self) -> dict[str, Field]:
        return {f.name: f for f in self.fields}


@dataclass(frozen=True, eq=False)
class Flattened:
    """:func:`flatten`'s result: one row per record, identifiers declared, issues found."""

    raw: RawTable
    identifiers: tuple[str, ...]
    issues: tuple[Issue, ...]


def is_dictionary(raw: RawTable) -> bool:
    """Whether a table is a REDCap data dictionary (by its header)."""
    header = {normalize(c) for c in raw.cells.columns}
    return _NAME in header and _TYPE in header


def _choices(text: str) -> tuple[tuple[str, str], ...]:
    pairs = []
    for part in text.split("|"):
        code, sep, label = part.partition(",")
        if sep:
            pairs.append((code.strip(), label.strip()))
    return tuple(pairs)


def read_dictionary(raw: RawTable) -> Dictionary:
    """Parse a REDCap data dictionary table (the CSV from "Dictionary" > "Download")."""
    cols = {normalize(c): c for c in raw.cells.columns}
    missing = [h for h in (_NAME, _FORM, _TYPE, _LABEL) if h not in cols]
    if missing:
        raise DataFileError(tr("{name}: not a REDCap data dictionary (no column like {column}).", name=raw.name,
                               column=repr(missing[0])))
    get = raw.cells
    fields = []
    for _, row in get.iterrows():
        ftype = row[cols[_TYPE]].strip().lower()
        if ftype == "descriptive" or not row[cols[_NAME]]:
            continue
        choices = _choices(row[cols[_CHOICES]]) if _CHOICES in cols else ()
        if ftype == "yesno":
            choices = (("1", "Yes"), ("0", "No"))
        elif ftype == "truefalse":
            choices = (("1", "True"), ("0", "False"))
        fields.append(Field(row[cols[_NAME]].strip(), row[cols[_FORM]].strip(), ftype, row[cols[_LABEL]].strip(),
                            choices, _IDENTIFIER in cols and row[cols[_IDENTIFIER]].strip().lower() == "y"))
    return Dictionary(tuple(fields))


def _label_header_map(columns: list[str], dictionary: Dictionary) -> dict[str, str]:
    """For a labels export: header cell → variable name (checkboxes → ``name___code``, status columns)."""
    by_label = {}
    for f in dictionary.fields:
        by_label.setdefault(f.label, f.name)
    out: dict[str, str] = {}
    forms = list(dictionary.forms)
    for c in columns:
        base = re.sub(r"\.\d+$", "", c)  # pandas numbers repeated headers ("Complete?.1")
        match = _CHOICE_HEADER.match(base)
        if base in by_label:
            out[c] = by_label[base]
        elif normalize(base) in _LABEL_HEADERS:
            out[c] = _LABEL_HEADERS[normalize(base)]
        elif match and match["label"] in by_label:
            field = dictionary.by_name()[by_label[match["label"]]]
            code = next((k for k, v in field.choices if v == match["choice"]), match["choice"])
            out[c] = f"{field.name}___{code}"
        elif base == "Complete?" and forms:
            out[c] = f"{forms.pop(0)}_complete"
    return out


def flatten(records: RawTable, dictionary: Dictionary) -> Flattened:
    """One row per record from a REDCap record export and its data dictionary (see the module doc)."""
    cells = python_text(records.cells)  # a copy, edited below
    first = dictionary.fields[0].name if dictionary.fields else ""
    if first not in cells.columns:
        cells = cells.rename(columns=_label_header_map(list(cells.columns), dictionary))
    if first not in cells.columns:
        raise DataFileError(tr("{name}: the record export does not have the dictionary's first field '{field}'. "
                               "Export the records and the data dictionary of the same project.",
                               name=records.name, field=first))
    fields = dictionary.by_name()
    issues: list[Issue] = []
    cells = _decode(cells, fields)
    cells = _fold_checkboxes(cells, fields)
    issues += _incomplete_forms(cells, dictionary, records.name, first)
    cells = cells.drop(columns=[f"{form}_complete" for form in dictionary.forms if f"{form}_complete" in cells])
    merged, more = _one_row_per_record(cells, first, records.name)
    issues += more
    identifiers = tuple(c for c in merged.columns if c in fields and fields[c].identifier)
    return Flattened(records.with_cells(merged.reset_index(drop=True)), identifiers, tuple(issues))


def _decode(cells: pd.DataFrame, fields: dict[str, Field]) -> pd.DataFrame:
    for name in cells.columns:
        field = fields.get(name)
        if field and field.field_type in ("radio", "dropdown", "yesno", "truefalse") and field.choices:
            lookup = dict(field.choices)
            cells[name] = cells[name].map(lambda v: lookup.get(v, v))
    return cells


def _fold_checkboxes(cells: pd.DataFrame, fields: dict[str, Field]) -> pd.DataFrame:
    groups: dict[str, list[str]] = {}
    for c in cells.columns:
        name, sep, _code = c.partition("___")
        if sep and name in fields and fields[name].field_type == "checkbox":
            groups.setdefault(name, []).append(c)
    for name, columns in groups.items():
        labels = dict(fields[name].choices)
        checked = cells[columns].apply(lambda s: s.str.lower().isin(_CHECKED))
        if len(labels) == 1:
            folded = checked.iloc[:, 0].map({True: "yes", False: "no"})
        else:
            names = [labels.get(c.partition("___")[2], c.partition("___")[2]) for c in columns]
            folded = pd.Series(_joined_labels(checked.to_numpy(dtype=bool), names), index=cells.index)
        blank = (cells[columns] == "").all(axis=1)  # not answered (e.g. a row of another event)
        cells = cells.drop(columns=columns)
        cells[name] = folded.where(~blank, "")
    return cells


def _joined_labels(checked: np.ndarray, names: list[str]) -> np.ndarray:
    """Per row, the labels of the checked boxes joined by "; " in column order ("" when none): by
    column over numpy arrays, not a Python call per row."""
    out = np.full(len(checked), "", dtype=object)
    for j, name in enumerate(names):
        on = checked[:, j]
        out[on] = np.where(out[on] == "", name, out[on] + ("; " + name))
    return out


def _incomplete_forms(cells: pd.DataFrame, dictionary: Dictionary, file: str, id_col: str) -> list[Issue]:
    issues = []
    for form in dictionary.forms:
        status = f"{form}_complete"
        if status not in cells:
            continue
        bad = (cells[status] != "") & ~cells[status].str.lower().isin(_COMPLETE)
        if not bad.any():
            continue
        # translated once per form, not per record
        message = tr("form '{form}' is not marked Complete in REDCap; its values are used as entered", form=form)
        fix = tr("finish and verify the form in REDCap, then export again")
        for idx in bad[bad].index:
            issues.append(Issue(Severity.WARNING, file, int(idx) + FIRST_DATA_ROW, status, cells.at[idx, status],
                                message, fix, Rule.INCOMPLETE_FORM, cells.at[idx, id_col]))
    return issues


def _one_row_per_record(cells: pd.DataFrame, id_col: str, file: str) -> tuple[pd.DataFrame, list[Issue]]:
    issues: list[Issue] = []
    repeat = cells[REPEAT_INSTRUMENT] if REPEAT_INSTRUMENT in cells else pd.Series("", index=cells.index)
    in_repeats = cells[repeat != ""]
    repeated_fields = [c for c in cells.columns if c != id_col and (in_repeats[c] != "").any()]
    base_rows = cells[repeat == ""].drop(columns=[c for c in (EVENT, REPEAT_INSTRUMENT, REPEAT_INSTANCE, *repeated_fields)
                                                  if c in cells])
    records = list(dict.fromkeys(cells[id_col]))
    merged = pd.DataFrame({id_col: records})
    for column in base_rows.columns.drop(id_col):
        filled = base_rows[base_rows[column] != ""]
        firsts = filled.groupby(id_col, sort=False)[column].first()
        conflicts = filled.groupby(id_col, sort=False)[column].nunique()
        conflicting = conflicts[conflicts > 1].index
        if len(conflicting):  # translated once per column, not per record
            message = tr("different values in different events; the first event's value is used")
            fix = tr("make the events agree in REDCap")
        for record in conflicting:
            issues.append(Issue(Severity.WARNING, file, None, column, firsts[record],
                                message, fix, Rule.EVENT_CONFLICT, record))
        merged[column] = merged[id_col].map(firsts).fillna("")
    for instrument in (r for r in dict.fromkeys(repeat) if r):
        rows = cells[repeat == instrument]
        instance = pd.to_numeric(rows[REPEAT_INSTANCE], errors="coerce").fillna(1).astype(int)
        fields = [c for c in rows.columns if c not in (id_col, EVENT, REPEAT_INSTRUMENT, REPEAT_INSTANCE)
                  and (rows[c] != "").any()]
        for n in sorted(instance.unique()):
            at = rows[instance == n].drop_duplicates(id_col).set_index(id_col)
            for field in fields:
                merged[f"{field}_{n}l"] = merged[id_col].map(at[field]).fillna("")
    return merged, issues
