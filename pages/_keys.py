"""Every session-state key of the app, spelled once."""


class StateKeys:
    """Every session-state key of the app."""

    REGISTRY = "registry"          # the uploaded Registry (absent = demo)
    COHORT = "cohort_"             # + CohortSpec field name: the sidebar's cohort widgets
    COHORT_READY = "cohort_ready"  # the widgets were initialised (from the URL or the main preset)
    SPEC = "cohort_spec"           # the current CohortSpec, built from the widgets each run
    SCENARIO_A = "scenario_a"      # a saved CohortSpec to compare against
    MEMO = "memo"                  # per-session results keyed by (data sha256, settings)
    UPLOAD = "upload_widget"       # the file uploader's widget key
    ENDPOINT = "survival_endpoint"
    OVERVIEW = "survival_overview"   # the all-endpoints table (row selection opens an endpoint)
    CONF_TYPE = "stat_conf_type"
    MILESTONES = "stat_milestones"
    TAU = "stat_tau"                 # 0 = automatic
    REFERENCE = "stat_reference"
    ADJUST = "stat_adjust"
    RHO = "stat_rho"
    SHOW_CI = "fig_show_ci"
    PERCENT = "fig_percent"
    RISK_TABLE = "fig_risk_table"
    KMUNICATE = "fig_kmunicate"
    MEDIAN_LINES = "fig_median_lines"
    BREAKS = "fig_breaks"
    HORIZON = "fig_horizon"          # + endpoint name: each endpoint keeps its own horizon
    SL_LEVEL = "sl_level"            # second line shown as regimen or class
    SL_CLASSES_EDITOR = "sl_classes_editor"
    SL_ENDPOINT = "sl_endpoint"
    SL_FIRST = "sl_first_line"
    SL_ENDPOINT_2 = "sl_endpoint_within"
    SL_PPS_SCOPE = "sl_pps_scope"
    RESP_REGIMEN_AS = "resp_regimen_as"    # pooled time-dependent Cox: regimen as stratum or covariate
    RESP_LANDMARKS = "resp_landmarks"      # landmark months
    RESP_LM_COVARIATE = "resp_lm_covariate"  # DC or OR
    RESP_LM_REGIMEN = "resp_lm_regimen"    # all regimens or one
    SWIM_REGIMEN = "swim_regimen"
    SWIM_SORT = "swim_sort"
    SWIM_N = "swim_n"
