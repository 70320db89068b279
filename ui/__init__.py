"""Shared Streamlit UI code for the page scripts in ``pages/``: the page registry and session keys
(``common``, ``keys``), the frame (``guard``, ``actions``, ``sidebar``), the one markdown escape
(``text``), downloads, presentation mode, upload/mapping/reopen widgets and the per-page widget
groups. It lives outside ``pages/`` because Streamlit lists every ``pages/*.py`` as a page on a
fresh server. Domain logic stays in ``hcc/`` (which never imports this package)."""
