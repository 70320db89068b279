"""Opening the app in AppTest (streamlit.testing.v1) on one page, as every page test does."""

from __future__ import annotations

import re

from streamlit.testing.v1 import AppTest

from ui.keys import StateKeys
from ui.text import map_text

TIMEOUT = 60
_ESCAPE = re.compile(r"\\([!-/:-@\[-`{-~])")


def shown(markdown: str) -> str:
    """``markdown`` as the browser shows it, as far as backslash escapes go (``ui/text.py`` md() puts
    them before every special character of a name from the data)."""
    return _ESCAPE.sub(r"\1", markdown)


def open_page(page: str | None = None, *, timeout: float = TIMEOUT, query: dict[str, str] | None = None,
              registry=None) -> AppTest:
    """The app run once through its router, then switched to ``page`` (a path relative to app.py) and
    run again; fails the test if either run raised. ``query``: URL parameters of the first request;
    ``registry``: a loaded registry put in the session as an upload would be (default: the demo)."""
    at = AppTest.from_file("../app.py", default_timeout=timeout)
    for name, value in (query or {}).items():
        at.query_params[name] = value
    if registry is not None:
        at.session_state[StateKeys.REGISTRY] = registry
    at.run()
    if page is not None:
        at.switch_page(page)
        at.run()
    assert not at.exception, [e.message for e in at.exception]
    return at


def shown_table(frame):
    """An ``st.table``'s DataFrame as the browser shows it (its text is markdown: see :func:`shown`)."""
    return map_text(frame, shown)
