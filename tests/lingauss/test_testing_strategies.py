"""The hypothesis strategies other projects import: they generate what they promise."""

import numpy as np
from hypothesis import given, settings, strategies as st

from lingauss.scenarios import canonical_grouping
from lingauss.testing import (ba_states, groupings, joint_covariances, linear_gaussian_models,
                              spd_matrices)


@given(spd_matrices(st.integers(1, 6), max_condition=50.0))
def test_spd_matrices_respect_the_condition_bound(S):
    vals = np.linalg.eigvalsh(S)
    np.testing.assert_allclose(S, S.T)
    assert vals.min() > 0
    assert vals.max() / vals.min() <= 50.0 * (1 + 1e-9)


@given(joint_covariances(m=3))
def test_joint_covariances_are_spd_and_latents_first(pair):
    cov, m = pair
    assert m == 3
    np.linalg.cholesky(cov)
    assert cov.shape[0] > m


@given(linear_gaussian_models(standard_mixing=True))
def test_models_standard_mixing(model):
    np.testing.assert_array_equal(model.mixing, np.eye(model.n, model.s))


@given(ba_states(4, 2, decoder_noise="diagonal"))
def test_ba_states_respect_family(state):
    Sz = state["sigma_z"]
    np.testing.assert_array_equal(Sz, np.diag(np.diag(Sz)))
    np.linalg.cholesky(state["sigma_w"])


def test_groupings_reach_every_set_partition():
    """Bell(4) = 15 distinct canonical partitions of 4 factors."""
    seen = set()

    @settings(max_examples=400, database=None)
    @given(groupings(4))
    def collect(g):
        assert canonical_grouping(g) == g
        assert sorted(i for b in g for i in b) == [0, 1, 2, 3]
        seen.add(g)

    collect()
    assert len(seen) == 15
