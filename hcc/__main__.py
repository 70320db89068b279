"""``python -m hcc``: see :mod:`hcc.cli.main`."""

import sys

from hcc.cli.main import main

sys.exit(main())
