"""The sidebar on every page: the data source and every cohort rule, kept in sync with the URL.

The widgets hold the rules (so they persist across pages); each run builds a ``CohortSpec`` from
them, stores it for the pages, and writes it to the URL query string, so a copied link reopens the
same cohort. A new session starts from the link's rules, else the study's main cohort.
"""

from __future__ import annotations

from dataclasses import fields
from datetime import date

import streamlit as st

from hcc.cohort.rules import (
    AGE_LIMITS_YEARS, EARLIEST_START, FULL, MAIN, PRESET_LABELS, PRESETS, TRISTATE, CohortSpec, dropped_note,
    cohort_name,
)
from hcc.errors import SpecError
from hcc.i18n import N_, tr, trc
from hcc.schema import ALBI_GRADES, BCLC_STAGES, CHILD_PUGH_CLASSES, ETIOLOGIES, Col
from ui.actions import guarded
from ui.common import StateKeys, cohort_index_quietly, cohort_quietly, current_registry
from ui.database import current_database, database_cohort, sidebar_choices
from ui.i18n import shown_in_this_language
from ui.present import presentation_toggle
from ui.text import md

FIELDS = tuple(f.name for f in fields(CohortSpec))
_TRI_BACK = {label: value for value, label in TRISTATE.items()}
#: What the tri-state selectboxes show (their values stay TRISTATE's English labels, so a switch of
#: language keeps the choice).
_TRI_SHOWN = {None: N_("any"), True: N_("present only"), False: N_("absent only")}


def _tristate_shown(label: str) -> str:
    return trc("rule: present or absent", _TRI_SHOWN[_TRI_BACK[label]])


def key(name: str) -> str:
    return StateKeys.COHORT + name


def widget_values(spec: CohortSpec) -> dict[str, object]:
    """Session-state values of the cohort widgets that show ``spec``."""
    out: dict[str, object] = {}
    for name in FIELDS:
        value = getattr(spec, name)
        if isinstance(value, tuple):
            value = list(value)
        elif name in ("with_mvi", "with_ehs"):
            value = TRISTATE[value]
        elif name in ("start_from", "start_to"):
            value = date.fromisoformat(value) if value else None
        out[key(name)] = value
    return out


def spec_from_widgets() -> CohortSpec:
    """The CohortSpec the widgets show (raises SpecError for contradictory rules)."""
    state = st.session_state
    data = {}
    for name in FIELDS:
        value = state.get(key(name))
        if name in ("with_mvi", "with_ehs"):
            value = _TRI_BACK.get(value)
        elif name in ("start_from", "start_to"):
            value = value.isoformat() if value else None
        data[name] = value
    return CohortSpec.from_dict(data)


def load_spec(spec: CohortSpec) -> None:
    """Show ``spec`` in the widgets (used by the preset buttons and by links)."""
    st.session_state.update(widget_values(spec))


def _sync_url(spec: CohortSpec) -> None:
    wanted = spec.to_query()
    for name in FIELDS:
        if name in wanted and st.query_params.get(name) != wanted[name]:
            st.query_params[name] = wanted[name]
        elif name not in wanted and name in st.query_params:
            del st.query_params[name]


def _ensure_widget_state() -> None:
    """Give every cohort widget a value: a new session's from the link (else the main cohort), later
    the last cohort built (``StateKeys.SPEC``). Streamlit drops the state of widgets a run did not draw
    when the next run is on another page; a run that failed before the sidebar drew none, and without
    this every later run failed on a missing key."""
    state = st.session_state
    if StateKeys.COHORT_READY in state:
        missing = [key(name) for name in FIELDS if key(name) not in state]
        if missing:
            values = widget_values(state.get(StateKeys.SPEC, PRESETS[MAIN]))
            state.update({k: values[k] for k in missing})
        return
    spec = PRESETS[MAIN]
    if any(name in st.query_params for name in FIELDS):
        try:
            spec = CohortSpec.from_query(st.query_params.to_dict())
        except SpecError as exc:
            st.sidebar.error(tr("The link's cohort could not be read ({reason}); showing the main cohort.",
                                reason=md(exc)))
    load_spec(spec)
    state[StateKeys.COHORT_READY] = True


