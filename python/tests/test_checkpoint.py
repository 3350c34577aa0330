"""state_dict / save / to_bytes: resuming mid-run continues bit-identically."""
import numpy as np
import pytest

import swiftadam
from adam_reference import assert_state_dicts_equal, random_grad

SHAPES = [(33,), (4, 5), (), (0,), (300,)]


def grad_stream(seed, shapes, steps, late=None):
    """The same grads for every run: a list per step (None for `late` before step 20)."""
    rng = np.random.default_rng(seed)
    out = []
    for t in range(steps):
        out.append([None if (i == late and t < 20) or (i == late and t == 60) else random_grad(rng, s)
                    for i, s in enumerate(shapes)])
    return out


def params_for(seed, shapes):
    rng = np.random.default_rng(seed)
    return [rng.uniform(-1, 1, size=s).astype(np.float32) for s in shapes]


def schedule(opt, t):
    for g in opt.param_groups:
        g["lr"] = 1e-2 * 0.98 ** t


def run(opt, grads, start, stop):
    for t in range(start, stop):
        schedule(opt, t)
        assert opt.step(grads[t])


def assert_params_identical(a, b):
    assert len(a) == len(b)
    for i, (x, y) in enumerate(zip(a, b)):
        assert x.dtype == y.dtype == np.float32 and x.shape == y.shape
        assert np.array_equal(x, y), f"param {i} differs after resuming"


OPTIMIZERS = {
    "adam": lambda ps: swiftadam.Adam(ps, lr=1e-2),
    "adamw_amsgrad": lambda ps: swiftadam.AdamW(ps, lr=1e-2, amsgrad=True),
    "adam_l2_maximize": lambda ps: swiftadam.Adam(ps, lr=1e-2, weight_decay=0.01, maximize=True),
}


@pytest.mark.parametrize("name", sorted(OPTIMIZERS))
@pytest.mark.parametrize("how", ["state_dict", "save", "to_bytes"])
def test_resume_is_bit_identical(tmp_path, name, how):
    """Run 50 steps, checkpoint, continue 50; a fresh optimizer restored from the
    checkpoint, continued with the same grads, gives bit-identical params."""
    build = OPTIMIZERS[name]
    grads = grad_stream(7, SHAPES, 100, late=1)  # param 1: first grad at step 20, skips step 60
    params = params_for(3, SHAPES)
    opt = build(params)
    run(opt, grads, 0, 50)
    saved_params = [p.copy() for p in params]
    if how == "state_dict":
        ckpt = opt.state_dict()
    elif how == "save":
        ckpt = tmp_path / "opt.ckpt"
        opt.save(ckpt)
        assert ckpt.is_file() and not (tmp_path / "opt.ckpt.tmp").exists()
    else:
        ckpt = opt.to_bytes()
        assert isinstance(ckpt, bytes)
    run(opt, grads, 50, 100)

    resumed_params = [p.copy() for p in saved_params]
    if how == "state_dict":
        # A fresh optimizer with other hyperparameters: load_state_dict takes the saved ones.
        fresh = swiftadam.Adam(resumed_params, lr=0.5, betas=(0.5, 0.5), amsgrad=not opt.param_groups[0]["amsgrad"])
        fresh.load_state_dict(ckpt)
    elif how == "save":
        fresh = type(opt).load(ckpt, resumed_params)
    else:
        fresh = type(opt).from_bytes(ckpt, resumed_params)
    assert fresh.param_groups[0]["params"][0] is resumed_params[0]
    run(fresh, grads, 50, 100)
    assert_params_identical(params, resumed_params)
    assert_state_dicts_equal(opt.state_dict(), fresh.state_dict())
    assert opt.to_bytes() == fresh.to_bytes()  # every native byte, steps and config included
    # Without the checkpoint the continuation would differ: the test can fail.
    cold = [p.copy() for p in saved_params]
    cold_opt = build(cold)
    run(cold_opt, grads, 50, 100)
    assert not all(np.array_equal(a, b) for a, b in zip(params, cold) if a.size)
    for o in (opt, fresh, cold_opt):
        o.close()


