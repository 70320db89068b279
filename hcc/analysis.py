"""One analysis run: registry + cohort spec -> cohort, endpoint summaries, JSON.

The app's pages and ``python -m hcc analyze`` both call :func:`analyze_endpoint` / :func:`analyze`,
so the screen and the CLI can never disagree.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

import pandas as pd

from hcc.cohort.rules import Cohort, CohortSpec, Pooling, apply_to_registry
from hcc.cohort.endpoints import derive
from hcc.errors import SpecError
from hcc.formatting import json_number
from hcc.ingest.registry import Registry
from hcc.schema import DAYS_PER_MONTH, ENDPOINTS, Endpoint
from hcc.cohort.secondline import derive_by_second_line, treatment_paths
from hcc.stats.survival import AnalysisSpec, EndpointSummary, summarize

# Response (scipy.stats, lifelines), multivariable Cox and weighting (lifelines) are imported where
# used: `analyze --stats km` and the Survival page never load them (a cold start of ~1 s less).
if TYPE_CHECKING:
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


def analyze_endpoint(cohort: Cohort, endpoint: Endpoint | str, spec: AnalysisSpec | None = None, *,
                     comparisons: bool = True) -> EndpointSummary:
    """Derive one endpoint on the cohort and summarize it by first-line regimen (without pairwise
    tests and Cox model when ``comparisons`` is False, for overviews)."""
    return summarize(derive(cohort.frame, endpoint), cohort.regimens, spec, comparisons=comparisons)


def analyze_by_second_line(cohort: Cohort, endpoint: Endpoint, first_line: str, level: str = "regimen",
                           spec: AnalysisSpec | None = None) -> EndpointSummary:
    """An endpoint within one first-line regimen, by second-line regimen (or class)."""
    data, groups, pooling = derive_by_second_line(cohort.frame, endpoint, first_line, level,
                                                  cohort.spec.second_line_classes)
    summary = summarize(data, groups, spec)
    return summary if pooling is None else replace(summary, notes=summary.notes + (pooling.note,))


def analyze(registry: Registry, spec: CohortSpec, endpoints: tuple[Endpoint, ...] = ENDPOINTS,
            analysis: AnalysisSpec | None = None, by_second_line_after: str | None = None) -> AnalysisResult:
    """Apply the cohort spec and summarize every requested endpoint, with the treatment sequences;
    with ``by_second_line_after``, also PFS_2L and OS_2L by second-line regimen after that regimen."""
    from hcc.stats.response import analyze_response  # noqa: PLC0415  (lazy: see the imports)

    cohort = apply_to_registry(registry, spec)
    if by_second_line_after is not None and by_second_line_after not in cohort.regimens:
        raise SpecError(f"--by-2l {by_second_line_after}: not a first-line regimen of this cohort "
                        f"({', '.join(cohort.regimens)})")
    by_2l = {} if by_second_line_after is None else {
        e: analyze_by_second_line(cohort, e, by_second_line_after, spec=analysis) for e in (Endpoint.PFS_2L, Endpoint.OS_2L)}
    return AnalysisResult(registry, cohort, {Endpoint(e): analyze_endpoint(cohort, e, analysis) for e in endpoints},
                          sequences=treatment_paths(cohort.frame, "regimen", spec.second_line_classes),
                          by_second_line=by_2l, by_second_line_after=by_second_line_after,
                          response=analyze_response(cohort.frame, cohort.regimens))


def _group_json(g) -> dict[str, Any]:
    out: dict[str, Any] = {"n": g.n, "events": g.events, "median": json_number(g.median),
                           "median_ci": [json_number(g.median_low), json_number(g.median_high)]}
    if g.n:
        out["rates"] = {f"{r.time:g}": {"est": json_number(r.surv), "ci": [json_number(r.lower), json_number(r.upper)],
                                        "n_risk": r.n_risk} for r in g.rates}
        out["rmst"] = {"tau": g.rmst.tau, "est": g.rmst.estimate, "se": g.rmst.se}
        out["followup_median"] = json_number(g.followup_median)
    return out


def endpoint_json(summary: EndpointSummary) -> dict[str, Any]:
    """The CLI's per-endpoint JSON (see README, 'Headless analysis'); times in months."""
    test = summary.logrank
    return {
        "unit": summary.unit,
        "groups": {g.group: _group_json(g) for g in summary.groups},
        "logrank": None if test is None else {"statistic": test.statistic, "df": test.df, "p": test.p,
                                              "rho": test.rho},
        "ci_method": summary.conf_type,
        "pairwise": [{"a": t.a, "b": t.b, "statistic": t.statistic, "p": t.p, "p_adj": t.p_adj,
                      "adjust": summary.spec.adjust} for t in summary.pairwise],
        "cox": [{"term": c.term, "reference": c.reference, "hr": c.hr, "ci": [c.lower, c.upper], "p": c.p,
                 **({"note": c.note} if c.note else {})} for c in summary.cox],
        "rmst_difference": [{"a": d.a, "b": d.b, "tau": d.tau, "difference": d.difference,
                             "ci": [d.lower, d.upper], "p": json_number(d.p)} for d in summary.rmst_differences],
        "not_eligible": summary.not_eligible,
        "excluded": summary.excluded,
        "methods": summary.methods,
        **({"notes": list(summary.notes)} if summary.notes else {}),
    }


