"""Every page in AppTest (streamlit.testing.v1), driven from the app's own page registry."""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from pages._common import PAGES, StateKeys
from tests.conftest import registry_csv
from hcc.registry import load_demo
from hcc.schema import Col

TIMEOUT = 60
WIDGETS = {"Radio", "Toggle", "Selectbox", "Checkbox", "TextInput", "NumberInput", "Multiselect"}


def _app(page: str | None = None) -> AppTest:
    at = AppTest.from_file("../app.py", default_timeout=TIMEOUT)
    at.run()
    if page is not None:
        at.switch_page(page)
        at.run()
    assert not at.exception, [e.message for e in at.exception]
    return at


def _walk(node):
    yield node
    for child in getattr(node, "children", {}).values():
        yield from _walk(child)


def _text(at: AppTest) -> str:
    """Every text-bearing element's value (markdown, captions, alerts, metrics, titles), sidebar included."""
    parts = []
    for node in _walk(at._tree):
        value = getattr(node, "value", None)
        if isinstance(value, (str, int, float)) and type(node).__name__ not in WIDGETS:
            parts.append(str(value))
    return "\n".join(parts)


@pytest.mark.parametrize("spec", PAGES, ids=lambda s: s.url_path)
def test_every_page_renders_without_exception(spec) -> None:
    at = _app(spec.path)
    assert at.title, spec.path
    assert "synthetic" in _text(at).lower() or "Synthetic" in _text(at)


def test_overview_says_what_is_loaded() -> None:
    at = _app()
    demo = load_demo()
    text = _text(at)
    assert f"{demo.n_patients:,}" in text and "synthetic demo registry" in text.lower()
    assert len(at.get("page_link")) == len(PAGES) - 1


def test_survival_page_shows_curves_table_and_logrank() -> None:
    at = _app("pages/survival.py")
    assert len(at.get("plotly_chart")) == 1
    table = at.table[0].value
    assert list(table.index) == ["SOR", "LEN", "ATZ_BEV"]
    assert table["Log-rank"].iloc[0].startswith("p ")
    at.radio(key=StateKeys.ENDPOINT).set_value(at.radio(key=StateKeys.ENDPOINT).options[1]).run()
    assert not at.exception
    assert "progression" in _text(at).lower()


def test_switching_to_full_cohort_changes_counts() -> None:
    at = _app("pages/survival.py")
    main_n = at.table[0].value["Patients"].astype(int).sum()
    at.button(key="preset_full").click().run()
    full_n = at.table[0].value["Patients"].astype(int).sum()
    assert full_n > main_n
    assert full_n == load_demo().n_patients


def test_upload_replaces_demo_in_this_session_and_reports_problems() -> None:
    rows = [{Col.REGIMEN_1L: r, Col.DATE_DEATH: "2020-06-01", Col.DATE_LAST_FOLLOWUP: "2020-06-01"}
            for r in ("SOR", "LEN", "SOR", "LEN")] + [{Col.START_1L: ""}]
    data = registry_csv(rows)
    at = _app("pages/data.py")
    at.file_uploader(key=StateKeys.UPLOAD).set_value(("mine.csv", data, "text/csv")).run()
    assert not at.exception
    text = _text(at)
    assert "Uploaded file: mine.csv" in text
    assert at.warning and "1 row-excluding problem" in at.warning[0].value
    assert any(b.label.startswith("Download the validation report") for b in at.get("download_button"))
    at.switch_page("pages/survival.py")
    at.run()
    assert not at.exception
    assert at.table[0].value["Patients"].astype(int).sum() == 4


@pytest.mark.parametrize("index", range(7))
def test_every_endpoint_renders(index: int) -> None:
    """Each endpoint of the radio renders its figure and tables (the row click is tested in e2e)."""
    from hcc.schema import ENDPOINT_LABELS, ENDPOINTS
    at = _app("pages/survival.py")
    at.radio(key=StateKeys.ENDPOINT).set_value(ENDPOINTS[index]).run()
    assert not at.exception
    assert f"{ENDPOINT_LABELS[ENDPOINTS[index]]} ({ENDPOINTS[index].value})" in _text(at)
    assert len(at.get("plotly_chart")) == 1 and len(at.table) == 3


def test_statistical_settings_change_the_numbers() -> None:
    at = _app("pages/survival.py")
    before = at.table[0].value.columns.tolist()
    at.multiselect(key=StateKeys.MILESTONES).set_value([3, 36])
    at.selectbox(key=StateKeys.REFERENCE).set_value("ATZ_BEV")
    at.button[0].click().run()  # the form's Apply button
    assert not at.exception
    after = at.table[0].value.columns.tolist()
    assert "3-month rate (95% CI)" in after and "3-month rate (95% CI)" not in before
    assert "Against ATZ_BEV" in _text(at)


def test_figure_toggles_only_redraw() -> None:
    at = _app("pages/survival.py")
    at.toggle(key=StateKeys.KMUNICATE).set_value(True).run()
    at.toggle(key=StateKeys.PERCENT).set_value(True).run()
    assert not at.exception
    fig = at.get("plotly_chart")[0].proto.spec
    assert "Events" in fig and "Survival (%)" in fig
