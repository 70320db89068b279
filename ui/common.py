"""Shared UI plumbing for the pages: page registry, session state, sidebar, error display.

Only this module and the pages touch ``st.session_state``; every key is spelled once, in
:class:`StateKeys`. Uploaded data lives in the session only: no disk, no cross-session cache.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, TypeVar

import streamlit as st

from hcc.analysis import analyze_endpoint
from hcc.cohort.endpoints import EndpointRows, derive_rows
from hcc.ingest.validate import DateChecks
from hcc.cohort.rules import MAIN, PRESETS, Cohort, CohortIndex, CohortSpec, apply_to_registry
from hcc.errors import HCCError
from hcc.i18n import N_, current_language, tr
from hcc.ingest.registry import Registry, load_demo
from hcc.schema import Endpoint
from hcc.stats.survival import AnalysisSpec, EndpointSummary
from ui.keys import StateKeys
from ui.streamlit_internals import leave_legacy_pages_mode
from ui.text import md

T = TypeVar("T")


@dataclass(frozen=True)
class PageSpec:
    """One page: its script (relative to app.py), title, icon, URL path and navigation section.

    The URL path is the script's file name, so that a deep link resolves the same way before and
    after :func:`route_through_app` switches Streamlit to the router.
    """

    path: str
    title: str
    icon: str
    url_path: str
    section: str
    default: bool = False


PAGES: tuple[PageSpec, ...] = (
    PageSpec("pages/overview.py", N_("Overview"), ":material/home:", "overview", N_("Explore"), default=True),
    PageSpec("pages/cohort.py", N_("Cohort"), ":material/filter_alt:", "cohort", N_("Explore")),
    PageSpec("pages/survival.py", N_("Survival"), ":material/monitoring:", "survival", N_("Explore")),
    PageSpec("pages/response.py", N_("Response"), ":material/target:", "response", N_("Explore")),
    PageSpec("pages/secondline.py", N_("After first line"), ":material/alt_route:", "secondline", N_("Explore")),
    PageSpec("pages/adjusted.py", N_("Adjusted comparisons"), ":material/balance:", "adjusted", N_("Explore")),
    PageSpec("pages/data.py", N_("Data"), ":material/upload_file:", "data", N_("Data")),
    PageSpec("pages/export.py", N_("Report & slides"), ":material/slideshow:", "export", N_("Data")),
)


def route_through_app() -> None:
    """Make sure this page runs inside app.py's router, even on a deep link to a fresh server.

    With a ``pages/`` folder beside app.py, Streamlit starts each new process in its legacy
    folder mode and, until some session has run ``st.navigation``, runs a deep-linked page
    (``/survival``) on its own: no sidebar, file names as navigation. Every page calls this
    first; in that mode it switches the process to ``st.navigation`` routing and reruns, and the
    same URL then resolves through app.py. Elsewhere it does nothing.
    """
    leave_legacy_pages_mode()


@st.cache_resource(show_spinner=False)
def _demo_registry() -> Registry:
    # The demo is synthetic and identical for everyone, so a process-wide cache is safe here.
    return load_demo()


def current_registry() -> Registry:
    """The session's uploaded registry, else the bundled synthetic demo."""
    return st.session_state.get(StateKeys.REGISTRY) or _demo_registry()


#: Results a session keeps (:func:`session_memo`).
MEMO_SIZE = 64


def _memo_key(key: tuple) -> tuple:
    # results carry words (methods, reasons, names): one set per language
    return (current_language(), *key)


def session_memo(key: tuple, compute: Callable[[], T]) -> T:
    """Memoize ``compute()`` in this session only, under ``key`` (which must include the data's sha256)."""
    memo = st.session_state.setdefault(StateKeys.MEMO, {})
    key = _memo_key(key)
    if key in memo:
        memo[key] = memo.pop(key)  # most recently used last
        return memo[key]
    with st.spinner(tr("Computing…")):  # Streamlit shows it only when the work takes over half a second
        value = compute()
    memo[key] = value
    # Bounded: a session exploring many settings does not grow without end. The least recently used
    # go first, so what every rule change reuses (the registry's index and derived endpoints) stays.
    for old in list(memo)[:max(len(memo) - MEMO_SIZE, 0)]:
        del memo[old]
    return value


def cohort_index(registry: Registry) -> CohortIndex:
    """The registry prepared for cohort rules (:class:`hcc.cohort.rules.CohortIndex`), kept in this
    session: a rule change reuses the masks of the rules that did not change."""
    return session_memo(("cohort index", registry.sha256), lambda: CohortIndex(registry.frame, registry.regimen_codes))


