""""Reproduce in R": the analysis-ready data, an R script that recomputes the app's numbers with R's
``survival`` (and ``cmprsk``) package, and a README, for one registry, cohort spec and statistical settings.

:func:`export_r` returns four files (name -> bytes), the same whether written by
``python -m hcc export-r --out DIR`` or zipped in memory by the "Reproduce in R" button
(:func:`zip_bytes`); nothing here writes to disk.

- ``analysis_data.csv``: one row per patient of the cohort (after mapping, validation and the cohort
  rules): the de-identified ``patient_id``, the ``regimen`` group compared (after pooling as "Other"),
  and per endpoint ``<E>_days`` (time from the endpoint's origin to event or censoring, whole days)
  and ``<E>_event`` (1 event, 0 censored), blank where the endpoint does not apply to the patient or
  its dates are unusable (the patients the app leaves out of that endpoint). No dates.
  Then, per switch of the time-dependent Cox models (DC, OR), the OS days, death and switch day the
  models use; the best overall response per criterion; with a multivariable model, its covariates as
  coded for it (and ``center``); per competing-risks endpoint ``<K>_days`` and ``<K>_status``
  (0 censored, 1 event, 2 competing event).
- ``pathway_data.csv``: the patient pathway (multi-state) as counting-process rows
  ``patient_id, regimen, tstart, tstop, state`` (:func:`pathway_data`).
- ``analysis.R``: per endpoint, ``survfit`` (conf.type as the app), ``quantile`` (median and CI),
  ``summary(fit, times =)`` (milestone rates), ``summary(fit, rmean =)`` (RMST and its SE),
  reverse Kaplan–Meier (median follow-up), ``survdiff`` (global and pairwise, ``p.adjust``),
  ``coxph(ties = "efron")`` against the app's reference regimen, RMST differences; the time-dependent
  Cox models of OS on disease control and response (``tmerge`` + ``tdc``, per regimen and pooled) with
  their naive counterparts; the landmark analyses; ORR and DCR with exact CIs and their tests
  (``binom.test``, ``chisq.test``, ``fisher.test``); the competing risks (Aalen–Johansen ``survfit`` with a
  factor status, ``cmprsk::cuminc`` Gray's test, ``cmprsk::crr`` Fine–Gray, cause-specific ``coxph``) and
  the pathway's state occupation (multi-state ``survfit`` with ``id``); the multivariable Cox model when asked (``cox.zph`` included); writes
  ``results_r.json`` in the shape of ``python -m hcc analyze`` JSON (those keys) and prints a table.
- ``README.txt``: app version, data fingerprint, cohort spec, settings and how to run it.

The R script reproduces the app's estimators as :mod:`hcc.stats.survival` documents them (and
``docs/methods.md``, "Reproduce in R"); ``tests/test_rscript.py`` runs it and compares every number
with the CLI JSON (1e-6 relative, Cox and Fine–Gray 1e-5).
"""

from __future__ import annotations

import inspect
import io
import json
import zipfile
from dataclasses import dataclass

import numpy as np
import pandas as pd

import hcc
from hcc.analysis import STATES_PAST_FOLLOWUP
from hcc.cohort.competing import COMPETING, STATE_KEYS, STATES, derive_competing, pathway
from hcc.cohort.endpoints import DEFINITIONS, derive
from hcc.cohort.rules import Cohort, CohortSpec, apply_to_registry
from hcc.ingest.registry import Registry
from hcc.schema import DAYS_PER_MONTH, ENDPOINT_LABELS, ENDPOINTS, Col, Endpoint
from hcc.stats.adjusted import COVARIATES, CoxSpec, fit_multivariable
from hcc.stats.competing import MAX_ABS_COEF, NO_CI, NO_EVENTS, NO_PATIENTS, NOT_CONVERGED, PAST_FOLLOWUP
from hcc.stats.coxscore import GLOBAL
from hcc.stats.response import COVARIATES as SWITCHES
from hcc.stats.baseline import CHI_SQUARE, FISHER, FISHER_MC, MONTE_CARLO_TABLES
from hcc.stats.response import (CATEGORIES, CRITERIA, DEFAULT_LANDMARKS_MONTHS, DISEASE_CONTROL, EVALUABLE,
                                NOT_RECORDED, OBJECTIVE_RESPONSE, analyze_response, available_criteria)
from hcc.stats.tdcox import switch_data
from hcc.cohort.endpoints import unavailable_reason
from hcc.stats.survival import MIN_GROUP_FOR_TAU, NOT_ESTIMABLE_HR, TESTS, AnalysisSpec

DATA_FILE = "analysis_data.csv"
#: Counting-process rows of the patient pathway (multi-state model): one row per patient and state visited.
PATHWAY_FILE = "pathway_data.csv"
SCRIPT_FILE = "analysis.R"
README_FILE = "README.txt"
RESULTS_FILE = "results_r.json"
#: The column of analysis_data.csv holding the group compared (first-line regimen after pooling).
REGIMEN = "regimen"
#: The files of an export, in the order they are written and zipped.
FILES: tuple[str, ...] = (DATA_FILE, PATHWAY_FILE, SCRIPT_FILE, README_FILE)
#: Debian packages that run the script (R, survival, cmprsk for the competing risks, jsonlite).
DEBIAN_PACKAGES = "r-base-core r-cran-survival r-cran-cmprsk r-cran-jsonlite"
#: The state written in pathway_data.csv for a row that ends without a move (censored at ``tstop``).
CENSOR = "censor"

#: A fixed time stamp for every zip entry, so that the same export gives the same zip bytes.
ZIP_DATE = (1980, 1, 1, 0, 0, 0)
#: How the pooled time-dependent Cox models take the regimen (as ``python -m hcc analyze``).
TDCOX_REGIMEN_AS = inspect.signature(analyze_response).parameters["regimen_as"].default
_SWITCH_WORDS = {"DC": "disease control", "OR": "objective response"}
#: |log HR| beyond which the app stops a Cox fit and calls it unstable (hcc.stats.risksets).
UNSTABLE_LOG_HR = 15


@dataclass(frozen=True)
class RExport:
    """The four files of a "Reproduce in R" export (name -> bytes, in :data:`FILES` order)."""

    files: dict[str, bytes]


def patient_key(frame: pd.DataFrame) -> pd.Series:
    """The column that names a patient in ``analysis_data.csv`` (the de-identified code)."""
    return frame[Col.PATIENT_ID].astype(str)


def analysis_data(cohort: Cohort, endpoints: tuple[Endpoint, ...] = ENDPOINTS,
                  cox: CoxSpec | None = None) -> pd.DataFrame:
    """One row per cohort patient: ``patient_id``, ``regimen`` and, per endpoint, ``<E>_days`` (float,
    days from origin to event or censoring, as :func:`hcc.cohort.endpoints.derive`) and ``<E>_event``
    (1/0), missing (NA) for patients the endpoint does not analyse (not eligible, unusable dates); and,
    per competing-risks endpoint (:data:`hcc.cohort.competing.COMPETING`: ``second_line``,
    ``first_line_failure``) ``<K>_days`` (days from its origin) and ``<K>_status`` (0 censored, 1 the
    event, 2 the competing event, as :func:`hcc.cohort.competing.derive_competing`), missing for patients
    not eligible or with unusable dates;
    per switch of the time-dependent Cox models (DC, OR: :data:`SWITCHES`), ``<S>_os_days`` and
    ``<S>_death`` (overall survival as :func:`hcc.stats.tdcox.switch_data`) and ``<S>_switch_days``
    (days from first-line start to the switch date, NA if none), missing for patients whose dates those
    models cannot use; the best overall response of each criterion recorded (:data:`hcc.stats.response.CRITERIA`:
    RECIST 1.1 always, mRECIST when recorded). With ``cox`` (a multivariable model), its covariates as the model codes them
    (:data:`hcc.stats.adjusted.COVARIATES`: numbers, or level words; missing where not recorded or not
    a level) and, when stratified, ``center``."""
    frame = cohort.frame
    out = pd.DataFrame({Col.PATIENT_ID: patient_key(frame).to_numpy(),
                        REGIMEN: frame[Col.REGIMEN_1L].astype(str).to_numpy()})
    position = pd.Series(np.arange(len(out)), index=out[Col.PATIENT_ID])

    def on_rows(patient_id, values, integer: bool = False):
        """``values`` of the analysed patients placed on the cohort's rows; NA for the others."""
        filled = np.full(len(out), np.nan)
        filled[position.loc[pd.Index(np.asarray(patient_id).astype(str))].to_numpy()] = values
        return pd.array(filled, dtype="Int64") if integer else filled

    for e in endpoints:
        if unavailable_reason(frame, e):  # not computed by the app: blank, not another endpoint's times
            out[f"{Endpoint(e).value}_days"] = np.nan
            out[f"{Endpoint(e).value}_event"] = pd.array([pd.NA] * len(out), dtype="Int64")
            continue
        data = derive(frame, e)
        out[f"{Endpoint(e).value}_days"] = on_rows(data.patient_id, data.days)
        out[f"{Endpoint(e).value}_event"] = on_rows(data.patient_id, np.asarray(data.event, dtype=float), integer=True)
    for d in COMPETING:
        data = derive_competing(frame, d)
        out[f"{d.key}_days"] = on_rows(data.patient_id, data.days)
        out[f"{d.key}_status"] = on_rows(data.patient_id, np.asarray(data.status, dtype=float), integer=True)
    for covariate, column in SWITCHES.items():
        data = switch_data(frame, column)
        out[f"{covariate}_os_days"] = on_rows(data.patient_id, data.days)
        out[f"{covariate}_death"] = on_rows(data.patient_id, np.asarray(data.event, dtype=float), integer=True)
        out[f"{covariate}_switch_days"] = on_rows(data.patient_id, data.switch_days)
    for criterion in available_criteria(frame):
        column = CRITERIA[criterion]
        out[column] = frame[column].astype(object).where(frame[column].notna(), None).to_numpy()
    for key in cox.covariates if cox is not None else ():
        c = COVARIATES[key]
        coded = c.code(frame[c.column]).reset_index(drop=True)
        out[key] = coded.where(coded.isin(c.levels), None) if c.categorical else coded.astype(float)
    if cox is not None and cox.center_stratum:
        out[Col.CENTER] = frame[Col.CENTER].astype(object).where(frame[Col.CENTER].notna(), None).to_numpy()
    return out


