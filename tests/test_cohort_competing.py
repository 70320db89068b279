"""Competing-risks and pathway derivation (hcc.cohort.competing): who is in, which event counts, ties."""

from __future__ import annotations

import numpy as np
import pandas as pd

from hcc.cohort.competing import (
    CENSORED, COMPETING_EVENT, EVENT, FIRST_LINE_FAILURE, SECOND_LINE, SECOND_LINE_BEFORE_PROGRESSION, STATES,
    derive_competing, pathway,
)
from hcc.schema import Col
from tests.conftest import make_registry


def _frame(rows):
    return make_registry(rows).frame


def test_second_line_events_competing_censoring_and_eligibility() -> None:
    f = _frame([
        {Col.DATE_PROGRESSION_1L: "2020-03-01", Col.START_2L: "2020-03-21", Col.REGIMEN_2L: "REG"},   # event, 20 d
        {Col.DATE_PROGRESSION_1L: "2020-03-01", Col.DATE_DEATH: "2020-04-01",
         Col.DATE_LAST_FOLLOWUP: "2020-04-01"},                                                     # competing, 31 d
        {Col.DATE_PROGRESSION_1L: "2020-03-01"},                                                    # censored at FU
        {},                                                                                         # not eligible
    ])
    d = derive_competing(f, SECOND_LINE)
    assert d.status.tolist() == [EVENT, COMPETING_EVENT, CENSORED]
    assert d.days.tolist() == [20.0, 31.0, (pd.Timestamp("2021-01-01") - pd.Timestamp("2020-03-01")).days]
    assert d.not_eligible == {"no first-line progression": 1}
    assert d.excluded.empty


def test_second_line_on_the_day_of_death_counts_as_second_line() -> None:
    """Tie within one patient: second line started and death on the same day -> the event of
    interest (the treatment was given), as documented in docs/endpoints.md."""
    f = _frame([{Col.DATE_PROGRESSION_1L: "2020-03-01", Col.START_2L: "2020-05-01", Col.REGIMEN_2L: "REG",
                 Col.DATE_DEATH: "2020-05-01", Col.DATE_LAST_FOLLOWUP: "2020-05-01"}])
    d = derive_competing(f, SECOND_LINE)
    assert d.status.tolist() == [EVENT] and d.days.tolist() == [61.0]


def test_progression_on_the_day_of_death_counts_as_progression() -> None:
    f = _frame([{Col.DATE_PROGRESSION_1L: "2020-05-01", Col.DATE_DEATH: "2020-05-01",
                 Col.DATE_LAST_FOLLOWUP: "2020-05-01"}])
    d = derive_competing(f, FIRST_LINE_FAILURE)
    assert d.status.tolist() == [EVENT] and d.days.tolist() == [121.0]


def test_second_line_before_progression_is_excluded_with_its_row() -> None:
    f = _frame([{Col.DATE_PROGRESSION_1L: "2020-03-01", Col.START_2L: "2020-02-01", Col.REGIMEN_2L: "REG"},
                {Col.DATE_PROGRESSION_1L: "2020-03-01"}])
    d = derive_competing(f, SECOND_LINE)
    assert len(d.days) == 1
    assert d.excluded["reason"].tolist() == [SECOND_LINE_BEFORE_PROGRESSION]
    assert d.excluded[Col.PATIENT_ID].tolist() == ["P001"]


def test_contradictory_dates_exclude_only_where_read() -> None:
    """A progression dated before first-line start is excluded from both endpoints (it is read by
    both); a death before second-line start excludes from second line but not from first-line failure."""
    f = _frame([{Col.DATE_PROGRESSION_1L: "2019-12-01"}])
    assert derive_competing(f, FIRST_LINE_FAILURE).excluded["reason"].str.contains("before start_1l").all()
    g = _frame([{Col.DATE_PROGRESSION_1L: "2020-03-01", Col.START_2L: "2020-06-01", Col.REGIMEN_2L: "REG",
                 Col.DATE_DEATH: "2020-05-01", Col.DATE_LAST_FOLLOWUP: "2020-05-01"}])
    assert len(derive_competing(g, SECOND_LINE).excluded) == 1
    assert len(derive_competing(g, FIRST_LINE_FAILURE).excluded) == 0


def test_pathway_rows_follow_each_patient_forward() -> None:
    f = _frame([
        {Col.DATE_PROGRESSION_1L: "2020-03-01", Col.START_2L: "2020-04-01", Col.REGIMEN_2L: "REG",
         Col.DATE_DEATH: "2020-06-01", Col.DATE_LAST_FOLLOWUP: "2020-06-01"},  # 1L -> prog -> 2L -> dead
        {Col.START_2L: "2020-02-01", Col.REGIMEN_2L: "REG"},                   # 1L -> 2L (no progression), censored
        {Col.DATE_PROGRESSION_1L: "2020-03-01", Col.START_2L: "2020-03-01", Col.REGIMEN_2L: "REG"},  # same day
        {Col.DATE_DEATH: "2020-01-01", Col.DATE_LAST_FOLLOWUP: "2020-01-01"},   # dies on day 0
    ])
    p = pathway(f)
    rows = list(zip(p.id.tolist(), p.tstart.tolist(), p.tstop.tolist(), p.from_state.tolist(), p.to_state.tolist()))
    assert rows == [(0, 0.0, 60.0, 0, 1), (0, 60.0, 91.0, 1, 2), (0, 91.0, 152.0, 2, 3),
                    (1, 0.0, 31.0, 0, 2), (1, 31.0, 366.0, 2, 2),
                    (2, 0.0, 60.0, 0, 2), (2, 60.0, 366.0, 2, 2),
                    (3, 0.0, 0.5, 0, 3)]
    assert p.n_patients == 4 and len(STATES) == 4
    assert np.all(p.tstop > p.tstart)
