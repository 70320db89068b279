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
import zlib
from dataclasses import dataclass, fields
from typing import Any

from hcc.cohort.rules import CohortSpec
from hcc.outputs.reports import PPTX_RECORD_PART, REPRODUCE_FORMAT, REPRODUCE_ID
from hcc.errors import SpecError
from hcc.i18n import tr, trc
from hcc.outputs.figures import KMFigureOptions
from hcc.schema import SURVIVAL_ENDPOINTS
from hcc.stats.survival import AnalysisSpec

#: Largest embedded record read (bytes of JSON). A real one is a few kB (a mapping with many recoded
#: values perhaps a few hundred kB); the bound stops a crafted file from taking the server's memory.
MAX_RECORD_BYTES = 2_000_000
#: Deepest nesting of JSON objects/lists accepted in a record or spec (a real record nests 4 levels).
MAX_RECORD_DEPTH = 16

_SCRIPT_START = re.compile(rb'<script type="application/json" id="' + REPRODUCE_ID.encode() + rb'">')
_SCRIPT_END = b"</script>"


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


def _depth_ok(value: Any) -> bool:
    """Whether parsed JSON nests at most :data:`MAX_RECORD_DEPTH` levels (checked without recursion)."""
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, (dict, list)):
            if depth > MAX_RECORD_DEPTH:
                return False
            stack.extend((v, depth + 1) for v in (item.values() if isinstance(item, dict) else item))
    return True


