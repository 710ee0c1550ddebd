import Testing
import Tensors

// matmul against a naive triple loop: 2-D, batched, broadcast batches, transposed operands, vectors.
@Suite struct MatmulTests {
    /// NumPy matmul reference for operands of any rank ≥ 1.
    func reference(_ a: [Double], _ sa: [Int], _ b: [Double], _ sb: [Int]) -> ([Double], [Int]) {
        let am = sa.count == 1 ? [1] + sa : sa, bm = sb.count == 1 ? sb + [1] : sb
        let m = am[am.count - 2], k = am[am.count - 1], n = bm[bm.count - 1]
        let ba = Array(am.dropLast(2)), bb = Array(bm.dropLast(2))
        let batch = referenceBroadcast(ba, bb)!
        var out: [Double] = []
        for f in 0..<elementCount(batch) {
            let bi = unravel(f, batch)
            let oa = broadcastSource(bi, ba) * m * k, ob = broadcastSource(bi, bb) * k * n
            out += referenceMatmul(Array(a[oa..<(oa + m * k)]), Array(b[ob..<(ob + k * n)]), m: m, k: k, n: n)
        }
        var shape = batch
        if sa.count > 1 { shape.append(m) }
        if sb.count > 1 { shape.append(n) }
        return (out, shape)
    }

    @Test(arguments: [DType.float32, .float64])
    func shapesAndLayouts(dtype: DType) {
        let cases: [([Int], [Int])] = [
            ([3, 4], [4, 5]), ([1, 4], [4, 1]), ([5, 1], [1, 3]),
            ([2, 3, 4], [2, 4, 5]), ([2, 1, 3, 4], [5, 4, 6]), ([3, 4], [2, 4, 5]), ([2, 3, 4], [4, 2]),
            ([4], [4]), ([4], [4, 5]), ([3, 4], [4]), ([2, 3, 4], [4]), ([4], [2, 4, 5]),
            ([3, 0], [0, 2]),
        ]
        var rng = TestRNG(73)
        for (sa, sb) in cases {
            let va = stored(rng.values(elementCount(sa)), dtype), vb = stored(rng.values(elementCount(sb)), dtype)
            let (e, s) = reference(va, sa, vb, sb)
            for la in Layout.allCases {
                for lb in Layout.allCases {
                    let y = laidOut(va, sa, dtype, la).matmul(laidOut(vb, sb, dtype, lb))
                    #expect(y.dtype == dtype)
                    expectClose(y, e, shape: s, rel: dtype == .float32 ? 1e-5 : 1e-12, abs: dtype == .float32 ? 1e-5 : 1e-12,
                                "matmul \(sa)\(la) x \(sb)\(lb) \(dtype)")
                }
            }
        }
    }

    @Test func transposedViewsAndExpandedBatches() {
        var rng = TestRNG(79)
        let va = rng.values(12), vb = rng.values(20)
        // A stored as [4, 3] and used transposed; B stored as [5, 4] and used transposed.
        let a = Tensor(va, shape: [4, 3]).T, b = Tensor(vb, shape: [5, 4]).T
        let (e, s) = reference(a.contiguous().scalars, [3, 4], b.contiguous().scalars, [4, 5])
        expectClose(a.matmul(b), e, shape: s)
        // A batch made by expanding one matrix (stride-0 batch).
        let ex = Tensor(va, shape: [3, 4]).expanded(to: [2, 3, 4])
        let (e2, s2) = reference(va + va, [2, 3, 4], vb, [4, 5])
        expectClose(ex.matmul(Tensor(vb, shape: [4, 5])), e2, shape: s2)
        // A batch sliced with a step (non-uniform batch stride is not assumed).
        let big = Tensor(rng.values(4 * 3 * 4), shape: [4, 3, 4])
        let sl = big.sliced(0, 0, nil, step: 2)
        let (e3, s3) = reference(sl.contiguous().scalars, [2, 3, 4], vb, [4, 5])
        expectClose(sl.matmul(Tensor(vb, shape: [4, 5])), e3, shape: s3)
    }

