"""Published first-line results of the landmark phase 3 trials in advanced HCC, with citations.

Real-world against trial is the first comparison a tumor board makes: these medians are drawn on the
Kaplan–Meier figures (:func:`hcc.outputs.figures.add_trial_medians`) and set beside the registry's medians
(:func:`registry_vs_trials`). Numbers as printed in each paper (months; 95% CI unless ``note`` says
otherwise); ``None`` where the paper's headline results do not give it. Rows marked
``secondary_source`` were taken from a secondary source (``shared/study.md``) and should be checked
against the primary paper before they are quoted as fact; the table says so.

References
----------
.. [1] Finn RS, et al. Atezolizumab plus bevacizumab in unresectable hepatocellular carcinoma.
   N Engl J Med 2020;382:1894–1905. https://doi.org/10.1056/NEJMoa1915745
.. [2] Cheng AL, et al. Updated efficacy and safety data from IMbrave150. J Hepatol 2022;76:862–873.
   https://doi.org/10.1016/j.jhep.2021.11.030
.. [3] Kudo M, et al. Lenvatinib versus sorafenib in first-line treatment of unresectable
   hepatocellular carcinoma (REFLECT). Lancet 2018;391:1163–1173.
   https://doi.org/10.1016/S0140-6736(18)30207-1
.. [4] Llovet JM, et al. Sorafenib in advanced hepatocellular carcinoma (SHARP). N Engl J Med
   2008;359:378–390. https://doi.org/10.1056/NEJMoa0708857
.. [5] Abou-Alfa GK, et al. Tremelimumab plus durvalumab in unresectable hepatocellular carcinoma
   (HIMALAYA). NEJM Evid 2022;1(8). https://doi.org/10.1056/EVIDoa2100070
.. [6] Yau T, et al. Nivolumab plus ipilimumab versus lenvatinib or sorafenib as first-line treatment
   for unresectable hepatocellular carcinoma (CheckMate 9DW). Lancet 2025;405:1851–1864.
   https://doi.org/10.1016/S0140-6736(25)00403-9
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import pandas as pd

from hcc.i18n import N_, tr, trc
from hcc.schema import ATZ_BEV, DUR_TRE, LEN, NIV_IPI, SOR, Endpoint

__all__ = ["Median", "TrialArm", "Trial", "TRIALS", "arms_for", "trials_table", "registry_vs_trials"]


@dataclass(frozen=True)
class Median:
    """A published median in months with its CI (``None`` = not given or not reached).

    ``kind`` names what was measured when it is not plain PFS/OS (e.g. "TTP", "PFS, mRECIST,
    investigator"); a median of another kind is listed but never drawn on a PFS curve.
    """

    months: float | None
    low: float | None = None
    high: float | None = None
    kind: str = ""

    def text(self) -> str:
        """E.g. ``19.2 (17.0–23.7)``, ``NR``, ``10.7``; the kind in brackets when it is not plain."""
        def f(x: float | None) -> str:
            return "NE" if x is None else f"{x:.1f}"
        core = "NR" if self.months is None else f"{self.months:.1f}"
        if self.low is not None or self.high is not None:
            core += f" ({f(self.low)}–{f(self.high)})"
        return core + (f" [{tr(self.kind)}]" if self.kind else "")


@dataclass(frozen=True)
class TrialArm:
    """One arm of a trial: what was given, how many, and its published results.

    ``regimen`` is the registry's regimen code (:mod:`hcc.schema`) when the arm maps onto one, else
    ``None`` (placebo, or "lenvatinib or sorafenib"). ``orr_percent`` is by RECIST 1.1 unless
    ``orr_note`` says otherwise.
    """

    label: str
    regimen: str | None
    n: int
    os: Median | None
    pfs: Median | None
    orr_percent: float | None = None
    orr_note: str = ""


@dataclass(frozen=True)
class Trial:
    """A first-line phase 3 trial: its arms, the OS hazard ratio of the experimental arm (first)
    against the control arm (second), and the citation."""

    name: str
    arms: tuple[TrialArm, ...]
    os_hr: float
    os_hr_low: float
    os_hr_high: float
    citation: str
    journal: str
    year: int
    doi: str
    note: str = ""
    secondary_source: bool = False

    @property
    def url(self) -> str:
        return f"https://doi.org/{self.doi}"


TRIALS: tuple[Trial, ...] = (
    Trial(N_("IMbrave150 (updated OS)"), (
        TrialArm(N_("Atezolizumab + bevacizumab"), ATZ_BEV, 336, Median(19.2, 17.0, 23.7), Median(6.9, 5.7, 8.6), 30.0),
        TrialArm(N_("Sorafenib"), SOR, 165, Median(13.4, 11.4, 16.9), Median(4.3, 4.0, 5.6), 11.0)),
        0.66, 0.52, 0.85, "Cheng AL, et al.", "J Hepatol", 2022, "10.1016/j.jhep.2021.11.030",
        secondary_source=True),
    Trial(N_("IMbrave150 (primary)"), (
        TrialArm(N_("Atezolizumab + bevacizumab"), ATZ_BEV, 336, Median(None), Median(6.8, 5.7, 8.3), 27.3),
        TrialArm(N_("Sorafenib"), SOR, 165, Median(13.2, 10.4, None), Median(4.3, 4.0, 5.6), 11.9)),
        0.58, 0.42, 0.79, "Finn RS, et al.", "N Engl J Med", 2020, "10.1056/NEJMoa1915745"),
    Trial("REFLECT", (
        TrialArm(N_("Lenvatinib"), LEN, 478, Median(13.6, 12.1, 14.9), Median(7.4, kind=N_("PFS, mRECIST, investigator"))),
        TrialArm(N_("Sorafenib"), SOR, 476, Median(12.3, 10.4, 13.9), Median(3.7, kind=N_("PFS, mRECIST, investigator")))),
        0.92, 0.79, 1.06, "Kudo M, et al.", "Lancet", 2018, "10.1016/S0140-6736(18)30207-1",
        note=N_("non-inferiority trial")),
    Trial("SHARP", (
        TrialArm(N_("Sorafenib"), SOR, 299, Median(10.7), Median(5.5, kind="TTP"), 2.0, N_("partial responses")),
        TrialArm(N_("Placebo"), None, 303, Median(7.9), Median(2.8, kind="TTP"), 1.0, N_("partial responses"))),
        0.69, 0.55, 0.87, "Llovet JM, et al.", "N Engl J Med", 2008, "10.1056/NEJMoa0708857"),
    Trial("HIMALAYA", (
        TrialArm(N_("Durvalumab + tremelimumab (STRIDE)"), DUR_TRE, 393, Median(16.4, 14.2, 19.6), Median(3.8), 20.1),
        TrialArm(N_("Sorafenib"), SOR, 389, Median(13.8, 12.3, 16.1), Median(4.1), 5.1)),
        0.78, 0.65, 0.93, "Abou-Alfa GK, et al.", "NEJM Evid", 2022, "10.1056/EVIDoa2100070",
        note=N_("OS HR with a 96.02% CI"), secondary_source=True),
    Trial("CheckMate 9DW", (
        TrialArm(N_("Nivolumab + ipilimumab"), NIV_IPI, 335, Median(23.7, 18.8, 29.4), None, 36.0),
        TrialArm(N_("Lenvatinib or sorafenib"), None, 333, Median(20.6, 17.5, 22.5), None, 13.0)),
        0.79, 0.65, 0.96, "Yau T, et al.", "Lancet", 2025, "10.1016/S0140-6736(25)00403-9"),
)

#: The endpoints a trial reports, by registry endpoint.
_ENDPOINT_FIELD = {Endpoint.OS: "os", Endpoint.PFS: "pfs"}


def arms_for(regimen: str, endpoint: Endpoint) -> list[tuple[Trial, TrialArm, Median]]:
    """Every trial arm of ``regimen`` with a drawable median of ``endpoint`` (OS, or PFS proper:
    a TTP median is not a PFS median and is left out). Empty for other endpoints."""
    name = _ENDPOINT_FIELD.get(Endpoint(endpoint))
    if name is None:
        return []
    out = []
    for trial in TRIALS:
        for arm in trial.arms:
            m = getattr(arm, name)
            if arm.regimen == regimen and m is not None and m.months is not None and m.kind != "TTP":
                out.append((trial, arm, m))
    return out


def _citation(t: Trial) -> str:
    return f"{t.citation} {t.journal} {t.year}; doi:{t.doi}"


def trials_table() -> pd.DataFrame:
    """Every trial arm: n, median OS and PFS (95% CI), OS HR (95% CI), ORR, citation."""
    rows = []
    for t in TRIALS:
        for i, arm in enumerate(t.arms):
            rows.append({
                trc("table header", "Trial"): tr(t.name), trc("table header", "Arm"): tr(arm.label), trc("table header", "Regimen code"): arm.regimen or "—", "n": arm.n,
                trc("table header", "Median OS, months (95% CI)"): "—" if arm.os is None else arm.os.text(),
                trc("table header", "Median PFS, months (95% CI)"): "—" if arm.pfs is None else arm.pfs.text(),
                trc("table header", "OS HR (95% CI)"): f"{t.os_hr:.2f} ({t.os_hr_low:.2f}–{t.os_hr_high:.2f})" if i == 0
                else trc("hazard ratio", "reference"),
                trc("table header", "ORR, %"): "—" if arm.orr_percent is None else f"{arm.orr_percent:g}"
                              + (f" ({tr(arm.orr_note)})" if arm.orr_note else ""),
                trc("table header", "Citation"): _citation(t) + (f" — {tr(t.note)}" if t.note else "")
                                + (" — " + tr("secondary source, check the paper") if t.secondary_source else ""),
            })
    return pd.DataFrame(rows)


def _median_text(months: float, low: float, high: float) -> str:
    def f(x: float) -> str:
        return "NR" if math.isnan(x) else f"{x:.1f}"
    return f"{f(months)} ({f(low)}–{f(high)})"


def registry_vs_trials(summary) -> pd.DataFrame:
    """The registry's median (95% CI) per regimen beside every trial's median of the same regimen
    and endpoint (``summary`` an :class:`hcc.stats.survival.EndpointSummary` of OS or PFS by regimen)."""
    rows = []
    for g in summary.groups:
        if g.n == 0:
            continue
        arms = arms_for(g.group, summary.endpoint)
        registry = _median_text(g.median, g.median_low, g.median_high)
        if not arms:
            rows.append({trc("table header", "Regimen"): g.group, trc("table header", "Registry n"): g.n, trc("table header", "Registry median, months (95% CI)"): registry,
                         trc("table header", "Trial"): "—", trc("table header", "Trial n"): "—", trc("table header", "Trial median, months (95% CI)"): "—",
                         trc("table header", "Registry minus trial, months"): "—", trc("table header", "Citation"): tr("no trial of this regimen")})
        for t, arm, m in arms:
            diff = "—" if math.isnan(g.median) else f"{g.median - m.months:+.1f}"
            rows.append({trc("table header", "Regimen"): g.group, trc("table header", "Registry n"): g.n, trc("table header", "Registry median, months (95% CI)"): registry,
                         trc("table header", "Trial"): tr(t.name), trc("table header", "Trial n"): str(arm.n), trc("table header", "Trial median, months (95% CI)"): m.text(),
                         trc("table header", "Registry minus trial, months"): diff, trc("table header", "Citation"): _citation(t)})
    return pd.DataFrame(rows)
