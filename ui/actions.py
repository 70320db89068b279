"""Button and widget actions (``on_click``/``on_change`` callbacks) that fail without ending the session.

Streamlit runs callbacks before the script, outside the page guard (``ui/guard.py``): an exception
escaping one shows Streamlit's bare error page instead of the app, and its message reaches the server
log. Every callback in ``pages/`` goes through :func:`guarded` (``tests/test_hardening.py`` walks the
code to check), except ``on_click="ignore"`` downloads and Streamlit's own ``st.login``.
"""

from __future__ import annotations

import functools
from typing import Callable

import streamlit as st
from streamlit.errors import StreamlitAPIException

from hcc.errors import HCCError
from hcc.i18n import N_, tr
from ui.guard import log_failure
from ui.keys import StateKeys
from ui.streamlit_internals import ScriptControlException
from ui.text import md

ACTION_FAILED = N_("{action} failed: {reason}. Your data and cohort are kept.")
UNEXPECTED = N_("an unexpected problem (its type and place are in the server log for the app's maintainer)")


def _restore(before: dict[str, object]) -> None:
    """Put session state back as it was before a failed action: what it added removed, what it changed reset.

    Buttons, uploaders and editors cannot be assigned (Streamlit raises); an action never changes them.
    A value changed in place (an entry added to the results cache) stays: it is a cache, not a choice.
    """
    state = st.session_state
    for name in [k for k in state.keys() if k not in before]:
        state.pop(name, None)
    for name, value in before.items():
        if name not in state or state[name] is not value:
            try:
                state[name] = value
            except StreamlitAPIException:
                pass


def guarded(callback: Callable[..., None], action: str) -> Callable[..., None]:
    """``callback`` for ``on_click``/``on_change`` such that an exception in it cannot end the session.

    Streamlit runs callbacks before the script, outside :func:`run_page`: an escaping exception shows
    Streamlit's bare error page, and the next page switch drops the state of every widget the failed
    run did not draw (the sidebar's cohort). Here, a failed ``callback`` puts session state back as it
    was (a half-done action leaves nothing behind), is logged as type and place only, and the run goes
    on; :func:`show_failed_action` then says ``"<action> failed: …"``. ``action`` is app text, e.g.
    ``"Building the slide deck"``, marked with ``N_`` (translated when shown); a domain error's message
    (the user's own file) is shown, escaped.
    Streamlit's control flow (``st.rerun``, ``st.switch_page``: a ``BaseException`` here) passes through.
    """
    @functools.wraps(callback)
    def run(*args, **kwargs) -> None:
        before = st.session_state.to_dict()
        try:
            callback(*args, **kwargs)
        except ScriptControlException:
            raise
        except Exception as exc:  # noqa: BLE001 - any failure of an action is reported, not fatal
            _restore(before)
            log_failure(action, exc)
            reason = md(exc) if isinstance(exc, HCCError) else tr(UNEXPECTED)
            st.session_state[StateKeys.FAILED_ACTION] = tr(ACTION_FAILED, action=tr(action), reason=reason)
    return run


def show_failed_action() -> None:
    """Show (once) what the last failed button or widget action was, at the top of the page."""
    message = st.session_state.pop(StateKeys.FAILED_ACTION, None)
    if message:
        st.error(message, icon=":material/error:")
