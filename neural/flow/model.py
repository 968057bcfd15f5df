r"""Flow Factorized Representation Learning (Song et al. (2023)): a VAE whose latent moves by K learned
gradient flows, one per transformation.

Generative model and posterior (supervised case, transformation k given):

* encoder q(z_0 | x_0) = N(μ(x_0), diag σ²(x_0)); decoder p(x_t | z_t) Bernoulli with logits
  Decode(z_t) (the conv blocks of :mod:`neural.models.blocks`, sizes are parameters; 28×28 images
  need two stride-2 layers, ``channels=(32, 64)``);
* posterior flow: z_t = z_{t−1} + ∇_z u^k(z_{t−1}, t), t = 1..T−1 (:mod:`.potential`), its density
  by the continuity equation log q_t(z_t) = log q_{t−1}(z_{t−1}) − log|det(I + ∇²u^k)|
  (:mod:`.density`; exact for d ≤ ``exact_max_dim``, Hutchinson above, or the public code's row
  sums on request);
* prior: p(z_0) = N(0, I) diffusing, p_{k,t} = N(0, s²_{k,t} I) (:mod:`.prior`).

``loss(batch)`` is the negative ELBO of Song et al. (2023) plus the HJ penalty, per sequence (batch mean), in
nats:

.. math::

   \mathcal L = \underbrace{\sum_{t=0}^{T-1} -\log p(x_t|z_t)}_{\texttt{recon}}
   + \underbrace{\mathrm{KL}[q(z_0|x_0)\|N(0,I)]}_{\texttt{kl0}}
   + w_\rho \underbrace{\sum_{t=1}^{T-1} [\log q_t(z_t) - \log p_{k,t}(z_t)]}_{\texttt{kl\_flow}}
   + w_{HJ}\,\underbrace{\mathcal L_{HJ}}_{\texttt{hj}}
   \;[+\ \underbrace{\mathrm{KL}[q(k|\bar x)\|U(K)]}_{\texttt{kl\_index}}],

one reparameterised sample z_0 per sequence, the flow KL a single-sample Monte-Carlo estimate of
KL(q_t ‖ p_{k,t}) along the particle's path (q_t is the push-forward of q(z_0|x_0) by the flow), and
𝓛_HJ = mean over t of the squared HJ residual at (z_{t−1}, t) plus ‖∇u^k(z_0, 0)‖² (:mod:`.hj`).

Supervision (``supervision=``):

* ``"supervised"``: k is the sequence's label (the batch's factor column ``label_column``);
* ``"weak"``: k is inferred by :class:`.classifier.SequenceClassifier` from the whole sequence, sampled
  by Gumbel-Softmax with straight-through hard one-hot samples and the annealed temperature
  τ = max(τ_min, τ_0 exp(−rate · step)) (:mod:`.gumbel`; the paper's rate 3e-5 is the default, a
  short run passes ``gumbel_rate=temperature_rate(steps)`` so τ reaches its floor within the run);
  the flow uses Σ_k y_k ∇u^k (one-hot forward), and the ELBO gains KL(q(k|x̄) ‖ uniform). Labels,
  if present, are used only to log ``index_acc``, the accuracy under the best relabelling
  (:func:`.metrics.assignment_accuracy`; the inferred classes are identifiable only up to
  relabelling). The step counter driving τ is a buffer, so checkpoints resume the schedule.

  ``index_target`` says what the KL term of q(k|x̄) compares it with — the paper has two readings:

  - ``"prior"`` (its ELBO): KL(q(k|x̄) ‖ p(k)), p(k) uniform — labels are never used (``kl_index``);
  - ``"labels"`` (its code listing, ``loss += KL(index_potential, index)`` with ``index`` the sampled
    transformation, and the public code, ``kl_index(log q(k|x̄), one_hot(index))``):
    KL(one_hot(k) ‖ q(k|x̄)) = −log q(k_true|x̄), the classifier trained on the true index while the
    flows only ever see its Gumbel samples (``kl_index``; labels required in the batch).

  The paper's "weak" numbers come from the second; the first is weak supervision in the strict
  sense and, in short runs, collapses q(k|x̄) to one index before the flows differ (see
  ``classifier_logit_scale``, ``index_balance_weight``).

  The seed writes the weak posterior as q(k|x̄) q(z_0|x̄) ∏ q(z_t|z_{t−1}, k). We keep q(z_0|x_0)
  (the encoder of the first frame, as in the supervised case), on purpose: an encoder of the whole
  sequence x̄ could put information about x_1..x_{T−1} into z_0 and reconstruct them without the
  flow, so the flows would not have to learn the transformations; and the equivariance error (and
  any use of the model as a transformation model) encodes a single frame x_0 — a z_0 fitted to x̄
  would be evaluated off the distribution it was trained on. The sequence enters only through
  q(k|x̄), which is what weak supervision needs.

Force (``force=``, default on): the generalised HJ equation ∂_t u + ½‖∇u‖² = f with a learned
f ≤ 0 (:class:`.hj.NegativeForce`), the paper's headline configuration (its Table 8 row "GHJ");
``force=False`` is the plain HJ ablation (row "OHJ", f = 0).

A batch is ``(sequences (B, T, C, H, W), factors (B, T, s))`` (what :class:`neural.train.Trainer`
yields for a :class:`neural.data.SequenceDataset`), a dict with ``"sequences"`` and optional
``"labels"``, or a bare sequence tensor (weak supervision only).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from lingauss.params import InvalidParameter
from neural.models.base import gaussian_kl
from neural.models.blocks import ConvDecoder, ConvEncoder
from neural.torch_utils import DeviceMixin
from neural.models.vae import gaussian_log_density

from .classifier import SequenceClassifier
from .density import EXACT_MAX_DIM, flow_logdet, logdet_exact, resolve_logdet_method
from .gumbel import TAU_INITIAL, TAU_MIN, TAU_RATE, gumbel_softmax, gumbel_temperature
from .hj import NegativeForce, hj_residual_from
from .metrics import assignment_accuracy, pixel_log_likelihood
from .potential import PotentialSet, closed_form_derivatives, potential_derivatives
from .prior import DiffusionPrior

__all__ = ["FlowFactorizedVAE", "FlowStep", "SUPERVISION", "INDEX_TARGETS", "unpack_sequence_batch"]

SUPERVISION = ("supervised", "weak")
#: What q(k|x̄) is pulled towards in the weak setting (module doc).
INDEX_TARGETS = ("prior", "labels")
#: How the flow's derivatives are computed: ``"auto"`` (closed form when it applies), or forced.
DERIVATIVES = ("auto", "closed_form", "autograd")


@dataclass
class FlowStep:
    """One flow step: ``z`` the new latents (B, d), ``velocity`` Σ_k w_k ∇u^k (B, d), ``logdet``
    log|det(I + H)| (B,) or ``None``, ``hj_sq`` Σ_k w_k r_k² (B,) or ``None``."""

    z: torch.Tensor
    velocity: torch.Tensor
    logdet: torch.Tensor | None
    hj_sq: torch.Tensor | None


def unpack_sequence_batch(batch, label_column: int = 0):
    """(sequences (B, T, C, H, W), labels (B,) long or ``None``) from a batch (module doc)."""
    labels = None
    if isinstance(batch, Mapping):
        seq = batch.get("sequences", batch.get("x"))
        labels = batch.get("labels")
        if seq is None:
            raise KeyError("a dict batch needs a 'sequences' (or 'x') entry")
    elif isinstance(batch, (list, tuple)):
        seq = batch[0]
        if len(batch) > 1 and batch[1] is not None:
            f = batch[1]
            labels = f[:, 0, label_column] if f.dim() == 3 else (f[:, label_column] if f.dim() == 2 else f)
    else:
        seq = batch
    if seq.dim() != 5:
        raise InvalidParameter(f"sequences must be (B, T, C, H, W), got shape {tuple(seq.shape)}")
    if labels is not None:
        labels = torch.as_tensor(labels).round().long().to(seq.device)
    return seq, labels


class FlowFactorizedVAE(DeviceMixin, nn.Module):
    """The FFRL model (module doc).

    Parameters
    ----------
    n_transformations : K potentials
    n_frames : T (needed by the weak-supervision classifier; the flow itself handles any T)
    latent_dim : d
    in_channels, image_size, channels, hidden : encoder/decoder sizes (28×28×3 MNIST by default)
    supervision : ``"supervised"`` or ``"weak"``
    label_column : the factor column holding the transformation index
    potential_hidden, potential_layers, time_dim, activation : the potentials' MLPs
    logdet : ``"auto"`` (exact if d ≤ ``exact_max_dim``, else Hutchinson), ``"exact"``,
        ``"hutchinson"`` or ``"rowsum"`` (the public code's surrogate); ``n_probes``, ``n_terms``
        for Hutchinson
    hj_weight, density_weight : weights of 𝓛_HJ and of the flow KL
    force : learn a force f ≤ 0 per transformation in the generalised HJ equation (default ``True``,
        the paper's headline; ``False``: f = 0, the plain-HJ ablation)
    prior_diffusion, learn_diffusion : the diffusing prior's initial D_k and whether it is learned
    gumbel_initial, gumbel_rate, gumbel_min, gumbel_update_every : the τ schedule
    classifier_channels, classifier_hidden : the sequence classifier (weak supervision)
    classifier_logit_scale : q(k|x̄) = softmax(c · classifier(x̄)) with this c > 0 (default 1). A
        c < 1 slows how fast the logits move under Adam (whose step size ignores the gradient's
        scale): with c = 1 the straight-through gradients, hundreds of nats, drive q(k|x̄) to a
        one-hot within ~20 steps, before the flows differ, and it stays there (index collapse)
    index_target : ``"prior"`` (default) or ``"labels"``, the KL term of q(k|x̄) (module doc)
    derivatives : ``"auto"`` (default: the potentials' closed-form ∇u, ∂_t u, ∇²u when the
        activation is tanh and the log-determinant exact — the same numbers as autograd, several
        times faster on a CPU), ``"closed_form"`` or ``"autograd"`` (nested autograd)
    index_balance_weight : weight w ≥ 0 of w·KL(q̄ ‖ U(K)), q̄ = the batch mean of q(k|x̄) — the
        transformations are equally frequent in the data, so the aggregate posterior should be
        uniform (not in the paper's ELBO; default 0, off). Uses no labels
    """

    def __init__(self, *, n_transformations: int = 3, n_frames: int = 9, latent_dim: int = 8,
                 in_channels: int = 3, image_size: int = 28, channels: Sequence[int] = (32, 64),
                 hidden: int = 256, supervision: str = "supervised", label_column: int = 0,
                 potential_hidden: int = 64, potential_layers: int = 2, time_dim: int = 16,
                 activation: str = "tanh", logdet: str = "auto", exact_max_dim: int = EXACT_MAX_DIM,
                 n_probes: int = 2, n_terms: int = 4, hj_weight: float = 1.0,
                 density_weight: float = 1.0, force: bool = True, prior_diffusion: float = 0.05,
                 learn_diffusion: bool = True, gumbel_initial: float = TAU_INITIAL,
                 gumbel_rate: float = TAU_RATE, gumbel_min: float = TAU_MIN,
                 gumbel_update_every: int = 1, classifier_channels: Sequence[int] = (32, 64),
                 classifier_hidden: int = 128, classifier_logit_scale: float = 1.0,
                 index_balance_weight: float = 0.0, index_target: str = "prior",
                 derivatives: str = "auto"):
        super().__init__()
        if supervision not in SUPERVISION:
            raise InvalidParameter(f"supervision must be one of {SUPERVISION}, got {supervision!r}")
        if index_target not in INDEX_TARGETS:
            raise InvalidParameter(f"index_target must be one of {INDEX_TARGETS}, got {index_target!r}")
        self.index_target = index_target
        if int(latent_dim) < 1 or int(n_transformations) < 1 or int(n_frames) < 1:
            raise InvalidParameter("latent_dim, n_transformations and n_frames must be >= 1")
        for name, w in (("hj_weight", hj_weight), ("density_weight", density_weight),
                        ("index_balance_weight", index_balance_weight)):
            if not (math.isfinite(float(w)) and float(w) >= 0):
                raise InvalidParameter(f"{name} must be a finite number >= 0, got {w!r}")
        self.latent_dim, self.n_transformations, self.n_frames = int(latent_dim), int(n_transformations), int(n_frames)
        self.in_channels, self.image_size = int(in_channels), int(image_size)
        self.supervision, self.label_column = supervision, int(label_column)
        self.logdet_method = resolve_logdet_method(logdet, self.latent_dim, exact_max_dim)
        self.n_probes, self.n_terms = int(n_probes), int(n_terms)
        self.hj_weight, self.density_weight = float(hj_weight), float(density_weight)
        if not (math.isfinite(float(classifier_logit_scale)) and float(classifier_logit_scale) > 0):
            raise InvalidParameter(f"classifier_logit_scale must be a finite number > 0, got {classifier_logit_scale!r}")
        self.classifier_logit_scale = float(classifier_logit_scale)
        self.index_balance_weight = float(index_balance_weight)
        self.gumbel = {"initial": float(gumbel_initial), "rate": float(gumbel_rate),
                       "minimum": float(gumbel_min), "update_every": int(gumbel_update_every)}
        self.encoder = ConvEncoder(in_channels, latent_dim, image_size=image_size, channels=channels,
                                   hidden=hidden)
        self.decoder = ConvDecoder(in_channels, latent_dim, image_size=image_size, channels=channels,
                                   hidden=hidden)
        self.potentials = PotentialSet(n_transformations, latent_dim, hidden=potential_hidden,
                                       layers=potential_layers, time_dim=time_dim, activation=activation)
        self.forces = nn.ModuleList([NegativeForce(latent_dim, time_dim=time_dim)
                                     for _ in range(self.n_transformations)]) if force else None
        self.prior = DiffusionPrior(n_transformations, diffusion=prior_diffusion, learn=learn_diffusion)
        self.classifier = SequenceClassifier(n_frames, n_transformations, in_channels=in_channels,
                                             image_size=image_size, channels=classifier_channels,
                                             hidden=classifier_hidden) if supervision == "weak" else None
        self.register_buffer("step_count", torch.zeros((), dtype=torch.long))
        if derivatives not in DERIVATIVES:
            raise InvalidParameter(f"derivatives must be one of {DERIVATIVES}, got {derivatives!r}")
        can = self.logdet_method == "exact" and all(p.closed_form for p in self.potentials.potentials)
        if derivatives == "closed_form" and not can:
            raise InvalidParameter("derivatives='closed_form' needs activation='tanh' and the exact log-determinant")
        #: whether the flow uses the potentials' closed-form derivatives (``derivatives=``)
        self.closed_form = can and derivatives != "autograd"

    # ------------------------------------------------------------------------------- pieces
    @property
    def dtype(self) -> torch.dtype:
        return next(self.parameters()).dtype

    def encode_distribution(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Posterior mean and log-variance of q(z|x), each (N, d), for frames x (N, C, H, W)."""
        return self.encoder(x)

    @torch.no_grad()
    def encode(self, x, batch_size: int = 256) -> torch.Tensor:
        """Posterior means (N, d) of frames (N, C, H, W) — the representation the bridge scores."""
        x = torch.as_tensor(x)
        if x.dim() == 3:
            x = x.unsqueeze(0)
        chunks = [self.encoder(x[i:i + batch_size].to(self.device, self.dtype))[0]
                  for i in range(0, x.shape[0], batch_size)]
        return torch.cat(chunks) if chunks else torch.empty(0, self.latent_dim, device=self.device)

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        """Decoder logits (N, C, H, W)."""
        return self.decoder(z)

    def decode_mean(self, z: torch.Tensor) -> torch.Tensor:
        """Mean image sigmoid(Decode(z)) in [0, 1]."""
        return torch.sigmoid(self.decoder(z))

    def temperature(self, step: int | None = None) -> float:
        """Gumbel-Softmax τ at ``step`` (default: the model's own training-step counter)."""
        return gumbel_temperature(int(self.step_count) if step is None else step, **self.gumbel)

    def one_hot(self, k) -> torch.Tensor:
        """Hard weights (B, K) for transformation indices ``k`` (B,) long."""
        return F.one_hot(torch.as_tensor(k, device=self.device).long(), self.n_transformations).to(self.dtype)

    @torch.no_grad()
    def predict_transformation(self, seq: torch.Tensor) -> torch.Tensor:
        """argmax_k q(k | x̄) (B,) (weak supervision's classifier)."""
        if self.classifier is None:
            raise InvalidParameter("predict_transformation needs supervision='weak' (the sequence classifier)")
        return self.classifier(seq.to(self.device, self.dtype)).argmax(dim=1)       # scale > 0: same argmax

    def flow_step(self, z: torch.Tensor, weights: torch.Tensor, t: int, *, create_graph: bool = True,
                  need_logdet: bool = True, need_hj: bool = False) -> FlowStep:
        """z_t = z_{t−1} + Σ_k w_k ∇u^k(z_{t−1}, t), with log|det(I + Σ_k w_k ∇²u^k)| and Σ_k w_k r_k².

        ``weights`` (B, K): one-hot (a given k), Gumbel straight-through samples, or any mixture.
        Potentials whose weight column is all zero (and carries no gradient) are skipped.
        With ``create_graph=False`` (evaluation) the results are detached.
        With :attr:`closed_form` the derivatives come from
        :meth:`~.potential.ScalarPotential.derivatives` (explicit formulas, one backward pass in
        training) and the log-determinant from the summed closed-form Hessians; otherwise by autograd.
        """
        if self.closed_form:
            return self._flow_step_closed_form(z, weights, t, create_graph=create_graph,
                                               need_logdet=need_logdet, need_hj=need_hj)
        with torch.enable_grad():
            zz = z if (create_graph and z.requires_grad) else z.detach().requires_grad_(True)
            velocity = torch.zeros_like(zz)
            hj_sq = zz.new_zeros(zz.shape[0]) if need_hj else None
            graph = create_graph or need_logdet
            for k in range(self.n_transformations):
                w = weights[:, k]
                if not w.requires_grad and not bool(torch.any(w != 0)):
                    continue
                der = potential_derivatives(self.potentials[k], zz, float(t), time_derivative=need_hj,
                                            create_graph=graph)
                velocity = velocity + w[:, None] * der["grad"]
                if need_hj:
                    f = self.forces[k](zz, float(t)) if self.forces is not None else None
                    hj_sq = hj_sq + w * hj_residual_from(der["dt"], der["grad"], f).pow(2)
            logdet = None
            if need_logdet:
                logdet = flow_logdet(velocity, zz, method=self.logdet_method, create_graph=create_graph,
                                     n_probes=self.n_probes, n_terms=self.n_terms)
        z_next = zz + velocity
        if not create_graph:
            z_next, velocity = z_next.detach(), velocity.detach()
            logdet = None if logdet is None else logdet.detach()
            hj_sq = None if hj_sq is None else hj_sq.detach()
        return FlowStep(z_next, velocity, logdet, hj_sq)

    def _active(self, weights: torch.Tensor):
        for k in range(self.n_transformations):
            w = weights[:, k]
            if w.requires_grad or bool(torch.any(w != 0)):
                yield k, w

    def _flow_step_closed_form(self, z, weights, t, *, create_graph, need_logdet, need_hj) -> FlowStep:
        with torch.set_grad_enabled(create_graph and torch.is_grad_enabled()):
            if not create_graph:
                z = z.detach()
            B, d = z.shape
            velocity = torch.zeros_like(z)
            hess = z.new_zeros(B, d, d) if need_logdet else None
            hj_sq = z.new_zeros(B) if need_hj else None
            pots = self.potentials.potentials
            hard = not weights.requires_grad and bool(torch.all((weights == 0) | (weights == 1))) \
                and bool(torch.all(weights.sum(1) == 1))
            if hard:                # one potential per sample: all K in one set of batched operations
                index = weights.argmax(dim=1)
                der = closed_form_derivatives(pots, index, z, float(t), hessian=need_logdet,
                                              time_derivative=need_hj)
                velocity, hess = der["grad"], der["hessian"]
                if need_hj:
                    f = self._force(index, z, float(t))
                    hj_sq = hj_residual_from(der["dt"], der["grad"], f).pow(2)
            for k, w in ([] if hard else self._active(weights)):
                der = closed_form_derivatives([pots[k]], None, z, float(t), hessian=need_logdet,
                                              time_derivative=need_hj)
                velocity = velocity + w[:, None] * der["grad"]
                if need_logdet:
                    hess = hess + w[:, None, None] * der["hessian"]
                if need_hj:
                    f = self.forces[k](z, float(t)) if self.forces is not None else None
                    hj_sq = hj_sq + w * hj_residual_from(der["dt"], der["grad"], f).pow(2)
            logdet = None
            if need_logdet:
                logdet = logdet_exact(hess)
        return FlowStep(z + velocity, velocity, logdet, hj_sq)

    def _force(self, index: torch.Tensor, z: torch.Tensor, t: float):
        """f_{k_b}(z_b, t) per sample (B,) for per-sample indices, or ``None`` without forces."""
        if self.forces is None:
            return None
        out = z.new_zeros(z.shape[0])
        for k in range(self.n_transformations):
            sel = index == k
            if bool(sel.any()):
                out = out.masked_scatter(sel, self.forces[k](z[sel], t))
        return out

    def initial_condition(self, z0: torch.Tensor, weights: torch.Tensor) -> torch.Tensor:
        """Σ_k w_k ‖∇u^k(z_0, 0)‖² per sample (B,)."""
        out = z0.new_zeros(z0.shape[0])
        for k, w in self._active(weights):
            if self.closed_form:
                g = self.potentials[k].derivatives(z0, 0.0, hessian=False, time_derivative=False)["grad"]
            else:
                g = potential_derivatives(self.potentials[k], z0, 0.0, time_derivative=False)["grad"]
            out = out + w * g.pow(2).sum(dim=1)
        return out

    @torch.no_grad()
    def rollout(self, z0: torch.Tensor, weights: torch.Tensor, n_frames: int) -> list[torch.Tensor]:
        """[z_0, z_1, …, z_{n_frames−1}] rolled forward from ``z0`` by the flow (no graph)."""
        zs = [z0]
        for t in range(1, int(n_frames)):
            zs.append(self.flow_step(zs[-1], weights, t, create_graph=False, need_logdet=False).z)
        return zs

    def transformation_weights(self, seq: torch.Tensor, labels: torch.Tensor | None):
        """(weights (B, K), extra loss terms): one-hot labels, or Gumbel ST samples of q(k|x̄)."""
        if self.supervision == "supervised":
            if labels is None:
                raise InvalidParameter("supervised training needs the transformation labels in the batch")
            if labels.min() < 0 or labels.max() >= self.n_transformations:
                raise InvalidParameter(f"labels must be in 0..{self.n_transformations - 1}")
            return self.one_hot(labels), {}
        logits = self.classifier_logit_scale * self.classifier(seq)
        logq = F.log_softmax(logits, dim=1)
        tau = self.temperature()
        weights = gumbel_softmax(logits, tau, hard=True)
        if self.index_target == "labels":
            if labels is None:
                raise InvalidParameter("index_target='labels' needs the transformation labels in the batch")
            kl_index = -logq.gather(1, labels[:, None]).squeeze(1)          # KL(one_hot(k) ‖ q(k|x̄))
        else:
            kl_index = (logq.exp() * logq).sum(dim=1) + math.log(self.n_transformations)
        extra = {"kl_index": kl_index.mean(), "tau": torch.tensor(tau)}
        if self.index_balance_weight > 0:
            q_bar = logq.exp().mean(dim=0)
            extra["kl_balance"] = (q_bar * torch.log(q_bar.clamp_min(1e-12) * self.n_transformations)).sum()
        if labels is not None:
            pred = weights.detach().argmax(dim=1)
            extra["index_acc"] = torch.tensor(assignment_accuracy(pred, labels, self.n_transformations))
        return weights, extra

    # --------------------------------------------------------------------------------- loss
    def loss(self, batch) -> dict[str, torch.Tensor]:
        seq, labels = unpack_sequence_batch(batch, self.label_column)
        seq = seq.to(self.device, self.dtype)
        B, T = seq.shape[:2]
        if self.training:
            self.step_count += 1
        weights, extra = self.transformation_weights(seq, labels)
        mean, logvar = self.encoder(seq[:, 0])
        z = mean + torch.exp(0.5 * logvar) * torch.randn_like(mean)
        log_q = gaussian_log_density(z, mean, logvar).sum(dim=1)
        kl0 = gaussian_kl(mean, logvar)
        zs = [z]
        kl_flow = z.new_zeros(B)
        hj = z.new_zeros(B)
        ic = self.initial_condition(z, weights) if T > 1 else z.new_zeros(B)
        for t in range(1, T):
            step = self.flow_step(z, weights, t, create_graph=True, need_logdet=True, need_hj=True)
            z = step.z
            log_q = log_q - step.logdet
            kl_flow = kl_flow + log_q - self.prior.log_prob(z, weights, t)
            hj = hj + step.hj_sq
            zs.append(z)
        logits = self.decoder(torch.stack(zs, dim=1).flatten(0, 1))
        recon = F.binary_cross_entropy_with_logits(logits, seq.flatten(0, 1), reduction="none")
        recon = recon.flatten(1).sum(1).view(B, T).sum(1)
        hj_loss = (hj / max(T - 1, 1) + ic)
        loss = recon.mean() + kl0.mean() + self.density_weight * kl_flow.mean() + self.hj_weight * hj_loss.mean()
        if "kl_index" in extra:
            loss = loss + extra["kl_index"]
        if "kl_balance" in extra:
            loss = loss + self.index_balance_weight * extra["kl_balance"]
        return {"loss": loss, "recon": recon.mean(), "kl0": kl0.mean(), "kl_flow": kl_flow.mean(),
                "hj": hj_loss.mean(), "hj_ic": ic.mean(), **extra}

    # --------------------------------------------------------------------------- likelihood
    @torch.no_grad()
    def frame_log_likelihood(self, seq: torch.Tensor, weights: torch.Tensor, n_samples: int = 16,
                             proposal: str = "flow", pixel: str = "bernoulli") -> torch.Tensor:
        r"""Importance-sampling estimates of log p(x_t) per frame (B, T), nats.

        Under the model, p(x_t) = ∫ p(x_t|z) p_{k,t}(z) dz. With S = ``n_samples`` proposals z^s:

        .. math:: \log p(x_t) ≈ \log\frac1S\sum_s \exp[\log p(x_t|z^s) + \log p_{k,t}(z^s) - \log r(z^s)]

        ``proposal="flow"``: z_0^s ~ q(z_0|x_0) pushed by the flow, r = q_t with the density from the
        continuity equation (the flow's density terms); ``"encoder"``: z^s ~ q(z|x_t) (the frame's
        own posterior). Both estimate the same quantity (a stochastic lower bound, tight as S → ∞).
        ``pixel``: the reading of log p(x_t|z), ``"bernoulli"`` (training) or ``"normal"`` (σ = 1)
        (:func:`.metrics.pixel_log_likelihood`).
        """
        if proposal not in ("flow", "encoder"):
            raise InvalidParameter(f"proposal must be 'flow' or 'encoder', got {proposal!r}")
        seq = seq.to(self.device, self.dtype)
        B, T = seq.shape[:2]
        S = int(n_samples)
        w = weights.to(self.device, self.dtype).repeat_interleave(S, dim=0)
        out = []
        if proposal == "encoder":
            for t in range(T):
                mean, logvar = self.encoder(seq[:, t])
                mean, logvar = mean.repeat_interleave(S, 0), logvar.repeat_interleave(S, 0)
                z = mean + torch.exp(0.5 * logvar) * torch.randn_like(mean)
                log_r = gaussian_log_density(z, mean, logvar).sum(1)
                out.append(self._log_weights(seq[:, t], z, w, t, log_r, S, pixel))
            return torch.stack(out, dim=1)
        mean, logvar = self.encoder(seq[:, 0])
        mean, logvar = mean.repeat_interleave(S, 0), logvar.repeat_interleave(S, 0)
        z = mean + torch.exp(0.5 * logvar) * torch.randn_like(mean)
        log_r = gaussian_log_density(z, mean, logvar).sum(1)
        out.append(self._log_weights(seq[:, 0], z, w, 0, log_r, S, pixel))
        for t in range(1, T):
            step = self.flow_step(z, w, t, create_graph=False, need_logdet=True)
            z, log_r = step.z, log_r - step.logdet
            out.append(self._log_weights(seq[:, t], z, w, t, log_r, S, pixel))
        return torch.stack(out, dim=1)

    def _log_weights(self, x, z, w, t, log_r, S, pixel):
        B = x.shape[0]
        log_px = pixel_log_likelihood(self.decoder(z), x.repeat_interleave(S, 0), pixel)
        log_w = (log_px + self.prior.log_prob(z, w, t) - log_r).view(B, S)
        return torch.logsumexp(log_w, dim=1) - math.log(S)
