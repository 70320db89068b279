"""Command line: ``python -m hcc analyze --data FILE [--preset full|main] [--spec SPEC.json] [--out F]``.

Prints the analysis as JSON (or writes it to ``--out``); on bad input prints one line to stderr and
exits with status 2. Uses the same :mod:`hcc.analysis` functions as the app.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from hcc.analysis import analyze, result_json
from hcc.cohort import PRESETS, CohortSpec
from hcc.errors import HCCError
from hcc.registry import load_path
from hcc.survival import CONF_TYPES


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m hcc", description="HCC Outcomes Explorer, headless.")
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("analyze", help="Kaplan–Meier medians and log-rank tests for every endpoint, as JSON")
    run.add_argument("--data", required=True, help="registry CSV following docs/data-format.md")
    run.add_argument("--preset", choices=sorted(PRESETS), default="full",
                     help="cohort preset: full (no exclusions) or main (the study's three exclusions)")
    run.add_argument("--spec", help="cohort spec JSON (overrides --preset); see docs/cohort-spec.md")
    run.add_argument("--ci", choices=CONF_TYPES, default="log-log", help="CI transformation of the curve")
    run.add_argument("--out", help="write JSON here instead of standard output")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        spec = PRESETS[args.preset]
        if args.spec:
            try:
                text = Path(args.spec).read_text(encoding="utf-8")
            except OSError as exc:
                raise HCCError(f"{args.spec}: cannot open the spec file ({exc.strerror})") from None
            spec = CohortSpec.from_json(text)
        result = analyze(load_path(args.data), spec, conf_type=args.ci)
    except HCCError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    text = json.dumps(result_json(result), indent=2, allow_nan=False)
    if args.out:
        Path(args.out).write_text(text + "\n", encoding="utf-8")
    else:
        print(text)
    return 0
