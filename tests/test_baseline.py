"""Table 1: the tests it uses against R, and its shape on hand-built and demo cohorts.

R (``tests/reference/baseline_reference.R``, R 4.2.2): ``chisq.test(t, correct = FALSE)``,
``fisher.test(t)`` (exact, network algorithm), ``kruskal.test(age ~ factor(ph.ecog), lung)``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from hcc.stats.baseline import CHI_SQUARE, FISHER, FISHER_MC, baseline_table, categorical_test, to_xlsx
from hcc.cohort.rules import MAIN, PRESETS, CohortSpec, apply_to_registry
from hcc.ingest.registry import load_demo
from hcc.schema import Col

REF = Path(__file__).parent / "reference"
TESTS = pd.read_csv(REF / "baseline_tests.csv")


def _table(row) -> np.ndarray:
    cells = np.array([int(c) for c in row["cells"].split()])
    return cells.reshape(row["nrow"], -1)


@pytest.mark.parametrize("row", TESTS.to_dict("records"), ids=lambda r: r["name"])
def test_categorical_test_matches_r(row) -> None:
    """Chi-square when every expected count >= 5 (R chisq.test, correct = FALSE, 1e-9); exact Fisher
    for 2 x 2 (R fisher.test, 1e-9); for larger sparse tables Monte Carlo with 99,999 tables, within
    0.01 of R's exact network-algorithm p (about 6 Monte Carlo standard errors)."""
    p, name = categorical_test(_table(row))
    if row["min_expected"] >= 5:
        assert name == CHI_SQUARE and p == pytest.approx(row["chisq_p"], rel=1e-9)
    elif row["nrow"] == 2 and _table(row).shape[1] == 2:
        assert name == FISHER and p == pytest.approx(row["fisher_p"], rel=1e-9)
    else:
        assert name == FISHER_MC and abs(p - row["fisher_p"]) < 0.01


def test_monte_carlo_p_is_reproducible() -> None:
    t = _table(TESTS.iloc[2])
    assert categorical_test(t) == categorical_test(t)


def test_kruskal_wallis_matches_r() -> None:
    """tableone's Kruskal–Wallis is scipy's; R: kruskal.test(age ~ factor(ph.ecog), lung), with
    the same ages exported by the R script (lung_age_ecog.csv)."""
    ref = pd.read_csv(REF / "kruskal_lung.csv").iloc[0]
    lung_age = pd.read_csv(REF / "lung_age_ecog.csv")
    groups = [g["age"].to_numpy() for _, g in lung_age.groupby("ph.ecog")]
    res = stats.kruskal(*groups)
    assert res.statistic == pytest.approx(ref["statistic"], rel=1e-9)
    assert res.pvalue == pytest.approx(ref["p"], rel=1e-9)


def test_demo_table_one_shape_and_downloads() -> None:
    cohort = apply_to_registry(load_demo(), PRESETS[MAIN])
    table = baseline_table(cohort.frame, cohort.regimens)
    assert list(table.columns[:7]) == ["Characteristic", "Level", "Missing", "Overall", "SOR", "LEN", "ATZ_BEV"]
    assert table.iloc[0]["Overall"] == str(cohort.n)
    assert {"p", "Test"} <= set(table.columns) and any(c.startswith("SMD ") for c in table.columns)
    age = table[table["Characteristic"].str.startswith("Age")].iloc[0]
    assert age["Test"] == "Kruskal-Wallis" and "[" in age["SOR"]
    assert to_xlsx(table)[:2] == b"PK"  # a zip container: a real xlsx


def test_single_regimen_table_has_no_tests() -> None:
    cohort = apply_to_registry(load_demo(), CohortSpec(regimens=("SOR",)))
    table = baseline_table(cohort.frame, cohort.regimens)
    assert "p" not in table.columns and table.iloc[0]["Overall"] == str(cohort.n)


def test_registry_without_baseline_columns_gives_counts_only() -> None:
    """An export with no baseline variables: Table 1 is the counts row, without calling tableone on
    every column (which it does when given none)."""
    from tests.conftest import make_registry
    reg = make_registry([{Col.REGIMEN_1L: "SOR"}, {Col.REGIMEN_1L: "LEN"}, {Col.REGIMEN_1L: "LEN"}])
    table = baseline_table(reg.frame, reg.regimens)
    assert table.to_dict("records") == [{"Characteristic": "n", "Level": "", "Missing": "", "Overall": "3",
                                         "SOR": "1", "LEN": "2"}]


