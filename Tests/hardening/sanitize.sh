#!/usr/bin/env bash
# make sanitize — the C tests (test_capi, test_matrix, test_leaks, test_golden,
# test_failed_saves, test_paths, test_fpmode, test_pool, test_unload, test_fork) built with
# -fsanitize=address,undefined against AddressSanitizer builds of the library (-Onone, where
# Swift's own bounds checks are on, and -O, where UnsafeBufferPointer checks compile away
# and only ASan sees an overrun), LeakSanitizer over 10^5 create/step/serialize/free cycles,
# and (SANITIZE_SWIFT_TEST=1, the default) the XCTest suite under ASan.
#
# How the pieces fit: `swift build --sanitize=address` instruments the library but does not
# link an ASan runtime into it (the .so only references __asan_*). The test executable is
# linked by the toolchain's clang with -fsanitize=address, which links the static runtime
# (libclang_rt.asan-x86_64.a) into the executable and exports its symbols, so the library
# resolves against it at load time. (A non-instrumented host such as python needs
# LD_PRELOAD=$(clang -print-file-name=libclang_rt.asan-x86_64.so) instead.) gcc's libasan is
# a different runtime and must not be mixed in: the tests are built with the toolchain clang.
set -euo pipefail
cd "$(dirname "$0")/../.."
source Tests/toolchain.sh   # SWIFT, CLANG
# A Swift trap under ASan otherwise hangs in the runtime's backtracer for 20+ minutes.
export SWIFT_BACKTRACE=enable=no
S=${SANITIZE_SCRATCH:-.build-asan}
t0=$SECONDS
step() { echo "== sanitize: $* ($((SECONDS - t0)) s)"; }

step "building the library with -sanitize=address (debug and release)"
"$SWIFT" build -c debug --scratch-path "$S" --sanitize=address --product SwiftAdam 2>&1 | grep -v '^\[' || true
test -f "$S/debug/libSwiftAdam.so"
ln -sf libSwiftAdam.so "$S/debug/libSwiftAdam.so.0"   # the SONAME the C tests will look for
"$SWIFT" build -c release --scratch-path "$S" --sanitize=address --product SwiftAdam 2>&1 | grep -v '^\[' || true
test -f "$S/release/libSwiftAdam.so"
ln -sf libSwiftAdam.so "$S/release/libSwiftAdam.so.0"

# Not here: test_oom caps RLIMIT_AS, and ASan reserves terabytes of shadow address space at
# start, so no cap can be both below the state sizes and above ASan's reservation;
# test_reader_limits asserts a peak RSS under 10 MB, which ASan's shadow and quarantine
# exceed before the first file is read (its files go through the reader under ASan in the
# fuzzer and test_golden); kill_save is about SIGKILL mid-save (200 saves of 32 MB states),
# where ASan adds run time but no memory check that test_failed_saves does not make.
# The C tests do not run under TSan: it does not support starting threads in the child of
# a multi-threaded fork(), which is what test_fork checks (test_paths and test_unload fork
# too); the library's own threading is under TSan in the XCTest run below.
mkdir -p "$S/out"
for cfg in debug release; do
    for src in Tests/c/test_capi.c Tests/c/test_matrix.c Tests/c/test_leaks.c Tests/golden/test_golden.c \
               Tests/c/test_failed_saves.c Tests/c/test_paths.c Tests/c/test_fpmode.c Tests/c/test_pool.c \
               Tests/c/test_unload.c Tests/c/test_fork.c; do
        t=$(basename "$src" .c)
        "$CLANG" -fuse-ld=lld -g -O1 -fno-omit-frame-pointer -fsanitize=address,undefined \
            -fno-sanitize-recover=all -Wall -Wextra -Werror -Iinclude "$src" \
            -L"$S/$cfg" -lSwiftAdam -Wl,-rpath,"$PWD/$S/$cfg" -lm -ldl -o "$S/out/$t.$cfg"
    done
done
"$CLANG" -O2 -Wall -Wextra -Werror -shared -fPIC Tests/c/failshim.c -o "$S/out/failshim.so" -ldl

