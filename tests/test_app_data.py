"""The Data page in AppTest: a messy export is mapped (a required column chosen, an ambiguous date format
answered, a possible identifier dropped), loaded, analysed; bad files get messages; Clear data forgets it."""

from __future__ import annotations

from streamlit.testing.v1 import AppTest

from tests.apptest import open_page, shown, shown_table

from hcc.ingest.registry import load_demo
from hcc.schema import Col
from ui.common import StateKeys
from tests.messy import messy_export

TIMEOUT = 60


def _data_page() -> AppTest:
    return open_page("pages/data.py", timeout=TIMEOUT)


def _by_key_prefix(elements, prefix: str):
    return next(e for e in elements if str(e.key).startswith(prefix))


def test_messy_upload_is_mapped_then_analysed() -> None:
    at = _data_page()
    at.file_uploader(key=f"{StateKeys.UPLOAD}_0").set_value(("export.csv", messy_export(), "text/csv")).run()
    assert not at.exception, [e.message for e in at.exception]
    warnings = shown(" ".join(w.value for w in at.warning))
    assert "required start_1l" in warnings
    _by_key_prefix(at.selectbox, f"{StateKeys.REQUIRED_PICK}start_1l").set_value("Tx begin").run()
    warnings = shown(" ".join(w.value for w in at.warning))
    assert "Choose the date format of start_1l" in warnings
    assert "possible identifier 'Patient name'" in warnings
    assert StateKeys.REGISTRY not in at.session_state  # blocked: nothing loaded yet
    at.radio(key=f"{StateKeys.DATE_FORMAT}start_1l").set_value("MDY").run()
    at.radio(key=f"{StateKeys.IDENTIFIER}Patient name").set_value("drop").run()
    assert not at.exception, [e.message for e in at.exception]
    registry = at.session_state[StateKeys.REGISTRY]
    assert registry.name == "export.csv" and registry.n_patients == registry.rows_read > 150 and registry.n_errors == 0
    assert registry.mapping.dropped == ("Patient name",)
    demo = load_demo().frame.set_index("patient_id")
    got = registry.frame.set_index("patient_id")["start_1l"]
    assert (got == demo.loc[got.index, "start_1l"]).all()  # month-first, as answered
    assert "Patient name" not in registry.frame.columns and "Patient name" not in registry.unknown_columns
    assert any(b.label.startswith("Save this mapping") for b in at.get("download_button"))
    at.switch_page("pages/survival.py")
    at.run()
    assert not at.exception, [e.message for e in at.exception]
    assert shown_table(at.table[0].value)["Patients"].astype(int).sum() > 0
    assert at.get("plotly_chart")


def test_bad_file_gets_a_message_and_the_demo_stays() -> None:
    at = _data_page()
    at.file_uploader(key=f"{StateKeys.UPLOAD}_0").set_value(("x.xlsx", b"PK\x03\x04garbage", "application/zip")).run()
    assert not at.exception
    assert "damaged or incomplete" in at.error[0].value
    assert StateKeys.REGISTRY not in at.session_state


def test_clear_data_forgets_the_upload() -> None:
    at = _data_page()
    frame = load_demo().frame.head(50).drop(columns="_source_row")
    frame["age"] = frame["age"].clip(upper=89)  # no identifying ages: nothing to resolve
    data = frame.to_csv(index=False, date_format="%Y-%m-%d").replace("True", "yes").replace("False", "no").encode()
    at.file_uploader(key=f"{StateKeys.UPLOAD}_0").set_value(("mine.csv", data, "text/csv")).run()
    assert at.session_state[StateKeys.REGISTRY].name == "mine.csv"
    next(b for b in at.button if b.label == "Clear data").click().run()
    assert not at.exception
    assert StateKeys.REGISTRY not in at.session_state and StateKeys.MEMO not in at.session_state
    assert at.file_uploader(key=f"{StateKeys.UPLOAD}_1").value in (None, [])


def test_small_groups_are_flagged_on_screen() -> None:
    from tests.conftest import registry_csv
    from hcc.schema import Col
    rows = [{Col.REGIMEN_1L: r, Col.DATE_DEATH: "2020-06-01", Col.DATE_LAST_FOLLOWUP: "2020-06-01"}
            for r in ["SOR"] * 6 + ["LEN"] * 3]
    at = _data_page()
    at.file_uploader(key=f"{StateKeys.UPLOAD}_0").set_value(("small.csv", registry_csv(rows), "text/csv")).run()
    at.switch_page("pages/survival.py")
    at.run()
    assert not at.exception, [e.message for e in at.exception]
    notes = [c.value for c in at.caption if "Fewer than 5 patients" in c.value]
    assert notes and "LEN" in notes[0] and "SOR" not in notes[0]


