#!/usr/bin/env python3
"""scikit-learn's MLPClassifier trained with SwiftAdam, through an adapter of a few lines.

    python examples/sklearn_mlp.py

scikit-learn's own Adam adds eps after the square root and folds the bias corrections
into the step size, which is Keras's formula: flavor="keras" computes it, in float64 (the
dtype scikit-learn trains in), on the arrays scikit-learn holds. The adapter passes the
model's current arrays with step(grads, params=...), so a classifier restored by
joblib (which copies arrays that the optimizer shares with the model) keeps training
its own arrays. scikit-learn has no public hook for the optimizer: the adapter takes the
place of its private AdamOptimizer (scikit-learn 1.9), with the same arguments. Prints
the test accuracy and the optimizer's time per step for both, and how far the loss curves
and weights of the two runs are apart after 50 epochs.
"""
import io
import time
import warnings
from unittest import mock

import joblib
import numpy as np
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split
from sklearn.neural_network import MLPClassifier, _multilayer_perceptron, _stochastic_optimizers

import swiftadam


class SwiftAdamOptimizer(_stochastic_optimizers.BaseOptimizer):
    """scikit-learn's optimizer interface over swiftadam.Adam (its AdamOptimizer's arguments)."""

    def __init__(self, params, learning_rate_init=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-8):
        super().__init__(learning_rate_init)
        self.opt = swiftadam.Adam(params, lr=learning_rate_init, betas=(beta_1, beta_2), eps=epsilon,
                                  flavor="keras", strict_grads=True)  # strict: no grad is copied

    def update_params(self, params, grads):
        self.opt.step(grads, params=params)


def fit(optimizer, X, y):
    """An MLPClassifier fitted with ``optimizer`` as its Adam; also the seconds per step."""
    spent, update = [], optimizer.update_params

    def timed(self, params, grads):
        t0 = time.perf_counter()
        update(self, params, grads)
        spent.append(time.perf_counter() - t0)

    clf = MLPClassifier(hidden_layer_sizes=(128,), solver="adam", learning_rate_init=1e-3, batch_size=64,
                        max_iter=50, random_state=0)
    with mock.patch.object(_multilayer_perceptron, "AdamOptimizer", optimizer), \
            mock.patch.object(optimizer, "update_params", timed), warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf.fit(X, y)
    return clf, spent


digits = load_digits()
X_train, X_test, y_train, y_test = train_test_split(digits.data / 16.0, digits.target, test_size=0.25,
                                                    stratify=digits.target, random_state=0)
results = {}
for name, optimizer in [("scikit-learn Adam", _stochastic_optimizers.AdamOptimizer), ("SwiftAdam", SwiftAdamOptimizer)]:
    clf, spent = fit(optimizer, X_train, y_train)
    results[name] = clf
    print(f"{name:18s} test accuracy {clf.score(X_test, y_test):.4f}; optimizer {np.median(spent) * 1e6:7.1f} us "
          f"per step (median of {len(spent)}), {clf.coefs_[0].dtype}")

ours, theirs = results["SwiftAdam"], results["scikit-learn Adam"]
gap = max(abs(a - b) / abs(b) for a, b in zip(ours.loss_curve_, theirs.loss_curve_))
wgap = max(float(np.max(np.abs(a - b)) / np.max(np.abs(b))) for a, b in zip(ours.coefs_, theirs.coefs_))
print(f"after {len(theirs.loss_curve_)} epochs: training loss {ours.loss_curve_[-1]:.17g} (SwiftAdam) vs "
      f"{theirs.loss_curve_[-1]:.17g} (scikit-learn); largest relative loss gap over all epochs {gap:.2e}; "
      f"largest weight difference relative to the largest weight {wgap:.2e}")

buf = io.BytesIO()
joblib.dump(results["SwiftAdam"], buf)
buf.seek(0)
restored = joblib.load(buf)
before = restored.coefs_[0].copy()
restored.partial_fit(X_train, y_train)  # one more epoch
held = restored._optimizer.opt.param_groups[0]["params"][0]
print(f"joblib round trip, then partial_fit: the optimizer steps the restored model's arrays: "
      f"{held is restored.coefs_[0] and not np.array_equal(before, restored.coefs_[0])}; "
      f"test accuracy {restored.score(X_test, y_test):.4f}")
