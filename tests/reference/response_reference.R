# Reference values for tests/test_response.py and tests/test_models.py: response rates with exact
# (Clopper-Pearson) CIs, their comparison across regimens, time-dependent Cox models of overall
# survival on disease control (DC) and objective response (OR), the naive fixed-covariate Cox
# model, and the landmark analysis.
# Run from the repository root:  Rscript tests/reference/response_reference.R
# Data: the demo registry's main cohort (data/demo_registry.csv with concomitant_lrt, interline_lrt
# and trial_after_1l all "no") and the hand-built tests/reference/response_fixture.csv.
# Writes tests/reference/response_rates.csv, response_tests.csv, response_tdcox.csv,
# response_landmark.csv.
suppressPackageStartupMessages(library(survival))
out <- "tests/reference"
dpm <- 30.4375
ctl <- coxph.control(eps = 1e-12, toler.chol = 1e-13, iter.max = 100)

read_registry <- function(path) {
  d <- read.csv(path, na.strings = "", stringsAsFactors = FALSE)
  for (v in grep("^(date_|start_)", names(d), value = TRUE)) d[[v]] <- as.Date(d[[v]])
  d <- d[d$concomitant_lrt == "no" & d$interline_lrt == "no" & d$trial_after_1l == "no", ]
  d$id <- seq_len(nrow(d))
  # Overall survival as hcc.cohort.endpoints: to death (an event) or last follow-up (censored), in days.
  d$dead <- as.integer(!is.na(d$date_death))
  d$futime <- as.numeric(ifelse(is.na(d$date_death), d$date_last_followup, d$date_death) - as.numeric(d$start_1l))
  d$DC <- as.numeric(d$date_dc_1l - d$start_1l)
  d$OR <- as.numeric(d$date_response_1l - d$start_1l)
  d
}

# The app's exclusions (hcc.stats.tdcox.switch_data: the data contract's date-order checks of
# docs/endpoints.md for the dates read, and no follow-up time, which tmerge refuses):
#   both: death before start, last follow-up before start or after death, futime <= 0;
#   DC: date_dc_1l before start_1l;
#   OR: date_response_1l before start_1l, or after death / the end of follow-up.
usable <- function(d, cov) {
  ok <- d$futime > 0 & d$date_last_followup >= d$start_1l &
    !(d$dead == 1 & d$date_last_followup > d$date_death)
  s <- d[[cov]]
  ok <- ok & (is.na(s) | s >= 0)
  if (cov == "OR") ok <- ok & (is.na(s) | s <= d$futime)
  d[ok, ]
}

fit_row <- function(fit, term, label, cov, model, data_name, n, events, switched) {
  sm <- summary(fit)$coefficients; ci <- exp(confint(fit))
  data.frame(data = data_name, covariate = cov, model = model, group = label,
             hr = sm[term, "exp(coef)"], lower = ci[term, 1], upper = ci[term, 2], p = sm[term, "Pr(>|z|)"],
             n = n, events = events, n_switched = switched)
}

models_for <- function(d, data_name) {
  rows <- list()
  for (cov in c("DC", "OR")) {
    u <- usable(d, cov)
    base <- u[, c("id", "futime", "dead", "regimen_1l")]
    td <- tmerge(base, base, id = id, death = event(futime, dead))
    td <- tmerge(td, data.frame(id = u$id, sw = u[[cov]]), id = id, x = tdc(sw))
    # Naive: "ever achieved" (a switch date on or before the end of follow-up) as a baseline covariate.
    u$ever <- as.integer(!is.na(u[[cov]]) & u[[cov]] <= u$futime)
    groups <- list()
    for (g in unique(u$regimen_1l)) groups[[g]] <- g
    for (g in names(groups)) {
      tdg <- td[td$regimen_1l == g, ]; ug <- u[u$regimen_1l == g, ]
      f <- coxph(Surv(tstart, tstop, death) ~ x, data = tdg, ties = "efron", control = ctl)
      rows[[length(rows) + 1]] <- fit_row(f, "x", g, cov, "time-dependent", data_name, nrow(ug), sum(ug$dead),
                                          length(unique(tdg$id[tdg$x == 1])))
      f <- coxph(Surv(futime, dead) ~ ever, data = ug, ties = "efron", control = ctl)
      rows[[length(rows) + 1]] <- fit_row(f, "ever", g, cov, "naive", data_name, nrow(ug), sum(ug$dead), sum(ug$ever))
    }
    sw <- length(unique(td$id[td$x == 1]))
    f <- coxph(Surv(tstart, tstop, death) ~ x + strata(regimen_1l), data = td, ties = "efron", control = ctl)
    rows[[length(rows) + 1]] <- fit_row(f, "x", "pooled_stratum", cov, "time-dependent", data_name, nrow(u), sum(u$dead), sw)
    f <- coxph(Surv(tstart, tstop, death) ~ x + regimen_1l, data = td, ties = "efron", control = ctl)
    rows[[length(rows) + 1]] <- fit_row(f, "x", "pooled_covariate", cov, "time-dependent", data_name, nrow(u), sum(u$dead), sw)
    f <- coxph(Surv(tstart, tstop, death) ~ x, data = td, ties = "efron", control = ctl)
    rows[[length(rows) + 1]] <- fit_row(f, "x", "pooled_none", cov, "time-dependent", data_name, nrow(u), sum(u$dead), sw)
    f <- coxph(Surv(futime, dead) ~ ever + strata(regimen_1l), data = u, ties = "efron", control = ctl)
    rows[[length(rows) + 1]] <- fit_row(f, "ever", "pooled_stratum", cov, "naive", data_name, nrow(u), sum(u$dead), sum(u$ever))
    f <- coxph(Surv(futime, dead) ~ ever + regimen_1l, data = u, ties = "efron", control = ctl)
    rows[[length(rows) + 1]] <- fit_row(f, "ever", "pooled_covariate", cov, "naive", data_name, nrow(u), sum(u$dead), sum(u$ever))
  }
  do.call(rbind, rows)
}

