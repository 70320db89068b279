"""Map a registry export's own column names and words onto the data contract (:mod:`hcc.schema`).

- :func:`propose_columns`: for each source column, the canonical column it most likely holds, from a
  synonym list (English and Japanese) and fuzzy matching (``difflib`` ratio ≥ :data:`FUZZY_CUTOFF`).
- :func:`value_matches`: free-text regimen names (``Atezo+Bev``, ``Tecentriq/Avastin``, ``Nexavar``)
  to regimen codes, response words to CR/PR/SD/PD/NE, yes/no words (``○``/``×``, ``あり``/``なし``) to
  booleans, and the words of other categories. Unknown values are listed for the user; they are
  never dropped (an unknown regimen stays a regimen of its own, an unknown category value is reported
  by the validator).
- :class:`Mapping`: the user's confirmed choices, saved and loaded as JSON, applied by :func:`apply`.
"""

from __future__ import annotations

import difflib
import json
import re
import unicodedata
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Iterable

import numpy as np

from hcc.errors import SpecError
from hcc.i18n import tr, trc
from hcc.ingest.io import XLSX, RawTable
from hcc.schema import (ATZ_BEV, CAB, COLUMN_BY_NAME, COLUMNS, CR, DUR, DUR_TRE, LEN, NE, NIV, NIV_IPI, PD, PEM,
                        PR, RAM, REG, REQUIRED, SD, SOR, Col, Kind)

# pandas and the date parser (pandas) are imported by the functions that use them: the value proposal,
# which the fast path of `analyze --stats km` asks about a clean file's regimens, loads without them.
if TYPE_CHECKING:
    import pandas as pd

    from hcc.ingest import dates

MAPPING_VERSION = 1
FUZZY_CUTOFF = 0.8
#: Columns whose values are regimen names.
REGIMEN_COLUMNS: tuple[str, ...] = (Col.REGIMEN_1L, Col.REGIMEN_2L, Col.REGIMEN_3L)
#: How many distinct values of one column are offered for value mapping.
MAX_DISTINCT_VALUES = 200

# Column names ----------------------------------------------------------------------------------

