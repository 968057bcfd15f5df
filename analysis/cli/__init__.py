"""The lingauss command line.

* ``lingauss reproduce`` — the success-rate tables of Vu et al. (2024), ours next to the published
  ones, with the protocol, null baselines, a sensitivity table and figures (the README's main job).
* ``lingauss sweep`` — a (γ, λ) sweep of chosen scenarios: a tidy CSV/JSON-lines table, resumable.
* ``lingauss metric`` — I_m and SAP of a joint covariance (.npy) or of latent/factor samples.
* ``lingauss compare`` — I_m and SAP next to the standard metric suite (rank correlations, a plot).
* ``lingauss train vae`` — train a β-VAE-family model on dSprites-like data; checkpoints, log, report.
* ``lingauss solve`` — run Blahut–Arimoto on the six scenarios of Vu et al. (2024) and print status,
  loss terms, reconstruction error and the well-posedness verdict.
* ``lingauss bench core`` — batched grid BA vs a per-point loop (a printed table).
* ``lingauss bench im`` — naive vs exhaustive vs exact I_m (a printed table).
* ``lingauss bench koopman | flow`` — SKD/SSM-SKD and the flow model vs the tables of Hason (2024)
  and Song et al. (2023).
* ``lingauss bench metrics`` — SAP and DCI, ours vs disent and disentanglement_lib's formulas.
* ``lingauss warmup`` — compile and cache the Numba kernels ahead of use (once per install).

Exit codes: 0 done; 1 done, but some points (sweep, reproduce) ended in error or a training did
not complete; 2 a usage mistake (bad numbers, unreadable files, unwritable paths: a one-line
``error:`` message, never a traceback); 3 an internal error (the traceback is printed and saved);
130 interrupted by Ctrl-C (no traceback).

One module per sub-command (:mod:`analysis.cli.reproduce`, :mod:`~analysis.cli.sweep`,
:mod:`~analysis.cli.metric`, :mod:`~analysis.cli.compare`, :mod:`~analysis.cli.train`,
:mod:`~analysis.cli.solve`, :mod:`~analysis.cli.bench`, :mod:`~analysis.cli.warmup`), each with ``add_parser(sub)`` and its
``cmd_*`` function; the options several sub-commands share are defined once in
``analysis.cli._options`` (its docstring lists them and their one meaning), file reading in
``analysis.cli._files``, the exit-code policy in ``analysis.cli._errors``.
"""

from __future__ import annotations

import argparse
import os
import sys

from . import bench, compare, metric, reproduce, solve, sweep, train, warmup
from ._errors import USAGE_ERRORS, UserError, hard_interrupt, internal_error, usage_message
from ._options import join_negative_values

__all__ = ["main", "build_parser", "UserError"]

# the names this module had before it became a package
_join_negative_values = join_negative_values
_internal_error = internal_error
_hard_interrupt = hard_interrupt

#: The sub-commands in the order ``lingauss --help`` lists them.
COMMANDS = (reproduce, sweep, metric, compare, train, solve, bench, warmup)


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="lingauss", formatter_class=argparse.RawDescriptionHelpFormatter,
        description="The linear Gaussian beta-VAE toolkit: Vu et al.'s (2024) tables, sweeps, metrics, "
                    "training and benchmarks. 'lingauss COMMAND --help' lists a command's options.",
        epilog="exit codes: 0 done; 1 done, but some points or a training failed; 2 a usage "
               "mistake (one line);\n3 an internal error (traceback printed and saved); 130 "
               "interrupted (Ctrl-C)")
    from lingauss import __version__

    p.add_argument("--version", action="version", version=f"lingauss {__version__}")
    sub = p.add_subparsers(dest="command", metavar="COMMAND")
    for command in COMMANDS:
        command.add_parser(sub)
    return p


def _option_names(parser: argparse.ArgumentParser) -> dict[str, str]:
    """Argument name (an option's ``dest``) → its long option string, over every sub-command."""
    out: dict[str, str] = {}
    stack = [parser]
    while stack:
        p = stack.pop()
        for action in p._actions:
            if isinstance(action, argparse._SubParsersAction):
                stack.extend(action.choices.values())
            elif action.option_strings:
                out.setdefault(action.dest, max(action.option_strings, key=len))
    return out


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(join_negative_values(list(sys.argv[1:] if argv is None else argv)))
    if args.command is None:
        parser.print_help()
        return 2
    try:
        return args.func(args)
    except USAGE_ERRORS as exc:
        print(usage_message(exc, _option_names(parser)), file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:                 # output piped into `head`: stop quietly
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1
    except Exception as exc:                # noqa: BLE001 - every other failure is a bug
        return internal_error(exc)