rates_for <- function(d, data_name) {
  rows <- list(); tests <- list()
  for (crit in c("best_response_1l", "best_response_1l_mrecist")) {
    for (g in unique(d$regimen_1l)) {
      r <- d[[crit]][d$regimen_1l == g]
      evaluable <- sum(r %in% c("CR", "PR", "SD", "PD"))
      for (rate in c("ORR", "DCR")) {
        k <- sum(r %in% (if (rate == "ORR") c("CR", "PR") else c("CR", "PR", "SD")))
        for (den in c("evaluable", "all")) {
          n <- if (den == "evaluable") evaluable else length(r)
          b <- binom.test(k, n)
          rows[[length(rows) + 1]] <- data.frame(data = data_name, criterion = crit, group = g, rate = rate,
            denominator = den, k = k, n = n, estimate = k / n, lower = b$conf.int[1], upper = b$conf.int[2])
        }
      }
    }
    for (rate in c("ORR", "DCR")) for (den in c("evaluable", "all")) {
      r <- d[[crit]]; keep <- if (den == "evaluable") r %in% c("CR", "PR", "SD", "PD") else rep(TRUE, length(r))
      yes <- r[keep] %in% (if (rate == "ORR") c("CR", "PR") else c("CR", "PR", "SD"))
      tab <- table(factor(yes, levels = c(TRUE, FALSE)), d$regimen_1l[keep])
      chi <- suppressWarnings(chisq.test(tab, correct = FALSE))
      fis <- fisher.test(tab)
      tests[[length(tests) + 1]] <- data.frame(data = data_name, criterion = crit, rate = rate, denominator = den,
        chisq_p = chi$p.value, fisher_p = fis$p.value, min_expected = min(chi$expected))
    }
  }
  list(rates = do.call(rbind, rows), tests = do.call(rbind, tests))
}

# Landmark at L months: patients with OS time > L; group = DC (or OR) dated on or before day L;
# OS from the landmark. Group "achieved" against the reference "not achieved".
landmark_for <- function(d, data_name, months) {
  rows <- list()
  for (cov in c("DC", "OR")) for (L in months) {
    u <- usable(d, cov)
    lm_days <- L * dpm
    u <- u[u$futime > lm_days, ]
    u$time <- u$futime - lm_days
    u$grp <- factor(ifelse(!is.na(u[[cov]]) & u[[cov]] <= lm_days, "achieved", "not"), levels = c("not", "achieved"))
    for (g in c("all", unique(d$regimen_1l))) {
      x <- if (g == "all") u else u[u$regimen_1l == g, ]
      # HR not estimable (and not in the app) when a group is empty or has no death.
      if (length(unique(x$grp)) < 2 || any(tapply(x$dead, x$grp, sum) == 0)) next
      sd <- survdiff(Surv(time, dead) ~ grp, data = x)
      f <- coxph(Surv(time, dead) ~ grp, data = x, ties = "efron", control = ctl)
      sm <- summary(f)$coefficients; ci <- exp(confint(f))
      for (lev in levels(x$grp)) {
        s <- survfit(Surv(time, dead) ~ 1, data = x[x$grp == lev, ], conf.type = "log-log")
        q <- quantile(s, 0.5)
        rows[[length(rows) + 1]] <- data.frame(data = data_name, covariate = cov, landmark_months = L, group = g,
          level = lev, n = s$n, events = sum(s$n.event), median_days = unname(q$quantile),
          lower_days = unname(q$lower), upper_days = unname(q$upper), chisq = sd$chisq,
          p_logrank = pchisq(sd$chisq, 1, lower.tail = FALSE),
          hr = sm[1, "exp(coef)"], hr_lower = ci[1, 1], hr_upper = ci[1, 2], hr_p = sm[1, "Pr(>|z|)"])
      }
    }
  }
  do.call(rbind, rows)
}

demo <- read_registry("data/demo_registry.csv")
fixture <- read_registry("tests/reference/response_fixture.csv")
fmt <- function(x) { x[] <- lapply(x, function(v) if (is.numeric(v)) sprintf("%.17g", v) else v); x }
r1 <- rates_for(demo, "demo"); r2 <- rates_for(fixture, "fixture")
write.csv(fmt(rbind(r1$rates, r2$rates)), file.path(out, "response_rates.csv"), row.names = FALSE)
write.csv(fmt(rbind(r1$tests, r2$tests)), file.path(out, "response_tests.csv"), row.names = FALSE)
write.csv(fmt(rbind(models_for(demo, "demo"), models_for(fixture, "fixture"))),
          file.path(out, "response_tdcox.csv"), row.names = FALSE)
write.csv(fmt(rbind(landmark_for(demo, "demo", c(3, 6)), landmark_for(fixture, "fixture", 3))),
          file.path(out, "response_landmark.csv"), row.names = FALSE)
