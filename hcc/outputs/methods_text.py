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
from hcc.i18n import N_, current_language, tr, trc
from hcc.schema import DAYS_PER_MONTH, endpoint_label
from hcc.stats.baseline import CHI_SQUARE, FISHER, FISHER_MC
from hcc.stats.survival import COX_TIES, TESTS
from hcc.stats.tdcox import REGIMEN_AS_WORDS

#: Packages whose versions a report lists (those that compute or draw something in it).
PACKAGES: tuple[str, ...] = ("numpy", "scipy", "pandas", "lifelines", "statsmodels", "tableone", "plotly",
                             "kaleido", "python-pptx", "openpyxl", "streamlit")
_CI_WORDS = {"log-log": N_("the log-log (complementary log-log) transformation"),
             "log": N_("the log transformation"), "plain": N_("no transformation (plain, linear scale)")}
_ADJUST_WORDS = {"holm": N_("Holm's method"), "bonferroni": N_("the Bonferroni method"), "none": N_("no adjustment")}
#: The survival test of each ``rho`` (:data:`hcc.stats.survival.TESTS`) as the methods name it.
_SURVIVAL_TEST_WORDS = {TESTS[0]: N_("the log-rank test"),
                        TESTS[1]: N_("the Peto–Peto (Fleming–Harrington rho = 1) test")}
#: The rate comparisons' tests (:func:`hcc.stats.baseline.categorical_test`) as the methods name them.
_RATE_TEST_WORDS = {CHI_SQUARE: N_("the chi-square test"), FISHER: N_("the Fisher's exact test"),
                    FISHER_MC: N_("the Fisher's exact (Monte Carlo) test")}


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
    """``a, b and c`` in the current language (duplicates dropped)."""
    items = list(dict.fromkeys(items))
    if len(items) <= 1:
        return "".join(items)
    return tr("{items} and {last}", items=trc("list", ", ").join(items[:-1]), last=items[-1])


def _test_name(test: str) -> str:
    """'Chi-square' -> 'the chi-square test'; "Fisher's exact test" stays as it is, with 'the'."""
    if test in _RATE_TEST_WORDS:
        return tr(_RATE_TEST_WORDS[test])
    name = test[0].lower() + test[1:] if test.startswith("Chi") else test
    return f"the {name}" + ("" if "test" in name.lower() else " test")


def _survival_test(rho: int) -> str:
    """'the log-rank test' (rho = 0), in the current language."""
    words = _SURVIVAL_TEST_WORDS.get(TESTS[rho])
    return tr(words) if words else f"the {TESTS[rho]} test"


def _months(values: Sequence[float]) -> str:
    return _join([f"{m:g}" for m in values])


def _survival_sentences(summaries: Sequence) -> list[str]:
    if not summaries:
        return []
    first = summaries[0]
    spec, methods = first.spec, first.methods
    labels = _join([trc("methods", "{endpoint} ({code})", endpoint=endpoint_label(s.endpoint).lower(),
                        code=s.endpoint.value) for s in summaries])
    out = [tr("Time-to-event endpoints — {endpoints} — were estimated with the Kaplan–Meier method by first-line "
              "regimen, with time in months (days / {days}).", endpoints=labels, days=f"{DAYS_PER_MONTH:g}")]
    out.append(tr("Pointwise {level} confidence intervals used the {variance} variance with {transform}; confidence "
                  "intervals for medians were obtained by inverting the pointwise intervals with the same "
                  "transformation (as R quantile.survfit).", level=f"{spec.conf_level:.0%}",
                  variance=tr(methods.get("variance", "Greenwood")), transform=tr(_CI_WORDS[spec.conf_type])))
    if any(g.rates for s in summaries for g in s.groups):
        out.append(tr("Survival rates are reported at {months} months.", months=_months(spec.milestones_months)))
    if any(s.logrank is not None for s in summaries):
        out.append(tr("Distributions were compared across regimens with {test} (k − 1 degrees of freedom).",
                      test=_survival_test(spec.rho)))
    if any(s.pairwise for s in summaries):
        out.append(tr("Pairwise comparisons used the same test, with p-values adjusted by {adjustment}.",
                      adjustment=tr(_ADJUST_WORDS[spec.adjust])))
    cox = [s for s in summaries if s.cox]
    if cox:
        refs = _join([s.reference for s in cox if s.reference])
        if COX_TIES:
            out.append(tr("Hazard ratios with Wald 95% confidence intervals were estimated with univariable Cox "
                          "proportional-hazards models ({ties} method for ties), with {reference} as the reference.",
                          ties=COX_TIES, reference=refs))
        else:
            out.append(tr("Hazard ratios with Wald 95% confidence intervals were estimated with univariable Cox "
                          "proportional-hazards models, with {reference} as the reference.", reference=refs))
    rmst = [s for s in summaries if s.rmst_differences]
    if rmst:
        taus = _join([tr("{months} months ({endpoint})", months=f"{s.tau_months:g}", endpoint=s.endpoint.value)
                      for s in rmst])
        out.append(tr("Restricted mean survival time was computed to τ = {taus} ({chosen}), with differences between "
                      "regimens and normal-approximation confidence intervals.", taus=taus,
                      chosen=trc("methods", "chosen") if spec.tau_months
                      else tr("the shortest follow-up among the regimens")))
        if any(g.rmst is not None and not g.rmst.estimable for s in rmst for g in s.groups):
            out.append(tr("τ may not exceed a regimen's last follow-up (the rule of R's survRM2); regimens followed "
                          "for less are reported as not estimable rather than extrapolated."))
    if any(not c.estimable for s in cox for c in s.cox):
        out.append(tr("Hazard ratios without a finite estimate (a regimen without events, or a monotone likelihood, "
                      "for which R warns that the coefficient may be infinite) are reported as not estimable."))
    if any(s.groups and s.groups[0].rmst is not None for s in summaries):
        out.append(tr("Median follow-up was estimated by the reverse Kaplan–Meier method."))
    return out


