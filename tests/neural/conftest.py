"""Neural tests need torch (the ``neural`` extra); without it they are skipped cleanly."""

import importlib.util

collect_ignore_glob = [] if importlib.util.find_spec("torch") else ["test_*.py"]
