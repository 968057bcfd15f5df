"""How the command line tells a usage mistake (exit 2) from a bug (exit 3) and Ctrl-C (130)."""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import tempfile
import traceback

_OUR_PACKAGES = ("lingauss", "analysis", "neural")


class UserError(Exception):
    """A mistake in the command line or its inputs: reported in one line, exit code 2."""


def is_boundary_error(exc: BaseException) -> bool:
    """Whether a ValueError/ImportError is a deliberate input check: raised by a ``raise``
    statement of this project's code (every public function checks its arguments at its boundary
    and names the bad one). The same exception types coming out of numpy, the standard library or
    an implicit conversion inside the computation mean a bug, not a usage mistake."""
    tb = exc.__traceback__
    if tb is None:
        return False
    while tb.tb_next is not None:
        tb = tb.tb_next
    module = tb.tb_frame.f_globals.get("__name__", "")
    if module.split(".")[0] not in _OUR_PACKAGES:
        return False
    line = traceback.extract_tb(tb)[-1].line or ""
    return line.lstrip().startswith("raise ")


def internal_error(exc: BaseException) -> int:
    """Print and save the traceback of a bug; exit code 3."""
    text = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
    saved = ""
    try:
        fd, path = tempfile.mkstemp(prefix="lingauss-error-", suffix=".txt")
        with os.fdopen(fd, "w") as fh:
            fh.write(text)
        saved = f"; traceback saved to {path}"
    except OSError:
        pass
    print(text, file=sys.stderr, end="")
    print(f"internal error (a bug, not a usage mistake): {type(exc).__name__}: {exc}{saved}",
          file=sys.stderr)
    return 3


@contextlib.contextmanager
def hard_interrupt():
    """Let Ctrl-C end the process at once (the default SIGINT action: shell status 130, no
    traceback) while a compiled kernel runs that never returns to Python to see the signal.
    Outside such a window Ctrl-C raises KeyboardInterrupt, which ``main`` turns into exit 130."""
    try:
        previous = signal.signal(signal.SIGINT, signal.SIG_DFL)
    except ValueError:                             # not the main thread: leave signals alone
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
