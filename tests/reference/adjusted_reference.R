# Reference values for hcc/stats/adjusted.py and hcc/stats/weighting.py (tests/test_adjusted.py, tests/test_weighting.py):
# multivariable Cox (coxph, Efron, strata), cox.zph (survival >= 3.0, transform "km"), subgroup HRs
# with interaction LR tests, propensity scores (glm binomial, nnet::multinom), stabilized IPTW,
# weighted survfit and coxph(weights = w, robust = TRUE). Endpoints are derived here in R from the
# raw demo CSV. Needs r-cran-survival and r-cran-nnet.
# Run from the repository root:  Rscript tests/reference/adjusted_reference.R
suppressPackageStartupMessages({library(survival); library(nnet)})
out <- "tests/reference"
ctl <- coxph.control(eps = 1e-12, toler.chol = 1e-13, iter.max = 100)
fmt <- function(x) { x[] <- lapply(x, function(v) if (is.numeric(v)) sprintf("%.17g", v) else v); x }
put <- function(rows, name) write.csv(fmt(do.call(rbind, rows)), file.path(out, name), row.names = FALSE)

coef_rows <- function(model, fit) {
  sm <- summary(fit)$coefficients; ci <- exp(confint(fit))
  data.frame(model = model, term = rownames(sm), coef = sm[, "coef"], hr = sm[, "exp(coef)"],
             lower = ci[, 1], upper = ci[, 2], p = sm[, "Pr(>|z|)"])
}
zph_rows <- function(model, fit) {
  z <- cox.zph(fit, transform = "km", terms = TRUE, global = TRUE)$table
  data.frame(model = model, term = rownames(z), chisq = z[, "chisq"], df = z[, "df"], p = z[, "p"])
}
fit_rows <- function(model, fit) {
  data.frame(model = model, n = fit$n, events = fit$nevent, concordance = unname(fit$concordance["concordance"]),
             lr = 2 * diff(fit$loglik), lr_df = length(fit$coefficients),
             lr_p = pchisq(2 * diff(fit$loglik), length(fit$coefficients), lower.tail = FALSE))
}
coefs <- list(); zphs <- list(); fits <- list()
add <- function(model, fit) {
  coefs[[length(coefs) + 1]] <<- coef_rows(model, fit)
  zphs[[length(zphs) + 1]] <<- zph_rows(model, fit)
  fits[[length(fits) + 1]] <<- fit_rows(model, fit)
}

# 1. cox.zph on R's own data sets, exported so the Python tests fit the same data ------------------
lung2 <- na.omit(lung[, c("time", "status", "age", "sex", "ph.ecog", "wt.loss")])
lung2$status <- lung2$status - 1L
write.csv(lung2, file.path(out, "zph_lung.csv"), row.names = FALSE)
add("lung", coxph(Surv(time, status) ~ age + sex + factor(ph.ecog) + wt.loss, data = lung2, control = ctl))
add("lung_strata", coxph(Surv(time, status) ~ age + factor(ph.ecog) + wt.loss + strata(sex), data = lung2,
                         control = ctl))
write.csv(veteran, file.path(out, "zph_veteran.csv"), row.names = FALSE)
# Robust (sandwich) variance with case weights and tied deaths, against hcc.stats.coxscore.robust_variance.
rfit <- coxph(Surv(time, status) ~ age + sex + wt.loss, data = lung2, robust = TRUE,
              weights = 1 + (seq_len(nrow(lung2)) %% 3) / 2, control = ctl)
write.csv(fmt(data.frame(term = names(coef(rfit)), coef = unname(coef(rfit)), robust_se = sqrt(diag(rfit$var)),
                         naive_se = sqrt(diag(rfit$naive.var)))), file.path(out, "robust_lung.csv"), row.names = FALSE)
add("veteran", coxph(Surv(time, status) ~ trt + celltype + karno + diagtime + age + prior, data = veteran,
                     control = ctl))

