r"""Moving dSprites: sequences of procedural dSprites whose position moves with a constant speed.

Each sequence draws its *static* (content) factors once — shape, colour, scale — and a start
position and a velocity class along x and y; the sprite then moves by the velocity every frame.
Frames are rendered by :func:`neural.data.dsprites.render_shapes` (same geometry, orientation fixed).

Factors, one row per frame in ``factors`` (N, T, s):

==========  ===================  ===========================================  ========  ======
factor      cardinality          class k means                                kind      static
==========  ===================  ===========================================  ========  ======
shape       3                    ``SHAPES[k]``                                discrete  yes
colour      6 (if ``colour``)    ``HUES[k]`` turns                            discrete  yes
scale       6                    ``SCALES[k]``                                discrete  yes
pos_x       32                   position ``POSITIONS[k]`` = k/31             discrete  no
pos_y       32                   position ``POSITIONS[k]`` = k/31             discrete  no
vel_x       len(velocities)      heading ``velocities[k]`` position classes   discrete  no
                                 per frame (+: right)
vel_y       len(velocities)      same, +: down                                discrete  no
==========  ===================  ===========================================  ========  ======

Motion, per axis, in position classes (0..31; one class ≈ 1.03 px):

* ``boundary="bounce"`` (default): the sprite reflects off the border. With the unfolded
  coordinate q_t = p_0 + v t and period 2·31, r_t = q_t mod 62, the position is
  p_t = r_t if r_t ≤ 31 else 62 − r_t (a triangle wave), and the velocity label at frame t is the
  current heading, +v while r_t < 31 and −v otherwise, so p_{t+1} = reflect(p_t + vel_t) and
  p_{t+1} − p_t = vel_t whenever no wall is hit between t and t+1.
* ``boundary="wrap"``: p_t = (p_0 + v t) mod 32 — the sprite leaves one side and re-enters at the
  other; the velocity label is constant.

``factor_static`` marks the content factors. The velocity is flagged dynamic: it is the motion
factor and its label flips at a bounce (under ``"wrap"`` it happens to be constant along a
sequence, but it keeps the dynamic flag so that the static/dynamic split does not change with the
boundary rule).
"""

from __future__ import annotations

import numpy as np

from lingauss.params import InvalidParameter
from lingauss._validation import as_rng

from ._checks import check_choice, check_count, check_int_array
from .base import SequenceDataset
from .dsprites import HUES, ORIENTATIONS, POSITIONS, SCALES, SHAPES, render_shapes

__all__ = ["DEFAULT_VELOCITIES", "BOUNDARIES", "move_positions", "make_moving_dsprites",
           "render_moving_dsprites"]

DEFAULT_VELOCITIES = (-2, -1, 0, 1, 2)
BOUNDARIES = ("bounce", "wrap")
_N_POS = len(POSITIONS)


def move_positions(start, velocity, n_frames: int, *, boundary: str = "bounce",
                   n_positions: int = _N_POS) -> tuple[np.ndarray, np.ndarray]:
    """Trajectories of position classes under constant speed (see the module notes).

    Parameters
    ----------
    start : int array (N,)
        Position class at frame 0, in 0..n_positions−1.
    velocity : int array (N,)
        Signed speed in position classes per frame.
    n_frames : int ≥ 1
        T.
    boundary : "bounce" or "wrap"
    n_positions : int ≥ 2

    Returns
    -------
    positions, headings : int64 arrays (N, T) — the position class and the signed velocity at
    each frame (headings equal ``velocity`` under ``"wrap"``).
    """
    n_frames = check_count(n_frames, "n_frames")
    boundary = check_choice(boundary, "boundary", BOUNDARIES)
    n_positions = check_count(n_positions, "n_positions", minimum=2)
    p0 = np.asarray(start)
    v = np.asarray(velocity)
    if p0.ndim != 1 or p0.dtype.kind not in "iu" or np.any((p0 < 0) | (p0 >= n_positions)):
        raise InvalidParameter(f"start must be a 1-D int array of classes in 0..{n_positions - 1}")
    if v.shape != p0.shape or v.dtype.kind not in "iu":
        raise InvalidParameter(f"velocity must be an int array of shape {p0.shape}")
    t = np.arange(n_frames)
    q = p0.astype(np.int64)[:, None] + v.astype(np.int64)[:, None] * t[None, :]
    if boundary == "wrap":
        return q % n_positions, np.broadcast_to(v.astype(np.int64)[:, None], q.shape).copy()
    period = 2 * (n_positions - 1)
    r = q % period
    pos = np.where(r <= n_positions - 1, r, period - r)
    heading = np.where(r < n_positions - 1, 1, -1) * v.astype(np.int64)[:, None]
    return pos, heading


