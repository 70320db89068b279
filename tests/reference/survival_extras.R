# Reference values for the Survival page's statistics beyond the median (tests/test_survival_extras.py).
# Run from the repository root:  Rscript tests/reference/survival_extras.R
# Inputs: the cases of km_cases.csv (written by survival_reference.R).
suppressPackageStartupMessages(library(survival))
out <- "tests/reference"
cases <- read.csv(file.path(out, "km_cases.csv"), stringsAsFactors = FALSE)
use <- c("lung_sex", "lung_ecog", "veteran_celltype", "ties7", "therneau_test1")
fmt <- function(x) { x[] <- lapply(x, function(v) if (is.numeric(v)) sprintf("%.17g", v) else v); x }
rates <- list(); rm <- list(); fu <- list(); pw <- list(); cx <- list(); rho <- list()
for (name in use) {
  d <- cases[cases$case == name, ]
  groups <- sort(unique(d$group))
  # milestone times: spread over the observed range, plus one before the first and one after the last time
  times <- c(0.5, as.numeric(quantile(d$time, c(0.1, 0.25, 0.5, 0.75, 0.9))), max(d$time) + 1)
  tau <- as.numeric(quantile(d$time, 0.8))
  for (ct in c("log-log", "log", "plain")) for (g in groups) {
    fit <- survfit(Surv(time, status) ~ 1, data = d[d$group == g, ], conf.type = ct)
    s <- summary(fit, times = times, extend = TRUE)
    rates[[length(rates) + 1]] <- data.frame(case = name, conf_type = ct, group = g, time = s$time,
      n_risk = s$n.risk, surv = s$surv, lower = s$lower, upper = s$upper)
    if (ct == "log-log") {
      tab <- summary(fit, rmean = tau)$table
      rm[[length(rm) + 1]] <- data.frame(case = name, group = g, tau = tau, rmean = tab[["rmean"]],
                                         se = tab[["se(rmean)"]])
      rev_fit <- survfit(Surv(time, 1 - status) ~ 1, data = d[d$group == g, ])
      fu[[length(fu) + 1]] <- data.frame(case = name, group = g,
                                         followup_median = unname(quantile(rev_fit, 0.5)$quantile))
    }
  }
  if (length(groups) > 1) {
    pairs <- combn(groups, 2)
    ps <- c(); rows <- list()
    for (k in seq_len(ncol(pairs))) {
      sub <- d[d$group %in% pairs[, k], ]
      sd <- survdiff(Surv(time, status) ~ group, data = sub)
      p <- pchisq(sd$chisq, 1, lower.tail = FALSE)
      ps <- c(ps, p)
      rows[[k]] <- data.frame(case = name, a = pairs[1, k], b = pairs[2, k], chisq = sd$chisq, p = p)
    }
    tab <- do.call(rbind, rows)
    tab$p_holm <- p.adjust(ps, "holm"); tab$p_bonferroni <- p.adjust(ps, "bonferroni")
    pw[[length(pw) + 1]] <- tab
    for (ref in groups[1:min(2, length(groups))]) {
      d$g <- relevel(factor(d$group), ref = ref)
      fit <- coxph(Surv(time, status) ~ g, data = d, ties = "efron", control = coxph.control(eps = 1e-12, toler.chol = 1e-13, iter.max = 100))
      ci <- exp(confint(fit))
      sm <- summary(fit)$coefficients
      cx[[length(cx) + 1]] <- data.frame(case = name, reference = ref, term = sub("^g", "", rownames(sm)),
        hr = sm[, "exp(coef)"], lower = ci[, 1], upper = ci[, 2], p = sm[, "Pr(>|z|)"])
    }
    s1 <- survdiff(Surv(time, status) ~ group, data = d, rho = 1)
    rho[[length(rho) + 1]] <- data.frame(case = name, rho = 1, chisq = s1$chisq, df = length(s1$n) - 1,
                                         p = pchisq(s1$chisq, length(s1$n) - 1, lower.tail = FALSE))
  }
}
write.csv(fmt(do.call(rbind, rates)), file.path(out, "km_rates.csv"), row.names = FALSE)
write.csv(fmt(do.call(rbind, rm)), file.path(out, "rmst.csv"), row.names = FALSE)
write.csv(fmt(do.call(rbind, fu)), file.path(out, "followup.csv"), row.names = FALSE)
write.csv(fmt(do.call(rbind, pw)), file.path(out, "pairwise.csv"), row.names = FALSE)
write.csv(fmt(do.call(rbind, cx)), file.path(out, "cox_regimen.csv"), row.names = FALSE)
write.csv(fmt(do.call(rbind, rho)), file.path(out, "logrank_rho1.csv"), row.names = FALSE)
