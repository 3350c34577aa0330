"""`make bench`: every implementation x workload x thread count, each in its own processes.

Two floors per workload and thread count, both measured in this run by C kernels:
  memory roofline   the same 28 B/param traffic with trivial arithmetic (bench_adam roofline),
                    compiled for the CPU's widest vectors and for 256-bit ones: the faster;
  exact floor       torch's update with IEEE sqrt and two divisions over an L1-resident working
                    set (exactfloor.c): what correctly rounded arithmetic costs on this CPU.
The floor of a workload is the larger of the two. Every configuration runs --runs times (one
process each); a run gives best, median and p90 ns/param over its samples, and the table shows
the best of the runs' bests, the median of their medians and the median of their p90s, each
also as a ratio to the same statistic of the floor. Prints a markdown table and the targets,
and draws the chart (--chart). A second table: float64 and the keras flavour (C ABI, 1
thread), each against the roofline of its dtype (56 B/param for float64).
"""
import argparse
import os
import platform
import statistics
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
WORKLOADS = ["large", "group", "small", "tiny"]
LABEL = {"large": "1 × 16M", "large8m": "1 × 8M", "group": "40 × 27000", "small": "1 × 4096",
         "tiny": "1000 × 100"}
TOTAL = {"large": 16 << 20, "large8m": 8 << 20, "group": 40 * 27000, "small": 4096, "tiny": 100_000}
NAMES = {"roofline": "memory roofline (C)", "exact": "exact-arithmetic floor (C, in L1)",
         "swiftadam": "SwiftAdam (C ABI, aligned buffers)", "python": "SwiftAdam (Python, numpy arrays)",
         "python-flat": "SwiftAdam (Python step_flat, numpy arrays)", "numpy": "numpy textbook",
         "torch-fused": "torch fused", "swiftadam-keras": "SwiftAdam float32, keras (C ABI)",
         "roofline-f64": "float64 roofline (C, 56 B/param)", "swiftadam-f64": "SwiftAdam float64, torch (C ABI)",
         "swiftadam-f64-keras": "SwiftAdam float64, keras (C ABI)",
         "divfloor": "sqrt + 2 divisions only, float32 (AVX2)", "divfloor-f64": "sqrt + 2 divisions only, float64 (AVX2)"}
STATS = ("best", "median", "p90")
# float64 and the keras flavour (C ABI, 1 thread): the big tensor against its own roofline,
# and in cache, where the kernel is bound by its divisions and square root.
DTYPE_WORKLOADS = ["large8m", "small"]
DTYPE_IMPLS = ["roofline", "swiftadam", "swiftadam-keras", "roofline-f64", "swiftadam-f64", "swiftadam-f64-keras",
               "divfloor", "divfloor-f64"]


def dtype_of(impl):
    return "f64" if "-f64" in impl else "f32"


def run_once(cmd, env):
    out = subprocess.run(cmd, capture_output=True, text=True, env=env)
    if out.returncode != 0:
        return None, (out.stderr.strip().splitlines() or ["failed"])[-1]
    f = out.stdout.split()
    if f[0] == "exactfloor":   # exactfloor THREADS best median p90
        return {"threads": int(f[1]), "best": float(f[2]), "median": float(f[3]), "p90": float(f[4])}, None
    return {"threads": int(f[2]), "best": float(f[3]), "median": float(f[4]), "p90": float(f[5]),
            "rss": float(f[7]), "backend": f[8],
            "state_bpp": float(f[9]) if len(f) > 9 else None,
            "allocs": float(f[10]) if len(f) > 10 else None}, None


def measure(impl, wl, threads, cmd, runs, env=None):
    """`runs` processes of one configuration, combined: best of bests, medians of the rest."""
    got, err = [], None
    for _ in range(runs):
        r, err = run_once(cmd, env)
        if r is None:
            return {"impl": impl, "wl": wl, "threads": threads, "error": err}
        got.append(r)
    row = dict(got[0], impl=impl, wl=wl, threads=threads, runs=len(got))
    row["best"] = min(r["best"] for r in got)
    for k in ("median", "p90", "rss"):
        row[k] = statistics.median(r[k] for r in got if k in r) if k in got[0] else None
    if got[0].get("allocs") is not None:
        row["allocs"] = max(r["allocs"] for r in got)
    return row


def cpu_name():
    """The model name, with family and model (a VM's model name may be just "AMD EPYC")."""
    info = {}
    try:
        with open("/proc/cpuinfo") as fh:
            for line in fh:
                key, _, value = line.partition(":")
                info.setdefault(key.strip(), value.strip())
    except OSError:
        pass
    if "model name" not in info:
        return platform.processor() or "unknown"
    return f"{info['model name']} (family {info.get('cpu family', '?')} model {info.get('model', '?')})"


