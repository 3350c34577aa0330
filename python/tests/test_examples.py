"""The README's Python example (examples/quickstart.py) runs and does what it says."""
import re
import subprocess
import sys
from pathlib import Path

import numpy as np

QUICKSTART = Path(__file__).resolve().parents[2] / "examples" / "quickstart.py"


def test_quickstart_runs_and_fits():
    src = QUICKSTART.read_text()
    assert len(src.strip().splitlines()) <= 15, "the README example must stay within 15 lines"
    r = subprocess.run([sys.executable, str(QUICKSTART)], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    m = re.search(r"w = \[([^\]]*)\] loss = (\S+)", r.stdout)
    assert m, r.stdout
    w = np.array(m.group(1).split(), dtype=float)
    assert np.allclose(w, np.arange(1, 9), atol=1e-2) and float(m.group(2)) < 1e-4
