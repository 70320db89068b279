"""Command line: ``python -m hcc analyze --data FILE [--preset full|main] [--spec SPEC.json] [--out F]``.

Prints the analysis as JSON (or writes it to ``--out``); on bad input prints one line to stderr and
exits with status 2. Uses the same :mod:`hcc.analysis` functions as the app.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from hcc.analysis import analyze, json_safe, result_json
from hcc.cohort import PRESETS, CohortSpec
from hcc.errors import HCCError
from hcc.registry import load_path
from hcc.survival import ADJUSTMENTS, CONF_TYPES, AnalysisSpec


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m hcc", description="HCC Outcomes Explorer, headless.")
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("analyze", help="Kaplan–Meier medians and log-rank tests for every endpoint, as JSON")
    run.add_argument("--data", required=True, help="registry CSV following docs/data-format.md")
    run.add_argument("--preset", choices=sorted(PRESETS), default="full",
                     help="cohort preset: full (no exclusions) or main (the study's three exclusions)")
    run.add_argument("--spec", help="cohort spec JSON (overrides --preset); see docs/cohort-spec.md")
    run.add_argument("--ci", choices=CONF_TYPES, default="log-log", help="CI transformation of the curve")
    run.add_argument("--tau", type=float, help="RMST horizon in months (default: shortest follow-up among regimens)")
    run.add_argument("--reference", help="regimen the hazard ratios and RMST differences are against")
    run.add_argument("--adjust", choices=ADJUSTMENTS, default="holm", help="pairwise p-value adjustment")
    run.add_argument("--milestones", type=float, nargs="+", default=[6, 12, 18, 24],
                     help="months at which survival rates are reported")
    run.add_argument("--by-2l", dest="by_2l", metavar="REGIMEN",
                     help="also PFS_2L and OS_2L by second-line regimen within this first-line regimen")
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
        analysis = AnalysisSpec(conf_type=args.ci, tau_months=args.tau, reference=args.reference,
                                adjust=args.adjust, milestones_months=tuple(args.milestones))
        registry = load_path(args.data)
        if args.reference and args.reference not in registry.regimens:
            raise HCCError(f"--reference {args.reference}: no such regimen (the file has "
                           f"{', '.join(registry.regimens)})")
        result = analyze(registry, spec, analysis=analysis, by_second_line_after=args.by_2l)
    except (HCCError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    text = json.dumps(json_safe(result_json(result)), indent=2, allow_nan=False)
    if args.out:
        Path(args.out).write_text(text + "\n", encoding="utf-8")
    else:
        print(text)
    return 0
