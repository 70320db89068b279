"""Hardening: no raw HTML from pages, safe server settings, a crashing page, sidebar or button reported
in plain words with the session kept, logs without messages, and sign-in only when secrets.toml
configures it."""

from __future__ import annotations

import ast
import logging
import re
import tomllib
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

import hcc.outputs.reports
from hcc.cohort.rules import FULL, PRESETS
import ui.common
import ui.downloads
import ui.sidebar
from ui.actions import UNEXPECTED
from ui.common import StateKeys
from ui.guard import CRASH_MESSAGE, SIDEBAR_CRASH_MESSAGE, STREAMLIT_ERROR_LOGGER
from tests.apptest import shown
from tests.conftest import make_registry

ROOT = Path(__file__).resolve().parent.parent
TIMEOUT = 60
SECRET = "P-SECRET-4711"  # stands in for patient data inside an exception message


def _app_code() -> list[Path]:
    """The entry point, the page scripts and the shared UI package (``ui/``)."""
    return [ROOT / "app.py", *(ROOT / "pages").glob("*.py"), *(ROOT / "ui").rglob("*.py")]


def _html_arguments_that_are_not_constants(tree: ast.Module) -> list[int]:
    """Lines of ``st.html(x)`` calls whose ``x`` is not a string literal or a module-level name bound to one."""
    constants = {t.id for node in tree.body if isinstance(node, ast.Assign)
                 and isinstance(node.value, ast.Constant) and isinstance(node.value.value, str)
                 for t in node.targets if isinstance(t, ast.Name)}
    bad = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "html":
            arg = node.args[0] if node.args else None
            if not ((isinstance(arg, ast.Constant) and isinstance(arg.value, str))
                    or (isinstance(arg, ast.Name) and arg.id in constants)):
                bad.append(node.lineno)
    return bad


def test_no_unsafe_html_in_the_app() -> None:
    """No raw HTML from data: no ``unsafe_allow_html``, and ``st.html`` only with the app's own constant
    text (presentation mode's style sheet), so a name from the file can never be rendered as markup."""
    for path in _app_code():
        text = path.read_text(encoding="utf-8")
        assert "unsafe_allow_html" not in text, path.name
        assert _html_arguments_that_are_not_constants(ast.parse(text)) == [], path.name


def test_the_html_check_sees_data_in_st_html() -> None:
    assert _html_arguments_that_are_not_constants(ast.parse("st.html(f'<b>{name}</b>')")) == [1]
    assert _html_arguments_that_are_not_constants(ast.parse("CSS = '<style></style>'\nst.html(CSS)")) == []


def test_server_config_is_hardened() -> None:
    config = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text(encoding="utf-8"))
    assert config["browser"]["gatherUsageStats"] is False
    assert config["server"]["enableXsrfProtection"] is True
    assert 0 < config["server"]["maxUploadSize"] <= 200
    assert config["client"]["showErrorDetails"] == "none"
    assert config["server"].get("enableCORS", True) is True  # docs/deploy.md: never Access-Control-Allow-Origin *
    assert config["server"].get("enableAgentApi", False) is False


def _explode(*args, **kwargs):
    raise ValueError(f"boom for patient {SECRET} in /srv/secret/path.py")


def test_a_crashing_page_is_reported_in_clinical_words_and_the_session_goes_on(monkeypatch, caplog) -> None:
    """The Survival page's summaries come from ui.common.endpoint_summary, which calls
    analyze_endpoint (patching ui.common's name reaches it); no test-only page or env switch is needed."""
    at = AppTest.from_file("../app.py", default_timeout=TIMEOUT)
    at.run()
    monkeypatch.setattr(ui.common, "analyze_endpoint", _explode)
    with caplog.at_level(logging.ERROR):
        at.switch_page("pages/survival.py")
        at.run()
    assert not at.exception, [e.message for e in at.exception]
    messages = [e.value for e in at.error]
    assert any(m.startswith("Something went wrong on this page") for m in messages), messages
    assert CRASH_MESSAGE in messages
    shown = "\n".join(messages)
    assert SECRET not in shown and "Traceback" not in shown and not re.search(r"\.py\b|/", shown)
    assert "ValueError" in caplog.text and SECRET not in caplog.text  # the type, never the message
    assert at.sidebar.button, "the sidebar (session) must still be there"

    monkeypatch.undo()
    at.switch_page("pages/overview.py")
    at.run()
    assert not at.exception and not at.error
    assert at.title[0].value


