"""hcc.formatting: how every table, figure, report and JSON file writes p-values, hazard ratios,
months and numbers that cannot be estimated."""

from __future__ import annotations

import json
import math

import pytest

from hcc.formatting import format_hr, format_months, format_p, format_p_plain, json_number, json_safe


NB = "\u00a0"  # non-breaking space: "p < 0.001" never wraps in a narrow cell (issue 15)


@pytest.mark.parametrize("p, sentence, cell", [
    (0.0004, f"p{NB}<{NB}0.001", f"<{NB}0.001"), (0.001, f"p{NB}={NB}0.001", "0.001"),
    (0.0123, f"p{NB}={NB}0.012", "0.012"), (1.0, f"p{NB}={NB}1.000", "1.000"), (math.nan, "p not computed", ""),
])
def test_p_values(p, sentence, cell) -> None:
    assert format_p(p) == sentence and format_p_plain(p) == cell
    assert " " not in format_p(p) or math.isnan(p)  # no breakable space inside a p-value


def test_p_none_and_infinite() -> None:
    assert format_p(None) == "p not computed" and format_p_plain(math.inf) == ""


def test_hazard_ratio_with_ci_or_not_estimable() -> None:
    assert format_hr(0.654, 0.5, 0.849) == "0.65 (0.50–0.85)"
    for bad in ((math.nan, 0.5, 0.8), (0.0, 0.0, math.inf), (1.0, math.nan, 2.0)):
        assert format_hr(*bad) == "not estimable"


def test_months_and_not_reached() -> None:
    assert format_months(20.64) == "20.6" and format_months(math.nan) == "NR" and format_months(None) == "NR"


def test_json_numbers_are_null_when_not_estimable() -> None:
    assert json_number(1) == 1.0 and isinstance(json_number(1), float)
    assert [json_number(v) for v in (None, math.nan, math.inf, -math.inf)] == [None] * 4
    nested = {"a": [1.5, math.nan, (math.inf, 2)], "b": {"c": -math.inf, "d": "NR"}}
    assert json.dumps(json_safe(nested), allow_nan=False) == '{"a": [1.5, null, [null, 2]], "b": {"c": null, "d": "NR"}}'
