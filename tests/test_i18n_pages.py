"""Every page in Japanese (``?lang=ja``) on the demo registry: no English word left on the page, in
its tables or in its figures (codes, units and method names aside: tests/i18n_check.py), and the
language switch carries the choice into the link."""

from __future__ import annotations

import pytest

from tests.apptest import open_page
from tests.i18n_check import english_words, visible_texts
from hcc.schema import COLUMNS, ETIOLOGIES
from ui.common import PAGES
from ui.keys import StateKeys


#: The data contract's column names and coded values, which a file must hold as written: the Data page
#: documents them, so they stay as codes there (and only there).
CONTRACT_CODES = {c.name for c in COLUMNS} | set(ETIOLOGIES)


@pytest.mark.parametrize("page", [spec.path for spec in PAGES])
def test_every_page_speaks_japanese(page: str) -> None:
    at = open_page(page, query={"lang": "ja"})
    texts = visible_texts(at)
    assert any("生存" in t or "データ" in t for t in texts)  # the page did render, in Japanese
    left = english_words(texts, allowed=CONTRACT_CODES if page == "pages/data.py" else ())
    assert left == [], f"{len(left)} English words on {page}:\n" + "\n".join(left[:60])


def test_the_switch_changes_the_language_and_the_link() -> None:
    at = open_page("pages/survival.py")
    assert at.session_state[StateKeys.LANG] == "en" and "lang" not in at.query_params
    at.radio(key=StateKeys.LANG_WIDGET).set_value("ja").run()
    assert not at.exception
    assert at.session_state[StateKeys.LANG] == "ja" and at.query_params["lang"] == "ja"
    assert any("全生存期間" in t for t in visible_texts(at))
    at.radio(key=StateKeys.LANG_WIDGET).set_value("en").run()
    assert at.query_params["lang"] == "en" and not any("全生存期間" in t for t in visible_texts(at))
