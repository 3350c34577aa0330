import numpy as np, swiftadam                       # fit y = X @ w_true by least squares

rng = np.random.default_rng(0)
X = rng.standard_normal((256, 8)).astype(np.float32)
y = X @ np.arange(1, 9, dtype=np.float32)
w = np.zeros(8, np.float32)                          # params: float32, updated in place
with swiftadam.Adam([w], lr=0.1) as opt:             # same arguments as torch.optim.Adam
    for step in range(400):
        err = X @ w - y
        opt.step([X.T @ err / len(y)])               # one grad per param, same order
        if step == 300:
            opt.param_groups[0]["lr"] = 0.01         # schedules work as in torch
print("w =", w.round(3), "loss =", float((err ** 2).mean()))
