"""A (γ, λ) sweep on a process pool or Dask, with heatmaps
=======================================================

A (γ, λ) sweep on a process pool (or Dask), saved as a resumable table and drawn as heatmaps.

From the repository root::

    python examples/sweep_heatmap.py                          # 9×9 grid, 2 scenarios, process pool
    python examples/sweep_heatmap.py --executor dask          # the same on a local Dask cluster
    python examples/sweep_heatmap.py --points 3 --executor none   # a smoke run

Blahut–Arimoto solves every grid point of two scenarios of Vu et al. (2024), "Investigating
Disentanglement in β-VAE within a Linear Gaussian Setting" (see the docs' references page), with the
decoder noise fixed at the data's σ²I — the reading under which the whole grid is well posed. Each
solution is scored with I_m and SAP. The rows go to ``OUT/sweep.jsonl`` (a rerun solves only the
missing points) and ``OUT/sweep.csv``; the heatmaps to ``OUT/heatmap-*.png``.
"""
# sphinx_gallery_multi_image = "single"

import argparse
from pathlib import Path

import numpy as np

import lingauss as lg
from analysis import Protocol, sweep
from analysis.plots import plot_grid_heatmaps


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--points", type=int, default=9, help="grid points per axis (default 9)")
    p.add_argument("--executor", choices=["processes", "dask", "none"], default="processes")
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--out", default="example-sweep")
    args = p.parse_args(argv)
    if args.points < 2:
        p.error("--points must be at least 2")

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    scenarios = [lg.talk_scenario((3, 4, 3), 2), lg.talk_scenario((5, 5, 4), 2)]
    gammas = np.linspace(0.5, 1.5, args.points)
    lambdas = np.linspace(-0.02, 0.2, args.points)
    protocol = Protocol(decoder_noise="true", error_reading="mean", max_iter=2000, tol=1e-10)
    table = sweep(scenarios, gammas, lambdas, protocol=protocol, seeds=(0,),
                  executor=None if args.executor == "none" else args.executor,
                  n_workers=args.workers, store=out / "sweep.jsonl", progress=False)
    print(f"{table.n_computed} points solved now, {table.n_reused} read from {out / 'sweep.jsonl'}")
    table.to_csv(out / "sweep.csv")
    for name, r in table.success_rates().items():
        print(f"{name}: {r['eligible']}/{r['n']} points within tolerance, "
              f"I_m success {r['im_rate']:.0f} %, SAP success {r['sap_rate']:.0f} %, statuses {r['status']}")
    for sc in scenarios:
        for path in plot_grid_heatmaps(table, sc.name, out / ("heatmap-" + "".join(c if c.isalnum() else "_" for c in sc.name) + ".png")):
            print("wrote", path)


if __name__ == "__main__":
    main()
