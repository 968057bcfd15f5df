"""``lingauss bench im``: the I_m metric — Vu et al.'s (2024) naive loop over m^s assignments calling
``gaussian_mi``, the Numba exhaustive enumeration, and the exact partition branch-and-bound, on the
same covariances; then the exact search alone at scale (s = 16..20), worst case over many dense and
structured inputs, nodes explored vs the number of set partitions, and the speed-up on several
threads. A benchmark: run by a command, never by the tests.
"""

from __future__ import annotations

import itertools
import time
from dataclasses import dataclass

import numpy as np
from tqdm.auto import tqdm

import lingauss as lg

from lingauss.params import InvalidParameter

__all__ = ["IMBenchRow", "IMScaleRow", "IM_SCALE_SIZES", "IM_SCALE_TARGETS", "IM_SIZES",
           "bench_im", "bench_im_scale", "format_im", "format_im_scale", "im_benchmark_covariance",
           "naive_im", "structured_im_covariance"]

# ------------------------------------------------------------------------------------------ I_m

#: The default sizes of ``lingauss bench im``'s first table (naive vs exhaustive vs exact); the
#: larger sizes are timed by :func:`bench_im_scale` (exact only, worst case over many inputs).
IM_SIZES = ((3, 3), (5, 4), (8, 4), (10, 6), (12, 8), (14, 8))
#: Sizes of the scale table and the issue's one-core targets (seconds, worst case per size).
IM_SCALE_SIZES = ((16, 8), (18, 8), (20, 10))
IM_SCALE_TARGETS = {(16, 8): 1.0, (18, 8): 5.0, (20, 10): 60.0}