def test_state_dict_round_trip_with_param_groups():
    shapes_a, shapes_b = [(40,), (3, 3)], [(17,), (), (0,)]
    grads = grad_stream(11, shapes_a + shapes_b, 100, late=3)
    pa, pb = params_for(1, shapes_a), params_for(2, shapes_b)

    def build(a, b):
        return swiftadam.Adam([{"params": a}, {"params": b, "amsgrad": True, "lr": 3e-3,
                                                "weight_decay": 0.1, "decoupled_weight_decay": True}],
                              lr=1e-2)

    opt = build(pa, pb)
    for t in range(50):
        opt.step(grads[t])
    sd = opt.state_dict()
    saved = [p.copy() for p in pa + pb]
    for t in range(50, 100):
        opt.param_groups[1]["lr"] = 3e-3 * 0.97 ** t
        opt.step(grads[t])
    ra, rb = [p.copy() for p in saved[:2]], [p.copy() for p in saved[2:]]
    fresh = build(ra, rb)
    fresh.load_state_dict(sd)
    for t in range(50, 100):
        fresh.param_groups[1]["lr"] = 3e-3 * 0.97 ** t
        fresh.step(grads[t])
    assert_params_identical(pa + pb, ra + rb)
    assert_state_dicts_equal(opt.state_dict(), fresh.state_dict())


def test_state_dict_layout_is_torchs():
    ps = params_for(5, [(6,), (2, 3), (4,)])
    opt = swiftadam.Adam(ps, lr=1e-2, amsgrad=True)
    g = [np.ones(p.shape, np.float32) for p in ps]
    opt.step([g[0], g[1], None])
    opt.step([g[0], None, None])
    sd = opt.state_dict()
    assert set(sd) == {"state", "param_groups"}
    assert sorted(sd["state"]) == [0, 1]  # param 2 was never stepped: no entry (as torch)
    assert sd["state"][0]["step"] == 2.0 and isinstance(sd["state"][0]["step"], float)
    assert sd["state"][1]["step"] == 1.0
    for i in (0, 1):
        entry = sd["state"][i]
        assert set(entry) == {"step", "exp_avg", "exp_avg_sq", "max_exp_avg_sq"}
        for key in ("exp_avg", "exp_avg_sq", "max_exp_avg_sq"):
            assert entry[key].shape == ps[i].shape and entry[key].dtype == np.float32
    # after one step with grad 1: exp_avg = 0.1, exp_avg_sq = 0.001 (torch's values)
    assert np.allclose(sd["state"][1]["exp_avg"], 0.1) and np.allclose(sd["state"][1]["exp_avg_sq"], 0.001)
    assert sd["param_groups"] == [{"lr": 1e-2, "betas": (0.9, 0.999), "eps": 1e-8, "weight_decay": 0.0,
                                   "amsgrad": True, "maximize": False, "decoupled_weight_decay": False,
                                   "params": [0, 1, 2]}]
    # copies, not views of the state
    sd["state"][0]["exp_avg"][:] = 123
    sd["param_groups"][0]["lr"] = 5.0
    sd2 = opt.state_dict()
    assert not np.any(sd2["state"][0]["exp_avg"] == 123)
    assert opt.param_groups[0]["lr"] == 1e-2
    no_ams = swiftadam.Adam([np.zeros(3, np.float32)])
    no_ams.step([np.ones(3, np.float32)])
    assert set(no_ams.state_dict()["state"][0]) == {"step", "exp_avg", "exp_avg_sq"}


def test_load_state_dict_takes_hyperparameters_and_accepts_other_types():
    ps = params_for(1, [(8,)])
    opt = swiftadam.Adam(ps, lr=1e-2)
    opt.step([np.ones(8, np.float32)])
    sd = opt.state_dict()
    sd["param_groups"][0]["lr"] = 0.25
    sd["param_groups"][0]["betas"] = (0.5, 0.75)
    entry = sd["state"][0]
    entry["step"] = np.float32(7)  # torch keeps a float tensor; any number works
    entry["exp_avg"] = entry["exp_avg"].astype(np.float64).tolist()  # converted to float32
    other = swiftadam.Adam([ps[0].copy()], lr=1e-3)
    other.load_state_dict(sd)
    assert other.param_groups[0]["lr"] == 0.25 and other.param_groups[0]["betas"] == (0.5, 0.75)
    got = other.state_dict()["state"][0]
    assert got["step"] == 7.0
    assert np.array_equal(got["exp_avg"], opt.state_dict()["state"][0]["exp_avg"])
    # and the native state uses the loaded hyperparameters: a checkpoint round trip shows them
    back = swiftadam.Adam.from_bytes(other.to_bytes(), [ps[0].copy()])
    assert back.param_groups[0]["lr"] == 0.25 and back.param_groups[0]["betas"] == (0.5, 0.75)


