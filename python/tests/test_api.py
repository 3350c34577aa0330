"""The torch.optim-like surface: param_groups, in-place updates, grads, life cycle."""
import gc
import subprocess
import sys
import weakref

import numpy as np
import pytest

import swiftadam
from adam_reference import random_grad

HYPER = ("lr", "betas", "eps", "weight_decay", "amsgrad", "maximize", "decoupled_weight_decay")


def hyper(group):
    return {k: group[k] for k in HYPER}


def test_param_groups_defaults_like_torch():
    a, b, c = (np.zeros(n, np.float32) for n in (2, 3, 4))
    opt = swiftadam.Adam([a, b])
    assert len(opt.param_groups) == 1
    g = opt.param_groups[0]
    assert set(g) == {"params", *HYPER}
    assert g["params"][0] is a and g["params"][1] is b
    assert hyper(g) == dict(lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, amsgrad=False,
                            maximize=False, decoupled_weight_decay=False)
    w = swiftadam.AdamW([c])
    assert hyper(w.param_groups[0]) == dict(lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2,
                                            amsgrad=False, maximize=False, decoupled_weight_decay=True)
    assert isinstance(w, swiftadam.Adam)
    # groups: missing keys come from the constructor, extra keys are kept (as torch)
    opt = swiftadam.Adam([{"params": [a], "lr": 0.5, "name": "encoder"}, {"params": b}],
                         lr=0.1, amsgrad=True)
    g0, g1 = opt.param_groups
    assert g0["lr"] == 0.5 and g0["name"] == "encoder" and g0["amsgrad"] is True
    assert g1["lr"] == 0.1 and g1["params"] == [b] and g1["params"][0] is b
    assert opt.defaults["lr"] == 0.1
    assert "Parameter Group 1" in repr(opt) and "lr: 0.5" in repr(opt)


def test_params_are_updated_in_place():
    p = np.zeros((2, 3), np.float32)
    view = p.reshape(6)
    opt = swiftadam.Adam([p], lr=0.1)
    opt.step([np.ones((2, 3), np.float32)])
    assert np.allclose(p, -0.1) and np.allclose(view, -0.1)
    assert opt.param_groups[0]["params"][0] is p


def test_optimizer_keeps_its_params_alive():
    opt = swiftadam.Adam([np.ones(1000, np.float32)], lr=0.1)
    gc.collect()
    np.zeros(1000, np.float32)  # reuse freed memory if it were freed
    opt.step([np.ones(1000, np.float32)])
    assert np.allclose(opt.param_groups[0]["params"][0], 0.9)


def test_grads_are_converted_not_required_float32():
    rng = np.random.default_rng(0)
    g64 = [rng.standard_normal((5, 7)) for _ in range(3)]
    p1, p2 = np.ones((5, 7), np.float32), np.ones((5, 7), np.float32)
    o1, o2 = swiftadam.Adam([p1], lr=0.01), swiftadam.Adam([p2], lr=0.01)
    for g in g64:
        o1.step([g])  # float64: converted (rounded to float32)
        o2.step([g.astype(np.float32)])
    assert np.array_equal(p1, p2)
    # non-contiguous, read-only, Fortran-order, nested lists, integers, python scalars
    base = rng.standard_normal((5, 14)).astype(np.float32)
    strided = base[:, ::2]
    ro = np.ascontiguousarray(strided)
    ro.flags.writeable = False
    fortran = np.asfortranarray(strided)
    for g in (strided, ro, fortran, strided.tolist()):
        q1, q2 = np.ones((5, 7), np.float32), np.ones((5, 7), np.float32)
        swiftadam.Adam([q1]).step([g])
        swiftadam.Adam([q2]).step([np.ascontiguousarray(strided)])
        assert np.array_equal(q1, q2)
    s = np.ones((), np.float32)
    swiftadam.Adam([s], lr=0.5).step([3])
    assert s == np.float32(0.5)
    t = np.ones((), np.float32)
    swiftadam.Adam([t], lr=0.5).step([np.float64(-2.0)])
    assert t == np.float32(1.5)
    # an unaligned float32 grad is copied, not read misaligned
    raw = np.frombuffer(bytearray(4 * 35 + 1), dtype=np.float32, offset=1, count=35).reshape(5, 7)
    assert not raw.flags.aligned
    u = np.ones((5, 7), np.float32)
    swiftadam.Adam([u]).step([raw])
    assert np.array_equal(u, np.ones((5, 7), np.float32))  # zero grads: Adam leaves p


def test_none_grad_skips_the_tensor():
    a, b = np.ones(3, np.float32), np.ones(4, np.float32)
    opt = swiftadam.Adam([a, b], lr=0.1)
    opt.step([np.ones(3, np.float32), None])
    opt.step([np.ones(3, np.float32), None])
    opt.step([None, np.ones(4, np.float32)])
    st = opt.state_dict()["state"]
    assert st[0]["step"] == 2.0 and st[1]["step"] == 1.0
    # b's single step used t = 1: its first update is exactly lr (torch's bias correction)
    assert np.allclose(b, 0.9, atol=1e-6)
    opt.step([None, None])  # all None: nothing happens
    assert opt.state_dict()["state"][1]["step"] == 1.0
    assert opt.step((np.ones(3, np.float32), None)) is True  # a tuple of grads works


