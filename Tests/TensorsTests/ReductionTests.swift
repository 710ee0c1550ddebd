import Foundation
import Testing
import Tensors

/// A multi-axis reduction under test and its reference over one group of values.
struct ReductionCase: Sendable {
    let name: String
    let op: @Sendable (Tensor, [Int], Bool) -> Tensor
    let ref: @Sendable ([Double]) -> Double
    var skipEmptyAxes = false
}

func refMean(_ g: [Double]) -> Double { g.reduce(0, +) / Double(g.count) }
func refVariance(_ g: [Double], correction: Int) -> Double {
    let m = refMean(g)
    return g.map { ($0 - m) * ($0 - m) }.reduce(0, +) / Double(g.count - correction)
}

let reductionCases: [ReductionCase] = [
    ReductionCase(name: "sum", op: { $0.sum(axes: $1, keepDim: $2) }, ref: { $0.reduce(0, +) }),
    ReductionCase(name: "mean", op: { $0.mean(axes: $1, keepDim: $2) }, ref: refMean),
    ReductionCase(name: "logsumexp", op: { $0.logsumexp(axes: $1, keepDim: $2) },
                  ref: { g in let m = g.max()!; return m + Foundation.log(g.map { Foundation.exp($0 - m) }.reduce(0, +)) }),
    ReductionCase(name: "variance", op: { $0.variance(axes: $1, keepDim: $2) }, ref: { refVariance($0, correction: 1) },
                  skipEmptyAxes: true),
    ReductionCase(name: "variance(correction: 0)", op: { $0.variance(axes: $1, correction: 0, keepDim: $2) },
                  ref: { refVariance($0, correction: 0) }),
    ReductionCase(name: "standardDeviation", op: { $0.standardDeviation(axes: $1, keepDim: $2) },
                  ref: { refVariance($0, correction: 1).squareRoot() }, skipEmptyAxes: true),
    ReductionCase(name: "norm", op: { $0.norm(axes: $1, keepDim: $2) }, ref: { $0.map { $0 * $0 }.reduce(0, +).squareRoot() }),
    ReductionCase(name: "norm(1)", op: { $0.norm(1, axes: $1, keepDim: $2) }, ref: { $0.map { Swift.abs($0) }.reduce(0, +) }),
    ReductionCase(name: "norm(3)", op: { $0.norm(3, axes: $1, keepDim: $2) },
                  ref: { Foundation.pow($0.map { Swift.abs($0 * $0 * $0) }.reduce(0, +), 1.0 / 3) }),
    ReductionCase(name: "norm(inf)", op: { $0.norm(.infinity, axes: $1, keepDim: $2) }, ref: { $0.map { Swift.abs($0) }.max()! },
                  skipEmptyAxes: true),
    ReductionCase(name: "prod", op: { $0.prod(axes: $1, keepDim: $2) }, ref: { $0.reduce(1, *) }),
]

// Reductions over every set of axes, with and without keepDim, on strided operands.
@Suite struct ReductionTests {
    let shape = [3, 4, 5]

    @Test(arguments: [DType.float32, .float64])
    func multiAxisReductions(dtype: DType) {
        var rng = TestRNG(41)
        // Values near ±1 keep products of 60 elements well inside float range.
        let vals = stored(rng.values(60, 0.6, 1.5).enumerated().map { $0.offset % 3 == 0 ? -$0.element : $0.element }, dtype)
        for c in reductionCases {
            for axes in allAxisSubsets(rank: 3) where !(c.skipEmptyAxes && axes.isEmpty) {
                for keepDim in [false, true] {
                    let (e, s) = referenceReduce(vals, shape, axes: axes, keepDim: keepDim, c.ref)
                    for layout in Layout.allCases {
                        let y = c.op(laidOut(vals, shape, dtype, layout), axes, keepDim)
                        #expect(y.dtype == dtype, "\(c.name) keeps \(dtype)")
                        expectClose(y, e, shape: s, rel: dtype == .float32 ? 1e-5 : 1e-12,
                                    "\(c.name) axes \(axes) keepDim \(keepDim) \(dtype) \(layout)")
                    }
                }
            }
        }
    }

    @Test func negativeAndAllAxes() {
        let x = Tensor((0..<24).map { Double($0) }, shape: [2, 3, 4])
        #expect(x.sum(axes: [-1]).scalars == x.sum(axes: [2]).scalars)
        #expect(x.sum(axes: [-1, 0]).shape == [3])
        #expect(x.sum().shape == [])
        #expect(x.sum().item == 276)
        #expect(x.sum(keepDim: true).shape == [1, 1, 1])
        #expect(x.mean().item == 11.5)
        #expect(x.sum(axis: 1, keepDim: true).shape == [2, 1, 4])
    }

