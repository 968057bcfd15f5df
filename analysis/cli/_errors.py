"""How the command line tells a usage mistake (exit 2) from a bug (exit 3) and Ctrl-C (130)."""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import tempfile
import traceback

from lingauss.params import InvalidParameter, MissingDependency


class UserError(Exception):
    """A mistake in the command line or its inputs: reported in one line, exit code 2."""


#: What the command line reports as a usage mistake (one line, exit 2): its own UserError, and the
#: library's error types for a bad argument and for a missing optional dependency. Every other
#: exception, a ValueError from numpy included, is a bug (exit 3). No source text is read.
USAGE_ERRORS = (UserError, InvalidParameter, MissingDependency)


def usage_message(exc: BaseException, options: dict[str, str]) -> str:
    """The one line for a usage mistake: the message, and the command-line option that set the
    argument it names (``options``: argument name → option string), where there is one."""
    name = getattr(exc, "parameter", None)
    option = options.get(name) if name else None
    if option and option not in str(exc):
        return f"error: {option}: {exc}"
    return f"error: {exc}"


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
