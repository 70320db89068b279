"""Every session-state key of the app, spelled once."""


class StateKeys:
    """Every session-state key of the app."""

    LANG = "lang"                  # the session's language (hcc.i18n.LANGUAGES; ?lang= in the link)
    LANG_WIDGET = "lang_switch"    # the sidebar's language switch
    REGISTRY = "registry"          # the uploaded Registry (absent = demo)
    COHORT = "cohort_"             # + CohortSpec field name: the sidebar's cohort widgets
    COHORT_READY = "cohort_ready"  # the widgets were initialised (from the URL or the main preset)
    SPEC = "cohort_spec"           # the current CohortSpec, built from the widgets each run
    SCENARIO_A = "scenario_a"      # a saved CohortSpec to compare against
    MEMO = "memo"                  # per-session results keyed by (data sha256, settings)
    UPLOAD = "upload_widget"       # the file uploader's widget key (+ generation, so "Clear data" empties it)
    UPLOAD_GEN = "upload_generation"
    CLEAR_DATA = "clear_data"      # the Data page's Clear data button
    SERVER_FILE = "server_data_file"    # a Parquet/DuckDB file in the allow-listed server directory
    SERVER_TABLE = "server_data_table"  # the DuckDB table to open
    SERVER_OPEN = "server_data_open"    # its Open button (keyed: a translated label would be another button)
    SERVER_IN_DATABASE = "server_data_in_database"  # open a file below the in-memory limit in database mode too
    DATABASE = "database_registry"  # a server registry opened in database mode (hcc.ingest.database); its own connection
    SHEET = "upload_sheet"         # the Excel sheet read
    SOURCE = "upload_source"       # ((file digest, sheet), Source, (uploader file ids, SHA-256s)): the upload, read (each file hashed once), kept until replaced or cleared
    MAPPING = "mapping_current"    # (file sha256, Mapping): the last mapping loaded from a file or applied
    MAPPING_GEN = "mapping_generation"  # bumped when a mapping file is loaded: the editors restart from it
    MAPPING_FILE = "mapping_file"  # + generation: the mapping-file uploader
    MAP_COLUMNS = "map_columns"    # + generation and file: the column-mapping editor
    MAP_VALUES = "map_values"      # + generation and columns: the value-mapping editor
    REQUIRED_PICK = "map_required_"   # + column + generation: which file column holds a required column
    PRESET_PICK = "map_preset_"       # + column + generation: which file column holds a preset rule's column
    DATE_FORMAT = "map_date_format_"  # + column: the answer to an ambiguous date column
    IDENTIFIER = "map_identifier_"    # + column: what to do with a possible identifier
    RELATIVE_DATES = "map_relative_dates"
    FAILED_ACTION = "failed_action"  # the message of a button/widget action that failed (shown once)
    PRESENT = "present_mode"         # presentation mode (also ?present=1 in the URL)
    PRESENT_SLIDE = "present_slide"  # {page path: which of its results the presentation shows}
    PRESENT_PAGE = "present_page"    # the page presenting now (Next past its last slide opens the next page)
    TRIAL_MEDIANS = "fig_trial_medians"
    FIG_EXPORT = "fig_export_"       # + figure name: prepared PNG/SVG/PDF bytes and their size preset
    EXPORT_FIGURES = "export_figures"  # endpoints drawn in the report / deck
    EXPORT_BUILT = "export_built"    # (settings, {format: bytes}) built on the Report & slides page
    EXPORT_ERROR = "_export_error"   # suffix: why the last "Prepare files" / "Build" could not make its file
    REOPEN_FILE = "reopen_file"      # the report / deck / spec uploaded to reopen a view
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
    ADJ_ENDPOINT = "adj_endpoint"          # Adjusted comparisons page (its settings form)
    ADJ_COVARIATES = "adj_covariates"
    ADJ_AFP_FORM = "adj_afp_form"          # AFP as log10 or as >= 400 ng/mL
    ADJ_REFERENCE = "adj_reference"
    ADJ_CENTER = "adj_center_stratum"
    ADJ_SUBGROUP = "adj_subgroup"
    ADJ_SUB_A = "adj_subgroup_a"
    ADJ_SUB_B = "adj_subgroup_b"
    ADJ_IPTW = "adj_iptw"
    ADJ_TRIM = "adj_trim"