def test_without_auth_secrets_there_is_no_sign_in() -> None:
    at = AppTest.from_file("../app.py", default_timeout=TIMEOUT)
    at.run()
    assert not at.exception
    assert not [b for b in at.button if b.label == "Sign in"]


def test_with_auth_secrets_a_signed_out_user_sees_only_the_sign_in() -> None:
    at = AppTest.from_file("../app.py", default_timeout=TIMEOUT)
    at.secrets["auth"] = {"redirect_uri": "http://localhost:8501/oauth2callback", "cookie_secret": "x" * 32,
                          "client_id": "id", "client_secret": "secret",
                          "server_metadata_url": "https://idp.example/.well-known/openid-configuration"}
    at.run()
    assert not at.exception, [e.message for e in at.exception]
    assert [b.label for b in at.button] == ["Sign in"]
    assert not at.sidebar.button


def test_with_auth_secrets_a_signed_in_user_sees_the_app() -> None:
    at = AppTest.from_file("../app.py", default_timeout=TIMEOUT)
    at.secrets["auth"] = {"redirect_uri": "http://localhost:8501/oauth2callback", "cookie_secret": "x" * 32}
    at.user = {"email": "doctor@example.org", "is_logged_in": True}
    at.run()
    assert not at.exception, [e.message for e in at.exception]
    assert not [b for b in at.button if b.label == "Sign in"]
    assert at.sidebar.button and at.title[0].value


def _callback_arguments(tree: ast.AST):
    """(line, keyword value) of every ``on_click=``/``on_change=`` argument in a module."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            for kw in node.keywords:
                if kw.arg in ("on_click", "on_change"):
                    yield node.lineno, kw.value


def test_every_callback_in_the_app_is_guarded() -> None:
    """Each on_click/on_change is ``guarded(...)``, except downloads' ``"ignore"`` (no callback) and
    Streamlit's own ``st.login`` (the sign-in screen has no session to lose)."""
    found, unguarded = 0, []
    for path in _app_code():
        for line, value in _callback_arguments(ast.parse(path.read_text(encoding="utf-8"))):
            found += 1
            ok = ((isinstance(value, ast.Call) and getattr(value.func, "id", None) == "guarded")
                  or (isinstance(value, ast.Constant) and value.value == "ignore")
                  or ast.unparse(value) == "st.login")
            if not ok:
                unguarded.append(f"{path.name}:{line} {ast.unparse(value)}")
    assert found >= 14, found  # the walk sees the app's callbacks (it would pass vacuously otherwise)
    assert unguarded == []


def _report_html_boom(*args, **kwargs):
    raise ValueError(f"report failed for patient {SECRET}")


def _figure_bytes_boom(*args, **kwargs):
    raise ValueError(f"kaleido failed on {SECRET}")


def _widget_values_boom(*args, **kwargs):
    raise KeyError(SECRET)


def _click_build_html(at: AppTest) -> None:
    at.button(key="build_html").click().run()


def _click_prepare_figure(at: AppTest) -> None:
    at.button(key=StateKeys.FIG_EXPORT + "attrition_make").click().run()


def _click_full_cohort(at: AppTest) -> None:
    at.button(key="preset_full").click().run()


def _click_restore_scenario(at: AppTest) -> None:
    next(b for b in at.button if b.label == "Save the current cohort as scenario A").click().run()
    next(b for b in at.button if b.label == "Restore scenario A in the sidebar").click().run()