def pathway_data(cohort: Cohort) -> pd.DataFrame:
    """``pathway_data.csv``: the patient pathway's counting-process rows (:func:`hcc.cohort.competing.pathway`),
    R's ``Surv(tstart, tstop, state)`` with ``id = patient_id``: ``tstart``, ``tstop`` in days from first-line
    start (a move on day 0 is on day 0.5), ``state`` entered at ``tstop`` (:data:`hcc.cohort.competing.STATE_KEYS`
    after the first) or ``censor``; patients whose dates the pathway cannot use are left out, as in the app."""
    frame = cohort.frame
    data = pathway(frame)
    analysed = ~frame[Col.PATIENT_ID].isin(data.excluded[Col.PATIENT_ID]).to_numpy()
    ids = patient_key(frame).to_numpy()[analysed]
    keys = np.asarray(STATE_KEYS, dtype=object)
    return pd.DataFrame({Col.PATIENT_ID: ids[data.id], REGIMEN: np.asarray(data.group).astype(str),
                         "tstart": data.tstart, "tstop": data.tstop,
                         "state": np.where(data.to_state == data.from_state, CENSOR, keys[data.to_state])})


def data_csv(table: pd.DataFrame) -> bytes:
    """``analysis_data.csv``: UTF-8, ``\\n`` line ends, blank for missing, days written exactly."""
    return table.to_csv(index=False, na_rep="", float_format="%.17g", lineterminator="\n").encode("utf-8")


def _r_string(text: str) -> str:
    """An R string literal in ASCII: quotes and backslashes escaped as in JSON, every other non-ASCII
    character as R's ``\\U{...}``, so that a level such as ECOG "≥2" is the same string as in the data
    whatever the locale R runs in (a literal "≥" in a C locale is not)."""
    body = json.dumps(text, ensure_ascii=False)[1:-1]
    return '"' + "".join(ch if ord(ch) < 128 else f"\\U{{{ord(ch):x}}}" for ch in body) + '"'


def _r_number(x: float | None) -> str:
    """An R numeric literal that reads back as exactly ``x`` (Python's shortest round-trip form)."""
    if x is None:
        return "NA"
    text = repr(float(x))
    return text[:-2] if text.endswith(".0") else text


def _r_vector(values) -> str:
    return "c(" + ", ".join(values) + ")"


def unavailable_endpoints(cohort: Cohort, endpoints: tuple[Endpoint, ...] = ENDPOINTS) -> dict[Endpoint, str]:
    """Endpoint -> why the registry cannot give it (a date column it needs has no values), as the app says."""
    reasons = {Endpoint(e): unavailable_reason(cohort.frame, e) for e in endpoints}
    return {e: why for e, why in reasons.items() if why}


def _comment(text: str) -> str:
    return " ".join(text.split())


def r_script(regimens: tuple[str, ...], settings: AnalysisSpec, endpoints: tuple[Endpoint, ...] = ENDPOINTS,
             regimen_as: str = TDCOX_REGIMEN_AS, cox: CoxSpec | None = None,
             criteria: tuple[str, ...] = ("RECIST 1.1",), unavailable: dict[Endpoint, str] | None = None) -> str:
    """``analysis.R`` for these groups (in the app's order), settings and endpoints (see the module
    docstring); ``regimen_as``: how the pooled time-dependent Cox models take the regimen;
    ``unavailable``: endpoint -> why the registry cannot give it (:func:`hcc.cohort.endpoints.unavailable_reason`),
    written as a "not available" block instead of a computation."""
    head = _HEADER.format(
        version=hcc.__version__, days_per_month=_r_number(DAYS_PER_MONTH), conf_type=_r_string(settings.conf_type),
        conf_level=_r_number(settings.conf_level),
        milestones=_r_vector(_r_number(m) for m in settings.milestones_months),
        tau=_r_number(settings.tau_months), reference=_r_string(settings.reference) if settings.reference else "NA",
        adjust=_r_string(settings.adjust), rho=settings.rho, regimens=_r_vector(_r_string(r) for r in regimens),
        min_group=MIN_GROUP_FOR_TAU, regimen_as=_r_string(regimen_as), unstable=UNSTABLE_LOG_HR, not_estimable=_r_string(NOT_ESTIMABLE_HR))
    blocks = []
    for e in endpoints:
        name = Endpoint(e).value
        why = (unavailable or {}).get(Endpoint(e), "")
        blocks.append((_UNAVAILABLE_BLOCK if why else _ENDPOINT_BLOCK).format(
            name=name, var=name.lower(), label=ENDPOINT_LABELS[Endpoint(e)],
            definition=_comment(DEFINITIONS[Endpoint(e)].describe()), reason=_comment(why), reason_r=_r_string(why)))
    switches = "".join(_SWITCH_BLOCK.format(name=c, words=_SWITCH_WORDS[c], var=c.lower()) for c in SWITCHES)
    landmarks = _LANDMARKS.format(months=_r_vector(_r_number(m) for m in DEFAULT_LANDMARKS_MONTHS),
                                  switches=_r_vector(_r_string(c) for c in SWITCHES))
    def words(values) -> str:
        return _r_vector(_r_string(v) for v in sorted(values, key=CATEGORIES.index))

    response = _RESPONSE.format(
        criteria="c(" + ", ".join(f"{_r_string(c)} = {_r_string(CRITERIA[c])}" for c in criteria) + ")",
        categories=_r_vector(_r_string(c) for c in CATEGORIES), not_recorded=_r_string(NOT_RECORDED),
        evaluable=words(EVALUABLE), orr=words(OBJECTIVE_RESPONSE), dcr=words(DISEASE_CONTROL),
        chisq=_r_string(CHI_SQUARE), fisher=_r_string(FISHER), fisher_mc=_r_string(FISHER_MC), b=MONTE_CARLO_TABLES)
    return (head + "".join(blocks) + response + _SWITCH_HEADER.format(unstable=UNSTABLE_LOG_HR) + switches + landmarks
            + _competing_block() + ("" if cox is None else _multivariable_block(cox, regimens, settings)) + _FOOTER)


