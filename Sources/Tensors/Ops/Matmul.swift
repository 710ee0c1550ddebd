import CKernels

// Matrix products through cblas: transposed views become transpose flags, not copies.
extension Tensor {
    /// How a [rows, cols] matrix view reaches BLAS: (transposed flag, leading dimension), or nil
    /// when its strides need a copy first.
    static func blasLayout(rows: Int, cols: Int, rowStride: Int, colStride: Int) -> (Bool, Int)? {
        if (colStride == 1 || cols == 1) && rowStride >= Swift.max(cols, 1) { return (false, rowStride) }
        if (rowStride == 1 || rows == 1) && colStride >= Swift.max(rows, 1) { return (true, colStride) }
        if rows == 1 && cols == 1 { return (false, 1) }
        return nil
    }

    /// The single stride that walks the flattened batch dimensions, or nil if there is none.
    static func batchStride(_ t: Tensor, batchRank: Int) -> Int? {
        var step: Int? = nil
        var expected = 0
        for d in (0..<batchRank).reversed() where t.shape[d] != 1 {
            if step == nil { step = t.strides[d] } else if t.strides[d] != expected { return nil }
            expected = t.strides[d] * t.shape[d]
        }
        return step ?? 0
    }

    /// Matrix product with NumPy semantics: 1-d operands are vectors, leading dimensions are
    /// batch dimensions that broadcast.
    public func matmul(_ other: Tensor) -> Tensor {
        guard dtype.isFloatingPoint && other.dtype.isFloatingPoint else {
            fail("matmul needs floating tensors, got \(dtype) and \(other.dtype)")
        }
        if rank == 0 || other.rank == 0 { fail("matmul needs at least 1-d operands, got shapes \(describe(shape)) and \(describe(other.shape)); use * for scalars") }
        if rank == 1 && other.rank == 1 {
            guard shape[0] == other.shape[0] else {
                fail("matmul: vectors of length \(shape[0]) and \(other.shape[0]) cannot be multiplied; lengths must match")
            }
            return unsqueezed(0).matmul(other.unsqueezed(1)).reshaped([])
        }
        if rank == 1 { return unsqueezed(0).matmul(other).squeezed(-2) }
        if other.rank == 1 { return matmul(other.unsqueezed(1)).squeezed(-1) }
        let t = DType.promoted(dtype, rankA: rank, other.dtype, rankB: other.rank)
        let a = to(t), b = other.to(t)
        let m = a.shape[a.rank - 2], k = a.shape[a.rank - 1]
        let k2 = b.shape[b.rank - 2], n = b.shape[b.rank - 1]
        guard k == k2 else {
            fail("matmul: shapes \(describe(shape)) and \(describe(other.shape)) cannot be multiplied: \(k) columns against \(k2) rows")
        }
        let batchShape: [Int]
        if a.rank == 2 && b.rank == 2 {
            // Plain matrices: no batch shape to broadcast and no expanded views to build (those
            // arrays were a third of the fixed cost of a 64 x 64 product).
            batchShape = []
        } else {
            do {
                batchShape = try ShapeMath.broadcast(Array(a.shape.dropLast(2)), Array(b.shape.dropLast(2)))
            } catch {
                fail("matmul: the batch dimensions of \(describe(shape)) and \(describe(other.shape)) do not broadcast: \(error.message)")
            }
        }
        let out = a.rank == 2 && b.rank == 2
            ? Tensor.gemm(a.detached(), b.detached(), batchShape: [], m: m, n: n, k: k)
            : Tensor.gemm(a.detached().expanded(to: batchShape + [m, k]),
                          b.detached().expanded(to: batchShape + [k, n]),
                          batchShape: batchShape, m: m, n: n, k: k)
        guard GradMode.isEnabled && (a.meta != nil || b.meta != nil) else { return out }
        return Tensor.record("matmul", out, [a, b]) { g, _ in
            // An operand that is a transposed matrix (W.T in x Wᵀ) gets its gradient in its own
            // layout, (gᵀa)ᵀ rather than aᵀg, so the transpose hands W a contiguous gradient: the
            // transposed view cost a strided copy or a strided add for every contribution (the
            // tied decoder and the LSTM's weights: 7.7% of a batch-10 LSTM LM step).
            let plain = batchShape.isEmpty
            let ga = a.meta == nil ? nil : plain && a.isTransposedMatrix
                ? b.matmul(g.transposed()).transposed() : g.matmul(b.transposed()).sum(to: a.shape)
            let gb = b.meta == nil ? nil : plain && b.isTransposedMatrix
                ? g.transposed().matmul(a).transposed() : a.transposed().matmul(g).sum(to: b.shape)
            return [ga, gb]
        }
    }

    /// A 2-d view whose elements run down the columns (the transpose of a row-major matrix).
    var isTransposedMatrix: Bool {
        rank == 2 && shape[0] > 1 && shape[1] > 1 && strides[0] == 1 && strides[1] >= shape[0]
    }

    /// Batched GEMM of already-expanded operands [batch..., m, k] x [batch..., k, n].
    static func gemm(_ a0: Tensor, _ b0: Tensor, batchShape: [Int], m: Int, n: Int, k: Int) -> Tensor {
        let out = Tensor(empty: batchShape.isEmpty ? [m, n] : batchShape + [m, n], dtype: a0.dtype)
        let batch = batchShape.reduce(1, *)
        if out.count == 0 { return out }
        if k == 0 { eq_fill(out.dtype.code, Int64(out.count), out.baseAddress, 0); return out }
        func prepared(_ t: Tensor, _ rows: Int, _ cols: Int) -> (Tensor, Bool, Int, Int) {
            let r = t.rank
            if let (trans, ld) = blasLayout(rows: rows, cols: cols, rowStride: t.strides[r - 2], colStride: t.strides[r - 1]),
               let bs = batchStride(t, batchRank: r - 2) {
                return (t, trans, ld, bs)
            }
            let c = t.contiguousCopy()
            return (c, false, cols, rows * cols)
        }
        let (a, ta, lda, sa) = prepared(a0, m, k)
        let (b, tb, ldb, sb) = prepared(b0, k, n)
        eq_gemm(a.dtype.code, ta ? 1 : 0, tb ? 1 : 0, Int64(m), Int64(n), Int64(k), 1,
                a.baseAddress, Int64(lda), Int64(sa), b.baseAddress, Int64(ldb), Int64(sb), 0,
                out.baseAddress, Int64(n), Int64(m * n), Int64(batch))
        return out
    }
}
