import Tensors

/// Weight normalisation (Salimans & Kingma): reparametrises one weight of any layer as
/// w = g · v / ‖v‖, the norm taken over every axis but `axis` (the output axis by default).
/// The wrapped layer's own weight is then computed, not trained: `g` and `v` are the parameters.
///
/// The weight is recomputed at every call, or — with `recomputesEachCall` false, as a DEQ wants
/// while its solver iterates — only by ``reset()``.
///
/// ```swift
/// let conv = WeightNorm(Conv1d(64, 64, kernelSize: 2, dilation: 1)); let y = conv(x)
/// ```
public final class WeightNorm<Inner: Layer>: Layer {
    public let inner: Inner
    public let name: String
    public let axis: Int
    public var g: Tensor
    public var v: Tensor
    public var recomputesEachCall: Bool
    var isCurrent = false

    public init(_ inner: Inner, name: String = "weight", axis: Int = 0, recomputesEachCall: Bool = true) {
        self.inner = inner
        self.name = name
        self.axis = axis
        self.recomputesEachCall = recomputesEachCall
        guard let w = inner.namedParameters().first(where: { $0.name == name })?.tensor else {
            fail("WeightNorm: the layer has no parameter named \"\(name)\"; its parameters are \(inner.namedParameters().map(\.name))")
        }
        let wd = w.detached()
        v = freshCopy(wd).requiringGrad()
        g = WeightNorm.norm(wd, keeping: axis).requiringGrad()
        reset()
    }

    public func visit(_ visitor: inout ModuleVisitor) {
        visitor.parameter("g", &g)
        visitor.parameter("v", &v)
        visitor.child("inner", inner, skipping: [name])
    }

    /// ‖v‖ over every axis but `axis`, kept with size 1 there so it broadcasts against v.
    static func norm(_ v: Tensor, keeping axis: Int) -> Tensor {
        let a = axis < 0 ? axis + v.rank : axis
        let others = (0..<v.rank).filter { $0 != a }
        return v.square().sum(axes: others, keepDim: true).sqrt()
    }

    /// Recomputes the wrapped layer's weight from g and v.
    public func reset() { reset(direction: v) }

    /// Sets the wrapped layer's weight to g · d / ‖d‖ for a direction d derived from v (DropConnect
    /// on v, as the DEQ reference's `WeightDrop` applies before weight normalisation).
    public func reset(direction d: Tensor) {
        guard d.shape == v.shape else { fail("WeightNorm.reset(direction:) needs the shape of v, \(v.shape), got \(d.shape)") }
        let w = g * d / WeightNorm.norm(d, keeping: axis)
        inner.walk(parameter: { [name] n, t in if n == name { t = w } })
        isCurrent = true
    }

    var innerWeightDType: DType? {
        var d: DType?
        inner.walk(parameter: { [name] n, t in if n == name { d = t.dtype } })
        return d
    }

    public func callAsFunction(_ x: Tensor) -> Tensor {
        // A dtype conversion of the model replaces g and v, so the derived weight is stale too.
        let stale = !isCurrent || innerWeightDType != g.dtype
        if recomputesEachCall || stale { reset() }
        return inner(x)
    }
}

extension ModuleVisitor {
    /// A child whose parameters named in `skipping` (relative to the child) are not reported:
    /// they are derived from parameters reported elsewhere (as by ``WeightNorm``).
    public mutating func child(_ name: String, _ module: Module, skipping: Set<String>) {
        // The forwarding visitor starts at an empty prefix, so `n` is relative to the child.
        let outer = prefix + name + "."
        let p = onParameter, b = onBuffer
        var forwarding = ModuleVisitor(
            parameter: { n, t in if !skipping.contains(n) { p(outer + n, &t) } },
            buffer: { n, t in b(outer + n, &t) },
            mode: onMode)
        onChild?(prefix + name, module)
        forwarding.onChild = onChild.map { report in { n, m in report(outer + n, m) } }
        module.visit(&forwarding)
    }
}
