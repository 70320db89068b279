# Reference values on the bundled demo registry, with the endpoints derived independently in R
# from the raw CSV (R's own date arithmetic), for tests/test_demo_reference.py.
# Run from the repository root:  Rscript tests/reference/demo_reference.R
suppressPackageStartupMessages(library(survival))
out <- "tests/reference"
d <- read.csv("data/demo_registry.csv", na.strings = "", stringsAsFactors = FALSE)
for (v in grep("^(date_|start_)", names(d), value = TRUE)) d[[v]] <- as.Date(d[[v]])
first_of <- function(a, b) { x <- pmin(a, b, na.rm = TRUE); x }

endpoint <- function(d, name) {
  death <- d$date_death; fu <- d$date_last_followup
  if (name == "OS")     { keep <- rep(TRUE, nrow(d)); origin <- d$start_1l; ev <- death }
  if (name == "PFS")    { keep <- rep(TRUE, nrow(d)); origin <- d$start_1l; ev <- first_of(d$date_progression_1l, death) }
  if (name == "PPS")    { keep <- !is.na(d$date_progression_1l); origin <- d$date_progression_1l; ev <- death }
  if (name == "DDC")    { keep <- d$best_response_1l %in% c("CR", "PR", "SD"); origin <- d$start_1l
                          ev <- first_of(d$date_progression_1l, death) }
  if (name == "DOR")    { keep <- d$best_response_1l %in% c("CR", "PR"); origin <- d$date_response_1l
                          ev <- first_of(d$date_progression_1l, death) }
  if (name == "PFS_2L") { keep <- !is.na(d$start_2l); origin <- d$start_2l; ev <- first_of(d$date_progression_2l, death) }
  if (name == "OS_2L")  { keep <- !is.na(d$start_2l); origin <- d$start_2l; ev <- death }
  if (name == "PFS2")   { keep <- rep(TRUE, nrow(d)); origin <- d$start_1l; ev <- first_of(d$date_progression_2l, death) }
  if (name == "TTNT")   { keep <- rep(TRUE, nrow(d)); origin <- d$start_1l; ev <- first_of(d$start_2l, death) }
  end <- ifelse(is.na(ev), fu, ev)
  data.frame(time = as.numeric(end - as.numeric(origin))[keep], status = as.integer(!is.na(ev))[keep],
             group = d$regimen_1l[keep])
}

cohorts <- list(full = d, main = d[d$concomitant_lrt == "no" & d$interline_lrt == "no" &
                                   d$trial_after_1l == "no", ])
