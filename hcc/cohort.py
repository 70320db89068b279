"""Cohort rules: which patients enter the analysis, with an ordered attrition log.

The study's main cohort excludes patients with concomitant locoregional therapy (LRT), inter-line
LRT, or clinical-trial entry after first line. A patient whose flag is blank is excluded by that rule
too (eligibility cannot be confirmed), under its own reason, so the count is visible.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, fields
from typing import Callable

import pandas as pd

from hcc.errors import EmptyCohortError, SpecError
from hcc.registry import Registry, order_regimens
from hcc.schema import Col


@dataclass(frozen=True)
class CohortSpec:
    """Which patients to analyse.

    Attributes
    ----------
    regimens : first-line regimen codes to compare; empty = every regimen in the registry.
    exclude_concomitant_lrt : drop patients given locoregional therapy with first line.
    exclude_interline_lrt : drop patients given locoregional therapy between first and second line.
    exclude_trial_after_1l : drop patients who entered a clinical trial after first line.
    """

    regimens: tuple[str, ...] = ()
    exclude_concomitant_lrt: bool = False
    exclude_interline_lrt: bool = False
    exclude_trial_after_1l: bool = False

    def to_json(self) -> str:
        """JSON text of the spec (the format of ``--spec SPEC.json``)."""
        return json.dumps({**asdict(self), "regimens": list(self.regimens)}, indent=2)

    @classmethod
    def from_dict(cls, data: dict) -> "CohortSpec":
        """Build a spec from parsed JSON; unknown keys are an error, not ignored."""
        names = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - names)
        if unknown:
            raise SpecError(f"unknown cohort setting(s): {', '.join(unknown)}; "
                            f"allowed: {', '.join(sorted(names))}")
        values = dict(data)
        if "regimens" in values:
            if not isinstance(values["regimens"], (list, tuple)):
                raise SpecError("'regimens' must be a list of regimen codes, e.g. [\"SOR\", \"LEN\"]")
            values["regimens"] = tuple(str(r) for r in values["regimens"])
        for key in names - {"regimens"}:
            if key in values and not isinstance(values[key], bool):
                raise SpecError(f"'{key}' must be true or false")
        return cls(**values)

    @classmethod
    def from_json(cls, text: str) -> "CohortSpec":
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise SpecError(f"the cohort spec is not valid JSON ({exc.msg}, line {exc.lineno})") from None
        if not isinstance(data, dict):
            raise SpecError("the cohort spec must be a JSON object")
        return cls.from_dict(data)


FULL = "full"
MAIN = "main"
PRESETS: dict[str, CohortSpec] = {
    FULL: CohortSpec(),
    MAIN: CohortSpec(exclude_concomitant_lrt=True, exclude_interline_lrt=True, exclude_trial_after_1l=True),
}
PRESET_LABELS: dict[str, str] = {FULL: "Full cohort", MAIN: "Main cohort (study)"}


@dataclass(frozen=True)
class AttritionStep:
    """One rule's effect: patients removed (overall and per regimen) and patients remaining."""

    rule: str
    excluded: int
    remaining: int
    excluded_by_regimen: dict[str, int]


@dataclass(frozen=True, eq=False)
class Cohort:
    """Patients who pass the spec, with the attrition log in the order the rules were applied."""

    spec: CohortSpec
    frame: pd.DataFrame
    attrition: tuple[AttritionStep, ...]
    regimens: tuple[str, ...]

    @property
    def n(self) -> int:
        return len(self.frame)

    def by_regimen(self) -> dict[str, int]:
        counts = self.frame[Col.REGIMEN_1L].value_counts()
        return {r: int(counts.get(r, 0)) for r in self.regimens}

    def summary_line(self, label: str) -> str:
        """E.g. ``Main cohort (study) · SOR 210 · LEN 220 · ATZ_BEV 182`` for figure captions."""
        return " · ".join([label] + [f"{r} {k}" for r, k in self.by_regimen().items()])