#: Other names registries use for each canonical column (compared after :func:`normalize`).
COLUMN_SYNONYMS: dict[str, tuple[str, ...]] = {
    Col.PATIENT_ID: ("id", "patient", "patient id", "patient code", "subject id", "subject", "case id",
                     "record id", "study id", "pt id", "患者id", "症例番号", "症例id"),
    Col.CENTER: ("site", "centre", "hospital", "institution", "site id", "center id", "施設", "施設名"),
    Col.REGIMEN_1L: ("regimen", "1l regimen", "first line regimen", "first line tx", "first line treatment",
                     "first line therapy", "1st line", "1st line regimen", "treatment", "therapy", "drug",
                     "systemic therapy", "line1 regimen", "regimen line 1", "治療", "一次治療", "1次治療"),
    Col.START_1L: ("start date", "treatment start", "start of treatment", "1l start", "first line start",
                   "first line start date", "date start 1l", "start 1l date", "index date", "line1 start",
                   "治療開始日", "投与開始日", "開始日"),
    Col.BEST_RESPONSE_1L: ("best response", "bor", "best overall response", "recist", "response recist",
                           "1l best response", "best response recist", "最良効果", "効果判定"),
    Col.BEST_RESPONSE_1L_MRECIST: ("mrecist", "best response mrecist", "bor mrecist", "mrecist response",
                                   "最良効果 mrecist"),
    Col.DATE_DC_1L: ("date disease control", "disease control date", "date of disease control", "dc date"),
    Col.DATE_RESPONSE_1L: ("date response", "response date", "date of response", "date of first response",
                           "奏効日"),
    Col.DATE_PROGRESSION_1L: ("progression date", "date progression", "date of progression", "pd date",
                              "progression", "1l progression", "first line progression", "増悪日", "pd日"),
    Col.DATE_END_1L: ("end date", "treatment end", "end of treatment", "stop date", "discontinuation date",
                      "治療終了日", "中止日"),
    Col.CONCOMITANT_LRT: ("concomitant locoregional therapy", "concomitant lrt", "lrt with 1l",
                          "combined locoregional", "concomitant tace", "併用局所療法",
                          # hospital exports name the procedures given during first line
                          "tace rfa during 1st line", "tace rfa during first line", "tace during 1st line",
                          "tace during first line", "rfa during first line", "rt during first line",
                          "haic during first line", "tace rfa rt haic during first line",
                          "locoregional therapy during first line", "locoregional therapy during 1st line",
                          "lrt during 1l", "lrt during first line", "concurrent lrt", "concurrent tace",
                          "locoregional with first line", "concomitant locoregional", "1l lrt", "一次治療中の局所療法"),
    Col.INTERLINE_LRT: ("interline locoregional therapy", "lrt between lines", "interline tace", "inter line lrt",
                        "locoregional therapy between lines", "locoregional between lines",
                        "tace rfa between lines", "tace between lines", "lrt between 1l and 2l",
                        "locoregional therapy between first and second line", "interline lrt",
                        "inter line locoregional therapy", "lrt after 1l before 2l", "治療間局所療法"),
    Col.TRIAL_AFTER_1L: ("clinical trial", "trial", "trial entry", "entered trial", "clinical trial after 1l",
                         "治験", "trial after first line", "trial after 1st line", "clinical trial after first line",
                         "trial entry after 1l", "enrolled in trial after first line", "trial after 1l",
                         "clinical trial entry after first line"),
    Col.REGIMEN_2L: ("2l regimen", "second line regimen", "second line", "second line tx",
                     "second line treatment", "2nd line", "2nd line regimen", "regimen line 2", "二次治療", "2次治療"),
    Col.START_2L: ("2l start", "second line start", "second line start date", "start 2l date",
                   "二次治療開始日"),
    Col.DATE_PROGRESSION_2L: ("2l progression", "second line progression", "progression date 2l",
                              "date of progression 2l"),
    Col.BEST_RESPONSE_2L: ("2l best response", "best response 2l", "second line best response", "bor 2l"),
    Col.DATE_RESPONSE_2L: ("2l response date", "response date 2l", "date response 2l"),
    Col.REGIMEN_3L: ("3l regimen", "third line regimen", "third line", "3rd line", "三次治療", "3次治療"),
    Col.START_3L: ("3l start", "third line start", "third line start date"),
    Col.DATE_DEATH: ("death date", "date of death", "dod", "died on", "死亡日"),
    Col.DATE_LAST_FOLLOWUP: ("last follow up", "last followup", "date last contact", "last contact",
                             "last visit", "date of last follow up", "last known alive", "最終確認日",
                             "最終生存確認日"),
    Col.AGE: ("age years", "age at start", "age at treatment", "age at diagnosis", "年齢"),
    Col.SEX: ("gender", "sex m f", "性別"),
    Col.ETIOLOGY: ("aetiology", "cause", "liver disease", "underlying liver disease", "background liver",
                   "成因", "背景肝"),
    Col.CHILD_PUGH_SCORE: ("child pugh", "cp score", "child pugh points", "child score"),
    Col.CHILD_PUGH_CLASS: ("cp class", "child pugh grade", "child class", "child pugh category"),
    Col.ALBI_SCORE: ("albi", "albi value"),
    Col.ALBI_GRADE: ("albi class", "malbi grade", "modified albi grade", "malbi"),
    Col.BCLC: ("bclc stage", "barcelona stage", "stage"),
    Col.ECOG: ("ecog ps", "ps", "performance status", "ecog performance status"),
    Col.MVI: ("macrovascular invasion", "vascular invasion", "portal vein invasion", "pvtt", "mvi present",
              "脈管侵襲"),
    Col.EHS: ("extrahepatic spread", "extrahepatic metastasis", "distant metastasis", "metastasis", "肝外転移"),
    Col.AFP: ("alpha fetoprotein", "afp ng ml", "serum afp", "baseline afp"),
}


def normalize(text: str) -> str:
    """Lower-case, Unicode-normalised (NFKC), with punctuation and ``_`` as single spaces."""
    text = unicodedata.normalize("NFKC", str(text)).lower()
    text = re.sub(r"[^\w]+|_", " ", text)
    return re.sub(r"\s+", " ", text).strip()


_CANONICAL_FORMS: dict[str, str] = {}
for _col in COLUMNS:
    _CANONICAL_FORMS[normalize(_col.name)] = _col.name
    for _syn in COLUMN_SYNONYMS.get(_col.name, ()):
        _CANONICAL_FORMS.setdefault(normalize(_syn), _col.name)


@dataclass(frozen=True)
class ColumnMatch:
    """The proposal for one source column.

    ``how`` is ``exact`` (the canonical name), ``synonym``, ``fuzzy`` (difflib ratio ``score``),
    ``ambiguous`` (two source columns fit the same canonical column equally well: the user chooses)
    or ``""`` (no match: the column is ignored unless the user maps it).
    """

    source: str
    canonical: str | None
    score: float
    how: str


def _best(source: str) -> tuple[str | None, float, str]:
    key = normalize(source)
    if key in _CANONICAL_FORMS:
        canonical = _CANONICAL_FORMS[key]
        return canonical, 1.0 if key == normalize(canonical) else 0.95, "exact" if key == normalize(canonical) \
            else "synonym"
    close = difflib.get_close_matches(key, list(_CANONICAL_FORMS), n=1, cutoff=FUZZY_CUTOFF)
    if close:
        ratio = difflib.SequenceMatcher(None, key, close[0]).ratio()
        return _CANONICAL_FORMS[close[0]], round(0.9 * ratio, 3), "fuzzy"
    return None, 0.0, ""


