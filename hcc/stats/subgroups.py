"""Subgroup analysis: regimen A against B within each level of a baseline factor.

:func:`subgroup_analysis` gives the univariable Cox hazard ratio of A vs B (B the reference) overall
and within each level of a factor of :data:`SUBGROUPS` (Child-Pugh class, BCLC stage, viral vs
non-viral etiology, AFP < / >= 400 ng/mL, ...), and the likelihood-ratio test of the regimen-by-factor
interaction — R ``coxph(Surv(time, status) ~ arm, subset = level)`` and ``anova(coxph(~ arm + f),
coxph(~ arm * f))``. Agrees with R to ~1e-9 (``tests/test_subgroups.py``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy.stats import chi2

from hcc.i18n import N_, tr, trc
from hcc.stats.adjusted import MIN_LEVEL_PATIENTS, NO, YES, as_text, yes_no
from hcc.stats.risksets import CoxFit, cell_risk_sets, cox_cells
from hcc.cohort.rules import Cohort
from hcc.cohort.endpoints import derive
from hcc.errors import SpecError
from hcc.formatting import format_hr, format_p_plain
from hcc.schema import (
    AFP_400, AFP_CUTOFF_NG_ML, ALBI_GRADES, BCLC_STAGES, CHILD_PUGH_CLASSES, ETIOLOGIES, SEXES, Col, Endpoint, value_label,
)

__all__ = ["SUBGROUPS", "Subgroup", "SubgroupRow", "SubgroupResult", "subgroup_analysis", "subgroup_table",
           "subgroup_json"]


@dataclass(frozen=True)
class Subgroup:
    """A factor to split patients by: its label and a function giving each patient's level (or None)."""

    key: str
    label: str
    levels: tuple[str, ...]
    level_of: Callable[[pd.DataFrame], pd.Series]


def _by_value(column: str, levels: tuple[str, ...], code=as_text) -> Callable[[pd.DataFrame], pd.Series]:
    return lambda f: code(f[column])


def _cut(column: str, threshold: float, below: str, above: str) -> Callable[[pd.DataFrame], pd.Series]:
    def level_of(f: pd.DataFrame) -> pd.Series:
        v = pd.to_numeric(f[column], errors="coerce")
        return pd.Series(np.where(v.isna(), None, np.where(v >= threshold, above, below)), index=f.index,
                         dtype=object)
    return level_of


_VIRAL = frozenset(ETIOLOGIES[:2])  # HBV, HCV


VIRAL, NON_VIRAL = N_("viral (HBV, HCV)"), N_("non-viral")
AGE_BELOW, AGE_AT_LEAST = N_("< 75 years"), N_("≥ 75 years")


def _viral(f: pd.DataFrame) -> pd.Series:
    e = f[Col.ETIOLOGY]
    return pd.Series(np.where(e.isna(), None, np.where(e.isin(_VIRAL), VIRAL, NON_VIRAL)),
                     index=f.index, dtype=object)


def _ecog_0_1plus(f: pd.DataFrame) -> pd.Series:
    v = pd.to_numeric(f[Col.ECOG], errors="coerce")
    return pd.Series(np.where(v.isna(), None, np.where(v >= 1, "≥1", "0")), index=f.index, dtype=object)


SUBGROUPS: dict[str, Subgroup] = {s.key: s for s in (
    Subgroup(Col.CHILD_PUGH_CLASS, N_("Child-Pugh class"), CHILD_PUGH_CLASSES,
             _by_value(Col.CHILD_PUGH_CLASS, CHILD_PUGH_CLASSES)),
    Subgroup(Col.BCLC, N_("BCLC stage"), BCLC_STAGES, _by_value(Col.BCLC, BCLC_STAGES)),
    Subgroup(Col.ETIOLOGY, N_("Etiology"), (VIRAL, NON_VIRAL), _viral),
    Subgroup(AFP_400, "AFP", ("< 400 ng/mL", "≥ 400 ng/mL"), _cut(Col.AFP, AFP_CUTOFF_NG_ML, "< 400 ng/mL", "≥ 400 ng/mL")),
    Subgroup(Col.ALBI_GRADE, N_("ALBI grade"), ALBI_GRADES, _by_value(Col.ALBI_GRADE, ALBI_GRADES)),
    Subgroup(Col.ECOG, "ECOG PS", ("0", "≥1"), _ecog_0_1plus),
    Subgroup(Col.SEX, N_("Sex"), SEXES, _by_value(Col.SEX, SEXES)),
    Subgroup(Col.AGE, N_("Age"), (AGE_BELOW, AGE_AT_LEAST), _cut(Col.AGE, 75, AGE_BELOW, AGE_AT_LEAST)),
    Subgroup(Col.MVI, N_("Macrovascular invasion"), (NO, YES), lambda f: yes_no(f[Col.MVI])),
    Subgroup(Col.EHS, N_("Extrahepatic spread"), (NO, YES), lambda f: yes_no(f[Col.EHS])),
)}


