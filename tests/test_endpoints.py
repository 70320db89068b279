"""Endpoint rules on tiny hand-built registries: every censoring case and date contradiction.

Durations are worked by hand in days from the dates in each row (2020-01-01 + n days).
"""

from __future__ import annotations

import numpy as np
import pytest

from hcc.cohort.endpoints import DEFINITIONS, derive
from hcc.schema import ENDPOINTS, Col, Endpoint
from tests.conftest import make_registry

START = "2020-01-01"


def day(n: int) -> str:
    """ISO date n days after 2020-01-01."""
    return str(np.datetime64(START) + np.timedelta64(n, "D"))


def one(endpoint: Endpoint, **cells: str):
    reg = make_registry([{k: v for k, v in cells.items()}])
    return derive(reg.frame, endpoint)


def test_os_death_is_event() -> None:
    d = one(Endpoint.OS, date_death=day(100), date_last_followup=day(100))
    assert d.days.tolist() == [100.0] and d.event.tolist() == [True]


def test_os_alive_censored_at_last_followup() -> None:
    d = one(Endpoint.OS, date_last_followup=day(250))
    assert d.days.tolist() == [250.0] and d.event.tolist() == [False]


def test_os_death_after_last_contact_uses_death_date() -> None:
    """Death ascertained from a registry after the last clinic visit: the event is at death."""
    d = one(Endpoint.OS, date_death=day(300), date_last_followup=day(200))
    assert d.days.tolist() == [300.0] and d.event.tolist() == [True]


def test_pfs_progression_first() -> None:
    d = one(Endpoint.PFS, date_progression_1l=day(90), date_death=day(300), date_last_followup=day(300))
    assert d.days.tolist() == [90.0] and d.event.tolist() == [True]


def test_pfs_death_without_progression_is_event() -> None:
    d = one(Endpoint.PFS, date_death=day(60), date_last_followup=day(60))
    assert d.days.tolist() == [60.0] and d.event.tolist() == [True]


def test_pfs_censored_without_progression_or_death() -> None:
    d = one(Endpoint.PFS, date_last_followup=day(400))
    assert d.days.tolist() == [400.0] and d.event.tolist() == [False]


def test_pps_from_progression_and_eligibility() -> None:
    reg = make_registry([
        {Col.DATE_PROGRESSION_1L: day(100), Col.DATE_DEATH: day(250), Col.DATE_LAST_FOLLOWUP: day(250)},
        {Col.DATE_PROGRESSION_1L: day(100), Col.DATE_LAST_FOLLOWUP: day(400)},
        {Col.DATE_LAST_FOLLOWUP: day(400)},
    ])
    d = derive(reg.frame, Endpoint.PPS)
    assert d.days.tolist() == [150.0, 300.0] and d.event.tolist() == [True, False]
    assert d.not_eligible == {"no first-line progression": 1}


def test_ddc_only_disease_control_from_start() -> None:
    reg = make_registry([
        {Col.BEST_RESPONSE_1L: "SD", Col.DATE_DC_1L: day(42), Col.DATE_PROGRESSION_1L: day(200)},
        {Col.BEST_RESPONSE_1L: "PR", Col.DATE_DC_1L: day(42), Col.DATE_RESPONSE_1L: day(42)},
        {Col.BEST_RESPONSE_1L: "PD", Col.DATE_PROGRESSION_1L: day(42)},
        {Col.BEST_RESPONSE_1L: ""},
    ])
    d = derive(reg.frame, Endpoint.DDC)
    assert d.days.tolist() == [200.0, 366.0] and d.event.tolist() == [True, False]
    assert sum(d.not_eligible.values()) == 2


def test_dor_from_response_date_and_missing_date_excluded() -> None:
    reg = make_registry([
        {Col.BEST_RESPONSE_1L: "CR", Col.DATE_DC_1L: day(40), Col.DATE_RESPONSE_1L: day(80),
         Col.DATE_PROGRESSION_1L: day(300)},
        {Col.BEST_RESPONSE_1L: "PR"},  # responder without a response date
        {Col.BEST_RESPONSE_1L: "SD", Col.DATE_DC_1L: day(40)},
    ])
    d = derive(reg.frame, Endpoint.DOR)
    assert d.days.tolist() == [220.0] and d.event.tolist() == [True]
    assert d.excluded_counts() == {"missing date_response_1l": 1}
    assert d.excluded["row"].tolist() == [3]  # spreadsheet row of P002
    assert d.not_eligible == {DEFINITIONS[Endpoint.DOR].not_eligible_reason: 1}


