"""HCC Outcomes Explorer: the entry point. A router and a frame; every page lives in pages/."""

import streamlit as st

from hcc.i18n import tr
from ui.common import PAGES
from ui.database import database_page
from ui.actions import show_failed_action
from ui.i18n import choose_language, install, language_switch
from ui.guard import login_screen, needs_login, redact_streamlit_log, run_page, run_sidebar
from ui.sidebar import sidebar

redact_streamlit_log()  # anything escaping the guards below is logged as type and place, not message
install()  # every message follows the calling session's language (hcc.i18n)
choose_language()
# A local emoji: a ":material/…:" page icon makes the browser fetch an icon font from another host.
st.set_page_config(page_title="HCC Outcomes Explorer", page_icon="📈", layout="wide")

sections: dict[str, list] = {}
for spec in PAGES:
    sections.setdefault(tr(spec.section), []).append(
        st.Page(spec.path, title=tr(spec.title), icon=spec.icon, url_path=spec.url_path, default=spec.default))
locked = needs_login()  # only when secrets.toml configures [auth] (docs/deploy.md)
page = st.navigation(sections, position="hidden" if locked else "sidebar")
language_switch()  # first in the sidebar, also above the sign-in screen
if locked:
    login_screen()
run_sidebar(sidebar)  # a failure in the sidebar cannot break every page
show_failed_action()  # a button or widget action of the previous interaction that failed (ui/guard.py)
run_page(database_page(page))  # a crash in a page is reported in plain words; the session goes on
