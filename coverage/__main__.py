"""``python -m coverage …``: see :mod:`coverage.cli`."""

import sys

from coverage.cli import main

sys.exit(main())
