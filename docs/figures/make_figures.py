"""Draw the figures of the documentation's design pages and its Results page.

    python docs/figures/make_figures.py                 # everything (about ten minutes on one core)
    python docs/figures/make_figures.py design          # docs/figures/*.png (design pages)
    python docs/figures/make_figures.py results         # docs/results/*.png (reproduction, I_m bench)
    python docs/figures/make_figures.py ba_status im_pruning   # some figures only
    python docs/figures/make_figures.py reproduction --reproduce-dir lingauss-reproduce   # reuse a run

Every figure is computed here from the library (nothing is read from a stored result), seeded, and
written as a PNG sized for the page width. The Koopman and flow figures of the Results page come
from their benchmarks (``lingauss bench koopman`` / ``lingauss bench flow``), not from this script.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

import matplotlib  # noqa: E402

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.patches import Patch  # noqa: E402

import lingauss as lg  # noqa: E402
from analysis.plots import STATUS_COLORS  # noqa: E402

FIGURES = ROOT / "docs" / "figures"
RESULTS = ROOT / "docs" / "results"
DPI = 110                                  # 8 in wide → 880 px: the text column of the theme

#: colour of each well-posedness regime (:func:`lingauss.well_posedness`)
REGIME_COLORS = {"well_posed": "#2ca02c", "collapse": "#7f7f7f", "continuum": "#1f77b4",
                 "boundary": "#ff7f0e", "unbounded_encoder_noise": "#d62728",
                 "unbounded_decoder_gain": "#8c1a6a"}
REGIME_LABELS = {"well_posed": "well posed (a minimum)", "collapse": "posterior collapse",
                 "continuum": "continuum of optima", "boundary": "boundary (suspected)",
                 "unbounded_encoder_noise": "unbounded: encoder noise → 0",
                 "unbounded_decoder_gain": "unbounded: decoder gain → ∞"}


def _save(fig, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=DPI, bbox_inches="tight")
    plt.close(fig)
    print(f"wrote {path.relative_to(ROOT)} ({path.stat().st_size / 1024:.0f} KB)")
    return path


def _family_noise(family: str, model):
    """What the solver and the diagnosis take for ``family`` (``"true"``: the model's σ²I)."""
    return lg.noise_families.resolve_decoder_noise(family, model)


# ------------------------------------------------------------------------------ BA status map

def ba_status(out: Path = FIGURES, points: int = 21) -> Path:
    """BA's status over (γ, λ) for the learned full Σ_Z and for Σ_Z fixed at the data's σ²I."""
    sc = lg.talk_scenario((3, 4, 3), 2)
    gammas = np.linspace(0.9, 1.1, points)
    lams = np.linspace(-0.05, 0.15, points)
    fig, axes = plt.subplots(1, 2, figsize=(9.0, 4.0), sharey=True)
    from matplotlib.colors import BoundaryNorm, ListedColormap
    cmap = ListedColormap([STATUS_COLORS[s] for s in lg.STATUSES])
    norm = BoundaryNorm(np.arange(-0.5, len(lg.STATUSES)), cmap.N)
    seen = set()
    for ax, family in zip(axes, ("full", "true")):
        grid = lg.blahut_arimoto_grid(sc.model, sc.n_latents, gammas, lams,
                                      decoder_noise=_family_noise(family, sc.model), rng=0,
                                      max_iter=3000, tol=1e-10)
        codes = np.vectorize(lg.STATUSES.index)(grid.status)
        seen |= set(np.unique(grid.status))
        ax.pcolormesh(lams, gammas, codes, cmap=cmap, norm=norm, shading="nearest")
        ax.axhline(1.0, color="k", lw=0.6, ls="--")
        ax.axvline(0.0, color="k", lw=0.6, ls="--")
        label = "learned full Σ_Z (Vu et al. 2024)" if family == "full" else "Σ_Z fixed at the data's σ²I"
        counts = ", ".join(f"{int(np.sum(grid.status == s))} {s}" for s in lg.STATUSES if np.any(grid.status == s))
        ax.set_title(f"{label}\n{counts}", fontsize=9)
        ax.set_xticks([-0.05, 0.0, 0.05, 0.1, 0.15])
        ax.set_xlabel("λ (weight of E‖Y − AX‖²)")
    axes[0].set_ylabel("γ (weight of −E log p(y | x))")
    handles = [Patch(color=STATUS_COLORS[s], label=s) for s in lg.STATUSES if s in seen]
    fig.legend(handles=handles, loc="lower center", ncol=len(handles), fontsize=9, frameon=False,
               bbox_to_anchor=(0.5, -0.06))
    fig.suptitle(f"Blahut–Arimoto status on a {points} × {points} grid — {sc.name}, m = {sc.n_latents}, "
                 "seed 0, ≤ 3000 iterations", fontsize=10)
    fig.tight_layout()
    return _save(fig, out / "ba_status_map.png")


# ------------------------------------------------------------------- well-posedness regions

def posedness(out: Path = FIGURES) -> Path:
    """The regime of :func:`lingauss.well_posedness` over (γ, λ), one panel per decoder-noise family.

    The lines γ = 1 and λ = 0 are regimes of their own for some families; they are drawn as thick
    lines in the colour of their regime (a grid cell could not show them).
    """
    model = lg.talk_scenario((3, 4, 3), 2).model               # n = 4 features, σ² = 0.1
    cases = [("full", 3), ("diagonal", 3), ("isotropic", 3), ("isotropic", 6), ("true", 3)]
    gammas = np.linspace(0.0, 2.0, 201)
    lams = np.linspace(-1.0, 1.0, 201)
    fig, grid = plt.subplots(2, 3, figsize=(9.0, 6.6))
    axes, legend_ax = grid.flat[:len(cases)], grid.flat[-1]
    seen = set()
    names = list(REGIME_COLORS)
    from matplotlib.colors import ListedColormap
    cmap = ListedColormap([REGIME_COLORS[r] for r in names])

    def regime(g, l, family, m):
        r = lg.well_posedness(g, l, _family_noise(family, model), n_latents=m, n_features=model.n).regime
        seen.add(r)
        return names.index(r)

    for ax, (family, m) in zip(axes, cases):
        codes = np.array([[regime(g, l, family, m) for l in lams] for g in gammas])
        ax.pcolormesh(lams, gammas, codes, cmap=cmap, vmin=-0.5, vmax=len(names) - 0.5, shading="nearest")
        # the lines γ = 1 (λ > 0) and λ = 0 (γ ≠ 1) and the point (1, 0), in the colour of their regime
        for xs, ys in ((lams[lams > 0], np.ones(np.sum(lams > 0))),
                       (np.zeros(np.sum(gammas < 1)), gammas[gammas < 1]),
                       (np.zeros(np.sum(gammas > 1)), gammas[gammas > 1])):
            c = [REGIME_COLORS[names[regime(y, x, family, m)]] for x, y in zip(xs, ys)]
            ax.scatter(xs, ys, c=c, s=9, marker="s", linewidths=0, zorder=3)
        ax.scatter([0.0], [1.0], s=60, color=REGIME_COLORS[names[regime(1.0, 0.0, family, m)]],
                   edgecolors="k", zorder=4)
        noise = {"true": f"Σ_Z = σ²I = {model.noise_var:g} I (fixed)"}.get(family, f"learned {family} Σ_Z")
        ax.set_title(f"{noise}\nm = {m} latents, n = {model.n} features", fontsize=9)
        ax.set_xticks([-1.0, -0.5, 0.0, 0.5, 1.0])
        ax.set_xlabel("λ (weight of E‖Y − AX‖²)", fontsize=8.5)
        ax.set_ylabel("γ (weight of −E log p(y | x))", fontsize=8.5)
    handles = [Patch(color=REGIME_COLORS[r], label=REGIME_LABELS[r]) for r in names if r in seen]
    legend_ax.axis("off")
    legend_ax.legend(handles=handles, loc="center", fontsize=8.5, frameon=False,
                     title="regime (dot: γ = 1, λ = 0)", title_fontsize=8.5)
    fig.suptitle("Does the γλ-VAE loss have a minimum? lingauss.well_posedness per decoder-noise family",
                 fontsize=10)
    fig.tight_layout()
    return _save(fig, out / "posedness_regions.png")


# ---------------------------------------------------------------------------- I_m search tree

def _toy_branch_and_bound(cov, m: int, s: int, tol: float = 1e-9):
    """The partition branch and bound of the metrics page in plain Python, with its plain
    monotonicity bound, on a small instance: ``(best score, {prefix: "expanded" | "pruned" | "leaf"})``.

    A node is a restricted growth prefix (factor j → block label). Its bound: every latent hosts at
    most one final block, and a final block is a current block plus unplaced factors U (or a new
    block inside U), so the reward is at most Σ_i max(max_b I(x_i; V_{M_b ∪ U}), I(x_i; V_U)) (MI is
    monotone); the partial penalty only grows. Children are visited best bound first; a leaf solves
    its block-to-latent matching exactly.
    """
    from itertools import combinations

    from scipy.optimize import linear_sum_assignment

    def fac(M):
        return [m + j for j in sorted(M)]

    def reward(i, M):
        return lg.gaussian_mi(cov, [i], fac(M)) if M else 0.0

    def penalty(blocks):
        return sum(lg.gaussian_mi(cov, fac(P), fac(Q)) for P, Q in combinations(blocks, 2))

    def bound(blocks, d):
        unplaced = set(range(d, s))
        hosts = [blocks_b | unplaced for blocks_b in blocks]
        if len(blocks) < m and unplaced:
            hosts.append(unplaced)
        return sum(max([reward(i, M) for M in hosts] + [0.0]) for i in range(m)) - penalty(blocks)

    def leaf(blocks):
        W = np.array([[reward(i, M) for i in range(m)] for M in blocks])
        rows, cols = linear_sum_assignment(-W)
        return float(W[rows, cols].sum()) - penalty(blocks)

    seen, best = {}, [-np.inf]

    def visit(prefix, blocks):
        d = len(prefix)
        if d == s:
            seen[prefix] = "leaf"
            best[0] = max(best[0], leaf(blocks))
            return
        if bound(blocks, d) < best[0] - tol:
            seen[prefix] = "pruned"
            return
        seen[prefix] = "expanded"
        children = []
        for c in range(min(len(blocks) + 1, m)):
            nb = [set(M) for M in blocks] + ([set()] if c == len(blocks) else [])
            nb[c].add(d)
            children.append((bound(nb, d + 1) if d + 1 < s else np.inf, c, nb))
        for _, c, nb in sorted(children, key=lambda x: (-x[0], x[1])):
            visit(prefix + (c,), nb)

    visit((), [])
    return best[0], seen


def im_pruning(out: Path = FIGURES, s: int = 6, m: int = 3) -> Path:
    """The search tree of a small I_m instance: which nodes the branch and bound expanded, pruned,
    scored, or never reached (the library's search uses tighter, Lagrangian bounds)."""
    from analysis.bench import im_benchmark_covariance

    cov = im_benchmark_covariance(s, m, "structured", seed=0)
    best, seen = _toy_branch_and_bound(cov, m, s)
    exact = lg.im_score(cov, m, method="exhaustive")
    if abs(best - exact.score) > 1e-9:
        raise RuntimeError(f"the illustration's search found {best}, the library {exact.score}")
    # the whole tree: every restricted growth prefix with at most m blocks
    tree = [()]
    level = [()]
    for _ in range(s):
        level = [p + (c,) for p in level for c in range(min(max(p, default=-1) + 2, m))]
        tree += level
    leaves = [p for p in tree if len(p) == s]
    xpos = {p: float(k) for k, p in enumerate(leaves)}
    for p in sorted(tree, key=len, reverse=True):
        if len(p) < s:
            kids = [xpos[q] for q in tree if len(q) == len(p) + 1 and q[:len(p)] == p]
            xpos[p] = float(np.mean(kids))
    styles = {"expanded": ("#1f77b4", "o", "bounded, expanded"), "pruned": ("#d62728", "X", "bounded, pruned"),
              "leaf": ("#2ca02c", "s", "leaf scored (matching solved)"),
              None: ("#cccccc", "o", "never reached (below a pruned node)")}
    fig, (ax, bar) = plt.subplots(1, 2, figsize=(10.0, 4.6), gridspec_kw={"width_ratios": [3.2, 1]})
    for p in tree:
        if p:
            parent = p[:-1]
            reached = p in seen
            ax.plot([xpos[parent], xpos[p]], [-len(parent), -len(p)], "-", lw=0.6,
                    color="#777777" if reached else "#dddddd", zorder=1)
    for state, (color, marker, label) in styles.items():
        pts = [p for p in tree if seen.get(p) == state]
        ax.scatter([xpos[p] for p in pts], [-len(p) for p in pts], s=22 if state else 8, color=color,
                   marker=marker, zorder=2, label=f"{label}: {len(pts)}")
    ax.set_yticks([-d for d in range(s + 1)])
    ax.set_yticklabels([str(d) for d in range(s + 1)])
    ax.set_ylabel("depth (factors placed)")
    ax.set_xticks([])
    ax.set_xlabel(f"{len(leaves)} leaves: the set partitions of s = {s} factors into ≤ m = {m} blocks "
                  f"({m ** s} labelled assignments)")
    ax.legend(fontsize=8, loc="upper right", framealpha=0.9)
    ax.set_title(f"I_m search tree, s = {s}, m = {m}: best {best:.3f} nats (= the exhaustive search)",
                 fontsize=10)
    depths = np.arange(s + 1)
    bottom = np.zeros(s + 1)
    for state, (color, _, label) in styles.items():
        counts = np.array([sum(1 for p in tree if len(p) == d and seen.get(p) == state) for d in depths])
        bar.barh(-depths, counts, left=bottom, color=color, height=0.7)
        bottom += counts
    bar.set_yticks(-depths)
    bar.set_yticklabels([str(d) for d in depths])
    bar.set_xscale("symlog", linthresh=10)
    bar.set_xlabel("nodes at this depth")
    bar.set_title("per depth", fontsize=10)
    fig.tight_layout()
    return _save(fig, out / "im_search_pruning.png")


# ------------------------------------------------------------------------------ bridge diagram

def bridge(out: Path = FIGURES) -> Path:
    """The data flow of :func:`neural.bridge.evaluate_latents` next to a closed-form solution."""
    fig, ax = plt.subplots(figsize=(9.0, 5.0))
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.axis("off")
    colors = {"neural": "#dbe9f6", "closed": "#e5f2e0", "core": "#fbe5c8"}

    def box(x, y, text, kind):
        return ax.text(x, y, text, ha="center", va="center", fontsize=9, linespacing=1.4,
                       bbox=dict(boxstyle="round,pad=0.6", fc=colors[kind], ec="#333333", lw=1))

    def arrow(a, b, label="", at=None, ha="left"):
        ax.annotate("", xy=b.get_position(), xytext=a.get_position(),
                    arrowprops=dict(arrowstyle="-|>", color="#333333", lw=1.3, shrinkA=2, shrinkB=2,
                                    mutation_scale=14, patchA=a.get_bbox_patch(), patchB=b.get_bbox_patch()))
        if label:
            ax.text(*at, label, fontsize=8, style="italic", ha=ha, va="center", color="#333333")

    data = box(0.14, 0.86, "dataset with factors\nimages (N, C, H, W)\nfactors (N, s)", "neural")
    model = box(0.47, 0.86, "your model:\nencode(x), a torch module\nor any callable", "neural")
    lat = box(0.82, 0.86, "latents (N, m)\nfactors (N, s′)\n(constant factors dropped)", "neural")
    sample = box(0.78, 0.52, "joint_covariance_from_samples\n(optional shrinkage)", "core")
    closed = box(0.2, 0.52, "LinearGaussianModel\n+ linear encoder (B, Σ_W)\nno samples", "closed")
    cov = box(0.5, 0.24, "joint covariance of [latents; factors]\nlatents first, (m + s) × (m + s)", "core")
    scores = box(0.5, 0.04, "the same metric functions: im_score, sap_score, gaussian_mig, …\n"
                 "→ scores and success (BridgeResult)", "core")
    arrow(data, model)
    arrow(model, lat, "encode_dataset", at=(0.645, 0.955), ha="center")
    arrow(lat, sample, "evaluate_latents", at=(0.815, 0.69))
    arrow(sample, cov)
    arrow(closed, cov, "joint_covariance(B, Σ_W)\n(closed form)", at=(0.08, 0.35))
    arrow(cov, scores)
    handles = [Patch(color=colors["neural"], label="neural.bridge (torch)"),
               Patch(color=colors["closed"], label="lingauss, closed form"),
               Patch(color=colors["core"], label="shared by both")]
    ax.legend(handles=handles, loc="lower right", bbox_to_anchor=(1.0, 0.14), fontsize=8, frameon=False)
    ax.set_title("The bridge: a neural model's latents and a closed-form solution meet at one covariance",
                 fontsize=10)
    return _save(fig, out / "bridge_dataflow.png")


# ------------------------------------------------------------------------------- Results page

def reproduction(out: Path = RESULTS, workdir=None) -> list[Path]:
    """``lingauss reproduce`` (default protocol, seed 0; no sensitivity table, no baselines) in
    ``workdir`` (default: a scratch folder; a folder of an earlier run reuses its solved points), and
    its per-size figures (grid, score and landscape sheets) copied here."""
    from analysis.reproduction import reproduce

    with tempfile.TemporaryDirectory() as tmp:
        run_dir = Path(workdir) if workdir else Path(tmp)
        reproduce(out=run_dir, sensitivity="none", baselines=False, executor=None, progress=False)
        written = []
        pngs = [p for kind in ("reproduction_grids", "scores", "landscapes")
                for p in sorted((run_dir / "figures").glob(f"{kind}_*.png"))]
        for png in pngs:
            target = out / png.name
            shutil.copyfile(png, target)
            print(f"wrote {target.relative_to(ROOT)} ({target.stat().st_size / 1024:.0f} KB)")
            written.append(target)
    return written


def im_bench(out: Path = RESULTS) -> list[Path]:
    """``lingauss bench im``'s first table (its default sizes up to s = 14, naive loop budget 5 s)
    drawn as wall time against s."""
    from analysis.bench import bench_im
    from analysis.plots import plot_im_bench

    rows = bench_im(naive_budget_s=5.0, progress=False)
    written = plot_im_bench(rows, out / "im_bench_scaling", formats=(".png",), dpi=DPI)
    for path in written:
        print(f"wrote {path.relative_to(ROOT)} ({path.stat().st_size / 1024:.0f} KB)")
    return written


DESIGN = {"ba_status": ba_status, "posedness": posedness, "im_pruning": im_pruning, "bridge": bridge}
RESULT = {"reproduction": reproduction, "im_bench": im_bench}


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    choices = ["design", "results", *DESIGN, *RESULT]
    p.add_argument("what", nargs="*", choices=choices, default=["design", "results"],
                   help="groups or figures to draw (default: all)")
    p.add_argument("--reproduce-dir", metavar="DIR",
                   help="run the reproduction in DIR (the --out of an earlier 'lingauss reproduce': "
                        "its solved points are reused) instead of a scratch folder")
    args = p.parse_args(argv)
    todo = []
    for w in args.what:
        todo += list(DESIGN) if w == "design" else list(RESULT) if w == "results" else [w]
    for name in dict.fromkeys(todo):
        if name == "reproduction":
            reproduction(workdir=args.reproduce_dir)
        else:
            {**DESIGN, **RESULT}[name]()


if __name__ == "__main__":
    main()
