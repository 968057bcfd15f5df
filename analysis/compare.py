r"""I_m and SAP next to the metrics everybody reports: one table, rank correlations, a plot.

For a population of encoders, every metric is computed on the same encoder and the metrics are
compared by Spearman rank correlation (ρ = 1: they order the encoders identically). Two sources:

* **linear Gaussian encoders** (:func:`linear_encoders`): Blahut–Arimoto solutions over a (γ, λ)
  grid for each decoder family, plus random encoders (i.i.d. N(0, 1) B, Σ_W = σ_w² I with
  σ_w² log-uniform in [10⁻², 1]) and the null baselines of :mod:`analysis.baselines`, on chosen
  scenarios. I_m, SAP and Gaussian MIG are exact (from the joint covariance); the sample metrics
  use ``n_samples`` draws of (v, x) from the model.
* **any other encoder** (:func:`score_samples`): latents and factors as arrays (e.g. from
  :func:`neural.bridge.evaluate_latents` for trained neural models); I_m and SAP then come from the
  sample covariance.

Metrics (columns): every covariance and sample metric of the registry
(:func:`lingauss.metrics.registry`), one column per metric named after it (its ``score``) plus one
per numeric diagnostic the registry lists (``dci.completeness``, ``modularity.explicitness_test``,
…): see :data:`METRIC_COLUMNS`. DCI uses gradient-boosted trees — here 10 trees of depth 3 and 5
bins per continuous factor (:data:`METRIC_OPTIONS`), to keep a population of encoders affordable;
the reference's defaults are in :func:`lingauss.standard_dci`.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

import lingauss as lg
from lingauss.params import InvalidParameter
from lingauss._validation import as_rng

from .baselines import BASELINES, baseline_encoder
from .table import write_text_atomic

__all__ = ["METRIC_COLUMNS", "Comparison", "compare", "linear_encoders", "neural_rows", "score_samples",
           "rank_correlations", "plot_rank_correlations", "rank_correlation_figure"]

#: The registry's metrics scored here (covariance and sample metrics, in registry order).
METRICS = lg.metrics.metric_names("covariance", "samples")


def _numeric_extras(name: str) -> tuple[str, ...]:
    """The registered diagnostics of metric ``name`` that are numbers (a grouping is not)."""
    return tuple(f for f in lg.metrics.registry()[name].extras if f != "grouping")


#: Column names: each metric's ``score``, then ``name.field`` for its numeric diagnostics.
METRIC_COLUMNS = tuple(col for name in METRICS for col in (name, *(f"{name}.{f}" for f in _numeric_extras(name))))
#: Per-metric options (cheaper DCI trees than the reference's defaults).
METRIC_OPTIONS = {"dci": {"gbt_kwargs": {"n_estimators": 10, "max_depth": 3}, "factor_bins": 5}}


def score_samples(latents, factors, *, joint_cov=None, rng=None, dci: bool = True) -> dict:
    """Every column of :data:`METRIC_COLUMNS` for one encoder's samples (floats).

    ``joint_cov`` (latents first), when given, is used for the covariance metrics (exact);
    otherwise they use the sample covariance. With ``dci=False`` the DCI columns are NaN.
    """
    names = tuple(n for n in METRICS if dci or n != "dci")
    results = lg.metrics.evaluate_metrics(latents, factors, joint_cov=joint_cov, names=names, rng=rng,
                                          options={k: v for k, v in METRIC_OPTIONS.items() if k in names})
    out = dict.fromkeys(METRIC_COLUMNS, np.nan)
    for name, res in results.items():
        out[name] = res.score
        out.update({f"{name}.{f}": getattr(res, f) for f in _numeric_extras(name)})
    return {k: float(v) for k, v in out.items()}


def linear_encoders(scenario, *, gammas=(0.98, 0.99, 1.0, 1.01, 1.02), lams=(-0.02, -0.01, 0.0, 0.01, 0.02),
                    families=("full", "isotropic"), n_random: int = 20, rng=None) -> list[dict]:
    """The encoder population of one scenario: ``{"source", "label", "B", "sigma_w"}`` dicts."""
    gen = as_rng(rng)
    out = []
    for fam in families:
        grid = lg.blahut_arimoto_grid(scenario.model, scenario.n_latents, gammas, lams,
                                      decoder_noise=fam, rng=0, max_iter=5000)
        for i, g in enumerate(gammas):
            for j, l in enumerate(lams):
                out.append({"source": f"BA {fam}", "label": f"gamma={g:g} lambda={l:g} ({grid.status[i, j]})",
                            "B": grid.B[i, j], "sigma_w": grid.sigma_w[i, j]})
    for name in BASELINES:
        if name in ("random", "collapsed"):
            continue                                    # collapsed: every sample metric is degenerate
        B, Sw = baseline_encoder(name, scenario)
        out.append({"source": "baseline", "label": name, "B": B, "sigma_w": Sw})
    m, n = scenario.n_latents, scenario.model.n
    for k in range(n_random):
        var = 10 ** gen.uniform(-2, 0)
        out.append({"source": "random", "label": f"random {k} (sigma_w^2={var:.2g})",
                    "B": gen.standard_normal((m, n)), "sigma_w": var * np.eye(m)})
    return out


def _sample_encoder(model, B, sigma_w, n_samples, rng):
    v, y = model.sample(n_samples, rng)
    L = np.linalg.cholesky(sigma_w)
    return y @ B.T + rng.standard_normal((n_samples, B.shape[0])) @ L.T, v


def rank_correlations(rows: list[dict], columns=METRIC_COLUMNS) -> tuple[tuple[str, ...], np.ndarray]:
    """``(columns, ρ)``: Spearman rank correlations between metric columns over ``rows`` (columns
    that are constant or all-NaN over the rows are left out)."""
    from scipy.stats import spearmanr

    def varies(c):
        values = np.array([r[c] for r in rows], dtype=float)
        values = values[np.isfinite(values)]
        return values.size >= 3 and np.ptp(values) > 0

    cols = [c for c in columns if varies(c)]
    if len(cols) < 2 or len(rows) < 3:
        raise InvalidParameter("rank correlations need at least 3 encoders and 2 non-constant metrics")
    X = np.array([[r[c] for c in cols] for r in rows], dtype=float)
    rho = spearmanr(X, nan_policy="omit").statistic
    return tuple(cols), np.atleast_2d(rho)


@dataclass
class Comparison:
    """Rows (one per encoder: scenario, source, label, metric values) and per-group ρ matrices."""

    rows: list[dict]
    correlations: dict          # group name → (columns, ρ)

    def markdown(self) -> str:
        parts = []
        for group, (cols, rho) in self.correlations.items():
            n = sum(1 for r in self.rows if group in ("all", r["scenario"]))
            parts += [f"### Spearman rank correlation — {group} ({n} encoders)", "",
                      "| | " + " | ".join(cols) + " |", "|---|" + "---:|" * len(cols)]
            for c, line in zip(cols, rho):
                parts.append(f"| {c} | " + " | ".join(f"{x:+.2f}" for x in line) + " |")
            parts.append("")
        return "\n".join(parts)

    def write(self, out) -> list[Path]:
        import csv
        import io

        out = Path(out)
        buf = io.StringIO()
        w = csv.DictWriter(buf, fieldnames=["scenario", "source", "label", *METRIC_COLUMNS])
        w.writeheader()
        w.writerows(self.rows)
        files = [write_text_atomic(out / "metrics.csv", buf.getvalue()),
                 write_text_atomic(out / "rank_correlations.md", self.markdown())]
        files += plot_rank_correlations(self, out / "rank_correlations")
        return files


def compare(scenarios=None, *, n_samples: int = 1500, n_random: int = 20, dci: bool = True,
            extra_rows: list[dict] | None = None, rng=0, progress: bool = True) -> Comparison:
    """Score the linear encoder population of each scenario (default: Vu et al.'s (2024) scenario 2 at both
    sizes) with every metric, add ``extra_rows`` (e.g. neural models: dicts with ``scenario``,
    ``source``, ``label`` and the metric columns), and compute the rank correlations per scenario
    and over all rows."""
    from tqdm.auto import tqdm

    gen = as_rng(rng)
    scenarios = scenarios or [lg.talk_scenario((3, 4, 3), 2), lg.talk_scenario((5, 5, 4), 2)]
    jobs = [(sc, enc) for sc in scenarios for enc in linear_encoders(sc, n_random=n_random, rng=gen)]
    rows = []
    for sc, enc in tqdm(jobs, desc="compare", disable=not progress):
        try:
            cov = sc.model.joint_covariance(enc["B"], enc["sigma_w"])
            x, v = _sample_encoder(sc.model, enc["B"], enc["sigma_w"], n_samples, gen)
            scores = score_samples(x, v, joint_cov=cov, rng=gen, dci=dci)
        except ValueError:                      # a singular encoder left by a diverged run
            continue
        rows.append({"scenario": sc.name, "source": enc["source"], "label": enc["label"], **scores})
    rows += list(extra_rows or [])
    groups = {"all": rows}
    for name in dict.fromkeys(r["scenario"] for r in rows):
        groups[name] = [r for r in rows if r["scenario"] == name]
    correlations = {}
    for name, sel in groups.items():
        try:
            correlations[name] = rank_correlations(sel)
        except ValueError:
            continue
    return Comparison(rows=rows, correlations=correlations)


def neural_rows(*, betas=(1.0, 4.0, 16.0), seeds=(0,), steps: int = 1500, n_images: int = 12_000,
                latent_dim: int = 6, n_eval: int = 2000, progress: bool = True) -> list[dict]:
    """Rows for trained β-VAEs on dSprites-like images (needs the neural extra): one per (β, seed),
    scored on held-out images by :func:`score_samples` on the posterior means against the ordered
    factors (scale, orientation, pos_x, pos_y; the categorical shape is left out)."""
    import torch

    from neural.bridge import encode_dataset
    from neural.data import make_dsprites
    from neural.models import BetaVAE
    from neural.train import Trainer

    data = make_dsprites(n_images, rng=0)
    held_out, train = data.subset(slice(0, n_eval)), data.subset(slice(n_eval, None))
    cols = [data.factor_names.index(f) for f in ("scale", "orientation", "pos_x", "pos_y")]
    rows = []
    for beta in betas:
        for seed in seeds:
            torch.manual_seed(seed)
            model = BetaVAE(beta=beta, latent_dim=latent_dim)
            Trainer(model, optimizer="adam", lr=5e-4, grad_clip=10.0, seed=seed,
                    progress=progress).fit(train.images, steps, batch_size=64)
            z = encode_dataset(model, held_out.images)
            z = z[:, np.ptp(z, axis=0) > 1e-6 * max(1.0, np.ptp(z))]     # drop collapsed latents
            if z.shape[1] == 0:
                continue
            v = held_out.factors[:, cols]
            rows.append({"scenario": "dSprites-like (neural)", "source": f"beta-VAE beta={beta:g}",
                         "label": f"seed {seed}, {z.shape[1]} active latents",
                         **score_samples(z, v, rng=seed)})
    return rows


def plot_rank_correlations(comparison: Comparison, path, *, show: bool = False) -> list[Path]:
    """One ρ heatmap per group (PNG + PDF), I_m and SAP first (registry order).

    Panels sit two to a row under constrained layout, so every panel keeps room for its own tick
    labels (a metric's diagnostic, ``name.field``, is written on two lines) and the title sits
    directly above the panels.
    """
    from .plots import _save

    return _save(rank_correlation_figure(comparison), path, show)


def rank_correlation_figure(comparison: Comparison):
    """The matplotlib figure of :func:`plot_rank_correlations` (not saved, not closed)."""
    from .plots import _pyplot

    plt = _pyplot()
    groups = list(comparison.correlations.items())
    if not groups:
        raise InvalidParameter("comparison has no correlation matrix to draw")
    ncols = min(2, len(groups))
    nrows = -(-len(groups) // ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(5.6 * ncols, 5.4 * nrows), squeeze=False,
                             layout="constrained")
    for ax in axes.flat[len(groups):]:
        ax.axis("off")
    for ax, (name, (cols, rho)) in zip(axes.flat, groups):
        im = ax.imshow(rho, cmap="RdBu_r", vmin=-1, vmax=1)
        ticks = [c.replace(".", "\n") for c in cols]
        ax.set_xticks(range(len(cols)))
        ax.set_xticklabels(ticks, rotation=90, fontsize=7)
        ax.set_yticks(range(len(cols)))
        ax.set_yticklabels(ticks, fontsize=7)
        for i in range(len(cols)):
            for j in range(len(cols)):
                ax.text(j, i, f"{rho[i, j]:.2f}", ha="center", va="center", fontsize=5.5,
                        color="white" if abs(rho[i, j]) > 0.6 else "black")
        n = sum(1 for r in comparison.rows if name in ("all", r["scenario"]))
        ax.set_title(f"{name} ({n} encoders)", fontsize=10)
    fig.colorbar(im, ax=axes.ravel().tolist(), shrink=0.6, label="Spearman ρ")
    fig.suptitle("Do the metrics order encoders alike? (Spearman rank correlation over encoders)")
    return fig
