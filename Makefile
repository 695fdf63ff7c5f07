# regd: the Makefile only wraps CMake (the source of truth) and the set-up script.
#   make run   installs missing packages, builds Release, starts regd on :8000
#   make test  installs missing packages, builds, runs every test through CTest
#   make bench installs wrk, builds Release, runs the benchmark suite (bench/README.md)
BUILD ?= build
JOBS ?= $(shell nproc 2>/dev/null || echo 2)
CMAKE_FLAGS ?= -DCMAKE_BUILD_TYPE=Release

.PHONY: all deps test-deps bench-deps configure build run test e2e bench format clean

all: build

deps:
	@./scripts/install-deps.sh

test-deps:
	@./scripts/install-deps.sh --test

bench-deps:
	@./scripts/install-deps.sh --bench

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
	rm -rf $(BUILD)