def render_moving_dsprites(factors, *, colour: bool = True, orientation: int = 0, supersample: int = 1,
                           n_velocities: int = len(DEFAULT_VELOCITIES)) -> np.ndarray:
    """Frames (M, C, 64, 64) of per-frame factor classes (M, s) in the column order of
    :func:`make_moving_dsprites` (shape, [colour,] scale, pos_x, pos_y, vel_x, vel_y; the velocity
    columns do not change a frame). Used to render ground-truth swaps."""
    cards = (len(SHAPES),) + ((len(HUES),) if colour else ()) + (len(SCALES), _N_POS, _N_POS,
                                                                  int(n_velocities), int(n_velocities))
    cls = check_int_array(factors, "factors", cards)
    if isinstance(orientation, (bool, np.bool_)) or not isinstance(orientation, (int, np.integer)) \
            or not 0 <= orientation < len(ORIENTATIONS):
        raise InvalidParameter(f"orientation must be an orientation class in 0..{len(ORIENTATIONS) - 1}, "
                         f"got {orientation!r}")
    j = 2 if colour else 1
    return render_shapes(cls[:, 0], SCALES[cls[:, j]], ORIENTATIONS[orientation], POSITIONS[cls[:, j + 1]],
                         POSITIONS[cls[:, j + 2]], HUES[cls[:, 1]] if colour else None, supersample=supersample)


def make_moving_dsprites(n: int, *, n_frames: int = 8, rng=None, colour: bool = True,
                         velocities=DEFAULT_VELOCITIES, boundary: str = "bounce",
                         orientation: int = 0, supersample: int = 1) -> SequenceDataset:
    """``n`` Moving-dSprites sequences of ``n_frames`` frames (see the module table).

    Parameters
    ----------
    n : int ≥ 1
        Number of sequences.
    n_frames : int ≥ 1
        T, frames per sequence (default 8).
    rng : numpy Generator, int seed or None
        Same seed, same sequences.
    colour : bool
        Include the colour factor (three-channel frames, default); otherwise one channel.
    velocities : sequence of distinct ints
        The velocity classes, in position classes per frame, |v| ≤ 31; must be closed under
        negation when ``boundary="bounce"`` (a bounce turns class v into class −v). Each axis draws
        one uniformly.
    boundary : "bounce" or "wrap"
        What happens at the border (module notes).
    orientation : int
        The fixed orientation class (0..39) of every sprite.
    supersample : int ≥ 1
        See :func:`neural.data.dsprites.render_shapes`.

    Returns
    -------
    SequenceDataset with sequences (n, T, C, 64, 64) float32 and factors (n, T, s) as class indices.
    """
    n = check_count(n, "n")
    n_frames = check_count(n_frames, "n_frames")
    boundary = check_choice(boundary, "boundary", BOUNDARIES)
    try:
        vel = [int(x) for x in velocities]
        ok = len(vel) >= 1 and all(float(x) == int(x) and not isinstance(x, (bool, np.bool_))
                                   for x in velocities)
    except (TypeError, ValueError):
        ok = False
    if not ok or len(set(vel)) != len(vel) or max(abs(x) for x in vel) > _N_POS - 1:
        raise InvalidParameter(f"velocities must be distinct integers with |v| <= {_N_POS - 1}, got {velocities!r}")
    if boundary == "bounce" and set(vel) != {-x for x in vel}:
        raise InvalidParameter(f"velocities must be closed under negation for boundary='bounce', got {velocities!r}")
    if isinstance(orientation, (bool, np.bool_)) or not isinstance(orientation, (int, np.integer)) \
            or not 0 <= orientation < len(ORIENTATIONS):
        raise InvalidParameter(f"orientation must be an orientation class in 0..{len(ORIENTATIONS) - 1}, "
                         f"got {orientation!r}")
    gen = as_rng(rng)
    vel_arr = np.array(vel, dtype=np.int64)

    shape = gen.integers(0, len(SHAPES), size=n)
    hue_cls = gen.integers(0, len(HUES), size=n) if colour else None
    scale = gen.integers(0, len(SCALES), size=n)
    start = gen.integers(0, _N_POS, size=(2, n))
    vcls = gen.integers(0, len(vel), size=(2, n))
    px, hx = move_positions(start[0], vel_arr[vcls[0]], n_frames, boundary=boundary)
    py, hy = move_positions(start[1], vel_arr[vcls[1]], n_frames, boundary=boundary)
    lookup = {v: k for k, v in enumerate(vel)}
    to_class = np.vectorize(lookup.__getitem__, otypes=[np.int64])
    vx, vy = to_class(hx), to_class(hy)

    static_cols = [shape] + ([hue_cls] if colour else []) + [scale]
    factors = np.concatenate([np.broadcast_to(c[:, None, None], (n, n_frames, 1)) for c in static_cols]
                             + [px[..., None], py[..., None], vx[..., None], vy[..., None]],
                             axis=2).astype(np.float64)
    names = ("shape",) + (("colour",) if colour else ()) + ("scale", "pos_x", "pos_y", "vel_x", "vel_y")
    cards = (len(SHAPES),) + ((len(HUES),) if colour else ()) + (len(SCALES), _N_POS, _N_POS,
                                                                  len(vel), len(vel))
    frames = render_moving_dsprites(factors.reshape(n * n_frames, -1), colour=colour, orientation=orientation,
                                    supersample=supersample, n_velocities=len(vel))
    frames = frames.reshape(n, n_frames, *frames.shape[1:])
    static = (True,) * len(static_cols) + (False,) * 4
    values = {"shape": np.array(SHAPES), "scale": SCALES.copy(), "pos_x": POSITIONS.copy(),
              "pos_y": POSITIONS.copy(), "vel_x": vel_arr.copy(), "vel_y": vel_arr.copy()}
    if colour:
        values["colour"] = HUES.copy()
    return SequenceDataset(frames, factors, names, ("discrete",) * len(names), cards, static, values,
                           "moving-dsprites")
