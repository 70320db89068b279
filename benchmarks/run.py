"""Speed of the analysis pipeline beside R: ``python -m benchmarks.run`` (``make bench``).

**Headline (the raw registry file).** For each size n (default 1e4, 1e5, 1e6) a synthetic registry
CSV in the data contract is written once (:mod:`benchmarks.registry`), and each tool is run on that
same file as its own process, timed from outside (``/usr/bin/time``: wall seconds and peak resident
memory), best of ``--repeats`` (default 3), ours and R's alternating in the same run:

- ours: ``python -m hcc analyze --data FILE --preset main --stats km`` (read, map, identifier scan,
  validate, main cohort, seven endpoints, KM + median CI + log-rank);
- R: ``Rscript benchmarks/r_raw.R FILE`` (``data.table::fread``, ``as.IDate`` on the date columns,
  the main-cohort filter, the seven endpoints derived as :func:`hcc.cohort.endpoints.derive` does,
  ``survfit(conf.type = "log-log")`` + ``quantile`` + ``survdiff`` per endpoint);
- DuckDB: ``python -m benchmarks.engine_child`` on the same registry as canonical Parquet
  (:mod:`hcc.engine`, one SQL query per endpoint).

Every number of the three (n, events, median and its CI, log-rank chi-square per endpoint and
regimen) is checked equal to R's to ``MAX_REL_DIFF`` (1e-9); the run stops otherwise. The 10M row
(``--engine-n``, default 1e7; 0 to skip) runs only the DuckDB process, on a Parquet file written
block by block.

**Second column (the derived file)**: the earlier comparison, kept and labelled as such — the seven
endpoints' (endpoint, group, days, status) rows written once to CSV, then R ``fread`` + the same
statistics (``benchmarks/r_km.R``) beside pandas ``read_csv`` + our KM of that file, in-process.

**Stages (where our time goes)**, in-process, median of the repeats: reading the file
(:func:`hcc.ingest.io.read_table`), mapping + identifier scan + validation
(:func:`hcc.ingest.registry.from_raw`), cohort, derivation, KM + log-rank, the full summary, the
time-dependent Cox model, the Survival page rerun in AppTest after a cohort-rule change, and the cold
start of the CLI (``python -m hcc analyze --help``).

Prints the tables and writes ``benchmarks/results/latest.json``. Not a test: numbers depend on the
machine (this project's is 2 cores shared with other work). Synthetic data only; files under a
temporary folder (``--tmp``, default the system's) are deleted at the end.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Callable

import numpy as np
import pandas as pd

from benchmarks.registry import write_registry_csv, write_registry_parquet
from hcc.cohort.endpoints import EndpointData, derive
from hcc.cohort.rules import MAIN, PRESETS, apply_to_registry
from hcc.ingest.io import read_path
from hcc.ingest.registry import from_raw, load_path
from hcc.schema import DAYS_PER_MONTH, SURVIVAL_ENDPOINTS, Col
from hcc.stats.survival import summarize

OUT = Path(__file__).parent / "results"
R_RAW = Path(__file__).parent / "r_raw.R"
R_DERIVED = Path(__file__).parent / "r_km.R"
ROOT = Path(__file__).resolve().parent.parent
#: Largest relative difference allowed between R's numbers and ours (medians, CI limits, chi-squares).
MAX_REL_DIFF = 1e-9
TIME = "/usr/bin/time"
STAGES = ("read", "validate", "cohort", "derive", "km_logrank", "km_full", "td_cox", "page_rerun", "cli_help")


def _median_time(fn: Callable[[], object], repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def timed_process(cmd: list[str], *, cwd: Path = ROOT) -> tuple[float, float, str]:
    """Run ``cmd`` once; (wall seconds, peak resident memory in MiB, stdout). Measured by
    ``/usr/bin/time`` when installed (else wall clock and ``getrusage`` of the finished child)."""
    if Path(TIME).exists():
        with tempfile.NamedTemporaryFile("r", suffix=".time") as report:
            proc = subprocess.run([TIME, "-f", "%e %M", "-o", report.name, *cmd], cwd=cwd,
                                  capture_output=True, text=True)
            _check(proc, cmd)
            seconds, kib = report.read().split()[-2:]
        return float(seconds), int(kib) / 1024, proc.stdout
    import resource

    start = time.perf_counter()
    proc = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True)
    _check(proc, cmd)
    return time.perf_counter() - start, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024, proc.stdout


def _check(proc: subprocess.CompletedProcess, cmd: list[str]) -> None:
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed ({proc.returncode}): {proc.stderr[-2000:]}")


def _best(runs: list[tuple[float, float, str]]) -> dict:
    """Best (shortest) of the runs, with the largest peak memory seen over all of them."""
    best = min(runs, key=lambda r: r[0])
    return {"s": best[0], "all_s": [r[0] for r in runs], "peak_mib": max(r[1] for r in runs), "stdout": best[2]}


def registry_bytes(n: int, seed: int = 1) -> bytes:
    """The raw registry CSV of ``n`` patients (:mod:`benchmarks.registry`) as bytes (tests build large
    files from it)."""
    with tempfile.TemporaryDirectory() as tmp:  # synthetic data only
        return write_registry_csv(n, Path(tmp) / "registry.csv", seed).read_bytes()


def ours_km(csv: Path, out: Path) -> list[str]:
    return [sys.executable, "-m", "hcc", "analyze", "--data", str(csv), "--preset", MAIN, "--stats", "km",
            "--out", str(out)]


def rows_of_json(path: Path) -> list[dict]:
    """The CLI's ``--stats km`` JSON as rows (endpoint, group, n, events, median/lower/upper in days, chisq)."""
    data = json.loads(path.read_text())
    rows = []
    for name, e in data["endpoints"].items():
        for group, g in e["groups"].items():
            days = [np.nan if v is None else v * DAYS_PER_MONTH for v in (g["median"], *g["median_ci"])]
            rows.append({"endpoint": name, "group": group, "n": g["n"], "events": g["events"],
                         "median": days[0], "lower": days[1], "upper": days[2],
                         "chisq": np.nan if e["logrank"] is None else e["logrank"]["statistic"]})
    return rows


