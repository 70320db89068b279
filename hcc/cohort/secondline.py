"""After first line: treatment sequences, uptake of second line, and groupings for second-line survival.

Second-line regimens are kept as recorded and grouped into classes (:data:`DEFAULT_CLASSES`, which a
cohort spec can override per code). Survival statistics reuse :mod:`hcc.cohort.endpoints` and
:mod:`hcc.stats.survival` with a different grouping column; nothing here re-implements them.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from hcc.cohort.rules import Pooling, pool_rare
from hcc.cohort.endpoints import EndpointData, derive
from hcc.i18n import N_, tr
from hcc.schema import (
    ATZ_BEV, CAB, DAYS_PER_MONTH, DUR, DUR_TRE, LEN, NIV, NIV_IPI, OTHER, PEM, RAM, REG, SOR, TRIAL, Col, Endpoint,
)

#: Column added to a copy of the cohort frame to carry an ad-hoc grouping.
GROUP = "_group"
TKI = "TKI"
ANTI_VEGFR2 = N_("Anti-VEGFR2 antibody")
IMMUNOTHERAPY = N_("Immunotherapy")
TRIAL_CLASS = N_("Clinical trial")
OTHER_CLASS = "Other"
#: Default class of each second-line code; codes not listed fall in "Other".
DEFAULT_CLASSES: dict[str, str] = {
    SOR: TKI, LEN: TKI, REG: TKI, CAB: TKI,
    RAM: ANTI_VEGFR2,
    ATZ_BEV: IMMUNOTHERAPY, DUR_TRE: IMMUNOTHERAPY, DUR: IMMUNOTHERAPY, NIV: IMMUNOTHERAPY,
    NIV_IPI: IMMUNOTHERAPY, PEM: IMMUNOTHERAPY,
    TRIAL: TRIAL_CLASS, OTHER: OTHER_CLASS,
}
# Group and path labels (English here; the data carry them in the language of the computation).
NO_SECOND_LINE_DIED = N_("No second line — died")
NO_SECOND_LINE_ALIVE = N_("No second line — alive")
DIED_AFTER_SECOND = N_("Died, no third line")
ALIVE_AFTER_SECOND = N_("Alive, no third line")
#: The labels of paths that end (no further line): a Sankey puts them at the bottom of their column.
PATH_ENDS = (NO_SECOND_LINE_DIED, NO_SECOND_LINE_ALIVE, DIED_AFTER_SECOND, ALIVE_AFTER_SECOND)
GIVEN = N_("Second line given")
NOT_GIVEN = N_("No second line")
#: Default class names translated in group labels (a class a user names is shown as named; "Other"
#: stays the pooled group's own label, shown with :func:`hcc.schema.value_label`).
_CLASS_WORDS = frozenset({ANTI_VEGFR2, IMMUNOTHERAPY, TRIAL_CLASS})


def _class_label(name: str | None) -> str | None:
    return tr(name) if name in _CLASS_WORDS else name
LEVELS: tuple[str, ...] = ("regimen", "class")


def class_map(overrides: tuple[tuple[str, str], ...] = ()) -> dict[str, str]:
    """Code -> class: the defaults with the spec's overrides applied."""
    return {**DEFAULT_CLASSES, **dict(overrides)}


def second_line_label(frame: pd.DataFrame, level: str = "regimen",
                      overrides: tuple[tuple[str, str], ...] = ()) -> pd.Series:
    """Each patient's second-line regimen (as recorded) or its class; None without second line."""
    if level not in LEVELS:
        raise ValueError(f"level must be one of {LEVELS}")
    codes = frame[Col.REGIMEN_2L].where(frame[Col.START_2L].notna())
    if level == "regimen":
        return codes.where(codes.notna(), None)
    return _class_labels(codes, class_map(overrides))


def _class_labels(codes: pd.Series, classes: dict[str, str]) -> pd.Series:
    """Each code's class as a reader sees it, None where no code; looked up once per distinct code."""
    labels = {c: _class_label(classes.get(str(c), OTHER_CLASS)) for c in codes.dropna().unique()}
    return codes.map(labels).astype(object).where(codes.notna(), None)


