"""The README's Python examples run and do what they say."""
import re
import subprocess
import sys
from pathlib import Path

import numpy as np

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
QUICKSTART = EXAMPLES / "quickstart.py"


def run_example(name):
    r = subprocess.run([sys.executable, str(EXAMPLES / name)], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    return r.stdout


def test_quickstart_runs_and_fits():
    src = QUICKSTART.read_text()
    assert len(src.strip().splitlines()) <= 15, "the README example must stay within 15 lines"
    out = run_example("quickstart.py")
    m = re.search(r"w = \[([^\]]*)\] loss = (\S+)", out)
    assert m, out
    w = np.array(m.group(1).split(), dtype=float)
    assert np.allclose(w, np.arange(1, 9), atol=1e-2) and float(m.group(2)) < 1e-4


def test_functional_loop_with_replaced_arrays_matches_the_in_place_loop():
    out = run_example("functional_loop.py")
    m = re.search(r"loss (\S+) -> (\S+); bit-identical to the in-place loop: (\w+)", out)
    assert m, out
    assert m.group(3) == "True" and float(m.group(2)) < 0.1 * float(m.group(1))


def test_model_pickled_with_its_optimizer_resumes_bit_identically():
    out = run_example("pickle_resume.py")
    m = re.search(r"loss at step 200 (\S+); bit-identical to the uninterrupted run: (\w+)", out)
    assert m, out
    assert m.group(2) == "True" and float(m.group(1)) < 0.5


def test_sklearn_mlp_trains_with_swiftadam_and_survives_joblib():
    out = run_example("sklearn_mlp.py")
    acc = dict(re.findall(r"^(scikit-learn Adam|SwiftAdam)\s+test accuracy (\S+); optimizer\s+\S+ us per step "
                          r"\(median of \d+\), float64$", out, flags=re.M))
    assert set(acc) == {"scikit-learn Adam", "SwiftAdam"}, out
    assert float(acc["SwiftAdam"]) >= 0.95 and abs(float(acc["SwiftAdam"]) - float(acc["scikit-learn Adam"])) < 0.02
    # keras flavour in float64 = scikit-learn's own Adam up to its op order (issue figure: <= 1e-10)
    gaps = re.search(r"after 50 epochs: .*largest relative loss gap over all epochs (\S+); "
                     r"largest weight difference relative to the largest weight (\S+)", out)
    assert gaps, out
    assert float(gaps.group(1)) <= 1e-10 and float(gaps.group(2)) <= 1e-10, out
    m = re.search(r"steps the restored model's arrays: (\w+); test accuracy (\S+)", out)
    assert m and m.group(1) == "True" and float(m.group(2)) >= 0.95, out
