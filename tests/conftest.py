"""Shared test helpers: tiny hand-built registries as CSV bytes, and a printed random seed."""

from __future__ import annotations

import contextlib
import io
import os
import random
import threading
from collections.abc import Iterator

import pandas as pd
import pytest

from hcc.ingest.registry import Registry, load_bytes
from hcc.schema import COLUMNS, Col

SEED = int(os.environ.get("HCC_TEST_SEED", "20261130"))


def pytest_report_header(config) -> str:
    return f"hcc test seed: {SEED} (set HCC_TEST_SEED to change)"


@pytest.fixture(autouse=True)
def _seed() -> None:
    random.seed(SEED)


BASE = {Col.REGIMEN_1L: "SOR", Col.START_1L: "2020-01-01", Col.DATE_LAST_FOLLOWUP: "2021-01-01",
        Col.CONCOMITANT_LRT: "no", Col.INTERLINE_LRT: "no", Col.TRIAL_AFTER_1L: "no"}


def registry_csv(rows: list[dict[str, str]], columns: list[str] | None = None) -> bytes:
    """CSV bytes with every contract column (or ``columns``); unspecified cells from BASE or blank."""
    cols = columns or [c.name for c in COLUMNS]
    records = []
    for i, row in enumerate(rows):
        rec = {c: "" for c in cols}
        rec.update({k: v for k, v in BASE.items() if k in cols})
        rec[Col.PATIENT_ID] = f"P{i + 1:03d}"
        rec.update(row)
        records.append(rec)
    buf = io.StringIO()
    pd.DataFrame(records, columns=cols).to_csv(buf, index=False)
    return buf.getvalue().encode("utf-8")


def make_registry(rows: list[dict[str, str]], name: str = "test.csv") -> Registry:
    """A validated registry from hand-written rows (see :func:`registry_csv`)."""
    return load_bytes(registry_csv(rows), name)


@contextlib.contextmanager
def export_slots_taken() -> Iterator[None]:
    """Inside the block every static-export browser slot of this process (hcc.outputs.export) is held by
    other threads, as when other sessions are exporting; released and joined afterwards."""
    from hcc.outputs import export

    held, release = threading.Barrier(export.MAX_CONCURRENT_EXPORTS + 1), threading.Event()

    def occupy() -> None:
        with export.export_slot():
            held.wait(timeout=10)
            release.wait(timeout=60)

    holders = [threading.Thread(target=occupy) for _ in range(export.MAX_CONCURRENT_EXPORTS)]
    for t in holders:
        t.start()
    held.wait(timeout=10)
    try:
        yield
    finally:
        release.set()
        for t in holders:
            t.join(timeout=60)
