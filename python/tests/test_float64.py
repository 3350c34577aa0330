"""float64 params (numpy's and scikit-learn's default) and the keras flavour from Python:
bit-identical to the header's formulas written in numpy float64, per dtype and flavour."""
import copy
import itertools
import pickle

import numpy as np
import pytest

import swiftadam
from adam_reference import assert_same_snapshot, assert_state_dicts_equal, snapshot


class Exact64:
    """include/swiftadam.h's update for a float64 state, op for op in numpy float64 (IEEE,
    no fused multiply-add, correctly rounded sqrt: the same bits as the library)."""

    def __init__(self, p, lr, betas, eps, weight_decay, amsgrad, maximize, decoupled_weight_decay,
                 bias_correction=True, flavor="torch"):
        self.p = p.copy()
        self.m, self.v, self.vmax = np.zeros_like(p), np.zeros_like(p), np.zeros_like(p)
        self.t = 0
        self.h = dict(lr=lr, b1=betas[0], b2=betas[1], eps=eps, wd=weight_decay, amsgrad=amsgrad,
                      maximize=maximize, decoupled=decoupled_weight_decay, bc=bias_correction, flavor=flavor)

    def step(self, g, **changes):
        h = {**self.h, **changes}
        lr, b1, b2, eps, wd = h["lr"], h["b1"], h["b2"], h["eps"], h["wd"]
        self.t += 1
        t = self.t
        p, m, v = self.p, self.m, self.v
        g = -g if h["maximize"] else g
        if wd != 0 and not h["decoupled"]:
            g = g + wd * p
        if h["flavor"] == "torch":
            if wd != 0 and h["decoupled"]:
                p = p * (1 - lr * wd)
            w1 = 1 - b1
            m = g - (g - m) * (1 - w1) if not abs(w1) < 0.5 else m + w1 * (g - m)
            v = v * b2 + ((1 - b2) * g) * g
        else:
            if wd != 0 and h["decoupled"]:
                p = p - p * wd * lr
            m = m + (g - m) * (1 - b1)
            v = v + (g * g - v) * (1 - b2)
        vhat = v
        if h["amsgrad"]:
            vhat = self.vmax = np.where(self.vmax > v, self.vmax, v)
        if h["flavor"] == "torch":
            bc1 = 1 - b1 ** t if h["bc"] else 1.0
            bc2 = 1 - b2 ** t if h["bc"] else 1.0
            p = p + ((-(lr / bc1)) * m) / (np.sqrt(vhat) / np.sqrt(bc2) + eps)
        else:
            alpha = lr * np.sqrt(1 - b2 ** float(t)) / (1 - b1 ** float(t)) if h["bc"] else lr
            p = p - (m * alpha) / (np.sqrt(vhat) + eps)
        self.p, self.m, self.v = p, m, v


OPTIONS = [dict(amsgrad=a, maximize=mx, decoupled_weight_decay=d, weight_decay=wd, bias_correction=bc)
           for a, mx, d, wd, bc in [(False, False, False, 0.0, True), (True, True, False, 0.05, True),
                                    (False, False, True, 0.1, True), (True, False, True, 0.01, False),
                                    (False, True, False, 0.02, False)]]
CASES = list(itertools.product(["torch", "keras"], range(len(OPTIONS)), [(0.9, 0.999), (0.3, 0.6)]))


