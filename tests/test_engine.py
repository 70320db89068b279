"""hcc.engine: cohort rules, endpoints and risk-set counts in SQL give exactly the in-memory results.

The reference is the in-memory path itself (``apply_spec`` -> ``analyze_endpoint``), whose
numbers are checked against R in tests/test_survival*.py and tests/test_demo_reference.py; here
every number of every endpoint summary must be *equal* (same integer counts -> same floats), on a
synthetic registry with dates out of order, missing values and a rare regimen, in embedded DuckDB
(over Parquet and over a DuckDB database file) and, marked slow, in PySpark local mode.
"""

from __future__ import annotations

import shutil
import tempfile
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from hcc.cohort.rules import MAIN, MAX_GROUPS, PRESETS, CohortSpec, apply_spec
from hcc.analysis import analyze_endpoint, endpoint_json
from hcc.cohort.endpoints import derive
from hcc.engine import TABLE, DuckDBEngine, SparkEngine, attrition, cohort, summarize_endpoint, write_parquet
from hcc.errors import EmptyCohortError, SpecError
from hcc.ingest.registry import load_bytes
from hcc.schema import ENDPOINTS, Col
from hcc.stats.survival import AnalysisSpec
from hcc.reference.synth import generate, write_csv

SPECS = {
    "full": CohortSpec(),
    "main": PRESETS[MAIN],
    "rules": CohortSpec(regimens=("SOR", "LEN", "Other"), other_below=40, start_from="2015-01-01",
                        start_to="2022-12-31", child_pugh=("A",), ecog_ps=(0, 1), with_mvi=False,
                        afp_below=400.0, age_min=50.0, age_max=85.0, etiologies=("HBV", "HCV", "alcohol", "MASLD")),
    "ehs": CohortSpec(with_ehs=True, albi=("1", "2a"), bclc_stages=("C",), afp_at_least=20.0),
}


def _messy_frame() -> pd.DataFrame:
    """A canonical registry with what derive must handle: dates out of order, a missing origin,
    blank rule columns, and a rare regimen (pooled as Other by ``other_below``)."""
    raw = generate(n_patients=1500, seed=11)
    raw[Col.AGE] = raw[Col.AGE].clip(upper=89)  # no identifying ages: loads without a confirmation
    with tempfile.TemporaryDirectory() as tmp:
        write_csv(raw, Path(tmp) / "messy.csv")
        frame = load_bytes((Path(tmp) / "messy.csv").read_bytes(), "messy.csv").frame.copy()
    rng = np.random.default_rng(5)
    pick = lambda k: rng.choice(len(frame), size=k, replace=False)  # noqa: E731
    rows = pick(30)
    frame.loc[rows, Col.DATE_PROGRESSION_1L] = frame.loc[rows, Col.START_1L] - pd.Timedelta(days=3)
    rows = pick(20)
    frame.loc[rows, Col.DATE_DEATH] = frame.loc[rows, Col.DATE_LAST_FOLLOWUP] - pd.Timedelta(days=5)
    frame.loc[pick(15), Col.START_2L] = pd.Timestamp("2030-01-01")
    for col in (Col.CHILD_PUGH_CLASS, Col.AFP, Col.MVI, Col.AGE, Col.ECOG):
        frame.loc[pick(25), col] = None
    frame.loc[pick(12), Col.REGIMEN_1L] = "RARE_X"
    return frame


@pytest.fixture(scope="module")
def frame() -> pd.DataFrame:
    return _messy_frame()


@pytest.fixture(scope="module")
def parquet(tmp_path_factory, frame) -> Path:
    path = tmp_path_factory.mktemp("engine") / "registry.parquet"
    write_parquet(frame, path)
    return path


@pytest.fixture(scope="module")
def duck(parquet) -> DuckDBEngine:
    return DuckDBEngine(parquet)


