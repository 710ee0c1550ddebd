import Foundation
import Testing
import Tensors

/// A unary op under test with its float64 reference and input domain.
struct UnaryCase: Sendable {
    let name: String
    let op: @Sendable (Tensor) -> Tensor
    let ref: @Sendable (Double) -> Double
    var domain: ClosedRange<Double> = -3...3
}

let unaryCases: [UnaryCase] = [
    UnaryCase(name: "neg", op: { -$0 }, ref: { -$0 }),
    UnaryCase(name: "exp", op: { $0.exp() }, ref: { Foundation.exp($0) }),
    UnaryCase(name: "log", op: { $0.log() }, ref: { Foundation.log($0) }, domain: 0.01...5),
    UnaryCase(name: "log1p", op: { $0.log1p() }, ref: { Foundation.log1p($0) }, domain: -0.99...5),
    UnaryCase(name: "expm1", op: { $0.expm1() }, ref: { Foundation.expm1($0) }),
    UnaryCase(name: "sqrt", op: { $0.sqrt() }, ref: { $0.squareRoot() }, domain: 0...5),
    UnaryCase(name: "rsqrt", op: { $0.rsqrt() }, ref: { 1 / $0.squareRoot() }, domain: 0.01...5),
    UnaryCase(name: "abs", op: { $0.abs() }, ref: { Swift.abs($0) }),
    UnaryCase(name: "sign", op: { $0.sign() }, ref: { $0 > 0 ? 1 : ($0 < 0 ? -1 : 0) }),
    UnaryCase(name: "square", op: { $0.square() }, ref: { $0 * $0 }),
    UnaryCase(name: "reciprocal", op: { $0.reciprocal() }, ref: { 1 / $0 }, domain: 0.05...4),
    UnaryCase(name: "sin", op: { $0.sin() }, ref: { Foundation.sin($0) }, domain: -10...10),
    UnaryCase(name: "cos", op: { $0.cos() }, ref: { Foundation.cos($0) }, domain: -10...10),
    UnaryCase(name: "erf", op: { $0.erf() }, ref: { Foundation.erf($0) }),
    UnaryCase(name: "tanh", op: { $0.tanh() }, ref: { Foundation.tanh($0) }),
    UnaryCase(name: "sigmoid", op: { $0.sigmoid() }, ref: { 1 / (1 + Foundation.exp(-$0)) }, domain: -20...20),
    UnaryCase(name: "relu", op: { $0.relu() }, ref: { Swift.max($0, 0) }),
    UnaryCase(name: "gelu", op: { $0.gelu() }, ref: { 0.5 * $0 * Foundation.erfc(-$0 / 2.0.squareRoot()) }, domain: -6...6),
    UnaryCase(name: "softplus", op: { $0.softplus() }, ref: { Swift.max($0, 0) + Foundation.log1p(Foundation.exp(-Swift.abs($0))) }, domain: -30...30),
    UnaryCase(name: "clamped", op: { $0.clamped(min: -0.5, max: 1.25) }, ref: { Swift.min(Swift.max($0, -0.5), 1.25) }),
    UnaryCase(name: "clamped(min:)", op: { $0.clamped(min: 0.25) }, ref: { Swift.max($0, 0.25) }),
    UnaryCase(name: "clamped(max:)", op: { $0.clamped(max: 0.25) }, ref: { Swift.min($0, 0.25) }),
    UnaryCase(name: "pow(3)", op: { $0.pow(3) }, ref: { $0 * $0 * $0 }),
    UnaryCase(name: "pow(2)", op: { $0.pow(2) }, ref: { $0 * $0 }),
    UnaryCase(name: "pow(0.5)", op: { $0.pow(0.5) }, ref: { $0.squareRoot() }, domain: 0...4),
    UnaryCase(name: "pow(-1)", op: { $0.pow(-1) }, ref: { 1 / $0 }, domain: 0.1...4),
    UnaryCase(name: "pow(1.7)", op: { $0.pow(1.7) }, ref: { Foundation.pow($0, 1.7) }, domain: 0...4),
    UnaryCase(name: "affine", op: { $0.affine(scale: -1.5, shift: 0.25) }, ref: { $0 * -1.5 + 0.25 }),
]

