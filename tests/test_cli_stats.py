"""``python -m hcc analyze --stats km``: only what R's survfit + survdiff cover, and R's numbers."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from hcc.cli.main import main
from hcc.ingest.registry import DEMO_PATH
from hcc.schema import DAYS_PER_MONTH

REF = Path(__file__).parent / "reference"


@pytest.fixture(scope="module")
def km_output(tmp_path_factory) -> dict:
    out = tmp_path_factory.mktemp("km") / "km.json"
    assert main(["analyze", "--data", str(DEMO_PATH), "--preset", "main", "--stats", "km", "--out", str(out)]) == 0
    return json.loads(out.read_text())


def test_only_n_events_median_ci_and_logrank(km_output) -> None:
    assert km_output["stats"] == "km"
    os_ = km_output["endpoints"]["OS"]
    assert set(os_) == {"unit", "groups", "logrank", "ci_method", "methods"}
    assert set(os_["groups"]["SOR"]) == {"n", "events", "median", "median_ci"}
    assert set(os_["methods"]) == {"estimator", "variance", "ci", "median", "test"}


def test_numbers_are_r_survfit_and_survdiff(km_output) -> None:
    """R (tests/reference/demo_reference.R, main cohort): survfit(Surv(time, status) ~ 1,
    conf.type = "log-log"); quantile(fit, 0.5) per regimen, and survdiff(Surv(time, status) ~ group).
    Medians in days = months x 30.4375; relative 1e-9, counts exact."""
    medians = pd.read_csv(REF / "demo_medians.csv", na_values=["NA"], keep_default_na=False)
    checked = 0
    for row in medians[medians["cohort"] == "main"].to_dict("records"):
        g = km_output["endpoints"][row["endpoint"]]["groups"][row["group"]]
        assert (g["n"], g["events"]) == (row["n"], row["events"])
        for got, expected in ((g["median"], row["median_days"]), (g["median_ci"][0], row["lower_days"]),
                              (g["median_ci"][1], row["upper_days"])):
            if pd.isna(expected):
                assert got is None
            else:
                assert got * DAYS_PER_MONTH == pytest.approx(expected, rel=1e-9)
        checked += 1
    logranks = pd.read_csv(REF / "demo_logrank.csv")
    for row in logranks[logranks["cohort"] == "main"].to_dict("records"):
        test = km_output["endpoints"][row["endpoint"]]["logrank"]
        assert test["statistic"] == pytest.approx(row["chisq"], rel=1e-9) and test["df"] == row["df"]
        checked += 1
    assert checked > 20


def test_same_numbers_as_the_full_analysis(km_output) -> None:
    """--stats km reports the full analysis's numbers, only fewer of them."""
    from hcc.analysis import analyze_endpoint, endpoint_json
    from hcc.formatting import json_safe
    from hcc.cohort.rules import MAIN, PRESETS, apply_to_registry
    from hcc.ingest.registry import load_demo

    cohort = apply_to_registry(load_demo(), PRESETS[MAIN])
    for name, endpoint in km_output["endpoints"].items():
        full = json_safe(endpoint_json(analyze_endpoint(cohort, name)))
        for group, values in endpoint["groups"].items():
            assert {k: full["groups"][group][k] for k in values} == values
        assert endpoint["logrank"] == full["logrank"]
