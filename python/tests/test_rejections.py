"""Every rejection raises the documented exception and leaves params and state untouched."""
import copy
import os

import numpy as np
import pytest

import swiftadam
from swiftadam import SwiftAdamError
from adam_reference import assert_same_snapshot, random_grad, snapshot


@pytest.fixture
def running(rng):
    """An optimizer with two groups, mid-run (amsgrad on in group 1, a lagging tensor)."""
    params = [rng.uniform(-1, 1, size=s).astype(np.float32) for s in [(10,), (3, 4), (7,), (5,)]]
    opt = swiftadam.Adam([{"params": params[:2]}, {"params": params[2:], "amsgrad": True, "lr": 3e-3}],
                         lr=1e-2)
    for t in range(5):
        opt.step([random_grad(rng, p.shape) if not (i == 3 and t < 2) else None
                  for i, p in enumerate(params)])
    yield opt, params
    opt.close()


def good_grads(params):
    return [np.full(p.shape, 0.5, np.float32) for p in params]


# ---- construction -------------------------------------------------------------------


def test_float64_param_is_rejected_with_the_fix():
    ps = [np.zeros(3, np.float32), np.zeros(3, np.float32), np.zeros(3)]
    with pytest.raises(TypeError) as e:
        swiftadam.Adam(ps)
    msg = str(e.value)
    assert "params[2] is float64" in msg and "np.asarray(p, dtype=np.float32)" in msg
    assert "never copies" in msg


@pytest.mark.parametrize("make, exc, words", [
    (lambda: np.zeros((4, 6), np.float32)[:, ::2], ValueError, "C-contiguous"),
    (lambda: np.zeros((4, 6), np.float32).T, ValueError, "C-contiguous"),
    (lambda: np.frombuffer(bytearray(41), dtype=np.float32, offset=1), ValueError, "aligned"),
    (lambda: np.frombuffer(bytes(40), dtype=np.float32), ValueError, "read-only"),
    (lambda: [1.0, 2.0], TypeError, "not a numpy.ndarray"),
    (lambda: np.zeros(3, np.int32), TypeError, "int32"),
    (lambda: np.zeros(3, ">f4"), TypeError, ">f4"),
    (lambda: np.zeros(3, ">f2"), TypeError, ">f2"),
    (lambda: np.zeros(3, np.complex64), TypeError, "complex64"),
])
def test_bad_params_are_rejected(make, exc, words):
    bad = make()
    if isinstance(bad, np.ndarray) and bad.flags.writeable and words == "aligned":
        assert not bad.flags.aligned
    with pytest.raises(exc, match=words) as e:
        swiftadam.Adam([np.zeros(2, np.float32), bad])
    assert "params[1]" in str(e.value)


def test_bad_param_lists():
    with pytest.raises(TypeError, match="iterable"):
        swiftadam.Adam(np.zeros(3, np.float32))
    with pytest.raises(TypeError, match="iterable"):
        swiftadam.Adam(5)
    with pytest.raises(ValueError, match="empty parameter list"):
        swiftadam.Adam([])
    with pytest.raises(TypeError, match="set"):
        swiftadam.Adam({1, 2})
    with pytest.raises(TypeError, match="sets"):
        swiftadam.Adam([{"params": {1}}])
    p = np.zeros(3, np.float32)
    with pytest.raises(ValueError, match="more than once"):
        swiftadam.Adam([p, p])
    with pytest.raises(ValueError, match="more than once"):
        swiftadam.Adam([{"params": [p]}, {"params": [p]}])
    buf = np.zeros(10, np.float32)
    with pytest.raises(ValueError, match=r"params\[0\] and params\[1\] overlap"):
        swiftadam.Adam([buf[:6], buf[4:]])
    swiftadam.Adam([buf[:5], buf[5:]]).close()  # adjacent slices of one buffer are fine
    with pytest.raises(ValueError, match="no params"):
        swiftadam.Adam([{"params": [np.zeros(1, np.float32)]}, {"params": []}])
    with pytest.raises(TypeError, match="not a mix"):
        swiftadam.Adam([{"params": [np.zeros(1, np.float32)]}, np.zeros(1, np.float32)])


