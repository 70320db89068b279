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
from hcc.ingest.mapping import Mapping
from hcc.ingest.registry import Source
from hcc.schema import COLUMN_BY_NAME
from ui.keys import StateKeys
from ui.text import md, mds

_ACTIONS = {deid.AGE_OVER_89: (mp.CAP_AGE, mp.NOT_IDENTIFIER)}


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
    loaded = st.file_uploader("Load a saved mapping (JSON)", type=["json"], key=f"{StateKeys.MAPPING_FILE}_{gen}")
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
    st.markdown("**Columns.** Check what each column of your file holds; choose an empty cell to ignore a column.")
    # The list offers each contract column by its clinical description, so nobody types an internal name.
    rows = mp.column_rows(raw, base)
    rows[mp.MAPS_TO] = rows[mp.MAPS_TO].map(lambda c: mp.column_choice(c) if c else "")
    edited = st.data_editor(rows, hide_index=True, disabled=[mp.SOURCE, mp.EXAMPLES,
                            mp.MATCHED_BY], key=f"{StateKeys.MAP_COLUMNS}_{gen}_{raw.sha256[:8]}",
                            column_config={mp.MAPS_TO: st.column_config.SelectboxColumn(
                                options=list(mp.CHOICE_TO_COLUMN), required=False, width="large")})
    edited[mp.MAPS_TO] = edited[mp.MAPS_TO].map(lambda c: mp.CHOICE_TO_COLUMN.get(c, c) if c else c)
    mapping = mp.with_column_rows(base, raw, edited)
    if mapping.dropped or mapping.not_identifiers:
        st.caption(f"Dropped as identifiers: {mds(mapping.dropped) or 'none'}. Confirmed not identifiers: "
                   f"{mds(mapping.not_identifiers) or 'none'}. (Clear data to start over.)")
    for canonical in mp.missing_required(mapping):
        free = [c for c in raw.cells.columns if c not in mapping.column_map and c not in mapping.dropped]
        pick = st.selectbox(f"Which column holds **{canonical}** ({COLUMN_BY_NAME[canonical].meaning.lower()})?",
                            (None, *free), format_func=lambda c: "choose…" if c is None else c,
                            key=f"{StateKeys.REQUIRED_PICK}{canonical}_{gen}")
        if pick is not None:
            mapping = mp.with_columns(mapping, raw, {**mapping.column_map, pick: canonical})
    mapping = _preset_columns(raw, mapping, gen)
    problems = [f"two columns map to {c}" for c in mp.duplicate_targets(mapping)]
    problems += [f"no column is mapped to the required {c}" for c in mp.missing_required(mapping)]
    if not problems:
        mapping = _dates(raw, mapping, problems)
        values = mp.value_rows(raw, mapping)
        if not values.empty:
            st.markdown("**Values.** Words in your file and the codes they become (an empty cell keeps the word: "
                        "a new regimen stays a regimen of its own, an unknown category is reported below).")
            mapping = mp.with_value_rows(mapping, st.data_editor(
                values, hide_index=True, disabled=[mp.VALUE_COLUMN, mp.VALUE, mp.COUNT],
                key=f"{StateKeys.MAP_VALUES}_{gen}_{hash(mapping.columns)}"))
        mapping = _identifiers(source, mapping, problems)
        mapping = replace(mapping, relative_dates=st.checkbox(
            "Replace calendar dates by days from first-line start (de-identifies dates; the era rule then "
            "has nothing to select on)", value=base.relative_dates, key=f"{StateKeys.RELATIVE_DATES}_{gen}"))
    st.download_button("Save this mapping (JSON)", mapping.to_json().encode("utf-8"), file_name="mapping.json",
                       mime="application/json", help="Load it next month to map the same registry in one click; "
                                                     "the command line takes it as --mapping.")
    for problem in problems:
        st.warning(md(problem[0].upper() + problem[1:] + "."), icon=":material/rule:")
    return None if problems else mapping


def _preset_columns(raw, mapping: Mapping, gen: int) -> Mapping:
    """For each rule of the Main cohort (study) whose column is not mapped: say which rule it blocks
    and offer the file's columns, the likely ones first, to map to it."""
    blocked = preset_rules_blocked(set(mapping.column_map.values()))
    for canonical, what in blocked:
        likely = mp.likely_sources(raw, mapping, canonical)
        free = [c for c in raw.cells.columns if c not in mapping.column_map and c not in mapping.dropped]
        hint = f" Likely: {mds(likely)}." if likely else ""
        st.warning(f"No column is mapped to **{md(COLUMN_BY_NAME[canonical].meaning.lower())}**, so the "
                   f"{PRESET_LABELS[MAIN]} rule excluding {md(what)} cannot be applied.{hint}",
                   icon=":material/rule:")
        pick = st.selectbox(f"Which column holds {md(COLUMN_BY_NAME[canonical].meaning.lower())}?",
                            (None, *likely, *[c for c in free if c not in likely]),
                            format_func=lambda c: "none in this file" if c is None else c,
                            key=f"{StateKeys.PRESET_PICK}{canonical}_{gen}")
        if pick is not None and pick not in mapping.column_map:
            mapping = mp.with_columns(mapping, raw, {**mapping.column_map, pick: canonical})
    return mapping


def _dates(raw, mapping: Mapping, problems: list[str]) -> Mapping:
    chosen = dict(mapping.date_formats)
    for column, candidates in mp.date_questions(raw, mapping).items():
        answer = st.radio(f"Dates in **{md(column)}**: every day and month is 12 or less. How are they written?",
                          (None, *candidates), format_func=lambda f: "choose…" if f is None else FORMAT_LABELS[f],
                          horizontal=True, key=f"{StateKeys.DATE_FORMAT}{column}")
        if answer is None:
            problems.append(f"choose the date format of {column}")
        else:
            chosen[column] = answer
    return replace(mapping, date_formats=tuple(chosen.items()))


def _identifiers(source: Source, mapping: Mapping, problems: list[str]) -> Mapping:
    findings = deid.scan(source.raw, mapping, source.declared_identifiers)
    if findings:
        st.markdown("**Possible patient identifiers.** Analysis is blocked until each is resolved.")
    for f in findings:
        actions = _ACTIONS.get(f.category, (mp.DROP, mp.NOT_IDENTIFIER))
        action = st.radio(f"**{md(f.column)}**: possible identifier — {md(f.category)} ({md(f.how)})",
                          (None, *actions),
                          horizontal=True,
                          format_func=lambda a: "choose…" if a is None else a.capitalize(),
                          key=f"{StateKeys.IDENTIFIER}{f.column}")
        if action is None:
            problems.append(f"resolve the possible identifier '{f.column}'")
        else:
            mapping = mp.resolve_identifier(mapping, f.column, action)
    return mapping
