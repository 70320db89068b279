"""Baseline characteristics by first-line regimen ("Table 1"), built with ``tableone``.

Continuous variables as median [Q1, Q3] with the Kruskal–Wallis test; categorical variables as
n (%) with the chi-square test, or Fisher's exact test when any expected count is below 5 (exact for
2 x 2 tables; Fisher–Freeman–Halton by seeded Monte Carlo with 99,999 tables for larger ones, as
R's ``fisher.test(simulate.p.value = TRUE)``); standardized mean differences between every pair of
regimens; missing values counted per variable.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats
from tableone import TableOne
from tableone.tables import Tables

from hcc.i18n import N_, tr, trc
from hcc.schema import AFP_400, AFP_CUTOFF_NG_ML, ERA_YEAR, Col, value_label

MONTE_CARLO_TABLES = 99_999
MONTE_CARLO_SEED = 20260101


@dataclass(frozen=True)
class Variable:
    """One row group of Table 1: the column, its label, and whether it is categorical."""

    column: str
    label: str
    categorical: bool


VARIABLES: tuple[Variable, ...] = (
    Variable(Col.AGE, N_("Age, years"), False),
    Variable(Col.SEX, N_("Sex"), True),
    Variable(Col.ETIOLOGY, N_("Etiology"), True),
    Variable(Col.CHILD_PUGH_CLASS, N_("Child-Pugh class"), True),
    Variable(Col.ALBI_GRADE, N_("ALBI grade"), True),
    Variable(Col.BCLC, N_("BCLC stage"), True),
    Variable(Col.ECOG, N_("ECOG performance status"), True),
    Variable(Col.MVI, N_("Macrovascular invasion"), True),
    Variable(Col.EHS, N_("Extrahepatic spread"), True),
    Variable(Col.AFP, N_("AFP, ng/mL"), False),
    Variable(AFP_400, N_("AFP ≥ 400 ng/mL"), True),
    Variable(ERA_YEAR, N_("Year of first-line start"), False),
)


# Test names (English in results and the R comparison; Table 1 shows them in the reader's language).
CHI_SQUARE = N_("Chi-square")
FISHER = N_("Fisher's exact")
FISHER_MC = N_("Fisher's exact (Monte Carlo)")
#: tableone's suffixes of a variable's label, as a reader sees them (:func:`baseline_table`).
_SUFFIXES = (", n (%)", ", median [Q1,Q3]", ", mean (SD)")


def categorical_test(table: np.ndarray) -> tuple[float, str]:
    """p-value and test name for a levels x groups contingency table of counts.

    Chi-square (no continuity correction, R ``chisq.test(correct = FALSE)``) when every expected
    count is at least 5; otherwise Fisher's exact test: exact for 2 x 2 (R ``fisher.test``), and
    Fisher–Freeman–Halton by seeded Monte Carlo for larger tables (R ``fisher.test(simulate.p.value
    = TRUE, B = 99999)``). Levels or groups with no patient are dropped first.
    """
    table = np.asarray(table, dtype=np.int64)
    table = table[table.sum(axis=1) > 0][:, table.sum(axis=0) > 0]
    if table.shape[0] < 2 or table.shape[1] < 2:
        return np.nan, ""
    _, p, _, expected = stats.chi2_contingency(table, correction=False)
    if (expected >= 5).all():
        return float(p), CHI_SQUARE
    if table.shape == (2, 2):
        return float(stats.fisher_exact(table).pvalue), FISHER
    method = stats.MonteCarloMethod(n_resamples=MONTE_CARLO_TABLES, rng=np.random.default_rng(MONTE_CARLO_SEED))
    return float(stats.fisher_exact(table, method=method).pvalue), FISHER_MC


def _tableone_test(column: str, names: dict[str, str]):
    """tableone calls a custom test with one list of per-group counts per level."""
    def test(*level_counts: list[int]) -> float:
        p, names[column] = categorical_test(np.array(level_counts))
        return p
    return test


def _per_value(values: pd.Series, label, *, keep_missing: bool) -> pd.Series:
    """``values.map(label)`` on the recorded values, computed once per distinct value (a registry has a
    handful per column, a cohort up to a million rows). Missing cells stay as they are
    (``keep_missing``) or become ``None``."""
    labels = {v: label(v) for v in values.dropna().unique()}
    mapped = values.map(labels)
    if keep_missing:
        return mapped.where(values.notna(), values)
    return mapped.astype(object).where(values.notna(), None)


def _prepare(frame: pd.DataFrame) -> pd.DataFrame:
    derived = (AFP_400, ERA_YEAR)
    data = frame[[v.column for v in VARIABLES if v.column not in derived] + [Col.REGIMEN_1L]].copy()
    data[ERA_YEAR] = pd.to_datetime(frame[Col.START_1L], errors="coerce").dt.year.astype(float)
    yes, no = trc("yes/no value", "yes"), trc("yes/no value", "no")
    for col in (Col.MVI, Col.EHS):
        data[col] = data[col].map({True: yes, False: no})
    for col in (Col.SEX, Col.ETIOLOGY):
        data[col] = _per_value(data[col], lambda v, c=col: value_label(c, v), keep_missing=True)
    data[Col.ECOG] = _per_value(data[Col.ECOG], lambda x: str(int(x)), keep_missing=False)
    data[AFP_400] = np.where(data[Col.AFP].isna(), None, np.where(data[Col.AFP] >= AFP_CUTOFF_NG_ML, yes, no))
    return data


class _ColumnTables(Tables):
    """tableone's intermediate tables with its two cell-by-cell steps done per column, same results.

    tableone 0.9.6 turns every categorical cell into ``str`` in a Python loop (twice per group) and
    coerces every continuous cell with ``pd.to_numeric`` one at a time before its tests: ~20 s for a
    cohort of 400,000. Here the strings are made once per distinct value and numeric columns are taken
    as they are. Every other step is tableone's own code (``Tables``), so the cells, p-values and SMDs
    are those of tableone (``tests/test_baseline.py`` compares both on messy cohorts). Columns holding
    anything but text in an object column (e.g. ``1`` and ``True``, which one dict key would merge)
    go through tableone's own loop.
    """

    def create_htest_table(self, data, continuous, categorical, nonnormal, groupby, groupbylvls, htest,
                           pval, pval_adjust, ttest_equal_var):
        if not all(isinstance(data[v].dtype, np.dtype) and data[v].dtype.kind in "fiu" for v in continuous):
            return super().create_htest_table(data, continuous, categorical, nonnormal, groupby, groupbylvls,
                                              htest, pval, pval_adjust, ttest_equal_var)
        # tableone's loop (tables.py, create_htest_table) with pd.to_numeric per column, not per cell
        df = pd.DataFrame(index=continuous + categorical, columns=["continuous", "nonnormal", "min_observed",
                                                                   "P-Value", "Test"])
        df.index = df.index.rename("variable")
        df["continuous"] = np.where(df.index.isin(continuous), True, False)
        df["nonnormal"] = np.where(df.index.isin(nonnormal), True, False)
        for v in df.index:
            is_continuous = df.loc[v]["continuous"]
            is_categorical = ~df.loc[v]["continuous"]
            is_normal = ~df.loc[v]["nonnormal"]
            if is_continuous:
                grouped_data = {s: pd.to_numeric(data.loc[data[groupby] == s, v], errors="coerce").dropna().values
                                for s in groupbylvls}
                min_observed = min(len(x) for x in grouped_data.values())
            else:
                cross_tab = pd.crosstab(data[groupby].rename("_groupby_var_"), data[v])
                min_observed = cross_tab.sum(axis=1).min()
                grouped_data = cross_tab.T.to_dict("list")
            df.loc[v, "min_observed"] = min_observed
            df.loc[v, "P-Value"], df.loc[v, "Test"], _ = self.statistics._p_test(
                v, grouped_data, is_continuous, is_categorical, is_normal, min_observed, htest, ttest_equal_var)
        if pval and pval_adjust:
            adjusted = self.statistics.multipletests(df["P-Value"], alpha=0.05, method=pval_adjust)
            df["P-Value (adjusted)"] = adjusted[1]
            df["adjust method"] = pval_adjust
        return df

    def create_cat_describe(self, data, categorical, decimals, row_percent, include_null, groupby=None,
                            groupbylvls=None):
        codes = {c: _text_codes(data[c]) for c in categorical}
        if any(code is None for code in codes.values()):
            return super().create_cat_describe(data, categorical, decimals, row_percent, include_null,
                                               groupby=groupby, groupbylvls=groupbylvls)
        # tableone's create_cat_describe (tables.py) with the value counts made from codes: each cell's
        # str() is the cell itself (text) and missing cells are not counted, as tableone's melt drops them
        all_levels = {c: list(codes[c][1]) for c in categorical}
        full_index = pd.MultiIndex.from_tuples([(c, val) for c in categorical for val in all_levels[c]],
                                               names=["variable", "value"])

        def counts(rows) -> pd.Series:
            freq = []
            for c in categorical:
                code = codes[c][0] if rows is None else codes[c][0][rows]
                freq.append(np.bincount(code[code >= 0], minlength=len(all_levels[c])))
            return pd.Series(np.concatenate(freq) if freq else [], index=full_index, dtype=np.int64)

        def recorded(rows) -> np.ndarray:
            return np.array([((codes[c][0] if rows is None else codes[c][0][rows]) >= 0).sum()
                             for c in categorical], dtype=np.int64)

        full_counts = counts(None)
        full_counts = full_counts[full_counts > 0]  # tableone's groupby lists the levels seen only
        group_dict = {}
        for g in groupbylvls:
            rows = (data[groupby] == g).to_numpy() if groupby else None
            n = recorded(rows)
            ct = pd.DataFrame({"n": n}, index=pd.Index(categorical, name="variable"))
            if include_null:
                nulls = pd.DataFrame("", index=categorical, columns=["Missing"])
            else:
                size = len(data) if rows is None else int(rows.sum())
                nulls = pd.DataFrame({"Missing": size - n}, index=categorical)
            nulls.index.name = "variable"
            df = counts(rows).to_frame(name="freq")
            df["percent"] = df["freq"].div(df.groupby(level=0).freq.sum(), level=0).astype(float) * 100
            df["percent_row"] = df.index.map(lambda idx: df.at[idx, "freq"] / full_counts.get(idx, np.nan) * 100)
            if isinstance(decimals, dict):
                df.loc[:, "percent_str"] = df.apply(self.format_cat, axis=1, args=["percent", decimals])
                df.loc[:, "percent_row_str"] = df.apply(self.format_cat, axis=1, args=["percent_row", decimals])
            else:
                f = "{{:.{}f}}".format(decimals if isinstance(decimals, int) else 1)
                df["percent_str"] = df["percent"].astype(float).map(f.format)
                df["percent_row_str"] = df["percent_row"].astype(float).map(f.format)
            df = df.join(ct)
            levels = df.reset_index()[["variable", "value"]].groupby("variable").first()
            nulls = nulls.join(levels).set_index("value", append=True)
            df = df.join(nulls)
            percent = df.percent_row_str if row_percent else df.percent_str
            df["t1_summary"] = df.freq.map(str) + " (" + percent.map(str) + ")"
            group_dict[g] = df
        df_cat = pd.concat(group_dict, axis=1)
        if df_cat.columns.nlevels > 1:
            df_cat = df_cat.swaplevel(0, 1, axis=1).sort_index(axis=1, level=0)
        return df_cat


def _text_codes(values: pd.Series) -> tuple[np.ndarray, np.ndarray] | None:
    """``pd.factorize(values, sort=True)`` (missing cells coded -1) when every recorded cell is a ``str``,
    so that tableone's ``str(cell)`` is the cell itself; else ``None``."""
    if not (pd.api.types.is_object_dtype(values) or pd.api.types.is_string_dtype(values)):
        return None
    codes, uniques = pd.factorize(values, sort=True)
    if not all(isinstance(v, str) for v in uniques):
        return None
    return codes, np.asarray(uniques, dtype=object)


