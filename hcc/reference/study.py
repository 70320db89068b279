"""Published results of the model study, as typed constants.

The app reproduces, and the synthetic demo registry (:mod:`hcc.reference.synth`) is
calibrated against, one multicenter retrospective study:

    Inoue M, Ogasawara S, et al. Cancer Medicine 2026. doi:10.1002/cam4.71655
    (PMC12914342).

Only the abstract's numbers are known; they are held here once, keyed by the
regimen codes and :class:`hcc.schema.Endpoint` of :mod:`hcc.schema`, and every
other module imports them from here. The time-dependent hazard ratios are for
overall survival, with disease control (CR, PR or SD) or objective response
(CR or PR) entering the Cox model as a covariate that switches from 0 to 1 on
the date it is first documented.

References
----------
.. [1] Inoue M, Ogasawara S, et al. Cancer Medicine 2026.
   https://doi.org/10.1002/cam4.71655
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

from hcc.schema import ATZ_BEV, LEN, SOR, Endpoint

__all__ = ["PublishedStudy", "INOUE_2026"]


@dataclass(frozen=True)
class PublishedStudy:
    """The numbers a published study reports for its main cohort.

    Attributes
    ----------
    citation : str
        Human-readable citation.
    doi : str
        Digital object identifier, without the ``https://doi.org/`` prefix.
    pmcid : str
        PubMed Central identifier.
    n_patients : int
        Patients in the whole registry.
    n_main : int
        Patients in the main cohort, after the study's exclusions.
    first_year, last_year : int
        Calendar years of first-line start, inclusive.
    median_months : Mapping[Endpoint, Mapping[str, float]]
        Kaplan-Meier median in months, by endpoint then by regimen code. For
        :attr:`~hcc.schema.Endpoint.PFS_2L` the key is the *first-line*
        regimen. Only what the study reports is present (for DDC and DOR the
        abstract gives atezolizumab + bevacizumab only).
    logrank_p : Mapping[Endpoint, str]
        Log-rank p-value across the three regimens, as printed (``"< 0.001"``).
    td_hr_disease_control : Mapping[str, float]
        Time-dependent hazard ratio for overall survival of disease control,
        by regimen code.
    td_hr_objective_response : Mapping[str, float]
        Time-dependent hazard ratio for overall survival of objective
        response, by regimen code.
    """

    citation: str
    doi: str
    pmcid: str
    n_patients: int
    n_main: int
    first_year: int
    last_year: int
    median_months: Mapping[Endpoint, Mapping[str, float]]
    logrank_p: Mapping[Endpoint, str]
    td_hr_disease_control: Mapping[str, float]
    td_hr_objective_response: Mapping[str, float]

    @property
    def url(self) -> str:
        """Resolvable address of the paper."""
        return f"https://doi.org/{self.doi}"


def _frozen(mapping: dict) -> Mapping:
    # Read-only views, so that no caller can edit the published numbers.
    return MappingProxyType({
        key: _frozen(value) if isinstance(value, dict) else value for key, value in mapping.items()
    })


#: Inoue, Ogasawara, et al., Cancer Medicine 2026: main cohort (n = 612).
INOUE_2026: PublishedStudy = PublishedStudy(
    citation="Inoue M, Ogasawara S, et al. Cancer Medicine 2026. doi:10.1002/cam4.71655",
    doi="10.1002/cam4.71655",
    pmcid="PMC12914342",
    n_patients=1542,
    n_main=612,
    first_year=2009,
    last_year=2022,
    median_months=_frozen({
        Endpoint.OS: {SOR: 15.4, LEN: 13.1, ATZ_BEV: 20.6},
        Endpoint.PFS: {SOR: 3.5, LEN: 5.7, ATZ_BEV: 7.5},
        Endpoint.PPS: {SOR: 10.8, LEN: 6.4, ATZ_BEV: 9.0},
        Endpoint.DDC: {ATZ_BEV: 8.5},
        Endpoint.DOR: {ATZ_BEV: 22.1},
        Endpoint.PFS_2L: {SOR: 5.5, LEN: 2.5, ATZ_BEV: 3.0},
    }),
    logrank_p=_frozen({
        Endpoint.OS: "0.002",
        Endpoint.PFS: "< 0.001",
        Endpoint.PPS: "0.049",
        Endpoint.PFS_2L: "0.001",
    }),
    td_hr_disease_control=_frozen({SOR: 0.51, LEN: 0.54, ATZ_BEV: 0.34}),
    td_hr_objective_response=_frozen({SOR: 0.42, LEN: 0.62, ATZ_BEV: 0.35}),
)
