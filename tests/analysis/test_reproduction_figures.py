"""The reproduction's figures drawn beside this process by worker processes: every job drawn once,
files listed in the jobs' order, the workers drawing from the start (before this process joins),
their errors raised here, the same bytes as when drawn here, forked or new interpreters."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from analysis import pools
from analysis.protocol import Protocol
from analysis.reproduction import reproduce
from analysis.reproduction_figures import Drawing, draw, start_drawers

ROOT = str(Path(__file__).resolve().parents[2])


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


def _failing_job(path, *, formats):
    raise ValueError(f"cannot draw {path.name}")


def test_workers_draw_from_start_and_this_process_joins_at_finish(drawers, tmp_path):
    jobs = [(_pid_job, (tmp_path / f"fig{k}",), dict(formats=("png",), seconds=0.2)) for k in range(6)]
    drawing = Drawing(jobs, drawers=drawers).start()
    time.sleep(1.0)                                   # this process busy elsewhere (the sensitivity runs)
    joined = time.monotonic()
    files = drawing.finish()
    assert files == [tmp_path / f"fig{k}" for k in range(6)]
    stamps = [(int(pid), float(t)) for pid, t in (f.read_text().split() for f in files)]
    before = [pid for pid, t in stamps if t < joined]
    assert before and os.getpid() not in before       # the worker drew before this process joined
    assert len(before) >= 3                           # one after the other, not one job and wait


def test_an_error_in_a_worker_is_raised_by_finish(drawers, tmp_path):
    jobs = [(_failing_job, (tmp_path / "bad",), dict(formats=("png",)))]
    jobs += [(_pid_job, (tmp_path / f"fig{k}",), dict(formats=("png",), seconds=0.05)) for k in range(3)]
    drawing = Drawing(jobs, drawers=drawers).start()
    time.sleep(0.5)                                   # the worker takes the failing job first
    with pytest.raises(ValueError, match="cannot draw bad"):
        drawing.finish()


def _compare_here_and_pooled(out, reproduce=reproduce):
    """Figures drawn by this process alone vs with drawing workers: same names, same bytes."""
    kw = dict(sizes=[(3, 4, 3)], gammas=(0.99, 1.0), lams=(0.0, 0.01), seeds=(0,), executor=None,
              progress=False, baselines=False, sensitivity="none")
    # pooled first: a run leaves tqdm's monitor thread behind, and a process with a second thread
    # is never forked
    pooled = reproduce(Protocol(decoder_noise="isotropic"), out=out / "pooled", **kw)
    here = reproduce(Protocol(decoder_noise="isotropic"), out=out / "here", n_workers=1, **kw)
    a = [p for p in here.files if p.parent.name == "figures"]
    b = [p for p in pooled.files if p.parent.name == "figures"]
    assert [p.name for p in a] == [p.name for p in b] and len(a) == 4
    for p, q in zip(a, b):
        assert p.read_bytes() == q.read_bytes(), p.name


def test_new_interpreter_drawers_and_this_process_write_the_same_figures(tmp_path, monkeypatch):
    monkeypatch.setattr(pools, "can_fork", lambda: False)
    started = []
    monkeypatch.setattr(pools, "forked_pool", lambda *a, **k: started.append(a))
    _compare_here_and_pooled(tmp_path)
    assert not started


_FORKED = """
import sys
from pathlib import Path
sys.path.insert(0, {tests!r})
from analysis import pools
from test_reproduction_figures import _compare_here_and_pooled

forks = []
real = pools.forked_pool
pools.forked_pool = lambda *a, **k: forks.append(a) or real(*a, **k)
_compare_here_and_pooled(Path({out!r}))
print("forked", len(forks))
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="drawers are forked on Linux only")
def test_forked_drawers_and_this_process_write_the_same_figures(tmp_path):
    """In a fresh process: pytest may run threads, where drawers are new interpreters instead."""
    script = _FORKED.format(tests=str(Path(__file__).parent), out=str(tmp_path))
    proc = subprocess.run([sys.executable, "-c", script], cwd=tmp_path, capture_output=True, text=True,
                          timeout=600, env={**os.environ, "PYTHONPATH": ROOT + os.pathsep + os.environ.get("PYTHONPATH", "")})
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split()[-2:] == ["forked", "1"]


def _session_processes(sid):
    import psutil

    out = []
    for p in psutil.process_iter(["pid"]):
        try:
            if os.getsid(p.pid) == sid and p.status() != psutil.STATUS_ZOMBIE:
                out.append(p.pid)
        except (OSError, psutil.Error):
            pass
    return out


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="sessions and /proc")
@pytest.mark.parametrize("moment", ["solving", "drawing"])
def test_ctrl_c_while_the_workers_draw_is_one_line_and_leaves_no_process(tmp_path, moment):
    """Ctrl-C to the process group (a terminal's) while the sweep solves beside the started
    drawing worker, or while both draw: exit 130, one line, no process of the run left."""
    env = {**os.environ, "PYTHONPATH": ROOT + os.pathsep + os.environ.get("PYTHONPATH", "")}
    out = tmp_path / "run"
    proc = subprocess.Popen([sys.executable, "-m", "analysis.cli", "reproduce", "--out", str(out)], env=env,
                            cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True)
    try:
        mark = out / ("sweep.jsonl" if moment == "solving" else "report.md")   # the text before the figures
        deadline = time.monotonic() + 300
        while not mark.exists() and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.005)
        if moment == "solving":
            time.sleep(0.2)
        if proc.poll() is not None:
            pytest.skip("the run ended before the interrupt (a fast machine)")
        os.killpg(proc.pid, signal.SIGINT)
        _, err = proc.communicate(timeout=60)
        assert proc.returncode == 130, err
        lines = [ln for ln in err.decode().splitlines() if ln.strip() and "sweep:" not in ln]
        assert lines[-1:] == ["interrupted"] and not any("Traceback" in ln for ln in lines), lines
        deadline = time.monotonic() + 5
        while _session_processes(proc.pid) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert _session_processes(proc.pid) == []
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
