# Reference values for competing risks and the patient pathway (hcc/stats/competing.py), for
# tests/test_competing.py. Run from the repository root:  Rscript tests/reference/competing_reference.R
# Needs survival (>= 3) and cmprsk (Debian: r-cran-survival r-cran-cmprsk). Writes CSV files.
#
#   CIF and CI : survfit(Surv(time, factor(status)) ~ 1)   (Aalen-Johansen, IJ std.err, conf.type "log")
#   Gray       : cmprsk::cuminc(time, status, group)$Tests  (rho = 0)
#   Fine-Gray  : cmprsk::crr(time, status, cov1, gtol = 1e-12)  (sandwich variance)
#   cause-spec.: coxph(Surv(time, status == 1) ~ group, ties = "efron")
#   states     : survfit(Surv(tstart, tstop, state) ~ 1, id = id)$pstate
suppressPackageStartupMessages({library(survival); library(cmprsk)})
out <- "tests/reference"
dpm <- 30.4375

cif_rows <- function(case, group, time, status) {
  fit <- survfit(Surv(time, factor(status, levels = 0:2)) ~ 1)
  k <- match(c("1", "2"), fit$states)
  data.frame(case = case, group = group, time = fit$time, n_risk = fit$n.risk[, 1],
             cif = fit$pstate[, k[1]], se = fit$std.err[, k[1]], lower = fit$lower[, k[1]], upper = fit$upper[, k[1]],
             cif2 = fit$pstate[, k[2]], se2 = fit$std.err[, k[2]], lower2 = fit$lower[, k[2]], upper2 = fit$upper[, k[2]])
}

compare <- function(case, time, status, group, ref) {
  cif <- do.call(rbind, lapply(sort(unique(group)), function(g) cif_rows(case, g, time[group == g], status[group == g])))
  ci <- cuminc(time, status, group, cencode = 0)
  tests <- ci$Tests
  lev <- c(ref, setdiff(sort(unique(group)), ref))
  x <- model.matrix(~ factor(group, levels = lev))[, -1, drop = FALSE]
  colnames(x) <- lev[-1]
  fg <- crr(time, status, cov1 = x, failcode = 1, cencode = 0, gtol = 1e-12, maxiter = 100)
  cs <- coxph(Surv(time, status == 1) ~ factor(group, levels = lev), ties = "efron",
              control = coxph.control(eps = 1e-12, toler.chol = 1e-13, iter.max = 100))
  scs <- summary(cs)$coefficients
  hr <- rbind(data.frame(case = case, model = "fine_gray", term = lev[-1], coef = unname(fg$coef),
                         se = unname(sqrt(diag(fg$var))),
                         p = 2 * pnorm(-abs(unname(fg$coef) / unname(sqrt(diag(fg$var)))))),
              data.frame(case = case, model = "cause_specific", term = lev[-1], coef = unname(coef(cs)),
                         se = unname(sqrt(diag(vcov(cs)))), p = unname(scs[, "Pr(>|z|)"])))
  list(cif = cif, gray = data.frame(case = case, cause = rownames(tests), statistic = tests[, "stat"],
                                    p = tests[, "pv"], df = tests[, "df"]), hr = hr)
}

cases <- list()
# 1. hand-worked: 10 patients, ties between an event and a competing event at t = 4 and a
#    censoring tied with a competing event at t = 2
hand <- data.frame(time = c(1, 2, 2, 3, 4, 4, 5, 6, 7, 8, 1, 3, 3, 5, 6, 9, 9, 10),
                   status = c(1, 2, 0, 1, 1, 2, 0, 2, 1, 0, 2, 1, 1, 0, 1, 2, 0, 1),
                   group = c(rep("A", 10), rep("B", 8)))
cases$hand <- compare("hand", hand$time, hand$status, hand$group, "A")
# 2. lung-like: survival's mgus2 (progression to plasma-cell malignancy vs death first), by sex,
#    as in the survival package's competing-risks vignette
m <- mgus2
m$etime <- ifelse(m$pstat == 0, m$futime, m$ptime)
m$event <- ifelse(m$pstat == 0, 2 * m$death, 1)
cases$mgus2 <- compare("mgus2", m$etime, m$event, m$sex, "F")
write.csv(m[, c("id", "etime", "event", "sex")], file.path(out, "competing_mgus2.csv"), row.names = FALSE)

