"""``hcc.outputs.rscript`` and ``python -m hcc export-r``: the "Reproduce in R" files, and R parity.

The parity tests export a cohort, run ``Rscript analysis.R`` in the folder (R 4.2.2, survival 3.5-3,
cmprsk 2.2-11, jsonlite), and compare ``results_r.json`` with ``python -m hcc analyze`` JSON for the same options:
every number the R script computes (n, events, median and CI, milestone rates with CI and n at risk,
RMST and SE, median follow-up, global and pairwise tests with adjusted p, univariable Cox HR / CI / p,
RMST differences; the time-dependent and naive Cox models of OS on disease control and response; the
multivariable Cox model with concordance, likelihood-ratio test and cox.zph; the competing risks --
cumulative incidences with CI and n at risk, Gray's test, Fine–Gray and cause-specific ratios -- and the
pathway's state occupation) within 1e-6 relative (Cox, Fine–Gray 1e-5), every null (not reached / not
estimable) null on both sides, and no quantity of the CLI JSON's shared keys missing from R's.
"""

from __future__ import annotations

import io
import json
import math
import os
import shutil
import subprocess
import zipfile
from pathlib import Path

import pandas as pd
import pytest

from hcc.analysis import analyze, result_json
from hcc.cli.main import main
from hcc.formatting import json_safe
from hcc.analysis import STATES_PAST_FOLLOWUP
from hcc.stats.competing import NO_CI, NO_EVENTS, PAST_FOLLOWUP
from hcc.cohort.rules import PRESETS, apply_to_registry
from hcc.ingest.mapping import Mapping
from hcc.ingest.registry import load_files
from hcc.cohort.competing import COMPETING, STATE_KEYS, derive_competing, pathway
from hcc.outputs.rscript import DATA_FILE, FILES, PATHWAY_FILE, README_FILE, RESULTS_FILE, SCRIPT_FILE, \
    analysis_data, export_r, pathway_data, zip_bytes
from hcc.schema import ENDPOINTS, Col
from hcc.stats.baseline import FISHER_MC
from hcc.stats.survival import AnalysisSpec

ROOT = Path(__file__).resolve().parent.parent
DEMO = ROOT / "data" / "demo_registry.csv"
FIXTURE = ROOT / "tests" / "reference" / "response_fixture.csv"
FIXTURE_MAPPING = ROOT / "tests" / "reference" / "response_fixture.mapping.json"

#: Per-endpoint keys the R script reproduces (the rest of the endpoint JSON is the app's bookkeeping:
#: not_eligible / excluded counts and methods text, which the data file already reflects).
SHARED_KEYS = ("unit", "groups", "logrank", "ci_method", "pairwise", "cox", "rmst_difference")
REL = 1e-6
#: The keys of a competing-risks endpoint R recomputes (compared to REL; the ratios to REL_COX) and those of "states".
COMPETING_KEYS = ("unit", "groups", "gray", "reference")
COMPETING_STATES_KEYS = ("unit", "groups")
REL_COX = 1e-5
#: Below this, two numbers count as equal whatever their ratio (p-values of 1e-300 vs 0, CI limits of 0).
ABS = 1e-12


def _rscript() -> str:
    path = shutil.which("Rscript")
    assert path, ("Rscript is not installed: run `make system-deps` (Debian packages r-base-core "
                  "r-cran-survival r-cran-cmprsk r-cran-jsonlite)")
    return path