def _parse_json(raw: bytes, what: str) -> Any:
    """Parse ``raw`` (UTF-8 JSON of at most :data:`MAX_RECORD_BYTES`) or raise :class:`SpecError`
    with a reason a user can act on."""
    if len(raw) > MAX_RECORD_BYTES:
        raise SpecError(tr("{what} is larger than {mb} MB, far more than a record of this app holds; it was not read",
                           what=what, mb=MAX_RECORD_BYTES // 1_000_000))
    try:
        parsed = json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise SpecError(tr("{what} is not UTF-8 text", what=what)) from None
    except json.JSONDecodeError as exc:
        raise SpecError(tr("{what} is not valid JSON ({error}, line {line}): the file is damaged or was edited",
                           what=what, error=exc.msg, line=exc.lineno)) from None
    except RecursionError:
        raise SpecError(tr("{what} is nested too deeply to be a record of this app", what=what)) from None
    if not _depth_ok(parsed):
        raise SpecError(tr("{what} is nested too deeply to be a record of this app", what=what))
    return parsed


def _record_from_html(data: bytes) -> Any:
    """The report's embedded record, found in the bytes (the page is never decoded as a whole)."""
    start = _SCRIPT_START.search(data)
    if start is None:
        raise SpecError(tr("this HTML file is not a report of this app (no embedded record); "
                           "choose the .html file the Report page made"))
    end = data.find(_SCRIPT_END, start.end(), start.end() + MAX_RECORD_BYTES + 1)
    if end < 0:
        if len(data) - start.end() > MAX_RECORD_BYTES:
            raise SpecError(tr("{what} is larger than {mb} MB, far more than a record of this app holds; it was not "
                               "read", what=tr("the report's embedded record"), mb=MAX_RECORD_BYTES // 1_000_000))
        raise SpecError(tr("this report is incomplete (it ends inside its embedded record); download or copy it "
                           "again"))
    return _parse_json(data[start.end():end], tr("the report's embedded record"))


def _record_from_pptx(data: bytes) -> Any:
    """The deck's embedded record, read from its zip part without expanding more than
    :data:`MAX_RECORD_BYTES` + 1 bytes whatever the part claims (a zip bomb stays small)."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as z:
            try:
                member = z.open(PPTX_RECORD_PART.lstrip("/"))
            except KeyError:
                raise SpecError(tr("this deck was not made by this app (no embedded record)")) from None
            with member:
                raw = member.read(MAX_RECORD_BYTES + 1)
    except SpecError:
        raise
    except (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError, RuntimeError, ValueError, OSError):
        # not a zip, truncated, corrupt (bad CRC), encrypted, or an unsupported compression
        raise SpecError(tr("this .pptx file is damaged or not a PowerPoint file; save the deck again and "
                           "retry")) from None
    return _parse_json(raw, tr("the deck's embedded record"))


def _options(data: Any) -> KMFigureOptions | None:
    if not data:
        return None
    if not isinstance(data, dict):
        raise SpecError(tr("the record's figure options are not a JSON object"))
    known = {f.name: f for f in fields(KMFigureOptions)}
    values = {k: v for k, v in data.items() if k in known}
    for key, value in values.items():
        if key in ("horizon_months", "break_months"):
            ok = value is None or (isinstance(value, (int, float)) and not isinstance(value, bool) and value > 0)
        else:
            ok = isinstance(value, bool)
        if not ok:
            raise SpecError(tr("the record's figure option {key} has an unusable value", key=key))
    return KMFigureOptions(**values)


def _analysis(data: Any) -> AnalysisSpec | None:
    if not data:
        return None
    if not isinstance(data, dict):
        raise SpecError(tr("the record's statistical settings are not a JSON object"))
    known = {f.name for f in fields(AnalysisSpec)}
    values = {k: tuple(v) if isinstance(v, list) else v for k, v in data.items() if k in known}
    numbers = list(values.get("milestones_months", ())) + [values.get("conf_level", 0.95),
                                                           values.get("tau_months") or 1]
    if (not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in numbers)
            or not isinstance(values.get("reference"), (str, type(None)))):
        raise SpecError(tr("the record's statistical settings cannot be used (a value has the wrong type)"))
    try:
        return AnalysisSpec(**values)
    except (TypeError, ValueError) as exc:
        raise SpecError(tr("the record's statistical settings cannot be used ({error})", error=exc)) from None


def _endpoints(data: Any) -> tuple[str, ...]:
    known = {e.value for e in SURVIVAL_ENDPOINTS}
    if data is None:
        return ()
    if not isinstance(data, list) or not all(isinstance(e, str) and e in known for e in data):
        raise SpecError(tr("the record's figure endpoints must be a list of {endpoints}",
                           endpoints=", ".join(sorted(known))))
    return tuple(data)


def _fingerprint(data: Any) -> dict[str, Any] | None:
    if data is None:
        return None
    if (not isinstance(data, dict) or not isinstance(data.get("sha256"), str)
            or not isinstance(data.get("rows"), int) or isinstance(data.get("rows"), bool)
            or not isinstance(data.get("name"), str)):
        raise SpecError(tr("the record's data fingerprint (file name, rows, SHA-256) is damaged"))
    return data


def _reopened(record: Any, name: str, source: str) -> Reopened:
    """Check every part of a parsed record and build the :class:`Reopened` (SpecError if unusable)."""
    if not isinstance(record, dict):
        raise SpecError(tr("{name}: the embedded record is not a JSON object; the file was not made by this app",
                           name=name))
    if record.get("format") != REPRODUCE_FORMAT:
        raise SpecError(tr("{name}: record format {found} is not {expected}", name=name,
                           found=repr(str(record.get("format"))[:40]), expected=repr(REPRODUCE_FORMAT)))
    spec = record.get("cohort_spec")
    if not isinstance(spec, dict):
        raise SpecError(tr("{name}: the record has no cohort spec", name=name))
    mapping, created = record.get("mapping"), record.get("created", "")
    if not isinstance(mapping, (dict, type(None))) or not isinstance(created, str):
        raise SpecError(tr("{name}: the record's mapping or date is damaged", name=name))
    try:
        return Reopened(
            cohort_spec=CohortSpec.from_dict(spec), analysis_spec=_analysis(record.get("analysis_spec")),
            figure_options=_options(record.get("figure_options")),
            figure_endpoints=_endpoints(record.get("figure_endpoints")), mapping=mapping,
            data=_fingerprint(record.get("data")), created=created, source=source)
    except SpecError as exc:
        raise SpecError(f"{name}: {exc}") from None
    except (TypeError, ValueError, AttributeError):  # a value of the wrong kind deep in the cohort spec
        raise SpecError(tr("{name}: the record's cohort spec has a value of the wrong kind", name=name)) from None


def read_record(data: bytes, name: str) -> Reopened:
    """Parse a report (``.html``), a deck (``.pptx``) or a cohort spec (``.json``).

    Raises :class:`hcc.errors.SpecError` with a readable reason when the file is none of these, is
    damaged or cut short, or is larger (:data:`MAX_RECORD_BYTES`) or more deeply nested
    (:data:`MAX_RECORD_DEPTH`) than any record of this app.
    """
    lower = name.lower()
    if lower.endswith((".html", ".htm")):
        return _reopened(_record_from_html(data), name, "report")
    if lower.endswith(".pptx"):
        return _reopened(_record_from_pptx(data), name, "deck")
    if not lower.endswith(".json"):
        raise SpecError(tr("{name}: choose a report (.html), a deck (.pptx) or a cohort spec (.json)", name=name))
    parsed = _parse_json(data, name)
    if isinstance(parsed, dict) and parsed.get("format") == REPRODUCE_FORMAT:
        return _reopened(parsed, name, "record")
    if not isinstance(parsed, dict):
        raise SpecError(tr("{name}: a cohort spec must be a JSON object (settings in curly braces)", name=name))
    try:
        return Reopened(CohortSpec.from_dict(parsed))
    except SpecError as exc:
        raise SpecError(f"{name}: {exc}") from None
    except (TypeError, ValueError, AttributeError):
        raise SpecError(tr("{name}: the cohort spec has a value of the wrong kind", name=name)) from None


def _source_words(source: str) -> str:
    """'the report', 'the deck', … in the current language."""
    words = {"report": trc("reopened file", "the report"), "deck": trc("reopened file", "the deck"),
             "record": trc("reopened file", "the record"), "spec": trc("reopened file", "the spec")}
    return words.get(source, f"the {source}")


def check_data(reopened: Reopened, registry) -> DataCheck:
    """Compare the record's data fingerprint with the loaded registry (``sha256``, ``rows_read``)."""
    data = reopened.data
    if not data:
        return DataCheck(True, tr("A bare cohort spec carries no data fingerprint; it is applied to the loaded data."))
    if data.get("sha256") == registry.sha256:
        return DataCheck(True, tr("Same data as {source}: {name} ({rows} rows, SHA-256 {sha256}…).",
                                  source=_source_words(reopened.source), name=data.get("name"),
                                  rows=f"{data.get('rows'):,}", sha256=registry.sha256[:12]))
    return DataCheck(False, tr("Different data: {source} was made from {name} ({rows} rows, SHA-256 {sha256}…), but "
                               "the loaded file is {loaded} ({loaded_rows} rows, SHA-256 {loaded_sha256}…). The view "
                               "is recreated on the loaded data; its numbers will differ.",
                               source=_source_words(reopened.source), name=data.get("name"),
                               rows=f"{data.get('rows'):,}", sha256=str(data.get("sha256"))[:12],
                               loaded=registry.name, loaded_rows=f"{registry.rows_read:,}",
                               loaded_sha256=registry.sha256[:12]))
