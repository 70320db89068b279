"""The frame around every page: optional sign-in, and a crash in one page reported in clinical words.

Sign-in is on only when ``.streamlit/secrets.toml`` has an ``[auth]`` section (Streamlit's OIDC
``st.login``; see ``docs/deploy.md``); otherwise the app is open, as for local use.
"""

from __future__ import annotations

import logging
import traceback

import streamlit as st
from streamlit.runtime.scriptrunner_utils.exceptions import ScriptControlException  # pinned streamlit==1.67.0

LOG = logging.getLogger("hcc.app")
CRASH_MESSAGE = ("Something went wrong on this page, so its results are not shown. Your data and cohort are "
                 "kept: try another page or other settings, or reload. If it happens again, tell the app's "
                 "maintainer which page and settings you used.")


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
    st.info("Please sign in to use the app.", icon=":material/lock:")
    st.button("Sign in", on_click=st.login, icon=":material/login:")
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
        where = "; ".join(f"{f.filename.rsplit('/', 1)[-1]}:{f.lineno} in {f.name}"
                          for f in traceback.extract_tb(exc.__traceback__))
        LOG.error("Page %r failed with %s at %s", getattr(page, "title", "?"), type(exc).__name__, where)
        st.error(CRASH_MESSAGE, icon=":material/error:")
