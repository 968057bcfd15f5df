"""Neural tests need torch (the ``neural`` extra); without it they are skipped cleanly.

Every neural test runs with one torch intra-op thread: on small CPU boxes the tiny convolutions of
these tests are up to ~100× slower with several threads competing (measured on the 2-core CI box).
"""

import importlib.util

import pytest

HAVE_TORCH = importlib.util.find_spec("torch") is not None
collect_ignore_glob = [] if HAVE_TORCH else ["test_*.py"]


@pytest.fixture(autouse=True)
def _one_torch_thread():
    if not HAVE_TORCH:
        yield
        return
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)
