"""``python -m hcc export-r``: the "Reproduce in R" files of one analysis, written to a folder.

    python -m hcc export-r --data FILE [--mapping M.json] [--preset main|full | --spec S.json]
                           [--ci …] [--tau MONTHS] [--reference REGIMEN] [--adjust …]
                           [--milestones 6 12 18 24] [--cox FORMULA [--endpoint E]] --out DIR

Every option means what it means for ``analyze`` (:mod:`hcc.cli.common`); ``Rscript analysis.R`` in
``DIR`` then writes ``results_r.json`` with the numbers ``analyze`` prints for the same options
(:mod:`hcc.outputs.rscript`).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from hcc.cli import common as cli_common
from hcc.errors import HCCError
from hcc.i18n import tr
from hcc.schema import Endpoint

# The R export (pandas, numpy, the Cox and response code) is imported in run(): `--help` stays light.


def add_arguments(run: argparse.ArgumentParser) -> None:
    """The ``export-r`` subcommand's options (those of ``analyze`` that the R script reproduces)."""
    cli_common.add_data_and_statistics(run, default_preset="full")
    run.add_argument("--milestones", type=float, nargs="+", default=[6, 12, 18, 24],
                     help="months at which survival rates are reported")
    run.add_argument("--cox", metavar="FORMULA", help="also a multivariable Cox model of --endpoint on the regimen "
                     "and these covariates, as for analyze, e.g. \"age+child_pugh_class+bclc+strata(center)\"")
    run.add_argument("--endpoint", choices=[e.value for e in Endpoint], default=Endpoint.OS.value,
                     help="endpoint of --cox (default OS)")
    run.add_argument("--out", required=True, metavar="DIR",
                     help="folder to write the R files into (analysis_data.csv, analysis.R, README.txt, …; "
                     "created if its parent exists)")


def check_folder(path: str) -> Path:
    """``--out DIR``, checked before the analysis runs: a folder, or a new one whose parent exists."""
    out = Path(path)
    if out.exists() and not out.is_dir():
        raise HCCError(tr("--out {path}: this is a file; give a folder for the R files, e.g. {example}", path=path,
                          example=out.parent / "reproduce_in_r"))
    if not out.exists() and not out.parent.is_dir():
        raise HCCError(tr("--out {path}: the folder {folder} does not exist; create it first (mkdir -p {folder}) or "
                          "write to an existing folder", path=path, folder=out.parent))
    return out


def run(args: argparse.Namespace) -> None:
    """Write the export's files (hcc.outputs.rscript.FILES) into ``--out`` (raises HCCError/ValueError on bad input)."""
    from hcc.outputs.rscript import FILES, export_r  # noqa: PLC0415  (lazy: see the imports)
    from hcc.stats.adjusted import CoxSpec, parse_formula  # noqa: PLC0415

    out = check_folder(args.out)
    spec = cli_common.cohort_spec(args)
    analysis = cli_common.analysis_spec(args, milestones_months=tuple(args.milestones))
    cox = None
    if args.cox:
        covariates, center = parse_formula(args.cox)
        cox = CoxSpec(Endpoint(args.endpoint), covariates, args.reference, center)
    registry = cli_common.registry(args)
    export = export_r(registry, spec, analysis, cox=cox)
    try:
        out.mkdir(exist_ok=True)
    except OSError as exc:
        raise HCCError(tr("--out {path}: cannot create the folder ({error}); choose a folder you can write to",
                          path=args.out, error=exc.strerror or type(exc).__name__)) from None
    for name in FILES:
        cli_common.write_out(str(out / name), export.files[name])
