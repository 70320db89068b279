"""``python -m hcc analyze``: JSON shape, presets, spec files, and one-line errors with exit status 2."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest

from hcc.cli.main import main
from hcc.cohort.rules import MAX_GROUPS
from hcc.schema import ENDPOINTS, Col
from hcc.reference.synth import generate, write_csv
from tests.conftest import registry_csv

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture()
def small_file(tmp_path: Path) -> Path:
    rows = []
    for i, reg in enumerate(["SOR", "LEN"] * 6):
        rows.append({Col.REGIMEN_1L: reg, Col.DATE_PROGRESSION_1L: f"2020-0{2 + i % 5}-01",
                     Col.DATE_DEATH: f"2020-{7 + i % 5:02d}-01" if i % 3 else "",
                     Col.DATE_LAST_FOLLOWUP: f"2020-{7 + i % 5:02d}-01",
                     Col.CONCOMITANT_LRT: "yes" if i == 0 else "no"})
    path = tmp_path / "reg.csv"
    path.write_bytes(registry_csv(rows))
    return path


def test_json_shape_and_main_preset(small_file: Path, capsys) -> None:
    assert main(["analyze", "--data", str(small_file), "--preset", "main"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["data"]["rows"] == 12 and len(out["data"]["sha256"]) == 64
    assert out["cohort"]["n"] == 11 and out["cohort"]["by_regimen"] == {"SOR": 5, "LEN": 6}
    assert out["cohort"]["attrition"][1] == {"rule": "Excluded: concomitant locoregional therapy",
                                             "excluded": 1, "remaining": 11}
    assert set(out["endpoints"]) == {e.value for e in ENDPOINTS}
    os_ = out["endpoints"]["OS"]
    assert os_["unit"] == "months" and set(os_["groups"]) == {"SOR", "LEN"}
    assert {"n", "events", "median", "median_ci", "rates", "rmst", "followup_median"} == set(os_["groups"]["SOR"])
    assert set(os_["groups"]["SOR"]["rates"]) == {"6", "12", "18", "24"}
    assert os_["cox"][0]["reference"] == "SOR" and os_["pairwise"][0]["adjust"] == "holm"
    assert os_["logrank"]["df"] == 1 and 0 <= os_["logrank"]["p"] <= 1


def test_spec_file_and_out_file(small_file: Path, tmp_path: Path) -> None:
    spec = tmp_path / "spec.json"
    spec.write_text(json.dumps({"regimens": ["LEN"]}))
    out = tmp_path / "r.json"
    assert main(["analyze", "--data", str(small_file), "--spec", str(spec), "--out", str(out)]) == 0
    result = json.loads(out.read_text())
    assert result["cohort"]["by_regimen"] == {"LEN": 6}
    assert result["endpoints"]["OS"]["logrank"] is None  # one group: no test


@pytest.mark.parametrize("args, message", [
    (["--data", "nope.csv"], "nope.csv: cannot open the file"),
    (["--data", "{bad}", "--spec", "missing.json"], "missing.json: cannot open"),
])
def test_errors_are_one_line_with_status_2(args, message, small_file, capsys) -> None:
    args = [a.replace("{bad}", str(small_file)) for a in args]
    assert main(["analyze", *args]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: ") and message in err and "\n" not in err


DEEP = "[" * 100_000 + "]" * 100_000


@pytest.mark.parametrize("args, message", [
    (["analyze", "--spec", "{tmp}/deep.json"], "deep.json: the spec file is nested more than 32 levels deep"),
    (["analyze", "--mapping", "{tmp}/deep.json"], "deep.json: the mapping file is nested more than 32 levels"),
    (["analyze", "--spec", "{tmp}/list.json"], "the cohort spec must be a JSON object"),
    (["analyze", "--spec", "{tmp}/empty.txt"], "the cohort spec is not valid JSON"),
    (["analyze", "--spec", "{tmp}/infinite_ecog.json"], "'ecog_ps' must be a whole number"),
    (["analyze", "--spec", "{tmp}"], "cannot open the spec file"),
    (["analyze", "--out", "{tmp}/no/such/folder/r.json"], "the folder {tmp}/no/such/folder does not exist; create it"),
    (["report", "--out", "{tmp}/no/such/folder/r.html"], "the folder {tmp}/no/such/folder does not exist; create it"),
    (["analyze", "--out", "{tmp}"], "this is a folder; give a file name inside it"),
    (["analyze", "--out", "/dev/full"], "--out /dev/full: cannot write the file (No space left on device)"),
    (["report", "--out", "{tmp}/r.docx"], "the file name must end in .html, .pdf, .pptx"),
    (["analyze", "--milestones", "nan"], "milestones must be positive numbers of months, not nan"),
    (["analyze", "--milestones", "6", "inf"], "milestones must be positive numbers of months, not inf"),
    (["analyze", "--milestones", "-3"], "milestones must be positive numbers of months, not -3"),
    (["analyze", "--milestones", "0"], "milestones must be positive numbers of months, not 0"),
    (["analyze", "--tau", "-1"], "tau_months must be a positive number of months, not -1"),
    (["analyze", "--tau", "nan"], "tau_months must be a positive number of months, not nan"),
    (["analyze", "--tau", "inf"], "tau_months must be a positive number of months, not inf"),
    (["analyze", "--tau", "six"], "argument --tau: invalid float value: 'six'"),
    (["analyze", "--reference", "XYZ"], "--reference XYZ: no such regimen"),
    (["analyze", "--by-2l", "XYZ"], "--by-2l XYZ: not a first-line regimen"),
    (["analyze", "--iptw", "--trim", "99", "1"], "trimming percentiles must satisfy"),
    (["analyze", "--cox", "age+shoe_size"], "unknown covariate shoe_size"),
    (["analyze", "--ci", "wide"], "argument --ci: invalid choice: 'wide'"),
    (["analyze", "--preset", "mine"], "argument --preset: invalid choice"),
    (["analyze", "--no-such-option"], "unrecognized arguments: --no-such-option"),
    (["analyze", "--data", "{tmp}/empty.txt"], "empty.txt: the file is empty"),
    (["report"], "the following arguments are required: --data, --out"),
    (["frobnicate"], "invalid choice: 'frobnicate'"),
])
def test_bad_input_is_one_error_line_and_status_2(args, message, small_file, tmp_path, capsys) -> None:
    """Every bad input the audit found ends in exactly one stderr line ``error: …`` naming the problem,
    status 2 and nothing on stdout: no traceback (deep JSON raised RecursionError, a missing --out folder
    FileNotFoundError, Infinity in a spec OverflowError; NaN milestones and tau ran with nonsense)."""
    (tmp_path / "deep.json").write_text(DEEP)
    (tmp_path / "list.json").write_text("[]")
    (tmp_path / "empty.txt").write_text("")
    (tmp_path / "infinite_ecog.json").write_text('{"ecog_ps": [Infinity]}')
    args = [a.replace("{tmp}", str(tmp_path)) for a in args]
    if args[0] in ("analyze", "report") and "--data" not in args and args != ["report"]:
        args += ["--data", str(small_file)]
    assert main(args) == 2
    captured = capsys.readouterr()
    lines = captured.err.splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), captured.err
    assert message.replace("{tmp}", str(tmp_path)) in lines[0]
    assert captured.out == ""


def test_deep_json_through_the_real_interpreter_prints_no_traceback(small_file: Path, tmp_path: Path) -> None:
    """``python -m hcc`` as a user runs it: the 100,000-deep spec file is one line and status 2."""
    (tmp_path / "deep.json").write_text('{"a":' * 100_000 + "1" + "}" * 100_000)
    proc = subprocess.run([sys.executable, "-m", "hcc", "analyze", "--data", str(small_file), "--spec",
                           str(tmp_path / "deep.json")], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2 and proc.stdout == ""
    assert proc.stderr.count("\n") == 1 and proc.stderr.startswith("error: ") and "Traceback" not in proc.stderr


def test_help_is_not_an_error(capsys) -> None:
    assert main(["analyze", "--help"]) == 0
    assert "--milestones" in capsys.readouterr().out


def test_module_entry_point_runs(small_file: Path) -> None:
    proc = subprocess.run([sys.executable, "-m", "hcc", "analyze", "--data", str(small_file)],
                          cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["cohort"]["n"] == 12


def test_schema_error_exit(tmp_path: Path) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("id,drug\n1,SOR\n")
    proc = subprocess.run([sys.executable, "-m", "hcc", "analyze", "--data", str(bad)],
                          cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2 and "required column(s)" in proc.stderr and proc.stdout == ""


def test_statistics_options(small_file: Path, capsys) -> None:
    """--tau, --reference, --adjust and --milestones reach the output."""
    assert main(["analyze", "--data", str(small_file), "--tau", "4", "--reference", "LEN",
                 "--adjust", "bonferroni", "--milestones", "3", "6", "--ci", "plain"]) == 0
    out = json.loads(capsys.readouterr().out)["endpoints"]["OS"]
    assert out["ci_method"] == "plain"
    assert out["groups"]["SOR"]["rmst"]["tau"] == pytest.approx(4.0)
    assert set(out["groups"]["SOR"]["rates"]) == {"3", "6"}
    assert out["cox"][0]["reference"] == "LEN" and out["cox"][0]["term"] == "SOR"
    assert out["pairwise"][0]["adjust"] == "bonferroni"
    assert out["rmst_difference"][0]["b"] == "LEN"


def test_unknown_reference_is_a_clear_error(small_file: Path, capsys) -> None:
    assert main(["analyze", "--data", str(small_file), "--reference", "CAB"]) == 2
    assert "--reference CAB: no such regimen" in capsys.readouterr().err


def test_sequences_and_by_second_line(tmp_path: Path, capsys) -> None:
    rows = [{Col.REGIMEN_1L: "SOR", Col.DATE_PROGRESSION_1L: "2020-03-01", Col.REGIMEN_2L: r2,
             Col.START_2L: "2020-03-15", Col.DATE_DEATH: f"2020-0{5 + i}-01", Col.DATE_LAST_FOLLOWUP: f"2020-0{5 + i}-01"}
            for i, r2 in enumerate(["REG", "REG", "RAM", "RAM"])] + [{Col.REGIMEN_1L: "LEN"}]
    path = tmp_path / "seq.csv"
    path.write_bytes(registry_csv(rows))
    assert main(["analyze", "--data", str(path), "--by-2l", "SOR"]) == 0
    out = json.loads(capsys.readouterr().out)
    seq = {(s["first"], s["second"]): s["n"] for s in out["sequences"]}
    assert seq[("SOR", "REG")] == 2 and seq[("SOR", "RAM")] == 2 and sum(seq.values()) == 5
    assert out["by_second_line"]["after"] == "SOR"
    assert set(out["by_second_line"]["PFS_2L"]["groups"]) == {"REG", "RAM"}
    assert main(["analyze", "--data", str(path), "--by-2l", "ATZ_BEV"]) == 2


def test_response_tdcox_and_landmark_keys(capsys) -> None:
    """On the hand-built fixture the CLI's time-dependent HRs are R's (tests/reference/response_tdcox.csv,
    coxph(Surv(tstart, tstop, death) ~ x [+ strata(regimen_1l)]) on tmerge data; rel. 1e-8)."""
    import pandas as pd
    fixture = ROOT / "tests" / "reference" / "response_fixture.csv"
    mapping = fixture.with_suffix(".mapping.json")  # its free-text 'note' column is confirmed not identifying
    assert main(["analyze", "--data", str(fixture), "--mapping", str(mapping), "--preset", "main"]) == 0
    out = json.loads(capsys.readouterr().out)
    ref = pd.read_csv(ROOT / "tests" / "reference" / "response_tdcox.csv")
    ref = ref[(ref["data"] == "fixture") & (ref["model"] == "time-dependent")].set_index(["covariate", "group"])
    for cov in ("DC", "OR"):
        for group, key in (("SOR", "SOR"), ("LEN", "LEN"), ("pooled_stratum", "pooled")):
            got, want = out["tdcox"][cov][key], ref.loc[(cov, group)]
            assert got["hr"] == pytest.approx(want["hr"], rel=1e-8)
            assert got["ci"] == [pytest.approx(want["lower"], rel=1e-8), pytest.approx(want["upper"], rel=1e-8)]
            assert got["p"] == pytest.approx(want["p"], rel=1e-8)
            assert (got["n"], got["events"]) == (want["n"], want["events"])
    sor = out["response"]["RECIST 1.1"]["regimens"]["SOR"]
    assert sor["counts"]["CR"] == 1 and sor["evaluable"] == 10 and sor["dcr"]["all"]["n"] == 13
    assert {t["rate"] for t in out["response"]["RECIST 1.1"]["tests"]} == {"ORR", "DCR"}
    assert set(out["landmark"]) == {"3", "6"} and set(out["landmark"]["3"]) == {"DC", "OR"}
    assert out["landmark"]["3"]["DC"]["groups"]["DC by 3 months"]["n"] == 11


def test_messy_export_is_mapped_automatically_and_says_so(tmp_path, capsys) -> None:
    """Unambiguous names and words are mapped without --mapping; stderr lists what was mapped."""
    from tests.messy import RENAMES, messy
    from hcc.ingest.registry import load_demo
    frame = load_demo().frame.iloc[::5].copy()
    frame["age"] = frame["age"].clip(upper=89)
    path = tmp_path / "export.csv"
    path.write_bytes(messy(frame).to_csv(index=False).encode("utf-8"))
    assert main(["analyze", "--data", str(path), "--preset", "full"]) == 0
    captured = capsys.readouterr()
    assert f"mapped: column '{RENAMES['start_1l']}' -> start_1l" in captured.err
    assert "mapped: regimen_1l: 'Nexavar' -> SOR" in captured.err
    assert json.loads(captured.out)["cohort"]["n"] == len(frame)


def test_unmatched_required_column_exits_nonzero_listing_it(tmp_path, capsys) -> None:
    path = tmp_path / "export.csv"
    path.write_text("ID,Therapy given,Tx begin,Last follow-up\nA,SOR,2020-01-01,2021-01-01\n", encoding="utf-8")
    assert main(["analyze", "--data", str(path)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "regimen_1l, start_1l not found" in err


def test_mapping_file_maps_what_names_cannot(tmp_path, capsys) -> None:
    from hcc.ingest.mapping import Mapping
    path = tmp_path / "export.csv"
    path.write_text("ID,Therapy given,Tx begin,Last follow-up\nA,Atezo+Bev,03/04/2020,2021-01-01\n"
                    "B,LENVIMA,05/06/2020,2021-01-01\n", encoding="utf-8")
    mapping = Mapping(columns=(("ID", "patient_id"), ("Therapy given", "regimen_1l"), ("Tx begin", "start_1l"),
                               ("Last follow-up", "date_last_followup")),
                      values=(("regimen_1l", "Atezo+Bev", "ATZ_BEV"), ("regimen_1l", "LENVIMA", "LEN")),
                      date_formats=(("start_1l", "DMY"),))
    (tmp_path / "m.json").write_text(mapping.to_json(), encoding="utf-8")
    assert main(["analyze", "--data", str(path), "--mapping", str(tmp_path / "m.json")]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["cohort"]["n"] == 2 and set(out["cohort"]["by_regimen"]) == {"ATZ_BEV", "LEN"}


def test_bad_mapping_file_is_one_line(tmp_path, capsys) -> None:
    (tmp_path / "m.json").write_text('{"version": 1, "columns": {"x": "no_such_column"}}', encoding="utf-8")
    assert main(["analyze", "--data", str(ROOT / "data" / "demo_registry.csv"), "--mapping",
                 str(tmp_path / "m.json")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "no_such_column" in err


#: Runs ``python -m hcc`` in a child process and prints, last on stdout, its CPU seconds (user +
#: system: unlike wall time, hardly changed by other jobs on a busy machine) and peak resident memory (kB).
_MEASURED_CLI = ("import resource, sys; from hcc.cli.main import main; rc = main(sys.argv[1:]); "
                 "u = resource.getrusage(resource.RUSAGE_SELF); print(u.ru_utime + u.ru_stime, u.ru_maxrss); "
                 "sys.exit(rc)")


@pytest.mark.slow
@pytest.mark.parametrize("n_distinct, per, n_patients, extra, pooled_note", [
    # The registries: 10,000 distinct regimens (182 s and 3 GB before the cap) ...
    (10_000, 1, 10_000, ["--stats", "km"],
     "10,000 regimens with fewer than 2 patients (10,000 in all) pooled as Other"),
    # ... and 300 regimens x 3 patients (66 s, 2.3 GB and a sqrt RuntimeWarning), here beside three large
    # regimens so the full analysis still compares groups (pairwise tests, Cox, RMST differences).
    (300, 3, 1_200, ["--by-2l", "SOR"], "300 regimens with fewer than 4 patients (900 in all) pooled as Other"),
], ids=["10000-regimens", "300x3-regimens"])
def test_many_regimens_are_capped_fast_lean_and_warning_free(n_distinct, per, n_patients, extra, pooled_note,
                                                              tmp_path: Path) -> None:
    """At most MAX_GROUPS groups are compared, the rest pooled as Other with the note in the JSON and
    the attrition log; the run takes < 30 CPU seconds (and < 120 s wall time on a busy machine) and
    < 1.5 GB peak memory, measured in the child (about 3-5 s and 250 MB on 2 idle cores), and no
    warning is raised (``-W error`` in the child)."""
    frame = generate(n_patients=n_patients, seed=3)
    frame[Col.AGE] = frame[Col.AGE].clip(upper=89)  # synthetic: no identifying-age confirmation needed
    frame.loc[: n_distinct * per - 1, Col.REGIMEN_1L] = [f"R{i // per:05d}" for i in range(n_distinct * per)]
    write_csv(frame, tmp_path / "many.csv")
    start = time.perf_counter()
    proc = subprocess.run([sys.executable, "-W", "error", "-c", _MEASURED_CLI, "analyze", "--data",
                           str(tmp_path / "many.csv"), "--out", str(tmp_path / "out.json"), *extra],
                          cwd=ROOT, capture_output=True, text=True, timeout=600)
    elapsed = time.perf_counter() - start
    assert proc.returncode == 0, proc.stderr
    assert all(line.startswith("mapped: ") for line in proc.stderr.splitlines()), proc.stderr
    cpu_seconds, peak_mb = float(proc.stdout.split()[-2]), int(proc.stdout.split()[-1]) / 1024
    assert cpu_seconds < 30 and elapsed < 120 and peak_mb < 1536, (cpu_seconds, elapsed, peak_mb)
    result = json.loads((tmp_path / "out.json").read_text())
    cohort = result["cohort"]
    assert len(cohort["by_regimen"]) <= MAX_GROUPS and cohort["by_regimen"]["Other"] == n_distinct * per
    assert cohort["pooled"]["note"].startswith(pooled_note) and cohort["pooled"]["capped"]
    if "attrition" in cohort:
        assert cohort["attrition"][1]["rule"] == "Not excluded: " + cohort["pooled"]["note"]
        assert len(result["endpoints"]["OS"]["pairwise"]) == 6  # SOR, LEN, ATZ_BEV and Other


def test_json_cohort_label_says_which_rules_were_not_applied(small_file: Path, tmp_path: Path, capsys) -> None:
    """Issue 15: a file without the inter-line LRT and trial columns is not named plainly "Main cohort"."""
    from hcc.schema import COLUMNS
    keep = [c.name for c in COLUMNS if c.name not in (Col.INTERLINE_LRT, Col.TRIAL_AFTER_1L)]
    text = small_file.read_text(encoding="utf-8").splitlines()
    header = text[0].split(",")
    cols = [header.index(c) for c in keep if c in header]
    path = tmp_path / "no_flags.csv"
    path.write_text("\n".join(",".join(line.split(",")[i] for i in cols) for line in text) + "\n", encoding="utf-8")
    assert main(["analyze", "--data", str(path), "--preset", "main"]) == 0
    cohort = json.loads(capsys.readouterr().out)["cohort"]
    assert cohort["label"] == ("Main cohort (study) — 2 of 3 rules not applied: no inter-line "
                               "locoregional-therapy or trial-after-first-line columns")
    assert "are therefore still in the cohort" in cohort["rules_not_applied"]
    assert main(["analyze", "--data", str(small_file), "--preset", "full"]) == 0
    full = json.loads(capsys.readouterr().out)["cohort"]
    assert full["label"] == "Full cohort" and "rules_not_applied" not in full
