/// A pullback: maps a cotangent of the output to cotangents of the inputs. It can be called many
/// times (the graph is kept alive as long as the pullback is).
public typealias Pullback = (Tensor) throws(AutogradError) -> [Tensor]

/// Evaluates `f` at `inputs` and returns its value with a reusable pullback.
///
/// The inputs are treated as fresh leaves (their storage is shared, not copied), so the pullback
/// gives gradients with respect to them only; parameters captured by `f` are not touched.
public func valueWithPullback(at inputs: [Tensor], of f: ([Tensor]) -> Tensor) -> (value: Tensor, pullback: Pullback) {
    let leaves = inputs.map { $0.detached().requiringGrad() }
    let y = withGradients { f(leaves) }
    let pullback: Pullback = { (g: Tensor) throws(AutogradError) -> [Tensor] in
        guard y.requiresGrad else { return leaves.map { $0.zerosLike() } }
        return try grad(of: [y], wrt: leaves, cotangents: [g], retainGraph: true, createGraph: GradMode.isEnabled)
    }
    return (y.detached(), pullback)
}

/// Evaluates a one-input `f` with a reusable pullback.
public func valueWithPullback(at x: Tensor, of f: (Tensor) -> Tensor) -> (value: Tensor, pullback: (Tensor) throws(AutogradError) -> Tensor) {
    let (v, pb) = valueWithPullback(at: [x]) { f($0[0]) }
    return (v, { (g: Tensor) throws(AutogradError) -> Tensor in try pb(g)[0] })
}

/// The Jacobian-vector product J_f(x) v (a directional derivative), by the double-VJP trick:
/// the VJP u ↦ Jᵀu is linear in u, so differentiating it with respect to u in direction v gives J v.
public func jvp(at inputs: [Tensor], direction: [Tensor], of f: ([Tensor]) -> Tensor) throws(AutogradError) -> (value: Tensor, tangent: Tensor) {
    guard inputs.count == direction.count else {
        throw AutogradError("jvp: \(inputs.count) inputs but \(direction.count) directions; give one direction per input")
    }
    for (i, (x, v)) in zip(inputs, direction).enumerated() where x.shape != v.shape {
        throw AutogradError("jvp: direction \(i) has shape \(describe(v.shape)) but input \(i) has shape \(describe(x.shape))")
    }
    let leaves = inputs.map { $0.detached().requiringGrad() }
    return try withGradients { () throws(AutogradError) -> (value: Tensor, tangent: Tensor) in
        let y = f(leaves)
        guard y.requiresGrad else { return (y, y.zerosLike()) }
        let u = y.detached().zerosLike().requiringGrad()
        let vjps = try grad(of: [y], wrt: leaves, cotangents: [u], createGraph: true)
        var total: Tensor? = nil
        for (g, v) in zip(vjps, direction) where g.requiresGrad {
            let term = (g * v.detached()).sum()
            total = total.map { $0 + term } ?? term
        }
        guard let total else { return (y.detached(), y.detached().zerosLike()) }
        let jv = try grad(of: [total], wrt: [u])[0]
        return (y.detached(), jv.detached())
    }
}

/// The Jacobian-vector product of a one-input function.
public func jvp(at x: Tensor, direction v: Tensor, of f: (Tensor) -> Tensor) throws(AutogradError) -> (value: Tensor, tangent: Tensor) {
    try jvp(at: [x], direction: [v]) { f($0[0]) }
}

extension Tensor {
    /// A differentiable operation with a hand-written backward, like JAX's `custom_vjp` or a
    /// PyTorch `autograd.Function`.
    ///
    /// `forward` runs without recording; `backward` receives the output's cotangent and the
    /// output, and returns one cotangent per input (nil for none). Gradient mode inside `backward`
    /// is on only when a higher-order graph is being built.
    public static func custom(_ name: String, inputs: [Tensor], forward: ([Tensor]) -> Tensor,
                              backward: @escaping (_ cotangent: Tensor, _ output: Tensor) -> [Tensor?]) -> Tensor {
        let out = withoutGradients { forward(inputs.map { $0.detached() }) }
        return record(name, out.detached(), inputs, saveOutput: true, backward: backward)
    }
}
