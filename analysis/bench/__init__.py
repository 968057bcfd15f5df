"""Benchmarks: timed and scored comparisons printed as tables (run by ``lingauss bench``, never by
the tests).

* :mod:`analysis.bench.runner` — what every benchmark shares (configuration, seeds, threads, device,
  mean ± std, JSON-ready values, the atomic ``results.json``).
* :mod:`analysis.bench.core` — the compiled Blahut–Arimoto kernel vs numpy batched, threads, per point.
* :mod:`analysis.bench.im` — naive vs exhaustive vs exact I_m, and the exact search at scale.
* :mod:`analysis.bench.koopman` — SKD and SSM-SKD next to Hason's (2024) table (needs torch).
* :mod:`analysis.bench.flow` — Flow Factorized Representation Learning next to Song et al.'s (2023)
  Table 1 (needs torch).
* :mod:`analysis.bench.metrics` — SAP and DCI, ours vs disent and disentanglement_lib's formulas.

The core and I_m names are re-exported here; the neural benchmarks are imported from their modules.
"""

from .core import CoreBenchmark, bench_core, format_core
from .im import (IM_SCALE_SIZES, IM_SCALE_TARGETS, IM_SIZES, IMBenchRow, IMScaleRow, bench_im, bench_im_scale,
                 format_im, format_im_scale, im_benchmark_covariance, naive_im, structured_im_covariance)

__all__ = ["CoreBenchmark", "IMBenchRow", "IMScaleRow", "IM_SCALE_SIZES", "IM_SCALE_TARGETS", "IM_SIZES",
           "bench_core", "bench_im", "bench_im_scale", "format_core", "format_im", "format_im_scale",
           "im_benchmark_covariance", "naive_im", "structured_im_covariance"]
