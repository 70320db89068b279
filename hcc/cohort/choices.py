"""The cohort presets' names, defined without importing pandas so that ``python -m hcc … --help``
builds its parser at once; the presets themselves are :data:`hcc.cohort.rules.PRESETS`."""

FULL = "full"
MAIN = "main"
#: Every preset name, in the order the CLI lists them.
PRESET_NAMES: tuple[str, ...] = (FULL, MAIN)
