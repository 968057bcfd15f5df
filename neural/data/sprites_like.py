r"""Sprites-like sequences: a procedural cartoon character that performs an action, every factor known.

A stand-in for the Sprites data of the sequential-disentanglement literature (static character
appearance, dynamic action and direction), drawn on the machine from a few geometric primitives —
no file is read. Each sequence draws its four *static* appearance factors once and one *action*
(an action type with a direction); the frames show successive poses of that action.

Factors, one row per frame in ``factors`` (N, T, s):

======  =====  =======================================================  ======
factor  card.  class k means                                            static
======  =====  =======================================================  ======
skin    6      ``SKIN_COLOURS[k]`` (head, arms, hands)                  yes
hair    6      ``HAIR_COLOURS[k]``                                      yes
top     6      ``TOP_COLOURS[k]`` (torso)                               yes
bottom  6      ``BOTTOM_COLOURS[k]`` (legs)                             yes
action  9      ``SPRITES_LIKE_ACTIONS[k]``: action k // 3 facing k % 3  no
pose    P      the pose index of the action's cycle shown in the frame  no
======  =====  =======================================================  ======

Actions k // 3: walk, spellcard, slash; directions k % 3: front, left, right. (The class order of ``action`` is that of the real Sprites files, see
:data:`neural.data.loaders.SPRITES_ACTIONS`.) Dynamics: the action is the same over a sequence (as
in Sprites) and the pose advances by one each frame, pose_t = (pose_0 + t) mod P with P =
``n_poses``; pose_0 = 0 (Sprites: every clip starts at the beginning of its action) unless
``random_start``. The action is flagged dynamic — it is the motion factor — though constant along a
sequence; ``pose`` is dynamic and changes every frame.

Drawing (image units: x right, y down, [0, 1]², pixel (i, j) centred at ((j + ½)/S, (i + ½)/S)):
the figure stands centred at x = ½; with the phase φ = 2π·pose/P,

* head: disc of radius 0.11 at (½ + 0.02·f, 0.24), f = 0 (front), −1 (left), +1 (right); hair: the
  part of a disc of radius 0.125 above y = 0.21 plus, in profile, the back half of the head above
  y = 0.29; eyes: dark squares (two for front, one on the facing side in profile);
* torso: rectangle of half-width 0.12 (front) or 0.08 (profile), y ∈ [0.36, 0.62], top colour;
* legs: capsules of radius 0.045 from the hips (½ ± 0.05, 0.62) to the feet, bottom colour;
* arms: capsules of radius 0.04 from the shoulders to the hands, skin colour;
* poses — walk: feet and hands swing by ±0.09·sin φ (along x in profile; in front view the raised foot or hand lifts by max(0, ±0.09·sin φ));
  spellcard: both hands raised above the shoulders, rising and falling with (1 − cos φ)/2; slash:
  the facing arm (the right one from the front) sweeps a light-grey sword from overhead
  (angle −60°) to forward-low (120°) linearly over the cycle, the other arm hangs.

Every action pose differs from every other action's poses (spellcard arms are never down, slash
always shows the sword), so a frame shows its action and direction. Colours are painted in the
order legs, torso, arms, head, hair, eyes, sword on a black background.

:func:`render_sprites_like` draws frames for given per-frame factor classes, so that ground-truth
swaps (x's appearance with y's action, ...) can be rendered (the benchmark's ceilings).
"""

from __future__ import annotations

import numpy as np

from lingauss.params import InvalidParameter
from lingauss._validation import as_rng

from ._checks import check_count, check_int_array
from .base import SequenceDataset

__all__ = ["SKIN_COLOURS", "HAIR_COLOURS", "TOP_COLOURS", "BOTTOM_COLOURS", "SPRITES_LIKE_ACTIONS",
           "SPRITES_LIKE_FACTORS", "ACTION_TYPES", "DIRECTIONS", "render_sprites_like",
           "make_sprites_like"]

