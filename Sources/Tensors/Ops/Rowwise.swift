import CKernels

// Fused softmax, log-softmax and layer norm over one axis, with their VJPs.
extension Tensor {
    /// Applies a last-axis row kernel along `axis`, moving that axis last when needed.
    func alongLastAxis(_ axis: Int, _ body: (Tensor) -> Tensor) -> Tensor {
        let a = normalizedAxis(axis, "softmax")
        if a == rank - 1 || rank == 0 {
            return body(detached().isContiguous ? detached() : detached().contiguousCopy())
        }
        let moved = detached().transposed(a, -1).contiguousCopy()
        return body(moved).transposed(a, -1)
    }

    /// The fused softmax (or log-softmax) kernel along `axis`, without recording.
    private func softmaxKernel(_ name: String, axis a: Int, log: Bool) -> Tensor {
        guard dtype.isFloatingPoint else { fail("\(name) needs a floating tensor, got \(dtype)") }
        return alongLastAxis(a) { x in
            let y = Tensor(empty: x.shape, dtype: x.dtype)
            let n = x.shape.last ?? 1
            eq_softmax(x.dtype.code, Int64(x.count / Swift.max(n, 1)), Int64(n), x.baseAddress, y.baseAddress, log ? 1 : 0)
            return y
        }
    }

    /// Softmax along `axis`.
    public func softmax(axis: Int = -1) -> Tensor {
        let a = normalizedAxis(axis, "softmax")
        return Tensor.record("softmax", softmaxKernel("softmax", axis: a, log: false), [self], saveOutput: true) { g, y in
            [Tensor.softmaxBackward(g, y, axis: a)]
        }
    }

    /// Log-softmax along `axis`.
    public func logSoftmax(axis: Int = -1) -> Tensor {
        let a = normalizedAxis(axis, "logSoftmax")
        return Tensor.record("logSoftmax", softmaxKernel("logSoftmax", axis: a, log: true), [self], saveOutput: true) { g, y in
            [Tensor.logSoftmaxBackward(g, y, axis: a)]
        }
    }

    /// softmax(scale · x) over the last axis with the entries where `mask` is true set to `fill`
    /// first — `(x * scale).maskedFill(mask, fill).softmax(axis: -1)`, attention's scores to
    /// probabilities — in one row pass instead of three ops with two intermediate tensors, and a
    /// backward of one softmax VJP (masked entries have zero probability, so no gradient). `mask`
    /// is a bool tensor shaped as the trailing axes of this one (a causal [T, K] mask for scores
    /// [B, H, T, K]), or nil. Gives the same values as the three ops, bit for bit.
    public func scaledMaskedSoftmax(scale: Double, mask: Tensor?, fill: Double = -1e30) -> Tensor {
        guard dtype.isFloatingPoint, rank >= 1 else { fail("scaledMaskedSoftmax needs a floating tensor of rank ≥ 1, got \(dtype) \(describe(shape))") }
        let n = shape[rank - 1]
        var maskBytes: Tensor?
        if let mask {
            guard mask.dtype == .bool, mask.rank >= 1, mask.rank <= rank, Array(shape.suffix(mask.rank)) == mask.shape else {
                fail("scaledMaskedSoftmax: the mask must be a bool tensor shaped as the trailing axes of \(describe(shape)), got \(mask.dtype) \(describe(mask.shape))")
            }
            maskBytes = mask.isContiguous ? mask.detached() : mask.contiguousCopy()
        }
        let x = isContiguous ? detached() : contiguousCopy()
        let y = Tensor(empty: shape, dtype: dtype)
        let rows = count / Swift.max(n, 1)
        let maskRows = maskBytes.map { $0.count / Swift.max(n, 1) } ?? 1
        eq_softmax_masked(dtype.code, Int64(rows), Int64(n), x.baseAddress,
                          maskBytes.map { UnsafePointer($0.baseAddress.assumingMemoryBound(to: UInt8.self)) },
                          Int64(maskRows), scale, fill, y.baseAddress)
        let axis = rank - 1
        return Tensor.record("scaledMaskedSoftmax", y, [self], saveOutput: true) { g, y in
            [Tensor.softmaxBackward(g, y, axis: axis) * scale]
        }
    }

    /// y (g - Σ g y): the VJP of softmax, itself differentiable.
    static func softmaxBackward(_ g: Tensor, _ y: Tensor, axis: Int) -> Tensor {
        let out: Tensor
        if axis == y.rank - 1 && g.isContiguous && y.isContiguous {
            out = Tensor(empty: y.shape, dtype: y.dtype)
            let n = y.shape.last ?? 1
            eq_softmax_backward(y.dtype.code, Int64(y.count / Swift.max(n, 1)), Int64(n), y.baseAddress,
                                g.baseAddress, out.baseAddress, 0)
        } else {
            let gd = g.detached(), yd = y.detached()
            out = yd * (gd - (gd * yd).sum(axis: axis, keepDim: true))
        }
        return record("softmaxBackward", out, [g, y]) { gg, _ in
            let s = (g * y).sum(axis: axis, keepDim: true)
            let t = (gg * y).sum(axis: axis, keepDim: true)
            return [softmaxBackward(gg, y, axis: axis), gg * (g - s) - g * t]
        }
    }

