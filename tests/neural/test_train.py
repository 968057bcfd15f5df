"""The trainer: bit-for-bit resume, the NaN/inf guard, logs, seeding and the plateau scheduler."""

import csv
import json
import random

import numpy as np
import pytest
import torch
from torch import nn

from neural.models import FactorVAE, LinearGaussianVAE
from neural.train import FitResult, Trainer, TrainingDiverged, latest_checkpoint


class ToyModel(nn.Module):
    """A loss that draws from torch, numpy and Python RNGs, so resuming must restore all three."""

    def __init__(self, d=3):
        super().__init__()
        self.lin = nn.Linear(d, 2)
        self.drop = nn.Dropout(0.3)

    def loss(self, batch):
        x, t = batch
        pred = self.lin(self.drop(x))
        jitter = 1.0 + 0.1 * float(np.random.rand()) + 0.1 * random.random()
        mse = (pred - t).pow(2).mean()
        return {"loss": jitter * mse, "mse": mse}


def _toy_data(n=37, d=3, seed=0):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(n, d, generator=g)
    return torch.utils.data.TensorDataset(x, x[:, :2] * 2.0 + 0.1 * torch.randn(n, 2, generator=g))


def _params(model):
    return [p.detach().clone() for p in model.parameters()]


def _assert_same(a, b):
    assert len(a) == len(b)
    for p, q in zip(a, b):
        assert torch.equal(p, q)


def _toy_trainer(model, **kw):
    kw = {"lr": 0.05, "seed": 3, "progress": False, "plateau": {"window": 2, "patience": 0}, **kw}
    return Trainer(model, **kw)


@pytest.mark.parametrize("batch_size", [5, None])
def test_resume_is_bit_for_bit(tmp_path, batch_size):
    data = _toy_data()
    N = 11                                   # 37 // 5 = 7 batches/epoch: the checkpoint is mid-epoch
    torch.manual_seed(0)
    straight = ToyModel()
    t = _toy_trainer(straight)
    t.fit(data, steps=2 * N, batch_size=batch_size)

    torch.manual_seed(0)
    first = ToyModel()
    _toy_trainer(first, checkpoint_dir=tmp_path).fit(data, steps=N, batch_size=batch_size)
    ckpt = latest_checkpoint(tmp_path)
    assert ckpt is not None and ckpt.name == f"step_{N:09d}.pt"
    # scramble every RNG and the model init: the checkpoint must restore all of it
    torch.manual_seed(123), np.random.seed(123), random.seed(123)
    second = ToyModel()
    res = _toy_trainer(second, checkpoint_dir=tmp_path).fit(data, steps=2 * N, batch_size=batch_size,
                                                            resume="latest")
    assert res.step == 2 * N and res.steps_run == N
    _assert_same(_params(second), _params(straight))
    assert t.optimizer.param_groups[0]["lr"] < 0.05      # the scheduler did act, and was restored
    # without restoring the RNG states the runs differ: the test can fail
    torch.manual_seed(0)
    third = ToyModel()
    t3 = _toy_trainer(third)
    t3.fit(data, steps=N, batch_size=batch_size)
    torch.manual_seed(99)
    t3.fit(data, steps=2 * N, batch_size=batch_size)
    assert not all(torch.equal(p, q) for p, q in zip(_params(third), _params(straight)))


def test_resume_linear_vae_and_factor_vae(tmp_path):
    """Reparameterisation noise (linear VAE) and the auxiliary optimizer (FactorVAE) resume exactly."""
    y = torch.randn(64, 4, dtype=torch.float64, generator=torch.Generator().manual_seed(1))
    torch.manual_seed(0)
    a = LinearGaussianVAE(4, 3)
    Trainer(a, lr=1e-2, progress=False).fit(y, steps=20, batch_size=16)
    torch.manual_seed(0)
    b = LinearGaussianVAE(4, 3)
    Trainer(b, lr=1e-2, progress=False, checkpoint_dir=tmp_path / "lin").fit(y, steps=10, batch_size=16)
    c = LinearGaussianVAE(4, 3)
    Trainer(c, lr=1e-2, progress=False).fit(y, steps=20, batch_size=16,
                                           resume=latest_checkpoint(tmp_path / "lin"))
    _assert_same(_params(a), _params(c))

    imgs = (torch.rand(16, 1, 64, 64, generator=torch.Generator().manual_seed(2)) > 0.6).float()
    kw = dict(latent_dim=3, channels=(4, 4, 4, 4), hidden=16, discriminator_hidden=16,
              discriminator_layers=2)
    torch.manual_seed(0)
    f1 = FactorVAE(5.0, **kw)
    Trainer(f1, lr=1e-3, aux_lr=1e-2, progress=False).fit(imgs, steps=4, batch_size=8)
    torch.manual_seed(0)
    f2 = FactorVAE(5.0, **kw)
    Trainer(f2, lr=1e-3, aux_lr=1e-2, progress=False, checkpoint_dir=tmp_path / "fv").fit(imgs, steps=2, batch_size=8)
    f3 = FactorVAE(5.0, **kw)
    tr = Trainer(f3, lr=1e-3, aux_lr=1e-2, progress=False, checkpoint_dir=tmp_path / "fv")
    tr.fit(imgs, steps=4, batch_size=8, resume="latest")
    _assert_same(_params(f1), _params(f3))
    assert tr.aux_optimizer.state_dict()["state"]          # the discriminator's Adam state was used


