import Foundation
import Testing
import Tensors

// Philox draws: identical for any thread count, reproducible from a saved state, sane moments.
@Suite(.serialized) struct RandomTests {
    /// Large enough that the kernels take their parallel path.
    let n = 1 << 17

    func draws(threads: Int, seed: UInt64) -> ([Float], [Double], [Float], [Double], [Int64]) {
        let saved = Threading.threadCount
        defer { Threading.threadCount = saved }
        Threading.threadCount = threads
        let g = RandomGenerator(seed: seed)
        return (Tensor.rand([n], generator: g).toArray(Float.self),
                Tensor.rand([n + 3], dtype: .float64, generator: g).toArray(Double.self),
                Tensor.randn([n + 1], generator: g).toArray(Float.self),
                Tensor.randn([n], dtype: .float64, generator: g).toArray(Double.self),
                Tensor.randint(-5, 1000, [n + 1], generator: g).toArray(Int64.self))
    }

    @Test func sameSeedSameBitsForAnyThreadCount() {
        #expect(n >= Threading.parallelThreshold)
        let one = draws(threads: 1, seed: 1234)
        let two = draws(threads: 2, seed: 1234)
        #expect(one.0.map(\.bitPattern) == two.0.map(\.bitPattern))
        #expect(one.1.map(\.bitPattern) == two.1.map(\.bitPattern))
        #expect(one.2.map(\.bitPattern) == two.2.map(\.bitPattern))
        #expect(one.3.map(\.bitPattern) == two.3.map(\.bitPattern))
        #expect(one.4 == two.4)
        let other = draws(threads: 2, seed: 1235)
        #expect(other.0 != one.0)
    }

    /// Several threads drawing from one generator get disjoint counters: every 4-float block is new,
    /// and the counter advanced by exactly the blocks drawn.
    @Test func globalGeneratorOnSeveralThreads() {
        for shared in [RandomGenerator(seed: 3), RandomGenerator.global] {
            let threads = 8, draws = 500
            let before = shared.state.offset
            // Each thread writes its own slots only, so sharing the buffer is safe.
            nonisolated(unsafe) let blocks = UnsafeMutableBufferPointer<[UInt32]>.allocate(capacity: threads * draws)
            defer { blocks.deallocate() }
            DispatchQueue.concurrentPerform(iterations: threads) { t in
                for i in 0..<draws {
                    let x = Tensor.rand([4], generator: shared).toArray(Float.self)
                    (blocks.baseAddress! + t * draws + i).initialize(to: x.map(\.bitPattern))
                }
            }
            #expect(Set(blocks).count == threads * draws, "a counter was handed out twice")
            if shared !== RandomGenerator.global {
                #expect(shared.state.offset - before == UInt64(threads * draws))
            }
        }
    }

    @Test func stateSaveAndRestore() {
        let g = RandomGenerator(seed: 42)
        _ = Tensor.rand([10], generator: g)
        let saved = g.state
        let a = Tensor.randn([1000], generator: g).toArray(Float.self)
        let b = Tensor.randint(0, 10, [7], generator: g).toArray(Int64.self)
        #expect(g.state != saved)
        g.state = saved
        #expect(Tensor.randn([1000], generator: g).toArray(Float.self) == a)
        #expect(Tensor.randint(0, 10, [7], generator: g).toArray(Int64.self) == b)
        // The state is Codable, so it can go into a checkpoint.
        let data = try! JSONEncoder().encode(saved)
        let back = try! JSONDecoder().decode(RandomGenerator.State.self, from: data)
        #expect(back == saved)
        // Successive draws differ; a fresh generator with the same seed repeats them.
        let h1 = RandomGenerator(seed: 9), h2 = RandomGenerator(seed: 9)
        let x1 = Tensor.rand([5], generator: h1).scalars, x2 = Tensor.rand([5], generator: h1).scalars
        #expect(x1 != x2)
        #expect(Tensor.rand([5], generator: h2).scalars == x1)
        // The global generator reseeds like torch.manual_seed.
        RandomGenerator.manualSeed(77)
        let g1 = Tensor.rand([4]).scalars
        RandomGenerator.manualSeed(77)
        #expect(Tensor.rand([4]).scalars == g1)
    }

    func moments(_ v: [Double]) -> (mean: Double, variance: Double, skew: Double, kurtosis: Double) {
        let m = v.reduce(0, +) / Double(v.count)
        var m2 = 0.0, m3 = 0.0, m4 = 0.0
        for x in v { let d = x - m; m2 += d * d; m3 += d * d * d; m4 += d * d * d * d }
        m2 /= Double(v.count); m3 /= Double(v.count); m4 /= Double(v.count)
        return (m, m2, m3 / Foundation.pow(m2, 1.5), m4 / (m2 * m2))
    }

    @Test(arguments: [DType.float32, .float64])
    func moments(dtype: DType) {
        let g = RandomGenerator(seed: 2024)
        let u = Tensor.rand([n], low: -1, high: 3, dtype: dtype, generator: g).scalars
        #expect(u.allSatisfy { $0 >= -1 && $0 < 3 })
        let mu = moments(u)
        #expect(Swift.abs(mu.mean - 1) < 0.03)
        #expect(Swift.abs(mu.variance - 16.0 / 12) < 0.03)
        let z = Tensor.randn([n], mean: 2, std: 0.5, dtype: dtype, generator: g).scalars
        let mz = moments(z)
        #expect(Swift.abs(mz.mean - 2) < 0.01)
        #expect(Swift.abs(mz.variance - 0.25) < 0.01)
        #expect(Swift.abs(mz.skew) < 0.05)
        #expect(Swift.abs(mz.kurtosis - 3) < 0.1)
        // Uniform draws fill the interval: each of 16 bins gets close to 1/16 of the samples.
        var bins = [Int](repeating: 0, count: 16)
        for x in u { bins[Int((x + 1) / 4 * 16)] += 1 }
        #expect(bins.allSatisfy { Swift.abs(Double($0) / Double(n) - 1.0 / 16) < 0.005 })
    }

    @Test func integerAndBernoulliDraws() {
        let g = RandomGenerator(seed: 5)
        let r = Tensor.randint(-3, 4, [n], generator: g).toArray(Int64.self)
        #expect(r.allSatisfy { $0 >= -3 && $0 < 4 })
        var counts = [Int](repeating: 0, count: 7)
        for x in r { counts[Int(x + 3)] += 1 }
        #expect(counts.allSatisfy { Swift.abs(Double($0) / Double(n) - 1.0 / 7) < 0.01 })
        let b = Tensor.bernoulli([n], p: 0.3, generator: g)
        #expect(b.dtype == .float32)
        #expect(Swift.abs(b.mean().item - 0.3) < 0.01)
        #expect(b.scalars.allSatisfy { $0 == 0 || $0 == 1 })
        let probs = Tensor([0, 0, 1, 0, 0.5, 0.5, 0, 0] as [Double], shape: [2, 4])
        let s = probs.multinomial(generator: g).toArray(Int64.self)
        #expect(s[0] == 2)
        #expect(s[1] == 0 || s[1] == 1)
    }
}