def _assert_equal(a, b) -> None:
    """Every reported number identical (repr: NaN-safe, and shows any last-digit difference)."""
    assert repr(a.groups) == repr(b.groups)
    assert repr(a.logrank) == repr(b.logrank) and repr(a.pairwise) == repr(b.pairwise) and repr(a.cox) == repr(b.cox)
    assert repr(a.rmst_differences) == repr(b.rmst_differences) and a.tau_months == b.tau_months
    assert a.not_eligible == b.not_eligible and a.excluded == b.excluded and a.reference == b.reference
    assert a.unavailable == b.unavailable
    assert a.curves.keys() == b.curves.keys()
    for g in a.curves:
        for field in ("time", "n_risk", "n_event", "n_censor", "surv", "std_err", "lower", "upper"):
            np.testing.assert_array_equal(getattr(a.curves[g], field), getattr(b.curves[g], field))


def _check_equal(engine, frame: pd.DataFrame, spec: CohortSpec, endpoints=ENDPOINTS,
                 analysis: AnalysisSpec | None = None) -> None:
    expected_cohort = apply_spec(frame, spec)
    got_cohort = cohort(engine, spec)
    assert got_cohort.regimens == expected_cohort.regimens
    assert got_cohort.by_regimen == expected_cohort.by_regimen()
    assert attrition(engine, got_cohort) == expected_cohort.attrition
    for endpoint in endpoints:
        expected = analyze_endpoint(expected_cohort, endpoint, analysis)
        _assert_equal(expected, summarize_endpoint(engine, got_cohort, endpoint, analysis))


def test_fixture_has_what_the_sql_must_handle(frame) -> None:
    """The equality tests below are only as good as the data: it has exclusions and ineligibles."""
    cohort_ = apply_spec(frame, SPECS["rules"])
    assert "Other" in cohort_.regimens
    data = derive(frame, "PFS")
    assert set(data.excluded_counts()) >= {"date_progression_1l before start_1l"}
    assert derive(frame, "OS").excluded_counts().get("date_death before date_last_followup", 0) > 0
    assert derive(frame, "PPS").not_eligible


@pytest.mark.parametrize("name", sorted(SPECS))
def test_duckdb_equals_in_memory_for_every_endpoint(duck, frame, name) -> None:
    _check_equal(duck, frame, SPECS[name])


def test_duckdb_equals_in_memory_with_other_settings(duck, frame) -> None:
    analysis = AnalysisSpec(conf_type="plain", rho=1, tau_months=12.0, reference="LEN", adjust="bonferroni")
    _check_equal(duck, frame, SPECS["main"], ("OS", "PFS"), analysis)


def test_duckdb_equals_in_memory_with_centers_and_dates(duck, frame) -> None:
    centers = tuple(sorted(frame[Col.CENTER].dropna().unique()))[:2]
    _check_equal(duck, frame, CohortSpec(centers=centers, start_to="2019-06-30", other_below=30), ("OS", "DDC"))


def test_duckdb_database_file_by_table_name(tmp_path, frame) -> None:
    import duckdb

    db = tmp_path / "registry.duckdb"
    write_parquet(frame, tmp_path / "r.parquet")
    with duckdb.connect(str(db)) as con:
        con.execute(f"CREATE TABLE patients AS SELECT * FROM read_parquet('{tmp_path / 'r.parquet'}')")
    _check_equal(DuckDBEngine(db, table="patients"), frame, SPECS["main"], ("OS",))


def test_rule_on_a_column_without_values_is_not_applied(tmp_path, frame) -> None:
    """As the in-memory cohort log's "Not applied" step: a file without AFP keeps everyone."""
    blank = frame.assign(**{Col.AFP: np.nan})
    write_parquet(blank, tmp_path / "r.parquet")
    _check_equal(DuckDBEngine(tmp_path / "r.parquet"), blank, replace(SPECS["main"], afp_below=400.0), ("OS",))


