"""Regression models of survival on the canonical registry frame.

For now: the time-dependent Cox model of overall survival on a covariate that
switches from 0 to 1 on a documented date (disease control, objective
response), as the model study did.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from lifelines import CoxTimeVaryingFitter

from hcc.schema import Col

__all__ = ["TDCoxResult", "time_dependent_cox"]

#: Newton-Raphson tolerance: lifelines' default (1e-7) leaves coefficients
#: ~4e-5 from R's ``coxph``; 1e-12 brings them to ~5e-9.
_FIT_OPTIONS: dict[str, float] = {"precision": 1e-12}

# Internal names of the counting-process frame (not registry columns).
_ID, _START, _STOP, _EVENT, _X = "id", "tstart", "tstop", "death", "x"


@dataclass(frozen=True)
class TDCoxResult:
    """Time-dependent Cox model of overall survival on one switching covariate.

    Attributes
    ----------
    switch_col : str
        Canonical date column at which the covariate switches from 0 to 1.
    regimen : str or None
        First-line regimen fitted, or ``None`` for all rows.
    hr : float
        Hazard ratio, switched vs not (yet) switched.
    ci_low, ci_high : float
        Wald 95% confidence limits of the hazard ratio, ``exp(coef +/- 1.96 se)``.
    p : float
        Wald test p-value of the coefficient.
    n_patients : int
        Patients in the fit.
    n_events : int
        Deaths in the fit.
    n_switched : int
        Patients whose covariate switched before their end of follow-up.
    n_skipped : int
        Rows skipped for a missing start or last follow-up, or no follow-up time.
    ties : str
        Handling of tied death times (lifelines fits Efron only; R's default).
    ci : str
        Kind of confidence interval.
    """

    switch_col: str
    regimen: str | None
    hr: float
    ci_low: float
    ci_high: float
    p: float
    n_patients: int
    n_events: int
    n_switched: int
    n_skipped: int
    ties: str = "efron"
    ci: str = "Wald"


def _counting_process(frame: pd.DataFrame, switch_col: str) -> tuple[pd.DataFrame, int]:
    """Split each patient's follow-up at the switch date, as R's ``tmerge`` does.

    Time 0 is ``start_1l``; follow-up ends at ``date_last_followup``, with a
    death there when ``date_death`` is set. A patient whose switch date is
    before their end of follow-up gives two rows, ``(0, s]`` with ``x = 0``
    and ``(s, T]`` with ``x = 1``; one switching on or before day 0 gives one
    row with ``x = 1``; one with no switch date, or one on or after the end of
    follow-up, gives one row with ``x = 0``.

    Parameters
    ----------
    frame : pandas.DataFrame
        Canonical registry frame (dates as ``datetime64``).
    switch_col : str
        Canonical date column at which the covariate switches to 1.

    Returns
    -------
    rows : pandas.DataFrame
        Columns ``id``, ``tstart``, ``tstop`` (days), ``death`` (bool), ``x`` (int).
    n_skipped : int
        Rows skipped: missing start or last follow-up, or last follow-up not
        after start (R's ``Surv`` rejects ``tstop <= tstart``).
    """
    start = pd.to_datetime(frame[Col.START_1L])
    end = pd.to_datetime(frame[Col.DATE_LAST_FOLLOWUP])
    stop_days = (end - start).dt.days.to_numpy(dtype=float)
    usable = np.isfinite(stop_days) & (stop_days > 0)
    switch_days = (pd.to_datetime(frame[switch_col]) - start).dt.days.to_numpy(dtype=float)[usable]
    stop_days = stop_days[usable]
    died = frame[Col.DATE_DEATH].notna().to_numpy()[usable]
    ids = np.arange(stop_days.size)

    split = np.isfinite(switch_days) & (switch_days > 0) & (switch_days < stop_days)
    switched_at_entry = np.isfinite(switch_days) & (switch_days <= 0)
    first = pd.DataFrame({
        _ID: ids,
        _START: 0.0,
        _STOP: np.where(split, switch_days, stop_days),
        _EVENT: died & ~split,
        _X: switched_at_entry.astype(int),
    })
    second = pd.DataFrame({
        _ID: ids[split],
        _START: switch_days[split],
        _STOP: stop_days[split],
        _EVENT: died[split],
        _X: 1,
    })
    rows = pd.concat([first, second], ignore_index=True).sort_values([_ID, _START], ignore_index=True)
    return rows, int((~usable).sum())


def time_dependent_cox(
    frame: pd.DataFrame, switch_col: str, *, regimen: str | None = None
) -> TDCoxResult:
    """Cox model of overall survival on a covariate switching at a date.

    Overall survival runs from ``start_1l`` to ``date_death`` (censored at
    ``date_last_followup``), in days. The single covariate is 0 until the date
    in ``switch_col`` (for instance ``date_dc_1l`` for disease control or
    ``date_response_1l`` for objective response) and 1 after it. Ties are
    handled by Efron's method, confidence intervals are Wald. This matches R::

        d <- tmerge(reg, reg, id = id, death = event(futime, dead))
        d <- tmerge(d, reg, id = id, x = tdc(switch_time))
        coxph(Surv(tstart, tstop, death) ~ x, data = d)   # ties = "efron"

    Parameters
    ----------
    frame : pandas.DataFrame
        Canonical registry frame (columns of :class:`hcc.schema.Col`).
    switch_col : str
        Canonical date column at which the covariate switches from 0 to 1.
    regimen : str, optional
        Fit only patients whose ``regimen_1l`` equals this code.

    Returns
    -------
    TDCoxResult

    Raises
    ------
    ValueError
        If no patient is left, nobody died, or the covariate never varies.

    References
    ----------
    .. [1] Therneau T, Crowson C, Atkinson E. Using time dependent covariates
       and time dependent coefficients in the Cox model. R survival vignette.
    """
    if regimen is not None:
        frame = frame.loc[frame[Col.REGIMEN_1L] == regimen]
    rows, n_skipped = _counting_process(frame, switch_col)
    n_patients = int(rows[_ID].nunique())
    n_events = int(rows[_EVENT].sum())
    where = f" for first-line {regimen}" if regimen is not None else ""
    if n_patients == 0:
        raise ValueError(f"no patient with follow-up time{where}")
    if n_events == 0:
        raise ValueError(f"no death{where}: the Cox model needs at least one event")
    if rows[_X].nunique() < 2:
        raise ValueError(f"'{switch_col}' switches for all or none of the patients{where}")

    fitter = CoxTimeVaryingFitter()
    fitter.fit(rows, event_col=_EVENT, start_col=_START, stop_col=_STOP, id_col=_ID,
               fit_options=_FIT_OPTIONS)
    summary = fitter.summary.loc[_X]
    return TDCoxResult(
        switch_col=switch_col,
        regimen=regimen,
        hr=float(summary["exp(coef)"]),
        ci_low=float(summary["exp(coef) lower 95%"]),
        ci_high=float(summary["exp(coef) upper 95%"]),
        p=float(summary["p"]),
        n_patients=n_patients,
        n_events=n_events,
        n_switched=int(rows.loc[rows[_X] == 1, _ID].nunique()),
        n_skipped=n_skipped,
    )
