"""De-identification guard: find direct identifiers in an upload before anything is analysed.

Looks for the HIPAA Safe Harbor identifier categories that can occur in a registry table
(45 CFR 164.514(b)(2)): names, medical record / insurance / other account numbers, telephone numbers,
e-mail addresses, street addresses and postcodes, exact birth dates, ages over 89, and free-text notes
(which carry any of these). Each column is checked by its name and by the pattern of its contents;
REDCap fields marked ``Identifier? = y`` are identifiers by declaration. Findings name the column and
the category, never the values. The app blocks analysis until every finding is resolved: the column
dropped, or confirmed by the user as not an identifier (recorded in the :class:`~hcc.ingest.mapping.Mapping`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import pandas as pd

from hcc.i18n import N_, current_language, tr
from hcc.ingest.dates import looks_like_date
from hcc.ingest.io import RawTable, nonblank
from hcc.ingest.mapping import Mapping, normalize
from hcc.schema import AGE_CAP, COLUMN_BY_NAME, DATE_COLUMNS, Col, Kind  # AGE_CAP: also imported from here
#: Counts below this are "small cells": shown with a warning (re-identification risk in small groups).
SMALL_CELL = 5

#: The identifier categories: English keys (the Data page's choices depend on them), marked for the
#: catalog and translated where shown (``tr(finding.category)``).
NAME, RECORD_NUMBER, PHONE, EMAIL, ADDRESS, BIRTH_DATE, AGE_OVER_89, FREE_TEXT, DECLARED = (
    N_("name"), N_("record or account number"), N_("telephone number"), N_("e-mail address"),
    N_("address or postcode"), N_("exact birth date"), N_("age over 89"), N_("free-text note"),
    N_("marked as identifier in the REDCap dictionary"))

#: Column-name words that signal an identifier category (matched on :func:`hcc.ingest.mapping.normalize`d names).
NAME_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = (
    (NAME, re.compile(r"\b(first|last|family|given|sur|full|patient|maiden)? ?names?\b|\bsurname\b|氏名|名前|患者名|カナ")),
    (RECORD_NUMBER, re.compile(r"\b(mrn|medical record|chart|hospital (number|no|id)|case number|insurance|"
                               r"policy|ssn|social security|nhs (number|no)|account|karte|カルテ|保険|診察券)")),
    (PHONE, re.compile(r"\b(phone|telephone|tel|mobile|cell|fax)\b|電話")),
    (EMAIL, re.compile(r"\be ?mail\b|メール")),
    (ADDRESS, re.compile(r"\b(address|street|city|town|zip|zipcode|postcode|postal|post code)\b|住所|郵便")),
    (BIRTH_DATE, re.compile(r"\b(dob|birth|birthday|date of birth|birthdate)\b|生年月日|誕生日")),
    (FREE_TEXT, re.compile(r"\b(note|notes|comment|comments|remark|remarks|free text|memo|narrative)\b|備考|コメント|メモ")),
)
_EMAIL = re.compile(r"^[\w.+-]+@[\w-]+(\.[\w-]+)+$")
_PHONE = re.compile(r"^\+?[\d ()-]{9,}$")
_PERSON_NAME = re.compile(r"^[A-Z][a-z]+(?:[-'][A-Z]?[a-z]+)?,? [A-Z][a-z]+(?:[-'][A-Z]?[a-z]+)?$")
_POSTCODE = re.compile(r"^(\d{3}-\d{4}|\d{5}(-\d{4})?|[A-Z]{1,2}\d[A-Z\d]? ?\d[A-Z]{2})$")


@dataclass(frozen=True)
class Finding:
    """One column that looks like a direct identifier.

    ``how`` says why (``column name``, ``contents: 37 of 40 values look like e-mail addresses``,
    ``REDCap dictionary``), in the language of the call that scanned; the values themselves are never
    shown. ``category`` is one of the English category keys above.
    """

    column: str
    category: str
    how: str


def _share(text: pd.Series, pattern: re.Pattern[str]) -> float:
    matches = text.str.match(pattern)
    if pattern is _PHONE:  # 2021-03-15 and 15.03.2021 are digits and dashes too: dates are not telephone numbers
        matches &= ~looks_like_date(text)
    return float(matches.mean()) if len(text) else 0.0


_ALL_PATTERNS = ((EMAIL, _EMAIL), (PHONE, _PHONE), (NAME, _PERSON_NAME), (ADDRESS, _POSTCODE))
#: In contract text columns (patient code, center, regimen) names of places and drugs look like
#: person names, so only the unmistakable patterns are checked there.
_MAPPED_PATTERNS = ((EMAIL, _EMAIL), (PHONE, _PHONE))


#: Content patterns are checked on at most this many values, evenly spread over the column.
CONTENT_SAMPLE = 2000


def _content_category(text: pd.Series, patterns=_ALL_PATTERNS) -> tuple[str, str] | None:
    """The identifier category that most values of a text column match, with the evidence."""
    rows = np.flatnonzero(nonblank(text))
    if len(rows) < 3:
        return None
    if len(rows) > CONTENT_SAMPLE:  # shares estimated on an even spread of rows (deterministic)
        rows = rows[:: len(rows) // CONTENT_SAMPLE]
    text = text.iloc[rows].astype(object).astype(str)  # only the sample as Python strings
    for category, pattern in patterns:
        share = _share(text, pattern)
        if share >= 0.5:
            return category, tr("contents: {share} of the values look like {category}s", share=f"{share:.0%}",
                                category=tr(category))
    words = text.str.split().str.len()
    if words.mean() >= 4 and text.nunique() > 0.5 * len(text):
        return FREE_TEXT, tr("contents: free text (on average {n} words per cell)", n=f"{words.mean():.0f}")
    return None


def ages_90_or_older(text: pd.Series, counts: pd.Series | None = None) -> int:
    """How many cells of a raw age column read as 90 or older (completed years; "89,9" is 89.9 and not counted).

    Counted on every row of the file, rows that validation later keeps out included: the identifier
    question and the top-coding note (:attr:`hcc.ingest.registry.Registry.n_ages_capped`) both use it,
    so they state the same number. ``counts``: ``text.value_counts()`` when already counted."""
    counts = text.value_counts() if counts is None else counts  # each distinct age read once
    ages = pd.to_numeric(pd.Series(np.asarray(counts.index, dtype=object)).astype(str).str.replace(",", ".", regex=False),
                         errors="coerce")
    return int(counts.to_numpy()[(ages >= AGE_CAP).to_numpy()].sum())


def aged_90_or_older(n: int) -> str:
    """The words for :func:`ages_90_or_older`'s count, the same in the identifier question and after top-coding."""
    return tr("{n} patient(s) aged 90 or older", n=f"{n:,}")