def max_rel_diff(r: pd.DataFrame, ours: list[dict]) -> float:
    """Largest relative difference between R's rows and ours over R's endpoints and every regimen (counts
    must be equal; a median R reports as NA must be missing in ours too). Raises if a row is absent."""
    endpoints = set(r["endpoint"])  # the seven Survival-page endpoints (the CLI also reports PFS2 and TTNT)
    by_key = {(o["endpoint"], str(o["group"])): o for o in ours if o["endpoint"] in endpoints}
    if len(by_key) != len(r):
        raise RuntimeError(f"R has {len(r)} endpoint x regimen rows, ours {len(by_key)}")
    worst = 0.0
    for row in r.to_dict("records"):
        o = by_key[(row["endpoint"], str(row["group"]))]
        if int(o["n"]) != int(row["n"]) or int(o["events"]) != int(row["events"]):
            raise RuntimeError(f"{row['endpoint']} {row['group']}: n/events {o['n']}/{o['events']} vs R "
                               f"{row['n']}/{row['events']}")
        for key in ("median", "lower", "upper", "chisq"):
            a, b = float(o[key] if o[key] is not None else np.nan), float(row[key])
            if np.isnan(a) or np.isnan(b):
                if np.isnan(a) != np.isnan(b):
                    raise RuntimeError(f"{row['endpoint']} {row['group']} {key}: {a} vs R {b}")
                continue
            worst = max(worst, abs(a - b) / max(abs(b), 1e-300))
    return worst


def _key_values(stdout: str) -> dict:
    out = {}
    for line in stdout.splitlines():
        key, _, value = line.strip().partition(" ")
        if key:
            out[key] = float(value) if key.endswith("_s") else value.strip()
    return out