def roofline(wl, threads, cmd_of, args, env, impl="roofline"):
    """The roofline row: the faster (by median) of the native-width and 256-bit builds."""
    got = []
    for b, vec in ((args.bench_bin, "native vectors"), (args.bench_bin_256, "256-bit vectors")):
        if b:
            got.append(dict(measure(impl, wl, threads, cmd_of(b), args.runs, env), vec=vec))
    ok = [r for r in got if "error" not in r]
    return min(ok, key=lambda r: r["median"]) if ok else got[0]


def collect(args):
    rows = []
    py = [args.python]
    for threads in (1, 2):
        rows.append(dict(measure("exact", "-", threads, [args.exactfloor_bin, str(threads)], args.runs)))
    for wl in WORKLOADS:
        for threads in (1, 2):
            env = dict(os.environ, OMP_NUM_THREADS=str(threads))
            rows.append(roofline(wl, threads, lambda b: [b, "roofline", wl, str(threads)], args, env))
            rows.append(measure("swiftadam", wl, threads, [args.bench_bin, "swiftadam", wl, str(threads)], args.runs, env))
            rows.append(measure("python", wl, threads, py + [os.path.join(HERE, "python_step.py"), wl, str(threads)],
                                args.runs))
            if wl in ("group", "tiny"):
                rows.append(measure("python-flat", wl, threads,
                                    py + [os.path.join(HERE, "python_step.py"), wl, str(threads), "flat"], args.runs))
        rows.append(measure("numpy", wl, 1, py + [os.path.join(HERE, "numpy_adam.py"), wl], 1))
        if args.torch:
            rows.append(measure("torch-fused", wl, 1, py + [os.path.join(HERE, "torch_adam.py"), wl], 1))
    dtype_rows = []
    env = dict(os.environ, OMP_NUM_THREADS="1")
    for wl in DTYPE_WORKLOADS:
        for impl in DTYPE_IMPLS:
            if wl != "small" and impl.startswith("divfloor"):
                continue   # the divider floor is an in-cache figure
            if impl.startswith("roofline"):
                dtype_rows.append(roofline(wl, 1, lambda b: [b, impl, wl, "1"], args, env, impl))
            else:
                dtype_rows.append(measure(impl, wl, 1, [args.bench_bin, impl, wl, "1"], args.runs, env))
    return rows, dtype_rows


def print_dtype_table(rows):
    roof = {(r["wl"], dtype_of(r["impl"])): r for r in rows if r["impl"].startswith("roofline") and "error" not in r}
    print("\n| workload | implementation | ns/param best / median / p90 | GB/s (median) | × roofline of its dtype (median) |")
    print("|---|---|---|---|---|")
    for r in rows:
        if "error" in r:
            print(f"| {LABEL[r['wl']]} | {NAMES[r['impl']]} | error: {r['error']} | | |")
            continue
        rf = roof.get((r["wl"], dtype_of(r["impl"])))
        ratio = f"{r['median'] / rf['median']:.2f}" if rf and r["wl"] != "small" else ""
        gbs = f"{(56 if dtype_of(r['impl']) == 'f64' else 28) / r['median']:.1f}" if not r["impl"].startswith("div") else ""
        print(f"| {LABEL[r['wl']]} | {NAMES[r['impl']]} | {' / '.join(f'{r[s]:.3f}' for s in STATS)} | {gbs} | {ratio} |")


def floors(rows):
    """(workload, threads) -> {stat: floor, "kind": per stat, which floor is the larger}."""
    exact = {r["threads"]: r for r in rows if r["impl"] == "exact" and "error" not in r}
    out = {}
    for r in rows:
        if r["impl"] != "roofline" or "error" in r or r["threads"] not in exact:
            continue
        e = exact[r["threads"]]
        f = {s: max(r[s], e[s]) for s in STATS}
        f["kind"] = "roofline" if r["median"] >= e["median"] else "exact"
        out[(r["wl"], r["threads"])] = f
    return out


