// package-benchmark targets for the kernel workloads that `deq bench kernels` times. The
// workloads themselves (shapes, inputs, the call) live in Tensors' `KernelWorkload.all`, so
// both tools measure exactly the same thing.
import Benchmark
import Benchmarking
import Tensors

let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = .init(
        metrics: [.wallClock, .throughput, .mallocCountTotal, .peakMemoryResident],
        warmupIterations: 3,
        maxDuration: .seconds(1),
        maxIterations: 10_000
    )
    for workload in KernelWorkload.all {
        // The per-op overhead is far below the timer's resolution; batch it.
        let scaling: BenchmarkScalingFactor = workload.name.hasSuffix("_overhead") ? .kilo : .one
        Benchmark(workload.name, configuration: .init(scalingFactor: scaling)) { benchmark, call in
            for _ in benchmark.scaledIterations {
                blackHole(call())
            }
        } setup: {
            workload.prepare()
        }
    }
}
