"""Cohort rules: which patients enter the analysis, with an ordered attrition log.

The study's main cohort excludes patients with concomitant locoregional therapy (LRT), inter-line
LRT, or clinical-trial entry after first line. Every rule that reads a column also excludes the
patients whose value is blank (eligibility cannot be confirmed), under its own "not recorded"
reason, so the count is visible; a rule whose column is absent from the file is listed as not
applied instead of excluding everyone.

The same :class:`CohortSpec` travels as JSON (``--spec``, "Download spec") and as URL query
parameters (a shared link reopens the same cohort).
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import asdict, dataclass, field, fields
from datetime import date
from typing import TYPE_CHECKING, Any, Callable

import numpy as np

from hcc.cohort.choices import FULL, MAIN
from hcc.errors import EmptyCohortError, SpecError
from hcc.i18n import N_, tr, trc, trn
from hcc.schema import (
    ALBI_GRADES, BCLC_STAGES, CHILD_PUGH_CLASSES, ETIOLOGIES, OTHER_REGIMEN, Col, regimen_order, value_label,
)

# pandas is imported by the functions that read a registry frame: the spec, presets, names and attrition
# steps (all the SQL engine and `analyze --stats km`'s fast path need) load without it (~0.45 s).
if TYPE_CHECKING:
    import pandas as pd

    from hcc.ingest.registry import Registry

#: The choices of a yes/no rule (values kept in English; show them with ``tr``).
TRISTATE = {None: N_("any"), True: N_("present only"), False: N_("absent only")}
#: Ages (years) a cohort rule may use; the sidebar's age inputs have the same bounds, so a link or
#: spec outside them is refused with a message instead of being dropped by the widget.
AGE_LIMITS_YEARS: tuple[float, float] = (0.0, 120.0)
#: Earliest first-line start date a rule may name (the sidebar's date inputs start there).
EARLIEST_START = "1990-01-01"


@dataclass(frozen=True)
class CohortSpec:
    """Which patients to analyse. Every field's default means "no restriction".

    Attributes
    ----------
    regimens : first-line regimen codes to compare (after grouping); empty = all.
    other_below : regimens with fewer patients than this are grouped as "Other" (0 = never).
    exclude_concomitant_lrt : drop patients given locoregional therapy with first line.
    exclude_interline_lrt : drop patients given locoregional therapy between first and second line.
    exclude_trial_after_1l : drop patients who entered a clinical trial after first line.
    start_from, start_to : first-line start date range (ISO ``YYYY-MM-DD``, inclusive); None = open.
    centers, child_pugh, albi, bclc_stages, etiologies : allowed values; empty = all.
    ecog_ps : allowed ECOG performance statuses; empty = all.
    with_mvi, with_ehs : True = only with macrovascular invasion / extrahepatic spread, False = only without,
        None = any.
    afp_below, afp_at_least : keep AFP < x ng/mL, or AFP >= x ng/mL; None = any.
    age_min, age_max : age range in years, inclusive; None = open.
    second_line_classes : (second-line code, class) pairs overriding :data:`hcc.cohort.secondline.DEFAULT_CLASSES`
        (grouping only; no patient is excluded by it).
    """

    regimens: tuple[str, ...] = ()
    other_below: int = 0
    exclude_concomitant_lrt: bool = False
    exclude_interline_lrt: bool = False
    exclude_trial_after_1l: bool = False
    start_from: str | None = None
    start_to: str | None = None
    centers: tuple[str, ...] = ()
    child_pugh: tuple[str, ...] = ()
    albi: tuple[str, ...] = ()
    bclc_stages: tuple[str, ...] = ()
    ecog_ps: tuple[int, ...] = ()
    etiologies: tuple[str, ...] = ()
    with_mvi: bool | None = None
    with_ehs: bool | None = None
    afp_below: float | None = None
    afp_at_least: float | None = None
    age_min: float | None = None
    age_max: float | None = None
    second_line_classes: tuple[tuple[str, str], ...] = ()

    def __post_init__(self) -> None:
        for code, klass in self.second_line_classes:
            if not code or not klass or any(ch in code + klass for ch in ",:"):
                raise SpecError(tr("second-line class '{code}: {klass}': code and class must be non-empty and "
                                   "contain no ',' or ':'", code=code, klass=klass))
        for label, values, allowed in ((N_("Child-Pugh class"), self.child_pugh, CHILD_PUGH_CLASSES),
                                       (N_("ALBI grade"), self.albi, ALBI_GRADES),
                                       (N_("BCLC stage"), self.bclc_stages, BCLC_STAGES),
                                       (N_("Etiology"), self.etiologies, ETIOLOGIES)):
            bad = [v for v in values if v not in allowed]
            if bad:
                raise SpecError(tr("{what} {values} not allowed; use {allowed}", what=tr(label),
                                   values=", ".join(map(str, bad)), allowed=", ".join(allowed)))
        if any(e not in range(5) for e in self.ecog_ps):
            raise SpecError(tr("ECOG performance status (ecog_ps) must be 0 to 4"))
        for name in ("start_from", "start_to"):
            value = getattr(self, name)
            if value is not None:
                try:
                    date.fromisoformat(value)
                except ValueError:
                    raise SpecError(tr("'{name}' must be a date YYYY-MM-DD, not {value}", name=name,
                                       value=repr(value))) from None
                if value < EARLIEST_START:
                    raise SpecError(tr("'{name}' {value} is before {earliest}, the earliest date allowed", name=name,
                                       value=value, earliest=EARLIEST_START))
        if self.start_from and self.start_to and self.start_from > self.start_to:
            raise SpecError(tr("'start_from' is after 'start_to'"))
        low, high = AGE_LIMITS_YEARS
        for name in ("age_min", "age_max"):
            value = getattr(self, name)
            if value is not None and not low <= value <= high:
                raise SpecError(tr("'{name}' {value} is outside {low} to {high} years", name=name, value=f"{value:g}",
                                   low=f"{low:g}", high=f"{high:g}"))
        if self.age_min is not None and self.age_max is not None and self.age_min > self.age_max:
            raise SpecError(tr("'age_min' is above 'age_max'"))
        for name in ("afp_below", "afp_at_least"):
            value = getattr(self, name)
            if value is not None and not 0 <= value < math.inf:
                raise SpecError(tr("'{name}' must be 0 ng/mL or more, not {value}", name=name, value=f"{value:g}"))
        if self.other_below < 0:
            raise SpecError(tr("'other_below' must be 0 or more"))

    # -- serialisation --------------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        out = {k: list(v) if isinstance(v, tuple) else v for k, v in asdict(self).items()}
        out["second_line_classes"] = dict(self.second_line_classes)
        return out

    def to_json(self) -> str:
        """JSON text of the spec (the format of ``--spec SPEC.json`` and "Download spec")."""
        return json.dumps(self.to_dict(), indent=2)

    @classmethod
    def from_dict(cls, data: dict) -> "CohortSpec":
        """Build a spec from parsed JSON; unknown keys and wrong types are errors, not ignored."""
        kinds = {f.name: f.type for f in fields(cls)}
        unknown = sorted(set(data) - set(kinds))
        if unknown:
            raise SpecError(tr("unknown cohort setting(s): {unknown}; allowed: {allowed}", unknown=", ".join(unknown),
                               allowed=", ".join(kinds)))
        values: dict[str, Any] = {}
        for key, value in data.items():
            try:
                values[key] = _coerce(key, kinds[key], value)
            except (ValueError, TypeError, OverflowError):  # whatever slips past _coerce's checks
                raise SpecError(tr("'{key}' has a value that cannot be read: {value}", key=key,
                                   value=repr(str(value)[:40]))) from None
        return cls(**values)

    @classmethod
    def from_json(cls, text: str) -> "CohortSpec":
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise SpecError(tr("the cohort spec is not valid JSON ({error}, line {line})", error=exc.msg,
                               line=exc.lineno)) from None
        except RecursionError:  # ~1,000 nested brackets overflow Python's parser
            raise SpecError(tr("the cohort spec is nested far too deeply to be a cohort spec")) from None
        except ValueError:  # an integer of more than 4,300 digits (Python's limit on int from text)
            raise SpecError(tr("the cohort spec has a number too long to be read")) from None
        if not isinstance(data, dict):
            raise SpecError(tr("the cohort spec must be a JSON object"))
        return cls.from_dict(data)

    def to_query(self) -> dict[str, str]:
        """URL query parameters for the fields that differ from the default (lists comma-joined)."""
        default = CohortSpec()
        out = {}
        for f in fields(self):
            value = getattr(self, f.name)
            if value == getattr(default, f.name):
                continue
            if f.type.startswith("tuple[tuple"):
                out[f.name] = ",".join(f"{code}:{klass}" for code, klass in value)
            elif isinstance(value, tuple):
                out[f.name] = ",".join(str(v) for v in value)
            elif isinstance(value, bool):
                out[f.name] = "yes" if value else "no"
            else:
                out[f.name] = f"{value:g}" if isinstance(value, float) else str(value)
        return out

    @classmethod
    def from_query(cls, params: dict[str, str]) -> "CohortSpec":
        """Inverse of :meth:`to_query`; parameters that are not spec fields are ignored."""
        kinds = {f.name: f.type for f in fields(cls)}
        data: dict[str, Any] = {}
        for key, text in params.items():
            if key not in kinds:
                continue
            kind = kinds[key]
            if kind.startswith("tuple[tuple"):
                data[key] = [v.split(":", 1) for v in text.split(",") if v != ""]
            elif kind.startswith("tuple"):
                data[key] = [v for v in text.split(",") if v != ""]
            elif "bool" in kind:
                data[key] = {"yes": True, "no": False}.get(text.lower(), text)
            else:
                data[key] = text
        return cls.from_dict(data)


#: A number as a spec or link may write it: ASCII digits only (``str.isdigit`` and ``float`` also
#: accept "²", "١٢" or "1_000", which are not what a user means and once crashed the link reader).
_WHOLE = re.compile(r"[0-9]+")
_DECIMAL = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")


def _whole_number(key: str, value: Any) -> int:
    """A whole number from JSON (an int, or a float with no fraction) or a link (ASCII digits only)."""
    if isinstance(value, bool):
        raise SpecError(tr("'{key}' must be a whole number, not {value}", key=key, value=value))
    if isinstance(value, int):
        return value
    if isinstance(value, float) and math.isfinite(value) and value.is_integer():
        return int(value)
    if isinstance(value, str) and _WHOLE.fullmatch(value.strip()):
        return int(value.strip())
    raise SpecError(tr("'{key}' must be a whole number, not {value}", key=key, value=repr(str(value)[:40])))


def _number(key: str, value: Any) -> float:
    """A finite number from JSON (int or float) or a link (an ASCII decimal such as 400 or 62.5)."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        number = float(value)
    elif isinstance(value, str) and _DECIMAL.fullmatch(value.strip()):
        number = float(value)
    else:
        raise SpecError(tr("'{key}' must be a number, not {value}", key=key, value=repr(str(value)[:40])))
    if not math.isfinite(number):
        raise SpecError(tr("'{key}' must be a finite number", key=key))
    return number


