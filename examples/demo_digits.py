#!/usr/bin/env python3
"""Train a small numpy MLP on scikit-learn's digits with swiftadam.Adam (and plain SGD).

    python examples/demo_digits.py [--out out] [--epochs 30]

The model (64 -> 128 -> 10, ReLU, softmax cross-entropy) is plain numpy with the forward
and backward passes written by hand. Adam trains it; halfway through, the optimizer is
checkpointed (opt.save) with the model weights, and a second run resumes from that
checkpoint (swiftadam.Adam.load) and must end bit-identical to the uninterrupted run.
The loss curves of SGD and Adam are plotted to <out>/digits_loss.png.
Exits non-zero if Adam's test accuracy is below 95 %.
"""
import argparse
import os
import sys
import time

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from sklearn.datasets import load_digits  # noqa: E402
from sklearn.model_selection import train_test_split  # noqa: E402
from tqdm import tqdm  # noqa: E402

import swiftadam  # noqa: E402

HIDDEN = 128
TARGET_ACCURACY = 0.95


def load_data(seed):
    digits = load_digits()  # 1797 8x8 images, shipped with scikit-learn
    x = (digits.data / 16.0).astype(np.float32)
    y = digits.target.astype(np.int64)
    return train_test_split(x, y, test_size=0.25, stratify=y, random_state=seed)


def init_params(seed):
    rng = np.random.default_rng(seed)
    w1 = (rng.standard_normal((64, HIDDEN)) * np.sqrt(2.0 / 64)).astype(np.float32)
    w2 = (rng.standard_normal((HIDDEN, 10)) * np.sqrt(2.0 / HIDDEN)).astype(np.float32)
    return [w1, np.zeros(HIDDEN, np.float32), w2, np.zeros(10, np.float32)]


def forward(params, x):
    w1, b1, w2, b2 = params
    h = np.maximum(x @ w1 + b1, 0)
    return h, h @ w2 + b2


def loss_and_probs(logits, y):
    z = logits - logits.max(axis=1, keepdims=True)
    p = np.exp(z)
    p /= p.sum(axis=1, keepdims=True)
    loss = -np.log(p[np.arange(len(y)), y] + 1e-12).mean()
    return float(loss), p


def gradients(params, x, y):
    """Softmax cross-entropy loss and its gradients w.r.t. every param, by hand."""
    w1, b1, w2, b2 = params
    h, logits = forward(params, x)
    loss, p = loss_and_probs(logits, y)
    d_logits = p
    d_logits[np.arange(len(y)), y] -= 1
    d_logits /= len(y)
    d_w2 = h.T @ d_logits
    d_b2 = d_logits.sum(axis=0)
    d_h = d_logits @ w2.T
    d_h[h <= 0] = 0
    d_w1 = x.T @ d_h
    d_b1 = d_h.sum(axis=0)
    return loss, [d_w1, d_b1, d_w2, d_b2]


def evaluate(params, x, y):
    _, logits = forward(params, x)
    loss, _ = loss_and_probs(logits, y)
    return loss, float((logits.argmax(axis=1) == y).mean())


def train(name, params, update, data, epochs, batch_size, seed, history, on_epoch_end=None,
          start=0):
    """Mini-batch training; the batch order of epoch e depends only on (seed, e), so a
    run resumed at epoch e sees exactly the batches of the uninterrupted run."""
    x_train, x_test, y_train, y_test = data
    bar = tqdm(range(start, epochs), desc=f"{name:<13}", unit="epoch", initial=start, total=epochs,
               file=sys.stdout, dynamic_ncols=False, ncols=100)
    for epoch in bar:
        order = np.random.default_rng((seed, epoch)).permutation(len(x_train))
        losses = []
        for i in range(0, len(order), batch_size):
            idx = order[i:i + batch_size]
            loss, grads = gradients(params, x_train[idx], y_train[idx])
            update(grads)
            losses.append(loss)
        test_loss, acc = evaluate(params, x_test, y_test)
        history.append((epoch + 1, float(np.mean(losses)), test_loss, acc))
        bar.set_postfix(loss=f"{np.mean(losses):.4f}", test_acc=f"{acc:.2%}")
        if on_epoch_end is not None:
            on_epoch_end(epoch + 1)
    bar.close()
    return history[-1][3]