class Comparison:
    """Walks the CLI JSON and R's side by side; records every number compared and every difference."""

    def __init__(self) -> None:
        self.numbers = 0
        self.nulls = 0
        self.problems: list[str] = []
        self.skipped: list[str] = []
        self.max_rel = {False: 0.0, True: 0.0}  # largest relative difference seen, (is Cox) -> value

    def value(self, cli, r, path: str, rel: float) -> None:
        if isinstance(cli, dict):
            if not isinstance(r, dict):
                self.problems.append(f"{path}: R gives {r!r}, the CLI an object")
                return
            for key, sub in cli.items():
                if key not in r:
                    self.problems.append(f"{path}.{key}: missing from results_r.json")
                else:
                    self.value(sub, r[key], f"{path}.{key}", rel)
        elif isinstance(cli, list):
            if not isinstance(r, list) or len(r) != len(cli):
                self.problems.append(f"{path}: R gives {r!r}, the CLI {cli!r}")
                return
            for i, (a, b) in enumerate(zip(cli, r)):
                self.value(a, b, f"{path}[{i}]", rel)
        elif cli is None:
            self.nulls += 1
            if r is not None:
                self.problems.append(f"{path}: the CLI says not estimable (null), R gives {r!r}")
        elif isinstance(cli, (str, bool)):
            if cli != r or type(cli) is not type(r):
                self.problems.append(f"{path}: R gives {r!r}, the CLI {cli!r}")
        else:
            self.numbers += 1
            if isinstance(r, (int, float)) and cli != r:
                cox = rel == REL_COX
                self.max_rel[cox] = max(self.max_rel[cox], abs(cli - r) / max(abs(cli), abs(r)))
            if not isinstance(r, (int, float)) or isinstance(r, bool):
                self.problems.append(f"{path}: R gives {r!r}, the CLI {cli!r}")
            elif not math.isclose(cli, r, rel_tol=rel, abs_tol=ABS):
                self.problems.append(f"{path}: R {r!r} vs CLI {cli!r} (relative {abs(cli - r) / abs(cli):.2g})")

    def cox(self, cli: list, r: list, path: str) -> None:
        """Cox terms by name; a term the app flags (unstable or not estimable) must be flagged by R
        too, and its numbers are not compared: a fit running off towards an infinite HR stops at a
        point that depends on the algorithm, so neither side's number means anything."""
        if [t["term"] for t in cli] != [t["term"] for t in r]:
            self.problems.append(f"{path}: terms {[t['term'] for t in r]} in R, {[t['term'] for t in cli]} in the CLI")
            return
        for i, (a, b) in enumerate(zip(cli, r)):
            if a.get("note"):
                if not b.get("note"):
                    self.problems.append(f"{path}[{i}]: the CLI says {a['note']!r}, R gives a plain HR {b['hr']}")
                self.skipped.append(f"{path}[{i}] ({a['note']})")
                continue
            if b.get("note"):
                self.problems.append(f"{path}[{i}]: R says {b['note']!r}, the CLI gives HR {a['hr']}")
            self.value({k: a[k] for k in ("term", "reference", "hr", "ci", "p")}, b, f"{path}[{i}]", REL_COX)


    def tdcox(self, cli: dict, r, path: str) -> None:
        """One time-dependent Cox entry with its naive model, to Cox tolerance. ``published_hr`` is the
        study's printed HR (a constant of hcc.reference.study, not computed) and is not compared; a model
        the app cannot fit (``hr`` null with a ``note``) must be null with a note in R too (the note's
        words are the app's and R's own, so only its presence is compared)."""
        if not isinstance(r, dict):
            self.problems.append(f"{path}: missing from results_r.json")
            return
        shared = {k: v for k, v in cli.items() if k not in ("published_hr", "note")}
        if cli["hr"] is None and not r.get("note"):
            self.problems.append(f"{path}: the CLI says {cli.get('note')!r}, R gives no note")
        self.value(shared, r, path, REL_COX)


    def response(self, cli: dict, r) -> None:
        """Response rates (exact CIs) and their tests. A Fisher test by Monte Carlo (tables beyond 2 x 2
        with an expected count below 5) draws its own random tables in each program: its p is compared
        within 0.01 (B = 99,999 gives a simulation SE below 0.0016) and listed in ``skipped``."""
        if not isinstance(r, dict) or set(r) != set(cli):
            self.problems.append(f"response: criteria {sorted(r) if isinstance(r, dict) else r} in R, {sorted(cli)}")
            return
        for criterion, block in cli.items():
            path = f"response.{criterion}"
            self.value({k: v for k, v in block.items() if k != "tests"}, r[criterion], path, REL)
            if len(r[criterion].get("tests", [])) != len(block["tests"]):
                self.problems.append(f"{path}.tests: {len(r[criterion].get('tests', []))} in R, {len(block['tests'])}")
                continue
            for i, (a, b) in enumerate(zip(block["tests"], r[criterion]["tests"])):
                if a["test"] == FISHER_MC and b.get("test") == FISHER_MC:
                    self.skipped.append(f"{path}.tests[{i}] p within 0.01 (Monte Carlo)")
                    if abs(a["p"] - b["p"]) > 0.01:
                        self.problems.append(f"{path}.tests[{i}]: Monte Carlo p {b['p']} in R, {a['p']}")
                    continue
                self.value(a, b, f"{path}.tests[{i}]", REL)


    def competing(self, cli: dict | None, r) -> None:
        """The ``competing_risks`` block: per endpoint the counts and cumulative incidences with CI and
        n at risk, Gray's test, the reference (1e-6), Fine–Gray and cause-specific ratios (1e-5), every
        not-estimable item null with the app's reason on both sides; the states' occupation
        probabilities (1e-6). ``definition``, ``not_eligible``, ``excluded`` and ``methods`` are the
        app's words and bookkeeping (the data file already reflects them), not numbers."""
        if cli is None:
            return
        if not isinstance(r, dict) or set(r) != set(cli):
            self.problems.append(f"competing_risks: {sorted(r) if isinstance(r, dict) else r} in R, {sorted(cli)}")
            return
        for key, block in cli.items():
            path = f"competing_risks.{key}"
            if key == "states":
                self.value({k: block[k] for k in COMPETING_STATES_KEYS}, r[key], path, REL)
                continue
            self.value({k: block[k] for k in COMPETING_KEYS}, r[key], path, REL)
            for ratio in ("fine_gray", "cause_specific"):
                self.value(block[ratio], r[key].get(ratio), f"{path}.{ratio}", REL_COX)
                if not isinstance(r[key].get(ratio), dict) or set(r[key][ratio]) != set(block[ratio]):
                    self.problems.append(f"{path}.{ratio}: terms {r[key].get(ratio)} in R, {sorted(block[ratio])}")