def _coerce(key: str, kind: str, value: Any) -> Any:
    """Check and convert one JSON / query value to the field's type (``kind`` is its annotation);
    a value of the wrong kind is a SpecError naming the field."""
    if value is None:
        if "None" in kind:
            return None
        raise SpecError(tr("'{key}' cannot be empty", key=key))
    if kind.startswith("tuple[tuple"):
        pairs = value.items() if isinstance(value, dict) else value
        try:
            out = tuple((code, klass) for code, klass in pairs)
        except (TypeError, ValueError):
            raise SpecError(tr("'{key}' must map codes to classes, e.g. {{\"REG\": \"TKI\"}}", key=key)) from None
        if not all(isinstance(x, str) for pair in out for x in pair):
            raise SpecError(tr("'{key}' must map codes to classes as text, e.g. {{\"REG\": \"TKI\"}}", key=key))
        return out
    if kind.startswith("tuple"):
        if not isinstance(value, (list, tuple)):
            raise SpecError(tr("'{key}' must be a list, e.g. [\"A\", \"B\"]", key=key))
        if "int" in kind:
            return tuple(_whole_number(key, v) for v in value)
        if not all(isinstance(v, (str, int, float)) and not isinstance(v, bool) for v in value):
            raise SpecError(tr("'{key}' must be a list of names or codes, e.g. [\"A\", \"B\"]", key=key))
        return tuple(str(v) for v in value)
    if "bool" in kind:
        if not isinstance(value, bool):
            raise SpecError(tr("'{key}' must be true or false", key=key))
        return value
    if kind == "int":
        return _whole_number(key, value)
    if "float" in kind:
        return _number(key, value)
    return str(value)