@pytest.mark.parametrize("flavor, k, betas", CASES)
def test_float64_steps_are_the_formula_bit_for_bit(flavor, k, betas):
    rng = np.random.default_rng(k)
    shapes = [(37,), (4, 5), ()]
    kw = dict(lr=3e-3, betas=betas, eps=1e-8, **OPTIONS[k])
    params = [rng.uniform(-1, 1, size=s) for s in shapes]
    refs = [Exact64(p, flavor=flavor, **{**dict(amsgrad=False, maximize=False, decoupled_weight_decay=False,
                                                weight_decay=0.0), **kw}) for p in params]
    opt = swiftadam.Adam([{"params": params[:2]}, {"params": params[2:]}], flavor=flavor, **kw)
    for t in range(25):
        grads = [None if (i == 1 and t % 4 == 0) else rng.standard_normal(s) for i, s in enumerate(shapes)]
        lr = 3e-3 * 0.9 ** t
        for group in opt.param_groups:
            group["lr"] = lr
        assert opt.step(grads)
        for ref, g in zip(refs, grads):
            if g is not None:
                ref.step(g, lr=lr)
        for i, (p, ref) in enumerate(zip(params, refs)):
            assert p.dtype == np.float64 and p.tobytes() == ref.p.tobytes(), f"step {t} params[{i}]"
    state = opt.state_dict()["state"]
    for i, ref in enumerate(refs):
        assert state[i]["exp_avg"].dtype == np.float64 and state[i]["exp_avg"].tobytes() == ref.m.tobytes()
        assert state[i]["exp_avg_sq"].tobytes() == ref.v.tobytes() and state[i]["step"] == ref.t


def test_flavor_changes_between_steps_and_is_validated():
    rng = np.random.default_rng(3)
    p = rng.uniform(-1, 1, 50)
    ref = Exact64(p, 1e-2, (0.9, 0.999), 1e-8, 0.0, False, False, False)
    opt = swiftadam.Adam([p], lr=1e-2)
    assert "flavor" not in opt.param_groups[0]  # torch's layout: the extension only where set
    for t in range(12):
        flavor = "keras" if t >= 6 else "torch"
        opt.param_groups[0]["flavor"] = flavor
        g = rng.standard_normal(50)
        opt.step([g])
        ref.step(g, flavor=flavor)
        assert p.tobytes() == ref.p.tobytes()
    opt.param_groups[0]["flavor"] = "tf"
    before = snapshot(opt, [p])
    with pytest.raises(ValueError, match=r"Invalid flavor: 'tf'; expected one of \['keras', 'torch'\] "
                                         r"\(param_groups\[0\]\)"):
        opt.step([np.ones(50)])
    assert_same_snapshot(before, snapshot(opt, [p]))
    with pytest.raises(ValueError, match="Invalid flavor: 'Keras'"):
        swiftadam.AdamW([np.zeros(2)], flavor="Keras")


def test_a_group_holds_one_dtype_and_groups_may_differ():
    with pytest.raises(TypeError, match=r"params\[1\] is float64 but params\[0\] of its param group is float32"):
        swiftadam.Adam([np.zeros(2, np.float32), np.zeros(2)])
    p32, p64 = np.zeros(3, np.float32), np.zeros(3)
    opt = swiftadam.Adam([{"params": [p32]}, {"params": [p64]}], lr=0.1)
    assert opt.step([np.ones(3), np.ones(3, np.float32)])  # grads converted to their param's dtype
    assert p32.dtype == np.float32 and p64.dtype == np.float64 and np.allclose(p32, p64, rtol=1e-6)
    with pytest.raises(TypeError, match="step_flat needs every param of one dtype"):
        opt.step_flat(np.ones(6, np.float32))
    strict = swiftadam.Adam([np.zeros(3)], strict_grads=True)
    with pytest.raises(TypeError, match=r"grads\[0\] is float32; with strict_grads=True a grad must be a "
                                        r"C-contiguous, aligned float64"):
        strict.step([np.ones(3, np.float32)])


def test_float64_step_flat_equals_step():
    shapes = [(7,), (2, 3), ()]
    a = [np.full(s, 0.5) for s in shapes]
    b = [x.copy() for x in a]
    oa, ob = swiftadam.Adam(a, flavor="keras"), swiftadam.Adam(b, flavor="keras")
    rng = np.random.default_rng(0)
    for _ in range(5):
        flat = rng.standard_normal(14)
        with pytest.raises(TypeError, match="flat_grad must be a float64"):
            oa.step_flat(flat.astype(np.float32))
        oa.step_flat(flat)
        ob.step([flat[:7].copy(), flat[7:13].reshape(2, 3).copy(), flat[13:].reshape(()).copy()])
    assert [x.tobytes() for x in a] == [x.tobytes() for x in b]


