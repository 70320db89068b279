# Reference p-values for hcc.stats.baseline (tests/test_baseline.py): fixed tables and R's lung data.
# Run from the repository root:  Rscript tests/reference/baseline_reference.R
suppressPackageStartupMessages(library(survival))
out <- "tests/reference"
tables <- list(
  big_2x3 = matrix(c(46, 38, 40, 230, 138, 120), nrow = 2, byrow = TRUE),     # all expected >= 5
  small_2x2 = matrix(c(3, 1, 9, 14), nrow = 2, byrow = TRUE),                 # expected < 5: exact
  small_4x3 = matrix(c(113, 80, 68, 79, 58, 45, 83, 37, 47, 1, 1, 0), nrow = 4, byrow = TRUE)
)
rows <- list()
for (name in names(tables)) {
  t <- tables[[name]]
  chi <- suppressWarnings(chisq.test(t, correct = FALSE))
  fis <- fisher.test(t, workspace = 2e8)
  rows[[name]] <- data.frame(name = name, cells = paste(as.vector(t(t)), collapse = " "), nrow = nrow(t),
                             chisq_p = chi$p.value, fisher_p = fis$p.value,
                             min_expected = min(chi$expected))
}
write.csv(do.call(rbind, rows), file.path(out, "baseline_tests.csv"), row.names = FALSE)
d <- lung[!is.na(lung$ph.ecog), ]
write.csv(d[, c("age", "ph.ecog")], file.path(out, "lung_age_ecog.csv"), row.names = FALSE)
kw <- kruskal.test(age ~ factor(ph.ecog), data = d)
write.csv(data.frame(statistic = kw$statistic, p = kw$p.value), file.path(out, "kruskal_lung.csv"), row.names = FALSE)