def _click_recreate_view(at: AppTest) -> None:
    spec = PRESETS[FULL].to_json().encode("utf-8")
    at.file_uploader(key=StateKeys.REOPEN_FILE).set_value(("cohort_spec.json", spec, "application/json")).run()
    next(b for b in at.button if b.label == "Recreate this view").click().run()


ACTIONS = [  # (page, what to break, its replacement, the click, the action named in the message)
    ("pages/export.py", (hcc.outputs.reports, "report_html"), _report_html_boom, _click_build_html,
     "Building the html report (interactive)"),
    ("pages/cohort.py", (ui.downloads, "figure_bytes"), _figure_bytes_boom, _click_prepare_figure,
     "Preparing the figure files"),
    ("pages/survival.py", (ui.sidebar, "widget_values"), _widget_values_boom, _click_full_cohort,
     "Choosing the full cohort"),
    ("pages/cohort.py", (ui.sidebar, "widget_values"), _widget_values_boom, _click_restore_scenario,
     "Restoring scenario A"),
    ("pages/data.py", (ui.sidebar, "widget_values"), _widget_values_boom, _click_recreate_view,
     "Recreating the view"),
]


@pytest.mark.parametrize("page, target, replacement, click, action", ACTIONS, ids=[a[4] for a in ACTIONS])
def test_a_failing_button_keeps_the_upload_and_cohort(monkeypatch, caplog, page, target, replacement, click,
                                                      action) -> None:
    """Before the guard, any of these left Streamlit's bare error page, and the next page failed with
    KeyError 'cohort_regimens' until the browser was reloaded."""
    registry = make_registry([{"regimen_1l": r} for r in ("SOR", "LEN", "SOR", "LEN", "SOR", "LEN")], "mine.csv")
    at = AppTest.from_file("../app.py", default_timeout=TIMEOUT)
    at.session_state[StateKeys.REGISTRY] = registry
    at.run()
    at.sidebar.multiselect(key=StateKeys.COHORT + "regimens").set_value(["SOR"]).run()
    monkeypatch.setattr(*target, replacement)  # before the page draws the button: a callback keeps that run's names
    at.switch_page(page)
    at.run()
    spec = at.session_state[StateKeys.SPEC]
    with caplog.at_level(logging.ERROR):
        click(at)
    assert not at.exception, [e.message for e in at.exception]
    errors = [e.value for e in at.error]
    assert f"{action} failed: {UNEXPECTED}. Your data and cohort are kept." in errors, errors
    assert SECRET not in "\n".join(errors)
    assert at.session_state[StateKeys.REGISTRY] is registry
    assert at.session_state[StateKeys.SPEC] == spec and spec.regimens == ("SOR",)
    assert at.session_state[StateKeys.COHORT + "regimens"] == ["SOR"]
    assert caplog.records and SECRET not in caplog.text
    assert any(type_name in caplog.text for type_name in ("ValueError", "KeyError"))

    monkeypatch.undo()
    at.switch_page("pages/overview.py")
    at.run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert at.session_state[StateKeys.REGISTRY] is registry
    assert any("Uploaded file: mine.csv" in shown(s.value) for s in at.sidebar.success)
    assert at.session_state[StateKeys.SPEC].regimens == ("SOR",)
    assert not [e for e in at.error if "failed" in e.value], "the failure is shown once, not on every page"


FAILING_ACTION = """
import streamlit as st
from ui.actions import guarded, show_failed_action

def act():
    st.session_state["kept"] = "changed"
    st.session_state["added"] = 1
    raise RuntimeError("half done")

st.session_state.setdefault("kept", "original")
show_failed_action()
st.button("Go", on_click=guarded(act, "Going"))
st.write(st.session_state["kept"], "added" in st.session_state)
"""


def test_a_failed_action_leaves_no_partial_state() -> None:
    at = AppTest.from_string(FAILING_ACTION, default_timeout=TIMEOUT)
    at.run()
    at.button[0].click().run()
    assert not at.exception
    assert [e.value for e in at.error] == [f"Going failed: {UNEXPECTED}. Your data and cohort are kept."]
    assert at.session_state["kept"] == "original" and "added" not in at.session_state
    at.run()
    assert not at.error  # shown once


