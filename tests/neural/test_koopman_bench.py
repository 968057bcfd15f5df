"""The Koopman benchmark end to end on a tiny configuration: the results.json schema and the verdicts."""

import json
import math

from analysis.bench.koopman import REDUCED_CONFIG, format_koopman_benchmark, run_koopman_benchmark

TINY = dict(REDUCED_CONFIG, n_train=24, n_test=12, n_explore=4, n_frames=4, seeds=(0,), steps=3, batch_size=4,
            k_skd=4, n_static_skd=2, k_ssm=4, channels=(4, 4), hidden=8, image_size=16, judge_steps=5,
            judge_channels=(4, 4), judge_hidden=8, brute_force_max_channels=4, datasets=("sprites-like",),
            overrides={})


def test_tiny_benchmark_writes_the_schema():
    res = run_koopman_benchmark(config=TINY)
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
    ssm = js["rows"][1]
    assert 0 <= ssm["degenerate_static_fraction"] <= 1
    text = format_koopman_benchmark(res)
    assert "floor (max)" in text and "ceiling" in text and ("NOT MET" in text or "MET" in text)
