"""Database mode in the app: a server registry too large for memory, analysed where it lies.

The registry (:class:`hcc.ingest.database.DatabaseRegistry`, its own read-only DuckDB connection) is
kept in this session's state only, closed when another file, an upload or "Close the server
registry" replaces it (otherwise when the session ends and its state is collected). Its rows never reach pandas: the
cohort, its attrition and each endpoint's summary come from :mod:`hcc.engine`, kept per session
(:func:`ui.common.session_memo`, keyed by the file's fingerprint and the settings): each cohort's seven endpoints
are counted in two queries (:func:`hcc.engine.count_endpoints`), every summary computed from those counts.

Overview, Survival and Cohort (attrition) run on it, drawn with the same figure and table functions
as in memory; :func:`database_page` routes each page, and the pages that need the patients' rows
show a notice instead.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import streamlit as st

from hcc.cohort.rules import AttritionStep, CohortName, CohortSpec, cohort_name, pooling_of
from hcc.engine import (
    TABLE, DuckDBEngine, EndpointCounts, EngineCohort, attrition, cohort, count_endpoints, registry_regimens,
    summarize_counts,
)
from hcc.errors import HCCError
from hcc.i18n import N_, tr, trc
from hcc.ingest.database import (
    DatabaseRegistry, check_table, database_label, database_mode_rows, fingerprint, lockdown_sql,
)
from hcc.ingest.serverdata import ServerDataError, resolve
from hcc.ingest.registry import regimen_order
from hcc.outputs.figures import attrition_figure, regimen_colors
from hcc.schema import OTHER_REGIMEN, Col, Endpoint, regimen_name
from hcc.schema import SURVIVAL_ENDPOINTS as ENDPOINTS
from hcc.stats.survival import AnalysisSpec, EndpointSummary
from ui.actions import guarded
from ui.common import PAGES, StateKeys, current_spec, session_memo
from ui.views import (
    all_endpoints_table, attrition_log, endpoint_choice, endpoint_detail, os_headline, page_links, present_overview,
    present_survival, who_is_in,
)
from ui.present import Slide, present, presenting
from ui.text import md, mds
from ui.widgets import analysis_spec_form

#: Pages drawn from the database (by URL path); the Data page runs as itself; the others need rows.
_IN_DATABASE = ("overview", "survival", "cohort", "data")


def open_database(root: Path, relative: str, table: str | None = None) -> DatabaseRegistry:
    """Open a Parquet file or DuckDB table of ``root`` in database mode: a :class:`hcc.engine.DuckDBEngine`
    of its own, locked to ``root`` (:func:`hcc.ingest.database.lockdown_sql`), its table checked against
    the data contract (:func:`hcc.ingest.database.check_table`).

    Raises ServerDataError (the path is not offered, or the file or table cannot be read) or SchemaError
    (the table breaks the contract), and leaves no connection open when it does.
    """
    import duckdb  # noqa: PLC0415

    path = resolve(root, relative)
    name = path.name if table is None else f"{path.name}:{table}"
    try:
        engine = DuckDBEngine(path, table)
    except (duckdb.Error, HCCError) as exc:
        raise ServerDataError(tr("{name}: the file cannot be opened in the database ({error}).", name=name,
                                 error=type(exc).__name__)) from None
    try:
        for setting in lockdown_sql(root):
            engine.query(setting)
        absent, warnings = check_table(engine, TABLE, name, path if table is None else None)
        counts = engine.query(f"SELECT {Col.REGIMEN_1L} AS r, COUNT(*) AS n FROM {TABLE} GROUP BY 1")
        by_regimen = {str(r): int(n) for r, n in zip(counts["r"], counts["n"])}
        ordered = registry_regimens(engine)
    except duckdb.PermissionException:
        engine.close()
        raise ServerDataError(tr("{name}: this table is a view that reads files outside the data directory; "
                                 "only tables stored inside the DuckDB file can be opened. Ask the data manager "
                                 "to store it as a table (CREATE TABLE … AS SELECT …).", name=name)) from None
    except duckdb.Error as exc:
        engine.close()
        raise ServerDataError(tr("{name}: the table cannot be read ({error}).", name=name,
                                 error=type(exc).__name__)) from None
    except BaseException:
        engine.close()
        raise
    return DatabaseRegistry(engine, database_label(name), sum(by_regimen.values()),
                            {r: by_regimen[r] for r in ordered}, fingerprint(path, table), absent, warnings)


def current_database() -> DatabaseRegistry | None:
    """This session's registry in database mode, if one is open."""
    return st.session_state.get(StateKeys.DATABASE)


def close_database() -> None:
    """Close and forget this session's database-mode registry (and the results computed from it)."""
    db = st.session_state.pop(StateKeys.DATABASE, None)
    if db is not None:
        st.session_state.pop(StateKeys.MEMO, None)
        db.close()


