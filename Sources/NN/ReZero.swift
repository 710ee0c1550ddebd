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

    public func callAsFunction(_ x: Tensor) -> Tensor { rezeroResidual(x, alpha, inner(x)) }
}

/// x + α·f for a scalar α, as one recorded op: the tape keeps α and f (which the VJP needs) and
/// nothing for the product, so a 10,000-layer ReZero stack holds one branch output per layer
/// beyond what its linear layers save (`deq rezero-mlp`: the 10,000-layer net, width 128, batch
/// 128, peaked at 3.89 GiB resident over two Adam steps; Docs/Reproductions.md).
///
/// VJP: ∂x = g, ∂α = Σ g·f, ∂f = α·g.
public func rezeroResidual(_ x: Tensor, _ alpha: Tensor, _ f: Tensor) -> Tensor {
    precondition(alpha.count == 1, "rezeroResidual takes a scalar residual weight, got shape \(alpha.shape)")
    let needsX = x.requiresGrad   // x itself is not kept
    return Tensor.custom("rezeroResidual", inputs: [x, alpha, f], forward: { t in
        t[0] + t[1] * t[2]
    }, backward: { g, _ in
        [needsX ? g : nil,
         alpha.requiresGrad ? (g * f).sum().reshaped(alpha.shape) : nil,
         f.requiresGrad ? g * alpha : nil]
    })
}
