"""Existing numpy training code works as it is: arrays that are replaced every step
(step(params=)), param lists that refuse edits instead of ignoring them, strict grads,
estimators pickled together with their optimizer."""
import copy
import pickle

import numpy as np
import pytest

import swiftadam
from adam_reference import assert_same_snapshot, assert_state_dicts_equal, snapshot

SHAPES = [(6,), (2, 3), (), (0,), (40,)]


def _opt(params, **kw):
    return swiftadam.Adam([{"params": params[:2], "name": "enc"},
                           {"params": params[2:4], "amsgrad": True, "lr": 3e-3, "weight_decay": 0.1},
                           {"params": params[4:], "bias_correction": False}], lr=1e-2, **kw)


def _params(seed=5):
    rng = np.random.default_rng(seed)
    return [rng.uniform(-1, 1, size=s).astype(np.float32) for s in SHAPES]


def _grads(steps, seed=6):
    rng = np.random.default_rng(seed)
    return [[None if (k == 1 and t % 3 == 0) else (rng.standard_normal(s) * 0.1).astype(np.float32)
             for k, s in enumerate(SHAPES)] for t in range(steps)]


# ---- step(grads, params=) ------------------------------------------------------------------


@pytest.mark.parametrize("layout", ["groups", "single"])
def test_step_with_params_follows_arrays_replaced_every_step(layout):
    """A functional loop (every array rebound each step) ends bit-identical to the in-place
    loop, and the optimizer then holds the latest arrays, never touching the old ones."""
    grads = _grads(30)
    if layout == "single":
        grads = [[g[4]] for g in grads]
        ref_params, params = [_params()[4]], [_params()[4]]
        ref, opt = swiftadam.Adam(ref_params, lr=1e-2), swiftadam.Adam(params, lr=1e-2)
    else:
        ref_params, params = _params(), _params()
        ref, opt = _opt(ref_params), _opt(params)
    for t, g in enumerate(grads):
        ref.step(g)
        old = params
        params = [p.copy() for p in params]  # new arrays, same values
        frozen = [p.tobytes() for p in old]
        assert opt.step(g, params=params) is True
        assert [p.tobytes() for p in old] == frozen, "a replaced array was written"
        assert [p for grp in opt.param_groups for p in grp["params"]] == params
        assert all(a is b for a, b in zip((p for grp in opt.param_groups for p in grp["params"]), params))
    assert [p.tobytes() for p in params] == [p.tobytes() for p in ref_params]
    assert_state_dicts_equal(ref.state_dict(), opt.state_dict())
    ref.step(grads[0])
    opt.step(grads[0])  # without params=: the arrays passed last
    assert [p.tobytes() for p in params] == [p.tobytes() for p in ref_params]


def test_step_with_the_same_params_is_a_plain_step():
    params = _params()
    opt = _opt(params)
    assert opt.step(_grads(1)[0], params=list(params))
    assert all(a is b for a, b in zip(opt.param_groups[0]["params"], params[:2]))


def _bad_param_sets(params):
    fresh = [p.copy() for p in params]
    buf = np.zeros(100, np.float32)
    return {
        "too few": (ValueError, "params= has 4 arrays but the optimizer has 5", fresh[:4]),
        "too many": (ValueError, "has 6 arrays", fresh + [fresh[0].copy()]),
        "a single array": (TypeError, "params= must be a list", fresh[0]),
        "wrong shape": (ValueError, r"params\[1\] is float32 of shape \(3, 2\) but the optimizer's "
                        r"params\[1\] is float32 of shape \(2, 3\)", [fresh[0], fresh[1].reshape(3, 2)] + fresh[2:]),
        "float64": (ValueError, r"params\[4\] is float64 of shape \(40,\) but the optimizer's params\[4\] is "
                    r"float32", fresh[:4] + [fresh[4].astype(np.float64)]),
        "float16": (ValueError, r"params\[4\] is float16 of shape \(40,\) but the optimizer's params\[4\] is "
                    r"float32", fresh[:4] + [fresh[4].astype(np.float16)]),
        "not contiguous": (ValueError, r"params\[4\] is not C-contiguous",
                           fresh[:4] + [np.zeros(80, np.float32)[::2]]),
        "read-only": (ValueError, r"params\[0\] is read-only",
                      [np.frombuffer(fresh[0].tobytes(), np.float32)] + fresh[1:]),
        "broadcast": (ValueError, r"params\[4\] is a read-only broadcast view",
                      fresh[:4] + [np.broadcast_to(np.float32(1), (40,))]),
        "overlapping": (ValueError, r"params\[0\] and params\[4\] overlap",
                        [buf[:6]] + fresh[1:4] + [buf[4:44]]),
        "grad on a new param": (ValueError, r"grads\[4\] overlaps params\[4\]", fresh, "grad=new"),
    }


