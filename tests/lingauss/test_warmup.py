"""The warm-up registry and the one-line notice when a Numba kernel compiles (fresh caches in
subprocesses, via NUMBA_CACHE_DIR)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

import lingauss
from lingauss import warmup

ROOT = Path(lingauss.__file__).resolve().parents[1]


def _run(code: str, cache_dir: Path, timeout: float = 600) -> subprocess.CompletedProcess:
    env = dict(os.environ, NUMBA_CACHE_DIR=str(cache_dir),
               PYTHONPATH=os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]))
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env,
                          timeout=timeout, cwd=ROOT)


# One small kernel (a few seconds to compile): the notice is generic, so any of ours will do.
_SMALL = """
import numpy as np
from lingauss import warmup
from lingauss.metrics._im_kernels import score_of_masks
LD = np.array([0.0, 0.0, 0.0, -0.5])
R = np.array([[0.0, 0.2, 0.0, 0.3], [0.0, 0.0, 0.1, 0.1]])
v = score_of_masks(np.array([1, 2], dtype=np.int64), LD, R)
print(repr(float(v)), warmup.compile_count())
"""


def test_notice_once_when_compiling_and_silent_from_the_cache(tmp_path):
    cold = _run(_SMALL, tmp_path)
    assert cold.returncode == 0, cold.stderr
    assert cold.stderr.count(warmup.NOTICE) == 1, cold.stderr
    value, compiled = cold.stdout.split()
    # R[0, {0}] + R[1, {1}] - ½ pen({0}, {1}) = 0.2 + 0.1 - ½ (0 + 0 - (-0.5)) = 0.05
    assert float(value) == pytest.approx(0.05, abs=1e-15)
    assert int(compiled) >= 1
    warm = _run(_SMALL, tmp_path)
    assert warm.returncode == 0, warm.stderr
    assert warmup.NOTICE not in warm.stderr
    assert warm.stdout.split() == [value, "0"]        # loaded from the cache: nothing compiled


def test_registry_runs_registered_callables_and_reports(monkeypatch):
    monkeypatch.setattr(warmup, "_REGISTRY", dict(warmup._REGISTRY))
    calls = []
    warmup.register("dummy", lambda: calls.append(1), description="a test warm-up")
    assert warmup.names()[-1] == "dummy"
    lines = []
    reports = warmup.warmup(["dummy"], report=lines.append)
    assert calls == [1]
    assert [(r.name, r.compiled, r.description) for r in reports] == [("dummy", 0, "a test warm-up")]
    assert len(lines) == 2 and "dummy" in lines[0] and "from the cache" in lines[1]

    @warmup.register("dummy2")
    def _second():
        """Docstring line used as the description."""
    assert warmup.warmup(["dummy2"])[0].description == "Docstring line used as the description."


def test_registry_rejects_bad_input(monkeypatch):
    monkeypatch.setattr(warmup, "_REGISTRY", dict(warmup._REGISTRY))
    with pytest.raises(ValueError, match="which"):
        warmup.warmup(["no-such-warm-up"])
    warmup.register("dup", lambda: None)
    with pytest.raises(ValueError, match="already registered"):
        warmup.register("dup", lambda: None)
    with pytest.raises(ValueError, match="name"):
        warmup.register("", lambda: None)
    with pytest.raises(ValueError, match="callable"):
        warmup.register("x", 3)


# The full warm-up on a cold cache compiles every kernel (about 20 s on an idle core, minutes on a
# loaded machine); then a fresh process runs every production path without compiling.
_AFTER = """
import numpy as np, numba
import lingauss as lg
from lingauss import warmup
from analysis.bench import im_benchmark_covariance
cov = im_benchmark_covariance(12, 8)
lg.im_score(cov, 8, method="exact", progress=False)
lg.im_score(cov, 8, method="exact", time_limit=0.001, progress=False)
lg.im_score(im_benchmark_covariance(5, 3), 3, method="exhaustive")
lg.im_score(im_benchmark_covariance(6, 3), 3, method="dp")
lg.im_scores_all(im_benchmark_covariance(4, 3), 3)
if numba.config.NUMBA_NUM_THREADS >= 2:
    lg.im_score(im_benchmark_covariance(16, 8, "random"), 8, method="exact", n_jobs=2, progress=False)
print(warmup.compile_count())
"""

_WARM = """
from collections import Counter
from numba.core import event
seen = Counter()
class L(event.Listener):
    def on_start(self, ev):
        f = ev.data["dispatcher"].py_func
        if f.__module__.startswith("lingauss"):
            seen[f.__qualname__] += 1
    def on_end(self, ev):
        pass
event.register("numba:compile", L())
from lingauss import warmup
warmup.warmup()
print(sorted(k for k, v in seen.items() if v > 1))
"""


@pytest.mark.slow
def test_warm_up_compiles_everything_once_then_nothing_compiles(tmp_path):
    first = _run(_WARM, tmp_path, timeout=3000)
    assert first.returncode == 0, first.stderr
    assert first.stdout.strip() == "[]"            # one specialisation per kernel
    assert warmup.NOTICE not in first.stderr        # the warm-up reports itself instead
    after = _run(_AFTER, tmp_path, timeout=3000)
    assert after.returncode == 0, after.stderr
    assert after.stdout.split()[-1] == "0", after.stderr
    assert warmup.NOTICE not in after.stderr
