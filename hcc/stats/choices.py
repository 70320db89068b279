"""The names a user chooses among in the statistics options (CLI flags, page widgets), defined here
without importing numpy or scipy so that ``python -m hcc … --help`` builds its parser at once.
:mod:`hcc.stats.survival` uses (and re-exports) them."""

#: Transformations of the Kaplan–Meier confidence interval (R ``survfit(conf.type = …)``).
CONF_TYPES: tuple[str, ...] = ("log-log", "log", "plain")
#: Multiple-comparison adjustments of pairwise p-values (R ``p.adjust(method = …)``).
ADJUSTMENTS: tuple[str, ...] = ("holm", "bonferroni", "none")
