"""``lingauss sweep``: a (γ, λ) sweep of chosen scenarios; a tidy CSV / JSON-lines table, resumable."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

from ._errors import UserError
from ._options import add_decoder_noise, add_out, add_protocol_options, axis, decoder_noise_list, executor, \
    figure_formats, protocol_from


def cmd_sweep(args) -> int:
    import lingauss as lg

    from ..sweeps import sweep

    protocol = protocol_from(args)
    if args.dense is not None:
        return _dense(args, protocol)
    scenarios = [lg.talk_scenario(size, k, **protocol.scenario_params)
                 for size in args.size for k in args.scenario]
    families = decoder_noise_list(args)
    if args.out and Path(args.out).suffix.lower() not in (".csv", ".jsonl"):
        raise UserError(f"--out must end in .csv or .jsonl (the two formats written), got {args.out}")
    try:
        table = sweep(scenarios, np.round(args.gammas, 12), np.round(args.lams, 12),
                      decoder_noise=families, seeds=args.seeds, protocol=protocol,
                      executor=executor(args), n_workers=args.workers, store=args.store,
                      progress=not args.quiet)
        if args.out:
            path = Path(args.out)
            (table.to_jsonl if path.suffix == ".jsonl" else table.to_csv)(path)
    except OSError as exc:
        raise UserError(f"cannot write: {exc.strerror or exc}") from None
    print(f"{len(table)} points ({table.n_computed} solved, {table.n_reused} read from the store)")
    print(f"{'scenario':<22}{'family':<11}{'points':>7}{'eligible':>9}{'I_m %':>7}{'SAP %':>7}  statuses")
    for (name, fam), g in table.success_rates(("scenario", "decoder_noise")).items():
        statuses = ", ".join(f"{k} {v}" for k, v in sorted(g["status"].items()))
        print(f"{name:<22}{fam:<11}{g['n']:>7}{g['eligible']:>9}{g['im_rate']:>7.0f}{g['sap_rate']:>7.0f}  {statuses}")
    if args.out:
        print(f"wrote {args.out}")
    errors = [r for r in table.rows if r["status"] == "error"]
    if errors:
        print(f"error: {len(errors)} of {len(table)} points ended in error (first: {errors[0]['message']})"
              f"; {'rerun with the same --store to retry them' if args.store else 'rerun to retry them'}",
              file=sys.stderr)
        return 1
    return 0


def _dense(args, protocol) -> int:
    """``--dense N``: an N × N phase diagram of one scenario (statuses, I_m and SAP success)."""
    import time

    import lingauss as lg

    from ..dense import phase_diagram
    from ..plots import plot_phase_diagram

    if args.dense < 2:
        raise UserError("--dense must be at least 2")
    if len(args.size) != 1 or len(args.scenario) != 1 or len(args.seeds) != 1:
        raise UserError("--dense takes one --size, one --scenario and one --seeds value")
    families = decoder_noise_list(args)
    if len(families) != 1:
        raise UserError("--dense takes one --decoder-noise family")
    protocol = protocol.but(label=protocol.label, decoder_noise=families[0])
    sc = lg.talk_scenario(args.size[0], args.scenario[0], **protocol.scenario_params)
    gammas = np.linspace(min(args.gammas), max(args.gammas), args.dense)
    lams = np.linspace(min(args.lams), max(args.lams), args.dense)
    out = Path(args.out or f"phase_{args.size[0][0]}{args.size[0][1]}{args.size[0][2]}_{args.scenario[0]}"
                           f"_{families[0]}_{args.dense}")
    t0 = time.perf_counter()
    d = phase_diagram(sc, gammas, lams, protocol=protocol, seed=args.seeds[0], progress=not args.quiet)
    wall = time.perf_counter() - t0
    try:
        d.save(out.with_suffix(".npz"))
        figs = plot_phase_diagram(d, out.with_suffix(""), formats=args.formats)
    except OSError as exc:
        raise UserError(f"cannot write: {exc.strerror or exc}") from None
    its = int(d.n_iter.sum())
    print(f"{sc.name}, {families[0]}: {d.n_points} points, {its} BA iterations in {d.solve_seconds:.1f} s "
          f"({1e6 * d.solve_seconds / max(its, 1):.3f} µs per point-iteration), scoring {d.score_seconds:.1f} s, "
          f"total {wall:.1f} s")
    print("statuses: " + ", ".join(f"{k} {v}" for k, v in d.status_counts().items()))
    print(f"eligible {int(d.eligible.sum())}, I_m success {int(d.im_success.sum())}, "
          f"SAP success {int(d.sap_success.sum())}")
    print(f"wrote {out.with_suffix('.npz')}, " + ", ".join(str(f) for f in figs))
    return 0


def add_parser(sub) -> None:
    w = sub.add_parser("sweep", help="a (gamma, lambda) sweep: tidy table, resumable, parallel",
                       description="Sweep (gamma, lambda) for the scenarios of Vu et al. (2024); prints success "
                                   "rates and writes one row per point (CSV, or JSON lines when "
                                   "--out ends in .jsonl). With --store the run is resumable.")
    w.add_argument("--gammas", type=axis, default=axis("0.98:1.02:5"),
                   help="start:stop:count or a comma list (default 0.98:1.02:5)")
    w.add_argument("--lams", type=axis, default=axis("-0.02:0.02:5"),
                   help="start:stop:count or a comma list (default -0.02:0.02:5)")
    w.add_argument("--scenario", type=int, nargs="+", choices=[1, 2, 3], default=[1, 2, 3],
                   help="scenario numbers (default all three)")
    add_decoder_noise(w, with_all=True, default="full", help="decoder-noise family (default %(default)s)")
    add_protocol_options(w)
    w.add_argument("--store", help="JSON-lines store: finished points are appended and a rerun "
                                   "resumes, retrying points that ended in error; several runs may "
                                   "share it; a file that is not a store is refused")
    add_out(w, help="write the table here (.csv, or .jsonl for every field); with --dense, the "
                    "stem of the .npz arrays and the figure")
    w.add_argument("--dense", type=int, default=None, metavar="N",
                   help="an N x N phase diagram of one scenario over the --gammas/--lams range "
                        "(statuses, I_m and SAP success; e.g. 1001 for 10^6 points): arrays + figure")
    w.add_argument("--formats", type=figure_formats, default=("png",), metavar="LIST",
                   help="figure formats with --dense (default png)")
    w.set_defaults(func=cmd_sweep)
