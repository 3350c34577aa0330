#!/usr/bin/env python3
"""A functional-style numpy loop: every step builds NEW arrays (a max-norm constraint via
np.clip, as libraries whose updates return arrays do), and SwiftAdam steps whatever arrays
are current through opt.step(grads, params=[...]), keeping each position's moments.

    python examples/functional_loop.py

A two-layer regression net (8 -> 16 -> 1, tanh). The same loop written in place
(np.clip(..., out=w)) must end bit-identical: the params= loop loses nothing.
"""
import numpy as np

import swiftadam

rng = np.random.default_rng(0)
X = rng.standard_normal((512, 8)).astype(np.float32)
y = np.sin(X @ rng.standard_normal(8).astype(np.float32))[:, None]


def init():
    r = np.random.default_rng(1)
    return [(r.standard_normal((8, 16)) * 0.3).astype(np.float32), np.zeros(16, np.float32),
            (r.standard_normal((16, 1)) * 0.3).astype(np.float32), np.zeros(1, np.float32)]


def loss_and_grads(w1, b1, w2, b2):
    h = np.tanh(X @ w1 + b1)
    err = h @ w2 + b2 - y                                  # d(loss)/d(out) * len(X) / 2
    dh = (err @ w2.T) * (1 - h * h)
    n = np.float32(len(X))
    return float((err ** 2).mean()), [X.T @ dh * 2 / n, dh.sum(0) * 2 / n, h.T @ err * 2 / n, err.sum(0) * 2 / n]


def train(in_place, steps=600):
    params = init()
    opt = swiftadam.Adam(params, lr=1e-2)
    for _ in range(steps):
        loss, grads = loss_and_grads(*params)
        if in_place:
            opt.step(grads)
            np.clip(params[0], -1.0, 1.0, out=params[0])
        else:
            opt.step(grads, params=params)                 # steps these arrays, whatever they are
            params = [np.clip(params[0], -1.0, 1.0)] + params[1:]  # a new w1 every step
    return loss, params


start = loss_and_grads(*init())[0]
loss, functional = train(in_place=False)
_, in_place = train(in_place=True)
same = all(a.tobytes() == b.tobytes() for a, b in zip(functional, in_place))
print(f"loss {start:.4f} -> {loss:.4f}; bit-identical to the in-place loop: {same}")