def headline(n: int, tmp: Path, repeats: int, r: bool) -> dict:
    """Ours, R and DuckDB on the same raw registry of ``n`` patients (and its Parquet), best of ``repeats``."""
    csv, parquet = tmp / f"registry_{n}.csv", tmp / f"registry_{n}.parquet"
    write_registry_csv(n, csv)
    write_registry_parquet(n, parquet)
    row: dict = {"n": n, "csv_mib": csv.stat().st_size / 2**20}
    ours_out, r_out, duck_out = tmp / "ours.json", tmp / "r.csv", tmp / "duck.json"
    ours_runs, r_runs, duck_runs = [], [], []
    for _ in range(repeats):  # alternating, so that load from other work hits both sides alike
        ours_runs.append(timed_process(ours_km(csv, ours_out)))
        if r:
            r_runs.append(timed_process(["Rscript", str(R_RAW), str(csv), str(r_out)]))
        duck_runs.append(timed_process([sys.executable, "-m", "benchmarks.engine_child", str(parquet),
                                        str(duck_out)]))
    ours = _best(ours_runs)
    row["ours_raw_s"], row["ours_raw_all_s"], row["ours_peak_mib"] = ours["s"], ours["all_s"], ours["peak_mib"]
    duck = _best(duck_runs)
    row["duckdb_s"], row["duckdb_all_s"], row["duckdb_peak_mib"] = duck["s"], duck["all_s"], duck["peak_mib"]
    if r:
        rr = _best(r_runs)
        row["r_raw_s"], row["r_raw_all_s"], row["r_peak_mib"] = rr["s"], rr["all_s"], rr["peak_mib"]
        row.update({k: v for k, v in _key_values(rr["stdout"]).items()})
        reference = pd.read_csv(r_out, dtype={"group": str})
        row["ours_vs_r_max_rel_diff"] = max_rel_diff(reference, rows_of_json(ours_out))
        row["duckdb_vs_r_max_rel_diff"] = max_rel_diff(reference, json.loads(duck_out.read_text()))
        worst = max(row["ours_vs_r_max_rel_diff"], row["duckdb_vs_r_max_rel_diff"])
        if worst > MAX_REL_DIFF:
            raise RuntimeError(f"n = {n}: results differ from R by {worst:.3g} (relative) > {MAX_REL_DIFF}")
        row["r_ratio_raw"] = row["r_raw_s"] / row["ours_raw_s"]
    parquet.unlink()
    return row


def engine_row(n: int, tmp: Path, repeats: int) -> dict:
    """The DuckDB process alone on an ``n``-patient canonical Parquet registry (the 10M row)."""
    parquet, out = tmp / f"registry_{n}.parquet", tmp / "duck.json"
    write_registry_parquet(n, parquet)
    runs = [timed_process([sys.executable, "-m", "benchmarks.engine_child", str(parquet), str(out)])
            for _ in range(repeats)]
    best = _best(runs)
    row = {"n": n, "parquet_mib": parquet.stat().st_size / 2**20, "duckdb_s": best["s"],
           "duckdb_all_s": best["all_s"], "duckdb_peak_mib": best["peak_mib"]}
    parquet.unlink()
    return row


def _km_all(derived: list[EndpointData], groups: tuple[str, ...], comparisons: bool) -> list:
    return [summarize(d, groups, comparisons=comparisons) for d in derived]


def page_rerun(registry, repeats: int) -> float:
    """Median server-side rerun of the Survival page after a cohort-rule change, in AppTest."""
    from streamlit.testing.v1 import AppTest

    from ui.keys import StateKeys

    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=600)
    at.session_state[StateKeys.REGISTRY] = registry
    at.run()
    at.switch_page("pages/survival.py")
    at.run()
    times = []
    for i in range(repeats + 1):  # the first change also warms the page's imports: not counted
        at.number_input(key=StateKeys.COHORT + "age_min").set_value(20.0 + i)
        start = time.perf_counter()
        at.run()
        times.append(time.perf_counter() - start)
        if at.exception:
            raise RuntimeError(f"the Survival page failed: {at.exception[0].message}")
    return statistics.median(times[1:])


def endpoints_csv(derived: list[EndpointData], path: Path) -> None:
    """One row per patient and endpoint: endpoint, group, time (days), status — R's input."""
    frames = [pd.DataFrame({"endpoint": d.endpoint.value, "group": d.group, "time": d.days.astype(int),
                            "status": d.event.astype(int)}) for d in derived]
    pd.concat(frames).to_csv(path, index=False)


