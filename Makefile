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

test: test-swift test-c test-python

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

clean:
	rm -rf .build $(OUT) $(VENV)
