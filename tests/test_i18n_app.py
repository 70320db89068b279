"""The app frame in two languages: the switch keeps what the user loaded and chose, two sessions at the
same moment each see only their own language, and the frame's own messages (sidebar, Data, Overview,
Cohort and Report pages: ``hcc/i18n/ja/ui_frame.po``) never show in English on a Japanese page."""

from __future__ import annotations

import json
import re
import threading

from streamlit.testing.v1 import AppTest

from hcc.i18n import glossary_terms
from hcc.i18n.extract import marked_messages
from hcc.ingest import mapping as mp
from hcc.schema import Col
from tests.apptest import open_page, shown
from tests.conftest import make_registry
from tests.i18n_check import visible_texts
from tests.messy import messy_export
from ui import guard
from ui.keys import StateKeys

#: The files whose words ui_frame.po translates.
FRAME_FILES = ("app.py", "ui/common.py", "ui/sidebar.py", "ui/upload.py", "ui/mapping_ui.py", "ui/server_data.py",
               "ui/guard.py", "ui/actions.py", "ui/reopen.py", "ui/downloads.py", "pages/overview.py",
               "pages/data.py", "pages/cohort.py", "pages/export.py")
_CJK = re.compile(r"[\u3040-\u30ff\u4e00-\u9fff]")
_FIELD = re.compile(r"\{[^{}]*\}")


def _english_patterns() -> list[re.Pattern]:
    """Each frame message in English as a whole text (a placeholder matches anything). Left out: texts
    too short to tell apart from data ("A: {cohort}"), glossary terms (a file's own column may be called
    "Child-Pugh class") and the mapping editors' headers, which stay the data's column names (their
    shown labels: :func:`_editor_labels`)."""
    skip = set(glossary_terms()) | {mp.SOURCE, mp.EXAMPLES, mp.MAPS_TO, mp.MATCHED_BY, mp.VALUE_COLUMN, mp.VALUE,
                                    mp.COUNT}
    out = []
    for _ctx, msgid in marked_messages(FRAME_FILES):
        literal = _FIELD.sub(" ", msgid)
        if msgid in skip or len(re.findall(r"[A-Za-z]{3,}", literal)) < 2:
            continue
        parts = [re.escape(p.replace("**", "")) for p in _FIELD.split(msgid)]
        out.append(re.compile(".*?".join(parts), re.S))
    return out


def _english_frame_texts(at) -> list[str]:
    patterns = _english_patterns()
    texts = {shown(t).replace("**", "").strip() for t in visible_texts(at)}
    return sorted(t for t in texts if any(p.fullmatch(t) for p in patterns))


def _editor_labels(at) -> dict[str, str]:
    """Column → shown header of every dataframe and data editor of the run (their column configs)."""
    labels: dict[str, str] = {}

    def walk(node) -> None:
        config = getattr(getattr(node, "proto", None), "columns", "")
        if isinstance(config, str) and config.startswith("{"):
            labels.update({k: v["label"] for k, v in json.loads(config).items() if "label" in v})
        for child in (getattr(node, "children", None) or {}).values():
            walk(child)

    walk(at._tree)
    return labels


def test_the_frame_pages_show_none_of_their_messages_in_english() -> None:
    """Overview, Cohort, Report & slides and Data (with an upload waiting for its mapping: the column
    editor, the required-column question, the warnings) in Japanese."""
    at = open_page("pages/overview.py", query={"lang": "ja"})
    left = {"pages/overview.py": _english_frame_texts(at)}
    for page in ("pages/cohort.py", "pages/export.py", "pages/data.py"):
        at.switch_page(page).run()
        assert not at.exception, [e.message for e in at.exception]
        left[page] = _english_frame_texts(at)
    at.file_uploader(key=f"{StateKeys.UPLOAD}_0").set_value(("export.csv", messy_export(60), "text/csv")).run()
    assert not at.exception, [e.message for e in at.exception]
    assert any("必須列" in w.value for w in at.warning)  # the mapping's questions, in Japanese
    left["pages/data.py (upload)"] = _english_frame_texts(at)
    assert _editor_labels(at)[mp.SOURCE] == "ファイルの列" and _editor_labels(at)[mp.MAPS_TO] == "対応先"
    assert all(v == [] for v in left.values()), left


def test_switching_language_keeps_the_rules_the_upload_and_presentation_mode() -> None:
    rows = [{Col.REGIMEN_1L: regimen, Col.DATE_DEATH: f"2020-{m + 2:02d}-01",
             Col.DATE_LAST_FOLLOWUP: f"2020-{m + 2:02d}-01"} for regimen in ("SOR", "LEN") for m in range(8)]
    at = open_page("pages/cohort.py", registry=make_registry(rows, "upload.csv"))
    at.sidebar.multiselect(key=StateKeys.COHORT + "regimens").set_value(["SOR"]).run()
    at.sidebar.toggle(key=StateKeys.PRESENT).set_value(True).run()
    for lang in ("ja", "en", "ja"):
        at.radio(key=StateKeys.LANG_WIDGET).set_value(lang).run()
        assert not at.exception, [e.message for e in at.exception]
        assert at.session_state[StateKeys.LANG] == lang and at.query_params["lang"] == lang
        assert at.session_state[StateKeys.SPEC].regimens == ("SOR",)
        assert at.sidebar.multiselect(key=StateKeys.COHORT + "regimens").value == ["SOR"]
        assert at.query_params["regimens"] == "SOR"  # the link keeps the rules and the language
        assert at.session_state[StateKeys.REGISTRY].name == "upload.csv"
        assert at.session_state[StateKeys.PRESENT] is True
    assert any("コホート条件" in t for t in visible_texts(at))


