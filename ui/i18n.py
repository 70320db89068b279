"""The session's language: chosen from the link (``?lang=ja``), else the browser's language, and
switched in the sidebar. The catalog itself is :mod:`hcc.i18n`.

The language is a value of the session's own state (:data:`StateKeys.LANG`). :func:`install`
registers, once per process, a provider that *looks it up in the calling session* each time a
message is translated — so a fragment rerun or a button callback is in the session's language,
and two sessions in two languages never share one.
"""

from __future__ import annotations

from collections.abc import Callable

import streamlit as st

from hcc.i18n import DEFAULT, LANGUAGES, N_, current_language, normalize, set_provider, tr, use_language
from ui.actions import guarded
from ui.keys import StateKeys
from ui.streamlit_internals import in_script_run


def _session_language() -> str | None:
    if not in_script_run():  # no session (a worker thread, a benchmark): no choice, and no warning per message
        return None
    try:
        return st.session_state.get(StateKeys.LANG)
    except Exception:  # noqa: BLE001 — outside a script run (a worker thread, a test): no session, no choice
        return None


def install() -> None:
    """Make :func:`hcc.i18n.tr` follow the calling session's language (idempotent)."""
    set_provider(_session_language)


def _browser_language() -> str:
    try:
        return normalize(st.context.locale)
    except Exception:  # noqa: BLE001 — older clients / AppTest send no locale
        return DEFAULT


def choose_language() -> str:
    """The session's language for this run: ``?lang=`` when the link has one we speak, else the one
    chosen before in this session, else the browser's. Keeps the link in step, so a copied link
    opens in the same language (an English session that never chose keeps a link without it)."""
    state = st.session_state
    asked = st.query_params.get("lang")
    if asked is not None and asked.strip().lower() in LANGUAGES:
        state[StateKeys.LANG] = asked.strip().lower()
    elif StateKeys.LANG not in state:
        state[StateKeys.LANG] = _browser_language()
    lang = state[StateKeys.LANG]
    _sync_link(lang)
    return lang


def _sync_link(lang: str) -> None:
    # English with no choice made keeps the link clean; any other language (or a choice) is in it.
    if (lang != DEFAULT or "lang" in st.query_params) and st.query_params.get("lang") != lang:
        st.query_params["lang"] = lang


def _switched() -> None:
    lang = st.session_state.get(StateKeys.LANG_WIDGET)
    if lang not in LANGUAGES:
        return
    st.session_state[StateKeys.LANG] = lang
    st.query_params["lang"] = lang


def language_switch() -> None:
    """English / 日本語 in the sidebar (each choice written in its own language)."""
    st.session_state[StateKeys.LANG_WIDGET] = st.session_state.get(StateKeys.LANG, DEFAULT)
    st.sidebar.radio(tr("Language"), list(LANGUAGES), format_func=LANGUAGES.__getitem__, horizontal=True,
                     key=StateKeys.LANG_WIDGET, on_change=guarded(_switched, N_("Switching the language")),
                     label_visibility="collapsed")


def shown_in_this_language(format_func: Callable[[object], str]) -> Callable[[object], str]:
    """``format_func`` for a widget's options, bound to the language of the run that draws the widget.

    Streamlit formats the options while the script runs (in the session's language); its test harness
    (AppTest) formats the current value again outside any session, where :func:`hcc.i18n.tr` would
    answer in English and the value would match none of the (translated) options."""
    lang = current_language()

    def formatted(value: object) -> str:
        with use_language(lang):
            return format_func(value)

    return formatted
