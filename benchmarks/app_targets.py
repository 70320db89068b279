"""The app's targets at one size, server side, in AppTest: ``python -m benchmarks.app_targets --n 1000000``.

One process (so that its peak memory is one session's):

1. **upload to first KM**: the registry CSV (:mod:`benchmarks.registry`) given to the Data page's
   uploader (read, map, identifier scan, validate), then the Survival page's first run (cohort,
   seven endpoints, the KM figure of OS): seconds of server time, each part separately;
2. **cohort-rule change**: the Survival page rerun after a new lower age limit, median of
   ``--repeats`` (a new limit each time, so nothing comes from the session memo);
3. **peak memory** of the process (``ru_maxrss``), and its resident memory after start-up and imports
   (before the upload), after the upload and after the first Survival page, so that what the session
   adds at each step can be read off. The registry file is made in a child process, so the peak is the
   app's alone (plus the test's copy of the file's bytes).

Each part also reports the process's CPU seconds (``*_cpu_s``, every thread): on a shared machine the
comparable figure when wall times vary with other work (``--load`` prints the load average).

AppTest runs the scripts as the server does, without a browser or websocket: the times are the
server's share of what a user waits for. Synthetic data only; nothing is written to disk.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from streamlit.testing.v1 import AppTest

from ui.keys import StateKeys

ROOT = Path(__file__).resolve().parent.parent


def _rss_mib() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


_CPU: dict[int, float] = {}  # the process's CPU seconds (every thread) of each run, by its AppTest's id


def _run(at: AppTest) -> float:
    start, cpu = time.perf_counter(), time.process_time()
    at.run()
    seconds = time.perf_counter() - start
    _CPU[id(at)] = time.process_time() - cpu
    if at.exception:
        raise RuntimeError(at.exception[0].message)
    return seconds


def _registry_bytes(n: int) -> bytes:
    """The synthetic registry CSV (:mod:`benchmarks.registry`), made in a child process: the generator's
    own peak (~1.7 GB at 1M, a pandas frame of the whole registry) is not the app's."""
    with tempfile.TemporaryDirectory() as tmp:  # synthetic data only
        path = Path(tmp) / "registry.csv"
        subprocess.run([sys.executable, "-m", "benchmarks.registry", "--n", str(n), "--out", str(path)],
                       cwd=ROOT, check=True, capture_output=True)
        return path.read_bytes()


def measure(n: int, repeats: int, csv: Path | None = None) -> dict:
    data = csv.read_bytes() if csv else _registry_bytes(n)
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=1800)
    _run(at)
    at.switch_page("pages/data.py")
    _run(at)
    row: dict = {"n": n, "csv_mib": len(data) / 2**20, "rss_before_upload_mib": _rss_mib()}
    at.file_uploader(key=f"{StateKeys.UPLOAD}_0").set_value(("registry.csv", data, "text/csv"))
    row["upload_s"] = _run(at)
    row["upload_cpu_s"] = _CPU[id(at)]
    row["rss_after_upload_mib"] = _rss_mib()
    registry = at.session_state[StateKeys.REGISTRY]
    if registry.n_patients != n:
        raise RuntimeError(f"{registry.n_patients} patients loaded, expected {n}")
    at.switch_page("pages/survival.py")
    row["first_km_s"] = _run(at)
    row["first_km_cpu_s"] = _CPU[id(at)]
    if not at.get("plotly_chart"):
        raise RuntimeError("the Survival page drew no figure")
    row["upload_to_first_km_s"] = row["upload_s"] + row["first_km_s"]
    row["upload_to_first_km_cpu_s"] = row["upload_cpu_s"] + row["first_km_cpu_s"]
    row["rss_after_first_km_mib"] = _rss_mib()
    row["peak_rss_to_first_km_mib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    changes = []
    for i in range(repeats + 1):  # the first change also warms imports: not counted
        at.number_input(key=StateKeys.COHORT + "age_min").set_value(20.0 + i)
        changes.append(_run(at))
    row["rule_change_s"] = statistics.median(changes[1:])
    row["rule_change_all_s"] = changes[1:]
    row["peak_rss_mib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    row["rss_end_mib"] = _rss_mib()
    return row


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.app_targets", description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, default=1_000_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--csv", type=Path, default=None,
                        help="a registry CSV made before (python -m benchmarks.registry) instead of a new one; "
                             "--n is then its number of patients")
    parser.add_argument("--load", action="store_true", help="also print the load average before and after")
    args = parser.parse_args(argv)
    load = os.getloadavg() if args.load else None
    row = measure(args.n, args.repeats, args.csv)
    if load is not None:
        row["load_average_before_after"] = [round(load[0], 2), round(os.getloadavg()[0], 2)]
    print(json.dumps(row, indent=2))


if __name__ == "__main__":
    main()
