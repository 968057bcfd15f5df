"""``lingauss warmup``: compile and cache every registered Numba kernel ahead of use
(:mod:`lingauss.warmup`), so that the first real call does not stall for tens of seconds."""

from __future__ import annotations

import sys
import time

from ._errors import UserError


def cmd_warmup(args) -> int:
    import lingauss  # noqa: F401  (importing the package registers every module's warm-up)
    from lingauss import warmup

    if args.list:
        for name in warmup.names():
            print(name)
        return 0
    unknown = [n for n in args.names if n not in warmup.names()]
    if unknown:
        raise UserError(f"unknown warm-up {unknown[0]!r}; registered: {', '.join(warmup.names())}")
    t0 = time.perf_counter()
    reports = warmup.warmup(args.names or None,
                            report=None if args.quiet else (lambda line: print(line, file=sys.stderr,
                                                                                flush=True)))
    compiled = sum(r.compiled for r in reports)
    print(f"warm-up done: {len(reports)} warm-up(s), {compiled} kernel(s) compiled "
          f"({'all were cached' if compiled == 0 else 'now cached'}), {time.perf_counter() - t0:.1f} s")
    return 0


def add_parser(sub) -> None:
    w = sub.add_parser("warmup", help="compile and cache the Numba kernels ahead of use (once per install)",
                       description="Compile every registered Numba kernel (I_m, Blahut-Arimoto, ...) "
                                   "and cache it on disk, so the first real call loads it instead of "
                                   "compiling (tens of seconds once per install; a second run finds "
                                   "everything cached and takes about a second).")
    w.add_argument("names", nargs="*", metavar="NAME", help="only these warm-ups (default all; --list)")
    w.add_argument("--list", action="store_true", help="list the registered warm-ups and exit")
    w.add_argument("--quiet", action="store_true", help="only the final line")
    w.set_defaults(func=cmd_warmup)
