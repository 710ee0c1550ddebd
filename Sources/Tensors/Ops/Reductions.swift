import CKernels

// Reductions over any set of axes, with keepDim, and their VJPs.
extension Tensor {
    /// Sorted, unique, non-negative axes; all axes when `axes` is nil.
    func reductionAxes(_ axes: [Int]?, _ op: String) -> [Int] {
        guard let axes else { return Array(0..<rank) }
        // On a 0-d tensor axis 0 is valid but names no dimension.
        return Array(Set(axes.map { normalizedAxis($0, op) })).filter { $0 < rank }.sorted()
    }

    /// The shape after reducing `axes` (kept as size 1 when keepDim).
    func reducedShape(_ axes: [Int], keepDim: Bool) -> [Int] {
        var out: [Int] = []
        for d in 0..<rank {
            if axes.contains(d) { if keepDim { out.append(1) } } else { out.append(shape[d]) }
        }
        return out
    }

    /// Runs a reduction kernel over `axes`, one contiguous run of axes at a time.
    /// Returns a tensor of the keepDim shape.
    func rawReduce(_ op: eq_reduce_op, _ axes: [Int], outType: DType? = nil) -> Tensor {
        // A 0-d tensor's axis 0 is accepted but there is nothing to reduce.
        let axes = axes.filter { $0 < rank }
        var x = self.detached()
        if !x.isContiguous { x = x.contiguousCopy() }
        if axes.isEmpty { return op == EQ_RARGMAX || op == EQ_RARGMIN ? Tensor.zeros(shape, dtype: .int64) : x }
        // Group axes into runs of adjacent dimensions, reduced from the last run backwards.
        var runs: [[Int]] = []
        for a in axes {
            if let last = runs.last?.last, last + 1 == a { runs[runs.count - 1].append(a) } else { runs.append([a]) }
        }
        for run in runs.reversed() {
            let outer = x.shape[..<run[0]].reduce(1, *)
            let k = run.map { x.shape[$0] }.reduce(1, *)
            let inner = x.shape[(run.last! + 1)...].reduce(1, *)
            var newShape = x.shape
            for a in run { newShape[a] = 1 }
            let resultType: DType = (op == EQ_RARGMAX || op == EQ_RARGMIN) ? .int64
                : (x.dtype == .bool && op == EQ_RSUM ? .int64 : x.dtype)
            let out = Tensor(empty: newShape, dtype: outType ?? resultType)
            eq_reduce(Int32(op.rawValue), x.dtype.code, Int64(outer), Int64(k), Int64(inner),
                      x.baseAddress, out.baseAddress)
            x = out
        }
        return x
    }

    /// Sum over `axes` (all when nil).
    public func sum(axes: [Int]? = nil, keepDim: Bool = false) -> Tensor {
        let ax = reductionAxes(axes, "sum")
        let kept = rawReduce(EQ_RSUM, ax)
        let inShape = shape
        let out = kept.reshaped(reducedShape(ax, keepDim: keepDim))
        guard dtype.isFloatingPoint else { return out }
        let keptShape = kept.shape
        return Tensor.record("sum", out.detached(), [self]) { g, _ in
            [g.reshaped(keptShape).expanded(to: inShape)]
        }
    }

    public func sum(axis: Int, keepDim: Bool = false) -> Tensor { sum(axes: [axis], keepDim: keepDim) }

    /// Mean over `axes` (all when nil).
    public func mean(axes: [Int]? = nil, keepDim: Bool = false) -> Tensor {
        let ax = reductionAxes(axes, "mean")
        let n = ax.map { shape[$0] }.reduce(1, *)
        let s = (dtype.isFloatingPoint ? self : to(.float32)).sum(axes: ax, keepDim: keepDim)
        return s / Double(n)
    }

    public func mean(axis: Int, keepDim: Bool = false) -> Tensor { mean(axes: [axis], keepDim: keepDim) }

    /// Sums broadcast dimensions away so the result has `target`'s shape (the VJP of expansion).
    public func sum(to target: [Int]) -> Tensor {
        if shape == target { return self }
        let lead = rank - target.count
        guard lead >= 0 else { fail("sum(to:): cannot reduce shape \(describe(shape)) to the larger rank of \(describe(target))") }
        var axes = Array(0..<lead)
        for i in 0..<target.count where target[i] == 1 && shape[lead + i] != 1 { axes.append(lead + i) }
        return sum(axes: axes, keepDim: true).reshaped(target)
    }

    /// Maximum over one axis, or over all elements when `axis` is nil. Ties share the gradient.
    public func max(axis: Int? = nil, keepDim: Bool = false) -> Tensor {
        extremum("max", EQ_RMAX, axis: axis, keepDim: keepDim)
    }

    /// Minimum over one axis, or over all elements when `axis` is nil. Ties share the gradient.
    public func min(axis: Int? = nil, keepDim: Bool = false) -> Tensor {
        extremum("min", EQ_RMIN, axis: axis, keepDim: keepDim)
    }

    func extremum(_ name: String, _ op: eq_reduce_op, axis: Int?, keepDim: Bool) -> Tensor {
        guard count > 0 else { fail("\(name) of an empty tensor (shape \(describe(shape))) has no value") }
        let ax = axis.map { [normalizedAxis($0, name)] } ?? Array(0..<rank)
        let kept = rawReduce(op, ax)
        let out = kept.reshaped(reducedShape(ax, keepDim: keepDim))
        guard dtype.isFloatingPoint else { return out }
        let x = self, inShape = shape, keptShape = kept.shape
        return Tensor.record(name, out.detached(), [self]) { g, _ in
            let mask = (x.detached() .== kept.expanded(to: inShape)).to(g.dtype)
            let ties = mask.sum(axes: ax, keepDim: true)
            return [mask / ties * g.reshaped(keptShape)]
        }
    }