@pytest.mark.parametrize("case", sorted(_bad_param_sets(_params())))
def test_step_with_bad_params_changes_nothing(case):
    params = _params()
    opt = _opt(params)
    grads = _grads(4)
    for g in grads[:3]:
        opt.step(g)
    exc, words, bad, *how = _bad_param_sets(params)[case]
    g = list(grads[3])
    if how:
        g[4] = bad[4]
    groups_before = [list(grp["params"]) for grp in opt.param_groups]
    before = snapshot(opt, params)
    with pytest.raises(exc, match=words):
        opt.step(g, params=bad)
    assert_same_snapshot(before, snapshot(opt, params))
    assert [list(grp["params"]) for grp in opt.param_groups] == groups_before
    assert all(a is b for grp, old in zip(opt.param_groups, groups_before) for a, b in zip(grp["params"], old))
    assert opt.step(grads[3]) and params[4].tobytes() != before[0][4]


def test_a_failed_step_with_params_keeps_the_old_binding():
    """The grads are checked against the new arrays, and on an error the old ones stay."""
    params = _params()
    opt = _opt(params)
    new = [p.copy() for p in params]
    grads = _grads(1)[0]
    bad = list(grads)
    bad[2] = np.zeros(7, np.float32)
    with pytest.raises(ValueError, match=r"grads\[2\] has shape \(7,\)"):
        opt.step(bad, params=new)
    assert opt.param_groups[1]["params"][0] is params[2]
    assert opt.step(grads)  # steps the old arrays
    assert params[0].tobytes() != new[0].tobytes()


# ---- param_groups[i]["params"]: refused, never ignored ----------------------------------------

EDITS = {
    "assign an entry": lambda ps, x: ps.__setitem__(0, x),
    "assign a slice": lambda ps, x: ps.__setitem__(slice(0, 1), [x]),
    "delete": lambda ps, x: ps.__delitem__(0),
    "append": lambda ps, x: ps.append(x),
    "extend": lambda ps, x: ps.extend([x]),
    "insert": lambda ps, x: ps.insert(0, x),
    "pop": lambda ps, x: ps.pop(),
    "remove": lambda ps, x: ps.remove(ps[0]),
    "clear": lambda ps, x: ps.clear(),
    "sort": lambda ps, x: ps.sort(key=id),
    "reverse": lambda ps, x: ps.reverse(),
    "+=": lambda ps, x: ps.__iadd__([x]),
    "*=": lambda ps, x: ps.__imul__(2),
}


@pytest.mark.parametrize("edit", sorted(EDITS))
def test_param_list_refuses_every_edit_and_says_what_to_do(edit):
    params = _params()
    opt = _opt(params)
    plist = opt.param_groups[0]["params"]
    with pytest.raises(TypeError, match=r"step\(grads, params=\[\.\.\.\]\).*add_param_group"):
        EDITS[edit](plist, np.zeros(6, np.float32))
    assert list(plist) == params[:2] and all(a is b for a, b in zip(plist, params[:2]))
    assert opt.step(_grads(1)[0])