def compare(cli: dict, r: dict) -> Comparison:
    """Every shared quantity of the CLI JSON against results_r.json."""
    out = Comparison()
    out.value({"n": cli["cohort"]["n"], "by_regimen": cli["cohort"]["by_regimen"]}, r["cohort"], "cohort", REL)
    assert set(r["endpoints"]) == set(cli["endpoints"])
    for name, endpoint in cli["endpoints"].items():
        if endpoint.get("available") is False:  # not computed (empty source column): the same reason in R
            out.value({k: endpoint[k] for k in ("unit", "available", "reason")}, r["endpoints"][name],
                      f"endpoints.{name}", REL)
            continue
        for key in SHARED_KEYS:
            path = f"endpoints.{name}.{key}"
            if key not in r["endpoints"][name]:
                out.problems.append(f"{path}: missing from results_r.json")
            elif key == "cox":
                out.cox(endpoint["cox"], r["endpoints"][name]["cox"], path)
            else:
                out.value(endpoint[key], r["endpoints"][name][key], path, REL)
    for switch, groups in cli["tdcox"].items():
        for group, model in groups.items():
            out.tdcox(model, r["tdcox"][switch].get(group, "missing"), f"tdcox.{switch}.{group}")
    out.value(cli["landmark"], r.get("landmark"), "landmark", REL_COX)
    out.response(cli["response"], r.get("response"))
    if "multivariable" in cli:
        # labels, flags, warnings and methods are the app's words about the numbers, not numbers
        model = {k: v for k, v in cli["multivariable"].items() if k not in ("warnings", "methods")}
        model["terms"] = [{k: v for k, v in t.items() if k not in ("label", "flag")} for t in model["terms"]]
        out.value(model, r.get("multivariable"), "multivariable", REL_COX)
    out.competing(cli.get("competing_risks"), r.get("competing_risks"))
    out.value(cli["days_per_month"], r["days_per_month"], "days_per_month", 0)
    return out