PRESETS: dict[str, CohortSpec] = {
    FULL: CohortSpec(),
    MAIN: CohortSpec(exclude_concomitant_lrt=True, exclude_interline_lrt=True, exclude_trial_after_1l=True),
}
#: The presets' names (English; show them with ``tr``, as :func:`cohort_name` does).
PRESET_LABELS: dict[str, str] = {FULL: N_("Full cohort"), MAIN: N_("Main cohort (study)")}
#: The words :func:`dropped_note` names what was dropped with (singular, plural).
_DROPPED_WORDS: dict[str, tuple[str, str]] = {
    "regimen": (N_("Regimen"), N_("Regimens")),
    "treating center": (N_("Treating center"), N_("Treating centers")),
}


def _or_list(items: list[str]) -> str:
    """``a``, ``a or b``, ``a, b or c`` in the current language."""
    if len(items) == 1:
        return items[0]
    return tr("{items} or {last}", items=trc("list separator", ", ").join(items[:-1]), last=items[-1])


def dropped_note(what: str, values: list[str], other_below: int = 0) -> str:
    """What the sidebar says when a link (or a newly loaded file) names regimens or centers that the
    registry does not have: they are left out of the rules, never silently. ``other_below``: the
    rare-regimen threshold in force (a chosen regimen may have been pooled as Other)."""
    shown = ", ".join(values[:5])
    if len(values) > 5:
        shown = tr("{values} and {n} more", values=shown, n=len(values) - 5)
    many = len(values) > 1
    pooled = (tr(" (regimens with fewer than {n} patients are pooled as Other)", n=other_below)
              if other_below else "")
    words = _DROPPED_WORDS.get(what)
    label = tr(words[many]) if words else what.capitalize() + ("s" if many else "")
    if many:
        return tr("{what} {values} are not in this registry{pooled}, so they were left out of the cohort rules.",
                  what=label, values=shown, pooled=pooled)
    return tr("{what} {values} is not in this registry{pooled}, so it was left out of the cohort rules.",
              what=label, values=shown, pooled=pooled)


def preset_of(spec: CohortSpec) -> str | None:
    """The preset key a spec equals, if any."""
    return next((k for k, v in PRESETS.items() if v == spec), None)


#: The attrition step of the regimen choice (its per-regimen counts list every regimen of the registry).
REGIMEN_RULE = N_("Excluded: first-line regimen not selected")
#: :attr:`AttritionStep.kind` of the steps :func:`cohort_name` reads (the step texts are in the
#: language of the computation; these are not).
REGIMEN_STEP = "regimen"
NOT_APPLIED_STEP = "not_applied"
#: Short clinical words for a column whose absence stops a rule (the cohort name's "not applied" part).
_MISSING_COLUMN_WORDS: dict[str, str] = {
    Col.CONCOMITANT_LRT: N_("concomitant locoregional-therapy"),
    Col.INTERLINE_LRT: N_("inter-line locoregional-therapy"),
    Col.TRIAL_AFTER_1L: N_("trial-after-first-line"),
}
#: Longest rule description kept in a figure subtitle before the rest is counted as "+ N more".
SHORT_NAME_CHARS = 60


def not_applied_label(rule: "Rule") -> str:
    """The attrition step of a rule whose column has no values in the file (both engines write it)."""
    return tr("Not applied ({column} has no values): {rule}", column=rule.column, rule=rule.label)


def _range(low: Any, high: Any, unit: str = "") -> str:
    if low is not None and high is not None:
        return f"{low:g}–{high:g}{unit}"
    return f"≥ {low:g}{unit}" if low is not None else f"≤ {high:g}{unit}"


def _rule_words(spec: CohortSpec, base: CohortSpec, regimens_all: tuple[str, ...]) -> tuple[list[str], list[str]]:
    """What ``spec`` adds to its base preset, in short clinical words: (restrictions, removals)."""
    add: list[str] = []
    drop: list[str] = []
    if spec.regimens:
        removed = [r for r in regimens_all if r not in spec.regimens]
        if removed and len(removed) <= len(spec.regimens):
            drop.append(tr("without {regimens}", regimens=", ".join(removed)))
        elif removed or not regimens_all:  # every regimen chosen restricts nobody: nothing to say
            add.append(tr("{regimens} only", regimens=", ".join(spec.regimens)))
    for flag, words in (("exclude_concomitant_lrt", tr("no concomitant LRT")),
                        ("exclude_interline_lrt", tr("no inter-line LRT")),
                        ("exclude_trial_after_1l", tr("no trial after first line"))):
        if getattr(spec, flag) and not getattr(base, flag):
            add.append(words)
    if spec.start_from or spec.start_to:
        add.append(tr("started {start} to {end}", start=spec.start_from or "…", end=spec.start_to or "…"))
    if spec.centers:
        add.append(trn("center {centers}", "centers {centers}", len(spec.centers), centers=", ".join(spec.centers)))
    for values, words in ((spec.child_pugh, "Child-Pugh"), (spec.albi, "ALBI"), (spec.bclc_stages, "BCLC"),
                          (tuple(str(e) for e in spec.ecog_ps), "ECOG")):
        if values:
            add.append(f"{words} {', '.join(values)}")
    if spec.etiologies:
        add.append(", ".join(value_label(Col.ETIOLOGY, e) for e in spec.etiologies))
    if spec.with_mvi is not None:
        add.append(tr("with MVI") if spec.with_mvi else tr("without MVI"))
    if spec.with_ehs is not None:
        add.append(tr("with extrahepatic spread") if spec.with_ehs else tr("without extrahepatic spread"))
    if spec.afp_below is not None:
        add.append(f"AFP < {spec.afp_below:g}")
    if spec.afp_at_least is not None:
        add.append(f"AFP ≥ {spec.afp_at_least:g}")
    if spec.age_min is not None or spec.age_max is not None:
        add.append(tr("age {range}", range=_range(spec.age_min, spec.age_max)))
    if spec.other_below:
        add.append(tr("regimens < {n} patients as Other", n=spec.other_below))
    if spec.second_line_classes:
        add.append(tr("own second-line classes"))
    return add, drop


