"""Every page in AppTest (streamlit.testing.v1), driven from the app's own page registry."""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from tests.apptest import open_page, shown, shown_table

from ui.common import PAGES, StateKeys
from tests.conftest import registry_csv
from hcc.cohort.rules import MAIN, PRESETS
from hcc.ingest.registry import load_demo
from hcc.schema import Col

TIMEOUT = 60
WIDGETS = {"Radio", "Toggle", "Selectbox", "Checkbox", "TextInput", "NumberInput", "Multiselect"}


def _app(page: str | None = None) -> AppTest:
    return open_page(page, timeout=TIMEOUT)


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
    return shown("\n".join(parts))


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
    table = shown_table(at.table[0].value)
    assert list(table.index) == ["SOR", "LEN", "ATZ_BEV"]
    assert table["Log-rank"].iloc[0].startswith("p\u00a0")  # non-breaking: never wraps (issue 15)
    at.radio(key=StateKeys.ENDPOINT).set_value(at.radio(key=StateKeys.ENDPOINT).options[1]).run()
    assert not at.exception
    assert "progression" in _text(at).lower()


def test_switching_to_full_cohort_changes_counts() -> None:
    at = _app("pages/survival.py")
    main_n = shown_table(at.table[0].value)["Patients"].astype(int).sum()
    at.button(key="preset_full").click().run()
    full_n = shown_table(at.table[0].value)["Patients"].astype(int).sum()
    assert full_n > main_n
    assert full_n == load_demo().n_patients


def test_upload_replaces_demo_in_this_session_and_reports_problems() -> None:
    rows = [{Col.REGIMEN_1L: r, Col.DATE_DEATH: "2020-06-01", Col.DATE_LAST_FOLLOWUP: "2020-06-01"}
            for r in ("SOR", "LEN", "SOR", "LEN")] + [{Col.START_1L: ""}]
    data = registry_csv(rows)
    at = _app("pages/data.py")
    at.file_uploader(key=f"{StateKeys.UPLOAD}_0").set_value(("mine.csv", data, "text/csv")).run()
    assert not at.exception
    text = _text(at)
    assert "Uploaded file: mine.csv" in text
    assert at.warning and "1 row-excluding problem" in at.warning[0].value
    report = [b for b in at.get("download_button") if b.label.startswith("Download the validation report")]
    # patient codes and raw values: made on click, no /media URL before (ui/downloads.py short_lived_download)
    assert len(report) == 1 and report[0].proto.deferred_file_id and not report[0].proto.url
    at.switch_page("pages/survival.py")
    at.run()
    assert not at.exception
    assert shown_table(at.table[0].value)["Patients"].astype(int).sum() == 4


@pytest.mark.parametrize("index", range(7))
def test_every_endpoint_renders(index: int) -> None:
    """Each endpoint of the radio renders its figure and tables (the row click is tested in e2e)."""
    from hcc.schema import ENDPOINT_LABELS
    from hcc.schema import SURVIVAL_ENDPOINTS as ENDPOINTS
    at = _app("pages/survival.py")
    at.radio(key=StateKeys.ENDPOINT).set_value(ENDPOINTS[index]).run()
    assert not at.exception
    assert f"{ENDPOINT_LABELS[ENDPOINTS[index]]} ({ENDPOINTS[index].value})" in _text(at)
    assert len(at.get("plotly_chart")) == 1 and len(at.table) == 3


def test_statistical_settings_change_the_numbers() -> None:
    at = _app("pages/survival.py")
    before = shown_table(at.table[0].value).columns.tolist()
    at.multiselect(key=StateKeys.MILESTONES).set_value([3, 36])
    at.selectbox(key=StateKeys.REFERENCE).set_value("ATZ_BEV")
    at.button[0].click().run()  # the form's Apply button
    assert not at.exception
    after = shown_table(at.table[0].value).columns.tolist()
    assert "3-month rate (95% CI)" in after and "3-month rate (95% CI)" not in before
    assert "Against ATZ_BEV" in _text(at)


def test_figure_toggles_only_redraw() -> None:
    at = _app("pages/survival.py")
    at.toggle(key=StateKeys.KMUNICATE).set_value(True).run()
    at.toggle(key=StateKeys.PERCENT).set_value(True).run()
    assert not at.exception
    fig = at.get("plotly_chart")[0].proto.spec
    assert "Events" in fig and "Proportion alive (%)" in fig  # OS: the y axis names what it is the proportion of


