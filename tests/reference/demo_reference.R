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
  end <- ifelse(is.na(ev), fu, ev)
  data.frame(time = as.numeric(end - as.numeric(origin))[keep], status = as.integer(!is.na(ev))[keep],
             group = d$regimen_1l[keep])
}

cohorts <- list(full = d, main = d[d$concomitant_lrt == "no" & d$interline_lrt == "no" &
                                   d$trial_after_1l == "no", ])
med_rows <- list(); lr_rows <- list()
for (cname in names(cohorts)) for (e in c("OS", "PFS", "PPS", "DDC", "DOR", "PFS_2L", "OS_2L")) {
  x <- endpoint(cohorts[[cname]], e)
  for (g in unique(x$group)) {
    fit <- survfit(Surv(time, status) ~ 1, data = x[x$group == g, ], conf.type = "log-log")
    q <- quantile(fit, 0.5)
    med_rows[[length(med_rows) + 1]] <- data.frame(cohort = cname, endpoint = e, group = g, n = fit$n,
      events = sum(fit$n.event), median_days = unname(q$quantile), lower_days = unname(q$lower),
      upper_days = unname(q$upper))
  }
  sd <- survdiff(Surv(time, status) ~ group, data = x)
  df <- length(sd$n) - 1
  lr_rows[[length(lr_rows) + 1]] <- data.frame(cohort = cname, endpoint = e, chisq = sd$chisq, df = df,
                                               p = pchisq(sd$chisq, df, lower.tail = FALSE))
}
fmt <- function(x) { x[] <- lapply(x, function(v) if (is.numeric(v)) sprintf("%.17g", v) else v); x }
write.csv(fmt(do.call(rbind, med_rows)), file.path(out, "demo_medians.csv"), row.names = FALSE)
write.csv(fmt(do.call(rbind, lr_rows)), file.path(out, "demo_logrank.csv"), row.names = FALSE)
