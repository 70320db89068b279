"""Command line: ``python -m hcc analyze --data FILE [--preset full|main] [--spec SPEC.json] [--out F]``
, ``python -m hcc export-r --data FILE --out DIR`` ("Reproduce in R", :mod:`hcc.cli.export_r`)
and ``python -m hcc report --data FILE [--spec S.json] --out report.html|report.pdf|deck.pptx``.

Prints the analysis as JSON (or writes it to ``--out``); on bad input prints one line to stderr and
exits with status 2. Uses the same :mod:`hcc.analysis` functions as the app. ``--lang ja`` (analyze,
report) writes the report, or the JSON's human-readable texts, in Japanese; the help stays English.
"""

from __future__ import annotations

import argparse
import json
import sys

from hcc.cli import common as cli_common

from hcc.cli import export_r as cli_export_r
from hcc.cli import report as cli_report
from hcc.formatting import json_safe
from hcc.errors import HCCError
from hcc.i18n import tr, use_language
from hcc.schema import Endpoint


def _parser() -> argparse.ArgumentParser:
    parser = cli_common.Parser(prog="python -m hcc", description="HCC Outcomes Explorer, headless.")
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("analyze", help="Kaplan–Meier medians and log-rank tests for every endpoint, as JSON")
    cli_common.add_data_and_statistics(run, default_preset="full")
    run.add_argument("--milestones", type=float, nargs="+", default=[6, 12, 18, 24],
                     help="months at which survival rates are reported")
    run.add_argument("--by-2l", dest="by_2l", metavar="REGIMEN",
                     help="also PFS_2L and OS_2L by second-line regimen within this first-line regimen")
    run.add_argument("--stats", choices=("all", "km"), default="all",
                     help="km: only n, events, median (CI) and log-rank per endpoint, as R's survfit + survdiff")
    run.add_argument("--cox", metavar="FORMULA", help="also a multivariable Cox model of --endpoint on the regimen "
                     "and these covariates, e.g. \"age+child_pugh_class+bclc+strata(center)\" (docs/adjusted.md)")
    run.add_argument("--endpoint", choices=[e.value for e in Endpoint], default=Endpoint.OS.value,
                     help="endpoint of --cox and --iptw (default OS)")
    run.add_argument("--iptw", action="store_true", help="also the propensity-weighted comparison (covariates of "
                     "--cox, else age, Child-Pugh class, BCLC, ECOG, AFP, MVI, EHS)")
    run.add_argument("--trim", type=float, nargs=2, metavar=("LOW", "HIGH"),
                     help="with --iptw: truncate the weights at these percentiles, e.g. 1 99")
    run.add_argument("--out", help="write JSON here instead of standard output")
    run.add_argument("--verbose", action="store_true",
                     help="say on standard error which path read the data: the fast path (DuckDB, for a clean CSV "
                          "in the data contract with --stats km) or the full path, and why")
    cli_common.add_language(run, "the JSON's human-readable labels, reasons and notes (its keys stay English)")
    cli_report.add_arguments(sub.add_parser("report", help="HTML report, its PDF, or a PowerPoint deck (by --out)"))
    cli_export_r.add_arguments(sub.add_parser("export-r", help="\"Reproduce in R\": analysis_data.csv, pathway_data.csv, analysis.R "
                                              "and README.txt in the --out folder"))
    return parser


def _analyze(args: argparse.Namespace) -> dict:
    """The ``analyze`` subcommand's JSON object."""
    # imported here, not above: `--help` needs none of it, and `--stats km` none of the Cox models
    from hcc.analysis import adjusted_json, analyze, km_json, result_json  # noqa: PLC0415

    spec = cli_common.cohort_spec(args)
    analysis = cli_common.analysis_spec(args, milestones_months=tuple(args.milestones))
    covariates, center = (), False
    if args.cox:
        from hcc.stats.adjusted import parse_formula  # noqa: PLC0415  (lifelines: only with --cox)

        covariates, center = parse_formula(args.cox)
    if args.stats == "km" and not (args.cox or args.iptw):
        from hcc.engine import columns_read, registry_regimens  # noqa: PLC0415
        from hcc.schema import ENDPOINTS  # noqa: PLC0415

        clean = cli_common.clean_registry(args, columns_read(spec, ENDPOINTS))
        if clean is not None:
            from hcc.analysis import km_json_clean  # noqa: PLC0415

            try:
                cli_common.check_reference(args.reference, registry_regimens(clean))
                return km_json_clean(clean, spec, analysis=analysis)
            finally:
                clean.close()
    registry = cli_common.registry(args)
    if args.stats == "km":
        output = km_json(registry, spec, analysis=analysis)
    else:
        output = result_json(analyze(registry, spec, analysis=analysis, by_second_line_after=args.by_2l))
    if args.cox or args.iptw:
        output.update(adjusted_json(registry, spec, covariates, center, Endpoint(args.endpoint), args.reference,
                                    args.iptw, multivariable=bool(args.cox),
                                    trim=tuple(args.trim) if args.trim else None))
    return output


def _error(message: str) -> int:
    """Print the one line a user sees for bad input (newlines folded) and return status 2."""
    print("error: " + " ".join(message.split()), file=sys.stderr)
    return 2


def main(argv: list[str] | None = None) -> int:
    try:
        args = _parser().parse_args(argv)
    except SystemExit as exc:  # --help (0), or a bad option already reported in one line (2)
        return int(exc.code or 0)
    with use_language(getattr(args, "lang", "en")):
        return _run(args)


def _run(args: argparse.Namespace) -> int:
    """The chosen subcommand, in the language of ``--lang`` (main's)."""
    try:
        if args.command == "export-r":
            cli_export_r.run(args)
            return 0
        if args.out:
            cli_common.check_out(args.out, "report.html" if args.command == "report" else "results.json")
        if args.command == "report":
            cli_common.write_out(args.out, cli_report.run(args))
            return 0
        text = json.dumps(json_safe(_analyze(args)), indent=2, allow_nan=False)
        if args.out:
            cli_common.write_out(args.out, (text + "\n").encode("utf-8"))
        else:
            print(text)
    except (HCCError, ValueError) as exc:
        return _error(str(exc))
    except RecursionError:  # a JSON input nested too deeply for Python's parser
        return _error(tr("an input file is nested too deeply to read; check the --spec and --mapping files"))
    return 0
