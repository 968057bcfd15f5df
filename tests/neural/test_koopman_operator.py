"""Koopman layer: least squares recovers a known linear system; spectra; spectral loss selection."""

import numpy as np
import pytest
import torch

from neural.koopman import fit_koopman, koopman_eigvals, ridge_lstsq, select_static, spectral_loss


def _rollout(C, z0, T):
    Z = [z0]
    for _ in range(T - 1):
        Z.append(Z[-1] @ C)
    return torch.stack(Z, dim=-2)


def _stable_operator(k, gen, radius=0.95):
    A = torch.randn(k, k, generator=gen, dtype=torch.float64)
    return radius * A / torch.linalg.eigvals(A).abs().max()


@pytest.mark.parametrize("method", ["ridge", "lstsq"])
def test_batch_operator_recovers_known_linear_system(method):
    gen = torch.Generator().manual_seed(0)
    k, b, T = 6, 5, 8
    C_true = _stable_operator(k, gen)
    Z = _rollout(C_true, torch.randn(b, k, generator=gen, dtype=torch.float64), T)   # Z_{t+1} = Z_t C
    fit = fit_koopman(Z.float() if method == "lstsq" else Z, method=method, ridge=1e-12)
    assert fit.C.dtype == torch.float64 and fit.C.shape == (k, k)
    tol = 1e-4 if method == "lstsq" else 1e-7
    torch.testing.assert_close(fit.C, C_true, atol=tol, rtol=tol)
    torch.testing.assert_close(fit.Z_pred_next, fit.Y, atol=1e-4, rtol=1e-4)
    assert torch.equal(fit.Z_pred[:, 0], fit.X[:, 0]) and fit.Z_pred.shape == (b, T, k)
    ev = torch.sort(koopman_eigvals(fit).abs()).values
    torch.testing.assert_close(ev, torch.sort(torch.linalg.eigvals(C_true).abs()).values, atol=1e-4, rtol=1e-4)


def test_instance_operators_recover_one_system_per_sequence():
    gen = torch.Generator().manual_seed(1)
    k, T = 4, 9
    Cs = torch.stack([_stable_operator(k, gen) for _ in range(3)])
    Z = torch.stack([_rollout(Cs[i], torch.randn(k, generator=gen, dtype=torch.float64), T) for i in range(3)])
    fit = fit_koopman(Z, per_instance=True, ridge=0.0)
    assert fit.C.shape == (3, k, k) and fit.factors is None
    torch.testing.assert_close(fit.C, Cs, atol=1e-7, rtol=1e-7)


def test_underdetermined_ridge_is_min_norm_and_low_rank_spectrum_matches():
    gen = torch.Generator().manual_seed(2)
    X = torch.randn(3, 4, 9, generator=gen, dtype=torch.float64)      # n = 4 pairs < k = 9
    Y = torch.randn(3, 4, 9, generator=gen, dtype=torch.float64)
    C, (A, B) = ridge_lstsq(X, Y, 1e-10, return_factors=True)
    torch.testing.assert_close(C, torch.linalg.pinv(X) @ Y, atol=1e-6, rtol=1e-6)
    torch.testing.assert_close(A @ B, C)
    lam = koopman_eigvals(C, (A, B))
    full = torch.linalg.eigvals(C)
    for i in range(3):   # nonzero eigenvalues agree; the padding is exact zeros
        big = full[i][full[i].abs() > 1e-6]
        got = lam[i][lam[i].abs() > 0]
        torch.testing.assert_close(torch.sort(big.abs()).values, torch.sort(got.abs()).values, atol=1e-6, rtol=1e-6)
    assert int((lam.abs() == 0).sum()) == 3 * 5
    # gradients through the low-rank spectrum are finite (the full eig would have a 5-fold eigenvalue 0)
    Xg = X.clone().requires_grad_(True)
    fit = fit_koopman(torch.cat([Xg, Y[:, -1:]], 1), per_instance=True)
    koopman_eigvals(fit).real.sum().backward()
    assert torch.isfinite(Xg.grad).all()


def test_fit_koopman_rejects_bad_input():
    with pytest.raises(ValueError, match="Z must be"):
        fit_koopman(torch.zeros(2, 1, 3))
    with pytest.raises(ValueError, match="method"):
        fit_koopman(torch.zeros(2, 3, 3), method="svd")
    with pytest.raises(ValueError, match="ridge"):
        ridge_lstsq(torch.zeros(4, 2), torch.zeros(4, 2), -1.0)


# ------------------------------------------------------------------------------ spectral loss

def _spectrum(values):
    return torch.tensor(values, dtype=torch.complex128)


@pytest.mark.parametrize("s", [1, 2, 3, 4, 5])
def test_exactly_s_static_eigenvalues_even_when_a_conjugate_pair_straddles(s):
    # |λ−1| by index: 0.8, 0, 0.1414 and 0.1414 (a conjugate pair: exact tie), 0.02, 1.3, 0.1732
    lam = _spectrum([0.2, 1.0, 0.9 + 0.1j, 0.98, 0.9 - 0.1j, -0.3, 0.9 + 0.1414j])
    mask = select_static(lam, s)
    assert int(mask.sum()) == s
    expected_order = [1, 3, 2, 4, 6, 0, 5]          # ties → first in the array (the +Im member)
    assert set(torch.nonzero(mask).flatten().tolist()) == set(expected_order[:s])


def test_conjugate_pair_at_boundary_puts_one_member_in_each_set():
    lam = _spectrum([1.0, 0.5 + 0.5j, 0.5 - 0.5j, 0.1])
    loss, st, dy, mask = spectral_loss(lam, 2, alpha=0.3)
    assert mask.tolist() == [True, True, False, False]
    # S = {1, 0.5+0.5i}: (0 + 0.5)/2 ; D = {0.5−0.5i, 0.1}: Re 0.5 > 0.3 counts, 0.1 does not → 0.5/2
    assert float(st) == pytest.approx(0.25) and float(dy) == pytest.approx(0.25)
    assert float(loss) == pytest.approx(0.5)
    _, _, dy_mod, _ = spectral_loss(lam, 2, alpha=0.3, dynamic_penalty="modulus")
    assert float(dy_mod) == pytest.approx((np.sqrt(0.5) - 0.3) / 2)


def test_spectral_loss_batched_and_differentiable_and_mask_override():
    lam = torch.stack([_spectrum([1.1, 0.2, 0.7]), _spectrum([0.9, 0.95, -0.8])])
    loss, st, dy, mask = spectral_loss(lam, 1, alpha=0.5)
    assert mask.sum(-1).tolist() == [1, 1] and mask[1].tolist() == [False, True, False]
    # static: (0.01 + 0.0025)/2; dynamic: row0 {0.2, 0.7} → 0.7/2, row1 {0.9, −0.8} → 0.9/2
    assert float(st) == pytest.approx(0.00625) and float(dy) == pytest.approx((0.35 + 0.45) / 2)
    override = torch.tensor([[False, True, False], [True, False, False]])
    _, st2, _, m2 = spectral_loss(lam, 1, static_mask=override)
    assert torch.equal(m2, override) and float(st2) == pytest.approx((0.64 + 0.01) / 2)
    with pytest.raises(ValueError, match="static_mask"):
        spectral_loss(lam, 1, static_mask=torch.ones(2, 3, dtype=torch.bool))
    C = torch.tensor([[0.9, 0.3], [-0.2, 0.6]], dtype=torch.float64, requires_grad=True)
    spectral_loss(torch.linalg.eigvals(C), 1)[0].backward()
    assert torch.isfinite(C.grad).all() and C.grad.abs().sum() > 0
