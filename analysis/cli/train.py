"""``lingauss train vae``: train a β-VAE-family model on dSprites-like data; checkpoints, log, report."""

from __future__ import annotations

from pathlib import Path

from ._errors import UserError
from ._options import add_out, add_quiet, add_seed, add_steps


def _check_resume(args) -> None:
    """``--resume`` needs a checkpoint to resume from: an empty or new folder is a mistake."""
    from neural._checkpoint_io import latest_checkpoint

    folder = Path(args.out) / "checkpoints"
    if args.resume and (not folder.is_dir() or latest_checkpoint(folder) is None):
        raise UserError(f"--resume: no checkpoint in {folder} to resume from; run without --resume "
                        f"to start a new training there")


def cmd_train(args) -> int:
    try:
        from neural.experiment import train_vae
    except ImportError as exc:
        raise UserError(f"training needs the neural extra (pip install -e \".[neural]\"): {exc}") from None
    _check_resume(args)
    report = train_vae(model=args.model, weight=args.weight if args.weight is not None else args.beta,
                       dataset=args.dataset, data_file=args.data_file, n_images=args.n_images,
                       latent_dim=args.latent_dim, steps=args.steps, batch_size=args.batch_size,
                       lr=args.lr, seed=args.seed, out=args.out, eval_samples=args.eval_samples,
                       resume=args.resume, progress=not args.quiet)
    print((Path(args.out) / "report.md").read_text())
    print(f"wrote {args.out}/ (checkpoints/, log.jsonl, report.json, report.md); "
          f"training {report['training']['status']}")
    return 0 if report["training"]["status"] == "completed" else 1


def add_parser(sub) -> None:
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
    add_steps(t, default=2000, help="training steps (default %(default)s)")
    t.add_argument("--batch-size", type=int, default=64, help="batch size (default %(default)s)")
    t.add_argument("--lr", type=float, default=1e-4, help="Adam learning rate (default %(default)g)")
    add_seed(t)
    t.add_argument("--eval-samples", type=int, default=None,
                   help="held-out images scored, exactly this many (default: a tenth of the images, "
                        "at most 5000)")
    add_out(t, default="lingauss-train", help="output folder (default ./%(default)s)")
    t.add_argument("--resume", action="store_true", help="continue from the newest checkpoint in --out")
    add_quiet(t, help="no progress bar")
    t.set_defaults(func=cmd_train)
