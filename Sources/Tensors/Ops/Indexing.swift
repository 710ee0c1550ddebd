import CKernels

// Index-driven ops (index-select, gather, scatter-add, one-hot) and joining/splitting.
extension Tensor {
    /// Views a contiguous tensor as [outer, shape[axis], inner].
    func splitAround(_ axis: Int) -> (outer: Int, n: Int, inner: Int) {
        (shape[..<axis].reduce(1, *), shape[axis], shape[(axis + 1)...].reduce(1, *))
    }

    func requireIndices(_ op: String) -> Tensor {
        guard dtype == .int64 else {
            fail("\(op): indices must be an int64 tensor, got \(dtype); convert with .to(.int64)")
        }
        return isContiguous ? detached() : contiguousCopy()
    }

    static func indexError(_ op: String, position: Int64, indices: Tensor, size: Int, axis: Int) -> Never {
        let bad = indices.toArray(Int64.self)[Int(position)]
        fail("\(op): index \(bad) is out of range for axis \(axis) of size \(size)")
    }

    /// The entries at `indices` (1-d, int64) along `axis`.
    public func indexSelect(axis: Int, _ indices: Tensor) -> Tensor {
        let a = normalizedAxis(axis, "indexSelect")
        let idx = indices.requireIndices("indexSelect")
        guard idx.rank <= 1 else { fail("indexSelect: indices must be 1-d, got shape \(describe(indices.shape)); flatten them first") }
        let x = isContiguous ? detached() : contiguousCopy()
        let (outer, n, inner) = x.splitAround(a)
        var outShape = shape
        outShape[a] = idx.count
        let out = Tensor(empty: outShape, dtype: dtype)
        let bad = eq_index_select(dtype.code, Int64(outer), Int64(n), Int64(inner), x.baseAddress,
                                  idx.baseAddress.assumingMemoryBound(to: Int64.self), Int64(idx.count), out.baseAddress)
        if bad >= 0 { Tensor.indexError("indexSelect", position: bad, indices: idx, size: n, axis: a) }
        let inShape = shape
        let selected = Tensor.record("indexSelect", out, [self]) { g, _ in
            [Tensor.zeros(inShape, dtype: g.dtype).indexAdd(axis: a, idx, g)]
        }
        selected.meta?.gradFn?.window = .rows(fullShape: inShape, axis: a, indices: idx)
        return selected
    }

    /// This tensor plus `source` added at `indices` along `axis` (repeated indices accumulate).
    public func indexAdd(axis: Int, _ indices: Tensor, _ source: Tensor) -> Tensor {
        requireAddable("indexAdd")
        let a = normalizedAxis(axis, "indexAdd")
        let idx = indices.requireIndices("indexAdd")
        var expected = shape
        expected[a] = idx.count
        guard source.shape == expected else {
            fail("indexAdd: source has shape \(describe(source.shape)) but \(idx.count) indices along axis \(a) of \(describe(shape)) need \(describe(expected))")
        }
        let out = contiguousCopy()
        out.addRows(axis: a, idx, source)
        return Tensor.record("indexAdd", out, [self, source]) { g, _ in
            [g, g.indexSelect(axis: a, idx)]
        }
    }

    /// Adds `source`'s slices along `axis` into this contiguous tensor's at `indices` (int64,
    /// contiguous; repeats accumulate), in place: indexAdd's kernel on a buffer its caller owns.
    func addRows(axis a: Int, _ idx: Tensor, _ source: Tensor) {
        let src = source.to(dtype).detached().contiguous()
        let (outer, n, inner) = splitAround(a)
        let bad = eq_index_add(dtype.code, Int64(outer), Int64(n), Int64(inner), src.baseAddress,
                               idx.baseAddress.assumingMemoryBound(to: Int64.self), Int64(idx.count), baseAddress)
        if bad >= 0 { Tensor.indexError("indexAdd", position: bad, indices: idx, size: n, axis: a) }
    }

    /// `out[..., j, ...] = self[..., index[..., j, ...], ...]` along `axis`; `index` has this
    /// tensor's shape except along `axis`.
    public func gather(axis: Int, _ index: Tensor) -> Tensor {
        let a = normalizedAxis(axis, "gather")
        let idx = index.requireIndices("gather")
        checkIndexShape("gather", idx, a)
        let x = isContiguous ? detached() : contiguousCopy()
        let (outer, n, inner) = x.splitAround(a)
        let out = Tensor(empty: idx.shape, dtype: dtype)
        let bad = eq_gather(dtype.code, Int64(outer), Int64(n), Int64(inner), x.baseAddress,
                            idx.baseAddress.assumingMemoryBound(to: Int64.self), Int64(idx.shape[a]), out.baseAddress)
        if bad >= 0 { Tensor.indexError("gather", position: bad, indices: idx, size: n, axis: a) }
        let inShape = shape
        return Tensor.record("gather", out, [self]) { g, _ in
            [Tensor.zeros(inShape, dtype: g.dtype).scatterAdd(axis: a, idx, g)]
        }
    }