def test_changing_the_mapping_recomputes_every_result() -> None:
    """Same file, new mapping: the pages must not show results cached for the old mapping."""
    from tests.conftest import registry_csv
    from hcc.ingest.mapping import Mapping, propose
    from hcc.ingest.io import read_table
    from hcc.schema import Col
    rows = [{Col.REGIMEN_1L: r, Col.DATE_DEATH: f"2020-0{3 + i % 6}-01", Col.DATE_LAST_FOLLOWUP: f"2020-0{3 + i % 6}-01"}
            for i, r in enumerate(["SOR"] * 6 + ["Mystery"] * 6)]
    data = registry_csv(rows)
    at = _data_page()
    at.file_uploader(key=f"{StateKeys.UPLOAD}_0").set_value(("m.csv", data, "text/csv")).run()
    at.switch_page("pages/survival.py")
    at.run()
    assert list(shown_table(at.table[0].value).index) == ["SOR", "Mystery"]
    fixed = Mapping(columns=propose(read_table(data, "m.csv")).columns, values=((Col.REGIMEN_1L, "Mystery", "LEN"),))
    at.switch_page("pages/data.py")
    at.run()
    at.file_uploader(key=f"{StateKeys.MAPPING_FILE}_0").set_value(
        ("mapping.json", fixed.to_json().encode(), "application/json")).run()
    assert at.session_state[StateKeys.REGISTRY].regimens == ("SOR", "LEN")
    at.switch_page("pages/survival.py")
    at.run()
    assert not at.exception, [e.message for e in at.exception]
    assert list(shown_table(at.table[0].value).index) == ["SOR", "LEN"]


def test_a_pending_upload_shows_nothing_of_the_demo_and_a_loaded_one_is_ready() -> None:
    """While the upload's mapping is incomplete, the page shows none of the demo's summary or its "No
    problems found"; once loaded, a "Ready" message names the file and offers the way to Survival."""
    at = _data_page()
    assert any("No problems found" in s.value for s in at.success)  # the demo, before any upload
    at.file_uploader(key=f"{StateKeys.UPLOAD}_0").set_value(("export.csv", messy_export(), "text/csv")).run()
    assert not at.exception, [e.message for e in at.exception]
    assert StateKeys.REGISTRY not in at.session_state
    assert not any("No problems found" in s.value for s in at.success)
    assert not [m for m in at.metric if m.label == "Patients kept"]
    assert not any(b.label == "Go to Survival ▶" for b in at.button)
    _by_key_prefix(at.selectbox, f"{StateKeys.REQUIRED_PICK}start_1l").set_value("Tx begin").run()
    at.radio(key=f"{StateKeys.DATE_FORMAT}start_1l").set_value("MDY").run()
    at.radio(key=f"{StateKeys.IDENTIFIER}Patient name").set_value("drop").run()
    registry = at.session_state[StateKeys.REGISTRY]
    ready = [s.value for s in at.success if "Ready" in s.value]
    assert len(ready) == 1 and "export" in shown(ready[0]) and f"{registry.n_patients:,} patients" in ready[0]
    assert any(b.label == "Go to Survival ▶" for b in at.button)
    assert [m.value for m in at.metric if m.label == "Patients kept"] == [f"{registry.n_patients:,}"]


def test_identifier_question_and_top_coding_note_state_the_same_count() -> None:
    """The age question counts every row of the file with an age of 90 or older; after top-coding the
    page states that same number (an age of exactly 90 and a row validation keeps out included)."""
    frame = load_demo().frame.head(50).drop(columns="_source_row")
    frame["age"] = frame["age"].clip(upper=89)
    frame.loc[[0, 1, 2, 3], "age"] = [90, 95, 97.5, 99]
    frame.loc[3, "start_1l"] = None  # this row is kept out of every analysis
    data = frame.to_csv(index=False, date_format="%Y-%m-%d").replace("True", "yes").replace("False", "no").encode()
    at = _data_page()
    at.file_uploader(key=f"{StateKeys.UPLOAD}_0").set_value(("old.csv", data, "text/csv")).run()
    question = at.radio(key=f"{StateKeys.IDENTIFIER}age")
    assert "4 patient(s) aged 90 or older" in shown(question.label)
    question.set_value(question.options[1]).run()  # top-code at 90
    assert not at.exception, [e.message for e in at.exception]
    registry = at.session_state[StateKeys.REGISTRY]
    assert len(registry.excluded) == 1 and registry.n_ages_capped == 4
    notes = [shown(i.value) for i in at.info if "90 or older" in i.value]
    assert len(notes) == 1 and notes[0].startswith("4 patient(s) aged 90 or older in the file"), notes


