"""How numbers are written for clinicians and in JSON: the one place for p-values, hazard ratios
with their CI, months and "NR", and JSON numbers ("not estimable" is null).

Used by the statistics' result tables (:mod:`hcc.stats`), the outputs (:mod:`hcc.outputs`), the
pages and the CLI, so a hazard ratio reads the same in every table, figure, report and slide.
"""

from __future__ import annotations

import math
from typing import Any

from hcc.i18n import tr, trc


def format_p(p: float | None) -> str:
    """Clinical p-value in a sentence or label: ``p < 0.001`` or ``p = 0.012`` (three decimals);
    ``p not computed`` for None or NaN."""
    if p is None or math.isnan(p):
        return tr("p not computed")
    # Non-breaking spaces: a narrow table cell must never wrap it as "p <" / "0.001".
    return "p\u00a0<\u00a00.001" if p < 0.001 else f"p\u00a0=\u00a0{p:.3f}"


def format_p_plain(p: float) -> str:
    """p-value for a table cell under a "p" header: ``< 0.001`` or three decimals; blank when not
    computed (NaN or infinite)."""
    if not math.isfinite(p):
        return ""
    return "<\u00a00.001" if p < 0.001 else f"{p:.3f}"


def format_hr(hr: float, lo: float, hi: float) -> str:
    """Hazard ratio with its 95% CI, two decimals: ``0.65 (0.50–0.85)``; ``not estimable`` when any
    of the three is NaN or infinite."""
    if not all(map(math.isfinite, (hr, lo, hi))):
        return tr("not estimable")
    return f"{hr:.2f} ({lo:.2f}–{hi:.2f})"


def format_months(x: float | None) -> str:
    """A time in months with one decimal, or ``NR`` (not reached; 未到達 in Japanese) for None or NaN."""
    return trc("median not reached", "NR") if x is None or math.isnan(x) else f"{x:.1f}"


def json_number(x: float | None) -> float | None:
    """A JSON number, or None (null: not reached / not estimable) for None, NaN or infinity."""
    return float(x) if x is not None and math.isfinite(x) else None


def json_safe(obj: Any) -> Any:
    """``obj`` (dicts, lists, tuples, scalars) with every NaN or infinite float replaced by None, so
    ``json.dumps(..., allow_nan=False)`` writes valid JSON."""
    if isinstance(obj, dict):
        return {k: json_safe(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [json_safe(v) for v in obj]
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    return obj


def method_label(key: str) -> str:
    """A key of a result's ``methods`` dict (``"hazard ratio"``, ``"ph test"`` …) as a label in the
    current language; the key itself in English (the JSON keeps the English keys)."""
    labels = {
        "estimator": trc("methods", "estimator"), "variance": trc("methods", "variance"),
        "ci": trc("methods", "ci"), "median": trc("methods", "median"), "test": trc("methods", "test"),
        "pairwise": trc("methods", "pairwise"), "hazard ratio": trc("methods", "hazard ratio"),
        "RMST": trc("methods", "RMST"), "follow-up": trc("methods", "follow-up"), "rates": trc("methods", "rates"),
        "confidence interval": trc("methods", "confidence interval"), "comparison": trc("methods", "comparison"),
        "fine_gray": trc("methods", "fine_gray"), "cause_specific": trc("methods", "cause_specific"),
        "ties": trc("methods", "ties"), "states": trc("methods", "states"), "model": trc("methods", "model"),
        "missing": trc("methods", "missing"), "concordance": trc("methods", "concordance"),
        "lr test": trc("methods", "lr test"), "ph test": trc("methods", "ph test"), "AFP": trc("methods", "AFP"),
        "ECOG PS": trc("methods", "ECOG PS"), "propensity": trc("methods", "propensity"),
        "weights": trc("methods", "weights"), "balance": trc("methods", "balance"), "km": trc("methods", "km"),
        "within a level": trc("methods", "within a level"), "interaction": trc("methods", "interaction"),
    }
    return labels.get(key, key)
