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
from hcc.survival import EndpointSummary, summarize


@dataclass(frozen=True, eq=False)
class AnalysisResult:
    """Cohort and per-endpoint summaries for one registry and spec."""

    registry: Registry
    cohort: Cohort
    endpoints: dict[Endpoint, EndpointSummary]


def analyze_endpoint(cohort: Cohort, endpoint: Endpoint | str, conf_type: str = "log-log") -> EndpointSummary:
    """Derive one endpoint on the cohort and summarize it by first-line regimen."""
    return summarize(derive(cohort.frame, endpoint), cohort.regimens, conf_type=conf_type)


def analyze(registry: Registry, spec: CohortSpec, endpoints: tuple[Endpoint, ...] = ENDPOINTS,
            conf_type: str = "log-log") -> AnalysisResult:
    """Apply the spec and summarize every requested endpoint."""
    cohort = apply_to_registry(registry, spec)
    return AnalysisResult(registry, cohort, {Endpoint(e): analyze_endpoint(cohort, e, conf_type) for e in endpoints})


def _num(x: float) -> float | None:
    """JSON number, or null for NaN (not reached / not estimable)."""
    return None if x is None or (isinstance(x, float) and math.isnan(x)) else float(x)


def endpoint_json(summary: EndpointSummary) -> dict[str, Any]:
    """The CLI's per-endpoint JSON (see README, 'Headless analysis')."""
    return {
        "unit": summary.unit,
        "groups": {g.group: {"n": g.n, "events": g.events, "median": _num(g.median),
                             "median_ci": [_num(g.median_low), _num(g.median_high)]}
                   for g in summary.groups},
        "logrank": (None if summary.logrank is None else
                    {"statistic": summary.logrank.statistic, "df": summary.logrank.df, "p": summary.logrank.p}),
        "ci_method": summary.conf_type,
        "not_eligible": summary.not_eligible,
        "excluded": summary.excluded,
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
