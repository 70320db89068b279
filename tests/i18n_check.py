"""What a page shows, as text, and the English words left in it: the Japanese page tests' detector.

:func:`visible_texts` walks every element of an AppTest run (its protobuf: markdown, captions, alerts,
headings, widget labels, help, options, captions of options, placeholders, expander / tab / popover
labels, metrics), the cells and headers of every table and dataframe, and the words of every figure
(titles, axis titles, tick labels, legend names, annotations, hover templates, table cells, Sankey
labels). :func:`english_words` keeps the Latin-alphabet words that are not codes, units, names of
methods or software (:data:`ALLOWED`) — what a Japanese reader would see as untranslated English.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator

from google.protobuf.message import Message

#: Proto fields that are never shown as text (ids, keys, styling, raw data handled elsewhere).
_SKIP_FIELDS = {"id", "form_id", "key", "type", "data", "spec", "css", "icon", "format", "theme", "url",
                "element_type", "allow_html", "arrow_data", "styler", "column_order", "columns", "page_script_hash",
                "url_path", "page_name", "widths", "vertical_alignment", "gap", "selection_mode", "width",
                "height", "language", "src", "mime", "file_id", "width_config", "height_config", "value",
                "default", "deprecated", "is_set_value", "set_value", "config", "page"}
#: Figure keys whose string values are shown to the reader.
_FIGURE_TEXT_KEYS = {"text", "name", "hovertemplate", "texttemplate", "ticktext", "label", "labels", "values",
                     "title"}

#: Latin-alphabet words a Japanese page keeps: method and software names, units, scores and codes
#: written in Latin letters in Japanese papers. Upper-case codes (OS, PFS, SOR, HR, CI, BCLC …) and
#: tokens with digits are allowed by rule, not listed.
ALLOWED = frozenset("""
Kaplan Meier Kaplan–Meier Cox Efron Breslow Holm Gray Fine Fine–Gray Aalen Johansen Aalen–Johansen Greenwood
Peto Wald Schoenfeld Nelson Nelson–Aalen Bonferroni Hosmer Lemeshow Wilcoxon Fisher Pearson Clopper
Child Pugh Child-Pugh mRECIST RECIST at-risk log log-log plain arcsine
Streamlit Excel PowerPoint Parquet DuckDB REDCap Stata Python pandas lifelines survival cmprsk survRM2
jsonlite Rscript plotly kaleido Chromium Poedit statsmodels numpy scipy pyarrow tableone openpyxl
coxph survfit survdiff survreg confint quantile multinom glm binomial nnet MNLogit crr cuminc finegray cmprsk
rmean conf.type rho exp coef se sqrt tau holm bonferroni Harrell cobalt survRM
ng mL dL mg kg cm mm px dpi pt
HCC Outcomes Explorer
IMbrave REFLECT SHARP HIMALAYA CheckMate KEYNOTE RESORCE REACH CELESTIAL
""".split())

_NOISE = [
    re.compile(r"[A-Z][\w'-]+(?: [A-Z][\w'-]+)* [A-Z]{1,3},(?: [A-Z][\w'-]+ [A-Z]{1,3},)* et al\.[^;]*?[;.] doi:\s?\S+"),  # a citation, as published
    re.compile(r"&[a-z]+;|&#\d+;"),                   # HTML entities (&lt;)
    re.compile(r"\?\w+=\w+"),                          # a link's parameter (?present=1)
    re.compile(r"\b[\w.]+\((?:[^()]|\([^()]*\))*\)"),      # R calls as written in methods lines: coxph(weights = w)
    re.compile(r"\b\w+\$\w+|\$\w+|R: \+ \w+|\b[\w.]+ = '\w+'|\w+::\w+"),  # R: fit$x, $Tests, a term, an argument, pkg::f
    re.compile(r":material/[a-z_]+:"),                 # Material icon shortcodes
    re.compile(r"https?://\S+|\]\([^)]*\)"),          # links' targets
    re.compile(r"\b[0-9a-f]{12,}\b"),                 # digests
    re.compile(r"[\w.-]+\.(?:csv|xlsx|json|png|svg|pdf|pptx|html|zip|parquet|duckdb|R|txt|sav|dta|po)\b", re.I),
    re.compile(r"`[^`]*`"),                           # code spans: column names, commands
    re.compile(r"\b\w+_\w+\b"),                       # snake_case identifiers (column names, codes)
    re.compile(r"\b[a-z]\w*(?:\.[a-z]\w*)+\b"),           # R names with dots: p.adjust, cox.zph, quantile.survfit
    re.compile(r"%\{[^}]*\}|<[^>]+>"),                # plotly template fields, HTML tags
    re.compile(r"(?<![A-Za-z0-9_-])--[a-z][\w-]*|\b[\w.-]+/[\w./-]+"),  # CLI options, file paths (docs/data-format.md)
]
_WORD = re.compile(r"[A-Za-z][A-Za-z'’\-–]*[A-Za-z]|[A-Za-z]")


def _proto_strings(message: Message) -> Iterator[str]:
    for field, value in message.ListFields():
        if field.name in _SKIP_FIELDS:
            continue
        values = [value] if isinstance(value, (str, bytes, Message)) or not hasattr(value, "__iter__") else value
        for v in values:
            if isinstance(v, str):
                yield v
            elif isinstance(v, Message):
                yield from _proto_strings(v)


def _figure_strings(obj: object, key: str | None = None) -> Iterator[str]:
    if isinstance(obj, dict):
        for k, v in obj.items():
            if k in ("meta", "template", "customdata", "font", "hoverlabel"):
                continue
            yield from _figure_strings(v, k)
    elif isinstance(obj, list):
        for v in obj:
            yield from _figure_strings(v, key)
    elif isinstance(obj, str) and key in _FIGURE_TEXT_KEYS:
        yield obj


def _frame_strings(frame) -> Iterator[str]:
    for level in (frame.columns, frame.index):
        for label in level:
            yield from (str(x) for x in (label if isinstance(label, tuple) else (label,)))
    for column in frame.columns:
        for v in frame[column].tolist():
            if isinstance(v, str):
                yield v


def visible_texts(at) -> list[str]:
    """Every text the app's last run shows (see the module docstring)."""
    out: list[str] = []

    def walk(node) -> None:
        proto = getattr(node, "proto", None)
        kind = getattr(node, "type", None)
        if kind in ("dataframe", "table"):
            try:
                out.extend(_frame_strings(node.value))
            except Exception:  # noqa: BLE001 — a node AppTest cannot decode is read from its proto
                pass
        if isinstance(proto, Message):
            spec = getattr(proto, "spec", None)
            if isinstance(spec, str) and spec.startswith("{"):
                out.extend(_figure_strings(json.loads(spec)))
            figure = getattr(proto, "figure", None)
            if isinstance(figure, Message) and getattr(figure, "spec", ""):
                out.extend(_figure_strings(json.loads(figure.spec)))
            out.extend(_proto_strings(proto))
        children = getattr(node, "children", None)
        if isinstance(children, dict):
            for child in children.values():
                walk(child)

    walk(at._tree)
    return [t for t in out if t.strip()]


def english_words(texts: Iterable[str], allowed: Iterable[str] = ()) -> list[str]:
    """The words of ``texts`` a Japanese reader would see as English, each with its sentence, sorted.

    Allowed: :data:`ALLOWED` and ``allowed`` (e.g. the data's own category values and regimen codes),
    upper-case codes (``OS``, ``ATZ_BEV``, ``HR``), tokens with digits, single letters (``p``, ``n``,
    Child-Pugh ``A``).
    """
    allow = ALLOWED | set(allowed)
    found = set()
    for text in texts:
        cleaned = re.sub(r"\\([!-/:-@\[-`{-~])", r"\1", text)  # markdown escapes (ui/text.md) as shown
        for pattern in _NOISE:
            cleaned = pattern.sub(" ", cleaned)
        for word in _WORD.findall(cleaned):
            bare = re.sub(r"['’]s$", "", word).strip("-–'’")  # Harrell's C
            if len(bare) <= 1 or bare in allow or bare.isupper() or any(c.isdigit() for c in bare):
                continue
            if all(part in allow or part.isupper() or len(part) <= 1 for part in re.split(r"[-–]", bare)):
                continue
            found.add(f"{bare!r} in {text[:160]!r}")
    return sorted(found)
