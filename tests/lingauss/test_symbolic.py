"""Symbolic checks: the γλ-VAE loss as an expectation, and the BA updates as stationary points."""

from __future__ import annotations

import numpy as np
import pytest
import sympy as sp
from sympy import Matrix, Rational as R

from lingauss.symbolic import (
    SymbolicLoss,
    closed_form_loss,
    decoder_stationarity,
    encoder_stationarity,
    kl_by_integration,
    loss_by_expectation,
    seed_decoder_identity,
    symbolic_matrix,
)

FIELDS = ("kl", "nll", "mse", "total")
GAMMA, LAM = sp.symbols("gamma lambda", real=True)


def _is_zero(expr: sp.Expr) -> bool:
    """Exact zero test: expand, then cancel the rational function (logs cancel on expansion)."""
    e = sp.expand(expr)
    return e == 0 or sp.simplify(sp.cancel(sp.together(e))) == 0


def _all_zero(M: sp.Matrix) -> bool:
    return all(_is_zero(e) for e in M)


def _symbolic_args(n: int, m: int, sigma_z: str):
    if sigma_z == "diagonal":
        Z = symbolic_matrix("z", n, n, diagonal=True)
    elif sigma_z == "full":
        Z = symbolic_matrix("z", n, n, symmetric=True)
    else:  # exact rational, full
        Z = Matrix([[R(3, 2), R(1, 3)], [R(1, 3), R(4, 5)]])
    return (
        symbolic_matrix("S", n, n, symmetric=True),
        symbolic_matrix("a", n, m),
        symbolic_matrix("b", m, n),
        symbolic_matrix("w", m, m, symmetric=True),
        Z,
        GAMMA,
        LAM,
    )


# ---------------------------------------------------------------- the loss as an expectation


@pytest.mark.parametrize("n,m", [(2, 1), (2, 2)])
@pytest.mark.parametrize("sigma_z", ["diagonal", "full", "rational"])
def test_expectation_equals_closed_form(n, m, sigma_z):
    args = _symbolic_args(n, m, sigma_z)
    closed = closed_form_loss(*args)
    expect = loss_by_expectation(*args)
    assert isinstance(closed, SymbolicLoss) and isinstance(expect, SymbolicLoss)
    for field in FIELDS:
        a, b = getattr(closed, field), getattr(expect, field)
        assert sp.simplify(sp.expand(a - b)) == 0, field
    # the expectation really is free of the sampling variables
    assert expect.total.free_symbols <= set().union(*(x.free_symbols for x in args))


def test_expectation_equals_closed_form_symbolic_3x2():
    """A slightly larger symbolic case (n=3, m=2, diagonal Σ_Z) is still quick."""
    args = (
        symbolic_matrix("S", 3, 3, symmetric=True),
        symbolic_matrix("a", 3, 2),
        symbolic_matrix("b", 2, 3),
        symbolic_matrix("w", 2, 2, symmetric=True),
        symbolic_matrix("z", 3, 3, diagonal=True),
        GAMMA,
        LAM,
    )
    closed, expect = closed_form_loss(*args), loss_by_expectation(*args)
    for field in FIELDS:
        assert _is_zero(getattr(closed, field) - getattr(expect, field)), field


def test_isserlis_fourth_moment():
    """The moment engine handles degree > 2 correctly: E[y1^4] = 3s², E[y1² y2²] = s11 s22 + 2 s12²."""
    from lingauss.symbolic import _expectation

    S = symbolic_matrix("S", 2, 2, symmetric=True)
    y1, y2 = sp.symbols("y1 y2", real=True)
    assert _is_zero(_expectation(y1**4, [y1, y2], S) - 3 * S[0, 0] ** 2)
    assert _is_zero(_expectation(y1**2 * y2**2, [y1, y2], S) - (S[0, 0] * S[1, 1] + 2 * S[0, 1] ** 2))
    assert _expectation(y1**3 + y1 * y2**2 + 5 * y2, [y1, y2], S) == 0
    assert _is_zero(_expectation(2 + y1 * y2, [y1, y2], S) - (2 + S[0, 1]))