def _attrition_rules(at: AppTest) -> str:
    return at.get("plotly_chart")[0].proto.spec


def test_cohort_page_rule_change_updates_counts_diagram_and_url() -> None:
    at = _app("pages/cohort.py")
    before_caption = shown(at.caption[0].value)
    before_chart = _attrition_rules(at)
    assert "Main cohort (study)" in before_caption
    assert at.query_params["exclude_concomitant_lrt"] in ("yes", ["yes"])
    at.sidebar.multiselect(key=StateKeys.COHORT + "child_pugh").set_value(["A"]).run()
    assert not at.exception
    # The edited cohort is named by its rules (it was "Custom cohort", which said nothing of who is in).
    assert shown(at.caption[0].value).startswith("Main cohort (study) + Child-Pugh A ·")
    assert "Child-Pugh class not A" in _attrition_rules(at) and _attrition_rules(at) != before_chart
    assert at.query_params["child_pugh"] in ("A", ["A"])
    assert "Characteristic" in at.dataframe[-1].value.columns  # Table 1 follows the cohort


def test_scenario_comparison() -> None:
    at = _app("pages/cohort.py")
    next(b for b in at.button if b.label.startswith("Save the current cohort")).click().run()
    at.button(key="preset_full").click().run()
    assert not at.exception
    table = at.dataframe[-1].value
    a, b = [c for c in table.columns if c.startswith(("A:", "B"))]
    patients = table[(table["Measure"] == "Patients") & (table["Regimen"] == "all")].iloc[0]
    assert a.endswith("Main cohort (study)") and b.endswith("Full cohort")
    assert int(patients[a].replace(",", "")) < int(patients[b].replace(",", ""))
    assert (table["Measure"] == "Median OS, months (95% CI)").sum() == 3


def test_link_with_rules_opens_that_cohort() -> None:
    at = AppTest.from_file("../app.py", default_timeout=TIMEOUT)
    at.query_params["regimens"] = "SOR,ATZ_BEV"
    at.query_params["bclc_stages"] = "C"
    at.run()
    assert not at.exception
    spec = at.session_state[StateKeys.SPEC]
    assert spec.regimens == ("SOR", "ATZ_BEV") and spec.bclc_stages == ("C",) and not spec.exclude_concomitant_lrt


def test_bad_link_falls_back_to_main_cohort_with_message() -> None:
    at = AppTest.from_file("../app.py", default_timeout=TIMEOUT)
    at.query_params["ecog_ps"] = "9"
    at.run()
    assert not at.exception
    assert "could not be read" in at.sidebar.error[0].value
    assert at.session_state[StateKeys.SPEC].exclude_concomitant_lrt


@pytest.mark.parametrize("params, message", [
    ({"other_below": "²"}, "'other_below' must be a whole number"),
    ({"age_min": "200"}, "'age_min' 200 is outside 0 to 120 years"),
])
def test_link_with_unreadable_or_out_of_range_value_says_so(params, message) -> None:
    """A non-ASCII digit once crashed the page (generic error); an out-of-range age was dropped by the
    widget without a word. Both now show the link message and fall back to the main cohort."""
    at = open_page(query=params, timeout=TIMEOUT)
    errors = [shown(e.value) for e in at.sidebar.error]
    assert any("could not be read" in e and message in e for e in errors), errors
    assert at.session_state[StateKeys.SPEC] == PRESETS[MAIN]


def test_link_with_unknown_regimen_says_it_was_left_out() -> None:
    at = open_page(query={"regimens": "XYZ,SOR"}, timeout=TIMEOUT)
    assert [shown(w.value) for w in at.sidebar.warning] == [
        "Regimen XYZ is not in this registry, so it was left out of the cohort rules."]
    assert at.session_state[StateKeys.SPEC].regimens == ("SOR",)


def test_registry_with_too_many_regimens_is_capped_with_a_sidebar_warning() -> None:
    """20 first-line regimens (5 of 2 patients, 15 of 1): the Cohort page compares the 5 and Other,
    and the sidebar says what was pooled and why (the cap), on the page the user is on."""
    from hcc.cohort.rules import MAX_GROUPS
    from tests.conftest import make_registry
    rows = [{Col.REGIMEN_1L: f"R{i:02d}"} for i in range(20) for _ in range(1 + (i < 5))]
    at = open_page("pages/cohort.py", registry=make_registry(rows, "many.csv"))
    assert [w.value for w in at.sidebar.warning] == [
        "15 regimens with fewer than 2 patients (15 in all) pooled as Other to keep the comparison readable; "
        f"the cap is {MAX_GROUPS} groups."]
    assert sorted(at.sidebar.multiselect(key=StateKeys.COHORT + "regimens").options) == [
        "Other", "R00", "R01", "R02", "R03", "R04"]