def _competing_block() -> str:
    """The competing-risks and patient-pathway blocks of ``analysis.R`` (one block per endpoint of
    :data:`hcc.cohort.competing.COMPETING`); the not-estimable reasons are the app's own words."""
    head = _COMPETING.format(unstable=_r_number(MAX_ABS_COEF), past=_r_string(PAST_FOLLOWUP), no_ci=_r_string(NO_CI),
                             no_events=_r_string(NO_EVENTS), no_patients=_r_string(NO_PATIENTS),
                             not_converged=_r_string(NOT_CONVERGED))
    blocks = "".join(_COMPETING_BLOCK.format(
        key=d.key, title=d.title, origin=d.origin_words, event=d.event_words.lower(), competing=d.competing_words.lower(),
        eligible=(f"Not eligible (blank): {d.not_eligible_reason}." if d.eligible_column else "Everyone is eligible."))
        for d in COMPETING)
    return head + blocks + _PATHWAY.format(states=" -> ".join(STATES), state_keys=_r_vector(_r_string(k) for k in STATE_KEYS),
                                           past=_r_string(STATES_PAST_FOLLOWUP))


def _multivariable_block(cox: CoxSpec, regimens: tuple[str, ...], settings: AnalysisSpec) -> str:
    """The multivariable Cox block of ``analysis.R`` (levels reference first, as the app codes them)."""
    reference = cox.reference if cox.reference in regimens else regimens[0]
    levels = {Col.REGIMEN_1L: (reference, *[r for r in regimens if r != reference]),
              **{k: COVARIATES[k].levels for k in cox.covariates if COVARIATES[k].categorical}}
    return _MULTIVARIABLE.format(
        endpoint=_r_string(Endpoint(cox.endpoint).value), reference=_r_string(reference),
        covariates=_r_vector(_r_string(k) for k in cox.covariates),
        levels="list(" + ",\n                     ".join(
            f"{k} = {_r_vector(_r_string(v) for v in lv)}" for k, lv in levels.items()) + ")",
        center_stratum="TRUE" if cox.center_stratum else "FALSE", regimen_key=_r_string(Col.REGIMEN_1L),
        center=_r_string(Col.CENTER), global_=_r_string(GLOBAL),
        formula_words=" + ".join(("regimen", *cox.covariates, *(("strata(center)",) if cox.center_stratum else ()))))


def readme_text(registry: Registry, spec: CohortSpec, settings: AnalysisSpec, cohort: Cohort,
                cox: CoxSpec | None = None) -> str:
    """``README.txt``: what produced the export and how to run it."""
    tau = ("automatic (the shortest follow-up among the regimens, whole months)" if settings.tau_months is None
           else f"{settings.tau_months:g} months")
    lines = {"CI of the curve": f"{settings.conf_type} ({settings.conf_level:.0%})",
             "milestones": ", ".join(f"{m:g}" for m in settings.milestones_months) + " months",
             "RMST horizon": tau,
             "reference": settings.reference or "the first regimen with patients",
             "pairwise p": f"adjusted by {settings.adjust}",
             "test": TESTS[settings.rho] + f" (rho = {settings.rho})"}
    if cox is not None:
        lines["multivariable"] = (f"Cox model of {Endpoint(cox.endpoint).value} on the regimen"
                                  + "".join(f", {k}" for k in cox.covariates)
                                  + (", stratified by center" if cox.center_stratum else ""))
    settings_text = "\n".join(f"    {k:<18}{v}" for k, v in lines.items())
    return _README.format(
        version=hcc.__version__, name=registry.name, rows=registry.rows_read, sha256=registry.sha256,
        demo=" (the bundled synthetic demo registry)" if registry.is_demo else "",
        n=cohort.n, by_regimen=", ".join(f"{r} {k}" for r, k in cohort.by_regimen().items()),
        spec="\n".join("    " + line for line in spec.to_json().splitlines()),
        settings=settings_text, packages=DEBIAN_PACKAGES, data=DATA_FILE, pathway=PATHWAY_FILE, script=SCRIPT_FILE,
        results=RESULTS_FILE,
        days_per_month=f"{DAYS_PER_MONTH:g}")


def export_r(registry: Registry, spec: CohortSpec, settings: AnalysisSpec | None = None,
             endpoints: tuple[Endpoint, ...] = ENDPOINTS, cohort: Cohort | None = None,
             cox: CoxSpec | None = None) -> RExport:
    """The "Reproduce in R" files for this registry, cohort spec and settings (``cohort``: the spec
    already applied, to save recomputing it; ``cox``: a multivariable Cox model to reproduce too, as
    ``python -m hcc analyze --cox``; a model the app cannot fit raises its SpecError here as there)."""
    settings = settings or AnalysisSpec()
    cohort = cohort if cohort is not None else apply_to_registry(registry, spec)
    if cox is not None:
        fit_multivariable(cohort, cox)
    return RExport({
        DATA_FILE: data_csv(analysis_data(cohort, endpoints, cox)),
        PATHWAY_FILE: data_csv(pathway_data(cohort)),
        SCRIPT_FILE: r_script(cohort.regimens, settings, endpoints, cox=cox,
                              criteria=available_criteria(cohort.frame),
                              unavailable=unavailable_endpoints(cohort, endpoints)).encode("utf-8"),
        README_FILE: readme_text(registry, spec, settings, cohort, cox).encode("utf-8"),
    })