    @Test(arguments: [DType.float32, .float64, .int64])
    func extremaAndArgExtrema(dtype: DType) {
        var rng = TestRNG(43)
        // Small integers force ties: the first index of the extreme wins.
        let vals = stored(rng.integers(60, -4, 4), dtype)
        func firstIndex(_ g: [Double], _ better: (Double, Double) -> Bool) -> Double {
            var bi = 0
            for i in 1..<g.count where better(g[i], g[bi]) { bi = i }
            return Double(bi)
        }
        for layout in Layout.allCases {
            let x = laidOut(vals, shape, dtype, layout)
            for axis in [0, 1, 2, -1] {
                for keepDim in [false, true] {
                    let mx = referenceReduce(vals, shape, axes: [axis], keepDim: keepDim) { $0.max()! }
                    let mn = referenceReduce(vals, shape, axes: [axis], keepDim: keepDim) { $0.min()! }
                    let amx = referenceReduce(vals, shape, axes: [axis], keepDim: keepDim) { firstIndex($0, >) }
                    let amn = referenceReduce(vals, shape, axes: [axis], keepDim: keepDim) { firstIndex($0, <) }
                    let what = "axis \(axis) keepDim \(keepDim) \(dtype) \(layout)"
                    expectClose(x.max(axis: axis, keepDim: keepDim), mx.values, shape: mx.shape, "max " + what)
                    expectClose(x.min(axis: axis, keepDim: keepDim), mn.values, shape: mn.shape, "min " + what)
                    let am = x.argmax(axis: axis, keepDim: keepDim), an = x.argmin(axis: axis, keepDim: keepDim)
                    #expect(am.dtype == .int64 && an.dtype == .int64)
                    #expect(am.shape == amx.shape && am.scalars == amx.values, "argmax \(what)")
                    #expect(an.shape == amn.shape && an.scalars == amn.values, "argmin \(what)")
                }
            }
            #expect(x.max().item == vals.max()!)
            #expect(x.min().item == vals.min()!)
            #expect(x.argmax().item == Double(vals.firstIndex(of: vals.max()!)!))
            #expect(x.argmin().item == Double(vals.firstIndex(of: vals.min()!)!))
            #expect(x.max(keepDim: true).shape == [1, 1, 1])
        }
    }

    @Test func integerAndBoolReductions() {
        var rng = TestRNG(47)
        let vals = rng.integers(60, -3, 3)
        for axes in allAxisSubsets(rank: 3) {
            let (e, s) = referenceReduce(vals, shape, axes: axes, keepDim: false) { $0.reduce(0, +) }
            let y = laidOut(vals, shape, .int64, .transposed).sum(axes: axes)
            #expect(y.dtype == .int64)
            #expect(y.shape == s && y.scalars == e, "int64 sum axes \(axes)")
            let (p, _) = referenceReduce(vals, shape, axes: axes, keepDim: false) { $0.reduce(1, *) }
            #expect(laidOut(vals, shape, .int64, .sliced).prod(axes: axes).scalars == p, "int64 prod axes \(axes)")
        }
        let m = laidOut(vals, shape, .int64, .contiguous).mean(axes: [1])
        #expect(m.dtype.isFloatingPoint)
        expectClose(m, referenceReduce(vals, shape, axes: [1], keepDim: false, refMean).values, shape: [3, 5])
        let b = Tensor([true, false, true, true], shape: [2, 2])
        #expect(b.sum().item == 3)
        #expect(b.sum(axes: [0]).scalars == [2, 1])
        // Bool extrema and products against references, over each axis of a strided view.
        let bits = rng.integers(60, 0, 1).enumerated().map { $0.offset % 7 == 0 ? 0 : $0.element }
        for layout in Layout.allCases {
            let x = laidOut(bits, shape, .bool, layout)
            for axis in 0..<3 {
                let what = "bool axis \(axis) \(layout)"
                #expect(x.max(axis: axis).scalars == referenceReduce(bits, shape, axes: [axis], keepDim: false) { $0.max()! }.values, "max \(what)")
                #expect(x.min(axis: axis).scalars == referenceReduce(bits, shape, axes: [axis], keepDim: false) { $0.min()! }.values, "min \(what)")
                #expect(x.argmax(axis: axis).scalars == referenceReduce(bits, shape, axes: [axis], keepDim: false) { Double($0.firstIndex(of: $0.max()!)!) }.values, "argmax \(what)")
                #expect(x.argmin(axis: axis).scalars == referenceReduce(bits, shape, axes: [axis], keepDim: false) { Double($0.firstIndex(of: $0.min()!)!) }.values, "argmin \(what)")
                #expect(x.prod(axes: [axis]).scalars == referenceReduce(bits, shape, axes: [axis], keepDim: false) { $0.reduce(1, *) }.values, "prod \(what)")
            }
        }
    }

    @Test func sumToBroadcastSource() {
        let x = Tensor((0..<24).map { Double($0) }, shape: [2, 3, 4])
        let r = x.sum(to: [3, 1])
        let (e, _) = referenceReduce(x.scalars, [2, 3, 4], axes: [0, 2], keepDim: true) { $0.reduce(0, +) }
        #expect(r.shape == [3, 1])
        #expect(r.scalars == e)
        #expect(x.sum(to: [2, 3, 4]).sharesStorage(with: x))
        #expect(x.sum(to: []).item == 276)
    }

    @Test func specialValues() {
        let x = Tensor([1, .nan, 3, -.infinity, 2, 5] as [Double], shape: [2, 3])
        #expect(x.max(axis: 1).scalars[0].isNaN)
        #expect(x.max(axis: 1).scalars[1] == 5)
        #expect(x.argmax(axis: 1).scalars == [1, 2])
        let l = Tensor([-.infinity, -.infinity, 0, -.infinity] as [Float], shape: [2, 2]).logsumexp(axes: [1])
        #expect(l.scalars == [-.infinity, 0])
        // logsumexp of huge values does not overflow.
        expectClose(Tensor([1000, 1000] as [Float]).logsumexp(axes: [0]), [1000 + Foundation.log(2.0)], shape: [])
    }
}