@dataclass(frozen=True)
class CohortName:
    """What a cohort is called everywhere (sidebar, captions, figure subtitles, report, deck, methods
    text, CLI ``cohort.label``), built by :func:`cohort_name` only.

    ``base`` is the preset the rules start from; ``additions`` / ``removals`` what was changed, in short
    clinical words; ``not_applied`` the rules that could not be applied because their column has no
    values (``missing`` names those columns in words), out of ``rules_total`` rules.
    """

    base: str
    additions: tuple[str, ...] = ()
    removals: tuple[str, ...] = ()
    not_applied: tuple[str, ...] = ()
    missing: tuple[str, ...] = ()
    rules_total: int = 0

    @property
    def preset_exactly(self) -> bool:
        """True when the cohort is a preset with every one of its rules applied."""
        return not (self.additions or self.removals or self.not_applied)

    def _changes(self, limit: int | None) -> str:
        """" + a, b, without c": additions after " + ", removals after ", "; past ``limit`` characters
        the rest is counted ("(+ 2 more rules)")."""
        items = list(self.additions) + list(self.removals)
        text = ""
        for i, item in enumerate(items):
            if limit is not None and i and len(text) + len(item) > limit:
                rest = len(items) - i
                return text + trn(" (+ {n} more rule)", " (+ {n} more rules)", rest)
            text += (" + " if i == 0 and self.additions else trc("list separator", ", ")) + item
        return text

    @property
    def caveat(self) -> str:
        """E.g. "2 of 3 rules not applied: no locoregional-therapy columns" ("" when every rule applied)."""
        if not self.not_applied:
            return ""
        k = len(self.not_applied)
        missing = list(self.missing)
        lrt = [_MISSING_COLUMN_WORDS[Col.CONCOMITANT_LRT], _MISSING_COLUMN_WORDS[Col.INTERLINE_LRT]]
        if all(m in missing for m in lrt):
            missing = [N_("locoregional-therapy")] + [m for m in missing if m not in lrt]
        words = _or_list([tr(m) for m in missing])
        not_applied = trn("{k} of {n} rule not applied", "{k} of {n} rules not applied", self.rules_total, k=k)
        columns = trn("no {words} column", "no {words} columns", len(self.missing), words=words)
        return tr("{rules_not_applied}: {columns}", rules_not_applied=not_applied, columns=columns)

    @property
    def full(self) -> str:
        """The whole name, e.g. "Main cohort (study) + Child-Pugh A, without LEN" (report, methods, JSON)."""
        return tr(self.base) + self._changes(None) + (f" — {self.caveat}" if self.caveat else "")

    @property
    def short(self) -> str:
        """:attr:`full` with a long list of changes cut to "(+ N more rules)" (figure subtitles,
        captions); the rules not applied are always kept."""
        return tr(self.base) + self._changes(SHORT_NAME_CHARS) + (f" — {self.caveat}" if self.caveat else "")

    @property
    def warning(self) -> str:
        """What pages show as a warning when a rule was not applied ("" otherwise)."""
        if not self.not_applied:
            return ""
        what = trc("list joiner", " or ").join(self.not_applied)
        if len(self.not_applied) > 1:
            return tr("{cohort}: {caveat}. Patients with {what} are therefore still in the cohort. Map the columns on "
                      "the Data page (or in the mapping file) to apply these rules.",
                      cohort=tr(self.base), caveat=self.caveat, what=what)
        return tr("{cohort}: {caveat}. Patients with {what} are therefore still in the cohort. Map the column on "
                  "the Data page (or in the mapping file) to apply this rule.",
                  cohort=tr(self.base), caveat=self.caveat, what=what)


def cohort_name(spec: CohortSpec, attrition: tuple["AttritionStep", ...] = ()) -> CohortName:
    """The one truthful name of a cohort: the preset's name only when every one of its rules was
    applied; otherwise the preset it starts from, what was changed (in short clinical words) and
    which rules could not be applied (from the ``attrition`` log's "Not applied" steps)."""
    key = preset_of(spec)
    if key is None:
        key = MAIN if all(getattr(spec, f) for f in ("exclude_concomitant_lrt", "exclude_interline_lrt",
                                                      "exclude_trial_after_1l")) else FULL
    base = PRESETS[key]
    regimens_all: tuple[str, ...] = ()
    for step in attrition:
        if step.kind == REGIMEN_STEP:
            regimens_all = tuple(step.excluded_by_regimen)
    additions, removals = _rule_words(spec, base, regimens_all)
    skipped = {step.rule_index for step in attrition if step.kind == NOT_APPLIED_STEP}
    own = rules(spec)
    missed = [r for i, r in enumerate(own) if i in skipped]
    missing = tuple(dict.fromkeys(_MISSING_COLUMN_WORDS.get(r.column, r.what) for r in missed))
    return CohortName(PRESET_LABELS[key], tuple(additions), tuple(removals),
                      tuple(r.what for r in missed), missing, len(own))


def preset_rules_blocked(mapped: set[str] | frozenset[str], preset: str = MAIN) -> tuple[tuple[str, str], ...]:
    """The preset's rules that an upload cannot apply because no column is mapped to theirs:
    (contract column, what the rule excludes), in the order the rules run (Data page)."""
    return tuple((r.column, r.what) for r in rules(PRESETS[preset])
                 if r.column is not None and r.column not in mapped)


@dataclass(frozen=True)
class AttritionStep:
    """One rule's effect: patients removed (overall and per regimen) and patients remaining.

    ``rule`` is the step's text in the language of the computation; ``kind`` says what the step is
    whatever the language (:data:`REGIMEN_STEP`, :data:`NOT_APPLIED_STEP`, else ""), and
    ``rule_index`` which of :func:`rules`' rules it belongs to (-1: none).
    """

    rule: str
    excluded: int
    remaining: int
    excluded_by_regimen: dict[str, int]
    kind: str = field(default="", compare=False)
    rule_index: int = field(default=-1, compare=False)

    @property
    def not_applied(self) -> bool:
        """True for a rule listed as not applied (its column has no values)."""
        return self.kind == NOT_APPLIED_STEP

    @property
    def detail(self) -> str:
        """The step's text without its "Excluded: " prefix (in the current language), for a flow
        diagram that writes the prefix itself."""
        prefix = tr("Excluded: {what}", what="")
        return self.rule[len(prefix):] if self.rule.startswith(prefix) else self.rule


class _CopiedWhenRead:
    """:attr:`Cohort.frame`: the frame given, else the cohort's rows copied out of the registry the
    first time it is read (a data descriptor, so that the frozen dataclass's ``__init__`` and
    ``dataclasses.replace`` still take a ``frame``)."""

    def __get__(self, cohort: "Cohort | None", owner: type | None = None) -> pd.DataFrame | None:
        if cohort is None:
            return None  # the field's default: no frame given
        frame = cohort.__dict__.get("_frame")
        if frame is None:
            frame = cohort.index.rows_frame(cohort.rows, cohort.spec.other_below)
            cohort.__dict__["_frame"] = frame
        return frame

    def __set__(self, cohort: "Cohort", frame: pd.DataFrame | None) -> None:
        cohort.__dict__["_frame"] = frame
        cohort.__dict__["_given"] = frame is not None