#: (label, column the rule reads or None, mask of patients the rule removes)
Rule = tuple[str, str | None, Callable[[pd.DataFrame], pd.Series]]


def _flag_rules(column: str, what: str) -> list[Rule]:
    return [
        (f"Excluded: {what}", column, lambda f: f[column].fillna(False).astype(bool)),
        (f"Excluded: {what} not recorded", column, lambda f: f[column].isna()),
    ]


def _rules(spec: CohortSpec) -> list[Rule]:
    rules: list[Rule] = []
    if spec.regimens:
        chosen = set(spec.regimens)
        rules.append(("Excluded: first-line regimen not selected", None, lambda f: ~f[Col.REGIMEN_1L].isin(chosen)))
    if spec.exclude_concomitant_lrt:
        rules += _flag_rules(Col.CONCOMITANT_LRT, "concomitant locoregional therapy")
    if spec.exclude_interline_lrt:
        rules += _flag_rules(Col.INTERLINE_LRT, "inter-line locoregional therapy")
    if spec.exclude_trial_after_1l:
        rules += _flag_rules(Col.TRIAL_AFTER_1L, "clinical trial after first line")
    return rules


def apply_to_registry(registry: Registry, spec: CohortSpec) -> Cohort:
    """:func:`apply_spec` on a registry, with the rows that failed validation as the first steps.

    The log then starts at "Rows in the file", so every row of the file is accounted for.
    """
    cohort = apply_spec(registry.frame, spec)
    if registry.excluded.empty:
        return cohort
    steps = [AttritionStep("Rows in the file", 0, registry.rows_read, {})]
    remaining = registry.rows_read
    for reason, count in registry.excluded["reason"].value_counts().items():
        remaining -= int(count)
        steps.append(AttritionStep(f"Excluded at validation: {reason}", int(count), remaining, {}))
    return Cohort(spec=cohort.spec, frame=cohort.frame, attrition=tuple(steps) + cohort.attrition,
                  regimens=cohort.regimens)


def apply_spec(frame: pd.DataFrame, spec: CohortSpec) -> Cohort:
    """Apply the spec's rules in order, logging each rule's exclusions.

    Parameters
    ----------
    frame : canonical registry rows (``Registry.frame``).
    spec : the cohort rules.

    Returns
    -------
    Cohort. The first attrition step is the registry itself ("Patients in the registry");
    rules that exclude nobody are still listed (0 excluded), so the log reads the same on every file.

    Raises
    ------
    EmptyCohortError
        If no patient remains.
    """
    regimens_all = order_regimens(frame[Col.REGIMEN_1L])
    unknown = [r for r in spec.regimens if r not in regimens_all]
    if unknown:
        raise SpecError(f"regimen(s) {', '.join(unknown)} not in this registry "
                        f"(it has {', '.join(regimens_all)})")
    current = frame
    steps = [AttritionStep("Patients in the registry", 0, len(frame), {})]
    for label, column, rule in _rules(spec):
        if column is not None and frame[column].isna().all():
            # A file without the flag cannot be filtered on it; say so instead of excluding everyone.
            if not steps[-1].rule.startswith(f"Not applied ({column}"):
                steps.append(AttritionStep(f"Not applied ({column} has no values): {label}", 0, len(current), {}))
            continue
        mask = rule(current).to_numpy(dtype=bool)
        removed = current[mask]
        by_reg = removed[Col.REGIMEN_1L].value_counts()
        current = current[~mask]
        steps.append(AttritionStep(label, int(mask.sum()), len(current),
                                   {r: int(by_reg.get(r, 0)) for r in regimens_all}))
    if current.empty:
        raise EmptyCohortError("No patient meets these cohort rules. Relax a rule or choose more regimens.")
    regimens = tuple(r for r in regimens_all if r in set(current[Col.REGIMEN_1L]))
    return Cohort(spec=spec, frame=current.reset_index(drop=True), attrition=tuple(steps), regimens=regimens)