@dataclass(frozen=True)
class SubgroupRow:
    """Regimen A vs B within one level (or ``level = "All patients"``): univariable Cox HR."""

    level: str
    n_a: int
    n_b: int
    events_a: int
    events_b: int
    hr: float
    lower: float
    upper: float
    p: float
    flag: str = ""

    @property
    def n(self) -> int:
        return self.n_a + self.n_b


@dataclass(frozen=True, eq=False)
class SubgroupResult:
    """Subgroup analysis of ``a`` vs ``b`` (reference) by ``factor``, with the interaction test."""

    endpoint: Endpoint
    factor: str
    label: str
    a: str
    b: str
    overall: SubgroupRow
    rows: tuple[SubgroupRow, ...]
    interaction_chisq: float
    interaction_df: int
    interaction_p: float
    missing: int
    methods: dict[str, str] = field(default_factory=dict)


_ALL = N_("All patients")


def level_label(factor: str, level: str) -> str:
    """A subgroup level as a reader sees it, in the current language (codes and numbers as they are)."""
    if level in (VIRAL, NON_VIRAL, AGE_BELOW, AGE_AT_LEAST):
        return tr(level)
    if level in (YES, NO) and factor in (Col.MVI, Col.EHS):
        return trc("yes/no value", level)
    return value_label(factor, level)


def _binary_cox(days: np.ndarray, event: np.ndarray, x: np.ndarray, terms: tuple[str, ...]) -> CoxFit:
    """Efron Cox fit of ``Surv(days, event) ~ x`` for 0/1 columns ``x`` on the risk sets of the few
    distinct covariate rows (:func:`hcc.stats.risksets.cox_cells`: R's ``coxph``, ties = "efron", to
    full convergence) instead of a fit over every patient: a subgroup at 1M patients is ~2^p cells."""
    code = x.astype(np.int64) @ (1 << np.arange(x.shape[1], dtype=np.int64))
    cells, cell = np.unique(code, return_inverse=True)
    z = ((cells[:, None] >> np.arange(x.shape[1])) & 1).astype(float)
    start = np.full(len(days), -np.inf)  # no delayed entry: at risk while days >= t, as Surv(days, event)
    return cox_cells(cell_risk_sets(start, days, event, cell, z), terms)


def _arm_cox(days: np.ndarray, event: np.ndarray, arm: np.ndarray, level: str) -> SubgroupRow:
    n_a, n_b = int(arm.sum()), int((~arm).sum())
    ev_a, ev_b = int(event[arm].sum()), int(event[~arm].sum())
    if min(n_a, n_b) == 0 or min(ev_a, ev_b) == 0:
        why = (tr("no patient on one regimen: not estimable") if min(n_a, n_b) == 0
               else tr("no events on one regimen: not estimable"))
        return SubgroupRow(level, n_a, n_b, ev_a, ev_b, np.nan, np.nan, np.nan, np.nan, why)
    fit = _binary_cox(days, event, arm[:, None], ("arm",))
    hr, lower, upper, p = (float(v[0]) for v in fit.wald())
    note = ("" if fit.converged and not any(fit.runs_off)
            else tr("the fit did not converge cleanly (a level with very few events?)"))
    flag = note or (tr("only {n} patients on one regimen", n=min(n_a, n_b)) if min(n_a, n_b) < MIN_LEVEL_PATIENTS
                    else "")
    return SubgroupRow(level, n_a, n_b, ev_a, ev_b, hr, lower, upper, p, flag)