# 2. The demo registry: OS / PFS in the main cohort, covariates coded as hcc/stats/adjusted.py codes them -------
d <- read.csv("data/demo_registry.csv", na.strings = "", stringsAsFactors = FALSE)
for (v in grep("^(date_|start_)", names(d), value = TRUE)) d[[v]] <- as.Date(d[[v]])
d <- d[d$concomitant_lrt == "no" & d$interline_lrt == "no" & d$trial_after_1l == "no", ]
ev_os <- d$date_death
ev_pfs <- pmin(d$date_progression_1l, d$date_death, na.rm = TRUE)
d$os_time <- as.numeric(ifelse(is.na(ev_os), d$date_last_followup, ev_os) - as.numeric(d$start_1l))
d$os_status <- as.integer(!is.na(ev_os))
d$pfs_time <- as.numeric(ifelse(is.na(ev_pfs), d$date_last_followup, ev_pfs) - as.numeric(d$start_1l))
d$pfs_status <- as.integer(!is.na(ev_pfs))
d$regimen <- relevel(factor(d$regimen_1l), ref = "SOR")
d$sex <- factor(d$sex, levels = c("M", "F"))
d$etiology <- factor(d$etiology, levels = c("HBV", "HCV", "alcohol", "MASLD", "other"))
d$child_pugh_class <- droplevels(factor(d$child_pugh_class, levels = c("A", "B", "C")))
d$albi_grade <- droplevels(factor(d$albi_grade, levels = c("1", "2a", "2b", "3")))
d$bclc <- droplevels(factor(d$bclc, levels = c("0", "A", "B", "C", "D")))
d$mvi <- factor(d$mvi, levels = c("no", "yes"))
d$ehs <- factor(d$ehs, levels = c("no", "yes"))
ecog_f <- function(e) droplevels(factor(ifelse(e >= 2, "2+", as.character(e)), levels = c("0", "1", "2+")))
d$ecog_f <- ecog_f(d$ecog)
d$log10_afp <- log10(pmax(d$afp, 1))            # AFP below 1 ng/mL counted as 1
d$afp_400 <- factor(ifelse(d$afp >= 400, "yes", "no"), levels = c("no", "yes"))

add("demo_os", coxph(Surv(os_time, os_status) ~ regimen + age + child_pugh_class + bclc, data = d,
                     control = ctl))
add("demo_pfs_center", coxph(Surv(pfs_time, pfs_status) ~ regimen + age + sex + etiology + albi_grade + bclc +
                               ecog_f + mvi + ehs + log10_afp + strata(center), data = d, control = ctl))
# Complete-case: AFP blanked where the patient number is a multiple of 11, ECOG where a multiple of 13.
num <- as.integer(sub("^SYN", "", d$patient_id))
dm <- d
dm$afp_400[num %% 11 == 0] <- NA
dm$ecog_f[num %% 13 == 0] <- NA
add("demo_missing", coxph(Surv(os_time, os_status) ~ regimen + age + ecog_f + afp_400, data = dm,
                          control = ctl))
put(coefs, "adjusted_coef.csv"); put(zphs, "adjusted_zph.csv"); put(fits, "adjusted_fit.csv")

# 3. Subgroups: ATZ_BEV vs SOR within each level, interaction by likelihood ratio --------------------
two <- d[d$regimen_1l %in% c("SOR", "ATZ_BEV"), ]
two$arm <- factor(two$regimen_1l, levels = c("SOR", "ATZ_BEV"))
two$viral <- factor(ifelse(two$etiology %in% c("HBV", "HCV"), "viral", "non-viral"), levels = c("viral", "non-viral"))
two$afp_grp <- factor(ifelse(two$afp >= 400, ">=400", "<400"), levels = c("<400", ">=400"))
sub_rows <- list(); int_rows <- list()
for (f in c("child_pugh_class", "bclc", "viral", "afp_grp")) {
  for (lev in levels(droplevels(two[[f]]))) {
    s <- two[two[[f]] == lev, ]
    fit <- coxph(Surv(os_time, os_status) ~ arm, data = s, control = ctl)
    sm <- summary(fit)$coefficients; ci <- exp(confint(fit))
    sub_rows[[length(sub_rows) + 1]] <- data.frame(factor = f, level = lev, n = nrow(s), events = sum(s$os_status),
      hr = sm[1, "exp(coef)"], lower = ci[1, 1], upper = ci[1, 2], p = sm[1, "Pr(>|z|)"])
  }
  two$f <- droplevels(two[[f]])
  m0 <- coxph(Surv(os_time, os_status) ~ arm + f, data = two, control = ctl)
  m1 <- coxph(Surv(os_time, os_status) ~ arm * f, data = two, control = ctl)
  a <- anova(m0, m1)
  int_rows[[length(int_rows) + 1]] <- data.frame(factor = f, chisq = a$Chisq[2], df = a$Df[2],
                                                 p = a[["Pr(>|Chi|)"]][2])
}
put(sub_rows, "adjusted_subgroups.csv"); put(int_rows, "adjusted_interaction.csv")