def test_single_tensor_path_equals_group_path():
    rng = np.random.default_rng(1)
    shapes = [(4096,), (100,)]
    alone = [np.ones(s, np.float32) for s in shapes]
    grouped = [np.ones(s, np.float32) for s in shapes]
    o1 = swiftadam.Adam([{"params": [alone[0]]}, {"params": [alone[1]]}], lr=1e-2, amsgrad=True)
    o2 = swiftadam.Adam(grouped, lr=1e-2, amsgrad=True)
    for _ in range(20):
        gs = [random_grad(rng, s) for s in shapes]
        o1.step(gs)
        o2.step(gs)
    assert all(np.array_equal(x, y) for x, y in zip(alone, grouped))


def test_empty_params_work():
    e = np.zeros(0, np.float32)
    e2 = np.zeros((3, 0), np.float32)
    p = np.ones(3, np.float32)
    opt = swiftadam.Adam([e, p, e2], lr=0.1)
    opt.step([np.zeros(0, np.float32), np.ones(3, np.float32), np.zeros((3, 0))])
    assert np.allclose(p, 0.9)
    solo = swiftadam.Adam([np.zeros(0, np.float32)])
    assert solo.step([np.zeros(0, np.float32)]) is True
    assert solo.state_dict()["state"][0]["exp_avg"].shape == (0,)
    again = swiftadam.Adam.from_bytes(solo.to_bytes(), [np.zeros(0, np.float32)])
    assert again.state_dict()["state"][0]["step"] == 1.0


def test_add_param_group():
    a, b = np.ones(2, np.float32), np.ones(3, np.float32)
    opt = swiftadam.Adam([a], lr=0.1)
    opt.step([np.ones(2, np.float32)])
    opt.add_param_group({"params": [b], "lr": 0.2})
    assert opt.param_groups[1]["lr"] == 0.2 and opt.param_groups[1]["eps"] == 1e-8
    with pytest.raises(ValueError, match="expected 2 grads"):
        opt.step([np.ones(2, np.float32)])
    opt.step([None, np.ones(3, np.float32)])
    assert np.allclose(b, 0.8) and np.allclose(a, 0.9)
    with pytest.raises(ValueError, match="more than once"):
        opt.add_param_group({"params": [a]})
    with pytest.raises(ValueError, match=r"params\[2\] is read-only"):
        ro = np.ones(1, np.float32)
        ro.flags.writeable = False
        opt.add_param_group({"params": [ro]})
    assert len(opt.param_groups) == 2


def test_close_and_context_manager():
    p = np.ones(3, np.float32)
    with swiftadam.Adam([p]) as opt:
        opt.step([np.ones(3, np.float32)])
        assert not opt.closed
    assert opt.closed
    opt.close()  # idempotent
    opt.close()
    with pytest.raises(ValueError, match="closed"):
        opt.step([np.ones(3, np.float32)])


def test_del_frees_and_drops_references():
    p = np.ones(3, np.float32)
    opt = swiftadam.Adam([p])
    ref = weakref.ref(opt)
    del opt
    gc.collect()
    assert ref() is None


def test_interpreter_shutdown_is_clean():
    code = (
        "import numpy as np, swiftadam\n"
        "keep = [swiftadam.Adam([np.ones(10, np.float32)]) for _ in range(50)]\n"
        "cycle = swiftadam.Adam([np.ones(3, np.float32)]); cycle.me = cycle\n"
        "for _ in range(1000):\n"
        "    swiftadam.AdamW([np.ones(100, np.float32)], amsgrad=True).step([np.ones(100, np.float32)])\n"
        "print('ok')\n"
    )
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert r.returncode == 0 and r.stdout.strip() == "ok"
    assert r.stderr == "", r.stderr


def test_lr_change_takes_effect_between_steps():
    p, q = np.zeros(4, np.float32), np.zeros(4, np.float32)
    opt = swiftadam.Adam([{"params": [p]}, {"params": [q]}], lr=0.1)
    opt.step([np.ones(4, np.float32), np.ones(4, np.float32)])
    opt.param_groups[1]["lr"] = 0.0
    opt.step([np.ones(4, np.float32), np.ones(4, np.float32)])
    assert np.allclose(p, -0.2) and np.allclose(q, -0.1)
    opt.param_groups[1]["lr"] = np.float32(0.5)  # numpy scalars work
    opt.param_groups[1]["betas"] = np.array([0.9, 0.999])
    opt.step([np.ones(4, np.float32), np.ones(4, np.float32)])
    assert np.allclose(q, -0.6)


def test_float32_grads_go_straight_through(monkeypatch):
    """float32 C-contiguous grads are passed by address, never copied; others are copied."""
    from swiftadam import _checks

    copied = []
    real = _checks.grad
    monkeypatch.setattr(_checks, "grad", lambda g, i, *rest: copied.append(i) or real(g, i, *rest))
    ps = [np.ones(s, np.float32) for s in [(64,), (2, 3), ()]]
    solo = swiftadam.Adam([np.ones(64, np.float32)])
    group = swiftadam.Adam(ps)
    for _ in range(3):
        solo.step([np.ones(64, np.float32)])
        group.step([np.ones(s, np.float32) for s in [(64,), (2, 3), ()]])
    assert copied == []
    group.step([np.ones(64), np.ones((2, 3), np.float32), np.ones((), np.float32)])
    solo.step([np.ones(128, np.float32)[::2]])
    assert copied == [0, 0]