def test_checkpoint_carries_hyperparameters_and_pending_changes(tmp_path):
    p = np.zeros(10, np.float32)
    opt = swiftadam.AdamW([p], lr=1e-2, betas=(0.8, 0.9), eps=1e-6, weight_decay=0.3, amsgrad=True,
                          maximize=True)
    opt.step([np.ones(10, np.float32)])
    opt.param_groups[0]["lr"] = 0.125  # not yet pushed by a step: save() applies it first
    opt.save(tmp_path / "c.ckpt")
    for restored in (swiftadam.Adam.load(tmp_path / "c.ckpt", [p.copy()]),
                     swiftadam.Adam.from_bytes(opt.to_bytes(), [p.copy()])):
        g = restored.param_groups[0]
        assert {k: v for k, v in g.items() if k != "params"} == {
            "lr": 0.125, "betas": (0.8, 0.9), "eps": 1e-6, "weight_decay": 0.3, "amsgrad": True,
            "maximize": True, "decoupled_weight_decay": True}


def test_load_with_overrides(tmp_path):
    p = np.zeros(10, np.float32)
    opt = swiftadam.Adam([p], lr=1e-2)
    opt.step([np.ones(10, np.float32)])
    opt.save(str(tmp_path / "c.ckpt"))  # str paths work too
    r = swiftadam.Adam.load(tmp_path / "c.ckpt", [p.copy()], lr=1e-4, weight_decay=0.5)
    assert r.param_groups[0]["lr"] == 1e-4 and r.param_groups[0]["weight_decay"] == 0.5
    back = swiftadam.Adam.from_bytes(r.to_bytes(), [p.copy()])  # pushed to the native state
    assert back.param_groups[0]["lr"] == 1e-4 and back.param_groups[0]["weight_decay"] == 0.5
    with pytest.raises(ValueError, match="amsgrad"):
        swiftadam.Adam.load(tmp_path / "c.ckpt", [p.copy()], amsgrad=True)
    with pytest.raises(ValueError, match="Invalid learning rate: -1.0"):
        swiftadam.Adam.load(tmp_path / "c.ckpt", [p.copy()], lr=-1.0)
    with pytest.raises(TypeError, match="unexpected keyword"):
        swiftadam.Adam.load(tmp_path / "c.ckpt", [p.copy()], momentum=0.9)


def test_load_state_dict_can_change_amsgrad():
    """torch creates state lazily, so loading an amsgrad state dict into a non-amsgrad
    optimizer works there; here the native state is rebuilt."""
    ps = params_for(2, [(50,)])
    a = swiftadam.Adam([ps[0]], lr=1e-2, amsgrad=True)
    grads = grad_stream(4, [(50,)], 40)
    for t in range(20):
        a.step(grads[t])
    sd = a.state_dict()
    q = ps[0].copy()
    b = swiftadam.Adam([q], lr=1e-2, amsgrad=False)
    b.load_state_dict(sd)
    assert b.param_groups[0]["amsgrad"] is True
    for t in range(20, 40):
        a.step(grads[t])
        b.step(grads[t])
    assert np.array_equal(ps[0], q)


def test_multi_group_checkpoint_files_are_not_supported(tmp_path):
    opt = swiftadam.Adam([{"params": [np.zeros(2, np.float32)]}, {"params": [np.zeros(3, np.float32)]}])
    with pytest.raises(NotImplementedError, match="state_dict"):
        opt.save(tmp_path / "x.ckpt")
    with pytest.raises(NotImplementedError, match="state_dict"):
        opt.to_bytes()
    assert not (tmp_path / "x.ckpt").exists()


def test_save_is_atomic_and_overwrites(tmp_path):
    p = np.zeros(64, np.float32)
    opt = swiftadam.Adam([p], lr=1e-2)
    path = tmp_path / "c.ckpt"
    opt.save(path)
    first = path.read_bytes()
    opt.step([np.ones(64, np.float32)])
    opt.save(path)
    second = path.read_bytes()
    assert first != second and second == opt.to_bytes()
    assert sorted(x.name for x in tmp_path.iterdir()) == ["c.ckpt"]
