"""Speed of the analysis pipeline on synthetic registries: ``python -m benchmarks.run [--sizes ...]``.

Times, as medians of repeated runs, each stage a page rerun goes through: read + validate a CSV
held in memory, apply the main-cohort spec, derive all seven endpoints, and KM + median CI +
log-rank for all seven. Prints a table and writes ``benchmarks/results/latest.json``.
Not a test: numbers depend on the machine (this project's is 2 cores).
"""

from __future__ import annotations

import argparse
import tempfile
import json
import platform
import statistics
import time
from pathlib import Path
from typing import Callable

from hcc.cohort import MAIN, PRESETS, apply_to_registry
from hcc.endpoints import derive
from hcc.registry import load_bytes
from hcc.schema import ENDPOINTS
from hcc.survival import summarize
from hcc.synth import generate, write_csv

OUT = Path(__file__).parent / "results"


def _median_time(fn: Callable[[], object], repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def run(sizes: list[int], repeats: int) -> list[dict]:
    rows = []
    for n in sizes:
        frame = generate(n_patients=n, seed=1)
        with tempfile.TemporaryDirectory() as tmp:  # synthetic data only
            write_csv(frame, Path(tmp) / "bench.csv")
            data = (Path(tmp) / "bench.csv").read_bytes()
        registry = load_bytes(data, "bench.csv")
        cohort = apply_to_registry(registry, PRESETS[MAIN])
        derived = [derive(cohort.frame, e) for e in ENDPOINTS]
        row = {
            "n": n,
            "load_validate_s": _median_time(lambda: load_bytes(data, "bench.csv"), repeats),
            "cohort_s": _median_time(lambda: apply_to_registry(registry, PRESETS[MAIN]), repeats),
            "endpoints_s": _median_time(lambda: [derive(cohort.frame, e) for e in ENDPOINTS], repeats),
            "km_logrank_all_s": _median_time(lambda: [summarize(d, cohort.regimens) for d in derived], repeats),
        }
        rows.append(row)
        print(f"{n:>9,}  " + "  ".join(f"{k} {v:8.3f}" for k, v in row.items() if k != "n"), flush=True)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", type=int, nargs="+", default=[1_000, 10_000, 100_000])
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    rows = run(args.sizes, args.repeats)
    OUT.mkdir(exist_ok=True)
    (OUT / "latest.json").write_text(json.dumps({"machine": platform.platform(), "rows": rows}, indent=2))


if __name__ == "__main__":
    main()
