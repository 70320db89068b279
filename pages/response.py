"""Response: best response by regimen (ORR, DCR), survival by reaching disease control or response
(time-dependent Cox beside the naive model, landmark analysis), and a swimmer plot."""

import streamlit as st

from hcc.i18n import N_, tr, trc
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
from ui.widgets import indexed
from ui.text import md_table
from ui.i18n import shown_in_this_language

cohort, registry, caption = cohort_page(tr("Response and survival"))
colors = regimen_colors(cohort.regimens)
ALL = N_("All regimens")  # an option value: shown as tr(ALL)
LANDMARK_CHOICES = (1, 2, 3, 4, 6, 9, 12, 18, 24)


def option_name(regimen: str) -> str:
    """A regimen option as shown: its code, or "All regimens" in the session's language."""
    return tr(ALL) if regimen == ALL else regimen


def memo(name: str, settings: tuple, compute):
    return session_memo((name, registry.sha256, cohort.spec, settings), compute)


criteria = available_criteria(cohort.frame)
if presenting():
    slides = []
    for criterion in criteria:
        rates = memo("response_rates", (criterion,), lambda c=criterion: response_rates(cohort.frame, cohort.regimens, c))
        slides += [Slide(tr("Best overall response ({criterion})", criterion=criterion),
                         figure=response_bar_figure(rates, colors, caption)),
                   *table_slides(tr("Response rates ({criterion})", criterion=criterion), response_rates_table(rates))]
    present("pages/response.py", slides, caption)
st.subheader(tr("Best overall response to first line"))
for tab, criterion in zip(st.tabs(list(criteria)), criteria):
    with tab:
        rates = memo("response_rates", (criterion,),
                     lambda c=criterion: response_rates(cohort.frame, cohort.regimens, c))
        st.dataframe(counts := response_counts_table(rates), hide_index=True)
        table_downloads(counts, f"response_counts_{criterion}")
        st.table(md_table(indexed(response_rates_table(rates))))
        st.caption(tr("ORR (objective response) = CR + PR; DCR (disease control) = CR + PR + SD. Each as "
                      "patients/denominator · % (exact Clopper–Pearson 95% CI), over the evaluable patients "
                      "(CR, PR, SD or PD) and over all patients, where NE and not recorded count as neither."))
        left, right = st.columns([3, 2])
        # drawn in three fifths of the page: title and legend wrap to that width
        chart(apply_layout(response_bar_figure(rates, colors, caption), "screen", width_px=560),
              f"response_{criterion}", caption, left)
        right.markdown(tr("**Rates compared across regimens**"))
        right.table(md_table(indexed(response_tests_table(rates))))

st.subheader(tr("Survival after reaching disease control or response"))
regimen_as = st.radio(tr("Pooled model: regimen as"), [k for k in REGIMEN_AS if k], horizontal=True,
                      format_func=shown_in_this_language(lambda k: tr(REGIMEN_AS_WORDS[k])), key=StateKeys.RESP_REGIMEN_AS,
                      help=tr("As a stratum: a baseline hazard per regimen (R: + strata(regimen)); as a covariate: "
                              "a proportional effect per regimen (R: + regimen)."))
models = memo("response_models", (regimen_as,),
              lambda: response_models(cohort.frame, cohort.regimens, regimen_as))
st.dataframe(model_table := response_models_table(models), hide_index=True)
table_downloads(model_table, "time_dependent_cox")
st.caption(tr("Hazard ratio for death, from a Cox model of overall survival in which disease control (or "
              "response) switches from 'not yet' to 'reached' on the date it was first documented "
              "(time-dependent covariate; Efron ties, Wald 95% CI). Below 1: lower risk of death once reached. "
              "Study: {citation}.", citation=INOUE_2026.citation))
st.info(tr(
    "**Why not simply compare patients who reached disease control with those who did not?** "
    "To be counted as reaching it, a patient has to live until the scan that shows it — usually 6 to 9 "
    "weeks after starting treatment. Patients who die earlier can only ever be in the 'not reached' group. "
    "That guaranteed survival (*immortal time*) makes the reached group look better even if reaching it "
    "changed nothing: the **naive** hazard ratio in the last column is biased towards benefit. The "
    "**time-dependent** model counts every patient as 'not yet reached' until the date it was documented, "
    "so both states are compared only over time at which death was possible. The landmark analysis below "
    "is another remedy."), icon=":material/info:")

st.subheader(tr("Landmark analysis"))
c1, c2, c3 = st.columns(3)
months = c1.multiselect(tr("Landmarks, months after first-line start"), LANDMARK_CHOICES,
                        default=[int(m) for m in DEFAULT_LANDMARKS_MONTHS], key=StateKeys.RESP_LANDMARKS)
covariate = c2.radio(tr("Grouped by"), list(COVARIATES),
                     format_func=shown_in_this_language(lambda c: tr("{reached} ({code}) by then", reached=tr(COVARIATE_LABELS[c]),
                                                    code=c)),
                     key=StateKeys.RESP_LM_COVARIATE)
regimen = c3.selectbox(trc("response page", "Patients"), [ALL, *cohort.regimens], format_func=shown_in_this_language(option_name),
                       key=StateKeys.RESP_LM_REGIMEN)
st.caption(tr("Patients alive and still followed at the landmark, grouped by whether {reached} was documented "
              "by then; overall survival counted from the landmark. Patients who died or were censored before "
              "it are left out.", reached=tr(COVARIATE_LABELS[covariate])))
landmarks = [memo("landmark", (m, covariate, regimen),
                  lambda m=m: landmark(cohort.frame, m, covariate, None if regimen == ALL else regimen))
             for m in sorted(months)]
for tab, lm in zip(st.tabs([tr("{m:g} months", m=m) for m in sorted(months)]) if landmarks else (), landmarks):
    with tab:
        if lm.summary is None:
            st.warning(tr("Nobody in this cohort is followed beyond {m:g} months.", m=lm.landmark_months))
            continue
        who = tr("all regimens") if regimen == ALL else regimen
        chart(km_figure(lm.summary, landmark_colors(lm.groups), subtitle=f"{who} · {caption}",
                        title=tr("Overall survival from the {m:g}-month landmark", m=lm.landmark_months),
                        x_title=tr("Months since the {m:g}-month landmark", m=lm.landmark_months)),
              f"landmark_{lm.landmark_months:g}", caption)
if landmarks:
    st.dataframe(lm_table := landmark_table(landmarks), hide_index=True)
    table_downloads(lm_table, "landmark")


@st.fragment
def swimmer_block() -> None:
    st.subheader(tr("Swimmer plot"))
    c1, c2, c3 = st.columns(3)
    which = c1.selectbox(trc("response page", "Regimen"), [ALL, *cohort.regimens], format_func=shown_in_this_language(option_name),
                         key=StateKeys.SWIM_REGIMEN)
    sort = c2.selectbox(trc("response page", "Order"), list(SWIMMER_SORTS),
                        format_func=shown_in_this_language(lambda k: tr(SWIMMER_SORTS[k])), key=StateKeys.SWIM_SORT)
    n = c3.slider(tr("Patients shown (at most; a fixed random sample)"), 20, 200, 100, step=10, key=StateKeys.SWIM_N)
    regimens = cohort.regimens if which == ALL else (which,)
    lanes = memo("swimmer", (regimens, sort, n),
                 lambda: swimmer_lanes(cohort.frame, regimens, max_patients=n, sort=sort))
    chart(swimmer_figure(lanes, colors, caption), "swimmer", caption)


swimmer_block()