def zip_bytes(export: RExport, folder: str = "reproduce_in_r") -> bytes:
    """The export as a zip (entries ``folder/<file>``, fixed time stamps: the same export, the same bytes)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name in FILES:
            info = zipfile.ZipInfo(f"{folder}/{name}", date_time=ZIP_DATE)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            archive.writestr(info, export.files[name])
    return buffer.getvalue()


_HEADER = r'''# analysis.R -- "Reproduce in R", written by HCC Outcomes Explorer {version}.
#
# Recomputes, from analysis_data.csv and pathway_data.csv, the survival numbers the app shows for this cohort and
# these settings, with R's survival package, prints a short table and writes results_r.json in the
# shape of `python -m hcc analyze` JSON (for the quantities below).
#
# Run it in this folder:   Rscript analysis.R
# Needs R with the packages survival, cmprsk and jsonlite
# (Debian: r-base-core r-cran-survival r-cran-cmprsk r-cran-jsonlite).
#
# A number the app does not give is written as null with "estimable": false (pairs: "testable": false)
# and a "reason", as the app shows "not estimable -- <reason>"; the rules are written out below.
#
# Times in analysis_data.csv are whole days; every result is in months (days / days_per_month).
# Methods (the app's docs/methods.md says the same):
#   curve      Kaplan-Meier, Greenwood variance, pointwise CI with conf.type below   survfit()
#   median     first time S(t) <= 0.5 (midpoint of a flat stretch at 0.5), CI from
#              the CI curves                                                        quantile()
#   rates      S(t) at each milestone, its CI and the number at risk (time >= t);
#              0 once the curve reached 0; not estimable (NA, with a reason) past
#              the last follow-up while above 0                                      summary(fit, times =, extend = TRUE)
#   RMST       area under the curve to tau and its standard error; not estimable
#              when tau passes the group's last follow-up (survRM2's rule)         summary(fit, rmean =)
#   follow-up  median by reverse Kaplan-Meier (censoring as the event)
#   tests      log-rank (rho = 0) or Peto-Peto (rho = 1), k - 1 df; pairwise on each
#              pair's patients, p adjusted across pairs (a pair with no expected
#              events: chi-square 0, p 1, not testable)                              survdiff(), p.adjust()
#   HR         univariable Cox, Efron ties, Wald CI and p, regimen vs the reference;
#              not estimable (NA, with a reason): no events in a group or in the
#              reference, or a monotone likelihood (HR running off to 0 or infinity) coxph(ties = "efron")
#   RMST diff  RMST - RMST of the reference, SE sqrt(se1^2 + se2^2), normal CI and p

suppressPackageStartupMessages({{
  library(survival)
  library(jsonlite)
}})

## ---- Settings (as chosen in the app; edit them to explore) --------------------------------------
days_per_month    <- {days_per_month}
conf_type         <- {conf_type}      # CI transform of the curve and of the median's CI
conf_level        <- {conf_level}
milestones_months <- {milestones}
tau_months        <- {tau}      # RMST horizon; NA = the app's default (rmst_horizon_days below)
reference         <- {reference}      # HR and RMST-difference reference; NA = the first regimen with patients
adjust            <- {adjust}      # pairwise p-value adjustment (p.adjust method)
rho               <- {rho}      # 0 = log-rank, 1 = Peto-Peto (survdiff rho)
regimens          <- {regimens}   # the groups compared, in the app's order
tdcox_regimen_as  <- {regimen_as}      # pooled time-dependent Cox: "stratum" (+ strata(regimen)) or "covariate"

analysis <- read.csv("analysis_data.csv", na.strings = "", encoding = "UTF-8",
                     colClasses = c(patient_id = "character", regimen = "character"))

## ---- Helpers: each turns one R call's output into the app's numbers ------------------------------

# One endpoint's analysed patients: time in days, status 1 = event, 0 = censored.
endpoint_data <- function(endpoint) {{
  days <- analysis[[paste0(endpoint, "_days")]]
  keep <- !is.na(days)
  data.frame(patient_id = analysis$patient_id[keep],
             regimen = factor(analysis$regimen[keep], levels = regimens),
             time = days[keep],
             status = analysis[[paste0(endpoint, "_event")]][keep])
}}

# The groups with at least one patient (only these are compared).
present_groups <- function(d) regimens[regimens %in% d$regimen]

# The reference regimen of this endpoint: `reference` when it has patients, else the first group that has.
reference_of <- function(d) {{
  groups <- present_groups(d)
  if (!is.na(reference) && reference %in% groups) reference else groups[1]
}}

# RMST horizon in days: tau_months when set; else the shortest last observed time among groups of at
# least {min_group} patients (all groups if none is that large), floored to whole months (at least 1).
rmst_horizon_days <- function(d) {{
  if (!is.na(tau_months)) return(tau_months * days_per_month)
  groups <- present_groups(d)
  if (length(groups) == 0) return(12 * days_per_month)
  n <- sapply(groups, function(g) sum(d$regimen == g))
  last <- sapply(groups, function(g) max(d$time[d$regimen == g]))
  sizable <- if (any(n >= {min_group})) n >= {min_group} else rep(TRUE, length(groups))
  max(floor(min(last[sizable]) / days_per_month), 1) * days_per_month
}}

# n, events, median (CI), milestone rates, RMST and median follow-up of one group, in months.
describe_group <- function(d, tau_days) {{
  if (nrow(d) == 0) return(list(n = 0L, events = 0L, median = NA, median_ci = c(NA, NA)))
  fit <- survfit(Surv(time, status) ~ 1, data = d, conf.type = conf_type, conf.int = conf_level)
  med <- quantile(fit, probs = 0.5)
  last_days <- max(fit$time)  # the group's last follow-up (event or censoring)
  rates <- list()
  for (m in milestones_months) {{
    t <- m * days_per_month
    s <- summary(fit, times = t, extend = TRUE)  # extend: a time past the last follow-up is allowed
    if (t > last_days && s$surv > 0) {{
      # past the last follow-up while the curve is above 0: nobody was followed that long, so
      # S(t) is not estimable (extend = TRUE would carry the last value forward)
      rates[[as.character(m)]] <- list(est = NA, ci = c(NA, NA), n_risk = 0L, estimable = FALSE,
        reason = sprintf("follow-up ends at %.1f months", last_days / days_per_month))
    }} else if (t > last_days) {{
      # the curve reached 0 before t: it stays 0 (its CI is undefined at S = 0)
      rates[[as.character(m)]] <- list(est = 0, ci = c(NA, NA), n_risk = 0L)
    }} else {{
      rates[[as.character(m)]] <- list(est = s$surv, ci = c(s$lower, s$upper), n_risk = s$n.risk)
    }}
  }}
  if (tau_days > last_days * (1 + 1e-12)) {{
    # survRM2's rule: tau may not pass the group's last follow-up (the area past it is unobserved)
    rmean <- c(rmean = NA, "se(rmean)" = NA)
    rmst_note <- sprintf("not estimable: follow-up ends at %.1f months, before tau = %g months",
                         last_days / days_per_month, tau_days / days_per_month)
  }} else if (tau_days < min(fit$time)) {{
    # S(t) = 1 up to tau: the area is tau with no variance (summary() refuses a tau this early)
    rmean <- c(rmean = tau_days, "se(rmean)" = 0)
  }} else {{
    rmean <- summary(fit, rmean = tau_days)$table
  }}
  reverse <- survfit(Surv(time, 1 - status) ~ 1, data = d)  # reverse Kaplan-Meier
  tol <- sqrt(.Machine$double.eps)  # quantile.survfit's tolerance
  median_note <- if (!is.na(med$quantile[1]) && abs(fit$surv[length(fit$surv)] - 0.5) < tol) {{
    reached <- fit$time[which(abs(fit$surv - 0.5) < tol)[1]] / days_per_month
    sprintf(paste("the curve ends at exactly 50%%, so the median is the midpoint between %.1f months",
                  "and the last follow-up (quantile.survfit; print() shows %.1f)"), reached, reached)
  }}
  c(list(n = nrow(d), events = sum(d$status),
       median = unname(med$quantile[1]) / days_per_month,
       median_ci = c(unname(med$lower[1]), unname(med$upper[1])) / days_per_month,
       rates = rates,
       rmst = c(list(tau = tau_days / days_per_month, est = unname(rmean["rmean"]) / days_per_month,
                     se = unname(rmean["se(rmean)"]) / days_per_month),
                if (exists("rmst_note", inherits = FALSE)) list(estimable = FALSE, reason = rmst_note)),
       followup_median = unname(quantile(reverse, probs = 0.5, conf.int = FALSE)[1]) / days_per_month),
    if (!is.null(median_note)) list(median_note = median_note))
}}

# Chi-square, df and p of one survdiff (df: groups with expected events - 1, as print.survdiff).
chisq_test <- function(test) {{
  df <- sum(test$exp > 0) - 1
  list(statistic = test$chisq, df = df, p = if (df >= 1) pchisq(test$chisq, df, lower.tail = FALSE) else NA,
       rho = rho)
}}

# Global test across the groups with patients (NULL with fewer than two).
global_test <- function(d) {{
  if (length(present_groups(d)) < 2) return(NULL)
  test <- survdiff(Surv(time, status) ~ regimen, data = droplevels(d), rho = rho)
  out <- chisq_test(test)
  if (out$df < 1) NULL else out
}}

# Every pair of groups tested on the pair's own patients; p adjusted across the pairs.
pairwise_tests <- function(d) {{
  groups <- present_groups(d)
  if (length(groups) < 2) return(list())
  pairs <- combn(groups, 2, simplify = FALSE)
  tests <- lapply(pairs, function(ab) {{
    # (a pair without any event makes survdiff warn about its own p on -1 df: handled below)
    test <- chisq_test(suppressWarnings(
      survdiff(Surv(time, status) ~ regimen, data = droplevels(d[d$regimen %in% ab, ]), rho = rho)))
    if (test$df >= 1) return(test)
    # a group of the pair has no expected events (all censored before the pair's first event):
    # survdiff gives chi-square 0 on 0 df, p = 1; the pair is not testable
    list(statistic = 0, p = 1, testable = FALSE,
         reason = sprintf("not testable: no events expected in %s or %s", ab[1], ab[2]))
  }})
  p_adj <- p.adjust(sapply(tests, function(t) t$p), method = adjust)
  lapply(seq_along(pairs), function(i)
    c(list(a = pairs[[i]][1], b = pairs[[i]][2], statistic = tests[[i]]$statistic, p = tests[[i]]$p,
           p_adj = p_adj[i], adjust = adjust), tests[[i]][c("testable", "reason")[!is.null(tests[[i]]$reason)]]))
}}

# Univariable Cox HR of each group vs the reference (Efron ties, Wald CI and p); every group but the
# reference gets a row. Not estimable (HR, CI, p null, with the reason): a group without events, every
# group when the reference has none, and a coefficient whose likelihood is monotone (R warns
# "coefficient may be infinite"). Groups with events are fitted without the event-free ones.
cox_by_regimen <- function(d) cox_rows(d, present_groups(d), reference_of(d))

# The rows of cox_by_regimen for the groups (levels of d$regimen with patients) against ref.
cox_rows <- function(d, groups, ref) {{
  if (length(groups) < 2) return(list())
  others <- setdiff(groups, ref)
  not_estimable <- function(g, why)
    list(term = g, reference = ref, hr = NA, ci = c(NA, NA), p = NA, note = why, estimable = FALSE, reason = why)
  n_events <- sapply(groups, function(g) sum(d$status[d$regimen == g]))
  if (n_events[[ref]] == 0)
    return(lapply(others, not_estimable, why = paste("not estimable: no events in", ref, "(the reference)")))
  rows <- list()
  for (g in others[n_events[others] == 0]) rows[[g]] <- not_estimable(g, paste("not estimable: no events in", g))
  with_events <- groups[n_events > 0]
  if (length(with_events) >= 2) {{
    cd <- d[d$regimen %in% with_events, ]
    cd$regimen <- relevel(factor(as.character(cd$regimen), levels = with_events), ref = ref)
    formula <- Surv(time, status) ~ regimen
    fit <- suppressWarnings(coxph(formula, data = cd, ties = "efron",
                                  control = coxph.control(eps = 1e-12, iter.max = 100)))
    b <- coef(fit)
    ci <- exp(confint(fit))
    p <- summary(fit)$coefficients[, "Pr(>|z|)"]
    se <- sqrt(diag(vcov(fit)))
    # log partial likelihood at other coefficients (iter.max = 0: evaluated at init, not fitted)
    loglik_at <- function(beta) suppressWarnings(coxph(formula, data = cd, ties = "efron", init = beta,
                                                      control = coxph.control(iter.max = 0)))$loglik[2]
    for (i in seq_along(b)) {{
      g <- levels(cd$regimen)[i + 1]
      # Monotone likelihood, as the app decides it: |log HR| beyond {unstable}, or beyond 8 with a flat
      # profile (moving it 5 further out lowers the log-likelihood by less than 1e-6)
      runs_off <- abs(b[i]) > {unstable}
      if (!runs_off && abs(b[i]) >= 8) {{
        further <- b
        further[i] <- b[i] + sign(b[i]) * 5
        moved <- loglik_at(further)
        runs_off <- !is.finite(moved) || moved >= fit$loglik[2] - 1e-6
      }}
      if (runs_off) {{
        first <- if (b[i] > 0) g else ref
        later <- if (b[i] > 0) ref else g
        rows[[g]] <- not_estimable(g, if (max(cd$time[cd$status == 1 & cd$regimen == first]) <
                                           min(cd$time[cd$status == 1 & cd$regimen == later]))
          sprintf("not estimable: every event in %s precedes the first in %s (monotone likelihood)", first, later)
          else "not estimable: the data give no finite hazard ratio (monotone likelihood)")
      }} else if (!is.finite(se[i]) || se[i] <= 0) {{
        rows[[g]] <- not_estimable(g, {not_estimable})
      }} else {{
        rows[[g]] <- list(term = g, reference = ref, hr = unname(exp(b[i])), ci = unname(ci[i, ]), p = unname(p[i]))
        # the app stops the whole fit once a coefficient passes {unstable}: the other HRs of that fit are
        # then shown with this note (and are not compared with R's converged ones)
        if (fit$iter >= 100 || any(abs(b) > {unstable})) rows[[g]]$note <- "unstable fit (very few events in a group)"
      }}
    }}
  }}
  unname(rows[others])
}}

# RMST of each group minus that of the reference, SE sqrt(se1^2 + se2^2), normal CI and p.
rmst_differences <- function(groups_json, d) {{
  ref <- reference_of(d)
  z <- qnorm(1 - (1 - conf_level) / 2)
  lapply(setdiff(present_groups(d), ref), function(g) {{
    a <- groups_json[[g]]$rmst
    b <- groups_json[[ref]]$rmst
    missing <- c(a$reason, b$reason)  # tau past a group's follow-up: that RMST is not estimable
    if (length(missing) > 0 || (a$se == 0 && b$se == 0))
      return(list(a = g, b = ref, tau = a$tau, difference = NA, ci = c(NA, NA), p = NA, estimable = FALSE,
                  reason = if (length(missing) > 0) missing[1] else
                    sprintf("not estimable: no events before tau in %s or %s, so no variance", g, ref)))
    diff <- a$est - b$est
    se <- sqrt(a$se^2 + b$se^2)
    list(a = g, b = ref, tau = a$tau, difference = diff, ci = c(diff - z * se, diff + z * se),
         p = if (se > 0) 2 * pnorm(-abs(diff) / se) else NA)
  }})
}}

# The per-endpoint JSON of `python -m hcc analyze` (these keys).
endpoint_results <- function(d) {{
  tau_days <- rmst_horizon_days(d)
  groups <- lapply(setNames(regimens, regimens), function(g) describe_group(d[d$regimen == g, ], tau_days))
  # survRM2's largest admissible tau: the shortest last follow-up among the groups with patients
  tau_max <- if (nrow(d) > 0) min(tapply(d$time, droplevels(d$regimen), max)) / days_per_month else NA
  list(unit = "months", groups = groups, logrank = global_test(d), ci_method = conf_type,
       pairwise = pairwise_tests(d), cox = cox_by_regimen(d), rmst_difference = rmst_differences(groups, d),
       rmst_tau_max = tau_max)
}}

# An endpoint the registry cannot give (a date column it needs has no values): said, not computed.
not_available <- function(reason) list(unit = "months", available = FALSE, reason = reason,
                                       groups = setNames(list(), character(0)), logrank = NULL)

# A short table: n, events, median (95% CI) in months per group, and the global test's p.
print_endpoint <- function(endpoint, res) {{
  cat("\n", endpoint, "\n", sep = "")
  if (isFALSE(res$available)) cat("  ", res$reason, "\n", sep = "")
  for (g in names(res$groups)) {{
    r <- res$groups[[g]]
    cat(sprintf("  %-10s n = %4d  events = %4d  median %6.2f (%6.2f to %6.2f) months\n",
                g, as.integer(r$n), as.integer(r$events), r$median, r$median_ci[1], r$median_ci[2]))
  }}
  if (!is.null(res$logrank))
    cat(sprintf("  test (rho = %d): chi-square %.3f, df %d, p = %.4g\n",
                as.integer(rho), res$logrank$statistic, as.integer(res$logrank$df), res$logrank$p))
}}

endpoints <- list()
'''

_RESPONSE = r'''
## ---- Best overall response: ORR and DCR per regimen, compared across regimens ----------------------
# ORR = CR + PR, DCR = CR + PR + SD, over the evaluable patients (CR, PR, SD, PD) and over all patients,
# exact Clopper-Pearson CI (binom.test); across regimens chi-square without continuity correction
# (chisq.test(correct = FALSE)), or Fisher's exact test when an expected count is below 5 (for tables
# larger than 2 x 2 by Monte Carlo, B = {b}: its p differs from the app's by simulation error only).
response_criteria <- {criteria}   # criterion = column of analysis_data.csv
categories <- {categories}
evaluable_words <- {evaluable}
rate_words <- list(ORR = {orr}, DCR = {dcr})

proportion <- function(k, n) {{
  if (n == 0) return(list(k = 0L, n = 0L, est = NA, ci = c(NA, NA)))
  list(k = k, n = n, est = k / n, ci = binom.test(k, n)$conf.int[1:2])
}}

compare_rate <- function(table) {{
  table <- table[rowSums(table) > 0, colSums(table) > 0, drop = FALSE]
  if (nrow(table) < 2 || ncol(table) < 2) return(list(p = NA, test = NULL))
  chi <- suppressWarnings(chisq.test(table, correct = FALSE))
  if (all(chi$expected >= 5)) return(list(p = chi$p.value, test = {chisq}))
  if (all(dim(table) == 2)) return(list(p = fisher.test(table)$p.value, test = {fisher}))
  list(p = fisher.test(table, simulate.p.value = TRUE, B = {b})$p.value, test = {fisher_mc})
}}

response <- list()
for (criterion in names(response_criteria)) {{
  best <- analysis[[response_criteria[[criterion]]]]
  best[is.na(best)] <- {not_recorded}
  by_regimen <- lapply(setNames(regimens, regimens), function(g) {{
    values <- best[analysis$regimen == g]
    counts <- lapply(setNames(categories, categories), function(c) sum(values == c))
    evaluable <- sum(values %in% evaluable_words)
    out <- list(n = length(values), counts = counts, evaluable = evaluable)
    for (rate in names(rate_words)) {{
      k <- sum(values %in% rate_words[[rate]])
      out[[tolower(rate)]] <- list(evaluable = proportion(k, evaluable), all = proportion(k, length(values)))
    }}
    out
  }})
  tests <- list()
  for (rate in names(rate_words)) for (den in c("evaluable", "all")) {{
    k <- sapply(by_regimen, function(g) g[[tolower(rate)]][[den]]$k)
    n <- sapply(by_regimen, function(g) g[[tolower(rate)]][[den]]$n)
    test <- if (length(regimens) > 1) compare_rate(rbind(k, n - k)) else list(p = NA, test = NULL)
    tests[[length(tests) + 1]] <- list(rate = rate, denominator = den, p = test$p, test = test$test)
  }}
  response[[criterion]] <- list(column = response_criteria[[criterion]], regimens = by_regimen, tests = tests)
}}
'''

_SWITCH_HEADER = r'''
## ---- Time-dependent Cox: overall survival on disease control (DC) and objective response (OR) ----
# x switches from 0 to 1 on the day DC (or OR) is documented (tmerge + tdc), per regimen and pooled; the
# naive model takes "ever achieved" (on or before the end of follow-up) as a baseline covariate and is
# biased by immortal time. Efron ties, Wald CI. A model that cannot be fitted is "not estimable" (null).
cox_control <- coxph.control(eps = 1e-12, toler.chol = 1e-13, iter.max = 100)

# Patients the models of one switch can use: OS time (days), death, switch day (NA = never).
switch_data <- function(switch) {{
  days <- analysis[[paste0(switch, "_os_days")]]
  keep <- !is.na(days)
  data.frame(id = seq_len(sum(keep)), regimen = analysis$regimen[keep], futime = days[keep],
             dead = analysis[[paste0(switch, "_death")]][keep],
             switch = analysis[[paste0(switch, "_switch_days")]][keep])
}}

# One Cox fit of OS on x, or a "not estimable" note when it cannot be fitted.
switch_fit <- function(formula, data, u, x) {{
  if (nrow(u) == 0) return(list(hr = NULL, note = "no patient with follow-up time"))
  if (sum(u$dead) == 0) return(list(hr = NULL, note = "no death: the Cox model needs at least one event"))
  if (length(unique(x)) < 2) return(list(hr = NULL, note = "reached by all or none of the patients during follow-up"))
  fit <- tryCatch(coxph(formula, data = data, ties = "efron", control = cox_control),
                  warning = function(w) NULL, error = function(e) NULL)
  if (is.null(fit) || !is.finite(vcov(fit)["x", "x"]) || abs(coef(fit)[["x"]]) > {unstable})
    return(list(hr = NULL, note = "the model did not converge (too few events?)"))
  list(hr = unname(exp(coef(fit))["x"]), ci = unname(exp(confint(fit))["x", ]),
       p = unname(summary(fit)$coefficients["x", "Pr(>|z|)"]), n = nrow(u), events = sum(u$dead))
}}

# The time-dependent model (counting-process data as tmerge) and the naive one, for the patients u.
switch_models <- function(u, pooled = FALSE) {{
  rhs <- if (!pooled) "x" else if (tdcox_regimen_as == "stratum") "x + strata(regimen)" else "x + regimen"
  if (nrow(u) > 0 && sum(u$dead) > 0 && any(!is.na(u$switch))) {{
    td <- tmerge(u[, c("id", "regimen", "futime", "dead")], u, id = id, death = event(futime, dead))
    td <- tmerge(td, u[, c("id", "switch")], id = id, x = tdc(switch))
  }} else {{  # nothing to fit (switch_fit says why); tmerge refuses such data
    td <- data.frame(id = u$id, tstart = rep(0, nrow(u)), tstop = u$futime, death = u$dead,
                     x = rep(0L, nrow(u)), regimen = u$regimen)
  }}
  out <- switch_fit(as.formula(paste("Surv(tstart, tstop, death) ~", rhs)), td, u, td$x)
  if (!is.null(out$hr)) out$n_switched <- length(unique(td$id[td$x == 1]))
  if (pooled) out$regimen_as <- tdcox_regimen_as
  u$x <- as.integer(!is.na(u$switch) & u$switch <= u$futime)  # ever achieved
  naive <- switch_fit(as.formula(paste("Surv(futime, dead) ~", rhs)), u, u, u$x)
  out["naive"] <- list(if (is.null(naive$hr)) NULL else c(naive, n_switched = sum(u$x)))  # NULL stays, as null
  out
}}

# Per regimen (in the app's order) and, with more than one regimen, pooled.
switch_results <- function(u) {{
  out <- lapply(setNames(regimens, regimens), function(g) switch_models(u[u$regimen == g, ]))
  if (length(regimens) > 1) out$pooled <- switch_models(u, pooled = TRUE)
  out
}}

tdcox <- list()
'''

_SWITCH_BLOCK = '''
# {name}: {words}
{var}_patients <- switch_data("{name}")
tdcox${name} <- switch_results({var}_patients)
'''

_ENDPOINT_BLOCK = '''
## ---- {name}: {label} ----
# {definition}
{var} <- endpoint_data("{name}")
# per regimen survfit, quantile, summary(times =, rmean =); survdiff overall and per pair; coxph
endpoints${name} <- endpoint_results({var})
print_endpoint("{name}", endpoints${name})
'''

_UNAVAILABLE_BLOCK = '''
## ---- {name}: {label} ----
# {definition}
# {reason} (checked by the app on the registry's dates, which analysis_data.csv does not carry)
endpoints${name} <- not_available({reason_r})
print_endpoint("{name}", endpoints${name})
'''

_LANDMARKS = r'''
## ---- Landmark analyses: overall survival from L months by DC (or OR) reached by then --------------
# Patients alive and followed beyond L (OS time > L days); group "<S> by L months" (switch on or before
# day L) against "No <S> by L months"; OS from the landmark: survdiff and coxph (Efron) as above.
landmark_months <- {months}

landmark <- function(switch, months) {{
  u <- switch_data(switch)
  lm_days <- months * days_per_month
  reached <- paste(switch, "by", format(months), "months")
  not_reached <- paste("No", reached)
  x <- u[u$futime > lm_days, ]
  out <- list(groups = setNames(list(), character(0)), reference = not_reached,
              not_at_risk = sum(u$futime <= lm_days), hr = NULL, ci = NULL, p = NULL, logrank_p = NULL)
  if (nrow(x) == 0) return(out)
  x$time <- x$futime - lm_days
  x$group <- factor(ifelse(!is.na(x$switch) & x$switch <= lm_days, reached, not_reached),
                    levels = c(reached, not_reached))
  for (g in levels(x$group)) out$groups[[g]] <- list(n = sum(x$group == g), events = sum(x$dead[x$group == g]))
  if (all(table(x$group) > 0)) {{
    test <- survdiff(Surv(time, dead) ~ group, data = x)
    if (sum(test$exp > 0) > 1) out$logrank_p <- pchisq(test$chisq, sum(test$exp > 0) - 1, lower.tail = FALSE)
    # the HR of reaching it vs not, as cox_by_regimen (not estimable without events in a group, or
    # with a monotone likelihood)
    row <- cox_rows(data.frame(time = x$time, status = x$dead, regimen = x$group), levels(x$group),
                    not_reached)[[1]]
    if (isFALSE(row$estimable)) {{
      out$estimable <- FALSE
      out$reason <- row$reason
    }} else {{
      out$hr <- row$hr
      out$ci <- row$ci
      out$p <- row$p
    }}
  }}
  out
}}

landmarks <- list()
for (L in landmark_months)
  landmarks[[format(L)]] <- lapply(setNames({switches}, {switches}), function(s) landmark(s, L))
'''

_MULTIVARIABLE = r'''
## ---- Multivariable Cox model -------------------------------------------------------------------------
# coxph(Surv(time, status) ~ {formula_words}, ties = "efron") on the complete cases (patients with
# every covariate recorded); categorical covariates as factors with the reference level first (levels
# absent from the analysed patients dropped, a factor left with one level left out, as the app does);
# Wald CI, concordance, likelihood-ratio test, and cox.zph (transform "km") per term and GLOBAL.
mv_endpoint       <- {endpoint}
mv_reference      <- {reference}
mv_covariates     <- {covariates}
mv_levels         <- {levels}
mv_center_stratum <- {center_stratum}

mv_data <- analysis[!is.na(analysis[[paste0(mv_endpoint, "_days")]]), ]
mv_data$time <- mv_data[[paste0(mv_endpoint, "_days")]]
mv_data$status <- mv_data[[paste0(mv_endpoint, "_event")]]
mv_data[[{regimen_key}]] <- mv_data$regimen
mv_terms <- c(if (length(regimens) > 1) {regimen_key}, mv_covariates)
mv_needed <- c(mv_terms, if (mv_center_stratum) {center})
mv_missing <- lapply(setNames(mv_needed, mv_needed), function(k) sum(is.na(mv_data[[k]])))
mv_complete <- mv_data[complete.cases(mv_data[, mv_needed, drop = FALSE]), ]
mv_names <- character(0)  # the app's name of each coefficient: key, or key=level
for (k in mv_terms) {{
  if (is.null(mv_levels[[k]])) {{ mv_names <- c(mv_names, k); next }}
  present <- mv_levels[[k]][mv_levels[[k]] %in% mv_complete[[k]]]
  mv_complete[[k]] <- factor(mv_complete[[k]], levels = present)
  if (length(present) < 2) {{ mv_terms <- setdiff(mv_terms, k); next }}
  mv_names <- c(mv_names, paste0(k, "=", present[-1]))
}}
mv_formula <- as.formula(paste("Surv(time, status) ~", paste(c(mv_terms, if (mv_center_stratum)
  paste0("strata(", {center}, ")")), collapse = " + ")))
mv_fit <- coxph(mv_formula, data = mv_complete, ties = "efron",
                control = coxph.control(eps = 1e-12, toler.chol = 1e-13, iter.max = 100))
mv_ci <- exp(confint(mv_fit))
mv_zph <- cox.zph(mv_fit)$table
mv_lr <- 2 * (mv_fit$loglik[2] - mv_fit$loglik[1])
multivariable <- list(
  endpoint = mv_endpoint, reference = if ({regimen_key} %in% mv_terms) mv_reference else NULL,
  covariates = as.list(mv_covariates), center_stratum = mv_center_stratum,
  terms = lapply(seq_along(mv_names), function(i) list(
    term = mv_names[i], hr = unname(exp(coef(mv_fit))[i]), ci = unname(mv_ci[i, ]),
    p = unname(summary(mv_fit)$coefficients[i, "Pr(>|z|)"]), coef = unname(coef(mv_fit)[i]),
    se = unname(sqrt(diag(vcov(mv_fit)))[i]))),
  n = mv_fit$n, events = mv_fit$nevent, n_eligible = nrow(mv_data),
  dropped_incomplete = nrow(mv_data) - nrow(mv_complete), missing = mv_missing,
  concordance = unname(mv_fit$concordance["concordance"]),
  lr_test = list(statistic = mv_lr, df = length(coef(mv_fit)),
                 p = pchisq(mv_lr, length(coef(mv_fit)), lower.tail = FALSE)),
  ph_test = lapply(rownames(mv_zph), function(term) list(
    term = term, chisq = mv_zph[term, "chisq"], df = mv_zph[term, "df"], p = mv_zph[term, "p"])))
cat("\nMultivariable Cox model of", mv_endpoint, "(n =", mv_fit$n, ", events =", mv_fit$nevent, ")\n")
print(data.frame(term = mv_names, hr = round(exp(coef(mv_fit)), 3), lower = round(mv_ci[, 1], 3),
                 upper = round(mv_ci[, 2], 3), row.names = NULL))
'''

_FOOTER = '''
## ---- results_r.json --------------------------------------------------------------------------------
by_regimen <- lapply(setNames(regimens, regimens), function(g) sum(analysis$regimen == g))
results <- list(cohort = list(n = nrow(analysis), by_regimen = by_regimen),
                endpoints = endpoints,
                response = response,
                tdcox = tdcox,
                landmark = landmarks,
                competing_risks = competing_risks,
                days_per_month = days_per_month,
                r = list(version = R.version.string, survival = as.character(packageVersion("survival")),
                         cmprsk = as.character(packageVersion("cmprsk"))))
if (exists("multivariable")) results$multivariable <- multivariable
# UTF-8 whatever the locale (a level such as ECOG ">=2" is written with the sign the app uses)
writeLines(enc2utf8(toJSON(results, auto_unbox = TRUE, null = "null", na = "null", digits = NA, pretty = TRUE)),
           "results_r.json", useBytes = TRUE)
cat("\\nWrote results_r.json\\n")
'''

_README = '''Reproduce in R -- HCC Outcomes Explorer {version}

These files recompute, in R's survival package, the survival numbers the app showed for one cohort
and one set of statistical settings.

  {data}   one row per patient of the cohort: de-identified patient code, regimen group,
                      and per endpoint the time in days (<E>_days) and the event flag (<E>_event,
                      1 = event, 0 = censored), blank where the endpoint does not apply to the
                      patient; for the time-dependent Cox models, per switch (DC = disease control,
                      OR = objective response) the OS days, death and days to the switch; the best
                      overall response (RECIST 1.1, and mRECIST when recorded); per competing-risks
                      endpoint (second_line: from first-line progression, 1 = second line started,
                      2 = died without second line; first_line_failure: from first-line start,
                      1 = progression, 2 = died without progression) <K>_days and <K>_status
                      (0 = censored), blank where not eligible; with a multivariable model, its
                      covariates as the model codes them. No dates.
  {pathway}    the patient pathway: per patient one row per state visited, tstart and
                      tstop in days from first-line start and the state entered at tstop
                      (progressed, second_line, dead) or censor. No dates.
  {script}          the script: one block per endpoint (survfit, quantile, summary, survdiff,
                      coxph), then response rates (binom.test, chisq.test, fisher.test), the
                      time-dependent Cox models (tmerge, coxph), the landmark analyses, the
                      competing risks (survfit, cmprsk::cuminc, cmprsk::crr, coxph), the patient
                      pathway (multi-state survfit) and, if asked, the multivariable model; edit the
                      settings at its top to explore
  {results}      written by the script: the numbers, in the shape of `python -m hcc analyze`

How to run
  1. Install R with three packages. Debian/Ubuntu: apt-get install {packages}
     Elsewhere: install R, then in R: install.packages(c("survival", "cmprsk", "jsonlite"))
  2. In this folder:  Rscript {script}
     It prints n, events and the median (95% CI) per regimen and endpoint, the competing-risks
     counts and Gray's test, and writes {results}.
All results are in months (days / {days_per_month}).

Produced from
  data file       {name}{demo}
  rows read       {rows}
  SHA-256         {sha256}
  cohort          {n} patients ({by_regimen})
  cohort spec (docs/cohort-spec.md)
{spec}
  settings
{settings}
'''

_COMPETING = r'''
## ---- Competing risks: which of two events comes first ------------------------------------------------
# Per endpoint, status in analysis_data.csv is 0 = censored at last follow-up, 1 = the event of interest,
# 2 = the competing event (death first); blank = not eligible. Methods, as the app:
#   CIF        Aalen-Johansen cumulative incidence of each event, infinitesimal-jackknife standard
#              error, log CI (upper limit capped at 1; none at an estimate of 0), read at the last
#              time <= each milestone; past the last observed time not estimable       survfit(Surv(time, factor(status)))
#   Gray       Gray's test of the event's cumulative incidence across regimens, rho = 0 cmprsk::cuminc()$Tests
#   Fine-Gray  subdistribution HR vs the reference, Breslow ties, sandwich variance,
#              Wald CI and p; converged by crr's default test, then to gtol = 1e-12   cmprsk::crr()
#   cause-sp.  Cox on the event with the competing event censored, Efron ties          coxph(Surv(time, status == 1))
# A regimen without patients, or without an event of interest (a ratio then has no finite value), is
# "not estimable" with the app's reason, as is a fit running off (|log HR| > {unstable}).
suppressPackageStartupMessages(library(cmprsk))
cr_past      <- {past}
cr_no_ci     <- {no_ci}
cr_no_events <- {no_events}
cr_no_patients <- {no_patients}
cr_not_converged <- {not_converged}

# One competing-risks endpoint's analysed patients: time in days and status 0/1/2.
cr_data <- function(key) {{
  days <- analysis[[paste0(key, "_days")]]
  keep <- !is.na(days)
  data.frame(regimen = analysis$regimen[keep], time = days[keep],
             status = analysis[[paste0(key, "_status")]][keep], stringsAsFactors = FALSE)
}}

not_estimable_point <- function(reason) list(est = NA, ci = c(NA, NA), not_estimable = reason)

# n, events, competing events and, at each milestone, the cumulative incidence of the event (state "1")
# and of the competing event ("2") with its CI, and the number at risk (time >= milestone).
cr_group <- function(d) {{
  out <- list(n = nrow(d), events = sum(d$status == 1), competing = sum(d$status == 2), cif = list())
  if (nrow(d) > 0)
    fit <- survfit(Surv(time, factor(status, levels = 0:2)) ~ 1, data = d, conf.type = "log")
  for (m in milestones_months) {{
    t <- m * days_per_month
    if (nrow(d) == 0) {{
      out$cif[[as.character(m)]] <- list(event = not_estimable_point(cr_no_patients),
                                         competing = not_estimable_point(cr_no_patients), n_risk = 0L)
      next
    }}
    i <- sum(fit$time <= t)          # the last time <= t (0: before the first time)
    later <- which(fit$time >= t)
    point <- function(state) {{
      if (t > max(fit$time)) return(not_estimable_point(cr_past))
      k <- match(state, fit$states)
      est <- if (i == 0) 0 else fit$pstate[i, k]
      if (est == 0) return(list(est = 0, ci = c(NA, NA), not_estimable = cr_no_ci))
      list(est = est, ci = c(fit$lower[i, k], fit$upper[i, k]))
    }}
    out$cif[[as.character(m)]] <- list(event = point("1"), competing = point("2"),
                                       n_risk = if (length(later)) fit$n.risk[later[1], 1] else 0L)
  }}
  out
}}

# Gray's test for the event of interest across the regimens with patients (NULL with fewer than two).
cr_gray <- function(d) {{
  groups <- present_groups(d)
  if (length(groups) < 2) return(NULL)
  tests <- tryCatch(cuminc(d$time, d$status, d$regimen, cencode = 0)$Tests, error = function(e) NULL)
  if (is.null(tests) || !("1" %in% rownames(tests)))
    return(list(statistic = NA, df = length(groups) - 1L, p = NA))
  list(statistic = unname(tests["1", "stat"]), df = as.integer(tests["1", "df"]), p = unname(tests["1", "pv"]))
}}

# One ratio as JSON: estimate, Wald CI and p from a log-ratio and its SE; or not estimable with a reason.
cr_ratio <- function(name, b = NA, se = NA, reason = NULL) {{
  if (!is.null(reason)) return(setNames(list(NA, c(NA, NA), NA, reason), c(name, "ci", "p", "not_estimable")))
  if (!is.finite(b) || !is.finite(se) || se <= 0 || abs(b) > {unstable})
    return(cr_ratio(name, reason = cr_not_converged))
  z <- qnorm(0.975)
  setNames(list(exp(b), exp(b + c(-z, z) * se), 2 * pnorm(-abs(b / se))), c(name, "ci", "p"))
}}

# The regimens a ratio can be fitted for (patients and an event of interest); the others' reasons.
cr_fittable <- function(d, ref) {{
  has_event <- function(g) any(d$status[d$regimen == g] == 1)
  others <- setdiff(regimens, ref)
  reasons <- list()
  for (g in others) {{
    if (!(g %in% d$regimen)) reasons[[g]] <- cr_no_patients
    else if (!has_event(g)) reasons[[g]] <- cr_no_events
  }}
  fitted <- setdiff(others, names(reasons))
  if (!has_event(ref)) {{ for (g in fitted) reasons[[g]] <- cr_no_events; fitted <- character(0) }}
  list(fitted = fitted, reasons = reasons, others = others)
}}

# Fine-Gray subdistribution HR of each regimen vs the reference (cmprsk::crr, as the app: regimens
# without an event of interest are left out of the fit; their SHR is not estimable).
cr_fine_gray <- function(d, ref) {{
  if (length(present_groups(d)) < 2) return(setNames(list(), character(0)))
  f <- cr_fittable(d, ref)
  out <- lapply(f$reasons, function(r) cr_ratio("shr", reason = r))
  if (length(f$fitted)) {{
    x <- d[d$regimen %in% c(ref, f$fitted), ]
    cov1 <- model.matrix(~ factor(regimen, levels = c(ref, f$fitted)), data = x)[, -1, drop = FALSE]
    # crr's own convergence test (default gtol = 1e-6) says whether the model can be fitted; from there
    # the estimate is polished to gtol = 1e-12 (which crr, at the limit of double precision, may not
    # report as converged), as the app's Newton-Raphson stops at a score below 1e-9.
    crr_fit <- function(...) tryCatch(crr(x$time, x$status, cov1 = cov1, failcode = 1, cencode = 0, ...),
                                      error = function(e) NULL)
    fit <- crr_fit()
    if (!is.null(fit) && fit$converged) fit <- crr_fit(init = fit$coef, gtol = 1e-12, maxiter = 100)
    else fit <- NULL
    for (j in seq_along(f$fitted))
      out[[f$fitted[j]]] <- if (is.null(fit)) cr_ratio("shr", reason = cr_not_converged)
                            else cr_ratio("shr", fit$coef[j], sqrt(fit$var[j, j]))
  }}
  out[f$others]
}}

# Cause-specific HR of each regimen vs the reference: Cox on the event, the competing event censored.
cr_cause_specific <- function(d, ref) {{
  if (length(present_groups(d)) < 2) return(setNames(list(), character(0)))
  f <- cr_fittable(d, ref)
  out <- lapply(f$reasons, function(r) cr_ratio("hr", reason = r))
  if (length(f$fitted)) {{
    x <- d[d$regimen %in% c(ref, f$fitted), ]
    x$regimen <- factor(x$regimen, levels = c(ref, f$fitted))
    fit <- suppressWarnings(coxph(Surv(time, status == 1) ~ regimen, data = x, ties = "efron",
                                  control = coxph.control(eps = 1e-12, toler.chol = 1e-13, iter.max = 100)))
    for (j in seq_along(f$fitted))
      out[[f$fitted[j]]] <- cr_ratio("hr", coef(fit)[[j]], sqrt(vcov(fit)[j, j]))
  }}
  out[f$others]
}}

# The "competing_risks" entry of one endpoint, in the shape of `python -m hcc analyze` JSON.
cr_results <- function(d) {{
  ref <- reference_of(d)
  if (is.na(ref)) ref <- regimens[1]
  list(unit = "months",
       groups = lapply(setNames(regimens, regimens), function(g) cr_group(d[d$regimen == g, ])),
       gray = cr_gray(d), reference = ref,
       fine_gray = cr_fine_gray(d, ref), cause_specific = cr_cause_specific(d, ref))
}}

# A short table: per regimen n, events, competing events, and Gray's p.
print_competing <- function(key, res) {{
  cat("\n", key, " (competing risks)\n", sep = "")
  for (g in names(res$groups)) {{
    r <- res$groups[[g]]
    cat(sprintf("  %-10s n = %4d  events = %4d  competing = %4d\n", g, as.integer(r$n), as.integer(r$events),
                as.integer(r$competing)))
  }}
  if (!is.null(res$gray) && !is.na(res$gray$p))
    cat(sprintf("  Gray's test: chi-square %.3f, df %d, p = %.4g\n", res$gray$statistic, as.integer(res$gray$df),
                res$gray$p))
}}

competing_risks <- list()
'''

_COMPETING_BLOCK = '''
## ---- Competing risks, {key}: {title} ----
# origin: {origin}
# event (status 1): {event}; competing event (status 2): {competing}
# censored (status 0) at last follow-up. {eligible}
{key} <- cr_data("{key}")
# per regimen survfit(Surv(time, factor(status))); cuminc (Gray); crr (Fine-Gray); coxph (cause-specific)
competing_risks${key} <- cr_results({key})
print_competing("{key}", competing_risks${key})
'''

_PATHWAY = r'''
## ---- Patient pathway: where patients are at each milestone ------------------------------------------
# pathway_data.csv: per patient, one row per state visited, (tstart, tstop] in days from first-line start
# and the state entered at tstop (or "censor"). Everyone starts "on first line without progression" (R's
# "(s0)"), then moves forward only: {states}.
# Aalen-Johansen state occupation per regimen: survfit(Surv(tstart, tstop, state) ~ 1, id = patient_id),
# pstate at the last time <= each milestone; past the last observed time not estimable.
state_keys <- {state_keys}
pathway <- read.csv("pathway_data.csv", na.strings = "", encoding = "UTF-8",
                    colClasses = c(patient_id = "character", regimen = "character", state = "character"))
pathway$state <- factor(pathway$state, levels = c("censor", state_keys[-1]))

pathway_group <- function(p) {{
  n <- length(unique(p$patient_id))
  if (n > 0) fit <- survfit(Surv(tstart, tstop, state) ~ 1, data = p, id = patient_id)
  at <- list()
  for (m in milestones_months) {{
    t <- m * days_per_month
    if (n == 0 || t > max(fit$time)) {{
      at[[as.character(m)]] <- list(not_estimable = {past})
      next
    }}
    i <- sum(fit$time <= t)
    probs <- if (i == 0) c(1, rep(0, length(state_keys) - 1)) else fit$pstate[i, ]
    at[[as.character(m)]] <- as.list(setNames(probs, state_keys))
  }}
  list(n = n, at = at)
}}

competing_risks$states <- list(
  unit = "months",
  groups = lapply(setNames(regimens, regimens), function(g) pathway_group(pathway[pathway$regimen == g, ])))
'''