@dataclass(frozen=True, eq=False)
class Cohort:
    """Patients who pass the spec, with the attrition log in the order the rules were applied, and the
    regimens pooled as "Other" (``other_below`` and the :data:`MAX_GROUPS` cap), if any.

    As :func:`apply_spec` makes it, a cohort is its patients' positions in the registry (``rows``,
    ascending) in a registry prepared for cohort rules (``index``, :class:`CohortIndex`), with its
    patients per regimen (``n_by_regimen``); its own rows (:attr:`frame`) are copied out of the
    registry only when first read (the Survival page never reads them: its endpoints are derived
    once per registry, :func:`hcc.analysis.analyze_endpoint`). A cohort given a ``frame`` (e.g.
    ``dataclasses.replace(cohort, frame=...)``) is that frame's patients.
    """

    spec: CohortSpec
    attrition: tuple[AttritionStep, ...]
    regimens: tuple[str, ...]
    pooling: "Pooling | None" = None
    frame: pd.DataFrame = _CopiedWhenRead()  # type: ignore[assignment]
    rows: np.ndarray | None = field(default=None, kw_only=True)
    index: "CohortIndex | None" = field(default=None, kw_only=True)
    n_by_regimen: dict[str, int] | None = field(default=None, kw_only=True)

    @property
    def in_registry(self) -> bool:
        """True when the cohort is ``rows`` of ``index``'s registry (not a frame given)."""
        return not self.__dict__.get("_given") and self.rows is not None

    @property
    def n(self) -> int:
        return len(self.rows) if self.in_registry else len(self.frame)

    def by_regimen(self) -> dict[str, int]:
        if self.in_registry:
            return {r: self.n_by_regimen.get(r, 0) for r in self.regimens}
        counts = self.frame[Col.REGIMEN_1L].value_counts()
        return {r: int(counts.get(r, 0)) for r in self.regimens}

    @property
    def name(self) -> CohortName:
        """The cohort's truthful name (:func:`cohort_name`), "not applied" rules included."""
        return cohort_name(self.spec, self.attrition)

    def summary_line(self, label: str | None = None, *, full: bool = False) -> str:
        """E.g. ``Main cohort (study) · SOR 210 · LEN 220 · ATZ_BEV 182`` for figure captions
        (the short name; ``full=True``: the whole name, for the report)."""
        name = label or (self.name.full if full else self.name.short)
        return " · ".join([name] + [f"{r} {k}" for r, k in self.by_regimen().items()])


@dataclass(frozen=True)
class Keep:
    """Who stays under a cohort rule, written as data so that one definition serves both engines:
    :func:`keep_mask` reads it in pandas, :func:`hcc.engine.keep_sql` in SQL.

    ``op`` is one of ``"in"`` (``column`` in ``values``), ``"equals"`` (``column == values[0]``),
    ``"between"`` (``values[0] <= column <= values[1]``, either bound None = open; ISO date strings
    for date columns), ``"below"`` (``column < values[0]``) and ``"at_least"`` (``column >=
    values[0]``). A blank value never stays (SQL: NULL is not TRUE).
    """

    column: str
    op: str
    values: tuple = ()


def keep_mask(keep: Keep, frame: pd.DataFrame) -> pd.Series:
    """True for the rows of ``frame`` that stay under ``keep`` (False where the value is blank)."""
    import pandas as pd  # noqa: PLC0415  (see the imports)

    col = frame[keep.column]
    if keep.op == "in":
        kept = col.isin(keep.values)
    elif keep.op == "equals":
        kept = col.eq(keep.values[0])
    elif keep.op == "between":
        dated = pd.api.types.is_datetime64_any_dtype(col)
        kept = col.notna()
        for bound, cmp in zip(keep.values, ("ge", "le")):
            if bound is not None:
                kept &= getattr(col, cmp)(pd.Timestamp(bound) if dated else bound)
    elif keep.op == "below":
        kept = col < keep.values[0]
    elif keep.op == "at_least":
        kept = col >= keep.values[0]
    else:
        raise ValueError(f"unknown cohort rule operation {keep.op!r}")
    return kept.fillna(False).astype(bool)


@dataclass(frozen=True)
class Rule:
    """One cohort rule: its label, the column whose blanks are removed in a separate "not recorded"
    step (None = none: a blank fails the rule itself), and who stays (:class:`Keep`)."""

    label: str
    column: str | None
    keep: Keep
    what: str = ""

    def drop(self, frame: pd.DataFrame) -> pd.Series:
        """Patients failing the rule (among those with a value, when ``column`` is set)."""
        kept = keep_mask(self.keep, frame)
        return ~kept if self.column is None else frame[self.column].notna() & ~kept

    @property
    def missing_label(self) -> str:
        return tr("Excluded: {what} not recorded", what=self.what)


def _isin(column: str, allowed: tuple, what: str) -> Rule:
    shown = ", ".join(f"{a:g}" if isinstance(a, float) else value_label(column, a) for a in allowed)
    return Rule(tr("Excluded: {what} not {values}", what=what, values=shown), column,
                Keep(column, "in", tuple(allowed)), what)


def _flag(column: str, what: str) -> Rule:
    return Rule(tr("Excluded: {what}", what=what), column, Keep(column, "equals", (False,)), what)


def _tristate(column: str, what: str, keep: bool) -> Rule:
    label = tr("Excluded: {what} absent", what=what) if keep else tr("Excluded: {what} present", what=what)
    return Rule(label, column, Keep(column, "equals", (keep,)), what)


def registry_step(n: int) -> AttritionStep:
    """The first step of a cohort's log: the registry's patients (both engines)."""
    return AttritionStep(tr("Patients in the registry"), 0, n, {})


def pooled_step(pooling: "Pooling", n: int) -> AttritionStep:
    """The log's line for regimens pooled as Other: nobody is excluded (both engines)."""
    return AttritionStep(tr("Not excluded: {note}", note=pooling.note), 0, n, {})


def not_applied_step(rule: "Rule", index: int, remaining: int) -> AttritionStep:
    """The log's line for rule number ``index`` of :func:`rules`, whose column has no values (both engines)."""
    return AttritionStep(not_applied_label(rule), 0, remaining, {}, NOT_APPLIED_STEP, index)


