r"""One β-VAE-family training run, end to end: data → Trainer → checkpoints/logs → metric report.

:func:`train_vae` is what ``lingauss train vae`` runs and what ``examples/beta_vae_dsprites.py``
calls. It builds a dataset (procedural dSprites-like images, or a real dSprites ``.npz`` / 3D Shapes
``.h5`` file), trains one model of the family with :class:`neural.train.Trainer` (checkpoints and
a JSON-lines log in ``out``), then evaluates the posterior means on held-out images through
:func:`neural.bridge.evaluate_latents` — I_m, SAP and the standard suite — and writes
``report.json`` and ``report.md``. Re-running with ``resume=True`` continues from the newest
checkpoint.

Model names and their weight (``weight``): ``betavae`` (β), ``betatcvae`` (β on the total
correlation), ``factorvae`` (γ on the discriminator's TC estimate), ``dipvae-i`` / ``dipvae-ii``
(λ_od).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

import lingauss as lg

from lingauss.params import InvalidParameter
from .registry import dataset_names, dataset_spec, model_names, model_spec

__all__ = ["MODELS", "DATASETS", "build_model", "load_dataset", "train_vae"]

#: The β-VAE-family models and the generated image datasets ``train_vae`` takes (read from
#: :mod:`neural.registry`, where each is declared).
MODELS = model_names("beta-vae")
DATASETS = dataset_names("images")


def build_model(name: str, *, weight: float, in_channels: int, latent_dim: int, dataset_size=None):
    """The model ``name`` (see module doc) with its regularisation ``weight``."""
    return model_spec(name, "beta-vae").build(weight=weight, dataset_size=dataset_size,
                                              in_channels=in_channels, latent_dim=latent_dim)


def load_dataset(dataset: str = "dsprites", *, n_images: int = 20_000, data_file=None, rng=0):
    """A :class:`~neural.data.FactorDataset`: generated (``dataset``) or read from ``data_file``
    (``.npz`` = dSprites, ``.h5`` = 3D Shapes; ``n_images`` of them, drawn with ``rng``)."""
    from .data import load_3dshapes, load_dsprites

    if not isinstance(n_images, (int, np.integer)) or n_images < 10:
        raise InvalidParameter(f"n_images must be an integer ≥ 10, got {n_images!r}")
    if data_file is not None:
        path = Path(data_file)
        if not path.is_file():
            raise InvalidParameter(f"data_file not found: {path}")
        if path.suffix == ".npz":
            return load_dsprites(path, max_items=n_images, rng=rng)
        if path.suffix in (".h5", ".hdf5"):
            return load_3dshapes(path, max_items=n_images, rng=rng)
        raise InvalidParameter(f"data_file must be a dSprites .npz or a 3D Shapes .h5, got {path.name}")
    return dataset_spec(dataset, "images").generate(n_images, rng=rng)


def train_vae(*, model: str = "betavae", weight: float = 4.0, dataset: str = "dsprites",
              data_file=None, n_images: int = 20_000, latent_dim: int = 10, steps: int = 2000,
              batch_size: int = 64, lr: float = 1e-4, seed: int = 0, out="lingauss-train",
              eval_samples: int | None = None, resume: bool = False, progress: bool = True,
              metrics=None) -> dict:
    """Train one model and write checkpoints, ``log.jsonl``, ``report.json`` and ``report.md`` to ``out``.

    ``eval_samples`` held-out images are scored (default: a tenth of the images, at least 10 and at
    most 5000); the rest trains — an ``eval_samples`` that leaves fewer than ``batch_size`` training
    images is refused. Returns the report dict (config, training outcome, metric values and
    groupings). ``metrics``: names from the metric registry (default: every covariance and sample
    metric whose dependencies are installed, :func:`lingauss.metrics.metric_names`).
    """
    import torch

    from .bridge import evaluate_latents
    from .train import Trainer

    if model not in MODELS:
        raise InvalidParameter(f"model must be one of {MODELS}, got {model!r}")
    for name, value, low in (("steps", steps, 1), ("batch_size", batch_size, 1),
                             ("latent_dim", latent_dim, 1),
                             ("eval_samples", 10 if eval_samples is None else eval_samples, 10)):
        if not isinstance(value, (int, np.integer)) or value < low:
            raise InvalidParameter(f"{name} must be an integer ≥ {low}, got {value!r}")
    if not weight >= 0:
        raise InvalidParameter(f"weight must be ≥ 0, got {weight!r}")
    data = load_dataset(dataset, n_images=n_images, data_file=data_file, rng=seed)
    order = np.random.default_rng(seed).permutation(len(data))
    n_eval = min(5000, max(10, len(data) // 10)) if eval_samples is None else int(eval_samples)
    if len(data) - n_eval < batch_size:
        raise InvalidParameter(f"eval_samples = {n_eval} leaves {len(data) - n_eval} of {len(data)} images "
                         f"for training, fewer than batch_size = {batch_size}")
    evaluation, training = data.subset(order[:n_eval]), data.subset(order[n_eval:])
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(seed)
    net = build_model(model, weight=weight, in_channels=data.image_shape[0], latent_dim=latent_dim,
                      dataset_size=len(training))
    trainer = Trainer(net, optimizer="adam", lr=lr, grad_clip=10.0, seed=seed,
                      log_path=out / "log.jsonl", checkpoint_dir=out / "checkpoints",
                      checkpoint_every=max(1, steps // 4), progress=progress, on_divergence="stop",
                      config={"model": model, "weight": float(weight), "dataset": str(data_file or dataset),
                              "n_images": len(data), "n_eval": n_eval, "latent_dim": int(latent_dim),
                              "batch_size": int(batch_size)})
    fit = trainer.fit(training.images, steps, batch_size=batch_size, resume="latest" if resume else None)
    if metrics is None:
        metrics = lg.metrics.metric_names("covariance", "samples", available_only=True)
    try:
        bridge = evaluate_latents(net, evaluation, n_samples=None, metrics=metrics, rng=seed,
                                  shrinkage="ledoit_wolf")
    except ValueError as exc:            # a stopped training can leave an encoder with no scores
        if fit.status == "completed":
            raise
        bridge, not_scored = None, f"not scored: {exc}"
    report = {
        "config": {"model": model, "weight": weight, "dataset": str(data_file or dataset),
                   "n_train": len(training), "n_eval": len(evaluation), "latent_dim": latent_dim,
                   "steps": steps, "batch_size": batch_size, "lr": lr, "seed": seed},
        "training": {"status": fit.status, "message": fit.message, "step": fit.step,
                     "bad_steps": fit.bad_steps, "seconds": fit.seconds, "nan_guard": fit.nan_guard,
                     "last": {k: float(v) for k, v in fit.last.items()
                              if isinstance(v, (int, float)) and np.isfinite(v)}},
        "factors": list(bridge.factor_names) if bridge else [],
        "dropped_factors": list(bridge.dropped_factors) if bridge else [],
        "metrics": _metric_values(bridge) if bridge else {},
        "covariance_note": "latents-first joint covariance of posterior means and factor classes "
                           "(Ledoit-Wolf shrinkage: collapsed latents are near-constant)",
    }
    (out / "report.json").write_text(json.dumps(report, indent=2))
    (out / "report.md").write_text(_markdown(report, bridge.summary() if bridge else not_scored))
    return report


def _metric_values(bridge) -> dict:
    """Metric name → its record (:func:`lingauss.metrics.result_record`)."""
    return {name: lg.metrics.result_record(name, res) for name, res in bridge.metrics.items()}


def _markdown(report: dict, summary: str) -> str:
    c, t = report["config"], report["training"]
    return "\n".join([
        f"# {c['model']} (weight {c['weight']:g}) on {c['dataset']}", "",
        f"- training: {t['status']} at step {t['step']} ({t['seconds']:.1f} s, {t['bad_steps']} skipped steps)",
        f"- NaN guard: {t['nan_guard']}",
        f"- data: {c['n_train']} training images, {c['n_eval']} held-out images scored; latent size {c['latent_dim']}",
        f"- factors scored: {', '.join(report['factors'])}"
        + (f" (constant, dropped: {', '.join(report['dropped_factors'])})" if report["dropped_factors"] else ""),
        "", "```", summary, "```", "",
        "Discrete factors enter the covariance as class indices (an ordinal code); for the "
        "categorical `shape` that order is arbitrary (see neural/bridge.py).", ""])
