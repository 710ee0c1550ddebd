import DEQ
import Models
import NN
import Solvers
import CKernels
import Tensors
import CKernels

/// Times a call the way the kernel benchmarks report it: warm up, then the median of many
/// samples, each sample long enough that the clock's resolution does not matter.
public struct KernelTimer {
    /// Wall time spent warming up before any sample is kept.
    public var warmUpSeconds = 0.2
    /// Target length of one sample; fast calls are repeated inside a sample to reach it.
    public var sampleSeconds = 0.005
    /// Rough wall-time budget for the kept samples of one workload.
    public var budgetSeconds = 1.0
    /// Bounds on the number of kept samples.
    public var minSamples = 11
    public var maxSamples = 201

    public init() {}

    /// The outcome of timing one call.
    public struct Result: Sendable {
        /// Median seconds per call.
        public var median: Double
        /// Fastest sample, seconds per call.
        public var minimum: Double
        /// Samples kept and calls per sample.
        public var samples: Int
        public var callsPerSample: Int
    }

    /// Times `body`, keeping each result alive until the next call so its cost (including
    /// freeing it) is inside the timed region.
    public func measure(_ body: () -> Tensor) -> Result {
        var sink: Tensor? = nil
        // Warm-up: at least three calls, then until the warm-up time has passed.
        var calls = 0
        let start = eq_now_ns()
        var elapsed: UInt64 = 0
        repeat {
            sink = body()
            calls += 1
            elapsed = eq_now_ns() - start
        } while calls < 3 || Double(elapsed) * 1e-9 < warmUpSeconds
        let perCall = Swift.max(Double(elapsed) * 1e-9 / Double(calls), 1e-9)
        let callsPerSample = Swift.max(1, Int((sampleSeconds / perCall).rounded(.up)))
        let sampleCost = perCall * Double(callsPerSample)
        let count = Swift.min(maxSamples, Swift.max(minSamples, Int(budgetSeconds / sampleCost)))
        var times: [Double] = []
        times.reserveCapacity(count)
        for _ in 0..<count {
            let t0 = eq_now_ns()
            for _ in 0..<callsPerSample { sink = body() }
            let t1 = eq_now_ns()
            times.append(Double(t1 - t0) * 1e-9 / Double(callsPerSample))
        }
        withExtendedLifetime(sink) {}
        times.sort()
        return Result(median: times[times.count / 2], minimum: times[0], samples: count,
                      callsPerSample: callsPerSample)
    }
}
