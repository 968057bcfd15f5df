"""neural: PyTorch backends whose latents go through the :mod:`lingauss` metric engine.

Requires the ``neural`` extra (``pip install -e ".[neural]"``, torch 2.13.0 CPU build).
Datasets, the trainer, the β-VAE family, Koopman and flow models arrive with their issues.
"""

__all__: list[str] = []