# 3. the demo registry, main cohort, derived in R from the raw CSV
d <- read.csv("data/demo_registry.csv", na.strings = "", stringsAsFactors = FALSE)
for (v in grep("^(date_|start_)", names(d), value = TRUE)) d[[v]] <- as.Date(d[[v]])
d <- d[d$concomitant_lrt == "no" & d$interline_lrt == "no" & d$trial_after_1l == "no", ]
# second line after progression: event = start_2l, competing = death without second line
s <- d[!is.na(d$date_progression_1l), ]
end <- ifelse(!is.na(s$start_2l), s$start_2l, ifelse(!is.na(s$date_death), s$date_death, s$date_last_followup))
st <- ifelse(!is.na(s$start_2l), 1, ifelse(!is.na(s$date_death), 2, 0))
cases$demo_second_line <- compare("demo_second_line", as.numeric(end - as.numeric(s$date_progression_1l)), st,
                                  s$regimen_1l, "SOR")
# first-line failure: event = progression, competing = death without progression
end <- ifelse(!is.na(d$date_progression_1l), d$date_progression_1l,
              ifelse(!is.na(d$date_death), d$date_death, d$date_last_followup))
st <- ifelse(!is.na(d$date_progression_1l), 1, ifelse(!is.na(d$date_death), 2, 0))
cases$demo_first_line_failure <- compare("demo_first_line_failure", as.numeric(end - as.numeric(d$start_1l)), st,
                                         d$regimen_1l, "SOR")

write.csv(do.call(rbind, lapply(cases, `[[`, "cif")), file.path(out, "competing_cif.csv"), row.names = FALSE)
write.csv(do.call(rbind, lapply(cases, `[[`, "gray")), file.path(out, "competing_gray.csv"), row.names = FALSE)
write.csv(do.call(rbind, lapply(cases, `[[`, "hr")), file.path(out, "competing_hr.csv"), row.names = FALSE)

# 4. patient pathway on the demo main cohort: states (s0) = on first line, progressed, 2L, dead
rows <- list()
for (i in seq_len(nrow(d))) {
  p <- d[i, ]; o <- p$start_1l
  day <- function(x) if (is.na(x)) NA else as.numeric(x - o)
  moves <- data.frame(day = numeric(0), state = character(0))
  if (!is.na(p$start_2l)) {
    if (!is.na(p$date_progression_1l) && day(p$date_progression_1l) < day(p$start_2l))
      moves <- rbind(moves, data.frame(day = day(p$date_progression_1l), state = "progressed"))
    moves <- rbind(moves, data.frame(day = day(p$start_2l), state = "second_line"))
  } else if (!is.na(p$date_progression_1l)) moves <- rbind(moves, data.frame(day = day(p$date_progression_1l), state = "progressed"))
  if (!is.na(p$date_death)) moves <- rbind(moves, data.frame(day = day(p$date_death), state = "dead"))
  t <- 0; cur <- "s0"; pr <- list()
  for (j in seq_len(nrow(moves))) {
    dd <- moves$day[j]; if (dd <= t) dd <- max(dd, 0.5)
    if (dd <= t) { pr[[length(pr)]]$state <- moves$state[j] }
    else pr[[length(pr) + 1]] <- data.frame(id = p$patient_id, regimen = p$regimen_1l, tstart = t, tstop = dd,
                                          state = moves$state[j])
    t <- dd; cur <- moves$state[j]
  }
  if (cur != "dead") {
    stop <- max(day(p$date_last_followup), t)
    if (stop > t) pr[[length(pr) + 1]] <- data.frame(id = p$patient_id, regimen = p$regimen_1l, tstart = t,
                                                     tstop = stop, state = "censor")
    else if (length(pr) == 0) pr[[1]] <- data.frame(id = p$patient_id, regimen = p$regimen_1l, tstart = 0,
                                                    tstop = 0.5, state = "censor")
  }
  rows[[i]] <- do.call(rbind, pr)
}
ms <- do.call(rbind, rows)
ms$state <- factor(ms$state, levels = c("censor", "progressed", "second_line", "dead"))
occ <- list()
for (g in sort(unique(ms$regimen))) {
  fit <- survfit(Surv(tstart, tstop, state) ~ 1, id = id, data = ms[ms$regimen == g, ])
  s <- summary(fit, times = c(6, 12, 24) * dpm, extend = TRUE)
  occ[[g]] <- data.frame(group = g, month = c(6, 12, 24), on_first_line = s$pstate[, 1],
                         progressed = s$pstate[, 2], second_line = s$pstate[, 3], dead = s$pstate[, 4],
                         states = paste(fit$states, collapse = "|"))
}
write.csv(do.call(rbind, occ), file.path(out, "competing_states.csv"), row.names = FALSE)
cat(sprintf("R %s, survival %s, cmprsk %s\n", getRversion(), packageVersion("survival"), packageVersion("cmprsk")))
