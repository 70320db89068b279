"""One analysis run: registry + cohort spec -> cohort, endpoint summaries, JSON.

The app's pages and ``python -m hcc analyze`` both call :func:`analyze_endpoint` / :func:`analyze`,
so the screen and the CLI can never disagree.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from hcc.cohort.rules import Cohort, CohortSpec, Pooling, apply_to_registry, cohort_name
from hcc.cohort.endpoints import EndpointRows, derive, derive_rows, unavailable_reason
from hcc.errors import SpecError
from hcc.formatting import json_number
from hcc.i18n import N_, tr
from hcc.schema import DAYS_PER_MONTH, ENDPOINTS, Endpoint
from hcc.stats.risksets import risk_sets
from hcc.stats.survival import AnalysisSpec, EndpointSummary, summarize, summarize_risk_sets

# Response (scipy.stats, lifelines), multivariable Cox and weighting (lifelines) are imported where
# used: `analyze --stats km` and the Survival page never load them (a cold start of ~1 s less). Second
# line, competing risks and the pathway (pandas, scipy.special) too: the fast path of `--stats km`
# (km_json_clean) imports neither pandas nor scipy.
if TYPE_CHECKING:
    import pandas as pd

    from hcc.ingest.fastpath import CleanRegistry
    from hcc.ingest.registry import Registry
    from hcc.stats.competing import CIFPoint, CompetingSummary, PathwaySummary
    from hcc.stats.response import ResponseAnalysis


@dataclass(frozen=True, eq=False)
class AnalysisResult:
    """Cohort and per-endpoint summaries for one registry and spec."""

    registry: Registry
    cohort: Cohort
    endpoints: dict[Endpoint, EndpointSummary]
    sequences: pd.DataFrame | None = None
    by_second_line: dict[Endpoint, EndpointSummary] = field(default_factory=dict)
    by_second_line_after: str | None = None
    response: ResponseAnalysis | None = None
    competing: dict[str, CompetingSummary] = field(default_factory=dict)
    pathway: PathwaySummary | None = None


def analyze_endpoint(cohort: Cohort, endpoint: Endpoint | str, spec: AnalysisSpec | None = None, *,
                     comparisons: bool = True, derived: EndpointRows | None = None) -> EndpointSummary:
    """Derive one endpoint on the cohort and summarize it by first-line regimen (without pairwise
    tests and Cox model when ``comparisons`` is False, for overviews).

    ``derived``: the endpoint derived once for the cohort's whole registry (:func:`derive_rows` on
    ``Registry.frame``, as the app keeps it per session); the cohort's rows are then selected from it
    instead of derived again, with the same result (a patient's endpoint depends on their own row only).

    An endpoint whose source column has no values in the cohort is not computed: the summary has
    no curves and says why (``unavailable``), rather than silently becoming another endpoint."""
    if derived is not None and cohort.in_registry:
        if len(derived.code) != cohort.index.n:
            raise ValueError("derived from another registry than the cohort's")
        missing = derived.unavailable(cohort.rows)
        grouping = cohort.index.grouping(cohort.spec.other_below)
        # the counts summarize() makes of derived.select(...), without copying patient identifiers
        rows, days, event, not_eligible, excluded = derived.analysed(cohort.rows[:0] if missing else cohort.rows)
        risk = risk_sets(days, event, None, cohort.regimens, (grouping.code[rows], grouping.groups))
        summary = summarize_risk_sets(risk, derived.endpoint, spec, not_eligible=not_eligible, excluded=excluded,
                                      comparisons=comparisons and not missing)
        return replace(summary, unavailable=missing) if missing else summary
    missing = unavailable_reason(cohort.frame, endpoint)
    if missing:
        empty = summarize(derive(cohort.frame.iloc[:0], endpoint), cohort.regimens, spec, comparisons=False)
        return replace(empty, unavailable=missing)
    return summarize(derive(cohort.frame, endpoint), cohort.regimens, spec, comparisons=comparisons)


def analyze_by_second_line(cohort: Cohort, endpoint: Endpoint, first_line: str, level: str = "regimen",
                           spec: AnalysisSpec | None = None) -> EndpointSummary:
    """An endpoint within one first-line regimen, by second-line regimen (or class)."""
    from hcc.cohort.secondline import derive_by_second_line  # noqa: PLC0415  (lazy: see the imports)

    data, groups, pooling = derive_by_second_line(cohort.frame, endpoint, first_line, level,
                                                  cohort.spec.second_line_classes)
    summary = summarize(data, groups, spec)
    return summary if pooling is None else replace(summary, notes=summary.notes + (pooling.note,))


def analyze(registry: Registry, spec: CohortSpec, endpoints: tuple[Endpoint, ...] = ENDPOINTS,
            analysis: AnalysisSpec | None = None, by_second_line_after: str | None = None) -> AnalysisResult:
    """Apply the cohort spec and summarize every requested endpoint, with the treatment sequences;
    with ``by_second_line_after``, also PFS_2L and OS_2L by second-line regimen after that regimen."""
    from hcc.cohort.secondline import treatment_paths  # noqa: PLC0415  (lazy: see the imports)
    from hcc.stats.response import analyze_response  # noqa: PLC0415

    cohort = apply_to_registry(registry, spec)
    if by_second_line_after is not None and by_second_line_after not in cohort.regimens:
        raise SpecError(tr("--by-2l {regimen}: not a first-line regimen of this cohort ({regimens})",
                           regimen=by_second_line_after, regimens=", ".join(cohort.regimens)))
    by_2l = {} if by_second_line_after is None else {
        e: analyze_by_second_line(cohort, e, by_second_line_after, spec=analysis) for e in (Endpoint.PFS_2L, Endpoint.OS_2L)}
    return AnalysisResult(registry, cohort, {Endpoint(e): analyze_endpoint(cohort, e, analysis) for e in endpoints},
                          sequences=treatment_paths(cohort.frame, "regimen", spec.second_line_classes),
                          by_second_line=by_2l, by_second_line_after=by_second_line_after,
                          response=analyze_response(cohort.frame, cohort.regimens),
                          competing=analyze_competing(cohort, analysis), pathway=analyze_pathway(cohort, analysis))


def analyze_competing(cohort: Cohort, spec: AnalysisSpec | None = None) -> dict[str, CompetingSummary]:
    """Both competing-risks endpoints (second line after progression, first-line failure) by
    first-line regimen, keyed by their JSON names; milestones and reference from ``spec``."""
    from hcc.cohort.competing import COMPETING, derive_competing  # noqa: PLC0415  (lazy: see the imports)
    from hcc.stats.competing import summarize_competing  # noqa: PLC0415

    spec = spec or AnalysisSpec()
    return {d.key: summarize_competing(derive_competing(cohort.frame, d), cohort.regimens, spec.reference,
                                       spec.milestones_months) for d in COMPETING}


def analyze_pathway(cohort: Cohort, spec: AnalysisSpec | None = None) -> PathwaySummary:
    """State occupation of the patient pathway by first-line regimen, at the spec's milestones."""
    from hcc.cohort.competing import STATES, pathway  # noqa: PLC0415  (lazy: see the imports)
    from hcc.stats.competing import summarize_pathway  # noqa: PLC0415

    spec = spec or AnalysisSpec()
    return summarize_pathway(pathway(cohort.frame), cohort.regimens, tuple(tr(s) for s in STATES), spec.milestones_months)


def _cif_point_json(p: CIFPoint) -> dict[str, Any]:
    return {"est": json_number(p.est), "ci": [json_number(p.lower), json_number(p.upper)],
            **({"not_estimable": p.reason} if p.reason else {})}


def _ratio_json(h, name: str) -> dict[str, Any]:
    return {name: json_number(h.hr), "ci": [json_number(h.lower), json_number(h.upper)], "p": json_number(h.p),
            **({"not_estimable": h.note} if h.note else {})}


#: Why a state occupation at a milestone is null in the ``"states"`` block.
STATES_PAST_FOLLOWUP = N_("past the last follow-up in this group")


def competing_json(summaries: dict[str, CompetingSummary], path: PathwaySummary | None) -> dict[str, Any]:
    """The CLI's ``"competing_risks"`` block (README, 'Headless analysis'): per endpoint the regimens'
    counts and cumulative incidences at the milestones (months) with 95% CI, Gray's test, Fine–Gray
    and cause-specific hazard ratios against the reference; and ``"states"``, the pathway's state
    occupation probabilities at the milestones (null with a reason past follow-up)."""
    from hcc.cohort.competing import STATE_KEYS  # noqa: PLC0415  (lazy: see the imports)

    out: dict[str, Any] = {}
    for key, s in summaries.items():
        out[key] = {
            "definition": {"origin": s.definition.origin, "event": s.definition.event_words,
                           "competing": s.definition.competing_words, "censored": tr("at last follow-up")},
            "unit": "months",
            "groups": {g.group: {"n": g.n, "events": g.events, "competing": g.competing,
                                 "cif": {f"{m:g}": {"event": _cif_point_json(ev), "competing": _cif_point_json(co),
                                                    "n_risk": g.n_risk[m]}
                                         for m, (ev, co) in g.milestones.items()}} for g in s.groups},
            "gray": None if s.gray is None else {"statistic": json_number(s.gray.statistic), "df": s.gray.df,
                                                 "p": json_number(s.gray.p)},
            "reference": s.reference,
            "fine_gray": {h.term: _ratio_json(h, "shr") for h in s.fine_gray},
            "cause_specific": {h.term: _ratio_json(h, "hr") for h in s.cause_specific},
            "not_eligible": s.not_eligible, "excluded": s.excluded, "methods": dict(s.methods),
        }
    if path is not None:
        out["states"] = {
            "states": dict(zip(STATE_KEYS, path.states)), "unit": "months",
            "groups": {g.group: {"n": g.n, "at": {f"{m:g}": (
                {"not_estimable": tr(STATES_PAST_FOLLOWUP)} if p is None
                else {state: float(v) for state, v in zip(STATE_KEYS, p)}) for m, p in g.at.items()}}
                       for g in path.groups},
            "excluded": path.excluded, "methods": dict(path.methods)}
    return out


def _group_json(g) -> dict[str, Any]:
    out: dict[str, Any] = {"n": g.n, "events": g.events, "median": json_number(g.median),
                           "median_ci": [json_number(g.median_low), json_number(g.median_high)]}
    if g.n:
        out["rates"] = {f"{r.time:g}": {"est": json_number(r.surv), "ci": [json_number(r.lower), json_number(r.upper)],
                                        "n_risk": r.n_risk, **_why(r.estimable, r.reason)} for r in g.rates}
        out["rmst"] = {"tau": g.rmst.tau, "est": json_number(g.rmst.estimate), "se": json_number(g.rmst.se),
                       **_why(g.rmst.estimable, g.rmst.reason)}
        out["followup_median"] = json_number(g.followup_median)
        if g.median_note:
            out["median_note"] = g.median_note
    return out


def _why(estimable: bool, reason: str, word: str = "estimable") -> dict[str, Any]:
    """``{"estimable": false, "reason": "..."}`` for a number that is not given; nothing otherwise."""
    return {} if estimable else {word: False, "reason": reason}


def endpoint_json(summary: EndpointSummary) -> dict[str, Any]:
    """The CLI's per-endpoint JSON (see README, 'Headless analysis'); times in months."""
    test = summary.logrank
    if summary.unavailable:
        return {"unit": summary.unit, "available": False, "reason": summary.unavailable,
                "groups": {}, "logrank": None, "not_eligible": summary.not_eligible, "excluded": summary.excluded}
    return {
        "unit": summary.unit,
        "groups": {g.group: _group_json(g) for g in summary.groups},
        "logrank": None if test is None else {"statistic": test.statistic, "df": test.df, "p": test.p,
                                              "rho": test.rho},
        "ci_method": summary.conf_type,
        "pairwise": [{"a": t.a, "b": t.b, "statistic": t.statistic, "p": t.p, "p_adj": t.p_adj,
                      "adjust": summary.spec.adjust, **_why(t.testable, t.reason, "testable")} for t in summary.pairwise],
        "cox": [{"term": c.term, "reference": c.reference, "hr": json_number(c.hr),
                 "ci": [json_number(c.lower), json_number(c.upper)], "p": json_number(c.p),
                 **({"note": c.note} if c.note else {}), **_why(c.estimable, c.reason)} for c in summary.cox],
        "rmst_difference": [{"a": d.a, "b": d.b, "tau": d.tau, "difference": json_number(d.difference),
                             "ci": [json_number(d.lower), json_number(d.upper)], "p": json_number(d.p),
                             **_why(d.estimable, d.reason)} for d in summary.rmst_differences],
        "rmst_tau_max": json_number(summary.tau_max_months),
        "not_eligible": summary.not_eligible,
        "excluded": summary.excluded,
        "methods": summary.methods,
        **({"notes": list(summary.notes)} if summary.notes else {}),
    }


def _pooled_json(pooling: Pooling | None) -> dict[str, Any]:
    """``{"pooled": {...}}`` when groups were pooled as "Other" (rare-regimen rule or group cap), else nothing."""
    return {} if pooling is None else {"pooled": pooling.to_json()}


def _data_json(reg: Registry) -> dict[str, Any]:
    return _data_fields(reg.rows_read, reg.sha256, reg.name, reg.is_demo, len(reg.excluded))


def _data_fields(rows: int, sha256: str, name: str, is_demo: bool, rows_excluded: int) -> dict[str, Any]:
    """The JSON's ``"data"`` block: what file was analysed, and how many of its rows validation kept out."""
    return {"rows": rows, "sha256": sha256, "name": name, "synthetic_demo": is_demo,
            "rows_excluded_by_validation": rows_excluded}


#: What ``--stats km`` keeps of an endpoint's methods: the parts R's survfit and survdiff cover.
KM_METHODS: tuple[str, ...] = ("estimator", "variance", "ci", "median", "test")


def km_json(registry: Registry, spec: CohortSpec, endpoints: tuple[Endpoint, ...] = ENDPOINTS,
            analysis: AnalysisSpec | None = None) -> dict[str, Any]:
    """``python -m hcc analyze --stats km``: per endpoint and regimen only n, events, median with CI,
    and the log-rank test — what R's ``survfit`` + ``survdiff`` report — for like-for-like timing
    and comparison with other tools on the same file (no rates, RMST, pairwise tests, Cox models,
    sequences or response analyses)."""
    cohort = apply_to_registry(registry, spec)
    summaries = {Endpoint(e): analyze_endpoint(cohort, e, analysis, comparisons=False,
                                               derived=derive_rows(registry.frame, e)) for e in endpoints}
    return _km_document(_data_json(registry), cohort.name.full, cohort.n, cohort.by_regimen(), cohort.pooling,
                        summaries)


def km_json_clean(clean: CleanRegistry, spec: CohortSpec, endpoints: tuple[Endpoint, ...] = ENDPOINTS,
                  analysis: AnalysisSpec | None = None) -> dict[str, Any]:
    """:func:`km_json` of a clean registry file held in DuckDB (:func:`hcc.ingest.fastpath.open_clean`):
    the cohort, its attrition (for its name) and every endpoint's risk sets computed in SQL
    (:mod:`hcc.engine`), the statistics by the same functions on the same counts — the same JSON."""
    from hcc.engine import attrition, cohort, columns_read, materialize, summarize_endpoints  # noqa: PLC0415

    c = cohort(clean, spec)
    label = cohort_name(spec, attrition(clean, c)).full
    # the rules applied once, not once per endpoint query; only the columns the endpoints read
    c = materialize(clean, c, "hcc_cohort", columns_read(spec, endpoints))
    summaries = summarize_endpoints(clean, c, endpoints, analysis, comparisons=False)
    data = _data_fields(clean.rows_read, clean.sha256, clean.name, is_demo=clean.is_demo, rows_excluded=0)
    return _km_document(data, label, c.n, dict(c.by_regimen), c.pooling, summaries)


def _km_document(data: dict[str, Any], label: str, n: int, by_regimen: dict[str, int], pooling: Pooling | None,
                 summaries: dict[Endpoint, EndpointSummary]) -> dict[str, Any]:
    """The ``--stats km`` JSON from a cohort's name, size and regimens and its endpoints' summaries."""
    out: dict[str, Any] = {}
    for e, s in summaries.items():
        test = s.logrank
        if s.unavailable:  # its source column is empty: said, not computed as another endpoint
            out[e.value] = {"unit": s.unit, "available": False, "reason": s.unavailable}
            continue
        out[e.value] = {
            "unit": s.unit,
            "groups": {g.group: {"n": g.n, "events": g.events, "median": json_number(g.median),
                                 "median_ci": [json_number(g.median_low), json_number(g.median_high)]} for g in s.groups},
            "logrank": None if test is None else {"statistic": test.statistic, "df": test.df, "p": test.p,
                                                  "rho": test.rho},
            "ci_method": s.conf_type,
            "methods": {k: v for k, v in s.methods.items() if k in KM_METHODS},
        }
    return {"data": data, "stats": "km",
            "cohort": {"label": label, "n": n, "by_regimen": by_regimen, **_pooled_json(pooling)},
            "endpoints": out, "days_per_month": DAYS_PER_MONTH}


def result_json(result: AnalysisResult) -> dict[str, Any]:
    """The whole CLI output: data fingerprint, cohort and attrition, endpoints."""
    from hcc.stats.response import response_json  # noqa: PLC0415  (lazy: see the imports)

    reg, cohort = result.registry, result.cohort
    return {
        "data": _data_json(reg),
        "cohort": {"label": cohort.name.full, "n": cohort.n, "by_regimen": cohort.by_regimen(),
                   **({"rules_not_applied": cohort.name.warning} if cohort.name.not_applied else {}),
                   "attrition": [{"rule": s.rule, "excluded": s.excluded, "remaining": s.remaining}
                                 for s in cohort.attrition],
                   **_pooled_json(cohort.pooling)},
        "endpoints": {e.value: endpoint_json(s) for e, s in result.endpoints.items()},
        "sequences": [] if result.sequences is None else [
            {"first": r["first"], "second": r["second"], "third": r["third"], "n": int(r["n"])}
            for r in result.sequences.to_dict("records")],
        **({} if result.by_second_line_after is None else {"by_second_line": {
            "after": result.by_second_line_after,
            **{e.value: endpoint_json(s) for e, s in result.by_second_line.items()}}}),
        **({} if result.response is None else response_json(result.response)),
        **({"competing_risks": competing_json(result.competing, result.pathway)} if result.competing else {}),
        "days_per_month": DAYS_PER_MONTH,
    }


def adjusted_json(registry: Registry, spec: CohortSpec, covariates: tuple[str, ...], center_stratum: bool,
                  endpoint: Endpoint, reference: str | None, iptw: bool, multivariable: bool = True,
                  trim: tuple[float, float] | None = None) -> dict[str, Any]:
    """The CLI's ``"multivariable"`` (``--cox``) and ``"iptw"`` (``--iptw``) blocks (docs/adjusted.md)."""
    from hcc.stats.adjusted import CoxSpec, fit_multivariable, multivariable_json  # noqa: PLC0415  (lazy)
    from hcc.stats.weighting import DEFAULT_PS_COVARIATES, IPTWSpec, iptw_analysis, iptw_json  # noqa: PLC0415

    cohort = apply_to_registry(registry, spec)
    out: dict[str, Any] = {}
    if multivariable:
        out["multivariable"] = multivariable_json(fit_multivariable(
            cohort, CoxSpec(endpoint, covariates, reference, center_stratum)))
    if iptw:
        out["iptw"] = iptw_json(iptw_analysis(cohort, IPTWSpec(endpoint, covariates or DEFAULT_PS_COVARIATES,
                                                               reference, trim)))
    return out

