#!/usr/bin/env bash
# make fuzz FUZZ_SECONDS=N / make fuzz-smoke — libFuzzer on the checkpoint reader.
#
# Targets (C harnesses over the C ABI, Tests/fuzz/*.c):
#   fuzz_deserialize  arbitrary bytes -> swiftadam_deserialize and swiftadam_load
#   fuzz_roundtrip    state from the input -> serialize -> deserialize -> identical
# Each runs against two builds of the library, both instrumented for coverage and ASan
# (`swift build -Xswiftc -sanitize=fuzzer,address`; note SwiftPM's `--sanitize=fuzzer
# --sanitize=address` passes two -sanitize flags and the last one wins, which silently
# drops the coverage instrumentation): -Onone (debug: Swift's bounds checks on) and -O
# (release: UnsafeBufferPointer checks compiled away, only ASan sees an overrun). The two
# builds of one target run in parallel (one per core) for N seconds, then the next target.
#
# Usage: Tests/fuzz/run.sh SECONDS [target...]
# Env:   FUZZ_SCRATCH (default .build-fuzz), FUZZ_LOG (append a summary line per run)
set -euo pipefail
cd "$(dirname "$0")/../.."
source Tests/toolchain.sh   # SWIFT, CLANG
# A Swift trap under ASan otherwise hangs in the runtime's backtracer; with it off the
# fuzzer reports the crash and exits.
export SWIFT_BACKTRACE=enable=no
SECONDS_PER_RUN=${1:?usage: run.sh SECONDS [target...]}
shift
TARGETS=("$@")
[ ${#TARGETS[@]} -gt 0 ] || TARGETS=(fuzz_deserialize fuzz_roundtrip)
S=${FUZZ_SCRATCH:-.build-fuzz}

for cfg in debug release; do
    "$SWIFT" build -c $cfg --scratch-path "$S" -Xswiftc -sanitize=fuzzer,address --product SwiftAdam 2>&1 | grep -v '^\[' || true
    test -f "$S/$cfg/libSwiftAdam.so"
    ln -sf libSwiftAdam.so "$S/$cfg/libSwiftAdam.so.0"   # the SONAME the fuzz targets look for
done
mkdir -p "$S/out" "$S/artifacts"
for t in "${TARGETS[@]}"; do
    for cfg in debug release; do
        "$CLANG" -fuse-ld=lld -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
            -Wall -Wextra -Werror -Iinclude "Tests/fuzz/$t.c" -L"$S/$cfg" -lSwiftAdam \
            -Wl,-rpath,"$PWD/$S/$cfg" -lm -o "$S/out/$t.$cfg"
    done
done

# quarantine_size_mb: keeps RSS low over long runs (the default 256 MB quarantine plus
# libFuzzer's own state otherwise grows toward -rss_limit_mb).
export ASAN_OPTIONS=detect_leaks=1:quarantine_size_mb=32:halt_on_error=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1

status=0
for t in "${TARGETS[@]}"; do
    name=${t#fuzz_}
    corpus="$S/corpus/$name"
    mkdir -p "$corpus"
    seeds=("Tests/fuzz/corpus/$name")
    [ "$name" = deserialize ] && seeds+=(Tests/golden)
    opts=(-max_total_time="$SECONDS_PER_RUN" -timeout=10 -malloc_limit_mb=64 -rss_limit_mb=2048
          -print_final_stats=1 -artifact_prefix="$S/artifacts/$t.")
    [ "$name" = deserialize ] && opts+=(-max_len=8192 -dict=Tests/fuzz/checkpoint.dict)
    [ "$name" = roundtrip ] && opts+=(-max_len=4096)
    pids=()
    for cfg in debug release; do
        "$S/out/$t.$cfg" "${opts[@]}" "$corpus" "${seeds[@]}" > "$S/out/$t.$cfg.log" 2>&1 &
        pids+=($!)
    done
    for i in 0 1; do
        cfg=$([ $i = 0 ] && echo debug || echo release)
        log="$S/out/$t.$cfg.log"
        if ! wait "${pids[$i]}"; then
            echo "== fuzz: $t ($cfg) FAILED — log $log, artifacts in $S/artifacts:" >&2
            grep -A40 -m1 "ERROR\|property violated\|Sanitizer\|deadly signal" "$log" >&2 || tail -50 "$log" >&2
            status=1
            continue
        fi
        execs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$')
        last=$(grep -E '^#[0-9]+' "$log" | tail -1)
        cov=$(echo "$last" | grep -o 'cov: [0-9]*' | grep -o '[0-9]*')
        ft=$(echo "$last" | grep -o 'ft: [0-9]*' | grep -o '[0-9]*')
        rate=$(grep -o 'stat::average_exec_per_sec: *[0-9]*' "$log" | grep -o '[0-9]*$')
        line="$t $( [ $cfg = debug ] && echo -Onone || echo -O ): $execs executions in ${SECONDS_PER_RUN} s ($rate/s), cov $cov ft $ft, corpus $(ls "$corpus" | wc -l) files, 0 crashes"
        echo "== fuzz: $line"
        [ -n "${FUZZ_LOG:-}" ] && echo "$(date -u +%FT%TZ) $line" >> "$FUZZ_LOG"
    done
done
exit $status
