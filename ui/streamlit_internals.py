"""Every use of Streamlit internals (names outside its documented API) in the app, in one place.

Pinned to ``streamlit==1.67.0`` (requirements.txt). ``tests/test_streamlit_internals.py`` is the
canary: after a Streamlit upgrade it fails with a message naming what moved, instead of the app
failing at run time. No other module imports from ``streamlit.runtime`` or reads a private attribute.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

import streamlit as st
from streamlit import runtime
from streamlit.runtime.pages_manager import PagesManager
from streamlit.runtime.scriptrunner import get_script_run_ctx
from streamlit.runtime.scriptrunner_utils.exceptions import ScriptControlException

__all__ = ["ScriptControlException", "STREAMLIT_EXCEPTION_LOGGERS", "leave_legacy_pages_mode", "sweep_media_soon"]

#: Streamlit's loggers of an uncaught app exception ("Uncaught app execution", error_util) and of a
#: deferred download's failure ("Error executing deferred callable", backend_operation_handler).
STREAMLIT_EXCEPTION_LOGGERS: tuple[str, ...] = ("streamlit.error_util", "streamlit.runtime.backend_operation_handler")


def leave_legacy_pages_mode() -> None:
    """Switch a fresh server from the legacy ``pages/`` folder mode to ``st.navigation`` routing.

    With a ``pages/`` folder beside app.py, Streamlit starts each new process in its legacy mode and,
    until some session has run ``st.navigation``, runs a deep-linked page on its own; clearing
    ``PagesManager.uses_pages_directory`` and rerunning makes the URL resolve through app.py.
    Does nothing once the process routes through app.py.
    """
    if PagesManager.uses_pages_directory:
        PagesManager.uses_pages_directory = False
        st.rerun()


def sweep_media_soon(delays_s: tuple[float, ...]) -> None:
    """Run Streamlit's own sweep of unreferenced media files after each delay (seconds).

    Streamlit marks an unreferenced file on one pass and deletes it on the next; passes normally
    happen at the end of script runs, so without runs a file made on click stays fetchable.
    """
    if not runtime.exists():
        return
    sweep: Callable[[], None] = runtime.get_instance().media_file_mgr.remove_orphaned_files
    for delay in delays_s:
        timer = threading.Timer(delay, sweep)
        timer.daemon = True
        timer.start()


def in_script_run() -> bool:
    """Whether this thread is running a session's script (a page, a fragment or a callback).

    Outside one (a worker thread, a benchmark or test calling the domain code after AppTest imported
    the app), ``st.session_state`` logs a "missing ScriptRunContext" warning on every access."""
    return get_script_run_ctx(suppress_warning=True) is not None
