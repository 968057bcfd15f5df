"""``lingauss solve``: Blahut–Arimoto on the six scenarios of Vu et al. (2024) at one (γ, λ); status,
loss terms, reconstruction error and the well-posedness verdict."""

from __future__ import annotations

from pathlib import Path

from lingauss.noise_families import resolve_decoder_noise

from ..bench.runner import write_json_atomic
from ._errors import UserError
from ._options import (FAMILY_HELP, add_decoder_noise, add_max_iter, add_noise_var, add_out, add_seed, add_size,
                       add_tol, decoder_noise_list)


def cmd_solve(args) -> int:
    import lingauss as lg

    lg.well_posedness(args.gamma, args.lam)          # validates gamma and lam before any output
    if args.max_iter < 1:
        raise UserError(f"--max-iter must be a positive integer, got {args.max_iter}")
    families = decoder_noise_list(args)
    scenarios = [lg.talk_scenario(size, k, noise_var=args.noise_var)     # bad values fail here,
                 for size in args.size for k in (1, 2, 3)]              # before any output
    header = (f"Blahut–Arimoto at gamma={args.gamma:g}, lambda={args.lam:g}, seed={args.seed}, "
              f"max_iter={args.max_iter}, tol={args.tol:g}; loss in nats per sample; "
              f"rel.err = E||Y-AX||^2 / tr Sigma_Y")
    print(header)
    print(f"{'scenario':<22}{'Sigma_Z':<11}{'status':<11}{'iters':>7}{'total':>11}{'kl':>10}"
          f"{'nll':>10}{'mse':>9}{'rel.err':>9}  objective")
    rows = []
    for sc in scenarios:
        if True:
            for fam in families:
                r = lg.blahut_arimoto(sc.model, sc.n_latents, args.gamma, args.lam, decoder_noise=fam,
                                      rng=args.seed, max_iter=args.max_iter, tol=args.tol)
                wp = lg.well_posedness(args.gamma, args.lam, resolve_decoder_noise(fam, sc.model),
                                       n_latents=sc.n_latents,
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
            write_json_atomic(path, {"protocol": header, "results": rows})
        except OSError as exc:
            raise UserError(f"cannot write {path}: {exc.strerror}") from None
        print(f"wrote {path}")
    print("objective regimes: see `lingauss.well_posedness` (degenerate ones never stop the run;"
          " BA reports them in its status)")
    return 0


def add_parser(sub) -> None:
    s = sub.add_parser("solve", help="run Blahut-Arimoto on the scenarios of Vu et al. (2024) and print the results",
                       description="Run Blahut–Arimoto on the scenarios of Vu et al. (2024) at one "
                                   "(gamma, lambda) for each decoder-noise family and print status, "
                                   "loss terms and the well-posedness regime.")
    s.add_argument("--gamma", type=float, default=1.0, help="weight of the reconstruction log-likelihood (default 1)")
    s.add_argument("--lam", type=float, default=0.0, help="weight of the squared error (default 0)")
    add_decoder_noise(s, with_all=True, default="all",
                      help=f"decoder-noise family of Sigma_Z: {FAMILY_HELP} (default: all)")
    add_size(s)
    add_noise_var(s)
    add_seed(s, help="seed of the random initial decoder (default 0)")
    add_max_iter(s, help="iteration cap (default %(default)s)")
    add_tol(s, help="relative loss-change tolerance (default %(default)g)")
    add_out(s, help="folder to write solve.json into (optional)")
    s.set_defaults(func=cmd_solve)
