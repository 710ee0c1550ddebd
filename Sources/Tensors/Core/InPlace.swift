import CKernels

// In-place writes into a tensor's storage that keep its autograd identity (`meta`).
// Optimizers and checkpoint loading need them: a parameter held by a module, by the optimizer
// and by a graph node is one storage, so new values must be written into it rather than
// replacing the value. They never record on the tape.
extension Tensor {
    /// Overwrites this tensor's elements with `source` (same shape; converted to this dtype).
    ///
    /// The write goes into the shared storage, so every copy and view of this tensor sees it.
    public func assign(_ source: Tensor) {
        guard source.shape == shape else {
            fail("assign: source has shape \(describe(source.shape)) but the destination has \(describe(shape)); they must match")
        }
        Kernels.copy(source, into: self)
    }

    /// Adds `alpha * other` to this tensor's elements in place (same shape and dtype, float).
    public func addScaled(_ other: Tensor, _ alpha: Double) {
        guard other.shape == shape else {
            fail("addScaled: other has shape \(describe(other.shape)) but the destination has \(describe(shape)); they must match")
        }
        guard dtype.isFloatingPoint else { fail("addScaled needs a floating tensor, got \(dtype)") }
        let o = other.dtype == dtype && other.isContiguous ? other : other.contiguousCopy(dtype: dtype)
        if isContiguous {
            let n = count
            switch dtype {
            case .float32:
                let d = baseAddress.assumingMemoryBound(to: Float.self)
                let s = o.baseAddress.assumingMemoryBound(to: Float.self)
                let a = Float(alpha)
                for i in 0..<n { d[i] += a * s[i] }
            default:
                let d = baseAddress.assumingMemoryBound(to: Double.self)
                let s = o.baseAddress.assumingMemoryBound(to: Double.self)
                for i in 0..<n { d[i] += alpha * s[i] }
            }
        } else {
            assign(withoutGradients { detached() + o.detached() * alpha })
        }
    }

    /// Multiplies this tensor's elements by `alpha` in place (float, contiguous).
    public func scale(by alpha: Double) {
        guard dtype.isFloatingPoint, isContiguous else {
            fail("scale(by:) needs a contiguous floating tensor, got a \(isContiguous ? "" : "strided ")\(dtype) tensor")
        }
        let n = count
        switch dtype {
        case .float32:
            let d = baseAddress.assumingMemoryBound(to: Float.self), a = Float(alpha)
            for i in 0..<n { d[i] *= a }
        default:
            let d = baseAddress.assumingMemoryBound(to: Double.self)
            for i in 0..<n { d[i] *= alpha }
        }
    }

    /// Overwrites this tensor's elements with `alpha * source` (same shape; one pass when both are
    /// contiguous and of one float dtype).
    public func assign(_ source: Tensor, scaledBy alpha: Double) {
        guard source.shape == shape else {
            fail("assign(_:scaledBy:): source has shape \(describe(source.shape)) but the destination has \(describe(shape)); they must match")
        }
        guard dtype.isFloatingPoint, isContiguous, source.isContiguous, source.dtype == dtype else {
            // Any layout or dtype (scale(by:) alone would refuse a strided destination).
            assign(withoutGradients { source.detached() * alpha })
            return
        }
        let n = count
        switch dtype {
        case .float32:
            let d = baseAddress.assumingMemoryBound(to: Float.self), a = Float(alpha)
            let s = source.baseAddress.assumingMemoryBound(to: Float.self)
            for i in 0..<n { d[i] = a * s[i] }
        default:
            let d = baseAddress.assumingMemoryBound(to: Double.self)
            let s = source.baseAddress.assumingMemoryBound(to: Double.self)
            for i in 0..<n { d[i] = alpha * s[i] }
        }
    }
}