def test_switching_language_halfway_through_a_mapping_keeps_every_answer() -> None:
    """The upload's questions answered in English, the rest in Japanese: nothing is asked twice, and the
    file loads as it does in English (test_app_data.py)."""
    at = open_page("pages/data.py")
    at.file_uploader(key=f"{StateKeys.UPLOAD}_0").set_value(("export.csv", messy_export(60), "text/csv")).run()
    next(s for s in at.selectbox if str(s.key).startswith(f"{StateKeys.REQUIRED_PICK}start_1l")).set_value("Tx begin").run()
    at.radio(key=f"{StateKeys.DATE_FORMAT}start_1l").set_value("MDY").run()
    at.radio(key=StateKeys.LANG_WIDGET).set_value("ja").run()
    assert not at.exception, [e.message for e in at.exception]
    assert at.radio(key=f"{StateKeys.DATE_FORMAT}start_1l").value == "MDY"
    assert any("識別子の可能性" in r.label for r in at.radio)  # the one question left, in Japanese
    at.radio(key=f"{StateKeys.IDENTIFIER}Patient name").set_value("drop").run()  # ui.i18n.shown_in_this_language
    assert not at.exception, [e.message for e in at.exception]
    registry = at.session_state[StateKeys.REGISTRY]
    assert registry.name == "export.csv" and registry.n_errors == 0 and registry.mapping.dropped == ("Patient name",)
    assert any("準備完了" in s.value for s in at.success)
    # back to English: the file is checked again, so its findings are worded in the session's language
    at.radio(key=StateKeys.LANG_WIDGET).set_value("en").run()
    again = at.session_state[StateKeys.REGISTRY]
    assert registry.language == "ja" and again.language == "en" and again.n_patients == registry.n_patients
    assert [i.rule for i in again.issues] == [i.rule for i in registry.issues]


def test_two_sessions_in_two_languages_on_the_same_page_at_the_same_moment(monkeypatch) -> None:
    """One session opened with ``?lang=ja``, one without (English), their pages run together (both
    start the page, and neither ends its run, until the other is there): each page is in its own
    language only (the switch's "日本語" is the one Japanese word of an English page)."""
    _one_runtime_for_concurrent_apptests(monkeypatch)
    start, end = threading.Barrier(2, timeout=120), threading.Barrier(2, timeout=120)
    run_page = guard.run_page

    def together(page) -> None:
        start.wait()
        try:
            run_page(page)
        finally:
            end.wait()

    monkeypatch.setattr(guard, "run_page", together)  # app.py imports it on every run
    texts: dict[str, list[str]] = {}
    errors: list[BaseException] = []

    def session(lang: str) -> None:
        try:
            at = AppTest.from_file("../app.py", default_timeout=120)
            if lang == "ja":
                at.query_params["lang"] = "ja"
            at.run()
            assert not at.exception, [e.message for e in at.exception]
            texts[lang] = visible_texts(at)
        except BaseException as exc:  # noqa: BLE001 - reported by the main thread
            errors.append(exc)

    threads = [threading.Thread(target=session, args=(lang,)) for lang in ("ja", "en")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert "読み込み済みのデータ" in texts["ja"] and "Data loaded" not in texts["ja"]
    assert "Data loaded" in texts["en"]
    assert [t for t in texts["en"] if _CJK.search(t) and t != "日本語"] == []


def _one_runtime_for_concurrent_apptests(monkeypatch) -> None:
    """AppTest is written for one run at a time: each run installs a mock Runtime singleton and removes
    it when it ends, under a session still running in another thread. Here the singleton is one mock
    (as AppTest builds it) for the whole test, and AppTest's own installs go to a subclass no one reads."""
    from unittest.mock import MagicMock

    from streamlit.runtime import Runtime
    from streamlit.runtime.caching.storage.dummy_cache_storage import MemoryCacheStorageManager
    from streamlit.runtime.dataframe_source_manager import DataframeSourceManager
    from streamlit.runtime.media_file_manager import MediaFileManager
    from streamlit.runtime.memory_media_file_storage import MemoryMediaFileStorage
    from streamlit.testing.v1 import app_test

    shared = MagicMock(spec=Runtime)
    shared.media_file_mgr = MediaFileManager(MemoryMediaFileStorage("/mock/media"))
    shared.dataframe_source_mgr = DataframeSourceManager()
    shared.cache_storage_manager = MemoryCacheStorageManager()
    monkeypatch.setattr(Runtime, "_instance", shared)
    monkeypatch.setattr(app_test, "Runtime", type("RuntimeOfOneRun", (Runtime,), {}))


def test_translating_outside_a_session_is_english_and_logs_nothing() -> None:
    """Once the app's provider is installed (as after any AppTest), domain code run outside a script
    run — a worker thread, a benchmark — is in English and does not make Streamlit warn "missing
    ScriptRunContext" for every message (it did, thousands of lines in ``make bench``)."""
    import logging

    from hcc.i18n import set_provider, tr
    from ui import i18n as ui_i18n

    records: list[logging.LogRecord] = []
    handler = logging.Handler()
    handler.emit = records.append
    logger = logging.getLogger("streamlit.runtime.scriptrunner_utils.script_run_context")
    logger.addHandler(handler)
    ui_i18n.install()
    try:
        assert tr("Overall survival") == "Overall survival"
        assert ui_i18n._session_language() is None  # noqa: SLF001
    finally:
        logger.removeHandler(handler)
        set_provider(None)
    assert [r.getMessage() for r in records] == []