def rules(spec: CohortSpec) -> list[Rule]:
    """The spec's rules in the order they are applied (and listed in the attrition log)."""
    out: list[Rule] = []
    if spec.regimens:
        out.append(Rule(tr(REGIMEN_RULE), None,
                        Keep(Col.REGIMEN_1L, "in", tuple(spec.regimens))))
    if spec.start_from or spec.start_to:
        out.append(Rule(tr("Excluded: first-line start outside {start} to {end}", start=spec.start_from or "…",
                           end=spec.start_to or "…"), None, Keep(Col.START_1L, "between", (spec.start_from, spec.start_to))))
    if spec.centers:
        out.append(_isin(Col.CENTER, spec.centers, tr("treating center")))
    if spec.exclude_concomitant_lrt:
        out.append(_flag(Col.CONCOMITANT_LRT, tr("concomitant locoregional therapy")))
    if spec.exclude_interline_lrt:
        out.append(_flag(Col.INTERLINE_LRT, tr("inter-line locoregional therapy")))
    if spec.exclude_trial_after_1l:
        out.append(_flag(Col.TRIAL_AFTER_1L, tr("clinical trial after first line")))
    if spec.child_pugh:
        out.append(_isin(Col.CHILD_PUGH_CLASS, spec.child_pugh, tr("Child-Pugh class")))
    if spec.albi:
        out.append(_isin(Col.ALBI_GRADE, spec.albi, tr("ALBI grade")))
    if spec.bclc_stages:
        out.append(_isin(Col.BCLC, spec.bclc_stages, tr("BCLC stage")))
    if spec.ecog_ps:
        out.append(_isin(Col.ECOG, tuple(float(e) for e in spec.ecog_ps), "ECOG"))
    if spec.etiologies:
        out.append(_isin(Col.ETIOLOGY, spec.etiologies, tr("liver disease etiology")))
    if spec.with_mvi is not None:
        out.append(_tristate(Col.MVI, tr("macrovascular invasion"), spec.with_mvi))
    if spec.with_ehs is not None:
        out.append(_tristate(Col.EHS, tr("extrahepatic spread"), spec.with_ehs))
    if spec.afp_below is not None:
        out.append(Rule(tr("Excluded: AFP ≥ {value} ng/mL", value=f"{spec.afp_below:g}"), Col.AFP,
                        Keep(Col.AFP, "below", (spec.afp_below,)), "AFP"))
    if spec.afp_at_least is not None:
        out.append(Rule(tr("Excluded: AFP < {value} ng/mL", value=f"{spec.afp_at_least:g}"), Col.AFP,
                        Keep(Col.AFP, "at_least", (spec.afp_at_least,)), "AFP"))
    if spec.age_min is not None or spec.age_max is not None:
        shown = f"{spec.age_min or 0:g}–{'' if spec.age_max is None else f'{spec.age_max:g}'}"
        out.append(Rule(tr("Excluded: age outside {range} years", range=shown), Col.AGE,
                        Keep(Col.AGE, "between", (spec.age_min, spec.age_max)), tr("age at start")))
    return out


#: Most groups an analysis compares side by side, "Other" included. With more first-line regimens
#: (or second-line regimens under ``--by-2l``) the smallest are pooled as "Other" by the rare-regimen
#: rule with a raised threshold: 10,000 distinct regimens once took 182 s and 3 GB (pairwise tests
#: grow with the square of the groups), and no table, legend or figure can show them.
MAX_GROUPS = 12


def cap_threshold(counts: dict[str, int] | pd.Series, max_groups: int = MAX_GROUPS) -> int:
    """The smallest patient count k such that pooling the groups of fewer than k patients leaves at
    most ``max_groups`` groups, "Other" included (0 when there are no more than ``max_groups``).

    ``counts``: patients per group (a dict, or a Series indexed by group). The groups kept are those
    larger than the ``max_groups``-th largest, at most ``max_groups - 1`` of them, so the pooled group
    fits; ties at the boundary are pooled together rather than split arbitrarily.
    """
    if len(counts) <= max_groups:
        return 0
    return int(np.sort(_sizes(counts))[::-1][max_groups - 1]) + 1


def _sizes(counts: dict[str, int] | pd.Series) -> np.ndarray:
    """The patient counts of ``counts`` (a dict, or a Series), in its order."""
    if isinstance(counts, dict):
        return np.fromiter(counts.values(), dtype=np.int64, count=len(counts))
    return counts.to_numpy()


@dataclass(frozen=True)
class Pooling:
    """Groups relabelled "Other": how many, their patients, and the threshold (fewer patients than
    ``below``); ``capped`` when :data:`MAX_GROUPS` raised the threshold above the cohort's own
    ``other_below`` rule."""

    what: str
    pooled: int
    patients: int
    below: int
    capped: bool

    @property
    def note(self) -> str:
        """E.g. "300 regimens with fewer than 4 patients (900 in all) pooled as Other to keep the
        comparison readable; the cap is 12 groups." (attrition log, CLI JSON, sidebar)."""
        what = tr(self.what)
        if self.capped:
            return tr("{pooled} {what} with fewer than {below} patients ({patients} in all) pooled as Other to keep "
                      "the comparison readable; the cap is {cap} groups.", pooled=f"{self.pooled:,}", what=what,
                      below=f"{self.below:,}", patients=f"{self.patients:,}", cap=MAX_GROUPS)
        return tr("{pooled} {what} with fewer than {below} patients ({patients} in all) pooled as Other (cohort rule).",
                  pooled=f"{self.pooled:,}", what=what, below=f"{self.below:,}", patients=f"{self.patients:,}")

    def to_json(self) -> dict[str, Any]:
        return {"groups_pooled": self.pooled, "patients": self.patients, "below": self.below,
                "capped": self.capped, "max_groups": MAX_GROUPS, "note": self.note}


def pool_rare(labels: pd.Series, below: int, what: str = N_("regimens"),
              max_groups: int = MAX_GROUPS) -> tuple[pd.Series, Pooling | None]:
    """Relabel groups with fewer than ``below`` patients as "Other" (0 = only as the cap needs),
    raising ``below`` to :func:`cap_threshold` when that leaves more than ``max_groups`` groups.

    ``labels``: one group label per patient (blank = no group, left as is). One definition for the
    rare-regimen rule and the group cap, first line (:func:`group_rare_regimens`) and second line
    (:func:`hcc.cohort.secondline.derive_by_second_line`). Returns the labels and what was pooled (None
    when nothing was). Counting is one ``value_counts``, so the check costs O(patients) before any
    per-group work.
    """
    rare, pooling = pooling_of(labels.value_counts(), below, what, max_groups)
    if pooling is None:
        return labels, None
    return labels.where(~labels.isin(rare), OTHER_REGIMEN), pooling


