// swift-tools-version: 6.1
// Equilibrium's package-benchmark suite. A separate package so that the root package, its
// tests and `make test` never build or fetch the benchmark tooling.
//
//   cd Benchmarks && OMP_TOOL=disabled swift package benchmark --target Kernels
//
// OMP_TOOL=disabled: libomp's search for an OpenMP tool leaves a dlerror string behind during
// OpenBLAS's start-up; the malloc interposer then recurses while resolving free() and aborts.
// Turning the tool search off avoids that (see README.md).
import Foundation
import PackageDescription

// A path dependency's identity is its directory name (`main` in the main checkout, something
// else in a worktree), so it is read from the file system instead of being written down.
let rootIdentity = URL(fileURLWithPath: #filePath)
    .deletingLastPathComponent().deletingLastPathComponent().lastPathComponent.lowercased()

let package = Package(
    name: "EquilibriumBenchmarks",
    platforms: [.macOS(.v14)],
    dependencies: [
        .package(path: ".."),
        .package(url: "https://github.com/ordo-one/benchmark", from: "1.38.1",
                 traits: ["MallocInterposer"]),
    ],
    targets: [
        .executableTarget(
            name: "Kernels",
            dependencies: [
                .product(name: "Benchmark", package: "benchmark"),
                .product(name: "Tensors", package: rootIdentity),
                .product(name: "Benchmarking", package: rootIdentity),
            ],
            path: "Kernels",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        ),
    ],
    swiftLanguageModes: [.v5]
)
