r"""Koopman benchmark: SKD and SSM-SKD on Moving-dSprites-like data, D_sd / D_mf / I_m / SAP.

Run by a command (the CLI), never by the test suite. :func:`run_koopman_benchmark` returns one
:class:`KoopmanBenchRow` per (model, seed); :func:`format_koopman_benchmark` prints them next to
the seed's table (seed 000, SSM-SKD: Moving dSprites D_sd 0.8699, D_mf 0.9348; dSprites 0.9491 /
0.9142).

Pipeline (one data set, shared by all rows):

1. Moving dSprites (:func:`neural.data.make_moving_dsprites`, colour, T frames, bounce): a train
   set, a test set split into an *exploration* part and an *evaluation* part.
2. Judges (:func:`neural.koopman.train_judges`): one small multi-head CNN on the train frames for
   shape, colour, scale, pos_x, pos_y (the seed's table's factors; the velocities are left out — a
   single frame does not show them); held-out accuracy on the test set is reported.
3. Per model and seed: train with :class:`neural.train.Trainer` (gradient clipping, plateau decay,
   NaN guard — the seed's fixes); latent exploration on the exploration part (SKD: brute force over
   the s static modes, as SKD does; SSM-SKD: the seed's greedy rule over the k channels, plus the
   brute-force optimum when k ≤ ``brute_force_max_channels`` to check greedy against it); D_sd and
   D_mf on the evaluation part; I_m and SAP of the static channels against shape/colour/scale
   through :mod:`neural.bridge` (:func:`neural.koopman.static_channel_metrics`).

The default is the reduced CPU configuration (small k, narrow convs, a few hundred steps of 32
sequences, a few hundred sequences: about 3–4 min of training per model on one core; each row
reports the test reconstruction MSE next to the mean-frame baseline, so that learning is visible).
:data:`FULL_CONFIG` holds the paper-size parameters (k = 40 for SKD, k = 15 for SSM-SKD, full conv
widths, long training) for a GPU: ``run_koopman_benchmark(**FULL_CONFIG, device="cuda")``.
"""

from __future__ import annotations

import math
import time
from dataclasses import asdict, dataclass, field

import numpy as np
import torch

__all__ = ["KoopmanBenchRow", "run_koopman_benchmark", "format_koopman_benchmark", "SEED_TABLE",
           "FULL_CONFIG", "REDUCED_CONFIG", "JUDGED_FACTORS", "SEED_DYNAMIC_SWAP", "rows_as_dicts",
           "reconstruction_errors"]

#: The seed's reported scores (SSM-SKD unless noted).
SEED_TABLE = {
    ("SSM-SKD", "Moving dSprites"): (0.8699, 0.9348),
    ("SSM-SKD", "dSprites"): (0.9491, 0.9142),
    ("SSM-SKD", "Sprites"): (0.9872, 0.9836),
    ("SKD", "Sprites"): (0.9981, 0.9276),
}
#: The seed's per-factor dynamic-swap agreements (SSM-SKD; the slide's table is partly lost).
SEED_DYNAMIC_SWAP = {"colour": 0.9976, "shape": 0.4907, "scale": 0.1301, "pos_x": 0.1721, "pos_y": 0.1605}

JUDGED_FACTORS = ("shape", "colour", "scale", "pos_x", "pos_y")

#: The reduced CPU configuration (about 3–4 min of training per model on one core). Batch 32: the
#: frames of a sequence are near-duplicates, so a step sees only ``batch_size`` distinct sprites,
#: and with 8 (the old default, 300 steps at lr 1e-3) the models never left the mean-frame plateau.
REDUCED_CONFIG = dict(n_train=256, n_test=96, n_explore=32, n_frames=8, seeds=(0, 1), steps=400,
                      batch_size=32, lr=2e-3, k_skd=8, n_static_skd=4, k_ssm=8,
                      channels=(16, 16, 32, 32), hidden=64, judge_steps=400)
FULL_CONFIG = dict(n_train=10000, n_test=1000, n_explore=256, n_frames=8, seeds=(0, 1, 2),
                   steps=60000, batch_size=32, lr=1e-3, k_skd=40, n_static_skd=8, k_ssm=15,
                   channels=(32, 64, 128, 256), hidden=256, judge_steps=5000,
                   brute_force_max_channels=0)


