"""``python -m analysis.cli``: the ``lingauss`` command line."""

import sys

from . import main

sys.exit(main())
