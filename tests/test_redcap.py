"""REDCap record export + data dictionary (hcc.ingest.redcap): codes decoded, checkboxes folded, events merged,
the repeating treatment-line instrument pivoted, incomplete forms flagged, identifiers declared."""

from __future__ import annotations

import io
from dataclasses import replace

import pandas as pd
import pytest

from hcc.ingest import mapping as mp
from hcc.errors import DataFileError, IdentifierError
from hcc.ingest.io import read_table
from hcc.ingest.redcap import flatten, is_dictionary, read_dictionary
from hcc.ingest.registry import load_source, read_sources
from hcc.schema import ATZ_BEV, LEN, SOR, Col
from hcc.ingest.validate import Rule

DICTIONARY = [
    # name, form, type, label, choices, identifier
    ("record_id", "baseline", "text", "Record ID", "", ""),
    ("patient_name", "baseline", "text", "Name", "", "y"),
    ("sex", "baseline", "radio", "Sex", "1, Male | 2, Female", ""),
    ("etiology", "baseline", "dropdown", "Etiology", "1, HBV | 2, HCV | 3, alcohol | 4, MASLD | 5, other", ""),
    ("mvi", "baseline", "yesno", "Macrovascular invasion", "", ""),
    ("ehs", "baseline", "checkbox", "Extrahepatic spread", "1, Present", ""),
    ("sites", "baseline", "checkbox", "Metastatic sites", "1, Lung | 2, Bone | 3, Lymph node", ""),
    ("regimen", "treatment_line", "dropdown", "Regimen",
     "1, Sorafenib | 2, Lenvatinib | 3, Atezolizumab + bevacizumab | 4, Regorafenib", ""),
    ("start", "treatment_line", "text", "Start date", "", ""),
    ("progression", "treatment_line", "text", "Progression date", "", ""),
    ("date_death", "follow_up", "text", "Date of death", "", ""),
    ("last_followup", "follow_up", "text", "Last follow-up", "", ""),
]
HEADER = ["Variable / Field Name", "Form Name", "Section Header", "Field Type", "Field Label",
          "Choices, Calculations, OR Slider Labels", "Field Note", "Identifier?"]


def _dictionary_csv() -> bytes:
    rows = [{"Variable / Field Name": n, "Form Name": f, "Section Header": "", "Field Type": t, "Field Label": lab,
             "Choices, Calculations, OR Slider Labels": c, "Field Note": "", "Identifier?": i}
            for n, f, t, lab, c, i in DICTIONARY]
    return pd.DataFrame(rows, columns=HEADER).to_csv(index=False).encode("utf-8")


def _records() -> pd.DataFrame:
    """Two patients; longitudinal (baseline and follow-up events) with a repeating treatment_line instrument."""
    blank = {"redcap_repeat_instrument": "", "redcap_repeat_instance": "", "patient_name": "", "sex": "",
             "etiology": "", "mvi": "", "ehs___1": "", "sites___1": "", "sites___2": "", "sites___3": "",
             "regimen": "", "start": "", "progression": "", "date_death": "", "last_followup": "",
             "baseline_complete": "", "treatment_line_complete": "", "follow_up_complete": ""}
    rows = [
        {"record_id": "1", "redcap_event_name": "baseline_arm_1", "patient_name": "Ann Lee", "sex": "2",
         "etiology": "2", "mvi": "1", "ehs___1": "0", "sites___1": "0", "sites___2": "0", "sites___3": "0",
         "baseline_complete": "2"},
        {"record_id": "1", "redcap_event_name": "baseline_arm_1", "redcap_repeat_instrument": "treatment_line",
         "redcap_repeat_instance": "1", "regimen": "3", "start": "2021-01-10", "progression": "2021-06-01",
         "treatment_line_complete": "2"},
        {"record_id": "1", "redcap_event_name": "baseline_arm_1", "redcap_repeat_instrument": "treatment_line",
         "redcap_repeat_instance": "2", "regimen": "2", "start": "2021-06-20", "treatment_line_complete": "1"},
        {"record_id": "1", "redcap_event_name": "followup_arm_1", "date_death": "2022-01-05",
         "last_followup": "2022-01-05", "follow_up_complete": "2"},
        {"record_id": "2", "redcap_event_name": "baseline_arm_1", "patient_name": "Bo Kim", "sex": "1",
         "etiology": "1", "mvi": "0", "ehs___1": "1", "sites___1": "1", "sites___2": "0", "sites___3": "1",
         "baseline_complete": "0"},
        {"record_id": "2", "redcap_event_name": "baseline_arm_1", "redcap_repeat_instrument": "treatment_line",
         "redcap_repeat_instance": "1", "regimen": "1", "start": "2020-03-01", "treatment_line_complete": "2"},
        {"record_id": "2", "redcap_event_name": "followup_arm_1", "last_followup": "2020-12-31",
         "follow_up_complete": "2"},
    ]
    columns = ["record_id", "redcap_event_name", *blank]
    return pd.DataFrame([{**blank, **r} for r in rows], columns=columns)


