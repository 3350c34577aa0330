"""The layers under the optimizer classes: Hyper is the one description of a state's
hyperparameters, and it survives the trip through swiftadam_config unchanged."""
import itertools

import numpy as np

import swiftadam
from swiftadam._native import DTYPES, EXTENSIONS, TORCH_KEYS, Hyper, NativeState


def test_hyper_round_trips_through_the_config_and_a_state():
    for flags in itertools.product([False, True], repeat=4):
        for flavor, dtype in itertools.product(["torch", "keras"], DTYPES):
            h = Hyper(0.25, (0.5, 0.75), 1e-6, 0.125, *flags, flavor=flavor)
            assert Hyper.from_config(h.to_config()) == h
            params = [np.ones(n, dtype) for n in (3, 0, 5)]  # a 16-bit state's master starts from them
            state = NativeState.create([3, 0, 5], h, dtype, params)
            assert state.hyper() == h and state.dtype == dtype
            assert state.free() == 0 and state.free() == 0 and state.handle is None


def test_group_keys_are_torchs_plus_extensions_where_set():
    assert TORCH_KEYS == ("lr", "betas", "eps", "weight_decay", "amsgrad", "maximize",
                          "decoupled_weight_decay")
    assert EXTENSIONS == {"bias_correction": True, "flavor": "torch"}
    h = Hyper(1e-3, (0.9, 0.999), 1e-8, 0.0, False, False, False)
    assert list(h.group_items()) == list(TORCH_KEYS)
    assert h._replace(bias_correction=False).group_items()["bias_correction"] is False
    assert h._replace(flavor="keras").group_items()["flavor"] == "keras"
    opt = swiftadam.Adam([np.zeros(2, np.float32)])
    assert set(opt.param_groups[0]) == {"params", *TORCH_KEYS}
