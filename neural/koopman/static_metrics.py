r"""The lingauss metrics of a Koopman model's static channels: I_m and SAP against the static factors.

The same trained latents go through :func:`neural.bridge.evaluate_latents` (hence
:func:`lingauss.joint_covariance_from_samples`, :func:`lingauss.im_score`, :func:`lingauss.sap_score`):
each sequence contributes one sample, its static code (``model.static_codes``: SSM-SKD the time
mean of the static representation S = Z P, k channels; SKD the time mean of the static mode
coefficients Z V_S as [Re, Im], 2s channels, in a basis fixed on the evaluated set), paired with its
static factors (class indices; see the bridge's note on ordinal codes for categorical factors).
A channel that is constant (e.g. Im of a real mode) is dropped. If the sample covariance is
singular (the static representation of SSM-SKD has rank one per sequence, so its k channels can be
nearly collinear) and ``shrinkage`` is ``None``, the call is retried with Ledoit–Wolf shrinkage,
reported in ``StaticChannelMetrics.shrinkage``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from neural.bridge import BridgeResult, evaluate_latents

from .metrics import eval_mode, model_device

__all__ = ["StaticChannelMetrics", "static_channel_metrics", "static_codes"]


@dataclass(frozen=True, eq=False)
class StaticChannelMetrics:
    """``im`` (nats) and ``sap`` scores, the ``bridge`` result, the ``channels`` kept (indices into
    the static codes) and the ``shrinkage`` used."""

    im: float
    sap: float
    bridge: BridgeResult
    channels: tuple
    shrinkage: object


@torch.no_grad()
def static_codes(model, sequences: np.ndarray, batch_size: int = 64) -> np.ndarray:
    """(N, m) float64 static codes of ``sequences`` (N, T, C, H, W) in eval mode; prepares SKD's basis first."""
    x = torch.as_tensor(np.asarray(sequences), dtype=torch.float32).to(model_device(model))
    with eval_mode(model):
        if callable(getattr(model, "prepare_evaluation", None)):
            model.prepare_evaluation(x)
        return torch.cat([model.static_codes(x[i:i + batch_size]) for i in range(0, len(x), batch_size)]
                         ).double().cpu().numpy()


class _StaticSamples:
    def __init__(self, codes, factors, names):
        self.images, self.factors, self.factor_names = codes, factors, names


def static_channel_metrics(model, data, *, n_samples: int | None = None, rng=None, shrinkage=None,
                           batch_size: int = 64) -> StaticChannelMetrics:
    """I_m and SAP of the static codes of ``model`` on a SequenceDataset ``data`` (module doc)."""
    idx = np.arange(len(data))
    if n_samples is not None and n_samples < len(data):
        from lingauss._validation import as_rng

        idx = np.sort(as_rng(rng).choice(len(data), size=int(n_samples), replace=False))
    codes = static_codes(model, data.sequences[idx], batch_size)
    keep = np.nonzero(np.ptp(codes, axis=0) > 1e-12 * max(1.0, float(np.abs(codes).max())))[0]
    codes = codes[:, keep]
    names = tuple(n for n, s in zip(data.factor_names, data.factor_static) if s)
    samples = _StaticSamples(codes, data.static_factors[idx].astype(np.float64), names)
    ident = lambda z: np.asarray(z)  # noqa: E731 — the codes are already the latents
    try:
        res = evaluate_latents(ident, samples, n_samples=None, shrinkage=shrinkage)
        used = shrinkage
    except ValueError:
        if shrinkage is not None:
            raise
        used = "ledoit_wolf"
        res = evaluate_latents(ident, samples, n_samples=None, shrinkage=used)
    return StaticChannelMetrics(im=float(res.im.score), sap=float(res.sap.score), bridge=res,
                                channels=tuple(int(c) for c in keep), shrinkage=used)
