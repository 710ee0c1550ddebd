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

    /// The single stride that walks batch dimensions `dims` flattened, or nil if there is none.
    static func collapsedStride(_ t: Tensor, dims: Range<Int>) -> Int? {
        var step: Int? = nil
        var expected = 0
        for d in dims.reversed() where t.shape[d] != 1 {
            if step == nil { step = t.strides[d] } else if t.strides[d] != expected { return nil }
            expected = t.strides[d] * t.shape[d]
        }
        return step ?? 0
    }

    /// Matrix product with NumPy semantics: 1-d operands are vectors, leading dimensions are
    /// batch dimensions that broadcast.
    public func matmul(_ other: Tensor) -> Tensor { matmul(other, memoryOrder: nil) }

    /// ``matmul(_:)`` with the result stored in `memoryOrder` (its dimensions from outermost to
    /// innermost; the last must be the result's last): `memoryOrder: [0, 2, 1, 3]` on a
    /// [B, H, T, d] product stores it as [B, T, H, d], so that merging the heads again
    /// (`permuted(0, 2, 1, 3).reshaped([B, T, H·d])`) is a view, not a copy. The values are those
    /// of `matmul(other)`; an order BLAS cannot write (or nil) gives the row-major result.
    public func matmul(_ other: Tensor, memoryOrder: [Int]?) -> Tensor {
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
                          batchShape: batchShape, m: m, n: n, k: k, memoryOrder: memoryOrder)
        guard GradMode.isEnabled && (a.meta != nil || b.meta != nil) else { return out }
        return Tensor.record("matmul", out, [a, b]) { g, _ in
            // An operand that is a transposed matrix (W.T in x Wᵀ) gets its gradient in its own
            // layout, (gᵀa)ᵀ rather than aᵀg, so the transpose hands W a contiguous gradient: the
            // transposed view cost a strided copy or a strided add for every contribution (the
            // tied decoder and the LSTM's weights: 7.7% of a batch-10 LSTM LM step).
            let plain = batchShape.isEmpty
            let ga = a.meta == nil ? nil : plain && a.isTransposedMatrix
                ? b.matmul(g.transposed()).transposed()
                : Tensor.product(g, b.transposed(), laidOutLike: a, batchShape: batchShape) ?? g.matmul(b.transposed()).sum(to: a.shape)
            let gb = b.meta == nil ? nil : plain && b.isTransposedMatrix
                ? g.transposed().matmul(a).transposed()
                : Tensor.product(a.transposed(), g, laidOutLike: b, batchShape: batchShape) ?? a.transposed().matmul(g).sum(to: b.shape)
            return [ga, gb]
        }
    }

    /// `x.matmul(y)` stored in the memory order of the batched operand `like` it is the gradient
    /// of (a head-split view of a [B, T, H·d] activation gets a [B, T, H·d]-ordered gradient, whose
    /// head merge is then a view, not a copy), or nil where that does not apply: no batch, a
    /// broadcast operand, or a row-major one. An operand whose second-to-last dimension is
    /// innermost (kᵀ in q·kᵀ) gets (yᵀxᵀ)ᵀ in its transpose's order.
    static func product(_ x: Tensor, _ y: Tensor, laidOutLike like: Tensor, batchShape: [Int]) -> Tensor? {
        guard !batchShape.isEmpty, like.rank == batchShape.count + 2, Array(like.shape.dropLast(2)) == batchShape,
              let order = like.stridedOrder else { return nil }
        let r = like.rank
        if order.last == r - 1 { return x.matmul(y, memoryOrder: order) }
        guard order.last == r - 2 else { return nil }
        let swapped = order.map { $0 == r - 1 ? r - 2 : $0 == r - 2 ? r - 1 : $0 }
        return y.transposed().matmul(x.transposed(), memoryOrder: swapped).transposed()
    }

    /// The dimensions from outermost to innermost by stride (dimensions of size 1 first, ties in
    /// order), or nil when the dimensions of size above 1 are already in row-major order. A
    /// head-split view of a [B, K, 3·H·dh] projection ([B, H, K, dh], strides (3·K·H·dh, dh,
    /// 3·H·dh, 1)) gives [0, 2, 1, 3].
    var stridedOrder: [Int]? {
        let units = (0..<rank).filter { shape[$0] == 1 }
        let spread = (0..<rank).filter { shape[$0] != 1 }
        let sorted = spread.sorted { strides[$0] > strides[$1] || strides[$0] == strides[$1] && $0 < $1 }
        return sorted == spread ? nil : units + sorted
    }

    /// A 2-d view whose elements run down the columns (the transpose of a row-major matrix).
    var isTransposedMatrix: Bool {
        rank == 2 && shape[0] > 1 && shape[1] > 1 && strides[0] == 1 && strides[1] >= shape[0]
    }

    /// Batched GEMM of already-expanded operands [batch..., m, k] x [batch..., k, n].
    ///
    /// The batch dimensions reach BLAS as two strided levels (outer dimensions ..<split, inner
    /// split...), so attention's head-split views [B, H, T, dh] of [B, T, H·dh] activations need
    /// no copy: their (B, H) strides do not collapse to one, but each level does.
    static func gemm(_ a0: Tensor, _ b0: Tensor, batchShape: [Int], m: Int, n: Int, k: Int,
                     memoryOrder: [Int]? = nil) -> Tensor {
        var out = Tensor(empty: batchShape.isEmpty ? [m, n] : batchShape + [m, n], dtype: a0.dtype)
        let batch = batchShape.reduce(1, *)
        if out.count == 0 { return out }
        if k == 0 { eq_fill(out.dtype.code, Int64(out.count), out.baseAddress, 0); return out }
        let batchRank = batchShape.count
        func layout(_ t: Tensor, _ rows: Int, _ cols: Int) -> (Bool, Int)? {
            blasLayout(rows: rows, cols: cols, rowStride: t.strides[t.rank - 2], colStride: t.strides[t.rank - 1])
        }
        func levels(_ t: Tensor, split: Int) -> (outer: Int, inner: Int)? {
            guard let outer = collapsedStride(t, dims: 0..<split), let inner = collapsedStride(t, dims: split..<batchRank) else { return nil }
            return (outer, inner)
        }
        // The first split at which each operand BLAS can read as it is walks in two levels (split
        // 0: one level, the common case); an operand copied anyway walks at any split.
        let (layoutA, layoutB) = (layout(a0, m, k), layout(b0, k, n))
        if let order = memoryOrder, order.count == out.rank, order.last == out.rank - 1, Set(order) == Set(0..<out.rank) {
            let stored = ShapeMath.contiguousStrides(order.map { out.shape[$0] })
            var strides = out.strides
            for (i, d) in order.enumerated() { strides[d] = stored[i] }
            let ordered = out.restrided(shape: out.shape, strides: strides, offset: 0)
            // Honoured when the batch of the result still walks in two levels.
            if (0..<Swift.max(batchRank, 1)).contains(where: { levels(ordered, split: $0) != nil }) { out = ordered }
        }
        let split = batchRank < 2 ? 0 : (0..<batchRank).first { s in
            (layoutA == nil || levels(a0, split: s) != nil) && (layoutB == nil || levels(b0, split: s) != nil)
                && levels(out, split: s) != nil
        } ?? (0..<batchRank).first { levels(out, split: $0) != nil } ?? 0
        func prepared(_ t: Tensor, _ layout: (Bool, Int)?, _ cols: Int) -> (Tensor, Bool, Int, (outer: Int, inner: Int)) {
            if let (trans, ld) = layout, let strides = levels(t, split: split) { return (t, trans, ld, strides) }
            let c = t.contiguousCopy()
            return (c, false, cols, levels(c, split: split)!)
        }
        let (a, ta, lda, sa) = prepared(a0, layoutA, k)
        let (b, tb, ldb, sb) = prepared(b0, layoutB, n)
        let inner = batchShape[split...].reduce(1, *)
        let sc = levels(out, split: split)!
        eq_gemm(a.dtype.code, ta ? 1 : 0, tb ? 1 : 0, Int64(m), Int64(n), Int64(k), 1,
                a.baseAddress, Int64(lda), Int64(sa.outer), Int64(sa.inner), b.baseAddress, Int64(ldb), Int64(sb.outer), Int64(sb.inner), 0,
                out.baseAddress, Int64(out.strides[out.rank - 2]), Int64(sc.outer), Int64(sc.inner), Int64(batch), Int64(inner))
        return out
    }
}
