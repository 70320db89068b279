"""hcc.ingest.serverdata and ui/server_data.py: registries opened by path, only inside the allow-listed directory."""

from __future__ import annotations

import io
import os
from pathlib import Path

import duckdb
import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from hcc.errors import HCCError
from hcc.ingest.registry import DEMO_PATH, load_bytes
from hcc.schema import Col
from hcc.ingest.serverdata import ENV_VAR, ServerDataError, configured_dir, list_files, load_server_file, resolve


def _demo_cells() -> pd.DataFrame:
    cells = pd.read_csv(DEMO_PATH, dtype=str, keep_default_na=False).head(300)
    cells[Col.AGE] = pd.to_numeric(cells[Col.AGE]).clip(upper=89).astype(str)  # no identifying ages
    return cells


@pytest.fixture
def root(tmp_path: Path) -> Path:
    data = tmp_path / "data"
    (data / "sub").mkdir(parents=True)
    cells = _demo_cells()
    cells.to_parquet(data / "registry.parquet")
    with duckdb.connect(str(data / "sub" / "registry.duckdb")) as con:
        con.register("cells", cells)
        con.execute("CREATE TABLE patients AS SELECT * FROM cells")
    (tmp_path / "secret.parquet").write_bytes((data / "registry.parquet").read_bytes())
    (data / "notes.txt").write_text("not offered")
    return data


def _csv_registry():
    buffer = io.StringIO()
    _demo_cells().to_csv(buffer, index=False)
    return load_bytes(buffer.getvalue().encode(), "demo.csv")


def test_off_unless_configured(monkeypatch, tmp_path) -> None:
    monkeypatch.delenv(ENV_VAR, raising=False)
    assert configured_dir() is None
    assert configured_dir(str(tmp_path / "missing")) is None
    monkeypatch.setenv(ENV_VAR, str(tmp_path))
    assert configured_dir() == tmp_path.resolve()


def test_only_parquet_and_duckdb_files_inside_are_offered(root) -> None:
    os.symlink(root.parent / "secret.parquet", root / "link.parquet")
    assert list_files(root) == ("registry.parquet", "sub/registry.duckdb")


@pytest.mark.parametrize("path", ["../secret.parquet", "/etc/passwd", "notes.txt", "link.parquet", "nothing.parquet"])
def test_paths_outside_or_not_offered_are_refused(root, path) -> None:
    os.symlink(root.parent / "secret.parquet", root / "link.parquet")
    with pytest.raises(ServerDataError):
        resolve(root, path)


def test_parquet_and_duckdb_table_load_like_the_same_upload(root) -> None:
    expected = _csv_registry()
    for relative, table in (("registry.parquet", None), ("sub/registry.duckdb", "patients")):
        got = load_server_file(root, relative, table)
        assert got.n_patients == expected.n_patients == 300
        pd.testing.assert_frame_equal(got.frame.drop(columns=Col.PATIENT_ID), expected.frame.drop(columns=Col.PATIENT_ID),
                                      check_dtype=False)
    with pytest.raises(ServerDataError, match="patients"):
        load_server_file(root, "sub/registry.duckdb", "nope")


def _widget_app() -> None:
    import streamlit as st

    from ui.keys import StateKeys
    from ui.server_data import server_data_widget

    server_data_widget()
    registry = st.session_state.get(StateKeys.REGISTRY)
    st.markdown(f"loaded: {registry.n_patients if registry is not None else 'none'}")


def test_widget_opens_a_duckdb_table_into_the_session(root, monkeypatch) -> None:
    monkeypatch.setenv(ENV_VAR, str(root))
    at = AppTest.from_function(_widget_app, default_timeout=60)
    at.run()
    assert at.selectbox[0].options == ["registry.parquet", "sub/registry.duckdb"]
    at.selectbox[0].set_value("sub/registry.duckdb").run()
    assert at.selectbox[1].options == ["patients"]
    at.button[0].click().run()
    assert not at.exception and at.markdown[-1].value == "loaded: 300"


def test_widget_says_when_a_duckdb_file_is_damaged(root, monkeypatch) -> None:
    (root / "broken.duckdb").write_bytes(b"not a database" * 100)
    monkeypatch.setenv(ENV_VAR, str(root))
    at = AppTest.from_function(_widget_app, default_timeout=60)
    at.run()
    at.selectbox[0].set_value("broken.duckdb").run()
    assert not at.exception, [e.message for e in at.exception]
    assert "broken" in at.error[0].value and "cannot be opened" in at.error[0].value
    assert len(at.selectbox) == 1 and at.markdown[-1].value == "loaded: none"


def test_widget_is_absent_when_off(monkeypatch) -> None:
    monkeypatch.delenv(ENV_VAR, raising=False)
    at = AppTest.from_function(_widget_app, default_timeout=60)
    at.run()
    assert not at.selectbox and at.markdown[-1].value == "loaded: none"


def test_data_page_offers_the_server_directory_when_configured(root, monkeypatch) -> None:
    monkeypatch.setenv(ENV_VAR, str(root))
    at = AppTest.from_file("../app.py", default_timeout=60)
    at.run()
    at.switch_page("pages/data.py")
    at.run()
    assert not at.exception, [e.message for e in at.exception]
    assert any(e.label == "Open a registry kept on the server" for e in at.expander)
    offered = next(s for s in at.selectbox if s.label == "File in the server's data directory").options
    assert sorted(offered) == ["registry.parquet", "sub/registry.duckdb"]


def test_duckdb_view_reading_outside_the_directory_is_refused(root) -> None:
    """A view calling read_csv on a file outside the allowed folder must not load it (external
    access is disabled as the connection opens); a view over a stored table still works."""
    outside = root.parent / "outside.csv"
    _demo_cells().to_csv(outside, index=False)
    with duckdb.connect(str(root / "crafted.duckdb")) as con:
        con.execute(f"CREATE VIEW leak AS SELECT * FROM read_csv('{outside}', all_varchar=true)")
        con.execute(f"CREATE VIEW leak_parquet AS SELECT * FROM read_parquet('{root.parent / 'secret.parquet'}')")
        con.register("cells", _demo_cells())
        con.execute("CREATE TABLE patients AS SELECT * FROM cells")
        con.execute("CREATE VIEW recent AS SELECT * FROM patients")
    for view in ("leak", "leak_parquet"):
        with pytest.raises(ServerDataError, match="view that reads files outside the data directory"):
            load_server_file(root, "crafted.duckdb", view)
    assert load_server_file(root, "crafted.duckdb", "patients").n_patients == 300
    assert load_server_file(root, "crafted.duckdb", "recent").n_patients == 300


def test_duckdb_table_over_the_row_limit_is_refused_before_it_is_read(root, monkeypatch) -> None:
    import hcc.ingest.io

    monkeypatch.setattr(hcc.ingest.io, "MAX_ROWS", 100)
    with pytest.raises(HCCError, match="300 rows; the limit is 100"):
        load_server_file(root, "sub/registry.duckdb", "patients")


def test_a_linked_folder_leading_out_is_not_offered(root) -> None:
    os.symlink(root.parent, root / "up")
    assert "up/secret.parquet" not in list_files(root)
    with pytest.raises(ServerDataError):
        resolve(root, "up/secret.parquet")
