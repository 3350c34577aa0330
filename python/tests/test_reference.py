"""swiftadam against a float64 numpy reference of torch.optim's semantics, every option."""
import math

import numpy as np
import pytest

import swiftadam
from adam_reference import RefParam, random_grad, rel_error

STEPS = 300
TOL = 1e-4
SHAPES = [(257,), (8, 33), (), (0,), (3, 4, 5)]


def make_params(rng, shapes):
    return [rng.uniform(-1, 1, size=s).astype(np.float32) for s in shapes]


def run_against_reference(rng, build, shapes_per_group, *, grad_mask=None, schedule=None,
                          steps=STEPS):
    """Build an optimizer with build(param lists), run `steps` steps on it and on the
    reference with the same grads, and check the norm-wise relative error of each param.

    grad_mask(t, i) -> False gives None for param i at step t; schedule(opt, t) may change
    opt.param_groups before step t (the reference reads the groups after it)."""
    groups = [make_params(rng, shapes) for shapes in shapes_per_group]
    flat = [p for g in groups for p in g]
    refs = [RefParam(p) for p in flat]
    initial = [p.copy() for p in flat]
    opt = build(groups)
    owner = [gi for gi, g in enumerate(groups) for _ in g]
    for t in range(steps):
        if schedule is not None:
            schedule(opt, t)
        grads = []
        for i, p in enumerate(flat):
            if grad_mask is not None and not grad_mask(t, i):
                grads.append(None)
                continue
            g = random_grad(rng, p.shape)
            grads.append(g)
            refs[i].update(g, opt.param_groups[owner[i]])
        assert opt.step(grads) is True
    sd = opt.state_dict()
    for i, (p, r) in enumerate(zip(flat, refs)):
        assert p.dtype == np.float32
        expected_step = r.step
        if expected_step:
            assert sd["state"][i]["step"] == float(expected_step)
        else:
            assert i not in sd["state"]
        if p.size == 0:
            continue
        assert not np.array_equal(p, initial[i]), f"param {i} did not move"
        err = rel_error(p, r.p)
        assert err <= TOL, f"param {i} shape {p.shape}: relative error {err:.3g} > {TOL}"
        if r.step:
            m_err = rel_error(sd["state"][i]["exp_avg"], r.m)
            v_err = rel_error(sd["state"][i]["exp_avg_sq"], r.v)
            assert m_err <= TOL and v_err <= TOL, (m_err, v_err)
            if opt.param_groups[owner[i]]["amsgrad"]:
                assert rel_error(sd["state"][i]["max_exp_avg_sq"], r.vmax) <= TOL
    opt.close()
    return refs


DEFAULTS = dict(lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, amsgrad=False,
                maximize=False, decoupled_weight_decay=False)

# name: (optimizer class, constructor kwargs, the hyperparameters torch would use)
OPTION_CASES = {
    "adam": (swiftadam.Adam, dict(lr=1e-2), dict(lr=1e-2)),
    "adam_l2": (swiftadam.Adam, dict(lr=1e-2, weight_decay=1e-2), dict(lr=1e-2, weight_decay=1e-2)),
    "adamw": (swiftadam.AdamW, dict(lr=1e-2),
              dict(lr=1e-2, weight_decay=1e-2, decoupled_weight_decay=True)),
    "adam_decoupled_kwarg": (swiftadam.Adam, dict(lr=1e-2, weight_decay=0.1, decoupled_weight_decay=True),
                             dict(lr=1e-2, weight_decay=0.1, decoupled_weight_decay=True)),
    "amsgrad": (swiftadam.Adam, dict(lr=1e-2, amsgrad=True), dict(lr=1e-2, amsgrad=True)),
    "maximize": (swiftadam.Adam, dict(lr=1e-2, maximize=True), dict(lr=1e-2, maximize=True)),
    "amsgrad_maximize_l2": (swiftadam.Adam, dict(lr=1e-2, weight_decay=0.05, amsgrad=True, maximize=True),
                            dict(lr=1e-2, weight_decay=0.05, amsgrad=True, maximize=True)),
    "adamw_amsgrad_maximize": (swiftadam.AdamW, dict(lr=1e-2, weight_decay=0.1, amsgrad=True, maximize=True),
                               dict(lr=1e-2, weight_decay=0.1, amsgrad=True, maximize=True,
                                    decoupled_weight_decay=True)),
    "betas_eps": (swiftadam.Adam, dict(lr=3e-3, betas=(0.8, 0.99), eps=1e-6),
                  dict(lr=3e-3, betas=(0.8, 0.99), eps=1e-6)),
    "betas_zero": (swiftadam.Adam, dict(lr=1e-3, betas=(0.0, 0.0)), dict(betas=(0.0, 0.0))),
}


