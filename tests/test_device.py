import pytest
import torch

from gan.device import pick_device
from gan.errors import InvalidInputError


def test_explicit_cpu_and_auto():
    assert pick_device("cpu") == torch.device("cpu")
    expected = "cuda" if torch.cuda.is_available() else ("mps" if torch.backends.mps.is_available() else "cpu")
    assert pick_device("auto").type == expected
    assert pick_device(None).type == expected


def test_unknown_or_unavailable_devices_are_refused():
    with pytest.raises(InvalidInputError, match="unknown device 'banana'"):
        pick_device("banana")
    if not torch.cuda.is_available():
        with pytest.raises(InvalidInputError, match="no CUDA GPU"):
            pick_device("cuda")
