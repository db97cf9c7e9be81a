# Thin wrapper over CMake for the README's commands. CMake is canonical.
#
#   make run      install missing build deps, build, run the demo (scripts/demo.sh)
#   make check    install missing build + test deps, build, ctest; then the same under ASan+UBSan
#                 (without the `peers_heavy` label: the zarr-python 3.4 / zarrs / tensorstore
#                 matrices run once, in build/), then the API tests under TSan
#   make check-full  the Python-peer interop matrices whole (ZARRC_PEERS_FULL=1; the default run
#                 samples them), in build/ after installing the test deps; then the Python
#                 package's Dask test on 1 GiB (ZARRC_PY_DASK_MIB=1024; make check: 64 MiB)
#   make build    configure + build build/ (no installs)
#   make test     build + ctest in build/ (no installs)
#   make asan     configure + build + ctest in build-asan/ (no installs)
#   make tsan     the API tests under ThreadSanitizer in build-tsan/ (no installs)
#   make stress   the concurrency, kill -9 and extendable-array tests with many trials (STRESS_TRIALS,
#                 default 20; extend: 50 blocks per process, 40 kills per layout)
#   make install  cmake --install build/ (PREFIX=/usr/local by default)
#   make clean    remove build directories
#
# Variables: BUILD_DIR, ASAN_DIR, JOBS, BUILD_TYPE, PREFIX, CTEST_ARGS (e.g. CTEST_ARGS='-R interop'),
# ASAN_CTEST_EXCLUDE (default '-LE peers_heavy'; empty runs the peer matrices under ASan too).

SHELL := /bin/bash
MAKEFLAGS += --no-print-directory
.SHELLFLAGS := -eu -o pipefail -c

BUILD_DIR  ?= build
ASAN_DIR   ?= build-asan
JOBS       ?= 2
BUILD_TYPE ?= RelWithDebInfo
PREFIX     ?= /usr/local
CTEST_ARGS ?=

CMAKE ?= cmake
CTEST ?= ctest

ASAN_ENV := ASAN_OPTIONS=detect_leaks=1 \
            UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1

.PHONY: all run demo check check-full deps test-deps build test asan asan-build asan-test tsan \
        stress install clean
# Steps run in the order written even under `make -j` (CMake parallelizes the builds itself).
.NOTPARALLEL:

all: build

run: deps build demo

demo:
	scripts/demo.sh $(BUILD_DIR)/zarrc

check: test-deps build test asan tsan

check-full: test-deps build
	cd $(BUILD_DIR) && ZARRC_PEERS_FULL=1 $(CTEST) --output-on-failure -j$(JOBS) -L peers \
	    $(CTEST_ARGS)
	cd $(BUILD_DIR) && ZARRC_PY_DASK_MIB=1024 $(CTEST) --output-on-failure -R '^python\.package$$'

deps:
	scripts/install-deps.sh build

test-deps:
	scripts/install-deps.sh test

build:
	$(CMAKE) -S . -B $(BUILD_DIR) -DCMAKE_BUILD_TYPE=$(BUILD_TYPE) -DCMAKE_INSTALL_PREFIX=$(PREFIX)
	$(CMAKE) --build $(BUILD_DIR) -j$(JOBS)

test: build
	cd $(BUILD_DIR) && $(CTEST) --output-on-failure -j$(JOBS) $(CTEST_ARGS)

asan: asan-build asan-test

# -O1 keeps ASan stack traces useful while the codec-heavy tests stay fast.
asan-build:
	$(CMAKE) -S . -B $(ASAN_DIR) -DZARRC_SANITIZE=ON -DCMAKE_BUILD_TYPE=Debug \
	    -DCMAKE_C_FLAGS_DEBUG="-O1 -g"
	$(CMAKE) --build $(ASAN_DIR) -j$(JOBS)

# The peer matrices (label peers_heavy) drive the same zarrc code as in build/; they run there.
ASAN_CTEST_EXCLUDE ?= -LE peers_heavy
asan-test:
	cd $(ASAN_DIR) && $(ASAN_ENV) $(CTEST) --output-on-failure -j$(JOBS) $(ASAN_CTEST_EXCLUDE) \
	    $(CTEST_ARGS)

# ThreadSanitizer over the API tests (the parallel engine, pools, sharding, copy).
TSAN_DIR ?= build-tsan
tsan:
	$(CMAKE) -S . -B $(TSAN_DIR) -DZARRC_TSAN=ON -DCMAKE_BUILD_TYPE=Debug -DCMAKE_C_FLAGS_DEBUG="-O1 -g"
	$(CMAKE) --build $(TSAN_DIR) -j$(JOBS)
# api.test_limits measures peak RSS, which TSan's shadow memory makes meaningless (it runs in the
# normal and ASan builds); every other API test runs here.
	@echo "tsan: api.test_limits not run under TSan (it measures RSS; run in build/ and build-asan/)"
	cd $(TSAN_DIR) && TSAN_OPTIONS=halt_on_error=1 ZARRC_NUM_THREADS=4 $(CTEST) --output-on-failure \
	    -j$(JOBS) -R '^api\.' -E '^api\.test_limits$$'

# Many more trials of the multi-writer and crash tests than make check runs.
STRESS_TRIALS ?= 20
stress: build
	cd $(BUILD_DIR) && ZARRC_STRESS_TRIALS=$(STRESS_TRIALS) ZARRC_STRESS=1 ZARRC_EXTEND_STRESS=1 \
	    $(CTEST) --output-on-failure -R '^(api\.test_(concurrency|crash|extend)|interop_zp3\.extend)$$'

install: build
	$(CMAKE) --install $(BUILD_DIR) --prefix $(PREFIX)

clean:
	rm -rf $(BUILD_DIR) $(ASAN_DIR) $(TSAN_DIR)