def run_both(tmp_path: Path, options: list[str], locale: str | None = None) -> tuple[dict, dict, Path]:
    """``analyze`` and ``export-r`` with the same options, then ``Rscript analysis.R`` in the folder
    (``locale``: LC_ALL for R, e.g. "C", where non-ASCII levels used to break the match)."""
    folder = tmp_path / "r"
    assert main(["export-r", *options, "--out", str(folder)]) == 0
    assert main(["analyze", *options, "--out", str(tmp_path / "cli.json")]) == 0
    env = {**os.environ, **({"LC_ALL": locale, "LANG": locale} if locale else {})}
    done = subprocess.run([_rscript(), SCRIPT_FILE], cwd=folder, capture_output=True, text=True, timeout=120,
                          env=env)
    assert done.returncode == 0, done.stderr
    return (json.loads((tmp_path / "cli.json").read_text()), json.loads((folder / RESULTS_FILE).read_text()), folder)


def assert_parity(cli: dict, r: dict, min_numbers: int) -> Comparison:
    result = compare(cli, r)
    print(f"compared {result.numbers} numbers and {result.nulls} nulls; largest relative difference "
          f"{result.max_rel[False]:.2g} (Cox {result.max_rel[True]:.2g})")
    if "competing_risks" in cli:
        competing = Comparison()
        competing.competing(cli["competing_risks"], r.get("competing_risks"))
        print(f"  of which competing risks: {competing.numbers} numbers and {competing.nulls} nulls; largest "
              f"relative difference {competing.max_rel[False]:.2g} (Fine–Gray and cause-specific "
              f"{competing.max_rel[True]:.2g})")
    assert not result.problems, "\n".join(result.problems[:40])
    # A walk that compared nothing (an empty endpoint list, a renamed key) must not pass.
    assert result.numbers >= min_numbers
    return result