def test_kl_by_integration_matches_closed_form_scalar():
    b = sp.Symbol("b", real=True)
    s_w, s_y = sp.symbols("s_w s_y", positive=True)
    integrated = kl_by_integration()
    assert integrated.free_symbols <= {b, s_w, s_y}
    closed = closed_form_loss(
        Matrix([[s_y]]), Matrix([[sp.Symbol("a", real=True)]]), Matrix([[b]]), Matrix([[s_w]]),
        Matrix([[1]]), GAMMA, LAM,
    ).kl
    assert _is_zero(integrated - closed)


# --------------------------------------------------------------------- negative controls


def _seed_style_mistakes(sigma_y, A, B, sigma_w, sigma_z, gamma, lam):
    """Plausible misreadings of the seed's printed formula (3), each a named total."""
    n, m = A.shape
    R_ = sp.eye(n) - A * B
    E = R_ * sigma_y * R_.T + A * sigma_w * A.T
    kl = R(1, 2) * ((B * sigma_y * B.T + sigma_w).trace() - sp.log(sigma_w.det()) - m)
    logdet_z = sp.log(sigma_z.det())
    trace_term = (sigma_z.inv() * E).trace()
    good_nll = R(1, 2) * (n * sp.log(2 * sp.pi) + logdet_z + trace_term)
    return {
        "kl without 1/2": 2 * kl + gamma * good_nll + lam * E.trace(),
        "nll without 1/2": kl + gamma * 2 * good_nll + lam * E.trace(),
        "trace misplaced": kl + gamma * R(1, 2) * (n * sp.log(2 * sp.pi) + logdet_z
                                                  + sigma_z.inv().trace() * E.trace())
                           + lam * E.trace(),
        "formula (3) constants": kl + gamma / 2 * trace_term - n * sp.log(2 * sp.pi) - logdet_z
                                 + lam * E.trace(),
        "mse as E[0,0]": kl + gamma * good_nll + lam * E[0, 0],
    }


def test_negative_control_mistaken_closed_forms_are_caught():
    args = _symbolic_args(2, 1, "diagonal")
    truth = loss_by_expectation(*args).total
    for name, wrong in _seed_style_mistakes(*args).items():
        assert not _is_zero(truth - wrong), name


def test_negative_control_perturbed_updates_have_gradient():
    sigma_y = Matrix([[2, R(1, 2)], [R(1, 2), 1]])
    A = Matrix([[1], [R(1, 3)]])
    sigma_z = Matrix([[R(1, 2), R(1, 10)], [R(1, 10), R(1, 3)]])
    gamma, lam = R(3, 2), R(1, 5)
    enc = encoder_stationarity(sigma_y, A, sigma_z, gamma, lam)
    assert enc.is_stationary
    bumped = dict(enc.substitution)
    b0 = enc.symbols[0]
    bumped[b0] = bumped[b0] + R(1, 7)
    assert not _all_zero(enc.gradient_at(bumped))
    # the "λ instead of 2λ" typo in P moves the point off the stationary set
    P_typo = gamma * sigma_z.inv() + lam * sp.eye(2)
    W_typo = (sp.eye(1) + A.T * P_typo * A).inv()
    B_typo = W_typo * A.T * P_typo
    typo = dict(zip(enc.symbols, list(B_typo) + [W_typo[0, 0]]))
    assert not _all_zero(enc.gradient_at(typo))

    B = Matrix([[R(1, 2), R(-1, 3)]])
    dec = decoder_stationarity(sigma_y, B, Matrix([[R(1, 3)]]), gamma, lam, family="diagonal")
    assert dec.is_stationary
    bumped = dict(dec.substitution)
    z_last = dec.symbols[-1]
    bumped[z_last] = bumped[z_last] * 2
    assert not _all_zero(dec.gradient_at(bumped))


# ------------------------------------------------------------------- BA stationarity

SIGMA_Y = Matrix([[2, R(1, 2)], [R(1, 2), 1]])
SIGMA_Z = Matrix([[R(1, 2), R(1, 10)], [R(1, 10), R(1, 3)]])
GAMMA_LAM = [(1, 0), (R(3, 2), R(-1, 10)), (R(1, 2), R(1, 4)), (R(7, 10), R(-1, 20))]


@pytest.mark.parametrize("A", [Matrix([[1], [R(1, 3)]]), Matrix([[1, R(-1, 2)], [R(1, 3), 2]])],
                         ids=["m1", "m2"])