def hold_database(db: DatabaseRegistry) -> None:
    """Make ``db`` this session's data, replacing (and closing) any database or upload held before."""
    close_database()
    for key in (StateKeys.REGISTRY, StateKeys.MEMO, StateKeys.SOURCE, StateKeys.MAPPING):
        st.session_state.pop(key, None)
    st.session_state[StateKeys.DATABASE] = db


@dataclass(frozen=True, eq=False)
class DatabaseCohort:
    """A cohort of a database-mode registry: the spec chosen, the engine's cohort and its attrition log."""

    spec: CohortSpec
    engine_cohort: EngineCohort
    attrition: tuple[AttritionStep, ...]

    @property
    def regimens(self) -> tuple[str, ...]:
        return self.engine_cohort.regimens

    def by_regimen(self) -> dict[str, int]:
        return dict(self.engine_cohort.by_regimen)

    @property
    def name(self) -> CohortName:
        """The cohort's truthful name (:func:`hcc.cohort.rules.cohort_name`), rules not applied included."""
        return cohort_name(self.spec, self.attrition)

    def caption(self, db: DatabaseRegistry) -> str:
        """As :func:`ui.common.cohort_caption`: name, patients per regimen, the data's label."""
        line = " · ".join([self.name.short] + [f"{r} {k}" for r, k in self.by_regimen().items()])
        return f"{line} — {db.label}"


def _cohort(db: DatabaseRegistry, spec: CohortSpec) -> DatabaseCohort:
    return session_memo(("db cohort", db.fingerprint, spec), lambda: _make_cohort(db, spec))


def _make_cohort(db: DatabaseRegistry, spec: CohortSpec) -> DatabaseCohort:
    made = cohort(db.engine, spec)
    return DatabaseCohort(spec, made, attrition(db.engine, made))


def database_cohort(quiet: bool = False) -> DatabaseCohort | None:
    """The current rules' cohort in the database, or ``None`` after saying why it is empty (``quiet``: without)."""
    db = current_database()
    try:
        return _cohort(db, current_spec())
    except HCCError as exc:
        if not quiet:
            st.error(md(exc), icon=":material/error:")
        return None


def sidebar_choices(db: DatabaseRegistry, other_below: int):
    """(first-line regimens as the rare-regimen rule groups them, what was pooled, centers) for the
    sidebar's rules, as :class:`hcc.cohort.rules.CohortIndex` gives them in memory."""
    rare, pooling = pooling_of(db.regimen_counts, other_below)
    grouped: dict[str, int] = {}
    for regimen, n in db.regimen_counts.items():
        label = OTHER_REGIMEN if regimen in rare else regimen
        grouped[label] = grouped.get(label, 0) + n
    centers = session_memo(("db centers", db.fingerprint), lambda: tuple(sorted(str(c) for c in db.engine.query(
        f"SELECT DISTINCT {Col.CENTER} AS c FROM {TABLE} WHERE {Col.CENTER} IS NOT NULL")["c"])))
    return regimen_order(grouped), pooling, centers


def _summary(db: DatabaseRegistry, c: DatabaseCohort, endpoint: Endpoint, spec: AnalysisSpec | None = None,
             comparisons: bool = True) -> EndpointSummary:
    endpoint = Endpoint(endpoint)
    return session_memo(("db km", db.fingerprint, c.spec, endpoint.value, spec, comparisons),
                        lambda: summarize_counts(_counts(db, c), endpoint, spec, comparisons=comparisons))


def _counts(db: DatabaseRegistry, c: DatabaseCohort) -> EndpointCounts:
    """The cohort's seven endpoints counted in the database once (two queries), whatever the page, the
    analysis settings or the endpoint opened: the Overview's OS and the Survival page share them."""
    return session_memo(("db counts", db.fingerprint, c.spec),
                        lambda: count_endpoints(db.engine, c.engine_cohort, ENDPOINTS))


def _start(title: str) -> tuple[DatabaseRegistry, DatabaseCohort, str]:
    """As :func:`ui.common.cohort_page`: title, the cohort (or why it is empty, then stop), its caption."""
    if not presenting():  # the slides carry title and cohort line
        st.title(title)
    db = current_database()
    c = database_cohort()
    if c is None:
        st.stop()
    caption = c.caption(db)
    if not presenting():
        st.caption(md(caption))
    if c.name.warning:
        st.warning(md(c.name.warning), icon=":material/warning:")
    return db, c, caption


