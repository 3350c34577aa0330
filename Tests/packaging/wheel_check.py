"""Run by test_wheel.sh inside a fresh venv that holds only the installed wheel and numpy.

The package and the library it loads must both come from that venv's site-packages (no
checkout, no build tree), and the library must compute the README formula bit for bit:
float32 element operations in torch's order, the scalars computed in double and rounded
once to float."""
import math
import sys
from pathlib import Path

import numpy as np

import swiftadam

venv = Path(sys.prefix).resolve()
for what, path in (("package", swiftadam.__file__), ("library", swiftadam.library_path())):
    assert venv in Path(path).resolve().parents, f"{what} loaded from {path}, outside {venv}"
print(f"  ok: package and library from {venv.name}'s site-packages ({Path(swiftadam.library_path()).name})")

lr, b1, b2, eps = 0.01, 0.9, 0.999, 1e-8
rng = np.random.default_rng(7)
p = rng.standard_normal(1000).astype(np.float32)
ref, m, v = p.copy(), np.zeros_like(p), np.zeros_like(p)
f32 = np.float32
with swiftadam.Adam([p], lr=lr, betas=(b1, b2), eps=eps) as opt:
    for t in range(1, 6):
        g = rng.standard_normal(1000).astype(np.float32)
        opt.step([g])
        m = m + f32(1 - b1) * (g - m)               # torch's lerp, weight 0.1 < 0.5
        v = v * f32(b2) + (f32(1 - b2) * g) * g
        denom = np.sqrt(v) / f32(math.sqrt(1 - b2 ** t)) + f32(eps)
        ref = ref + (f32(-(lr / (1 - b1 ** t))) * m) / denom
        assert p.tobytes() == ref.tobytes(), f"step {t}: {np.count_nonzero(p != ref)} elements differ"
print("  ok: 5 steps bit-identical to the README formula in numpy float32")
