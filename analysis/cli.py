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

Exit codes: 0 done; 1 done, but some points (sweep, reproduce) ended in error or a training did
not complete; 2 a usage mistake (bad numbers, unreadable files, unwritable paths: a one-line
``error:`` message, never a traceback); 3 an internal error (the traceback is printed and saved);
130 interrupted by Ctrl-C (no traceback).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import signal
import sys
import tempfile
import traceback
from pathlib import Path

import numpy as np

from lingauss.noise_families import NAMED_FAMILIES, decoder_noise_families, resolve_decoder_noise

__all__ = ["main", "build_parser"]

#: The decoder-noise choices as help text, read from their declarations.
_FAMILY_HELP = "; ".join(f"{name}: {decoder_noise_families()[name].description}" for name in NAMED_FAMILIES)


class UserError(Exception):
    """A mistake in the command line or its inputs: reported in one line, exit code 2."""


def _sizes(text: str):
    table = {"343": [(3, 4, 3)], "554": [(5, 5, 4)], "all": [(3, 4, 3), (5, 5, 4)]}
    if text not in table:
        raise argparse.ArgumentTypeError(f"--size must be 343, 554 or all, got {text!r}")
    return table[text]


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}")
    return value


def _seed(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = -1
    if value < 0:
        raise argparse.ArgumentTypeError(f"seeds must be non-negative integers, got {text!r}")
    return value


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
    families = list(NAMED_FAMILIES) if args.decoder_noise == "all" else [args.decoder_noise]
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
    from .reproduction import reproduce

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
    if rep.errors:
        print(f"error: {rep.error_summary()}: rerun the same command", file=sys.stderr)
        return 1
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
    families = list(NAMED_FAMILIES) if args.decoder_noise == "all" else [args.decoder_noise]
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
    errors = [r for r in table.rows if r["status"] == "error"]
    if errors:
        print(f"error: {len(errors)} of {len(table)} points ended in error (first: {errors[0]['message']})"
              f"; {'rerun with the same --store to retry them' if args.store else 'rerun to retry them'}",
              file=sys.stderr)
        return 1
    return 0


def _load_array(path: str, what: str) -> np.ndarray:
    """A numeric array from ``path``: ``.npy``, ``.npz`` holding one array, or a ``.csv`` / ``.txt``
    numeric table (comma or whitespace separated, an optional header line). Anything else, an
    empty or unreadable file, or a non-numeric array is a one-line :class:`UserError`."""
    p = Path(path)
    if not p.is_file():
        raise UserError(f"{what} file not found: {path}")
    if p.stat().st_size == 0:
        raise UserError(f"{what} file {path} is empty; expected a numeric array (.npy, .npz, .csv or .txt)")
    suffix = p.suffix.lower()
    if suffix in (".csv", ".txt", ".tsv", ".dat"):
        arr = _load_table(p, what, delimiter="," if suffix == ".csv" else None)
    else:
        try:
            arr = np.load(p, allow_pickle=False)
        except ValueError as exc:
            kind = ("holds Python objects (a pickle), which are not loaded for safety"
                    if "allow_pickle" in str(exc) else f"is not a valid .npy/.npz file ({exc})")
            raise UserError(f"cannot read {what} {path}: it {kind}; expected a numeric array") from None
        except (OSError, EOFError) as exc:
            raise UserError(f"cannot read {what} {path} as a .npy/.npz array "
                            f"({type(exc).__name__}: {exc or 'truncated file'})") from None
        if isinstance(arr, np.lib.npyio.NpzFile):
            with arr:
                names = list(arr.files)
                if len(names) != 1:
                    raise UserError(f"{what} file {path} is an .npz archive with {len(names)} arrays "
                                    f"{names}; expected exactly one (save it with np.save or keep one)")
                try:
                    arr = arr[names[0]]
                except ValueError:
                    raise UserError(f"cannot read {what} {path}: its array {names[0]!r} holds Python "
                                    "objects (a pickle); expected a numeric array") from None
    if arr.dtype.kind not in "biuf":
        raise UserError(f"{what} file {path} holds a {arr.dtype} array; expected real numbers")
    if arr.size == 0:
        raise UserError(f"{what} file {path} holds an empty array (shape {arr.shape})")
    return arr


def _load_table(p: Path, what: str, delimiter) -> np.ndarray:
    """A numeric text table; the first line is skipped when it is a header (not numeric)."""
    import warnings

    first = None
    for skip in (0, 1):
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", UserWarning)      # "input contained no data"
                arr = np.loadtxt(p, delimiter=delimiter, skiprows=skip, ndmin=1)
        except ValueError as exc:
            first = first or exc
            continue
        if arr.size == 0:
            break
        return arr
    else:
        raise UserError(f"cannot read {what} {p} as a numeric table ({first})") from None
    raise UserError(f"{what} file {p} holds no numbers")


def _check_sample_shapes(latents: np.ndarray, factors: np.ndarray) -> None:
    """Refuse sample arrays with fewer rows than columns (transposed?) before any N x N covariance."""
    for arr, name in ((latents, "latents"), (factors, "factors")):
        if arr.ndim == 2 and arr.shape[0] < arr.shape[1]:
            raise UserError(f"{name} has {arr.shape[0]} rows and {arr.shape[1]} columns; expected one "
                            f"sample per row (N x {name[0]}) with more samples than columns "
                            f"- transposed? use {name}.T")


def _truth_arg(text: str):
    try:
        truth = [tuple(int(j) - 1 for j in block.split(",")) for block in text.split("|")]
    except ValueError:
        truth = None
    if truth is None or any(j < 0 for g in truth for j in g):
        raise UserError(f"--truth must be 1-based factor numbers like '1,2|3', got {text!r}")
    return truth


def _shrinkage_arg(text: str):
    """``--shrinkage``: none, ledoit_wolf or a number (the library checks its range)."""
    if text in ("none", "ledoit_wolf"):
        return None if text == "none" else text
    try:
        return float(text)
    except ValueError:
        raise UserError(f"--shrinkage must be none, ledoit_wolf or a number in (0, 1], got {text!r}") from None


def _check_truth(truth, n_factors: int) -> None:
    """``--truth`` must name every factor 1..s exactly once (checked before any work)."""
    flat = sorted(j + 1 for g in truth for j in g)
    if flat != list(range(1, n_factors + 1)):
        raise UserError(f"--truth must use each factor 1..{n_factors} exactly once, "
                        f"got {'|'.join(','.join(str(j + 1) for j in g) for g in truth)}")


def cmd_metric(args) -> int:
    import lingauss as lg
    from lingauss.metrics.metric_registry import (evaluate_metrics, extras_text, metric_names, registry,
                                                  result_record)

    truth = _truth_arg(args.truth) if args.truth else None
    if args.time_limit is not None and not args.time_limit > 0:
        raise UserError(f"--time-limit must be a positive number of seconds, got {args.time_limit}")
    options = {"im": {"method": args.method, "time_limit": args.time_limit, "progress": True}}
    if args.samples:
        latents, factors = (_load_array(f, w) for f, w in zip(args.samples, ("latents", "factors")))
        _check_sample_shapes(latents, factors)
        shrink = _shrinkage_arg(args.shrinkage)
        wanted = metric_names("covariance", "samples")
        m = latents.shape[1] if latents.ndim == 2 else 1
        source = {"input": "samples", "rows": int(latents.shape[0]) if latents.ndim else 0,
                  "latents": m, "factors": int(factors.shape[1]) if factors.ndim == 2 else 1,
                  "shrinkage": args.shrinkage}
        kwargs = {"latents": latents, "factors": factors, "shrinkage": shrink, "rng": args.seed}
    else:
        if args.cov is None or args.latents is None:
            raise UserError("give a covariance file with --latents M, or --samples LATENTS FACTORS")
        cov, m = _load_array(args.cov, "covariance"), args.latents
        wanted = metric_names("covariance")
        source = {"input": "covariance", "file": args.cov,
                  "variables": int(cov.shape[0]) if cov.ndim else 0, "latents": m}
        kwargs = {"joint_cov": cov, "n_latents": m}
    if truth is not None:
        n_factors = (int(factors.shape[1]) if factors.ndim == 2 else 1) if args.samples else \
            (cov.shape[0] - m if cov.ndim == 2 else 0)
        _check_truth(truth, n_factors)
    names = tuple(n for n in wanted if registry()[n].available)
    skipped = [n for n in wanted if n not in names]
    with _hard_interrupt():                          # the I_m kernel does not see Ctrl-C
        results = evaluate_metrics(names=names, options=options, **kwargs)
    success = {}
    if truth is not None:
        success = {"im": lg.im_success(results["im"], truth).outcome,
                   "sap": lg.sap_success(results["sap"], truth).outcome}
    if args.json:
        print(json.dumps({"source": source, "metrics": {n: result_record(n, r) for n, r in results.items()},
                          "success": success, "skipped": skipped}, indent=2))
        return 0
    from .evaluate import grouping_text

    print(", ".join(f"{k} {v}" for k, v in source.items())
          + "; factors and latents are numbered from 1, as in --truth")
    print(f"{'metric':<22}{'score':>12}  {'units':<24}details")
    for name, res in results.items():
        spec = registry()[name]
        details = extras_text(name, res, number_format=".6g")
        if name == "im":
            details.append(f"latent per factor {[int(j) + 1 for j in res.assignment]}, ties {res.ties}"
                           f"{', AMBIGUOUS' if res.ambiguous else ''}, method {res.method}")
            if not res.exact:
                details.append(f"NOT EXACT (time limit): the maximum is at most {res.bound:.6g}")
        if name == "sap":
            details.append(f"top latent per factor {[int(j) + 1 for j in res.top_latent]}")
        print(f"{spec.label:<22}{res.score:>12.6g}  {spec.units:<24}{'; '.join(details)}")
    if skipped:
        print(f"not computed (needs scikit-learn, the 'metrics' extra): {', '.join(skipped)}")
    if truth is not None:
        print(f"success against {grouping_text(lg.canonical_grouping(truth))}: "
              f"I_m {success['im']}, SAP {success['sap']}")
    return 0


def _add_protocol_options(p) -> None:
    from .protocol import ERROR_READINGS, Protocol

    d = Protocol()
    g = p.add_argument_group("protocol (every choice Vu et al. (2024) leave open)")
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
    p.add_argument("--seeds", type=_seed, nargs="+", default=[0],
                   help="seeds of the random initial decoder, non-negative (default 0)")
    p.add_argument("--size", type=_sizes, default=_sizes("all"), help="343, 554 or all (default all)")
    p.add_argument("--executor", choices=["none", "processes", "dask"], default="processes",
                   help="where the BA tasks run: this process, a local process pool, or dask "
                        "(the current client or a new local cluster) (default %(default)s)")
    p.add_argument("--workers", type=_positive_int, default=None,
                   help="processes/dask workers (default: all cores)")
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
    import numba

    from .bench import IM_SCALE_SIZES, bench_im, bench_im_scale, format_im, format_im_scale

    if args.naive_budget <= 0:
        raise UserError("--naive-budget must be positive")
    if args.seeds < 1:
        raise UserError("--seeds must be at least 1")
    top = numba.config.NUMBA_NUM_THREADS
    if any(not 1 <= j <= top for j in args.jobs):
        raise UserError(f"--jobs must be between 1 and {top} (NUMBA_NUM_THREADS)")
    if not args.scale_only:
        print("I_m benchmark: one core; naive = Python loop over m^s assignments calling gaussian_mi")
        kw = {"sizes": args.sizes} if args.sizes else {}
        with _hard_interrupt():                      # the I_m kernels do not see Ctrl-C
            result = bench_im(naive_budget_s=args.naive_budget, progress=not args.quiet, **kw)
        print(format_im(result))
    if not args.no_scale:
        sizes = args.scale_sizes or IM_SCALE_SIZES
        print(f"\nExact I_m at scale: {args.seeds} inputs per (size, input), threads {list(args.jobs)}")
        print(format_im_scale(bench_im_scale(sizes=sizes, seeds=args.seeds, jobs=tuple(args.jobs),
                                             progress=not args.quiet)))
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
                                    progress=not args.quiet, log=log, figures_dir=out)
    print(mod.format_koopman_benchmark(res))
    if out is not None:
        _write_json_atomic(out / "results.json", res.as_json())
        print(f"results written to {out / 'results.json'}")
    return 0


