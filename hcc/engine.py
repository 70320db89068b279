"""Large registries on an existing engine: cohort rules, endpoints and risk-set counts in SQL.

For registries of hundreds of thousands to tens of millions of patients the rows stay in the
database. One SQL query per endpoint applies the cohort rules (:class:`hcc.cohort.rules.CohortSpec`),
derives the endpoint (:data:`hcc.cohort.endpoints.DEFINITIONS`, with the same date-order checks) and
aggregates, per first-line regimen and distinct time in days, the events and censorings. Only
those O(distinct times × regimens) rows reach Python, where :func:`hcc.stats.survival.summarize_risk_sets`
computes KM, medians, log-rank, pairwise tests, Cox HRs and RMST from them — the same functions,
and the same integer counts, as the in-memory path, so the results are equal (tested in
``tests/test_engine.py``, DuckDB and PySpark local mode).

The SQL is written once (:func:`endpoint_counts_sql`) and runs unchanged on DuckDB (embedded,
default, over Parquet or a DuckDB database), Spark SQL and Trino; the only per-engine piece is the
day difference of two dates (:data:`DAY_DIFF`). The table must hold the canonical, validated
registry (``Registry.frame``'s columns, dates as DATE); :func:`write_parquet` writes one.

Results reach Python as numpy columns (:meth:`Engine.columns`), not pandas frames, so that the fast
path of ``analyze --stats km`` imports no pandas. Several endpoints are summarised with two queries in
all (:func:`summarize_endpoints`: one for which are available, one UNION ALL of their risk-set counts).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np

from hcc.cohort.rules import (
    EMPTY_COHORT, AttritionStep, CohortSpec, Keep, Pooling, not_applied_step, pooled_step, pooling_of, regimens_unknown,
    registry_step, rule_step_kind, rules,
)
from hcc.cohort.endpoints import (
    DEFINITIONS, NO_END_REASON, EndpointDef, missing_reason, source_columns, unavailable_message,
)
from hcc.errors import EmptyCohortError, HCCError, SpecError
from hcc.i18n import tr
from hcc.stats.risksets import RiskSets, from_long
from hcc.schema import (
    DATE_COLUMNS, DATE_ORDER, OTHER_REGIMEN, WITHIN_FOLLOWUP, Col, Endpoint, after_followup_reason, regimen_order,
)
from hcc.stats.survival import AnalysisSpec, EndpointSummary, summarize_risk_sets

if TYPE_CHECKING:  # pandas only for Engine.query's frames (tests, tools) and write_parquet: imported there
    import pandas as pd

#: The view every query reads: the canonical registry table (one row per patient).
TABLE = "hcc_registry"
#: Days from date ``a`` to date ``b`` in each engine's SQL.
DAY_DIFF: dict[str, str] = {
    "duckdb": "date_diff('day', {a}, {b})",
    "trino": "date_diff('day', {a}, {b})",
    "spark": "datediff({b}, {a})",
}


#: A query's result as numpy arrays by column name, as this module reads it: NULL is None in an object
#: (text) column and NaN in a numeric one (a numeric column without NULLs keeps its integer type).
Columns = dict[str, np.ndarray]


class Engine(Protocol):
    """Runs one SQL query against a database holding :data:`TABLE`: as numpy arrays by column name
    (``columns``: what this module reads; NULLs as :data:`Columns` says or masked, as DuckDB's
    ``fetchnumpy`` gives them) or as a pandas frame (``query``: for a person or a tool looking at a result)."""

    dialect: str

    def columns(self, sql: str) -> dict[str, np.ndarray]: ...

    def query(self, sql: str) -> pd.DataFrame: ...


def _fetch(engine: Engine, sql: str) -> Columns:
    """``engine.columns(sql)`` as :data:`Columns` (masked arrays unmasked)."""
    out = {}
    for name, values in engine.columns(sql).items():
        if isinstance(values, np.ma.MaskedArray):
            mask = np.ma.getmaskarray(values)
            values = values.data.astype(object if values.dtype == object else float)
            values[mask] = None if values.dtype == object else np.nan
        out[name] = values
    return out


def frame_columns(frame: pd.DataFrame) -> Columns:
    """:data:`Columns` of a pandas frame (an engine whose client returns frames, e.g. Spark's ``toPandas``)."""
    import pandas as pd  # noqa: PLC0415  (see the imports)

    out = {}
    for name in frame.columns:
        values = frame[name].to_numpy()
        if values.dtype == object:
            values = np.where(pd.isna(values), None, values)
        out[name] = values
    return out


@dataclass
class DuckDBEngine:
    """Embedded DuckDB over a Parquet file (default) or a table of a DuckDB database file.

    The database is opened read-only; :data:`TABLE` is a view in an in-memory catalog.
    """

    path: Path
    table: str | None = None
    dialect: str = "duckdb"

    def __post_init__(self) -> None:
        import duckdb  # noqa: PLC0415  (imported only when a large registry is opened)

        self.path = Path(self.path)
        self._con = duckdb.connect()
        if self.table is None:
            self._con.execute(f"CREATE VIEW {TABLE} AS SELECT * FROM read_parquet({_literal(str(self.path))})")
        else:
            self._con.execute(f"ATTACH {_literal(str(self.path))} AS src (READ_ONLY)")
            self._con.execute(f"CREATE VIEW {TABLE} AS SELECT * FROM src.{_identifier(self.table)}")

    def columns(self, sql: str) -> dict[str, np.ndarray]:
        return self._con.execute(sql).fetchnumpy()

    def query(self, sql: str) -> pd.DataFrame:
        return self._con.execute(sql).df()

    def close(self) -> None:
        self._con.close()


@dataclass
class SparkEngine:
    """A Spark session (local mode, or a cluster's) with :data:`TABLE` registered as a temp view,
    e.g. ``spark.read.parquet(path).createOrReplaceTempView(TABLE)``."""

    spark: Any
    dialect: str = "spark"

    def columns(self, sql: str) -> Columns:
        return frame_columns(self.query(sql))

    def query(self, sql: str) -> pd.DataFrame:
        return self.spark.sql(sql).toPandas()


def write_parquet(frame: pd.DataFrame, path: str | Path) -> None:
    """Write a canonical registry frame (``Registry.frame``) as Parquet, dates as DATE."""
    import pyarrow as pa  # noqa: PLC0415
    import pyarrow.parquet as pq  # noqa: PLC0415

    table = pa.Table.from_pandas(frame, preserve_index=False)
    for name in DATE_COLUMNS:
        if name in table.column_names:
            i = table.column_names.index(name)
            table = table.set_column(i, name, table.column(name).cast(pa.date32()))
    pq.write_table(table, str(path))


def _identifier(name: str) -> str:
    if not name.replace("_", "").isalnum():
        raise SpecError(tr("{name}: a table name may hold only letters, digits and underscores", name=repr(name)))
    return name


def _literal(value: Any) -> str:
    """A SQL literal: quoted string (quotes doubled), number, or boolean."""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, (int, float, np.integer, np.floating)):
        return repr(float(value))
    return "'" + str(value).replace("'", "''") + "'"


