"""Shared torch helpers: device, eval mode, the stride-2 convolution stacks."""

import pytest

torch = pytest.importorskip("torch")
from torch import nn  # noqa: E402

from neural.torch_utils import (DeviceMixin, conv_stack, deconv_stack, eval_mode, model_device,  # noqa: E402
                                stack_side)


@pytest.mark.parametrize("size, channels", [(16, (8, 16)), (32, (4, 8, 8)), (64, (3, 3, 3, 3))])
@pytest.mark.parametrize("batch_norm", [False, True])
def test_stacks_halve_and_double_the_side(size, channels, batch_norm):
    enc = nn.Sequential(*conv_stack(3, channels, batch_norm=batch_norm))
    h = enc(torch.zeros(2, 3, size, size))
    side = stack_side(size, len(channels))
    assert h.shape == (2, channels[-1], side, side) == (2, channels[-1], size // 2 ** len(channels), size // 2 ** len(channels))
    dec = nn.Sequential(*deconv_stack(channels[::-1], 5, batch_norm=batch_norm))
    assert dec(h).shape == (2, 5, size, size)
    # an activation after every conv; none after the last transposed conv (raw logits out)
    assert isinstance(enc[-1], nn.ReLU) and isinstance(dec[-1], nn.ConvTranspose2d)
    assert sum(isinstance(m, nn.BatchNorm2d) for m in enc) == (len(channels) if batch_norm else 0)


def test_stack_side_refuses_sizes_that_do_not_halve_exactly():
    with pytest.raises(ValueError, match="multiple of 2\\*\\*3"):
        stack_side(20, 3)


def test_eval_mode_restores_the_callers_mode_even_on_error():
    m = nn.Sequential(nn.BatchNorm1d(2))
    for start in (True, False):
        m.train(start)
        with pytest.raises(RuntimeError):
            with eval_mode(m):
                assert not m.training
                raise RuntimeError
        assert m.training is start
    with eval_mode(object()) as obj:            # no train/eval: passes through
        assert obj is not None


def test_device_of_a_module_and_of_a_parameterless_stand_in():
    class M(DeviceMixin, nn.Module):
        def __init__(self):
            super().__init__()
            self.w = nn.Parameter(torch.zeros(1))

    assert M().device == torch.device("cpu") == model_device(object()) == model_device(nn.ReLU())