def cmd_bench_flow(args) -> int:
    _positive_steps(args)
    mod = _neural_bench("flow")
    if args.seeds is not None and any(s < 0 for s in args.seeds):
        raise UserError("--seeds must be non-negative integers")
    import torch

    try:
        device = torch.device(args.device)
    except RuntimeError:
        raise UserError(f"--device: not a torch device: {args.device!r}") from None
    if device.type == "cuda" and not torch.cuda.is_available():
        raise UserError(f"--device {args.device}: CUDA is not available on this machine")
    if args.jobs < 1:
        raise UserError("--jobs must be a positive integer")
    res = mod.run_flow_benchmark(args.config, seeds=args.seeds, train_steps=args.steps,
                                 device=args.device, progress=not args.quiet, jobs=args.jobs,
                                 weak_index=args.weak_index)
    print(mod.format_flow_benchmark(res))
    if args.out:
        print(f"results: {mod.write_results(res, args.out)}")
    return 0


def _add_bench_parsers(sub) -> None:
    """``lingauss bench NAME``: one sub-command per benchmark, each with its own options."""
    from .bench import IM_SIZES

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
    c.add_argument("--loop-points", type=_positive_int, default=1000,
                   help="grid points the per-point loop times; its full time is extrapolated (default %(default)s)")
    c.add_argument("--full-loop", action="store_true", help="time the loop on every grid point")
    c.add_argument("--quiet", action="store_true", help="no progress bars")
    c.set_defaults(func=cmd_bench_core)

    i = bsub.add_parser("im", help="naive vs exhaustive vs exact I_m; exact at scale",
                        description="I_m: a naive Python loop vs the exhaustive Numba kernel vs the "
                                    "exact partition search, on the same covariances; then the exact "
                                    "search alone at s = 16..20, worst case over dense and structured "
                                    "inputs, nodes vs set partitions, speed-up on several threads.")
    i.add_argument("--naive-budget", type=float, default=60.0,
                   help="seconds the naive loop may run before it is extrapolated (default %(default)s)")
    i.add_argument("--sizes", type=_size_pair, nargs="+", default=None, metavar="S,M",
                   help="(s, m) pairs to time (default "
                        + " ".join(f"{a},{b}" for a, b in IM_SIZES) + ")")
    i.add_argument("--scale-sizes", type=_size_pair, nargs="+", default=None, metavar="S,M",
                   help="(s, m) pairs of the exact-at-scale table (default 16,8 18,8 20,10)")
    i.add_argument("--seeds", type=int, default=10,
                   help="dense and structured inputs per size in the scale table (default %(default)s)")
    i.add_argument("--jobs", type=int, nargs="+", default=[1], metavar="N",
                   help="thread counts of the scale table; with 1 and more, the speed-up is printed "
                        "(default 1)")
    only = i.add_mutually_exclusive_group()
    only.add_argument("--scale-only", action="store_true", help="only the exact-at-scale table")
    only.add_argument("--no-scale", action="store_true", help="skip the exact-at-scale table")
    i.add_argument("--quiet", action="store_true", help="no progress bars")
    i.set_defaults(func=cmd_bench_im)

    k = bsub.add_parser("koopman", help="SKD and SSM-SKD: D_sd / D_mf with floors and ceilings (minutes)",
                        description="Train SKD and SSM-SKD (the CPU configuration by default) and "
                                    "print D_sd / D_mf next to their trivial floors, the ground-truth "
                                    "ceiling and the published table, with a verdict on the targets.")
    k.add_argument("--config", choices=("cpu", "full"), default="cpu",
                   help="cpu: 16×16 frames, minutes per model on one thread (default); full: the paper's size, for a GPU")
    k.add_argument("--dataset", choices=("sprites-like", "moving-dsprites", "all"), default=None,
                   help="data set (default: the configuration's)")
    k.add_argument("--models", nargs="+", choices=("SKD", "SSM-SKD"), default=["SKD", "SSM-SKD"],
                   help="models to train (default both)")
    k.add_argument("--steps", type=int, default=None, help="training steps (default: the configuration's)")
    k.add_argument("--seeds", type=int, nargs="+", default=None, help="model seeds (default: the configuration's)")
    k.add_argument("--device", default=None, help="cpu (default), cuda, cuda:N or auto")
    k.add_argument("--out", default=None, metavar="DIR",
                   help="write DIR/results.json, and each row's learning curve and swap grid (PNG)")
    k.add_argument("--quiet", action="store_true", help="no progress bars")
    k.set_defaults(func=cmd_bench_koopman)

    f = bsub.add_parser("flow", help="flow model vs VAE baselines: equivariance error, likelihood (minutes)",
                        description="Train the VAE baselines and Flow Factorized Representation "
                                    "Learning (reduced CPU configuration by default) and print "
                                    "equivariance errors and log-likelihoods next to the published table.")
    f.add_argument("--config", choices=("reduced", "full"), default="reduced",
                   help="reduced: CPU, minutes per model; full: the paper's scale, for a GPU (default %(default)s)")
    f.add_argument("--steps", type=int, default=None,
                   help="training steps per model (default: the configuration's)")
    f.add_argument("--seeds", type=int, nargs="+", default=None, help="seeds (default: the configuration's, 0 1 2)")
    f.add_argument("--device", default="cpu", help="torch device, e.g. cpu or cuda (default %(default)s)")
    f.add_argument("--out", default=None, metavar="DIR", help="also write DIR/results.json")
    f.add_argument("--weak-index", choices=("labels", "prior"), default="labels",
                   help="what q(k|x) of FFRL-weak is trained against: the true index (the paper's code "
                        "listing, the paper's row) or the uniform prior (its ELBO, no labels) (default %(default)s)")
    f.add_argument("--jobs", type=int, default=1,
                   help="run the seeds in this many processes, one torch thread each (default %(default)s)")
    f.add_argument("--quiet", action="store_true", help="no progress output")
    f.set_defaults(func=cmd_bench_flow)


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="lingauss", formatter_class=argparse.RawDescriptionHelpFormatter,
        description="The linear Gaussian beta-VAE toolkit: Vu et al.'s (2024) tables, sweeps, metrics, "
                    "training and benchmarks. 'lingauss COMMAND --help' lists a command's options.",
        epilog="exit codes: 0 done; 1 done, but some points or a training failed; 2 a usage "
               "mistake (one line);\n3 an internal error (traceback printed and saved); 130 "
               "interrupted (Ctrl-C)")
    sub = p.add_subparsers(dest="command", metavar="COMMAND")
    from .reproduction import DEFAULT_OUT, SENSITIVITY_LEVELS

    r = sub.add_parser("reproduce", help="the success-rate tables of Vu et al. (2024), ours vs published (main job)",
                       description="Reproduce the success-rate tables of Vu, Wei & Wan (2024), 'Investigating Disentanglement in beta-VAE within a Linear Gaussian Setting': BA on the 25 (gamma, "
                                   "lambda) pairs for the six scenarios, the 5 % reconstruction "
                                   "tolerance, I_m and SAP success rates next to the published "
                                   "ones, null baselines, a sensitivity table over the protocol "
                                   "choices, and figures. Solved points are stored in "
                                   "OUT/sweep.jsonl, so a rerun reuses them.")
    r.add_argument("--out", default=DEFAULT_OUT, help="output folder (default ./%(default)s)")
    r.add_argument("--decoder-noise", choices=NAMED_FAMILIES, default="full",
                   help=f"decoder-noise family of Sigma_Z: {_FAMILY_HELP} (default %(default)s: the update of Vu et al. 2024)")
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
                       description="Sweep (gamma, lambda) for the scenarios of Vu et al. (2024); prints success "
                                   "rates and writes one row per point (CSV, or JSON lines when "
                                   "--out ends in .jsonl). With --store the run is resumable.")
    w.add_argument("--gammas", type=_axis_arg, default=_axis_arg("0.98:1.02:5"),
                   help="start:stop:count or a comma list (default 0.98:1.02:5)")
    w.add_argument("--lams", type=_axis_arg, default=_axis_arg("-0.02:0.02:5"),
                   help="start:stop:count or a comma list (default -0.02:0.02:5)")
    w.add_argument("--scenario", type=int, nargs="+", choices=[1, 2, 3], default=[1, 2, 3],
                   help="scenario numbers (default all three)")
    w.add_argument("--decoder-noise", choices=[*NAMED_FAMILIES, "all"], default="full",
                   help="decoder-noise family (default %(default)s)")
    _add_protocol_options(w)
    w.add_argument("--store", help="JSON-lines store: finished points are appended and a rerun "
                                   "resumes, retrying points that ended in error; several runs may "
                                   "share it; a file that is not a store is refused")
    w.add_argument("--out", help="write the table here (.csv, or .jsonl for every field)")
    w.set_defaults(func=cmd_sweep)

    mt = sub.add_parser("metric", help="every metric of a joint covariance or of samples",
                        description="Print every registered metric the input allows, as a table or "
                                    "JSON. Either COV.npy (the latents-first joint covariance of "
                                    "[latents; factors]) with --latents M: I_m, SAP, Gaussian MIG; "
                                    "or --samples LATENTS.npy FACTORS.npy (N x m and N x s arrays): "
                                    "those on the sample covariance plus MIG, classifier SAP, DCI "
                                    "and modularity/explicitness (the last three need scikit-learn).")
    mt.add_argument("cov", nargs="?", help="joint covariance .npy file, latents first")
    mt.add_argument("--latents", type=int, help="number of latents m (with a covariance file)")
    mt.add_argument("--samples", nargs=2, metavar=("LATENTS", "FACTORS"), help="sample arrays (.npy)")
    mt.add_argument("--shrinkage", default="none",
                    help="with --samples: none, ledoit_wolf or a number in (0, 1], applied to the "
                         "correlation matrix (default none)")
    mt.add_argument("--method", choices=["auto", "exhaustive", "exact", "partition", "dp"], default="auto",
                    help="I_m search (default auto)")
    mt.add_argument("--time-limit", type=float, default=None, metavar="SECONDS",
                    help="stop the I_m search after this long and report the best assignment found "
                         "with a certified upper bound (default: none, exact)")
    mt.add_argument("--seed", type=int, default=0, help="seed of the classifier-based metrics (default 0)")
    mt.add_argument("--truth", help="true grouping, 1-based, blocks separated by | (e.g. '1,2|3')")
    mt.add_argument("--json", action="store_true", help="print JSON instead of a table")
    mt.set_defaults(func=cmd_metric)

    c = sub.add_parser("compare", help="I_m and SAP vs the standard metric suite: rank correlations",
                       description="Score a population of linear Gaussian encoders (BA solutions over "
                                   "the grid of Vu et al. (2024), null baselines, random encoders) with I_m, SAP, "
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
    c.add_argument("--neural-seeds", type=_positive_int, default=2, help="seeds per beta with --neural-steps (default 2)")
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
    t.add_argument("--eval-samples", type=int, default=None,
                   help="held-out images scored, exactly this many (default: a tenth of the images, "
                        "at most 5000)")
    t.add_argument("--out", default="lingauss-train", help="output folder (default ./%(default)s)")
    t.add_argument("--resume", action="store_true", help="continue from the newest checkpoint in --out")
    t.add_argument("--quiet", action="store_true", help="no progress bar")
    t.set_defaults(func=cmd_train)

    s = sub.add_parser("solve", help="run Blahut-Arimoto on the scenarios of Vu et al. (2024) and print the results",
                       description="Run Blahut–Arimoto on the scenarios of Vu et al. (2024) at one "
                                   "(gamma, lambda) for each decoder-noise family and print status, "
                                   "loss terms and the well-posedness regime.")
    s.add_argument("--gamma", type=float, default=1.0, help="weight of the reconstruction log-likelihood (default 1)")
    s.add_argument("--lam", type=float, default=0.0, help="weight of the squared error (default 0)")
    s.add_argument("--decoder-noise", choices=[*NAMED_FAMILIES, "all"], default="all",
                   help=f"decoder-noise family of Sigma_Z: {_FAMILY_HELP} (default: all)")
    s.add_argument("--size", type=_sizes, default=_sizes("all"), help="343, 554 or all (default all)")
    s.add_argument("--noise-var", type=float, default=0.1, help="observation noise variance sigma^2 (default 0.1)")
    s.add_argument("--seed", type=int, default=0, help="seed of the random initial decoder (default 0)")
    s.add_argument("--max-iter", type=int, default=10_000, help="iteration cap (default 10000)")
    s.add_argument("--tol", type=float, default=1e-12, help="relative loss-change tolerance (default 1e-12)")
    s.add_argument("--out", help="folder to write solve.json into (optional)")
    s.set_defaults(func=cmd_solve)
    _add_bench_parsers(sub)
    return p


_RANGE_OPTIONS = ("--gammas", "--lams")


def _join_negative_values(argv: list[str]) -> list[str]:
    """``--lams -0.02:0.02:5`` → ``--lams=-0.02:0.02:5``: argparse reads a value that starts with
    ``-`` and is not a plain number as an option, so a negative range would not parse."""
    out, i = [], 0
    while i < len(argv):
        a = argv[i]
        if (a in _RANGE_OPTIONS and i + 1 < len(argv) and argv[i + 1][:1] == "-"
                and argv[i + 1][1:2] in set("0123456789.")):
            out.append(f"{a}={argv[i + 1]}")
            i += 2
        else:
            out.append(a)
            i += 1
    return out


_OUR_PACKAGES = ("lingauss", "analysis", "neural")


def _is_boundary_error(exc: BaseException) -> bool:
    """Whether a ValueError/ImportError is a deliberate input check: raised by a ``raise``
    statement of this project's code (every public function checks its arguments at its boundary
    and names the bad one). The same exception types coming out of numpy, the standard library or
    an implicit conversion inside the computation mean a bug, not a usage mistake."""
    tb = exc.__traceback__
    if tb is None:
        return False
    while tb.tb_next is not None:
        tb = tb.tb_next
    module = tb.tb_frame.f_globals.get("__name__", "")
    if module.split(".")[0] not in _OUR_PACKAGES:
        return False
    line = traceback.extract_tb(tb)[-1].line or ""
    return line.lstrip().startswith("raise ")


def _internal_error(exc: BaseException) -> int:
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
def _hard_interrupt():
    """Let Ctrl-C end the process at once (the default SIGINT action: shell status 130, no
    traceback) while a compiled kernel runs that never returns to Python to see the signal.
    Outside such a window Ctrl-C raises KeyboardInterrupt, which :func:`main` turns into exit 130."""
    try:
        previous = signal.signal(signal.SIGINT, signal.SIG_DFL)
    except ValueError:                             # not the main thread: leave signals alone
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(_join_negative_values(list(sys.argv[1:] if argv is None else argv)))
    if args.command is None:
        parser.print_help()
        return 2
    try:
        return args.func(args)
    except UserError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except (ValueError, ImportError) as exc:
        if not _is_boundary_error(exc):
            return _internal_error(exc)
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:                 # output piped into `head`: stop quietly
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1
    except Exception as exc:                # noqa: BLE001 - every other failure is a bug
        return _internal_error(exc)


if __name__ == "__main__":
    sys.exit(main())