def subgroup_analysis(cohort: Cohort, factor: str, a: str, b: str,
                      endpoint: Endpoint = Endpoint.OS) -> SubgroupResult:
    """HR of regimen ``a`` vs ``b`` overall and within each level of ``factor`` (:data:`SUBGROUPS`),
    and the likelihood-ratio test of the interaction.

    Within a level: R ``coxph(Surv(time, status) ~ arm, subset = level)`` (Efron, Wald CI).
    Interaction: R ``anova(coxph(~ arm + f), coxph(~ arm * f))`` over patients with a recorded level.
    """
    if factor not in SUBGROUPS:
        raise SpecError(tr("unknown subgroup factor {factor} (choose from {allowed})", factor=factor,
                           allowed=", ".join(SUBGROUPS)))
    if a == b or a not in cohort.regimens or b not in cohort.regimens:
        raise SpecError(tr("choose two different regimens of this cohort ({regimens})",
                           regimens=", ".join(cohort.regimens)))
    sg = SUBGROUPS[factor]
    two = cohort.frame[cohort.frame[Col.REGIMEN_1L].isin([a, b])]
    data = derive(two, endpoint)
    level = sg.level_of(two.set_index(Col.PATIENT_ID).loc[data.patient_id]).to_numpy(dtype=object)
    arm = data.group == a
    overall = _arm_cox(data.days, data.event, arm, tr(_ALL))
    known = ~pd.isna(level)
    present = [lv for lv in sg.levels if (level == lv).any()]
    rows = tuple(_arm_cox(data.days[level == lv], data.event[level == lv], arm[level == lv], level_label(factor, lv))
                 for lv in present)
    chisq, df, p = np.nan, 0, np.nan
    if len(present) > 1:
        arm_k, level_k = arm[known], level[known]
        x = [arm_k, *(level_k == lv for lv in present[1:])]
        # A level with one regimen only has no interaction to estimate (R: an aliased, NA coefficient).
        inter = [arm_k & (level_k == lv) for lv in present[1:] if 0 < arm_k[level_k == lv].sum() < (level_k == lv).sum()]
        df = len(inter)
        if df > 0:
            days_k, event_k = data.days[known], data.event[known]
            fits = [_binary_cox(days_k, event_k, np.column_stack(cols), tuple(map(str, range(len(cols)))))
                    for cols in (x, x + inter)]
            if any(not f.converged and not any(f.runs_off) for f in fits):  # e.g. a level that is one regimen
                raise SpecError(tr("the Cox model cannot be fitted with these covariates (a level without events, or "
                                   "covariates that duplicate each other): choose fewer covariates"))
            chisq = float(2 * (fits[1].loglik - fits[0].loglik))
            p = float(chi2.sf(chisq, df))
    methods = {"within a level": tr("univariable Cox of the regimen, Efron ties, Wald 95% CI (R coxph)"),
               "interaction": tr("likelihood-ratio test of regimen x factor (R anova(fit0, fit1))"),
               "missing": tr("patients without the factor recorded are left out of the levels and the test")}
    return SubgroupResult(endpoint=Endpoint(endpoint), factor=factor, label=tr(sg.label), a=a, b=b, overall=overall,
                          rows=rows, interaction_chisq=chisq, interaction_df=df, interaction_p=p,
                          missing=int((~known).sum()), methods=methods)


def subgroup_table(result: SubgroupResult) -> pd.DataFrame:
    """Per level: patients and events on each regimen, HR (95% CI), p, note."""
    return pd.DataFrame([{
        result.label: r.level, tr("{regimen} n (events)", regimen=result.a): f"{r.n_a} ({r.events_a})",
        tr("{regimen} n (events)", regimen=result.b): f"{r.n_b} ({r.events_b})",
        trc("result table", "HR (95% CI)"): format_hr(r.hr, r.lower, r.upper),
        "p": format_p_plain(r.p), trc("result table", "Note"): r.flag,
    } for r in (result.overall, *result.rows)])


def subgroup_json(result: SubgroupResult) -> dict:
    """Subgroup result as JSON-ready data (levels with n, events, HR, CI, p; the interaction test)."""
    def row(r: SubgroupRow) -> dict:
        return {"level": r.level, "n": {result.a: r.n_a, result.b: r.n_b},
                "events": {result.a: r.events_a, result.b: r.events_b}, "hr": r.hr, "ci": [r.lower, r.upper],
                "p": r.p, "flag": r.flag}
    return {"factor": result.factor, "a": result.a, "b": result.b, "endpoint": result.endpoint.value,
            "overall": row(result.overall), "levels": [row(r) for r in result.rows],
            "interaction": {"chisq": result.interaction_chisq, "df": result.interaction_df,
                            "p": result.interaction_p}, "missing": result.missing, "methods": result.methods}
