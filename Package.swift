// swift-tools-version: 6.1
import Foundation
import PackageDescription

/// Finds LLVM's OpenMP runtime (Debian's `libomp-dev`) without hard-coding a compiler version.
/// `EQ_OMP_INCLUDE` / `EQ_OMP_LIB` override the search (the Makefile sets them from `dpkg -L`).
func locateOpenMP() -> (include: String, lib: String) {
    let env = ProcessInfo.processInfo.environment
    if let inc = env["EQ_OMP_INCLUDE"], let lib = env["EQ_OMP_LIB"], !inc.isEmpty, !lib.isEmpty {
        return (inc, lib)
    }
    let fm = FileManager.default
    var include = "/usr/include"
    var lib = "/usr/lib/x86_64-linux-gnu"
    // Newest LLVM first, so a machine with several versions picks one consistently.
    let llvms = ((try? fm.contentsOfDirectory(atPath: "/usr/lib")) ?? [])
        .filter { $0.hasPrefix("llvm-") }
        .sorted { (Int($0.dropFirst(5)) ?? 0) > (Int($1.dropFirst(5)) ?? 0) }
    for llvm in llvms {
        let root = "/usr/lib/\(llvm)"
        guard fm.fileExists(atPath: "\(root)/lib/libomp.so") else { continue }
        lib = "\(root)/lib"
        let clangDir = "\(root)/lib/clang"
        for version in (try? fm.contentsOfDirectory(atPath: clangDir)) ?? [] {
            let candidate = "\(clangDir)/\(version)/include"
            if fm.fileExists(atPath: "\(candidate)/omp.h") { include = candidate; break }
        }
        if fm.fileExists(atPath: "\(root)/include/openmp/omp.h") { include = "\(root)/include/openmp" }
        break
    }
    return (include, lib)
}

let omp = locateOpenMP()

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
        .executable(name: "deq", targets: ["deq"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-numerics", from: "1.0.0"),
    ],
    targets: [
        .target(
            name: "CKernels",
            cSettings: [
                .unsafeFlags(["-fopenmp", "-O3", "-mavx2", "-mfma", "-ffp-contract=fast", "-I\(omp.include)"]),
            ],
            linkerSettings: [
                .linkedLibrary("openblas"),
                .linkedLibrary("lapacke"),
                .linkedLibrary("omp"),
                .linkedLibrary("m"),
                .unsafeFlags(["-L\(omp.lib)", "-Xlinker", "-rpath", "-Xlinker", omp.lib]),
            ]
        ),
        // The system zlib (Debian zlib1g-dev) for gzip-compressed data files.
        .target(name: "CZlib", linkerSettings: [.linkedLibrary("z")]),
        .target(
            name: "Tensors",
            dependencies: [
                "CKernels",
                .product(name: "Numerics", package: "swift-numerics"),
            ]
        ),
        .target(name: "Solvers", dependencies: ["Tensors"]),
        .target(name: "DEQ", dependencies: ["Tensors", "Solvers"]),
        .target(name: "NN", dependencies: ["Tensors"]),
        .target(name: "Datasets", dependencies: ["Tensors", "CZlib"]),
        .target(name: "Models", dependencies: ["NN", "Tensors", "DEQ", "Solvers"]),
        // MPI from Debian's libopenmpi-dev, found with pkg-config: only `deq` and users of the
        // Distributed product link it.
        .systemLibrary(name: "CMPI", pkgConfig: "ompi-c", providers: [.apt(["libopenmpi-dev"])]),
        .target(name: "Distributed", dependencies: ["CMPI", "Tensors"]),
        .target(name: "Training", dependencies: ["Datasets", "Models", "NN", "Tensors"]),
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
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .testTarget(name: "TensorsTests", dependencies: ["Tensors"]),
        .testTarget(name: "SolversTests", dependencies: ["Solvers", "Tensors"]),
        .testTarget(name: "DEQTests", dependencies: ["DEQ", "Solvers", "Tensors"]),
        .testTarget(name: "NNTests", dependencies: ["NN", "Tensors"], exclude: ["Fixtures"]),
        .testTarget(name: "DatasetsTests", dependencies: ["Datasets", "Tensors"]),
        .testTarget(name: "DistributedTests", dependencies: ["Distributed", "Tensors"]),
        .testTarget(name: "TrainingTests", dependencies: ["Training", "Models", "Datasets", "NN", "Tensors"]),
        // Runs the built `deq` executable on bad inputs (no library dependency: it tests the tool as
        // a user runs it; `make test` builds `deq` first).
        .testTarget(name: "CLITests"),
    ],
    swiftLanguageModes: [.v5]
)