def propose_columns(columns: Iterable[str]) -> tuple[ColumnMatch, ...]:
    """Propose a canonical column for each source column (each canonical column used at most once).

    When several source columns fit one canonical column, the best score wins; equal best scores
    are all marked ``ambiguous`` and left unmapped for the user to decide.
    """
    columns = list(columns)
    best = {c: _best(c) for c in columns}
    matches: dict[str, ColumnMatch] = {}
    by_target: dict[str, list[str]] = {}
    for source, (canonical, _score, _how) in best.items():
        if canonical is not None:
            by_target.setdefault(canonical, []).append(source)
    for source in columns:
        canonical, score, how = best[source]
        if canonical is None:
            matches[source] = ColumnMatch(source, None, 0.0, "")
            continue
        rivals = by_target[canonical]
        top = max(best[r][1] for r in rivals)
        winners = [r for r in rivals if best[r][1] == top]
        if score < top:
            matches[source] = ColumnMatch(source, None, score, "")
        elif len(winners) > 1:
            matches[source] = ColumnMatch(source, None, score, "ambiguous")
        else:
            matches[source] = ColumnMatch(source, canonical, score, how)
    return tuple(matches[c] for c in columns)


# Values ------------------------------------------------------------------------------------------

#: Drug names (generic, brand, common abbreviations) → a short drug key.
DRUGS: dict[str, str] = {
    **dict.fromkeys(("sorafenib", "nexavar", "sor", "sora", "ソラフェニブ", "ネクサバール"), "sorafenib"),
    **dict.fromkeys(("lenvatinib", "lenvima", "len", "lenva", "レンバチニブ", "レンビマ"), "lenvatinib"),
    **dict.fromkeys(("atezolizumab", "tecentriq", "atezo", "atz", "アテゾリズマブ", "テセントリク"), "atezolizumab"),
    **dict.fromkeys(("bevacizumab", "avastin", "bev", "beva", "ベバシズマブ", "アバスチン"), "bevacizumab"),
    **dict.fromkeys(("regorafenib", "stivarga", "reg", "rego", "レゴラフェニブ", "スチバーガ"), "regorafenib"),
    **dict.fromkeys(("ramucirumab", "cyramza", "ram", "ramu", "ラムシルマブ", "サイラムザ"), "ramucirumab"),
    **dict.fromkeys(("cabozantinib", "cabometyx", "cab", "cabo", "カボザンチニブ", "カボメティクス"), "cabozantinib"),
    **dict.fromkeys(("durvalumab", "imfinzi", "dur", "durva", "デュルバルマブ", "イミフィンジ"), "durvalumab"),
    **dict.fromkeys(("tremelimumab", "imjudo", "tre", "treme", "トレメリムマブ", "イジュド"), "tremelimumab"),
    **dict.fromkeys(("nivolumab", "opdivo", "niv", "nivo", "ニボルマブ", "オプジーボ"), "nivolumab"),
    **dict.fromkeys(("ipilimumab", "yervoy", "ipi", "イピリムマブ", "ヤーボイ"), "ipilimumab"),
    **dict.fromkeys(("pembrolizumab", "keytruda", "pem", "pembro", "ペムブロリズマブ", "キイトルーダ"), "pembrolizumab"),
}
#: Sets of drugs → regimen code (the codes of :mod:`hcc.schema`).
REGIMENS: dict[frozenset[str], str] = {
    frozenset({"sorafenib"}): SOR,
    frozenset({"lenvatinib"}): LEN,
    frozenset({"atezolizumab", "bevacizumab"}): ATZ_BEV,
    frozenset({"regorafenib"}): REG,
    frozenset({"ramucirumab"}): RAM,
    frozenset({"cabozantinib"}): CAB,
    frozenset({"durvalumab", "tremelimumab"}): DUR_TRE,
    frozenset({"durvalumab"}): DUR,
    frozenset({"nivolumab"}): NIV,
    frozenset({"nivolumab", "ipilimumab"}): NIV_IPI,
    frozenset({"pembrolizumab"}): PEM,
}
_REGIMEN_CODES = {code.lower(): code for code in REGIMENS.values()}
_FILLER = frozenset({"mono", "monotherapy", "combination", "therapy", "regimen", "q3w", "q2w"})
_JOINERS = re.compile(r"\s*(?:\+|/|&|,|;|・|＋|\band\b|\bplus\b|\bwith\b)\s*|\s+")

