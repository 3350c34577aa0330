"""A float64 numpy reference of torch.optim.Adam / AdamW (single-tensor path), and helpers
shared by the tests."""
import math

import numpy as np


class RefParam:
    """One param of the reference: float64 copy of the value and its Adam state."""

    def __init__(self, value):
        self.p = np.array(value, dtype=np.float64)
        self.m = np.zeros_like(self.p)
        self.v = np.zeros_like(self.p)
        self.vmax = np.zeros_like(self.p)
        self.step = 0

    def update(self, grad, group):
        """torch.optim.Adam's _single_tensor_adam for one param, in float64."""
        lr, (b1, b2), eps = group["lr"], group["betas"], group["eps"]
        wd = group["weight_decay"]
        g = np.array(grad, dtype=np.float64)
        self.step += 1
        t = self.step
        if group["maximize"]:
            g = -g
        if wd != 0:
            if group["decoupled_weight_decay"]:
                self.p *= 1 - lr * wd
            else:
                g = g + wd * self.p
        self.m += (1 - b1) * (g - self.m)
        self.v = self.v * b2 + (1 - b2) * g * g
        bc1 = 1 - b1 ** t
        bc2 = 1 - b2 ** t
        if group["amsgrad"]:
            self.vmax = np.maximum(self.vmax, self.v)
            denom = np.sqrt(self.vmax) / math.sqrt(bc2) + eps
        else:
            denom = np.sqrt(self.v) / math.sqrt(bc2) + eps
        self.p -= (lr / bc1) * self.m / denom


def random_grad(rng, shape):
    """Grads spanning 1e-4..10 in magnitude, both signs, float32."""
    mag = 10.0 ** rng.uniform(-4.0, 1.0, size=shape)
    sign = np.where(rng.random(size=shape) < 0.5, -1.0, 1.0)
    return (mag * sign).astype(np.float32)


def rel_error(p, ref):
    """Norm-wise relative error ||p - ref|| / ||ref|| (element-wise relative error is
    meaningless for params that cross zero)."""
    p = np.asarray(p, dtype=np.float64)
    return float(np.linalg.norm(p - ref) / np.linalg.norm(ref))


def snapshot(opt, params):
    """Everything a failed call must leave untouched: param bytes, state, param_groups."""
    return ([p.tobytes() for p in params], opt.state_dict())


def assert_same_snapshot(a, b):
    pa, sa = a
    pb, sb = b
    assert pa == pb, "params changed"
    assert_state_dicts_equal(sa, sb)


def assert_state_dicts_equal(sa, sb):
    assert sorted(sa["state"]) == sorted(sb["state"]), "state entries differ"
    for k in sa["state"]:
        ea, eb = sa["state"][k], sb["state"][k]
        assert sorted(ea) == sorted(eb), f"state[{k}] keys differ"
        for key in ea:
            if key == "step":
                assert ea[key] == eb[key], f"state[{k}]['step'] {ea[key]} != {eb[key]}"
            else:
                assert ea[key].shape == eb[key].shape
                assert ea[key].tobytes() == eb[key].tobytes(), f"state[{k}][{key!r}] differs"
    assert sa["param_groups"] == sb["param_groups"], "param_groups differ"
