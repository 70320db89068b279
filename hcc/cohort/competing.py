"""Competing-risks and multi-state data: per patient a time, and *which* event ended it.

Two competing-risks endpoints (:data:`COMPETING`), documented for users in ``docs/endpoints.md``:

* ``second_line`` — origin first-line progression; event = start of second line; competing = death
  without second line; censored at last follow-up. Eligible: patients with a recorded first-line
  progression.
* ``first_line_failure`` — origin first-line start; event = first-line progression; competing =
  death without progression; censored at last follow-up. Eligible: all patients.

Both read the same date checks as :func:`hcc.cohort.endpoints.derive` (``hcc.schema.DATE_ORDER``): a
patient with contradictory dates among the columns an endpoint reads is excluded from it, with row
and reason. The event of interest and death on the same day count as the event of interest (the
second line was given; the progression was recorded).

The patient pathway (:func:`pathway`) is the multi-state version: from first-line start, every
patient is in one of four states (:data:`STATES`) and moves forward only.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from hcc.cohort.endpoints import NO_END_REASON, ORIGIN_WORDS, date_order_problems, missing_reason
from hcc.i18n import N_, tr
from hcc.schema import DAYS_PER_MONTH, SOURCE_ROW, Col

CENSORED, EVENT, COMPETING_EVENT = 0, 1, 2


@dataclass(frozen=True)
class CompetingDef:
    """How one competing-risks endpoint is derived (dates are canonical columns).

    Attributes
    ----------
    key : name in the CLI JSON (``second_line``, ``first_line_failure``).
    title_msg : for headings (read :attr:`title`, in the current language; so for every ``*_msg``).
    short_title_msg : for figure titles (room for n and Gray's p on a presentation screen).
    origin : date where the clock starts.
    event : date of the event of interest.
    competing : date of the competing event (death) — counted only without the event before it.
    event_words_msg, competing_words_msg : the two outcomes in plain words (legends, tables).
    eligible_column : a patient needs this date to be eligible (None: everyone).
    not_eligible_msg : how ineligible patients are counted (:attr:`not_eligible_reason`).
    """

    key: str
    title_msg: str
    short_title_msg: str
    origin: str
    event: str
    competing: str
    event_words_msg: str
    competing_words_msg: str
    eligible_column: str | None = None
    not_eligible_msg: str = ""

    # The texts are kept in English (``*_msg``) and read in the current language.
    @property
    def title(self) -> str:
        return tr(self.title_msg)

    @property
    def short_title(self) -> str:
        return tr(self.short_title_msg)

    @property
    def event_words(self) -> str:
        return tr(self.event_words_msg)

    @property
    def competing_words(self) -> str:
        return tr(self.competing_words_msg)

    @property
    def not_eligible_reason(self) -> str:
        return tr(self.not_eligible_msg) if self.not_eligible_msg else ""

    @property
    def origin_words(self) -> str:
        """The origin in words, e.g. 'first-line progression' (axis titles)."""
        return tr(ORIGIN_WORDS[self.origin])

    @property
    def columns(self) -> tuple[str, ...]:
        """Date columns checked (first-line start is the anchor of every date, as in endpoints)."""
        return tuple(dict.fromkeys((Col.START_1L, self.origin, self.event, self.competing, Col.DATE_LAST_FOLLOWUP)))


SECOND_LINE = CompetingDef(
    "second_line", N_("Reaching second line after first-line progression"), N_("Second line after progression"),
    Col.DATE_PROGRESSION_1L, Col.START_2L,
    Col.DATE_DEATH, N_("Second line started"), N_("Died without second line"), Col.DATE_PROGRESSION_1L,
    N_("no first-line progression"))
FIRST_LINE_FAILURE = CompetingDef(
    "first_line_failure", N_("First-line failure: progression or death first"), N_("First-line failure"),
    Col.START_1L, Col.DATE_PROGRESSION_1L,
    Col.DATE_DEATH, N_("Progressed on first line"), N_("Died without progression"))
COMPETING: tuple[CompetingDef, ...] = (SECOND_LINE, FIRST_LINE_FAILURE)

#: Why a patient who started second line *before* the recorded progression is left out of
#: ``second_line``: the clock (progression) would start after the event.
SECOND_LINE_BEFORE_PROGRESSION = "start_2l before date_progression_1l"

_NS_PER_DAY = 86_400_000_000_000


def _dates(frame: pd.DataFrame, column: str) -> np.ndarray:
    return frame[column].to_numpy(dtype="datetime64[ns]")


def _days(later: np.ndarray, origin: np.ndarray) -> np.ndarray:
    return ((later - origin).astype(np.int64) // _NS_PER_DAY).astype(float)


@dataclass(frozen=True, eq=False)
class CompetingData:
    """Times and causes of one competing-risks endpoint for the eligible, usable patients.

    Attributes
    ----------
    definition : which endpoint.
    patient_id, group : per analysed patient (group = first-line regimen).
    days : time from origin to the first of event, competing event or censoring, in whole days.
    status : 0 censored, 1 event of interest, 2 competing event (R: ``factor(status)``).
    not_eligible : reason -> count.
    excluded : rows with ``row``, ``patient_id``, ``reason``.
    """

    definition: CompetingDef
    patient_id: np.ndarray
    group: np.ndarray
    days: np.ndarray
    status: np.ndarray
    not_eligible: dict[str, int]
    excluded: pd.DataFrame

    @property
    def months(self) -> np.ndarray:
        return self.days / DAYS_PER_MONTH


def _excluded(rows: pd.DataFrame, reason: pd.Series) -> pd.DataFrame:
    bad = reason != ""
    source = rows[SOURCE_ROW] if SOURCE_ROW in rows else pd.Series(pd.NA, index=rows.index, dtype=object)
    return pd.DataFrame({"row": source[bad].to_numpy(), Col.PATIENT_ID: rows.loc[bad, Col.PATIENT_ID].to_numpy(),
                         "reason": reason[bad].to_numpy()})


def derive_competing(frame: pd.DataFrame, definition: CompetingDef,
                     group_col: str = Col.REGIMEN_1L) -> CompetingData:
    """Derive (days, status) of a competing-risks endpoint for every eligible patient with usable dates.

    Status: 1 when the event date is recorded (on or before death, which the date checks ensure);
    else 2 when death is recorded; else 0, censored at ``date_last_followup``. Duration in whole days
    from the origin to that date.
    """
    d = definition
    if d.eligible_column is not None:
        eligible = frame[d.eligible_column].notna()
        not_eligible = {d.not_eligible_reason: int((~eligible).sum())} if (~eligible).any() else {}
        rows = frame[eligible]
    else:
        not_eligible, rows = {}, frame
    reason = date_order_problems(rows, d.columns).copy()
    origin, event = _dates(rows, d.origin), _dates(rows, d.event)
    competing, last = _dates(rows, d.competing), _dates(rows, Col.DATE_LAST_FOLLOWUP)
    reason[(reason == "") & np.isnat(origin)] = missing_reason(d.origin)
    if d.event == Col.START_2L:
        reason[(reason == "") & (event < origin)] = tr("{later} before {earlier}", later=Col.START_2L,
                                                        earlier=Col.DATE_PROGRESSION_1L)
    has_event, has_competing = ~np.isnat(event), ~np.isnat(competing)
    end = np.where(has_event, event, np.where(has_competing, competing, last))
    reason[(reason == "") & np.isnat(end)] = tr(NO_END_REASON)
    good = (reason == "").to_numpy()
    status = np.where(has_event, EVENT, np.where(has_competing, COMPETING_EVENT, CENSORED))
    return CompetingData(d, rows[Col.PATIENT_ID].to_numpy()[good], rows[group_col].to_numpy(dtype=object)[good],
                         _days(end[good], origin[good]), status[good].astype(np.int64), not_eligible,
                         _excluded(rows, reason))


# Multi-state patient pathway ----------------------------------------------------------------------
ON_FIRST_LINE = N_("On first line, no progression")
PROGRESSED = N_("Progressed, no second line yet")
ON_SECOND_LINE = N_("On second line or later")
DEAD = N_("Dead")
#: States in order; every patient starts in the first and moves only forward.
STATES: tuple[str, ...] = (ON_FIRST_LINE, PROGRESSED, ON_SECOND_LINE, DEAD)
#: The states' names in JSON and CSV files, in the order of :data:`STATES`.
STATE_KEYS: tuple[str, ...] = ("on_first_line", "progressed", "second_line", "dead")
PATHWAY_COLUMNS: tuple[str, ...] = (Col.START_1L, Col.DATE_PROGRESSION_1L, Col.START_2L, Col.DATE_DEATH,
                                    Col.DATE_LAST_FOLLOWUP)


@dataclass(frozen=True, eq=False)
class PathwayData:
    """Counting-process rows of the patient pathway, R's ``Surv(tstart, tstop, state)`` with ``id``.

    Attributes
    ----------
    id, group : per row (patient index into the analysed patients, first-line regimen).
    tstart, tstop : interval in days from first-line start, ``(tstart, tstop]``.
    from_state, to_state : index into :data:`STATES` of the state during the interval and the state
        entered at ``tstop`` (``to_state == from_state``: censored at ``tstop``).
    n_patients : analysed patients; excluded : rows, patient ids and reasons.
    """

    id: np.ndarray
    group: np.ndarray
    tstart: np.ndarray
    tstop: np.ndarray
    from_state: np.ndarray
    to_state: np.ndarray
    n_patients: int
    excluded: pd.DataFrame


def pathway(frame: pd.DataFrame, group_col: str = Col.REGIMEN_1L) -> PathwayData:
    """Each patient's path through :data:`STATES` from first-line start, as interval rows.

    Progression moves a patient from "on first line" to "progressed"; second-line start to "on
    second line or later" (directly from first line when second line started without, or on the
    day of, a recorded progression); death to "dead" from any state. Patients are followed to death
    or last follow-up. A transition on day 0 (first-line start) cannot be placed in a
    ``(tstart, tstop]`` interval and is put on day 0.5, i.e. before every later day (R fixture: same).
    """
    reason = date_order_problems(frame, PATHWAY_COLUMNS).copy()
    start = _dates(frame, Col.START_1L)
    reason[(reason == "") & np.isnat(start)] = missing_reason(Col.START_1L)
    end = np.where(np.isnat(_dates(frame, Col.DATE_DEATH)), _dates(frame, Col.DATE_LAST_FOLLOWUP),
                   _dates(frame, Col.DATE_DEATH))
    reason[(reason == "") & np.isnat(end)] = tr("no death and no last follow-up")
    good = (reason == "").to_numpy()
    f = frame[good]
    s = start[good]
    prog, second = _days(_dates(f, Col.DATE_PROGRESSION_1L), s), _days(_dates(f, Col.START_2L), s)
    death, last = _days(_dates(f, Col.DATE_DEATH), s), _days(_dates(f, Col.DATE_LAST_FOLLOWUP), s)
    has_prog, has_2l = ~np.isnat(_dates(f, Col.DATE_PROGRESSION_1L)), ~np.isnat(_dates(f, Col.START_2L))
    has_death = ~np.isnat(_dates(f, Col.DATE_DEATH))
    groups = f[group_col].to_numpy(dtype=object)
    n = len(f)
    # the moves in time order (progression before second line only when strictly earlier; second
    # line and progression are on or before death by the date checks)
    slots = ((has_prog & ~(has_2l & (prog >= second)), prog, 1), (has_2l, second, 2), (has_death, death, 3))
    cap = 4 * n  # at most three moves and a censored tail per patient
    pid, t0, t1 = np.empty(cap, np.int64), np.empty(cap), np.empty(cap)
    fr, to = np.empty(cap, np.int64), np.empty(cap, np.int64)
    count = 0

    def add(idx: np.ndarray, start: np.ndarray, stop: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        nonlocal count
        rows = count + np.arange(len(idx))
        pid[rows], t0[rows], t1[rows], fr[rows], to[rows] = idx, start, stop, a, b
        count += len(idx)
        return rows

    state, t = np.zeros(n, dtype=np.int64), np.zeros(n)
    last_row = np.full(n, -1)  # per patient, index of its latest row
    for valid, day, new_state in slots:
        day = np.where(day <= 0, 0.5, day)  # a day-0 move cannot end a (0, 0] interval
        merge = valid & (day <= t) & (last_row >= 0)  # same day as the previous move: go straight on
        to[last_row[merge]] = new_state
        idx = np.flatnonzero(valid & ~merge)
        last_row[idx] = add(idx, t[idx], day[idx], state[idx], np.full(len(idx), new_state))
        t[idx] = day[idx]
        state[valid] = new_state
    alive = state != 3
    stop = np.maximum(last, t)
    tail = np.flatnonzero(alive & (stop > t))
    add(tail, t[tail], stop[tail], state[tail], state[tail])
    never = np.flatnonzero(alive & (stop <= t) & (last_row < 0))  # followed 0 days: censored at day 0.5
    add(never, np.zeros(len(never)), np.full(len(never), 0.5), np.zeros(len(never)), np.zeros(len(never)))
    order = np.lexsort((t0[:count], pid[:count]))
    return PathwayData(pid[order], groups[pid[order]], t0[order], t1[order], fr[order], to[order],
                       int(good.sum()), _excluded(frame, reason))