@pytest.mark.parametrize("gamma,lam", GAMMA_LAM)
def test_encoder_update_is_stationary(A, gamma, lam):
    res = encoder_stationarity(SIGMA_Y, A, SIGMA_Z, gamma, lam)
    m, n = A.cols, A.rows
    assert res.gradient_at_update.shape == (m * n + m * (m + 1) // 2, 1)
    assert all(g == 0 for g in res.gradient_at_update)
    assert res.is_stationary
    assert _all_zero(res.solved - res.update)
    assert res.solved.free_symbols == set()
    # the solved B is the unique stationary B, and the Σ_W update is SPD
    assert res.covariance_update.is_positive_definite


@pytest.mark.parametrize("B,sigma_w", [
    (Matrix([[R(1, 2), R(-1, 3)]]), Matrix([[R(1, 3)]])),
    (Matrix([[R(1, 2), R(-1, 3)], [R(1, 5), 1]]), Matrix([[R(1, 3), R(1, 10)], [R(1, 10), R(1, 2)]])),
], ids=["m1", "m2"])
@pytest.mark.parametrize("family", ["full", "diagonal", "isotropic"])
@pytest.mark.parametrize("gamma,lam", GAMMA_LAM[:3])
def test_decoder_update_is_stationary(B, sigma_w, family, gamma, lam):
    res = decoder_stationarity(SIGMA_Y, B, sigma_w, gamma, lam, family=family)
    assert all(g == 0 for g in res.gradient_at_update)
    assert res.is_stationary
    assert _all_zero(res.solved - res.update)
    Z = res.covariance_update
    if family == "diagonal":
        assert Z == sp.diag(*[Z[i, i] for i in range(2)])
    if family == "isotropic":
        assert Z == Z[0, 0] * sp.eye(2)


def test_decoder_full_sigma_z_equals_seed_form():
    """The seed's Σ_Z update (Σ_Y⁻¹ + BᵀΣ_W⁻¹B)⁻¹ is the residual covariance E at A = Σ_YXΣ_X⁻¹."""
    B = Matrix([[R(1, 2), R(-1, 3)], [R(1, 5), 1]])
    sigma_w = Matrix([[R(1, 3), R(1, 10)], [R(1, 10), R(1, 2)]])
    res = decoder_stationarity(SIGMA_Y, B, sigma_w, 1, 0, family="full")
    seed = (SIGMA_Y.inv() + B.T * sigma_w.inv() * B).inv()
    assert res.covariance_update - seed == sp.zeros(2, 2)


@pytest.mark.parametrize("m", [1, 2])
def test_seed_decoder_identity_symbolic(m):
    diff = seed_decoder_identity(symbolic_matrix("S", 2, 2, symmetric=True),
                                 symbolic_matrix("b", m, 2),
                                 symbolic_matrix("w", m, m, symmetric=True))
    assert diff.shape == (2, m)
    assert _all_zero(diff)


def test_seed_decoder_identity_rational():
    diff = seed_decoder_identity(SIGMA_Y, Matrix([[R(1, 2), R(-1, 3)], [R(1, 5), 1]]),
                                 Matrix([[R(1, 3), R(1, 10)], [R(1, 10), R(1, 2)]]))
    assert diff == sp.zeros(2, 2)


def test_seed_decoder_identity_negative_control():
    """Dropping the Σ_W⁻¹ on the right of the seed form breaks the identity (check can fail)."""
    S, b, w = SIGMA_Y, Matrix([[R(1, 2), R(-1, 3)]]), Matrix([[R(1, 3)]])
    design = S * b.T * (b * S * b.T + w).inv()
    wrong = (S.inv() + b.T * w.inv() * b).inv() * b.T
    assert design - wrong != sp.zeros(2, 1)


# ------------------------------------------------------------ numeric cross-check


def _random_float_example(rng: np.random.Generator, n: int, m: int):
    def spd(k):
        G = rng.normal(size=(k, k))
        return G @ G.T + 0.5 * np.eye(k)

    return spd(n), rng.normal(size=(n, m)), rng.normal(size=(m, n)), spd(m), spd(n)


@pytest.mark.parametrize("n,m", [(2, 1), (3, 2)])
def test_numeric_core_agrees(n, m):
    loss = pytest.importorskip("lingauss.loss")
    rng = np.random.default_rng(20240 + n + m)
    sigma_y, A, B, sigma_w, sigma_z = _random_float_example(rng, n, m)
    gamma, lam = 1.3, -0.07
    num = loss.gamma_lambda_loss(sigma_y, A, B, sigma_w, sigma_z, gamma, lam)

    def exact(M):  # floats are exact binary rationals: no rounding on the sympy side
        return Matrix(M.shape[0], M.shape[1], [R(float(v)) for v in M.ravel()])

    sym = loss_by_expectation(exact(sigma_y), exact(A), exact(B), exact(sigma_w), exact(sigma_z),
                              R(gamma), R(lam))
    for field in FIELDS:
        want = float(sp.N(getattr(sym, field), 30))
        got = float(getattr(num, field))
        assert got == pytest.approx(want, rel=1e-10, abs=1e-12), field


# ------------------------------------------------------------------------- validation


def test_shape_mismatch_raises():
    args = list(_symbolic_args(2, 1, "diagonal"))
    bad_B = symbolic_matrix("b", 2, 2)
    for fn in (closed_form_loss, loss_by_expectation):
        with pytest.raises(ValueError, match="B"):
            fn(args[0], args[1], bad_B, *args[3:])
        with pytest.raises(ValueError, match="sigma_z"):
            fn(*args[:4], sp.eye(3), *args[5:])
    with pytest.raises(ValueError, match="A"):
        encoder_stationarity(SIGMA_Y, Matrix([[1, 2, 3]]), SIGMA_Z, 1, 0)
    with pytest.raises(ValueError, match="sigma_w"):
        decoder_stationarity(SIGMA_Y, Matrix([[1, 2]]), sp.eye(2), 1, 0)
    with pytest.raises(ValueError, match="B"):
        seed_decoder_identity(SIGMA_Y, Matrix([[1, 2, 3]]), sp.eye(1))


def test_other_bad_arguments_raise():
    with pytest.raises(ValueError, match="family"):
        decoder_stationarity(SIGMA_Y, Matrix([[1, 2]]), sp.eye(1), 1, 0, family="block")
    with pytest.raises(ValueError, match="sigma_y"):
        encoder_stationarity(Matrix([[1, 2], [0, 1]]), Matrix([[1], [0]]), SIGMA_Z, 1, 0)
    with pytest.raises(ValueError, match="sigma_y"):  # symmetric but not positive definite
        encoder_stationarity(Matrix([[1, 2], [2, 1]]), Matrix([[1], [0]]), SIGMA_Z, 1, 0)
    with pytest.raises(ValueError, match="A"):  # floats are not exact
        encoder_stationarity(SIGMA_Y, Matrix([[0.5], [0]]), SIGMA_Z, 1, 0)
    with pytest.raises(ValueError, match="lam"):
        encoder_stationarity(SIGMA_Y, Matrix([[1], [0]]), SIGMA_Z, 1, sp.eye(2))
    with pytest.raises(ValueError, match="lam"):  # P so negative that I + AᵀPA is not SPD
        encoder_stationarity(SIGMA_Y, Matrix([[1], [0]]), SIGMA_Z, 0, -1)
    with pytest.raises(ValueError, match="rows"):
        symbolic_matrix("x", 2, 3, symmetric=True)
    with pytest.raises(ValueError, match="rows"):
        symbolic_matrix("x", 0, 3)


def test_module_is_independent_of_the_numeric_core():
    """symbolic.py imports neither torch nor another lingauss module (it checks them), except the
    decoder-noise declarations (lingauss.noise_families: plain data, no numerics) whose symbolic
    forms it derives the stationarity conditions of, and the sympy-only matrix builder they share
    (lingauss._sympy_matrix); and noise_families never imports symbolic (no import cycle)."""
    import ast
    import inspect

    import lingauss.symbolic as mod

    tree = ast.parse(inspect.getsource(mod))
    imported = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            imported.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            imported.add("." * node.level + (node.module or ""))
    imported.discard(".noise_families")
    imported.discard("._sympy_matrix")
    imported.discard("lingauss.params")       # the error type for bad arguments, no numerics
    assert not any(name.startswith(("torch", "lingauss", ".")) for name in imported), imported
    import lingauss.noise_families as families

    family_imports = {"." * n.level + (n.module or "") for n in ast.walk(ast.parse(inspect.getsource(families)))
                      if isinstance(n, ast.ImportFrom)}
    assert ".symbolic" not in family_imports and "lingauss.symbolic" not in family_imports
