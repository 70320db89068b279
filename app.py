"""HCC Outcomes Explorer: the entry point. A router and a frame; every page lives in pages/."""

import streamlit as st

from pages._common import PAGES
from pages._sidebar import sidebar

st.set_page_config(page_title="HCC Outcomes Explorer", page_icon=":material/monitoring:", layout="wide")

sections: dict[str, list] = {}
for spec in PAGES:
    sections.setdefault(spec.section, []).append(
        st.Page(spec.path, title=spec.title, icon=spec.icon, url_path=spec.url_path, default=spec.default))
page = st.navigation(sections)
sidebar()
page.run()
