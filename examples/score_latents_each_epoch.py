"""Scoring your own PyTorch model every epoch
==========================================

Score your own PyTorch model's latents every epoch, inside your own training loop.

From the repository root::

    python examples/score_latents_each_epoch.py               # 6 epochs on 6,000 images (~1 min)
    python examples/score_latents_each_epoch.py --epochs 1 --images 600   # a smoke run

Nothing here comes from :mod:`neural.models` or :class:`neural.train.Trainer`: the model is a
small MLP VAE written in this file and the loop is a plain PyTorch loop, as in your project. The
only lingauss call is :func:`neural.bridge.evaluate_latents`, which accepts any callable mapping an
image batch to latents, estimates the joint covariance of [latents; factors] and scores it with the
same I_m and SAP functions that score the closed-form linear Gaussian solutions. The data are
dSprites-like images generated on the machine (:func:`neural.data.make_dsprites`).
"""

import argparse

import numpy as np
import torch
from torch import nn

from neural.bridge import evaluate_latents
from neural.data import make_dsprites


class MLPVAE(nn.Module):
    """A 64×64 → ``latent_dim`` Gaussian VAE with a Bernoulli decoder; ``beta`` weights the KL."""

    def __init__(self, latent_dim: int = 6, hidden: int = 256, beta: float = 4.0):
        super().__init__()
        self.beta = beta
        self.encoder = nn.Sequential(nn.Flatten(), nn.Linear(64 * 64, hidden), nn.ReLU(),
                                     nn.Linear(hidden, 2 * latent_dim))
        self.decoder = nn.Sequential(nn.Linear(latent_dim, hidden), nn.ReLU(), nn.Linear(hidden, 64 * 64))

    def encode(self, x):
        """Posterior means: the representation that gets scored."""
        return self.encoder(x).chunk(2, dim=1)[0]

    def loss(self, x):
        mu, logvar = self.encoder(x).chunk(2, dim=1)
        z = mu + torch.randn_like(mu) * (0.5 * logvar).exp()
        logits = self.decoder(z)
        rec = nn.functional.binary_cross_entropy_with_logits(logits, x.flatten(1), reduction="sum") / len(x)
        kl = 0.5 * (mu.pow(2) + logvar.exp() - 1 - logvar).sum(1).mean()
        return rec + self.beta * kl, rec, kl


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--epochs", type=int, default=6)
    p.add_argument("--images", type=int, default=6000)
    p.add_argument("--beta", type=float, default=4.0)
    args = p.parse_args(argv)
    if args.epochs < 1 or args.images < 200:
        p.error("--epochs must be ≥ 1 and --images ≥ 200")

    torch.manual_seed(0)
    torch.set_num_threads(1)
    data = make_dsprites(args.images, rng=0)            # factors: shape, scale, orientation, pos_x, pos_y
    n_held = max(100, args.images // 6)
    held_out, train = data.subset(slice(0, n_held)), data.subset(slice(n_held, None))
    x_train = torch.as_tensor(train.images, dtype=torch.float32)

    model = MLPVAE(beta=args.beta)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    gen = torch.Generator().manual_seed(0)
    for epoch in range(1, args.epochs + 1):
        model.train()
        for batch in torch.randperm(len(x_train), generator=gen).split(64):
            loss, rec, kl = model.loss(x_train[batch])
            opt.zero_grad()
            loss.backward()
            opt.step()
        model.eval()
        # shape is categorical (its class order is arbitrary), so score the ordered factors only
        scores = evaluate_latents(model, held_out, n_samples=None,
                                  factors=["scale", "orientation", "pos_x", "pos_y"])
        print(f"epoch {epoch}: loss {loss.item():8.2f} (rec {rec.item():7.2f}, kl {kl.item():5.2f})  "
              f"I_m {scores.im.score:.3f} nats  SAP {scores.sap.score:.3f}")
    print(scores.summary())
    print("I_m assignment (factor -> latent):",
          dict(zip(scores.factor_names, np.asarray(scores.im.assignment).tolist())))


if __name__ == "__main__":
    main()

# sphinx_gallery_thumbnail_path = "figures/bridge_dataflow.png"