def test_second_line_endpoints() -> None:
    reg = make_registry([
        {Col.DATE_PROGRESSION_1L: day(100), Col.START_2L: day(120), Col.DATE_PROGRESSION_2L: day(200),
         Col.DATE_DEATH: day(300), Col.DATE_LAST_FOLLOWUP: day(300)},
        {Col.DATE_PROGRESSION_1L: day(100), Col.START_2L: day(110), Col.DATE_LAST_FOLLOWUP: day(400)},
        {Col.DATE_PROGRESSION_1L: day(100)},
    ])
    pfs2 = derive(reg.frame, Endpoint.PFS_2L)
    os2 = derive(reg.frame, Endpoint.OS_2L)
    assert pfs2.days.tolist() == [80.0, 290.0] and pfs2.event.tolist() == [True, False]
    assert os2.days.tolist() == [180.0, 290.0] and os2.event.tolist() == [True, False]
    assert pfs2.not_eligible == {"no second line": 1}


@pytest.mark.parametrize("cells, broken, intact, reason", [
    ({Col.DATE_PROGRESSION_1L: "2019-12-01"}, {Endpoint.PFS, Endpoint.PPS}, {Endpoint.OS},
     "date_progression_1l before start_1l"),
    ({Col.DATE_PROGRESSION_1L: day(200), Col.DATE_DEATH: day(100), Col.DATE_LAST_FOLLOWUP: day(100)},
     {Endpoint.PFS, Endpoint.PPS}, {Endpoint.OS}, "date_death before date_progression_1l"),
    ({Col.DATE_LAST_FOLLOWUP: "2019-06-01"}, {Endpoint.OS, Endpoint.PFS}, set(),
     "date_last_followup before start_1l"),
    ({Col.DATE_DEATH: day(100), Col.DATE_LAST_FOLLOWUP: day(150)}, {Endpoint.OS, Endpoint.PFS}, set(),
     "date_death before date_last_followup"),
    ({Col.DATE_PROGRESSION_1L: day(500), Col.DATE_LAST_FOLLOWUP: day(300)}, {Endpoint.PFS, Endpoint.PPS},
     {Endpoint.OS}, "date_progression_1l after the end of follow-up (death or last follow-up)"),
    ({Col.DATE_PROGRESSION_1L: day(100), Col.START_2L: day(150), Col.DATE_PROGRESSION_2L: day(140)},
     {Endpoint.PFS_2L}, {Endpoint.OS, Endpoint.PFS, Endpoint.OS_2L}, "date_progression_2l before start_2l"),
    ({Col.BEST_RESPONSE_1L: "PR", Col.DATE_DC_1L: day(40), Col.DATE_RESPONSE_1L: day(120),
      Col.DATE_PROGRESSION_1L: day(100)}, {Endpoint.DOR}, {Endpoint.OS, Endpoint.PFS, Endpoint.DDC},
     "date_progression_1l before date_response_1l"),
])
def test_contradictory_dates_break_only_their_endpoints(cells, broken, intact, reason) -> None:
    reg = make_registry([cells])
    for e in broken:
        d = derive(reg.frame, e)
        assert d.n == 0 and d.excluded["reason"].tolist() == [reason], e
    for e in intact:
        assert derive(reg.frame, e).n == 1, e


def test_every_endpoint_has_one_definition() -> None:
    assert set(DEFINITIONS) == set(ENDPOINTS)
    for e in ENDPOINTS:
        assert DEFINITIONS[e].describe().startswith("From ")


def test_nothing_silently_dropped() -> None:
    """Analysed + not eligible + excluded = cohort size, for every endpoint."""
    reg = make_registry([
        {Col.BEST_RESPONSE_1L: "PR", Col.DATE_DC_1L: day(40), Col.DATE_RESPONSE_1L: day(40),
         Col.DATE_PROGRESSION_1L: day(200), Col.START_2L: day(210)},
        {Col.BEST_RESPONSE_1L: "PD", Col.DATE_PROGRESSION_1L: "2019-01-01"},
        {Col.BEST_RESPONSE_1L: "SD", Col.DATE_DC_1L: day(40), Col.DATE_DEATH: day(90),
         Col.DATE_LAST_FOLLOWUP: day(90)},
    ])
    for e in ENDPOINTS:
        d = derive(reg.frame, e)
        assert d.n + sum(d.not_eligible.values()) + len(d.excluded) == reg.n_patients, e
