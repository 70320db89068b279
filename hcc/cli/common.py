"""What the ``analyze`` and ``report`` subcommands share: the data, mapping, cohort and statistics options,
and turning them into a registry, a cohort spec and an analysis spec (one-line errors as HCCError)."""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from hcc.cohort.choices import PRESET_NAMES
from hcc.errors import HCCError
from hcc.i18n import DEFAULT, LANGUAGES, tr, trc
from hcc.stats.choices import ADJUSTMENTS, CONF_TYPES

# The parser needs only names (above); what reads data and computes (pandas, numpy, scipy) is imported
# by the functions that use it, so that `--help` and a mistyped option answer at once.
if TYPE_CHECKING:
    from hcc.cohort.rules import CohortSpec
    from hcc.ingest.fastpath import CleanRegistry
    from hcc.ingest.registry import Registry
    from hcc.stats.survival import AnalysisSpec


def add_data_and_statistics(parser: argparse.ArgumentParser, default_preset: str) -> None:
    """``--data --mapping --preset --spec --ci --tau --reference --adjust``."""
    parser.add_argument("--data", required=True, nargs="+", metavar="FILE",
                        help="registry file (CSV, TSV, xlsx, parquet, sav, dta), or a REDCap record CSV followed "
                             "by its data dictionary CSV")
    parser.add_argument("--mapping", help="mapping JSON saved on the Data page (column names, values, date "
                                          "formats); without it, the proposed mapping is used when unambiguous")
    parser.add_argument("--preset", choices=sorted(PRESET_NAMES), default=default_preset,
                        help="cohort preset: full (no exclusions) or main (the study's three exclusions)")
    parser.add_argument("--spec", help="cohort spec JSON (overrides --preset); see docs/cohort-spec.md")
    parser.add_argument("--ci", choices=CONF_TYPES, default="log-log", help="CI transformation of the curve")
    parser.add_argument("--tau", type=float,
                        help="RMST horizon in months (default: shortest follow-up among regimens)")
    parser.add_argument("--reference", help="regimen the hazard ratios and RMST differences are against")
    parser.add_argument("--adjust", choices=ADJUSTMENTS, default="holm", help="pairwise p-value adjustment")


def add_language(parser: argparse.ArgumentParser, what: str) -> None:
    """``--lang {en,ja}``: the language of ``what`` (the command's output; its help stays English)."""
    parser.add_argument("--lang", choices=tuple(LANGUAGES), default=DEFAULT,
                        help=f"language of {what}: en (English, default) or ja (Japanese)")


class Parser(argparse.ArgumentParser):
    """argparse that reports a bad option in one line ``error: …`` (status 2), like every other input
    error of the CLI, instead of argparse's usage block; ``--help`` still prints the full usage."""

    def error(self, message: str) -> None:  # type: ignore[override]
        print(f"error: {self.prog}: {message} (see {self.prog} --help)", file=sys.stderr)
        raise SystemExit(2)


#: Deepest nesting of JSON brackets a spec or mapping file may have (real files nest three levels).
#: Deeper text is refused before parsing: Python's JSON parser fails on ~1,000 levels with a RecursionError.
MAX_JSON_DEPTH = 32
_JSON_STRING = re.compile(r'"(?:[^"\\]|\\.)*"')


_FORMAT_DOCS = {"spec": "docs/cohort-spec.md", "mapping": "docs/upload.md"}


def json_depth(text: str) -> int:
    """Deepest nesting of ``[`` / ``{`` in JSON text, brackets inside strings not counted (O(length))."""
    depth = deepest = 0
    for bracket in re.findall(r"[\[\]{}]", _JSON_STRING.sub("", text)):
        depth += 1 if bracket in "[{" else -1
        deepest = max(deepest, depth)
    return deepest


def read_text(path: str, what: str) -> str:
    """A spec or mapping file's JSON text, or an HCCError naming it (unreadable, or nested deeper than
    :data:`MAX_JSON_DEPTH`)."""
    kind = {"spec": trc("input file", "spec"), "mapping": trc("input file", "mapping")}.get(what, what)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise HCCError(tr("{path}: cannot open the {what} file ({error})", path=path, what=kind,
                          error=getattr(exc, "strerror", None) or exc)) from None
    if json_depth(text) > MAX_JSON_DEPTH:
        raise HCCError(tr("{path}: the {what} file is nested more than {depth} levels deep, which no {what} file is; "
                          "save it again from the app or write it as {doc} shows", path=path,
                          what=kind, depth=MAX_JSON_DEPTH, doc=_FORMAT_DOCS[what]))
    return text