def test_endpoint_whose_source_column_has_no_values_is_not_available(tmp_path, frame) -> None:
    """No progression recorded at all: PFS (and every endpoint from first progression) is "not
    available ... column date_progression_1l has no values" in SQL as in memory -- not OS again."""
    blank = frame.assign(**{Col.DATE_PROGRESSION_1L: pd.NaT})
    write_parquet(blank, tmp_path / "r.parquet")
    engine = DuckDBEngine(tmp_path / "r.parquet")
    _check_equal(engine, blank, SPECS["main"])
    pfs = summarize_endpoint(engine, cohort(engine, SPECS["main"]), "PFS")
    assert pfs.unavailable.startswith("PFS is not available in this registry: column date_progression_1l has no values")
    assert not pfs.curves and all(g.n == 0 for g in pfs.groups) and not pfs.cox
    in_memory = analyze_endpoint(apply_spec(blank, SPECS["main"]), "PFS")
    assert endpoint_json(pfs) == endpoint_json(in_memory) and endpoint_json(pfs)["available"] is False
    assert summarize_endpoint(engine, cohort(engine, SPECS["main"]), "OS").unavailable == ""


def test_group_cap_pools_the_same_regimens_as_in_memory(tmp_path, frame) -> None:
    """More regimens than MAX_GROUPS: the SQL path pools the same smallest ones as Other as the pandas
    path (hcc.cohort.rules.pool_rare), with the same note, and gives the same numbers."""
    many = frame.copy()
    rows = np.random.default_rng(3).permutation(len(many))[:300]
    many.loc[rows, Col.REGIMEN_1L] = [f"X{i % 20:02d}" for i in range(len(rows))]  # 20 regimens of 15
    many.loc[rows[:40], Col.REGIMEN_1L] = [f"Y{i % 2}" for i in range(40)]  # 2 of 20: kept above the cap
    write_parquet(many, tmp_path / "r.parquet")
    engine = DuckDBEngine(tmp_path / "r.parquet")
    for spec in (CohortSpec(), CohortSpec(other_below=5), CohortSpec(other_below=30)):
        expected = apply_spec(many, spec)
        got = cohort(engine, spec)
        assert expected.pooling is not None and got.pooling == expected.pooling
        assert len(got.regimens) <= MAX_GROUPS and "Other" in got.regimens and "X00" not in got.regimens
        assert ("Y0" in got.regimens) == (spec.other_below <= 20)  # 20 patients: kept unless the rule pools it
        assert got.pooling.capped == (spec.other_below <= 15)
        _check_equal(engine, many, spec, ("OS",))


def test_bad_specs_raise_the_same_errors(duck) -> None:
    with pytest.raises(SpecError, match="NOPE"):
        cohort(duck, CohortSpec(regimens=("NOPE",)))
    with pytest.raises(EmptyCohortError):
        cohort(duck, CohortSpec(age_min=120.0))


def test_only_aggregates_reach_python(duck) -> None:
    """The query returns one row per (regimen, distinct day) plus the not-analysed counts, not one per patient."""
    from hcc.engine import endpoint_counts_sql

    rows = duck.query(endpoint_counts_sql(CohortSpec(), "OS"))
    n = int(duck.query(f"SELECT COUNT(*) AS n FROM {TABLE}")["n"].iloc[0])
    assert rows["n_event"].sum() + rows["n_censor"].sum() == n
    assert len(rows) < n


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("java") is None, reason="PySpark needs Java (apt-get install default-jre-headless)")
def test_pyspark_local_mode_equals_in_memory(parquet, frame) -> None:
    """The same SQL in Spark (local mode, 1 core): equal results for a cohort that uses every kind
    of rule with rare regimens pooled, on endpoints with and without eligibility rules and with one
    and two event dates (~40 s, mostly Spark's start-up; DuckDB covers every endpoint above)."""
    pyspark_sql = pytest.importorskip("pyspark.sql")
    spark = (pyspark_sql.SparkSession.builder.master("local[1]").appName("hcc-engine-test")
             .config("spark.ui.enabled", "false").config("spark.sql.shuffle.partitions", "2")
             .config("spark.sql.session.timeZone", "UTC")
             .config("spark.sql.execution.arrow.pyspark.enabled", "true").getOrCreate())
    try:
        spark.read.parquet(str(parquet)).createOrReplaceTempView(TABLE)
        engine = SparkEngine(spark)
        _check_equal(engine, frame, SPECS["rules"], ("OS", "PFS", "PPS", "DOR"))
    finally:
        spark.stop()


