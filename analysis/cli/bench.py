"""``lingauss bench NAME``: one sub-command per benchmark of :mod:`analysis.bench`.

* ``core`` — the compiled BA kernel vs numpy batched, 2 threads vs 1, per point vs grid (a table).
* ``im`` — naive vs exhaustive vs exact I_m (a printed table), and the exact search at scale.
* ``koopman`` | ``flow`` — SKD/SSM-SKD and the flow model vs the tables of Hason (2024) and
  Song et al. (2023); ``--out DIR`` writes ``DIR/results.json`` (atomically).
* ``metrics`` — SAP and DCI on the same arrays: ours vs disent and disentanglement_lib's formulas.

The neural benchmarks' choices (configurations, data sets, models, the weak-index targets) are read
from their modules' declarations, which import without torch.
"""

from __future__ import annotations

import sys

from ._errors import UserError, hard_interrupt
from ._options import (add_config, add_device, add_out, add_quiet, add_seeds, add_steps, check_seeds, check_steps,
                       device_arg, positive_int, size_pair, writable_dir)


def _neural_bench(which: str):
    """The benchmark module ``analysis.bench.WHICH``, or a one-line error when torch is missing."""
    import importlib

    try:
        import torch  # noqa: F401
    except ImportError as exc:
        raise UserError(f"bench {which} needs the neural extra (torch): {exc}") from None
    return importlib.import_module(f"analysis.bench.{which}")


def cmd_bench_core(args) -> int:
    import numba

    from ..bench.core import bench_core, format_core

    if args.iterations < 1 or args.grid < 1:
        raise UserError("--grid and --iterations must be positive")
    top = numba.config.NUMBA_NUM_THREADS
    if not 1 <= args.threads <= top:
        raise UserError(f"--threads must be between 1 and {top} (NUMBA_NUM_THREADS)")
    with hard_interrupt():                           # the compiled kernel does not see Ctrl-C
        b = bench_core(grid=args.grid, iterations=args.iterations, threads=args.threads,
                       per_point=not args.no_per_point, progress=not args.quiet,
                       main_job=not args.no_main_job)
    print(format_core(b))
    return 0


def cmd_bench_im(args) -> int:
    from lingauss import im_score
    from lingauss.params import parameter_constraints

    from ..bench.im import IM_SCALE_SIZES, bench_im, bench_im_scale, format_im, format_im_scale

    if args.naive_budget <= 0:
        raise UserError("--naive-budget must be positive")
    if args.seeds < 1:
        raise UserError("--seeds must be at least 1")
    threads = parameter_constraints(im_score)["n_jobs"]     # the library's declaration, read once
    for j in args.jobs:
        threads.check("--jobs", j)
    if not args.scale_only:
        print("I_m benchmark: one core; naive = Python loop over m^s assignments calling gaussian_mi")
        kw = {"sizes": args.sizes} if args.sizes else {}
        with hard_interrupt():                       # the I_m kernels do not see Ctrl-C
            result = bench_im(naive_budget_s=args.naive_budget, progress=not args.quiet, **kw)
        print(format_im(result))
    if not args.no_scale:
        sizes = args.scale_sizes or IM_SCALE_SIZES
        print(f"\nExact I_m at scale: {args.seeds} inputs per (size, input), threads {list(args.jobs)}")
        print(format_im_scale(bench_im_scale(sizes=sizes, seeds=args.seeds, jobs=tuple(args.jobs),
                                             progress=not args.quiet)))
    return 0


def cmd_bench_koopman(args) -> int:
    check_steps(args)
    check_seeds(args)
    mod = _neural_bench("koopman")
    device = device_arg(args.device)
    out = None if args.out is None else writable_dir(args.out)
    datasets = None if args.dataset is None else (mod.DATASETS if args.dataset == "all" else (args.dataset,))
    log = None if args.quiet else (lambda line: print(line, file=sys.stderr, flush=True))
    res = mod.run_koopman_benchmark(config=args.config, datasets=datasets, models=tuple(args.models),
                                    seeds=args.seeds, steps=args.steps, device=device,
                                    progress=not args.quiet, log=log, figures_dir=out)
    from ..bench.koopman_report import format_koopman_benchmark

    print(format_koopman_benchmark(res))
    if out is not None:
        print(f"results written to {mod.write_results(res, out)}")
    return 0


def cmd_bench_flow(args) -> int:
    check_steps(args)
    mod = _neural_bench("flow")
    check_seeds(args)
    device = device_arg(args.device)
    if args.jobs < 1:
        raise UserError("--jobs must be a positive integer")
    out = None if args.out is None else writable_dir(args.out)
    res = mod.run_flow_benchmark(args.config, seeds=args.seeds, train_steps=args.steps,
                                 device=device, progress=not args.quiet, jobs=args.jobs,
                                 weak_index=args.weak_index)
    print(mod.format_flow_benchmark(res))
    if out is not None:
        print(f"results: {mod.write_results(res, out)}")
        for path in mod.write_figures(res, out):
            print(f"figure: {path}")
    return 0


