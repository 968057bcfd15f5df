"""``lingauss compare``: I_m and SAP next to the standard metric suite (rank correlations, a plot)."""

from __future__ import annotations

from ._errors import UserError
from ._options import add_out, add_quiet, add_seed, positive_int


def cmd_compare(args) -> int:
    from ..compare import compare

    for name in ("samples", "random"):
        if getattr(args, name) < (10 if name == "samples" else 0):
            raise UserError(f"--{name} must be {'>= 10' if name == 'samples' else '>= 0'}")
    extra = []
    if args.neural_steps:
        try:
            from ..compare import neural_rows
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


def add_parser(sub) -> None:
    c = sub.add_parser("compare", help="I_m and SAP vs the standard metric suite: rank correlations",
                       description="Score a population of linear Gaussian encoders (BA solutions over "
                                   "the grid of Vu et al. (2024), null baselines, random encoders) with I_m, SAP, "
                                   "MIG, DCI, modularity/explicitness and print/plot their Spearman "
                                   "rank correlations.")
    add_out(c, default="lingauss-compare", help="output folder (default ./%(default)s)")
    c.add_argument("--samples", type=int, default=1500, help="samples per encoder for the sample metrics (default %(default)s)")
    c.add_argument("--random", type=int, default=20, help="random encoders per scenario (default %(default)s)")
    c.add_argument("--no-dci", action="store_true", help="skip DCI (its tree ensembles are the slow part)")
    add_seed(c)
    c.add_argument("--neural-steps", type=int, default=0,
                   help="also train beta-VAEs (beta 1, 4, 16) on dSprites-like images for this many "
                        "steps and add them as a group (default 0: off; ~1500 is a useful CPU run)")
    c.add_argument("--neural-seeds", type=positive_int, default=2, help="seeds per beta with --neural-steps (default 2)")
    add_quiet(c, help="no progress bar")
    c.set_defaults(func=cmd_compare)