class _TableOne(TableOne):
    """``tableone.TableOne`` with :class:`_ColumnTables`: the same table, built per column."""

    def create_intermediate_tables(self, data):
        self.tables = _ColumnTables()
        super().create_intermediate_tables(data)


#: Decimals per variable (tableone's default for the others is 1): calendar years are whole years, as
#: "2019 [2015,2021]" rather than "2019.0 [2015.0,2021.0]"; a quartile between two years rounds half to even.
_DECIMALS = {ERA_YEAR: 0}


def baseline_table(frame: pd.DataFrame, regimens: tuple[str, ...]) -> pd.DataFrame:
    """Table 1 by first-line regimen for the cohort ``frame``.

    Returns a flat table: ``Characteristic``, ``Level``, ``Missing``, ``Overall``, one column per
    regimen (in ``regimens`` order), ``p``, ``Test`` and one ``SMD a vs b`` column per pair.
    Variables with no recorded value in the cohort are left out, and the treatment era (year of
    first-line start) when every patient started in the same year.
    """
    data = _prepare(frame)
    # The era row needs two years at least (a single year says nothing, and its test is undefined).
    present = [v for v in VARIABLES if data[v.column].notna().any()
               and (v.column != ERA_YEAR or data[v.column].nunique() > 1)]
    if not present:  # tableone would take "no columns" to mean "every column"
        counts = frame[Col.REGIMEN_1L].value_counts()
        return pd.DataFrame([{"Characteristic": "n", "Level": "", "Missing": "", "Overall": str(len(frame)),
                              **{r: str(int(counts.get(r, 0))) for r in regimens}}])
    categorical = [v.column for v in present if v.categorical]
    names: dict[str, str] = {}
    tests = {c: _tableone_test(c, names) for c in categorical}
    several = len(regimens) > 1
    table = _TableOne(
        data, columns=[v.column for v in present], categorical=categorical,
        nonnormal=[v.column for v in present if not v.categorical],
        groupby=Col.REGIMEN_1L if several else None, pval=several, smd=several, htest_name=several,
        htest=tests if several else None, missing=True, rename={v.column: tr(v.label) for v in present},
        order={Col.REGIMEN_1L: list(regimens)} if several else None, decimals=_DECIMALS, label_suffix=True,
    ).tableone
    table.columns = [c[-1] if isinstance(c, tuple) else c for c in table.columns]
    table = table.reset_index()
    table.columns = ["Characteristic", "Level", *table.columns[2:]]
    rename = {"P-Value": "p", "Test": "Test"}
    table = table.rename(columns=rename)
    smd_cols = [c for c in table.columns if str(c).startswith("SMD (")]
    table = table.rename(columns={c: "SMD " + c[5:-1].replace(",", " vs ") for c in smd_cols})
    ordered = ["Characteristic", "Level", "Missing", "Overall", *[r for r in regimens if r in table.columns]]
    rest = [c for c in table.columns if c not in ordered]
    table = table[ordered + rest]
    if several:
        labels = {tr(v.label): tr(names[v.column]) for v in present if v.column in names}
        for label, name in labels.items():
            table.loc[table["Characteristic"].str.startswith(label) & (table["Test"] != ""), "Test"] = name
    table["Characteristic"] = table["Characteristic"].map(_suffix_in_language)
    if "Test" in table.columns:
        table["Test"] = table["Test"].map(lambda t: tr("Kruskal-Wallis") if t == "Kruskal-Wallis" else t)
    return table.fillna("").astype(str)