def test_a_failing_sidebar_does_not_break_the_page(monkeypatch) -> None:
    at = AppTest.from_file("../app.py", default_timeout=TIMEOUT)
    at.run()
    monkeypatch.setattr(ui.sidebar, "cohort_index_quietly", _explode)  # the first work the sidebar does
    at.switch_page("pages/survival.py")
    at.run()
    assert not at.exception, [e.message for e in at.exception]
    assert SIDEBAR_CRASH_MESSAGE in [e.value for e in at.sidebar.error]
    assert at.get("plotly_chart"), "the page still runs, on the last cohort"
    monkeypatch.undo()
    at.run()
    assert not at.exception and not at.sidebar.error and at.sidebar.button


UNCAUGHT = f"""
from ui.guard import redact_streamlit_log
redact_streamlit_log()
raise ValueError("uncaught for patient {SECRET}")
"""


def test_streamlit_logs_an_uncaught_exception_without_its_message() -> None:
    """What escapes every guard is logged by Streamlit itself (logger streamlit.error_util): type and
    places only. Streamlit's loggers do not propagate, so the test listens on that logger directly."""
    records: list[logging.LogRecord] = []
    handler = logging.Handler()
    handler.emit = records.append
    logger = logging.getLogger(STREAMLIT_ERROR_LOGGER)
    logger.addHandler(handler)
    try:
        at = AppTest.from_string(UNCAUGHT, default_timeout=TIMEOUT)
        at.run()
    finally:
        logger.removeHandler(handler)
    assert at.exception  # it did escape
    text = "\n".join(logging.Formatter().format(r) for r in records)
    assert "Uncaught app execution: ValueError at " in text
    assert SECRET not in text and "Traceback" not in text


def test_rich_tracebacks_stay_off() -> None:
    """With logger.enableRich Streamlit prints the exception with its message, past the log filter."""
    config = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text(encoding="utf-8"))
    assert config.get("logger", {}).get("enableRich", False) is False


def test_cohort_rules_dropped_by_streamlit_come_back_from_the_last_cohort(monkeypatch) -> None:
    """Streamlit drops the state of widgets a run did not draw when the next run is on another page. A
    run that failed before drawing the sidebar (here: the sidebar itself) drew none; the sidebar then
    found COHORT_READY set but its widgets' keys gone: the KeyError 'cohort_regimens' of every later run."""
    at = AppTest.from_file("../app.py", default_timeout=TIMEOUT)
    at.run()
    at.sidebar.multiselect(key=StateKeys.COHORT + "child_pugh").set_value(["A"]).run()
    monkeypatch.setattr(ui.sidebar, "sidebar", _explode)
    at.run()
    assert not at.sidebar.multiselect  # this run drew no cohort widget
    monkeypatch.undo()
    at.switch_page("pages/cohort.py")
    at.run()
    assert not at.exception, [e.message for e in at.exception]
    assert not at.sidebar.error, [e.value for e in at.sidebar.error]
    assert at.session_state[StateKeys.COHORT + "child_pugh"] == ["A"]
    assert at.session_state[StateKeys.SPEC].child_pugh == ("A",)


def test_a_file_made_on_click_fails_without_its_message_in_the_log(caplog) -> None:
    """Streamlit logs a deferred download's exception with its chain; the wrapper logs type and place,
    and what Streamlit then sees carries neither the message nor the original exception."""
    def make() -> bytes:
        raise ValueError(f"row of patient {SECRET}")

    generate = ui.downloads.made_on_click(make, "validation_report.csv")
    with caplog.at_level(logging.ERROR), pytest.raises(RuntimeError) as raised:
        generate()
    assert "Making validation_report.csv failed with ValueError at" in caplog.text
    assert SECRET not in caplog.text and SECRET not in str(raised.value)
    assert raised.value.__cause__ is None and raised.value.__suppress_context__
    assert ui.downloads.made_on_click(lambda: b"ok", "x.csv")() == b"ok"
