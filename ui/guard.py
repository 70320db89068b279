"""The frame around every page: optional sign-in, and a failure in a page or the sidebar reported in
clinical words while the session (upload, cohort) goes on (buttons and widgets: ``ui/actions.py``).

Sign-in is on only when ``.streamlit/secrets.toml`` has an ``[auth]`` section (Streamlit's OIDC
``st.login``; see ``docs/deploy.md``); otherwise the app is open, as for local use.

Every failure is logged as its exception *type* and code locations only, never its message, which
could quote a file name or a patient's value; :func:`redact_streamlit_log` does the same to what
Streamlit itself logs for an exception that escapes every guard.
"""

from __future__ import annotations

import logging
import traceback
from typing import Callable

import streamlit as st

from hcc.i18n import N_, tr
from ui.streamlit_internals import STREAMLIT_EXCEPTION_LOGGERS, ScriptControlException

LOG = logging.getLogger("hcc.app")
CRASH_MESSAGE = N_("Something went wrong on this page, so its results are not shown. Your data and cohort are "
                 "kept: try another page or other settings, or reload. If it happens again, tell the app's "
                 "maintainer which page and settings you used.")
SIDEBAR_CRASH_MESSAGE = N_("The cohort rules could not be shown, so the last cohort is kept. Your data are kept: "
                         "try again, or press a cohort preset.")
STREAMLIT_ERROR_LOGGER = STREAMLIT_EXCEPTION_LOGGERS[0]  # logs "Uncaught app execution" with the exception


def where(exc: BaseException) -> str:
    """The code locations of ``exc``'s traceback as ``file.py:line in function; …`` (no values)."""
    return "; ".join(f"{f.filename.rsplit('/', 1)[-1]}:{f.lineno} in {f.name}"
                     for f in traceback.extract_tb(exc.__traceback__))


def log_failure(what: str, exc: BaseException) -> None:
    """Log that ``what`` (app text, never data) failed: the exception's type and places, not its message."""
    LOG.error("%s failed with %s at %s", what, type(exc).__name__, where(exc))


def auth_configured() -> bool:
    """True when secrets.toml has an ``[auth]`` section; False (never an error) without secrets."""
    try:
        return bool(st.secrets.load_if_toml_exists()) and "auth" in st.secrets
    except Exception:  # a missing or unreadable secrets.toml means: no sign-in
        return False


def needs_login() -> bool:
    """True when sign-in is configured and this user has not signed in yet."""
    return auth_configured() and not getattr(st.user, "is_logged_in", False)


def login_screen() -> None:
    """The only thing a signed-out user sees: a sign-in button. Stops the run."""
    st.title("HCC Outcomes Explorer")
    st.info(tr("Please sign in to use the app."), icon=":material/lock:")
    st.button(tr("Sign in"), on_click=st.login, icon=":material/login:")
    st.stop()


def run_page(page) -> None:
    """Run ``page``; an unexpected exception becomes a plain message and the session continues.

    Streamlit's own control flow (``st.stop``, ``st.rerun``, ``st.switch_page``) passes through.
    The server log gets the exception type and code locations only: never its message or
    values, which could hold patient data.
    """
    try:
        page.run()
    except ScriptControlException:
        raise
    except Exception as exc:  # noqa: BLE001 - the point is to catch anything a page raises
        log_failure(f"Page {getattr(page, 'title', '?')!r}", exc)
        st.error(tr(CRASH_MESSAGE), icon=":material/error:")


def run_sidebar(sidebar: Callable[[], None]) -> None:
    """Run the sidebar; if it fails, say so in the sidebar and let the page run on the last cohort.

    The sidebar runs on every page, so an exception escaping it would break every page of the session.
    """
    try:
        sidebar()
    except ScriptControlException:
        raise
    except Exception as exc:  # noqa: BLE001 - as run_page
        log_failure("The sidebar", exc)
        st.sidebar.error(tr(SIDEBAR_CRASH_MESSAGE), icon=":material/error:")


class _TypeAndPlaceOnly(logging.Filter):
    """Rewrites a log record that carries an exception to its type and code locations only."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.exc_info and record.exc_info[1] is not None:
            exc = record.exc_info[1]
            record.args = (record.getMessage(), type(exc).__name__, where(exc))
            record.msg = "%s: %s at %s"
            record.exc_info = record.exc_text = None
        return True


def redact_streamlit_log() -> None:
    """Make Streamlit's own log of an uncaught app exception say its type and places, not its message.

    Idempotent (app.py calls it on every run). Streamlit prints the exception itself instead when
    ``logger.enableRich`` is on: keep it off (tests/test_hardening.py).
    """
    for name in STREAMLIT_EXCEPTION_LOGGERS:
        logger = logging.getLogger(name)
        if not any(isinstance(f, _TypeAndPlaceOnly) for f in logger.filters):
            logger.addFilter(_TypeAndPlaceOnly())
