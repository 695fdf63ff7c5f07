# regd: the Makefile only wraps CMake (the source of truth) and the set-up script.
#   make run   installs missing packages, builds Release, starts regd on :8000
#   make test  installs missing packages, builds, runs every test through CTest,
#              then the fuzz targets for FUZZ_SECONDS (60; 0 skips them)
#   make bench installs wrk, builds Release, runs the benchmark suite (bench/README.md)
#   make test-asan  the C++ tests under AddressSanitizer + UBSan (build-asan)
#   make test-tsan  the C++ tests under ThreadSanitizer (build-tsan)
#   make fuzz       builds the libFuzzer targets with clang (build-fuzz) and runs
#                   them FUZZ_SECONDS in all (default 60)
BUILD ?= build
JOBS ?= $(shell nproc 2>/dev/null || echo 2)
CMAKE_FLAGS ?= -DCMAKE_BUILD_TYPE=Release

ASAN_BUILD ?= build-asan
TSAN_BUILD ?= build-tsan
FUZZ_BUILD ?= build-fuzz
FUZZ_SECONDS ?= 60
# Sanitizer builds: Debug (assertions on) compiled -O1 -g by
# cmake/sanitizers.cmake. The browser suite (e2e) is left out: it tests the
# page in Chromium, not regd's C++, and every C++ test (including those that
# start the real regd binary, sanitized too) still runs.
SAN_CMAKE_FLAGS = -DCMAKE_BUILD_TYPE=Debug -DREGD_REQUIRE_TESTS=ON -DREGD_E2E=OFF

.PHONY: all deps test-deps bench-deps fuzz-deps configure build run test e2e bench format clean \
	test-asan test-tsan fuzz

all: build

deps:
	@./scripts/install-deps.sh

test-deps:
	@./scripts/install-deps.sh --test

bench-deps:
	@./scripts/install-deps.sh --bench

fuzz-deps:
	@./scripts/install-deps.sh --fuzz

configure:
	@cmake -S . -B $(BUILD) $(CMAKE_FLAGS) -DREGD_REQUIRE_TESTS=OFF >/dev/null

build: deps configure
	@cmake --build $(BUILD) -j $(JOBS) --target regd

run: build
	$(BUILD)/app/regd --data-dir ./data

test: test-deps
	@cmake -S . -B $(BUILD) $(CMAKE_FLAGS) -DREGD_REQUIRE_TESTS=ON >/dev/null
	@cmake --build $(BUILD) -j $(JOBS)
	@cd $(BUILD) && ctest --output-on-failure -j $(JOBS)
	@if [ "$(FUZZ_SECONDS)" != 0 ]; then $(MAKE) --no-print-directory fuzz; fi

# The C++ tests with every sanitizer error fatal; reports from the test
# binary and from every regd it starts are printed (scripts/sanitized-ctest.sh).
test-asan: test-deps
	@cmake -S . -B $(ASAN_BUILD) $(SAN_CMAKE_FLAGS) -DREGD_SANITIZE=address,undefined >/dev/null
	@cmake --build $(ASAN_BUILD) -j $(JOBS)
	@./scripts/sanitized-ctest.sh $(ASAN_BUILD) $(JOBS)

test-tsan: test-deps
	@cmake -S . -B $(TSAN_BUILD) $(SAN_CMAKE_FLAGS) -DREGD_SANITIZE=thread >/dev/null
	@cmake --build $(TSAN_BUILD) -j $(JOBS)
	@./scripts/sanitized-ctest.sh $(TSAN_BUILD) $(JOBS)

# libFuzzer targets (tests/fuzz) built with clang, libFuzzer + ASan + UBSan;
# fails if any finds a crash. Longer: make fuzz FUZZ_SECONDS=3600.
fuzz: fuzz-deps
	@cmake -S . -B $(FUZZ_BUILD) -DCMAKE_CXX_COMPILER=clang++ -DCMAKE_BUILD_TYPE=Debug \
	  -DREGD_FUZZ=ON -DREGD_SANITIZE=address,undefined -DREGD_BUILD_TESTS=OFF >/dev/null
	@cmake --build $(FUZZ_BUILD) -j $(JOBS) --target fuzzers
	@FUZZ_SECONDS=$(FUZZ_SECONDS) ./scripts/fuzz.sh $(FUZZ_BUILD)

# Only the browser suite (make test runs it too).
e2e: test-deps
	@cmake -S . -B $(BUILD) $(CMAKE_FLAGS) -DREGD_REQUIRE_TESTS=ON >/dev/null
	@cmake --build $(BUILD) -j $(JOBS) --target regd
	@cd $(BUILD) && ctest --output-on-failure -R '^e2e$$'

# The benchmark suite: starts its own regd on a fresh temporary data dir,
# loopback only, about 3 minutes; prints a table and writes
# bench/results/latest.json. Not part of `make test`.
bench: bench-deps configure
	@cmake --build $(BUILD) -j $(JOBS) --target bench_programs
	@$(BUILD)/bench/regd_bench --regd $(BUILD)/app/regd --hello $(BUILD)/bench/regd_bench_hello \
	  --lua-dir $(CURDIR)/bench/wrk --out $(CURDIR)/bench/results/latest.json

format:
	@clang-format -i $$(git ls-files '*.h' '*.cc')

clean:
	rm -rf $(BUILD) $(ASAN_BUILD) $(TSAN_BUILD) $(FUZZ_BUILD)
