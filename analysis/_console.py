"""The ``lingauss`` console script: :func:`analysis.cli.main`, with a Ctrl-C that arrives while the
command line is still importing its modules (numpy, Numba, the kernels: a second or two) reported
like any other — one line, exit code 130 — instead of a traceback from inside an import.

When the command is done, the process ends without tearing its interpreter down module by module
(0.3–0.6 s after a run that loaded Numba's kernels and matplotlib): the exit handlers run and the
output is flushed as at a normal exit, then :func:`os._exit` ends the process with the command's code.
Every file the commands write is closed (and written atomically) before they return.
"""

import atexit
import os
import sys


def main() -> int:
    try:
        from analysis.cli import main as cli_main
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    code = cli_main()
    _exit_now(code)
    return code                                    # pragma: no cover - not reached


def _exit_now(code: int) -> None:
    """What a normal exit does that matters here — exit handlers, flushed output — then exit."""
    atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):              # a closed pipe (`| head`) or a closed stream
            pass
    os._exit(int(code))
