# regd: the Makefile only wraps CMake (the source of truth) and the set-up script.
#   make run   installs missing packages, builds Release, starts regd on :8000
#   make test  installs missing packages, builds, runs every test through CTest
BUILD ?= build
JOBS ?= $(shell nproc 2>/dev/null || echo 2)
CMAKE_FLAGS ?= -DCMAKE_BUILD_TYPE=Release

.PHONY: all deps test-deps configure build run test e2e format clean

all: build

deps:
	@./scripts/install-deps.sh

test-deps:
	@./scripts/install-deps.sh --test

configure:
	@cmake -S . -B $(BUILD) $(CMAKE_FLAGS) >/dev/null

build: deps configure
	@cmake --build $(BUILD) -j $(JOBS) --target regd

run: build
	$(BUILD)/app/regd --data-dir ./data

test: test-deps configure
	@cmake --build $(BUILD) -j $(JOBS)
	@cd $(BUILD) && ctest --output-on-failure -j $(JOBS)

# Only the browser suite (make test runs it too).
e2e: test-deps configure
	@cmake --build $(BUILD) -j $(JOBS) --target regd
	@cd $(BUILD) && ctest --output-on-failure -R '^e2e$$'

format:
	@clang-format -i $$(git ls-files '*.h' '*.cc')

clean:
	rm -rf $(BUILD)
