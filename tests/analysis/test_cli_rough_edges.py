"""The rough edges a new user met, each fixed: readers that say what a file is, one line each;
``--decoder-noise all``; ``--json`` groupings numbered from 1 like the tables and ``--truth``;
``--method exact`` named as asked; ``--out`` with an unwritable format refused; ``solve`` checks
before printing; ``train --resume`` without a checkpoint; a covariance file with ``--samples``;
``--shrinkage`` help and error agree; ``--version``."""

import json
import pickle

import numpy as np
import pytest

import lingauss as lg
from analysis.cli import build_parser, main


def _one_line(capsys, *texts):
    captured = capsys.readouterr()
    assert captured.out == "", captured.out              # nothing printed before the error
    err = captured.err
    assert err.count("\n") == 1 and "Traceback" not in err, err
    for t in texts:
        assert t in err, err
    return err


@pytest.mark.parametrize("make, says", [
    (lambda p: p.write_text("hello world\n1 2 3\n"), "a text file (first line 'hello world')"),
    (lambda p: p.write_bytes(pickle.dumps([1, 2, 3])), "a Python pickle"),
    (lambda p: np.save(p, np.array([{"a": 1}], dtype=object), allow_pickle=True),
     "a .npy array of Python objects"),
    (lambda p: p.write_bytes(b"\x00\x01\x02garbage" * 10), "a binary file that is not a NumPy array"),
])
def test_a_file_that_is_not_a_numeric_npy_says_what_it_is(tmp_path, capsys, make, says):
    path = tmp_path / "t.npy"
    make(path)
    assert main(["metric", str(path), "--latents", "2"]) == 2
    _one_line(capsys, says)


def test_a_non_square_covariance_says_its_shape(tmp_path, capsys):
    np.save(tmp_path / "w.npy", np.ones((3, 4)))
    assert main(["metric", str(tmp_path / "w.npy"), "--latents", "2"]) == 2
    _one_line(capsys, "shape 3 x 4", "square")


def test_a_covariance_file_with_samples_is_refused(tmp_path, capsys):
    rng = np.random.default_rng(0)
    np.save(tmp_path / "x.npy", rng.standard_normal((50, 2)))
    np.save(tmp_path / "v.npy", rng.standard_normal((50, 2)))
    np.save(tmp_path / "c.npy", np.eye(4))
    assert main(["metric", str(tmp_path / "c.npy"), "--samples", str(tmp_path / "x.npy"),
                 str(tmp_path / "v.npy")]) == 2
    _one_line(capsys, "not both")


def test_json_groupings_count_from_1_like_the_table_and_truth(tmp_path, capsys):
    sc = lg.talk_scenario((3, 4, 3), 2)
    res = lg.blahut_arimoto(sc.model, sc.n_latents, 1.0, 0.01, decoder_noise="isotropic", rng=0)
    np.save(tmp_path / "c.npy", sc.model.joint_covariance(res.B, res.sigma_w))
    argv = ["metric", str(tmp_path / "c.npy"), "--latents", "3", "--truth", "1,2|3"]
    assert main(argv + ["--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    direct = lg.im_score(sc.model.joint_covariance(res.B, res.sigma_w), 3)
    assert out["metrics"]["im"]["grouping"] == [[j + 1 for j in g] for g in direct.grouping]
    assert out["metrics"]["im"]["grouping"] == [[1, 2], [3]]     # the --truth spelling
    assert out["success"]["im"] == "success" and "from 1" in out["source"]["numbering"]


@pytest.mark.parametrize("method, shown", [("exact", "method exact"), ("partition", "method partition"),
                                           ("exhaustive", "method exhaustive"), ("dp", "method dp")])
def test_the_im_method_is_reported_as_asked(tmp_path, capsys, method, shown):
    np.save(tmp_path / "c.npy", lg.talk_scenario((3, 4, 3), 1).model.joint_covariance(
        np.eye(3, 4), np.eye(3)))
    assert main(["metric", str(tmp_path / "c.npy"), "--latents", "3", "--method", method]) == 0
    line = next(l for l in capsys.readouterr().out.splitlines() if l.startswith("I_m"))
    assert shown in line


def test_sweep_decoder_noise_all_runs_every_named_family(capsys):
    from lingauss.noise_families import NAMED_FAMILIES

    assert main(["sweep", "--decoder-noise", "all", "--size", "343", "--scenario", "1",
                 "--gammas", "1", "--lams", "0", "--executor", "none", "--quiet"]) == 0
    out = capsys.readouterr().out
    assert f"{len(NAMED_FAMILIES)} points" in out
    assert all(f" {fam} " in out for fam in NAMED_FAMILIES)


def test_sweep_out_with_another_format_is_refused_before_work(tmp_path, capsys):
    assert main(["sweep", "--size", "343", "--scenario", "1", "--gammas", "1", "--lams", "0",
                 "--executor", "none", "--quiet", "--out", str(tmp_path / "table.xlsx")]) == 2
    _one_line(capsys, ".csv or .jsonl")
    assert not (tmp_path / "table.xlsx").exists()


def test_solve_with_a_bad_noise_variance_prints_only_the_error(capsys):
    assert main(["solve", "--noise-var", "-1"]) == 2
    _one_line(capsys, "noise_var")


def test_train_resume_without_a_checkpoint_is_refused(tmp_path, capsys):
    pytest.importorskip("torch")
    assert main(["train", "vae", "--resume", "--out", str(tmp_path), "--quiet"]) == 2
    _one_line(capsys, "--resume", "no checkpoint")
    assert not (tmp_path / "report.json").exists()


def test_shrinkage_help_and_error_give_the_same_range(capsys, tmp_path):
    metric = build_parser()._subparsers._group_actions[0].choices["metric"]
    help_text = next(a.help for a in metric._actions if "--shrinkage" in a.option_strings)
    assert "[0, 1]" in help_text
    rng = np.random.default_rng(0)
    np.save(tmp_path / "x.npy", rng.standard_normal((50, 2)))
    np.save(tmp_path / "v.npy", rng.standard_normal((50, 2)))
    for bad in ("lots", "1.5"):
        assert main(["metric", "--samples", str(tmp_path / "x.npy"), str(tmp_path / "v.npy"),
                     "--shrinkage", bad]) == 2
        assert "[0, 1]" in capsys.readouterr().err


def test_version(capsys):
    with pytest.raises(SystemExit) as e:
        main(["--version"])
    assert e.value.code == 0 and capsys.readouterr().out.strip() == f"lingauss {lg.__version__}"
