"""The Koopman benchmark end to end on a tiny configuration: the results.json schema and the verdicts."""

import json
import math

from analysis.bench.koopman import CPU_CONFIG, run_koopman_benchmark
from analysis.bench.koopman_report import format_koopman_benchmark

TINY = dict(CPU_CONFIG, n_train=24, n_test=12, n_explore=4, n_frames=4, seeds=(0,), steps=3, batch_size=4,
            k_skd=4, n_static_skd=2, k_ssm=4, channels=(4, 4), hidden=8, image_size=16, judge_steps=5,
            judge_channels=(4, 4), judge_hidden=8, brute_force_max_channels=4, datasets=("sprites-like",),
            overrides={})


def test_tiny_benchmark_writes_the_schema(tmp_path):
    res = run_koopman_benchmark(config=TINY, figures_dir=tmp_path)
    js = json.loads(json.dumps(res.as_json()))
    assert set(js) == {"config", "datasets", "rows"}
    facs = js["datasets"]["sprites-like"]["factors"]
    assert facs["skin"] == {"kind": "static", "classes": 6} and facs["action"] == {"kind": "dynamic", "classes": 9}
    assert [(r["model"], r["dataset"], r["seed"]) for r in js["rows"]] == [("SKD", "sprites-like", 0),
                                                                          ("SSM-SKD", "sprites-like", 0)]
    keys = {"model": str, "dataset": str, "seed": int, "D_sd": float, "D_mf": float, "floor_D_sd": float,
            "floor_D_mf": float, "ceiling_D_sd": float, "ceiling_D_mf": float, "recon_mse": float,
            "baseline_mse": float, "train_s": float}
    for r in js["rows"]:
        for k, t in keys.items():
            assert isinstance(r[k], t), k
        assert math.isfinite(r["D_sd"]) and 0 <= r["D_sd"] <= 1
        assert r["exploration"] == ("brute force" if r["model"] == "SKD" else "greedy")
        # the learning curve: a point before training and one at the end, each with the three scores
        assert [p["step"] for p in r["curve"]] == [0, 3]
        assert all(set(p) >= {"step", "D_sd", "D_mf", "recon_mse"} for p in r["curve"])
        # per-row floors: the nine D_sd strategies and the D_mf behaviours, the strongest is the row's floor
        assert len(r["floors"]["D_sd"]) == 9 and max(r["floors"]["D_sd"].values()) == r["floor_D_sd"]
        assert max(r["floors"]["D_mf"].values()) == r["floor_D_mf"]
        for kind in ("curve", "swaps"):
            name = r["figures"][kind]
            assert "/" not in name and (tmp_path / name).stat().st_size > 1000
    ssm = js["rows"][1]
    assert 0 <= ssm["degenerate_static_fraction"] <= 1
    text = format_koopman_benchmark(res)
    assert "strongest floor" in text and "everything static" in text and "ceiling" in text
    assert "gap closed" in text and ("NOT MET" in text or "MET" in text)
    assert str(tmp_path) not in json.dumps(js)


def test_swap_grid_of_large_frames_takes_the_grid_aspect(tmp_path):
    """A grid of 64×64 frames (6 rows of cells 8 frames wide) is a wide strip: the PNG must be as
    wide as tall in that proportion, not a tall figure with the strip in its middle."""
    import matplotlib.image as mpimg
    import torch

    from analysis.bench.koopman import _build_model, _make_data, _renderer, dataset_spec
    from neural.koopman.curves import swap_grid

    spec = dataset_spec("moving-dsprites", dict(TINY, n_frames=8))
    data = _make_data("moving-dsprites", 12, 0, spec)
    torch.manual_seed(0)
    model = _build_model("SKD", dict(spec, k_skd=4, n_static_skd=2), in_channels=data.sequences.shape[2],
                         channels=(4, 4, 4, 4), hidden=8, image_size=64)
    grid = swap_grid(model, data, _renderer("moving-dsprites", spec), tmp_path / "g.png", n=6)
    h, w = mpimg.imread(tmp_path / "g.png").shape[:2]
    assert grid.shape[0] / grid.shape[1] < 0.2
    assert h / w < 2.5 * grid.shape[0] / grid.shape[1] + 0.1


def test_shape_prior_is_refused_on_data_whose_static_factors_draw_the_silhouette():
    import pytest

    with pytest.raises(ValueError, match="w_shape > 0"):
        run_koopman_benchmark(config=dict(TINY, w_shape=1.0, datasets=("moving-dsprites",)))


def test_the_shape_prior_scope_is_the_registry_flag_and_matches_each_data_sets_factors():
    """The prior's scope is read from the dataset declarations; the flag holds exactly where every
    static factor the benchmark judges is a colour (a static shape or scale draws the silhouette)."""
    from analysis.bench.koopman import COLOUR_FACTORS, DATASETS, JUDGED_FACTORS, SHAPE_PRIOR_DATASETS
    from neural.registry import dataset_spec as registered

    dynamic = {"sprites-like": {"action"}, "moving-dsprites": {"pos_x", "pos_y"}}
    for name in DATASETS:
        static = set(JUDGED_FACTORS[name]) - dynamic[name]
        assert registered(name).static_colours_only == (static == set(COLOUR_FACTORS[name])), name
    assert SHAPE_PRIOR_DATASETS == tuple(n for n in DATASETS if registered(n).static_colours_only) == ("sprites-like",)
