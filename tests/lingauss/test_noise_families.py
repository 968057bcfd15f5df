"""Decoder-noise families: declared once, each declaration checked against an independent fact."""

from __future__ import annotations

import numpy as np
import pytest
import sympy as sp
from scipy.optimize import minimize

import lingauss as lg
from lingauss.noise_families import (FAMILY_NAMES, LEARNED_FAMILIES, NAMED_FAMILIES, decoder_noise_families,
                                     decoder_noise_family, resolve_decoder_noise)


def _objective(sigma_z, E):
    """log|Σ_Z| + tr(Σ_Z⁻¹E): the part of the loss the decoder-noise half-step minimises."""
    return np.linalg.slogdet(sigma_z)[1] + np.trace(np.linalg.solve(sigma_z, E))


def _random_spd(n, seed):
    a = np.random.default_rng(seed).standard_normal((n, n + 2))
    return a @ a.T / (n + 2) + 0.1 * np.eye(n)


@pytest.mark.parametrize("name", LEARNED_FAMILIES)
@pytest.mark.parametrize("seed", [0, 1])
def test_projection_is_the_numerical_minimiser_inside_the_family(name, seed):
    """Minimise over the family's own parameters with scipy (log-Cholesky / log-variances) and
    compare with the declared closed-form projection."""
    n = 3
    E = _random_spd(n, seed)
    fam = decoder_noise_family(name)
    k = fam.n_parameters(n)

    def build(theta):
        if name == "isotropic":
            return np.exp(theta[0]) * np.eye(n)
        if name == "diagonal":
            return np.diag(np.exp(theta))
        L = np.zeros((n, n))
        L[np.tril_indices(n)] = theta
        L[np.diag_indices(n)] = np.exp(np.diag(L))
        return L @ L.T

    res = minimize(lambda t: _objective(build(t), E), np.zeros(k), method="BFGS", options={"gtol": 1e-10})
    np.testing.assert_allclose(build(res.x), fam.project(E), atol=1e-5)
    assert _objective(fam.project(E), E) <= res.fun + 1e-9


@pytest.mark.parametrize("name", LEARNED_FAMILIES)
def test_symbolic_declaration_matches_the_numeric_one(name):
    n = 3
    fam = decoder_noise_family(name)
    Z = fam.symbolic(n)
    assert len(Z.free_symbols) == fam.n_parameters(n)
    E = _random_spd(n, 5)
    sym = np.array(fam.symbolic_update(sp.Matrix(E)).evalf(), dtype=float)
    np.testing.assert_allclose(sym, fam.project(E), rtol=1e-12)


def test_batched_projection_equals_per_matrix_projection():
    E = np.stack([_random_spd(4, s) for s in range(3)])
    for name in LEARNED_FAMILIES:
        fam = decoder_noise_family(name)
        np.testing.assert_array_equal(fam.project(E), np.stack([fam.project(e) for e in E]))


def test_true_family_is_the_models_noise_and_needs_the_model():
    sc = lg.talk_scenario((3, 4, 3), 2)
    np.testing.assert_array_equal(resolve_decoder_noise("true", sc.model), sc.model.noise_var * np.eye(4))
    with pytest.raises(ValueError, match="LinearGaussianModel"):
        resolve_decoder_noise("true")
    r = lg.blahut_arimoto(sc.model, 3, 1.0, 0.0, decoder_noise="true", rng=0)
    np.testing.assert_array_equal(r.sigma_z, sc.model.noise_var * np.eye(4))
    fixed = lg.blahut_arimoto(sc.model, 3, 1.0, 0.0, decoder_noise=sc.model.noise_var * np.eye(4), rng=0)
    np.testing.assert_allclose(r.B, fixed.B, atol=1e-12)


def test_every_consumer_reads_the_declaration():
    from analysis.cli import build_parser
    from analysis.protocol import NOISE_CHOICES
    from neural.models.linear import DECODER_NOISE

    assert lg.DECODER_FAMILIES == LEARNED_FAMILIES == DECODER_NOISE
    assert NOISE_CHOICES == NAMED_FAMILIES and set(NAMED_FAMILIES) | {"fixed"} == set(FAMILY_NAMES)
    sub = build_parser()._subparsers._group_actions[0].choices
    for command in ("reproduce", "sweep", "solve"):
        action = next(a for a in sub[command]._actions if a.dest == "decoder_noise")
        assert set(NAMED_FAMILIES) <= set(action.choices), command
    assert list(decoder_noise_families()) == list(FAMILY_NAMES)


def test_unknown_family_names_the_argument():
    with pytest.raises(ValueError, match="decoder_noise"):
        decoder_noise_family("spherical")
    with pytest.raises(ValueError, match="decoder_noise"):
        lg.blahut_arimoto(lg.talk_scenario((3, 4, 3), 2).model, 3, 1.0, 0.0, decoder_noise="spherical")
