import Testing
import Tensors

// The vectorized float32 paths of softmax, log-softmax, layer norm and sum (AVX2 lanes, blocked
// partial sums) must agree with the float64 kernels, including ragged row lengths that exercise
// the scalar tails and the special values the scalar code handles.
@Suite(.serialized) struct KernelFastPathTests {
    /// Largest |a - b| over all elements, both read as Double.
    func maxDifference(_ a: Tensor, _ b: Tensor) -> Double {
        zip(a.scalars, b.scalars).map { Swift.abs($0 - $1) }.max() ?? 0
    }

    @Test(arguments: [1, 7, 16, 33, 100, 1024, 1031])
    func softmaxMatchesFloat64(length: Int) {
        let x64 = Tensor.randn([5, length], std: 20, dtype: .float64, generator: RandomGenerator(seed: UInt64(length)))
        let x32 = x64.to(.float32)
        let reference = x32.to(.float64)
        #expect(maxDifference(x32.softmax(), reference.softmax()) < 1e-6)
        #expect(maxDifference(x32.logSoftmax(), reference.logSoftmax()) < 1e-4)
    }

    @Test func softmaxKeepsTinyAndSpecialValues() {
        // exp(-100) is a float32 denormal; exp(-200) underflows to zero.
        var row = [Float](repeating: -200, count: 20)
        row[0] = 0
        row[3] = -100
        row[17] = -Float.infinity
        let y = Tensor(row, shape: [1, 20]).softmax().toArray(Float.self)
        #expect(y[0] == 1)
        #expect(Swift.abs(Double(y[3]) - 3.720075976020836e-44) <= 1.5e-45)
        #expect(y[17] == 0 && y[5] == 0)
        for position in [3, 20] {  // in the vector body and in the scalar tail
            var withNaN = [Float](repeating: 1, count: 24)
            withNaN[position] = .nan
            #expect(Tensor(withNaN, shape: [1, 24]).softmax().toArray(Float.self).allSatisfy { $0.isNaN })
        }
        let allMinusInf = [Float](repeating: -.infinity, count: 18)
        #expect(Tensor(allMinusInf, shape: [1, 18]).logSoftmax().toArray(Float.self).allSatisfy { $0.isNaN || $0 == -.infinity })
    }

    @Test(arguments: [1, 5, 37, 1024])
    func layerNormMatchesFloat64WithLargeMean(length: Int) {
        // A mean far from zero is where a one-pass E[x^2] - E[x]^2 variance would fail.
        let x64 = Tensor.randn([4, length], mean: 1000, std: 0.5, dtype: .float64, generator: RandomGenerator(seed: 9))
        let x32 = x64.to(.float32)
        let reference = x32.to(.float64)
        let w = Tensor.randn([length], dtype: .float64, generator: RandomGenerator(seed: 10))
        let b = Tensor.randn([length], dtype: .float64, generator: RandomGenerator(seed: 11))
        #expect(maxDifference(x32.layerNorm(), reference.layerNorm()) < 2e-4)
        #expect(maxDifference(x32.layerNorm(weight: w.to(.float32), bias: b.to(.float32)),
                              reference.layerNorm(weight: w, bias: b)) < 5e-4)
    }

    @Test func layerNormAppliesBiasWithoutWeight() {
        let x = Tensor.randn([3, 20], dtype: .float64, generator: RandomGenerator(seed: 12))
        let b = Tensor.randn([20], dtype: .float64, generator: RandomGenerator(seed: 13))
        for t in [DType.float32, .float64] {
            let got = x.to(t).layerNorm(bias: b.to(t))
            let expected = x.to(t).layerNorm() + b.to(t)
            #expect(maxDifference(got, expected) < 1e-5)
        }
    }

    @Test(arguments: [1, 2])
    func sumMatchesFloat64(threads: Int) {
        let saved = Threading.threadCount
        defer { Threading.threadCount = saved }
        Threading.threadCount = threads
        for n in [1, 31, 2048, 2049, 100_003, 1 << 20] {
            let x64 = Tensor.randn([n], mean: 0.3, dtype: .float64, generator: RandomGenerator(seed: UInt64(n)))
            let x32 = x64.to(.float32)
            let expected = x32.to(.float64).sum().item
            let got = x32.sum().item
            #expect(Swift.abs(got - expected) <= 1e-6 * Swift.max(1, Swift.abs(expected)), "n = \(n)")
            // Row sums over the last axis take the same blocked path.
            let rows = x32.reshaped([1, n]).sum(axis: 1).item
            #expect(Swift.abs(rows - expected) <= 1e-6 * Swift.max(1, Swift.abs(expected)), "rows, n = \(n)")
        }
    }
}
