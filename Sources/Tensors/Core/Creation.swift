import CKernels

extension Tensor {
    /// A tensor filled with `value`.
    public static func full(_ shape: [Int], _ value: Double, dtype: DType = .float32) -> Tensor {
        let t = Tensor(empty: shape, dtype: dtype)
        eq_fill(dtype.code, Int64(t.count), t.storage.pointer, value)
        return t
    }

    public static func zeros(_ shape: [Int], dtype: DType = .float32) -> Tensor {
        full(shape, 0, dtype: dtype)
    }

    public static func ones(_ shape: [Int], dtype: DType = .float32) -> Tensor {
        full(shape, 1, dtype: dtype)
    }

    /// Zeros with this tensor's shape and dtype.
    public func zerosLike() -> Tensor { Tensor.zeros(shape, dtype: dtype) }
    /// Ones with this tensor's shape and dtype.
    public func onesLike() -> Tensor { Tensor.ones(shape, dtype: dtype) }
    /// `value` with this tensor's shape and dtype.
    public func fullLike(_ value: Double) -> Tensor { Tensor.full(shape, value, dtype: dtype) }

    /// `start, start + step, ...` up to but excluding `end`.
    public static func arange(_ start: Double = 0, _ end: Double, step: Double = 1,
                              dtype: DType = .int64) -> Tensor {
        guard step != 0 else { fail("arange: step must not be zero") }
        let n = Swift.max(0, Int(((end - start) / step).rounded(.up)))
        let t = Tensor(empty: [n], dtype: dtype)
        eq_arange(dtype.code, Int64(n), t.storage.pointer, start, step)
        return t
    }

    /// `0, 1, ..., n - 1`.
    public static func arange(_ n: Int, dtype: DType = .int64) -> Tensor {
        arange(0, Double(n), dtype: dtype)
    }

    /// `count` evenly spaced values from `start` to `end` inclusive.
    public static func linspace(_ start: Double, _ end: Double, count: Int,
                                dtype: DType = .float32) -> Tensor {
        guard count >= 0 else { fail("linspace: count must be non-negative, got \(count)") }
        let step = count > 1 ? (end - start) / Double(count - 1) : 0
        let t = Tensor(empty: [count], dtype: dtype)
        eq_arange(dtype.code, Int64(count), t.storage.pointer, start, step)
        if count > 1 { var u = t; u.setValue(end, at: [count - 1]); return u }
        return t
    }

    /// The n x m identity (m defaults to n).
    public static func eye(_ n: Int, _ m: Int? = nil, dtype: DType = .float32) -> Tensor {
        let cols = m ?? n
        let t = zeros([n, cols], dtype: dtype)
        for i in 0..<Swift.min(n, cols) {
            let p = t.storage.pointer
            switch dtype {
            case .float32: p.assumingMemoryBound(to: Float.self)[i * cols + i] = 1
            case .float64: p.assumingMemoryBound(to: Double.self)[i * cols + i] = 1
            case .int64: p.assumingMemoryBound(to: Int64.self)[i * cols + i] = 1
            case .bool: p.assumingMemoryBound(to: UInt8.self)[i * cols + i] = 1
            }
        }
        return t
    }

    /// This tensor converted to another dtype (a copy unless the dtype already matches).
    /// Differentiable between floating types.
    public func to(_ newType: DType) -> Tensor {
        if newType == dtype { return self }
        let out = contiguousCopy(dtype: newType)
        guard newType.isFloatingPoint && dtype.isFloatingPoint else { return out }
        let from = dtype
        return Tensor.record("to(\(newType))", out, [self]) { g, _ in [g.to(from)] }
    }
}