def test_resume_with_a_user_dataloader(tmp_path):
    data = _toy_data()

    def loader():
        return torch.utils.data.DataLoader(data, batch_size=4, shuffle=True,
                                           generator=torch.Generator().manual_seed(7))

    torch.manual_seed(0)
    a = ToyModel()
    _toy_trainer(a).fit(loader(), steps=30)
    torch.manual_seed(0)
    b = ToyModel()
    _toy_trainer(b, checkpoint_dir=tmp_path).fit(loader(), steps=14)   # 10 batches/epoch: epoch 1
    c = ToyModel()
    _toy_trainer(c, checkpoint_dir=tmp_path).fit(loader(), steps=30, resume="latest")
    _assert_same(_params(a), _params(c))


def test_same_seed_same_run_and_seed_matters():
    data = _toy_data()
    runs = []
    for seed in (5, 5, 6):
        torch.manual_seed(0)
        m = ToyModel()
        _toy_trainer(m, seed=seed).fit(data, steps=9, batch_size=4)
        runs.append(_params(m))
    _assert_same(runs[0], runs[1])
    assert not all(torch.equal(p, q) for p, q in zip(runs[0], runs[2]))


class NaNModel(nn.Module):
    """Loss NaN (or, with ``grad_only``, a finite loss with NaN gradients) on chosen calls."""

    def __init__(self, bad_calls, grad_only=False):
        super().__init__()
        self.w = nn.Parameter(torch.tensor([1.0, -2.0]))
        self.bad_calls, self.grad_only, self.calls = set(bad_calls), grad_only, 0

    def loss(self, batch):
        self.calls += 1
        loss = (self.w - batch.mean()).pow(2).sum()
        if self.calls in self.bad_calls:
            loss = loss + (torch.sqrt(self.w[0] * 0.0) if self.grad_only else self.w[0] * float("nan"))
        return {"loss": loss, "w0": self.w[0]}


@pytest.mark.parametrize("grad_only", [False, True])
def test_nan_guard_skips_counts_and_stops(tmp_path, grad_only):
    data = torch.ones(8, 1)
    model = NaNModel(bad_calls={3, 6, 7, 8}, grad_only=grad_only)
    tr = Trainer(model, lr=0.1, progress=False, max_bad_steps=3, log_path=tmp_path / "log.jsonl")
    history = [_params(model)]
    for step in range(1, 6):
        tr.fit(data, steps=step, batch_size=8)
        history.append(_params(model))
    _assert_same(history[3], history[2])                      # step 3 was skipped: no update
    assert not torch.equal(history[4][0], history[3][0])     # step 4 trained again
    assert tr.bad_steps == 1 and tr.consecutive_bad == 0
    with pytest.raises(TrainingDiverged, match=r"stopped at step 8: 3 consecutive steps had a non-finite"
                                               r" loss or gradient") as err:
        tr.fit(data, steps=20, batch_size=8)
    if grad_only:
        assert "non-finite gradients in: w" in str(err.value)
    res = err.value.result
    assert res.status == "diverged" and res.step == 8 and res.bad_steps == 4
    _assert_same(_params(model), history[5])                 # steps 6-8 all skipped
    rows = [json.loads(line) for line in (tmp_path / "log.jsonl").read_text().splitlines()]
    assert [r["step"] for r in rows if r["skipped"]] == [3, 6, 7, 8]
    assert [r["step"] for r in rows] == list(range(1, 9))
    assert all(r["loss"] is None for r in rows if r["skipped"] and not grad_only)


