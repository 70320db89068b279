"""The message catalog (hcc.i18n): every marked message has Japanese, no sentence is built around the
catalog, placeholders survive translation, the glossary's terms are used the same way everywhere, and
two sessions in two languages at the same moment never see each other's words."""

from __future__ import annotations

import ast
import re
import threading
from pathlib import Path

import pytest

from hcc import i18n
from hcc.i18n import N_, current_language, glossary_terms, read_catalogs, tr, trn, use_language
from hcc.i18n.extract import catalog_calls, marked_messages, source_files
from hcc.schema import REGIMEN_LABELS

ROOT = Path(__file__).resolve().parent.parent
SOURCES = source_files()
_PLACEHOLDER = re.compile(r"\{(\w*)[^{}]*\}")


def test_no_sentence_is_built_around_the_catalog() -> None:
    """``tr(f"…")``, ``tr("a" + b)`` or ``tr("…".format())`` would look up a text no catalog has."""
    wrong = []
    for path in SOURCES:
        for call in catalog_calls(path):
            n_messages = 2 if call.func.id in ("trn", "trc") else 1
            for arg in call.args[:n_messages]:
                if isinstance(arg, (ast.JoinedStr, ast.BinOp)) or (
                        isinstance(arg, ast.Call) and isinstance(arg.func, ast.Attribute) and arg.func.attr == "format"):
                    wrong.append(f"{path.relative_to(ROOT)}:{call.lineno}")
    assert wrong == []


def test_every_marked_message_has_japanese() -> None:
    catalog = i18n.catalog("ja")
    missing = [f"{where}: {msgid!r}" + (f" (context {ctx!r})" if ctx else "")
               for (ctx, msgid), where in sorted(marked_messages().items(), key=lambda kv: kv[1])
               if not catalog.get((ctx, msgid) if ctx else msgid)]
    assert missing == [], f"{len(missing)} messages without Japanese:\n" + "\n".join(missing[:80])


def test_the_catalog_has_no_stale_entries() -> None:
    """An entry no code uses any more is dead weight a translator would keep correcting."""
    used = set(marked_messages())
    stale = [f"{path.name}: {key!r}" for path, entries in read_catalogs("ja") for key in entries
             if (key if isinstance(key, tuple) else (None, key)) not in used]
    assert stale == []


def test_placeholders_survive_translation() -> None:
    wrong = []
    for path, entries in read_catalogs("ja"):
        for key, text in entries.items():
            msgid = key[1] if isinstance(key, tuple) else key
            if sorted(_PLACEHOLDER.findall(msgid)) != sorted(_PLACEHOLDER.findall(text)):
                wrong.append(f"{path.name}: {msgid!r} → {text!r}")
    assert wrong == []


def test_the_po_files_and_the_glossary_agree() -> None:
    """The same English text has one Japanese text, whichever file holds it (the glossary wins)."""
    seen: dict = dict(glossary_terms())
    source = {k: "docs/glossary-ja.md" for k in seen}
    conflicts = []
    for path, entries in read_catalogs("ja"):
        for key, text in entries.items():
            if key in seen and seen[key] != text:
                conflicts.append(f"{key!r}: {source[key]} {seen[key]!r} ≠ {path.name} {text!r}")
            seen.setdefault(key, text)
            source.setdefault(key, path.name)
    assert conflicts == []


def test_the_glossary_terms_are_used_everywhere() -> None:
    """A sentence that contains a glossary term (two words or more, or a drug name) uses the glossary's
    Japanese for it: correcting a term in docs/glossary-ja.md makes this list every sentence to update."""
    terms = {en: ja for en, ja in glossary_terms().items()
             if len(en.split()) >= 2 or en in REGIMEN_LABELS.values()}
    texts = dict(glossary_terms())
    for _path, entries in read_catalogs("ja"):
        texts.update({(k[1] if isinstance(k, tuple) else k): v for k, v in entries.items()})
    wrong = []
    for en, ja in terms.items():
        pattern = re.compile(rf"(?<![\w-]){re.escape(en)}(?![\w-])", re.I)
        wrong += [f"{msgid!r} → {text!r} lacks {ja!r} ({en})" for msgid, text in texts.items()
                  if pattern.search(msgid) and ja not in text]
    assert wrong == []


def test_the_glossary_reads_as_a_table() -> None:
    terms = glossary_terms()
    assert terms["Overall survival"] == "全生存期間"
    assert terms["Atezolizumab + bevacizumab"] == "アテゾリズマブ＋ベバシズマブ"
    assert "English" not in terms and not any(set(k) <= set("-: ") for k in terms)


def test_english_is_the_source_text_and_japanese_comes_from_the_catalog() -> None:
    assert current_language() == "en"
    assert tr("Overall survival") == "Overall survival"
    with use_language("ja-JP"):
        assert current_language() == "ja"
        assert tr("Overall survival") == "全生存期間"
        assert tr("No such message {x}", x=1) == "No such message 1"  # falls back to English, never blank
    assert trn("{n} patient", "{n} patients", 2) == "2 patients"
    assert N_("Overall survival") == "Overall survival"


def test_a_provider_gives_each_caller_its_own_language() -> None:
    """As the app does: the provider looks the language up in the caller's own session."""
    local = threading.local()
    i18n.set_provider(lambda: getattr(local, "lang", None))
    try:
        local.lang = "ja"
        assert tr("Overall survival") == "全生存期間"
        with use_language("en"):  # an explicit choice (a report built in English) wins
            assert tr("Overall survival") == "Overall survival"
    finally:
        i18n.set_provider(None)


@pytest.mark.parametrize("n", [8])
def test_two_sessions_in_two_languages_at_the_same_moment(n: int) -> None:
    """Threads started together, half in Japanese, half in English, translate the same messages many
    times: each sees only its own language."""
    barrier = threading.Barrier(n)
    messages = [m for (ctx, m) in marked_messages() if ctx is None and "{" not in m][:200]
    errors: list[str] = []

    def run(i: int) -> None:
        lang = "ja" if i % 2 else "en"
        with use_language(lang):
            barrier.wait()
            for _ in range(20):
                for m in messages:
                    got = tr(m)
                    if (lang == "en") != (got == m) and (lang == "en" or i18n.translated(m, "ja") != m):
                        errors.append(f"{lang}: {m!r} → {got!r}")
                        return

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert messages and errors == []