    /// g - exp(y) Σ g: the VJP of log-softmax, itself differentiable.
    static func logSoftmaxBackward(_ g: Tensor, _ y: Tensor, axis: Int) -> Tensor {
        let out: Tensor
        if axis == y.rank - 1 && g.isContiguous && y.isContiguous {
            out = Tensor(empty: y.shape, dtype: y.dtype)
            let n = y.shape.last ?? 1
            eq_softmax_backward(y.dtype.code, Int64(y.count / Swift.max(n, 1)), Int64(n), y.baseAddress,
                                g.baseAddress, out.baseAddress, 1)
        } else {
            let gd = g.detached(), yd = y.detached()
            out = gd - yd.exp() * gd.sum(axis: axis, keepDim: true)
        }
        return record("logSoftmaxBackward", out, [g, y]) { gg, _ in
            let e = y.exp()
            let s = g.sum(axis: axis, keepDim: true)
            return [gg - (gg * e).sum(axis: axis, keepDim: true), -(gg * e * s)]
        }
    }

    /// Layer normalisation over the last axis, with optional scale and shift of that length.
    public func layerNorm(weight: Tensor? = nil, bias: Tensor? = nil, eps: Double = 1e-5) -> Tensor {
        guard dtype.isFloatingPoint else { fail("layerNorm needs a floating tensor, got \(dtype)") }
        let n = shape.last ?? 1
        for (name, p) in [("weight", weight), ("bias", bias)] {
            if let p, p.shape != [n] {
                fail("layerNorm: \(name) has shape \(describe(p.shape)) but the normalised axis has size \(n); it must be [\(n)]")
            }
            if let p, p.dtype != dtype {
                fail("layerNorm: \(name) is \(p.dtype) but the input is \(dtype); convert one of them")
            }
        }
        let x = detached().isContiguous ? detached() : contiguousCopy()
        let rows = x.count / Swift.max(n, 1)
        let y = Tensor(empty: shape, dtype: dtype)
        let mean = Tensor(empty: Array(shape.dropLast()) + [1], dtype: dtype)
        let rstd = Tensor(empty: Array(shape.dropLast()) + [1], dtype: dtype)
        let w = weight.map { $0.detached().contiguous() }, b = bias.map { $0.detached().contiguous() }
        eq_layernorm(dtype.code, Int64(rows), Int64(n), x.baseAddress, w?.baseAddress, b?.baseAddress, eps,
                     y.baseAddress, mean.baseAddress, rstd.baseAddress)
        guard GradMode.isEnabled && (meta != nil || weight?.meta != nil || bias?.meta != nil) else { return y }
        let input = self
        var inputs = [self]
        if let weight { inputs.append(weight) }
        if let bias { inputs.append(bias) }
        return Tensor.record("layerNorm", y, inputs) { g, _ in
            if !GradMode.isEnabled {
                // First order: one fused pass per row from the saved statistics.
                let gc = g.contiguous()
                let dx = input.meta != nil ? Tensor(empty: input.shape, dtype: input.dtype) : nil
                let dw = weight?.meta != nil ? Tensor(empty: [n], dtype: input.dtype) : nil
                let db = bias?.meta != nil ? Tensor(empty: [n], dtype: input.dtype) : nil
                eq_layernorm_backward(input.dtype.code, Int64(rows), Int64(n), x.baseAddress, w?.baseAddress,
                                      gc.baseAddress, mean.baseAddress, rstd.baseAddress, dx?.baseAddress,
                                      dw?.baseAddress, db?.baseAddress)
                var grads: [Tensor?] = [dx]
                if weight != nil { grads.append(dw) }
                if bias != nil { grads.append(db) }
                return grads
            }
            // Building a higher-order graph needs the statistics as functions of x.
            let (mu, r) = GradMode.isEnabled
                ? { let m = input.mean(axis: -1, keepDim: true)
                    return (m, ((input - m).square().mean(axis: -1, keepDim: true) + eps).rsqrt()) }()
                : (mean, rstd)
            let xhat = (input - mu) * r
            let dxhat = weight.map { g * $0 } ?? g
            let dx = r * (dxhat - dxhat.mean(axis: -1, keepDim: true)
                          - xhat * (dxhat * xhat).mean(axis: -1, keepDim: true))
            var grads: [Tensor?] = [dx]
            let lead = Array(0..<(input.rank - 1))
            if weight != nil { grads.append((g * xhat).sum(axes: lead)) }
            if bias != nil { grads.append(g.sum(axes: lead)) }
            return grads
        }
    }
}
