"""Statistics on a cohort: risk sets, Kaplan-Meier and tests (survival), Cox models (risksets, coxscore, adjusted, tdcox), subgroups, weighting, response, Table 1 (baseline)."""
