"""The Survival page's caching contract (issue 11): cosmetic changes never recompute statistics;
results are memoized per session under (data fingerprint, cohort spec, endpoint, analysis spec)."""

from __future__ import annotations

from streamlit.testing.v1 import AppTest

from ui.keys import StateKeys


def _survival() -> AppTest:
    at = AppTest.from_file("../app.py", default_timeout=60)
    at.run()
    at.switch_page("pages/survival.py")
    at.run()
    assert not at.exception
    return at


def test_cosmetic_changes_reuse_every_result_and_a_rule_change_adds_new_ones() -> None:
    at = _survival()
    memo = dict(at.session_state[StateKeys.MEMO])
    keys = [k for k in memo if k[1] == "km"]
    assert keys and all(k[0] == "en" and len(k[2]) == 64 for k in keys)  # keyed by language and the data's SHA-256
    at.toggle(key=StateKeys.SHOW_CI).set_value(True).run()
    at.toggle(key=StateKeys.MEDIAN_LINES).set_value(False).run()
    assert not at.exception
    after = at.session_state[StateKeys.MEMO]
    assert after.keys() == memo.keys() and all(after[k] is memo[k] for k in memo)  # nothing recomputed
    at.number_input(key=StateKeys.COHORT + "age_min").set_value(60.0).run()
    assert not at.exception
    assert len([k for k in at.session_state[StateKeys.MEMO] if k[1] == "km"]) > len(keys)


def test_the_excel_workbooks_are_made_on_click_not_on_every_run(monkeypatch) -> None:
    import ui.downloads

    made = []
    monkeypatch.setattr(ui.downloads, "tables_xlsx", lambda tables: made.append(tables) or b"")
    at = _survival()
    assert [b for b in at.get("download_button") if b.label == "Excel"]
    assert made == []  # openpyxl's import and the workbook: only when a user asks for the file
    generate = ui.downloads.made_on_click(lambda: ui.downloads.tables_xlsx({"t": None}), "t.xlsx")
    assert generate() == b"" and made == [{"t": None}]