def test_an_upload_is_read_counted_and_scanned_once_across_its_reruns(monkeypatch) -> None:
    """The page's run that loads a file, the rerun that names it in the sidebar and any later rerun read
    the file, detect each date column's format and scan for identifiers once (issue 17: at 1M rows each
    repeat cost seconds); the upload's cohort is computed once, before the rerun, for the sidebar and
    the analysis pages."""
    from collections import Counter

    from hcc.ingest import dates, deid
    from tests.conftest import registry_csv
    from ui import common, upload

    calls: Counter = Counter()

    def counting(module, name):
        original = getattr(module, name)
        monkeypatch.setattr(module, name, lambda *a, **k: calls.update([(name, getattr(a[0], "name", None))])
                            or original(*a, **k))

    for module, name in ((upload, "read_sources"), (dates, "detect"), (deid, "_scan"), (common, "apply_to_registry"),
                         (upload, "fingerprint")):
        counting(module, name)
    at = _data_page()
    calls.clear()  # the demo's cohort, for the sidebar before any upload
    data = registry_csv([{Col.REGIMEN_1L: r} for r in ("SOR", "LEN", "SOR", "LEN")])
    at.file_uploader(key=f"{StateKeys.UPLOAD}_0").set_value(("mine.csv", data, "text/csv")).run()
    at.run()
    assert not at.exception, [e.message for e in at.exception]
    assert at.session_state[StateKeys.REGISTRY].n_patients == 4
    assert calls[("read_sources", None)] == 1 and calls[("_scan", "mine.csv")] == 1
    assert calls[("apply_to_registry", "mine.csv")] == 1
    detected = {k: n for k, n in calls.items() if k[0] == "detect"}
    assert len(detected) == 11 and set(detected.values()) == {1}
    raw = at.session_state[StateKeys.SOURCE][1].raw
    assert raw.__dict__["_cells"] is None  # released once loaded: the editors ran on their per-file results
    at.checkbox(key=f"{StateKeys.RELATIVE_DATES}_0").check().run()  # a new mapping: the file is read again
    registry = at.session_state[StateKeys.REGISTRY]
    assert registry.mapping.relative_dates and registry.n_patients == 4 and registry.name == "mine.csv"
    assert calls[("read_sources", None)] == 2 and raw.__dict__["_cells"] is None
    assert calls[("fingerprint", None)] == 1  # the file hashed once across its runs (its own file id)
    other = registry_csv([{Col.REGIMEN_1L: "SOR"}] * 3)  # another file in the same uploader: hashed, read
    at.file_uploader(key=f"{StateKeys.UPLOAD}_0").set_value(("mine.csv", other, "text/csv")).run()
    assert at.session_state[StateKeys.REGISTRY].n_patients == 3 and calls[("fingerprint", None)] == 2


def test_two_sessions_uploading_at_once_keep_their_own_files(monkeypatch) -> None:
    """Two sessions upload different files at once (each reads, then maps and loads, only when the other
    does too): each session's proposal, counts and registry are its own file's (the per-file results
    live on the session's own upload, never in a shared cache)."""
    import threading

    from tests.conftest import registry_csv
    from tests.test_i18n_app import _one_runtime_for_concurrent_apptests
    from ui import upload

    _one_runtime_for_concurrent_apptests(monkeypatch)
    def together(read_or_load):
        barrier = threading.Barrier(2, timeout=60)

        def call(*args, **kwargs):
            barrier.wait()
            return read_or_load(*args, **kwargs)
        return call

    for name in ("read_sources", "load_source"):  # each called once per upload (the test above)
        monkeypatch.setattr(upload, name, together(getattr(upload, name)))
    files = {"a.csv": registry_csv([{Col.REGIMEN_1L: "SOR"}] * 3),
             "b.csv": registry_csv([{Col.REGIMEN_1L: "LEN"}] * 5 + [{Col.REGIMEN_1L: "Nexavar"}])}
    seen: dict[str, tuple] = {}
    errors: list[BaseException] = []

    def session(name: str) -> None:
        try:
            at = open_page("pages/data.py", timeout=120)
            at.file_uploader(key=f"{StateKeys.UPLOAD}_0").set_value((name, files[name], "text/csv")).run()
            assert not at.exception, [e.message for e in at.exception]
            registry = at.session_state[StateKeys.REGISTRY]
            raw = at.session_state[StateKeys.SOURCE][1].raw
            seen[name] = (registry.name, registry.n_patients, registry.regimen_counts(),
                          raw.value_counts(Col.REGIMEN_1L).to_dict(), registry.mapping.values)
        except BaseException as exc:  # noqa: BLE001 - reported by the main thread
            errors.append(exc)

    threads = [threading.Thread(target=session, args=(name,)) for name in files]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert seen["a.csv"] == ("a.csv", 3, {"SOR": 3}, {"SOR": 3}, ())
    assert seen["b.csv"] == ("b.csv", 6, {"SOR": 1, "LEN": 5}, {"LEN": 5, "Nexavar": 1},
                             ((Col.REGIMEN_1L, "Nexavar", "SOR"),))