def _in(column: str, allowed: tuple | frozenset) -> str:
    return f"{column} IN ({', '.join(_literal(v) for v in sorted(allowed, key=str))})"


def keep_sql(keep: Keep) -> str:
    """The SQL condition for who stays under a cohort rule (:class:`hcc.cohort.rules.Keep`, the same
    data :func:`hcc.cohort.rules.keep_mask` reads in pandas). The first-line regimen is read as ``grp``,
    the regimen after pooling rare ones, as the pandas path reads its pooled column. A NULL value
    makes the condition NULL: not recorded, removed."""
    column = "grp" if keep.column == Col.REGIMEN_1L else keep.column
    if keep.op == "in":
        return _in(column, keep.values)
    if keep.op == "equals":
        return f"{column} = {_literal(keep.values[0])}"
    if keep.op == "below":
        return f"{column} < {_literal(keep.values[0])}"
    if keep.op == "at_least":
        return f"{column} >= {_literal(keep.values[0])}"
    if keep.op == "between":
        date = "DATE " if keep.column in DATE_COLUMNS else ""
        bounds = [f"{column} {cmp} {date}{_literal(v)}" for v, cmp in zip(keep.values, (">=", "<=")) if v is not None]
        return " AND ".join(bounds) if bounds else f"{column} IS NOT NULL"
    raise HCCError(f"hcc.engine cannot translate the cohort rule operation {keep.op!r}")


