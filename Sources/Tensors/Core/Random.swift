import CKernels
import Foundation

/// A seeded, counter-based random generator (Philox4x32-10). A draw depends only on the seed and
/// the counter, never on the thread count; ``state`` can be saved and restored.
public final class RandomGenerator: @unchecked Sendable {
    // @unchecked Sendable is safe: the only mutable field, `locked`, is read and written under
    // `lock` alone, so threads drawing from one generator get disjoint counter ranges
    // (RandomTests.globalGeneratorOnSeveralThreads draws from 8 threads and finds no repeat).
    /// The seed and the number of 128-bit blocks consumed so far.
    public struct State: Equatable, Codable, Sendable {
        public var seed: UInt64
        public var offset: UInt64
    }

    private let lock = NSLock()
    private var locked: State

    /// The seed and counter; reading or restoring it is atomic with respect to draws.
    public var state: State {
        get { lock.withLock { locked } }
        set { lock.withLock { locked = newValue } }
    }

    public init(seed: UInt64) { locked = State(seed: seed, offset: 0) }

    /// The process-wide generator used when none is passed. It is one object for the life of the
    /// process; ``manualSeed(_:)`` and `state` reseed or restore it in place.
    public static let global = RandomGenerator(seed: 0x5EED)

    /// Reseeds the global generator (like `torch.manual_seed`).
    public static func manualSeed(_ seed: UInt64) { global.state = State(seed: seed, offset: 0) }

    /// Reserves `blocks` counters atomically and returns the seed and the first counter.
    func advance(_ blocks: Int) -> (seed: UInt64, start: UInt64) {
        lock.withLock {
            let start = locked.offset
            locked.offset &+= UInt64(blocks)
            return (locked.seed, start)
        }
    }
}

extension Tensor {
    /// Uniform samples in [low, high).
    public static func rand(_ shape: [Int], low: Double = 0, high: Double = 1, dtype: DType = .float32,
                            generator: RandomGenerator? = nil) -> Tensor {
        guard dtype.isFloatingPoint else { fail("rand needs a floating dtype, got \(dtype); use randint for integers") }
        let g = generator ?? RandomGenerator.global
        let t = Tensor(empty: shape, dtype: dtype)
        let (seed, start) = g.advance((t.count + 3) / 4)
        eq_philox_uniform(dtype.code, Int64(t.count), seed, start, t.storage.pointer, low, high)
        return t
    }

    /// Normal samples with the given mean and standard deviation.
    public static func randn(_ shape: [Int], mean: Double = 0, std: Double = 1, dtype: DType = .float32,
                             generator: RandomGenerator? = nil) -> Tensor {
        guard dtype.isFloatingPoint else { fail("randn needs a floating dtype, got \(dtype)") }
        let g = generator ?? RandomGenerator.global
        let t = Tensor(empty: shape, dtype: dtype)
        let (seed, start) = g.advance((t.count + 3) / 4)
        eq_philox_normal(dtype.code, Int64(t.count), seed, start, t.storage.pointer, mean, std)
        return t
    }

    /// Integers uniform in [low, high).
    public static func randint(_ low: Int, _ high: Int, _ shape: [Int],
                               generator: RandomGenerator? = nil) -> Tensor {
        guard high > low else { fail("randint needs low < high, got low = \(low), high = \(high)") }
        let g = generator ?? RandomGenerator.global
        let t = Tensor(empty: shape, dtype: .int64)
        let (seed, start) = g.advance((t.count + 1) / 2)
        eq_philox_randint(Int64(t.count), seed, start,
                          t.storage.pointer.assumingMemoryBound(to: Int64.self), Int64(low), Int64(high))
        return t
    }

    /// Bernoulli samples: 1 with probability `p`, else 0, in the given dtype.
    public static func bernoulli(_ shape: [Int], p: Double, dtype: DType = .float32,
                                 generator: RandomGenerator? = nil) -> Tensor {
        guard p >= 0 && p <= 1 else { fail("bernoulli: p must be in [0, 1], got \(p)") }
        let u = rand(shape, dtype: .float64, generator: generator)
        return (u .< p).to(dtype)
    }

    /// Samples one index per row of a probability matrix [rows, n] (or a vector), by inverse CDF.
    public func multinomial(generator: RandomGenerator? = nil) -> Tensor {
        let probs = rank == 1 ? reshaped([1, shape[0]]) : self
        guard probs.rank == 2 else { fail("multinomial expects a vector or a matrix of probabilities, got shape \(describe(shape))") }
        let rows = probs.shape[0], n = probs.shape[1]
        let p = probs.toArray(Double.self)
        let u = Tensor.rand([rows], dtype: .float64, generator: generator).toArray(Double.self)
        var out = [Int64](repeating: 0, count: rows)
        for r in 0..<rows {
            let row = p[(r * n)..<((r + 1) * n)]
            let total = row.reduce(0, +)
            var acc = 0.0
            var pick = n - 1
            for (j, v) in row.enumerated() {
                acc += v / total
                if u[r] < acc { pick = j; break }
            }
            out[r] = Int64(pick)
        }
        return Tensor(out, shape: rank == 1 ? [1] : [rows])
    }
}
