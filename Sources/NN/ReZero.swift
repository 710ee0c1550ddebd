import Tensors

/// A ReZero residual (Bachlechner et al.): x + α·F(x) with one learned scalar α that starts at 0,
/// so a deep stack begins as the identity.
///
/// ```swift
/// let block = ReZero(Sequential(Linear(64, 64), Activation.relu)); let y = block(x)
/// ```
public final class ReZero<Inner: Layer>: Layer {
    public let inner: Inner
    public var alpha: Tensor

    public init(_ inner: Inner, initial: Double = 0) {
        self.inner = inner
        alpha = Tensor(initial, dtype: inner.dtype).requiringGrad()
    }

    public func visit(_ v: inout ModuleVisitor) {
        v.parameter("alpha", &alpha)
        v.child("inner", inner)
    }

    public func callAsFunction(_ x: Tensor) -> Tensor { x + alpha * inner(x) }
}