def _rule_keeps(spec: CohortSpec) -> list[tuple[str | None, str]]:
    """For each of the spec's rules (in :func:`hcc.cohort.rules.rules` order): the column whose blanks
    the rule removes, and the SQL condition a patient must meet to stay (:func:`keep_sql`)."""
    return [(rule.column, keep_sql(rule.keep)) for rule in rules(spec)]


def cohort_sql(spec: CohortSpec, empty_columns: frozenset[str] = frozenset()) -> str:
    """SELECT of the cohort's rows with ``grp``, the first-line regimen after pooling rare ones.

    ``empty_columns``: columns without any value in the table; rules on them are not applied (as
    the in-memory cohort log's "Not applied" steps).
    """
    regimen = Col.REGIMEN_1L
    if spec.other_below > 0:
        grp = (f"CASE WHEN COUNT(*) OVER (PARTITION BY {regimen}) < {int(spec.other_below)} "
               f"THEN {_literal(OTHER_REGIMEN)} ELSE {regimen} END")
    else:
        grp = regimen
    keeps = [f"({keep})" for column, keep in _rule_keeps(spec) if column not in empty_columns]
    where = " AND ".join(keeps) if keeps else "TRUE"
    return f"SELECT * FROM (SELECT *, {grp} AS grp FROM {TABLE}) pooled WHERE {where}"


def _least(columns: list[str]) -> str:
    """The earliest non-NULL of ``columns`` (NULL if all are): portable, unlike LEAST's NULLs."""
    out = columns[0]
    for c in columns[1:]:
        out = f"CASE WHEN {out} IS NULL THEN {c} WHEN {c} IS NULL OR {out} <= {c} THEN {out} ELSE {c} END"
    return out


def _reason_sql(spec: EndpointDef) -> str:
    """The first date-order problem, missing origin or missing end (as :func:`hcc.cohort.endpoints.derive`),
    as a CASE; NULL when the patient is usable."""
    used = set(spec.columns)
    whens = []
    for rule in DATE_ORDER:
        if rule.earlier in used and rule.later in used:
            bound = f"{rule.earlier} - INTERVAL '{rule.slack_days}' DAY" if rule.slack_days else rule.earlier
            whens.append((f"{rule.later} < {bound}", rule.reason))
    end = f"COALESCE({Col.DATE_DEATH}, {Col.DATE_LAST_FOLLOWUP})"
    for col in WITHIN_FOLLOWUP:
        if col in used:
            whens.append((f"{col} > {end}", after_followup_reason(col)))
    whens.append((f"{spec.origin} IS NULL", missing_reason(spec.origin)))
    whens.append(("end_date IS NULL", tr(NO_END_REASON)))
    return "CASE " + " ".join(f"WHEN {c} THEN {_literal(r)}" for c, r in whens) + " END"


def _eligible_sql(spec: EndpointDef) -> str:
    rule = spec.eligible
    if rule is None:
        return "TRUE"
    if rule.allowed is None:
        return f"{rule.column} IS NOT NULL"
    return f"COALESCE({_in(rule.column, rule.allowed)}, FALSE)"


