"""Reopen a result: read the record a report or deck embeds and compare it with the loaded data.

A report (HTML), a deck (PPTX) or a plain cohort-spec JSON file is accepted. The record gives the
cohort spec, the statistical settings, the figure options and the fingerprint (name, rows, SHA-256)
of the data it was made from; :func:`check_data` says whether the loaded registry is that file.
"""

from __future__ import annotations

import io
import json
import re
import zipfile
from dataclasses import dataclass, fields
from typing import Any

from hcc.cohort import CohortSpec
from hcc.document import PPTX_RECORD_PART, REPRODUCE_FORMAT, REPRODUCE_ID
from hcc.errors import SpecError
from hcc.figures import KMFigureOptions
from hcc.survival import AnalysisSpec

_SCRIPT = re.compile(r'<script type="application/json" id="' + REPRODUCE_ID + r'">(.*?)</script>', re.S)


@dataclass(frozen=True)
class Reopened:
    """What a file says to recreate: the cohort and, when the file is a report or deck, the
    statistical settings, figure options, mapping and data fingerprint (``None`` for a bare spec)."""

    cohort_spec: CohortSpec
    analysis_spec: AnalysisSpec | None = None
    figure_options: KMFigureOptions | None = None
    figure_endpoints: tuple[str, ...] = ()
    mapping: dict | None = None
    data: dict[str, Any] | None = None
    created: str = ""
    source: str = "spec"


@dataclass(frozen=True)
class DataCheck:
    """Whether the loaded registry is the file the record was made from (by SHA-256)."""

    same: bool
    message: str


def _record_from_html(data: bytes) -> dict:
    m = _SCRIPT.search(data.decode("utf-8", errors="replace"))
    if m is None:
        raise SpecError("this HTML file is not a report of this app (no embedded record)")
    return json.loads(m.group(1))


def _record_from_pptx(data: bytes) -> dict:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as z:
            return json.loads(z.read(PPTX_RECORD_PART.lstrip("/")))
    except KeyError:
        raise SpecError("this deck was not made by this app (no embedded record)") from None
    except zipfile.BadZipFile:
        raise SpecError("this .pptx file is damaged (not a zip archive)") from None


def _options(data: dict | None) -> KMFigureOptions | None:
    if not data:
        return None
    known = {f.name for f in fields(KMFigureOptions)}
    return KMFigureOptions(**{k: v for k, v in data.items() if k in known})


def _analysis(data: dict | None) -> AnalysisSpec | None:
    if not data:
        return None
    known = {f.name for f in fields(AnalysisSpec)}
    values = {k: tuple(v) if isinstance(v, list) else v for k, v in data.items() if k in known}
    try:
        return AnalysisSpec(**values)
    except (TypeError, ValueError) as exc:
        raise SpecError(f"the record's statistical settings cannot be used ({exc})") from None


def read_record(data: bytes, name: str) -> Reopened:
    """Parse a report (``.html``), a deck (``.pptx``) or a cohort spec (``.json``).

    Raises :class:`hcc.errors.SpecError` with a readable reason when the file is none of these.
    """
    lower = name.lower()
    if lower.endswith((".html", ".htm")):
        record, source = _record_from_html(data), "report"
    elif lower.endswith(".pptx"):
        record, source = _record_from_pptx(data), "deck"
    elif lower.endswith(".json"):
        try:
            parsed = json.loads(data.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError):
            raise SpecError(f"{name} is not valid JSON") from None
        if isinstance(parsed, dict) and parsed.get("format") == REPRODUCE_FORMAT:
            record, source = parsed, "record"
        else:
            return Reopened(CohortSpec.from_json(data.decode("utf-8")))
    else:
        raise SpecError(f"{name}: choose a report (.html), a deck (.pptx) or a cohort spec (.json)")
    if record.get("format") != REPRODUCE_FORMAT:
        raise SpecError(f"{name}: record format {record.get('format')!r} is not {REPRODUCE_FORMAT!r}")
    return Reopened(
        cohort_spec=CohortSpec.from_dict(record["cohort_spec"]), analysis_spec=_analysis(record.get("analysis_spec")),
        figure_options=_options(record.get("figure_options")),
        figure_endpoints=tuple(record.get("figure_endpoints") or ()), mapping=record.get("mapping"),
        data=record.get("data"), created=record.get("created", ""), source=source)


def check_data(reopened: Reopened, registry) -> DataCheck:
    """Compare the record's data fingerprint with the loaded registry (``sha256``, ``rows_read``)."""
    data = reopened.data
    if not data:
        return DataCheck(True, "A bare cohort spec carries no data fingerprint; it is applied to the loaded data.")
    if data.get("sha256") == registry.sha256:
        return DataCheck(True, f"Same data as the {reopened.source}: {data.get('name')} "
                               f"({data.get('rows'):,} rows, SHA-256 {registry.sha256[:12]}…).")
    return DataCheck(False, f"Different data: the {reopened.source} was made from {data.get('name')} "
                            f"({data.get('rows'):,} rows, SHA-256 {str(data.get('sha256'))[:12]}…), but the loaded file "
                            f"is {registry.name} ({registry.rows_read:,} rows, SHA-256 {registry.sha256[:12]}…). "
                            "The view is recreated on the loaded data; its numbers will differ.")
