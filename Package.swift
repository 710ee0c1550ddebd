// swift-tools-version: 6.1
import PackageDescription

// Only settings SwiftPM accepts in a dependency pinned by version: no unsafeFlags. The kernels pick
// AVX2+FMA or portable loops at run time (Sources/CKernels/kernels_isa.h), so no -m flag is needed;
// OpenMP and -O3 are build options (`-Xcc -fopenmp -Xcc -O3`, libomp through `-Xlinker`) that the
// Makefile passes and Docs/Library.md lists; without them the kernels build and run serially.
let package = Package(
    name: "Equilibrium",
    platforms: [.macOS(.v14)],
    products: [
        .library(name: "Tensors", targets: ["Tensors"]),
        .library(name: "Solvers", targets: ["Solvers"]),
        .library(name: "DEQ", targets: ["DEQ"]),
        .library(name: "NN", targets: ["NN"]),
        .library(name: "Datasets", targets: ["Datasets"]),
        .library(name: "Models", targets: ["Models"]),
        .library(name: "Training", targets: ["Training"]),
        .library(name: "Distributed", targets: ["Distributed"]),
        // Test and benchmark support (op catalog, solver test problems, kernel workloads,
        // reference harnesses): what `deq gradcheck`/`deq bench`, the tests and Benchmarks/ share.
        .library(name: "Benchmarking", targets: ["Benchmarking"]),
        .executable(name: "deq", targets: ["deq"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
    ],
    targets: [
        .target(
            name: "CKernels",
            linkerSettings: [
                .linkedLibrary("openblas"),
                .linkedLibrary("lapacke"),
                .linkedLibrary("m"),
            ]
        ),
        // The system zlib (Debian zlib1g-dev) for gzip-compressed data files.
        .target(name: "CZlib", linkerSettings: [.linkedLibrary("z")]),
        .target(name: "Tensors", dependencies: ["CKernels"]),
        .target(name: "Solvers", dependencies: ["Tensors", "CKernels"]),
        .target(name: "DEQ", dependencies: ["Tensors", "Solvers"]),
        .target(name: "NN", dependencies: ["Tensors", "CKernels"]),
        .target(name: "Datasets", dependencies: ["Tensors", "CZlib"]),
        .target(name: "Models", dependencies: ["NN", "Tensors", "DEQ", "Solvers"]),
        // MPI from Debian's libopenmpi-dev, found with pkg-config: only `deq` and users of the
        // Distributed product link it.
        .systemLibrary(name: "CMPI", pkgConfig: "ompi-c", providers: [.apt(["libopenmpi-dev"])]),
        // Distributed makes its Communicator the Trainer's DataParallelGroup (Training itself
        // never links MPI).
        .target(name: "Distributed", dependencies: ["CMPI", "Tensors", "Training"]),
        .target(name: "Training", dependencies: ["Datasets", "Models", "NN", "Tensors"]),
        .target(name: "Benchmarking", dependencies: ["CKernels", "Tensors", "Solvers", "DEQ", "NN", "Models", "Training"]),
        .executableTarget(
            name: "deq",
            dependencies: [
                "Tensors",
                "Solvers",
                "DEQ",
                "NN",
                "Datasets",
                "Models",
                "Training",
                "Distributed",
                "Benchmarking",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        // Bring your own model (Docs/Architecture.md): a user's cell, task and the library's
        // training loop; `make test` runs it and resumes it (Tests/CLITests/CustomDEQTests).
        .executableTarget(name: "CustomDEQ", dependencies: ["DEQ", "NN", "Tensors", "Training"], path: "Examples/CustomDEQ"),
        .testTarget(name: "TensorsTests", dependencies: ["Tensors", "Benchmarking"]),
        .testTarget(name: "SolversTests", dependencies: ["Solvers", "Tensors", "Benchmarking"]),
        .testTarget(name: "DEQTests", dependencies: ["DEQ", "Solvers", "Tensors"]),
        .testTarget(name: "NNTests", dependencies: ["NN", "Tensors"], exclude: ["Fixtures"]),
        .testTarget(name: "DatasetsTests", dependencies: ["Datasets", "Tensors"]),
        .testTarget(name: "DistributedTests", dependencies: ["Distributed", "Training", "Models", "Datasets", "Tensors"]),
        .testTarget(name: "TrainingTests", dependencies: ["Training", "Models", "Datasets", "NN", "Tensors"]),
        // Runs the built `deq` executable on bad inputs (no library dependency: it tests the tool as
        // a user runs it; `make test` builds `deq` first).
        .testTarget(name: "CLITests"),
    ],
    swiftLanguageModes: [.v6]
)

// `EQ_CUDA=1 swift build` adds the GPU path (Docs/CUDA.md): CCUDA opens the CUDA driver, cuBLAS
// and NVRTC with dlopen at run time, so this builds without a CUDA toolkit; without the variable
// the package is exactly the CPU one above.
if Context.environment["EQ_CUDA"] == "1" {
    package.products.append(.library(name: "CUDA", targets: ["CUDA"]))
    package.targets += [
        .target(name: "CCUDA", linkerSettings: [.linkedLibrary("dl")]),
        .target(name: "CUDA", dependencies: ["CCUDA", "Tensors"]),
        .testTarget(name: "CUDATests", dependencies: ["CUDA", "Tensors"]),
        // The GPU figures of Benchmarks/gpu_check.sh (op agreement, sgemm timing).
        .executableTarget(name: "cuda-bench", dependencies: ["CUDA", "Tensors"]),
    ]
}