def endpoint_counts_sql(spec: CohortSpec, endpoint: Endpoint | str, dialect: str = "duckdb",
                        empty_columns: frozenset[str] = frozenset(), cohort_rows: str = "") -> str:
    """One query: cohort rules, endpoint derivation, then per (``grp``, ``days``) the events and
    censorings of usable patients. Rows with ``days`` NULL carry the patients not analysed:
    ``reason`` = the exclusion reason, or NULL for not eligible (counted in ``n_censor``).
    ``cohort_rows``: a SELECT of the cohort's rows already made (:attr:`EngineCohort.rows`), instead
    of applying the rules."""
    definition = DEFINITIONS[Endpoint(endpoint)]
    events = _least(list(definition.events))
    censor = (Col.DATE_LAST_FOLLOWUP if Col.DATE_DEATH in definition.events
              else _least([Col.DATE_LAST_FOLLOWUP, Col.DATE_DEATH]))
    day_diff = DAY_DIFF[dialect].format(a=definition.origin, b="end_date")
    return f"""
WITH cohort AS ({cohort_rows or cohort_sql(spec, empty_columns)}),
dated AS (
  SELECT *, {events} AS event_date, COALESCE({events}, {censor}) AS end_date,
         {_eligible_sql(definition)} AS eligible
  FROM cohort),
derived AS (
  SELECT grp, eligible, {_reason_sql(definition)} AS reason, event_date IS NOT NULL AS has_event,
         {day_diff} AS days
  FROM dated)
SELECT grp, CASE WHEN eligible AND reason IS NULL THEN days END AS days,
       CASE WHEN eligible THEN reason END AS reason,
       SUM(CASE WHEN eligible AND reason IS NULL AND has_event THEN 1 ELSE 0 END) AS n_event,
       SUM(CASE WHEN eligible AND reason IS NULL AND has_event THEN 0 ELSE 1 END) AS n_censor
FROM derived
GROUP BY grp, CASE WHEN eligible AND reason IS NULL THEN days END, CASE WHEN eligible THEN reason END
"""


@dataclass(frozen=True)
class EngineCohort:
    """What the engine knows of a cohort without fetching its rows: regimens and their sizes."""

    spec: CohortSpec
    regimens: tuple[str, ...]
    by_regimen: dict[str, int]
    empty_columns: frozenset[str]
    pooling: Pooling | None = None
    #: A SELECT of the cohort's rows with ``grp`` when they are held in a table (:func:`materialize`);
    #: "" when every query applies the rules.
    rows: str = ""

    @property
    def n(self) -> int:
        return sum(self.by_regimen.values())

    def rows_sql(self) -> str:
        """A SELECT of the cohort's rows with ``grp``: the held table, or the rules applied."""
        return self.rows or cohort_sql(self.spec, self.empty_columns)


def materialize(engine: Engine, cohort_: EngineCohort, table: str,
                columns: frozenset[str] | None = None) -> EngineCohort:
    """``cohort_`` with its rows held in the temporary table ``table`` (DuckDB: in the connection's
    memory, gone when it closes), read by the endpoint queries instead of applying the rules in each
    one. The same rows: the cohort query itself, run once. ``columns``: only these (and ``grp``), e.g.
    :func:`columns_read` of the endpoints to come (at 1M a third less to copy than every column)."""
    kept = "*" if columns is None else ", ".join(sorted(columns)) + ", grp"
    engine.columns(f"CREATE TEMPORARY TABLE {_identifier(table)} AS SELECT {kept} FROM ({cohort_.rows_sql()}) c")
    return replace(cohort_, rows=f"SELECT * FROM {table}")


def registry_regimens(engine: Engine) -> tuple[str, ...]:
    """The table's first-line regimens in display order (:func:`hcc.ingest.registry.order_regimens`'s)."""
    regimen = Col.REGIMEN_1L
    rows = _fetch(engine, f"SELECT {regimen} AS r, COUNT(*) AS n FROM {TABLE} WHERE {regimen} IS NOT NULL "
                          f"GROUP BY {regimen}")
    return regimen_order({str(r): int(n) for r, n in zip(rows["r"], rows["n"])})


def columns_read(spec: CohortSpec, endpoints: tuple[Endpoint, ...]) -> frozenset[str]:
    """Every column of :data:`TABLE` that the cohort and endpoint queries of ``spec`` and ``endpoints`` read
    (a table holding these is enough): the first-line regimen, the rules' columns, and per endpoint
    its date columns (:attr:`hcc.cohort.endpoints.EndpointDef.columns`, which the date-order rules read) and its
    eligibility column."""
    out = {Col.REGIMEN_1L, *(c for r in rules(spec) for c in (r.column, r.keep.column) if c is not None)}
    for endpoint in endpoints:
        definition = DEFINITIONS[Endpoint(endpoint)]
        out.update(definition.columns)
        if definition.eligible is not None:
            out.add(definition.eligible.column)
    return frozenset(out)