def pooling_of(counts: dict[str, int] | pd.Series, below: int, what: str = "regimens",
               max_groups: int = MAX_GROUPS) -> tuple[list, Pooling | None]:
    """From patients per group (``counts``: a dict, or a Series indexed by label): the groups to pool
    as "Other" under the rare-regimen rule ``below`` raised to :func:`cap_threshold` (in ``counts``'
    order), and what :func:`pool_rare` reports of it (None when nothing is pooled). Shared by the pandas
    path and the SQL engine (:func:`hcc.engine.cohort`), which counts in the database."""
    cap = cap_threshold(counts, max_groups)
    threshold = max(below, cap)
    labels = list(counts) if isinstance(counts, dict) else counts.index.tolist()
    sizes = _sizes(counts)
    is_rare = (sizes < threshold) & np.array([label != OTHER_REGIMEN for label in labels], dtype=bool)
    rare = [label for label, r in zip(labels, is_rare) if r]
    if threshold <= 0 or not rare:
        return rare, None
    return rare, Pooling(what, len(rare), int(sizes[is_rare].sum()), threshold, capped=cap > below)


def group_rare_regimens(frame: pd.DataFrame, below: int) -> tuple[pd.DataFrame, Pooling | None]:
    """Relabel first-line regimens with fewer than ``below`` patients as "Other", and as many more of
    the smallest as keep at most :data:`MAX_GROUPS` groups (:func:`pool_rare`)."""
    labels, pooling = pool_rare(frame[Col.REGIMEN_1L], below)
    if pooling is None:
        return frame, None
    return frame.assign(**{Col.REGIMEN_1L: labels}), pooling


@dataclass(frozen=True, eq=False)
class Grouping:
    """First-line regimens of a registry under one rare-regimen threshold (:func:`pool_rare`).

    ``labels``: per row, the regimen as grouped (rare ones "Other", blanks as they were); ``code``:
    per row, the position of that label in ``groups`` (-1 for a blank); ``regimens``: the groups in
    display order (:func:`hcc.ingest.registry.regimen_order`); ``pooling`` as :func:`pool_rare`.
    """

    labels: np.ndarray
    code: np.ndarray
    groups: tuple[str, ...]
    regimens: tuple[str, ...]
    pooling: Pooling | None

    def counts(self, rows: np.ndarray) -> np.ndarray:
        """Patients per group (in ``groups`` order) among the registry rows selected by ``rows`` (a
        boolean mask or positions)."""
        code = self.code[rows]
        return np.bincount(code[code >= 0], minlength=len(self.groups))