def im_benchmark_covariance(s: int, m: int, kind: str = "grouped", seed: int = 0) -> np.ndarray:
    """Inputs of the I_m benchmark (latents-first joint covariances).

    ``"grouped"``: factors in random dependent sub-groups (:func:`lingauss.dependent_factor_covariance`)
    seen through Y = V + noise by a random Gaussian encoder — the kind of matrix a sweep produces.
    ``"random"``: a random SPD matrix with condition number 10 (weak, unstructured dependence).
    ``"weak"``: independent factors and weakly informative latents (cross-covariance 0.05·N(0, 1)):
    every penalty is 0, the landscape nearly flat — the hard case for the partition bounds, where
    ``method="exact"`` switches to the subset-DP search.
    """
    rng = np.random.default_rng(seed)
    if kind == "structured":
        return structured_im_covariance(s, m, rng)
    if kind == "weak":
        cross = 0.05 * rng.standard_normal((m, s))
        return np.block([[np.eye(m) + cross @ cross.T, cross], [cross.T, np.eye(s)]])
    if kind == "random":
        from lingauss.testing import _spd_from_seed
        return _spd_from_seed(seed, m + s, 10.0, 1.0)
    if kind != "grouped":
        raise InvalidParameter(f"kind must be 'grouped', 'random', 'weak' or 'structured', got {kind!r}")
    labels = rng.integers(0, max(1, s // 2), s)
    groups = [tuple(np.flatnonzero(labels == k)) for k in np.unique(labels)]
    sigma_v = lg.dependent_factor_covariance(groups, coupling=rng.uniform(0.5, 1.5, s),
                                             dependent_noise_std=rng.uniform(0.3, 1.0, s))
    model = lg.LinearGaussianModel.standard(sigma_v, s, 0.1)
    return model.joint_covariance(rng.standard_normal((m, s)), 0.5 * np.eye(m))


def structured_im_covariance(s: int, m: int, rng, *, density: float = 0.3,
                             noise_var: float = 0.5) -> np.ndarray:
    r"""A latents-first joint covariance shaped like a trained encoder's: the hard case of I_m.

    Factors fall into groups of 1–4 (sizes uniform, in random order); within group g every pair
    has correlation ρ_g ~ U(0.3, 0.9) (Σ_V block diagonal, blocks (1 − ρ_g) I + ρ_g 11ᵀ). The
    encoder B (m × s) is sparse: each entry is N(0, 1) with probability ``density`` and 0 otherwise
    (every latent reads at least one factor). Latents x = B v + w with isotropic noise
    w ~ N(0, ``noise_var`` I), so

    .. math:: \Sigma = \begin{pmatrix} B\Sigma_V B^\top + \sigma^2 I & B\Sigma_V \\
              \Sigma_V B^\top & \Sigma_V\end{pmatrix}.
    """
    sizes = []
    while sum(sizes) < s:
        sizes.append(int(rng.integers(1, 5)))
    sizes[-1] -= sum(sizes) - s
    perm = rng.permutation(s)
    sigma_v = np.zeros((s, s))
    start = 0
    for size in sizes:
        idx = perm[start:start + size]
        start += size
        rho = rng.uniform(0.3, 0.9)
        sigma_v[np.ix_(idx, idx)] = rho
        sigma_v[idx, idx] = 1.0
    B = rng.standard_normal((m, s)) * (rng.random((m, s)) < density)
    for i in range(m):
        if not B[i].any():
            B[i, rng.integers(s)] = rng.standard_normal()
    cross = B @ sigma_v
    return np.block([[cross @ B.T + noise_var * np.eye(m), cross], [cross.T, sigma_v]])


def naive_im(cov: np.ndarray, m: int, limit: int | None = None) -> tuple[float, int]:
    """Vu et al.'s (2024) method: a Python loop over the m^s assignments calling ``gaussian_mi``.

    Stops after ``limit`` assignments; returns (best score seen, assignments scored).
    """
    s = cov.shape[0] - m
    best, count = -np.inf, 0
    for asg in itertools.product(range(m), repeat=s):
        blocks = [[m + j for j in range(s) if asg[j] == i] for i in range(m)]
        val = sum(lg.gaussian_mi(cov, [i], b) for i, b in enumerate(blocks) if b)
        nonempty = [b for b in blocks if b]
        for p in range(len(nonempty)):
            for q in range(p + 1, len(nonempty)):
                val -= lg.gaussian_mi(cov, nonempty[p], nonempty[q])
        best = max(best, val)
        count += 1
        if limit is not None and count >= limit:
            break
    return best, count


@dataclass(frozen=True)
class IMBenchRow:
    s: int
    m: int
    kind: str
    assignments: int
    partitions: int
    naive_s: float
    naive_extrapolated: bool
    exhaustive_s: float | None
    exhaustive_extrapolated: bool
    exact_s: float
    exact_leaves: int
    exact_search: str
    agree: bool


def bench_im(sizes=IM_SIZES, kinds=("grouped", "structured", "random", "weak"), naive_budget_s: float = 60.0,
             exhaustive_budget: int = 3 * 10**9, seed: int = 0, progress: bool = True) -> list[IMBenchRow]:
    """Time naive, exhaustive (Numba) and exact I_m on the same covariances.

    The naive loop runs in full when its estimated time (from the first 200 assignments) is under
    ``naive_budget_s``; otherwise it is timed on a prefix and extrapolated. The exhaustive method runs
    in full up to ``exhaustive_budget`` assignments and is otherwise timed on a smaller case of the
    same m (its cost per assignment does not depend on s beyond cache effects) and extrapolated.
    ``agree``: every method that ran in full found the same score (1e-9), the same tie counts and,
    unless several groupings tie, the same grouping.
    """
    from lingauss.metrics import count_set_partitions, im_score

    rows = []
    warm = im_benchmark_covariance(4, 3, "grouped", seed)        # compile / load the kernels once,
    for method in ("exact", "partition", "dp", "exhaustive"):    # on a small case
        im_score(warm, 3, method=method, progress=False)
    for s, m in tqdm(list(sizes), desc="I_m benchmark", disable=not progress, leave=False):
        for kind in kinds:
            cov = im_benchmark_covariance(s, m, kind, seed)
            n_assign = m ** s
            t0 = time.perf_counter()
            ex = im_score(cov, m, method="exact", progress=False)
            exact_s = time.perf_counter() - t0
            agree = True
            t0 = time.perf_counter()
            best, done = naive_im(cov, m, limit=200)
            per = (time.perf_counter() - t0) / done
            if done == n_assign or per * n_assign <= naive_budget_s:
                t0 = time.perf_counter()
                best, _ = naive_im(cov, m)
                naive_s, naive_x = time.perf_counter() - t0, False
                agree &= abs(best - ex.score) <= 1e-9
            else:
                naive_s, naive_x = per * n_assign, True
            if n_assign <= exhaustive_budget:
                t0 = time.perf_counter()
                eh = im_score(cov, m, method="exhaustive")
                exh_s, exh_x = time.perf_counter() - t0, False
                agree &= abs(eh.score - ex.score) <= 1e-9 and (eh.ties, eh.tied_groupings) == \
                    (ex.ties, ex.tied_groupings) and (ex.ambiguous or eh.grouping == ex.grouping)
            else:
                s_small = max(1, int(np.log(exhaustive_budget / 10) / np.log(m)))
                small = im_benchmark_covariance(s_small, m, kind, seed)
                t0 = time.perf_counter()
                im_score(small, m, method="exhaustive")
                exh_s = (time.perf_counter() - t0) * n_assign / m ** s_small
                exh_x = True
            rows.append(IMBenchRow(s, m, kind, n_assign, count_set_partitions(s, m), naive_s, naive_x,
                                   exh_s, exh_x, exact_s, ex.n_evaluated, ex.method, bool(agree)))
    return rows


def format_im(rows: list[IMBenchRow]) -> str:
    """Markdown table of :func:`bench_im` rows (``~`` marks extrapolated times)."""
    def t(x, extrap):
        return ("~" if extrap else "") + (f"{x:.3g}" if x < 1e5 else f"{x:.2e}")
    out = ["| (s, m) | input | m^s | partitions ≤ m blocks | naive (s) | exhaustive (s) | "
           "exhaustive assignments/s | exact (s) | exact search | exact leaves | exact vs naive | agree |",
           "|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        out.append(f"| ({r.s}, {r.m}) | {r.kind} | {r.assignments:.3g} | {r.partitions:.3g} | "
                   f"{t(r.naive_s, r.naive_extrapolated)} | {t(r.exhaustive_s, r.exhaustive_extrapolated)} | "
                   f"{r.assignments / r.exhaustive_s:.3g} | {r.exact_s:.3g} | {r.exact_search} | {r.exact_leaves} | "
                   f"{r.naive_s / max(r.exact_s, 1e-9):.3g}x | {'yes' if r.agree else 'NO'} |")
    out.append("")
    out.append("~ = extrapolated. Targets: exhaustive >= 1e8 assignments/s/core; exact (12, 8) < 1 s and "
               "(14, 8) < 30 s; >= 1000x the naive method wherever both run.")
    return "\n".join(out)


@dataclass(frozen=True)
class IMScaleRow:
    """Exact I_m on ``len(times)`` inputs of one (size, kind), on ``n_jobs`` threads."""
    s: int
    m: int
    kind: str
    n_jobs: int
    seeds: tuple[int, ...]
    times: tuple[float, ...]
    nodes: tuple[int, ...]
    scores: tuple[float, ...]
    partitions: int
    all_exact: bool
    load: float                       # 1-minute load average when the row started

    @property
    def worst_s(self) -> float:
        return max(self.times)


def bench_im_scale(sizes=IM_SCALE_SIZES, kinds=("random", "structured"), seeds: int = 10,
                   jobs=(1,), progress: bool = True) -> list[IMScaleRow]:
    """Time ``im_score(method="exact")`` on ``seeds`` inputs per (size, kind) and thread count.

    ``"random"`` is a dense random SPD joint covariance (condition number ≤ 10), ``"structured"``
    :func:`structured_im_covariance` (grouped correlated factors, sparse encoder, isotropic noise).
    Every thread count runs on the same inputs, interleaved instance by instance so that a
    change in the machine's load hits them alike.
    """
    import os

    from lingauss.metrics import count_set_partitions, im_score

    im_score(im_benchmark_covariance(13, 6, "structured", 0), 6, progress=False)   # load kernels
    for nj in jobs:
        im_score(im_benchmark_covariance(13, 6, "structured", 0), 6, progress=False, n_jobs=nj)
    rows = []
    todo = [(s, m, kind) for s, m in sizes for kind in kinds]
    for s, m, kind in tqdm(todo, desc="I_m at scale", disable=not progress, leave=False):
        load = os.getloadavg()[0]
        res = {nj: ([], [], [], []) for nj in jobs}
        for seed in range(seeds):
            cov = im_benchmark_covariance(s, m, kind, seed)
            for nj in jobs:
                t0 = time.perf_counter()
                r = im_score(cov, m, method="exact", n_jobs=nj, progress=False)
                res[nj][0].append(time.perf_counter() - t0)
                res[nj][1].append(r.n_nodes)
                res[nj][2].append(r.score)
                res[nj][3].append(r.exact)
        for nj in jobs:
            times, nodes, scores, exact = res[nj]
            rows.append(IMScaleRow(s, m, kind, nj, tuple(range(seeds)), tuple(times), tuple(nodes),
                                   tuple(scores), count_set_partitions(s, m), all(exact), load))
    return rows


def format_im_scale(rows: list[IMScaleRow]) -> str:
    """Markdown tables of :func:`bench_im_scale`: per (size, kind, threads), worst case per size
    against the targets, and the speed-up of every thread count over one thread."""
    out = ["| (s, m) | input | threads | inputs | worst (s) | median (s) | worst nodes | median nodes | "
           "set partitions <= m blocks | worst nodes / partitions | all exact | load avg |",
           "|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        out.append(f"| ({r.s}, {r.m}) | {r.kind} | {r.n_jobs} | {len(r.times)} | {r.worst_s:.3g} | "
                   f"{np.median(r.times):.3g} | {max(r.nodes):.3g} | {np.median(r.nodes):.3g} | "
                   f"{r.partitions:.3g} | {max(r.nodes) / r.partitions:.2g} | {'yes' if r.all_exact else 'NO'} | "
                   f"{r.load:.1f} |")
    out += ["", "| (s, m) | threads | worst over all inputs (s) | target (s) | met |", "|---|---|---|---|---|"]
    for (s, m) in dict.fromkeys((r.s, r.m) for r in rows):
        for nj in dict.fromkeys(r.n_jobs for r in rows):
            sel = [r for r in rows if (r.s, r.m, r.n_jobs) == (s, m, nj)]
            worst = max(r.worst_s for r in sel)
            target = IM_SCALE_TARGETS.get((s, m))
            met = "" if target is None or nj != 1 else ("yes" if worst < target else "NO")
            out.append(f"| ({s}, {m}) | {nj} | {worst:.3g} | {'' if target is None else target} | {met} |")
    ones = {(r.s, r.m, r.kind): r for r in rows if r.n_jobs == 1}
    multi = [r for r in rows if r.n_jobs > 1 and (r.s, r.m, r.kind) in ones]
    if multi:
        out += ["", "| (s, m) | input | threads | speed-up: total time | median per input | min per input | "
                "same scores |", "|---|---|---|---|---|---|---|"]
        for r in multi:
            one = ones[(r.s, r.m, r.kind)]
            ratio = np.array(one.times) / np.array(r.times)
            same = np.allclose(one.scores, r.scores, rtol=0, atol=1e-9)
            out.append(f"| ({r.s}, {r.m}) | {r.kind} | {r.n_jobs} | {sum(one.times) / sum(r.times):.2f}x | "
                       f"{np.median(ratio):.2f}x | {ratio.min():.2f}x | {'yes' if same else 'NO'} |")
    out.append("")
    out.append("random: dense random SPD joint covariance (condition number <= 10); structured: factors in "
               "groups of 1-4 with within-group correlation U(0.3, 0.9), sparse N(0,1) encoder (density "
               "0.3), isotropic latent noise 0.5 I. Targets (one core, worst case): (16, 8) < 1 s, "
               "(18, 8) < 5 s, (20, 10) < 60 s; >= 1.7x on two threads at (20, 10). The load average is "
               "the machine's (shared machines inflate times and deflate speed-ups).")
    return "\n".join(out)
