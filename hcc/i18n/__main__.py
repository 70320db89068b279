"""``python -m hcc.i18n missing [LANG] [PATH …]``: the marked messages a language lacks, as PO entries."""

import sys

from hcc.i18n import LANGUAGES
from hcc.i18n.extract import APP_SOURCES, missing_entries


def main(argv: list[str]) -> int:
    if not argv or argv[0] != "missing":
        print(__doc__, file=sys.stderr)
        return 2
    rest = argv[1:]
    lang = rest.pop(0) if rest and rest[0] in LANGUAGES else "ja"
    sys.stdout.write(missing_entries(lang, rest or APP_SOURCES))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