def test_second_line_page_sections_and_class_grouping() -> None:
    at = _app("pages/secondline.py")
    assert len(at.get("plotly_chart")) == 7  # sankey, two cumulative incidence, pathway, three KM figures
    assert "Started second line after progression" in shown_table(at.table[0].value).columns
    at.segmented_control(key=StateKeys.SL_LEVEL).set_value("class").run()
    assert not at.exception
    assert "TKI" in at.get("plotly_chart")[0].proto.spec
    at.selectbox(key=StateKeys.SL_FIRST).set_value("SOR").run()
    at.radio(key=StateKeys.SL_ENDPOINT).set_value(at.radio(key=StateKeys.SL_ENDPOINT).options[2]).run()
    assert not at.exception, [e.message for e in at.exception]
    assert "PFS2" in _text(at) or "Progression-free survival 2" in at.get("plotly_chart")[4].proto.spec


def test_second_line_class_edit_goes_into_the_cohort_rules() -> None:
    at = _app("pages/secondline.py")
    at.session_state[StateKeys.COHORT + "second_line_classes"] = [("OTHER", "Chemotherapy")]
    at.run()
    assert not at.exception
    assert at.session_state[StateKeys.SPEC].second_line_classes == (("OTHER", "Chemotherapy"),)
    assert at.query_params["second_line_classes"] in ("OTHER:Chemotherapy", ["OTHER:Chemotherapy"])


def test_response_page_rates_models_landmark_swimmer() -> None:
    at = _app("pages/response.py")
    text = _text(at)
    assert "immortal time" in text and "biased (immortal time)" in " ".join(
        c for d in at.dataframe for c in d.value.columns)
    models = next(d.value for d in at.dataframe if "Time-dependent HR (95% CI)" in d.value.columns)
    assert list(models["Regimen"]) == ["SOR", "LEN", "ATZ_BEV", "Pooled"] * 2
    assert models["Study HR"].tolist()[:3] == ["0.51", "0.54", "0.34"]
    assert len(at.get("plotly_chart")) == 2 + 2 + 1  # bar per criterion, a KM per landmark, swimmer
    at.radio(key=StateKeys.RESP_REGIMEN_AS).set_value("covariate").run()
    at.multiselect(key=StateKeys.RESP_LANDMARKS).set_value([6])
    at.radio(key=StateKeys.RESP_LM_COVARIATE).set_value("OR")
    at.selectbox(key=StateKeys.RESP_LM_REGIMEN).set_value("LEN").run()
    assert not at.exception
    assert len(at.get("plotly_chart")) == 2 + 1 + 1 and "OR by 6 months" in at.get("plotly_chart")[2].proto.spec
    at.selectbox(key=StateKeys.SWIM_REGIMEN).set_value("ATZ_BEV")
    at.slider(key=StateKeys.SWIM_N).set_value(20).run()
    assert not at.exception and "a random sample of 20 of 181 patients" in at.get("plotly_chart")[-1].proto.spec


def test_second_line_page_says_when_second_line_regimens_were_pooled() -> None:
    """SOR then 20 second-line regimens (5 of 2 patients, 15 of 1): the After-first-line page's
    by-second-line comparison shows the pooling note under its figure, as the CLI JSON does."""
    from hcc.cohort.rules import MAX_GROUPS
    from tests.conftest import make_registry
    rows = [{Col.REGIMEN_1L: "SOR", Col.DATE_PROGRESSION_1L: "2020-03-01", Col.REGIMEN_2L: f"X{i:02d}",
             Col.START_2L: "2020-03-20", Col.DATE_DEATH: f"2020-{6 + i % 6:02d}-01",
             Col.DATE_LAST_FOLLOWUP: f"2020-{6 + i % 6:02d}-01"} for i in range(20) for _ in range(1 + (i < 5))]
    at = open_page("pages/secondline.py", registry=make_registry(rows, "second_line.csv"))
    assert ("15 second-line regimens with fewer than 2 patients (15 in all) pooled as Other to keep the "
            f"comparison readable; the cap is {MAX_GROUPS} groups.") in [shown(i.value) for i in at.info]