    @Test("float32 products with few rows (a recurrence's h Wᵀ and g W at small batches): odd widths, transposed weights, strided rows, batches, threads")
    func fewRowProducts() {
        var rng = TestRNG(83)
        let saved = Threading.threadCount
        defer { Threading.threadCount = saved }
        for threads in [1, 2] {
            Threading.threadCount = threads
            do {
                for (m, k, n) in [(1, 8, 24), (3, 13, 31), (4, 200, 800), (7, 9, 50), (10, 800, 200), (16, 64, 27), (17, 16, 24), (2, 8, 3)] {
                    let va = rng.values(m * k), vb = rng.values(k * n)
                    let (e, s) = reference(va, [m, k], vb, [k, n])
                    let a = Tensor(va, shape: [m, k]).to(.float32)
                    // B as stored [k, n] (NN) and as the transpose of a stored [n, k] weight (NT).
                    let b = Tensor(vb, shape: [k, n]).to(.float32)
                    let w = Tensor(vb, shape: [k, n]).T.contiguous().to(.float32)
                    expectClose(a.matmul(b), e, shape: s, rel: 1e-5, abs: 1e-4, "NN m=\(m) k=\(k) n=\(n) threads=\(threads)")
                    expectClose(a.matmul(w.T), e, shape: s, rel: 1e-5, abs: 1e-4, "NT m=\(m) k=\(k) n=\(n) threads=\(threads)")
                    // A row-strided A (a column slice of a wider matrix) and a batch of two.
                    let doubled = (0..<m).flatMap { i in Array(repeating: Array(va[(i * k)..<((i + 1) * k)]), count: 2).joined() }
                    let wide = Tensor(doubled, shape: [m, 2 * k]).to(.float32).sliced(1, k, 2 * k)
                    expectClose(wide.matmul(b), e, shape: s, rel: 1e-5, abs: 1e-4, "strided A m=\(m)")
                    let batched = Tensor.stack([a, a], axis: 0).matmul(b)
                    expectClose(batched, e + e, shape: [2] + s, rel: 1e-5, abs: 1e-4, "batch m=\(m)")
                }
            }
        }
    }

    @Test func mixedPrecisionPromotes() {
        let a = Tensor([1, 2, 3, 4] as [Float], shape: [2, 2])
        let b = Tensor([0.5, 0.25, 1, 2] as [Double], shape: [2, 2])
        let y = a.matmul(b)
        #expect(y.dtype == .float64)
        #expect(y.scalars == [2.5, 4.25, 5.5, 8.75])
    }

    @Test("a transposed operand's gradient comes back contiguous in its own layout, first and second order")
    func transposedOperandGradients() throws {
        let g = RandomGenerator(seed: 7)
        let x = Tensor.randn([5, 3], dtype: .float64, generator: g).requiringGrad()
        let w = Tensor.randn([4, 3], dtype: .float64, generator: g).requiringGrad()
        let v = Tensor.randn([5, 2], dtype: .float64, generator: g).requiringGrad()
        let c = Tensor.randn([5, 4], dtype: .float64, generator: g)
        // x Wᵀ (transposed right operand) and vᵀ x (transposed left operand).
        try ((x.matmul(w.T) * c).sum() + v.T.matmul(x).square().sum()).backward()
        #expect(w.grad!.isContiguous && x.grad!.isContiguous && v.grad!.isContiguous)
        let expectedW = c.T.matmul(x).scalars                                  // cᵀx
        let expectedV = x.matmul(v.T.matmul(x).T * 2).scalars                  // x (2 vᵀx)ᵀ
        #expect(zip(w.grad!.scalars, expectedW).allSatisfy { abs($0 - $1) < 1e-12 })
        #expect(zip(v.grad!.scalars, expectedV).allSatisfy { abs($0 - $1) < 1e-12 })
        let f: ([Tensor]) -> Tensor = { xs in xs[0].matmul(xs[1].T).tanh() + xs[2].T.matmul(xs[0]).sum() }
        let inputs = [x.detached(), w.detached(), v.detached()]
        let first = try gradcheck(f, inputs: inputs)
        #expect(first.passed, "\(first)")
        let second = try gradgradcheck(f, inputs: inputs)
        #expect(second.passed, "\(second)")
    }
}