@pytest.mark.parametrize("kwargs, message", [
    (dict(lr=-1.0), "Invalid learning rate: -1.0"),
    (dict(lr=float("nan")), "Invalid learning rate: nan"),
    (dict(lr=float("inf")), "Invalid learning rate: inf"),
    (dict(eps=-1e-8), "Invalid epsilon value: -1e-08"),
    (dict(betas=(1.5, 0.999)), "Invalid beta parameter at index 0: 1.5"),
    (dict(betas=(0.9, 1.0)), "Invalid beta parameter at index 1: 1.0"),
    (dict(betas=(0.9, -0.1)), "Invalid beta parameter at index 1: -0.1"),
    (dict(weight_decay=-0.1), "Invalid weight_decay value: -0.1"),
    (dict(betas=(0.9,)), "Invalid betas"),
])
def test_bad_hyperparameters_raise_valueerror_in_torchs_words(kwargs, message):
    p = np.ones(3, np.float32)
    with pytest.raises(ValueError) as e:
        swiftadam.Adam([p], **kwargs)
    assert message in str(e.value)
    with pytest.raises(ValueError) as e:  # in a param group too, naming the group
        swiftadam.Adam([{"params": [np.ones(1, np.float32)]}, {"params": [p], **kwargs}])
    assert message in str(e.value) and "param_groups[1]" in str(e.value)
    assert np.array_equal(p, np.ones(3, np.float32))


def test_hyperparameter_types():
    with pytest.raises(TypeError, match="lr must be a real number"):
        swiftadam.Adam([np.ones(1, np.float32)], lr="0.1")
    with pytest.raises(TypeError, match="betas"):
        swiftadam.Adam([np.ones(1, np.float32)], betas="ab")
    with pytest.raises(TypeError):
        swiftadam.Adam([np.ones(1, np.float32)], momentum=0.9)
    with pytest.raises(TypeError):
        swiftadam.AdamW([np.ones(1, np.float32)], decoupled_weight_decay=False)


# ---- step -----------------------------------------------------------------------------


def bad_steps(params):
    g = good_grads(params)
    cases = {
        "too few grads": (ValueError, "expected 4 grads", lambda o: o.step(g[:3])),
        "too many grads": (ValueError, "expected 4 grads", lambda o: o.step(g + [None])),
        "a single array": (TypeError, r"wrap it", lambda o: o.step(np.zeros(4, np.float32))),
        "not a list": (TypeError, "list", lambda o: o.step(5)),
        "wrong shape, last group": (ValueError, r"grads\[3\] has shape \(6,\) but params\[3\] has shape \(5,\)",
                                    lambda o: o.step(g[:3] + [np.zeros(6, np.float32)])),
        "transposed": (ValueError, r"grads\[1\] has shape \(4, 3\) but params\[1\] has shape \(3, 4\)",
                       lambda o: o.step([g[0], g[1].T.copy(), g[2], g[3]])),
        "complex": (TypeError, "complex", lambda o: o.step(g[:3] + [np.zeros(5, np.complex64)])),
        "strings": (TypeError, "grads\\[0\\]", lambda o: o.step([np.array(["a"] * 10)] + g[1:])),
        "object": (TypeError, "grads\\[2\\]", lambda o: o.step(g[:2] + [object(), g[3]])),
        "ragged": (TypeError, "grads\\[0\\]", lambda o: o.step([[[1.0], [1.0, 2.0]]] + g[1:])),
    }
    return cases


@pytest.mark.parametrize("case", sorted(bad_steps([np.zeros(s, np.float32) for s in [(10,), (3, 4), (7,), (5,)]])))
def test_bad_grads_change_nothing(running, case):
    opt, params = running
    exc, words, call = bad_steps(params)[case]
    before = snapshot(opt, params)
    with pytest.raises(exc, match=words):
        call(opt)
    assert_same_snapshot(before, snapshot(opt, params))
    assert opt.step(good_grads(params)) is True  # still usable
    assert not np.array_equal(before[0][0], params[0].tobytes())