// Every elementwise op against a naive float64 reference, over contiguous, transposed and sliced
// operands, in float32 and float64 (and int64 where the op supports it).
@Suite struct ElementwiseTests {
    @Test(arguments: [DType.float32, .float64])
    func unaryOps(dtype: DType) {
        let shape = [3, 5, 4]
        var rng = TestRNG(3)
        for c in unaryCases {
            var vals = stored(rng.values(elementCount(shape), c.domain.lowerBound, c.domain.upperBound), dtype)
            if c.domain.contains(0) { vals[7] = 0 }
            let expected = vals.map(c.ref)
            for layout in Layout.allCases {
                let x = laidOut(vals, shape, dtype, layout)
                expectClose(c.op(x), expected, shape: shape, "\(c.name) \(dtype) \(layout)")
                #expect(c.op(x).dtype == dtype, "\(c.name) keeps \(dtype)")
            }
        }
    }

    @Test func integerUnaryOps() {
        let shape = [4, 3]
        var rng = TestRNG(5)
        let vals = rng.integers(12, -6, 6)
        let cases: [(String, (Tensor) -> Tensor, (Double) -> Double)] = [
            ("neg", { -$0 }, { -$0 }),
            ("abs", { $0.abs() }, { Swift.abs($0) }),
            ("sign", { $0.sign() }, { $0 > 0 ? 1 : ($0 < 0 ? -1 : 0) }),
            ("square", { $0.square() }, { $0 * $0 }),
            ("relu", { $0.relu() }, { Swift.max($0, 0) }),
            ("clamped", { $0.clamped(min: -2, max: 3) }, { Swift.min(Swift.max($0, -2), 3) }),
            ("affine", { $0.affine(scale: 3, shift: -2) }, { $0 * 3 - 2 }),
        ]
        for (name, op, ref) in cases {
            for layout in Layout.allCases {
                let y = op(laidOut(vals, shape, .int64, layout))
                #expect(y.dtype == .int64, "\(name)")
                #expect(y.scalars == vals.map(ref), "\(name) \(layout)")
            }
        }
    }

    @Test func specialValuesInUnaryOps() {
        let x = Tensor([.nan, .infinity, -.infinity, 0, -0.0] as [Float])
        #expect(x.exp().scalars[1] == .infinity)
        #expect(x.exp().scalars[2] == 0)
        #expect(x.exp().scalars[0].isNaN)
        #expect(x.clamped(min: -1, max: 1).scalars.dropFirst() == [1, -1, 0, 0])
        #expect(x.clamped(min: -1, max: 1).scalars[0].isNaN)
        #expect(x.sign().scalars[0].isNaN)
        #expect(x.relu().scalars.dropFirst() == [.infinity, 0, 0, 0])
        #expect(x.tanh().scalars.dropFirst() == [1, -1, 0, 0])
        #expect(x.sigmoid().scalars.dropFirst() == [1, 0, 0.5, 0.5])
    }

    @Test(arguments: [DType.float32, .float64])
    func binaryOps(dtype: DType) {
        let cases: [(String, (Tensor, Tensor) -> Tensor, (Double, Double) -> Double, ClosedRange<Double>)] = [
            ("add", { $0 + $1 }, { $0 + $1 }, -3...3),
            ("sub", { $0 - $1 }, { $0 - $1 }, -3...3),
            ("mul", { $0 * $1 }, { $0 * $1 }, -3...3),
            ("div", { $0 / $1 }, { $0 / $1 }, 0.2...3),
            ("pow", { $0.pow($1) }, { Foundation.pow($0, $1) }, 0.1...2.5),
            ("maximum", { Tensor.maximum($0, $1) }, { Swift.max($0, $1) }, -2...2),
            ("minimum", { Tensor.minimum($0, $1) }, { Swift.min($0, $1) }, -2...2),
            ("atan2", { Tensor.atan2($0, $1) }, { Foundation.atan2($0, $1) }, -3...3),
        ]
        let shapes: [([Int], [Int])] = [([3, 4], [3, 4]), ([2, 3, 4], [3, 1]), ([4], [2, 3, 4]), ([3, 1, 4], [5, 1])]
        var rng = TestRNG(17)
        for (name, op, ref, dom) in cases {
            for (sa, sb) in shapes {
                var va = stored(rng.values(elementCount(sa), dom.lowerBound, dom.upperBound), dtype)
                let vb = stored(rng.values(elementCount(sb), dom.lowerBound, dom.upperBound), dtype)
                if name == "maximum" || name == "minimum" { va[0] = vb[0] }  // a tie
                let out = referenceBroadcast(sa, sb)!
                let expected = (0..<elementCount(out)).map { f -> Double in
                    let idx = unravel(f, out)
                    return ref(va[broadcastSource(idx, sa)], vb[broadcastSource(idx, sb)])
                }
                for la in Layout.allCases {
                    for lb in [Layout.contiguous, .transposed] {
                        let y = op(laidOut(va, sa, dtype, la), laidOut(vb, sb, dtype, lb))
                        #expect(y.dtype == dtype)
                        expectClose(y, expected, shape: out, "\(name) \(dtype) \(sa)\(la) \(sb)\(lb)")
                    }
                }
            }
        }
    }

