"""The ``lingauss`` command line.

``lingauss solve``  run Blahut–Arimoto on the talk's six scenarios and print status, loss terms,
                    reconstruction error and the well-posedness verdict (the README's main job).
``lingauss bench core``  batched grid BA vs a per-point loop (a printed table).
``lingauss bench im``    naive vs exhaustive vs exact I_m (a printed table).

User mistakes (bad numbers, unwritable paths) end with a one-line ``error:`` message and exit code 2,
never a traceback.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from pathlib import Path

import numpy as np

__all__ = ["main", "build_parser"]


class UserError(Exception):
    """A mistake in the command line or its inputs: reported in one line, exit code 2."""


def _sizes(text: str):
    table = {"343": [(3, 4, 3)], "554": [(5, 5, 4)], "all": [(3, 4, 3), (5, 5, 4)]}
    if text not in table:
        raise argparse.ArgumentTypeError(f"--size must be 343, 554 or all, got {text!r}")
    return table[text]


def _write_json_atomic(path: Path, payload) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name, suffix=".tmp")
    with os.fdopen(fd, "w") as fh:
        json.dump(payload, fh, indent=2)
    os.replace(tmp, path)


def cmd_solve(args) -> int:
    import lingauss as lg

    lg.well_posedness(args.gamma, args.lam)          # validates gamma and lam before any output
    if args.max_iter < 1:
        raise UserError(f"--max-iter must be a positive integer, got {args.max_iter}")
    families = ["full", "diagonal", "isotropic"] if args.decoder_noise == "all" else [args.decoder_noise]
    header = (f"Blahut–Arimoto at gamma={args.gamma:g}, lambda={args.lam:g}, seed={args.seed}, "
              f"max_iter={args.max_iter}, tol={args.tol:g}; loss in nats per sample; "
              f"rel.err = E||Y-AX||^2 / tr Sigma_Y")
    print(header)
    print(f"{'scenario':<22}{'Sigma_Z':<11}{'status':<11}{'iters':>7}{'total':>11}{'kl':>10}"
          f"{'nll':>10}{'mse':>9}{'rel.err':>9}  objective")
    rows = []
    for size in args.size:
        for k in (1, 2, 3):
            sc = lg.talk_scenario(size, k, noise_var=args.noise_var)
            for fam in families:
                r = lg.blahut_arimoto(sc.model, sc.n_latents, args.gamma, args.lam, decoder_noise=fam,
                                      rng=args.seed, max_iter=args.max_iter, tol=args.tol)
                wp = lg.well_posedness(args.gamma, args.lam, fam, n_latents=sc.n_latents,
                                       n_features=sc.model.n)
                print(f"{sc.name:<22}{fam:<11}{r.status:<11}{r.n_iter:>7}{r.loss.total:>11.5f}"
                      f"{r.loss.kl:>10.4f}{r.loss.nll:>10.4f}{r.loss.mse:>9.4f}"
                      f"{r.relative_error:>9.3f}  {wp.regime}")
                rows.append({"scenario": sc.name, "true_grouping": sc.true_grouping,
                             "decoder_noise": fam, "gamma": args.gamma, "lam": args.lam,
                             "status": r.status, "message": r.message, "n_iter": r.n_iter,
                             "loss": vars(r.loss), "relative_error": r.relative_error,
                             "regime": wp.regime, "A": r.A.tolist(), "B": r.B.tolist(),
                             "sigma_w": r.sigma_w.tolist(), "sigma_z": r.sigma_z.tolist()})
    if args.out:
        path = Path(args.out) / "solve.json"
        try:
            _write_json_atomic(path, {"protocol": header, "results": rows})
        except OSError as exc:
            raise UserError(f"cannot write {path}: {exc.strerror}") from None
        print(f"wrote {path}")
    print("objective regimes: see `lingauss.well_posedness` (degenerate ones never stop the run;"
          " BA reports them in its status)")
    return 0


def cmd_bench(args) -> int:
    from .bench import bench_core, bench_im, format_core, format_im

    if args.which == "im":
        if args.naive_budget <= 0:
            raise UserError("--naive-budget must be positive")
        print("I_m benchmark: one core; naive = Python loop over m^s assignments calling gaussian_mi")
        print(format_im(bench_im(naive_budget_s=args.naive_budget, progress=not args.quiet)))
        return 0
    if args.iterations < 1 or args.grid < 1:
        raise UserError("--grid and --iterations must be positive")
    loop_points = None if args.full_loop else args.loop_points
    b = bench_core(grid=args.grid, iterations=args.iterations, loop_points=loop_points,
                   progress=not args.quiet)
    print(f"core benchmark: (s,n,m)=(5,5,4) scenario 2, {args.grid}x{args.grid} (gamma, lambda) grid, "
          f"full Sigma_Z, fixed {args.iterations} iterations per point (tol=0), one core")
    print(format_core(b))
    return 0


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="lingauss", description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="command", metavar="COMMAND")
    s = sub.add_parser("solve", help="run Blahut-Arimoto on the talk's scenarios and print the results",
                       description="Run Blahut–Arimoto on the talk's scenarios (seed 002) at one "
                                   "(gamma, lambda) for each decoder-noise family and print status, "
                                   "loss terms and the well-posedness regime.")
    s.add_argument("--gamma", type=float, default=1.0, help="weight of the reconstruction log-likelihood (default 1)")
    s.add_argument("--lam", type=float, default=0.0, help="weight of the squared error (default 0)")
    s.add_argument("--decoder-noise", choices=["full", "diagonal", "isotropic", "all"], default="all",
                   help="decoder-noise family of Sigma_Z (default: all three)")
    s.add_argument("--size", type=_sizes, default=_sizes("all"), help="343, 554 or all (default all)")
    s.add_argument("--noise-var", type=float, default=0.1, help="observation noise variance sigma^2 (default 0.1)")
    s.add_argument("--seed", type=int, default=0, help="seed of the random initial decoder (default 0)")
    s.add_argument("--max-iter", type=int, default=10_000, help="iteration cap (default 10000)")
    s.add_argument("--tol", type=float, default=1e-12, help="relative loss-change tolerance (default 1e-12)")
    s.add_argument("--out", help="folder to write solve.json into (optional)")
    s.set_defaults(func=cmd_solve)
    b = sub.add_parser("bench", help="timed comparisons (prints a table)",
                       description="Benchmarks. 'core': batched grid Blahut–Arimoto vs a per-point loop.")
    b.add_argument("which", choices=["core", "im"],
                   help="core: batched grid BA vs per-point loop; im: naive vs exhaustive vs exact I_m")
    b.add_argument("--grid", type=int, default=101, help="grid points per axis (default 101)")
    b.add_argument("--iterations", type=int, default=100, help="iterations per point (default 100)")
    b.add_argument("--loop-points", type=int, default=1000,
                   help="grid points the per-point loop times; its full time is extrapolated (default 1000)")
    b.add_argument("--full-loop", action="store_true", help="time the loop on every grid point")
    b.add_argument("--naive-budget", type=float, default=60.0,
                   help="im: seconds the naive loop may run before it is extrapolated (default 60)")
    b.add_argument("--quiet", action="store_true", help="no progress bars")
    b.set_defaults(func=cmd_bench)
    return p


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 2
    try:
        return args.func(args)
    except (UserError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except BrokenPipeError:                 # output piped into `head`: stop quietly
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1


if __name__ == "__main__":
    sys.exit(main())