RESPONSE_WORDS: dict[str, str] = {
    **dict.fromkeys(("cr", "complete response", "complete", "complete remission"), CR),
    **dict.fromkeys(("pr", "partial response", "partial", "partial remission"), PR),
    **dict.fromkeys(("sd", "stable disease", "stable", "no change", "nc"), SD),
    **dict.fromkeys(("pd", "progressive disease", "progression", "progressive"), PD),
    **dict.fromkeys(("ne", "not evaluable", "not evaluated", "not assessed", "inevaluable", "unevaluable",
                     "評価不能"), NE),
}
_TRUE_WORDS = ("yes", "y", "true", "t", "1", "present", "positive", "pos", "+", "○", "〇", "◯", "あり", "有",
               "有り", "はい")
_FALSE_WORDS = ("no", "n", "false", "f", "0", "absent", "negative", "neg", "-", "×", "✕", "なし", "無", "無し",
                "いいえ")
BOOLEAN_WORDS: dict[str, str] = {**dict.fromkeys(_TRUE_WORDS, "yes"), **dict.fromkeys(_FALSE_WORDS, "no")}
#: Words for the values of other categorical columns, by column.
CATEGORY_WORDS: dict[str, dict[str, str]] = {
    Col.SEX: {"male": "M", "man": "M", "男": "M", "男性": "M", "female": "F", "woman": "F", "女": "F", "女性": "F"},
    Col.ETIOLOGY: {"hepatitis b": "HBV", "hbv": "HBV", "b": "HBV", "b型": "HBV",
                   "hepatitis c": "HCV", "hcv": "HCV", "c": "HCV", "c型": "HCV",
                   "alcohol": "alcohol", "alcoholic": "alcohol", "ald": "alcohol", "alc": "alcohol",
                   "アルコール": "alcohol", "masld": "MASLD", "mafld": "MASLD", "nafld": "MASLD", "nash": "MASLD",
                   "mash": "MASLD", "other": "other", "others": "other", "その他": "other", "nbnc": "other"},
    Col.CHILD_PUGH_CLASS: {f"{p}{c}{n}": c.upper() for c in ("a", "b", "c")
                           for p in ("", "child pugh ", "child ", "cp ", "cp", "class ")
                           for n in ("", *map(str, range(5, 16)))},
    Col.BCLC: {f"{p}{s}": s.upper() for s in ("0", "a", "b", "c", "d") for p in ("", "bclc ", "stage ", "bclc stage ")},
    Col.ALBI_GRADE: {f"{p}{g}": g for g in ("1", "2a", "2b", "3") for p in ("", "grade ", "albi ", "albi grade ",
                                                                              "malbi ", "malbi grade ")},
}


def regimen_code(text: str) -> str | None:
    """The regimen code of a free-text regimen name, or ``None`` when it is not recognised.

    ``"Atezo+Bev"``, ``"atezolizumab/bevacizumab"``, ``"Tecentriq + Avastin"`` → ``ATZ_BEV``;
    ``"Nexavar"`` → ``SOR``; ``"LENVIMA"`` → ``LEN``. Doses and units in brackets are ignored.
    """
    key = normalize_value(text)
    if key in _REGIMEN_CODES:
        return _REGIMEN_CODES[key]
    key = re.sub(r"\(.*?\)|\d+(?:\.\d+)?\s*(?:mg/kg|mg/m2|mg)?", " ", key)
    words = [w for w in _JOINERS.split(key) if w and w not in _FILLER]
    if not words or any(w not in DRUGS for w in words):
        return None
    return REGIMENS.get(frozenset(DRUGS[w] for w in words))


def normalize_value(text: str) -> str:
    """Value text for lookup: NFKC, lower case, spaces collapsed, hyphens and underscores as spaces."""
    text = unicodedata.normalize("NFKC", str(text)).strip().lower()
    return re.sub(r"\s+", " ", re.sub(r"[-_]", " ", text)).strip()


def value_proposal(canonical: str, text: str) -> str | None:
    """The canonical value proposed for one source value of a canonical column (``None``: unknown)."""
    col = COLUMN_BY_NAME[canonical]
    key = normalize_value(text)
    if canonical in REGIMEN_COLUMNS:
        return regimen_code(text)
    if col.kind is Kind.BOOL:
        return BOOLEAN_WORDS.get(key)
    if col.kind is Kind.CATEGORY:
        allowed = {a.lower(): a for a in col.allowed}
        if key in allowed:
            return allowed[key]
        if set(col.allowed) <= set(RESPONSE_WORDS.values()):
            return RESPONSE_WORDS.get(key)
        return CATEGORY_WORDS.get(canonical, {}).get(key)
    return None


def needs_value_mapping(canonical: str) -> bool:
    """Whether a canonical column's values are words to map (regimens, categories, booleans)."""
    return canonical in REGIMEN_COLUMNS or COLUMN_BY_NAME[canonical].kind in (Kind.BOOL, Kind.CATEGORY)


