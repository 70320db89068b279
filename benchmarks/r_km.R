# R side of the benchmark (python -m benchmarks.run): the same KM + median + log-rank as
# `python -m hcc analyze --stats km`, on the same derived-endpoint CSV, with R's survival package.
#
#   Rscript benchmarks/r_km.R ENDPOINTS.csv REPEATS OUT.csv
#
# ENDPOINTS.csv: endpoint, group, time (days), status (1 = event), one row per patient and endpoint
# (written by benchmarks/run.py from hcc.cohort.endpoints.derive, so both sides start from the same numbers).
# Prints timings (seconds, medians of REPEATS) as `key value` lines; writes per endpoint and group
# n, events, median and its log-log CI, and the log-rank chi-square to OUT.csv for a cross-check.
suppressPackageStartupMessages({
  library(survival)
  library(data.table)
})
args <- commandArgs(trailingOnly = TRUE)
path <- args[1]
repeats <- as.integer(args[2])
out <- args[3]
setDTthreads(2)

t_read <- numeric(repeats)
for (i in seq_len(repeats)) {
  t_read[i] <- system.time(d <- fread(path, colClasses = list(character = c("endpoint", "group"))))[["elapsed"]]
}

stats_once <- function(d) {
  res <- list()
  for (e in unique(d$endpoint)) {
    s <- d[endpoint == e]
    fit <- survfit(Surv(time, status) ~ group, data = s, conf.type = "log-log")
    q <- quantile(fit, probs = 0.5)
    tab <- summary(fit)$table
    test <- survdiff(Surv(time, status) ~ group, data = s)
    res[[e]] <- data.table(endpoint = e, group = sub("^group=", "", rownames(tab)), n = tab[, "n.max"],
                           events = tab[, "events"], median = as.numeric(q$quantile),
                           lower = as.numeric(q$lower), upper = as.numeric(q$upper), chisq = test$chisq)
  }
  rbindlist(res)
}

t_stats <- numeric(repeats)
for (i in seq_len(repeats)) {
  t_stats[i] <- system.time(result <- stats_once(d))[["elapsed"]]
}
fwrite(result, out)
cat("r_read_s", median(t_read), "\n")
cat("r_stats_s", median(t_stats), "\n")
cat("r_version", paste(R.version$major, R.version$minor, sep = "."), "\n")
cat("survival_version", as.character(packageVersion("survival")), "\n")
cat("data_table_version", as.character(packageVersion("data.table")), "\n")
