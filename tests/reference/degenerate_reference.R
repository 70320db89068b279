# Reference values (and R's warnings) for the degenerate cases of issue 15 ("never mislead"):
# tests/test_survival_degenerate.py. Run from the repository root:
#   Rscript tests/reference/degenerate_reference.R
# Writes degenerate_cases.csv (the hand-made data), degenerate_cox.csv, degenerate_logrank.csv,
# degenerate_rates.csv and degenerate_rmst.csv.
suppressPackageStartupMessages(library(survival))
out <- "tests/reference"
fmt <- function(x) { x[] <- lapply(x, function(v) if (is.numeric(v)) sprintf("%.17g", v) else v); x }
mk <- function(case, group, time, status) data.frame(case = case, group = group, time = time, status = status)
cases <- rbind(
  # every event in B precedes the first in A (monotone likelihood, HR B vs A -> infinity)
  mk("monotone", c(rep("A", 5), rep("B", 4)), c(10, 20, 30, 40, 50, 1, 2, 3, 4), c(1, 1, 1, 0, 1, 1, 1, 1, 1)),
  # C has no events at all (HR C vs A -> 0); A and B ordinary
  mk("no_events", c(rep("A", 6), rep("B", 6), rep("C", 4)),
     c(3, 6, 9, 12, 15, 18, 2, 5, 8, 11, 14, 17, 4, 7, 10, 13), c(1, 1, 0, 1, 1, 0, 1, 1, 1, 0, 1, 1, 0, 0, 0, 0)),
  # X is censored before the first event of Y: no expected events in X
  mk("no_expected", c(rep("X", 3), rep("Y", 5)), c(1, 1, 2, 5, 6, 7, 8, 9), c(0, 0, 0, 1, 1, 0, 1, 1)),
  # the curve reaches 0 at 6 (last patient dies); rates asked at 3, 6, 10
  mk("to_zero", rep("Z", 4), c(2, 4, 5, 6), c(1, 0, 1, 1)),
  # the curve ends above 0 (last patient censored at 6)
  mk("ends_censored", rep("Z", 4), c(2, 4, 5, 6), c(1, 0, 1, 0))
)
write.csv(cases, file.path(out, "degenerate_cases.csv"), row.names = FALSE)

cox <- list()
for (name in c("monotone", "no_events")) {
  d <- cases[cases$case == name, ]
  d$group <- relevel(factor(d$group), ref = "A")
  warn <- ""
  fit <- withCallingHandlers(coxph(Surv(time, status) ~ group, data = d, ties = "efron"),
                             warning = function(w) { warn <<- conditionMessage(w); invokeRestart("muffleWarning") })
  s <- summary(fit)$coefficients
  for (term in rownames(s)) cox[[length(cox) + 1]] <- data.frame(case = name, term = sub("^group", "", term),
    coef = s[term, "coef"], se = s[term, "se(coef)"], p = s[term, "Pr(>|z|)"], warning = warn)
}
write.csv(fmt(do.call(rbind, cox)), file.path(out, "degenerate_cox.csv"), row.names = FALSE)

d <- cases[cases$case == "no_expected", ]
sd <- survdiff(Surv(time, status) ~ group, data = d)
write.csv(fmt(data.frame(case = "no_expected", chisq = sd$chisq, df = length(sd$n) - 1 - sum(sd$exp == 0),
                         p = sd$pvalue, expected_X = sd$exp[1], expected_Y = sd$exp[2])),
          file.path(out, "degenerate_logrank.csv"), row.names = FALSE)

rates <- list()
for (name in c("to_zero", "ends_censored")) {
  fit <- survfit(Surv(time, status) ~ 1, data = cases[cases$case == name, ], conf.type = "log-log")
  s <- summary(fit, times = c(3, 6, 10), extend = TRUE)
  rates[[length(rates) + 1]] <- data.frame(case = name, time = s$time, n_risk = s$n.risk, surv = s$surv,
                                           lower = s$lower, upper = s$upper)
}
write.csv(fmt(do.call(rbind, rates)), file.path(out, "degenerate_rates.csv"), row.names = FALSE)

# survRM2's rule for the horizon (rmst2 stops when tau exceeds the shorter group's last time); survRM2
# is not installed here, so the rule is recorded as data: the largest admissible tau per case.
taus <- aggregate(time ~ case + group, data = cases, FUN = max)
write.csv(fmt(aggregate(time ~ case, data = taus, FUN = min)), file.path(out, "degenerate_rmst.csv"), row.names = FALSE)