def build_case(case):
    cls, kwargs, expected = OPTION_CASES[case]
    expected = {**DEFAULTS, **expected}

    def build(groups):
        opt = cls(groups[0], **kwargs)
        got = {k: v for k, v in opt.param_groups[0].items() if k != "params"}
        assert got == expected  # the reference follows param_groups: they must be right
        return opt

    return build


@pytest.mark.parametrize("case", sorted(OPTION_CASES))
def test_options_single_group(rng, case):
    # One multi-tensor group: the swiftadam_step path.
    run_against_reference(rng, build_case(case), [SHAPES])


@pytest.mark.parametrize("case", ["adam", "adamw_amsgrad_maximize", "adam_l2"])
def test_options_single_tensor(rng, case):
    # A one-tensor group: the swiftadam_step_tensor path.
    run_against_reference(rng, build_case(case), [[(4096,)]])


def test_lr_schedule_and_hyperparameter_changes(rng):
    """param_groups edits between steps take effect: lr every step (set_lr), betas, eps
    and weight_decay now and then (set_config)."""

    def schedule(opt, t):
        g = opt.param_groups[0]
        warm = min(1.0, (t + 1) / 30)
        g["lr"] = 2e-2 * warm * 0.5 * (1 + math.cos(math.pi * t / STEPS))
        if t == 100:
            g["betas"] = (0.85, 0.995)
            g["weight_decay"] = 0.02
        if t == 200:
            g["eps"] = 1e-5
            g["betas"] = [0.9, 0.999]  # a list works as in torch
            g["maximize"] = True

    run_against_reference(rng, lambda groups: swiftadam.Adam(groups[0], lr=0.0), [SHAPES],
                          schedule=schedule)
    run_against_reference(rng, lambda groups: swiftadam.Adam(groups[0], lr=0.0), [[(999,)]],
                          schedule=schedule)


def test_param_groups_each_with_own_hyperparameters(rng):
    def build(groups):
        return swiftadam.Adam(
            [
                {"params": groups[0]},
                {"params": groups[1], "lr": 3e-3, "weight_decay": 0.1, "decoupled_weight_decay": True},
                {"params": groups[2], "amsgrad": True, "betas": (0.5, 0.9), "maximize": True},
            ],
            lr=1e-2, weight_decay=1e-3,
        )

    def schedule(opt, t):
        for g, base in zip(opt.param_groups, (1e-2, 3e-3, 1e-2)):
            g["lr"] = base * (0.99 ** t)

    run_against_reference(rng, build, [[(100,), (7, 7)], [(2048,)], [(), (33,), (5, 6)]],
                          schedule=schedule)


def test_late_and_missing_grads(rng):
    """A tensor whose first grad arrives at step 40 (torch creates its state then), and
    one whose grad is None on random steps: their step counts lag and the bias correction
    follows their own counts."""
    holes = rng.random(STEPS) < 0.2

    def mask(t, i):
        if i == 1:
            return t >= 40
        if i == 2:
            return not holes[t]
        return True

    refs = run_against_reference(rng, lambda groups: swiftadam.Adam(groups[0], lr=1e-2, amsgrad=True),
                                 [[(64,), (128,), (9, 9)]], grad_mask=mask)
    assert refs[1].step == STEPS - 40
    assert refs[2].step == STEPS - int(holes.sum())
    # The same with single-tensor groups (None means no native call at all).
    refs = run_against_reference(
        rng, lambda groups: swiftadam.Adam([{"params": g} for g in groups], lr=1e-2),
        [[(64,)], [(128,)], [(9, 9)]], grad_mask=mask)
    assert refs[1].step == STEPS - 40


def test_never_stepped_tensor_is_untouched(rng):
    ps = make_params(rng, [(10,), (20,)])
    before = ps[1].copy()
    opt = swiftadam.Adam(ps, lr=0.1, weight_decay=0.5, decoupled_weight_decay=True)
    for _ in range(5):
        opt.step([random_grad(rng, (10,)), None])
    assert np.array_equal(ps[1], before)  # not even weight decay touches it (as torch)
    assert list(opt.state_dict()["state"]) == [0]