@dataclass(frozen=True)
class KoopmanBenchRow:
    """One trained model: scores, exploration, training health, and the shared judge accuracies."""

    model: str
    seed: int
    k: int
    n_static_channels: int
    steps: int
    train_seconds: float
    eval_seconds: float
    final_loss: float
    final_rec: float
    test_rec_mse: float
    mean_frame_mse: float
    fg_rec_mse: float
    fg_mean_frame_mse: float
    bad_steps: int
    nan_free: bool
    d_sd: float
    d_mf: float
    static_swap: dict
    dynamic_swap: dict
    groups: dict
    exploration: str
    greedy_total: float
    brute_total: float | None
    greedy_optimal: bool | None
    im: float
    sap: float
    im_shrinkage: object
    judge_accuracy: dict
    config: dict = field(default_factory=dict)


def reconstruction_errors(model, x: torch.Tensor, mean_frame: torch.Tensor, *, batch_size: int = 32,
                          threshold: float = 0.05) -> dict:
    """Test-set reconstruction MSE of ``model`` (eval mode) next to the MSE of predicting
    ``mean_frame`` (the train set's mean frame, (C, H, W)) for every frame, over all pixels and over
    the foreground pixels (max over channels > ``threshold``; sprites cover ~5 % of a frame, so a
    blank or mean-frame prediction already has a small all-pixel MSE)."""
    with torch.no_grad():
        rec = torch.cat([model.decode(model.encode(x[i:i + batch_size])).to(x.dtype)
                         for i in range(0, len(x), batch_size)])
    err, base = (rec - x) ** 2, (mean_frame.to(x.dtype) - x) ** 2
    fg = (x.amax(2, keepdim=True) > threshold).expand_as(x)
    return {"test_rec_mse": float(err.mean()), "mean_frame_mse": float(base.mean()),
            "fg_rec_mse": float(err[fg].mean()), "fg_mean_frame_mse": float(base[fg].mean())}


