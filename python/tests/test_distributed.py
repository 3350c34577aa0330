"""swiftadam.distributed (ZeRO stage 1 over MPI): every test launches mpi_scenarios.py under
mpiexec in a new process group, with a timeout that kills the group, so a deadlock fails
the test instead of hanging CI. 3 ranks on 2 cores oversubscribe (MPICH allows it)."""
import hashlib
import importlib.util
import json
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
SCENARIOS = HERE / "mpi_scenarios.py"
MPIEXEC = Path(sys.executable).with_name("mpiexec")
HAVE_MPI = importlib.util.find_spec("mpi4py") is not None and MPIEXEC.exists()
# `make test` sets SWIFTADAM_REQUIRE_MPI=1: there a missing mpi4py/mpiexec is a failure.
REQUIRED = os.environ.get("SWIFTADAM_REQUIRE_MPI") == "1"
needs_mpi = pytest.mark.skipif(not HAVE_MPI and not REQUIRED,
                               reason="mpi4py / mpiexec not installed (pip install swiftadam[mpi])")


def launch(n, *args, results, program=SCENARIOS):
    results.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ, SWIFTADAM_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1",
               MPI_RESULTS=str(results))
    return subprocess.Popen([str(MPIEXEC), "-n", str(n), sys.executable, "-m", "mpi4py", str(program),
                             *map(str, args)], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True, start_new_session=True)


def read_results(results, n):
    per_rank = []
    for r in range(n):
        path = results / f"rank{r}.jsonl"
        per_rank.append([json.loads(line) for line in path.read_text().splitlines()] if path.exists() else [])
    return per_rank


def run_mpi(n, *args, results, timeout=40, program=SCENARIOS):
    """Run a scenario on n ranks; fail on a non-zero exit or after `timeout` seconds."""
    assert HAVE_MPI, "mpi4py and the MPI wheel's mpiexec must be in the venv (make venv)"
    p = launch(n, *args, results=results, program=program)
    try:
        out, _ = p.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(p.pid, signal.SIGKILL)
        out, _ = p.communicate()
        pytest.fail(f"mpiexec -n {n} {args[0]} did not finish within {timeout} s (deadlock?)\n{out[-4000:]}")
    assert p.returncode == 0, f"mpiexec -n {n} {args} exited {p.returncode}:\n{out[-6000:]}"
    if program != SCENARIOS:
        return out
    per_rank = read_results(results, n)
    assert all(per_rank), f"a rank reported nothing:\n{out[-4000:]}"
    return per_rank


def test_import_without_mpi4py_says_how_to_install():
    code = "import sys; sys.modules['mpi4py'] = None; import swiftadam.distributed"
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert r.returncode != 0
    assert "ImportError" in r.stderr and "pip install swiftadam[mpi]" in r.stderr, r.stderr
    assert "pip install mpi4py mpich" in r.stderr


def _adam_accepts(dtype):
    import numpy as np
    import swiftadam
    try:
        swiftadam.Adam([np.zeros(1, dtype)]).close()
        return True
    except TypeError:
        return False


@needs_mpi
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("world", [1, 2, 3])
def test_params_are_bit_identical_to_a_replay_of_the_averaged_grads(world, dtype, tmp_path):
    """Adam, AdamW (params and grads as views of one buffer: the in-place path) and
    AMSGrad+maximize; two param groups; odd tensor sizes incl. empty and 0-d; an lr
    schedule; step and step_flat; a None grad; a skipped non-finite step. Every step the
    scenario checks the averaging formula and compares every bit with swiftadam.Adam fed
    the averaged grads, and that all ranks hold the same bits. ZeroAdam is dtype-generic:
    float64 runs as soon as swiftadam.Adam accepts float64 params."""
    if not _adam_accepts(dtype):
        pytest.skip(f"swiftadam.Adam does not accept {dtype} params in this build")
    per_rank = run_mpi(world, "exact", dtype, results=tmp_path)
    itemsize = 8 if dtype == "float64" else 4
    for lines in per_rank:
        assert lines[-1]["scenario"] == "exact" and lines[-1]["compared_elements"] > 30000
        assert [x["config"] for x in lines[:-1]] == ["adam", "adamw", "amsgrad"]
    for c, per_elem in ((0, 2 * itemsize), (1, 2 * itemsize), (2, 3 * itemsize)):
        shards = sorted(tuple(lines[c]["shard"]) for lines in per_rank)
        numel = per_rank[0][c]["numel"]
        assert shards[0][0] == 0 and shards[-1][1] == numel
        assert all(a[1] == b[0] for a, b in zip(shards, shards[1:]))  # a partition of [0, N)
        assert max(b - a for a, b in shards) - min(b - a for a, b in shards) <= 1  # even split
        assert sum(lines[c]["state_bytes"] for lines in per_rank) == per_elem * numel


