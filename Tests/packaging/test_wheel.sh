#!/usr/bin/env bash
# test_wheel.sh WHEEL: install the wheel into a fresh venv, with no Swift on PATH, from a
# temporary directory (so no checkout is on sys.path), then import it, check where the
# package and library come from, the README formula, and run the README quick start.
set -euo pipefail
whl=$(realpath "${1:?usage: test_wheel.sh WHEEL}")
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
python=$(${PYTHON:-python3} -c 'import sys; print(sys.executable)')
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
passed=0
ok() { passed=$((passed + 1)); echo "  ok: $*"; }
fail() { echo "test_wheel: FAIL: $*" >&2; echo "$passed passed, 1 failed"; exit 1; }

# PATH without any directory holding swift, and without this checkout's .venv.
path=$(tr ':' '\n' <<<"$PATH" | while read -r d; do
    if [ -n "$d" ] && [ ! -x "$d/swift" ] && [[ $d != "$root"* ]]; then printf '%s:' "$d"; fi; done)
path=${path%:}
run() { (cd "$tmp" && env -u PYTHONPATH -u VIRTUAL_ENV -u SWIFTADAM_LIBRARY PATH="$path" "$@"); }
if run sh -c 'command -v swift' > /dev/null; then fail "swift is still on PATH"; fi

run "$python" -m venv "$tmp/venv"
run "$tmp/venv/bin/python" -m pip install --quiet "$whl" || fail "pip install $(basename "$whl")"
ok "installed $(basename "$whl") into a fresh venv (no swift on PATH)"

cp "$here/wheel_check.py" "$root/examples/quickstart.py" "$tmp/"
# -I: neither the script's directory nor user site-packages nor PYTHON* variables.
run "$tmp/venv/bin/python" -I wheel_check.py > "$tmp/check.log" 2>&1 || { cat "$tmp/check.log"; fail "wheel_check.py"; }
cat "$tmp/check.log"; passed=$((passed + $(grep -c '^  ok:' "$tmp/check.log")))

out=$(run "$tmp/venv/bin/python" -I quickstart.py) || fail "quickstart.py"
"$tmp/venv/bin/python" -I - "$out" <<'PY' || fail "quick start result: $out"
import re, sys
import numpy as np
m = re.search(r"w = \[([^\]]*)\] loss = (\S+)", sys.argv[1])
w = np.array(m.group(1).split(), dtype=float)
sys.exit(0 if np.allclose(w, np.arange(1, 9), atol=1e-2) and float(m.group(2)) < 1e-4 else 1)
PY
ok "README quick start: $out"
echo "$passed passed, 0 failed"
