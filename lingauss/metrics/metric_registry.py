r"""The metric registry: every metric of :mod:`lingauss.metrics` declared once.

:func:`registry` maps a metric's name to its :class:`MetricSpec` — what it takes (``input``), the
function that computes it, the units of its result's ``score`` and whether higher is better. The
command line (``lingauss metric``), :mod:`neural.bridge`, :mod:`analysis.compare` and the training
reports loop over this mapping and call :func:`evaluate_metrics`; adding a metric means writing
its module and adding one entry to ``_SPECS`` below.

Calling conventions, by ``input``:

* ``"covariance"``: ``function(joint_cov, n_latents)`` on the latents-first joint covariance of
  [latents; factors] (exact for a linear Gaussian model; from samples, the covariance of
  :func:`~lingauss.metrics.samples.joint_covariance_from_samples`);
* ``"samples"``: ``function(latents, factors)`` on paired (N, m) and (N, s) arrays;
* ``"sampler"``: ``function(sampler)`` on a :class:`~lingauss.metrics.factor_samplers.FactorSampler`
  (factor-conditional sampling: BetaVAE and FactorVAE scores).

Every result has a ``score`` (a float in the spec's ``units``); other fields are diagnostics, and a
field name means one thing across results (``gaps[j]``: factor j's contribution whose mean is
``score``; ``top_latent[j]``: the latent with the largest entry for factor j; ``grouping``: an
unlabelled set partition of the factors).
"""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass
from types import MappingProxyType
from typing import Callable, Mapping

from lingauss.params import InvalidParameter
from ..grouping import grouping_text
from .im import im_score
from .mig_gaussian import gaussian_mig
from .samples import _as_samples, joint_covariance_from_samples
from .sap import sap_score
from .dci import DCI_BACKENDS, standard_dci
from .mig import standard_mig
from .modularity import standard_modularity
from .standard_sampling import beta_vae_score, factor_vae_score
from .sap_classifier import standard_sap

__all__ = ["INPUTS", "MetricSpec", "registry", "evaluate_metrics", "metric_names", "result_record",
           "summary_lines", "extras_text"]

#: The kinds of input a metric can take.
INPUTS = ("covariance", "samples", "sampler")


@dataclass(frozen=True)
class MetricSpec:
    """One metric's declaration.

    Attributes
    ----------
    name : str
        The key in :func:`registry` (snake case, used on the command line and in reports).
    label : str
        How reports print it.
    input : {"covariance", "samples", "sampler"}
        What ``function`` takes (module docstring).
    function : callable
        Computes the metric; returns a result with a float ``score``.
    units : str
        Units of ``score``.
    higher_is_better : bool
        Whether a larger ``score`` means a more disentangled representation.
    randomized : bool
        ``function`` takes a seed ``rng=`` (classifier splits, sampling).
    needs : tuple of str
        Importable modules the metric needs beyond the core (``"sklearn"``: the ``metrics`` extra).
    extras : tuple of str
        Further scalar fields of the result that reports print next to ``score``.
    backends : tuple of str
        The values ``function``'s ``backend=`` argument takes, the default (the reference
        implementation) first; empty when the metric has one implementation. Reports and the
        benchmarks loop over these (e.g. DCI's ``"gbt"`` and ``"hist"``).
    """

    name: str
    label: str
    input: str
    function: Callable
    units: str
    higher_is_better: bool = True
    randomized: bool = False
    needs: tuple[str, ...] = ()
    extras: tuple[str, ...] = ()
    backends: tuple[str, ...] = ()

    @property
    def available(self) -> bool:
        """True when every module in ``needs`` can be imported here."""
        return all(importlib.util.find_spec(mod) is not None for mod in self.needs)


