"""float16 and bfloat16 params with float32 master weights: the master follows a float32
Adam fed the same grads bit for bit, the params are its rounding to nearest even, and the
master travels through state dicts, checkpoints, pickles and copies."""
import copy
import pathlib
import pickle
import subprocess
import sys

import numpy as np
import pytest

import swiftadam

ml_dtypes = pytest.importorskip("ml_dtypes")  # installed by the Makefile's venv
BF16 = np.dtype(ml_dtypes.bfloat16)
F16 = np.dtype(np.float16)
HALF = [F16, BF16]
IDS = ["float16", "bfloat16"]
ROOT = pathlib.Path(__file__).resolve().parents[2]

OPTIONS = [dict(), dict(amsgrad=True, weight_decay=0.05), dict(decoupled_weight_decay=True, weight_decay=0.1),
           dict(flavor="keras", eps=1e-7), dict(maximize=True, bias_correction=False)]


def _params(dtype, seed=0, shapes=((3, 5), (7,), (0,), (2, 2))):
    rng = np.random.default_rng(seed)
    return [rng.standard_normal(s).astype(np.float32).astype(dtype) for s in shapes]


def _grads(params, steps, seed=1, scale=1.0):
    rng = np.random.default_rng(seed)
    return [[(rng.standard_normal(p.shape) * scale).astype(np.float32) for p in params] for _ in range(steps)]


def _bits(a):
    return np.ascontiguousarray(a).view(f"u{a.dtype.itemsize}")


def _assert_rounding(params, masters):
    """Every param is its master rounded to nearest even (numpy's/ml_dtypes' astype). A NaN
    only needs to stay a NaN of its sign: the kernel keeps the payload's high bits (as x86
    F16C), ml_dtypes makes every bfloat16 NaN its canonical one."""
    for p, m in zip(params, masters):
        want = m.astype(p.dtype)
        nan = np.isnan(m)
        assert np.array_equal(np.isnan(p.astype(np.float32)), nan)
        assert np.array_equal(np.signbit(p.astype(np.float32)[nan]), np.signbit(m[nan]))
        assert np.array_equal(_bits(p)[~nan], _bits(want)[~nan]), "params are not the master's rounding"


def _assert_master_is(opt, ref_params):
    for m, r in zip(opt.master_params(), ref_params):
        assert m.dtype == np.float32 and np.array_equal(_bits(m), _bits(r))


@pytest.mark.parametrize("dtype", HALF, ids=IDS)
@pytest.mark.parametrize("opts", OPTIONS, ids=lambda o: ",".join(f"{k}={v}" for k, v in o.items()) or "default")
@pytest.mark.parametrize("grad_kind", ["float32", "16-bit", "mixed"])
def test_master_is_a_float32_adam_and_params_its_rounding(dtype, opts, grad_kind):
    ps = _params(dtype)
    ref = [p.astype(np.float32) for p in ps]  # the master starts as the params' exact values
    opt = swiftadam.Adam(ps, lr=1e-2, **opts)
    fp32 = swiftadam.Adam(ref, lr=1e-2, **opts)
    for t, gs in enumerate(_grads(ps, 30)):
        if grad_kind != "float32":  # "mixed": 16-bit and float32 grads in one step, one group
            gs = [g if grad_kind == "mixed" and i % 2 else g.astype(dtype) for i, g in enumerate(gs)]
        if t % 7 == 3:
            gs[0] = None  # skipped: its step count stays behind
        assert opt.step(gs) is True
        fp32.step([None if g is None else g.astype(np.float32) for g in gs])
        _assert_master_is(opt, ref)
        _assert_rounding(ps, ref)
    assert [s["step"] for s in opt.state_dict()["state"].values()] == [26.0, 30.0, 30.0, 30.0]


