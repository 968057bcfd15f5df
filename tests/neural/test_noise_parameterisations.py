"""The linear VAE's Σ_Z parameterisations follow the decoder-noise declarations."""

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from lingauss.noise_families import LEARNED_FAMILIES, decoder_noise_family  # noqa: E402
from neural.models import LinearGaussianVAE  # noqa: E402


def _member(name, n, rng):
    a = rng.standard_normal((n, n + 2))
    return decoder_noise_family(name).project(a @ a.T / (n + 2) + 0.2 * np.eye(n))


@pytest.mark.parametrize("name", LEARNED_FAMILIES)
def test_a_member_of_the_family_is_represented_exactly(name):
    rng = np.random.default_rng(1)
    n = 4
    sz = _member(name, n, rng)
    vae = LinearGaussianVAE(n, 2, decoder_noise=name).set_parameters(sigma_z=sz)
    np.testing.assert_allclose(vae.sigma_z().detach().numpy(), sz, atol=1e-12)
    np.testing.assert_allclose(float(vae._logdet_z()), np.linalg.slogdet(sz)[1], atol=1e-12)
    r = torch.as_tensor(rng.standard_normal((5, n)))
    w = vae._whiten(r).detach().numpy()
    np.testing.assert_allclose((w ** 2).sum(1), np.einsum("ij,jk,ik->i", r.numpy(), np.linalg.inv(sz), r.numpy()),
                               rtol=1e-10)
    assert vae.noise.n_free() == decoder_noise_family(name).n_parameters(n)   # the declared count


@pytest.mark.parametrize("name", ["isotropic", "diagonal"])
def test_a_matrix_outside_the_family_is_refused(name):
    full = _member("full", 3, np.random.default_rng(0))
    with pytest.raises(ValueError, match=f"decoder_noise='{name}' family"):
        LinearGaussianVAE(3, 2, decoder_noise=name).set_parameters(sigma_z=full)


def test_a_fixed_matrix_is_held_not_learned():
    sz = _member("full", 3, np.random.default_rng(2))
    vae = LinearGaussianVAE(3, 2, decoder_noise=sz)
    assert vae.decoder_noise == "fixed" and not list(vae.noise.parameters()) and vae.noise.n_free() == 0
    np.testing.assert_allclose(vae.sigma_z().detach().numpy(), sz, atol=1e-12)
    np.testing.assert_allclose(float(vae._logdet_z()), np.linalg.slogdet(sz)[1], atol=1e-12)
    with pytest.raises(ValueError, match="fixed"):
        vae.set_parameters(sigma_z=sz)
