r"""The latent → metric bridge: any model's representation through the same :mod:`lingauss` metrics.

:func:`evaluate_latents` encodes (a random subset of) a dataset, estimates the joint covariance of
[latents; factors] (latents first, as everywhere) with :func:`lingauss.joint_covariance_from_samples`,
and calls the same functions a linear Gaussian solution goes through: :func:`lingauss.im_score`,
:func:`lingauss.sap_score` — plus, on request, the sample-based standard suite (MIG, Gaussian
MIG, SAP with classifiers, DCI, modularity/explicitness).

How factors enter the covariance (documented reading):

* a continuous factor enters as its value;
* a discrete factor enters as its class index 0..K−1 (an ordinal code). That is exact for ordered
  factors (scale, position, orientation bins) and arbitrary for categorical ones (shape): their
  linear correlations — hence I_m and SAP — depend on the class order. Pass ``factors=`` to leave
  such a factor out, or one-hot it yourself before calling;
* a factor that is constant on the evaluated samples carries no information and would make the
  covariance singular: it is dropped and listed in ``dropped_factors``.

A collapsed code (the posterior equal to the prior, KL ≈ 0) still gets scores — of noise. For a
VAE with a standard normal prior (a model with ``encode_distribution``, every
:mod:`neural.models` VAE) the bridge counts the *active* latents, those whose posterior mean
varies over the data by more than :data:`ACTIVE_UNIT_VARIANCE` = 0.01 (the active-unit rule of
Burda, Grosse & Salakhutdinov 2016; an inactive latent carries KL ≈ 0). With none active the result
is ``collapsed`` and its summary says that the scores rest on a collapsed code and that a grouping
is not a recovered one, instead of reporting a success.

The encoder can be a model with ``encode(x)`` (a torch module gets a float32 tensor on its device,
under ``torch.no_grad``), a torch module's ``forward``, or any callable mapping a numpy batch
(B, C, H, W) to (B, m) latents — users plug in their own models.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

import lingauss as lg
from lingauss.params import InvalidParameter
from lingauss._validation import as_rng

__all__ = ["BridgeResult", "encode_dataset", "evaluate_latents", "METRICS", "ACTIVE_UNIT_VARIANCE"]

#: A latent of a VAE is active when Var_x E[z | x] exceeds this (Burda et al. 2016; module doc).
ACTIVE_UNIT_VARIANCE = 0.01

#: Metric names accepted by :func:`evaluate_latents`: the registry's covariance and sample metrics
#: (:func:`lingauss.metrics.registry`).
METRICS = lg.metrics.metric_names("covariance", "samples")


@dataclass(frozen=True, eq=False)
class BridgeResult:
    """What :func:`evaluate_latents` computed.

    ``metrics``: requested metric name → result (:func:`lingauss.metrics.evaluate_metrics`; every
    result has ``score``); ``joint_cov``: the (m+s')×(m+s') covariance used (latents first, kept
    factors only); ``latents`` (N, m) and ``factors`` (N, s') the samples; ``factor_names`` the kept
    factors, ``dropped_factors`` those left out for being constant; ``index`` the dataset rows
    used; ``success``: I_m/SAP success against ``true_grouping`` when one was given.
    """

    metrics: dict
    joint_cov: np.ndarray
    latents: np.ndarray
    factors: np.ndarray
    factor_names: tuple[str, ...]
    dropped_factors: tuple[str, ...]
    index: np.ndarray
    success: dict = field(default_factory=dict)
    active: tuple | None = None

    @property
    def collapsed(self) -> bool:
        """No active latent (module doc): the scores rest on a collapsed code."""
        return self.active is not None and not any(self.active)

    @property
    def im(self):
        """The :class:`lingauss.IMResult`, or ``None`` when I_m was not requested."""
        return self.metrics.get("im")

    @property
    def sap(self):
        """The :class:`lingauss.SAPResult`, or ``None`` when SAP was not requested."""
        return self.metrics.get("sap")

    def scores(self) -> dict:
        """Metric name → ``score`` (a float)."""
        return {name: float(res.score) for name, res in self.metrics.items()}

    def summary(self) -> str:
        """One line per metric (label, score, units, diagnostics), then the successes."""
        lines = lg.metrics.summary_lines(self.metrics, self.factor_names)
        if self.active is not None:
            lines.append(f"active latents: {sum(self.active)} of {len(self.active)} (variance of the "
                         f"posterior mean over the data > {ACTIVE_UNIT_VARIANCE:g}, Burda et al. 2016)")
        if self.collapsed:
            lines.append("COLLAPSED CODE: no latent is active (KL ≈ 0): the scores above rest on a "
                         "collapsed code and no grouping is recovered")
            lines += [f"{name} success: not claimed (collapsed code; the reading gave {s.outcome})"
                      for name, s in self.success.items()]
        else:
            lines += [f"{name} success: {s.outcome}" for name, s in self.success.items()]
        return "\n".join(lines)


def _is_torch_module(obj) -> bool:
    try:
        import torch
    except ImportError:
        return False
    return isinstance(obj, torch.nn.Module)


def encode_dataset(model_or_encode_fn, images: np.ndarray, *, batch_size: int = 256) -> np.ndarray:
    """Latents (N, m) float64 of ``images`` (N, C, H, W) in batches (see module doc for callables)."""
    if not isinstance(batch_size, (int, np.integer)) or batch_size < 1:
        raise InvalidParameter(f"batch_size must be a positive integer, got {batch_size!r}")
    fn = getattr(model_or_encode_fn, "encode", model_or_encode_fn)
    if not callable(fn):
        raise InvalidParameter("model_or_encode_fn must have an encode method or be callable")
    torch_model = _is_torch_module(model_or_encode_fn)
    out = []
    if torch_model:
        import torch

        params = list(model_or_encode_fn.parameters())
        device = params[0].device if params else torch.device("cpu")
        was_training = model_or_encode_fn.training
        model_or_encode_fn.eval()
        try:
            with torch.no_grad():
                for start in range(0, len(images), batch_size):
                    x = torch.as_tensor(np.ascontiguousarray(images[start:start + batch_size]),
                                        dtype=torch.float32, device=device)
                    out.append(fn(x).detach().cpu().numpy())
        finally:
            model_or_encode_fn.train(was_training)
    else:
        for start in range(0, len(images), batch_size):
            z = fn(images[start:start + batch_size])
            out.append(z.detach().cpu().numpy() if hasattr(z, "detach") else np.asarray(z))
    latents = np.concatenate(out).astype(np.float64)
    if latents.ndim == 1:
        latents = latents[:, None]
    if latents.ndim != 2 or latents.shape[0] != len(images):
        raise InvalidParameter(f"the encoder must map N images to an (N, m) array, got shape {latents.shape}")
    if not np.all(np.isfinite(latents)):
        raise InvalidParameter("the encoder produced NaN or inf latents")
    return latents


def evaluate_latents(model_or_encode_fn, dataset, *, n_samples: int | None = 5000,
                     metrics=("im", "sap"), rng=None, factors=None, shrinkage=None,
                     batch_size: int = 256, true_grouping=None, metric_options=None) -> BridgeResult:
    """Encode ``dataset`` and score the latents against its factors with the lingauss metrics.

    Parameters
    ----------
    model_or_encode_fn : a model with ``encode``, a torch module, or a callable (module doc)
    dataset : a :class:`neural.data.FactorDataset` (a ``SequenceDataset`` is evaluated frame by
        frame via its ``frames()``) or any object with ``images`` and ``factors`` arrays
    n_samples : rows drawn without replacement (seeded by ``rng``); ``None`` = all
    metrics : names from :data:`METRICS` (the metric registry's covariance and sample metrics)
    factors : indices or names of the factors to use (default all)
    shrinkage : passed to :func:`lingauss.joint_covariance_from_samples` (e.g. ``"ledoit_wolf"``)
    true_grouping : optional partition of the kept factors; adds I_m/SAP successes
    metric_options : optional mapping metric name → keyword arguments (e.g. ``{"dci": {...}}``)

    Returns
    -------
    BridgeResult
    """
    if hasattr(dataset, "frames") and not hasattr(dataset, "images"):
        dataset = dataset.frames()
    images, all_factors = np.asarray(dataset.images), np.asarray(dataset.factors, dtype=np.float64)
    names = tuple(getattr(dataset, "factor_names", [f"v{j + 1}" for j in range(all_factors.shape[1])]))
    metrics = tuple(metrics)
    bad = [m for m in metrics if m not in METRICS]
    if bad or not metrics:
        raise InvalidParameter(f"metrics must be a non-empty selection of {METRICS}, got {metrics}")
    N = len(images)
    if n_samples is None or n_samples >= N:
        index = np.arange(N)
    else:
        if not isinstance(n_samples, (int, np.integer)) or n_samples < 2:
            raise InvalidParameter(f"n_samples must be an integer ≥ 2 or None, got {n_samples!r}")
        index = np.sort(as_rng(rng).choice(N, size=int(n_samples), replace=False))
    cols = list(range(all_factors.shape[1]))
    if factors is not None:
        try:
            cols = [names.index(f) if isinstance(f, str) else int(f) for f in factors]
        except ValueError:
            raise InvalidParameter(f"factors must be indices or names among {names}, got {factors!r}") from None
        if not cols or any(not 0 <= c < len(names) for c in cols):
            raise InvalidParameter(f"factors must be indices or names among {names}, got {factors!r}")
    V = all_factors[index][:, cols]
    constant = np.ptp(V, axis=0) == 0
    dropped = tuple(names[c] for c, k in zip(cols, constant) if k)
    kept = [c for c, k in zip(cols, constant) if not k]
    if not kept:
        raise InvalidParameter("every selected factor is constant on the evaluated samples")
    V = all_factors[index][:, kept]
    Z = encode_dataset(model_or_encode_fn, images[index], batch_size=batch_size)
    dead = np.nonzero(np.ptp(Z, axis=0) == 0)[0]
    if dead.size and shrinkage is None:
        raise InvalidParameter(f"latent(s) {dead.tolist()} are constant on the evaluated samples: the joint "
                         "covariance is singular; pass shrinkage='ledoit_wolf' or drop those latents")
    cov = lg.joint_covariance_from_samples(Z, V, shrinkage=shrinkage)
    results = lg.metrics.evaluate_metrics(Z, V, joint_cov=cov, names=metrics, rng=rng,
                                          options=metric_options)
    success = {}
    if true_grouping is not None:
        if "im" in results:
            success["im"] = lg.im_success(results["im"], true_grouping)
        if "sap" in results:
            success["sap"] = lg.sap_success(results["sap"], true_grouping)
    active = (tuple(bool(a) for a in np.var(Z, axis=0) > ACTIVE_UNIT_VARIANCE)
              if hasattr(model_or_encode_fn, "encode_distribution") else None)
    return BridgeResult(metrics=results, joint_cov=cov, latents=Z, factors=V,
                        factor_names=tuple(names[c] for c in kept), dropped_factors=dropped,
                        index=index, success=success, active=active)