def print_table(rows, floor):
    print("\n| workload | implementation | threads | ns/param best / median / p90 | × floor best / median / p90 "
          "| µs/step (median) | GB/s (median) |")
    print("|---|---|---|---|---|---|---|")
    for r in rows:
        if r["impl"] == "exact":
            continue
        wl, t = LABEL[r["wl"]], r["threads"]
        if "error" in r:
            print(f"| {wl} | {NAMES[r['impl']]} | {t} | error: {r['error']} | | | |")
            continue
        f = floor.get((r["wl"], t))
        ratios = " / ".join(f"{r[s] / f[s]:.2f}" for s in STATS) if f else "n/a"
        ns = " / ".join(f"{r[s]:.3f}" for s in STATS)
        name = NAMES[r["impl"]] + (f", {r['vec']}" if "vec" in r else "")
        if r["impl"] == "roofline" and f and f["kind"] == "roofline":
            name = f"**{name}** (the floor)"
        print(f"| {wl} | {name} | {t} | {ns} | {ratios} | {r['median'] * TOTAL[r['wl']] * 1e-3:.2f} | "
              f"{28 / r['median']:.1f} |")
        if r["impl"] == "roofline":
            e = next((x for x in rows if x["impl"] == "exact" and x["threads"] == t and "error" not in x), None)
            if e:
                name = NAMES["exact"]
                if f and f["kind"] == "exact":
                    name = f"**{name}** (the floor)"
                ratios = " / ".join(f"{e[s] / f[s]:.2f}" for s in STATS)
                print(f"| {wl} | {name} | {t} | {' / '.join(f'{e[s]:.3f}' for s in STATS)} | {ratios} | "
                      f"{e['median'] * TOTAL[r['wl']] * 1e-3:.2f} | {28 / e['median']:.1f} |")


def get(rows, impl, wl, t):
    return next((r for r in rows if r["impl"] == impl and r["wl"] == wl and r["threads"] == t and "error" not in r),
                None)


def print_targets(rows, dtype_rows, floor):
    print("\ntargets (medians of this run):")
    checks = []
    pl, fl = get(rows, "python", "large", 1), floor.get(("large", 1))
    rl = get(rows, "roofline", "large", 1)
    if pl and rl:
        checks.append(("1 × 16M, numpy arrays from Python, 1 thread: <= 1.10 × roofline",
                       pl["median"] / rl["median"], 1.10, "×"))
    s, rf = get(rows, "swiftadam", "large", 1), rl
    if s and rf:
        checks.append(("1 × 16M, C ABI, 1 thread: <= 1.10 × roofline", s["median"] / rf["median"], 1.10, "×"))
    g, fg = get(rows, "swiftadam", "group", 1), floor.get(("group", 1))
    if g and fg:
        checks.append((f"40 × 27000, C ABI, 1 thread: <= 1.10 × floor ({fg['kind']})",
                       g["median"] / fg["median"], 1.10, "×"))
    pg = get(rows, "python", "group", 1)
    if pg and fg:
        checks.append((f"40 × 27000, numpy arrays from Python, 1 thread: <= 1.10 × floor ({fg['kind']})",
                       pg["median"] / fg["median"], 1.10, "×"))
    for impl, what in (("swiftadam", "C ABI"), ("python", "from Python")):
        a, b = get(rows, impl, "group", 1), get(rows, impl, "group", 2)
        if a and b:
            checks.append((f"40 × 27000, {what}: 2 threads >= 1.8 × faster than 1", a["median"] / b["median"],
                           -1.8, "×"))
    l2 = get(rows, "swiftadam", "large", 2)
    if s and l2:
        checks.append(("1 × 16M, C ABI: 2 threads >= 1.15 × faster than 1", s["median"] / l2["median"], -1.15, "×"))
    ps = get(rows, "python", "small", 1)
    if ps:
        checks.append(("1 × 4096 from Python: <= 3 µs/step", ps["median"] * 4096 * 1e-3, 3.0, "µs"))
    for impl, what in (("python", "step(list)"), ("python-flat", "step_flat")):
        pt = get(rows, impl, "tiny", 1)
        if pt:
            checks.append((f"1000 × 100 from Python, {what}: <= 150 µs/step", pt["median"] * 100, 150.0, "µs"))
    d, dr = get(dtype_rows, "swiftadam-f64", "large8m", 1), get(dtype_rows, "roofline-f64", "large8m", 1)
    if d and dr:
        checks.append(("float64 1 × 8M, 1 thread: <= 1.15 × the float64 roofline", d["median"] / dr["median"], 1.15, "×"))
    for impl, what in (("swiftadam", "torch"), ("swiftadam-keras", "keras")):
        a32 = get(dtype_rows, impl, "small", 1) or get(rows, impl, "small", 1)
        a64 = get(dtype_rows, impl.replace("swiftadam", "swiftadam-f64"), "small", 1)
        if a32 and a64:
            checks.append((f"in cache (1 × 4096), {what} flavour: float64 ns per byte <= 1.2 × float32's",
                           (a64["median"] / 56) / (a32["median"] / 28), 1.2, "×"))
    for name, val, bound, unit in checks:
        ok = val >= -bound if bound < 0 else val <= bound
        print(f"  [{'met' if ok else 'NOT met'}] {name}: {val:.3f} {unit}")


