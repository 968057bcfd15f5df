"""Argument types and the options shared by several sub-commands, each defined once.

Every ``add_*`` function adds one option with one meaning (name, type, default, check); ``help``
only words the option for the sub-command's context (each sub-command's ``--help`` reads as before).

Shared options and their one meaning:

* ``--seeds S [S ...]`` (:func:`add_seeds`): the seeds of the repeated runs — one or more
  non-negative integers, one independent run per seed (BA's random initial decoder in
  ``reproduce`` / ``sweep``; the model initialisation and data draw in ``bench koopman`` /
  ``bench flow``). The BA commands refuse a negative seed while parsing (argparse's usage error);
  the neural benchmarks refuse it when they start (a one-line ``error:``), as they always did.
  ``bench im --seeds N`` is a different concept kept under its old name so that old invocations
  work: a *count* of inputs per size (the inputs of seeds 0..N-1).
* ``--seed N`` (:func:`add_seed`): the seed of a single run (default 0).
* ``--device DEV`` (:func:`add_device`): a torch device (``cpu``, ``cuda``, ``cuda:N``) or ``auto``
  (a GPU when there is one), read by :func:`analysis.bench.runner.resolve_device`.
* ``--out PATH`` (:func:`add_out`): where the sub-command writes its results — a folder everywhere
  except ``sweep``, where it is the table file (``.csv`` or ``.jsonl``).
* ``--quiet`` (:func:`add_quiet`): no progress output.
* ``--steps N`` (:func:`add_steps`): training steps (a positive integer).
* ``--config NAME`` (:func:`add_config`): a named configuration of a neural benchmark, the choices
  read from the benchmark's ``CONFIGS``.
* ``--size``, ``--decoder-noise``, ``--max-iter``, ``--tol``, ``--noise-var``: the scenario size,
  the decoder-noise family (choices read from :mod:`lingauss.noise_families`) and BA's settings
  (defaults read from :class:`analysis.Protocol`).

Two names mean different things in different sub-commands and keep their old meaning: ``--jobs``
(``bench im``: thread counts of the scale table; ``bench flow``: worker processes) and ``--samples``
(``metric``: two sample files; ``compare``: samples per encoder).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from lingauss.noise_families import NAMED_FAMILIES, decoder_noise_families

from ._errors import UserError

#: The decoder-noise choices as help text, read from their declarations.
FAMILY_HELP = "; ".join(f"{name}: {decoder_noise_families()[name].description}" for name in NAMED_FAMILIES)

#: Options whose value may be a range starting with ``-`` (see :func:`join_negative_values`).
RANGE_OPTIONS = ("--gammas", "--lams")

_SIZES = {"343": [(3, 4, 3)], "554": [(5, 5, 4)], "all": [(3, 4, 3), (5, 5, 4)]}


# ------------------------------------------------------------------------------------- types

def sizes(text: str):
    if text not in _SIZES:
        raise argparse.ArgumentTypeError(f"--size must be 343, 554 or all, got {text!r}")
    return _SIZES[text]


def positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}")
    return value


def seed(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = -1
    if value < 0:
        raise argparse.ArgumentTypeError(f"seeds must be non-negative integers, got {text!r}")
    return value


def size_pair(text: str) -> tuple[int, int]:
    try:
        s, m = (int(x) for x in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected S,M (two integers), got {text!r}") from None
    if not (1 <= m and 1 <= s <= 20):
        raise argparse.ArgumentTypeError(f"need 1 <= s <= 20 and m >= 1, got {text!r}")
    return s, m


def axis(text: str) -> np.ndarray:
    """``start:stop:count`` (inclusive, like numpy.linspace) or a comma list."""
    try:
        if ":" in text:
            start, stop, count = text.split(":")
            if int(count) < 1:
                raise ValueError
            return np.linspace(float(start), float(stop), int(count))
        return np.array([float(x) for x in text.split(",")])
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected start:stop:count or a comma list of numbers, got {text!r}") from None


def truth(text: str):
    """``--truth``: 1-based factor numbers, blocks separated by ``|``, as 0-based tuples."""
    try:
        out = [tuple(int(j) - 1 for j in block.split(",")) for block in text.split("|")]
    except ValueError:
        out = None
    if out is None or any(j < 0 for g in out for j in g):
        raise UserError(f"--truth must be 1-based factor numbers like '1,2|3', got {text!r}")
    return out


def check_truth(groups, n_factors: int) -> None:
    """``--truth`` must name every factor 1..s exactly once (checked before any work)."""
    flat = sorted(j + 1 for g in groups for j in g)
    if flat != list(range(1, n_factors + 1)):
        raise UserError(f"--truth must use each factor 1..{n_factors} exactly once, "
                        f"got {'|'.join(','.join(str(j + 1) for j in g) for g in groups)}")


def shrinkage(text: str):
    """``--shrinkage``: none, ledoit_wolf or a number (the library checks its range)."""
    if text in ("none", "ledoit_wolf"):
        return None if text == "none" else text
    try:
        return float(text)
    except ValueError:
        raise UserError(f"--shrinkage must be none, ledoit_wolf or a number in [0, 1], got {text!r}") from None


def join_negative_values(argv: list[str]) -> list[str]:
    """``--lams -0.02:0.02:5`` → ``--lams=-0.02:0.02:5``: argparse reads a value that starts with
    ``-`` and is not a plain number as an option, so a negative range would not parse."""
    out, i = [], 0
    while i < len(argv):
        a = argv[i]
        if (a in RANGE_OPTIONS and i + 1 < len(argv) and argv[i + 1][:1] == "-"
                and argv[i + 1][1:2] in set("0123456789.")):
            out.append(f"{a}={argv[i + 1]}")
            i += 2
        else:
            out.append(a)
            i += 1
    return out


# ---------------------------------------------------------------------------- shared options

def add_seeds(p, *, default=None, help: str, parse_check: bool = False) -> None:
    """``--seeds S [S ...]`` (module doc); ``parse_check``: refuse negatives while parsing (else
    :func:`check_seeds` refuses them when the command starts)."""
    p.add_argument("--seeds", type=seed if parse_check else int, nargs="+", default=default, help=help)


def check_seeds(args) -> None:
    if args.seeds is not None and any(s < 0 for s in args.seeds):
        raise UserError("--seeds must be non-negative integers")


def add_seed(p, help: str = "seed (default 0)") -> None:
    p.add_argument("--seed", type=int, default=0, help=help)


def add_device(p, *, default=None, help: str) -> None:
    p.add_argument("--device", default=default, help=help)


def device_arg(text) -> str:
    """``--device`` read by :func:`analysis.bench.runner.resolve_device` (needs torch)."""
    from ..bench.runner import resolve_device

    try:
        return resolve_device(text)
    except ValueError as exc:                 # the library names ``device``; the option is --device
        raise UserError(f"--{exc}") from None


def add_out(p, *, default=None, help: str, metavar: str | None = None) -> None:
    p.add_argument("--out", default=default, metavar=metavar, help=help)


def writable_dir(text) -> Path:
    """``--out DIR`` created and probed for writing before any work."""
    out = Path(text)
    try:
        out.mkdir(parents=True, exist_ok=True)
        probe = out / ".write-test"
        probe.write_text("")
        probe.unlink()
    except OSError as exc:
        raise UserError(f"--out {text}: cannot write there ({exc.strerror or exc})") from None
    return out


def add_quiet(p, help: str = "no progress bars") -> None:
    p.add_argument("--quiet", action="store_true", help=help)


def add_steps(p, *, default=None, help: str) -> None:
    p.add_argument("--steps", type=int, default=default, help=help)


def check_steps(args) -> None:
    if args.steps is not None and args.steps < 1:
        raise UserError("--steps must be a positive integer")


def add_config(p, configs, *, help: str) -> None:
    """``--config`` over the benchmark's ``configs``; the default is its first (the CPU one)."""
    p.add_argument("--config", choices=tuple(configs), default=next(iter(configs)), help=help)