@dataclass(frozen=True)
class ValueMatch:
    """One distinct source value of a mapped column, how often it occurs, and the proposed canonical value."""

    canonical_column: str
    source: str
    count: int
    proposal: str | None


def value_matches(counts: pd.Series, canonical: str) -> tuple[ValueMatch, ...]:
    """Proposals for the distinct non-blank values of one source column mapped to ``canonical``, from
    the column's ``value_counts()`` (:meth:`RawTable.value_counts`, counted once per file).

    Values already in canonical form are included (proposal = themselves) so that the user sees the
    whole vocabulary; at most :data:`MAX_DISTINCT_VALUES` values, most frequent first.
    """
    counts = counts[np.asarray(counts.index, dtype=object) != ""]  # without the blank: no filtered copy of the column
    return tuple(ValueMatch(canonical, str(v), int(n), value_proposal(canonical, str(v)))
                 for v, n in counts.head(MAX_DISTINCT_VALUES).items())


# The user's mapping --------------------------------------------------------------------------------

@dataclass(frozen=True)
class Mapping:
    """A confirmed mapping from one registry's export to the data contract, saved as JSON.

    Attributes
    ----------
    columns : ``(source column, canonical column)`` pairs; source columns not listed are ignored.
    values : ``(canonical column, source value, canonical value)`` triples, matched case-insensitively.
    date_formats : ``(canonical column, format)`` pairs, formats of :data:`hcc.ingest.dates.DATE_FORMATS`;
        a date column not listed uses the detected format.
    dropped : source columns removed before anything else (identifiers).
    not_identifiers : source columns the user confirmed are not identifiers.
    cap_age : top-code ages above 89 at 90 (HIPAA Safe Harbor).
    relative_dates : replace calendar dates by days from ``start_1l`` (see :func:`hcc.ingest.deid.relative_dates`).
    sheet : the Excel sheet to read.
    """

    columns: tuple[tuple[str, str], ...] = ()
    values: tuple[tuple[str, str, str], ...] = ()
    date_formats: tuple[tuple[str, str], ...] = ()
    dropped: tuple[str, ...] = ()
    not_identifiers: tuple[str, ...] = ()
    cap_age: bool = False
    relative_dates: bool = False
    sheet: str = ""
    version: int = field(default=MAPPING_VERSION)

    @property
    def column_map(self) -> dict[str, str]:
        return dict(self.columns)

    def value_map(self, canonical: str) -> dict[str, str]:
        return {normalize_value(s): v for c, s, v in self.values if c == canonical}

    def to_json(self) -> str:
        """The mapping as indented JSON (what "Save mapping" downloads and ``--mapping`` reads)."""
        return json.dumps({
            "version": self.version,
            "columns": dict(self.columns),
            "values": {c: {s: v for cc, s, v in self.values if cc == c} for c in dict.fromkeys(
                c for c, _, _ in self.values)},
            "date_formats": dict(self.date_formats),
            "dropped": list(self.dropped),
            "not_identifiers": list(self.not_identifiers),
            "cap_age": self.cap_age,
            "relative_dates": self.relative_dates,
            "sheet": self.sheet,
        }, indent=2, ensure_ascii=False)

    @classmethod
    def from_json(cls, text: str, name: str = "mapping") -> "Mapping":
        """Read a mapping saved by :meth:`to_json`; unknown canonical names raise :class:`SpecError`."""
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise SpecError(tr("{name}: not a mapping file (JSON error at line {line}).", name=name,
                               line=exc.lineno)) from None
        if not isinstance(data, dict) or data.get("version") != MAPPING_VERSION:
            raise SpecError(tr("{name}: not a mapping file of this app (expected \"version\": {version}).",
                               name=name, version=MAPPING_VERSION))
        try:
            columns = tuple((str(s), str(c)) for s, c in data.get("columns", {}).items())
            values = tuple((str(c), str(s), str(v)) for c, m in data.get("values", {}).items() for s, v in m.items())
            formats = tuple((str(c), str(f)) for c, f in data.get("date_formats", {}).items())
            mapping = cls(columns=columns, values=values, date_formats=formats,
                          dropped=tuple(map(str, data.get("dropped", []))),
                          not_identifiers=tuple(map(str, data.get("not_identifiers", []))),
                          cap_age=bool(data.get("cap_age", False)),
                          relative_dates=bool(data.get("relative_dates", False)), sheet=str(data.get("sheet", "")))
        except (AttributeError, TypeError):
            raise SpecError(tr("{name}: the mapping's sections must be objects (column → column).", name=name)) from None
        mapping.check(name)
        return mapping

    def check(self, name: str = "mapping") -> None:
        """Raise :class:`SpecError` if the mapping names unknown canonical columns or maps two columns to one."""
        from hcc.ingest import dates  # noqa: PLC0415  (see the imports)

        unknown = sorted({c for _, c in self.columns if c not in COLUMN_BY_NAME}
                         | {c for c, _, _ in self.values if c not in COLUMN_BY_NAME}
                         | {c for c, _ in self.date_formats if c not in COLUMN_BY_NAME})
        if unknown:
            raise SpecError(tr("{name}: unknown column(s) {columns}; see docs/data-format.md.", name=name,
                               columns=", ".join(unknown)))
        twice = duplicate_targets(self)
        if twice:
            raise SpecError(tr("{name}: more than one source column is mapped to {columns}; keep one.", name=name,
                               columns=", ".join(twice)))
        bad = sorted({f for _, f in self.date_formats if f not in dates.DATE_FORMATS})
        if bad:
            raise SpecError(tr("{name}: unknown date format(s) {formats}; use one of {allowed}.", name=name,
                               formats=", ".join(bad), allowed=", ".join(dates.DATE_FORMATS)))


