"""One timed process of the benchmark's DuckDB row: ``python -m benchmarks.engine_child REGISTRY.parquet OUT.json``.

Opens the canonical Parquet registry in embedded DuckDB (:class:`hcc.engine.DuckDBEngine`), applies the
main cohort and summarises the seven Survival-page endpoints (KM n, events, median with log-log CI,
log-rank) in SQL: only the risk-set counts (regimen x distinct day) reach Python, never patient rows.
Writes per endpoint and regimen n, events, median (days) and CI, and the log-rank chi-square to
``OUT.json`` for the cross-check against R. The caller times the whole process (imports included) and
reads its peak memory.
"""

from __future__ import annotations

import json
import sys

from hcc.cohort.rules import MAIN, PRESETS
from hcc.engine import DuckDBEngine, cohort, summarize_endpoints
from hcc.schema import DAYS_PER_MONTH, SURVIVAL_ENDPOINTS


def main(path: str, out: str) -> None:
    engine = DuckDBEngine(path)
    c = cohort(engine, PRESETS[MAIN])
    rows = []
    for e, s in summarize_endpoints(engine, c, SURVIVAL_ENDPOINTS, comparisons=False).items():
        for g in s.groups:
            rows.append({"endpoint": e.value, "group": g.group, "n": g.n, "events": g.events,
                         "median": g.median * DAYS_PER_MONTH, "lower": g.median_low * DAYS_PER_MONTH,
                         "upper": g.median_high * DAYS_PER_MONTH,
                         "chisq": None if s.logrank is None else s.logrank.statistic})
    engine.close()
    with open(out, "w", encoding="utf-8") as handle:
        json.dump(rows, handle)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
