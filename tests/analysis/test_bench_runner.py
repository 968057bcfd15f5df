"""The benchmarks' shared runner: configuration resolution, mean ± std, JSON values, atomic writes."""

import json
import math
import os
import stat

import numpy as np
import pytest

from analysis.bench.runner import (as_seeds, jsonable, mean_std, mean_std_text, resolve_config,
                                   write_results_json)

CONFIGS = {"small": {"seeds": (0, 1), "steps": 10, "lr": 1e-3}}


def test_resolve_config_copies_overrides_and_checks():
    name, cfg = resolve_config("small", CONFIGS, seeds=[3, 4], steps=5, overrides={"lr": 0.5})
    assert name == "small" and cfg == {"seeds": (3, 4), "steps": 5, "lr": 0.5}
    assert CONFIGS["small"] == {"seeds": (0, 1), "steps": 10, "lr": 1e-3}        # not modified
    assert resolve_config({"steps": 1}, CONFIGS) == ("custom", {"steps": 1})
    assert resolve_config("small", CONFIGS, steps=7, steps_key="lr")[1]["lr"] == 7
    for kw, match in ((dict(config="big"), "config"), (dict(overrides={"nope": 1}), "unknown"),
                      (dict(steps=0), "steps"), (dict(seeds=[-1]), "seeds"), (dict(seeds=[]), "seeds")):
        with pytest.raises(ValueError, match=match):
            resolve_config(kw.pop("config", "small"), CONFIGS, **kw)
    assert as_seeds(np.arange(2)) == (0, 1)


def test_mean_std_against_numpy():
    x = [0.3, 1.7, 2.2, 5.0]
    m, s, n = mean_std(x)
    assert (m, n) == (pytest.approx(np.mean(x)), 4) and s == pytest.approx(np.std(x, ddof=1))
    assert mean_std([2.0]) == (2.0, 0.0, 1)
    assert math.isnan(mean_std([1.0, float("nan")])[0])                          # NaN propagates
    assert mean_std([1.0, float("nan"), None, 3.0], finite_only=True) == (2.0, pytest.approx(2 ** 0.5), 2)
    assert mean_std_text([]) == "—" and mean_std_text([1.0]) == "1.000"
    assert mean_std_text([1.0, 3.0], "{:.1f}") == f"2.0 ± {2 ** 0.5:.1f}"


def test_results_json_is_jsonable_and_atomic(tmp_path):
    doc = {"rows": [{"a": np.float32(0.5), "b": float("nan"), "c": (1, np.int64(2))}], 3: float("inf")}
    assert jsonable(doc) == {"rows": [{"a": 0.5, "b": None, "c": [1, 2]}], "3": None}
    path = write_results_json(doc, tmp_path / "new" / "dir")
    assert path == tmp_path / "new" / "dir" / "results.json"
    assert json.loads(path.read_text()) == jsonable(doc)
    umask = os.umask(0)
    os.umask(umask)
    assert stat.S_IMODE(path.stat().st_mode) == 0o666 & ~umask
    assert [p.name for p in path.parent.iterdir()] == ["results.json"]           # no temporary left


def test_a_failed_write_leaves_the_old_file(tmp_path):
    path = write_results_json({"v": 1}, tmp_path)
    with pytest.raises(TypeError):
        write_results_json({"v": object()}, tmp_path)
    assert json.loads(path.read_text()) == {"v": 1}
    assert [p.name for p in tmp_path.iterdir()] == ["results.json"]


def test_device_and_threads():
    torch = pytest.importorskip("torch")
    from analysis.bench.runner import resolve_device, torch_threads

    assert resolve_device(None) == "cpu" and resolve_device("cpu") == "cpu"
    assert resolve_device("auto") == ("cuda" if torch.cuda.is_available() else "cpu")
    with pytest.raises(ValueError, match="device: not a torch device"):
        resolve_device("nonsense")
    if not torch.cuda.is_available():
        with pytest.raises(ValueError, match="CUDA is not available"):
            resolve_device("cuda:0")
    before = torch.get_num_threads()
    want = 1 if before != 1 else 2
    with pytest.raises(RuntimeError), torch_threads(want):
        assert torch.get_num_threads() == want
        raise RuntimeError                                # restored on the way out, too
    assert torch.get_num_threads() == before
    with torch_threads(None):
        assert torch.get_num_threads() == before
