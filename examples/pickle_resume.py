#!/usr/bin/env python3
"""Pickle a model together with its optimizer mid-training, load it in a new process (here:
a new object graph), and resume: the loaded optimizer steps the loaded model's arrays, and
the run ends bit-identical to one that never stopped.

    python examples/pickle_resume.py

The model is a softmax regression with two param groups (weights with weight decay, bias
without). pickle keeps shared objects shared (its memo): the arrays the model holds and the
arrays the optimizer steps come back as the same objects.
"""
import pickle

import numpy as np

import swiftadam

rng = np.random.default_rng(0)
X = rng.standard_normal((600, 20)).astype(np.float32)
labels = (X[:, :3].sum(1) > 0).astype(int) + (X[:, 3] > 1)      # 3 classes


class Model:
    def __init__(self):
        self.W = np.zeros((20, 3), np.float32)
        self.b = np.zeros(3, np.float32)
        self.opt = swiftadam.AdamW([{"params": [self.W], "weight_decay": 1e-2},
                                    {"params": [self.b], "weight_decay": 0.0}], lr=5e-2)

    def train_step(self):
        z = X @ self.W + self.b
        p = np.exp(z - z.max(1, keepdims=True))
        p /= p.sum(1, keepdims=True)
        loss = float(-np.log(p[np.arange(len(X)), labels]).mean())
        p[np.arange(len(X)), labels] -= 1
        p /= len(X)
        self.opt.step([X.T @ p, p.sum(0)])
        return loss


straight = Model()
for _ in range(200):
    straight.train_step()

model = Model()
for _ in range(100):
    model.train_step()
blob = pickle.dumps(model)                       # mid-training: arrays and optimizer together
del model
model = pickle.loads(blob)
assert model.opt.param_groups[0]["params"][0] is model.W   # the loaded optimizer steps the loaded W
for _ in range(100):
    loss = model.train_step()
same = model.W.tobytes() == straight.W.tobytes() and model.b.tobytes() == straight.b.tobytes()
print(f"pickle of {len(blob)} bytes at step 100; loss at step 200 {loss:.4f}; "
      f"bit-identical to the uninterrupted run: {same}")