@pytest.mark.parametrize("edit, exc, words", [
    (lambda g: g[1].__setitem__("lr", -1.0), ValueError, r"Invalid learning rate: -1.0 \(param_groups\[1\]\)"),
    (lambda g: g[0].__setitem__("betas", (0.9, 1.0)), ValueError, "Invalid beta parameter at index 1: 1.0"),
    (lambda g: g[0].__setitem__("eps", float("nan")), ValueError, "Invalid epsilon value: nan"),
    (lambda g: g[1].__setitem__("weight_decay", -2), ValueError, "Invalid weight_decay value: -2"),
    (lambda g: g[0].__setitem__("amsgrad", True), ValueError, "amsgrad.*cannot change"),
    (lambda g: g[1].__setitem__("amsgrad", False), ValueError, "amsgrad.*cannot change"),
    (lambda g: g[1].pop("eps"), ValueError, "lacks the key 'eps'"),
    (lambda g: g[0].__setitem__("lr", "fast"), TypeError, "lr must be a real number"),
])
def test_bad_param_group_edits_change_nothing(running, edit, exc, words):
    opt, params = running
    good_groups = copy.deepcopy([{k: v for k, v in g.items() if k != "params"} for g in opt.param_groups])
    before = snapshot(opt, params)
    # A valid change in group 0 must not be applied either when group 1 is invalid.
    opt.param_groups[0]["lr"] = 0.5
    edit(opt.param_groups)
    with pytest.raises(exc, match=words):
        opt.step(good_grads(params))
    assert [p.tobytes() for p in params] == before[0]
    for g, good in zip(opt.param_groups, good_groups):  # repair, then the state is as before
        for k in list(g):
            if k != "params":
                del g[k]
        g.update(good)
    assert_same_snapshot(before, snapshot(opt, params))


def test_nonfinite_grads(running):
    opt, params = running
    before = snapshot(opt, params)
    g = good_grads(params)
    for bad in (np.nan, np.inf, -np.inf):
        g3 = g[3].copy()
        g3[2] = bad
        # the non-finite grad is in the last group: the first group must not step either
        assert opt.step(g[:3] + [g3], skip_if_nonfinite=True) is False
        assert_same_snapshot(before, snapshot(opt, params))
    big = [g[0].astype(np.float64) * 1e300] + g[1:]  # finite float64, inf once converted
    with np.errstate(over="ignore"):
        assert opt.step(big, skip_if_nonfinite=True) is False
    assert_same_snapshot(before, snapshot(opt, params))
    assert opt.step(g, skip_if_nonfinite=True) is True
    assert [p.tobytes() for p in params] != before[0]
    # Without the flag, NaN propagates into the param as in torch.
    g[0][0] = np.nan
    assert opt.step(g) is True
    assert np.isnan(params[0][0]) and np.isfinite(params[0][1:]).all()


def test_single_group_nonfinite_skip():
    p = np.ones(8, np.float32)
    opt = swiftadam.Adam([p])
    g = np.ones(8, np.float32)
    g[3] = np.nan
    assert opt.step([g], skip_if_nonfinite=True) is False
    assert np.array_equal(p, np.ones(8, np.float32)) and opt.state_dict()["state"] == {}
    g[3] = 1
    assert opt.step([g], skip_if_nonfinite=True) is True and p[0] < 1


def test_closed_optimizer(running):
    opt, params = running
    opt.close()
    before = [p.tobytes() for p in params]
    for call in (lambda: opt.step(good_grads(params)), opt.state_dict, opt.to_bytes,
                 lambda: opt.save("x.ckpt"), lambda: opt.load_state_dict({}),
                 lambda: opt.add_param_group({"params": [np.zeros(1, np.float32)]})):
        with pytest.raises(ValueError, match="closed"):
            call()
    assert [p.tobytes() for p in params] == before
    assert not os.path.exists("x.ckpt")


# ---- load_state_dict -------------------------------------------------------------------