@pytest.mark.parametrize("dtype", HALF, ids=IDS)
def test_single_tensor_and_float64_grads_converted_to_float32(dtype):
    (p,) = _params(dtype, shapes=((64,),))
    ref = p.astype(np.float32)
    opt, fp32 = swiftadam.Adam([p], lr=3e-3), swiftadam.Adam([ref], lr=3e-3)
    for (g,) in _grads([p], 10):
        opt.step([g.astype(np.float64)])  # converted to float32 (not to the 16-bit dtype)
        fp32.step([g.astype(np.float64).astype(np.float32)])
    _assert_master_is(opt, [ref])
    _assert_rounding([p], [ref])


@pytest.mark.parametrize("dtype, ties, rounded", [
    # float32 values half-way between two 16-bit neighbours: ties go to the even one
    (F16, [1 + 2.0 ** -11, 1 + 3 * 2.0 ** -11, -(2 + 2.0 ** -10), 65520.0, 65519.0],
     [1.0, 1 + 2.0 ** -9, -2.0, np.inf, 65504.0]),
    (BF16, [1 + 2.0 ** -8, 1 + 3 * 2.0 ** -8, -(2 + 2.0 ** -7), 3.0 + 2.0 ** -7 * 3, 2.0 ** -130],
     [1.0, 1 + 2.0 ** -6, -2.0, 3.0 + 2.0 ** -5, 2.0 ** -130]),
], ids=IDS)
def test_rounding_is_to_nearest_even_on_ties_in_numpy_ml_dtypes_and_the_kernel(dtype, ties, rounded):
    master = np.array(ties, np.float32)
    assert np.array_equal(master.astype(np.float64), np.array(ties))  # exact float32 ties
    expected = np.array(rounded, np.float32).astype(dtype)
    assert np.array_equal(expected.astype(np.float64), np.array(rounded))
    # the reference conversion (numpy for float16, ml_dtypes for bfloat16) rounds ties to even
    with np.errstate(over="ignore"):  # 65520 overflows float16 to +Inf, as IEEE says
        assert np.array_equal(_bits(master.astype(dtype)), _bits(expected))
    # and the kernel writes the same bits: load the ties as the master, then take one step
    # that changes nothing (lr 0)
    p = np.zeros(len(ties), dtype)
    opt = swiftadam.Adam([p], lr=0.0)
    sd = opt.state_dict()
    sd["state"][0]["fp32_from_fp16"] = master
    opt.load_state_dict(sd)
    assert np.array_equal(_bits(p), _bits(expected))
    p[:] = 0
    opt.step([np.ones(len(ties), np.float32)])
    assert np.array_equal(_bits(p), _bits(expected))


@pytest.mark.parametrize("dtype", HALF, ids=IDS)
def test_state_dict_round_trip_carries_the_master(dtype):
    ps = _params(dtype)
    opt = swiftadam.Adam(ps, lr=1e-2, amsgrad=True)
    grads = _grads(ps, 40)
    for gs in grads[:20]:
        opt.step(gs)
    sd = pickle.loads(pickle.dumps(opt.state_dict()))
    assert all(e["fp32_from_fp16"].dtype == np.float32 for e in sd["state"].values())
    qs = [np.zeros_like(p) for p in ps]  # other values: the state dict's master decides
    other = swiftadam.Adam(qs, lr=0.5, amsgrad=True)
    other.load_state_dict(sd)
    _assert_rounding(qs, opt.master_params())
    for gs in grads[20:]:
        opt.step(gs)
        other.step(gs)
    for a, b in zip(opt.master_params(), other.master_params()):
        assert np.array_equal(_bits(a), _bits(b))
    for p, q in zip(ps, qs):
        assert np.array_equal(_bits(p), _bits(q))
    assert other.to_bytes() if len(other.param_groups) == 1 else True
    assert opt.to_bytes() == other.to_bytes()


