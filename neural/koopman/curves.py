r"""Training with a learning-rate schedule and a learning curve of the swap scores; pictures.

:func:`train_with_curve` trains a Koopman autoencoder with :class:`neural.train.Trainer` (gradient
clipping, NaN guard) under a warm-up + cosine learning-rate schedule and, every ``eval_every``
steps, records one point of the learning curve:

* ``D_sd`` on the evaluation sequences (:func:`neural.koopman.evaluate_swaps`, no groups);
* ``D_mf`` with the channel groups of Hason's (2024) greedy exploration on the exploration
  sequences (:func:`neural.koopman.greedy_exploration`; the final benchmark score may use the
  brute-force optimum instead, so the last curve point can differ from the reported D_mf);
* ``recon_mse`` on the evaluation sequences.

The schedule (:func:`cosine_lr`): linear warm-up over ``warmup`` steps from lr/10, then a cosine
from lr down to ``lr·final_fraction``; it is applied in blocks of ``lr_block`` steps (the trainer's
``fit`` continues across calls).

:func:`plot_curve` draws the curve beside the floors and the ceiling; :func:`swap_grid` renders
the swap grid (rows: originals, static swap, dynamic swap, ground-truth swaps) as one image.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Mapping, Sequence

import numpy as np
import torch

from lingauss.params import InvalidParameter

__all__ = ["cosine_lr", "train_with_curve", "curve_point", "plot_curve", "swap_grid", "SWAP_GRID_ROWS"]

#: Row labels of :func:`swap_grid`, top to bottom.
SWAP_GRID_ROWS = ("original x", "partner y", "static swap (x with y's static)",
                  "ground truth: x with y's static", "dynamic swap (x with y's dynamics)",
                  "ground truth: x with y's dynamics")


def cosine_lr(step: int, steps: int, lr: float, *, warmup: int = 0, final_fraction: float = 0.05) -> float:
    """Learning rate at ``step`` (0-based) of ``steps``: linear warm-up from lr/10 over ``warmup``
    steps, then a cosine from ``lr`` to ``lr·final_fraction`` at the last step."""
    if steps < 1 or lr <= 0 or not 0 <= final_fraction <= 1 or warmup < 0:
        raise InvalidParameter("cosine_lr needs steps >= 1, lr > 0, warmup >= 0, final_fraction in [0, 1]")
    if step < warmup:
        return lr * (0.1 + 0.9 * step / max(warmup, 1))
    span = max(steps - warmup, 1)
    frac = min(max((step - warmup) / span, 0.0), 1.0)
    return lr * (final_fraction + (1 - final_fraction) * 0.5 * (1 + math.cos(math.pi * frac)))


def _recon_mse(model, x: torch.Tensor, batch_size: int = 64) -> float:
    from .metrics import eval_mode, model_device

    dev = model_device(model)
    with torch.no_grad(), eval_mode(model):
        err = [float(((model.decode(model.encode(x[i:i + batch_size].to(dev))).float().cpu()
                       - x[i:i + batch_size]) ** 2).sum()) for i in range(0, len(x), batch_size)]
    return float(sum(err) / x.numel())


def curve_point(model, judge, explore, evaluate, static_factors: Sequence, factors: Sequence, *,
                rng: int = 0) -> dict:
    """{"D_sd", "D_mf", "recon_mse", "static_swap", "dynamic_swap"} of ``model`` now (module doc; eval mode, caller's mode kept)."""
    from .exploration import factorial_scorer, greedy_exploration
    from .metrics import evaluate_swaps

    score = factorial_scorer(model, judge, explore, list(static_factors), rng=rng)
    groups = greedy_exploration(score, int(model.n_static_channels), list(static_factors)).groups
    ev = evaluate_swaps(model, judge, evaluate, groups=groups, factors=list(factors), rng=rng)
    x = torch.as_tensor(np.asarray(getattr(evaluate, "sequences", evaluate)), dtype=torch.float32)
    return {"D_sd": float(ev.d_sd), "D_mf": None if ev.d_mf is None else float(ev.d_mf),
            "recon_mse": _recon_mse(model, x), "static_swap": dict(ev.static_swap),
            "dynamic_swap": dict(ev.dynamic_swap)}


def _fmt(agreements: Mapping) -> str:
    return " ".join(f"{k} {v:.2f}" for k, v in agreements.items())


def train_with_curve(model, data, *, steps: int, batch_size: int, lr: float, seed: int = 0,
                     warmup: int = 0, final_fraction: float = 0.05, lr_block: int = 25,
                     eval_every: int | None = None, judge=None, explore=None, evaluate=None,
                     static_factors: Sequence = (), factors: Sequence = (), device=None,
                     grad_clip: float = 1.0, log: Callable | None = None, extra_loss=None):
    """Train ``model`` on ``data`` for ``steps`` steps with :func:`cosine_lr` (module doc).

    Returns ``(fit, seconds, curve)``: the last :class:`neural.train.FitResult`, the wall seconds
    spent in training steps (evaluations excluded) and the curve (list of dicts ``step``, ``D_sd``,
    ``D_mf``, ``recon_mse``; empty when ``eval_every`` or the judge is missing). The curve holds a
    point at step 0, every ``eval_every`` steps and at the end. ``log`` receives one line per point.
    """
    from neural.train import Trainer

    steps, lr_block = int(steps), max(1, int(lr_block))
    if steps < 1:
        raise InvalidParameter(f"steps must be a positive integer, got {steps!r}")
    tr = Trainer(model, lr=lr, seed=seed, grad_clip=grad_clip, device=device, progress=False,
                 on_divergence="stop", max_bad_steps=20)
    want_curve = bool(eval_every) and judge is not None and explore is not None and evaluate is not None
    curve, seconds, fit = [], 0.0, None

    def point(step):
        p = curve_point(model, judge, explore, evaluate, static_factors, factors, rng=seed)
        curve.append({"step": int(step), **p})
        if log is not None:
            log(f"step {step}: D_sd {p['D_sd']:.3f}, D_mf {p['D_mf'] if p['D_mf'] is None else round(p['D_mf'], 3)}, "
                f"recon {p['recon_mse']:.5f}, static swap {_fmt(p['static_swap'])}, "
                f"dynamic swap {_fmt(p['dynamic_swap'])}, lr {tr.optimizer.param_groups[0]['lr']:.2e}, train {seconds:.0f} s")

    if want_curve:
        point(0)
    step = 0
    marks = sorted(set(range(0, steps, lr_block)) | (set(range(0, steps, int(eval_every))) if want_curve else set()))
    marks = [m for m in marks if m > 0] + [steps]
    for nxt in marks:
        for g in tr.optimizer.param_groups:
            g["lr"] = cosine_lr(step, steps, lr, warmup=warmup, final_fraction=final_fraction)
        t0 = time.perf_counter()
        fit = tr.fit(data, nxt, batch_size=batch_size)
        seconds += time.perf_counter() - t0
        step = fit.step
        if fit.status != "completed":
            break
        if want_curve and (step % int(eval_every) == 0 or step == steps):
            point(step)
    return fit, seconds, curve


def plot_curve(curve: Sequence[Mapping], path, *, floors: Mapping, ceilings: Mapping, title: str = "") -> None:
    """Draw D_sd, D_mf (left axis) and recon_mse (right axis) against the step, with the strongest
    floor (dashed) and the ceiling (dotted) of each score, to ``path`` (PNG)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6.4, 4.6), dpi=110)
    steps = [p["step"] for p in curve]
    for key, colour in (("D_sd", "tab:blue"), ("D_mf", "tab:orange")):
        ys = [np.nan if p.get(key) is None else p[key] for p in curve]
        ax.plot(steps, ys, "-o", ms=3, color=colour, label=key)
        if floors.get(key) is not None:
            ax.axhline(floors[key], ls="--", color=colour, lw=1, label=f"{key} strongest floor")
        if ceilings.get(key) is not None:
            ax.axhline(ceilings[key], ls=":", color=colour, lw=1.2, label=f"{key} ceiling")
    ax.set_xlabel("training step")
    ax.set_ylabel("score")
    ax2 = ax.twinx()
    ax2.plot(steps, [p["recon_mse"] for p in curve], "-", color="grey", lw=1, label="recon MSE")
    ax2.set_yscale("log")
    ax2.set_ylabel("test reconstruction MSE (grey)")
    h1, l1 = ax.get_legend_handles_labels()
    ax.set_title(title, fontsize=9)
    fig.tight_layout(rect=(0, 0.16, 1, 1))
    fig.legend(h1, l1, fontsize=7, loc="lower center", ncol=3, frameon=False)
    fig.savefig(path)
    plt.close(fig)


def swap_grid(model, data, render: Callable, path, *, n: int = 6, rng=0, title: str = "") -> np.ndarray:
    """Write the swap grid of ``n`` pairs (columns; at most half the sequences) to ``path`` (PNG)
    and return it (H, W, 3).

    Rows (:data:`SWAP_GRID_ROWS`): x, its partner y, the model's static swap and the ground-truth
    static swap (x's dynamic factors with y's static ones, drawn by ``render``), the model's dynamic
    swap and its ground truth. Each cell shows the T frames of a sequence side by side.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from lingauss._validation import as_rng

    from .metrics import PairedRecombiner, derangement, eval_mode

    gen = as_rng(rng)
    n = min(int(n), len(data.sequences) // 2)
    if n < 1:
        raise InvalidParameter("swap_grid needs at least two sequences")
    idx = np.sort(gen.permutation(len(data.sequences))[:2 * n])
    xs, ys = idx[:n], idx[n:2 * n]
    seqs = np.concatenate([data.sequences[xs], data.sequences[ys]]).astype(np.float32)
    partner = np.concatenate([np.arange(n, 2 * n), np.arange(n)])
    with eval_mode(model):
        if callable(getattr(model, "prepare_evaluation", None)):
            model.prepare_evaluation(torch.as_tensor(seqs))
        pairs = PairedRecombiner(model, seqs, partner)
        ss, ds = pairs("all", False)[:n], pairs(None, True)[:n]
    F = data.factors
    static = np.array(data.factor_static, dtype=bool)
    T, s = F.shape[1], F.shape[2]

    def truth(take_from_y):
        mixed = np.where(take_from_y[None, None, :], F[ys], F[xs])
        return render(mixed.reshape(-1, s)).reshape(n, T, *data.sequences.shape[2:])

    rows = [data.sequences[xs], data.sequences[ys], ss, truth(static), ds, truth(~static)]
    del derangement  # (pairs are fixed above)

    def strip(seq):  # (T, C, H, W) → (H, T·W, C)
        return np.concatenate([np.clip(f.transpose(1, 2, 0), 0, 1) for f in seq], axis=1)

    gap = 2
    H = data.sequences.shape[-2]
    W = T * data.sequences.shape[-1]
    grid = np.ones((len(rows) * (H + gap), n * (W + gap), 3))
    for r, row in enumerate(rows):
        for c in range(n):
            grid[r * (H + gap):r * (H + gap) + H, c * (W + gap):c * (W + gap) + W] = strip(row[c])
    # the figure takes the grid's aspect (plus the row labels' column and the title), so that a
    # wide grid of large frames is not drawn as a thin strip in a tall, empty figure
    width = min(17.0, max(6.0, grid.shape[1] / 40))
    height = max(2.0, 1.12 * width * grid.shape[0] / grid.shape[1] + 0.5)
    fig, ax = plt.subplots(figsize=(width, height), dpi=100)
    ax.imshow(grid, interpolation="nearest")
    ax.set_yticks([r * (H + gap) + H / 2 for r in range(len(rows))])
    ax.set_yticklabels(SWAP_GRID_ROWS, fontsize=7)
    ax.set_xticks([])
    ax.set_title(title, fontsize=9)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return grid
