r"""What SKD and SSM-SKD share: the sequence autoencoder, the Koopman layer and the four losses.

``loss(batch)`` (the :mod:`neural.train` protocol) computes, for frames X (b, T, C, H, W) in [0, 1]:

* Z = encoder(X) (b, T, k); the Koopman fit (:func:`neural.koopman.operator.fit_koopman`, float64)
  gives Ŷ = Z[:, :-1] C and Z_pred = [Z_0, Ŷ];
* decode(Z) and decode(Z_pred) are two separate decoder passes, so that the decoder's batch norm
  (training mode) normalises the real and the predicted latents each with their own batch
  statistics, as the public SKD code does (one pass over [Z; Z_pred] would mix them);
* L_rec = MSE(decode(Z), X), L_predX = MSE(decode(Z_pred), X), L_predZ = MSE(Ŷ, Z[:, 1:]) (Hason's (2024)
  three MSEs, means over all entries), and L_eig (the subclass's spectral loss, float64);
* loss = w_rec L_rec + w_predX L_predX + w_predZ L_predZ + w_eig L_eig. Public defaults: w_rec = 15,
  w_pred (both) = 1, w_eig = 1, k = 40 on Sprites.

``w_cycle`` (default 0, off — not in Hason (2024)): a swap-cycle term. Each batch is paired
with itself rolled by one; half of it gets the static swap (static channels from the partner),
the other half the dynamic swap (dynamics from the partner), and the swapped latents Z' (treated
as constants) must survive a decode–encode round trip: L_cycle = MSE(encode(decode(Z')), Z'). A
code in which a factor sits on both sides (say the action in the static modes *and* in the
dynamic ones) draws a swapped sequence that re-encodes to something else, so the term asks that
every factor live on one side only; it does not say which side.

``w_shape`` (default 0, off — not in Hason (2024)): a *shape and palette swap prior*, for data
whose static factors are colours on a black background and whose dynamic factors move the
silhouette (Sprites-like: yes; Moving dSprites, whose static shape *is* a silhouette: no). With
the pairing of L_cycle (x and its partner y, the batch rolled by one), the static swap S (y's
static channels, x's dynamics) and the dynamic swap D (x's static channels, y's dynamics) are
decoded with gradients through the swapped latents, and

* **masks**: S must show x's foreground mask and D y's: MSE of m(·), m(x) = tanh(Σ_c x_c / 0.05)
  per pixel (0 on the background, ≥ 0.995 on every figure colour, black hair included);
* **palettes**: every figure pixel of S must have a colour of y's figure and every figure pixel of
  D one of x's (and back): the mask-weighted mean squared distance from each figure pixel's
  colour to the nearest figure colour of the other clip in the same horizontal third of the frame
  (head, torso, legs), both ways, on the middle frame of each clip (:func:`palette_distance`;
  every body part shows in every frame);

L_shape = masks + palettes. The Koopman structure alone cannot tell a clip-constant action from a
clip-constant colour (both are λ = 1 information, and every frame shows both): the degenerate
code that keeps the action in the static modes reconstructs as well as the separated one. This
term says which is which, from the pixels alone (no factor labels), at the price of a prior about
the data.

``residual`` (default True): residual connections around the encoder and decoder LSTMs
(:mod:`neural.koopman.networks`; without them the reduced CPU models barely learn).

Gradient clipping (Hason's (2024) NaN fix) is the trainer's ``grad_clip``; the learning-rate decay on
plateau is its ``plateau`` option.

Swaps for evaluation go through one method, :meth:`KoopmanAutoencoder.recombine` ``(x, y,
static_from_y, dynamic_from_y)``: the latents of x with the chosen static *channels* (SKD: static
modes, SSM-SKD: coordinates of the static representation) and optionally all dynamics taken from y,
decoded. Hason's (2024) sample swaps are special cases (:mod:`neural.koopman.metrics`).
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import nn

from lingauss.params import InvalidParameter
from neural.models.base import batch_images

from .networks import KOOPMAN_CHANNELS, SequenceDecoder, SequenceEncoder
from .operator import METHODS, KoopmanFit, fit_koopman
from .spectral import DYNAMIC_PENALTIES

__all__ = ["KoopmanAutoencoder", "foreground_mask", "palette_distance"]

#: Channel-sum scale of :func:`foreground_mask`: the darkest Sprites-like colour (black hair) sums
#: to 0.15, so every figure colour gives ≥ tanh(3) = 0.995 and the mask does not see colours.
MASK_SCALE = 0.05


def foreground_mask(x: torch.Tensor) -> torch.Tensor:
    """Soft foreground mask tanh(Σ_c x_c / MASK_SCALE) of frames (..., C, H, W) → (..., H, W)."""
    return torch.tanh(x.clamp(min=0).sum(-3) / MASK_SCALE)


def _band_pixels(x: torch.Tensor, idx: torch.Tensor, lo: int, hi: int):
    """Colours (b, P, C) and foreground masks (b, P) of rows lo..hi-1 of frames ``idx`` of clips x."""
    x = x[:, idx, :, lo:hi]                                        # (b, f, C, h, W)
    c = x.permute(0, 1, 3, 4, 2).reshape(x.shape[0], -1, x.shape[2])
    return c, foreground_mask(x).reshape(x.shape[0], -1)


def palette_distance(a: torch.Tensor, b: torch.Tensor, frames: int = 1, bands: int = 3) -> torch.Tensor:
    """Symmetric mask-weighted nearest-colour distance between the figures of clips a and b
    (b, T, C, H, W), on ``frames`` frames (the centres of equal spans of the clip; 1: the middle
    one) and within each of ``bands`` horizontal bands of equal height (a head's colours are
    compared with the other clip's head band, legs with legs): for each figure pixel of a, the
    squared distance of its colour to the nearest figure colour of b in the same band (pixels of b
    with mask < ½ do not count), averaged with the mask weights; plus the same from b to a; mean
    over bands and clips."""
    T, H = a.shape[1], a.shape[-2]
    f = min(int(frames), T)
    idx = torch.floor((torch.arange(f) + 0.5) * T / f).long()     # the centres of f equal spans
    edges = [round(k * H / bands) for k in range(int(bands) + 1)]
    total = a.new_zeros(())
    for lo, hi in zip(edges[:-1], edges[1:]):
        ca, ma = _band_pixels(a, idx, lo, hi)
        cb, mb = _band_pixels(b.detach(), idx, lo, hi)
        # squared distances (b, Pa, Pb) as |a|² + |b|² − 2a·b: one batched matrix product (cdist's
        # backward pass is several times slower on the CPU)
        d = torch.baddbmm((cb * cb).sum(-1)[:, None, :], ca, cb.transpose(1, 2), alpha=-2.0)
        d = d + (ca * ca).sum(-1)[:, :, None]                      # ≥ −1e-7: rounding only
        far = 3.0                                                  # > any RGB squared distance
        ab = (d + far * (mb < 0.5)[:, None, :]).min(-1).values    # a's pixels → b's figure
        ba = (d + far * (ma.detach() < 0.5)[:, :, None]).min(-2).values   # b's pixels → a's figure
        one = (ab * ma).sum(-1) / ma.sum(-1).clamp(min=1e-6) + (ba * mb).sum(-1) / mb.sum(-1).clamp(min=1e-6)
        total = total + one.mean()
    return total / int(bands)

class KoopmanAutoencoder(nn.Module):
    """Base class (module doc); subclasses define ``per_instance``, :meth:`eigen_loss`,
    :meth:`recombine_latents`, :meth:`static_codes` and ``n_static_channels``."""

    per_instance: bool = False

    def __init__(self, *, in_channels: int = 3, k: int = 40, image_size: int = 64,
                 channels: Sequence[int] = KOOPMAN_CHANNELS, hidden: int = 256, w_rec: float = 15.0,
                 w_pred_x: float = 1.0, w_pred_z: float = 1.0, w_eig: float = 1.0,
                 alpha: float = 0.5, dynamic_penalty: str = "real", method: str = "ridge",
                 ridge: float = 1e-6, residual: bool = True, w_cycle: float = 0.0, w_shape: float = 0.0):
        super().__init__()
        if int(k) < 2:
            raise InvalidParameter(f"k must be >= 2, got {k!r}")
        if dynamic_penalty not in DYNAMIC_PENALTIES:
            raise InvalidParameter(f"dynamic_penalty must be one of {DYNAMIC_PENALTIES}, got {dynamic_penalty!r}")
        if method not in METHODS:
            raise InvalidParameter(f"method must be one of {METHODS}, got {method!r}")
        for name, w in (("w_rec", w_rec), ("w_pred_x", w_pred_x), ("w_pred_z", w_pred_z), ("w_eig", w_eig),
                        ("w_cycle", w_cycle), ("w_shape", w_shape)):
            if not float(w) >= 0:
                raise InvalidParameter(f"{name} must be >= 0, got {w!r}")
        self.k, self.in_channels, self.image_size = int(k), int(in_channels), int(image_size)
        self.w_rec, self.w_pred_x, self.w_pred_z, self.w_eig = map(float, (w_rec, w_pred_x, w_pred_z, w_eig))
        self.w_cycle, self.w_shape = float(w_cycle), float(w_shape)
        self.alpha, self.dynamic_penalty = float(alpha), dynamic_penalty
        self.method, self.ridge = method, float(ridge)
        self.encoder = SequenceEncoder(in_channels, self.k, image_size=image_size, channels=channels,
                                       hidden=hidden, residual=residual)
        self.decoder = SequenceDecoder(in_channels, self.k, image_size=image_size, channels=channels,
                                       hidden=hidden, residual=residual)

    # ------------------------------------------------------------------ the autoencoder
    def encode(self, x: torch.Tensor) -> torch.Tensor:
        """Latents Z (b, T, k) of sequences x (b, T, C, H, W)."""
        return self.encoder(x)

    def decode(self, Z: torch.Tensor) -> torch.Tensor:
        """Pixel means (b, T, C, H, W) of latents Z (b, T, k) (any float dtype)."""
        return self.decoder(Z)

    def koopman(self, Z: torch.Tensor) -> KoopmanFit:
        """The float64 Koopman fit of latents Z (batch operator or instance-wise)."""
        return fit_koopman(Z, per_instance=self.per_instance, method=self.method, ridge=self.ridge)

    def eigen_loss(self, fit: KoopmanFit) -> dict:
        """{"eig", "eig_static", "eig_dynamic"} float64 scalars (subclass)."""
        raise NotImplementedError

    def loss(self, batch) -> dict:
        x = batch_images(batch).to(self.decoder.lstm.weight_ih_l0.dtype)
        Z = self.encode(x)
        fit = self.koopman(Z)
        # two decoder passes: batch norm normalises real and predicted latents separately
        rec = F.mse_loss(self.decode(Z), x)
        pred_x = F.mse_loss(self.decode(fit.Z_pred.to(Z.dtype)), x)
        pred_z = F.mse_loss(fit.Z_pred_next, fit.Y)
        eig = self.eigen_loss(fit)
        total = (self.w_rec * rec + self.w_pred_x * pred_x).to(torch.float64) \
            + self.w_pred_z * pred_z + self.w_eig * eig["eig"]
        out = {"rec": rec, "pred_x": pred_x, "pred_z": pred_z, **eig}
        if self.w_cycle > 0 and Z.shape[0] >= 2:
            out["cycle"] = self.cycle_loss(Z.detach(), fit)
            total = total + self.w_cycle * out["cycle"].to(torch.float64)
        if self.w_shape > 0 and Z.shape[0] >= 2:
            out["shape"] = self.shape_loss(x, Z, fit)
            total = total + self.w_shape * out["shape"].to(torch.float64)
        return {"loss": total, **out}

    def training_swaps(self, Z: torch.Tensor, fit: KoopmanFit) -> torch.Tensor:
        """Swapped latents for :meth:`cycle_loss`: the first half of the batch with the static
        channels of its partner (the batch rolled by one), the second half with its dynamics."""
        b = Z.shape[0]
        Zp = torch.roll(Z, 1, dims=0)
        h = b // 2
        return torch.cat([self.recombine_latents(Z[:h], Zp[:h], "all", False),
                          self.recombine_latents(Z[h:], Zp[h:], None, True)])

    def cycle_loss(self, Z: torch.Tensor, fit: KoopmanFit) -> torch.Tensor:
        """L_cycle of the module doc on latents Z (constants) and their Koopman fit."""
        with torch.no_grad():
            Zs = self.training_swaps(Z, fit).to(Z.dtype)
        return F.mse_loss(self.encode(self.decode(Zs)), Zs)

    def shape_loss(self, x: torch.Tensor, Z: torch.Tensor, fit: KoopmanFit) -> torch.Tensor:
        """L_shape of the module doc: frames x, their latents Z and Koopman fit (gradients flow)."""
        h = Z.shape[0] // 2
        xp = torch.roll(x, 1, dims=0)
        swapped = self.decode(self.training_swaps(Z, fit).to(Z.dtype))
        # first half: static swap (x's motion, the partner's colours); second: dynamic swap
        shape_of = torch.cat([x[:h], xp[h:]])
        colours_of = torch.cat([xp[:h], x[h:]])
        masks = F.mse_loss(foreground_mask(swapped), foreground_mask(shape_of))
        return masks + palette_distance(swapped, colours_of)

    def degenerate_static_fraction(self) -> float | None:
        """Fraction of training spectra whose static mode was degenerate, for the models that can
        have one (SSM-SKD); ``None`` for the others."""
        return None

    # ------------------------------------------------------------------ swaps
    @property
    def n_static_channels(self) -> int:
        raise NotImplementedError

    def prepare_evaluation(self, x: torch.Tensor) -> None:
        """Hook called once with reference sequences before swap evaluations (SKD fixes a basis)."""

    def recombine_latents(self, Z_x: torch.Tensor, Z_y: torch.Tensor, static_from_y=None,
                          dynamic_from_y: bool = False) -> torch.Tensor:
        raise NotImplementedError

    def recombine(self, x: torch.Tensor, y: torch.Tensor, static_from_y=None,
                  dynamic_from_y: bool = False) -> torch.Tensor:
        """Decode x's latents with static channels ``static_from_y`` (mask/indices/``"all"``/None)
        and, if ``dynamic_from_y``, all dynamics from y. x, y: (b, T, C, H, W)."""
        Z = self.recombine_latents(self.encode(x), self.encode(y), static_from_y, dynamic_from_y)
        return self.decode(Z)

    def static_codes(self, x: torch.Tensor) -> torch.Tensor:
        """(b, m) real static representation per sequence, for the lingauss metrics (subclass)."""
        raise NotImplementedError