def _pooled_json(pooling: Pooling | None) -> dict[str, Any]:
    """``{"pooled": {...}}`` when groups were pooled as "Other" (rare-regimen rule or group cap), else nothing."""
    return {} if pooling is None else {"pooled": pooling.to_json()}


def _data_json(reg: Registry) -> dict[str, Any]:
    return {"rows": reg.rows_read, "sha256": reg.sha256, "name": reg.name, "synthetic_demo": reg.is_demo,
            "rows_excluded_by_validation": len(reg.excluded)}


#: What ``--stats km`` keeps of an endpoint's methods: the parts R's survfit and survdiff cover.
KM_METHODS: tuple[str, ...] = ("estimator", "variance", "ci", "median", "test")


def km_json(registry: Registry, spec: CohortSpec, endpoints: tuple[Endpoint, ...] = ENDPOINTS,
            analysis: AnalysisSpec | None = None) -> dict[str, Any]:
    """``python -m hcc analyze --stats km``: per endpoint and regimen only n, events, median with CI,
    and the log-rank test — what R's ``survfit`` + ``survdiff`` report — for like-for-like timing
    and comparison with other tools on the same file (no rates, RMST, pairwise tests, Cox models,
    sequences or response analyses)."""
    cohort = apply_to_registry(registry, spec)
    out: dict[str, Any] = {}
    for e in endpoints:
        s = analyze_endpoint(cohort, e, analysis, comparisons=False)
        test = s.logrank
        out[Endpoint(e).value] = {
            "unit": s.unit,
            "groups": {g.group: {"n": g.n, "events": g.events, "median": json_number(g.median),
                                 "median_ci": [json_number(g.median_low), json_number(g.median_high)]} for g in s.groups},
            "logrank": None if test is None else {"statistic": test.statistic, "df": test.df, "p": test.p,
                                                  "rho": test.rho},
            "ci_method": s.conf_type,
            "methods": {k: v for k, v in s.methods.items() if k in KM_METHODS},
        }
    return {"data": _data_json(registry), "stats": "km",
            "cohort": {"n": cohort.n, "by_regimen": cohort.by_regimen(), **_pooled_json(cohort.pooling)},
            "endpoints": out, "days_per_month": DAYS_PER_MONTH}


def result_json(result: AnalysisResult) -> dict[str, Any]:
    """The whole CLI output: data fingerprint, cohort and attrition, endpoints."""
    from hcc.stats.response import response_json  # noqa: PLC0415  (lazy: see the imports)

    reg, cohort = result.registry, result.cohort
    return {
        "data": _data_json(reg),
        "cohort": {"n": cohort.n, "by_regimen": cohort.by_regimen(),
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

