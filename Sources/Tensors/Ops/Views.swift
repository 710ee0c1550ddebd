import CKernels

// Views share storage with their base and never copy (reshape copies only when the strides
// cannot express the new shape). Each is differentiable.
extension Tensor {
    /// A copy with contiguous row-major layout, or `self` when it already is.
    public func contiguous() -> Tensor {
        if isContiguous { return self }
        return Tensor.record("contiguous", contiguousCopy(), [self]) { g, _ in [g] }
    }

    /// The same elements with a new shape; one dimension may be -1. A view when possible.
    public func reshaped(_ newShape: [Int]) -> Tensor {
        let target = resolveShape(newShape)
        if target == shape { return self }
        let inShape = shape
        let out: Tensor
        if let s = viewStrides(for: target) {
            out = restrided(shape: target, strides: s, offset: offset)
        } else {
            out = contiguousCopy().restrided(shape: target, strides: ShapeMath.contiguousStrides(target), offset: 0)
        }
        return Tensor.record("reshape", out, [self]) { g, _ in [g.reshaped(inShape)] }
    }

    public func reshaped(_ dims: Int...) -> Tensor { reshaped(dims) }

    /// All elements in one dimension.
    public func flattened() -> Tensor { reshaped([count]) }

    /// Flattens dimensions `start...end` into one.
    public func flattened(from start: Int, to end: Int = -1) -> Tensor {
        let s = normalizedAxis(start, "flattened(from:to:)"), e = normalizedAxis(end, "flattened(from:to:)")
        guard s <= e else { return self }
        let merged = shape[s...e].reduce(1, *)
        return reshaped(Array(shape[..<s]) + [merged] + Array(shape[(e + 1)...]))
    }

    func resolveShape(_ newShape: [Int]) -> [Int] {
        var target = newShape
        let unknown = target.indices.filter { target[$0] == -1 }
        guard unknown.count <= 1 else {
            fail("reshape: only one dimension can be -1, got \(describe(newShape))")
        }
        for d in target where d < -1 { fail("reshape: invalid size \(d) in \(describe(newShape))") }
        if let u = unknown.first {
            let known = target.enumerated().filter { $0.offset != u }.map(\.element).reduce(1, *)
            guard known > 0, count % known == 0 else {
                fail("cannot reshape a tensor of shape \(describe(shape)) (\(count) elements) into \(describe(newShape))")
            }
            target[u] = count / known
        }
        guard ShapeMath.count(target) == count else {
            fail("cannot reshape a tensor of shape \(describe(shape)) (\(count) elements) into \(describe(newShape)) (\(ShapeMath.count(target)) elements)")
        }
        return target
    }

    /// Strides that express `target` over the current layout without copying, if any
    /// (the same algorithm as NumPy's and PyTorch's `view`).
    func viewStrides(for target: [Int]) -> [Int]? {
        if isContiguous { return ShapeMath.contiguousStrides(target) }
        let old = zip(shape, strides).filter { $0.0 != 1 }
        var newStrides = [Int](repeating: 0, count: target.count)
        var oi = 0, ni = 0
        let oldShape = old.map(\.0), oldStrides = old.map(\.1)
        while ni < target.count || oi < oldShape.count {
            if ni < target.count && target[ni] == 1 {
                newStrides[ni] = 1; ni += 1; continue
            }
            guard oi < oldShape.count, ni < target.count else { return nil }
            // Collect a group of old dims and new dims with equal products.
            var op = oldShape[oi], np = target[ni]
            let groupOldStart = oi, groupNewStart = ni
            oi += 1; ni += 1
            while op != np {
                if op < np {
                    guard oi < oldShape.count else { return nil }
                    op *= oldShape[oi]; oi += 1
                } else {
                    guard ni < target.count else { return nil }
                    np *= target[ni]; ni += 1
                }
            }
            // The old dims of the group must be contiguous with each other.
            for k in groupOldStart..<(oi - 1) where oldStrides[k] != oldStrides[k + 1] * oldShape[k + 1] {
                return nil
            }
            var s = oldStrides[oi - 1]
            for k in stride(from: ni - 1, through: groupNewStart, by: -1) {
                newStrides[k] = s
                s *= target[k]
            }
        }
        return newStrides
    }

    /// Dimensions reordered: result dimension i is dimension `order[i]` of this tensor.
    public func permuted(_ order: [Int]) -> Tensor {
        guard order.count == rank, Set(order.map { $0 < 0 ? $0 + rank : $0 }) == Set(0..<rank) else {
            fail("permuted: \(describe(order)) is not a permutation of the \(rank) dimensions of a tensor of shape \(describe(shape))")
        }
        let o = order.map { $0 < 0 ? $0 + rank : $0 }
        let out = restrided(shape: o.map { shape[$0] }, strides: o.map { strides[$0] }, offset: offset)
        var inverse = [Int](repeating: 0, count: rank)
        for (i, d) in o.enumerated() { inverse[d] = i }
        return Tensor.record("permute", out, [self]) { g, _ in [g.permuted(inverse)] }
    }

    public func permuted(_ order: Int...) -> Tensor { permuted(order) }

    /// Swaps two dimensions (the last two by default).
    public func transposed(_ a: Int = -2, _ b: Int = -1) -> Tensor {
        guard rank >= 2 else { return self }
        let x = normalizedAxis(a, "transposed"), y = normalizedAxis(b, "transposed")
        var order = Array(0..<rank)
        order.swapAt(x, y)
        return permuted(order)
    }

    /// The matrix transpose of a 2-d tensor.
    public var T: Tensor { transposed() }

