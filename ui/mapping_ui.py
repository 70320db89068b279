"""Data page widgets: column, date, value and identifier decisions that map an upload to the data contract.

Everything they show or decide is computed in :mod:`hcc.ingest.mapping` and :mod:`hcc.ingest.deid`.
"""

from __future__ import annotations

from dataclasses import replace

import streamlit as st

from hcc.cohort.rules import MAIN, PRESET_LABELS, preset_rules_blocked
from hcc.ingest import deid

from hcc.ingest import mapping as mp
from hcc.ingest.dates import FORMAT_LABELS
from hcc.errors import HCCError
from hcc.i18n import N_, tr, trc
from hcc.ingest.mapping import Mapping
from hcc.ingest.registry import Source
from hcc.schema import COLUMN_BY_NAME
from ui.i18n import shown_in_this_language
from ui.keys import StateKeys
from ui.text import md, mds

_ACTIONS = {deid.AGE_OVER_89: (mp.CAP_AGE, mp.NOT_IDENTIFIER)}
#: What the identifier question offers (the answers stay mapping's English codes).
_ACTION_LABELS = {mp.DROP: N_("Drop"), mp.NOT_IDENTIFIER: N_("Not an identifier"), mp.CAP_AGE: N_("Top-code at 90")}


def _meaning(canonical: str) -> str:
    """A contract column's clinical description, as a phrase inside a sentence."""
    return tr(COLUMN_BY_NAME[canonical].meaning).lower()


def _headers(*names: str) -> dict[str, str]:
    """The mapping editors' column headers in the session's language (the data keeps mapping's names,
    so a switch of language keeps every edit)."""
    shown = {mp.SOURCE: trc("mapping editor", "Column in your file"), mp.EXAMPLES: trc("mapping editor", "Examples"),
             mp.MAPS_TO: trc("mapping editor", "Maps to"), mp.MATCHED_BY: trc("mapping editor", "Matched by"),
             mp.VALUE_COLUMN: trc("mapping editor", "Column"),
             mp.VALUE: trc("mapping editor", "Value in your file"), mp.COUNT: trc("mapping editor", "Rows")}
    return {name: shown[name] for name in names}


def _base_mapping(source: Source) -> Mapping:
    """The mapping the editors start from: the last one loaded from a file or applied to this file (so
    that a visit to another page loses no decision), else the proposal."""
    saved = st.session_state.get(StateKeys.MAPPING)
    if saved is not None and saved[0] == source.raw.sha256:
        return saved[1]
    return mp.propose(source.raw)


def mapping_widget(source: Source) -> Mapping | None:
    """Column, date, value and identifier decisions; the mapping when nothing is left to decide, else ``None``."""
    raw, gen = source.raw, st.session_state.get(StateKeys.MAPPING_GEN, 0)
    loaded = st.file_uploader(tr("Load a saved mapping (JSON)"), type=["json"], key=f"{StateKeys.MAPPING_FILE}_{gen}")
    if loaded is not None:
        try:
            st.session_state[StateKeys.MAPPING] = (raw.sha256, Mapping.from_json(loaded.getvalue().decode("utf-8"),
                                                                                 loaded.name))
        except (HCCError, UnicodeDecodeError) as exc:
            st.error(md(exc), icon=":material/error:")
        else:
            st.session_state[StateKeys.MAPPING_GEN] = gen + 1
            st.rerun()
    base = _base_mapping(source)
    st.markdown(tr("**Columns.** Check what each column of your file holds; choose an empty cell to ignore a column."))
    # The list offers each contract column by its clinical description, so nobody types an internal name.
    rows = mp.column_rows(raw, base)
    rows[mp.MAPS_TO] = rows[mp.MAPS_TO].map(lambda c: mp.column_choice(c) if c else "")
    edited = st.data_editor(rows, hide_index=True, disabled=[mp.SOURCE, mp.EXAMPLES,
                            mp.MATCHED_BY], key=f"{StateKeys.MAP_COLUMNS}_{gen}_{raw.sha256[:8]}",
                            column_config={**_headers(mp.SOURCE, mp.EXAMPLES, mp.MATCHED_BY),
                                           mp.MAPS_TO: st.column_config.SelectboxColumn(
                                               _headers(mp.MAPS_TO)[mp.MAPS_TO],
                                               options=list(mp.CHOICE_TO_COLUMN), required=False, width="large")})
    edited[mp.MAPS_TO] = edited[mp.MAPS_TO].map(lambda c: mp.CHOICE_TO_COLUMN.get(c, c) if c else c)
    mapping = mp.with_column_rows(base, raw, edited)
    if mapping.dropped or mapping.not_identifiers:
        none = trc("mapping: no column", "none")
        st.caption(tr("Dropped as identifiers: {dropped}. Confirmed not identifiers: {kept}. (Clear data to start "
                      "over.)", dropped=mds(mapping.dropped) or none, kept=mds(mapping.not_identifiers) or none))
    for canonical in mp.missing_required(mapping):
        free = [c for c in raw.columns if c not in mapping.column_map and c not in mapping.dropped]
        pick = st.selectbox(tr("Which column holds **{column}** ({meaning})?", column=canonical,
                               meaning=_meaning(canonical)),
                            (None, *free),
                            format_func=shown_in_this_language(lambda c: tr("choose…") if c is None else c),
                            key=f"{StateKeys.REQUIRED_PICK}{canonical}_{gen}")
        if pick is not None:
            mapping = mp.with_columns(mapping, raw, {**mapping.column_map, pick: canonical})
    mapping = _preset_columns(raw, mapping, gen)
    problems = [tr("Two columns map to {column}.", column=md(c)) for c in mp.duplicate_targets(mapping)]
    problems += [tr("No column is mapped to the required {column}.", column=md(c))
                 for c in mp.missing_required(mapping)]
    if not problems:
        mapping = _dates(raw, mapping, problems)
        values = mp.value_rows(raw, mapping)
        if not values.empty:
            st.markdown(tr("**Values.** Words in your file and the codes they become (an empty cell keeps the word: "
                           "a new regimen stays a regimen of its own, an unknown category is reported below)."))
            mapping = mp.with_value_rows(mapping, st.data_editor(
                values, hide_index=True, disabled=[mp.VALUE_COLUMN, mp.VALUE, mp.COUNT],
                column_config=_headers(mp.VALUE_COLUMN, mp.VALUE, mp.COUNT, mp.MAPS_TO),
                key=f"{StateKeys.MAP_VALUES}_{gen}_{hash(mapping.columns)}"))
        mapping = _identifiers(source, mapping, problems)
        mapping = replace(mapping, relative_dates=st.checkbox(
            tr("Replace calendar dates by days from first-line start (de-identifies dates; the era rule then "
               "has nothing to select on)"), value=base.relative_dates, key=f"{StateKeys.RELATIVE_DATES}_{gen}"))
    st.download_button(tr("Save this mapping (JSON)"), mapping.to_json().encode("utf-8"), file_name="mapping.json",
                       mime="application/json", help=tr("Load it next month to map the same registry in one click; "
                                                        "the command line takes it as --mapping."))
    for problem in problems:  # app words around escaped names from the file
        st.warning(problem, icon=":material/rule:")
    return None if problems else mapping


