# SwiftAdam — the two set-up commands are `make demo` and `make test`.
SHELL := /bin/bash
export PATH := /opt/swift/usr/bin:$(PATH)

SWIFT      ?= swift
PYTHON     ?= python3
VENV       := .venv
VPY        := $(VENV)/bin/python
LIB        := .build/release/libSwiftAdam.so
CC         ?= cc
CFLAGS     ?= -O2 -Wall -Wextra -Werror
OUT        := out

.PHONY: all build test test-swift test-c test-python demo bench venv clean

all: build

# Release library with the Swift runtime linked in: C and Python users need no toolchain.
build: $(LIB)
$(LIB): Package.swift $(shell find Sources include -type f)
	$(SWIFT) build -c release -Xswiftc -static-stdlib
	@if ldd $(LIB) | grep -q libswift; then echo "error: $(LIB) depends on libswift*" >&2; exit 1; fi

test: test-swift test-c test-python test-hardening

test-swift:
	$(SWIFT) test

$(OUT)/test_capi: Tests/c/test_capi.c include/swiftadam.h $(LIB)
	@mkdir -p $(OUT)
	$(CC) $(CFLAGS) -Iinclude $< -L.build/release -lSwiftAdam -Wl,-rpath,'$$ORIGIN/../.build/release' -lm -o $@

$(OUT)/hello: examples/hello.c include/swiftadam.h $(LIB)
	@mkdir -p $(OUT)
	$(CC) $(CFLAGS) -Iinclude $< -L.build/release -lSwiftAdam -Wl,-rpath,'$$ORIGIN/../.build/release' -o $@

test-c: $(OUT)/test_capi $(OUT)/hello
	@echo "ldd $(LIB): no libswift* dependency"; ! ldd $(LIB) | grep libswift
	@# every kernel path must give the same trajectory, bit for bit
	set -o pipefail; cd $(OUT) && for isa in scalar simd sse2 avx2; do \
	    SWIFTADAM_ISA=$$isa ./test_capi > test_capi.$$isa.log || { cat test_capi.$$isa.log; exit 1; }; \
	    echo "SWIFTADAM_ISA=$$isa: $$(grep backend test_capi.$$isa.log) $$(grep 'trajectory hash' test_capi.$$isa.log)"; \
	done; test $$(grep -h 'trajectory hash' test_capi.*.log | sort -u | wc -l) -eq 1
	cd $(OUT) && ./test_capi
	@# an unknown SWIFTADAM_ISA is reported once on stderr (and the widest path used); a known one is not
	test "$$(SWIFTADAM_ISA=bogus $(OUT)/hello 2>&1 >/dev/null | grep -c 'SWIFTADAM_ISA=bogus is not a kernel path')" = 1
	test -z "$$(SWIFTADAM_ISA=SSE2 $(OUT)/hello 2>&1 >/dev/null)"
	$(OUT)/hello | tee /dev/stderr | grep -q "x = 3.0000 3.0000 3.0000 3.0000"

# The virtualenv: numpy at run time; pytest, tqdm, matplotlib, scikit-learn for tests and demo.
$(VENV)/.ready: python/pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(VPY) -m pip install --quiet --upgrade pip
	$(VPY) -m pip install --quiet numpy pytest tqdm matplotlib scikit-learn
	touch $@

venv: $(VENV)/.ready

# Installs the package (its build step compiles the Swift library and bundles it).
$(VENV)/.installed: $(VENV)/.ready $(LIB) $(shell find python -name '*.py' -o -name '*.toml')
	$(VPY) -m pip install --quiet ./python
	touch $@

# Run from the repository root so that `import swiftadam` is the INSTALLED package.
test-python: $(VENV)/.installed
	$(VPY) -m pytest -q python/tests

demo: $(VENV)/.installed
	$(VPY) examples/demo_digits.py --out $(OUT)

# Performance table of issue 4 (figures, not pass/fail): one process per configuration.
$(OUT)/bench_adam: benchmarks/bench_adam.c include/swiftadam.h $(LIB)
	@mkdir -p $(OUT)
	$(CC) -O3 -march=native -fopenmp -Iinclude $< -L.build/release -lSwiftAdam -Wl,-rpath,'$$ORIGIN/../.build/release' -o $@

bench: $(OUT)/bench_adam $(VENV)/.installed
	$(VPY) benchmarks/run.py --bench-bin $(OUT)/bench_adam --python $(VPY)

