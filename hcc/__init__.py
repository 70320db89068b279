"""HCC Outcomes Explorer: the domain package (pure Python, never imports streamlit).

Data flows one way, one subpackage per box:

    file bytes ─▶ hcc.ingest   read (io, redcap) ─▶ map (mapping, dates) ─▶ de-identify (deid)
                               ─▶ validate ─▶ Registry (registry); server-side files (serverdata)
    CohortSpec ─▶ hcc.cohort   rules and attrition (rules) ─▶ endpoints ─▶ lines of therapy (secondline)
               ─▶ hcc.stats    risk sets ─▶ Kaplan–Meier and tests (survival), Cox (risksets, coxscore,
                               adjusted, tdcox), subgroups, weighting, response, Table 1 (baseline)
               ─▶ hcc.outputs  tables, figures, export, reports and deck, methods text, reopening
               ─▶ pages/ (through ui/) and hcc.cli

At the top: ``schema`` (every column, regimen and endpoint name), ``errors``, ``formatting`` (how
numbers are written, in tables and in JSON), ``analysis`` (the whole
analysis as the app and the CLI run it) and ``engine`` (the same in SQL on DuckDB or Spark).
``hcc.reference`` holds the published numbers and the synthetic demo registry.
"""

__version__ = "0.1.0"