@pytest.mark.parametrize("dtype", HALF, ids=IDS)
@pytest.mark.parametrize("how", ["pickle", "deepcopy", "bytes", "file"])
def test_copies_and_checkpoints_continue_bit_identically(dtype, how, tmp_path):
    ps = _params(dtype, seed=3)
    opt = swiftadam.Adam(ps, lr=1e-2)
    grads = _grads(ps, 30, seed=4)
    for gs in grads[:15]:
        opt.step(gs)
    if how == "pickle":
        qs, other = pickle.loads(pickle.dumps((ps, opt)))
    elif how == "deepcopy":
        qs, other = copy.deepcopy((ps, opt))
    else:
        qs = [np.full_like(p, 7) for p in ps]  # overwritten by the checkpoint master's rounding
        if how == "bytes":
            other = swiftadam.Adam.from_bytes(opt.to_bytes(), qs)
        else:
            opt.save(tmp_path / "h.ckpt")
            other = swiftadam.Adam.load(tmp_path / "h.ckpt", qs)
        _assert_rounding(qs, opt.master_params())
    assert other.to_bytes() == opt.to_bytes()
    for gs in grads[15:]:
        opt.step(gs)
        other.step(gs)
    for p, q in zip(ps, qs):
        assert np.array_equal(_bits(p), _bits(q))
    assert other.to_bytes() == opt.to_bytes()


GOLDEN_HALF = {"v2_bfloat16_master_group.ckpt": BF16, "v2_float16_master_keras.ckpt": F16}


@pytest.mark.parametrize("name", sorted(GOLDEN_HALF))
def test_16_bit_golden_checkpoints_load_and_round_trip(name):
    from test_reliability import _lengths
    data = (ROOT / "Tests" / "golden" / name).read_bytes()
    dtype = GOLDEN_HALF[name]
    ps = [np.zeros(n, dtype) for n in _lengths(data)]
    opt = swiftadam.Adam.from_bytes(data, ps)
    assert opt.to_bytes() == data
    masters = opt.master_params()
    assert any(m.any() for m in masters)  # a real master, not zeros
    _assert_rounding(ps, masters)
    sd = opt.state_dict()
    fresh = swiftadam.Adam([np.zeros_like(p) for p in ps], flavor="torch", lr=0.5)
    fresh.load_state_dict(sd)
    assert fresh.to_bytes() == data
    other = np.float16 if dtype == BF16 else BF16  # the other 16-bit dtype: refused, never reinterpreted
    with pytest.raises(TypeError, match=f"holds a {dtype} state"):
        swiftadam.Adam.from_bytes(data, [np.zeros(len(p), other) for p in ps])


@pytest.mark.parametrize("dtype", HALF, ids=IDS)
def test_strict_grads_takes_the_param_dtype_or_float32_only(dtype):
    (p,) = _params(dtype, shapes=((8,),))
    opt = swiftadam.Adam([p], lr=1e-2, strict_grads=True)
    assert opt.step([np.ones(8, np.float32)])
    assert opt.step([np.ones(8, dtype)])
    before = _bits(p).copy(), opt.to_bytes()
    for bad in [np.ones(8, np.float64), [1.0] * 8, np.ones(16, np.float32)[::2]]:
        with pytest.raises(TypeError, match=r"grads\[0\] .*strict_grads=True"):
            opt.step([bad])
    assert np.array_equal(_bits(p), before[0]) and opt.to_bytes() == before[1]
    two = swiftadam.Adam([p, p.copy()], strict_grads=True)
    with pytest.raises(TypeError, match=r"grads\[0\] .*all of the params' dtype or all float32"):
        two.step([np.ones(8, dtype), np.ones(8, np.float32)])
    assert two.step([np.ones(8, np.float32), np.ones(8, np.float32)])


