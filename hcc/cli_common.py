"""What the ``analyze`` and ``report`` subcommands share: the data, mapping, cohort and statistics options,
and turning them into a registry, a cohort spec and an analysis spec (one-line errors as HCCError)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from hcc.cohort import PRESETS, CohortSpec
from hcc.errors import HCCError
from hcc.mapping import Mapping
from hcc.registry import Registry, load_files, mapping_notes
from hcc.survival import ADJUSTMENTS, CONF_TYPES, AnalysisSpec
from hcc.validate import Rule


def add_data_and_statistics(parser: argparse.ArgumentParser, default_preset: str) -> None:
    """``--data --mapping --preset --spec --ci --tau --reference --adjust``."""
    parser.add_argument("--data", required=True, nargs="+", metavar="FILE",
                        help="registry file (CSV, TSV, xlsx, parquet, sav, dta), or a REDCap record CSV followed "
                             "by its data dictionary CSV")
    parser.add_argument("--mapping", help="mapping JSON saved on the Data page (column names, values, date "
                                          "formats); without it, the proposed mapping is used when unambiguous")
    parser.add_argument("--preset", choices=sorted(PRESETS), default=default_preset,
                        help="cohort preset: full (no exclusions) or main (the study's three exclusions)")
    parser.add_argument("--spec", help="cohort spec JSON (overrides --preset); see docs/cohort-spec.md")
    parser.add_argument("--ci", choices=CONF_TYPES, default="log-log", help="CI transformation of the curve")
    parser.add_argument("--tau", type=float,
                        help="RMST horizon in months (default: shortest follow-up among regimens)")
    parser.add_argument("--reference", help="regimen the hazard ratios and RMST differences are against")
    parser.add_argument("--adjust", choices=ADJUSTMENTS, default="holm", help="pairwise p-value adjustment")


def read_text(path: str, what: str) -> str:
    """A spec or mapping file's text, or an HCCError naming it."""
    try:
        return Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise HCCError(f"{path}: cannot open the {what} file ({getattr(exc, 'strerror', None) or exc})") from None


def cohort_spec(args: argparse.Namespace) -> CohortSpec:
    """``--spec`` when given, else ``--preset``."""
    return CohortSpec.from_json(read_text(args.spec, "spec")) if args.spec else PRESETS[args.preset]


def analysis_spec(args: argparse.Namespace, **more) -> AnalysisSpec:
    """The statistics options as an :class:`AnalysisSpec` (``more``: further fields, e.g. milestones)."""
    return AnalysisSpec(conf_type=args.ci, tau_months=args.tau, reference=args.reference, adjust=args.adjust, **more)


def registry(args: argparse.Namespace) -> Registry:
    """The registry of ``--data`` mapped with ``--mapping`` (else the unambiguous proposal, said on stderr)."""
    mapping = Mapping.from_json(read_text(args.mapping, "mapping"), Path(args.mapping).name) if args.mapping else None
    loaded = load_files(args.data, mapping)
    for issue in loaded.issues:
        if issue.rule is Rule.TEXT_ENCODING:  # the JSON has no issues: say it where the user looks
            print(f"warning: {issue.text()}", file=sys.stderr)
    if mapping is None:
        for note in mapping_notes(loaded):
            print(f"mapped: {note}", file=sys.stderr)
    if args.reference and args.reference not in loaded.regimens:
        raise HCCError(f"--reference {args.reference}: no such regimen (the file has {', '.join(loaded.regimens)})")
    return loaded
