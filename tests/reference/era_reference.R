# Reference values for the treatment-era covariate (year of first-line start, hcc.schema.ERA_YEAR) in
# hcc/stats/adjusted.py and its Table 1 row (hcc/stats/baseline.py): tests/test_adjusted.py, tests/test_baseline.py.
# OS in the demo's main cohort derived as in adjusted_reference.R; coxph (Efron), exp(confint) Wald 95%;
# Table 1 row: median [Q1, Q3] (quantile type 7) by regimen and Kruskal-Wallis p.
# Run from the repository root:  Rscript tests/reference/era_reference.R
suppressPackageStartupMessages(library(survival))
out <- "tests/reference"
ctl <- coxph.control(eps = 1e-12, toler.chol = 1e-13, iter.max = 100)
fmt <- function(x) { x[] <- lapply(x, function(v) if (is.numeric(v)) sprintf("%.17g", v) else v); x }
d <- read.csv("data/demo_registry.csv", na.strings = "", stringsAsFactors = FALSE)
for (v in grep("^(date_|start_)", names(d), value = TRUE)) d[[v]] <- as.Date(d[[v]])
d <- d[d$concomitant_lrt == "no" & d$interline_lrt == "no" & d$trial_after_1l == "no", ]
ev_os <- d$date_death
d$os_time <- as.numeric(ifelse(is.na(ev_os), d$date_last_followup, ev_os) - as.numeric(d$start_1l))
d$os_status <- as.integer(!is.na(ev_os))
d$regimen <- relevel(factor(d$regimen_1l), ref = "SOR")
d$year_1l <- as.numeric(format(d$start_1l, "%Y"))
fit <- coxph(Surv(os_time, os_status) ~ regimen + age + year_1l, data = d, control = ctl)
sm <- summary(fit)$coefficients; ci <- exp(confint(fit))
write.csv(fmt(data.frame(model = "demo_era", term = rownames(sm), coef = sm[, "coef"], hr = sm[, "exp(coef)"],
                         lower = ci[, 1], upper = ci[, 2], p = sm[, "Pr(>|z|)"])),
          file.path(out, "era_coef.csv"), row.names = FALSE)
q <- function(x) quantile(x, c(0.25, 0.5, 0.75), type = 7, names = FALSE)
groups <- c("Overall", "SOR", "LEN", "ATZ_BEV")
rows <- lapply(groups, function(g) { x <- if (g == "Overall") d$year_1l else d$year_1l[d$regimen_1l == g]
  data.frame(group = g, q1 = q(x)[1], median = q(x)[2], q3 = q(x)[3]) })
kw <- kruskal.test(year_1l ~ factor(regimen_1l), data = d)$p.value
write.csv(fmt(cbind(do.call(rbind, rows), kruskal_p = kw)), file.path(out, "era_table1.csv"), row.names = FALSE)
