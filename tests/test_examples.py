"""Every script in examples/ runs: tiny settings in the default suite, the defaults with ``-m slow``.

Each example is run as a user runs it (``python examples/<name>.py``, in a temporary working
directory, one torch/BLAS thread). The default-suite runs use the scripts' own flags for small
sizes; the slow runs use the defaults, which the README promises finish in under two minutes.
"""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"

# script → arguments of a tiny run
TINY = {
    "sweep_heatmap.py": ["--points", "3", "--executor", "none", "--out", "sweep"],
    "property_test_mi_estimator.py": ["--examples", "3"],
    "score_latents_each_epoch.py": ["--epochs", "1", "--images", "300"],
    "koopman_sequences.py": ["--steps", "2", "--sequences", "8", "--frames", "4"],
    "flow_mnist.py": ["--steps", "2", "--sequences", "8", "--frames", "3"],
    "beta_vae_dsprites.py": ["--steps", "2", "--images", "2200", "--out", "beta"],
}


def run_example(name: str, args: list[str], cwd: Path, timeout: float = 900) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]),
           "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "NUMBA_NUM_THREADS": "1", "MPLBACKEND": "Agg"}
    res = subprocess.run([sys.executable, str(EXAMPLES / name), *args], cwd=cwd, env=env,
                         capture_output=True, text=True, timeout=timeout)
    assert res.returncode == 0, f"{name} {args} failed:\n{res.stdout[-3000:]}\n{res.stderr[-6000:]}"
    return res


def test_every_example_is_covered():
    assert sorted(p.name for p in EXAMPLES.glob("*.py")) == sorted(TINY)


@pytest.mark.parametrize("name", sorted(TINY))
def test_example_runs_small(name, tmp_path):
    out = run_example(name, TINY[name], tmp_path).stdout
    if name == "sweep_heatmap.py":
        assert len((tmp_path / "sweep" / "sweep.csv").read_text().splitlines()) == 1 + 2 * 9
        assert len(list((tmp_path / "sweep").glob("heatmap-*.png"))) == 2
        # a rerun solves nothing: every point comes from the store
        assert "0 points solved now, 18 read" in run_example(name, TINY[name], tmp_path).stdout
    elif name == "property_test_mi_estimator.py":
        assert out.count("PASS") == 3
    elif name in ("score_latents_each_epoch.py", "koopman_sequences.py", "flow_mnist.py",
                  "beta_vae_dsprites.py"):
        assert "I_m" in out and "SAP" in out


def test_property_example_catches_its_planted_bug(tmp_path):
    env = {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1"}
    res = subprocess.run([sys.executable, str(EXAMPLES / "property_test_mi_estimator.py"), "--buggy",
                          "--examples", "5", "--no-shrink"], cwd=tmp_path, env=env, capture_output=True, text=True,
                         timeout=900)
    assert res.returncode == 1 and "FAIL  test_estimate_matches_exact_mi" in res.stdout, res.stdout


@pytest.mark.slow
@pytest.mark.parametrize("name", [n for n in sorted(TINY) if n != "beta_vae_dsprites.py"])  # its own test below
def test_example_runs_with_defaults(name, tmp_path):
    run_example(name, [], tmp_path)


@pytest.mark.slow
def test_beta_vae_example_defaults_beat_the_untrained_network(tmp_path):
    """The example's claim: with its defaults the trained code scores well above the same network
    untrained — read from the table it prints (trained column, untrained column)."""
    out = run_example("beta_vae_dsprites.py", [], tmp_path).stdout
    table = {}
    for line in out.splitlines():
        parts = line.split()
        if len(parts) == 3 and parts[0] in ("im", "sap", "mig", "gaussian_mig"):
            table[parts[0]] = (float(parts[1]), float(parts[2]))
    assert set(table) == {"im", "sap", "mig", "gaussian_mig"}, out
    for name, (trained, untrained) in table.items():
        assert trained > 1.5 * untrained, (name, trained, untrained)
    assert table["mig"][0] > 0.1 and table["im"][0] > 1.0
