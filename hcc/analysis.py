"""One analysis run: registry + cohort spec -> cohort, endpoint summaries, JSON.

The app's pages and ``python -m hcc analyze`` both call :func:`analyze_endpoint` / :func:`analyze`,
so the screen and the CLI can never disagree.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from hcc.cohort import Cohort, CohortSpec, apply_to_registry
from hcc.endpoints import derive
from hcc.registry import Registry
from hcc.schema import DAYS_PER_MONTH, ENDPOINTS, Endpoint
from hcc.survival import AnalysisSpec, EndpointSummary, summarize


@dataclass(frozen=True, eq=False)
class AnalysisResult:
    """Cohort and per-endpoint summaries for one registry and spec."""

    registry: Registry
    cohort: Cohort
    endpoints: dict[Endpoint, EndpointSummary]


def analyze_endpoint(cohort: Cohort, endpoint: Endpoint | str, spec: AnalysisSpec | None = None) -> EndpointSummary:
    """Derive one endpoint on the cohort and summarize it by first-line regimen."""
    return summarize(derive(cohort.frame, endpoint), cohort.regimens, spec)


def analyze(registry: Registry, spec: CohortSpec, endpoints: tuple[Endpoint, ...] = ENDPOINTS,
            analysis: AnalysisSpec | None = None) -> AnalysisResult:
    """Apply the cohort spec and summarize every requested endpoint."""
    cohort = apply_to_registry(registry, spec)
    return AnalysisResult(registry, cohort, {Endpoint(e): analyze_endpoint(cohort, e, analysis) for e in endpoints})


def _num(x: float) -> float | None:
    """JSON number, or null for NaN (not reached / not estimable)."""
    return None if x is None or (isinstance(x, float) and math.isnan(x)) else float(x)


def _group_json(g) -> dict[str, Any]:
    out: dict[str, Any] = {"n": g.n, "events": g.events, "median": _num(g.median),
                           "median_ci": [_num(g.median_low), _num(g.median_high)]}
    if g.n:
        out["rates"] = {f"{r.time:g}": {"est": _num(r.surv), "ci": [_num(r.lower), _num(r.upper)],
                                        "n_risk": r.n_risk} for r in g.rates}
        out["rmst"] = {"tau": g.rmst.tau, "est": g.rmst.estimate, "se": g.rmst.se}
        out["followup_median"] = _num(g.followup_median)
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
        "cox": [{"term": c.term, "reference": c.reference, "hr": c.hr, "ci": [c.lower, c.upper], "p": c.p}
                for c in summary.cox],
        "rmst_difference": [{"a": d.a, "b": d.b, "tau": d.tau, "difference": d.difference,
                             "ci": [d.lower, d.upper], "p": _num(d.p)} for d in summary.rmst_differences],
        "not_eligible": summary.not_eligible,
        "excluded": summary.excluded,
        "methods": summary.methods,
    }


def result_json(result: AnalysisResult) -> dict[str, Any]:
    """The whole CLI output: data fingerprint, cohort and attrition, endpoints."""
    reg, cohort = result.registry, result.cohort
    return {
        "data": {"rows": reg.rows_read, "sha256": reg.sha256, "name": reg.name, "synthetic_demo": reg.is_demo,
                 "rows_excluded_by_validation": len(reg.excluded)},
        "cohort": {"n": cohort.n, "by_regimen": cohort.by_regimen(),
                   "attrition": [{"rule": s.rule, "excluded": s.excluded, "remaining": s.remaining}
                                 for s in cohort.attrition]},
        "endpoints": {e.value: endpoint_json(s) for e, s in result.endpoints.items()},
        "days_per_month": DAYS_PER_MONTH,
    }