def bad_state_dicts():
    return {
        "not a dict": (TypeError, "must be a dict", lambda sd: [sd]),
        "no state": (ValueError, "lacks the key 'state'", lambda sd: {"param_groups": sd["param_groups"]}),
        "one group": (ValueError, "1 parameter groups, the optimizer has 2",
                      lambda sd: {**sd, "param_groups": sd["param_groups"][:1]}),
        "group size": (ValueError, "doesn't match the size",
                       lambda sd: {**sd, "param_groups": [{**sd["param_groups"][0], "params": [0]},
                                                          sd["param_groups"][1]]}),
        "moment shape": (ValueError, r"has shape \(12,\) but params\[1\] has shape \(3, 4\)",
                         lambda sd: _set(sd, 1, "exp_avg", sd["state"][1]["exp_avg"].reshape(12))),
        "moment complex": (TypeError, "complex",
                           lambda sd: _set(sd, 0, "exp_avg_sq", sd["state"][0]["exp_avg_sq"].astype(np.complex64))),
        "missing max_exp_avg_sq": (ValueError, "lacks 'max_exp_avg_sq'", lambda sd: _del(sd, 2, "max_exp_avg_sq")),
        "missing exp_avg": (ValueError, "lacks 'exp_avg'", lambda sd: _del(sd, 0, "exp_avg")),
        "unknown key": (ValueError, "unknown keys", lambda sd: _set(sd, 0, "momentum_buffer", np.zeros(10))),
        "negative step": (ValueError, "whole number", lambda sd: _set(sd, 0, "step", -1.0)),
        "fractional step": (ValueError, "whole number", lambda sd: _set(sd, 0, "step", 2.5)),
        "huge step": (ValueError, "whole number", lambda sd: _set(sd, 0, "step", 2.0 ** 53 + 2)),  # 2**53 is the limit
        "step array": (ValueError, "one number", lambda sd: _set(sd, 0, "step", np.ones(2))),
        "unknown param id": (ValueError, "param id 99", lambda sd: {**sd, "state": {**sd["state"], 99: sd["state"][0]}}),
        "bad lr in saved group": (ValueError, "Invalid learning rate: -3",
                                  lambda sd: {**sd, "param_groups": [sd["param_groups"][0],
                                                                     {**sd["param_groups"][1], "lr": -3}]}),
        "entry not a dict": (TypeError, "must be a dict", lambda sd: {**sd, "state": {**sd["state"], 0: 1.0}}),
    }


def _set(sd, i, key, value):
    sd = copy.deepcopy(sd)
    sd["state"][i][key] = value
    return sd


def _del(sd, i, key):
    sd = copy.deepcopy(sd)
    del sd["state"][i][key]
    return sd


@pytest.mark.parametrize("case", sorted(bad_state_dicts()))
def test_bad_state_dicts_change_nothing(running, case):
    opt, params = running
    exc, words, make = bad_state_dicts()[case]
    # A different, valid state to load: steps and moments differ from the current ones.
    other_params = [p.copy() for p in params]
    other = swiftadam.Adam([{"params": other_params[:2]}, {"params": other_params[2:], "amsgrad": True}])
    other.step(good_grads(params))
    sd = other.state_dict()
    before = snapshot(opt, params)
    groups_before = opt.param_groups[:]
    with pytest.raises(exc, match=words):
        opt.load_state_dict(make(sd))
    assert_same_snapshot(before, snapshot(opt, params))
    assert all(a is b for a, b in zip(groups_before, opt.param_groups))
    opt.load_state_dict(sd)  # the valid one loads
    assert snapshot(opt, params)[1]["state"][0]["step"] == 1.0


# ---- checkpoints ------------------------------------------------------------------------


@pytest.fixture
def checkpoint(rng):
    params = [rng.uniform(-1, 1, size=s).astype(np.float32) for s in [(100,), (4, 4)]]
    opt = swiftadam.AdamW(params, amsgrad=True)
    for _ in range(3):
        opt.step([random_grad(rng, p.shape) for p in params])
    return opt.to_bytes(), params


