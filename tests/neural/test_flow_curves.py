"""The flow benchmark's learning curves and figures: a smoke run (seconds) writes results.json with
``rows`` (the schema's keys) and ``curve``, the curve figure and the sequence figure; the curve
points are where they should be; the frame downsampling and the held-out ELBO terms."""

import json

import numpy as np
import pytest
import torch

from neural.data import make_mnist_sequences
from neural.data.mnist_sequences import downsample_frames
from neural.flow import FlowFactorizedVAE, ShiftVAE, reconstruction_floor
from neural.flow.curves import elbo_terms

ROW_KEYS = {"model", "seed", "E_scale", "E_rotation", "E_colour", "ll_normal", "ll_bernoulli", "train_s"}


def test_smoke_run_writes_rows_curve_and_figures(tmp_path):
    from analysis.bench.flow import MODELS, format_flow_benchmark, run_flow_benchmark, write_figures, write_results

    res = run_flow_benchmark("cpu", seeds=(0,), train_steps=3, curve_every=2, n_train=16, n_eval=4,
                             n_importance=2, channels=(4, 8), hidden=16, latent_dim=2)
    doc = json.loads(write_results(res, tmp_path).read_text())
    assert {r["model"] for r in doc["rows"]} == set(MODELS)
    assert all(set(r) == ROW_KEYS for r in doc["rows"])
    # every model is measured at steps 2 and 3 (the last step always), with both likelihoods and the terms
    for model in MODELS:
        pts = [p for p in doc["curve"] if p["model"] == model]
        assert [p["step"] for p in pts] == [2, 3]
        assert pts[0]["train_s"] <= pts[1]["train_s"]
        for key in ("E_scale", "E_rotation", "E_colour", "ll_normal", "ll_bernoulli", "recon", "kl_z0",
                    "kl_flow", "neg_elbo", "floor_E_scale"):
            assert np.isfinite(pts[-1][key]), (model, key)
        row = next(r for r in doc["rows"] if r["model"] == model)
        assert row["E_colour"] == pytest.approx(pts[-1]["E_colour"])       # the row is the last point
    vae = [p for p in doc["curve"] if p["model"] == "VAE"][-1]
    assert vae["kl_flow"] == 0.0 and vae["neg_elbo"] == pytest.approx(vae["recon"] + vae["kl_z0"])
    assert doc["config"]["image"] == "3x16x16"
    paths = write_figures(res, tmp_path)
    assert [p.name for p in paths] == ["flow_curves.png", "flow_sequences.png"]
    assert all(p.stat().st_size > 10_000 for p in paths)
    text = format_flow_benchmark(res)
    assert "NOT MET" in text or "MET" in text
    assert "ceiling" in text and "flow KL" in text


def test_downsample_frames_is_a_padded_block_mean():
    rng = np.random.default_rng(0)
    x = rng.random((2, 3, 28, 28)).astype(np.float32)
    y = downsample_frames(x, 16)
    assert y.shape == (2, 3, 16, 16)
    padded = np.zeros((2, 3, 32, 32), dtype=np.float32)
    padded[..., 2:30, 2:30] = x
    brute = np.array([[[[padded[a, c, 2 * i:2 * i + 2, 2 * j:2 * j + 2].mean() for j in range(16)]
                        for i in range(16)] for c in range(3)] for a in range(2)])
    np.testing.assert_allclose(y, brute, rtol=1e-6)
    np.testing.assert_allclose(y.sum() * 4, x.sum(), rtol=1e-5)
    np.testing.assert_array_equal(downsample_frames(x, 28), x)
    ds = make_mnist_sequences(3, n_steps=2, rng=0, image_size=16)
    full = make_mnist_sequences(3, n_steps=2, rng=0)
    assert ds.sequences.shape == (3, 2, 3, 16, 16)
    np.testing.assert_allclose(ds.sequences, downsample_frames(full.sequences, 16))
    for bad in (0, 29, 2.5, True):
        with pytest.raises(ValueError, match="image_size"):
            downsample_frames(x, bad)


def test_elbo_terms_add_up_to_the_model_losses():
    torch.manual_seed(0)
    x = torch.rand(4, 3, 3, 8, 8)
    labels = torch.tensor([0, 1, 2, 0])
    flow = FlowFactorizedVAE(n_frames=3, latent_dim=2, image_size=8, channels=(4,), hidden=8, potential_hidden=8,
                             time_dim=4)
    t = elbo_terms(flow, x, labels, rng=3)
    flow.eval()
    torch.manual_seed(3)
    out = flow.loss({"sequences": x, "labels": labels})
    # per frame = per sequence / T
    assert t["recon"] == pytest.approx(float(out["recon"]) / 3, rel=1e-5)
    assert t["kl_z0"] == pytest.approx(float(out["kl0"]) / 3, rel=1e-5)
    assert t["kl_flow"] == pytest.approx(float(out["kl_flow"]) / 3, rel=1e-5, abs=1e-6)
    vae = ShiftVAE(latent_dim=2, image_size=8, channels=(4,), hidden=8)
    tv = elbo_terms(vae, x)
    assert tv["kl_flow"] == 0.0 and tv["recon"] > 0 and tv["kl_z0"] >= 0
    # the reconstruction floor is the equivariance error with the true frames' own latents
    aligned = torch.rand(2, 3, 3, 3, 8, 8)
    fl = reconstruction_floor(vae, aligned)
    with torch.no_grad():
        rec = vae.decode_mean(vae.encode(aligned[:, 1, 1:].flatten(0, 1)))
        brute = (aligned[:, 1, 1:].flatten(0, 1) - rec).abs().sum() / 2
    assert fl.errors[1] == pytest.approx(float(brute), rel=1e-5)


def test_parallel_run_from_a_script_without_main_guard_equals_the_sequential_run(tmp_path):
    """``jobs=2`` from a plain script (no ``if __name__ == "__main__":``, as users write them) runs
    in loky workers and gives the rows of the sequential run: every training is seeded on its own."""
    import subprocess
    import sys
    from pathlib import Path

    from analysis.bench.flow import run_flow_benchmark

    small = dict(seeds=(0,), train_steps=2, curve_every=2, n_train=16, n_eval=4, n_importance=2,
                 channels=(4, 8), hidden=16, latent_dim=2)
    script = tmp_path / "run.py"
    script.write_text("import json\n"
                      "from analysis.bench.flow import run_flow_benchmark\n"
                      f"res = run_flow_benchmark('cpu', jobs=2, **{small!r})\n"
                      "print('ROWS', json.dumps(res.as_json()['rows']))\n")
    root = Path(__file__).resolve().parents[2]
    env = {**__import__("os").environ, "PYTHONPATH": str(root), "OMP_NUM_THREADS": "1"}
    res = subprocess.run([sys.executable, str(script)], cwd=tmp_path, env=env, capture_output=True,
                         text=True, timeout=600)
    assert res.returncode == 0, res.stderr[-3000:]
    parallel = json.loads(res.stdout.split("ROWS ", 1)[1])
    sequential = run_flow_benchmark("cpu", **small).as_json()["rows"]
    key = lambda r: (r["model"], r["seed"])                             # noqa: E731
    assert [key(r) for r in sorted(parallel, key=key)] == [key(r) for r in sorted(sequential, key=key)]
    for p, s in zip(sorted(parallel, key=key), sorted(sequential, key=key)):
        for k in ("E_scale", "E_rotation", "E_colour", "ll_normal", "ll_bernoulli"):
            assert p[k] == pytest.approx(s[k], rel=1e-5, abs=1e-6), (p["model"], k)