_SPECS = (
    MetricSpec("im", "I_m", "covariance", im_score, "nats", extras=("grouping",)),
    MetricSpec("sap", "SAP", "covariance", sap_score, "corr² gap",
               extras=("grouping",)),
    MetricSpec("gaussian_mig", "Gaussian MIG", "covariance", gaussian_mig,
               "fraction of I(v_j; X)", extras=("unnormalized_score",)),
    MetricSpec("mig", "MIG", "samples", standard_mig, "fraction of H(v_j)",
               extras=("unnormalized_score",)),
    MetricSpec("standard_sap", "SAP (classifier)", "samples", standard_sap,
               "score gap", randomized=True, needs=("sklearn",)),
    MetricSpec("dci", "DCI disentanglement", "samples", standard_dci, "dimensionless",
               randomized=True, needs=("sklearn",),
               extras=("completeness", "informativeness_test"), backends=tuple(DCI_BACKENDS)),
    MetricSpec("modularity", "modularity", "samples", standard_modularity, "dimensionless",
               randomized=True, needs=("sklearn",), extras=("explicitness_test",)),
    MetricSpec("beta_vae", "BetaVAE score", "sampler", beta_vae_score, "accuracy",
               randomized=True, needs=("sklearn",)),
    MetricSpec("factor_vae", "FactorVAE score", "sampler", factor_vae_score, "accuracy",
               randomized=True),
)
_REGISTRY = MappingProxyType({spec.name: spec for spec in _SPECS})


def registry() -> Mapping[str, MetricSpec]:
    """Read-only mapping of metric name → :class:`MetricSpec`, in report order.

    Examples
    --------
    >>> from lingauss.metrics import registry
    >>> [name for name, spec in registry().items() if spec.input == "covariance"]
    ['im', 'sap', 'gaussian_mig']
    >>> registry()["im"].units
    'nats'
    """
    return _REGISTRY


def metric_names(*inputs: str, available_only: bool = False) -> tuple[str, ...]:
    """Names of the metrics taking one of ``inputs`` (all when none given), in registry order.

    ``available_only`` leaves out metrics whose optional dependencies are not installed.
    """
    bad = [kind for kind in inputs if kind not in INPUTS]
    if bad:
        raise InvalidParameter(f"inputs must be among {INPUTS}, got {bad}")
    return tuple(name for name, spec in _REGISTRY.items()
                 if (not inputs or spec.input in inputs) and (spec.available or not available_only))


