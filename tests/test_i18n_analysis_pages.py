"""The analysis pages' own words in Japanese (Survival, Response, After first line, Adjusted comparisons
and presentation mode): the slide header of presentation mode, a fragment's rerun and a callback follow
the session's language, and the slide keys work whatever the labels' language. The whole pages in
Japanese: tests/test_i18n_pages.py; English presentation mode: tests/test_present.py."""

from __future__ import annotations

import pandas as pd

from hcc.i18n import use_language
from tests.apptest import open_page
from tests.i18n_check import english_words, visible_texts
from ui.keys import StateKeys
from ui.present import EXIT, NEXT, PREVIOUS, _KEYS_JS, table_slides
from ui.i18n import shown_in_this_language
from ui.widgets import adjustment_name


def _header(at) -> list[str]:
    """The slide header's texts: the counter with the slide's title, and the buttons with their help."""
    counter = [e.value for e in at.markdown if e.value.startswith("**") and " / " in e.value]
    buttons = [b for b in at.button if (b.key or "").startswith("present_")]
    return counter + [t for b in buttons for t in (b.label, b.help or "")]


def test_presentation_mode_speaks_japanese_and_steps_in_it() -> None:
    at = open_page("pages/survival.py", query={"lang": "ja", "present": "1"})
    header = _header(at)
    assert header[0].startswith("**1 / ") and "全生存期間" in header[0]  # the first slide: OS curves
    assert {"次へ ▶", "◀ 前へ", "✕ 終了"} <= set(header)
    assert english_words(header) == []
    at.button(key="present_next").click().run()  # a callback, run in the session's language
    assert not at.exception
    assert _header(at)[0].startswith("**2 / ") and english_words(_header(at)) == []


def test_a_km_option_redraws_in_japanese() -> None:
    """The figure options live in an st.fragment: toggling one reruns it, in the session's language."""
    at = open_page("pages/survival.py", query={"lang": "ja"})
    at.toggle(key=StateKeys.SHOW_CI).set_value(True).run()
    assert not at.exception
    assert at.toggle(key=StateKeys.SHOW_CI).label == "95%信頼区間の帯"
    assert at.toggle(key=StateKeys.RISK_TABLE).label == "at-risk数"
    assert at.radio(key=StateKeys.ENDPOINT).label == "評価項目"
    assert any("一次治療レジメン別の生存解析" in t for t in visible_texts(at))


def test_options_keep_their_language_when_the_page_runs_again() -> None:
    """A widget's options are labelled in the language of the run that drew them, also when AppTest (or
    Streamlit) formats them again outside the run: the second run of a Japanese page does not fail."""
    at = open_page("pages/response.py", query={"lang": "ja"})
    assert at.selectbox(key=StateKeys.RESP_LM_REGIMEN).options[0] == "全レジメン"
    at.selectbox(key=StateKeys.SWIM_SORT).set_value("regimen").run()
    assert not at.exception
    assert "3 か月" in [t.label for t in at.tabs]


def test_an_option_label_is_in_the_language_of_its_run() -> None:
    with use_language("ja"):
        label = shown_in_this_language(adjustment_name)
    assert label("holm") == "Holm法"  # called later, where no language is set
    assert adjustment_name("holm") == "holm"  # English: R's own name, as before


def test_slide_titles_of_a_long_table_are_numbered_in_the_language() -> None:
    table = pd.DataFrame({"x": range(30)})
    with use_language("ja"):
        titles = [s.title for s in table_slides("表1", table)]
    assert titles == ["表1（1/3）", "表1（2/3）", "表1（3/3）"]
    assert [s.title for s in table_slides("Table 1", table)] == ["Table 1 (1/3)", "Table 1 (2/3)", "Table 1 (3/3)"]


def test_the_slide_keys_find_the_buttons_by_their_keys() -> None:
    """Translated labels ("次へ ▶") would not match the English ones the keys once looked for."""
    for label, key in ((NEXT, "present_next"), (PREVIOUS, "present_prev"), (EXIT, "present_exit")):
        assert f"'{label}': '{key}'" in _KEYS_JS
    assert "st-key-" in _KEYS_JS
