"""Response: best response by regimen (ORR, DCR), survival by reaching disease control or response
(time-dependent Cox beside the naive model, landmark analysis), and a swimmer plot."""

import streamlit as st

from hcc.outputs.figures import (
    apply_layout, km_figure, landmark_colors, regimen_colors, response_bar_figure, swimmer_figure,
)
from hcc.stats.tdcox import REGIMEN_AS, REGIMEN_AS_WORDS
from hcc.outputs.tables import (
    landmark_table, response_counts_table, response_models_table, response_rates_table, response_tests_table,
)
from hcc.stats.response import (
    COVARIATE_LABELS, COVARIATES, DEFAULT_LANDMARKS_MONTHS, SWIMMER_SORTS, available_criteria, landmark,
    response_models, response_rates, swimmer_lanes,
)
from hcc.reference.study import INOUE_2026
from ui.downloads import chart, table_downloads
from ui.common import StateKeys, cohort_page, session_memo
from ui.present import Slide, present, presenting, table_slides
from ui.text import md_table

cohort, registry, caption = cohort_page("Response and survival")
colors = regimen_colors(cohort.regimens)
ALL = "All regimens"
LANDMARK_CHOICES = (1, 2, 3, 4, 6, 9, 12, 18, 24)


def memo(name: str, settings: tuple, compute):
    return session_memo((name, registry.sha256, cohort.spec, settings), compute)


criteria = available_criteria(cohort.frame)
if presenting():
    slides = []
    for criterion in criteria:
        rates = memo("response_rates", (criterion,), lambda c=criterion: response_rates(cohort.frame, cohort.regimens, c))
        slides += [Slide(f"Best overall response ({criterion})", figure=response_bar_figure(rates, colors, caption)),
                   *table_slides(f"Response rates ({criterion})", response_rates_table(rates))]
    present("pages/response.py", slides, caption)
st.subheader("Best overall response to first line")
for tab, criterion in zip(st.tabs(list(criteria)), criteria):
    with tab:
        rates = memo("response_rates", (criterion,),
                     lambda c=criterion: response_rates(cohort.frame, cohort.regimens, c))
        st.dataframe(counts := response_counts_table(rates), hide_index=True)
        table_downloads(counts, f"response_counts_{criterion}")
        st.table(md_table(response_rates_table(rates).set_index("Regimen")))
        st.caption("ORR (objective response) = CR + PR; DCR (disease control) = CR + PR + SD. Each as "
                   "patients/denominator · % (exact Clopper–Pearson 95% CI), over the evaluable patients "
                   "(CR, PR, SD or PD) and over all patients, where NE and not recorded count as neither.")
        left, right = st.columns([3, 2])
        # drawn in three fifths of the page: title and legend wrap to that width
        chart(apply_layout(response_bar_figure(rates, colors, caption), "screen", width_px=560),
              f"response_{criterion}", caption, left)
        right.markdown("**Rates compared across regimens**")
        right.table(md_table(response_tests_table(rates).set_index("Rate")))

st.subheader("Survival after reaching disease control or response")
regimen_as = st.radio("Pooled model: regimen as", [k for k in REGIMEN_AS if k], horizontal=True,
                      format_func=lambda k: REGIMEN_AS_WORDS[k], key=StateKeys.RESP_REGIMEN_AS,
                      help="As a stratum: a baseline hazard per regimen (R: + strata(regimen)); as a covariate: "
                           "a proportional effect per regimen (R: + regimen).")
models = memo("response_models", (regimen_as,),
              lambda: response_models(cohort.frame, cohort.regimens, regimen_as))
st.dataframe(model_table := response_models_table(models), hide_index=True)
table_downloads(model_table, "time_dependent_cox")
st.caption("Hazard ratio for death, from a Cox model of overall survival in which disease control (or "
           "response) switches from 'not yet' to 'reached' on the date it was first documented "
           "(time-dependent covariate; Efron ties, Wald 95% CI). Below 1: lower risk of death once reached. "
           f"Study: {INOUE_2026.citation}.")
st.info(
    "**Why not simply compare patients who reached disease control with those who did not?** "
    "To be counted as reaching it, a patient has to live until the scan that shows it — usually 6 to 9 "
    "weeks after starting treatment. Patients who die earlier can only ever be in the 'not reached' group. "
    "That guaranteed survival (*immortal time*) makes the reached group look better even if reaching it "
    "changed nothing: the **naive** hazard ratio in the last column is biased towards benefit. The "
    "**time-dependent** model counts every patient as 'not yet reached' until the date it was documented, "
    "so both states are compared only over time at which death was possible. The landmark analysis below "
    "is another remedy.", icon=":material/info:")

st.subheader("Landmark analysis")
c1, c2, c3 = st.columns(3)
months = c1.multiselect("Landmarks, months after first-line start", LANDMARK_CHOICES,
                        default=[int(m) for m in DEFAULT_LANDMARKS_MONTHS], key=StateKeys.RESP_LANDMARKS)
covariate = c2.radio("Grouped by", list(COVARIATES), format_func=lambda c: f"{COVARIATE_LABELS[c]} ({c}) by then",
                     key=StateKeys.RESP_LM_COVARIATE)
regimen = c3.selectbox("Patients", [ALL, *cohort.regimens], key=StateKeys.RESP_LM_REGIMEN)
st.caption("Patients alive and still followed at the landmark, grouped by whether "
           f"{COVARIATE_LABELS[covariate]} was documented by then; overall survival counted from the landmark. "
           "Patients who died or were censored before it are left out.")
landmarks = [memo("landmark", (m, covariate, regimen),
                  lambda m=m: landmark(cohort.frame, m, covariate, None if regimen == ALL else regimen))
             for m in sorted(months)]
for tab, lm in zip(st.tabs([f"{m:g} months" for m in sorted(months)]) if landmarks else (), landmarks):
    with tab:
        if lm.summary is None:
            st.warning(f"Nobody in this cohort is followed beyond {lm.landmark_months:g} months.")
            continue
        who = "all regimens" if regimen == ALL else regimen
        chart(km_figure(lm.summary, landmark_colors(lm.groups), subtitle=f"{who} · {caption}",
                        title=f"Overall survival from the {lm.landmark_months:g}-month landmark",
                        x_title=f"Months since the {lm.landmark_months:g}-month landmark"),
              f"landmark_{lm.landmark_months:g}", caption)
if landmarks:
    st.dataframe(lm_table := landmark_table(landmarks), hide_index=True)
    table_downloads(lm_table, "landmark")


@st.fragment
def swimmer_block() -> None:
    st.subheader("Swimmer plot")
    c1, c2, c3 = st.columns(3)
    which = c1.selectbox("Regimen", [ALL, *cohort.regimens], key=StateKeys.SWIM_REGIMEN)
    sort = c2.selectbox("Order", list(SWIMMER_SORTS), format_func=SWIMMER_SORTS.get, key=StateKeys.SWIM_SORT)
    n = c3.slider("Patients shown (at most; a fixed random sample)", 20, 200, 100, step=10, key=StateKeys.SWIM_N)
    regimens = cohort.regimens if which == ALL else (which,)
    lanes = memo("swimmer", (regimens, sort, n),
                 lambda: swimmer_lanes(cohort.frame, regimens, max_patients=n, sort=sort))
    chart(swimmer_figure(lanes, colors, caption), "swimmer", caption)


swimmer_block()
