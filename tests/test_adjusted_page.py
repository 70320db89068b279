"""The Adjusted comparisons page in AppTest: the three sections render from the demo and follow the form."""

from __future__ import annotations

from streamlit.testing.v1 import AppTest

from tests.apptest import open_page

from hcc.schema import AFP_400
from hcc.schema import Col
from ui.common import StateKeys

TIMEOUT = 60


def _page() -> AppTest:
    return open_page("pages/adjusted.py", timeout=TIMEOUT)


def test_page_shows_forest_subgroups_and_weighting() -> None:
    at = _page()
    assert at.title[0].value == "Adjusted comparisons"
    assert len(at.get("plotly_chart")) == 4  # forest, subgroup forest, weighted KM, love plot
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Patients in the model"] == "612" and metrics["Left out (missing data)"] == "0"
    terms = list(at.dataframe[0].value["Term"])
    assert terms[:2] == ["LEN vs SOR", "ATZ_BEV vs SOR"] and "Child-Pugh class B vs A" in terms
    ph = at.dataframe[1].value
    assert list(ph["Term"])[-1] == "Global test"
    assert any("Proportional hazards look violated" in w.value for w in at.warning)


def test_form_changes_the_model() -> None:
    at = _page()
    at.multiselect(key=StateKeys.ADJ_COVARIATES).set_value([Col.AGE, Col.AFP])
    at.radio(key=StateKeys.ADJ_AFP_FORM).set_value(AFP_400)
    at.toggle(key=StateKeys.ADJ_CENTER).set_value(True)
    at.toggle(key=StateKeys.ADJ_IPTW).set_value(False)
    at.selectbox(key=StateKeys.ADJ_SUBGROUP).set_value(Col.ETIOLOGY)
    next(b for b in at.button if b.label == "Apply").click()
    at.run()
    assert not at.exception, [e.message for e in at.exception]
    terms = list(at.dataframe[0].value["Term"])
    assert terms == ["LEN vs SOR", "ATZ_BEV vs SOR", "Age (per year)", "AFP ≥ 400 ng/mL"]
    assert len(at.get("plotly_chart")) == 2
    assert any("Propensity weighting (IPTW)" in i.value for i in at.info)
    sub = at.dataframe[2].value
    assert list(sub.iloc[:, 0]) == ["All patients", "viral (HBV, HCV)", "non-viral"]
