"""The backprop-friendly static eigenvector: accuracy against eig, and gradients (gradcheck)."""

import pytest
import torch

from neural.koopman import nearest_real_eigenvalue, static_eigenpair, static_projector


def _operator(seed=0):
    """A real 5×5 operator with eigenvalues 1.05, 0.5, 0.3 ± 0.4i, −0.2 (real one nearest 1: 1.05)."""
    gen = torch.Generator().manual_seed(seed)
    Q = torch.randn(5, 5, generator=gen, dtype=torch.float64) + 2 * torch.eye(5, dtype=torch.float64)
    D = torch.zeros(5, 5, dtype=torch.float64)
    D[0, 0], D[1, 1], D[4, 4] = 1.05, 0.5, -0.2
    D[2:4, 2:4] = torch.tensor([[0.3, 0.4], [-0.4, 0.3]], dtype=torch.float64)
    return Q @ D @ torch.linalg.inv(Q)


def _eig_projector(C):
    lam, V = torch.linalg.eig(C.to(torch.complex128))
    i = int((lam - 1).abs().argmin())
    W = torch.linalg.inv(V)
    return (V[:, i:i + 1] @ W[i:i + 1, :]).real


def test_eigenpair_matches_eig_and_projector_is_oblique_projection():
    C = _operator()
    pair = static_eigenpair(C)
    assert float(pair.value) == pytest.approx(1.05, abs=1e-10)
    assert float(pair.residual) < 1e-10
    torch.testing.assert_close(C @ pair.right, 1.05 * pair.right, atol=1e-9, rtol=0)
    torch.testing.assert_close(C.T @ pair.left, 1.05 * pair.left, atol=1e-9, rtol=0)
    P = static_projector(pair.right, pair.left)
    torch.testing.assert_close(P @ P, P, atol=1e-10, rtol=0)
    torch.testing.assert_close(P, _eig_projector(C), atol=1e-9, rtol=0)
    assert float(nearest_real_eigenvalue(C)) == pytest.approx(1.05)
    batch = torch.stack([_operator(0), _operator(1)])
    bp = static_eigenpair(batch)
    assert bp.value.shape == (2,) and bp.right.shape == (2, 5)
    torch.testing.assert_close(bp.value, torch.full((2,), 1.05, dtype=torch.float64), atol=1e-9, rtol=0)


@pytest.mark.parametrize("shift", [1.06, None])
def test_eigenvector_gradient_passes_gradcheck(shift):
    C = _operator().requires_grad_(True)

    def f(C):
        p = static_eigenpair(C, shift=shift, n_iter=5)
        return p.value, p.right, p.left, static_projector(p.right, p.left)

    assert torch.autograd.gradcheck(f, (C,), eps=1e-6, atol=1e-6, rtol=1e-4)


def test_projector_jacobian_matches_the_exact_eigen_decomposition():
    C = _operator(3)
    J_iter = torch.autograd.functional.jacobian(lambda M: static_projector(*_rl(M)), C)
    J_eig = torch.autograd.functional.jacobian(_eig_projector, C)
    torch.testing.assert_close(J_iter, J_eig, atol=1e-7, rtol=1e-6)


def _rl(M):
    p = static_eigenpair(M, n_iter=5)
    return p.right, p.left
