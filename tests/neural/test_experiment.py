"""neural.experiment / `lingauss train vae` / the neural rows of `lingauss compare`, tiny sizes."""

import json

import numpy as np
import pytest
import torch

from analysis.cli import main
from neural.experiment import MODELS, build_model, load_dataset, train_vae


def test_train_vae_writes_a_report_that_matches_the_saved_model(tmp_path):
    r = train_vae(n_images=240, steps=6, batch_size=16, latent_dim=3, out=tmp_path, eval_samples=60,
                  progress=False, metrics=("im", "sap"))
    assert r["training"]["status"] == "completed" and r["training"]["step"] == 6
    saved = json.loads((tmp_path / "report.json").read_text())
    assert saved["metrics"]["im"]["score"] == pytest.approx(r["metrics"]["im"]["score"])
    assert saved["metrics"]["im"]["units"] == "nats" and set(saved["metrics"]) == {"im", "sap"}
    assert (tmp_path / "report.md").read_text().startswith("# betavae")
    assert len((tmp_path / "log.jsonl").read_text().splitlines()) == 6
    assert sorted(p.name for p in (tmp_path / "checkpoints").iterdir())[-1] == "step_000000006.pt"
    # resuming to a later step continues the same run
    r2 = train_vae(n_images=240, steps=8, batch_size=16, latent_dim=3, out=tmp_path, eval_samples=60,
                   progress=False, metrics=("im",), resume=True)
    assert r2["training"]["step"] == 8
    assert len((tmp_path / "log.jsonl").read_text().splitlines()) == 8


@pytest.mark.parametrize("name", MODELS)
def test_every_model_of_the_family_builds_and_has_a_finite_loss(name):
    model = build_model(name, weight=2.0, in_channels=1, latent_dim=3, dataset_size=100)
    x = torch.rand(4, 1, 64, 64).round()
    out = model.loss(x)
    assert torch.isfinite(out["loss"]) and model.encode(x).shape == (4, 3)


def test_real_file_loading_and_argument_errors(tmp_path):
    N = 40
    rng = np.random.default_rng(0)
    classes = np.column_stack([np.zeros(N), rng.integers(0, 3, N), rng.integers(0, 6, N),
                               rng.integers(0, 40, N), rng.integers(0, 32, N), rng.integers(0, 32, N)])
    np.savez(tmp_path / "d.npz", imgs=rng.integers(0, 2, (N, 64, 64)).astype(np.uint8),
             latents_classes=classes.astype(np.int64), latents_values=classes.astype(float))
    data = load_dataset(data_file=tmp_path / "d.npz", n_images=20)
    assert len(data) == 20 and data.image_shape == (1, 64, 64)
    with pytest.raises(ValueError, match="data_file"):
        load_dataset(data_file=tmp_path / "missing.npz")
    with pytest.raises(ValueError, match="dataset"):
        load_dataset("mnist")
    with pytest.raises(ValueError, match="model"):
        train_vae(model="vqvae", out=tmp_path)
    with pytest.raises(ValueError, match="steps"):
        train_vae(steps=0, out=tmp_path)


def test_train_cli(tmp_path, capsys):
    assert main(["train", "vae", "--n-images", "200", "--steps", "3", "--batch-size", "8",
                 "--latent-dim", "2", "--eval-samples", "40", "--out", str(tmp_path), "--quiet"]) == 0
    out = capsys.readouterr().out
    assert "I_m =" in out and "SAP =" in out and "training completed" in out
    assert main(["train", "vae", "--weight", "-1", "--out", str(tmp_path)]) == 2
    assert "weight must be ≥ 0" in capsys.readouterr().err


def test_neural_rows_for_compare():
    from analysis.compare import METRIC_COLUMNS, neural_rows

    rows = neural_rows(betas=(1.0,), steps=3, n_images=400, n_eval=150, latent_dim=3, progress=False)
    assert len(rows) == 1 and rows[0]["source"] == "beta-VAE beta=1"
    assert all(np.isfinite(rows[0][c]) for c in METRIC_COLUMNS)
