import Tensors

/// Layer normalisation over the last axis with a learned scale (ones) and shift (zeros).
///
/// ```swift
/// let norm = LayerNorm(512); let y = norm(x)
/// ```
public final class LayerNorm: Layer {
    public var weight: Tensor?
    public var bias: Tensor?
    public let eps: Double

    public init(_ size: Int, eps: Double = 1e-5, affine: Bool = true, dtype: DType = .float32) {
        self.eps = eps
        weight = affine ? Initializer.ones.make([size], dtype: dtype) : nil
        bias = affine ? Initializer.zeros.make([size], dtype: dtype) : nil
    }

    public func visit(_ v: inout ModuleVisitor) {
        v.parameter("weight", &weight)
        v.parameter("bias", &bias)
    }

    public func callAsFunction(_ x: Tensor) -> Tensor { x.layerNorm(weight: weight, bias: bias, eps: eps) }
}