def duplicate_targets(mapping: Mapping) -> tuple[str, ...]:
    """Canonical columns that more than one source column is mapped to (a mapping must not have any)."""
    targets = [c for _, c in mapping.columns]
    return tuple(sorted({c for c in targets if targets.count(c) > 1}))


def propose(raw: RawTable) -> Mapping:
    """The proposed mapping for a file: column proposals and value proposals (unknown values omitted)."""
    proposed = {m.source: m.canonical for m in propose_columns(raw.columns) if m.canonical}
    return with_columns(Mapping(sheet=raw.sheet), raw, proposed)


def with_columns(mapping: Mapping, raw: RawTable, columns: dict[str, str]) -> Mapping:
    """``mapping`` with a new column assignment; value proposals added for newly mapped columns."""
    old_targets = set(mapping.column_map.values())
    pairs = tuple((s, c) for s, c in columns.items() if c)
    # every newly mapped column is hashed once now, two at a time: the counts and distinct values below and in
    # the editor, and validation's codes, all come from that pass (RawTable.factorized)
    raw.factorize([s for s, c in pairs if c not in old_targets])
    values = [v for v in mapping.values if v[0] in {c for _, c in pairs}]
    for source, canonical in pairs:
        if canonical not in old_targets and needs_value_mapping(canonical):
            values += [(canonical, v.source, v.proposal) for v in value_matches(raw.value_counts(source), canonical)
                       if v.proposal is not None and v.proposal != v.source]
    return replace(mapping, columns=pairs, values=tuple(values))


def missing_required(mapping: Mapping) -> tuple[str, ...]:
    """Required canonical columns that no source column is mapped to."""
    mapped = set(mapping.column_map.values())
    return tuple(c for c in REQUIRED if c not in mapped)


def date_detections(raw: RawTable, mapping: Mapping) -> dict[str, dates.DateDetection]:
    """The detected format of every mapped date column."""
    from hcc.ingest import dates  # noqa: PLC0415  (see the imports)

    allow_serial = raw.source_format == XLSX
    return {canonical: raw.once(("date format", source), lambda source=source: dates.detect(
                raw.cells[source], allow_serial=allow_serial, distinct=raw.distinct(source)))
            for source, canonical in mapping.columns if COLUMN_BY_NAME[canonical].kind is Kind.DATE}


def date_questions(raw: RawTable, mapping: Mapping,
                   detected: dict[str, dates.DateDetection] | None = None) -> dict[str, tuple[str, ...]]:
    """Date columns whose format must be chosen by the user: ambiguous and not yet chosen in ``mapping``.

    ``detected``: :func:`date_detections` when already computed.
    """
    chosen = dict(mapping.date_formats)
    detected = date_detections(raw, mapping) if detected is None else detected
    return {c: d.candidates for c, d in detected.items() if d.ambiguous and c not in chosen}


def unknown_values(raw: RawTable, mapping: Mapping) -> tuple[ValueMatch, ...]:
    """Distinct values of mapped word columns that neither the mapping nor the contract knows."""
    out = []
    for source, canonical in mapping.columns:
        if not needs_value_mapping(canonical):
            continue
        mapped = mapping.value_map(canonical)
        col = COLUMN_BY_NAME[canonical]
        for v in value_matches(raw.value_counts(source), canonical):
            key = normalize_value(v.source)
            known = key in mapped or (col.kind is Kind.CATEGORY and key in {a.lower() for a in col.allowed}) \
                or (col.kind is Kind.BOOL and key in BOOLEAN_WORDS) \
                or (canonical in REGIMEN_COLUMNS and v.proposal == v.source)
            if not known:
                out.append(v)
    return tuple(out)