def evaluate_metrics(latents=None, factors=None, *, joint_cov=None, n_latents=None, names=None,
                     shrinkage=None, rng=None, options: Mapping[str, Mapping] | None = None) -> dict:
    """Compute registered metrics; a dict name → result, in registry order.

    Give paired samples (``latents``, ``factors``), a ``joint_cov`` with ``n_latents``, or both
    (then the covariance metrics use ``joint_cov`` — e.g. the exact one of a linear Gaussian
    model — and the sample metrics use the samples).

    Parameters
    ----------
    latents, factors : (N, m) and (N, s) arrays, optional
        Paired samples. Without ``joint_cov`` the covariance metrics use
        ``joint_covariance_from_samples(latents, factors, shrinkage=shrinkage)``.
    joint_cov : (m+s, m+s) array, optional
        Latents-first joint covariance.
    n_latents : int, optional
        m; required with ``joint_cov`` alone, else taken from ``latents``.
    names : iterable of str, optional
        Metrics to compute. Default: every registered metric the input allows whose optional
        dependencies are installed (covariance metrics; with samples, the sample metrics too).
    shrinkage : None, "ledoit_wolf" or float
        Passed to :func:`~lingauss.metrics.samples.joint_covariance_from_samples`.
    rng : numpy.random.Generator, int or None
        Seed of the randomised metrics (each gets it as ``rng=``).
    options : mapping name → keyword arguments, optional
        Extra arguments of individual metrics, e.g. ``{"dci": {"factor_bins": 5}}``.

    Returns
    -------
    dict
        ``{name: result}``; every result has a float ``score``.

    Raises
    ------
    ValueError
        An unknown name, a metric whose input is not given (a sample metric without samples, a
        sampler metric: call its function with a sampler), an option for a metric not computed,
        or invalid data (from the metric functions).
    ImportError
        A requested metric needs a module that is not installed (scikit-learn: the ``metrics``
        extra).

    Examples
    --------
    >>> import numpy as np
    >>> from lingauss.metrics import evaluate_metrics
    >>> rng = np.random.default_rng(0)
    >>> v = rng.standard_normal((2000, 2))
    >>> x = v + 0.3 * rng.standard_normal((2000, 2))
    >>> res = evaluate_metrics(x, v, names=["im", "sap"])
    >>> res["im"].grouping, round(res["sap"].score, 2)
    (((0,), (1,)), 0.92)
    """
    have_samples = latents is not None or factors is not None
    if have_samples and (latents is None or factors is None):
        raise InvalidParameter("latents and factors must be given together")
    if not have_samples and joint_cov is None:
        raise InvalidParameter("give latents and factors, or joint_cov with n_latents")
    if have_samples:
        latents = _as_samples(latents, "latents")
        factors = _as_samples(factors, "factors")
        if n_latents is not None and n_latents != latents.shape[1]:
            raise InvalidParameter(f"n_latents = {n_latents} but latents has {latents.shape[1]} columns")
        n_latents = latents.shape[1]
    elif n_latents is None:
        raise InvalidParameter("n_latents is required with joint_cov")
    allowed = ("covariance", "samples") if have_samples else ("covariance",)
    if names is None:
        names = metric_names(*allowed, available_only=True)
    names = tuple(names)
    for name in names:
        if name not in _REGISTRY:
            raise InvalidParameter(f"names: unknown metric {name!r}; registered: {tuple(_REGISTRY)}")
        if _REGISTRY[name].input not in allowed:
            raise InvalidParameter(f"names: metric {name!r} takes {_REGISTRY[name].input} input, which "
                             f"was not given (given: {', '.join(allowed)})")
    options = dict(options or {})
    stray = sorted(set(options) - set(names))
    if stray:
        raise InvalidParameter(f"options given for metrics not computed: {stray}")
    if joint_cov is None and any(_REGISTRY[n].input == "covariance" for n in names):
        joint_cov = joint_covariance_from_samples(latents, factors, shrinkage=shrinkage)
    out = {}
    for name in names:
        spec = _REGISTRY[name]
        kwargs = dict(options.get(name, {}))
        if spec.randomized:
            kwargs.setdefault("rng", rng)
        if spec.input == "covariance":
            out[name] = spec.function(joint_cov, n_latents, **kwargs)
        else:
            out[name] = spec.function(latents, factors, **kwargs)
    return out


def result_record(name: str, result) -> dict:
    """A JSON-ready record of one metric result: ``score``, ``units``, ``higher_is_better`` and the
    registered diagnostics (``grouping`` as lists of 0-based factor indices, the rest as floats)."""
    spec = _REGISTRY[name]
    record = {"score": float(result.score), "units": spec.units, "higher_is_better": spec.higher_is_better}
    for f in spec.extras:
        value = getattr(result, f)
        record[f] = [list(g) for g in value] if f == "grouping" else float(value)
    return record


def extras_text(name: str, result, factor_names=None, number_format: str = ".4f") -> list[str]:
    """The registered diagnostics of one result as ``"field value"`` strings (a ``grouping`` as
    ``{v1,v2}{v3}``, or with ``factor_names``; numbers in ``number_format``)."""
    parts = []
    for field in _REGISTRY[name].extras:
        value = getattr(result, field)
        parts.append(f"{field} {grouping_text(value, factor_names)}" if field == "grouping"
                     else f"{field} {value:{number_format}}")
    return parts


def summary_lines(results: Mapping, factor_names=None) -> list[str]:
    """One printable line per result of :func:`evaluate_metrics`: label, score, units, extras.

    ``factor_names`` label the factors in a ``grouping`` field (default ``v1, v2, …``).
    """
    return [", ".join([f"{_REGISTRY[name].label} = {res.score:.4f} {_REGISTRY[name].units}",
                       *extras_text(name, res, factor_names)])
            for name, res in results.items()]