def check_out(path: str, example: str) -> Path:
    """``--out``, checked before the analysis runs (a typo should not cost minutes): its folder must
    exist and the name must not be a folder; else an HCCError naming the folder and the fix
    (``example``: a file name to suggest, e.g. results.json)."""
    out = Path(path)
    if out.is_dir():
        raise HCCError(tr("--out {path}: this is a folder; give a file name inside it, e.g. {example}", path=path,
                          example=out / example))
    folder = out.parent
    if not folder.is_dir():
        raise HCCError(tr("--out {path}: the folder {folder} does not exist; create it first (mkdir -p {folder}) or "
                          "write to an existing folder", path=path, folder=folder))
    return out


def write_out(path: str, data: bytes) -> None:
    """Write ``--out``; an OSError (no permission, disk full, …) becomes an HCCError naming the file."""
    try:
        Path(path).write_bytes(data)
    except OSError as exc:
        raise HCCError(tr("--out {path}: cannot write the file ({error}); choose a folder you can write to", path=path,
                          error=exc.strerror or type(exc).__name__)) from None


def cohort_spec(args: argparse.Namespace) -> CohortSpec:
    """``--spec`` when given, else ``--preset``."""
    from hcc.cohort.rules import PRESETS, CohortSpec  # noqa: PLC0415  (lazy: see the imports)

    return CohortSpec.from_json(read_text(args.spec, "spec")) if args.spec else PRESETS[args.preset]


def analysis_spec(args: argparse.Namespace, **more) -> AnalysisSpec:
    """The statistics options as an :class:`AnalysisSpec` (``more``: further fields, e.g. milestones)."""
    from hcc.stats.survival import AnalysisSpec  # noqa: PLC0415  (lazy: see the imports)

    return AnalysisSpec(conf_type=args.ci, tau_months=args.tau, reference=args.reference, adjust=args.adjust, **more)


def registry(args: argparse.Namespace) -> Registry:
    """The registry of ``--data`` mapped with ``--mapping`` (else the unambiguous proposal, said on stderr)."""
    from hcc.ingest.mapping import Mapping  # noqa: PLC0415  (lazy: see the imports)
    from hcc.ingest.registry import load_files, mapping_notes  # noqa: PLC0415
    from hcc.ingest.validate import Rule  # noqa: PLC0415

    mapping = Mapping.from_json(read_text(args.mapping, "mapping"), Path(args.mapping).name) if args.mapping else None
    loaded = load_files(args.data, mapping)
    for issue in loaded.issues:
        if issue.rule is Rule.TEXT_ENCODING:  # the JSON has no issues: say it where the user looks
            print(f"warning: {issue.text()}", file=sys.stderr)
    if mapping is None:
        for note in mapping_notes(loaded):
            print(f"mapped: {note}", file=sys.stderr)
    check_reference(args.reference, loaded.regimens)
    return loaded


def check_reference(reference: str | None, regimens: tuple[str, ...]) -> None:
    """``--reference`` must be one of the registry's first-line regimens (HCCError otherwise)."""
    if reference and reference not in regimens:
        raise HCCError(tr("--reference {regimen}: no such regimen (the file has {regimens})", regimen=reference,
                          regimens=", ".join(regimens)))


def clean_registry(args: argparse.Namespace, columns: frozenset[str] | None = None) -> CleanRegistry | None:
    """``--data`` as a DuckDB table when it is one clean CSV in the data contract read without
    ``--mapping`` (:func:`hcc.ingest.fastpath.open_clean`; ``columns``: those the table must hold), else None
    (the full path reads it);
    with ``--verbose``, which path and why on stderr."""
    if args.mapping or len(args.data) != 1:
        decision_reason = "--mapping given" if args.mapping else "more than one file"
        clean = None
    else:
        from hcc.engine import TABLE  # noqa: PLC0415  (lazy: see the imports)
        from hcc.ingest.fastpath import open_clean  # noqa: PLC0415

        decision = open_clean(args.data[0], TABLE, columns, explain=getattr(args, "verbose", False))
        clean, decision_reason = decision.registry, decision.reason
    if getattr(args, "verbose", False):
        print("path: fast (DuckDB; a clean CSV in the data contract)" if clean is not None
              else f"path: full ({decision_reason})", file=sys.stderr)
    return clean
