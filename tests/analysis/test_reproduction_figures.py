"""The reproduction's figures drawn beside this process by worker processes: every job drawn once,
files listed in the jobs' order, the same bytes as when drawn here."""

import os
import time

import pytest

from analysis.protocol import Protocol
from analysis.reproduction import reproduce
from analysis.reproduction_figures import draw, start_drawers


def _pid_job(path, *, formats, seconds):             # a stand-in figure: who drew it, when
    time.sleep(seconds)
    path.write_text(f"{os.getpid()} {time.monotonic()}")
    return [path]


@pytest.fixture(scope="module")
def drawers():
    pool = start_drawers(2)
    if pool is None:
        pytest.skip("one usable core: figures are drawn in this process")
    yield pool
    pool.shutdown()


def test_every_job_is_drawn_once_in_order_here_and_in_a_worker(drawers, tmp_path):
    jobs = [(_pid_job, (tmp_path / f"fig{k}",), dict(formats=("png",), seconds=0.15)) for k in range(8)]
    files = draw(jobs, drawers=drawers)
    assert files == [tmp_path / f"fig{k}" for k in range(8)]
    pids = [int(f.read_text().split()[0]) for f in files]
    assert os.getpid() in pids and len(set(pids)) == 2          # this process and its worker both drew


def test_pool_and_this_process_write_the_same_figures(tmp_path):
    kw = dict(sizes=[(3, 4, 3)], gammas=(0.99, 1.0), lams=(0.0, 0.01), seeds=(0,), executor=None,
              progress=False, baselines=False, sensitivity="none")
    here = reproduce(Protocol(decoder_noise="isotropic"), out=tmp_path / "here", n_workers=1, **kw)
    pooled = reproduce(Protocol(decoder_noise="isotropic"), out=tmp_path / "pooled", **kw)
    a = [p for p in here.files if p.parent.name == "figures"]
    b = [p for p in pooled.files if p.parent.name == "figures"]
    assert [p.name for p in a] == [p.name for p in b] and len(a) == 8
    for p, q in zip(a, b):
        assert p.read_bytes() == q.read_bytes(), p.name
