"""SSM-SKD's static mode on crafted low-rank spectra: padded zeros are never the static mode."""

import numpy as np
import torch

from neural.koopman import SSMSKD, fit_koopman, koopman_eigvals
from neural.koopman.operator import KoopmanFit

TINY = dict(channels=(4, 4), hidden=8, in_channels=1, image_size=16)


def _crafted_fit(M: np.ndarray, k: int, seed: int = 0) -> KoopmanFit:
    """A one-sequence fit whose operator C = A B (k×k, rank n) has the nonzero spectrum of M (n×n).

    A = Xᵀ (k×n) random with full column rank and B = M (AᵀA)⁻¹Aᵀ, so B A = M and eig(C) =
    eig(M) ∪ {0}^{k−n} (eig(AB) = eig(BA) plus zeros)."""
    n = M.shape[0]
    rng = np.random.default_rng(seed)
    A = rng.standard_normal((k, n))
    B = M @ np.linalg.solve(A.T @ A, A.T)
    At, Bt = torch.tensor(A)[None], torch.tensor(B)[None]
    C = At @ Bt
    X = torch.zeros(1, n, k, dtype=torch.float64)
    return KoopmanFit(C=C, X=X, Y=X, Z_pred_next=X, Z_pred=X, factors=(At, Bt), per_instance=True)


def test_negative_real_eigenvalue_is_chosen_over_padded_zeros():
    # T − 1 = 3 < k = 6: nonzero spectrum {−0.3, 0.2 ± 0.5i}, three padded zeros
    M = np.array([[-0.3, 0.0, 0.0], [0.0, 0.2, -0.5], [0.0, 0.5, 0.2]])
    fit = _crafted_fit(M, 6)
    ref = np.sort_complex(np.linalg.eigvals(fit.C[0].numpy()))        # independent spectrum (LAPACK)
    assert np.sum(np.abs(ref) < 1e-8) == 3 and np.min(np.abs(ref + 0.3)) < 1e-8
    m = SSMSKD(k=6, **TINY)
    lam = koopman_eigvals(fit)
    pair = m.static_mode(fit, lam)
    assert abs(float(pair.value[0]) + 0.3) < 1e-6            # not the padded 0, which is nearer 1
    C = fit.C[0].numpy()
    v = pair.right[0].numpy()
    np.testing.assert_allclose(C @ v, -0.3 * v, atol=1e-6)
    assert bool(m.degenerate_static(fit, lam)[0])             # the old rule would have taken 0
    # the static loss sees λ = −0.3: |λ − 1|² = 1.69 (a padded 0 would give 1)
    assert abs(float(m.eigen_loss(fit)["eig_static"]) - 1.69) < 1e-5


def test_positive_real_eigenvalue_is_not_degenerate():
    M = np.diag([0.9, -0.4, 0.1])
    fit = _crafted_fit(M, 5, seed=1)
    m = SSMSKD(k=5, **TINY)
    lam = koopman_eigvals(fit)
    assert abs(float(m.static_mode(fit, lam).value[0]) - 0.9) < 1e-6
    assert not bool(m.degenerate_static(fit, lam)[0])


def test_no_real_nonzero_eigenvalue_is_flagged():
    M = np.array([[0.2, -0.5], [0.5, 0.2]])                   # only a complex pair, three zeros
    fit = _crafted_fit(M, 5, seed=2)
    m = SSMSKD(k=5, **TINY)
    lam = koopman_eigvals(fit)
    assert bool(m.degenerate_static(fit, lam)[0])
    # the shift falls back to Re of the nearest allowed (nonzero) eigenvalue, not to a padded 0
    assert abs(float(m.static_mode(fit, lam).shift[0]) - (0.2 + m.offset)) < 1e-9


def test_training_counts_degenerate_static_modes():
    torch.manual_seed(0)
    m = SSMSKD(k=6, **TINY)
    x = torch.rand(3, 4, 1, 16, 16)
    m.train()
    out = m.loss(x)
    assert m.static_mode_count == 3 and 0 <= m.degenerate_count <= 3
    assert abs(float(out["degenerate_static"]) - m.degenerate_count / 3) < 1e-12
    m.eval()
    m.loss(x)
    assert m.static_mode_count == 3                           # evaluation does not count
    # the crafted fit and fit_koopman agree on the low-rank bookkeeping: T − 1 < k gives factors
    assert fit_koopman(torch.randn(2, 4, 6), per_instance=True).factors is not None
