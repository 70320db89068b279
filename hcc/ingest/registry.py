"""The loaded registry: canonical frame + validation findings + fingerprint, and the demo registry."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

import numpy as np
import pandas as pd

from hcc.ingest import deid

from hcc.ingest import mapping as mapping_

from hcc.ingest import redcap
from hcc.errors import DataFileError, IdentifierError, SchemaError
from hcc.i18n import N_, current_language, tr, use_language
from hcc.ingest.io import (  # DEMO_PATH: also imported from here
    DEMO_PATH, ENCODING_FIX, XLSX, RawTable, file_format, read_file, read_path, read_table, sheet_names,
)
from hcc.ingest.mapping import Mapping
from hcc.schema import Col, regimen_order  # also imported from here: one definition, in hcc.schema
from hcc.ingest.validate import DateChecks, Issue, Rule, Severity, validate

DEMO_LABEL = N_("Synthetic demo registry (not real patients)")


@dataclass(frozen=True, eq=False)
class Registry:
    """A validated registry, ready for cohort rules.

    Attributes
    ----------
    name : file name as the user knows it.
    is_demo : True for the bundled synthetic registry.
    frame : canonical rows kept (one per patient).
    issues : every problem found, in file order.
    excluded : rows kept out of every analysis, with ``row``, ``patient_id``, ``reason``.
    rows_read : data rows in the file.
    sha256 : SHA-256 of the file's bytes.
    absent_columns : optional contract columns the file lacks (analyses needing them are unavailable).
    unknown_columns : file columns outside the contract (ignored).
    mapping : the column and value mapping applied (saved with reports, reusable next month).
    n_ages_capped : rows of the file with an age of 90 or older, recorded as 90 ("90 or older") when the
        mapping asks for it (:func:`hcc.ingest.deid.ages_90_or_older`, the identifier question's count).
    language : the language its findings (``issues``, ``excluded`` reasons) are worded in: the caller's
        when it was checked (a session that switches language checks the file again to reword them).
    date_checks : validation's date-order tests of ``frame``'s rows, when they are its rows (no row
        excluded, dates not shifted), for the endpoints to reuse (:func:`hcc.cohort.endpoints.derive_rows`).
    """

    name: str
    is_demo: bool
    frame: pd.DataFrame
    issues: tuple[Issue, ...]
    excluded: pd.DataFrame
    rows_read: int
    sha256: str
    absent_columns: tuple[str, ...]
    unknown_columns: tuple[str, ...]
    mapping: Mapping = Mapping()
    n_ages_capped: int = 0
    language: str = "en"
    date_checks: DateChecks | None = field(default=None, repr=False)

    @property
    def label(self) -> str:
        """How the data source is named on every screen (in the current language)."""
        return tr(DEMO_LABEL) if self.is_demo else tr("Uploaded file: {name}", name=self.name)

    @property
    def n_patients(self) -> int:
        return len(self.frame)

    @cached_property
    def regimen_codes(self) -> tuple[np.ndarray, np.ndarray]:
        """The first-line regimens factorized once per registry (``pandas.factorize`` of the column as
        Python objects: codes, -1 for a blank, and the distinct regimens in order of first row), shared by
        :attr:`regimens`, :meth:`regimen_counts` and the cohort index (:class:`hcc.cohort.rules.CohortIndex`):
        one hash pass over the rows instead of three (~0.07 s each at 1M)."""
        return pd.factorize(self.frame[Col.REGIMEN_1L].to_numpy(dtype=object), use_na_sentinel=True)

    def _regimen_categories(self) -> pd.Series:
        # the column as categories of the shared codes: its value_counts is a bincount, not a hash pass
        codes, uniques = self.regimen_codes
        return pd.Series(pd.Categorical.from_codes(codes, categories=pd.Index(uniques, dtype=object)), copy=False)

    @cached_property
    def regimens(self) -> tuple[str, ...]:
        """First-line regimens present: the study's three first, then others by frequency (counted once
        per registry, from :attr:`regimen_codes`; asked on every run of the Data and Overview pages)."""
        return order_regimens(self._regimen_categories())

    def regimen_counts(self) -> dict[str, int]:
        """Patients per first-line regimen, in display order."""
        counts = self._regimen_categories().value_counts()
        return {r: int(counts[r]) for r in self.regimens}

    @property
    def n_errors(self) -> int:
        return sum(1 for i in self.issues if i.severity is Severity.ERROR)

    @property
    def n_warnings(self) -> int:
        return sum(1 for i in self.issues if i.severity is Severity.WARNING)


def order_regimens(values: pd.Series) -> tuple[str, ...]:
    """Regimen codes in display order: SOR, LEN, ATZ_BEV, then any others by descending count."""
    return regimen_order(values.value_counts())  # value_counts leaves blanks out (no dropna copy of the rows)


def auto_mapping(raw: RawTable) -> Mapping:
    """The proposed mapping, when it needs no decision from a user; else :class:`SchemaError` saying what.

    Used by the CLI without ``--mapping`` and for files already in the data contract's layout.
    """
    proposed = mapping_.propose(raw)
    missing = mapping_.missing_required(proposed)
    if missing:
        ambiguous = [m.source for m in mapping_.propose_columns(raw.cells.columns) if m.how == "ambiguous"]
        hint = tr(" Columns that fit more than one way: {columns}.", columns=", ".join(ambiguous)) if ambiguous else ""
        raise SchemaError(tr(
            "{file}: required column(s) {missing} not found.{hint} The file has: {columns}. Map the columns on "
            "the Data page (or pass --mapping) or rename them as in the data format (docs/data-format.md).",
            file=raw.name, missing=", ".join(missing), hint=hint, columns=", ".join(map(str, raw.cells.columns[:30]))))
    questions = mapping_.date_questions(raw, proposed)
    if questions:
        raise SchemaError(tr("{file}: the date format of {columns} is ambiguous (day and month are both 12 or less "
                             "everywhere). Choose it on the Data page, or in a mapping file's \"date_formats\" "
                             "(DMY or MDY).", file=raw.name, columns=", ".join(questions)))
    return proposed


@dataclass(frozen=True, eq=False)
class Source:
    """What the user uploaded, read but not yet mapped: one table (REDCap: records flattened with
    their dictionary), the identifiers the dictionary declares, issues found while reading, and the
    sheet names of an Excel workbook; ``language`` is the one its findings (``issues``, ``raw.warnings``)
    are worded in."""

    raw: RawTable
    declared_identifiers: tuple[str, ...] = ()
    issues: tuple[Issue, ...] = ()
    sheets: tuple[str, ...] = ()
    redcap: bool = False
    language: str = "en"


def read_sources(files: list[tuple[str, bytes]], sheet: str | None = None,
                 fingerprints: list[str] | None = None) -> Source:
    """Read an upload: one registry file, or a REDCap record export together with its data dictionary.

    ``fingerprints``: each file's :func:`hcc.ingest.io.fingerprint`, when the caller has computed them.

    Raises :class:`DataFileError` naming the files when the combination makes no sense.
    """
    if not files:
        raise DataFileError(tr("No file was uploaded."))
    if len(files) > 2:
        raise DataFileError(tr("{n} files were uploaded: upload one registry file, or a REDCap record export "
                               "together with its data dictionary.", n=len(files)))
    fingerprints = fingerprints or [None] * len(files)
    tables = [(name, data, read_table(data, name, sheet=sheet, sha256=sha256))
              for (name, data), sha256 in zip(files, fingerprints)]
    dictionaries = [t for t in tables if redcap.is_dictionary(t[2])]
    others = [t for t in tables if not redcap.is_dictionary(t[2])]
    if len(tables) == 2 and (len(dictionaries) != 1 or len(others) != 1):
        raise DataFileError(tr("{first} and {second}: two files are read only as a REDCap record export and its "
                               "data dictionary; upload one registry file otherwise.",
                               first=files[0][0], second=files[1][0]))
    if not others:
        raise DataFileError(tr("{name}: this is a REDCap data dictionary. Upload the record export "
                               "(Data Exports > CSV, raw or labels) together with it.", name=files[0][0]))
    name, data, raw = others[0]
    sheets = sheet_names(data, name) if file_format(data, name) == XLSX else ()
    if not dictionaries:
        return Source(raw, sheets=sheets, language=current_language())
    flat = redcap.flatten(raw, redcap.read_dictionary(dictionaries[0][2]))
    return Source(flat.raw, flat.identifiers, flat.issues, sheets, redcap=True, language=current_language())


def load_source(source: Source, mapping: Mapping | None = None) -> Registry:
    """The registry of an upload read by :func:`read_sources`, mapped with ``mapping`` (or the proposal)."""
    return from_raw(source.raw, mapping, declared_identifiers=source.declared_identifiers,
                    extra_issues=source.issues)


def from_raw(raw: RawTable, mapping: Mapping | None = None, *, is_demo: bool = False,
             declared_identifiers: tuple[str, ...] = (), extra_issues: tuple[Issue, ...] = ()) -> Registry:
    """Map, guard and validate a raw table into a :class:`Registry`.

    Parameters
    ----------
    raw : the file's cells (:func:`hcc.ingest.io.read_table`).
    mapping : the confirmed mapping; ``None`` applies :func:`auto_mapping`.
    declared_identifiers : source columns a REDCap dictionary marks as identifiers.
    extra_issues : problems found before mapping (REDCap incomplete forms), reported first (after
        ``raw.warnings``, e.g. rows in another text encoding, which become warnings).

    Raises
    ------
    IdentifierError
        If a column looks like a direct identifier and the mapping neither drops nor clears it.
    SchemaError, SpecError
        If required columns cannot be mapped, or the mapping does not fit the file.
    """
    mapping = auto_mapping(raw) if mapping is None else mapping
    # the bundled demo is synthetic: nobody to identify (its ages run past 89 like a real registry's)
    findings = () if is_demo else deid.scan(raw, mapping, declared_identifiers)
    if findings:
        listed = "; ".join(tr("'{column}' ({category}; {how})", column=f.column, category=tr(f.category), how=f.how)
                           for f in findings)
        raise IdentifierError(tr("{file}: column(s) that look like patient identifiers: {listed}. Drop them "
                                 "(or confirm they are not identifiers) on the Data page or in the mapping file, "
                                 "then load again.", file=raw.name, listed=listed))
    read_issues = tuple(Issue(Severity.WARNING, raw.name, None, None, "", w, tr(ENCODING_FIX), Rule.TEXT_ENCODING)
                        for w in raw.warnings)
    extra_issues = read_issues + extra_issues
    checked = validate(mapping_.apply(raw, mapping))
    frame = deid.cap_ages(checked.frame)[0] if mapping.cap_age else checked.frame
    age_source = next((s for s, c in mapping.column_map.items() if c == Col.AGE), None)
    # counted in the file as the identifier question counts them (an age of 90 or a kept-out row included)
    n_capped = deid.ages_90_or_older(raw.cells[age_source], raw.value_counts(age_source)) \
        if mapping.cap_age and age_source in raw.cells else 0
    if mapping.relative_dates:
        frame = deid.relative_dates(frame)
    return Registry(name=raw.name, is_demo=is_demo, frame=frame, issues=extra_issues + checked.issues,
                    excluded=checked.excluded, rows_read=len(raw.cells), sha256=raw.sha256,
                    absent_columns=checked.absent_columns, unknown_columns=checked.unknown_columns,
                    mapping=mapping, n_ages_capped=n_capped, language=current_language(),
                    date_checks=checked.date_checks if frame is checked.frame else None)


def load_bytes(data: bytes, name: str, mapping: Mapping | None = None) -> Registry:
    """Read, map and validate an uploaded file held in memory (never written to disk)."""
    return from_raw(read_table(data, name, sheet=mapping.sheet or None if mapping else None), mapping)


def load_path(path: str | Path, mapping: Mapping | None = None) -> Registry:
    """Read, map and validate one registry file on disk (:func:`load_files` with one path)."""
    return load_files([path], mapping)


def load_files(paths: list[str | Path], mapping: Mapping | None = None) -> Registry:
    """Read, map and validate files on disk: one registry file, or a REDCap record export and its dictionary.

    Without ``mapping`` the proposal is applied when it needs no decision (:func:`auto_mapping`).
    """
    files = [(Path(path).name, read_file(path)) for path in paths]  # regular files within the size limit only
    source = read_sources(files, mapping.sheet or None if mapping else None)
    del files  # the bytes are no longer needed: free them before mapping (up to MAX_BYTES)
    is_demo = len(paths) == 1 and Path(paths[0]).resolve() == DEMO_PATH
    return from_raw(source.raw, mapping, is_demo=is_demo, declared_identifiers=source.declared_identifiers,
                    extra_issues=source.issues)


def mapping_notes(registry: Registry) -> list[str]:
    """What a mapping changed, in words (the CLI prints these on stderr when it mapped on its own)."""
    notes = [tr("column '{source}' -> {column}", source=s, column=c) for s, c in registry.mapping.columns if s != c]
    notes += [f"{c}: '{s}' -> {v}" for c, s, v in registry.mapping.values]
    notes += [tr("date format of {column}: {format}", column=c, format=f) for c, f in registry.mapping.date_formats]
    return notes


def load_demo() -> Registry:
    """The bundled synthetic demo registry.

    Built in English whatever the caller's language: the app keeps one demo registry for every session
    (a process-wide cache), so it must hold no translated text (it has no validation issue; its label
    is translated where shown, :attr:`Registry.label`)."""
    with use_language("en"):
        return from_raw(read_path(DEMO_PATH), is_demo=True)