def test_augmented_assignment_on_the_group_is_refused():
    opt = _opt(_params())
    with pytest.raises(TypeError, match="add_param_group"):
        opt.param_groups[0]["params"] += [np.zeros(3, np.float32)]
    assert len(opt.param_groups[0]["params"]) == 2


@pytest.mark.parametrize("how", ["assign", "delete", "replace the group dict"])
def test_a_replaced_params_key_is_refused_by_the_next_call(how):
    params = _params()
    opt = _opt(params)
    grads = _grads(2)
    opt.step(grads[0])
    before = snapshot(opt, params)
    group = opt.param_groups[1]
    ours = group["params"]
    theirs = [np.zeros((), np.float32), np.zeros(0, np.float32)]
    if how == "assign":
        group["params"] = theirs
    elif how == "delete":
        del group["params"]
    else:
        opt.param_groups[1] = {**group, "params": theirs}
    for call in (lambda: opt.step(grads[1]), lambda: opt.step(grads[1], params=params),
                 lambda: opt.step_flat(np.zeros(sum(p.size for p in params), np.float32)),
                 lambda: pickle.dumps(opt), lambda: copy.deepcopy(opt)):
        with pytest.raises(ValueError, match=r"param_groups\[1\]\['params'\] was replaced.*step\(grads, params="):
            call()
    assert_same_snapshot(before, snapshot(opt, params))
    if how == "replace the group dict":
        opt.param_groups[1] = group
    else:
        group["params"] = ours
    assert opt.step(grads[1])


def test_a_copied_group_dict_with_the_same_params_works_as_in_torch():
    params = _params()
    opt = _opt(params)
    opt.param_groups[0] = {**opt.param_groups[0], "lr": 0.0}
    before = params[0].tobytes()
    opt.step(_grads(1)[0])
    assert params[0].tobytes() == before and params[4].tobytes() != _params()[4].tobytes()


def test_param_lists_survive_copies_and_stay_read_only():
    params = _params()
    opt = _opt(params)
    for params2, opt2 in [copy.deepcopy((params, opt)), pickle.loads(pickle.dumps((params, opt)))]:
        plist = opt2.param_groups[0]["params"]
        assert type(plist) is type(opt.param_groups[0]["params"]) and plist[0] is params2[0]
        with pytest.raises(TypeError, match="add_param_group"):
            plist.append(params2[1])


# ---- grads: converted by default, refused with strict_grads ----------------------------------


def _strict_cases(shape=(2, 3)):
    return {
        "float64": (np.ones(shape), "float64"),
        "int32": (np.ones(shape, np.int32), "int32"),
        "list": (np.ones(shape).tolist(), "builtins.list"),
        "transposed": (np.ones(shape[::-1], np.float32).T, "not C-contiguous and aligned"),
        "broadcast": (np.broadcast_to(np.float32(1), shape), "read-only broadcast view"),
    }


@pytest.mark.parametrize("case", sorted(_strict_cases()))
def test_strict_grads_refuses_what_would_be_converted(case):
    grad, words = _strict_cases()[case]
    params = _params()
    opt = _opt(params, strict_grads=True)
    loose = _opt(_params())
    g = _grads(1)[0]
    g[1] = grad
    before = snapshot(opt, params)
    with pytest.raises(TypeError, match=rf"grads\[1\] is (a )?{words}.*strict_grads=True"):
        opt.step(g)
    assert_same_snapshot(before, snapshot(opt, params))
    assert loose.step(g)  # the default converts it
    opt.strict_grads = False
    assert opt.step(g)
    assert [p.tobytes() for p in params] == [p.tobytes() for p in loose.param_groups[0]["params"]
                                              + loose.param_groups[1]["params"] + loose.param_groups[2]["params"]]