SKIN_COLOURS = np.array([[1.00, 0.88, 0.75], [0.85, 0.60, 0.40], [0.55, 0.35, 0.20],
                         [0.30, 0.18, 0.10], [0.55, 0.85, 0.45], [0.60, 0.70, 1.00]])
HAIR_COLOURS = np.array([[0.05, 0.05, 0.05], [0.45, 0.25, 0.08], [0.95, 0.85, 0.30],
                         [0.85, 0.25, 0.10], [0.85, 0.85, 0.85], [0.20, 0.35, 0.95]])
TOP_COLOURS = np.array([[0.90, 0.10, 0.10], [0.95, 0.85, 0.10], [0.10, 0.75, 0.15],
                        [0.10, 0.80, 0.85], [0.15, 0.20, 0.90], [0.85, 0.15, 0.85]])
BOTTOM_COLOURS = np.array([[0.10, 0.15, 0.45], [0.30, 0.30, 0.30], [0.50, 0.30, 0.10],
                           [0.15, 0.45, 0.15], [0.70, 0.70, 0.70], [0.55, 0.05, 0.10]])
ACTION_TYPES = ("walk", "spellcard", "slash")
DIRECTIONS = ("front", "left", "right")
SPRITES_LIKE_ACTIONS = tuple(f"{a} {d}" for a in ACTION_TYPES for d in DIRECTIONS)
SPRITES_LIKE_FACTORS = ("skin", "hair", "top", "bottom", "action", "pose")
_EYE = np.array([0.05, 0.05, 0.10])
_SWORD = np.array([0.80, 0.80, 0.90])


def _capsule(px, py, ax, ay, bx, by, r):
    """Pixels within distance r of the segment a–b; p (S, S) grid, a/b (M,) → mask (M, S, S)."""
    ax, ay, bx, by = (v[:, None, None] for v in (ax, ay, bx, by))
    dx, dy = bx - ax, by - ay
    L2 = np.maximum(dx * dx + dy * dy, 1e-12)
    t = np.clip(((px - ax) * dx + (py - ay) * dy) / L2, 0.0, 1.0)
    ex, ey = px - ax - t * dx, py - ay - t * dy
    return ex * ex + ey * ey <= r * r


def _pose_geometry(action: np.ndarray, pose: np.ndarray, n_poses: int) -> dict:
    """Per-frame joint positions (image units) of the drawing rules in the module doc."""
    kind, direction = action // 3, action % 3
    f = np.select([direction == 1, direction == 2], [-1.0, 1.0], 0.0)       # facing: left −1, right +1
    front = direction == 0
    phi = 2 * np.pi * pose / n_poses
    s = np.sin(phi)
    half = np.where(front, 0.12, 0.08)
    sh_y = np.full(action.shape, 0.40)
    shoulders_x = (0.5 - half - 0.015, 0.5 + half + 0.015)
    hips_x = (0.5 - 0.05, 0.5 + 0.05)
    feet = []
    hands = []
    walk, spell, slash = kind == 0, kind == 1, kind == 2
    for side, sign in ((0, -1.0), (1, 1.0)):
        # legs: walk swings the feet; other actions stand with the feet under the hips
        swing = 0.09 * s * (sign if side == 1 else -sign) * np.where(walk, 1.0, 0.0)
        fx = hips_x[side] + sign * 0.01 + np.where(front, 0.0, f * swing)
        fy = 0.90 - np.where(front, np.maximum(0.0, swing), 0.0)
        feet.append((fx, fy))
        # arms
        hx_walk = shoulders_x[side] + sign * 0.02 + np.where(front, 0.0, -f * swing)
        hy_walk = sh_y + 0.22 - np.where(front, np.maximum(0.0, -swing), 0.0)
        lift = 0.35 + 0.65 * (1 - np.cos(phi)) / 2                              # in [0.35, 1]
        hx_spell = shoulders_x[side] + sign * (0.10 - 0.04 * lift) + np.where(front, 0.0, 0.05 * f)
        hy_spell = sh_y - 0.20 * lift
        hands.append([hx_walk, hy_walk, hx_spell, hy_spell])
    # slash: the facing arm (right arm from the front) holds the sword
    sword_side = np.where(direction == 1, 0, 1)
    frac = pose / max(n_poses - 1, 1)
    ang = np.deg2rad(-60.0 + 180.0 * frac)                                    # 0 = straight up
    fs = np.where(front, 1.0, f)
    out = {"feet": feet, "hips": hips_x, "half": half, "f": f, "front": front, "sh_y": sh_y,
           "shoulders": shoulders_x, "slash": slash, "sword": None}
    hand_xy = []
    for side in (0, 1):
        hx_w, hy_w, hx_s, hy_s = hands[side]
        hx = np.where(walk, hx_w, np.where(spell, hx_s, hx_w))
        hy = np.where(walk, hy_w, np.where(spell, hy_s, sh_y + 0.22))
        is_sword = slash & (sword_side == side)
        sx = shoulders_x[side] + 0.20 * fs * np.sin(ang)
        sy = sh_y - 0.20 * np.cos(ang)
        hx, hy = np.where(is_sword, sx, hx), np.where(is_sword, sy, hy)
        hand_xy.append((hx, hy))
    sx0, sy0 = np.where(sword_side == 0, hand_xy[0][0], hand_xy[1][0]), \
        np.where(sword_side == 0, hand_xy[0][1], hand_xy[1][1])
    out["sword"] = (sx0, sy0, sx0 + 0.22 * fs * np.sin(ang), sy0 - 0.22 * np.cos(ang))
    out["hands"] = hand_xy
    return out


