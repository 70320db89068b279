"""Property-based tests (hypothesis): the loaders and the validator, fed random bytes and random tables,
either return a result or raise our own error type (HCCError) — never another exception, never a hang."""

from __future__ import annotations

import io

import pandas as pd
from hypothesis import HealthCheck, given, settings, strategies as st

from hcc.errors import HCCError
from hcc.ingest.io import read_table
from hcc.ingest.registry import load_bytes, read_sources
from hcc.schema import COLUMNS

SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
NAMES = st.sampled_from(["r.csv", "r.tsv", "r.xlsx", "r.parquet", "r.sav", "r.dta", "r.txt", "noext"])
PREFIXES = st.sampled_from([b"", b"PK\x03\x04", b"PAR1", b"$FL2", b"<stata_dta>", b"\xef\xbb\xbf",
                            b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"])


@SETTINGS
@given(prefix=PREFIXES, body=st.binary(max_size=2000), name=NAMES)
def test_random_bytes(prefix: bytes, body: bytes, name: str) -> None:
    try:
        raw = read_table(prefix + body, name)
    except HCCError:
        return
    assert len(raw.cells) > 0


CELL = st.one_of(st.sampled_from(["", "SOR", "LEN", "ATZ_BEV", "yes", "no", "○", "2020-01-01", "01/02/2020",
                                  "13/01/2020", "2021/12/31", "PR", "CR", "-1", "1e309", "NaN", "=cmd()",
                                  "Smith, John", "a@b.org"]),
                 st.text(max_size=12))
HEADERS = st.one_of(st.sampled_from([c.name for c in COLUMNS] + ["Regimen", "Start date", "Last follow-up",
                                                                  "Patient ID", "Name", "notes", "DOB"]),
                    st.text(min_size=1, max_size=10))


@st.composite
def tables(draw) -> pd.DataFrame:
    headers = draw(st.lists(HEADERS, min_size=1, max_size=8, unique=True))
    n = draw(st.integers(min_value=1, max_value=6))
    return pd.DataFrame({h: draw(st.lists(CELL, min_size=n, max_size=n)) for h in headers})


@SETTINGS
@given(table=tables(), sep=st.sampled_from([",", ";", "\t"]), encoding=st.sampled_from(["utf-8", "utf-8-sig"]))
def test_random_tables_load_or_explain(table: pd.DataFrame, sep: str, encoding: str) -> None:
    data = table.to_csv(index=False, sep=sep).encode(encoding)
    try:
        registry = load_bytes(data, "random.csv")
    except HCCError as exc:
        assert str(exc)  # a message for the user
        return
    assert registry.n_patients + len(registry.excluded) == registry.rows_read


@settings(max_examples=25, deadline=None)
@given(table=tables())
def test_random_tables_in_excel_and_parquet(table: pd.DataFrame) -> None:
    for name, writer in (("r.xlsx", lambda b: table.to_excel(b, index=False)),
                         ("r.parquet", lambda b: table.astype(str).to_parquet(b, index=False))):
        buf = io.BytesIO()
        writer(buf)
        try:
            read_sources([(name, buf.getvalue())])
        except HCCError:
            pass