def _preset_columns(raw, mapping: Mapping, gen: int) -> Mapping:
    """For each rule of the Main cohort (study) whose column is not mapped: say which rule it blocks
    and offer the file's columns, the likely ones first, to map to it."""
    blocked = preset_rules_blocked(set(mapping.column_map.values()))
    for canonical, what in blocked:
        likely = mp.likely_sources(raw, mapping, canonical)
        free = [c for c in raw.columns if c not in mapping.column_map and c not in mapping.dropped]
        values = {"meaning": md(_meaning(canonical)), "preset": tr(PRESET_LABELS[MAIN]), "what": md(tr(what)),
                  "likely": mds(likely)}
        if likely:
            text = tr("No column is mapped to **{meaning}**, so the {preset} rule excluding {what} cannot be "
                      "applied. Likely: {likely}.", **values)
        else:
            text = tr("No column is mapped to **{meaning}**, so the {preset} rule excluding {what} cannot be "
                      "applied.", **values)
        st.warning(text, icon=":material/rule:")
        pick = st.selectbox(tr("Which column holds {meaning}?", meaning=md(_meaning(canonical))),
                            (None, *likely, *[c for c in free if c not in likely]),
                            format_func=shown_in_this_language(lambda c: tr("none in this file") if c is None else c),
                            key=f"{StateKeys.PRESET_PICK}{canonical}_{gen}")
        if pick is not None and pick not in mapping.column_map:
            mapping = mp.with_columns(mapping, raw, {**mapping.column_map, pick: canonical})
    return mapping


def _dates(raw, mapping: Mapping, problems: list[str]) -> Mapping:
    chosen = dict(mapping.date_formats)
    for column, candidates in mp.date_questions(raw, mapping).items():
        answer = st.radio(tr("Dates in **{column}**: every day and month is 12 or less. How are they written?",
                             column=md(column)),
                          (None, *candidates),
                          format_func=shown_in_this_language(
                              lambda f: tr("choose…") if f is None else tr(FORMAT_LABELS[f])),
                          horizontal=True, key=f"{StateKeys.DATE_FORMAT}{column}")
        if answer is None:
            problems.append(tr("Choose the date format of {column}.", column=md(column)))
        else:
            chosen[column] = answer
    return replace(mapping, date_formats=tuple(chosen.items()))


def _identifiers(source: Source, mapping: Mapping, problems: list[str]) -> Mapping:
    findings = deid.scan(source.raw, mapping, source.declared_identifiers)
    if findings:
        st.markdown(tr("**Possible patient identifiers.** Analysis is blocked until each is resolved."))
    for f in findings:
        actions = _ACTIONS.get(f.category, (mp.DROP, mp.NOT_IDENTIFIER))
        action = st.radio(tr("**{column}**: possible identifier — {category} ({how})", column=md(f.column),
                             category=md(tr(f.category)), how=md(tr(f.how))),
                          (None, *actions),
                          horizontal=True,
                          format_func=shown_in_this_language(
                              lambda a: tr("choose…") if a is None else tr(_ACTION_LABELS[a])),
                          key=f"{StateKeys.IDENTIFIER}{f.column}")
        if action is None:
            problems.append(tr("Resolve the possible identifier '{column}'.", column=md(f.column)))
        else:
            mapping = mp.resolve_identifier(mapping, f.column, action)
    return mapping
