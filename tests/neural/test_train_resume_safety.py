"""Checkpoints: safe to open (weights_only), settings stored and a changed resume refused, the NaN
guard's threshold reported."""

import os
import pickle
import random

import numpy as np
import pytest
import torch
from torch import nn

from analysis.cli import main
from neural.train import Trainer


class Toy(nn.Module):
    def __init__(self, d=3):
        super().__init__()
        self.lin = nn.Linear(d, 2)

    def loss(self, batch):
        x, t = batch
        jitter = 1.0 + 0.1 * float(np.random.rand()) + 0.1 * random.random()
        return {"loss": jitter * (self.lin(x) - t).pow(2).mean()}


def _data():
    g = torch.Generator().manual_seed(0)
    x = torch.randn(20, 3, generator=g)
    return torch.utils.data.TensorDataset(x, x[:, :2])


def test_checkpoints_load_with_weights_only_and_restore_every_rng(tmp_path):
    t = Trainer(Toy(), seed=1, progress=False, checkpoint_dir=tmp_path)
    t.fit(_data(), 3, batch_size=5)
    path = tmp_path / "step_000000003.pt"
    state = torch.load(path, weights_only=True)            # raises if anything is pickled
    # the stored states are the live ones at the save
    np_state, py_state = np.random.get_state(), random.getstate()
    assert np.array_equal(state["rng"]["numpy"]["keys"].numpy().astype(np.uint32), np_state[1])
    assert state["rng"]["numpy"]["pos"] == np_state[2]
    assert tuple(state["rng"]["python"]["state"].tolist()) == py_state[1]
    np.random.seed(99)
    random.seed(99)
    t2 = Trainer(Toy(), seed=1, progress=False)
    t2.load_checkpoint(path)
    assert np.array_equal(np.random.get_state()[1], np_state[1]) and random.getstate() == py_state


class _Payload:
    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (open, (self.marker, "w"))                   # would create a file when unpickled


def test_a_crafted_pickle_checkpoint_is_refused_without_running_it(tmp_path):
    marker = tmp_path / "ran"
    bad = tmp_path / "step_000000001.pt"
    torch.save({"format": 2, "payload": _Payload(str(marker))}, bad)
    assert not marker.exists()
    t = Trainer(Toy(), progress=False)
    with pytest.raises(ValueError, match="could run code"):
        t.load_checkpoint(bad)
    assert not marker.exists()
    with open(tmp_path / "plain.pt", "wb") as fh:          # a bare pickle, not even a torch file
        pickle.dump(_Payload(str(marker)), fh)
    with pytest.raises(ValueError):
        t.load_checkpoint(tmp_path / "plain.pt")
    assert not marker.exists()


def test_resume_with_other_settings_is_refused_naming_them(tmp_path):
    Trainer(Toy(), seed=1, lr=1e-3, progress=False, checkpoint_dir=tmp_path,
            config={"beta": 4.0, "latent_dim": 10}).fit(_data(), 2, batch_size=5)
    other = Trainer(Toy(), seed=1, lr=1e-2, progress=False, checkpoint_dir=tmp_path,
                    config={"beta": 8.0, "latent_dim": 10})
    with pytest.raises(ValueError) as e:
        other.fit(_data(), 4, batch_size=5, resume="latest")
    msg = str(e.value)
    assert "beta 4.0 in the checkpoint vs 8.0 now" in msg and "lr" in msg and "latent_dim" not in msg
    same = Trainer(Toy(), seed=1, lr=1e-3, progress=False, checkpoint_dir=tmp_path,
                   config={"beta": 4.0, "latent_dim": 10})
    assert same.fit(_data(), 4, batch_size=5, resume="latest").step == 4


def test_nan_guard_threshold_is_in_the_result():
    r = Trainer(Toy(), max_bad_steps=7, bad_step_policy="total", progress=False).fit(_data(), 1, batch_size=5)
    assert "7" in r.nan_guard and "total" in r.nan_guard


def test_cli_resume_with_another_beta_is_one_line_exit_2(tmp_path, capsys):
    base = ["train", "vae", "--n-images", "120", "--steps", "2", "--batch-size", "16", "--latent-dim", "2",
            "--eval-samples", "20", "--out", str(tmp_path), "--quiet"]
    assert main(base + ["--beta", "4"]) == 0
    assert "NaN guard: " in (tmp_path / "report.md").read_text()
    capsys.readouterr()
    assert main(base + ["--beta", "8", "--steps", "4", "--resume"]) == 2
    err = capsys.readouterr().err
    assert "weight 4.0 in the checkpoint vs 8.0 now" in err and err.count("\n") == 1
    assert main(base + ["--latent-dim", "3", "--steps", "4", "--resume"]) == 2
    assert "latent_dim 2 in the checkpoint vs 3 now" in capsys.readouterr().err
    assert os.path.exists(tmp_path / "checkpoints" / "step_000000002.pt")
