"""Against torch.optim itself, when torch happens to be installed (never required)."""
import numpy as np
import pytest

import swiftadam
from adam_reference import random_grad, rel_error

torch = pytest.importorskip("torch")

CASES = [
    ("Adam", dict(lr=1e-2)),
    ("Adam", dict(lr=1e-2, weight_decay=1e-2)),
    ("Adam", dict(lr=1e-2, amsgrad=True, maximize=True)),
    ("AdamW", dict(lr=1e-2)),
    ("AdamW", dict(lr=1e-2, weight_decay=0.1, amsgrad=True)),
]


@pytest.mark.parametrize("name, kwargs", CASES)
def test_trajectory_matches_torch(name, kwargs):
    rng = np.random.default_rng(5)
    shapes = [(300,), (7, 9), ()]
    ours = [rng.uniform(-1, 1, size=s).astype(np.float32) for s in shapes]
    theirs = [torch.tensor(p.copy(), requires_grad=True) for p in ours]
    opt = getattr(swiftadam, name)(ours, **kwargs)
    topt = getattr(torch.optim, name)(theirs, foreach=False, **kwargs)
    for t in range(200):
        grads = [random_grad(rng, s) if not (i == 1 and t < 30) else None for i, s in enumerate(shapes)]
        for tp, g in zip(theirs, grads):
            tp.grad = None if g is None else torch.from_numpy(np.array(g, dtype=np.float32))
        topt.step()
        opt.step(grads)
    for p, tp in zip(ours, theirs):
        ref = tp.detach().numpy().astype(np.float64)
        assert rel_error(p, ref) <= 1e-5
    sd, tsd = opt.state_dict(), topt.state_dict()
    assert sorted(sd["state"]) == sorted(tsd["state"])
    for i, entry in sd["state"].items():
        assert entry["step"] == float(tsd["state"][i]["step"])
        assert rel_error(entry["exp_avg"], tsd["state"][i]["exp_avg"].numpy().astype(np.float64)) <= 1e-5
    # a torch state dict (converted to numpy) loads into swiftadam
    converted = {
        "state": {i: {k: (float(v) if k == "step" else v.numpy()) for k, v in e.items()}
                  for i, e in tsd["state"].items()},
        "param_groups": [{k: v for k, v in g.items()
                          if k in ("params", "lr", "betas", "eps", "weight_decay", "amsgrad", "maximize",
                                   "decoupled_weight_decay")} for g in tsd["param_groups"]],
    }
    fresh = getattr(swiftadam, name)([p.copy() for p in ours], **kwargs)
    fresh.load_state_dict(converted)
    assert fresh.state_dict()["state"].keys() == sd["state"].keys()
