import Foundation
import Testing
import Tensors

// softmax, logSoftmax (any axis) and layerNorm (last axis) against float64 references.
@Suite struct RowwiseTests {
    let shape = [3, 4, 5]

    /// Applies `f` to every line of `values` along `axis`.
    func alongAxis(_ values: [Double], _ shape: [Int], _ axis: Int, _ f: ([Double]) -> [Double]) -> [Double] {
        var out = values
        let a = axis < 0 ? axis + shape.count : axis
        for start in 0..<values.count where unravel(start, shape)[a] == 0 {
            let idx = unravel(start, shape)
            let positions = (0..<shape[a]).map { j -> Int in var i = idx; i[a] = j; return ravel(i, shape) }
            let r = f(positions.map { values[$0] })
            for (p, v) in zip(positions, r) { out[p] = v }
        }
        return out
    }

    func refSoftmax(_ g: [Double]) -> [Double] {
        let m = g.max()!
        let e = g.map { Foundation.exp($0 - m) }
        let s = e.reduce(0, +)
        return e.map { $0 / s }
    }

    func refLogSoftmax(_ g: [Double]) -> [Double] {
        let m = g.max()!
        let l = Foundation.log(g.map { Foundation.exp($0 - m) }.reduce(0, +)) + m
        return g.map { $0 - l }
    }

    @Test(arguments: [DType.float32, .float64])
    func softmaxAndLogSoftmax(dtype: DType) {
        var rng = TestRNG(53)
        let vals = stored(rng.values(60, -4, 4), dtype)
        for axis in [0, 1, 2, -1] {
            let es = alongAxis(vals, shape, axis, refSoftmax)
            let el = alongAxis(vals, shape, axis, refLogSoftmax)
            for layout in Layout.allCases {
                let x = laidOut(vals, shape, dtype, layout)
                expectClose(x.softmax(axis: axis), es, shape: shape, "softmax axis \(axis) \(dtype) \(layout)")
                expectClose(x.logSoftmax(axis: axis), el, shape: shape, "logSoftmax axis \(axis) \(dtype) \(layout)")
            }
        }
    }

    @Test func softmaxStabilityAndMasking() {
        let x = Tensor([1000, 1001, 1002, -.infinity, 0, -.infinity] as [Float], shape: [2, 3])
        let e0 = refSoftmax([0, 1, 2])
        expectClose(x.softmax(), e0 + [0, 1, 0], shape: [2, 3])
        let l = x.logSoftmax()
        expectClose(l, refLogSoftmax([0, 1, 2]) + [-.infinity, 0, -.infinity], shape: [2, 3])
    }

    @Test(arguments: [DType.float32, .float64])
    func layerNorm(dtype: DType) {
        var rng = TestRNG(59)
        let vals = stored(rng.values(60, -3, 5), dtype)
        let w = stored(rng.values(5, 0.5, 1.5), dtype), b = stored(rng.values(5, -1, 1), dtype)
        let eps = 1e-5
        func ref(_ g: [Double], _ affine: Bool) -> [Double] {
            let m = refMean(g), v = refVariance(g, correction: 0)
            return g.enumerated().map { j, x in
                let y = (x - m) / (v + eps).squareRoot()
                return affine ? y * w[j] + b[j] : y
            }
        }
        let plain = alongAxis(vals, shape, -1) { ref($0, false) }
        let affine = alongAxis(vals, shape, -1) { ref($0, true) }
        for layout in Layout.allCases {
            let x = laidOut(vals, shape, dtype, layout)
            expectClose(x.layerNorm(eps: eps), plain, shape: shape, rel: 1e-4, abs: dtype == .float32 ? 1e-5 : 1e-12,
                        "layerNorm \(dtype) \(layout)")
            let wt = laidOut(w, [5], dtype, layout), bt = laidOut(b, [5], dtype, layout)
            expectClose(x.layerNorm(weight: wt, bias: bt, eps: eps), affine, shape: shape, rel: 1e-4,
                        abs: dtype == .float32 ? 1e-5 : 1e-12, "layerNorm affine \(dtype) \(layout)")
        }
        // A constant row normalises to zeros (variance 0 is guarded by eps).
        let c = Tensor.full([2, 4], 3, dtype: dtype).layerNorm()
        #expect(c.scalars.allSatisfy { $0 == 0 })
    }

    @Test("scaledMaskedSoftmax gives the scale, masked fill and softmax ops' values bit for bit, and gradchecks",
          arguments: [DType.float32, .float64])
    func scaledMaskedSoftmaxMatchesTheOps(dtype: DType) throws {
        let g = RandomGenerator(seed: 21)
        let x = Tensor.randn([2, 3, 4, 37], dtype: dtype, generator: g) * 4          // rows longer than a vector, with tails
        let i = Tensor.arange(4).reshaped([4, 1]) + 33, j = Tensor.arange(37).reshaped([1, 37])
        let causal = j .> i                                                        // [4, 37], as attention's mask
        for mask in [causal, nil] as [Tensor?] {
            let fused = x.scaledMaskedSoftmax(scale: 0.125, mask: mask)
            let scaled = x * 0.125
            let ops = (mask.map { scaled.maskedFill($0, -1e30) } ?? scaled).softmax(axis: -1)
            #expect(fused.scalars == ops.scalars)
        }
        // A mask shaped as the last axis only, and a strided input.
        let strided = x.transposed(1, 2)                                           // [2, 4, 3, 37]
        let lastAxis = j.reshaped([37]) .> 30
        #expect(strided.scaledMaskedSoftmax(scale: 2, mask: lastAxis).scalars
                == (strided * 2).maskedFill(lastAxis, -1e30).softmax(axis: -1).scalars)
        guard dtype == .float64 else { return }
        let small = Tensor.randn([2, 3, 5], dtype: .float64, generator: g)
        let m = Tensor.arange(5).reshaped([1, 5]) .> (Tensor.arange(3).reshaped([3, 1]) + 1)
        let f: ([Tensor]) -> Tensor = { xs in xs[0].scaledMaskedSoftmax(scale: 0.7, mask: m) * Tensor.arange(5, dtype: .float64) }
        let first = try gradcheck(f, inputs: [small])
        #expect(first.passed, "\(first)")
        let second = try gradgradcheck(f, inputs: [small])
        #expect(second.passed, "\(second)")
    }
}