# Property: the pandas and the SQL interpreter of the same rule data give the same cohorts ----------

from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402


@st.composite
def _specs(draw) -> CohortSpec:
    """Random cohort specs over every rule kind (in, equals, between with open bounds, below, at least)."""
    maybe = lambda s: draw(st.one_of(st.none(), s))  # noqa: E731
    start_from = maybe(st.sampled_from(["2012-01-01", "2016-06-30", "2019-01-01"]))
    start_to = maybe(st.sampled_from(["2017-12-31", "2020-06-30", "2024-12-31"]))
    if start_from is not None and start_to is not None and start_from > start_to:
        start_from, start_to = start_to, start_from
    age_min = maybe(st.sampled_from([40.0, 60.0, 70.0]))
    age_max = maybe(st.sampled_from([65.0, 75.0, 90.0]))
    if age_min is not None and age_max is not None and age_min > age_max:
        age_min, age_max = age_max, age_min
    return CohortSpec(
        regimens=tuple(draw(st.sets(st.sampled_from(["SOR", "LEN", "ATZ_BEV"]), max_size=3))),
        other_below=draw(st.sampled_from([0, 30])),
        exclude_concomitant_lrt=draw(st.booleans()), exclude_interline_lrt=draw(st.booleans()),
        exclude_trial_after_1l=draw(st.booleans()), start_from=start_from, start_to=start_to,
        child_pugh=tuple(sorted(draw(st.sets(st.sampled_from(["A", "B", "C"]), max_size=2)))),
        ecog_ps=tuple(sorted(draw(st.sets(st.integers(0, 3), max_size=2)))),
        with_mvi=maybe(st.booleans()), with_ehs=maybe(st.booleans()),
        afp_below=maybe(st.sampled_from([20.0, 400.0])), afp_at_least=maybe(st.sampled_from([10.0, 200.0])),
        age_min=age_min, age_max=age_max)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(spec=_specs(), rows=st.integers(0, 2**32 - 1))
def test_random_registries_and_rules_give_the_same_cohort_in_both_engines(tmp_path_factory, frame, spec, rows) -> None:
    """Random registries (a random half of the messy fixture, with its blanks, bad dates and rare
    regimen) and random rules: identical regimens, counts, attrition logs and OS/PFS risk sets from the pandas rules
    (hcc.cohort.rules.keep_mask) and the SQL written from the same data (hcc.engine.keep_sql)."""
    sample = frame.sample(frac=0.5, random_state=np.random.default_rng(rows).integers(2**31)).reset_index(drop=True)
    path = tmp_path_factory.mktemp("prop") / "r.parquet"
    write_parquet(sample, path)
    engine = DuckDBEngine(path)
    try:
        apply_spec(sample, spec)
    except (EmptyCohortError, SpecError) as exc:
        with pytest.raises(type(exc)):
            cohort(engine, spec)
        return
    _check_equal(engine, sample, spec, ("OS", "PFS"))


def test_a_materialized_cohort_gives_the_same_summaries(parquet, frame) -> None:
    """:func:`hcc.engine.materialize`: the cohort's rows held once (pooling and rules applied), read by
    every endpoint query — each summary equal to the in-memory one."""
    from hcc.engine import materialize

    engine, spec = DuckDBEngine(parquet), SPECS["rules"]
    held = materialize(engine, cohort(engine, spec), "held_cohort")
    assert held.rows_sql() == "SELECT * FROM held_cohort"
    assert int(engine.query("SELECT COUNT(*) AS n FROM held_cohort")["n"].iloc[0]) == held.n
    expected_cohort = apply_spec(frame, spec)
    for endpoint in ENDPOINTS:
        _assert_equal(analyze_endpoint(expected_cohort, endpoint), summarize_endpoint(engine, held, endpoint))
    engine.close()
