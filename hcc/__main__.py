"""``python -m hcc``: see :mod:`hcc.cli`."""

import sys

from hcc.cli import main

sys.exit(main())