def apply(raw: RawTable, mapping: Mapping) -> RawTable:
    """The file with canonical column names, canonical values and ISO dates, ready for validation.

    Dropped columns are removed; unmapped columns keep their names (reported as not in the contract);
    unknown values stay as written (the validator reports them). Raises :class:`SpecError` when a
    mapped source column is absent, or a date column's format is ambiguous and not chosen.
    """
    from hcc.ingest import dates  # noqa: PLC0415  (see the imports)

    mapping.check()
    dropped = [c for c in mapping.dropped if c in raw.cells.columns]
    # shallow: columns below are replaced, never written into, so raw.cells is untouched and not copied
    cells = raw.cells.drop(columns=dropped) if dropped else raw.cells.copy(deep=False)
    absent = [s for s, _ in mapping.columns if s not in cells.columns]
    if absent:
        raise SpecError(tr("{name}: the mapping names column(s) {absent}, which the file does not have. The file "
                           "has: {columns}.", name=raw.name, absent=", ".join(absent),
                           columns=", ".join(map(str, cells.columns[:30]))))
    column_map = mapping.column_map
    # an unmapped column that already bears a mapped canonical name is kept, renamed, and reported
    clashes = {c: tr("{column} (not used)", column=c) for c in cells.columns
               if c not in column_map and c in column_map.values()}
    renamed = [clashes.get(c, c) for c in cells.columns]
    cells.columns = [column_map.get(c, c) for c in renamed]  # as two rename() calls, without their copies
    sources = {c: s for s, c in mapping.columns}  # the raw column behind each canonical one (its memo)
    detected = date_detections(raw, mapping)
    questions = date_questions(raw, mapping, detected)
    if questions:
        raise SpecError(tr("{name}: choose the date format of {columns} — every day and month is 12 or less, so "
                           "03/04/2021 could be 3 April or 4 March.", name=raw.name, columns=", ".join(questions)))
    formats = dict(mapping.date_formats)
    same = {}  # canonical column -> its source column, when the cells are the source's as read
    for canonical in cells.columns:
        col = COLUMN_BY_NAME.get(canonical)
        if col is None:
            continue
        source = sources.get(canonical, canonical)
        if col.kind is Kind.DATE:
            found = detected[canonical].fmt if canonical in detected else None
            text = cells[canonical]
            iso = dates.to_iso(text, formats.get(canonical) or found or dates.YMD, distinct=raw.distinct(source))
            if iso is not text:  # rewritten to ISO: other cells
                cells[canonical] = iso
                continue
        elif needs_value_mapping(canonical):
            lookup = mapping.value_map(canonical)
            if lookup:
                distinct = raw.distinct(source)  # normalise each distinct word once
                recode = {v: lookup[k] for v in distinct if (k := normalize_value(v)) in lookup}
                cells[canonical] = cells[canonical].map(recode).fillna(cells[canonical])
                continue
        same[canonical] = source
    return raw.with_cells(cells, same)


# Tables for the mapping editor -------------------------------------------------------------------

#: Column names of the editor tables: keys the Data page reads back, so they stay English (the page
#: labels each column in the session's language, ``ui/mapping_ui.py``).
SOURCE, EXAMPLES, MAPS_TO, MATCHED_BY, VALUE_COLUMN, VALUE, COUNT = (
    "Column in your file", "Examples", "Maps to", "Matched by", "Column", "Value in your file", "Rows")


def match_word(how: str) -> str:
    """How a column was matched (:attr:`ColumnMatch.how`), in the current language."""
    return {"exact": trc("column match", "exact"), "synonym": trc("column match", "synonym"),
            "fuzzy": trc("column match", "fuzzy"), "ambiguous": trc("column match", "ambiguous")}.get(how, how)


def column_rows(raw: RawTable, mapping: Mapping, n_examples: int = 3) -> pd.DataFrame:
    """One row per source column: examples of its values, the canonical column it maps to, how matched.

    Columns named in ``mapping.dropped`` are left out (they are identifiers the user removed).
    """
    import pandas as pd  # noqa: PLC0415  (see the imports)

    how = {m.source: m.how for m in propose_columns(raw.columns)}
    current = mapping.column_map
    rows = []
    for source in raw.columns:
        if source in mapping.dropped:
            continue
        examples = raw.once(("examples", source, n_examples),
                            lambda source=source: ", ".join(_first_distinct(raw, source, n_examples).str.slice(0, 24)))
        target = current.get(source, "")
        word = match_word(how[source]) if how.get(source) else ""
        matched = tr("proposed: {how}", how=word) if word and target else word
        rows.append({SOURCE: source, EXAMPLES: examples, MAPS_TO: target, MATCHED_BY: matched})
    return pd.DataFrame(rows, columns=[SOURCE, EXAMPLES, MAPS_TO, MATCHED_BY])


