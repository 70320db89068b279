"""The "Statistical analysis" paragraph of a manuscript, written from the results actually computed.

Every sentence is built from a result object's settings and ``methods`` (CI transform, variance,
ties, tests, adjustment, RMST horizon, reference group) and from the installed package versions
(:func:`software_versions`), so the text cannot drift from what the numbers were computed with.
"""

from __future__ import annotations

import importlib.metadata
import platform
from collections.abc import Mapping, Sequence

from hcc import __version__
from hcc.stats.survival import COX_TIES, TESTS
from hcc.stats.tdcox import REGIMEN_AS_WORDS
from hcc.schema import DAYS_PER_MONTH, ENDPOINT_LABELS

#: Packages whose versions a report lists (those that compute or draw something in it).
PACKAGES: tuple[str, ...] = ("numpy", "scipy", "pandas", "lifelines", "statsmodels", "tableone", "plotly",
                             "kaleido", "python-pptx", "openpyxl", "streamlit")
_CI_WORDS = {"log-log": "the log-log (complementary log-log) transformation",
             "log": "the log transformation", "plain": "no transformation (plain, linear scale)"}
_ADJUST_WORDS = {"holm": "Holm's method", "bonferroni": "the Bonferroni method", "none": "no adjustment"}


def software_versions() -> dict[str, str]:
    """Python, this app and every installed package of :data:`PACKAGES`, by name -> version."""
    out = {"Python": platform.python_version(), "HCC Outcomes Explorer": __version__}
    for name in PACKAGES:
        try:
            out[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            continue
    return out


def _join(items: Sequence[str]) -> str:
    items = list(dict.fromkeys(items))
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]


def _test_name(test: str) -> str:
    """'Chi-square' -> 'the chi-square test'; "Fisher's exact test" stays as it is, with 'the'."""
    name = test[0].lower() + test[1:] if test.startswith("Chi") else test
    return f"the {name}" + ("" if "test" in name.lower() else " test")


def _survival_sentences(summaries: Sequence) -> list[str]:
    if not summaries:
        return []
    first = summaries[0]
    spec, methods = first.spec, first.methods
    labels = _join([f"{ENDPOINT_LABELS[s.endpoint].lower()} ({s.endpoint.value})" for s in summaries])
    out = [f"Time-to-event endpoints — {labels} — were estimated with the Kaplan–Meier method by first-line "
           "regimen, with time in months (days / " f"{DAYS_PER_MONTH:g})."]
    out.append(f"Pointwise {spec.conf_level:.0%} confidence intervals used the {methods.get('variance', 'Greenwood')} "
               f"variance with {_CI_WORDS[spec.conf_type]}; confidence intervals for medians were obtained by "
               f"inverting the pointwise intervals with the same transformation (as R quantile.survfit).")
    if any(g.rates for s in summaries for g in s.groups):
        out.append(f"Survival rates are reported at {_join([f'{m:g}' for m in spec.milestones_months])} months.")
    if any(s.logrank is not None for s in summaries):
        out.append(f"Distributions were compared across regimens with the {TESTS[spec.rho]} test "
                   "(k − 1 degrees of freedom).")
    if any(s.pairwise for s in summaries):
        out.append(f"Pairwise comparisons used the same test, with p-values adjusted by {_ADJUST_WORDS[spec.adjust]}.")
    cox = [s for s in summaries if s.cox]
    if cox:
        ties = COX_TIES
        refs = _join([s.reference for s in cox if s.reference])
        out.append("Hazard ratios with Wald 95% confidence intervals were estimated with univariable Cox "
                   f"proportional-hazards models{f' ({ties} method for ties)' if ties else ''}, "
                   f"with {refs} as the reference.")
    rmst = [s for s in summaries if s.rmst_differences]
    if rmst:
        taus = _join([f"{s.tau_months:g} months ({s.endpoint.value})" for s in rmst])
        out.append(f"Restricted mean survival time was computed to τ = {taus} "
                   f"({'chosen' if spec.tau_months else 'the shortest follow-up among the regimens'}), with "
                   "differences between regimens and normal-approximation confidence intervals.")
        if any(g.rmst is not None and not g.rmst.estimable for s in rmst for g in s.groups):
            out.append("τ may not exceed a regimen's last follow-up (the rule of R's survRM2); regimens followed "
                       "for less are reported as not estimable rather than extrapolated.")
    if any(not c.estimable for s in cox for c in s.cox):
        out.append("Hazard ratios without a finite estimate (a regimen without events, or a monotone likelihood, "
                   "for which R warns that the coefficient may be infinite) are reported as not estimable.")
    if any(s.groups and s.groups[0].rmst is not None for s in summaries):
        out.append("Median follow-up was estimated by the reverse Kaplan–Meier method.")
    return out