class CohortIndex:
    """One registry's rows prepared for cohort rules, so that a rule change costs masks, not copies.

    Holds the registry's frame (by reference), its first-line regimens factorized once, and the
    masks of the rules evaluated so far (each rule is a per-row test, so its mask over the registry
    does not depend on the other rules). It holds patient data: keep it per session (the app keeps
    it in :func:`ui.common.session_memo`), never in a module-level or process-wide cache.
    """

    #: Rule masks (1 byte a registry row each) and regimen groupings (16 bytes a row) kept; the
    #: oldest is dropped past these.
    MAX_MASKS = 32
    MAX_GROUPINGS = 4

    def __init__(self, frame: pd.DataFrame, regimen_codes: tuple[np.ndarray, np.ndarray] | None = None) -> None:
        """``regimen_codes``: ``frame``'s first-line regimens already factorized as below (the registry's
        :attr:`hcc.ingest.registry.Registry.regimen_codes`), so that they are not hashed again."""
        import pandas as pd  # noqa: PLC0415  (see the imports)

        self.frame = frame
        self._code, uniques = regimen_codes or pd.factorize(frame[Col.REGIMEN_1L].to_numpy(dtype=object),
                                                            use_na_sentinel=True)
        self._uniques = pd.Index(uniques, dtype=object)
        self._counts = pd.Series(np.bincount(self._code[self._code >= 0], minlength=len(uniques)), index=self._uniques)
        self._groupings: dict[int, Grouping] = {}
        self._masks: dict[tuple, np.ndarray] = {}
        self._choices: dict[str, tuple[str, ...]] = {}

    @property
    def n(self) -> int:
        return len(self.frame)

    def grouping(self, below: int) -> Grouping:
        """The regimens as the rare-regimen rule ``below`` groups them (:func:`pooling_of` on the
        registry's counts, as :func:`group_rare_regimens` does on its rows)."""
        if below not in self._groupings:
            rare, pooling = pooling_of(self._counts, below)
            original = self.frame[Col.REGIMEN_1L].to_numpy(dtype=object)
            is_rare = np.asarray(self._uniques.isin(rare), dtype=bool)
            pooled_uniques = np.where(is_rare, OTHER_REGIMEN, self._uniques.to_numpy(dtype=object)).tolist()
            position = {g: i for i, g in enumerate(dict.fromkeys(pooled_uniques))}
            groups = tuple(position)
            to_group = np.array([position[g] for g in pooled_uniques] + [-1], dtype=np.int64)  # last: a blank (-1)
            code = to_group[self._code]
            labels = original if pooling is None else np.where(is_rare[self._code] & (self._code >= 0),
                                                               OTHER_REGIMEN, original)
            counts = np.bincount(code[code >= 0], minlength=len(groups))
            regimens = regimen_order(dict(zip(groups, counts.tolist())))
            if len(self._groupings) >= self.MAX_GROUPINGS:
                del self._groupings[next(iter(self._groupings))]
            self._groupings[below] = Grouping(labels, code, groups, regimens, pooling)
        return self._groupings[below]

    def _cached(self, key: tuple, compute: Callable[[], np.ndarray]) -> np.ndarray:
        if key not in self._masks:
            if len(self._masks) >= self.MAX_MASKS:
                del self._masks[next(iter(self._masks))]
            self._masks[key] = compute()
        return self._masks[key]

    def choices(self, column: str) -> tuple[str, ...]:
        """The distinct values of ``column``, as text, sorted (what a rule on it can choose)."""
        if column not in self._choices:
            import pandas as pd  # noqa: PLC0415  (see the imports)

            # the distinct values, blanks then left out (a dropna copy of the rows cost twice the unique)
            self._choices[column] = tuple(sorted(str(c) for c in self.frame[column].unique() if not pd.isna(c)))
        return self._choices[column]

    def blank(self, column: str) -> np.ndarray:
        """Rows where ``column`` has no value."""
        return self._cached(("blank", column), lambda: self.frame[column].isna().to_numpy(dtype=bool))

    def drop(self, rule: Rule, below: int) -> np.ndarray:
        """Rows failing ``rule`` (:meth:`Rule.drop`), the regimen rule on the regimens as grouped."""
        if rule.keep.column == Col.REGIMEN_1L:
            grouping = self.grouping(below)

            def compute() -> np.ndarray:
                import pandas as pd  # noqa: PLC0415  (see the imports)

                # the rule's test on each group label once (and on a blank), then gathered per row
                values = pd.DataFrame({Col.REGIMEN_1L: pd.Series([*grouping.groups, None], dtype=object)})
                dropped = rule.drop(values).fillna(False).to_numpy(dtype=bool)
                return dropped[grouping.code]
            return self._cached(("drop", below, rule.column, rule.keep), compute)
        return self._cached(("drop", rule.column, rule.keep),
                            lambda: rule.drop(self.frame).fillna(False).to_numpy(dtype=bool))

    def rows_frame(self, rows: np.ndarray, below: int) -> pd.DataFrame:
        """The registry rows at positions ``rows``, regimens grouped under ``below``, indexed 0..n-1
        (what :func:`apply_spec` returned before cohorts kept positions)."""
        frame = self.frame if len(rows) == self.n else self.frame.take(rows)
        out = frame.reset_index(drop=True)
        grouping = self.grouping(below)
        if grouping.pooling is not None:
            out[Col.REGIMEN_1L] = grouping.labels[rows]
        return out

    def apply(self, spec: CohortSpec, before: tuple[AttritionStep, ...] = ()) -> Cohort:
        """:func:`apply_spec` on this registry (the same log, regimens and patients); ``before``: the
        log's first steps (the rows excluded at validation, :func:`apply_to_registry`)."""
        grouping = self.grouping(spec.other_below)
        regimens_all = grouping.regimens
        unknown = [r for r in spec.regimens if r not in regimens_all]
        if unknown:
            raise SpecError(regimens_unknown(unknown, regimens_all))
        # Who is still in, as one mask over the registry's rows: every rule is a per-row test, so it is
        # evaluated on all rows (once per rule: the masks are kept) and counted among those still in.
        kept = np.ones(self.n, dtype=bool)
        position = {g: i for i, g in enumerate(grouping.groups)}
        steps = [registry_step(self.n)]
        if grouping.pooling is not None:  # nobody is excluded, but the groups compared change: say so in the log
            steps.append(pooled_step(grouping.pooling, self.n))

        def remove(label: str, drop: np.ndarray, kind: str = "", index: int = -1) -> None:
            nonlocal kept
            drop = drop & kept
            by_reg = grouping.counts(drop)
            kept = kept & ~drop
            steps.append(AttritionStep(label, int(drop.sum()), int(kept.sum()),
                                       {r: int(by_reg[position[r]]) for r in regimens_all}, kind, index))

        for i, rule in enumerate(rules(spec)):
            if rule.column is not None and self.blank(rule.column).all():
                # A file without the column cannot be filtered on it; say so instead of excluding everyone.
                steps.append(not_applied_step(rule, i, int(kept.sum())))
                continue
            remove(rule.label, self.drop(rule, spec.other_below), rule_step_kind(rule), i)
            if rule.column is not None:
                missing = self.blank(rule.column) & kept
                if missing.any():
                    remove(rule.missing_label, missing, index=i)
        rows = np.flatnonzero(kept)
        if not len(rows):
            raise EmptyCohortError(tr(EMPTY_COHORT))
        counts = grouping.counts(rows)
        regimens = tuple(r for r in regimens_all if counts[position[r]])
        return Cohort(spec=spec, attrition=tuple(before) + tuple(steps), regimens=regimens, rows=rows, index=self,
                      n_by_regimen={r: int(counts[position[r]]) for r in regimens}, pooling=grouping.pooling)


def apply_to_registry(registry: Registry, spec: CohortSpec, index: CohortIndex | None = None) -> Cohort:
    """:func:`apply_spec` on a registry, with the rows that failed validation as the first steps.

    The log then starts at "Rows in the file", so every row of the file is accounted for. ``index``:
    the registry's :class:`CohortIndex` when the caller keeps one (the app, per session), so that
    a rule change reuses the masks of the rules that did not change.
    """
    steps = []
    if not registry.excluded.empty:
        steps.append(AttritionStep(tr("Rows in the file"), 0, registry.rows_read, {}))
        remaining = registry.rows_read
        for reason, count in registry.excluded["reason"].value_counts().items():
            remaining -= int(count)
            steps.append(AttritionStep(tr("Excluded at validation: {reason}", reason=reason), int(count), remaining,
                                       {}))
    return (index or CohortIndex(registry.frame)).apply(spec, tuple(steps))


def apply_spec(frame: pd.DataFrame, spec: CohortSpec) -> Cohort:
    """Apply the spec's rules in order, logging each rule's exclusions.

    Parameters
    ----------
    frame : canonical registry rows (``Registry.frame``).
    spec : the cohort rules.

    Returns
    -------
    Cohort. The first attrition step is the registry itself ("Patients in the registry"); each
    rule follows with the patients it removed (0 included), then, when any, those it removed
    because the value was not recorded.

    Raises
    ------
    SpecError
        If a chosen regimen is not in the registry.
    EmptyCohortError
        If no patient remains.
    """
    return CohortIndex(frame).apply(spec)


#: Why no analysis can run: every patient was excluded (both engines).
EMPTY_COHORT = N_("No patient meets these cohort rules. Relax a rule or choose more regimens.")


def regimens_unknown(unknown: list[str], regimens_all: tuple[str, ...] | list[str]) -> str:
    """The error for chosen regimens the registry does not have (both engines)."""
    return tr("regimen(s) {unknown} not in this registry (it has {regimens})", unknown=", ".join(unknown),
              regimens=", ".join(regimens_all))


def rule_step_kind(rule: Rule) -> str:
    """:attr:`AttritionStep.kind` of a rule's own step: :data:`REGIMEN_STEP` for the regimen choice."""
    return REGIMEN_STEP if rule.column is None and rule.keep.column == Col.REGIMEN_1L else ""