@pytest.fixture(scope="module")
def demo_spec_file(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("spec") / "spec.json"
    path.write_text(json.dumps({"child_pugh": ["A"], "bclc_stages": ["C"], "exclude_concomitant_lrt": True,
                                "other_below": 300}))
    return path


def test_demo_main_cohort_matches_r(tmp_path: Path) -> None:
    """The demo's main cohort with the app's default settings and a multivariable Cox model stratified
    by center (ECOG's level "≥2" is not ASCII: R runs in the C locale here): Rscript analysis.R
    reproduces every number."""
    cli, r, folder = run_both(tmp_path, ["--data", str(DEMO), "--preset", "main",
                                         "--cox", "age+child_pugh_class+ecog+afp_400+strata(center)"], locale="C")
    result = assert_parity(cli, r, min_numbers=1000)
    assert cli["cohort"]["n"] == 612 and r["cohort"]["n"] == 612
    assert [t["term"] for t in r["multivariable"]["terms"]][-2:] == ["ecog=≥2", "afp_400=yes"]
    assert not result.skipped  # 612 patients: no unstable fit to excuse
    # the competing-risks block on its own: every CIF, test and ratio of both endpoints and the states
    competing = Comparison()
    competing.competing(cli["competing_risks"], r["competing_risks"])
    assert not competing.problems and competing.numbers >= 200
    fine_gray = r["competing_risks"]["second_line"]["fine_gray"]
    assert set(fine_gray) == {"LEN", "ATZ_BEV"} and fine_gray["LEN"]["shr"] == pytest.approx(
        cli["competing_risks"]["second_line"]["fine_gray"]["LEN"]["shr"], rel=REL_COX)
    assert r["competing_risks"]["states"]["groups"]["SOR"]["at"]["12"]["dead"] == pytest.approx(
        cli["competing_risks"]["states"]["groups"]["SOR"]["at"]["12"]["dead"], rel=REL)
    # not reached medians / CI limits and rates past follow-up are compared as nulls on both sides
    assert result.nulls > 0
    assert "Wrote results_r.json" in subprocess.run([_rscript(), SCRIPT_FILE], cwd=folder, capture_output=True,
                                                    text=True, timeout=120).stdout


def test_spec_filtered_cohort_and_other_settings_match_r(tmp_path: Path, demo_spec_file: Path) -> None:
    """A spec-filtered demo cohort (Child-Pugh A, BCLC C; ATZ_BEV, 285 patients in the registry, pooled as
    Other by other_below = 300) with every statistical option changed:
    log CI, fixed tau, another reference, Bonferroni, other milestones (one past follow-up)."""
    cli, r, _ = run_both(tmp_path, ["--data", str(DEMO), "--spec", str(demo_spec_file), "--ci", "log",
                                    "--tau", "9", "--reference", "LEN", "--adjust", "bonferroni",
                                    "--milestones", "3", "9", "200", "--cox", "age+bclc+mvi+albi_score",
                                    "--endpoint", "PFS"])
    assert_parity(cli, r, min_numbers=400)
    # BCLC is C for everyone here: a one-level factor, left out of the model on both sides
    assert [t["term"] for t in r["multivariable"]["terms"]] == [
        "regimen_1l=SOR", "regimen_1l=Other", "age", "mvi=yes", "albi_score"]
    assert list(r["cohort"]["by_regimen"]) == ["SOR", "LEN", "Other"] and "pooled" in cli["cohort"]
    os_ = r["endpoints"]["OS"]
    assert os_["ci_method"] == "log" and os_["rmst_difference"][0]["b"] == "LEN"
    assert os_["pairwise"][0]["adjust"] == "bonferroni" and os_["groups"]["LEN"]["rmst"]["tau"] == pytest.approx(9)
    assert os_["groups"]["LEN"]["rates"]["200"]["est"] is None  # past the last follow-up: not estimable


#: Three ATZ_BEV patients added to the 26 of response_fixture.csv: nobody dies and nobody responds, so
#: this group's OS median is not reached, its OS hazard ratio is left out (no event), and its
#: time-dependent Cox models are not estimable (no death) -- on both sides.
EDGE_ROWS = """\
E01,ATZ_BEV,2020-01-01,SD,SD,2020-02-01,,,,,2020-12-01,no,no,no,alive with control, no progression
E02,ATZ_BEV,2020-01-01,PD,PD,,,2020-02-10,,,2020-06-01,no,no,no,alive after progression
E03,ATZ_BEV,2020-01-01,SD,SD,2020-03-01,,2020-05-01,,,2020-09-15,no,no,no,alive after control and progression
"""


def test_small_edge_registry_matches_r(tmp_path: Path) -> None:
    """A 29-patient registry (response_fixture.csv and :data:`EDGE_ROWS`, with its mapping file): groups
    of 1-3 patients, medians and CI limits not reached, tau before a group's first time, a milestone
    before any event, a group without deaths, plain CI."""
    data = tmp_path / "edge.csv"
    data.write_text(FIXTURE.read_text(encoding="utf-8") + EDGE_ROWS.replace(", ", "; "), encoding="utf-8")
    cli, r, _ = run_both(tmp_path, ["--data", str(data), "--mapping", str(FIXTURE_MAPPING), "--ci", "plain",
                                    "--milestones", "1", "3", "6", "24"])
    result = assert_parity(cli, r, min_numbers=300)
    assert result.nulls >= 20
    assert cli["endpoints"]["OS"]["groups"]["ATZ_BEV"]["median"] is None
    assert cli["tdcox"]["DC"]["ATZ_BEV"]["hr"] is None and r["tdcox"]["DC"]["ATZ_BEV"]["hr"] is None
    # competing risks: ATZ_BEV reaches no second line, so its Fine-Gray and cause-specific ratios are not
    # estimable; CIFs of 0 have no CI; milestone 24 is past everyone's follow-up -- with the app's reason in R
    second = r["competing_risks"]["second_line"]
    for ratio in ("fine_gray", "cause_specific"):
        assert second[ratio]["ATZ_BEV"]["ci"] == [None, None]
        assert second[ratio]["ATZ_BEV"]["not_estimable"] == cli["competing_risks"]["second_line"][ratio]["ATZ_BEV"][
            "not_estimable"] == NO_EVENTS
    assert second["groups"]["ATZ_BEV"]["cif"]["1"]["event"] == {"est": 0, "ci": [None, None], "not_estimable": NO_CI}
    assert second["groups"]["SOR"]["cif"]["24"]["event"]["not_estimable"] == PAST_FOLLOWUP
    assert r["competing_risks"]["states"]["groups"]["LEN"]["at"]["24"] == {"not_estimable": STATES_PAST_FOLLOWUP}
    # PFS_2L / OS_2L: LEN has 1 patient, SOR 2 (events at different times), so the HR runs off towards
    # infinity: the app stops and flags it; R must flag it too (checked in compare), and these two
    # HRs -- and only these -- are not compared as numbers.
    cox_skipped = [s for s in result.skipped if "Monte Carlo" not in s]
    assert cox_skipped == ["endpoints.PFS_2L.cox[0] (unstable fit (very few events in a group))",
                           "endpoints.OS_2L.cox[0] (unstable fit (very few events in a group))"]
    # 3 regimens with small counts: every rate test is Fisher's by Monte Carlo, in R too (p within 0.01)
    assert len(result.skipped) - len(cox_skipped) == 8


def test_comparison_catches_a_changed_number_and_a_dropped_key() -> None:
    """The comparator is not vacuous: a number 1e-5 off, a null that R fills, a missing key all fail."""
    cli = {"cohort": {"n": 3, "by_regimen": {"A": 3}}, "days_per_month": 30.4375, "tdcox": {"DC": {}},
           "landmark": {}, "response": {},
           "endpoints": {"OS": {"unit": "months", "ci_method": "log-log", "logrank": None, "pairwise": [],
                                "rmst_difference": [],
                                "groups": {"A": {"n": 3, "median": 2.0, "median_ci": [1.0, None]}},
                                "cox": [{"term": "B", "reference": "A", "hr": 2.0, "ci": [1, 4], "p": 0.1}]}}}
    assert not compare(cli, json.loads(json.dumps(cli))).problems
    r = json.loads(json.dumps(cli))
    r["endpoints"]["OS"]["groups"]["A"]["median"] = 2.0 * (1 + 1e-5)
    r["endpoints"]["OS"]["groups"]["A"]["median_ci"][1] = 7.0
    del r["endpoints"]["OS"]["rmst_difference"]
    problems = compare(cli, r).problems
    assert len(problems) == 3 and any("median_ci[1]" in p for p in problems)
    r = json.loads(json.dumps(cli))
    r["endpoints"]["OS"]["cox"][0]["hr"] = 2.0 * (1 + 2e-5)
    assert compare(cli, r).problems


def test_comparison_catches_competing_risks_differences() -> None:
    """The competing-risks walk is not vacuous: a Fine–Gray SHR 2e-5 off, a CIF 2e-6 off, a lost
    not-estimable reason, a state probability R leaves out and a missing ratio term all fail."""
    block = {"second_line": {"unit": "months", "reference": "A", "gray": {"statistic": 3.0, "df": 1, "p": 0.08},
                             "groups": {"A": {"n": 5, "events": 2, "competing": 1, "cif": {"6": {
                                 "event": {"est": 0.4, "ci": [0.1, 0.9]},
                                 "competing": {"est": 0, "ci": [None, None], "not_estimable": NO_CI}, "n_risk": 2}}}},
                             "fine_gray": {"B": {"shr": 2.0, "ci": [1.0, 4.0], "p": 0.05}},
                             "cause_specific": {"B": {"hr": None, "ci": [None, None], "p": None,
                                                      "not_estimable": NO_EVENTS}},
                             "definition": {"origin": "x"}, "methods": {}, "not_eligible": {}, "excluded": {}},
             "states": {"unit": "months", "groups": {"A": {"n": 5, "at": {"6": {"on_first_line": 0.5, "dead": 0.5}}}},
                        "states": {}, "methods": {}, "excluded": {}}}

    def problems(change) -> list[str]:
        r = json.loads(json.dumps(block))
        for key in ("definition", "methods", "not_eligible", "excluded"):  # R does not write the app's words
            del r["second_line"][key]
        change(r)
        out = Comparison()
        out.competing(block, r)
        return out.problems

    assert problems(lambda r: None) == []
    assert problems(lambda r: r["second_line"]["fine_gray"]["B"].update(shr=2.0 * (1 + 2e-5)))
    assert not problems(lambda r: r["second_line"]["fine_gray"]["B"].update(shr=2.0 * (1 + 2e-6)))
    assert problems(lambda r: r["second_line"]["groups"]["A"]["cif"]["6"]["event"].update(est=0.4 * (1 + 2e-6)))
    assert problems(lambda r: r["second_line"]["cause_specific"]["B"].pop("not_estimable"))
    assert problems(lambda r: r["states"]["groups"]["A"]["at"]["6"].pop("dead"))
    assert problems(lambda r: r["second_line"]["fine_gray"].update(C={"shr": 1.0, "ci": [1, 1], "p": 1}))
    assert problems(lambda r: r.pop("states"))


def test_analysis_data_has_no_dates_and_blank_where_not_analysed() -> None:
    registry = load_files([str(FIXTURE)], Mapping.from_json(FIXTURE_MAPPING.read_text(), FIXTURE_MAPPING.name))
    cohort = apply_to_registry(registry, PRESETS["full"])
    table = analysis_data(cohort)
    assert list(table.columns[:2]) == ["patient_id", "regimen"]
    assert len(table) == cohort.n and table["patient_id"].is_unique
    assert set(table.columns[2:]) == ({f"{e.value}_{k}" for e in ENDPOINTS for k in ("days", "event")}
                                      | {f"{s}_{k}" for s in ("DC", "OR") for k in ("os_days", "death", "switch_days")}
                                      | {Col.BEST_RESPONSE_1L, Col.BEST_RESPONSE_1L_MRECIST}
                                      | {f"{d.key}_{k}" for d in COMPETING for k in ("days", "status")})
    # F01: disease control documented on the start date (day 0); OS 200 days, died
    f01 = table.set_index("patient_id").loc["F01"]
    assert (f01["DC_switch_days"], f01["DC_os_days"], f01["DC_death"]) == (0, 200, 1)
    assert not any("date" in c for c in table.columns)
    # DOR applies only to responders: blank for the others, never 0
    responders = table["DOR_days"].notna()
    assert 0 < responders.sum() < len(table) and table.loc[~responders, "DOR_event"].isna().all()
    assert set(table["OS_event"].dropna()) <= {0, 1}
    # competing risks: status 0/1/2 as derive_competing; second_line blank without a first-line progression
    for d in COMPETING:
        data = derive_competing(cohort.frame, d)
        rows = table.set_index("patient_id").loc[data.patient_id.astype(str)]
        assert rows[f"{d.key}_days"].tolist() == data.days.tolist()
        assert rows[f"{d.key}_status"].tolist() == data.status.tolist()
        assert table[f"{d.key}_status"].notna().sum() == len(data.days)
    assert set(table["second_line_status"].dropna()) == {0, 1, 2}
    no_progression = cohort.frame[Col.DATE_PROGRESSION_1L].isna().to_numpy()
    assert no_progression.any() and table.loc[no_progression, "second_line_days"].isna().all()


def test_pathway_data_is_the_apps_counting_process_rows_without_dates() -> None:
    """pathway_data.csv holds, per analysed patient, the pathway's (tstart, tstop] rows in days with the
    state entered (or "censor"), contiguous from day 0, ending in death or a censoring."""
    registry = load_files([str(DEMO)], None)
    cohort = apply_to_registry(registry, PRESETS["main"])
    table = pathway_data(cohort)
    data = pathway(cohort.frame)
    assert list(table.columns) == ["patient_id", "regimen", "tstart", "tstop", "state"]
    assert table["patient_id"].nunique() == data.n_patients == cohort.n
    assert set(table["state"]) == {"censor", *STATE_KEYS[1:]}
    assert (table["tstop"] > table["tstart"]).all()
    for _, rows in table.groupby("patient_id", sort=False):
        assert rows["tstart"].iloc[0] == 0 and (rows["tstart"].to_numpy()[1:] == rows["tstop"].to_numpy()[:-1]).all()
        assert rows["state"].iloc[-1] in ("dead", "censor") and "censor" not in rows["state"].iloc[:-1].tolist()
    # one patient by hand: SYN0004 progressed on day 452 and died on day 502
    syn = table[table["patient_id"] == "SYN0004"]
    assert syn[["tstart", "tstop", "state"]].values.tolist() == [[0, 452, "progressed"], [452, 502, "dead"]]
    assert table["regimen"].tolist() == list(data.group)


def test_export_files_are_deterministic_and_readme_names_the_data() -> None:
    registry = load_files([str(DEMO)], None)
    settings = AnalysisSpec(tau_months=12, reference="LEN", milestones_months=(6, 18))
    first = export_r(registry, PRESETS["main"], settings)
    assert list(first.files) == list(FILES)
    assert zip_bytes(first) == zip_bytes(export_r(registry, PRESETS["main"], settings))
    readme = first.files[README_FILE].decode()
    assert registry.sha256 in readme and "Rscript analysis.R" in readme and "r-cran-survival" in readme
    assert "r-cran-cmprsk" in readme and PATHWAY_FILE in readme
    script = first.files[SCRIPT_FILE].decode()
    assert 'reference         <- "LEN"' in script and "tau_months        <- 12" in script
    assert "milestones_months <- c(6, 18)" in script
    assert script.count("<- endpoint_results(") == len(ENDPOINTS)  # one block per endpoint
    assert script.count("<- cr_results(") == len(COMPETING)  # one block per competing-risks endpoint
    for call in ("library(cmprsk)", "cuminc(", "crr(", "gtol = 1e-12", "coxph(Surv(time, status == 1)",
                 "survfit(Surv(time, factor(status, levels = 0:2))", "survfit(Surv(tstart, tstop, state) ~ 1"):
        assert call in script, call
    names = zipfile.ZipFile(io.BytesIO(zip_bytes(first))).namelist()
    assert names == [f"reproduce_in_r/{f}" for f in FILES]
    data = pd.read_csv(io.BytesIO(first.files[DATA_FILE]), dtype={"patient_id": str})
    assert not set(data.columns) & {Col.DATE_DEATH, Col.START_1L, Col.DATE_LAST_FOLLOWUP}


def test_export_r_bad_out_folder_is_one_line(tmp_path: Path, capsys) -> None:
    code = main(["export-r", "--data", str(DEMO), "--out", str(tmp_path / "no" / "such")])
    err = capsys.readouterr().err
    assert code == 2 and err.startswith("error: --out") and "mkdir -p" in err and len(err.splitlines()) == 1
    afile = tmp_path / "x.txt"
    afile.write_text("")
    assert main(["export-r", "--data", str(DEMO), "--out", str(afile)]) == 2
    assert "this is a file" in capsys.readouterr().err


def test_export_r_bad_model_is_one_line_and_writes_nothing(tmp_path: Path, capsys) -> None:
    """--cox means what it means for analyze: an unknown covariate, or a model the app cannot fit, is
    one line on stderr with status 2, and no half-written folder is left."""
    out = tmp_path / "r"
    assert main(["export-r", "--data", str(DEMO), "--cox", "age+weight", "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: --cox: unknown covariate weight") and len(err.splitlines()) == 1
    assert not out.exists()


def test_peto_peto_from_the_page_settings_matches_r(tmp_path: Path) -> None:
    """The Peto–Peto test (rho = 1) is a page setting with no CLI option: exported through the API the
    page uses, on the demo's full cohort, it matches R's survdiff(rho = 1) as the app computes it."""
    registry = load_files([str(DEMO)], None)
    settings = AnalysisSpec(rho=1, milestones_months=(12.0,))
    export = export_r(registry, PRESETS["full"], settings)
    folder = tmp_path / "r"
    folder.mkdir()
    for name, data in export.files.items():
        (folder / name).write_bytes(data)
    done = subprocess.run([_rscript(), SCRIPT_FILE], cwd=folder, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    cli = json.loads(json.dumps(json_safe(result_json(analyze(registry, PRESETS["full"], analysis=settings)))))
    r = json.loads((folder / RESULTS_FILE).read_text(encoding="utf-8"))
    assert_parity(cli, r, min_numbers=600)
    assert r["endpoints"]["OS"]["logrank"]["rho"] == 1 and "rho = 1" in done.stdout