med_rows <- list(); lr_rows <- list(); extra_rows <- list(); cox_rows <- list(); pw_rows <- list()
dpm <- 30.4375
milestones <- c(6, 12, 18, 24) * dpm
for (cname in names(cohorts)) for (e in c("OS", "PFS", "PPS", "DDC", "DOR", "PFS_2L", "OS_2L", "PFS2", "TTNT")) {
  x <- endpoint(cohorts[[cname]], e)
  for (g in unique(x$group)) {
    fit <- survfit(Surv(time, status) ~ 1, data = x[x$group == g, ], conf.type = "log-log")
    q <- quantile(fit, 0.5)
    med_rows[[length(med_rows) + 1]] <- data.frame(cohort = cname, endpoint = e, group = g, n = fit$n,
      events = sum(fit$n.event), median_days = unname(q$quantile), lower_days = unname(q$lower),
      upper_days = unname(q$upper))
    if (cname == "main") {
      s <- summary(fit, times = milestones, extend = TRUE)
      tau <- floor(min(tapply(x$time, x$group, max)) / dpm) * dpm   # the app's default horizon
      tab <- summary(fit, rmean = tau)$table
      rev <- survfit(Surv(time, 1 - status) ~ 1, data = x[x$group == g, ])
      extra_rows[[length(extra_rows) + 1]] <- data.frame(endpoint = e, group = g, month = milestones / dpm,
        n_risk = s$n.risk, surv = s$surv, lower = s$lower, upper = s$upper, tau_days = tau,
        rmean_days = tab[["rmean"]], rmean_se_days = tab[["se(rmean)"]],
        followup_days = unname(quantile(rev, 0.5)$quantile), last_days = max(x$time[x$group == g]))
    }
  }
  if (cname == "main") {
    x$g <- relevel(factor(x$group), ref = "SOR")
    fit <- coxph(Surv(time, status) ~ g, data = x, ties = "efron",
                 control = coxph.control(eps = 1e-12, toler.chol = 1e-13, iter.max = 100))
    sm <- summary(fit)$coefficients; ci <- exp(confint(fit))
    cox_rows[[length(cox_rows) + 1]] <- data.frame(endpoint = e, term = sub("^g", "", rownames(sm)),
      hr = sm[, "exp(coef)"], lower = ci[, 1], upper = ci[, 2], p = sm[, "Pr(>|z|)"])
    groups <- c("SOR", "LEN", "ATZ_BEV"); ps <- c(); rows <- list()
    for (pair in list(c("SOR", "LEN"), c("SOR", "ATZ_BEV"), c("LEN", "ATZ_BEV"))) {
      sd2 <- survdiff(Surv(time, status) ~ group, data = x[x$group %in% pair, ])
      p <- pchisq(sd2$chisq, 1, lower.tail = FALSE); ps <- c(ps, p)
      rows[[length(rows) + 1]] <- data.frame(endpoint = e, a = pair[1], b = pair[2], chisq = sd2$chisq, p = p)
    }
    tab <- do.call(rbind, rows); tab$p_holm <- p.adjust(ps, "holm")
    pw_rows[[length(pw_rows) + 1]] <- tab
  }
  sd <- survdiff(Surv(time, status) ~ group, data = x)
  df <- length(sd$n) - 1
  lr_rows[[length(lr_rows) + 1]] <- data.frame(cohort = cname, endpoint = e, chisq = sd$chisq, df = df,
                                               p = pchisq(sd$chisq, df, lower.tail = FALSE))
}
fmt <- function(x) { x[] <- lapply(x, function(v) if (is.numeric(v)) sprintf("%.17g", v) else v); x }
write.csv(fmt(do.call(rbind, med_rows)), file.path(out, "demo_medians.csv"), row.names = FALSE)
write.csv(fmt(do.call(rbind, lr_rows)), file.path(out, "demo_logrank.csv"), row.names = FALSE)
write.csv(fmt(do.call(rbind, extra_rows)), file.path(out, "demo_extras.csv"), row.names = FALSE)
write.csv(fmt(do.call(rbind, cox_rows)), file.path(out, "demo_cox.csv"), row.names = FALSE)
write.csv(fmt(do.call(rbind, pw_rows)), file.path(out, "demo_pairwise.csv"), row.names = FALSE)

# Within one first-line regimen: second-line survival by second-line regimen; PPS by second line given.
main <- cohorts$main
grp_rows <- list()
for (first in c("SOR", "LEN", "ATZ_BEV")) for (e in c("PFS_2L", "OS_2L", "PPS")) {
  sub <- main[main$regimen_1l == first, ]
  x <- endpoint(sub, e)
  if (e == "PPS") {
    keep <- !is.na(sub$date_progression_1l)
    x$group <- ifelse(!is.na(sub$start_2l[keep]), "Second line given", "No second line")
  } else {
    x$group <- sub$regimen_2l[!is.na(sub$start_2l)]
  }
  sd <- survdiff(Surv(time, status) ~ group, data = x)
  for (g in unique(x$group)) {
    fit <- survfit(Surv(time, status) ~ 1, data = x[x$group == g, ], conf.type = "log-log")
    q <- quantile(fit, 0.5)
    grp_rows[[length(grp_rows) + 1]] <- data.frame(first_line = first, endpoint = e, group = g, n = fit$n,
      events = sum(fit$n.event), median_days = unname(q$quantile), lower_days = unname(q$lower),
      upper_days = unname(q$upper), chisq = sd$chisq)
  }
}
write.csv(fmt(do.call(rbind, grp_rows)), file.path(out, "demo_by_second_line.csv"), row.names = FALSE)
