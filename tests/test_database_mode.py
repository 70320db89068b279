"""Database mode (hcc/ingest/database.py, ui/database.py): a server registry analysed in DuckDB, its rows
never in pandas; checked against the data contract in SQL; the same numbers as the in-memory path."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pandas as pd
import pyarrow.parquet as pq
import pytest
from streamlit.testing.v1 import AppTest

from benchmarks.registry import write_registry_parquet
from hcc.analysis import analyze_endpoint
from hcc.cohort.rules import MAIN, PRESETS, apply_to_registry
from hcc.engine import write_parquet
from hcc.errors import SchemaError
from hcc.ingest.database import ROWS_ENV_VAR
from hcc.ingest.registry import load_bytes
from hcc.ingest.serverdata import ENV_VAR, ServerDataError
from hcc.schema import SURVIVAL_ENDPOINTS, Col, Endpoint
from tests.apptest import shown
from ui.database import open_database
from ui.keys import StateKeys

N = 2000


@pytest.fixture(scope="module")
def files(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("server")
    write_registry_parquet(N, root / "a.parquet", seed=1)
    write_registry_parquet(N // 2, root / "b.parquet", seed=2)
    frame = pq.read_table(root / "a.parquet").to_pandas()
    frame.loc[3, Col.PATIENT_ID] = frame.loc[7, Col.PATIENT_ID]  # rows 5 and 9 of the file
    frame.loc[10, Col.SEX] = "X"                                 # row 12
    frame = frame.drop(columns=[Col.ALBI_GRADE])                 # an optional column absent: allowed
    write_parquet(frame, root / "bad.parquet")
    return root


def _widget_app() -> None:
    import streamlit as st

    from ui.keys import StateKeys
    from ui.server_data import server_data_widget

    server_data_widget()
    database = st.session_state.get(StateKeys.DATABASE)
    st.markdown(f"database: {database.n_patients if database is not None else 'none'}")


def _widget(root: Path, monkeypatch, name: str) -> AppTest:
    """The server-data widget, ``name`` opened in database mode (its threshold lowered below the file's rows)."""
    monkeypatch.setenv(ENV_VAR, str(root))
    monkeypatch.setenv(ROWS_ENV_VAR, "100")
    at = AppTest.from_function(_widget_app, default_timeout=60)
    at.run()
    at.selectbox[0].set_value(name).run()
    assert "too many to load into memory" in at.info[0].value
    at.button(key=StateKeys.SERVER_OPEN).click().run()
    assert not at.exception, [e.message for e in at.exception]
    return at


def _open(root: Path, monkeypatch, name: str) -> AppTest:
    """The app with ``name`` open in database mode in its session, as the widget leaves it."""
    monkeypatch.setenv(ENV_VAR, str(root))
    at = AppTest.from_file("../app.py", default_timeout=60)
    at.session_state[StateKeys.DATABASE] = open_database(root, name)
    at.run()
    assert not at.exception, [e.message for e in at.exception]
    return at


def test_survival_page_in_the_database_gives_the_in_memory_numbers(files, monkeypatch) -> None:
    at = _open(files, monkeypatch, "a.parquet")
    assert StateKeys.REGISTRY not in at.session_state and at.session_state[StateKeys.DATABASE].n_patients == N
    at.switch_page("pages/survival.py")
    at.run()
    assert not at.exception, [e.message for e in at.exception]
    assert at.get("plotly_chart")
    memo = at.session_state[StateKeys.MEMO]
    in_db = [(k[4], k[5], v) for k, v in memo.items() if k[1] == "db km"]
    assert {e for e, _, _ in in_db} == {e.value for e in SURVIVAL_ENDPOINTS}  # the all-endpoints table
    registry = load_bytes((files / "a.parquet").read_bytes(), "a.parquet")
    cohort = apply_to_registry(registry, PRESETS[MAIN])
    for endpoint, spec, db_summary in in_db:
        mem = analyze_endpoint(cohort, Endpoint(endpoint), spec)
        assert [(g.group, g.n, g.events) for g in db_summary.groups] == [(g.group, g.n, g.events) for g in mem.groups]
        for a, b in zip(db_summary.groups, mem.groups):
            assert a.median == pytest.approx(b.median, abs=1e-9, nan_ok=True)
        assert (db_summary.excluded, db_summary.not_eligible) == (mem.excluded, mem.not_eligible)
        if db_summary.logrank is not None:
            assert db_summary.logrank.statistic == pytest.approx(mem.logrank.statistic, abs=1e-9)
            assert db_summary.logrank.p == pytest.approx(mem.logrank.p, abs=1e-12)
    assert any(f"SOR {cohort.by_regimen()['SOR']}" in c.value for c in at.caption)


def test_pages_that_need_rows_say_so(files, monkeypatch) -> None:
    at = _open(files, monkeypatch, "a.parquet")  # the Overview, from the database
    assert any(m.value == f"{N:,}" for m in at.metric) and any("Median OS" in m.label for m in at.metric)
    for page in ("pages/response.py", "pages/adjusted.py", "pages/export.py", "pages/secondline.py"):
        at.switch_page(page)
        at.run()
        assert not at.exception, (page, [e.message for e in at.exception])
        assert any("not available for a registry analysed in the database" in i.value and f"{N:,} patients" in i.value
                   for i in at.info), page
    at.switch_page("pages/cohort.py")
    at.run()
    assert not at.exception and at.get("plotly_chart")  # the flow diagram
    assert any("Table 1" in i.value for i in at.info)


def test_a_table_breaking_the_contract_is_refused_with_rows_and_fix(files) -> None:
    with pytest.raises(SchemaError) as caught:
        open_database(files, "bad.parquet")
    text = str(caught.value)
    assert "bad.parquet, column 'patient_id': duplicate patient_id in 2 rows (first rows: 5, 9)" in text
    assert "column 'sex': unknown category in 1 rows (first rows: 12). Fix: use one of M, F" in text
    assert "albi_grade" not in text


def test_the_widget_opens_in_the_database_or_refuses(files, monkeypatch) -> None:
    at = _widget(files, monkeypatch, "b.parquet")
    assert at.markdown[-1].value == f"database: {N // 2}"
    at = _widget(files, monkeypatch, "bad.parquet")
    assert at.markdown[-1].value == "database: none"
    assert any("duplicate patient_id in 2 rows (first rows: 5, 9)" in shown(e.value) for e in at.error)


def test_two_sessions_keep_their_own_connections(files, monkeypatch) -> None:
    first = _widget(files, monkeypatch, "a.parquet")
    second = _widget(files, monkeypatch, "b.parquet")
    a, b = first.session_state[StateKeys.DATABASE], second.session_state[StateKeys.DATABASE]
    assert (a.n_patients, b.n_patients) == (N, N // 2) and a.engine is not b.engine
    assert first.markdown[-1].value == f"database: {N}" and second.markdown[-1].value == f"database: {N // 2}"


def test_dates_out_of_order_are_warnings_and_absent_columns_are_blank(tmp_path) -> None:
    """As for an upload: the row stays (each endpoint using the date leaves the patient out), and is named."""
    write_registry_parquet(200, tmp_path / "r.parquet", seed=3)
    frame = pq.read_table(tmp_path / "r.parquet").to_pandas()
    frame.loc[4, Col.DATE_DEATH] = frame.loc[4, Col.START_1L] - pd.Timedelta(days=3)  # row 6 of the file
    write_parquet(frame.drop(columns=[Col.ALBI_GRADE]), tmp_path / "r.parquet")
    db = open_database(tmp_path, "r.parquet")
    try:
        assert db.n_patients == 200 and db.absent_columns == (Col.ALBI_GRADE,)
        assert any(f"column '{Col.DATE_DEATH}': {Col.DATE_DEATH} is before {Col.START_1L}" in w and "first rows: 6" in w
                   for w in db.warnings)
        assert db.engine.query(f"SELECT COUNT({Col.ALBI_GRADE}) AS n FROM hcc_registry")["n"].iloc[0] == 0
    finally:
        db.close()


def test_a_duckdb_view_reading_outside_the_directory_is_refused(tmp_path) -> None:
    root = tmp_path / "data"
    root.mkdir()
    write_registry_parquet(50, tmp_path / "outside.parquet", seed=4)
    with duckdb.connect(str(root / "r.duckdb")) as con:
        con.execute(f"CREATE VIEW patients AS SELECT * FROM read_parquet('{tmp_path / 'outside.parquet'}')")
    with pytest.raises(ServerDataError, match="reads files outside the data directory"):
        open_database(root, "r.duckdb", "patients")


def test_a_cohorts_endpoints_are_counted_in_the_database_once(files, monkeypatch) -> None:
    """The Overview's OS, the Survival page's seven endpoints and another endpoint opened with its
    comparisons all come from one count of the cohort (two queries), kept under the cohort's rules."""
    import hcc.engine
    import ui.database

    calls = []

    def counting(engine, cohort_, endpoints):
        calls.append(cohort_.spec)
        return hcc.engine.count_endpoints(engine, cohort_, endpoints)

    monkeypatch.setattr(ui.database, "count_endpoints", counting)
    at = _open(files, monkeypatch, "a.parquet")  # the Overview: OS
    at.switch_page("pages/survival.py")
    at.run()
    assert not at.exception, [e.message for e in at.exception]
    at.radio(key=StateKeys.ENDPOINT).set_value(Endpoint.PFS).run()
    assert not at.exception and len(calls) == 1
    counted = [k for k in at.session_state[StateKeys.MEMO] if k[1] == "db counts"]
    assert len(counted) == 1 and calls[0] in counted[0]  # a rule change makes another cohort: counted anew


def test_the_overview_in_presentation_mode_is_its_slides_alone(files, monkeypatch) -> None:
    """As in memory: the first slide fills the screen, with no title or data metrics drawn above it."""
    monkeypatch.setenv(ENV_VAR, str(files))
    at = AppTest.from_file("../app.py", default_timeout=60)
    at.query_params["present"] = "1"  # opened with ?present=1, as a tumor-board link
    at.session_state[StateKeys.DATABASE] = open_database(files, "a.parquet")
    at.run()
    assert not at.exception, [e.message for e in at.exception]
    assert at.get("plotly_chart")  # the OS slide
    assert not at.title and not at.metric