def _mixed(seed=1):
    rng = np.random.default_rng(seed)
    params = [rng.uniform(-1, 1, 8).astype(np.float32), rng.uniform(-1, 1, (2, 3)), rng.uniform(-1, 1, 5)]
    opt = swiftadam.Adam([{"params": params[:1]},
                          {"params": params[1:], "flavor": "keras", "amsgrad": True, "weight_decay": 0.1}],
                         lr=1e-2)
    grads = [[(rng.standard_normal(p.shape) * 0.1).astype(p.dtype) for p in params] for _ in range(30)]
    return opt, params, grads


@pytest.mark.parametrize("how", ["pickle", "deepcopy"])
def test_float64_groups_pickle_and_continue_bit_identically(how):
    opt, params, grads = _mixed()
    for g in grads[:15]:
        opt.step(g)
    blob = (params, opt)
    params2, opt2 = pickle.loads(pickle.dumps(blob)) if how == "pickle" else copy.deepcopy(blob)
    assert [p.dtype for p in params2] == [np.float32, np.float64, np.float64]
    assert all(a is b for a, b in zip(params2, [p for g in opt2.param_groups for p in g["params"]]))
    for g in grads[15:]:
        opt.step(g)
        opt2.step(g)
    assert [p.tobytes() for p in params2] == [p.tobytes() for p in params]
    assert_state_dicts_equal(opt.state_dict(), opt2.state_dict())


def test_float64_state_dict_and_checkpoint_round_trips(tmp_path):
    opt, params, grads = _mixed()
    for g in grads[:10]:
        opt.step(g)
    sd = opt.state_dict()
    assert sd["state"][1]["max_exp_avg_sq"].dtype == np.float64 and sd["param_groups"][1]["flavor"] == "keras"
    fresh_params = [p.copy() for p in params]
    fresh = swiftadam.Adam([{"params": fresh_params[:1]}, {"params": fresh_params[1:], "amsgrad": True}])
    fresh.load_state_dict(pickle.loads(pickle.dumps(sd)))
    for g in grads[10:]:
        opt.step(g)
        fresh.step(g)
    assert [p.tobytes() for p in fresh_params] == [p.tobytes() for p in params]
    solo = [np.linspace(-1, 1, 9)]
    one = swiftadam.AdamW(solo, flavor="keras", amsgrad=True)
    one.step([np.ones(9)])
    one.save(tmp_path / "f64.ckpt")
    back = swiftadam.AdamW.load(tmp_path / "f64.ckpt", [solo[0].copy()])
    assert back.to_bytes() == one.to_bytes() and back.param_groups[0]["flavor"] == "keras"
    with pytest.raises(TypeError, match="holds a float64 state but the params are float32"):
        swiftadam.Adam.load(tmp_path / "f64.ckpt", [np.zeros(9, np.float32)])


def test_float64_params_may_be_replaced_with_step_params():
    p = np.zeros(4)
    opt = swiftadam.Adam([p], lr=0.1)
    ref = swiftadam.Adam([np.zeros(4)], lr=0.1)
    for _ in range(5):
        p = p.copy()
        opt.step([np.ones(4)], params=[p])
        ref.step([np.ones(4)])
    assert p.tobytes() == ref.param_groups[0]["params"][0].tobytes()
    with pytest.raises(ValueError, match=r"params\[0\] is float32 of shape \(4,\) but the optimizer's params\[0\] "
                                         r"is float64"):
        opt.step([np.ones(4)], params=[np.zeros(4, np.float32)])
