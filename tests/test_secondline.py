"""Second line: sequences, uptake, groupings (hand-built registries), and PFS2/TTNT/grouped KM against R."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from hcc.analysis import analyze_by_second_line
from hcc.cli.main import main
from hcc.cohort.rules import MAIN, MAX_GROUPS, PRESETS, CohortSpec, apply_to_registry
from hcc.ingest.registry import load_demo
from hcc.schema import DAYS_PER_MONTH, Col, Endpoint
from hcc.cohort.secondline import (
    ALIVE_AFTER_SECOND, DIED_AFTER_SECOND, GIVEN, NO_SECOND_LINE_ALIVE, NO_SECOND_LINE_DIED, NOT_GIVEN, TKI,
    class_map, derive_by_second_line, derive_by_second_line_given, treatment_paths, uptake,
)
from hcc.stats.survival import summarize
from tests.conftest import make_registry, registry_csv

REF = Path(__file__).parent / "reference"

ROWS = [
    # SOR -> REG -> CAB, dead
    {Col.REGIMEN_1L: "SOR", Col.DATE_PROGRESSION_1L: "2020-03-01", Col.REGIMEN_2L: "REG", Col.START_2L: "2020-03-20",
     Col.DATE_PROGRESSION_2L: "2020-06-01", Col.REGIMEN_3L: "CAB", Col.START_3L: "2020-06-15",
     Col.DATE_DEATH: "2020-12-01", Col.DATE_LAST_FOLLOWUP: "2020-12-01"},
    # SOR -> REG, alive without third line
    {Col.REGIMEN_1L: "SOR", Col.DATE_PROGRESSION_1L: "2020-04-01", Col.REGIMEN_2L: "REG", Col.START_2L: "2020-05-01",
     Col.DATE_LAST_FOLLOWUP: "2021-01-01"},
    # SOR, progressed, died without second line
    {Col.REGIMEN_1L: "SOR", Col.DATE_PROGRESSION_1L: "2020-02-01", Col.DATE_DEATH: "2020-05-01",
     Col.DATE_LAST_FOLLOWUP: "2020-05-01"},
    # LEN -> RAM, died after
    {Col.REGIMEN_1L: "LEN", Col.DATE_PROGRESSION_1L: "2020-05-01", Col.REGIMEN_2L: "RAM", Col.START_2L: "2020-05-11",
     Col.DATE_DEATH: "2020-09-01", Col.DATE_LAST_FOLLOWUP: "2020-09-01"},
    # LEN, no progression, alive
    {Col.REGIMEN_1L: "LEN"},
]


def test_paths_count_every_patient_once() -> None:
    frame = make_registry(ROWS).frame
    paths = treatment_paths(frame)
    got = {(r["first"], r["second"], r["third"]): r["n"] for r in paths.to_dict("records")}
    assert got == {("SOR", "REG", "CAB"): 1, ("SOR", "REG", ALIVE_AFTER_SECOND): 1,
                   ("SOR", NO_SECOND_LINE_DIED, None): 1, ("LEN", "RAM", DIED_AFTER_SECOND): 1,
                   ("LEN", NO_SECOND_LINE_ALIVE, None): 1}
    assert paths["n"].sum() == len(frame)


def test_classes_and_overrides() -> None:
    frame = make_registry(ROWS).frame
    by_class = treatment_paths(frame, "class")
    assert set(by_class["second"]) >= {TKI, "Anti-VEGFR2 antibody"}
    custom = treatment_paths(frame, "class", (("REG", "Regorafenib"),))
    assert "Regorafenib" in set(custom["second"])
    assert class_map((("REG", "X"),))["REG"] == "X" and class_map()["REG"] == TKI


def test_uptake_by_hand() -> None:
    """SOR: 3 patients, 3 progressed, 2 started after progression, gaps 19 and 30 days."""
    sor, length = uptake(make_registry(ROWS).frame, ("SOR", "LEN"))
    assert (sor.patients, sor.progressed, sor.started, sor.started_after_progression) == (3, 3, 2, 2)
    assert sor.share == pytest.approx(2 / 3)
    assert sor.gap_median == pytest.approx((19 + 30) / 2 / DAYS_PER_MONTH)
    assert (length.progressed, length.started_after_progression) == (1, 1)


def test_grouping_within_one_first_line() -> None:
    data, groups, _ = derive_by_second_line(make_registry(ROWS).frame, Endpoint.OS_2L, "SOR")
    assert groups == ("REG",) and data.n == 2
    given, labels = derive_by_second_line_given(make_registry(ROWS).frame, Endpoint.PPS, "SOR")
    assert labels == (GIVEN, NOT_GIVEN) and sorted(given.group) == sorted([GIVEN, GIVEN, NOT_GIVEN])


def test_second_line_groups_are_capped_and_the_cli_json_says_so(tmp_path, capsys) -> None:
    """SOR then 20 distinct second-line regimens (2 patients each for the first 5, 1 for the rest):
    --by-2l compares at most MAX_GROUPS groups, the 15 single-patient regimens pooled as Other, and
    the JSON of PFS_2L / OS_2L carries the note."""
    rows = [{Col.REGIMEN_1L: "SOR", Col.DATE_PROGRESSION_1L: "2020-03-01", Col.REGIMEN_2L: f"X{i:02d}",
             Col.START_2L: "2020-03-20", Col.DATE_DEATH: f"2020-{6 + i % 6:02d}-01",
             Col.DATE_LAST_FOLLOWUP: f"2020-{6 + i % 6:02d}-01"} for i in range(20) for _ in range(1 + (i < 5))]
    cohort = apply_to_registry(make_registry(rows), CohortSpec())
    summary = analyze_by_second_line(cohort, Endpoint.OS_2L, "SOR")
    assert len(summary.groups) <= MAX_GROUPS and {g.group for g in summary.groups} == {
        "Other", "X00", "X01", "X02", "X03", "X04"}
    assert summary.notes == ("15 second-line regimens with fewer than 2 patients (15 in all) pooled as Other to "
                             "keep the comparison readable; the cap is 12 groups.",)
    (tmp_path / "r.csv").write_bytes(registry_csv(rows))
    assert main(["analyze", "--data", str(tmp_path / "r.csv"), "--by-2l", "SOR", "--out", str(tmp_path / "o.json")]) == 0
    block = json.loads((tmp_path / "o.json").read_text())["by_second_line"]
    assert block["OS_2L"]["notes"] == list(summary.notes) and set(block["OS_2L"]["groups"]) == {
        "Other", "X00", "X01", "X02", "X03", "X04"}
    assert "notes" not in json.loads((tmp_path / "o.json").read_text())["endpoints"]["OS"]


def test_second_line_classes_travel_in_the_spec() -> None:
    spec = CohortSpec(second_line_classes=(("REG", "TKI"), ("OTHER", "Chemotherapy")))
    assert spec.to_query() == {"second_line_classes": "REG:TKI,OTHER:Chemotherapy"}
    assert CohortSpec.from_query(spec.to_query()) == spec
    assert CohortSpec.from_json(spec.to_json()) == spec


GROUPED = pd.read_csv(REF / "demo_by_second_line.csv", na_values=["NA"], keep_default_na=False)


@pytest.mark.parametrize("row", GROUPED.to_dict("records"),
                         ids=lambda r: f"{r['first_line']}-{r['endpoint']}-{r['group']}")
def test_grouped_km_matches_r(row) -> None:
    """R (demo_reference.R): survfit by second-line regimen within one first-line regimen (main
    cohort), log-log CI; quantile(fit, 0.5); survdiff across the groups. Relative 1e-9."""
    cohort = apply_to_registry(load_demo(), PRESETS[MAIN])
    if row["group"] in (GIVEN, NOT_GIVEN):
        data, groups = derive_by_second_line_given(cohort.frame, Endpoint(row["endpoint"]), row["first_line"])
    else:
        data, groups, _ = derive_by_second_line(cohort.frame, Endpoint(row["endpoint"]), row["first_line"])
    summary = summarize(data, groups)
    g = {x.group: x for x in summary.groups}[row["group"]]
    assert (g.n, g.events) == (row["n"], row["events"])
    for got, exp in ((g.median, row["median_days"]), (g.median_low, row["lower_days"]),
                     (g.median_high, row["upper_days"])):
        assert (np.isnan(got) and np.isnan(exp)) or got * DAYS_PER_MONTH == pytest.approx(exp, rel=1e-9)
    assert summary.logrank.statistic == pytest.approx(row["chisq"], rel=1e-9)


def test_second_line_response_rates_count_only_treated_patients() -> None:
    """Two SOR patients started second line (PR, PD); ORR over evaluable = 1/2 (R: binom.test(1, 2)
    gives 0.01257912–0.98742088)."""
    from hcc.stats.response import SECOND_LINE, response_rates
    rows = [dict(r) for r in ROWS]
    rows[0][Col.BEST_RESPONSE_2L] = "PR"
    rows[0][Col.DATE_RESPONSE_2L] = "2020-05-01"
    rows[1][Col.BEST_RESPONSE_2L] = "PD"
    frame = make_registry(rows).frame
    treated = frame[frame[Col.START_2L].notna()]
    sor = response_rates(treated, ("SOR", "LEN"), SECOND_LINE).groups[0]
    assert sor.n == 2 and sor.counts["PR"] == 1 and sor.counts["PD"] == 1
    orr = sor.rates[("ORR", "evaluable")]
    assert (orr.k, orr.n) == (1, 2)
    assert orr.lower == pytest.approx(0.01257912, rel=1e-6) and orr.upper == pytest.approx(0.98742088, rel=1e-6)