def _flat():
    records = read_table(_records().to_csv(index=False).encode(), "records.csv")
    return flatten(records, read_dictionary(read_table(_dictionary_csv(), "dictionary.csv")))


def test_dictionary_is_recognised() -> None:
    assert is_dictionary(read_table(_dictionary_csv(), "dictionary.csv"))
    assert not is_dictionary(read_table(_records().to_csv(index=False).encode(), "records.csv"))


def test_flatten_one_row_per_record() -> None:
    flat = _flat()
    cells = flat.raw.cells.set_index("record_id")
    assert list(cells.index) == ["1", "2"]
    assert cells.loc["1", "sex"] == "Female" and cells.loc["2", "etiology"] == "HBV" and cells.loc["1", "mvi"] == "Yes"
    assert cells.loc["1", "ehs"] == "no" and cells.loc["2", "ehs"] == "yes"  # single-choice checkbox
    assert cells.loc["2", "sites"] == "Lung; Lymph node" and cells.loc["1", "sites"] == ""
    assert cells.loc["1", "regimen_1l"] == "Atezolizumab + bevacizumab" and cells.loc["1", "regimen_2l"] == "Lenvatinib"
    assert cells.loc["2", "regimen_2l"] == "" and cells.loc["1", "start_2l"] == "2021-06-20"
    assert cells.loc["1", "date_death"] == "2022-01-05"  # from the follow-up event
    assert "regimen" not in cells.columns and "baseline_complete" not in cells.columns
    assert flat.identifiers == ("patient_name",)
    incomplete = [(i.patient_id, i.column) for i in flat.issues if i.rule is Rule.INCOMPLETE_FORM]
    assert incomplete == [("2", "baseline_complete"), ("1", "treatment_line_complete")]


def test_redcap_upload_maps_and_is_guarded() -> None:
    files = [("records.csv", _records().to_csv(index=False).encode()), ("dictionary.csv", _dictionary_csv())]
    source = read_sources(files)
    assert source.redcap and source.declared_identifiers == ("patient_name",)
    proposal = mp.propose(source.raw)
    assert proposal.column_map["regimen_1l"] == Col.REGIMEN_1L and proposal.column_map["start_1l"] == Col.START_1L
    assert proposal.column_map["record_id"] == Col.PATIENT_ID
    with pytest.raises(IdentifierError, match="REDCap dictionary"):
        load_source(source, proposal)
    chosen = mp.resolve_identifier(proposal, "patient_name", mp.DROP)
    chosen = replace(chosen, columns=chosen.columns + (("last_followup", Col.DATE_LAST_FOLLOWUP),)
                     if "last_followup" not in chosen.column_map else chosen.columns)
    registry = load_source(source, chosen)
    frame = registry.frame.set_index(Col.PATIENT_ID)
    assert frame.loc["1", Col.REGIMEN_1L] == ATZ_BEV and frame.loc["2", Col.REGIMEN_1L] == SOR
    assert frame.loc["1", Col.REGIMEN_2L] == LEN and frame.loc["1", Col.SEX] == "F"
    assert bool(frame.loc["1", Col.MVI]) and bool(frame.loc["2", Col.EHS])
    assert sum(i.rule is Rule.INCOMPLETE_FORM for i in registry.issues) == 2


def test_labels_export_is_read_like_the_raw_export() -> None:
    raw = _records()
    dictionary = read_dictionary(read_table(_dictionary_csv(), "dictionary.csv"))
    labels = {f.name: f.label for f in dictionary.fields}
    decoded = raw.copy()
    decoded["sex"] = decoded["sex"].map({"1": "Male", "2": "Female", "": ""})
    renamed = {c: labels.get(c, c) for c in decoded.columns}
    renamed.update({"redcap_event_name": "Event Name", "redcap_repeat_instrument": "Repeat Instrument",
                    "redcap_repeat_instance": "Repeat Instance", "ehs___1": "Extrahepatic spread (choice=Present)",
                    "sites___1": "Metastatic sites (choice=Lung)", "sites___2": "Metastatic sites (choice=Bone)",
                    "sites___3": "Metastatic sites (choice=Lymph node)", "baseline_complete": "Complete?",
                    "treatment_line_complete": "Complete?", "follow_up_complete": "Complete?"})
    for c in ("ehs___1", "sites___1", "sites___2", "sites___3"):
        decoded[c] = decoded[c].map({"1": "Checked", "0": "Unchecked", "": ""})
    buf = io.StringIO()
    decoded.rename(columns=renamed).to_csv(buf, index=False)
    flat = flatten(read_table(buf.getvalue().encode(), "labels.csv"), dictionary)
    expected = _flat().raw.cells
    pd.testing.assert_frame_equal(flat.raw.cells[expected.columns], expected)


def test_dictionary_alone_or_two_registries_are_refused() -> None:
    with pytest.raises(DataFileError, match="data dictionary"):
        read_sources([("dictionary.csv", _dictionary_csv())])
    data = _records().to_csv(index=False).encode()
    with pytest.raises(DataFileError, match="two files"):
        read_sources([("a.csv", data), ("b.csv", data)])
