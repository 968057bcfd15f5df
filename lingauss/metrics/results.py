"""Frozen result records of the metric functions (plain fields, no dicts)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..grouping import assignment_groups, canonical_grouping

__all__ = ["IMResult", "IMLandscape"]


@dataclass(frozen=True)
class IMResult:
    """The I_m metric of one joint covariance (Vu et al. 2024).

    ``score``: max over assignments of Σ_i I(x_i; V_{S_i}) − Σ_{p<q} I(V_{S_p}; V_{S_q}) (nats).
    ``assignment[j]``: the latent (0-based) of factor j in the best assignment.
    ``groups[i]``: the factors of latent i (a tuple per latent, possibly empty).
    ``grouping``: the unlabelled set partition (canonical: sorted non-empty blocks).
    ``ties``: labelled assignments whose score is within ``tol`` of the maximum (≥ 1).
    ``tied_groupings``: distinct groupings among them (> 1 means the best grouping is ambiguous).
    ``n_evaluated``: assignments (exhaustive, dp) or complete set partitions (partition) scored.
    ``method``: the search that produced the result: ``"exhaustive"``, ``"partition"`` or ``"dp"``
    (``"auto"`` and ``"exact"`` are requests that resolve to one of these).
    ``bound``: a certified upper bound on the maximum (= ``score`` when ``exact``).
    ``exact``: False when a time limit stopped the search (``score`` is then the best found,
    ``ties``/``tied_groupings`` count only what the search saw).
    ``n_nodes``: branch-and-bound nodes bounded (0 for the other searches).
    """

    score: float
    assignment: tuple[int, ...]
    groups: tuple[tuple[int, ...], ...]
    grouping: tuple[tuple[int, ...], ...]
    ties: int
    tied_groupings: int
    n_evaluated: int
    method: str
    bound: float | None = None
    exact: bool = True
    n_nodes: int = 0

    def __post_init__(self):
        if self.bound is None:
            object.__setattr__(self, "bound", self.score)

    @property
    def ambiguous(self) -> bool:
        """True when more than one grouping reaches the maximum within tolerance."""
        return self.tied_groupings > 1


@dataclass(frozen=True, eq=False)
class IMLandscape:
    """Every labelled assignment's I_m score: ``scores[k]`` for the assignment whose base-m digits
    (factor 0 least significant) are ``k``; see :meth:`assignment`."""

    scores: np.ndarray
    n_latents: int
    n_factors: int

    def assignment(self, index: int) -> tuple[int, ...]:
        """Decode an index into ``assignment[j]`` = latent of factor j."""
        out = []
        for _ in range(self.n_factors):
            index, digit = divmod(int(index), self.n_latents)
            out.append(digit)
        return tuple(out)

    def argmax(self) -> tuple[int, ...]:
        return self.assignment(int(np.argmax(self.scores)))

    def grouping(self, index: int):
        """The (canonical, unlabelled) grouping of assignment ``index``."""
        return canonical_grouping(assignment_groups(self.assignment(index), self.n_latents))