def test_table_one_has_the_treatment_era_row_as_r() -> None:
    """Year of first-line start (hcc.schema.ERA_YEAR) as a Table 1 row: median [Q1, Q3] per regimen and
    the Kruskal–Wallis p. R (tests/reference/era_reference.R): quantile(type = 7) of
    as.numeric(format(start_1l, "%Y")) by regimen_1l; kruskal.test(year_1l ~ regimen_1l)$p.value."""
    expected = pd.read_csv(Path(__file__).parent / "reference" / "era_table1.csv").set_index("group")
    cohort = apply_to_registry(load_demo(), PRESETS[MAIN])
    table = baseline_table(cohort.frame, cohort.regimens)
    row = table[table["Characteristic"].str.startswith("Year of first-line start")].iloc[0]
    for group, r in expected.iterrows():
        assert "." not in row[group], f"years are whole years: {row[group]!r}"
        med, q1, q3 = (float(x) for x in row[group].replace("[", " ").replace(",", " ").rstrip("]").split())
        assert (q1, med, q3) == pytest.approx((r["q1"], r["median"], r["q3"]), abs=1e-9), group
    assert expected["kruskal_p"].iloc[0] < 0.001 and row["p"] == "<0.001" and row["Test"] == "Kruskal-Wallis"
    groups = [cohort.frame.loc[cohort.frame[Col.REGIMEN_1L] == g, Col.START_1L].dt.year for g in cohort.regimens]
    assert stats.kruskal(*groups).pvalue == pytest.approx(expected["kruskal_p"].iloc[0], rel=1e-6)


def _stock_tableone_table(frame: pd.DataFrame, regimens: tuple[str, ...]) -> pd.DataFrame:
    """Table 1 built by tableone's own ``TableOne`` (cell by cell), for comparison."""
    from unittest import mock

    from tableone import TableOne

    import hcc.stats.baseline as baseline
    with mock.patch.object(baseline, "_TableOne", TableOne):
        return baseline_table(frame, regimens)


def _messy(frame: pd.DataFrame) -> pd.DataFrame:
    """A cohort as exports come: blanks everywhere, a rare etiology and BCLC stage, a constant column,
    a column with no value, AFP mostly blank."""
    rng = np.random.default_rng(17)
    messy = frame.copy()
    for col in (Col.AGE, Col.ETIOLOGY, Col.CHILD_PUGH_CLASS, Col.ECOG, Col.MVI, Col.START_1L):
        messy.loc[rng.random(len(messy)) < 0.2, col] = None
    messy[Col.SEX] = "F"
    messy[Col.ALBI_GRADE] = None
    messy.loc[rng.random(len(messy)) < 0.9, Col.AFP] = np.nan
    messy.loc[messy.index[3], Col.ETIOLOGY] = "Wilson disease"
    messy.loc[messy.index[5], Col.BCLC] = "0"
    return messy


@pytest.mark.parametrize("case", ["demo", "messy"])
def test_table_one_per_column_equals_tableone_cell_by_cell(case, monkeypatch) -> None:
    """Table 1 as built (tableone with its two cell-by-cell steps done per column) equals tableone's own
    table in every cell, p-value, test name and SMD: on the demo's main cohort, and on a messy cohort
    (blanks, rare levels so that Fisher's tests run, a constant column, a column with no value). Both
    sides call the same Monte Carlo test; fewer tables keep the test short."""
    monkeypatch.setattr("hcc.stats.baseline.MONTE_CARLO_TABLES", 999)
    cohort = apply_to_registry(load_demo(), PRESETS[MAIN])
    frame = cohort.frame if case == "demo" else _messy(cohort.frame.groupby(Col.REGIMEN_1L).head(60))
    table = baseline_table(frame, cohort.regimens)
    pd.testing.assert_frame_equal(table, _stock_tableone_table(frame, cohort.regimens))
    if case == "messy":
        assert "Fisher" in " ".join(table["Test"]) and not table["Characteristic"].str.startswith("ALBI").any()


@pytest.mark.parametrize(("include_null", "row_percent"), [(True, False), (False, True)])
def test_categorical_summary_equals_tableone_with_its_options(include_null, row_percent) -> None:
    """The per-column categorical summary equals tableone's with its other options too, and gives way to
    tableone's own loop for cells that are not text (1 and True, one level to a dict)."""
    from tableone.tables import Tables

    from hcc.stats.baseline import _ColumnTables
    data = pd.DataFrame({"g": ["a", "b", "a", "b", "a", None], "x": ["u", None, "v", "u", np.nan, "u"],
                         "y": ["k", "k", "k", "k", "k", "k"], "z": [1, True, 2.5, None, 1, "w"]})
    for columns in (["x", "y"], ["x", "z"]):
        for groupby, levels in (("g", ["a", "b"]), (None, ["Overall"])):
            args = (data, columns, {"y": 0}, row_percent, include_null)
            pd.testing.assert_frame_equal(_ColumnTables().create_cat_describe(*args, groupby, levels),
                                          Tables().create_cat_describe(*args, groupby, levels))
