"""Adam.step_flat: one packed grad buffer, bit-identical to step() with the same grads."""
import numpy as np
import pytest

import swiftadam


def _params(rng, shapes):
    return [rng.standard_normal(s).astype(np.float32) for s in shapes]


SHAPES = [(3, 4), (0,), (7,), (2, 2, 5), (1,)]


@pytest.mark.parametrize("amsgrad", [False, True])
def test_step_flat_equals_step_bit_for_bit(amsgrad):
    rng = np.random.default_rng(1)
    a = _params(rng, SHAPES)
    b = [p.copy() for p in a]
    groups_a = [{"params": a[:2], "lr": 1e-2}, {"params": a[2:], "weight_decay": 0.1}]
    groups_b = [{"params": b[:2], "lr": 1e-2}, {"params": b[2:], "weight_decay": 0.1}]
    oa = swiftadam.Adam(groups_a, amsgrad=amsgrad)
    ob = swiftadam.Adam(groups_b, amsgrad=amsgrad)
    total = sum(p.size for p in a)
    for step in range(20):
        flat = (rng.standard_normal(total) * 10.0 ** rng.uniform(-4, 1)).astype(np.float32)
        grads, k = [], 0
        for p in a:
            grads.append(flat[k:k + p.size].reshape(p.shape))
            k += p.size
        if step == 10:
            oa.param_groups[1]["lr"] = ob.param_groups[1]["lr"] = 3e-3   # schedules apply
        assert oa.step(grads) is True
        assert ob.step_flat(flat) is True
        for pa, pb in zip(a, b):
            assert pa.tobytes() == pb.tobytes()
    sa, sb = oa.state_dict(), ob.state_dict()
    for i in sa["state"]:
        for key in sa["state"][i]:
            assert np.array_equal(sa["state"][i][key], sb["state"][i][key])


def test_step_flat_rejects_without_touching_anything():
    rng = np.random.default_rng(2)
    ps = _params(rng, [(4,), (5,)])
    before = [p.copy() for p in ps]
    opt = swiftadam.Adam(ps)
    with pytest.raises(ValueError, match="must have 9 elements"):
        opt.step_flat(np.zeros(8, np.float32))
    with pytest.raises(TypeError, match="float32"):
        opt.step_flat(np.zeros(9, np.float64))
    with pytest.raises(TypeError, match="float32"):
        opt.step_flat([0.0] * 9)
    with pytest.raises(ValueError, match="C-contiguous"):
        opt.step_flat(np.zeros(18, np.float32)[::2])
    for p, q in zip(ps, before):
        assert p.tobytes() == q.tobytes()
    assert opt.state_dict()["state"] == {}


def test_step_flat_skip_nonfinite_skips_every_group():
    ps = [np.ones(3, np.float32), np.ones(2, np.float32)]
    opt = swiftadam.Adam([{"params": [ps[0]]}, {"params": [ps[1]]}])
    flat = np.ones(5, np.float32)
    flat[4] = np.inf                      # only the second group sees it
    assert opt.step_flat(flat, skip_if_nonfinite=True) is False
    assert all(np.array_equal(p, np.ones_like(p)) for p in ps)
    assert opt.state_dict()["state"] == {}
    flat[4] = 1
    assert opt.step_flat(flat, skip_if_nonfinite=True) is True
    assert all((p < 1).all() for p in ps)