@needs_mpi
@pytest.mark.parametrize("world", [2, 3])
def test_a_bad_call_on_one_rank_raises_on_every_rank(world, tmp_path):
    (tmp_path / "saves").mkdir()
    per_rank = run_mpi(world, "hang", tmp_path / "saves", results=tmp_path / "r", timeout=30)
    last = world - 1
    expected_own = {"wrong_shape": "ValueError", "invalid_lr_on_one_rank": "ValueError",
                    "closed_on_one_rank": "ValueError"}
    cases = [x["case"] for x in per_rank[0] if "case" in x]
    assert cases == ["wrong_shape", "none_on_one_rank", "lr_differs", "invalid_lr_on_one_rank",
                     "kind_differs", "construct_mismatch", "closed_on_one_rank", "save_directory_differs"]
    for r, lines in enumerate(per_rank):
        for x in (x for x in lines if "case" in x):
            want = expected_own.get(x["case"], "CollectiveError") if r == last else "CollectiveError"
            assert x["outcome"] == want, (r, x)
            assert x["seconds"] < 5, (r, x)
            assert x["unchanged"], (r, x)
        assert lines[-1]["scenario"] == "hang" and lines[-1]["manifests"] == []  # nothing saved
    msgs = {x["case"]: x["message"] for x in per_rank[0] if "case" in x}
    assert "disagree on None grads at (rank 0: (1,), rank 1: None" in msgs["none_on_one_rank"]
    assert "disagree on param_groups[1]['lr'] (rank 0: 0.01, rank 1: 0.02" in msgs["lr_differs"]
    assert f"failed on rank {last}" in msgs["wrong_shape"]
    assert "disagree on directory" in msgs["save_directory_differs"]


def _check_manifest(directory, world):
    man = json.loads((directory / "manifest.json").read_text())
    assert man["world_size"] == world and len(man["partition"]) == world + 1
    named = {s["file"] for s in man["shards"]}
    assert named == {p.name for p in directory.iterdir() if p.name != "manifest.json"}
    for s in man["shards"]:
        data = (directory / s["file"]).read_bytes()
        assert len(data) == s["bytes"] and hashlib.sha256(data).hexdigest() == s["sha256"]
    return man


