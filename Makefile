# The two commands of the README:
#   make run    bootstrap, configure, build, run the main job
#   make test   bootstrap, configure, build, run every test suite, print counts
#
# Variables: BUILD_DIR (build), PRISM_VENV (.venv), JOBS (all cores),
# CMAKE_ARGS (extra -D options, e.g. -DPRISM_ENABLE_NVIDIA=OFF).

SHELL := /bin/bash
BUILD_DIR ?= build
PRISM_VENV ?= $(CURDIR)/.venv
LLVM_PREFIX ?= /usr/lib/llvm-22
JOBS ?= $(shell nproc)
CMAKE_ARGS ?=
export PRISM_VENV

.PHONY: all run test bootstrap configure build docs clean

all: build

bootstrap:
	@scripts/bootstrap.sh

# Configures once; afterwards ninja re-runs cmake by itself when a
# CMakeLists.txt changes.
configure: bootstrap
	@if [ ! -f $(BUILD_DIR)/build.ninja ]; then \
	  ccache=$$(command -v ccache || true); \
	  cmake -S . -B $(BUILD_DIR) -G Ninja \
	    -DCMAKE_BUILD_TYPE=Release \
	    -DCMAKE_C_COMPILER=$(LLVM_PREFIX)/bin/clang \
	    -DCMAKE_CXX_COMPILER=$(LLVM_PREFIX)/bin/clang++ \
	    -DLLVM_USE_LINKER=lld \
	    $${ccache:+-DCMAKE_CXX_COMPILER_LAUNCHER=$$ccache} \
	    $${ccache:+-DCMAKE_C_COMPILER_LAUNCHER=$$ccache} \
	    -DMLIR_DIR=$(LLVM_PREFIX)/lib/cmake/mlir \
	    -DLLVM_EXTERNAL_LIT=$(PRISM_VENV)/bin/lit \
	    -DPython3_EXECUTABLE=$(PRISM_VENV)/bin/python \
	    $(CMAKE_ARGS); \
	fi

build: configure
	@cmake --build $(BUILD_DIR) -j $(JOBS)

run: build
	@scripts/run-main-job.sh $(BUILD_DIR)

test: build
	@scripts/run-tests.sh $(BUILD_DIR)

# Regenerates the dialect reference in docs/ from ODS.
docs: build
	@cmake --build $(BUILD_DIR) --target mlir-doc
	@mkdir -p docs/dialects
	@cp $(BUILD_DIR)/docs/Dialects/Prism.md $(BUILD_DIR)/docs/Dialects/Tile.md docs/dialects/
	@echo "docs/dialects/{Prism,Tile}.md regenerated"

clean:
	rm -rf $(BUILD_DIR)
