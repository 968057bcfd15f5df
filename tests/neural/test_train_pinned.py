"""Training behaviours a resume or a report depends on: a setting recorded on only one side of a
resume is a difference (either side), exactly ``keep_checkpoints`` newest checkpoints are kept,
and ``lingauss train`` exits 1 when the training did not complete."""

import json

import pytest
import torch
from torch import nn

from analysis.cli import main
from neural.train import Trainer


class Toy(nn.Module):
    def __init__(self):
        super().__init__()
        self.lin = nn.Linear(3, 2)

    def loss(self, batch):
        x, t = batch
        return {"loss": (self.lin(x) - t).pow(2).mean()}


class Poisoned(Toy):
    """Every loss is NaN: the guard must stop the run (status not "completed")."""

    def loss(self, batch):
        return {"loss": super().loss(batch)["loss"] * float("nan")}


def _data():
    g = torch.Generator().manual_seed(0)
    x = torch.randn(20, 3, generator=g)
    return torch.utils.data.TensorDataset(x, x[:, :2])


def _rewrite_settings(path, edit):
    state = torch.load(path, weights_only=True)
    settings = json.loads(state["settings"])
    edit(settings)
    state["settings"] = json.dumps(settings, sort_keys=True)
    torch.save(state, path)


@pytest.mark.parametrize("side", ["only_in_checkpoint", "only_now"])
def test_a_setting_present_on_one_side_only_refuses_the_resume(tmp_path, side):
    Trainer(Toy(), seed=1, progress=False, checkpoint_dir=tmp_path,
            config={"beta": 4.0}).fit(_data(), 2, batch_size=5)
    ckpt = tmp_path / "step_000000002.pt"
    if side == "only_in_checkpoint":
        _rewrite_settings(ckpt, lambda s: s.update(extra_knob=3))
    else:
        _rewrite_settings(ckpt, lambda s: s.pop("beta"))     # a config key the checkpoint lacks
    again = Trainer(Toy(), seed=1, progress=False, checkpoint_dir=tmp_path, config={"beta": 4.0})
    with pytest.raises(ValueError, match="other settings") as e:
        again.fit(_data(), 4, batch_size=5, resume="latest")
    assert ("extra_knob" if side == "only_in_checkpoint" else "beta") in str(e.value)


@pytest.mark.parametrize("keep", [1, 2, 3])
def test_exactly_the_newest_keep_checkpoints_are_kept(tmp_path, keep):
    Trainer(Toy(), seed=0, progress=False, checkpoint_dir=tmp_path, checkpoint_every=1,
            keep_checkpoints=keep).fit(_data(), 6, batch_size=5)
    left = sorted(p.name for p in tmp_path.glob("step_*.pt"))
    assert left == [f"step_{k:09d}.pt" for k in range(6 - keep + 1, 7)]


def test_a_stopped_training_reports_it_and_the_cli_exits_1(tmp_path, capsys, monkeypatch):
    res = Trainer(Poisoned(), seed=0, progress=False, max_bad_steps=3, on_divergence="stop").fit(_data(), 20, batch_size=5)
    assert res.status != "completed" and res.step < 20
    argv = ["train", "vae", "--n-images", "120", "--steps", "30", "--batch-size", "16",
            "--latent-dim", "2", "--eval-samples", "20", "--out", str(tmp_path), "--quiet",
            "--lr", "1e30"]
    code = main(argv)
    report = json.loads((tmp_path / "report.json").read_text())
    assert report["training"]["status"] != "completed"      # lr 1e30: the guard stops it
    assert code == 1