def derived_file(derived: list[EndpointData], groups: tuple[str, ...], repeats: int, r: bool) -> dict:
    """The second, labelled comparison: R (fread + survfit/quantile/survdiff, ``r_km.R``) and pandas
    ``read_csv`` + our KM on the same already-derived endpoint CSV (median of ``repeats``)."""
    out: dict = {}
    with tempfile.TemporaryDirectory() as tmp:
        csv, r_out = Path(tmp) / "endpoints.csv", Path(tmp) / "r_out.csv"
        endpoints_csv(derived, csv)

        def ours() -> list[dict]:
            table = pd.read_csv(csv, dtype={"endpoint": str, "group": str})
            rows = []
            for d in derived:
                part = table[table["endpoint"] == d.endpoint.value]
                s = summarize(EndpointData(d.endpoint, np.arange(len(part)), part["group"].to_numpy(object),
                                           part["time"].to_numpy(float), part["status"].to_numpy(bool), {},
                                           d.excluded), groups, comparisons=False)
                rows += [{"endpoint": d.endpoint.value, "group": g.group, "n": g.n, "events": g.events,
                          "median": g.median * DAYS_PER_MONTH, "lower": g.median_low * DAYS_PER_MONTH,
                          "upper": g.median_high * DAYS_PER_MONTH, "chisq": s.logrank.statistic} for g in s.groups]
            return rows

        out["ours_derived_s"] = _median_time(ours, repeats)
        if not r:
            return out
        proc = subprocess.run(["Rscript", str(R_DERIVED), str(csv), str(repeats), str(r_out)],
                              capture_output=True, text=True, check=True)
        got = _key_values(proc.stdout)
        out["r_derived_s"] = got["r_read_s"] + got["r_stats_s"]
        out["derived_max_rel_diff"] = max_rel_diff(pd.read_csv(r_out, dtype={"group": str}), ours())
        if out["derived_max_rel_diff"] > MAX_REL_DIFF:
            raise RuntimeError(f"derived file: results differ from R by {out['derived_max_rel_diff']:.3g}")
        out["r_ratio_derived"] = out["r_derived_s"] / out["ours_derived_s"]
    return out


def stages(n: int, tmp: Path, repeats: int, r: bool, page: bool, td_cox_max: int) -> dict:
    """In-process stage timings of our pipeline on the registry CSV of ``n`` patients (main cohort)."""
    from hcc.stats.tdcox import time_dependent_cox

    csv = tmp / f"registry_{n}.csv"
    if not csv.exists():
        write_registry_csv(n, csv)
    registry = load_path(csv)
    cohort = apply_to_registry(registry, PRESETS[MAIN])
    derived = [derive(cohort.frame, e) for e in SURVIVAL_ENDPOINTS]
    row: dict = {"cohort_n": cohort.n}
    raw = read_path(csv)
    row["read_s"] = _median_time(lambda: read_path(csv), repeats)
    row["validate_s"] = _median_time(lambda: from_raw(raw), repeats)
    row["cohort_s"] = _median_time(lambda: apply_to_registry(registry, PRESETS[MAIN]), repeats)
    row["derive_s"] = _median_time(lambda: [derive(cohort.frame, e) for e in SURVIVAL_ENDPOINTS], repeats)
    row["km_logrank_s"] = _median_time(lambda: _km_all(derived, cohort.regimens, False), repeats)
    row["km_full_s"] = _median_time(lambda: _km_all(derived, cohort.regimens, True), repeats)
    if n <= td_cox_max:
        row["td_cox_s"] = _median_time(
            lambda: time_dependent_cox(cohort.frame, Col.DATE_DC_1L, regimen_as="stratum"), repeats)
    if page:
        row["page_rerun_s"] = page_rerun(registry, repeats)
    row["cli_help_s"] = min(timed_process([sys.executable, "-m", "hcc", "analyze", "--help"])[0]
                            for _ in range(repeats))
    row.update(derived_file(derived, cohort.regimens, repeats, r))
    return row


def _cell(row: dict, key: str, fmt: str = "8.2f") -> str:
    value = row.get(key)
    return f"{value:{fmt}}" if isinstance(value, (int, float)) else f"{'—':>{len(format(0.0, fmt))}}"


