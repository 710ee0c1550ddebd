import Tensors

/// Inverted dropout: in training, zeroes each element with probability `p` and scales the rest
/// by 1/(1-p); the identity in evaluation mode.
///
/// ```swift
/// let drop = Dropout(0.1); let y = drop(x)
/// ```
public final class Dropout: Layer {
    public var p: Double
    public var isTraining = true
    public var generator: RandomGenerator?

    public init(_ p: Double, generator: RandomGenerator? = nil) {
        guard p >= 0 && p < 1 else { fail("Dropout probability must be in [0, 1), got \(p)") }
        self.p = p
        self.generator = generator
    }

    public func visit(_ v: inout ModuleVisitor) { v.mode(&isTraining) }

    public func callAsFunction(_ x: Tensor) -> Tensor {
        guard isTraining && p > 0 else { return x }
        return x * dropoutMask(x.shape, p: p, dtype: x.dtype, generator: generator)
    }
}

/// A mask of 0 and 1/(1-p) entries.
public func dropoutMask(_ shape: [Int], p: Double, dtype: DType, generator: RandomGenerator?) -> Tensor {
    Tensor.bernoulli(shape, p: 1 - p, dtype: dtype, generator: generator) * (1 / (1 - p))
}

/// Variational ("locked") dropout: one mask per sequence, shared over every time step.
///
/// With `holdsMask` set the mask is also kept across calls until ``resetMask()``, so a
/// deep-equilibrium solver sees the same function at every iteration. Without it a fresh mask is
/// drawn at each call (the AWD-LSTM behaviour).
///
/// ```swift
/// let drop = VariationalDropout(0.3, timeAxis: 0); let y = drop(x)   // x: [T, B, D]
/// ```
public final class VariationalDropout: Layer {
    public var p: Double
    /// The axis along which the mask is shared (its size is 1 in the mask).
    public var timeAxis: Int
    public var holdsMask: Bool
    /// One draw per element (no axis shared): the held full-shape mask of Bai et al.'s attention dropout.
    public var elementwise: Bool
    public var isTraining = true
    public var generator: RandomGenerator?
    /// The current mask, shaped like the input with 1 on `timeAxis`.
    public private(set) var mask: Tensor?

    public init(_ p: Double, timeAxis: Int = 0, holdsMask: Bool = false, elementwise: Bool = false,
                generator: RandomGenerator? = nil) {
        guard p >= 0 && p < 1 else { fail("VariationalDropout probability must be in [0, 1), got \(p)") }
        self.p = p
        self.elementwise = elementwise
        self.timeAxis = timeAxis
        self.holdsMask = holdsMask
        self.generator = generator
    }

    public func visit(_ v: inout ModuleVisitor) { v.mode(&isTraining) }

    /// Forgets the held mask; the next call draws a new one.
    public func resetMask() { mask = nil }

    public func callAsFunction(_ x: Tensor) -> Tensor {
        guard isTraining && p > 0 else { return x }
        var maskShape = x.shape
        let axis = timeAxis < 0 ? timeAxis + x.rank : timeAxis
        if !elementwise { maskShape[axis] = 1 }
        if !holdsMask || mask == nil || mask!.shape != maskShape || mask!.dtype != x.dtype {
            mask = dropoutMask(maskShape, p: p, dtype: x.dtype, generator: generator)
        }
        return x * mask!
    }
}