def cmd_bench_metrics(args) -> int:
    from ..bench.metrics import bench_metrics, format_metrics

    if args.repeats < 1:
        raise UserError("--repeats must be at least 1")
    check_seeds(args)
    for name in ("sap_sizes", "dci_sizes", "dci_reference_sizes"):
        if any(n < 10 for n in getattr(args, name)):
            raise UserError(f"--{name.replace('_', '-')} must be sample counts of at least 10")
    log = None if args.quiet else (lambda line: print(line, file=sys.stderr, flush=True))
    from threadpoolctl import threadpool_limits

    with threadpool_limits(args.threads):
        rows = bench_metrics(sap_sizes=tuple(args.sap_sizes), dci_sizes=tuple(args.dci_sizes),
                             dci_reference_sizes=tuple(args.dci_reference_sizes), seeds=tuple(args.seeds),
                             repeats=args.repeats, progress=log)
    print(f"threads: {args.threads} (BLAS and OpenMP, all implementations)")
    print(format_metrics(*rows))
    return 0


def _add_metrics(bsub) -> None:
    from ..bench.metrics import DCI_REFERENCE_SIZES, DCI_SIZES, SAP_SIZES

    b = bsub.add_parser("metrics", help="SAP and DCI: ours vs disent and disentanglement_lib (same arrays)",
                        description="Continuous SAP and DCI on the same arrays: ours (every DCI backend "
                                    "the metric registry declares) vs disent's functions (when "
                                    "installed: pip install --no-deps disent) and disentanglement_lib's "
                                    "formulas; values, agreement, times, ratios and the load.")
    b.add_argument("--sap-sizes", type=positive_int, nargs="+", default=list(SAP_SIZES), metavar="N",
                   help="SAP sample counts (default %(default)s)")
    b.add_argument("--dci-sizes", type=positive_int, nargs="+", default=list(DCI_SIZES), metavar="N",
                   help="DCI training-sample counts (default %(default)s)")
    b.add_argument("--dci-reference-sizes", type=positive_int, nargs="+", default=list(DCI_REFERENCE_SIZES),
                   metavar="N", help="of those, where the reference trees also run (slow: about 12 s "
                                     "at N = 1000; default %(default)s)")
    add_seeds(b, default=[0, 1], help="data seeds of the DCI rows (default 0 1)")
    b.add_argument("--repeats", type=int, default=3, help="SAP timing repeats, best taken (default %(default)s)")
    b.add_argument("--threads", type=positive_int, default=1, help="BLAS/OpenMP threads (default %(default)s)")
    add_quiet(b)
    b.set_defaults(func=cmd_bench_metrics)


def _add_core(bsub) -> None:
    c = bsub.add_parser("core", help="compiled Blahut-Arimoto kernel vs numpy batched, threads, per point",
                        description="The compiled Blahut-Arimoto kernel vs a plain numpy batched implementation "
                                    "of the same updates (same grid, same start, same iterations) on GRID x GRID "
                                    "points and on the 25 points of Vu et al. (2024), one thread; THREADS "
                                    "threads vs one; a loop of per-point calls vs the grid call "
                                    "((s,n,m) = (3,4,3), scenario 2, full Sigma_Z); the main job, lingauss reproduce, cold and warm.")
    c.add_argument("--grid", type=int, default=101, help="grid points per axis (default %(default)s)")
    c.add_argument("--iterations", type=int, default=100, help="iterations per point (default %(default)s)")
    c.add_argument("--threads", type=positive_int, default=2,
                   help="threads of the scaling comparison (default %(default)s)")
    c.add_argument("--no-per-point", action="store_true",
                   help="skip the per-point loop vs grid comparison")
    c.add_argument("--no-main-job", action="store_true",
                   help="skip timing the main job (lingauss reproduce, cold and warm, 3 runs each)")
    add_quiet(c)
    c.set_defaults(func=cmd_bench_core)


