"""Database mode in the app at one size, server side, in AppTest:
``python -m benchmarks.app_database --parquet /tmp/reg10m.parquet`` (make one with
``python -m benchmarks.registry --n 10000000 --out /tmp/reg10m.parquet``; synthetic only).

One process, so that its peak memory is one session's:

1. **open**: the Data page's server-data widget (``HCC_SERVER_DATA_DIR`` = the file's folder) opens the
   file in database mode: the Parquet footer's row count, then the contract checks in SQL
   (:func:`hcc.ingest.database.open_database`) and the regimens;
2. **first Survival page**: that session's registry in the app (router, sidebar, rules), then the
   Survival page's first run (main cohort and its attrition, the seven endpoints' summaries, the KM
   figure of OS), all in DuckDB;
3. **cohort-rule change**: one new lower age limit, the Survival page rerun (a new cohort in DuckDB);
4. **peak memory** of the process (``ru_maxrss``) and its resident memory after each step.

The widget runs in its own AppTest (a script of the widget alone) and its session's registry is handed
to the app's session, as the widget leaves it in ``st.session_state``.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import time
from pathlib import Path

from streamlit.testing.v1 import AppTest

from benchmarks.app_targets import _rss_mib, _run
from ui.keys import StateKeys


def _widget_app() -> None:
    from ui.server_data import server_data_widget

    server_data_widget()


def measure(parquet: Path) -> dict:
    """Seconds and MiB of opening ``parquet`` in database mode and the first Survival page."""
    os.environ["HCC_SERVER_DATA_DIR"] = str(parquet.parent)
    row: dict = {"file": parquet.name, "rss_start_mib": _rss_mib()}
    widget = AppTest.from_function(_widget_app, default_timeout=600)
    widget.run()
    widget.selectbox(key=StateKeys.SERVER_FILE).set_value(parquet.name)
    _run(widget)
    widget.button(key=StateKeys.SERVER_OPEN).click()
    row["open_s"] = _run(widget)
    database = widget.session_state[StateKeys.DATABASE]
    if database is None:
        raise RuntimeError("not opened: " + " ".join(e.value for e in widget.error))
    row["patients"] = database.n_patients
    row["rss_after_open_mib"] = _rss_mib()

    app = AppTest.from_file("../app.py", default_timeout=600)
    app.session_state[StateKeys.DATABASE] = database
    start = time.perf_counter()
    _run(app)  # the Overview page: the main cohort, its attrition and OS
    app.switch_page("pages/survival.py")
    _run(app)
    row["to_first_survival_page_s"] = time.perf_counter() - start
    row["open_to_first_km_s"] = row["open_s"] + row["to_first_survival_page_s"]
    if not app.get("plotly_chart"):
        raise RuntimeError("no KM figure")
    row["rss_after_survival_mib"] = _rss_mib()
    app.number_input(key=StateKeys.COHORT + "age_min").set_value(20.0)
    row["rule_change_s"] = _run(app)  # the Survival page again: a new cohort, its seven endpoints in DuckDB
    row["peak_rss_mib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    database.close()
    return row


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.app_database", description=__doc__.split("\n")[0])
    parser.add_argument("--parquet", type=Path, required=True, help="a canonical registry Parquet file")
    args = parser.parse_args(argv)
    print(json.dumps(measure(args.parquet.resolve()), indent=1))


if __name__ == "__main__":
    main()