@pytest.mark.parametrize("dtype", HALF, ids=IDS)
@pytest.mark.parametrize("groups", [1, 2])
def test_grad_scale_unscales_in_float32_and_composes_with_skip_if_nonfinite(dtype, groups):
    ps = _params(dtype, seed=5, shapes=((4, 4), (9,)))
    ref = [p.astype(np.float32) for p in ps]
    split = (lambda xs: [{"params": xs[:1]}, {"params": xs[1:]}]) if groups == 2 else (lambda xs: xs)
    opt, fp32 = swiftadam.Adam(split(ps), lr=1e-2), swiftadam.Adam(split(ref), lr=1e-2)
    scale = 3.0 * 2 ** 10  # not a power of two: multiplying by float32(1/scale) is not division
    inv = np.float32(1.0 / scale)
    for gs in _grads(ps, 10, seed=6, scale=scale):
        gs16 = [g.astype(dtype) for g in gs]
        assert opt.step(gs16, grad_scale=scale, skip_if_nonfinite=True) is True
        fp32.step([g.astype(np.float32) * inv for g in gs16])
    _assert_master_is(opt, ref)
    _assert_rounding(ps, ref)
    state = opt.state_dict()
    big = np.full((4, 4), 60000, np.float32).astype(dtype)  # finite as given, +Inf once unscaled
    for gs, gscale in [([big, np.ones(9, dtype)], 1e-35), ([np.ones((4, 4), dtype), np.full(9, np.nan, np.float32)], 8.0)]:
        assert opt.step(gs, grad_scale=gscale, skip_if_nonfinite=True) is False
        _assert_master_is(opt, ref)
        _assert_rounding(ps, ref)
    assert [e["step"] for e in opt.state_dict()["state"].values()] == [e["step"] for e in state["state"].values()]
    for bad in [0, -1.0, float("inf"), float("nan"), 1e-46, "2"]:
        with pytest.raises((ValueError, TypeError), match="grad_scale"):
            opt.step([np.ones((4, 4), dtype), np.ones(9, dtype)], grad_scale=bad)
    _assert_master_is(opt, ref)


def test_grad_scale_needs_16_bit_params():
    p32, p16 = np.zeros(3, np.float32), np.zeros(3, np.float16)
    for params in ([p32], [{"params": [p16]}, {"params": [p32]}], [np.zeros(3)]):
        opt = swiftadam.Adam(params)
        before = pickle.dumps(opt.state_dict())
        with pytest.raises(ValueError, match="grad_scale needs float16/bfloat16 params"):
            opt.step([np.ones(3, np.float32)] * len(opt.param_groups), grad_scale=2.0)
        assert pickle.dumps(opt.state_dict()) == before


def test_float32_float16_and_bfloat16_groups_in_one_optimizer():
    p32, p16, pbf = _params(np.float32, seed=7, shapes=((5,),))[0], _params(F16, seed=8, shapes=((6,),))[0], \
        _params(BF16, seed=9, shapes=((7,),))[0]
    mixed = swiftadam.Adam([{"params": [p32]}, {"params": [p16], "lr": 2e-2}, {"params": [pbf], "amsgrad": True}], lr=1e-2)
    alone = [(q := p.copy(), swiftadam.Adam([q], **kw)) for p, kw in
             [(p32, dict(lr=1e-2)), (p16, dict(lr=2e-2)), (pbf, dict(lr=1e-2, amsgrad=True))]]
    for gs in _grads([p32, p16, pbf], 12, seed=10):
        gs = [gs[0], gs[1].astype(F16), gs[2]]
        assert mixed.step(gs)
        for (_, o), g in zip(alone, gs):
            o.step([g])
    for p, (q, o) in zip([p32, p16, pbf], alone):
        assert p.dtype == q.dtype and np.array_equal(_bits(p), _bits(q))
    masters = mixed.master_params()
    assert [m.dtype for m in masters] == [np.float32] * 3
    assert np.array_equal(masters[0], p32) and masters[0] is not p32
    for m, (_, o) in zip(masters[1:], alone[1:]):
        assert np.array_equal(_bits(m), _bits(o.master_params()[0]))
    sd = mixed.state_dict()
    assert sorted(sd["state"][0]) == ["exp_avg", "exp_avg_sq", "step"]
    assert "fp32_from_fp16" in sd["state"][1] and "fp32_from_fp16" in sd["state"][2]
    again = pickle.loads(pickle.dumps(mixed))
    assert [p.dtype for g in again.param_groups for p in g["params"]] == [np.float32, F16, BF16]