def cohort(engine: Engine, spec: CohortSpec) -> EngineCohort:
    """Apply ``spec`` in the engine; regimens in the registry's order (:func:`regimen_order`), as
    :func:`hcc.cohort.rules.apply_spec`. Two queries: the registry's patients per regimen, with how many
    have a value in each column a rule reads (a column without any is not filtered on: "not applied"),
    then the cohort's patients per regimen.

    Raises SpecError for a chosen regimen the registry lacks, EmptyCohortError when nobody remains.
    """
    regimen = Col.REGIMEN_1L
    columns = sorted({r.column for r in rules(spec) if r.column is not None})
    values = "".join(f", COUNT({c}) AS {c}" for c in columns)
    per_regimen = _fetch(engine, f"SELECT {regimen} AS r, COUNT(*) AS n{values} FROM {TABLE} GROUP BY {regimen}")
    empty = frozenset(c for c in columns if int(per_regimen[c].sum()) == 0)
    registry = [(r, int(n)) for r, n in zip(per_regimen["r"], per_regimen["n"])]  # r None: no regimen recorded
    spec, pooling = _capped({str(r): n for r, n in registry if r is not None}, spec)
    regimens_all = regimen_order(_pooled_counts(registry, spec.other_below))
    unknown = [r for r in spec.regimens if r not in regimens_all]
    if unknown:
        raise SpecError(regimens_unknown(unknown, regimens_all))
    counts = _fetch(engine, f"SELECT grp, COUNT(*) AS n FROM ({cohort_sql(spec, empty)}) c GROUP BY grp")
    if not len(counts["n"]):
        raise EmptyCohortError(tr(EMPTY_COHORT))
    by = {str(g): int(n) for g, n in zip(counts["grp"], counts["n"])}
    regimens = tuple(r for r in regimens_all if r in by)
    return EngineCohort(spec, regimens, {r: by[r] for r in regimens}, empty, pooling)


def _pooled_counts(registry: list[tuple[str | None, int]], below: int) -> dict[str, int]:
    """Patients per ``grp`` of :func:`cohort_sql` with no rule but ``below``, from patients per regimen:
    a regimen (or the blank regimen) of fewer than ``below`` patients is "Other"; blanks left blank are
    not counted — what ``SELECT grp, COUNT(*) … WHERE grp IS NOT NULL GROUP BY grp`` returns."""
    out: dict[str, int] = {}
    for r, n in registry:
        group = OTHER_REGIMEN if below > 0 and n < below else r
        if group is not None:
            out[str(group)] = out.get(str(group), 0) + n
    return out


def _capped(counts: dict[str, int], spec: CohortSpec) -> tuple[CohortSpec, Pooling | None]:
    """``spec`` with its rare-regimen threshold raised as the group cap needs
    (:func:`hcc.cohort.rules.pooling_of` on the registry's patients per regimen), and what was pooled."""
    _, pooling = pooling_of(counts, spec.other_below)
    if pooling is None or pooling.below == spec.other_below:
        return spec, pooling
    return replace(spec, other_below=pooling.below), pooling


def endpoints_risk_sets(engine: Engine, cohort_: EngineCohort, endpoints: tuple[Endpoint, ...]
                        ) -> dict[Endpoint, tuple[RiskSets, dict[str, int], dict[str, int]]]:
    """Each endpoint's risk sets by regimen, and its not-eligible and excluded counts by reason, from one
    query: their :func:`endpoint_counts_sql` queries as one UNION ALL, each row tagged with the endpoint's
    position."""
    if not endpoints:
        return {}
    rows = cohort_.rows_sql()
    queries = [endpoint_counts_sql(cohort_.spec, e, engine.dialect, cohort_.empty_columns, rows) for e in endpoints]
    union = "\nUNION ALL\n".join(f"SELECT {i} AS endpoint, * FROM ({sql}) e{i}" for i, sql in enumerate(queries))
    result = _fetch(engine, union)
    which = np.asarray(result["endpoint"], dtype=np.int64)
    return {Endpoint(e): _risk_sets(e, {k: v[which == i] for k, v in result.items()}, cohort_.regimens)
            for i, e in enumerate(endpoints)}


