"""``python -m hcc report``: the app's report from the command line, for batch use and archiving.

    python -m hcc report --data FILE [--mapping M.json] [--spec S.json | --preset main]
                         [--figures OS PFS ...] [--no-trials] [--lang en|ja]
                         --out report.html|report.pdf|deck.pptx

The output's suffix chooses the rendering (:mod:`hcc.outputs.reports`). The numbers are those of
``python -m hcc analyze`` with the same data, spec and settings (the HTML embeds that JSON).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from hcc.cli import common as cli_common
from hcc.errors import HCCError
from hcc.i18n import tr
from hcc.schema import SURVIVAL_ENDPOINTS, Endpoint

SUFFIXES: tuple[str, ...] = (".html", ".pdf", ".pptx")


def add_arguments(run: argparse.ArgumentParser) -> None:
    """The ``report`` subcommand's options."""
    cli_common.add_data_and_statistics(run, default_preset="main")
    run.add_argument("--figures", nargs="+", choices=[e.value for e in SURVIVAL_ENDPOINTS],
                     help="endpoints drawn as KM figures (default: the report's, OS and PFS)")
    run.add_argument("--no-trials", dest="trials", action="store_false",
                     help="do not mark the landmark trials' medians on the KM figures")
    run.add_argument("--out", required=True, help="report.html, report.pdf or deck.pptx")
    cli_common.add_language(run, "the whole report: headings, tables, figures, methods paragraph, notes")


def run(args: argparse.Namespace) -> bytes:
    """Build the report the arguments ask for; returns the file's bytes (raises HCCError/ValueError)."""
    # the analysis and the renderers (plotly, kaleido, python-pptx) only when a report is made
    from hcc.analysis import analyze  # noqa: PLC0415
    from hcc.outputs.figures import KMFigureOptions  # noqa: PLC0415
    from hcc.outputs.reports import (DEFAULT_FIGURE_ENDPOINTS, adjusted_parts, build_report, report_html,  # noqa: PLC0415
                                     report_pdf, report_pptx)

    out = Path(args.out)
    if out.suffix.lower() not in SUFFIXES:
        raise HCCError(tr("--out {path}: the file name must end in {suffixes}", path=args.out,
                          suffixes=", ".join(SUFFIXES)))
    spec = cli_common.cohort_spec(args)
    registry = cli_common.registry(args)
    analysis = cli_common.analysis_spec(args)
    result = analyze(registry, spec, analysis=analysis)
    figures = tuple(Endpoint(e) for e in args.figures) if args.figures else DEFAULT_FIGURE_ENDPOINTS
    report = build_report(result, figures, KMFigureOptions(trial_medians=args.trials),
                          adjusted=adjusted_parts(result.cohort))
    suffix = out.suffix.lower()
    if suffix == ".html":
        return report_html(report).encode("utf-8")
    return report_pdf(report) if suffix == ".pdf" else report_pptx(report)