def print_memory(rows, dtype_rows):
    print("\nmemory:")
    for wl in WORKLOADS:
        r = get(rows, "swiftadam", wl, 1)
        if r and r.get("state_bpp") is not None:
            print(f"  state of {LABEL[wl]}: {r['state_bpp']:.3f} heap bytes/param resident (8 = m and v exactly)")
        for t in (1, 2):
            r = get(rows, "swiftadam", wl, t)
            if r and r.get("allocs") is not None:
                print(f"  heap allocations per step ({LABEL[wl]}, {t} thread{'s' if t > 1 else ''}): {r['allocs']:.3f}")
    r = get(dtype_rows, "swiftadam-f64", "large8m", 1)
    if r and r.get("state_bpp") is not None:
        print(f"  float64 state of {LABEL['large8m']}: {r['state_bpp']:.3f} heap bytes/param resident "
              f"(16 = m and v exactly); heap allocations per step: {r['allocs']:.3f}")


def chart(rows, floor, path, title):
    """ns/param per workload: one panel each, bars = medians, whiskers = best..p90."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    impls = [("roofline", "#bbbbbb"), ("exact", "#888888"), ("swiftadam", "#1f77b4"), ("python", "#ff7f0e"),
             ("python-flat", "#2ca02c")]
    fig, axes = plt.subplots(1, len(WORKLOADS), figsize=(4 * len(WORKLOADS), 4.2))
    for ax, wl in zip(axes, WORKLOADS):
        width = 0.8 / len(impls)
        # Up to 4x the floor: the figures that matter stay readable; taller bars are cut and labelled.
        top = 4 * max((f["median"] for (w, _), f in floor.items() if w == wl), default=1.0)
        for t in (1, 2):
            for k, (impl, color) in enumerate(impls):
                r = get(rows, impl, "-" if impl == "exact" else wl, t)
                if r is None:
                    continue
                x = t - 0.4 + (k + 0.5) * width
                ax.bar(x, min(r["median"], top), width, color=color, label=NAMES[impl] if t == 1 else None,
                       yerr=[[max(0, min(r["median"], top) - r["best"])], [max(0, min(r["p90"], top) - r["median"])]],
                       capsize=2)
                if r["median"] > top:
                    ax.text(x, top * 0.97, f"{r['median']:.2f}", rotation=90, ha="center", va="top", fontsize=7)
            f = floor.get((wl, t))
            if f:
                ax.hlines(f["median"], t - 0.45, t + 0.45, colors="k", linestyles="--",
                          label="floor (larger of the two)" if t == 1 else None)
        ax.set_ylim(0, top)
        ax.set_title(LABEL[wl])
        ax.set_xticks([1, 2], ["1 thread", "2 threads"])
        ax.set_ylabel("ns/param per step (median; whiskers best..p90)")
    legend = {}
    for ax in axes:
        for h, label in zip(*ax.get_legend_handles_labels()):
            legend.setdefault(label, h)
    fig.legend(list(legend.values()), list(legend.keys()), loc="lower center", ncol=3, fontsize=8)
    fig.suptitle(title, fontsize=10)
    fig.tight_layout(rect=(0, 0.12, 1, 0.95))
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    fig.savefig(path, dpi=110)
    print(f"\nchart: {path}")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bench-bin", default=os.path.join(HERE, "..", "out", "bench_adam"))
    ap.add_argument("--bench-bin-256", default=None, help="bench_adam built with 256-bit vectors (roofline only)")
    ap.add_argument("--exactfloor-bin", default=os.path.join(HERE, "..", "out", "exactfloor"))
    ap.add_argument("--python", default=sys.executable)
    ap.add_argument("--runs", type=int, default=3, help="processes per configuration")
    ap.add_argument("--chart", default=os.path.join(HERE, "..", "out", "bench.png"))
    args = ap.parse_args()
    try:
        import torch  # noqa: F401  (optional peer; never required)
        args.torch = True
    except ImportError:
        args.torch = False

    flags = open("/proc/cpuinfo").read() if os.path.exists("/proc/cpuinfo") else ""
    machine = (f"{cpu_name()}, {os.cpu_count()} cores, avx2={'avx2' in flags}, "
               f"avx512f={'avx512f' in flags}")
    print(f"machine: {machine}; load average {os.getloadavg()[0]:.2f}")
    rows, dtype_rows = collect(args)
    floor = floors(rows)
    backend = next((r["backend"] for r in rows if r["impl"] == "swiftadam" and "error" not in r), "?")
    print(f"backend: {backend}; {args.runs} runs per configuration")
    print_table(rows, floor)
    print("\nfloat64 and the keras flavour (C ABI, 1 thread):")
    print_dtype_table(dtype_rows)
    print_targets(rows, dtype_rows, floor)
    print_memory(rows, dtype_rows)
    print(f"load average after: {os.getloadavg()[0]:.2f}")
    chart(rows, floor, args.chart, f"{machine}; backend {backend}")


if __name__ == "__main__":
    main()