# ---- Hardening (issue 5): bad-input matrix, leaks, golden files, sanitizers, fuzzing ----
HARD_C := test_matrix test_leaks test_reader_limits
# The runtime under fork(), memory limits, a caller's floating-point mode, many states.
HARD_C += test_fork test_oom test_fpmode test_pool
$(addprefix $(OUT)/,$(HARD_C)): $(OUT)/%: Tests/c/%.c include/swiftadam.h $(LIB)
	@mkdir -p $(OUT)
	$(CC) $(CFLAGS) -pthread -Iinclude $< -L.build/release -lSwiftAdam -Wl,-rpath,'$$ORIGIN/../.build/release' -lm -o $@

$(OUT)/test_golden: Tests/golden/test_golden.c Tests/golden/golden_spec.h include/swiftadam.h $(LIB)
	@mkdir -p $(OUT)
	$(CC) $(CFLAGS) -Iinclude $< -L.build/release -lSwiftAdam -Wl,-rpath,'$$ORIGIN/../.build/release' -o $@

$(OUT)/failshim.so: Tests/hardening/failshim.c
	@mkdir -p $(OUT)
	$(CC) $(CFLAGS) -shared -fPIC $< -o $@ -ldl

$(OUT)/test_failed_saves $(OUT)/kill_save: $(OUT)/%: Tests/hardening/%.c include/swiftadam.h $(LIB)
	@mkdir -p $(OUT)
	$(CC) $(CFLAGS) -Iinclude $< -L.build/release -lSwiftAdam -Wl,-rpath,'$$ORIGIN/../.build/release' -ldl -o $@

HARD_BIN := $(addprefix $(OUT)/,$(HARD_C) test_golden failshim.so test_failed_saves kill_save)
KILL_TRIALS ?= 200
.PHONY: test-hardening hardening-long golden-regen
test-hardening: $(HARD_BIN)
	cd $(OUT) && ./test_matrix
	cd $(OUT) && ./test_leaks 100000
	$(OUT)/test_fork 60
	SWIFT_BACKTRACE=enable=no $(OUT)/test_oom
	$(OUT)/test_fpmode
	$(OUT)/test_pool
	$(OUT)/test_reader_limits
	$(OUT)/test_golden Tests/golden
	LD_PRELOAD=$(CURDIR)/$(OUT)/failshim.so $(OUT)/test_failed_saves
	$(OUT)/kill_save $(OUT)/kill_save.d $(KILL_TRIALS)

# The same with long runs: 2000 SIGKILLs, 10^6 leak-check cycles.
hardening-long: $(HARD_BIN)
	cd $(OUT) && ./test_leaks 1000000
	$(OUT)/kill_save $(OUT)/kill_save.d 2000

# AddressSanitizer + UBSan (C tests against ASan builds of the library at -Onone and -O),
# LeakSanitizer over 10^5 cycles, and the XCTest suite under ASan. Scratch: .build-asan.
.PHONY: sanitize fuzz fuzz-smoke fuzz-seeds
sanitize:
	Tests/hardening/sanitize.sh

# libFuzzer on the checkpoint reader: 2 targets x (-Onone, -O), FUZZ_SECONDS each (the two
# builds of a target run in parallel). Scratch: .build-fuzz. Figures: Tests/fuzz/RESULTS.md.
FUZZ_SECONDS ?= 300
fuzz:
	Tests/fuzz/run.sh $(FUZZ_SECONDS)

fuzz-smoke:
	Tests/fuzz/run.sh 30

# Regenerates the committed seed corpus (Tests/fuzz/corpus) from the release library.
fuzz-seeds: $(LIB)
	@mkdir -p $(OUT)
	$(CC) $(CFLAGS) -Iinclude Tests/fuzz/make_seeds.c -L.build/release -lSwiftAdam -Wl,-rpath,'$$ORIGIN/../.build/release' -o $(OUT)/make_seeds
	cd Tests/fuzz && ../../$(OUT)/make_seeds

# Rewrites the golden files into $(OUT)/golden for inspection (never over the committed ones).
golden-regen: $(LIB)
	@mkdir -p $(OUT)/golden
	$(CC) $(CFLAGS) -Iinclude Tests/golden/make_golden.c -L.build/release -lSwiftAdam -Wl,-rpath,'$$ORIGIN/../../.build/release' -o $(OUT)/golden/make_golden
	cd $(OUT)/golden && ./make_golden && for f in *.ckpt; do cmp $$f ../../Tests/golden/$$f && echo "$$f: identical"; done

clean:
	rm -rf .build $(OUT) $(VENV)
