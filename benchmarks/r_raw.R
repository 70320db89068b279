# R side of the headline benchmark (python -m benchmarks.run): from the SAME raw registry CSV that
# `python -m hcc analyze --data FILE --preset main --stats km` reads, R does what that command does —
# read, type the dates, apply the main cohort, derive the seven endpoints (days, status) as
# hcc.cohort.endpoints.derive does, and report KM n / events / median with its log-log CI and the
# log-rank chi-square per endpoint.
#
#   Rscript benchmarks/r_raw.R REGISTRY.csv OUT.csv
#
# Timed as one process by the caller (/usr/bin/time: wall time and peak memory), like the Python command.
# Prints `key value` lines (the split of the time inside R); writes one row per endpoint and regimen
# (n, events, median, lower, upper in days, chisq) to OUT.csv for the cross-check against the JSON.
#
# Endpoint rules (docs/endpoints.md; hcc.schema.DATE_ORDER and WITHIN_FOLLOWUP): a patient is excluded
# from an endpoint when two of the dates it reads are out of order (later < earlier - slack), when a
# date it reads is after the end of follow-up (death, else last follow-up), when the origin is missing,
# or when there is neither an event date nor a last follow-up. The event is the earliest event date;
# otherwise censored at last follow-up (and at death when death is not an event). Days = end - origin.
suppressPackageStartupMessages({
  library(survival)
  library(data.table)
})
args <- commandArgs(trailingOnly = TRUE)
path <- args[1]
out <- args[2]
setDTthreads(2)

date_cols <- c("start_1l", "date_dc_1l", "date_response_1l", "date_progression_1l", "date_end_1l", "start_2l",
               "date_progression_2l", "date_response_2l", "start_3l", "date_death", "date_last_followup")
# hcc.schema.DATE_ORDER: earlier, later, slack days
date_order <- list(
  c("start_1l", "date_dc_1l", 0), c("start_1l", "date_response_1l", 0), c("date_dc_1l", "date_response_1l", 0),
  c("start_1l", "date_progression_1l", 0), c("date_response_1l", "date_progression_1l", 0),
  c("start_1l", "start_2l", 0), c("start_2l", "date_progression_2l", 0), c("start_2l", "date_response_2l", 0),
  c("date_response_2l", "date_progression_2l", 0), c("start_2l", "start_3l", 0), c("start_1l", "date_death", 0),
  c("date_response_1l", "date_death", 0), c("date_progression_1l", "date_death", 0), c("start_2l", "date_death", 0),
  c("date_progression_2l", "date_death", 0), c("start_1l", "date_last_followup", 0),
  c("date_last_followup", "date_death", 1))
within_followup <- c("date_response_1l", "date_progression_1l", "start_2l", "date_progression_2l",
                     "date_response_2l", "start_3l")
# hcc.cohort.endpoints.DEFINITIONS: origin, events, eligibility
endpoints <- list(
  OS = list(origin = "start_1l", events = "date_death", eligible = function(d) rep(TRUE, nrow(d))),
  PFS = list(origin = "start_1l", events = c("date_progression_1l", "date_death"),
             eligible = function(d) rep(TRUE, nrow(d))),
  PPS = list(origin = "date_progression_1l", events = "date_death",
             eligible = function(d) !is.na(d$date_progression_1l)),
  DDC = list(origin = "start_1l", events = c("date_progression_1l", "date_death"),
             eligible = function(d) d$best_response_1l %chin% c("CR", "PR", "SD")),
  DOR = list(origin = "date_response_1l", events = c("date_progression_1l", "date_death"),
             eligible = function(d) d$best_response_1l %chin% c("CR", "PR")),
  PFS_2L = list(origin = "start_2l", events = c("date_progression_2l", "date_death"),
                eligible = function(d) !is.na(d$start_2l)),
  OS_2L = list(origin = "start_2l", events = "date_death", eligible = function(d) !is.na(d$start_2l)))

derive <- function(d, def) {
  cols <- unique(c("start_1l", def$origin, def$events, "date_death", "date_last_followup"))
  s <- d[def$eligible(d), c("regimen_1l", cols), with = FALSE]  # only the columns read: no copy of the rest
  bad <- rep(FALSE, nrow(s))
  for (rule in date_order) {
    if (rule[1] %in% cols && rule[2] %in% cols) {
      later <- s[[rule[2]]]; earlier <- s[[rule[1]]]
      bad <- bad | (!is.na(later) & !is.na(earlier) & later < earlier - as.integer(rule[3]))
    }
  }
  end_fu <- fcoalesce(s$date_death, s$date_last_followup)
  for (col in intersect(within_followup, cols)) {
    bad <- bad | (!is.na(s[[col]]) & !is.na(end_fu) & s[[col]] > end_fu)
  }
  origin <- s[[def$origin]]
  bad <- bad | is.na(origin)
  event_date <- do.call(pmin, c(lapply(def$events, function(c) s[[c]]), na.rm = TRUE))
  censor_date <- s$date_last_followup
  if (!("date_death" %in% def$events)) censor_date <- pmin(censor_date, s$date_death, na.rm = TRUE)
  end <- fifelse(!is.na(event_date), event_date, censor_date)
  bad <- bad | is.na(end)
  keep <- !bad
  data.table(group = s$regimen_1l[keep], time = as.numeric(end[keep] - origin[keep]),
             status = as.integer(!is.na(event_date[keep])))
}

t0 <- proc.time()[["elapsed"]]
d <- fread(path, na.strings = "", colClasses = list(character = c("patient_id", "center", "regimen_1l",
                                                                   "best_response_1l")))
for (col in date_cols) set(d, j = col, value = as.IDate(d[[col]]))
t_read <- proc.time()[["elapsed"]] - t0

t0 <- proc.time()[["elapsed"]]
# main cohort (hcc.cohort.rules.PRESETS["main"]): the three flags recorded and "no"
d <- d[concomitant_lrt == "no" & interline_lrt == "no" & trial_after_1l == "no"]
derived <- lapply(endpoints, derive, d = d)
t_derive <- proc.time()[["elapsed"]] - t0

t0 <- proc.time()[["elapsed"]]
res <- list()
for (e in names(derived)) {
  s <- derived[[e]]
  fit <- survfit(Surv(time, status) ~ group, data = s, conf.type = "log-log")
  q <- quantile(fit, probs = 0.5)
  tab <- summary(fit)$table
  test <- survdiff(Surv(time, status) ~ group, data = s)
  res[[e]] <- data.table(endpoint = e, group = sub("^group=", "", rownames(tab)), n = tab[, "n.max"],
                         events = tab[, "events"], median = as.numeric(q$quantile),
                         lower = as.numeric(q$lower), upper = as.numeric(q$upper), chisq = test$chisq)
}
t_stats <- proc.time()[["elapsed"]] - t0
fwrite(rbindlist(res), out)
cat("r_read_s", t_read, "\n")
cat("r_derive_s", t_derive, "\n")
cat("r_stats_s", t_stats, "\n")
cat("r_version", paste(R.version$major, R.version$minor, sep = "."), "\n")
cat("survival_version", as.character(packageVersion("survival")), "\n")
cat("data_table_version", as.character(packageVersion("data.table")), "\n")
