"""Hardening: no raw HTML from pages, safe server settings, a crashing page reported in plain words,
and sign-in only when secrets.toml configures it."""

from __future__ import annotations

import logging
import re
import tomllib
from pathlib import Path

from streamlit.testing.v1 import AppTest

import hcc.analysis
from pages._guard import CRASH_MESSAGE

ROOT = Path(__file__).resolve().parent.parent
TIMEOUT = 60
SECRET = "P-SECRET-4711"  # stands in for patient data inside an exception message


def test_no_unsafe_html_in_the_app() -> None:
    for path in [ROOT / "app.py", *(ROOT / "pages").glob("*.py")]:
        assert "unsafe_allow_html" not in path.read_text(encoding="utf-8"), path.name


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
    """The Survival page calls hcc.analysis.analyze_endpoint (imported when the page script runs,
    so patching the module attribute reaches it); no test-only page or env switch is needed."""
    at = AppTest.from_file("../app.py", default_timeout=TIMEOUT)
    at.run()
    monkeypatch.setattr(hcc.analysis, "analyze_endpoint", _explode)
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
