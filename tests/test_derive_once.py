"""Derive once per registry, select per cohort (issue 17): a cohort is its patients' positions in the
registry (hcc.cohort.rules.CohortIndex), each endpoint is derived once for every registry row
(hcc.cohort.endpoints.derive_rows), and a cohort's summaries come from selecting its rows — with
exactly the results of deriving on the cohort's own frame, and no derivation on a rule change."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from streamlit.testing.v1 import AppTest

from hcc.analysis import analyze_endpoint
from hcc.cohort.endpoints import derive, derive_rows
from hcc.cohort.rules import MAIN, PRESETS, CohortIndex, apply_spec, group_rare_regimens
from hcc.errors import EmptyCohortError, SpecError
from hcc.schema import ENDPOINTS, Col, regimen_order
from hcc.stats.risksets import risk_sets
from tests.test_engine import _messy_frame, _specs
from ui.keys import StateKeys


@pytest.fixture(scope="module")
def frame() -> pd.DataFrame:
    return _messy_frame()


def _same(a, b, path: str = "") -> None:
    """Field by field, arrays and frames exactly (dtype included), NaN equal to NaN."""
    if isinstance(a, pd.DataFrame):
        pd.testing.assert_frame_equal(a, b, check_exact=True)
    elif isinstance(a, np.ndarray):
        assert a.dtype == b.dtype, path
        np.testing.assert_array_equal(a, b, err_msg=path)
    elif dataclasses.is_dataclass(a):
        assert type(a) is type(b), path
        for f in dataclasses.fields(a):
            _same(getattr(a, f.name), getattr(b, f.name), f"{path}.{f.name}")
    elif isinstance(a, dict):
        assert list(a) == list(b), path
        for k in a:
            _same(a[k], b[k], f"{path}[{k}]")
    elif isinstance(a, (list, tuple)):
        assert len(a) == len(b), path
        for i, (x, y) in enumerate(zip(a, b)):
            _same(x, y, f"{path}[{i}]")
    elif isinstance(a, float) and np.isnan(a):
        assert isinstance(b, float) and np.isnan(b), path
    else:
        assert a == b, (path, a, b)


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(spec=_specs(), seed=st.integers(0, 2**32 - 1),
       blank=st.sampled_from([None, Col.DATE_PROGRESSION_2L, Col.MVI, Col.DATE_RESPONSE_1L]))
def test_selecting_a_cohort_from_endpoints_derived_once_gives_the_same_results(frame, spec, seed, blank) -> None:
    """Random registries (a random half of the messy fixture: blanks, dates out of order, a rare
    regimen; sometimes a column with no values, so that a rule is not applied or an endpoint is not
    available) and random rules: the cohort's rows are the rows the rules keep, regimens pooled;
    every endpoint's data and summary equal those derived on the cohort's own frame."""
    sample = frame.sample(frac=0.5, random_state=np.random.default_rng(seed).integers(2**31)).reset_index(drop=True)
    if blank is not None:
        sample[blank] = None if sample[blank].dtype == object else pd.Series(pd.NA, dtype=sample[blank].dtype)
    index = CohortIndex(sample)
    try:
        cohort = index.apply(spec)
    except (EmptyCohortError, SpecError) as exc:
        with pytest.raises(type(exc)):
            apply_spec(sample.copy(), spec)
        return
    pooled, _ = group_rare_regimens(sample, spec.other_below)
    expected = pooled.take(cohort.rows).reset_index(drop=True)
    pd.testing.assert_frame_equal(cohort.frame, expected, check_exact=True)
    assert cohort.n == len(expected)
    counts = expected[Col.REGIMEN_1L].value_counts()
    assert cohort.by_regimen() == {r: int(counts[r]) for r in cohort.regimens}
    on_frame = dataclasses.replace(cohort, frame=expected)  # a cohort given its frame derives on it
    for endpoint in ENDPOINTS:
        derived = derive_rows(sample, endpoint)
        data = derived.select(cohort.rows, index.grouping(spec.other_below).labels)
        _same(data, derive(expected, endpoint), endpoint)
        _same(analyze_endpoint(cohort, endpoint, derived=derived), analyze_endpoint(on_frame, endpoint), endpoint)


def test_index_reuses_the_masks_of_rules_that_did_not_change(frame, monkeypatch) -> None:
    """A rule change evaluates only the changed rule over the registry; the log stays the same."""
    index = CohortIndex(frame)
    spec = dataclasses.replace(PRESETS[MAIN], age_min=60.0)
    first = index.apply(spec)
    calls: list[str] = []
    original = pd.DataFrame.__getitem__
    monkeypatch.setattr(pd.DataFrame, "__getitem__", lambda self, key: calls.append(key) or original(self, key))
    again = index.apply(dataclasses.replace(spec, age_min=61.0))
    monkeypatch.undo()
    assert set(calls) == {Col.AGE}  # the three flag rules and their blanks come from the index
    assert again.attrition[:4] == first.attrition[:4]  # the registry, then the three flag rules
    assert again.n <= first.n


def test_risk_sets_by_position_equal_the_sorted_counts() -> None:
    """Whole-day times are counted by position (no sort); the counts, times and groups are those of
    the sorting path (times with a fraction), and coded groups count as their labels."""
    rng = np.random.default_rng(3)
    days = rng.integers(0, 900, 5000).astype(float)
    event = rng.random(5000) < 0.6
    group = rng.choice(np.array(["A", "B", "C", None], dtype=object), 5000)
    fast = risk_sets(days, event, group, ("B", "A"))
    shifted = risk_sets(days + 0.5, event, group, ("B", "A"))  # not whole: sorted
    np.testing.assert_array_equal(fast.time + 0.5, shifted.time)
    np.testing.assert_array_equal(fast.n_event, shifted.n_event)
    np.testing.assert_array_equal(fast.n_censor, shifted.n_censor)
    labels = ("C", "A", "B")
    codes = np.array([labels.index(g) if g is not None else -1 for g in group])
    coded = risk_sets(days, event, None, ("B", "A"), (codes, labels))
    np.testing.assert_array_equal(coded.n_event, fast.n_event)
    np.testing.assert_array_equal(coded.n_censor, fast.n_censor)


def test_a_rule_change_on_the_survival_page_derives_nothing_again(monkeypatch) -> None:
    """The Survival page derives each endpoint once per registry; a new age limit selects rows."""
    import hcc.analysis
    import ui.common

    derived: list[str] = []
    on_frame: list[str] = []
    monkeypatch.setattr(ui.common, "derive_rows", lambda f, e, *a: derived.append(str(e)) or derive_rows(f, e, *a))
    monkeypatch.setattr(hcc.analysis, "derive", lambda f, e, *a: on_frame.append(str(e)) or derive(f, e, *a))
    at = AppTest.from_file("../app.py", default_timeout=60)
    at.run()
    at.switch_page("pages/survival.py")
    at.run()
    assert not at.exception
    assert derived and len(derived) == len(set(derived)) and not on_frame
    derived.clear()
    at.number_input(key=StateKeys.COHORT + "age_min").set_value(60.0).run()
    assert not at.exception
    assert derived == [] and on_frame == []
    assert at.get("plotly_chart")


def test_session_memo_drops_the_least_recently_used_result() -> None:
    """Past ``MEMO_SIZE`` results the least recently used goes, not everything: what every rule change
    reads (the registry's index, the derived endpoints) stays while a session explores settings."""
    at = AppTest.from_string(
        "from ui.common import MEMO_SIZE, session_memo\n"
        "session_memo(('base',), lambda: 'kept')\n"
        "for i in range(MEMO_SIZE + 5):\n"
        "    session_memo(('result', i), lambda: i)\n"
        "    session_memo(('base',), lambda: 'recomputed')\n", default_timeout=30)
    at.run()
    assert not at.exception
    memo = at.session_state[StateKeys.MEMO]
    from ui.common import MEMO_SIZE

    assert len(memo) == MEMO_SIZE and memo[("en", "base")] == "kept"
    assert ("en", "result", 0) not in memo and ("en", "result", MEMO_SIZE + 4) in memo


def test_endpoints_derived_with_shared_date_checks_are_the_same_and_test_each_date_order_once(frame,
                                                                                               monkeypatch) -> None:
    """Issue 17: the Survival page derives seven endpoints of one registry; the date-order tests they share
    (:class:`hcc.ingest.validate.DateChecks`, kept per session) are computed once, not once per endpoint
    (~40 ms an endpoint at 1M), and every endpoint's rows are exactly those derived on its own."""
    from hcc.ingest import validate

    alone = {e: derive_rows(frame, e) for e in ENDPOINTS}
    ends = []
    real = validate.follow_up_end
    monkeypatch.setattr(validate, "follow_up_end", lambda f: ends.append(1) or real(f))
    checks = validate.DateChecks(frame)
    for e in ENDPOINTS:
        _same(derive_rows(frame, e, checks), alone[e], e.value)
    assert len(ends) == 1  # the end of follow-up, once for every endpoint


def test_the_registry_hashes_its_regimens_once_for_their_order_counts_and_the_cohort_index(monkeypatch) -> None:
    """Issue 17: the display order, the counts and the cohort index share one factorization of the
    first-line regimens (:attr:`Registry.regimen_codes`), with the results of hashing each alone."""
    import pandas.core.algorithms as algorithms

    from hcc.ingest.registry import load_demo, order_regimens
    from tests.conftest import make_registry

    for registry in (load_demo(), make_registry([{Col.REGIMEN_1L: "LEN"}, {Col.REGIMEN_1L: ""},
                                                 {Col.REGIMEN_1L: "SOR"}, {Col.REGIMEN_1L: "LEN"}])):
        column = registry.frame[Col.REGIMEN_1L]
        alone = CohortIndex(registry.frame)
        expected = (order_regimens(column), column.value_counts().to_dict())
        passes = []
        for name in ("factorize", "value_counts_arraylike"):  # pandas' two hash passes over a column
            real = getattr(algorithms, name)
            monkeypatch.setattr(algorithms, name, lambda *a, real=real, **k: passes.append(1) or real(*a, **k))
        monkeypatch.setattr(pd, "factorize", algorithms.factorize)
        shared = CohortIndex(registry.frame, registry.regimen_codes)
        assert (registry.regimens, registry.regimen_counts()) == (expected[0], {r: expected[1][r] for r in expected[0]})
        for below in (0, 2, 1000):
            _same(shared.grouping(below), alone.grouping(below))
        _same(*(dataclasses.replace(i.apply(PRESETS[MAIN]), index=None) for i in (shared, alone)))
        assert len(passes) == 1
        monkeypatch.undo()


def test_choices_and_regimen_order_copy_no_rows_to_leave_blanks_out(frame, monkeypatch) -> None:
    """Issue 17: a column's choices and the regimens' order leave blanks out without a ``dropna`` copy of
    the rows (~0.05 s a column at 1M), with the values the copy gave."""
    from hcc.ingest.registry import order_regimens

    columns = [c for c in (Col.CENTER, Col.REGIMEN_1L, Col.ETIOLOGY, Col.CHILD_PUGH_CLASS, Col.BCLC) if c in frame]
    expected = {c: tuple(sorted(str(v) for v in frame[c].dropna().unique())) for c in columns}
    order = regimen_order(frame[Col.REGIMEN_1L].dropna().value_counts())
    blanked = frame[Col.REGIMEN_1L].where(frame.index % 3 > 0, None)
    order_blanked = regimen_order(blanked.dropna().value_counts())
    monkeypatch.setattr(pd.Series, "dropna", lambda *a, **k: pytest.fail("a copy of the rows"))
    index = CohortIndex(frame)
    assert {c: index.choices(c) for c in columns} == expected
    assert order_regimens(frame[Col.REGIMEN_1L]) == order and order_regimens(blanked) == order_blanked