def test_nan_guard_total_policy_and_stop_status():
    model = NaNModel(bad_calls={2, 4})
    tr = Trainer(model, lr=0.1, progress=False, max_bad_steps=2, bad_step_policy="total",
                 on_divergence="stop")
    res = tr.fit(torch.ones(4, 1), steps=10, batch_size=4)
    assert isinstance(res, FitResult)
    assert res.status == "diverged" and res.step == 4 and res.bad_steps == 2
    assert "2 steps had a non-finite" in res.message and "'total'" in res.message
    # with the consecutive policy the same isolated NaNs never stop training
    model = NaNModel(bad_calls={2, 4})
    res = Trainer(model, lr=0.1, progress=False, max_bad_steps=2).fit(torch.ones(4, 1), steps=10)
    assert res.status == "completed" and res.bad_steps == 2


@pytest.mark.parametrize("suffix", [".csv", ".jsonl"])
def test_log_file_rows(tmp_path, suffix):
    path = tmp_path / f"metrics{suffix}"
    torch.manual_seed(0)
    tr = _toy_trainer(ToyModel(), log_path=path, log_every=2, checkpoint_dir=tmp_path / "ck",
                      checkpoint_every=4)
    tr.fit(_toy_data(), steps=10, batch_size=4)
    if suffix == ".csv":
        with open(path, newline="") as fh:
            rows = list(csv.DictReader(fh))
    else:
        rows = [json.loads(line) for line in path.read_text().splitlines()]
    assert [int(r["step"]) for r in rows] == [2, 4, 6, 8, 10]
    for key in ("loss", "mse", "lr", "grad_norm", "skipped", "epoch", "time"):
        assert key in rows[0]
    assert all(np.isfinite(float(r["loss"])) for r in rows)
    assert sorted(p.name for p in (tmp_path / "ck").iterdir()) == [
        "step_000000004.pt", "step_000000008.pt", "step_000000010.pt"]
    # resuming from step 8 drops the rows the interrupted run wrote after it, then appends
    tr2 = _toy_trainer(ToyModel(), log_path=path, log_every=2)
    tr2.fit(_toy_data(), steps=12, batch_size=4, resume=tmp_path / "ck" / "step_000000008.pt")
    if suffix == ".csv":
        with open(path, newline="") as fh:
            steps = [int(r["step"]) for r in csv.DictReader(fh)]
    else:
        steps = [json.loads(line)["step"] for line in path.read_text().splitlines()]
    assert steps == [2, 4, 6, 8, 10, 12]


def test_plateau_reduces_lr_on_a_flat_loss():
    class Flat(nn.Module):
        def __init__(self):
            super().__init__()
            self.w = nn.Parameter(torch.zeros(1))

        def loss(self, batch):
            return {"loss": 0.0 * self.w.sum() + 1.0}

    tr = Trainer(Flat(), lr=1.0, progress=False, plateau={"window": 5, "patience": 1, "factor": 0.1})
    tr.fit(torch.zeros(3, 1), steps=30)
    # window 1 sets the best; a reduction needs patience + 1 = 2 flat windows: 6 windows -> 2 cuts
    assert tr.optimizer.param_groups[0]["lr"] == pytest.approx(1e-2)


def test_bad_arguments():
    with pytest.raises(TypeError, match="loss"):
        Trainer(nn.Linear(2, 2))
    with pytest.raises(ValueError, match="optimizer"):
        Trainer(ToyModel(), optimizer="lbfgs")
    with pytest.raises(ValueError, match="bad_step_policy"):
        Trainer(ToyModel(), bad_step_policy="sometimes")
    with pytest.raises(ValueError, match="plateau"):
        Trainer(ToyModel(), plateau={"patients": 3})
    with pytest.raises(ValueError, match="steps"):
        Trainer(ToyModel(), progress=False).fit(_toy_data(), steps=-1)


def test_progress_bar_shows_loss_terms_and_device_choice(capsys):
    torch.manual_seed(0)
    tr = Trainer(ToyModel(), lr=0.01, progress=True, progress_every=1)
    tr.fit(_toy_data(), steps=3, batch_size=8)
    err = capsys.readouterr().err
    assert "ToyModel" in err and "loss=" in err and "mse=" in err
    assert Trainer(ToyModel(), progress=False).device == torch.device("cpu")
    auto = Trainer(ToyModel(), device="auto", progress=False).device.type
    assert auto == ("cuda" if torch.cuda.is_available() else "cpu")
