"""The metric registry: one declaration per metric, one calling convention, unit-invariant samples."""

from __future__ import annotations

import dataclasses
import inspect

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import lingauss as lg
from lingauss import metrics as lm
from lingauss.metrics import evaluate_metrics, metric_names, registry, result_record

pytest.importorskip("sklearn")


def _data(seed, n=500):
    """Two discrete factors (class indices) and a continuous one; latents mix them with noise."""
    rng = np.random.default_rng(seed)
    v = np.column_stack([rng.integers(0, 4, n), rng.integers(0, 5, n), rng.standard_normal(n)]).astype(float)
    x = np.column_stack([v[:, 0] + 0.5 * rng.standard_normal(n),
                         v[:, 1] + v[:, 2] + 0.5 * rng.standard_normal(n),
                         rng.standard_normal(n)])
    return x, v


def test_every_metric_is_declared_once_with_a_valid_spec():
    reg = registry()
    assert list(reg) == [spec.name for spec in reg.values()]
    for spec in reg.values():
        assert spec.input in lm.INPUTS and callable(spec.function) and spec.units
        assert isinstance(spec.higher_is_better, bool)
        assert ("rng" in inspect.signature(spec.function).parameters) == spec.randomized
    # every public *_score / standard_* metric function of lingauss.metrics is registered
    public = {getattr(lm, n) for n in lm.__all__
              if n in ("im_score", "sap_score", "gaussian_mig", "standard_mig", "standard_sap",
                       "standard_dci", "standard_modularity", "beta_vae_score", "factor_vae_score")}
    assert public == {spec.function for spec in reg.values()}
    with pytest.raises(TypeError):
        reg["new"] = reg["im"]                       # read-only


def test_every_result_class_has_a_float_score():
    result_classes = [getattr(lm, n) for n in lm.__all__ if n.endswith("Result")]
    assert len(result_classes) >= 8
    for cls in result_classes:
        names = {f.name for f in dataclasses.fields(cls)} | {n for n, _ in inspect.getmembers(cls)}
        assert "score" in names, cls.__name__
    x, v = _data(0)
    for name, res in evaluate_metrics(x, v, rng=0).items():
        assert isinstance(res.score, float) and np.isfinite(res.score), name
        record = result_record(name, res)
        assert record["score"] == res.score and record["units"] == registry()[name].units


def test_covariance_metrics_are_the_declared_functions_on_the_joint_covariance():
    sc = lg.talk_scenario((3, 4, 3), 2)
    r = lg.blahut_arimoto(sc.model, 3, 1.0, 0.0, decoder_noise="isotropic", rng=0)
    cov = sc.model.joint_covariance(r.B, r.sigma_w)
    got = evaluate_metrics(joint_cov=cov, n_latents=3)
    assert tuple(got) == metric_names("covariance")
    assert got["im"].score == lg.im_score(cov, 3).score
    assert got["sap"].score == lg.sap_score(cov, 3).score
    assert got["gaussian_mig"].score == lg.gaussian_mig(cov, 3).score
    # samples: the covariance metrics use the sample covariance, the sample metrics the samples
    x, v = _data(1)
    got = evaluate_metrics(x, v, names=["im", "mig"], shrinkage=0.2)
    assert got["im"].score == lg.im_score(lg.joint_covariance_from_samples(x, v, shrinkage=0.2), 3).score
    assert got["mig"].score == lg.standard_mig(x, v).score


@pytest.mark.parametrize("kwargs, match", [
    ({"names": ["nope"]}, "unknown metric"),
    ({"names": ["beta_vae"]}, "takes sampler input"),
    ({"names": ["im"], "options": {"sap": {}}}, "options given for metrics not computed"),
])
def test_bad_requests_name_the_argument(kwargs, match):
    x, v = _data(2, n=60)
    with pytest.raises(ValueError, match=match):
        evaluate_metrics(x, v, **kwargs)


def test_sample_metrics_need_samples():
    with pytest.raises(ValueError, match="takes samples input"):
        evaluate_metrics(joint_cov=np.eye(4), n_latents=2, names=["mig"])
    with pytest.raises(ValueError, match="n_latents"):
        evaluate_metrics(joint_cov=np.eye(4))
    with pytest.raises(ValueError, match="together"):
        evaluate_metrics(np.ones((5, 2)))


_SCORES = st.floats(min_value=-3.0, max_value=3.0)


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 2**16), log_scales=st.lists(_SCORES, min_size=6, max_size=6),
       shifts=st.lists(st.floats(min_value=-100.0, max_value=100.0), min_size=6, max_size=6),
       shrinkage=st.sampled_from([None, "ledoit_wolf", 0.3]))
def test_every_sample_metric_is_invariant_to_units(seed, log_scales, shifts, shrinkage):
    """Rescaling (×10^[-3, 3]) and shifting any latent or factor column changes no metric's score,
    diagnostics or grouping, for every shrinkage setting (the quantities estimated are invariant)."""
    x, v = _data(seed, n=300)
    a, b = 10.0 ** np.asarray(log_scales), np.asarray(shifts)
    x2, v2 = x * a[:3] + b[:3], v * a[3:] + b[3:]
    names = metric_names("covariance", "samples")
    cheap = {"dci": {"gbt_kwargs": {"n_estimators": 10}}}     # any setting: fewer trees, same property
    base = evaluate_metrics(x, v, names=names, shrinkage=shrinkage, rng=0, options=cheap)
    moved = evaluate_metrics(x2, v2, names=names, shrinkage=shrinkage, rng=0, options=cheap)
    for name in names:
        r0, r1 = result_record(name, base[name]), result_record(name, moved[name])
        for field, value in r0.items():
            if isinstance(value, float):
                assert r1[field] == pytest.approx(value, abs=1e-7), (name, field)
            else:
                assert r1[field] == value, (name, field)


def test_ledoit_wolf_im_does_not_depend_on_a_factor_in_millimetres():
    """The issue's case: one factor × 1000 used to move I_m from 1.47 to 0.008 nats."""
    sc = lg.talk_scenario((3, 4, 3), 2)
    r = lg.blahut_arimoto(sc.model, 3, 1.0, 0.0, decoder_noise="isotropic", rng=0)
    rng = np.random.default_rng(0)
    v, y = sc.model.sample(3000, rng)
    x = y @ r.B.T + rng.standard_normal((3000, 3)) @ np.linalg.cholesky(r.sigma_w).T
    base = lg.im_score_from_samples(x, v, shrinkage="ledoit_wolf")
    scaled = v.copy()
    scaled[:, 0] *= 1000.0
    moved = lg.im_score_from_samples(x, scaled, shrinkage="ledoit_wolf")
    assert moved.score == pytest.approx(base.score, rel=1e-9)
    assert moved.grouping == base.grouping
    # ... and the shrunk estimate is still close to the exact I_m of the model
    exact = lg.im_score(sc.model.joint_covariance(r.B, r.sigma_w), 3)
    assert base.score == pytest.approx(exact.score, rel=0.05)