def _suffix_in_language(label: str) -> str:
    """A Table 1 label with tableone's English suffix (", n (%)") in the current language."""
    for suffix in _SUFFIXES:
        if label.endswith(suffix):
            return label[: -len(suffix)] + _suffix_text(suffix)
    return label


def _suffix_text(suffix: str) -> str:
    return {", n (%)": tr(", n (%)"), ", median [Q1,Q3]": tr(", median [Q1,Q3]"),
            ", mean (SD)": tr(", mean (SD)")}[suffix]


def table1_header(column: str) -> str:
    """A column name of :func:`baseline_table` (kept in English, as code reads it) as a reader sees it:
    display sites rename with it, e.g. ``table.rename(columns=table1_header)``. Regimen columns stay."""
    if str(column).startswith("SMD ") and " vs " in str(column):
        a, b = str(column)[4:].split(" vs ", 1)
        return tr("SMD {a} vs {b}", a=a, b=b)
    words = {"Characteristic": trc("table 1", "Characteristic"), "Level": trc("table 1", "Level"),
             "Missing": trc("table 1", "Missing"), "Overall": trc("table 1", "Overall"),
             "Test": trc("table 1", "Test")}
    return words.get(column, column)


def to_xlsx(table: pd.DataFrame, sheet: str = "Table 1") -> bytes:
    """The table as an Excel workbook (bytes; nothing is written to disk)."""
    buf = io.BytesIO()
    with pd.ExcelWriter(buf, engine="openpyxl") as writer:
        table.to_excel(writer, sheet_name=sheet, index=False)
    return buf.getvalue()
