# Reference values for tests/test_survival.py, from R's survival package.
# Run from the repository root:  Rscript tests/reference/survival_reference.R
# Writes tests/reference/km_cases.csv (the input data), km_medians.csv, km_curves.csv, logrank.csv.
suppressPackageStartupMessages(library(survival))
out <- "tests/reference"
options(digits = 17)

cases <- list()
lung2 <- lung
cases$lung_sex <- data.frame(time = lung2$time, status = as.integer(lung2$status == 2),
                             group = paste0("sex", lung2$sex))
ecog <- lung2[!is.na(lung2$ph.ecog), ]
cases$lung_ecog <- data.frame(time = ecog$time, status = as.integer(ecog$status == 2),
                              group = paste0("ecog", ecog$ph.ecog))
cases$veteran_celltype <- data.frame(time = veteran$time, status = veteran$status,
                                     group = as.character(veteran$celltype))
# Hand-checkable: S = 0.75, 0.5, 0.25, 0 -> flat at 0.5 on [2, 3): median 2.5 (midpoint rule)
cases$flat_half <- data.frame(time = c(1, 2, 3, 4), status = c(1, 1, 1, 1), group = "a")
# Curve ends exactly at 0.5: median = midpoint of (2, last time 4) = 3
cases$ends_half <- data.frame(time = c(1, 2, 3, 4), status = c(1, 1, 0, 0), group = "a")
# survival's own tests/quantile.R data (NA status row dropped), ties and censoring at event times
cases$therneau_test1 <- data.frame(time = c(9, 1, 1, 6, 6, 8, 10), status = c(1, 1, 0, 1, 1, 0, 0),
                                   group = c("x0", "x1", "x1", "x1", "x0", "x0", "x0"))
# Tied event and censoring times, two groups, 7 patients
cases$ties7 <- data.frame(time = c(2, 2, 3, 3, 3, 5, 8), status = c(1, 0, 1, 1, 0, 1, 0),
                          group = c("A", "B", "A", "B", "B", "A", "B"))

all_data <- do.call(rbind, lapply(names(cases), function(n) cbind(case = n, cases[[n]])))
write.csv(all_data, file.path(out, "km_cases.csv"), row.names = FALSE)

med_rows <- list(); curve_rows <- list(); lr_rows <- list()
for (name in names(cases)) {
  d <- cases[[name]]
  for (ct in c("log-log", "log", "plain")) {
    for (g in sort(unique(d$group))) {
      sub <- d[d$group == g, ]
      fit <- survfit(Surv(time, status) ~ 1, data = sub, conf.type = ct)
      q <- quantile(fit, probs = 0.5)
      med_rows[[length(med_rows) + 1]] <- data.frame(
        case = name, conf_type = ct, group = g, n = fit$n, events = sum(fit$n.event),
        median = unname(q$quantile), lower = unname(q$lower), upper = unname(q$upper))
      curve_rows[[length(curve_rows) + 1]] <- data.frame(
        case = name, conf_type = ct, group = g, time = fit$time, n_risk = fit$n.risk,
        n_event = fit$n.event, n_censor = fit$n.censor, surv = fit$surv, std_err = fit$std.err,
        lower = fit$lower, upper = fit$upper)
    }
  }
  if (length(unique(d$group)) > 1) {
    sd <- survdiff(Surv(time, status) ~ group, data = d)
    df <- length(sd$n) - 1
    lr_rows[[length(lr_rows) + 1]] <- data.frame(case = name, chisq = sd$chisq, df = df,
                                                 p = pchisq(sd$chisq, df, lower.tail = FALSE))
  }
}
fmt <- function(x) { x[] <- lapply(x, function(v) if (is.numeric(v)) sprintf("%.17g", v) else v); x }
write.csv(fmt(do.call(rbind, med_rows)), file.path(out, "km_medians.csv"), row.names = FALSE)
write.csv(fmt(do.call(rbind, curve_rows)), file.path(out, "km_curves.csv"), row.names = FALSE)
write.csv(fmt(do.call(rbind, lr_rows)), file.path(out, "logrank.csv"), row.names = FALSE)
cat("R ", R.version$major, ".", R.version$minor, ", survival ", as.character(packageVersion("survival")), "\n",
    file = file.path(out, "VERSIONS.txt"), sep = "")
