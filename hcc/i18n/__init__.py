"""The one message catalog: every user-visible string goes through :func:`tr` (and friends).

Design (docs/i18n.md):

- **gettext style.** The English text is the message id, so English output is the source text
  itself and a missing translation can never change an English screen. Japanese lives in GNU
  gettext PO files under ``hcc/i18n/ja/`` (parsed with Babel's ``read_po``; Poedit and every
  translation tool read them) and, for the clinical terms, in the glossary ``docs/glossary-ja.md``
  — one place a clinician corrects a term (a term there wins over a PO entry).
- **Per session, never process-global.** The language of a call is, in order: the one set by
  :func:`use_language` in this context (CLI, tests, a report built for a chosen language); else the
  answer of the *provider* the UI registers once (it reads the calling Streamlit session's state,
  so two sessions in two languages never see each other's); else English. The catalogs themselves
  are static text from the repository and are cached per process.
- **Placeholders, not concatenation.** ``tr("Median {endpoint}", endpoint=label)``: the whole
  sentence is one message so a translation can reorder it. Never ``tr(f"…")`` (a test forbids it).

Mark a message defined before any language is known (a module constant, a schema label) with
:func:`N_` and translate it where it is shown: ``tr(LABEL)``.
"""

from __future__ import annotations

import contextlib
import datetime
import re
from collections.abc import Callable, Iterator
from contextvars import ContextVar
from functools import lru_cache
from pathlib import Path

#: The languages of the app: code → its own name (the switch shows the own name).
LANGUAGES: dict[str, str] = {"en": "English", "ja": "日本語"}
DEFAULT = "en"

CATALOG_DIR = Path(__file__).resolve().parent
GLOSSARY = CATALOG_DIR.parents[1] / "docs" / "glossary-ja.md"

_explicit: ContextVar[str | None] = ContextVar("hcc_language", default=None)
_provider: Callable[[], str | None] | None = None


def N_(msgid: str) -> str:
    """Mark ``msgid`` for the catalog without translating it now (translate where shown: ``tr(x)``)."""
    return msgid


def set_provider(provider: Callable[[], str | None] | None) -> None:
    """Register the UI's function that returns the calling session's language (or None).

    The function holds no data: it looks the language up in the caller's own session each time.
    """
    global _provider
    _provider = provider


def current_language() -> str:
    """The language of the current call: :func:`use_language`'s, else the UI provider's, else English."""
    lang = _explicit.get()
    if lang is None and _provider is not None:
        lang = _provider()
    return lang if lang in LANGUAGES else DEFAULT


def normalize(lang: str | None) -> str:
    """A language code we have from ``ja``, ``ja-JP``, ``JA``, …; English for anything else."""
    code = (lang or "").strip().lower().replace("_", "-").split("-")[0]
    return code if code in LANGUAGES else DEFAULT


@contextlib.contextmanager
def use_language(lang: str) -> Iterator[str]:
    """Within the block, every message is in ``lang`` (this thread/context only)."""
    token = _explicit.set(normalize(lang))
    try:
        yield _explicit.get()
    finally:
        _explicit.reset(token)


def _format(text: str, kwargs: dict) -> str:
    return text.format(**kwargs) if kwargs else text


def tr(msgid: str, /, **kwargs: object) -> str:
    """``msgid`` (English) in the current language, then ``str.format(**kwargs)`` if any are given."""
    lang = current_language()
    text = msgid if lang == DEFAULT else catalog(lang).get(msgid) or msgid
    return _format(text, kwargs)


def trc(context: str, msgid: str, /, **kwargs: object) -> str:
    """Like :func:`tr` for a short text that needs a context to be translated right (gettext's
    ``pgettext``), e.g. ``trc("table header", "Events")``."""
    lang = current_language()
    text = msgid if lang == DEFAULT else catalog(lang).get((context, msgid)) or msgid
    return _format(text, kwargs)


def trn(singular: str, plural: str, n: int, /, **kwargs: object) -> str:
    """The singular or plural (English rule: n == 1) in the current language; ``{n}`` is filled in.

    Japanese has one form: the catalog's translation of ``singular`` is used for every n.
    """
    lang = current_language()
    kwargs = {"n": n, **kwargs}
    if lang == DEFAULT:
        return _format(singular if n == 1 else plural, kwargs)
    text = catalog(lang).get(singular) or (singular if n == 1 else plural)
    return _format(text, kwargs)


def date_text(d: datetime.date) -> str:
    """A calendar date for a reader: ``2026-03-01`` in English (ISO, as the app always wrote it),
    ``2026年3月1日`` in Japanese."""
    return f"{d.year}年{d.month}月{d.day}日" if current_language() == "ja" else d.isoformat()


def month_text(d: datetime.date) -> str:
    """A calendar month for a reader: ``2026-03`` in English, ``2026年3月`` in Japanese."""
    return f"{d.year}年{d.month}月" if current_language() == "ja" else f"{d.year:04d}-{d.month:02d}"


def translated(msgid: str, lang: str) -> str | None:
    """The catalog's text for ``msgid`` in ``lang`` (None if it has none): for tests and tooling."""
    return catalog(normalize(lang)).get(msgid)


# --- the catalog -------------------------------------------------------------------------------

_ROW = re.compile(r"^\|(?P<cells>.*)\|\s*$")


def glossary_terms(path: Path = GLOSSARY) -> dict[str, str]:
    """The glossary's terms: English → Japanese, from the first two columns of every table row of
    ``docs/glossary-ja.md`` (header and separator rows skipped; ``\\|`` escapes a bar)."""
    terms: dict[str, str] = {}
    if not path.exists():
        return terms
    for line in path.read_text(encoding="utf-8").splitlines():
        m = _ROW.match(line.strip())
        if not m:
            continue
        cells = [c.strip().replace("\\|", "|") for c in re.split(r"(?<!\\)\|", m["cells"])]
        if len(cells) < 2 or not cells[0] or set(cells[0]) <= set("-: ") or cells[0] == "English":
            continue
        terms[cells[0].strip("`")] = cells[1]
    return terms


def po_files(lang: str) -> list[Path]:
    """The PO files of ``lang`` (``hcc/i18n/<lang>/*.po``), in name order."""
    return sorted((CATALOG_DIR / lang).glob("*.po"))


def read_catalogs(lang: str) -> list[tuple[Path, dict]]:
    """Every PO file of ``lang`` as (path, {msgid or (context, msgid): translation}); untranslated
    and fuzzy entries are left out (they fall back to English and the catalog test names them)."""
    from babel.messages.pofile import read_po  # only when a translated language is first used

    out = []
    for path in po_files(lang):
        with path.open("rb") as fh:
            cat = read_po(fh, locale=lang)
        entries: dict = {}
        for message in cat:
            if not message.id or message.fuzzy:
                continue
            msgid = message.id[0] if isinstance(message.id, tuple) else message.id
            text = message.string[0] if isinstance(message.string, tuple) else message.string
            if text:
                entries[(message.context, msgid) if message.context else msgid] = text
        out.append((path, entries))
    return out


@lru_cache(maxsize=None)
def catalog(lang: str) -> dict:
    """All of ``lang``'s translations, the PO files merged and the glossary over them (static text
    of the repository, so one copy per process is safe)."""
    if lang == DEFAULT:
        return {}
    merged: dict = {}
    for _path, entries in read_catalogs(lang):
        merged.update(entries)
    if lang == "ja":
        merged.update(glossary_terms())
    return merged