def _risk_sets(endpoint: Endpoint | str, rows: Columns,
               regimens: tuple[str, ...]) -> tuple[RiskSets, dict[str, int], dict[str, int]]:
    """One endpoint's rows of :func:`endpoint_counts_sql` as risk sets, not-eligible and excluded counts."""
    definition = DEFINITIONS[Endpoint(endpoint)]
    days = np.asarray(rows["days"], dtype=float)
    usable = ~np.isnan(days)
    censored = np.asarray(rows["n_censor"], dtype=np.int64)
    rs = from_long(np.asarray(rows["grp"], dtype=object)[usable], days[usable],
                   np.asarray(rows["n_event"], dtype=np.int64)[usable], censored[usable], regimens)
    by_reason: dict[str, int] = {}
    not_eligible_n = 0
    for reason, n in zip(rows["reason"][~usable], censored[~usable]):
        if reason is None:
            not_eligible_n += int(n)
        else:
            by_reason[str(reason)] = by_reason.get(str(reason), 0) + int(n)
    not_eligible = {tr(definition.not_eligible_reason): not_eligible_n} if not_eligible_n else {}
    # most patients first; equal counts in the reasons' alphabetical order (as a sorted groupby, then a stable sort)
    excluded = dict(sorted(sorted(by_reason.items()), key=lambda item: -item[1]))
    return rs, not_eligible, excluded


def unavailable_reasons(engine: Engine, cohort_: EngineCohort, endpoints: tuple[Endpoint, ...]) -> dict[Endpoint, str]:
    """:func:`hcc.cohort.endpoints.unavailable_reason` in the database, for several endpoints: why each
    cannot be computed ("" when it can) -- a date column defining it has no values in the cohort. One query
    counting every source column."""
    sources = {Endpoint(e): source_columns(Endpoint(e)) for e in endpoints}
    columns = sorted({c for cs in sources.values() for c in cs})
    if not columns:
        return {e: "" for e in sources}
    counts = _fetch(engine, "SELECT " + ", ".join(f"COUNT({c}) AS {c}" for c in columns)
                            + f" FROM ({cohort_.rows_sql()}) c")
    empty = {c for c in columns if int(counts[c][0]) == 0}
    return {e: next((unavailable_message(e, c) for c in cs if c in empty), "") for e, cs in sources.items()}


def summarize_endpoint(engine: Engine, cohort_: EngineCohort, endpoint: Endpoint | str,
                       spec: AnalysisSpec | None = None, *, comparisons: bool = True) -> EndpointSummary:
    """:func:`hcc.analysis.analyze_endpoint` with the rows in the engine: the same summary, from
    the engine's risk-set counts. An endpoint whose source column has no values in the cohort is not
    computed (:func:`unavailable_reasons`): no curves, and ``unavailable`` says why, as in memory."""
    endpoint = Endpoint(endpoint)
    return summarize_endpoints(engine, cohort_, (endpoint,), spec, comparisons=comparisons)[endpoint]


@dataclass(frozen=True)
class EndpointCounts:
    """What the database gives of a cohort's endpoints, before any statistic: per endpoint why it is not
    available ("" when it is), and the available ones' risk sets with the patients not eligible and
    excluded (by reason). Independent of the :class:`AnalysisSpec`: every CI method, horizon and test
    of a cohort comes from one pair of queries (:func:`count_endpoints`, :func:`summarize_counts`)."""

    cohort: EngineCohort
    missing: dict[Endpoint, str]
    counted: dict[Endpoint, tuple[RiskSets, dict[str, int], dict[str, int]]]


def count_endpoints(engine: Engine, cohort_: EngineCohort, endpoints: tuple[Endpoint | str, ...]) -> EndpointCounts:
    """The :class:`EndpointCounts` of ``endpoints``, with two queries in all: :func:`unavailable_reasons`,
    then :func:`endpoints_risk_sets` of the available ones."""
    endpoints = tuple(Endpoint(e) for e in endpoints)
    missing = unavailable_reasons(engine, cohort_, endpoints)
    return EndpointCounts(cohort_, missing,
                          endpoints_risk_sets(engine, cohort_, tuple(e for e in endpoints if not missing[e])))