    @Test func scalarOperandForms() {
        var rng = TestRNG(23)
        for dtype in [DType.float32, .float64] {
            let v = stored(rng.values(12, 0.5, 2), dtype)
            for layout in Layout.allCases {
                let x = laidOut(v, [3, 4], dtype, layout)
                expectClose(x + 1.5, v.map { $0 + 1.5 }, shape: [3, 4])
                expectClose(1.5 + x, v.map { $0 + 1.5 }, shape: [3, 4])
                expectClose(x - 0.25, v.map { $0 - 0.25 }, shape: [3, 4])
                expectClose(2 - x, v.map { 2 - $0 }, shape: [3, 4])
                expectClose(x * 3, v.map { $0 * 3 }, shape: [3, 4])
                expectClose(-2 * x, v.map { -2 * $0 }, shape: [3, 4])
                expectClose(x / 4, v.map { $0 / 4 }, shape: [3, 4])
                expectClose(1 / x, v.map { 1 / $0 }, shape: [3, 4])
                var y = x
                y += 1; y *= 2; y -= 0.5; y /= 2
                expectClose(y, v.map { (($0 + 1) * 2 - 0.5) / 2 }, shape: [3, 4])
            }
        }
    }

    @Test func integerBinaryOps() {
        var rng = TestRNG(29)
        let va = rng.integers(12, -9, 9)
        var vb = rng.integers(4, -4, 4)
        vb = vb.map { $0 == 0 ? 3 : $0 }
        let expect: [(String, (Tensor, Tensor) -> Tensor, (Double, Double) -> Double)] = [
            ("add", { $0 + $1 }, { $0 + $1 }),
            ("sub", { $0 - $1 }, { $0 - $1 }),
            ("mul", { $0 * $1 }, { $0 * $1 }),
            ("floor div", { $0 / $1 }, { ($0 / $1).rounded(.down) }),
            ("maximum", { Tensor.maximum($0, $1) }, { Swift.max($0, $1) }),
            ("minimum", { Tensor.minimum($0, $1) }, { Swift.min($0, $1) }),
        ]
        for (name, op, ref) in expect {
            for layout in Layout.allCases {
                let y = op(laidOut(va, [3, 4], .int64, layout), laidOut(vb, [4], .int64, .contiguous))
                #expect(y.dtype == .int64)
                let e = (0..<12).map { ref(va[$0], vb[$0 % 4]) }
                #expect(y.scalars == e, "\(name) \(layout)")
            }
        }
        // atan2 of integers is computed in float32.
        let at = Tensor.atan2(Tensor([1, -1, 0] as [Int64]), Tensor([1, 1, -2] as [Int64]))
        #expect(at.dtype == .float32)
        expectClose(at, [Foundation.atan2(1.0, 1), Foundation.atan2(-1.0, 1), Foundation.atan2(0.0, -2)], shape: [3])
        // Bool operands: + is or, * is and, maximum/minimum likewise.
        let p = Tensor([true, true, false, false]), q = Tensor([true, false, true, false])
        #expect((p + q).scalars == [1, 1, 1, 0])
        #expect((p * q).scalars == [1, 0, 0, 0])
        #expect(Tensor.maximum(p, q).scalars == [1, 1, 1, 0])
        #expect(Tensor.minimum(p, q).scalars == [1, 0, 0, 0])
        let base = Tensor([2, -3, 5, 1] as [Int64]), ex = Tensor([3, 2, 0, 7] as [Int64])
        #expect(base.pow(ex).scalars == [8, 9, 1, 1])
        #expect(base.pow(ex).dtype == .int64)
    }