# allocator_may_return_null: the matrix asks for 2^50-float states and expects
# SWIFTADAM_ERR_OUT_OF_MEMORY, not an ASan abort.
export ASAN_OPTIONS=allocator_may_return_null=1:detect_leaks=1:halt_on_error=1:detect_stack_use_after_return=1:strict_string_checks=1:check_initialization_order=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
run() {   # run <name> <cmd...>: output to a log, shown on failure; last line echoed
    local name=$1; shift
    local log="$S/out/$name.log"
    if ! (cd "$S/out" && "$@") > "$log" 2>&1; then
        cat "$log"; echo "== sanitize: $name FAILED" >&2; exit 1
    fi
    if grep -q "ERROR: \(AddressSanitizer\|LeakSanitizer\)\|runtime error:" "$log"; then
        cat "$log"; echo "== sanitize: $name: sanitizer report" >&2; exit 1
    fi
    echo "   $name: $(tail -n 1 "$log")"
}
for cfg in debug release; do
    step "C tests against the $cfg ASan library"
    for isa in scalar avx2; do run "test_capi.$cfg.$isa" env SWIFTADAM_ISA=$isa ./test_capi.$cfg; done
    run "test_matrix.$cfg" ./test_matrix.$cfg
    run "test_golden.$cfg" ./test_golden.$cfg "$PWD/Tests/golden"
    run "test_failed_saves.$cfg" env LD_PRELOAD="$PWD/$S/out/failshim.so" ./test_failed_saves.$cfg
    run "test_paths.$cfg" ./test_paths.$cfg
    run "test_fpmode.$cfg" ./test_fpmode.$cfg
    run "test_pool.$cfg" ./test_pool.$cfg
    run "test_unload.$cfg" ./test_unload.$cfg "$PWD/$S/$cfg/libSwiftAdam.so" 200
    run "test_fork.$cfg" ./test_fork.$cfg 20
done
step "LeakSanitizer + heap growth over 10^5 cycles (release ASan library)"
run test_leaks.release ./test_leaks.release 100000
run test_leaks.debug ./test_leaks.debug 10000

if [ "${SANITIZE_SWIFT_TEST:-1}" = 1 ]; then
    step "swift test --sanitize=address (XCTest reports false leaks under ASan: detect_leaks=0)"
    if ! ASAN_OPTIONS=detect_leaks=0:allocator_may_return_null=1 \
        "$SWIFT" test --scratch-path "$S" --sanitize=address > "$S/out/swift_test.log" 2>&1; then
        grep -E "error|failed|ERROR|Sanitizer" "$S/out/swift_test.log" | head -60
        echo "== sanitize: swift test FAILED (log $S/out/swift_test.log)" >&2; exit 1
    fi
    grep -E "Executed [0-9]+ tests" "$S/out/swift_test.log" | tail -n 1 | sed 's/^/   swift test: /'
    # A linker flag that hides the executable's symbols (a version script) would keep the
    # Swift runtime's shared libraries off ASan's allocator and silently weaken this run.
    # (nm's output is captured first: with pipefail, grep -q closing the pipe early would
    # fail the pipeline by SIGPIPE even when malloc is there.)
    exported=$(nm -D --defined-only "$S/debug/SwiftAdamPackageTests.xctest")
    if ! grep -qw malloc <<<"$exported"; then
        echo "== sanitize: the XCTest executable does not export ASan's malloc interceptor" >&2; exit 1
    fi
fi
if [ "${SANITIZE_SWIFT_TEST:-1}" = 1 ]; then
    # Same-state BUSY stress, states stepping in parallel, thread-count identity.
    step "swift test --sanitize=thread (concurrency and worker-pool tests)"
    T=.build-tsan
    mkdir -p "$T"
    if ! TSAN_OPTIONS=halt_on_error=1 "$SWIFT" test --scratch-path "$T" --sanitize=thread \
        --filter "ConcurrencyTests|ThreadIdentityTests" > "$T/swift_test_tsan.log" 2>&1 \
        || grep -q "ThreadSanitizer" "$T/swift_test_tsan.log"; then
        grep -E -A12 "ThreadSanitizer|error|failed" "$T/swift_test_tsan.log" | head -80
        echo "== sanitize: swift test under TSan FAILED (log $T/swift_test_tsan.log)" >&2; exit 1
    fi
    grep -E "Executed [0-9]+ tests" "$T/swift_test_tsan.log" | tail -n 1 | sed 's/^/   swift test (TSan): /'
fi
step "all clean"
