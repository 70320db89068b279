"""Endpoint derivation: per eligible patient, a duration in days and an event flag.

One definition per endpoint (:data:`DEFINITIONS`), documented for users in ``docs/endpoints.md``.
Patients without the event are censored at ``date_last_followup``; for an endpoint whose events do
not include death, at death too (whichever comes first).

A patient is *not eligible* when the endpoint does not apply (e.g. PPS without progression); a
patient is *excluded* when it applies but the dates cannot be used (missing origin, or two dates in
the wrong order). Both are counted by reason; excluded patients are listed with their row.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Callable

import numpy as np

from hcc.i18n import N_, tr, trc
from hcc.schema import (
    DATE_ORDER, DAYS_PER_MONTH, DISEASE_CONTROL, OBJECTIVE_RESPONSE, SOURCE_ROW, WITHIN_FOLLOWUP, Col, Endpoint,
    after_followup_reason,
)

# pandas (and validation's follow-up end) are imported by the functions that derive from a frame: the
# definitions alone, which the SQL engine reads, load without them.
if TYPE_CHECKING:
    import pandas as pd

    from hcc.ingest.validate import DateChecks

Eligibility = Callable[["pd.DataFrame"], "pd.Series"]


@dataclass(frozen=True)
class EndpointDef:
    """How one endpoint is derived.

    Attributes
    ----------
    endpoint : its name.
    origin : date column where the clock starts.
    events : date columns; the earliest present one is the event.
    population : who is eligible, in words.
    eligible : mask of eligible patients, with the reason shown for the others.
    not_eligible_reason : how ineligible patients are counted.
    """

    endpoint: Endpoint
    origin: str
    events: tuple[str, ...]
    population: str
    eligible: Eligible | None = None
    not_eligible_reason: str = ""

    @property
    def origin_label(self) -> str:
        """The origin in words, e.g. 'first-line start' (axis titles)."""
        return tr(ORIGIN_WORDS[self.origin])

    def describe(self) -> str:
        """The definition in one sentence, for users (pages and docs), in the current language."""
        events = trc("list joiner", " or ").join(tr(EVENT_WORDS[c]) for c in self.events)
        return tr("From {origin} to {events}, in {population}; patients without the event are censored at last "
                  "follow-up.", origin=self.origin_label, events=events, population=tr(self.population))

    @property
    def columns(self) -> tuple[str, ...]:
        """Date columns checked for this endpoint: the ones it reads, plus first-line start, the
        anchor every other date must follow (a progression dated before it is not usable as an origin)."""
        return (Col.START_1L, self.origin, *self.events, Col.DATE_DEATH, Col.DATE_LAST_FOLLOWUP)


ORIGIN_WORDS: dict[str, str] = {
    Col.START_1L: N_("first-line start"),
    Col.DATE_PROGRESSION_1L: N_("first-line progression"),
    Col.DATE_RESPONSE_1L: N_("first documented response"),
    Col.START_2L: N_("second-line start"),
}

EVENT_WORDS: dict[str, str] = {
    Col.DATE_DEATH: N_("death from any cause"),
    Col.DATE_PROGRESSION_1L: N_("first-line progression"),
    Col.DATE_PROGRESSION_2L: N_("second-line progression"),
    Col.START_2L: N_("second-line start"),
}


@dataclass(frozen=True)
class Eligible:
    """Eligibility as data: ``column`` is recorded (``allowed`` None) or one of ``allowed``.

    Callable on a frame (the mask of eligible rows); declarative so that ``hcc.engine`` can write
    the same rule in SQL.
    """

    column: str
    allowed: frozenset[str] | None = None

    def __call__(self, frame: pd.DataFrame) -> pd.Series:
        if self.allowed is None:
            return frame[self.column].notna()
        return frame[self.column].isin(self.allowed)


def _has(column: str) -> Eligible:
    return Eligible(column)


def _best_response_in(allowed: frozenset[str]) -> Eligible:
    return Eligible(Col.BEST_RESPONSE_1L, frozenset(allowed))


DEFINITIONS: dict[Endpoint, EndpointDef] = {
    Endpoint.OS: EndpointDef(Endpoint.OS, Col.START_1L, (Col.DATE_DEATH,), N_("all patients")),
    Endpoint.PFS: EndpointDef(Endpoint.PFS, Col.START_1L, (Col.DATE_PROGRESSION_1L, Col.DATE_DEATH),
                              N_("all patients")),
    Endpoint.PPS: EndpointDef(Endpoint.PPS, Col.DATE_PROGRESSION_1L, (Col.DATE_DEATH,),
                              N_("patients with first-line progression"),
                              _has(Col.DATE_PROGRESSION_1L), N_("no first-line progression")),
    Endpoint.DDC: EndpointDef(Endpoint.DDC, Col.START_1L, (Col.DATE_PROGRESSION_1L, Col.DATE_DEATH),
                              N_("patients with disease control (best response CR, PR or SD)"),
                              _best_response_in(DISEASE_CONTROL), N_("no disease control (best response PD, NE or blank)")),
    Endpoint.DOR: EndpointDef(Endpoint.DOR, Col.DATE_RESPONSE_1L, (Col.DATE_PROGRESSION_1L, Col.DATE_DEATH),
                              N_("responders (best response CR or PR)"),
                              _best_response_in(OBJECTIVE_RESPONSE), N_("no objective response (best response SD, PD, NE or blank)")),
    Endpoint.PFS_2L: EndpointDef(Endpoint.PFS_2L, Col.START_2L, (Col.DATE_PROGRESSION_2L, Col.DATE_DEATH),
                                 N_("patients who started second line"), _has(Col.START_2L), N_("no second line")),
    Endpoint.OS_2L: EndpointDef(Endpoint.OS_2L, Col.START_2L, (Col.DATE_DEATH,),
                                N_("patients who started second line"), _has(Col.START_2L), N_("no second line")),
    Endpoint.PFS2: EndpointDef(Endpoint.PFS2, Col.START_1L, (Col.DATE_PROGRESSION_2L, Col.DATE_DEATH),
                               N_("all patients")),
    Endpoint.TTNT: EndpointDef(Endpoint.TTNT, Col.START_1L, (Col.START_2L, Col.DATE_DEATH), N_("all patients")),
}

#: Why a patient without an event date and without a last follow-up is excluded (both engines).
NO_END_REASON = N_("no event date and no last follow-up")


def missing_reason(column: str) -> str:
    """Why a patient without a value in ``column`` (an endpoint's origin) is excluded (both engines)."""
    return tr("missing {column}", column=column)


def source_columns(endpoint: Endpoint) -> tuple[str, ...]:
    """The date columns an endpoint needs values in, in the order they are checked: its origin and
    event dates other than first-line start and death (which every registry has)."""
    definition = DEFINITIONS[Endpoint(endpoint)]
    return tuple(c for c in (definition.origin, *definition.events) if c not in (Col.START_1L, Col.DATE_DEATH))


def unavailable_message(endpoint: Endpoint, column: str) -> str:
    """The plain-words reason an endpoint is not computed because ``column`` has no values."""
    words = EVENT_WORDS.get(column) or ORIGIN_WORDS.get(column)
    return tr("{endpoint} is not available in this registry: column {column} has no values (no {words} recorded).",
              endpoint=Endpoint(endpoint).value, column=column, words=tr(words) if words else column)


def unavailable_reason(frame: pd.DataFrame, endpoint: Endpoint) -> str:
    """Why ``endpoint`` cannot be computed on ``frame`` ("" when it can): a date column that defines
    its origin or its event, other than first-line start and death, has no values at all (e.g. no
    progression recorded: PFS would silently equal OS). The SQL path (``hcc.engine``) asks the same
    of the database."""
    for column in source_columns(endpoint):
        if column not in frame.columns or frame[column].isna().all():
            return unavailable_message(endpoint, column)
    return ""


@dataclass(frozen=True, eq=False)
class EndpointData:
    """Durations and events of one endpoint for the eligible, usable patients.

    Attributes
    ----------
    endpoint : which endpoint.
    patient_id, group : per analysed patient (group = first-line regimen).
    days : time from origin to event or censoring, in days (float).
    event : True for an event, False for censored.
    not_eligible : reason -> count of patients to whom the endpoint does not apply.
    excluded : rows with ``row``, ``patient_id``, ``reason`` (eligible, but dates unusable).
    """

    endpoint: Endpoint
    patient_id: np.ndarray
    group: np.ndarray
    days: np.ndarray
    event: np.ndarray
    not_eligible: dict[str, int]
    excluded: pd.DataFrame

    @property
    def months(self) -> np.ndarray:
        return self.days / DAYS_PER_MONTH

    @property
    def n(self) -> int:
        return len(self.days)

    def excluded_counts(self) -> dict[str, int]:
        """Reason -> number of excluded patients."""
        return reason_counts(self.excluded["reason"])


def reason_counts(reasons: pd.Series) -> dict[str, int]:
    """Reason -> number of patients, most frequent first (as ``value_counts`` orders them)."""
    return {str(k): int(v) for k, v in reasons.value_counts().items()}


def _dates(frame: pd.DataFrame, column: str) -> np.ndarray:
    return frame[column].to_numpy(dtype="datetime64[ns]")


def _problem_codes(frame: pd.DataFrame, columns: tuple[str, ...],
                   checks: DateChecks | None = None) -> tuple[np.ndarray, list[str]]:
    """Per row, the index into the returned reasons of its first date-order contradiction (0 = none).

    Vectorised with numpy (a pandas string assignment per rule was most of a page rerun's time);
    comparisons with a missing date (NaT) are False, as in pandas. ``checks``: the frame's
    :class:`DateChecks`, when kept (else computed here for these columns).
    """
    if checks is None or checks.frame is not frame:  # another frame's tests are not these rows'
        from hcc.ingest.validate import DateChecks  # noqa: PLC0415  (see the imports)

        checks = DateChecks(frame)
    used = set(columns)
    reasons = [""]
    code = np.zeros(len(frame), dtype=np.int64)

    def flag(bad: np.ndarray, reason: str) -> None:
        bad = bad & (code == 0)  # a new mask: the checks' own are kept for the next endpoint
        if bad.any():
            reasons.append(reason)
            code[bad] = len(reasons) - 1

    for rule in DATE_ORDER:
        if rule.earlier in used and rule.later in used:
            flag(checks.before(rule), rule.reason)
    for col in WITHIN_FOLLOWUP:
        if col in used:
            flag(checks.after_followup(col), after_followup_reason(col))
    return code, reasons


def date_order_problems(frame: pd.DataFrame, columns: tuple[str, ...]) -> pd.Series:
    """First date-order contradiction per row among ``columns`` ('' when none), in words.

    E.g. ``"date_progression_1l before start_1l"``; checks :data:`DATE_ORDER` pairs whose two
    columns are both in ``columns``, then that no date is after the end of follow-up.
    """
    import pandas as pd  # noqa: PLC0415  (see the imports)

    code, reasons = _problem_codes(frame, columns)
    return pd.Series(np.array(reasons, dtype=object)[code], index=frame.index, dtype=object)


_NS_PER_DAY = 86_400_000_000_000


def derive(frame: pd.DataFrame, endpoint: Endpoint | str, group_col: str = Col.REGIMEN_1L) -> EndpointData:
    """Derive one endpoint's (days, event) for every eligible patient with usable dates.

    Parameters
    ----------
    frame : canonical cohort rows (``Cohort.frame``).
    endpoint : one of :class:`hcc.schema.Endpoint`.
    group_col : column defining the comparison groups (first-line regimen by default).

    Returns
    -------
    EndpointData. Duration = (event date or censoring date) - origin, in whole days (floored). The
    event date is the earliest of the endpoint's event dates; censoring is at ``date_last_followup``
    (and at death when death is not an event).
    """
    return derive_rows(frame, endpoint).select(None, frame[group_col].to_numpy(dtype=object))


#: :attr:`EndpointRows.code` of a row the endpoint does not apply to.
NOT_ELIGIBLE = -1


@dataclass(frozen=True, eq=False)
class EndpointRows:
    """One endpoint derived for every row of a frame (:func:`derive_rows`), before any cohort rule.

    A patient's duration, event, eligibility and exclusion reason depend on that patient's row only,
    so the app derives each endpoint once per registry and a cohort selects its rows
    (:meth:`select`): a rule change then costs no derivation.

    Attributes
    ----------
    endpoint : which endpoint.
    code : per row, 0 = analysed, :data:`NOT_ELIGIBLE`, else the index of its exclusion reason in
        ``reasons`` (int8: fewer than 128 reasons, one per date-order rule and two more).
    reasons : the exclusion reasons, in words (``reasons[0]`` is "").
    not_eligible_reason : how not-eligible rows are counted, in words.
    days : per row, whole days from origin to event or censoring (0 where not analysed; int32).
    event : per row, True for an event.
    patient_id, source_row : per row, as the frame has them (``source_row`` all NA without the column).
    has_value : per source column of the endpoint (:func:`source_columns`), which rows have a value
        (None: the frame has no such column), for :meth:`unavailable`.
    """

    endpoint: Endpoint
    code: np.ndarray
    reasons: tuple[str, ...]
    not_eligible_reason: str
    days: np.ndarray
    event: np.ndarray
    patient_id: np.ndarray
    source_row: np.ndarray
    has_value: dict[str, np.ndarray | None]

    def unavailable(self, rows: np.ndarray | None = None) -> str:
        """:func:`unavailable_reason` for the rows at positions ``rows`` (None: every row)."""
        for column, has in self.has_value.items():
            if has is None or not (has if rows is None else has[rows]).any():
                return unavailable_message(self.endpoint, column)
        return ""

    def _split(self, rows: np.ndarray | None) -> tuple[np.ndarray, np.ndarray, np.ndarray, dict[str, int]]:
        """Of the rows at positions ``rows`` (None: every row): the positions analysed, the positions
        excluded, the excluded rows' codes, and the not-eligible count by reason."""
        code = self.code if rows is None else self.code[rows]
        where = np.arange(len(self.code)) if rows is None else rows
        n_not_eligible = int((code == NOT_ELIGIBLE).sum())
        not_eligible = {self.not_eligible_reason: n_not_eligible} if n_not_eligible else {}
        bad = code > 0
        return where[code == 0], where[bad], code[bad], not_eligible

    def _reasons(self, codes: np.ndarray) -> np.ndarray:
        return np.array(self.reasons, dtype=object)[codes]

    def select(self, rows: np.ndarray | None, group: np.ndarray) -> EndpointData:
        """The :class:`EndpointData` of the rows at positions ``rows`` (ascending; None: every row),
        grouped by ``group`` (one label per row of the frame) — what :func:`derive` gives on a frame
        of those rows."""
        import pandas as pd  # noqa: PLC0415  (see the imports)

        good, bad, bad_code, not_eligible = self._split(rows)
        excluded = pd.DataFrame({"row": self.source_row[bad], Col.PATIENT_ID: self.patient_id[bad],
                                 "reason": self._reasons(bad_code)})
        return EndpointData(endpoint=self.endpoint, patient_id=self.patient_id[good], group=group[good],
                            days=self.days[good].astype(float), event=self.event[good],
                            not_eligible=not_eligible, excluded=excluded)

    def analysed(self, rows: np.ndarray | None) -> tuple[np.ndarray, np.ndarray, np.ndarray, dict[str, int],
                                                         dict[str, int]]:
        """What a summary needs of the rows at positions ``rows`` (ascending; None: every row), as
        :meth:`select` gives it without copying patient identifiers: the positions of the patients
        analysed, their days (float) and events, the not-eligible and excluded counts by reason."""
        import pandas as pd  # noqa: PLC0415  (see the imports)

        good, _, bad_code, not_eligible = self._split(rows)
        excluded = reason_counts(pd.Series(self._reasons(bad_code), dtype=object))
        return good, self.days[good].astype(float), self.event[good], not_eligible, excluded


def derive_rows(frame: pd.DataFrame, endpoint: Endpoint | str, checks: DateChecks | None = None) -> EndpointRows:
    """Derive one endpoint for every row of ``frame`` (canonical rows: a registry or a cohort), with
    the definitions of :func:`derive` (which selects the analysed rows of this). Vectorised with
    numpy; O(rows). ``checks``: ``DateChecks(frame)`` kept for deriving several endpoints of ``frame``."""
    import pandas as pd  # noqa: PLC0415  (see the imports)

    spec = DEFINITIONS[Endpoint(endpoint)]
    code, reasons = _problem_codes(frame, spec.columns, checks)
    origin = _dates(frame, spec.origin)

    def flag(bad: np.ndarray, reason: str) -> None:
        bad &= code == 0
        if bad.any():
            reasons.append(reason)
            code[bad] = len(reasons) - 1

    flag(np.isnat(origin), missing_reason(spec.origin))
    event_date = _dates(frame, spec.events[0])
    for col in spec.events[1:]:
        event_date = np.fmin(event_date, _dates(frame, col))  # fmin skips NaT, as DataFrame.min
    censor_date = _dates(frame, Col.DATE_LAST_FOLLOWUP)
    if Col.DATE_DEATH not in spec.events:
        censor_date = np.fmin(censor_date, _dates(frame, Col.DATE_DEATH))
    has_event = ~np.isnat(event_date)
    end = np.where(has_event, event_date, censor_date)
    flag(np.isnat(end), tr(NO_END_REASON))
    if spec.eligible is not None:
        code[~spec.eligible(frame).to_numpy(dtype=bool)] = NOT_ELIGIBLE
    good = code == 0
    days = np.zeros(len(frame), dtype=np.int32)
    days[good] = (end[good] - origin[good]).astype(np.int64) // _NS_PER_DAY
    source_row = (frame[SOURCE_ROW].to_numpy() if SOURCE_ROW in frame
                  else np.full(len(frame), pd.NA, dtype=object))
    has_value = {c: frame[c].notna().to_numpy(dtype=bool) if c in frame.columns else None
                 for c in source_columns(spec.endpoint)}
    return EndpointRows(spec.endpoint, code.astype(np.int8), tuple(reasons),
                        tr(spec.not_eligible_reason) if spec.not_eligible_reason else "",
                        days, has_event, frame[Col.PATIENT_ID].to_numpy(), source_row, has_value)