    /// Index of the maximum along `axis` (of the flattened tensor when nil), as int64.
    public func argmax(axis: Int? = nil, keepDim: Bool = false) -> Tensor {
        argReduce(EQ_RARGMAX, "argmax", axis: axis, keepDim: keepDim)
    }

    /// Index of the minimum along `axis` (of the flattened tensor when nil), as int64.
    public func argmin(axis: Int? = nil, keepDim: Bool = false) -> Tensor {
        argReduce(EQ_RARGMIN, "argmin", axis: axis, keepDim: keepDim)
    }

    func argReduce(_ op: eq_reduce_op, _ name: String, axis: Int?, keepDim: Bool) -> Tensor {
        guard count > 0 else { fail("\(name) of an empty tensor (shape \(describe(shape))) has no value") }
        guard let axis else { return detached().flattened().argReduce(op, name, axis: 0, keepDim: false) }
        let a = normalizedAxis(axis, name)
        return rawReduce(op, [a]).reshaped(reducedShape([a], keepDim: keepDim))
    }

    /// log(sum(exp(x))) over `axes`, computed stably.
    public func logsumexp(axes: [Int]? = nil, keepDim: Bool = false) -> Tensor {
        // The integer kernels have no logsumexp (the output would be left unwritten).
        guard dtype.isFloatingPoint else { fail("logsumexp needs a floating tensor, got \(dtype); convert with .to(.float32) first") }
        let ax = reductionAxes(axes, "logsumexp")
        let kept: Tensor
        if ax.count == 1 {
            kept = rawReduce(EQ_RLOGSUMEXP, ax)
        } else {
            let d = detached()
            let m = d.rawReduce(EQ_RMAX, ax)
            let mSafe = Tensor.where(m.abs() .== Double.infinity, m.zerosLike(), m)
            kept = (d - mSafe).exp().rawReduce(EQ_RSUM, ax).log() + mSafe
        }
        let out = kept.reshaped(reducedShape(ax, keepDim: keepDim))
        let x = self, inShape = shape, keptShape = kept.shape
        return Tensor.record("logsumexp", out, [self], saveOutput: true) { g, y in
            [g.reshaped(keptShape) * (x - y.reshaped(keptShape).expanded(to: inShape)).exp()]
        }
    }

    public func logsumexp(axis: Int, keepDim: Bool = false) -> Tensor { logsumexp(axes: [axis], keepDim: keepDim) }

    /// Variance over `axes` with `correction` degrees of freedom removed (1 = unbiased).
    public func variance(axes: [Int]? = nil, correction: Int = 1, keepDim: Bool = false) -> Tensor {
        let ax = reductionAxes(axes, "variance")
        let n = ax.map { shape[$0] }.reduce(1, *)
        let centered = self - mean(axes: ax, keepDim: true)
        return centered.square().sum(axes: ax, keepDim: keepDim) / Double(Swift.max(n - correction, 0))
    }

    /// Standard deviation over `axes`.
    public func standardDeviation(axes: [Int]? = nil, correction: Int = 1, keepDim: Bool = false) -> Tensor {
        variance(axes: axes, correction: correction, keepDim: keepDim).sqrt()
    }

    /// The p-norm over `axes` (all when nil); p = 2 by default, `.infinity` for the max-norm.
    public func norm(_ p: Double = 2, axes: [Int]? = nil, keepDim: Bool = false) -> Tensor {
        if p == .infinity { return abs().maxOver(reductionAxes(axes, "norm"), keepDim: keepDim) }
        if p == 2 { return square().sum(axes: axes, keepDim: keepDim).sqrt() }
        if p == 1 { return abs().sum(axes: axes, keepDim: keepDim) }
        return abs().pow(p).sum(axes: axes, keepDim: keepDim).pow(1 / p)
    }

    /// Maximum over several axes: they are moved last and merged so one `max` covers them all.
    func maxOver(_ ax: [Int], keepDim: Bool) -> Tensor {
        if ax.isEmpty { return self }
        if ax.count == 1 { return max(axis: ax[0], keepDim: keepDim) }
        let kept = (0..<rank).filter { !ax.contains($0) }
        let merged = permuted(kept + ax).reshaped(kept.map { shape[$0] } + [ax.map { shape[$0] }.reduce(1, *)])
        return merged.max(axis: -1).reshaped(reducedShape(ax, keepDim: keepDim))
    }

    /// Product over `axes` (not differentiable).
    public func prod(axes: [Int]? = nil, keepDim: Bool = false) -> Tensor {
        let ax = reductionAxes(axes, "prod")
        return rawReduce(EQ_RPROD, ax).reshaped(reducedShape(ax, keepDim: keepDim))
    }

    /// True when any element is true (or non-zero).
    public func any() -> Bool {
        let b = dtype == .bool ? self : (self .!= 0)
        return b.rawReduce(EQ_RANY, Array(0..<rank)).item != 0
    }

    /// True when every element is true (or non-zero).
    public func all() -> Bool {
        let b = dtype == .bool ? self : (self .!= 0)
        return b.rawReduce(EQ_RALL, Array(0..<rank)).item != 0
    }
}