def treatment_paths(frame: pd.DataFrame, level: str = "regimen",
                    overrides: tuple[tuple[str, str], ...] = ()) -> pd.DataFrame:
    """Counts of each first -> second -> third-line path in the cohort.

    Second step: the second-line regimen (or class), else "No second line — died / alive". Third
    step, for patients with second line: the third-line regimen (or class), else "Died, no third
    line" / "Alive, no third line"; patients without second line stop at the second step
    (``third`` is None). Returns columns ``first``, ``second``, ``third``, ``n``.
    """
    dead = frame[Col.DATE_DEATH].notna()
    second = second_line_label(frame, level, overrides)
    second = second.where(second.notna(), np.where(dead, tr(NO_SECOND_LINE_DIED), tr(NO_SECOND_LINE_ALIVE)))
    third_codes = frame[Col.REGIMEN_3L].where(frame[Col.START_3L].notna())
    if level == "class":
        third_codes = _class_labels(third_codes, class_map(overrides))
    has2 = frame[Col.START_2L].notna()
    third = pd.Series(np.where(third_codes.notna(), third_codes,
                               np.where(dead, tr(DIED_AFTER_SECOND), tr(ALIVE_AFTER_SECOND))), index=frame.index)
    third = third.where(has2, None)
    paths = pd.DataFrame({"first": frame[Col.REGIMEN_1L], "second": second, "third": third})
    return (paths.fillna({"third": ""}).groupby(["first", "second", "third"], sort=False).size()
            .rename("n").reset_index().replace({"third": {"": None}}))


@dataclass(frozen=True)
class Uptake:
    """Second-line uptake after one first-line regimen (times in months)."""

    regimen: str
    patients: int
    progressed: int
    started: int
    started_after_progression: int
    gap_median: float
    gap_q1: float
    gap_q3: float

    @property
    def share(self) -> float:
        """Proportion of progressed patients who started second line after progression."""
        return self.started_after_progression / self.progressed if self.progressed else np.nan


def uptake(frame: pd.DataFrame, regimens: tuple[str, ...]) -> tuple[Uptake, ...]:
    """Per first-line regimen: patients, progressed, started second line (all, and after a recorded
    progression), and the time from progression to second-line start: median [Q1, Q3], months."""
    out = []
    for r in regimens:
        f = frame[frame[Col.REGIMEN_1L] == r]
        progressed = f[Col.DATE_PROGRESSION_1L].notna()
        started = f[Col.START_2L].notna()
        both = progressed & started
        gap = (f.loc[both, Col.START_2L] - f.loc[both, Col.DATE_PROGRESSION_1L]).dt.days / DAYS_PER_MONTH
        q = np.percentile(gap, [50, 25, 75]) if len(gap) else (np.nan,) * 3
        out.append(Uptake(r, len(f), int(progressed.sum()), int(started.sum()), int(both.sum()),
                          float(q[0]), float(q[1]), float(q[2])))
    return tuple(out)


def derive_by_second_line(frame: pd.DataFrame, endpoint: Endpoint, first_line: str, level: str = "regimen",
                          overrides: tuple[tuple[str, str], ...] = ()
                          ) -> tuple[EndpointData, tuple[str, ...], Pooling | None]:
    """An endpoint within one first-line regimen, grouped by second-line regimen or class.

    Returns the endpoint data, its groups ordered by size (largest first), and what was pooled as
    "Other" to keep at most :data:`hcc.cohort.rules.MAX_GROUPS` groups (None when nothing was; the count
    is checked before any per-group work, see :func:`hcc.cohort.rules.pool_rare`).
    """
    f = frame[frame[Col.REGIMEN_1L] == first_line]
    labels = second_line_label(f, level, overrides)
    labels, pooling = pool_rare(labels, 0, N_("second-line regimens") if level == "regimen" else N_("second-line classes"))
    labelled = f.assign(**{GROUP: labels})
    data = derive(labelled[labelled[GROUP].notna()], endpoint, group_col=GROUP)
    counts = pd.Series(data.group).value_counts()
    return data, tuple(str(g) for g in counts.index), pooling


def derive_by_second_line_given(frame: pd.DataFrame, endpoint: Endpoint = Endpoint.PPS,
                                first_line: str | None = None) -> tuple[EndpointData, tuple[str, ...]]:
    """An endpoint (PPS by default) split by whether second line was given, for one first-line
    regimen or all. Descriptive: receiving second line is itself an outcome of surviving."""
    f = frame if first_line is None else frame[frame[Col.REGIMEN_1L] == first_line]
    given, not_given = tr(GIVEN), tr(NOT_GIVEN)
    labelled = f.assign(**{GROUP: np.where(f[Col.START_2L].notna(), given, not_given)})
    return derive(labelled, endpoint, group_col=GROUP), (given, not_given)
