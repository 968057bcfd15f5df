"""Figures of the flow benchmark: learning curves and decoded latent-flow sequences.

* :func:`decoded_rollouts` — Decode(z_t) for t = 0..T−1 of each aligned digit under each
  transformation, z_0 the posterior mean of the first frame and z_t rolled by the model (the
  sequences the equivariance error compares with the ground truth);
* :func:`plot_curves` — one panel per measurement (𝓔 per transformation, both log-likelihood
  readings, the held-out ELBO terms), one line per model (mean over seeds, the seeds' range shaded),
  and in the 𝓔 panels the first model's reconstruction floor (dashed; :func:`.metrics.reconstruction_floor`);
* :func:`plot_sequences` — for each transformation, the ground-truth sequence above the decoded
  sequence of every model.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from lingauss.params import InvalidParameter

__all__ = ["N_EXAMPLES", "CURVE_PANELS", "decoded_rollouts", "plot_curves", "plot_sequences"]

#: Aligned digits kept per model for the sequence figure.
N_EXAMPLES = 2

#: (key in a curve point, panel title) of :func:`plot_curves`.
CURVE_PANELS = (("E_scale", "E scaling (L1, sum over t=1..T−1)"), ("E_rotation", "E rotation"),
                ("E_colour", "E colouring"), ("ll_bernoulli", "log p(x_t), Bernoulli (nats/frame)"),
                ("ll_normal", "log p(x_t), Normal σ=1 (nats/frame)"), ("recon", "held-out recon (nats/frame)"),
                ("kl_z0", "KL of z_0 (nats/frame)"), ("kl_flow", "flow KL (nats/frame)"))


@torch.no_grad()
def decoded_rollouts(model, aligned, *, index_map=None) -> np.ndarray:
    """Decoded rollouts (n, K, T, C, H, W) float32 in [0, 1] of aligned sequences (n, K, T, C, H, W):
    z_0 = the posterior mean of ``aligned[:, 0, 0]``, rolled by transformation k (the model's index
    ``index_map[k]``, default k) for T frames, decoded by the mean."""
    x = torch.as_tensor(np.asarray(aligned))
    if x.dim() != 6:
        raise InvalidParameter(f"aligned must be (n, K, T, C, H, W), got shape {tuple(x.shape)}")
    n, K, T = x.shape[:3]
    index_map = list(range(K)) if index_map is None else [int(i) for i in index_map]
    p = next(model.parameters())
    was = model.training
    model.eval()
    try:
        z = model.encode(x[:, 0, 0].to(p.device, p.dtype))
        out = np.empty(tuple(x.shape), dtype=np.float32)
        for k in range(K):
            zs = model.rollout(z, model.one_hot(torch.full((n,), index_map[k])), T)
            for t in range(T):
                out[:, k, t] = model.decode_mean(zs[t]).cpu().numpy()
    finally:
        model.train(was)
    return out


def _mpl():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def plot_curves(curve, path, *, models=None, title: str | None = None) -> Path:
    """Learning curves (module doc) from curve points (dicts with ``model``, ``seed``, ``step`` and
    the :data:`CURVE_PANELS` keys; a missing key leaves that model out of the panel). Writes a PNG."""
    plt = _mpl()
    pts = list(curve)
    if not pts:
        raise InvalidParameter("curve is empty")
    names = list(dict.fromkeys(p["model"] for p in pts)) if models is None else list(models)
    fig, axes = plt.subplots(2, 4, figsize=(16, 7))
    for ax, (key, label) in zip(axes.flat, CURVE_PANELS):
        for name in names:
            sel = [p for p in pts if p["model"] == name and p.get(key) is not None]
            if not sel:
                continue
            steps = sorted({p["step"] for p in sel})
            vals = [[p[key] for p in sel if p["step"] == s] for s in steps]
            mean = np.array([np.mean(v) for v in vals])
            lo, hi = np.array([min(v) for v in vals]), np.array([max(v) for v in vals])
            line, = ax.plot(steps, mean, marker="o", ms=3, label=name)
            ax.fill_between(steps, lo, hi, color=line.get_color(), alpha=0.2)
        floor = [p for p in pts if p["model"] == names[0] and p.get("floor_" + key) is not None]
        if floor:                      # the ceiling: the first model's autoencoder on the true frames
            steps = sorted({p["step"] for p in floor})
            ax.plot(steps, [np.mean([p["floor_" + key] for p in floor if p["step"] == s]) for s in steps],
                    ls="--", color="grey", label=f"ceiling: {names[0]} decoding μ(x_t)")
        ax.set_title(label, fontsize=9)
        ax.set_xlabel("training step", fontsize=8)
        ax.tick_params(labelsize=7)
    axes.flat[0].legend(fontsize=7)
    if title:
        fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=110)
    plt.close(fig)
    return out


def plot_sequences(aligned, examples: dict, path, *, names=("scaling", "rotation", "colouring"),
                   digit: int = 0) -> Path:
    """Ground truth ``aligned[digit, k]`` above each model's ``examples[model][digit, k]`` for every
    transformation k (rows), frames t = 0..T−1 (columns). Writes a PNG."""
    plt = _mpl()
    gt = np.asarray(aligned)[digit]
    K, T = gt.shape[:2]
    models = list(examples)
    rows = []
    for k in range(K):
        rows.append((f"{names[k]}: ground truth", gt[k]))
        rows += [(f"{names[k]}: {m}", np.asarray(examples[m])[digit, k]) for m in models]
    fig, axes = plt.subplots(len(rows), T, figsize=(T * 0.9 + 2.2, len(rows) * 0.9))
    for r, (label, seq) in enumerate(rows):
        for t in range(T):
            ax = axes[r, t]
            ax.imshow(np.clip(np.transpose(seq[t], (1, 2, 0)), 0, 1), interpolation="nearest")
            ax.set_xticks([])
            ax.set_yticks([])
            if t == 0:
                ax.set_ylabel(label, rotation=0, ha="right", va="center", fontsize=7)
            if r == 0:
                ax.set_title(f"t={t}", fontsize=7)
    fig.tight_layout(pad=0.2)
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=110)
    plt.close(fig)
    return out
