"""Names from an uploaded file cannot become markdown: on every page, in every markdown context
(markdown, captions, alerts, titles and headers, labels, tooltips, radio options), a regimen, center,
column or file name holding a link, an image, HTML or LaTeX is shown escaped (ui/text.py md())."""

from __future__ import annotations

import re

import pandas as pd

import pytest
from streamlit.testing.v1 import AppTest

from hcc.ingest.registry import load_bytes
from hcc.schema import COLUMNS, Col
from ui.common import PAGES, StateKeys
from ui.text import md, md_table
from tests.conftest import registry_csv

TIMEOUT = 60
EVIL = ("![x](http://evil.invalid/a.png)", "[click](javascript:alert(1))", "<img src=x>", "$x$")
EVIL_FILE = "![f](http://evil.invalid/f.png)<img src=x>$x$.csv"
# Unescaped: a link or image "](", a tag "<img", math "$x$". md() puts a backslash before each.
UNSAFE = re.compile(r"(?<!\\)\]\(|(?<!\\)<img|(?<!\\)\$x")
MARKDOWN_FIELDS = {"body", "label", "help", "caption", "captions"}  # fields Streamlit renders as markdown
# (and st.table's cells: found by the browser test, tests/e2e/test_frame.py)
PLAIN_ELEMENTS = {"Text", "Code"}  # st.text / st.code show their body as plain text


def evil_csv() -> bytes:
    rows = [{Col.REGIMEN_1L: name, Col.CENTER: EVIL[(i + 1) % len(EVIL)], Col.DATE_DEATH: f"2020-0{3 + i % 6}-01",
             Col.DATE_LAST_FOLLOWUP: f"2020-0{3 + i % 6}-01"} for i, name in enumerate(EVIL * 3)]
    return registry_csv(rows, [c.name for c in COLUMNS] + ["<img src=x>", "![y](http://evil.invalid/b.png)"])


def _strings(message):
    """(field name, string) of every string field of a protobuf message, nested ones included."""
    for descriptor, value in message.ListFields():
        repeated = not isinstance(value, (str, bytes)) and not hasattr(value, "ListFields") and hasattr(value, "__len__")
        for item in value if repeated else [value]:
            if isinstance(item, str):
                yield descriptor.name, item
            elif hasattr(item, "ListFields"):
                yield from _strings(item)


def markdown_texts(at: AppTest) -> list[str]:
    """Every string the browser renders as markdown on the page and in the sidebar."""
    out, stack = [], [at._tree]
    while stack:
        node = stack.pop()
        stack.extend(getattr(node, "children", {}).values())
        if type(node).__name__ == "Table":  # st.table renders cells, headers and index labels as markdown
            frame = node.value
            labels = [part for v in [*frame.index, *frame.columns] for part in (v if isinstance(v, tuple) else (v,))]
            out += [v for v in [*frame.to_numpy().ravel(), *labels] if isinstance(v, str)]  # tuples: a MultiIndex
        proto = getattr(node, "proto", None)
        if proto is None or type(proto).__name__ in PLAIN_ELEMENTS:
            continue
        radio = type(proto).__name__ == "Radio"  # its options are markdown too
        out += [text for name, text in _strings(proto) if name in MARKDOWN_FIELDS or (radio and name == "options")]
    return out


def unsafe(at: AppTest) -> list[str]:
    return [t for t in markdown_texts(at) if UNSAFE.search(t)]


def test_md_escapes_links_images_html_and_math() -> None:
    assert md("![x](http://evil.invalid/a.png)") == r"\!\[x\]\(http\://evil\.invalid/a\.png\)"
    assert md("<img src=x>") == r"\<img src=x\>"
    assert md("a\\](b") == r"a\\\]\(b"  # a backslash in the data cannot cancel the escape after it
    assert md("line\n# heading") == r"line \# heading"
    assert md("SOR") == "SOR" and md(12) == "12"
    for text in (*EVIL, EVIL_FILE):
        assert not UNSAFE.search(md(text)), text


def test_the_detector_sees_unescaped_markdown() -> None:
    """The check below must be able to fail: an unescaped name on a page is found."""
    at = AppTest.from_string(f"import streamlit as st\nimport pandas as pd\nst.caption({EVIL[0]!r})\n"
                             f"st.radio('x', [{EVIL[2]!r}])\nst.table({{'a': [{EVIL[3]!r}]}})\n"
                             f"st.table(pd.DataFrame({{'a': [1], 'b': [{EVIL[1]!r}], 'c': [2]}}).set_index(['b', 'c']))")
    at.run()
    assert len(unsafe(at)) == 4


def test_md_table_escapes_every_part_of_a_multiindex() -> None:
    frame = pd.DataFrame({"Regimen": [EVIL[0]], "Months": ["12"], "x": [EVIL[2]]}).set_index(["Regimen", "Months"])
    shown = md_table(frame)
    assert shown.index[0] == (md(EVIL[0]), "12") and shown.iloc[0, 0] == md(EVIL[2])


@pytest.mark.parametrize("spec", PAGES, ids=lambda s: s.url_path)
def test_no_page_renders_a_name_from_the_file_as_markdown(spec) -> None:
    at = AppTest.from_file("../app.py", default_timeout=TIMEOUT)
    at.session_state[StateKeys.REGISTRY] = load_bytes(evil_csv(), EVIL_FILE)
    at.run()
    at.switch_page(spec.path)
    at.run()
    assert not at.exception, [e.message for e in at.exception]
    texts = markdown_texts(at)
    assert any("evil" in t for t in texts), "the hostile names are not on the page: the test would prove nothing"
    assert unsafe(at) == []


def test_the_data_page_escapes_an_uploaded_file_and_its_columns() -> None:
    at = AppTest.from_file("../app.py", default_timeout=TIMEOUT)
    at.run()
    at.switch_page("pages/data.py")
    at.run()
    at.file_uploader(key=f"{StateKeys.UPLOAD}_0").set_value((EVIL_FILE, evil_csv(), "text/csv")).run()
    assert not at.exception, [e.message for e in at.exception]
    assert any("evil" in t for t in markdown_texts(at))
    assert unsafe(at) == []
