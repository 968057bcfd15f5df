"""``python -m analysis.cli``: the ``lingauss`` command line, run exactly as the installed console
script runs it (:mod:`analysis._console`: a Ctrl-C during the imports is one line, the process
ends without the interpreter's teardown)."""

import sys

from analysis._console import main

sys.exit(main())