def _add_im(bsub) -> None:
    from ..bench.im import IM_SCALE_SIZES, IM_SIZES

    i = bsub.add_parser("im", help="naive vs exhaustive vs exact I_m; exact at scale",
                        description="I_m: a naive Python loop vs the exhaustive Numba kernel vs the "
                                    "exact partition search, on the same covariances; then the exact "
                                    "search alone at s = 16..20, worst case over dense and structured "
                                    "inputs, nodes vs set partitions, speed-up on several threads.")
    i.add_argument("--naive-budget", type=float, default=60.0,
                   help="seconds the naive loop may run before it is extrapolated (default %(default)s)")
    i.add_argument("--sizes", type=size_pair, nargs="+", default=None, metavar="S,M",
                   help="(s, m) pairs to time (default "
                        + " ".join(f"{a},{b}" for a, b in IM_SIZES) + ")")
    i.add_argument("--scale-sizes", type=size_pair, nargs="+", default=None, metavar="S,M",
                   help="(s, m) pairs of the exact-at-scale table (default "
                        + " ".join(f"{a},{b}" for a, b in IM_SCALE_SIZES) + ")")
    # --seeds here is a count (the inputs of seeds 0..N-1), not the shared list of seeds: its old name
    # is kept so that old invocations work (see analysis.cli._options)
    i.add_argument("--seeds", type=int, default=10,
                   help="dense and structured inputs per size in the scale table (default %(default)s)")
    i.add_argument("--jobs", type=int, nargs="+", default=[1], metavar="N",
                   help="thread counts of the scale table; with 1 and more, the speed-up is printed "
                        "(default 1)")
    only = i.add_mutually_exclusive_group()
    only.add_argument("--scale-only", action="store_true", help="only the exact-at-scale table")
    only.add_argument("--no-scale", action="store_true", help="skip the exact-at-scale table")
    add_quiet(i)
    i.set_defaults(func=cmd_bench_im)


def _add_koopman(bsub) -> None:
    from ..bench.koopman import CONFIGS, DATASETS, MODELS

    k = bsub.add_parser("koopman", help="SKD and SSM-SKD: D_sd / D_mf with floors and ceilings (minutes)",
                        description="Train SKD and SSM-SKD (the CPU configuration by default) and "
                                    "print D_sd / D_mf next to their trivial floors, the ground-truth "
                                    "ceiling and the published table, with a verdict on the targets.")
    add_config(k, CONFIGS, help="cpu: 16×16 frames, one thread (default); cpu-prior: the same with the "
                                "shape-and-palette swap prior, 5,000 steps, Sprites-like only; full: the paper's "
                                "size, for a GPU")
    k.add_argument("--dataset", choices=(*DATASETS, "all"), default=None,
                   help="data set (default: the configuration's)")
    k.add_argument("--models", nargs="+", choices=MODELS, default=list(MODELS),
                   help="models to train (default both)")
    add_steps(k, help="training steps (default: the configuration's)")
    add_seeds(k, help="model seeds (default: the configuration's)")
    add_device(k, help="cpu (default), cuda, cuda:N or auto")
    add_out(k, metavar="DIR", help="write DIR/results.json, and each row's learning curve and swap grid (PNG)")
    add_quiet(k)
    k.set_defaults(func=cmd_bench_koopman)


def _add_flow(bsub) -> None:
    from ..bench.flow import CONFIGS, WEAK_INDEX

    f = bsub.add_parser("flow", help="flow model vs VAE baselines: equivariance error, likelihood (minutes)",
                        description="Train the VAE baselines and Flow Factorized Representation "
                                    "Learning (reduced CPU configuration by default) and print "
                                    "equivariance errors and log-likelihoods next to the published table.")
    add_config(f, CONFIGS,
               help="reduced: CPU, 28x28 frames; cpu: CPU, 16x16 frames, d = 16, learning curves every "
                    "100 steps; full: the paper's scale, for a GPU (default %(default)s)")
    add_steps(f, help="training steps per model (default: the configuration's)")
    add_seeds(f, help="seeds (default: the configuration's, 0 1 2)")
    add_device(f, default="cpu", help="torch device, e.g. cpu or cuda (default %(default)s)")
    add_out(f, metavar="DIR",
            help="also write DIR/results.json (rows and learning curves), DIR/flow_curves.png and "
                 "DIR/flow_sequences.png")
    f.add_argument("--weak-index", choices=WEAK_INDEX, default="labels",
                   help="what q(k|x) of FFRL-weak is trained against: the true index (the paper's code "
                        "listing, the paper's row) or the uniform prior (its ELBO, no labels) (default %(default)s)")
    # --jobs here counts worker processes (bench im's --jobs lists thread counts): old names kept
    f.add_argument("--jobs", type=int, default=1,
                   help="run the seeds in this many processes, one torch thread each (default %(default)s)")
    add_quiet(f, help="no progress output")
    f.set_defaults(func=cmd_bench_flow)


def add_parser(sub) -> None:
    b = sub.add_parser("bench", help="timed and scored comparisons, ours vs a baseline (prints a table)",
                       description="Benchmarks, each printing ours next to the alternative on the "
                                   "same inputs in the same run. 'lingauss bench NAME --help' lists "
                                   "a benchmark's options.")
    bsub = b.add_subparsers(dest="which", metavar="NAME", required=True)
    for add in (_add_core, _add_im, _add_koopman, _add_flow, _add_metrics):
        add(bsub)