def scan(raw: RawTable, mapping: Mapping, declared: tuple[str, ...] = ()) -> tuple[Finding, ...]:
    """Every source column of ``raw`` that looks like a direct identifier, not yet resolved in ``mapping``.

    Columns mapped to a canonical column are checked by contents only where the contract allows
    free text (``patient_id``, ``center``, regimens) and for ages over 89; other columns by name,
    then by contents. Columns in ``mapping.dropped`` or ``mapping.not_identifiers`` are skipped.
    Scanned once per table, mapping decisions it reads, and language (the mapping editor and the load
    both ask: :meth:`hcc.ingest.io.RawTable.once`).
    """
    key = ("identifier scan", mapping.columns, mapping.dropped, mapping.not_identifiers, mapping.cap_age,
           tuple(declared), current_language())
    return raw.once(key, lambda: _scan(raw, mapping, declared))


def _scan(raw: RawTable, mapping: Mapping, declared: tuple[str, ...]) -> tuple[Finding, ...]:
    column_map = mapping.column_map
    resolved = set(mapping.dropped) | set(mapping.not_identifiers)
    findings: list[Finding] = []
    for source in raw.cells.columns:
        if source in resolved:
            continue
        if source in declared:
            findings.append(Finding(source, DECLARED, tr("REDCap dictionary (Identifier? = y)")))
            continue
        canonical = column_map.get(source)
        text = raw.cells[source]
        if canonical == Col.AGE:
            n_old = ages_90_or_older(text, raw.value_counts(source))
            if n_old and not mapping.cap_age:
                findings.append(Finding(source, AGE_OVER_89, tr("contents: {what}", what=aged_90_or_older(n_old))))
            continue
        if canonical is not None and COLUMN_BY_NAME[canonical].kind is not Kind.TEXT:
            continue
        key = normalize(source)  # NFKC, lower case, punctuation as spaces
        by_name = next((cat for cat, pattern in NAME_PATTERNS if pattern.search(key)), None)
        if by_name and canonical is None:
            findings.append(Finding(source, by_name, tr("column name")))
            continue
        by_content = _content_category(text, _ALL_PATTERNS if canonical is None else _MAPPED_PATTERNS)
        if by_content:
            findings.append(Finding(source, *by_content))
    return tuple(findings)


def cap_ages(frame: pd.DataFrame) -> tuple[pd.DataFrame, int]:
    """Top-code ``age`` at :data:`AGE_CAP` (Safe Harbor's "90 or older"); returns the frame and how many changed."""
    ages = frame[Col.AGE]
    over = ages > AGE_CAP
    out = frame.copy()
    out.loc[over, Col.AGE] = float(AGE_CAP)
    return out, int(over.sum())


#: The origin every patient's ``start_1l`` is moved to by :func:`relative_dates`.
RELATIVE_ORIGIN = pd.Timestamp("2000-01-01")


def relative_dates(frame: pd.DataFrame) -> pd.DataFrame:
    """Replace calendar dates by days from ``start_1l``: each patient's dates shifted so that
    ``start_1l`` falls on :data:`RELATIVE_ORIGIN`.

    Every interval within a patient is unchanged, so every endpoint and statistic is identical; only
    calendar information is gone (the era rule then has nothing to select on).
    """
    shift = frame[Col.START_1L] - RELATIVE_ORIGIN
    out = frame.copy()
    for col in DATE_COLUMNS:
        out[col] = frame[col] - shift
    return out


def small_cells(counts: dict[str, int] | pd.Series) -> list[str]:
    """Labels of counts that are positive but below :data:`SMALL_CELL` (re-identification risk)."""
    return [str(k) for k, n in counts.items() if 0 < n < SMALL_CELL]