def _response_sentences(response) -> list[str]:
    if response is None or not response.rates:
        return []
    first = next(iter(response.rates.values()))
    criteria = _join(list(response.rates))
    out = [tr("Best overall response was assessed by {criteria}; objective response rate (ORR, complete or partial "
              "response) and disease control rate (DCR, complete or partial response or stable disease) were "
              "computed over evaluable patients and over all patients, with {interval} confidence intervals.",
              criteria=criteria, interval=tr(first.methods.get("confidence interval", "")))]
    tests = sorted({c.test for s in response.rates.values() for c in s.comparisons if c.test})
    if tests:
        out.append(tr("Rates were compared across regimens with {tests}.", tests=_join([_test_name(t) for t in tests])))
    fitted = [m.td for m in response.models if m.td is not None]
    if fitted:
        ties = _join(sorted({m.ties.capitalize() for m in fitted}))
        pooled = [m for m in fitted if m.regimen_as]
        if pooled:
            out.append(tr("The association of disease control and of objective response with overall survival was "
                          "estimated with Cox models in which the response covariate is time-dependent (switching "
                          "from 0 to 1 on the date it was first documented; {ties} ties, Wald confidence intervals), "
                          "per regimen and pooled over regimens ({pooled}); naive models with response as a baseline "
                          "covariate are shown only to illustrate immortal-time bias.", ties=ties,
                          pooled=tr(REGIMEN_AS_WORDS[pooled[0].regimen_as])))
        else:
            out.append(tr("The association of disease control and of objective response with overall survival was "
                          "estimated with Cox models in which the response covariate is time-dependent (switching "
                          "from 0 to 1 on the date it was first documented; {ties} ties, Wald confidence intervals); "
                          "naive models with response as a baseline covariate are shown only to illustrate "
                          "immortal-time bias.", ties=ties))
    if response.landmarks:
        marks = _months(sorted({lm.landmark_months for lm in response.landmarks}))
        out.append(tr("Landmark analyses at {months} months compared overall survival from the landmark by response "
                      "status reached by then.", months=marks))
    return out


def competing_sentences(competing: Mapping | None, pathway=None) -> list[str]:
    """Sentences for the competing-risks analyses (:class:`hcc.stats.competing.CompetingSummary` by
    key) and the patient pathway (:class:`hcc.stats.competing.PathwaySummary`), built from their
    definitions, reference and milestones."""
    if not competing:
        return []
    first = next(iter(competing.values()))
    defs = _join([tr("{event} (competing event: {competing}; from {origin})",
                     event=tr(s.definition.event_words).lower(), competing=tr(s.definition.competing_words).lower(),
                     origin=tr(s.definition.origin_words)) for s in competing.values()])
    out = [tr("Cumulative incidence of {definitions} was estimated with the Aalen–Johansen estimator by first-line "
              "regimen, with infinitesimal-jackknife standard errors and log-transformed 95% confidence intervals (as "
              "R survfit), reported at {months} months, and compared across regimens with Gray's test.",
              definitions=defs, months=_months(first.milestones_months)),
           tr("Subdistribution hazard ratios (Fine–Gray; Breslow ties, robust sandwich variance, as R cmprsk::crr) and "
              "cause-specific hazard ratios (Cox, Efron ties) were estimated against {reference}.",
              reference=first.reference)]
    if pathway is not None:
        out.append(tr("The probabilities of being on first line without progression, progressed without second line, "
                      "on second line or later, or dead were estimated over time from first-line start with the "
                      "Aalen–Johansen estimator of a multi-state model."))
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
    sentences = [tr("Cohort analysed: {cohort}.", cohort=cohort)] if cohort else []
    sentences += _survival_sentences(summaries) + _response_sentences(response) + competing_sentences(competing, pathway)
    sentences.append(tr("All tests were two-sided."))
    sentences.append(tr("Analyses were done with HCC Outcomes Explorer {version} in Python {python} ({packages}); "
                        "Kaplan–Meier estimates, log-rank tests and Cox models were checked against R's survival "
                        "package.", version=versions.get("HCC Outcomes Explorer", __version__),
                        python=versions.get("Python", platform.python_version()),
                        packages=_join([f"{k} {v}" for k, v in versions.items()
                                        if k in ("numpy", "scipy", "lifelines", "statsmodels", "pandas")])))
    return ("" if current_language() == "ja" else " ").join(sentences)