def _overview() -> None:
    db = current_database()
    c = database_cohort(quiet=True)  # why a cohort is empty is said below, where the page says it
    if c is not None:
        os_summary = _summary(db, c, Endpoint.OS, comparisons=False)
        caption = c.caption(db)
        if presenting():  # the slides alone, before any of the page (as the in-memory Overview)
            present_overview(os_summary, c.attrition, c.regimens, c.by_regimen(), regimen_colors(c.regimens), caption)
    st.title("HCC Outcomes Explorer")
    st.subheader(tr("Data loaded"))
    cols = st.columns(3)
    cols[0].metric(trc("data summary", "Source"), tr("Server database"), help=md(db.label))
    cols[1].metric(tr("Patients"), f"{db.n_patients:,}")
    cols[2].metric(tr("First-line regimens"), len(db.regimens))
    st.caption(md(db.label + " · " + " · ".join(
        f"{regimen_name(r, with_code=False)} ({r}) {k:,}" for r, k in db.regimen_counts.items())))
    if c is None:
        database_cohort()  # says why
    else:
        os_headline(os_summary, caption)
        st.subheader(tr("Current cohort"))
        st.write(md(caption))
        if c.name.warning:
            st.warning(md(c.name.warning), icon=":material/warning:")
        attrition_log(c.attrition)
    page_links()


def _survival() -> None:
    db, c, caption = _start(tr("Survival by first-line regimen"))
    spec = analysis_spec_form(c.regimens)

    def summary_for(endpoint: Endpoint, comparisons: bool = True) -> EndpointSummary:
        with st.spinner(tr("Computing {endpoint}…", endpoint=endpoint.value)):
            return _summary(db, c, endpoint, spec, comparisons)

    if presenting():
        present_survival(summary_for, regimen_colors(c.regimens), caption)
    all_endpoints_table(summary_for)
    endpoint = endpoint_choice()
    endpoint_detail(summary_for(endpoint), endpoint, regimen_colors(c.regimens), caption)


def _cohort_page() -> None:
    db, c, caption = _start(tr("Cohort"))
    colors = regimen_colors(c.regimens)
    if presenting():
        present("pages/cohort.py", [Slide(tr("Who is in, and why"), figure=attrition_figure(
            c.attrition, c.regimens, c.by_regimen(), colors, caption))], caption)
    who_is_in(c.attrition, c.regimens, c.by_regimen(), c.spec, colors, caption)
    st.info(_needs_rows(tr("The baseline table (Table 1) and the what-if comparison")), icon=":material/database:")


def _needs_rows(what: str) -> str:
    db = current_database()
    return tr("{what} need the patients' rows in memory, and are not available for a registry analysed in the "
              "database ({label}: {n} patients; rows are loaded into memory only below {limit} patients). Overview, "
              "Survival and the cohort's attrition on the Cohort page work on it. To use this, open a smaller file "
              "(for example a subset from the data manager) or upload one on the Data page.",
              what=what, label=md(db.label), n=f"{db.n_patients:,}", limit=f"{database_mode_rows():,}")


def _notice(title: str, path: str) -> None:
    if presenting():  # no result here: a slide that says so, with the deck's Exit and Next
        present(path, [], current_database().label)
    st.title(title)
    st.info(_needs_rows(tr("The results of this page")), icon=":material/database:")


class _DatabasePage:
    """A page of the router run in database mode: drawn from the database, or a notice."""

    def __init__(self, page) -> None:
        self._page = page
        self.title = getattr(page, "title", "?")
        # the default page's URL path is "" in Streamlit: it is the registry's default page
        self.url_path = getattr(page, "url_path", "") or next(p.url_path for p in PAGES if p.default)

    def run(self) -> None:
        draw = {"overview": _overview, "survival": _survival, "cohort": _cohort_page}.get(self.url_path)
        if self.url_path == "data" and presenting():  # the Data page's slide would name the demo
            present("pages/data.py", [], current_database().label)
        elif self.url_path == "data":
            self._page.run()
        elif draw is not None:
            draw()
        else:
            _notice(self.title, next((p.path for p in PAGES if p.url_path == self.url_path), ""))


def database_page(page):
    """``page`` as this session runs it: itself, or in database mode its database version or a notice."""
    if current_database() is None:
        return page
    return _DatabasePage(page)


def database_data_summary() -> bool:
    """On the Data page: what the database-mode registry is, the date-order warnings found, and a
    button to close it; False (nothing shown) when none is open."""
    db = current_database()
    if db is None:
        return False
    st.subheader(md(db.label))
    st.success(tr("{n} patients, checked against the data format in the database; their rows stay in the file "
                  "(database mode). Overview, Survival and the Cohort page's attrition are computed in the database.",
                  n=f"{db.n_patients:,}"), icon=":material/database:")
    if db.absent_columns:
        st.info(tr("Optional columns not in the file (analyses that need them are unavailable): {columns}",
                   columns=mds(db.absent_columns)))
    if db.warnings:
        st.warning(tr("Dates out of order: the rows stay, and each analysis that uses those dates leaves the "
                      "patient out with the reason (Survival page, patients not analysed)."), icon=":material/warning:")
        st.markdown("\n".join(f"- {md(w)}" for w in db.warnings))
    st.button(tr("Close the server registry"), key=StateKeys.CLEAR_DATA, icon=":material/close:",
              on_click=guarded(close_database, N_("Closing the server registry")),
              help=tr("Close this session's connection to the file; the pages return to the synthetic demo registry."))
    return True
