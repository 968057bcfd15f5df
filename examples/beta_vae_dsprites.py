"""A β-VAE on dSprites-like images
===============================

A β-VAE on dSprites-like images (generated here), scored with I_m and SAP from lingauss.

From the repository root::

    python examples/beta_vae_dsprites.py            # see "What to expect" below
    python examples/beta_vae_dsprites.py --steps 50 # a smoke run

It trains with the one trainer (checkpoints + log in ./example-beta-vae/), then encodes held-out
images and evaluates the posterior means against the factors with the same metric engine that
scores the closed-form linear Gaussian solutions — printed beside the same network untrained (a
randomly initialised encoder, the floor every trained score must clear), with the number of
active latents (a collapsed code, KL ≈ 0, is said as such: :mod:`neural.bridge`).

What to expect: the defaults (2,000 steps of 64 images at 32 × 32 — dSprites pooled 2 × 2 —
on one CPU thread) take about 1 min 40 s on a 2-core machine. Measured with seed 0: the trained
code scores I_m 2.40 nats, SAP 0.52, MIG 0.17 and Gaussian MIG 0.63 against the untrained
network's 0.24, 0.04, 0.02 and 0.30; three of six latents are active and carry scale and the two
positions (orientation is not learned this early). That is a code well above its floor, not a
fully disentangled one: the β-VAE papers train for ~300,000 steps on 737,280 images at 64 × 64.
The reconstruction term is summed over 1,024 pixels here instead of 4,096, so β = 8 weighs the KL
term against it about as β = 32 would at 64 × 64.
"""

import argparse

import torch

from neural.bridge import evaluate_latents
from neural.data import make_dsprites
from neural.models import BetaVAE
from neural.train import Trainer


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--steps", type=int, default=2000)
    p.add_argument("--beta", type=float, default=8.0)
    p.add_argument("--images", type=int, default=10_000)
    p.add_argument("--out", default="example-beta-vae")
    args = p.parse_args()

    torch.set_num_threads(1)
    data = make_dsprites(args.images, rng=0).pooled(2)             # 32 × 32; factors: shape, scale, orientation, x, y
    train, held_out = data.subset(slice(2000, None)), data.subset(slice(0, 2000))
    factors = ["scale", "orientation", "pos_x", "pos_y"]     # shape is categorical: left out
    metrics = ("im", "sap", "mig", "gaussian_mig")
    torch.manual_seed(0)
    model = BetaVAE(beta=args.beta, latent_dim=6, image_size=32, channels=(32, 32, 64))
    untrained = evaluate_latents(model, held_out, n_samples=None, factors=factors, metrics=metrics,
                                 shrinkage="ledoit_wolf", rng=0)
    trainer = Trainer(model, optimizer="adam", lr=1e-3, grad_clip=10.0, seed=0,
                      log_path=f"{args.out}/log.jsonl", checkpoint_dir=f"{args.out}/checkpoints")
    result = trainer.fit(train.images, args.steps, batch_size=64)
    print(f"training {result.status} after {result.step} steps in {result.seconds:.0f} s: {result.last}")

    scores = evaluate_latents(model, held_out, n_samples=None, factors=factors, metrics=metrics,
                              shrinkage="ledoit_wolf", rng=0)
    print(f"{'metric':<14}{'trained':>10}{'untrained (same network, seed 0)':>36}")
    for name in metrics:
        print(f"{name:<14}{scores.metrics[name].score:>10.4f}{untrained.metrics[name].score:>36.4f}")
    print(scores.summary())
    print("I_m assignment (factor -> latent):", dict(zip(scores.factor_names, scores.im.assignment)))


if __name__ == "__main__":
    main()

# sphinx_gallery_thumbnail_path = "figures/bridge_dataflow.png"