    @Test(arguments: [DType.float32, .float64, .int64])
    func comparisons(dtype: DType) {
        var rng = TestRNG(31)
        let va = rng.integers(24, -2, 2), vb = rng.integers(4, -2, 2)
        let ops: [(String, (Tensor, Tensor) -> Tensor, (Double, Double) -> Bool)] = [
            ("==", { $0 .== $1 }, { $0 == $1 }), ("!=", { $0 .!= $1 }, { $0 != $1 }),
            ("<", { $0 .< $1 }, { $0 < $1 }), ("<=", { $0 .<= $1 }, { $0 <= $1 }),
            (">", { $0 .> $1 }, { $0 > $1 }), (">=", { $0 .>= $1 }, { $0 >= $1 }),
        ]
        for (name, op, ref) in ops {
            for layout in Layout.allCases {
                let y = op(laidOut(va, [2, 3, 4], dtype, layout), laidOut(vb, [4], dtype, .contiguous))
                #expect(y.dtype == .bool)
                #expect(y.shape == [2, 3, 4])
                #expect(y.scalars == (0..<24).map { ref(va[$0], vb[$0 % 4]) ? 1 : 0 }, "\(name) \(dtype) \(layout)")
            }
        }
        let x = laidOut(va, [2, 3, 4], dtype, .transposed)
        #expect((x .== 1).scalars == va.map { $0 == 1 ? 1 : 0 })
        #expect((x .!= 1).scalars == va.map { $0 != 1 ? 1 : 0 })
        #expect((x .< 0).scalars == va.map { $0 < 0 ? 1 : 0 })
        #expect((x .<= 0).scalars == va.map { $0 <= 0 ? 1 : 0 })
        #expect((x .> 1).scalars == va.map { $0 > 1 ? 1 : 0 })
        #expect((x .>= -1).scalars == va.map { $0 >= -1 ? 1 : 0 })
        // Mixed dtypes compare after promotion.
        #expect((Tensor([1, 2] as [Int64]) .< Tensor([1.5, 1.5] as [Float])).scalars == [1, 0])
    }

    @Test func logicalOps() {
        let a = Tensor([true, true, false, false]), b = Tensor([true, false, true, false])
        #expect(a.and(b).scalars == [1, 0, 0, 0])
        #expect(a.or(b).scalars == [1, 1, 1, 0])
        #expect(a.xor(b).scalars == [0, 1, 1, 0])
        #expect(a.logicalNot().scalars == [0, 0, 1, 1])
        let m = Tensor([true, false, true, false, true, false], shape: [2, 3])
        #expect(m.T.logicalNot().scalars == [0, 1, 1, 0, 0, 1])
        let f = Tensor([1, .nan, .infinity, -2] as [Double])
        #expect(f.isNaN().scalars == [0, 1, 0, 0])
        #expect(!f.isFinite)
        #expect(Tensor([1, 2] as [Float]).isFinite)
        #expect(Tensor([1, 0] as [Float]).any())
        #expect(!Tensor([1, 0] as [Float]).all())
        #expect(Tensor([true, true]).all())
    }

    @Test(arguments: [DType.float32, .float64, .int64])
    func whereAndMaskedFill(dtype: DType) {
        var rng = TestRNG(37)
        let cv = rng.integers(3, 0, 1)
        let av = stored(rng.values(4, -5, 5).map { $0.rounded() }, dtype)
        let bv = stored(rng.values(12, -5, 5).map { $0.rounded() }, dtype)
        let cond = Tensor(cv.map { $0 != 0 }, shape: [3, 1])
        for layout in Layout.allCases {
            let a = laidOut(av, [1, 4], dtype, .contiguous)
            let b = laidOut(bv, [3, 4], dtype, layout)
            let y = Tensor.where(cond, a, b)
            #expect(y.dtype == dtype)
            let e = (0..<12).map { f in cv[f / 4] != 0 ? av[f % 4] : bv[f] }
            #expect(y.shape == [3, 4])
            #expect(y.scalars == e, "where \(dtype) \(layout)")
            let filled = b.maskedFill(cond, -9)
            #expect(filled.dtype == dtype)
            #expect(filled.scalars == (0..<12).map { f in cv[f / 4] != 0 ? -9 : bv[f] }, "maskedFill \(dtype) \(layout)")
        }
        // A transposed condition.
        let c2 = laidOut(rng.integers(12, 0, 1), [3, 4], .bool, .transposed)
        let y2 = Tensor.where(c2, Tensor.ones([3, 4], dtype: dtype), Tensor.zeros([3, 4], dtype: dtype))
        #expect(y2.scalars == c2.scalars)
    }
}