def endpoint_rows(registry: Registry, endpoint: Endpoint) -> EndpointRows:
    """``endpoint`` derived once for every patient of the registry, kept in this session; each
    cohort selects its rows from it (``analyze_endpoint(..., derived=...)``), so a rule change derives
    nothing again."""
    return session_memo(("endpoint rows", registry.sha256, Endpoint(endpoint).value),
                        lambda: derive_rows(registry.frame, endpoint, session_memo(
                            ("date checks", registry.sha256),
                            lambda: registry.date_checks or DateChecks(registry.frame))))  # validation's if kept



def endpoint_summary(registry: Registry, cohort: Cohort, endpoint: Endpoint, spec: AnalysisSpec | None = None,
                     comparisons: bool = True) -> EndpointSummary:
    """:func:`hcc.analysis.analyze_endpoint` of ``cohort`` (of ``registry``), kept in this session under
    one key for every page, the cohort's rows selected from the endpoint derived once per registry
    (:func:`endpoint_rows`)."""
    endpoint = Endpoint(endpoint)
    return session_memo(("km", registry.sha256, cohort.spec, endpoint.value, spec, comparisons),
                        lambda: analyze_endpoint(cohort, endpoint, spec, comparisons=comparisons,
                                                 derived=endpoint_rows(registry, endpoint)))

def current_cohort() -> Cohort | None:
    """The cohort for the current data and preset, or ``None`` after showing why it is empty."""
    registry = current_registry()
    spec = current_spec()
    try:
        return session_memo(("cohort", registry.sha256, spec),
                            lambda: apply_to_registry(registry, spec, cohort_index(registry)))
    except HCCError as exc:
        st.error(md(exc), icon=":material/error:")
        return None


def _keep_quietly(key: tuple, value: T) -> T:
    """Keep ``value`` under ``key`` (composed by :func:`_memo_key`) in the session's memo if the session
    has one with room, without creating it (so that "Clear data" leaves no result behind)."""
    memo = st.session_state.get(StateKeys.MEMO)
    if memo is not None and len(memo) < MEMO_SIZE:
        memo[key] = value
    return value


def cohort_index_quietly(registry: Registry) -> CohortIndex:
    """:func:`cohort_index` without creating the session's memo (:func:`_keep_quietly`)."""
    key = _memo_key(("cohort index", registry.sha256))  # as session_memo keys it
    memo = st.session_state.get(StateKeys.MEMO, {})
    return memo[key] if key in memo else _keep_quietly(key, CohortIndex(registry.frame, registry.regimen_codes))


def cohort_quietly(index: CohortIndex | None = None) -> Cohort | None:
    """:func:`current_cohort` without showing an error and without creating the session's memo (the
    sidebar names the cohort; the page says why it is empty, and "Clear data" leaves no result
    behind); the page then reuses the cohort. ``index``: the registry's :func:`cohort_index_quietly`
    when the caller has it."""
    registry = current_registry()
    spec = current_spec()
    memo = st.session_state.get(StateKeys.MEMO, {})
    key = _memo_key(("cohort", registry.sha256, spec))  # as session_memo keys it
    if key in memo:
        return memo[key]
    try:
        return _keep_quietly(key, apply_to_registry(registry, spec, index or cohort_index_quietly(registry)))
    except HCCError:
        return None


def rules_not_applied_warning(cohort: Cohort) -> None:
    """A warning (not a grey note) when a rule of the cohort could not be applied (its column has no
    values): the patients it should have excluded are still in."""
    if cohort.name.warning:
        st.warning(md(cohort.name.warning), icon=":material/warning:")


def current_spec() -> CohortSpec:
    """The cohort rules chosen in the sidebar (the study's main cohort until the sidebar has run)."""
    return st.session_state.get(StateKeys.SPEC, PRESETS[MAIN])


def cohort_caption(cohort: Cohort) -> str:
    """E.g. ``Main cohort (study) · SOR 260 · LEN 200 · ATZ_BEV 152 — Synthetic demo registry``."""
    return f"{cohort.summary_line()} — {current_registry().label}"


def cohort_page(title: str) -> tuple[Cohort, Registry, str]:
    """Start a page that analyses the current cohort: route, title, cohort caption.

    Returns the cohort, the registry and the caption; stops the page (after saying why) when the
    cohort is empty.
    """
    route_through_app()
    presenting = bool(st.session_state.get(StateKeys.PRESENT))  # the slides carry title and cohort line
    if not presenting:
        st.title(title)
    cohort = current_cohort()
    if cohort is None:
        st.stop()
    caption = cohort_caption(cohort)
    if not presenting:
        st.caption(md(caption))
    rules_not_applied_warning(cohort)
    return cohort, current_registry(), caption