def _response_sentences(response) -> list[str]:
    if response is None or not response.rates:
        return []
    first = next(iter(response.rates.values()))
    criteria = _join(list(response.rates))
    out = [f"Best overall response was assessed by {criteria}; objective response rate (ORR, complete or partial "
           "response) and disease control rate (DCR, complete or partial response or stable disease) were "
           f"computed over evaluable patients and over all patients, with {first.methods.get('confidence interval', '')} "
           "confidence intervals."]
    tests = sorted({c.test for s in response.rates.values() for c in s.comparisons if c.test})
    if tests:
        out.append(f"Rates were compared across regimens with {_join([_test_name(t) for t in tests])}.")
    fitted = [m.td for m in response.models if m.td is not None]
    if fitted:
        ties = _join(sorted({m.ties.capitalize() for m in fitted}))
        pooled = [m for m in fitted if m.regimen_as]
        out.append("The association of disease control and of objective response with overall survival was "
                   "estimated with Cox models in which the response covariate is time-dependent (switching from 0 "
                   f"to 1 on the date it was first documented; {ties} ties, Wald confidence intervals)"
                   + (f", per regimen and pooled over regimens ({REGIMEN_AS_WORDS[pooled[0].regimen_as]})"
                      if pooled else "") + "; naive models with response as a baseline covariate are shown only "
                   "to illustrate immortal-time bias.")
    if response.landmarks:
        marks = _join([f"{m:g}" for m in sorted({lm.landmark_months for lm in response.landmarks})])
        out.append(f"Landmark analyses at {marks} months compared overall survival from the landmark by response "
                   "status reached by then.")
    return out


def competing_sentences(competing: Mapping | None, pathway=None) -> list[str]:
    """Sentences for the competing-risks analyses (:class:`hcc.stats.competing.CompetingSummary` by
    key) and the patient pathway (:class:`hcc.stats.competing.PathwaySummary`), built from their
    definitions, reference and milestones."""
    if not competing:
        return []
    first = next(iter(competing.values()))
    defs = _join([f"{s.definition.event_words.lower()} (competing event: {s.definition.competing_words.lower()}; "
                  f"from {s.definition.origin_words})" for s in competing.values()])
    out = [f"Cumulative incidence of {defs} was estimated with the Aalen–Johansen estimator by first-line regimen, "
           "with infinitesimal-jackknife standard errors and log-transformed 95% confidence intervals (as R "
           f"survfit), reported at {_join([f'{m:g}' for m in first.milestones_months])} months, and compared across "
           "regimens with Gray's test.",
           f"Subdistribution hazard ratios (Fine–Gray; Breslow ties, robust sandwich variance, as R cmprsk::crr) and "
           f"cause-specific hazard ratios (Cox, Efron ties) were estimated against {first.reference}."]
    if pathway is not None:
        out.append("The probabilities of being on first line without progression, progressed without second line, "
                   "on second line or later, or dead were estimated over time from first-line start with the "
                   "Aalen–Johansen estimator of a multi-state model.")
    return out


def methods_paragraph(summaries: Sequence, response=None, versions: Mapping[str, str] | None = None, *,
                      competing: Mapping | None = None, pathway=None, cohort: str = "") -> str:
    """A ready-to-paste "Statistical analysis" paragraph.

    Parameters
    ----------
    summaries : the :class:`hcc.stats.survival.EndpointSummary` objects the report shows (their spec and
        ``methods`` say which CI, variance, test, adjustment, ties and RMST horizon were used).
    response : the :class:`hcc.stats.response.ResponseAnalysis` shown, or ``None``.
    competing, pathway : the competing-risks summaries and the pathway shown, or ``None``.
    versions : package versions (default :func:`software_versions`).
    cohort : the cohort's full name (:attr:`hcc.cohort.rules.CohortName.full`), rules not applied included.
    """
    versions = dict(versions or software_versions())
    sentences = [f"Cohort analysed: {cohort}."] if cohort else []
    sentences += _survival_sentences(summaries) + _response_sentences(response) + competing_sentences(competing, pathway)
    sentences.append("All tests were two-sided.")
    sentences.append(f"Analyses were done with HCC Outcomes Explorer {versions.get('HCC Outcomes Explorer', __version__)} "
                     f"in Python {versions.get('Python', platform.python_version())} ("
                     + _join([f"{k} {v}" for k, v in versions.items() if k in ("numpy", "scipy", "lifelines",
                                                                             "statsmodels", "pandas")])
                     + "); Kaplan–Meier estimates, log-rank tests and Cox models were checked against R's "
                       "survival package.")
    return " ".join(sentences)
