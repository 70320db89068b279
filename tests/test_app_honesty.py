"""Never mislead (issue 15), as the user sees it: a registry without the locoregional-therapy columns
analysed under the Main preset says on every page, and in the KM figure's subtitle, which rules were
not applied; mapping the columns from the Data page's list restores the study's 612 patients."""

from __future__ import annotations

import html
import json
from pathlib import Path

import pandas as pd

from hcc.ingest.registry import load_bytes
from tests.apptest import open_page, shown
from ui.keys import StateKeys

DEMO = Path(__file__).resolve().parents[1] / "data" / "demo_registry.csv"
#: The demo's two locoregional-therapy columns under names no synonym matches.
RENAMED = {"concomitant_lrt": "LRT (1L)", "interline_lrt": "LRT (1L to 2L)"}
NOT_APPLIED = "Main cohort (study) — 2 of 3 rules not applied: no locoregional-therapy columns"


def demo_without_lrt_names() -> bytes:
    """The demo registry CSV with the locoregional-therapy columns renamed and ages over 89 written
    as 89 (so the de-identification guard, which the synthetic demo skips, has nothing to ask)."""
    frame = pd.read_csv(DEMO, dtype=str, keep_default_na=False)
    frame["age"] = [a if a == "" or float(a) <= 89 else "89" for a in frame["age"]]
    return frame.rename(columns=RENAMED).to_csv(index=False).encode("utf-8")


def _warnings(at) -> str:
    return shown(" ".join(w.value for w in at.warning))


def test_survival_page_and_km_subtitle_say_which_rules_were_not_applied() -> None:
    registry = load_bytes(demo_without_lrt_names(), "export.csv")
    at = open_page("pages/survival.py", registry=registry)
    caption = shown(at.caption[0].value)
    assert caption.startswith(NOT_APPLIED + " · SOR")
    page_warning = _warnings(at)
    assert "2 of 3 rules not applied" in page_warning
    assert "concomitant locoregional therapy or inter-line locoregional therapy are therefore still in" in page_warning
    assert any(NOT_APPLIED in shown(c.value) for c in at.sidebar.caption)
    assert "2 of 3 rules not applied" in shown(" ".join(w.value for w in at.sidebar.warning))
    title = json.loads(at.get("plotly_chart")[0].proto.spec)["layout"]["title"]["text"]
    assert NOT_APPLIED in html.unescape(title)  # the KM figure's subtitle


def test_full_preset_keeps_its_plain_name() -> None:
    at = open_page("pages/survival.py")
    assert shown(at.caption[0].value).startswith("Main cohort (study) · SOR")
    assert "not applied" not in _warnings(at)


def test_mapping_the_columns_from_the_list_restores_612() -> None:
    at = open_page("pages/data.py")
    at.file_uploader(key=f"{StateKeys.UPLOAD}_0").set_value(("export.csv", demo_without_lrt_names(),
                                                               "text/csv")).run()
    assert not at.exception, [e.message for e in at.exception]
    warnings = _warnings(at)
    assert ("No column is mapped to **locoregional therapy given together with first line**, so the Main cohort "
            "(study) rule excluding concomitant locoregional therapy cannot be applied. Likely: LRT (1L)") in warnings
    pick = at.selectbox(key=f"{StateKeys.PRESET_PICK}concomitant_lrt_0")
    assert list(pick.options)[:3] == ["none in this file", "LRT (1L)", "LRT (1L to 2L)"]
    assert at.session_state[StateKeys.REGISTRY].frame["concomitant_lrt"].isna().all()
    pick.set_value("LRT (1L)").run()
    at.selectbox(key=f"{StateKeys.PRESET_PICK}interline_lrt_0").set_value("LRT (1L to 2L)").run()
    assert not at.exception, [e.message for e in at.exception]
    at.switch_page("pages/survival.py")
    at.run()
    assert not at.exception, [e.message for e in at.exception]
    caption = shown(at.caption[0].value)
    assert caption.startswith("Main cohort (study) · SOR")
    counts = [int(part.split()[-1]) for part in caption.split(" — ")[0].split(" · ")[1:]]
    assert sum(counts) == 612
    assert "not applied" not in _warnings(at)


def _tiny_registry():
    """SOR: 12 patients who die month by month; LEN: 12 followed a year without a death; RAM: one
    patient, dead at 2 months. No progression date anywhere."""
    from tests.conftest import make_registry
    rows = [{"regimen_1l": "SOR", "date_death": f"2020-{m + 1:02d}-15", "date_last_followup": f"2020-{m + 1:02d}-15"}
            for m in range(1, 12)] + [{"regimen_1l": "SOR", "date_death": "2020-12-20",
                                       "date_last_followup": "2020-12-20"}]
    rows += [{"regimen_1l": "LEN"} for _ in range(12)]
    rows += [{"regimen_1l": "RAM", "date_death": "2020-03-01", "date_last_followup": "2020-03-01"}]
    return make_registry(rows, "tiny.csv")


def test_survival_page_shows_reasons_not_numbers() -> None:
    """What a clinician reads on the Survival page of a degenerate registry: the HR of a group without
    deaths, the 1-patient group, and PFS without any progression date."""
    at = open_page("pages/survival.py", registry=_tiny_registry())
    text = shown(" ".join(m.value for m in at.markdown))
    assert "too few to compare: RAM (n = 1)" in text and "longest with RAM" not in text
    tables = " ".join(shown(str(t.value.to_dict())) for t in at.table)
    assert "not estimable — no deaths in LEN" in tables
    overview = at.dataframe[0].value.set_index("Endpoint")
    assert overview.loc["PFS", "SOR"] == "not available"
    at.radio(key=StateKeys.ENDPOINT).set_value(at.radio(key=StateKeys.ENDPOINT).options[1]).run()
    assert not at.exception
    assert ("PFS is not available in this registry: column date_progression_1l has no values (no first-line "
            "progression recorded).") in _warnings(at)


def test_overview_and_cohort_pages_warn_and_name_scenarios_truthfully() -> None:
    registry = load_bytes(demo_without_lrt_names(), "export.csv")
    at = open_page("pages/overview.py", registry=registry)
    assert "2 of 3 rules not applied" in _warnings(at)
    assert any(NOT_APPLIED in shown(m.value) for m in at.markdown)
    at.switch_page("pages/cohort.py")
    at.run()
    assert "2 of 3 rules not applied" in _warnings(at)
    next(b for b in at.button if b.label.startswith("Save the current cohort")).click().run()
    at.sidebar.multiselect(key=StateKeys.COHORT + "child_pugh").set_value(["A"]).run()
    assert not at.exception, [e.message for e in at.exception]
    columns = list(at.dataframe[-1].value.columns)
    assert f"A: {NOT_APPLIED}" in columns
    assert ("B (current): Main cohort (study) + Child-Pugh A — 2 of 4 rules not applied: no "
            "locoregional-therapy columns") in columns