def render_sprites_like(factors, *, image_size: int = 64, n_poses: int = 8) -> np.ndarray:
    """Frames (M, 3, S, S) float32 in [0, 1] of per-frame factor classes (M, 6) (module table).

    Parameters
    ----------
    factors : int (or whole-number float) array (M, 6)
        Columns skin, hair, top, bottom, action, pose.
    image_size : int ≥ 16
        S, the side in pixels (the drawing is resolution-independent; 64 as Sprites).
    n_poses : int ≥ 2
        P, the poses per action cycle (the ``pose`` column lies in 0..P−1).
    """
    image_size = check_count(image_size, "image_size", minimum=16)
    n_poses = check_count(n_poses, "n_poses", minimum=2)
    cls = check_int_array(factors, "factors", (6, 6, 6, 6, 9, n_poses))
    M, S = cls.shape[0], image_size
    c = (np.arange(S) + 0.5) / S
    px, py = c[None, None, :], c[None, :, None]
    g = _pose_geometry(cls[:, 4], cls[:, 5], n_poses)
    img = np.zeros((M, S, S, 3))

    def paint(mask, colour):
        colour = np.asarray(colour, dtype=np.float64)
        col = colour[None, None, None, :] if colour.ndim == 1 else colour[:, None, None, :]
        np.copyto(img, np.broadcast_to(col, img.shape), where=mask[..., None])

    skin, hair = SKIN_COLOURS[cls[:, 0]], HAIR_COLOURS[cls[:, 1]]
    top, bottom = TOP_COLOURS[cls[:, 2]], BOTTOM_COLOURS[cls[:, 3]]
    for side in (0, 1):
        fx, fy = g["feet"][side]
        paint(_capsule(px, py, np.full(M, g["hips"][side]), np.full(M, 0.62), fx, fy, 0.045), bottom)
    half = g["half"][:, None, None]
    paint((np.abs(px - 0.5) <= half) & (py >= 0.36) & (py <= 0.62), top)
    for side in (0, 1):
        hx, hy = g["hands"][side]
        paint(_capsule(px, py, np.full(M, g["shoulders"][side]) if np.ndim(g["shoulders"][side]) == 0
                       else g["shoulders"][side], g["sh_y"], hx, hy, 0.04), skin)
    f = g["f"][:, None, None]
    hcx = 0.5 + 0.02 * f
    head = (px - hcx) ** 2 + (py - 0.24) ** 2 <= 0.11 ** 2
    paint(head, skin)
    cap = ((px - hcx) ** 2 + (py - 0.23) ** 2 <= 0.125 ** 2) & (py <= 0.21)
    back = head & (py <= 0.29) & ((px - hcx) * f < -0.02) & (f != 0)
    paint(cap | back, hair)
    eye_r = max(0.02, 0.6 / S)
    front = g["front"][:, None, None]
    eyes_front = front & (((np.abs(px - 0.45) <= eye_r) | (np.abs(px - 0.55) <= eye_r))
                          & (np.abs(py - 0.25) <= eye_r))
    eyes_side = ~front & (np.abs(px - (hcx + 0.06 * f)) <= eye_r) & (np.abs(py - 0.25) <= eye_r)
    paint(eyes_front | eyes_side, _EYE)
    x0, y0, x1, y1 = g["sword"]
    paint(_capsule(px, py, x0, y0, x1, y1, 0.022) & g["slash"][:, None, None], _SWORD)
    return np.ascontiguousarray(img.transpose(0, 3, 1, 2), dtype=np.float32)