def add_size(p) -> None:
    p.add_argument("--size", type=sizes, default=sizes("all"), help="343, 554 or all (default all)")


def add_decoder_noise(p, *, with_all: bool, default: str, help: str) -> None:
    p.add_argument("--decoder-noise", choices=[*NAMED_FAMILIES, "all"] if with_all else NAMED_FAMILIES,
                   default=default, help=help)


def decoder_noise_list(args) -> list[str]:
    return list(NAMED_FAMILIES) if args.decoder_noise == "all" else [args.decoder_noise]


def _protocol_defaults():
    from ..protocol import Protocol

    return Protocol()


def add_max_iter(p, help: str = "BA iteration cap (default %(default)s)") -> None:
    p.add_argument("--max-iter", type=int, default=_protocol_defaults().max_iter, help=help)


def add_tol(p, help: str = "stop when |dL| <= tol*max(1,|L|) (default %(default)g)") -> None:
    p.add_argument("--tol", type=float, default=_protocol_defaults().tol, help=help)


def add_noise_var(p) -> None:
    p.add_argument("--noise-var", type=float, default=_protocol_defaults().noise_var,
                   help="observation noise variance sigma^2 (default %(default)g)")


# ------------------------------------------------------------- the BA protocol (reproduce, sweep)

def add_protocol_options(p) -> None:
    """The protocol group, seeds, size, executor, workers and quiet of ``reproduce`` and ``sweep``."""
    from ..protocol import ERROR_READINGS

    d = _protocol_defaults()
    g = p.add_argument_group("protocol (every choice Vu et al. (2024) leave open)")
    g.add_argument("--init", choices=["random", "pca"], default=d.init,
                   help="initial decoder: random (seeded) or pca (default %(default)s)")
    add_max_iter(g)
    add_tol(g)
    g.add_argument("--accept", default=",".join(d.accept),
                   help="comma list of BA statuses whose solution counts (default %(default)s)")
    g.add_argument("--tolerance", type=float, default=d.tolerance,
                   help="reconstruction tolerance, relative (default %(default)g = 5%%)")
    g.add_argument("--error-reading", choices=ERROR_READINGS, default=d.error_reading,
                   help="sampled: E||Y-AX||^2/tr Sigma_Y; mean: E||Y-ABY||^2/tr Sigma_Y; none: no "
                        "tolerance (default %(default)s)")
    add_noise_var(g)
    g.add_argument("--root-std", type=float, default=d.root_std, help="sigma_v of root factors (default %(default)g)")
    g.add_argument("--coupling", type=float, default=d.coupling, help="alpha = beta (default %(default)g)")
    g.add_argument("--dependent-noise-std", type=float, default=d.dependent_noise_std,
                   help="sigma_z of dependent factors (default %(default)g)")
    add_seeds(p, default=[0], parse_check=True,
              help="seeds of the random initial decoder, non-negative (default 0)")
    add_size(p)
    p.add_argument("--executor", choices=["auto", "none", "processes", "dask"], default="auto",
                   help="where the BA tasks run: auto (a local process pool only for large sweeps, "
                        "this process otherwise), this process, a local process pool, or dask "
                        "(the current client or a new local cluster) (default %(default)s)")
    p.add_argument("--workers", type=positive_int, default=None,
                   help="processes/dask workers (default: all cores)")
    add_quiet(p)


def protocol_from(args):
    from ..protocol import Protocol

    accept = tuple(args.accept.split(",")) if args.accept else Protocol.accept
    families = decoder_noise_list(args) if hasattr(args, "decoder_noise") else [Protocol.decoder_noise]
    return Protocol(decoder_noise=families[0], init=args.init, max_iter=args.max_iter,
                    tol=args.tol, accept=accept, tolerance=args.tolerance,
                    error_reading=args.error_reading, noise_var=args.noise_var,
                    root_std=args.root_std, coupling=args.coupling,
                    dependent_noise_std=args.dependent_noise_std)


def executor(args):
    return None if args.executor == "none" else args.executor


def figure_formats(text: str) -> tuple[str, ...]:
    """``--formats png,pdf`` → ``("png", "pdf")`` (an argparse type: a bad value is one error line)."""
    import argparse

    from ..plots import check_formats

    try:
        return check_formats(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
