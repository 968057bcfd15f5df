"""The ``lingauss`` console script: :func:`analysis.cli.main`, with a Ctrl-C that arrives while the
command line is still importing its modules (numpy, Numba, the kernels: a second or two) reported
like any other — one line, exit code 130 — instead of a traceback from inside an import."""

import sys


def main() -> int:
    try:
        from analysis.cli import main as cli_main
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    return cli_main()