def _first_distinct(raw: RawTable, column: str, n: int, head: int = 1000) -> pd.Series:
    """The first ``n`` distinct non-blank values of a column in file order: looked for in the first
    ``head`` rows, in the column's distinct values (:meth:`RawTable.distinct`, in order of first
    occurrence) only when those hold fewer (the same values either way; no pass over a million rows
    to show three examples)."""
    import pandas as pd  # noqa: PLC0415  (see the imports)

    values = raw.cells[column]
    part = values.iloc[:head]
    found = part[part != ""].drop_duplicates().head(n)
    if len(found) >= n or len(part) == len(values):
        return found
    counts = raw.known(("value_counts", column))  # counted for the value proposal (a yes/no column, a sex)
    if counts is not None and len(found) == len(counts) - ("" in counts.index):
        return found  # every value of the column is in the first rows: in file order already (no pass)
    distinct = pd.Series(raw.distinct(column))
    return distinct[distinct != ""].head(n)


def with_column_rows(mapping: Mapping, raw: RawTable, rows: pd.DataFrame) -> Mapping:
    """``mapping`` with the column assignment of an edited :func:`column_rows` table."""
    edited = {str(s): str(t) for s, t in zip(rows[SOURCE], rows[MAPS_TO].fillna("")) if t}
    return with_columns(mapping, raw, edited)


def column_choice(name: str) -> str:
    """How the column editor offers a contract column: its plain clinical description first, the
    internal name after it, e.g. "Locoregional therapy given together with first line (concomitant_lrt)";
    the description is cut at its first ":" or "(" so the list stays readable."""
    words = re.split(r":| \(", COLUMN_BY_NAME[name].meaning, maxsplit=1)[0].strip()
    return f"{words} ({name})"


#: :func:`column_choice` back to the contract column (the editor's list holds the descriptions).
CHOICE_TO_COLUMN: dict[str, str] = {column_choice(c.name): c.name for c in COLUMNS}


def likely_sources(raw: RawTable, mapping: Mapping, canonical: str, n: int = 3) -> tuple[str, ...]:
    """Unmapped source columns that may hold ``canonical``, most likely first (at most ``n``).

    Scored by the best ``difflib`` ratio of the column's name against the canonical name and its
    :data:`COLUMN_SYNONYMS`, plus 0.2 per word they share; columns scoring under 0.5 are not offered.
    """
    forms = [normalize(canonical)] + [normalize(x) for x in COLUMN_SYNONYMS.get(canonical, ())]
    words = {w for f in forms for w in f.split() if len(w) > 1}
    mapped = set(mapping.column_map) | set(mapping.dropped)
    scored = []
    for source in raw.columns:
        if source in mapped:
            continue
        key = normalize(source)
        ratio = max(difflib.SequenceMatcher(None, key, f).ratio() for f in forms)
        score = ratio + 0.2 * len(words & set(key.split()))
        if score >= 0.5:
            scored.append((-score, source))
    return tuple(source for _, source in sorted(scored)[:n])


def value_rows(raw: RawTable, mapping: Mapping) -> pd.DataFrame:
    """The distinct values of every mapped word column, with the canonical value each maps to
    (``""``: kept as written — a new regimen code, or an unknown category the validator reports)."""
    import pandas as pd  # noqa: PLC0415  (see the imports)

    rows = []
    for source, canonical in mapping.columns:
        if not needs_value_mapping(canonical):
            continue
        chosen = mapping.value_map(canonical)
        for v in value_matches(raw.value_counts(source), canonical):
            target = chosen.get(normalize_value(v.source), v.source if v.proposal == v.source else "")
            rows.append({VALUE_COLUMN: canonical, VALUE: v.source, COUNT: v.count, MAPS_TO: target})
    return pd.DataFrame(rows, columns=[VALUE_COLUMN, VALUE, COUNT, MAPS_TO])


def with_value_rows(mapping: Mapping, rows: pd.DataFrame) -> Mapping:
    """``mapping`` with the value assignment of an edited :func:`value_rows` table."""
    values = tuple((str(c), str(s), str(t).strip()) for c, s, t in zip(rows[VALUE_COLUMN], rows[VALUE],
                                                                          rows[MAPS_TO].fillna(""))
                   if str(t).strip() and str(t).strip() != str(s))
    return replace(mapping, values=values)


#: The answers to an identifier question: English keys (the Data page words them in the session's language).
DROP, NOT_IDENTIFIER, CAP_AGE = "drop", "not an identifier", "top-code at 90"


def resolve_identifier(mapping: Mapping, column: str, action: str) -> Mapping:
    """``mapping`` with one identifier finding resolved: drop the column, clear it, or top-code ages."""
    if action == DROP:
        return replace(mapping, dropped=mapping.dropped + (column,),
                       columns=tuple((s, c) for s, c in mapping.columns if s != column))
    if action == CAP_AGE:
        return replace(mapping, cap_age=True)
    if action == NOT_IDENTIFIER:
        return replace(mapping, not_identifiers=mapping.not_identifiers + (column,))
    raise ValueError(f"unknown action {action!r}")