def make_sprites_like(n: int, *, n_frames: int = 8, rng=None, image_size: int = 64, n_poses: int = 8,
                      random_start: bool = False) -> SequenceDataset:
    """``n`` Sprites-like sequences of ``n_frames`` frames (module table and drawing rules).

    Parameters
    ----------
    n : int ≥ 1
        Number of sequences.
    n_frames : int ≥ 1
        T (default 8, as Sprites).
    rng : numpy Generator, int seed or None
        Same seed, same sequences. Every factor is drawn uniformly and independently.
    image_size : int ≥ 16
        Frame side S (default 64).
    n_poses : int ≥ 2
        P, poses per action cycle (default 8).
    random_start : bool
        Draw pose_0 uniformly in 0..P−1 (default: 0, every clip starts its action).

    Returns
    -------
    SequenceDataset: sequences (n, T, 3, S, S) float32, factors (n, T, 6) class indices.
    """
    n = check_count(n, "n")
    n_frames = check_count(n_frames, "n_frames")
    image_size = check_count(image_size, "image_size", minimum=16)
    n_poses = check_count(n_poses, "n_poses", minimum=2)
    if not isinstance(random_start, (bool, np.bool_)):
        raise InvalidParameter(f"random_start must be a bool, got {random_start!r}")
    gen = as_rng(rng)
    static = gen.integers(0, 6, size=(n, 4))
    action = gen.integers(0, len(SPRITES_LIKE_ACTIONS), size=n)
    start = gen.integers(0, n_poses, size=n) if random_start else np.zeros(n, dtype=np.int64)
    pose = (start[:, None] + np.arange(n_frames)[None, :]) % n_poses
    factors = np.concatenate([np.broadcast_to(static[:, None, :], (n, n_frames, 4)),
                              np.broadcast_to(action[:, None, None], (n, n_frames, 1)),
                              pose[..., None]], axis=2).astype(np.float64)
    frames = render_sprites_like(factors.reshape(n * n_frames, 6), image_size=image_size, n_poses=n_poses)
    cards = (6, 6, 6, 6, len(SPRITES_LIKE_ACTIONS), n_poses)
    values = {"skin": SKIN_COLOURS.copy(), "hair": HAIR_COLOURS.copy(), "top": TOP_COLOURS.copy(),
              "bottom": BOTTOM_COLOURS.copy(), "action": np.array(SPRITES_LIKE_ACTIONS),
              "pose": np.arange(n_poses)}
    return SequenceDataset(frames.reshape(n, n_frames, 3, image_size, image_size), factors,
                           SPRITES_LIKE_FACTORS, ("discrete",) * 6, cards, (True,) * 4 + (False,) * 2,
                           values, "sprites-like")