def test_strict_grads_takes_readonly_float32_grads_without_a_copy():
    p = np.zeros(8, np.float32)
    opt = swiftadam.Adam([p], strict_grads=True)
    ro = np.frombuffer(np.ones(8, np.float32).tobytes(), np.float32)
    assert not ro.flags.writeable and opt.step([ro]) and p[0] != 0


def test_strict_grads_travels_with_copies_and_checkpoints():
    p = np.zeros(8, np.float32)
    opt = swiftadam.AdamW([p], strict_grads=True)
    assert opt.strict_grads is True
    for other in [copy.deepcopy(opt), pickle.loads(pickle.dumps(opt)),
                  swiftadam.Adam.from_bytes(opt.to_bytes(), [np.zeros(8, np.float32)], strict_grads=True)]:
        with pytest.raises(TypeError, match="strict_grads"):
            other.step([np.ones(8)])
    assert swiftadam.Adam.from_bytes(opt.to_bytes(), [np.zeros(8, np.float32)]).step([np.ones(8)])


def test_broadcast_params_are_named_as_such():
    with pytest.raises(ValueError, match=r"params\[0\] is a read-only broadcast view \(shape \(4,\), "
                                         r"strides \(0,\)") as e:
        swiftadam.Adam([np.broadcast_to(np.float32(1), (4,))])
    assert "C-contiguous" not in str(e.value) and "p.copy()" in str(e.value)


# ---- an estimator pickled with its optimizer ---------------------------------------------------


class Estimator:
    """What scikit-learn-style code holds: its arrays and the optimizer stepping them."""

    def __init__(self, params):
        self.coefs_ = params[:4]
        self.intercept_ = params[4]
        self.opt = _opt(params)

    def params(self):
        return self.coefs_ + [self.intercept_]


@pytest.mark.parametrize("how", ["pickle", "deepcopy"])
def test_an_estimator_pickled_with_its_optimizer_resumes_on_its_own_arrays(how):
    grads = _grads(40)
    straight = Estimator(_params())
    est = Estimator(_params())
    for g in grads[:20]:
        straight.opt.step(g)
        est.opt.step(g)
    est2 = pickle.loads(pickle.dumps(est)) if how == "pickle" else copy.deepcopy(est)
    held = [p for grp in est2.opt.param_groups for p in grp["params"]]
    assert all(a is b for a, b in zip(held, est2.params())) and len(held) == 5
    frozen = [p.tobytes() for p in est.params()]
    for g in grads[20:]:
        straight.opt.step(g)
        est2.opt.step(g)
    assert [p.tobytes() for p in est.params()] == frozen  # the original is untouched
    assert [p.tobytes() for p in est2.params()] == [p.tobytes() for p in straight.params()]
    assert_state_dicts_equal(est2.opt.state_dict(), straight.opt.state_dict())


def test_joblib_loses_shared_arrays_and_params_relinks_them(tmp_path):
    """joblib writes each reference to an ndarray as its own copy (no pickle memo), so the
    restored optimizer holds copies of the model's arrays; the first step after loading
    passes the model's arrays with params= and training continues bit-identically."""
    joblib = pytest.importorskip("joblib")
    grads = _grads(30)
    straight, est = Estimator(_params()), Estimator(_params())
    for g in grads[:15]:
        straight.opt.step(g)
        est.opt.step(g)
    joblib.dump(est, tmp_path / "est.joblib")
    est2 = joblib.load(tmp_path / "est.joblib")
    held = [p for grp in est2.opt.param_groups for p in grp["params"]]
    assert [p.tobytes() for p in held] == [p.tobytes() for p in est2.params()]
    est2.opt.step(grads[15], params=est2.params())
    straight.opt.step(grads[15])
    for g in grads[16:]:
        straight.opt.step(g)
        est2.opt.step(g)
    held = [p for grp in est2.opt.param_groups for p in grp["params"]]
    assert all(a is b for a, b in zip(held, est2.params()))
    assert [p.tobytes() for p in est2.params()] == [p.tobytes() for p in straight.params()]
