"""``python -m hcc analyze --cox FORMULA --endpoint E --iptw``: the adjusted blocks of the CLI's JSON."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from hcc.cli.main import main

DEMO = str(Path(__file__).resolve().parent.parent / "data" / "demo_registry.csv")
REF = Path(__file__).parent / "reference"


def _run(tmp_path, *extra: str) -> dict:
    out = tmp_path / "out.json"
    code = main(["analyze", "--data", DEMO, "--preset", "main", "--stats", "km", "--out", str(out), *extra])
    assert code == 0
    return json.loads(out.read_text(encoding="utf-8"))


def test_cox_block_matches_r(tmp_path) -> None:
    """R: coxph(Surv(os_time, os_status) ~ regimen + age + child_pugh_class + bclc, control = ctl)
    (tests/reference/adjusted_reference.R, model demo_os): HR to 1e-8, n, events, concordance, zph."""
    out = _run(tmp_path, "--cox", "age+child_pugh_class+bclc", "--endpoint", "OS", "--reference", "SOR")
    m = out["multivariable"]
    ref = pd.read_csv(REF / "adjusted_coef.csv").query("model == 'demo_os'").set_index("term")
    fit = pd.read_csv(REF / "adjusted_fit.csv").set_index("model").loc["demo_os"]
    terms = {t["term"]: t for t in m["terms"]}
    assert terms["regimen_1l=ATZ_BEV"]["hr"] == pytest.approx(ref.loc["regimenATZ_BEV", "hr"], rel=1e-8)
    assert terms["child_pugh_class=B"]["ci"][1] == pytest.approx(ref.loc["child_pugh_classB", "upper"], rel=1e-8)
    assert (m["n"], m["events"]) == (fit["n"], fit["events"])
    assert m["concordance"] == pytest.approx(fit["concordance"], rel=1e-8)
    assert [t["term"] for t in m["ph_test"]] == ["regimen_1l", "age", "child_pugh_class", "bclc", "GLOBAL"]
    assert "iptw" not in out


def test_iptw_block(tmp_path) -> None:
    """--iptw with --cox covariates; R: coxph(..., weights = w, robust = TRUE) on the same weights is
    tested in tests/test_weighting.py — here the block's shape and that weighting balanced the groups."""
    out = _run(tmp_path, "--cox", "age+child_pugh_class+bclc+ecog+afp+mvi+ehs", "--iptw", "--reference", "SOR")
    iptw = out["iptw"]
    ref = pd.read_csv(REF / "iptw_cox.csv").query("model == 'multinomial'").set_index("term")
    hr = {h["term"]: h for h in iptw["weighted_cox"]}
    assert hr["ATZ_BEV"]["hr"] == pytest.approx(ref.loc["ATZ_BEV", "hr"], rel=1e-6)
    assert hr["LEN"]["robust_se"] == pytest.approx(ref.loc["LEN", "robust_se"], rel=1e-6)
    assert iptw["max_abs_smd_after"] < 0.1
    assert {"covariate", "a", "b", "smd_before", "smd_after"} == set(iptw["balance"][0])


def test_unknown_covariate_is_one_line_and_exit_2(capsys) -> None:
    code = main(["analyze", "--data", DEMO, "--cox", "age+weight"])
    err = capsys.readouterr().err
    assert code == 2
    assert err.count("\n") == 1 and err.startswith("error: --cox: unknown covariate weight")