@pytest.mark.parametrize("dtype", HALF, ids=IDS)
def test_replaced_params_take_the_master_rounding(dtype):
    (p,) = _params(dtype, shapes=((6,),))
    ref = p.astype(np.float32)
    opt, fp32 = swiftadam.Adam([p], lr=1e-2), swiftadam.Adam([ref], lr=1e-2)
    g = np.ones(6, np.float32)
    opt.step([g])
    fp32.step([g])
    new = np.full(6, 100, dtype)  # its values are not read: the master is the source of truth
    opt.step([g], params=[new])
    fp32.step([g])
    assert opt.param_groups[0]["params"][0] is new
    _assert_master_is(opt, [ref])
    _assert_rounding([new], [ref])


@pytest.mark.parametrize("dtype", HALF, ids=IDS)
def test_step_flat_with_16_bit_params(dtype):
    ps = _params(dtype, seed=11, shapes=((3,), (4, 2)))
    qs = [p.copy() for p in ps]
    a, b = swiftadam.Adam(ps, lr=1e-2), swiftadam.Adam(qs, lr=1e-2)
    for gs in _grads(ps, 5, seed=12):
        gs = [g.astype(dtype) for g in gs]
        a.step_flat(np.concatenate([g.ravel() for g in gs]))
        b.step(gs)
    assert a.to_bytes() == b.to_bytes()


def test_the_package_works_without_ml_dtypes():
    code = (
        "import sys; sys.modules['ml_dtypes'] = None\n"  # import ml_dtypes raises ImportError
        "import pathlib, numpy as np, swiftadam\n"
        "p = np.ones(4, np.float16); opt = swiftadam.Adam([p], lr=0.5); opt.step([np.ones(4, np.float32)])\n"
        "assert (p == np.float16(0.5)).all(), p\n"
        f"data = pathlib.Path({str(ROOT / 'Tests/golden/v2_bfloat16_master_group.ckpt')!r}).read_bytes()\n"
        "try:\n"
        "    swiftadam.Adam.from_bytes(data, [np.zeros(n, np.float32) for n in (5, 0, 37)])\n"
        "except ImportError as e:\n"
        "    assert 'swiftadam[bf16]' in str(e), e\n"
        "else:\n"
        "    raise AssertionError('a bfloat16 checkpoint loaded without ml_dtypes')\n"
        "print('ok')\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert out.returncode == 0 and out.stdout.strip() == "ok", out.stderr


@pytest.mark.parametrize("dtype", HALF, ids=IDS)
@pytest.mark.parametrize("extra", [0, 70], ids=["bisect", "vectorized"])
def test_a_float32_grad_overlapping_a_16_bit_param_is_refused(dtype, extra):
    """A float32 grad covers twice the bytes of its 16-bit param: the overlap check must use
    the grad's size (with the param's it would miss this one and the kernel would read a
    grad it is writing)."""
    big = np.zeros(64, dtype)
    r, p = np.zeros(8, dtype), big[16:24]  # p: bytes [32, 48) of big
    others = [np.zeros(2, dtype) for _ in range(extra)]
    opt = swiftadam.Adam([r, p] + others)
    g = big[4:20].view(np.float32)  # bytes [8, 40): reaches into p, though its first 16 bytes do not
    assert g.shape == (8,)
    before = opt.to_bytes()
    with pytest.raises(ValueError, match=r"grads\[0\] overlaps params\[1\]"):
        opt.step([g, np.ones(8, np.float32)] + [np.ones(2, np.float32)] * extra)
    assert opt.to_bytes() == before and not p.any()