def summarize_counts(counts: EndpointCounts, endpoint: Endpoint | str, spec: AnalysisSpec | None = None, *,
                     comparisons: bool = True) -> EndpointSummary:
    """:func:`summarize_endpoint` from counts already fetched (no query): an endpoint whose source column
    has no values in the cohort has no curves and ``unavailable`` says why, as in memory."""
    e = Endpoint(endpoint)
    if counts.missing[e]:
        empty = from_long(np.array([], object), np.array([]), np.array([], np.int64), np.array([], np.int64),
                          counts.cohort.regimens)
        return replace(summarize_risk_sets(empty, e, spec, comparisons=False), unavailable=counts.missing[e])
    rs, not_eligible, excluded = counts.counted[e]
    return summarize_risk_sets(rs, e, spec, not_eligible=not_eligible, excluded=excluded, comparisons=comparisons)


def summarize_endpoints(engine: Engine, cohort_: EngineCohort, endpoints: tuple[Endpoint | str, ...],
                        spec: AnalysisSpec | None = None, *,
                        comparisons: bool = True) -> dict[Endpoint, EndpointSummary]:
    """:func:`summarize_endpoint` of each of ``endpoints`` (in their order), with two queries in all
    (:func:`count_endpoints`)."""
    counts = count_endpoints(engine, cohort_, endpoints)
    return {e: summarize_counts(counts, e, spec, comparisons=comparisons) for e in counts.missing}


def attrition(engine: Engine, cohort_: EngineCohort) -> tuple[AttritionStep, ...]:
    """The cohort's attrition log computed in the database, step for step as
    :func:`hcc.cohort.rules.apply_spec` writes it: the registry, the pooling note, then per rule the
    patients it removed (by regimen) and, when any, those removed because the value was not recorded;
    a rule on a column without values is listed as not applied. One query."""
    pooled = cohort_sql(CohortSpec(other_below=cohort_.spec.other_below))
    applied = [(rule, keep_sql(rule.keep)) for rule in rules(cohort_.spec)]
    sums, before = [], "TRUE"
    for i, (rule, keep) in enumerate(applied):
        if rule.column in cohort_.empty_columns:
            continue
        kept = f"COALESCE({keep}, FALSE)"
        dropped = f"NOT {kept}" if rule.column is None else f"{rule.column} IS NOT NULL AND NOT {kept}"
        sums.append(f"SUM(CASE WHEN ({before}) AND {dropped} THEN 1 ELSE 0 END) AS d{i}")
        if rule.column is not None:
            sums.append(f"SUM(CASE WHEN ({before}) AND {rule.column} IS NULL THEN 1 ELSE 0 END) AS m{i}")
        before = f"{before} AND {kept}"
    rows = _fetch(engine, f"SELECT grp, COUNT(*) AS n{''.join(', ' + s for s in sums)} FROM ({pooled}) c GROUP BY grp")
    groups = [str(g) for g in rows["grp"]]
    regimens_all = regimen_order({g: int(n) for g, n in zip(groups, rows["n"]) if g != "None"})
    remaining = int(rows["n"].sum())
    steps = [registry_step(remaining)]
    if cohort_.pooling is not None:
        steps.append(pooled_step(cohort_.pooling, remaining))

    def step(label: str, column: str, always: bool, index: int, kind: str = "") -> None:
        nonlocal remaining
        counts = dict(zip(groups, rows[column].astype(int)))
        removed = sum(counts.values())
        if removed or always:
            remaining -= removed
            steps.append(AttritionStep(label, removed, remaining, {r: counts.get(r, 0) for r in regimens_all},
                                       kind, index))

    for i, (rule, _) in enumerate(applied):
        if rule.column in cohort_.empty_columns:
            steps.append(not_applied_step(rule, i, remaining))
            continue
        step(rule.label, f"d{i}", True, i, rule_step_kind(rule))
        if rule.column is not None:
            step(rule.missing_label, f"m{i}", False, i)
    return tuple(steps)