def sidebar() -> None:
    """Data source and cohort rules; stores the current spec under ``StateKeys.SPEC``."""
    registry = current_registry()
    state = st.session_state
    _ensure_widget_state()
    other_below = int(state.get(key("other_below")) or 0)
    database = current_database()  # a server registry analysed in the database (ui/database.py), if open
    if database is None:
        index = cohort_index_quietly(registry)  # the regimens grouped and the centers, counted once per registry
        grouping = index.grouping(other_below)
        regimen_options, pooling = grouping.regimens, grouping.pooling
        center_options = index.choices(Col.CENTER)
    else:
        regimen_options, pooling, center_options = sidebar_choices(database, other_below)
    # A link, or a new file, may name a regimen or center this file lacks: drop it and say so.
    for name, options, what in (("regimens", regimen_options, "regimen"), ("centers", center_options, "treating center")):
        dropped = [v for v in state[key(name)] if v not in options]
        if dropped:
            state[key(name)] = [v for v in state[key(name)] if v in options]
            st.sidebar.warning(md(dropped_note(what, dropped, other_below if name == "regimens" else 0)))  # link text
    with st.sidebar:
        st.caption(tr("Data source"))
        if database is not None:
            st.success(md(database.label), icon=":material/database:")
        else:
            (st.info if registry.is_demo else st.success)(md(registry.label), icon=":material/database:")
        st.caption(tr("Cohort"))
        st.button(tr(PRESET_LABELS[MAIN]), on_click=guarded(load_spec, N_("Choosing the main cohort")),
                  args=(PRESETS[MAIN],),
                  key="preset_main",
                  help=tr("Excludes concomitant and inter-line locoregional therapy and clinical-trial entry "
                          "after first line, as the study did."), width="stretch", icon=":material/filter_alt:")
        st.button(tr(PRESET_LABELS[FULL]), on_click=guarded(load_spec, N_("Choosing the full cohort")),
                  args=(PRESETS[FULL],),
                  key="preset_full", width="stretch", icon=":material/groups:")
        with st.expander(tr("Cohort rules")):
            pick = trc("multiselect placeholder", "Choose options")  # Streamlit's default, in the session's language
            tristate, etiology = shown_in_this_language(_tristate_shown), shown_in_this_language(tr)
            st.multiselect(tr("First-line regimens (none = all)"), regimen_options, key=key("regimens"),
                           placeholder=pick)
            st.number_input(tr("Pool regimens with fewer patients than (0 = off) as Other"), min_value=0, step=5,
                            key=key("other_below"))
            st.checkbox(tr("Exclude concomitant locoregional therapy"), key=key("exclude_concomitant_lrt"))
            st.checkbox(tr("Exclude inter-line locoregional therapy"), key=key("exclude_interline_lrt"))
            st.checkbox(tr("Exclude clinical-trial entry after first line"), key=key("exclude_trial_after_1l"))
            left, right = st.columns(2)
            left.date_input(tr("First line from"), value=None, min_value=date.fromisoformat(EARLIEST_START),
                              key=key("start_from"))
            right.date_input(tr("First line to"), value=None, min_value=date.fromisoformat(EARLIEST_START),
                               key=key("start_to"))
            st.multiselect(tr("Centers (none = all)"), center_options, key=key("centers"), placeholder=pick)
            st.multiselect(tr("Child-Pugh class"), CHILD_PUGH_CLASSES, key=key("child_pugh"), placeholder=pick)
            st.multiselect(tr("ALBI grade"), ALBI_GRADES, key=key("albi"), placeholder=pick)
            st.multiselect(tr("BCLC stage"), BCLC_STAGES, key=key("bclc_stages"), placeholder=pick)
            st.multiselect(tr("ECOG performance status"), list(range(5)), key=key("ecog_ps"), placeholder=pick)
            st.multiselect(tr("Etiology"), ETIOLOGIES, format_func=etiology, key=key("etiologies"), placeholder=pick)
            left, right = st.columns(2)
            left.selectbox(tr("Macrovascular invasion"), list(_TRI_BACK), format_func=tristate,
                           key=key("with_mvi"))
            right.selectbox(tr("Extrahepatic spread"), list(_TRI_BACK), format_func=tristate,
                            key=key("with_ehs"))
            left.number_input(tr("AFP below, ng/mL"), min_value=0.0, step=100.0, value=None, key=key("afp_below"))
            right.number_input(tr("AFP at least, ng/mL"), min_value=0.0, step=100.0, value=None,
                               key=key("afp_at_least"))
            left.number_input(tr("Age from"), min_value=AGE_LIMITS_YEARS[0], max_value=AGE_LIMITS_YEARS[1], step=5.0,
                              value=None, key=key("age_min"))
            right.number_input(tr("Age to"), min_value=AGE_LIMITS_YEARS[0], max_value=AGE_LIMITS_YEARS[1], step=5.0,
                               value=None, key=key("age_max"))
        try:
            spec = spec_from_widgets()
        except SpecError as exc:
            st.error(tr("Cohort rules: {reason}. The previous cohort is kept.", reason=md(exc)))
            spec = state.get(StateKeys.SPEC, PRESETS[MAIN])
        state[StateKeys.SPEC] = spec
        cohort = cohort_quietly(index) if database is None else database_cohort(quiet=True)
        name = cohort.name if cohort is not None else cohort_name(spec)
        st.caption(tr("**{cohort}** — the address bar holds these rules; copy it to share the cohort.",
                      cohort=md(name.short)))
        if name.warning:
            st.warning(md(name.warning), icon=":material/warning:")
        if pooling is not None and pooling.capped:
            st.warning(pooling.note)  # numbers and app words only
    _sync_url(spec)
    presentation_toggle()