def plot(path, runs, resume_epoch):
    fig, (ax_loss, ax_acc) = plt.subplots(1, 2, figsize=(11, 4.2))
    styles = {"SGD": dict(color="tab:gray"), "Adam": dict(color="tab:blue"),
              "Adam (resumed)": dict(color="tab:orange", linestyle="--", marker="o", markersize=3)}
    for label, hist in runs.items():
        ep = [h[0] for h in hist]
        ax_loss.plot(ep, [h[1] for h in hist], label=f"{label} train", **styles[label])
        if label != "Adam (resumed)":
            ax_loss.plot(ep, [h[2] for h in hist], label=f"{label} test", alpha=0.6, linestyle=":",
                         color=styles[label]["color"])
        ax_acc.plot(ep, [100 * h[3] for h in hist], label=label, **styles[label])
    for ax in (ax_loss, ax_acc):
        ax.axvline(resume_epoch, color="tab:red", linewidth=0.8, alpha=0.6)
        ax.set_xlabel("epoch")
        ax.grid(alpha=0.3)
    ax_loss.set_yscale("log")
    ax_loss.set_ylabel("cross-entropy loss")
    ax_loss.set_title("Loss (red line: checkpoint saved / resumed)")
    ax_loss.legend(fontsize=8)
    ax_acc.set_ylabel("test accuracy (%)")
    lowest = min(100 * h[3] for hist in runs.values() for h in hist)
    ax_acc.set_ylim(max(0.0, 5 * np.floor(lowest / 5) - 2), 100.5)
    ax_acc.axhline(100 * TARGET_ACCURACY, color="black", linewidth=0.6, linestyle="--")
    ax_acc.set_title("Test accuracy")
    ax_acc.legend(fontsize=8, loc="lower right")
    fig.suptitle(f"numpy MLP 64-128-10 on scikit-learn digits — swiftadam {swiftadam.__version__} "
                 f"({swiftadam.backend()})")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", default="out", help="directory for the plot and checkpoint (default: out)")
    ap.add_argument("--epochs", type=int, default=30)
    ap.add_argument("--batch-size", type=int, default=32)
    ap.add_argument("--lr", type=float, default=2e-3, help="Adam's learning rate")
    ap.add_argument("--sgd-lr", type=float, default=0.05, help="plain SGD's learning rate")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)
    if args.epochs < 2:
        ap.error("--epochs must be at least 2 (the checkpoint is taken halfway)")
    os.makedirs(args.out, exist_ok=True)
    t0 = time.perf_counter()
    data = load_data(args.seed)
    print(f"digits: {len(data[0])} train / {len(data[1])} test images; swiftadam {swiftadam.__version__}, "
          f"backend {swiftadam.backend()}, library {swiftadam.library_path()}")

    # Plain SGD for comparison.
    sgd_params = init_params(args.seed)

    def sgd_update(grads):
        for p, g in zip(sgd_params, grads):
            p -= args.sgd_lr * g

    sgd_hist = []
    sgd_acc = train("SGD", sgd_params, sgd_update, data, args.epochs, args.batch_size, args.seed, sgd_hist)

    # Adam, checkpointed halfway.
    half = args.epochs // 2
    ckpt = os.path.join(args.out, "digits_adam.ckpt")
    model_ckpt = os.path.join(args.out, "digits_model.npz")
    params = init_params(args.seed)
    opt = swiftadam.Adam(params, lr=args.lr)

    def checkpoint(epoch):
        if epoch == half:
            opt.save(ckpt)  # atomic: temporary file, fsync, rename
            np.savez(model_ckpt, *params)

    adam_hist = []
    adam_acc = train("Adam", params, opt.step, data, args.epochs, args.batch_size, args.seed, adam_hist,
                     on_epoch_end=checkpoint)
    print(f"checkpoint after epoch {half}: {ckpt} ({os.path.getsize(ckpt)} bytes) + {model_ckpt}")

    # A new run: restore the model and the optimizer from the checkpoint, train the rest.
    with np.load(model_ckpt) as z:
        resumed = [np.ascontiguousarray(z[f"arr_{i}"], dtype=np.float32) for i in range(len(params))]
    resumed_opt = swiftadam.Adam.load(ckpt, resumed)
    st = resumed_opt.state_dict()["state"]
    print(f"resumed from {ckpt}: step {int(st[0]['step'])} per tensor, lr {resumed_opt.param_groups[0]['lr']}")
    resumed_hist = [adam_hist[half - 1]]
    resumed_acc = train("Adam resumed", resumed, resumed_opt.step, data, args.epochs, args.batch_size,
                        args.seed, resumed_hist, start=half)
    identical = all(np.array_equal(a, b) for a, b in zip(params, resumed))
    print(f"resumed run continues from epoch {half} to {args.epochs}: test accuracy {resumed_acc:.2%}; "
          f"{'bit-identical to' if identical else 'DIFFERENT from'} the uninterrupted run")
    opt.close()
    resumed_opt.close()

    png = os.path.abspath(os.path.join(args.out, "digits_loss.png"))
    plot(png, {"SGD": sgd_hist, "Adam": adam_hist, "Adam (resumed)": resumed_hist}, half)
    print(f"final test accuracy: Adam {adam_acc:.2%}, SGD {sgd_acc:.2%} (final train loss: Adam "
          f"{adam_hist[-1][1]:.4f}, SGD {sgd_hist[-1][1]:.4f})")
    print(f"loss curves written to {png}")
    print(f"done in {time.perf_counter() - t0:.1f} s")
    if adam_acc < TARGET_ACCURACY:
        print(f"FAIL: Adam's test accuracy {adam_acc:.2%} < {TARGET_ACCURACY:.0%}", file=sys.stderr)
        return 1
    if not identical:
        print("FAIL: the resumed run diverged from the uninterrupted one", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
