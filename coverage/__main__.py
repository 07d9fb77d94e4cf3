"""``python -m coverage …``: see :mod:`coverage.cli`."""

import sys

from .cli import main

sys.exit(main())