# 4. Propensity weighting -------------------------------------------------------------------------------
ps_form <- ~ age + child_pugh_class + bclc + ecog_f + log10_afp + mvi + ehs
stab <- function(a, p) { marg <- as.numeric(prop.table(table(a))[as.character(a)]); marg / as.numeric(p) }
trunc_w <- function(w, lo = 0.01, hi = 0.99) { q <- quantile(w, c(lo, hi), type = 7); pmin(pmax(w, q[1]), q[2]) }
w_rows <- list(); wcox_rows <- list(); wkm_rows <- list(); wzph_rows <- list()
weighted_fits <- function(model, data, w) {
  data$w <- w
  fit <- coxph(Surv(os_time, os_status) ~ regimen, data = data, weights = w, robust = TRUE, control = ctl)
  sm <- summary(fit)$coefficients; ci <- exp(confint(fit))
  wcox_rows[[length(wcox_rows) + 1]] <<- data.frame(model = model, term = sub("^regimen", "", rownames(sm)),
    coef = sm[, "coef"], se = sm[, "se(coef)"], robust_se = sm[, "robust se"], hr = sm[, "exp(coef)"],
    lower = ci[, 1], upper = ci[, 2], p = sm[, "Pr(>|z|)"])
  wzph_rows[[length(wzph_rows) + 1]] <<- zph_rows(model, fit)
  km <- survfit(Surv(os_time, os_status) ~ regimen_1l, data = data, weights = w, conf.type = "log-log")
  s <- summary(km, censored = FALSE)
  wkm_rows[[length(wkm_rows) + 1]] <<- data.frame(model = model, group = sub("^regimen_1l=", "", s$strata),
    time = s$time, n_risk = s$n.risk, n_event = s$n.event, surv = s$surv, std_err = s$std.err,
    lower = s$lower, upper = s$upper)
}
# 4a. two regimens: logistic regression
b <- droplevels(d[d$regimen_1l %in% c("SOR", "ATZ_BEV"), ])
b$treated <- as.integer(b$regimen_1l == "ATZ_BEV")
g <- glm(update(ps_form, treated ~ .), family = binomial, data = b, control = glm.control(epsilon = 1e-14, maxit = 100))
p_b <- ifelse(b$treated == 1, fitted(g), 1 - fitted(g))
w_b <- stab(b$regimen_1l, p_b)
w_rows[[1]] <- data.frame(model = "binary", patient_id = b$patient_id, regimen = b$regimen_1l,
                          ps = fitted(g), p_own = p_b, w = w_b, w_trunc = trunc_w(w_b))
weighted_fits("binary", b, w_b)
# 4b. three regimens: multinomial logistic regression
m <- multinom(update(ps_form, regimen ~ .), data = d, trace = FALSE, reltol = 1e-15, abstol = 1e-300, maxit = 5000)
probs <- fitted(m)
p_m <- probs[cbind(seq_len(nrow(d)), match(as.character(d$regimen), colnames(probs)))]
w_m <- stab(d$regimen_1l, p_m)
w_rows[[2]] <- data.frame(model = "multinomial", patient_id = d$patient_id, regimen = d$regimen_1l,
                          ps = NA_real_, p_own = p_m, w = w_m, w_trunc = trunc_w(w_m))
weighted_fits("multinomial", d, w_m)
weighted_fits("multinomial_trunc", d, trunc_w(w_m))
put(w_rows, "iptw_weights.csv"); put(wcox_rows, "iptw_cox.csv"); put(wkm_rows, "iptw_km.csv")
put(wzph_rows, "iptw_zph.csv")

# 4c. Standardized differences (cobalt's convention): weighted means, denominator from the unweighted
#     groups: sqrt((s2_a + s2_b) / 2), s2 the sample variance (continuous) or p(1 - p) (each level 0/1).
X <- model.matrix(~ age + child_pugh_class + bclc + ecog_f + log10_afp + mvi + ehs, data = d,
                  contrasts.arg = lapply(d[, c("child_pugh_class", "bclc", "ecog_f", "mvi", "ehs")],
                                         contrasts, contrasts = FALSE))[, -1]
smd <- function(x, a, w, ga, gb, binary) {
  ia <- a == ga; ib <- a == gb
  va <- if (binary) mean(x[ia]) * (1 - mean(x[ia])) else var(x[ia])
  vb <- if (binary) mean(x[ib]) * (1 - mean(x[ib])) else var(x[ib])
  (weighted.mean(x[ia], w[ia]) - weighted.mean(x[ib], w[ib])) / sqrt((va + vb) / 2)
}
smd_rows <- list()
for (j in colnames(X)) for (pair in list(c("LEN", "SOR"), c("ATZ_BEV", "SOR"), c("ATZ_BEV", "LEN"))) {
  binary <- !(j %in% c("age", "log10_afp"))
  smd_rows[[length(smd_rows) + 1]] <- data.frame(column = j, a = pair[1], b = pair[2],
    before = smd(X[, j], d$regimen_1l, rep(1, nrow(d)), pair[1], pair[2], binary),
    after = smd(X[, j], d$regimen_1l, w_m, pair[1], pair[2], binary))
}
put(smd_rows, "iptw_smd.csv")
