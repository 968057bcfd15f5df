r"""Learning curves of the flow benchmark: train in chunks, measure after each.

:func:`fit_with_curve` trains a model with :class:`neural.train.Trainer` to ``every``, 2·``every``,
…, ``steps`` steps (one trainer, so the optimiser state and data order are those of one
uninterrupted run) and calls ``measure(model)`` after each chunk; the training time excludes the
measurements.

:func:`elbo_terms` splits the held-out negative ELBO into the terms that separate the flow model
from the VAE, per frame (nats), so the two are compared on the same scale:

* ``recon`` — −log p(x_t | z_t), Bernoulli pixels, mean over frames;
* ``kl_z0`` — the KL of the first latent: the flow model's KL[q(z_0|x_0) ‖ N(0, I)] divided by T
  (one per sequence), the VAE's KL[q(z|x_t) ‖ N(0, I)] (one per frame);
* ``kl_flow`` — the flow model's Σ_{t≥1} [log q_t(z_t) − log p_{k,t}(z_t)] divided by T (zero for
  the VAE, whose frames are independent);
* ``neg_elbo`` = recon + kl_z0 + kl_flow, the per-frame bound the log-likelihood estimates tighten.

The HJ penalty is not part of the bound and is reported apart (``hj``).
"""

from __future__ import annotations

import time

import numpy as np
import torch

from lingauss.params import InvalidParameter

__all__ = ["fit_with_curve", "elbo_terms"]


def fit_with_curve(model, data, *, steps: int, every: int, measure, batch_size: int, lr: float,
                   seed: int, device=None, grad_clip: float = 100.0, progress: bool = False):
    """Train ``model`` on ``data`` for ``steps`` steps, measuring every ``every`` steps.

    ``measure(model) -> dict`` (one call per checkpoint, the model in whatever mode it leaves it:
    the callee switches to ``eval`` and back). Returns (curve, train_seconds): ``curve`` a list of
    dicts ``{"step", "train_s", **measure(model)}`` for steps ``every, 2·every, …`` and always the
    last step; ``train_s`` the cumulative training wall time at that step.
    """
    from neural.train import Trainer

    steps, every = int(steps), int(every)
    if steps < 1 or every < 1:
        raise InvalidParameter(f"steps and every must be >= 1, got steps={steps!r}, every={every!r}")
    trainer = Trainer(model, lr=lr, seed=seed, progress=progress, grad_clip=grad_clip, device=device)
    marks = list(range(every, steps, every)) + [steps]
    curve, train_s = [], 0.0
    for mark in marks:
        t0 = time.perf_counter()
        trainer.fit(data, steps=mark, batch_size=batch_size)
        if device is not None and str(device).startswith("cuda"):
            torch.cuda.synchronize()
        train_s += time.perf_counter() - t0
        curve.append({"step": mark, "train_s": float(train_s), **measure(model)})
    return curve, train_s


@torch.no_grad()
def elbo_terms(model, sequences, labels=None, *, batch_size: int = 32, rng=0) -> dict[str, float]:
    """Per-frame held-out ELBO terms (module doc) of a :class:`~.model.FlowFactorizedVAE` or a
    :class:`~.baseline.ShiftVAE` on ``sequences`` (N, T, C, H, W); ``labels`` (N,) the
    transformations (the flow model's prior and flow use them; a weak model without labels uses
    its classifier's argmax). One posterior sample per sequence, seeded by ``rng`` (int)."""
    x = torch.as_tensor(np.asarray(sequences) if not torch.is_tensor(sequences) else sequences)
    if x.dim() != 5:
        raise InvalidParameter(f"sequences must be (N, T, C, H, W), got shape {tuple(x.shape)}")
    N, T = x.shape[:2]
    p = next(model.parameters())
    is_flow = hasattr(model, "potentials")
    was = model.training
    model.eval()
    state = torch.random.get_rng_state()
    torch.manual_seed(int(rng))
    sums = {"recon": 0.0, "kl_z0": 0.0, "kl_flow": 0.0, "hj": 0.0}
    try:
        for start in range(0, N, batch_size):
            xb = x[start:start + batch_size].to(p.device, p.dtype)
            n = xb.shape[0]
            if is_flow:
                k = None if labels is None else torch.as_tensor(np.asarray(labels))[start:start + n]
                if k is None:
                    k = model.predict_transformation(xb)
                with torch.enable_grad():
                    sup, model.supervision = model.supervision, "supervised"
                    try:
                        out = model.loss({"sequences": xb, "labels": k.long()})
                    finally:
                        model.supervision = sup
                sums["recon"] += float(out["recon"]) * n / T
                sums["kl_z0"] += float(out["kl0"]) * n / T
                sums["kl_flow"] += float(out["kl_flow"]) * n / T
                sums["hj"] += float(out["hj"]) * n
            else:
                out = model.vae.loss(xb.flatten(0, 1))
                sums["recon"] += float(out["recon"]) * n
                sums["kl_z0"] += float(out["kl"]) * n
    finally:
        torch.random.set_rng_state(state)
        model.train(was)
    res = {k: v / N for k, v in sums.items()}
    res["neg_elbo"] = res["recon"] + res["kl_z0"] + res["kl_flow"]
    if not is_flow:
        res.pop("hj")
    return res