@pytest.mark.parametrize("corrupt, name", [
    (lambda b: bytes([b[0] ^ 1]) + b[1:], "SWIFTADAM_ERR_BAD_MAGIC"),
    (lambda b: b[:len(b) // 2] + bytes([b[len(b) // 2] ^ 0x10]) + b[len(b) // 2 + 1:], "SWIFTADAM_ERR_CHECKSUM"),
    (lambda b: b[:-8], "SWIFTADAM_ERR_CORRUPT"),
    (lambda b: b + b"\0", "SWIFTADAM_ERR_CORRUPT"),
    (lambda b: b[:3], "SWIFTADAM_ERR_CORRUPT"),
    (lambda b: b"", "SWIFTADAM_ERR_CORRUPT"),
])
def test_corrupt_bytes_and_files_are_rejected(tmp_path, checkpoint, corrupt, name):
    data, params = checkpoint
    fresh = [np.full(p.shape, 7, np.float32) for p in params]
    bad = corrupt(data)
    with pytest.raises(SwiftAdamError) as e:
        swiftadam.AdamW.from_bytes(bad, fresh)
    assert e.value.name == name and e.value.status < 0 and e.value.message
    assert name in str(e.value)
    path = tmp_path / "bad.ckpt"
    path.write_bytes(bad)
    with pytest.raises(SwiftAdamError) as e:
        swiftadam.AdamW.load(path, fresh)
    assert e.value.name == name
    assert all(np.all(p == 7) for p in fresh)
    assert path.read_bytes() == bad


def test_status_codes_are_the_headers(checkpoint):
    data, params = checkpoint
    with pytest.raises(SwiftAdamError) as e:
        swiftadam.Adam.from_bytes(data[:-8], [p.copy() for p in params])
    assert e.value.status == -13  # SWIFTADAM_ERR_CORRUPT
    with pytest.raises(SwiftAdamError) as e:
        swiftadam.Adam.from_bytes(bytes([data[0] ^ 1]) + data[1:], [p.copy() for p in params])
    assert e.value.status == -10  # SWIFTADAM_ERR_BAD_MAGIC
    assert isinstance(e.value, RuntimeError)


@pytest.mark.parametrize("shapes", [[(100,), (15,)], [(100,)], [(100,), (16,), (1,)], [(16,), (100,)]])
def test_wrong_lengths_on_load(tmp_path, checkpoint, shapes):
    data, params = checkpoint
    path = tmp_path / "c.ckpt"
    path.write_bytes(data)
    fresh = [np.full(s, 7, np.float32) for s in shapes]
    for call in (lambda: swiftadam.Adam.from_bytes(data, fresh), lambda: swiftadam.Adam.load(path, fresh)):
        with pytest.raises(SwiftAdamError) as e:
            call()
        assert e.value.name == "SWIFTADAM_ERR_SIZE_MISMATCH"
    assert all(np.all(p == 7) for p in fresh)
    # the same element counts in another shape are fine: the C format stores lengths
    ok = swiftadam.Adam.from_bytes(data, [np.zeros((10, 10), np.float32), np.zeros(16, np.float32)])
    assert ok.state_dict()["state"][0]["exp_avg"].shape == (10, 10)


def test_io_errors(tmp_path, checkpoint):
    data, params = checkpoint
    missing = tmp_path / "nope" / "c.ckpt"
    with pytest.raises(SwiftAdamError) as e:
        swiftadam.Adam.load(missing, params)
    assert e.value.name == "SWIFTADAM_ERR_IO" and str(missing) in e.value.message
    opt = swiftadam.AdamW.from_bytes(data, params)
    before = snapshot(opt, params)
    with pytest.raises(SwiftAdamError) as e:
        opt.save(missing)
    assert e.value.name == "SWIFTADAM_ERR_IO"
    assert_same_snapshot(before, snapshot(opt, params))
    # a directory in the way of the file: the rename fails, the directory stays
    (tmp_path / "dir.ckpt").mkdir()
    with pytest.raises(SwiftAdamError) as e:
        opt.save(tmp_path / "dir.ckpt")
    assert e.value.name == "SWIFTADAM_ERR_IO"
    assert (tmp_path / "dir.ckpt").is_dir() and not (tmp_path / "dir.ckpt.tmp").exists()
    assert_same_snapshot(before, snapshot(opt, params))


def test_load_rejects_bad_params_before_reading(tmp_path, checkpoint):
    data, _ = checkpoint
    with pytest.raises(TypeError, match="float64"):
        swiftadam.Adam.from_bytes(data, [np.zeros(100), np.zeros(16, np.float32)])
    with pytest.raises(TypeError, match="ONE group"):
        swiftadam.Adam.from_bytes(data, [{"params": [np.zeros(100, np.float32)], "lr": 1.0}])
    with pytest.raises(TypeError, match="bytes-like"):
        swiftadam.Adam.from_bytes(12, [np.zeros(100, np.float32)])