HEADLINE = ("| n | ours, raw CSV (s) | R, raw CSV (s) | **R ÷ ours (raw file)** | ours peak (MiB) | R peak (MiB) "
            "| DuckDB/Parquet (s) | DuckDB peak (MiB) | max rel. diff vs R | ours, derived file (s) | "
            "R, derived file (s) | R ÷ ours (derived file) |")


def _ratio(row: dict, key: str) -> str:
    return f"{row[key]:.2f}×" if key in row else "—"


def format_headline(row: dict) -> str:
    diff = max(row.get("ours_vs_r_max_rel_diff", np.nan), row.get("duckdb_vs_r_max_rel_diff", np.nan))
    cells = [f"{row['n']:,}", _cell(row, "ours_raw_s"), _cell(row, "r_raw_s"), _ratio(row, "r_ratio_raw"),
             _cell(row, "ours_peak_mib", "6.0f"), _cell(row, "r_peak_mib", "6.0f"), _cell(row, "duckdb_s"),
             _cell(row, "duckdb_peak_mib", "6.0f"), f"{diff:.1e}" if diff == diff else "—",
             _cell(row, "ours_derived_s", "8.3f"), _cell(row, "r_derived_s", "8.3f"),
             _ratio(row, "r_ratio_derived")]
    return "| " + " | ".join(c.strip() for c in cells) + " |"


def format_stages(row: dict) -> str:
    return "| " + " | ".join([f"{row['n']:,}"] + [_cell(row, k + "_s", "8.3f").strip() for k in STAGES]) + " |"


def machine() -> dict:
    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.processor()) if Path("/proc/cpuinfo").exists() else ""
    load = os.getloadavg() if hasattr(os, "getloadavg") else None
    return {"platform": platform.platform(), "python": platform.python_version(), "cpus": os.cpu_count(),
            "cpu": cpu, "loadavg_at_end": load}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.run", description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    parser.add_argument("--repeats", type=int, default=3, help="runs per measurement (best of, for processes)")
    parser.add_argument("--engine-n", type=int, default=10_000_000, help="the DuckDB-only row (0: skip)")
    parser.add_argument("--no-r", action="store_true", help="skip R (no ratios, no cross-check)")
    parser.add_argument("--no-stages", action="store_true", help="skip the in-process stage table")
    parser.add_argument("--no-page", action="store_true", help="skip the AppTest page rerun")
    parser.add_argument("--td-cox-max", type=int, default=100_000, help="largest n for the time-dependent Cox stage")
    parser.add_argument("--tmp", default=None, help="folder for the generated registries (default: system temp)")
    parser.add_argument("--out", default=str(OUT / "latest.json"))
    args = parser.parse_args(argv)
    r = not args.no_r and shutil.which("Rscript") is not None
    print(f"best of {args.repeats}; {os.cpu_count()} CPUs; R {'on' if r else 'off'}", flush=True)
    rows, stage_rows = [], []
    with tempfile.TemporaryDirectory(dir=args.tmp) as folder:  # synthetic data only
        tmp = Path(folder)
        print(HEADLINE, flush=True)
        for n in args.sizes:
            row = headline(n, tmp, args.repeats, r)
            if not args.no_stages:
                stage = {"n": n, **stages(n, tmp, args.repeats, r, not args.no_page, args.td_cox_max)}
                row.update({k: v for k, v in stage.items() if k in ("ours_derived_s", "r_derived_s",
                                                                      "r_ratio_derived", "derived_max_rel_diff")})
                stage_rows.append(stage)
            (tmp / f"registry_{n}.csv").unlink(missing_ok=True)
            rows.append(row)
            print(format_headline(row), flush=True)
        if args.engine_n:
            row = engine_row(args.engine_n, tmp, args.repeats)
            rows.append(row)
            print(format_headline(row), flush=True)
    if stage_rows:
        print("\n| n | " + " | ".join(STAGES) + " |")
        for stage in stage_rows:
            print(format_stages(stage))
    Path(args.out).parent.mkdir(exist_ok=True)
    Path(args.out).write_text(json.dumps({"machine": machine(), "rows": rows, "stages": stage_rows}, indent=2,
                                         default=float) + "\n")


if __name__ == "__main__":
    main()
