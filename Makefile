# Two commands do everything on a fresh Debian machine with Swift installed:
#   make demo   installs what is missing, builds in release mode and runs the demo
#   make test   installs what is missing, builds and runs the whole test suite
SHELL := /bin/bash
APT_PACKAGES := libopenblas-openmp-dev liblapacke-dev libomp-dev zlib1g-dev libopenmpi-dev openmpi-bin

# OpenMP's header and runtime come from whichever libomp-*-dev package is installed.
OMP_PKG = $(shell dpkg-query -W -f='$${Package}\n' 'libomp-*-dev' 2>/dev/null | grep -E '^libomp-[0-9]+-dev$$' | sort -V | tail -1)
EQ_OMP_INCLUDE = $(shell dirname "$$(dpkg -L $(OMP_PKG) 2>/dev/null | grep '/omp\.h$$' | head -1)" 2>/dev/null)
EQ_OMP_LIB = $(shell dirname "$$(dpkg -L $(OMP_PKG) 2>/dev/null | grep '/libomp\.so$$' | head -1)" 2>/dev/null)

# The fast build: Package.swift holds no unsafe flags (so the package can be a versioned
# dependency), and these options turn on OpenMP and -O3 for the C kernels (in debug builds too,
# so the tests run at full speed). omp.h comes after the system headers (-idirafter), so the
# LLVM version that ships it never shadows the Swift compiler's own builtin headers. Without
# these options the kernels build and run serially (Docs/Library.md).
SWIFT_FLAGS = -Xcc -fopenmp -Xcc -O3 -Xcc -idirafter -Xcc $(EQ_OMP_INCLUDE) \
	-Xlinker -L$(EQ_OMP_LIB) -Xlinker -rpath -Xlinker $(EQ_OMP_LIB) -Xlinker -lomp

.PHONY: all deps flags build release test demo bench clean

all: build

deps:
	@missing=""; \
	for p in $(APT_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "==> installing system packages:$$missing"; \
	  SUDO=""; [ "$$(id -u)" -ne 0 ] && SUDO=sudo; \
	  $$SUDO apt-get update && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y $$missing; \
	else echo "==> system packages present: $(APT_PACKAGES)"; fi

# Each target re-enters make after deps so the OpenMP paths are read from the installed package.
build: deps
	@$(MAKE) --no-print-directory _build
_build:
	swift build $(SWIFT_FLAGS)

# `swift build $$(make -s flags)` gives any swift command the fast build's options.
flags:
	@echo $(SWIFT_FLAGS)

release: deps
	@$(MAKE) --no-print-directory _release
_release:
	swift build -c release --product deq $(SWIFT_FLAGS)

test: deps
	@$(MAKE) --no-print-directory _test
_test:
	swift build --build-tests $(SWIFT_FLAGS)
	swift build --product deq $(SWIFT_FLAGS)   # Tests/CLITests runs this executable
	swift test --skip-build --no-parallel
	@$(MAKE) --no-print-directory _test-distributed

# The collectives and data-parallel tests again, as 2 MPI ranks (they skip in the plain run).
# Open MPI refuses root unless told; CI and these machines run as root.
MPIRUN = OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 timeout 600 mpirun --oversubscribe -np 2
DISTRIBUTED_SUITES = CollectiveTests DataParallelTrainingTests
_test-distributed:
	for suite in $(DISTRIBUTED_SUITES); do $(MPIRUN) .build/debug/EquilibriumPackageTests.xctest DistributedTests.$$suite || exit 1; done

demo: deps
	@$(MAKE) --no-print-directory _demo
_demo: _release
	.build/release/deq demo

bench: deps
	@$(MAKE) --no-print-directory _release
	.build/release/deq bench kernels

clean:
	rm -rf .build
