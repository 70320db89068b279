"""First run of each analysis page at one size, server side, in AppTest:
``python -m benchmarks.pages --csv /tmp/reg1m.csv`` (or ``--n 1000000`` to make the registry).

One session: the registry CSV (:mod:`benchmarks.registry`) is given to the Data page's uploader, the
Overview page is opened (imports and the sidebar's main cohort), then each page of ``--pages`` once,
in order: the seconds of its first run (its analyses for this cohort, nothing from the session memo
but the cohort). ``--profile PAGE`` prints where that page's first run spends its time (cProfile,
cumulative). ``--root`` runs another checkout's app (e.g. the main branch, for a before/after pair).
Synthetic data only; nothing is written to disk.
"""

from __future__ import annotations

import argparse
import cProfile
import json
import pstats
import sys
import threading
import time
from pathlib import Path

from streamlit.testing.v1 import AppTest

ROOT = Path(__file__).resolve().parent.parent
PAGES = ("cohort", "response", "secondline", "adjusted", "export")


def _run(at: AppTest, profile: cProfile.Profile | None = None) -> float:
    def enable_in_script_thread(*_) -> None:  # AppTest runs the page in a thread of its own
        sys.setprofile(None)
        profile.enable()

    start = time.perf_counter()
    if profile is not None:
        threading.setprofile(enable_in_script_thread)
    try:
        at.run()
    finally:
        threading.setprofile(None)
    seconds = time.perf_counter() - start
    if at.exception:
        raise RuntimeError(at.exception[0].message)
    return seconds


def measure(data: bytes, root: Path, pages: list[str], profile_page: str | None, lines: int = 40) -> dict:
    sys.path.insert(0, str(root))
    from ui.keys import StateKeys

    at = AppTest.from_file(str(root / "app.py"), default_timeout=1800)
    _run(at)
    at.switch_page("pages/data.py")
    _run(at)
    at.file_uploader(key=f"{StateKeys.UPLOAD}_0").set_value(("registry.csv", data, "text/csv"))
    row: dict = {"root": str(root), "upload_s": _run(at)}
    at.switch_page("pages/overview.py")
    row["overview_s"] = _run(at)
    for page in pages:
        at.switch_page(f"pages/{page}.py")
        profile = cProfile.Profile() if page == profile_page else None
        row[f"{page}_s"] = _run(at, profile)
        print(page, round(row[f"{page}_s"], 2), file=sys.stderr, flush=True)
        if profile is not None:
            pstats.Stats(profile, stream=sys.stderr).sort_stats("cumulative").print_stats(lines)
    return row


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.pages", description=__doc__.split("\n")[0])
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--csv", help="a registry CSV (e.g. from python -m benchmarks.registry)")
    source.add_argument("--n", type=int, help="make a registry of N patients (benchmarks.registry)")
    parser.add_argument("--pages", nargs="+", default=list(PAGES), choices=PAGES)
    parser.add_argument("--profile", choices=PAGES, default=None)
    parser.add_argument("--lines", type=int, default=40, help="lines of the profile printed")
    parser.add_argument("--root", type=Path, default=ROOT, help="the checkout whose app.py runs")
    args = parser.parse_args(argv)
    if args.csv:
        data = Path(args.csv).read_bytes()
    else:
        from benchmarks.app_targets import _registry_bytes
        data = _registry_bytes(args.n)
    print(json.dumps(measure(data, args.root.resolve(), args.pages, args.profile, args.lines), indent=2))


if __name__ == "__main__":
    main()