    /// This tensor plus `source` added at `index` along `axis` (the inverse of ``gather(axis:_:)``).
    public func scatterAdd(axis: Int, _ index: Tensor, _ source: Tensor) -> Tensor {
        requireAddable("scatterAdd")
        let a = normalizedAxis(axis, "scatterAdd")
        let idx = index.requireIndices("scatterAdd")
        checkIndexShape("scatterAdd", idx, a)
        guard source.shape == idx.shape else {
            fail("scatterAdd: source has shape \(describe(source.shape)) but index has shape \(describe(idx.shape)); they must match")
        }
        let out = contiguousCopy()
        let src = source.to(dtype).detached().contiguous()
        let (outer, n, inner) = out.splitAround(a)
        let bad = eq_scatter_add(dtype.code, Int64(outer), Int64(n), Int64(inner), src.baseAddress,
                                 idx.baseAddress.assumingMemoryBound(to: Int64.self), Int64(idx.shape[a]), out.baseAddress)
        if bad >= 0 { Tensor.indexError("scatterAdd", position: bad, indices: idx, size: n, axis: a) }
        return Tensor.record("scatterAdd", out, [self, source]) { g, _ in
            [g, g.gather(axis: a, idx)]
        }
    }

    /// The add kernels have no bool case (they would silently add nothing).
    func requireAddable(_ op: String) {
        guard dtype != .bool else {
            fail("\(op) is not defined for bool tensors; convert with .to(.int64) first")
        }
    }

    func checkIndexShape(_ op: String, _ idx: Tensor, _ axis: Int) {
        var ok = idx.rank == rank
        if ok { for d in 0..<rank where d != axis && idx.shape[d] != shape[d] { ok = false } }
        guard ok else {
            fail("\(op): index has shape \(describe(idx.shape)) but must match the input's shape \(describe(shape)) in every dimension except axis \(axis)")
        }
    }

    /// One-hot rows: a tensor of int64 class indices becomes shape + [classes].
    public func oneHot(classes: Int, dtype outType: DType = .float32) -> Tensor {
        let idx = requireIndices("oneHot").reshaped([count, 1])
        // Checked here so the error names oneHot rather than the scatterAdd it is built on.
        if let bad = idx.toArray(Int64.self).first(where: { $0 < 0 || $0 >= classes }) {
            fail("oneHot: class index \(bad) is out of range for \(classes) classes (valid: 0 to \(classes - 1))")
        }
        // Bool has no addition, so a bool one-hot is built in int64 and converted.
        let work: DType = outType == .bool ? .int64 : outType
        let out = Tensor.zeros([count, classes], dtype: work)
            .scatterAdd(axis: 1, idx, Tensor.ones([count, 1], dtype: work))
        return out.reshaped(shape + [classes]).to(outType)
    }

    /// Tensors joined along an existing axis.
    public static func concat(_ tensors: [Tensor], axis: Int = 0) -> Tensor {
        guard let first = tensors.first else { fail("concat needs at least one tensor") }
        let a = first.normalizedAxis(axis, "concat")
        var outShape = first.shape
        outShape[a] = 0
        var dtype = first.dtype
        for (i, t) in tensors.enumerated() {
            guard t.rank == first.rank else {
                fail("concat: tensor \(i) has rank \(t.rank) (shape \(describe(t.shape))) but tensor 0 has rank \(first.rank) (shape \(describe(first.shape)))")
            }
            for d in 0..<t.rank where d != a && t.shape[d] != first.shape[d] {
                fail("concat: tensor \(i) has shape \(describe(t.shape)) and tensor 0 has \(describe(first.shape)); they may differ only along axis \(a)")
            }
            outShape[a] += t.shape[a]
            dtype = DType.promoted(dtype, rankA: 1, t.dtype, rankB: 1)
        }
        let out = Tensor(empty: outShape, dtype: dtype)
        var start = 0
        var sizes: [Int] = []
        for t in tensors {
            let len = t.shape[a]
            var sh = outShape
            sh[a] = len
            let window = out.restrided(shape: sh, strides: out.strides, offset: start * out.strides[a])
            Kernels.copy(t, into: window)
            start += len
            sizes.append(len)
        }
        let inputs = tensors.map { $0.to(dtype) }
        return record("concat", out, inputs) { g, _ in
            var s = 0
            return sizes.map { len in
                defer { s += len }
                return g.sliced(a, s, s + len)
            }
        }
    }

    /// Tensors of equal shape joined along a new axis.
    public static func stack(_ tensors: [Tensor], axis: Int = 0) -> Tensor {
        guard let first = tensors.first else { fail("stack needs at least one tensor") }
        for (i, t) in tensors.enumerated() where t.shape != first.shape {
            fail("stack: tensor \(i) has shape \(describe(t.shape)) but tensor 0 has \(describe(first.shape)); all must match")
        }
        return concat(tensors.map { $0.unsqueezed(axis) }, axis: axis < 0 ? axis : axis)
    }

    /// Pieces of the given sizes along `axis` (views).
    public func split(sizes: [Int], axis: Int = 0) -> [Tensor] {
        let a = normalizedAxis(axis, "split")
        guard sizes.reduce(0, +) == shape[a], sizes.allSatisfy({ $0 >= 0 }) else {
            fail("split: sizes \(describe(sizes)) must be non-negative and add up to \(shape[a]), the size of axis \(a)")
        }
        var start = 0
        return sizes.map { len in
            defer { start += len }
            return sliced(a, start, start + len)
        }
    }

    /// `chunks` pieces of (nearly) equal size along `axis`; the last may be smaller.
    public func chunked(_ chunks: Int, axis: Int = 0) -> [Tensor] {
        let a = normalizedAxis(axis, "chunked")
        guard chunks > 0 else { fail("chunked: the number of chunks must be positive, got \(chunks)") }
        let size = (shape[a] + chunks - 1) / chunks
        var sizes: [Int] = []
        var left = shape[a]
        while left > 0 { sizes.append(Swift.min(size, left)); left -= size }
        return split(sizes: sizes, axis: a)
    }
}
