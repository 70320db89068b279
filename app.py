"""HCC Outcomes Explorer: the entry point. A router and a frame; every page lives in pages/."""

import streamlit as st

from pages._common import PAGES
from pages._guard import login_screen, needs_login, run_page
from pages._sidebar import sidebar

st.set_page_config(page_title="HCC Outcomes Explorer", page_icon=":material/monitoring:", layout="wide")

sections: dict[str, list] = {}
for spec in PAGES:
    sections.setdefault(spec.section, []).append(
        st.Page(spec.path, title=spec.title, icon=spec.icon, url_path=spec.url_path, default=spec.default))
locked = needs_login()  # only when secrets.toml configures [auth] (docs/deploy.md)
page = st.navigation(sections, position="hidden" if locked else "sidebar")
if locked:
    login_screen()
sidebar()
run_page(page)  # a crash in a page is reported in plain words; the session goes on
