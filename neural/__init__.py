"""neural: PyTorch backends whose latents go through the :mod:`lingauss` metric engine.

Requires the ``neural`` extra (``pip install -e ".[neural]"``, torch 2.13.0 CPU build).

* :mod:`neural.data` — datasets with ground-truth factors (``FactorDataset``, ``SequenceDataset``).
* :mod:`neural.train` — ``Trainer``: one seeded, resumable (bit-for-bit), logged trainer with a
  NaN/inf guard for every model implementing ``loss(batch) -> {"loss": ..., terms...}``.
* :mod:`neural.models` — ``LinearGaussianVAE`` (lingauss's A, B, Σ_W, Σ_Z, trained by SGD, with
  ``to_lingauss()``/``exact_loss()``) and the conv β-VAE family ``BetaVAE``, ``BetaTCVAE``,
  ``FactorVAE``, ``DIPVAE`` (``encode(x)`` → posterior means).

* :mod:`neural.koopman` — SKD and SSM-SKD (Hason 2024), attribute swaps, D_sd/D_mf.
* :mod:`neural.flow` — Flow Factorized Representation Learning (Song, Keller, Sebe & Welling 2023).
* :mod:`neural.bridge` — any model's latents through the :mod:`lingauss` metrics.
"""

__all__: list[str] = []