def _train(model, data, *, steps, batch_size, lr, seed, device, progress):
    from neural.train import Trainer

    tr = Trainer(model, lr=lr, seed=seed, grad_clip=1.0, device=device, progress=progress,
                 plateau={"window": max(10, steps // 10), "patience": 2}, on_divergence="stop",
                 max_bad_steps=20)
    t0 = time.perf_counter()
    res = tr.fit(data, steps, batch_size=batch_size)
    model.to("cpu")
    return res, time.perf_counter() - t0


def run_koopman_benchmark(*, n_train: int = 256, n_test: int = 96, n_explore: int = 32, n_frames: int = 8,
                          seeds=(0, 1), steps: int = 400, batch_size: int = 32, lr: float = 2e-3,
                          k_skd: int = 8, n_static_skd: int = 4, k_ssm: int = 8,
                          channels=(16, 16, 32, 32), hidden: int = 64, judge_steps: int = 400,
                          judge_channels=(8, 16, 16, 32), judge_hidden: int = 64,
                          brute_force_max_channels: int = 8, models=("SKD", "SSM-SKD"),
                          data_seed: int = 1234, threads: int | None = 1, device=None,
                          progress: bool = False) -> list[KoopmanBenchRow]:
    """Train and score SKD and SSM-SKD (module doc); one row per (model, seed).

    ``threads``: torch intra-op threads while it runs (1 is fastest for these small convolutions on
    a busy 2-core CPU; ``None`` leaves the setting alone). ``device``: the training device.
    """
    from neural.data import make_moving_dsprites
    from neural.koopman import (SKD, SSMSKD, brute_force_exploration, evaluate_swaps, factorial_scorer,
                                greedy_exploration, static_channel_metrics, train_judges)

    if n_explore < 2 or n_test - n_explore < 2:
        raise ValueError("need n_explore >= 2 and n_test - n_explore >= 2")
    config = dict(n_train=n_train, n_test=n_test, n_explore=n_explore, n_frames=n_frames, steps=steps,
                  batch_size=batch_size, lr=lr, k_skd=k_skd, n_static_skd=n_static_skd, k_ssm=k_ssm,
                  channels=tuple(channels), hidden=hidden, judge_steps=judge_steps, data_seed=data_seed)
    old_threads = torch.get_num_threads()
    if threads is not None:
        torch.set_num_threads(int(threads))
    try:
        train = make_moving_dsprites(n_train, n_frames=n_frames, rng=data_seed)
        test = make_moving_dsprites(n_test, n_frames=n_frames, rng=data_seed + 1)
        explore, evaluate = test.subset(np.arange(n_explore)), test.subset(np.arange(n_explore, n_test))
        judged = [f for f in JUDGED_FACTORS if f in train.factor_names]
        static_judged = [f for f in judged if train.factor_static[train.factor_names.index(f)]]
        jr = train_judges(train, judged, test=test, steps=judge_steps, seed=data_seed, channels=judge_channels,
                          hidden=judge_hidden, progress=progress)
        judge = jr.judge
        train_x = torch.as_tensor(train.sequences, dtype=torch.float32)
        test_x = torch.as_tensor(test.sequences, dtype=torch.float32)
        mean_frame = train_x.mean((0, 1))
        rows = []
        for name in models:
            for seed in seeds:
                torch.manual_seed(seed)
                common = dict(in_channels=train.sequences.shape[2], channels=channels, hidden=hidden)
                if name == "SKD":
                    model = SKD(k=k_skd, n_static=n_static_skd, **common)
                elif name == "SSM-SKD":
                    model = SSMSKD(k=k_ssm, **common)
                else:
                    raise ValueError(f"unknown model {name!r}; use 'SKD' or 'SSM-SKD'")
                model.decoder.init_output_bias(mean_frame.mean((1, 2)))
                fit, train_s = _train(model, train, steps=steps, batch_size=batch_size, lr=lr, seed=seed,
                                      device=device, progress=progress)
                t0 = time.perf_counter()
                model.eval()
                K = model.n_static_channels
                score = factorial_scorer(model, judge, explore, static_judged, rng=seed)
                greedy = greedy_exploration(score, K, static_judged)
                brute = brute_force_exploration(score, K, static_judged) if K <= brute_force_max_channels else None
                if name == "SKD" and brute is not None:
                    groups, how = brute.groups, "brute force"
                else:
                    groups, how = greedy.groups, "greedy"
                ev = evaluate_swaps(model, judge, evaluate, groups=groups, factors=judged, rng=seed)
                sm = static_channel_metrics(model, test)
                errs = reconstruction_errors(model, test_x, mean_frame)
                last = fit.last or {}
                loss = float(last.get("loss", float("nan")))
                rec = float(last.get("rec", float("nan")))
                rows.append(KoopmanBenchRow(
                    model=name, seed=int(seed), k=model.k, n_static_channels=K, steps=fit.step,
                    train_seconds=train_s, eval_seconds=time.perf_counter() - t0, final_loss=loss,
                    final_rec=rec, **errs, bad_steps=fit.bad_steps,
                    nan_free=fit.status == "completed" and fit.bad_steps == 0 and math.isfinite(loss),
                    d_sd=ev.d_sd, d_mf=ev.d_mf, static_swap=ev.static_swap, dynamic_swap=ev.dynamic_swap,
                    groups=ev.groups, exploration=how, greedy_total=greedy.total,
                    brute_total=None if brute is None else brute.total,
                    greedy_optimal=None if brute is None else bool(greedy.total >= brute.total - 1e-12),
                    im=sm.im, sap=sm.sap, im_shrinkage=sm.shrinkage, judge_accuracy=dict(jr.accuracy),
                    config=dict(config, judge_seconds=jr.seconds)))
        return rows
    finally:
        if threads is not None:
            torch.set_num_threads(old_threads)


def _mean_sd(values) -> str:
    v = np.asarray([x for x in values if x is not None], dtype=float)
    if v.size == 0:
        return "—"
    return f"{v.mean():.4f}" if v.size == 1 else f"{v.mean():.4f} ± {v.std(ddof=1):.4f}"


def format_koopman_benchmark(rows: list[KoopmanBenchRow]) -> str:
    """Markdown tables: per-run scores, means next to the seed's table, judges, swap agreements."""
    if not rows:
        return "(no rows)"
    cfg = rows[0].config
    out = [f"Moving dSprites (procedural, colour, T = {cfg.get('n_frames')}), {cfg.get('n_train')} train / "
           f"{cfg.get('n_test')} test sequences ({cfg.get('n_explore')} for exploration), {cfg.get('steps')} steps, "
           f"batch {cfg.get('batch_size')}, conv widths {cfg.get('channels')}, hidden {cfg.get('hidden')}",
           "",
           "| model | seed | k | static ch. | D_sd | D_mf | I_m static (nats) | SAP static | exploration "
           "| greedy = brute force | final loss | train rec MSE | test rec MSE (mean frame) "
           "| fg. rec MSE (mean frame) | NaN-free | train s |",
           "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        opt = "—" if r.greedy_optimal is None else (
            f"{'yes' if r.greedy_optimal else 'no'} ({r.greedy_total:.3f} / {r.brute_total:.3f})")
        out.append(f"| {r.model} | {r.seed} | {r.k} | {r.n_static_channels} | {r.d_sd:.4f} | {r.d_mf:.4f} "
                   f"| {r.im:.3f} | {r.sap:.3f} | {r.exploration} | {opt} | {r.final_loss:.4f} "
                   f"| {r.final_rec:.4f} | {r.test_rec_mse:.4f} ({r.mean_frame_mse:.4f}) "
                   f"| {r.fg_rec_mse:.3f} ({r.fg_mean_frame_mse:.3f}) "
                   f"| {'yes' if r.nan_free else 'NO'} | {r.train_seconds:.0f} |")
    out += ["", "| model | data | D_sd | D_mf | source |", "|---|---|---|---|---|"]
    for name in dict.fromkeys(r.model for r in rows):
        rs = [r for r in rows if r.model == name]
        out.append(f"| {name} | Moving dSprites (ours, reduced) | {_mean_sd(r.d_sd for r in rs)} "
                   f"| {_mean_sd(r.d_mf for r in rs)} | measured, {len(rs)} seed(s), mean ± sd |")
    for (name, data), (dsd, dmf) in SEED_TABLE.items():
        out.append(f"| {name} | {data} | {dsd:.4f} | {dmf:.4f} | seed 000 |")
    acc = rows[0].judge_accuracy
    out += ["", "Judge accuracy (held out; static per sequence, position per frame; chance 1/|C_f|):", "",
            "| " + " | ".join(acc) + " |", "|" + "---|" * len(acc),
            "| " + " | ".join(f"{v:.3f}" for v in acc.values()) + " |"]
    facs = list(rows[0].dynamic_swap)
    out += ["", "Agreement with the original after the swaps (mean over seeds; targets: static swap → "
            "static at chance, dynamic 1; dynamic swap → static 1, dynamic at chance):", "",
            "| model | swap | " + " | ".join(facs) + " |", "|---|---|" + "---|" * len(facs)]
    for name in dict.fromkeys(r.model for r in rows):
        rs = [r for r in rows if r.model == name]
        for label, attr in (("static", "static_swap"), ("dynamic", "dynamic_swap")):
            vals = [np.mean([getattr(r, attr)[f] for r in rs]) for f in facs]
            out.append(f"| {name} | {label} | " + " | ".join(f"{v:.3f}" for v in vals) + " |")
    out.append("| SSM-SKD (seed 000) | dynamic | " + " | ".join(
        f"{SEED_DYNAMIC_SWAP[f]:.4f}" if f in SEED_DYNAMIC_SWAP else "—" for f in facs) + " |")
    out += ["", "Notes: the data are our procedural Moving dSprites (neural.data.make_moving_dsprites: 64×64 "
            "colour frames, 3 shapes × 6 hues × 6 scales, 32×32 positions, bounce at the border, velocities "
            "in {−2..2} classes/frame, fixed orientation), not the seed's files; the models are the reduced "
            "CPU configuration (k, conv widths, steps and N are far below the paper's), the judges are "
            "small and imperfect (their errors enter every agreement), and the exploration/evaluation "
            "sets are small, so the numbers measure the pipeline, not the paper's models. Chance levels "
            "in D_sd/D_mf are 1/|C_f| as the seed defines them. Reconstruction: test-set MSE of "
            "decode(encode(x)) in eval mode, in brackets the MSE of the train set's mean frame; 'fg.' "
            "restricts both to the sprite pixels (~5 % of a frame)."]
    return "\n".join(out)


def rows_as_dicts(rows: list[KoopmanBenchRow]) -> list[dict]:
    """Plain dicts (for JSON)."""
    return [asdict(r) for r in rows]
