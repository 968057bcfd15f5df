"""The ``lingauss`` command line.

``lingauss reproduce``  the talk's success-rate tables, ours next to the published ones, with the
                    protocol, null baselines, a sensitivity table and figures (the README's main job).
``lingauss sweep``  a (γ, λ) sweep of chosen scenarios: a tidy CSV/JSON-lines table, resumable.
``lingauss metric`` I_m and SAP of a joint covariance (.npy) or of latent/factor samples.
``lingauss compare`` I_m and SAP next to the standard metric suite (rank correlations, a plot).
``lingauss train vae`` train a β-VAE-family model on dSprites-like data; checkpoints, log, report.
``lingauss solve``  run Blahut–Arimoto on the talk's six scenarios and print status, loss terms,
                    reconstruction error and the well-posedness verdict.
``lingauss bench core``  batched grid BA vs a per-point loop (a printed table).
``lingauss bench im``    naive vs exhaustive vs exact I_m (a printed table).
``lingauss bench koopman | flow``  SKD/SSM-SKD and the flow model vs their seeds' tables.

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


def _protocol_from(args):
    from .protocol import Protocol

    accept = tuple(args.accept.split(",")) if args.accept else Protocol.accept
    return Protocol(decoder_noise=args.decoder_noise, init=args.init, max_iter=args.max_iter,
                    tol=args.tol, accept=accept, tolerance=args.tolerance,
                    error_reading=args.error_reading, noise_var=args.noise_var,
                    root_std=args.root_std, coupling=args.coupling,
                    dependent_noise_std=args.dependent_noise_std)


def _executor(args):
    return None if args.executor == "none" else args.executor


def cmd_reproduce(args) -> int:
    from .reproduce import reproduce

    protocol = _protocol_from(args)
    out = Path(args.out)
    if out.exists() and not out.is_dir():
        raise UserError(f"--out {out} exists and is not a folder")
    try:
        rep = reproduce(protocol, seeds=args.seeds, sizes=args.size, sensitivity=args.sensitivity,
                        baselines=not args.no_baselines, executor=_executor(args),
                        n_workers=args.workers, out=out, figures=not args.no_figures,
                        progress=not args.quiet, show=args.show,
                        landscape_point=tuple(args.landscape_point))
    except OSError as exc:
        raise UserError(f"cannot write to {out}: {exc.strerror or exc}") from None
    print(rep.text)
    print(f"wrote {len(rep.files)} files to {out}/ (report.md, comparison.csv, sweep.csv"
          f"{', figures/' if not args.no_figures else ''})")
    return 0


def _size_pair(text: str) -> tuple[int, int]:
    try:
        s, m = (int(x) for x in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected S,M (two integers), got {text!r}") from None
    if not (1 <= m and 1 <= s <= 20):
        raise argparse.ArgumentTypeError(f"need 1 <= s <= 20 and m >= 1, got {text!r}")
    return s, m


def _axis_arg(text: str) -> np.ndarray:
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


def cmd_sweep(args) -> int:
    import lingauss as lg

    from .sweeps import sweep

    protocol = _protocol_from(args)
    scenarios = [lg.talk_scenario(size, k, **protocol.scenario_params)
                 for size in args.size for k in args.scenario]
    families = ["full", "diagonal", "isotropic"] if args.decoder_noise == "all" else [args.decoder_noise]
    try:
        table = sweep(scenarios, np.round(args.gammas, 12), np.round(args.lams, 12),
                      decoder_noise=families, seeds=args.seeds, protocol=protocol,
                      executor=_executor(args), n_workers=args.workers, store=args.store,
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
    return 0


def _load_npy(path: str, what: str) -> np.ndarray:
    p = Path(path)
    if not p.is_file():
        raise UserError(f"{what} file not found: {path}")
    try:
        return np.load(p, allow_pickle=False)
    except (ValueError, OSError) as exc:
        raise UserError(f"cannot read {what} {path} as a .npy array: {exc}") from None


def _truth_arg(text: str):
    try:
        return [tuple(int(j) - 1 for j in block.split(",")) for block in text.split("|")]
    except ValueError:
        raise UserError(f"--truth must be 1-based factor numbers like '1,2|3', got {text!r}") from None


def cmd_metric(args) -> int:
    import lingauss as lg

    truth = _truth_arg(args.truth) if args.truth else None
    if args.samples:
        latents, factors = (_load_npy(f, w) for f, w in zip(args.samples, ("latents", "factors")))
        shrink = None if args.shrinkage == "none" else (
            "ledoit_wolf" if args.shrinkage == "ledoit_wolf" else float(args.shrinkage))
        cov = lg.joint_covariance_from_samples(latents, factors, shrinkage=shrink)
        m = latents.shape[1] if latents.ndim == 2 else 1
        source = f"samples: {latents.shape[0]} rows, {m} latents, {cov.shape[0] - m} factors"
    else:
        if args.cov is None or args.latents is None:
            raise UserError("give a covariance file with --latents M, or --samples LATENTS FACTORS")
        cov, m = _load_npy(args.cov, "covariance"), args.latents
        source = f"joint covariance {args.cov} ({cov.shape[0] if cov.ndim else 0} variables, latents first)"
    im = lg.im_score(cov, m, method=args.method)
    sap = lg.sap_score(cov, m)
    from .evaluate import grouping_text

    print(source)
    print(f"I_m  = {im.score:.6g} nats   best grouping {grouping_text(im.grouping)}   "
          f"assignment (factor -> latent, 0-based) {list(im.assignment)}   ties {im.ties}"
          f"{'  AMBIGUOUS' if im.ambiguous else ''}   method {im.method}")
    print(f"SAP  = {sap.score:.6g}   grouping by top latent {grouping_text(sap.grouping)}   "
          f"top latent per factor {list(sap.top_latent)}")
    if truth is not None:
        print(f"success against {grouping_text(lg.canonical_grouping(truth))}: "
              f"I_m {lg.im_success(im, truth).outcome}, SAP {lg.sap_success(sap, truth).outcome}")
    return 0


def _add_protocol_options(p) -> None:
    from .protocol import ERROR_READINGS, Protocol

    d = Protocol()
    g = p.add_argument_group("protocol (every choice the talk leaves open)")
    g.add_argument("--init", choices=["random", "pca"], default=d.init,
                   help="initial decoder: random (seeded) or pca (default %(default)s)")
    g.add_argument("--max-iter", type=int, default=d.max_iter, help="BA iteration cap (default %(default)s)")
    g.add_argument("--tol", type=float, default=d.tol,
                   help="stop when |dL| <= tol*max(1,|L|) (default %(default)g)")
    g.add_argument("--accept", default=",".join(d.accept),
                   help="comma list of BA statuses whose solution counts (default %(default)s)")
    g.add_argument("--tolerance", type=float, default=d.tolerance,
                   help="reconstruction tolerance, relative (default %(default)g = 5%%)")
    g.add_argument("--error-reading", choices=ERROR_READINGS, default=d.error_reading,
                   help="sampled: E||Y-AX||^2/tr Sigma_Y; mean: E||Y-ABY||^2/tr Sigma_Y; none: no "
                        "tolerance (default %(default)s)")
    g.add_argument("--noise-var", type=float, default=d.noise_var,
                   help="observation noise variance sigma^2 (default %(default)g)")
    g.add_argument("--root-std", type=float, default=d.root_std, help="sigma_v of root factors (default %(default)g)")
    g.add_argument("--coupling", type=float, default=d.coupling, help="alpha = beta (default %(default)g)")
    g.add_argument("--dependent-noise-std", type=float, default=d.dependent_noise_std,
                   help="sigma_z of dependent factors (default %(default)g)")
    p.add_argument("--seeds", type=int, nargs="+", default=[0], help="seeds of the random initial decoder (default 0)")
    p.add_argument("--size", type=_sizes, default=_sizes("all"), help="343, 554 or all (default all)")
    p.add_argument("--executor", choices=["none", "processes", "dask"], default="processes",
                   help="where the BA tasks run: this process, a local process pool, or dask "
                        "(the current client or a new local cluster) (default %(default)s)")
    p.add_argument("--workers", type=int, default=None, help="processes/dask workers (default: all cores)")
    p.add_argument("--quiet", action="store_true", help="no progress bars")


def cmd_compare(args) -> int:
    from .compare import compare

    for name in ("samples", "random"):
        if getattr(args, name) < (10 if name == "samples" else 0):
            raise UserError(f"--{name} must be {'>= 10' if name == 'samples' else '>= 0'}")
    extra = []
    if args.neural_steps:
        try:
            from .compare import neural_rows
            extra = neural_rows(steps=args.neural_steps, seeds=tuple(range(args.neural_seeds)),
                                progress=not args.quiet)
        except ImportError as exc:
            raise UserError(f"--neural-steps needs the neural extra: {exc}") from None
    result = compare(n_samples=args.samples, n_random=args.random, dci=not args.no_dci, rng=args.seed,
                     progress=not args.quiet, extra_rows=extra)
    print("Rank agreement of I_m and SAP with the standard metrics over linear Gaussian encoders "
          "(BA solutions, baselines, random encoders)" + (" and trained beta-VAEs" if extra else "")
          + "; see analysis/compare.py for each column.\n")
    print(result.markdown())
    try:
        files = result.write(args.out)
    except OSError as exc:
        raise UserError(f"cannot write to {args.out}: {exc.strerror or exc}") from None
    print(f"wrote {len(files)} files to {args.out}/ (metrics.csv, rank_correlations.md/.png/.pdf)")
    return 0


def cmd_train(args) -> int:
    try:
        from neural.experiment import train_vae
    except ImportError as exc:
        raise UserError(f"training needs the neural extra (pip install -e \".[neural]\"): {exc}") from None
    report = train_vae(model=args.model, weight=args.weight if args.weight is not None else args.beta,
                       dataset=args.dataset, data_file=args.data_file, n_images=args.n_images,
                       latent_dim=args.latent_dim, steps=args.steps, batch_size=args.batch_size,
                       lr=args.lr, seed=args.seed, out=args.out, eval_samples=args.eval_samples,
                       resume=args.resume, progress=not args.quiet)
    print((Path(args.out) / "report.md").read_text())
    print(f"wrote {args.out}/ (checkpoints/, log.jsonl, report.json, report.md); "
          f"training {report['training']['status']}")
    return 0 if report["training"]["status"] == "completed" else 1


def _neural_bench(which: str):
    """Import a neural benchmark module, or a one-line error when torch is missing."""
    import importlib

    try:
        return importlib.import_module(f"analysis.bench_{which}")
    except ImportError as exc:
        raise UserError(f"bench {which} needs the neural extra (torch): {exc}") from None


def _positive_steps(args) -> None:
    if args.steps is not None and args.steps < 1:
        raise UserError("--steps must be a positive integer")


def cmd_bench_core(args) -> int:
    from .bench import bench_core, format_core

    if args.iterations < 1 or args.grid < 1:
        raise UserError("--grid and --iterations must be positive")
    loop_points = None if args.full_loop else args.loop_points
    b = bench_core(grid=args.grid, iterations=args.iterations, loop_points=loop_points,
                   progress=not args.quiet)
    print(f"core benchmark: (s,n,m)=(5,5,4) scenario 2, {args.grid}x{args.grid} (gamma, lambda) grid, "
          f"full Sigma_Z, fixed {args.iterations} iterations per point (tol=0), one core")
    print(format_core(b))
    return 0


def cmd_bench_im(args) -> int:
    from .bench import bench_im, format_im

    if args.naive_budget <= 0:
        raise UserError("--naive-budget must be positive")
    print("I_m benchmark: one core; naive = Python loop over m^s assignments calling gaussian_mi")
    kw = {"sizes": args.sizes} if args.sizes else {}
    print(format_im(bench_im(naive_budget_s=args.naive_budget, progress=not args.quiet, **kw)))
    return 0


def cmd_bench_koopman(args) -> int:
    _positive_steps(args)
    if args.device not in (None, "cpu", "auto") and not args.device.startswith("cuda"):
        raise UserError(f"--device must be cpu, cuda, cuda:N or auto, got {args.device!r}")
    mod = _neural_bench("koopman")
    import torch

    device = args.device
    if device == "auto":
        device = "cuda" if torch.cuda.is_available() else "cpu"
    if device and device.startswith("cuda") and not torch.cuda.is_available():
        raise UserError(f"--device {device}: no CUDA device is available")
    out = None
    if args.out is not None:
        out = Path(args.out)
        try:
            out.mkdir(parents=True, exist_ok=True)
            probe = out / ".write-test"
            probe.write_text("")
            probe.unlink()
        except OSError as exc:
            raise UserError(f"--out {args.out}: cannot write there ({exc.strerror or exc})") from None
    datasets = None if args.dataset is None else (mod.DATASETS if args.dataset == "all" else (args.dataset,))
    log = None if args.quiet else (lambda line: print(line, file=sys.stderr, flush=True))
    res = mod.run_koopman_benchmark(config=args.config, datasets=datasets, models=tuple(args.models),
                                    seeds=args.seeds, steps=args.steps, device=device,
                                    progress=not args.quiet, log=log)
    print(mod.format_koopman_benchmark(res))
    if out is not None:
        _write_json_atomic(out / "results.json", res.as_json())
        print(f"results written to {out / 'results.json'}")
    return 0


def cmd_bench_flow(args) -> int:
    _positive_steps(args)
    mod = _neural_bench("flow")
    kw = {"train_steps": args.steps} if args.steps else {}
    if args.seeds:
        kw["seed"] = args.seeds[0]
    print(mod.format_flow_benchmark(mod.run_flow_benchmark(progress=not args.quiet,
                                                           supervision=("supervised", "weak"), **kw)))
    return 0


def _add_bench_parsers(sub) -> None:
    """``lingauss bench NAME``: one sub-command per benchmark, each with its own options."""
    b = sub.add_parser("bench", help="timed and scored comparisons, ours vs a baseline (prints a table)",
                       description="Benchmarks, each printing ours next to the alternative on the "
                                   "same inputs in the same run. 'lingauss bench NAME --help' lists "
                                   "a benchmark's options.")
    bsub = b.add_subparsers(dest="which", metavar="NAME", required=True)

    c = bsub.add_parser("core", help="batched grid Blahut-Arimoto vs a per-point loop",
                        description="Batched grid Blahut-Arimoto vs a loop of per-point calls on a "
                                    "(gamma, lambda) grid (scenario 2, (s,n,m) = (5,5,4), full Sigma_Z).")
    c.add_argument("--grid", type=int, default=101, help="grid points per axis (default %(default)s)")
    c.add_argument("--iterations", type=int, default=100, help="iterations per point (default %(default)s)")
    c.add_argument("--loop-points", type=int, default=1000,
                   help="grid points the per-point loop times; its full time is extrapolated (default %(default)s)")
    c.add_argument("--full-loop", action="store_true", help="time the loop on every grid point")
    c.add_argument("--quiet", action="store_true", help="no progress bars")
    c.set_defaults(func=cmd_bench_core)

    i = bsub.add_parser("im", help="naive vs exhaustive vs exact I_m",
                        description="I_m: a naive Python loop vs the exhaustive Numba kernel vs the "
                                    "exact partition search, on the same covariances.")
    i.add_argument("--naive-budget", type=float, default=60.0,
                   help="seconds the naive loop may run before it is extrapolated (default %(default)s)")
    i.add_argument("--sizes", type=_size_pair, nargs="+", default=None, metavar="S,M",
                   help="(s, m) pairs to time (default 3,3 5,4 8,4 10,6 12,8 14,8)")
    i.add_argument("--quiet", action="store_true", help="no progress bars")
    i.set_defaults(func=cmd_bench_im)

    k = bsub.add_parser("koopman", help="SKD and SSM-SKD: D_sd / D_mf with floors and ceilings (minutes)",
                        description="Train SKD and SSM-SKD (reduced CPU configuration by default) and "
                                    "print D_sd / D_mf next to their trivial floors, the ground-truth "
                                    "ceiling and the published table, with a verdict on the targets.")
    k.add_argument("--config", choices=("reduced", "full"), default="reduced",
                   help="reduced: CPU size (default); full: the paper's size, for a GPU")
    k.add_argument("--dataset", choices=("sprites-like", "moving-dsprites", "all"), default=None,
                   help="data set (default: the configuration's)")
    k.add_argument("--models", nargs="+", choices=("SKD", "SSM-SKD"), default=["SKD", "SSM-SKD"],
                   help="models to train (default both)")
    k.add_argument("--steps", type=int, default=None, help="training steps (default: the configuration's)")
    k.add_argument("--seeds", type=int, nargs="+", default=None, help="model seeds (default: the configuration's)")
    k.add_argument("--device", default=None, help="cpu (default), cuda, cuda:N or auto")
    k.add_argument("--out", default=None, metavar="DIR", help="write DIR/results.json")
    k.add_argument("--quiet", action="store_true", help="no progress bars")
    k.set_defaults(func=cmd_bench_koopman)

    f = bsub.add_parser("flow", help="flow model vs VAE baselines: equivariance error, likelihood (minutes)",
                        description="Train the VAE baselines and Flow Factorized Representation "
                                    "Learning (reduced CPU configuration by default) and print "
                                    "equivariance errors and log-likelihoods next to the published table.")
    f.add_argument("--steps", type=int, default=None, help="training steps (default: the configuration's)")
    f.add_argument("--seeds", type=int, nargs="+", default=None, help="the seed (first value)")
    f.add_argument("--quiet", action="store_true", help="no progress bars")
    f.set_defaults(func=cmd_bench_flow)


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="lingauss", description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="command", metavar="COMMAND")
    from .reproduce import DEFAULT_OUT, SENSITIVITY_LEVELS

    r = sub.add_parser("reproduce", help="the talk's success-rate tables, ours vs published (main job)",
                       description="Reproduce seed 002's success-rate tables: BA on the 25 (gamma, "
                                   "lambda) pairs for the six scenarios, the 5%% reconstruction "
                                   "tolerance, I_m and SAP success rates next to the published "
                                   "ones, null baselines, a sensitivity table over the protocol "
                                   "choices, and figures. Solved points are stored in "
                                   "OUT/sweep.jsonl, so a rerun reuses them.")
    r.add_argument("--out", default=DEFAULT_OUT, help="output folder (default ./%(default)s)")
    r.add_argument("--decoder-noise", choices=["full", "diagonal", "isotropic", "true"], default="full",
                   help="decoder-noise family of Sigma_Z, or 'true' (fixed at sigma^2 I, not learned) "
                        "(default %(default)s: the seed's update)")
    _add_protocol_options(r)
    r.add_argument("--sensitivity", choices=SENSITIVITY_LEVELS, default="quick",
                   help="sensitivity table: none, quick (re-readings + cheap re-runs) or full "
                        "(adds the other families, init and noise level) (default %(default)s)")
    r.add_argument("--no-baselines", action="store_true", help="skip the null baselines")
    r.add_argument("--no-figures", action="store_true", help="skip the figures")
    r.add_argument("--show", action="store_true", help="also show each figure interactively")
    r.add_argument("--landscape-point", type=float, nargs=2, default=[1.0, 0.0], metavar=("GAMMA", "LAMBDA"),
                   help="grid point (nearest) whose I_m landscape is plotted (default 1 0)")
    r.set_defaults(func=cmd_reproduce)

    w = sub.add_parser("sweep", help="a (gamma, lambda) sweep: tidy table, resumable, parallel",
                       description="Sweep (gamma, lambda) for the talk's scenarios; prints success "
                                   "rates and writes one row per point (CSV, or JSON lines when "
                                   "--out ends in .jsonl). With --store the run is resumable.")
    w.add_argument("--gammas", type=_axis_arg, default=_axis_arg("0.98:1.02:5"),
                   help="start:stop:count or a comma list (default 0.98:1.02:5)")
    w.add_argument("--lams", type=_axis_arg, default=_axis_arg("-0.02:0.02:5"),
                   help="start:stop:count or a comma list (default -0.02:0.02:5)")
    w.add_argument("--scenario", type=int, nargs="+", choices=[1, 2, 3], default=[1, 2, 3],
                   help="scenario numbers (default all three)")
    w.add_argument("--decoder-noise", choices=["full", "diagonal", "isotropic", "true", "all"], default="full",
                   help="decoder-noise family (default %(default)s)")
    _add_protocol_options(w)
    w.add_argument("--store", help="JSON-lines store: finished points are appended; a rerun resumes")
    w.add_argument("--out", help="write the table here (.csv, or .jsonl for every field)")
    w.set_defaults(func=cmd_sweep)

    mt = sub.add_parser("metric", help="I_m and SAP of a joint covariance or of samples",
                        description="Print I_m and SAP. Either COV.npy (the latents-first joint "
                                    "covariance of [latents; factors]) with --latents M, or "
                                    "--samples LATENTS.npy FACTORS.npy (N x m and N x s arrays).")
    mt.add_argument("cov", nargs="?", help="joint covariance .npy file, latents first")
    mt.add_argument("--latents", type=int, help="number of latents m (with a covariance file)")
    mt.add_argument("--samples", nargs=2, metavar=("LATENTS", "FACTORS"), help="sample arrays (.npy)")
    mt.add_argument("--shrinkage", default="none",
                    help="with --samples: none, ledoit_wolf or a number in (0, 1] (default none)")
    mt.add_argument("--method", choices=["auto", "exhaustive", "exact"], default="auto",
                    help="I_m search (default auto)")
    mt.add_argument("--truth", help="true grouping, 1-based, blocks separated by | (e.g. '1,2|3')")
    mt.set_defaults(func=cmd_metric)

    c = sub.add_parser("compare", help="I_m and SAP vs the standard metric suite: rank correlations",
                       description="Score a population of linear Gaussian encoders (BA solutions over "
                                   "the talk's grid, null baselines, random encoders) with I_m, SAP, "
                                   "MIG, DCI, modularity/explicitness and print/plot their Spearman "
                                   "rank correlations.")
    c.add_argument("--out", default="lingauss-compare", help="output folder (default ./%(default)s)")
    c.add_argument("--samples", type=int, default=1500, help="samples per encoder for the sample metrics (default %(default)s)")
    c.add_argument("--random", type=int, default=20, help="random encoders per scenario (default %(default)s)")
    c.add_argument("--no-dci", action="store_true", help="skip DCI (its tree ensembles are the slow part)")
    c.add_argument("--seed", type=int, default=0, help="seed (default 0)")
    c.add_argument("--neural-steps", type=int, default=0,
                   help="also train beta-VAEs (beta 1, 4, 16) on dSprites-like images for this many "
                        "steps and add them as a group (default 0: off; ~1500 is a useful CPU run)")
    c.add_argument("--neural-seeds", type=int, default=2, help="seeds per beta with --neural-steps (default 2)")
    c.add_argument("--quiet", action="store_true", help="no progress bar")
    c.set_defaults(func=cmd_compare)

    from neural.experiment import DATASETS, MODELS

    t = sub.add_parser("train", help="train a beta-VAE-family model and score it with I_m, SAP, MIG...",
                       description="Train one model of the beta-VAE family on dSprites-like images "
                                   "(generated here) or a real dSprites .npz / 3D Shapes .h5 file; "
                                   "writes checkpoints, a JSON-lines log and a metrics report "
                                   "(needs the neural extra).")
    t.add_argument("kind", choices=["vae"], help="what to train (vae: the beta-VAE family)")
    t.add_argument("--model", choices=MODELS, default="betavae", help="model (default %(default)s)")
    t.add_argument("--beta", type=float, default=4.0, help="beta of betavae/betatcvae (default %(default)g)")
    t.add_argument("--weight", type=float, default=None,
                   help="regularisation weight of any model (overrides --beta: gamma of factorvae, "
                        "lambda_od of dipvae)")
    t.add_argument("--dataset", choices=DATASETS, default="dsprites", help="generated data (default %(default)s)")
    t.add_argument("--data-file", help="a real dSprites .npz or 3D Shapes .h5 instead")
    t.add_argument("--n-images", type=int, default=20_000, help="images (default %(default)s)")
    t.add_argument("--latent-dim", type=int, default=10, help="latent size (default %(default)s)")
    t.add_argument("--steps", type=int, default=2000, help="training steps (default %(default)s)")
    t.add_argument("--batch-size", type=int, default=64, help="batch size (default %(default)s)")
    t.add_argument("--lr", type=float, default=1e-4, help="Adam learning rate (default %(default)g)")
    t.add_argument("--seed", type=int, default=0, help="seed (default 0)")
    t.add_argument("--eval-samples", type=int, default=5000, help="held-out images scored (default %(default)s)")
    t.add_argument("--out", default="lingauss-train", help="output folder (default ./%(default)s)")
    t.add_argument("--resume", action="store_true", help="continue from the newest checkpoint in --out")
    t.add_argument("--quiet", action="store_true", help="no progress bar")
    t.set_defaults(func=cmd_train)

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
    _add_bench_parsers(sub)
    return p


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 2
    try:
        return args.func(args)
    except (UserError, ValueError, ImportError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except BrokenPipeError:                 # output piped into `head`: stop quietly
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1


if __name__ == "__main__":
    sys.exit(main())