@needs_mpi
def test_sharded_checkpoint_reloads_bit_identical_across_world_sizes(tmp_path):
    """2 ranks: 7 steps, save, 8 more (and a same-world reload replaying those 8); 3 ranks
    load it, run 3 steps, save, run 5; 1 rank loads that and runs the last 5. Every resumed
    run must end with the bits of the uninterrupted one."""
    a, b, out = tmp_path / "ckpt_a", tmp_path / "ckpt_b", tmp_path / "out"
    out.mkdir()
    r = run_mpi(2, "ckpt_save", a, out, 7, 8, results=tmp_path / "r1")
    assert all(x[-1]["same_world_identical"] for x in r)
    assert _check_manifest(a, 2)["tensors"][0]["step"] == 7
    r = run_mpi(3, "ckpt_load", a, out, 7, 8, b, 3, results=tmp_path / "r2")
    assert all(x[-1]["identical"] for x in r)
    assert _check_manifest(b, 3)["tensors"][0]["step"] == 10
    r = run_mpi(1, "ckpt_resume2", b, out, 10, 5, results=tmp_path / "r3")
    assert r[0][-1]["identical"]

    bad = tmp_path / "ckpt_bad"
    shutil.copytree(b, bad)
    shard = sorted(bad.glob("shard-*-r1-*.ckpt"))[0]
    data = bytearray(shard.read_bytes())
    data[len(data) // 2] ^= 0x01
    shard.write_bytes(bytes(data))
    r = run_mpi(2, "ckpt_bad", bad, a, results=tmp_path / "r4")
    for lines in r:
        out = lines[-1]["outcomes"]
        assert "does not match the manifest" in out["corrupt"], out
        assert "shape" in out["shape"] and "no checkpoint" in out["missing"], out


@needs_mpi
def test_kill_during_saves_leaves_a_loadable_checkpoint(tmp_path):
    """SIGKILL a 2-rank job that saves after every step, at a random moment; the directory
    must load (on 1 rank) into exactly the state after the manifest's step count, and hold
    at most the files of one unfinished save besides the committed ones."""
    rng = random.Random(1234)
    for trial in range(4):
        d, res = tmp_path / f"dir{trial}", tmp_path / f"res{trial}"
        p = launch(2, "kill_saver", d, results=res)
        deadline = time.monotonic() + 30
        while not (res / "rank0.jsonl").exists():
            assert p.poll() is None and time.monotonic() < deadline, p.communicate()[0] if p.poll() else "no start"
            time.sleep(0.01)
        time.sleep(rng.uniform(0.0, 0.4))
        os.killpg(p.pid, signal.SIGKILL)
        p.communicate(timeout=30)
        r = run_mpi(1, "kill_check", d, results=tmp_path / f"check{trial}")[0][-1]
        assert r["identical"] and r["steps"] >= 1, r
        man = json.loads((d / "manifest.json").read_text())
        extra = set(r["files"]) - {"manifest.json"} - {s["file"] for s in man["shards"]}
        assert len({name.split("-")[1] for name in extra if name.startswith("shard-")}) <= 1, extra
        assert all(name.startswith("shard-") or name == "manifest.json.tmp" for name in extra), extra


@needs_mpi
def test_state_memory_per_rank_is_8_bytes_times_n_over_world(tmp_path):
    n = 1 << 22
    per_rank = run_mpi(2, "memory", n, results=tmp_path)
    for lines in per_rank:
        x = lines[-1]
        expected = 8 * n // 2
        assert x["state_bytes"] == expected
        print(f"rank {x['rank']}: state {x['rss_delta'] / 2**20:.2f} MiB resident "
              f"(8*N/world = {expected / 2**20:.2f} MiB, N = {n})")
        assert 0.95 * expected <= x["rss_delta"] <= 1.05 * expected + (1 << 20), x


@needs_mpi
def test_demo_ddp_follows_the_single_process_loss_curve(tmp_path):
    """examples/demo_ddp.py on 2 ranks (half of every batch each), 6 epochs: the same
    global batches as the single-process run, so the loss curves must agree closely."""
    demo = HERE.parents[1] / "examples" / "demo_ddp.py"
    out = run_mpi(2, "--out", tmp_path, "--epochs", 6, results=tmp_path / "r", timeout=120, program=demo)
    assert "params identical on all 2 ranks: True" in out, out[-3000:]
    rel = float(re.search(r"largest relative difference (\S+)", out).group(1))
    accs = re.search(r"test accuracy: ZeroAdam x2 ([\d.]+)%, single process ([\d.]+)%", out)
    print(f"demo_ddp, 6 epochs: largest relative loss difference {rel:.2e}; accuracy {accs.groups()}")
    assert rel < 1e-5 and float(accs.group(1)) >= 95.0, out[-3000:]
    assert (tmp_path / "ddp_ckpt" / "manifest.json").exists()
