"""The Koopman ridge fit equals its closed form at a non-negligible ridge (both Gram branches),
checked against an augmented least-squares solve — an independent route to the same minimiser."""

import numpy as np
import pytest
import torch

from neural.koopman import fit_koopman, ridge_lstsq


def _augmented(X, Y, eps):
    """argmin ‖XC − Y‖² + ε‖C‖² as the plain least squares [X; √ε I] C = [Y; 0]."""
    k = X.shape[1]
    A = np.vstack([X, np.sqrt(eps) * np.eye(k)])
    b = np.vstack([Y, np.zeros((k, Y.shape[1]))])
    return np.linalg.lstsq(A, b, rcond=None)[0]


@pytest.mark.parametrize("n, k", [(12, 4), (3, 6)])        # XᵀX branch and XXᵀ branch
@pytest.mark.parametrize("ridge", [0.3, 2.0])
def test_ridge_lstsq_is_the_closed_form(n, k, ridge):
    rng = np.random.default_rng(n * 10 + k)
    X, Y = rng.standard_normal((n, k)), rng.standard_normal((n, k))
    G = X.T @ X if n >= k else X @ X.T                     # the smaller Gram matrix
    eps = ridge * np.trace(G) / G.shape[0]
    C = ridge_lstsq(torch.from_numpy(X), torch.from_numpy(Y), ridge).numpy()
    np.testing.assert_allclose(C, _augmented(X, Y, eps), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(X.T @ (X @ C - Y) + eps * C, 0.0, atol=1e-10)   # stationarity
    assert not np.allclose(C, np.linalg.lstsq(X, Y, rcond=None)[0], atol=1e-3)  # the ridge matters


def test_fit_koopman_batch_and_instance_operators_are_the_closed_form():
    rng = np.random.default_rng(5)
    Z = rng.standard_normal((3, 6, 4))
    ridge = 0.5
    fit = fit_koopman(torch.from_numpy(Z), ridge=ridge)
    X, Y = Z[:, :-1].reshape(-1, 4), Z[:, 1:].reshape(-1, 4)
    np.testing.assert_allclose(fit.C.numpy(), _augmented(X, Y, ridge * np.trace(X.T @ X) / 4),
                               rtol=1e-10, atol=1e-12)
    inst = fit_koopman(torch.from_numpy(Z), ridge=ridge, per_instance=True)
    for i in range(3):
        Xi, Yi = Z[i, :-1], Z[i, 1:]
        np.testing.assert_allclose(inst.C[i].numpy(), _augmented(Xi, Yi, ridge * np.trace(Xi.T @ Xi) / 4),
                                   rtol=1e-10, atol=1e-12)