    /// Elements `start..<start+length` along `axis`.
    /// Unlike ``sliced(_:_:_:step:)`` it does not clamp: the window must lie inside the axis.
    public func narrow(_ axis: Int, start: Int, length: Int) -> Tensor {
        let a = normalizedAxis(axis, "narrow")
        let n = shape[a]
        let s = start < 0 ? start + n : start
        guard s >= 0, length >= 0, s + length <= n else {
            fail("narrow: start \(start) with length \(length) does not fit in dimension \(a) of size \(n) (shape \(describe(shape)))")
        }
        return sliced(a, s, s + length)
    }

    /// Elements `start..<end` (every `step`-th) along `axis`; negative bounds count from the end.
    public func sliced(_ axis: Int, _ start: Int, _ end: Int? = nil, step: Int = 1) -> Tensor {
        let a = normalizedAxis(axis, "sliced")
        let n = shape[a]
        guard step > 0 else { fail("sliced: step must be positive, got \(step)") }
        var s = start < 0 ? start + n : start
        var e = (end ?? n) < 0 ? (end ?? n) + n : (end ?? n)
        s = Swift.min(Swift.max(s, 0), n)
        e = Swift.min(Swift.max(e, s), n)
        let len = (e - s + step - 1) / step
        var newShape = shape, newStrides = strides
        newShape[a] = len
        newStrides[a] = strides[a] * step
        let out = restrided(shape: newShape, strides: newStrides, offset: offset + s * strides[a])
        let inShape = shape
        let sliced = Tensor.record("slice", out, [self]) { g, _ in
            [g.sliceScattered(into: inShape, axis: a, start: s, step: step)]
        }
        sliced.meta?.gradFn?.window = .slice(SliceWindow(fullShape: inShape, axis: a, start: s, step: step))
        return sliced
    }

    /// Zeros of `shape` with this tensor written at `start::step` along `axis` (slice's VJP).
    func sliceScattered(into fullShape: [Int], axis: Int, start: Int, step: Int) -> Tensor {
        let out = Tensor.zeros(fullShape, dtype: dtype)
        var st = out.strides
        st[axis] *= step
        let window = out.restrided(shape: shape, strides: st, offset: start * out.strides[axis])
        Kernels.copy(self, into: window)
        let end = start + (shape[axis] - 1) * step + 1
        return Tensor.record("sliceScatter", out, [self]) { g, _ in
            [g.sliced(axis, start, end, step: step)]
        }
    }

    /// The sub-tensor at `index` along `axis`, with that dimension removed.
    public func select(_ axis: Int, _ index: Int) -> Tensor {
        let a = normalizedAxis(axis, "select")
        let i = index < 0 ? index + shape[a] : index
        guard i >= 0 && i < shape[a] else {
            fail("select: index \(index) is out of range for dimension \(a) of size \(shape[a]) (shape \(describe(shape)))")
        }
        return sliced(a, i, i + 1).squeezed(a)
    }

    /// Row `i` along the first axis.
    public subscript(_ i: Int) -> Tensor { select(0, i) }

    /// Rows `range` along the first axis.
    public subscript(_ range: Range<Int>) -> Tensor { sliced(0, range.lowerBound, range.upperBound) }

    /// The element at a full index, as a 0-d view.
    public subscript(_ i: Int, _ j: Int, _ rest: Int...) -> Tensor {
        var t = select(0, i).select(0, j)
        for k in rest { t = t.select(0, k) }
        return t
    }

    /// A view with size-1 dimensions repeated to `newShape` (stride 0, no copy).
    public func expanded(to newShape: [Int]) -> Tensor {
        if newShape == shape { return self }
        guard newShape.count >= rank else {
            fail("expanded(to:): cannot expand a tensor of shape \(describe(shape)) to fewer dimensions \(describe(newShape))")
        }
        let lead = newShape.count - rank
        var st = [Int](repeating: 0, count: newShape.count)
        for i in 0..<rank {
            if shape[i] == newShape[lead + i] {
                st[lead + i] = strides[i]
            } else if shape[i] == 1 {
                st[lead + i] = 0
            } else {
                fail("expanded(to:): cannot expand a tensor of shape \(describe(shape)) to \(describe(newShape)): dimension \(i) has size \(shape[i]), which is neither 1 nor \(newShape[lead + i])")
            }
        }
        let inShape = shape
        let out = restrided(shape: newShape, strides: st, offset: offset)
        return Tensor.record("expand", out, [self]) { g, _ in [g.sum(to: inShape)] }
    }

    /// Removes a size-1 dimension (all of them when `axis` is nil).
    public func squeezed(_ axis: Int? = nil) -> Tensor {
        var keep = Array(0..<rank)
        if let axis {
            let a = normalizedAxis(axis, "squeezed")
            guard shape[a] == 1 else { return self }
            keep.remove(at: a)
        } else {
            keep = keep.filter { shape[$0] != 1 }
        }
        let inShape = shape
        let out = restrided(shape: keep.map { shape[$0] }, strides: keep.map { strides[$0] }, offset: offset)
        return Tensor.record("squeeze", out, [self]) { g, _ in [g.reshaped(inShape)] }
    }

    /// Inserts a size-1 dimension at `axis` (which may equal the rank, or be negative).
    public func unsqueezed(_ axis: Int) -> Tensor {
        let a = axis < 0 ? axis + rank + 1 : axis
        guard a >= 0 && a <= rank else {
            fail("unsqueezed: axis \(axis) is out of range for a tensor of rank \(rank) (valid: \(-rank - 1) to \(rank))")
        }
        var sh = shape, st = strides
        sh.insert(1, at: a)
        st.insert(a < rank ? strides[a] * shape[a] : 1, at: a)
        let out = restrided(shape: sh, strides: st, offset: offset)
        return Tensor.record("unsqueeze", out, [self]) { g, _ in [g.squeezed(a)] }
    }
}
