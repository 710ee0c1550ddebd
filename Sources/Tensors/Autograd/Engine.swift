import Synchronization
/// Errors of the backward pass, each one sentence naming the tensor or operation and the fix.
public struct AutogradError: Error, CustomStringConvertible, Equatable, Sendable {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// The reverse-mode engine: walks the recorded graph from the outputs in topological order,
/// accumulating cotangents per node, and delivers the gradients of leaves (or of chosen tensors).
enum BackwardEngine {
    /// Numbers the passes, so a node knows whether the current one has visited it.
    private static let passCounter = Atomic<UInt64>(0)

    struct Result {
        /// Gradients of the requested targets, by autograd identity.
        var targets: [ObjectIdentifier: Tensor] = [:]
    }

    /// Runs one backward pass.
    /// - Parameters:
    ///   - roots: output tensors with their cotangents.
    ///   - targets: when given, only gradients of these identities are computed and returned,
    ///     and leaves are left untouched; when nil, leaves accumulate into `.grad`.
    static func run(roots: [(Tensor, Tensor)], targets: [AutogradMeta]?, retainGraph: Bool,
                    createGraph: Bool) throws(AutogradError) -> Result {
        var result = Result()
        let targetIDs = Set((targets ?? []).map { ObjectIdentifier($0) })
        // Nodes whose own output is a target.
        var targetNodes: [ObjectIdentifier: ObjectIdentifier] = [:]
        for t in targets ?? [] {
            if let n = t.gradFn { targetNodes[ObjectIdentifier(n)] = ObjectIdentifier(t) }
        }

        // A leaf's gradient so far, and whether the engine made it (so may add into it in place).
        var leafGrads: [ObjectIdentifier: (meta: AutogradMeta, sum: Tensor, owned: Bool)] = [:]
        var rootNodes: [Node] = []
        var rootCotangents: [Tensor] = []
        var order: [Node] = []
        // A pass run inside another one's backward (an implicit layer's VJP, say) may reach the
        // outer graph: outer cotangents found on its nodes are set aside and put back at the end,
        // and nothing this pass leaves on a node survives it, even when it throws.
        var outerCotangents: [(Node, Tensor)] = []
        defer {
            for node in order { node.pendingCotangent = nil }
            for (node, g) in outerCotangents { node.pendingCotangent = g }
        }

        func add(_ a: Tensor?, _ b: Tensor) -> Tensor { a.map { $0 + b } ?? b }
        // Sums of three or more contributions (a weight used at every step of a recurrence) go
        // into the tensor the second one made, in place: it is the engine's own until handed on.
        // Each fresh sum cost an allocation and a pass; on the LSTM LM's 35-step recurrence the
        // accumulation was 10% of a training step (perf, `deq train --preset small`, batch 10).
        func accumulate(_ a: Tensor?, owned: inout Bool, _ b: Tensor) -> Tensor {
            guard let a else { owned = false; return b }
            if owned && !createGraph && a.shape == b.shape && a.dtype == b.dtype && a.dtype.isFloatingPoint
                && a.hasRowMajorStrides && a.offset == 0 {
                a.addScaled(b, 1)
                return a
            }
            let sum = a + b
            owned = sum.hasRowMajorStrides && sum.offset == 0 && sum.meta == nil
            return sum
        }
        // A slice's cotangent goes straight into its input's sum at the slice's window, instead
        // of into a zero-padded copy summed afterwards: an LSTM selects its input gates at each of
        // 35 steps, attention splits q, k and v out of one projection. An index-select's rows are
        // added at their indices the same way (an embedding tied to a decoder).
        func scatter(_ g: Tensor, _ window: CotangentWindow, into a: Tensor?, owned: inout Bool) -> Tensor {
            let target: Tensor
            if let a, owned, a.hasRowMajorStrides, a.offset == 0, a.dtype == g.dtype {
                target = a
            } else if let a {
                target = a.contiguousCopy()
            } else {
                target = Tensor.zeros(window.fullShape, dtype: g.dtype)
            }
            owned = true
            switch window {
            case .slice(let w):
                var strides = target.strides
                strides[w.axis] *= w.step
                let part = target.restrided(shape: g.shape, strides: strides, offset: w.start * target.strides[w.axis])
                if a == nil {
                    Kernels.copy(g, into: part)
                } else if part.isContiguous {
                    part.addScaled(g, 1)
                } else {
                    part.assign(part.detached() + g.detached())
                }
            case .rows(_, let axis, let indices):
                target.addRows(axis: axis, indices, g)
            }
            return target
        }

        for (y, g) in roots {
            guard let m = y.meta else {
                throw AutogradError("backward was called on a tensor that does not require gradients; make an input require them with requiringGrad() before computing it")
            }
            if let node = m.gradFn {
                rootNodes.append(node)
                rootCotangents.append(g)
            } else {
                let id = ObjectIdentifier(m)
                leafGrads[id] = (m, add(leafGrads[id]?.sum, g), false)
            }
        }

        // Topological order by depth-first search; `needed` prunes nodes that cannot reach a target.
        let mark = passCounter.add(1, ordering: .relaxed).newValue
        // Only kept when there are targets: a plain backward needs every node, and skipping the
        // bookkeeping saves a hash insert and lookups per node.
        var needed: [ObjectIdentifier: Bool] = [:]
        let needsAll = targets == nil
        func isNeeded(_ id: ObjectIdentifier) -> Bool { needsAll || needed[id] == true }
        var stack: [(Node, Int)] = rootNodes.map { ($0, 0) }
        for r in rootNodes { r.visitMark = mark }
        stack.reverse()
        while let (node, next) = stack.popLast() {
            if next < node.inputs.count {
                stack.append((node, next + 1))
                if let child = node.inputs[next]?.gradFn, child.visitMark != mark {
                    child.visitMark = mark
                    stack.append((child, 0))
                }
            } else {
                var need = needsAll || targetNodes[ObjectIdentifier(node)] != nil
                if !need {
                    for case let m? in node.inputs {
                        if targetIDs.contains(ObjectIdentifier(m)) { need = true; break }
                        if let c = m.gradFn, needed[ObjectIdentifier(c)] == true { need = true; break }
                    }
                }
                if !needsAll { needed[ObjectIdentifier(node)] = need }
                order.append(node)
            }
        }

        for node in order {
            if let g = node.pendingCotangent {
                outerCotangents.append((node, g))
                node.pendingCotangent = nil
            }
        }
        for (node, g) in zip(rootNodes, rootCotangents) { node.pendingCotangent = add(node.pendingCotangent, g) }

        let previousMode = GradMode.isEnabled
        GradMode.isEnabled = createGraph
        defer { GradMode.isEnabled = previousMode }

        // `order` is a post-order (inputs before users); walk it backwards.
        for node in order.reversed() {
            let id = ObjectIdentifier(node)
            let cotangent = node.pendingCotangent
            node.pendingCotangent = nil
            guard isNeeded(id), var g = cotangent else {
                if !retainGraph && targets == nil { node.free() }
                continue
            }
            for hook in node.hooks { if let h = hook(g) { g = h } }
            if !targetNodes.isEmpty, let t = targetNodes[id] { result.targets[t] = g }
            guard let backward = node.backward else {
                throw AutogradError("cannot run backward through '\(node.name)' a second time: its graph was freed by an earlier backward; pass retainGraph: true to the first call to keep it")
            }
            if !createGraph, let window = node.window, node.inputs.count == 1, let m = node.inputs[0],
               window.fullShape == (m.gradFn?.outputShape ?? window.fullShape) {
                if !retainGraph { node.free() }
                if let child = m.gradFn {
                    let cid = ObjectIdentifier(child)
                    if isNeeded(cid) || targetNodes[cid] != nil {
                        child.pendingCotangent = scatter(g, window, into: child.pendingCotangent, owned: &child.pendingOwned)
                    }
                } else if targets == nil || targetIDs.contains(ObjectIdentifier(m)) {
                    let lid = ObjectIdentifier(m)
                    var owned = leafGrads[lid]?.owned ?? false
                    let sum = scatter(g, window, into: leafGrads[lid]?.sum, owned: &owned)
                    leafGrads[lid] = (m, sum, owned)
                }
                continue
            }
            var y = node.savedOutput ?? Tensor.placeholder
            if createGraph, node.savedOutput != nil {
                y.meta = AutogradMeta(requiresGrad: true, gradFn: node)
            }
            if !createGraph { g = g.detached() }
            let cotangents = backward(g, y)
            let inputs = node.inputs
            if !retainGraph { node.free() }
            for i in stride(from: Swift.min(inputs.count, cotangents.count) - 1, through: 0, by: -1) {
                guard let m = inputs[i], let c = cotangents[i] else { continue }
                guard c.shape == (m.gradFn?.outputShape ?? c.shape) else {
                    throw AutogradError("the backward of '\(node.name)' produced a gradient of shape \(describe(c.shape)) for input \(i), whose shape is \(describe(m.gradFn!.outputShape)); this is a bug in that operation's VJP")
                }
                if let child = m.gradFn {
                    let cid = ObjectIdentifier(child)
                    if isNeeded(cid) || targetNodes[cid] != nil {
                        child.pendingCotangent = accumulate(child.pendingCotangent, owned: &child.pendingOwned, c)
                    }
                } else if targets == nil || targetIDs.contains(ObjectIdentifier(m)) {
                    let lid = ObjectIdentifier(m)
                    var owned = leafGrads[lid]?.owned ?? false
                    let sum = accumulate(leafGrads[lid]?.sum, owned: &owned, c)
                    leafGrads[lid] = (m, sum, owned)
                }
            }
        }

        for (lid, (m, g0, _)) in leafGrads {
            var g = g0
            for hook in m.hooks { if let h = hook(g) { g = h } }
            if targets != nil {
                result.targets[lid] = g
            } else {
                let newGrad = createGraph ? g : g.detached()
                m.grad = m.grad.map { createGraph ? $0 + newGrad : ($0 + newGrad).detached() } ?? newGrad
            }
        }
        return result
    }
}

extension Tensor {
    /// An empty stand-in passed to backward closures that do not use their output.
    static let placeholder = Tensor(empty: [0], dtype: .float32)

    /// Computes gradients of this tensor with respect to the leaves of its graph and accumulates
    /// them into their ``grad``.
    ///
    /// - Parameters:
    ///   - cotangent: the vector in the vector-Jacobian product; defaults to 1 for a scalar.
    ///   - retainGraph: keep the graph for another backward (it is freed otherwise).
    ///   - createGraph: record the backward itself, for gradients of gradients.
    public func backward(_ cotangent: Tensor? = nil, retainGraph: Bool = false,
                         createGraph: Bool = false) throws(AutogradError) {
        let g = try defaultCotangent(cotangent)
        _ = try BackwardEngine.run(roots: [(self, g)], targets: nil,
                                   retainGraph: retainGraph || createGraph, createGraph: createGraph)
    }

    func defaultCotangent(_ cotangent: Tensor?) throws(AutogradError) -> Tensor {
        if let c = cotangent {
            guard c.shape == shape else {
                throw AutogradError("the cotangent passed to backward has shape \(describe(c.shape)) but the tensor has shape \(describe(shape)); they must match")
            }
            return c.dtype == dtype ? c : c.to(dtype)
        }
        guard count == 1 else {
            throw AutogradError("backward() without a cotangent needs a scalar, but this tensor has shape \(describe(shape)); reduce it (e.g. sum()) or pass a cotangent of the same shape")
        }
        return Tensor.ones(shape, dtype: dtype)
    }
}

/// Gradients of `outputs` with respect to `inputs`, returned rather than accumulated into leaves.
///
/// - Parameters:
///   - cotangents: one per output (defaults to 1 for scalars).
///   - retainGraph: keep the graph so it can be differentiated again (defaults to `createGraph`).
///   - createGraph: record the computation of the gradients, for higher-order derivatives.
/// - Returns: one gradient per input; zeros for inputs the outputs do not depend on.
public func grad(of outputs: [Tensor], wrt inputs: [Tensor], cotangents: [Tensor?]? = nil,
                 retainGraph: Bool? = nil, createGraph: Bool = false) throws(AutogradError) -> [Tensor] {
    var roots: [(Tensor, Tensor)] = []
    for (i, y) in outputs.enumerated() {
        let c = cotangents.flatMap { i < $0.count ? $0[i] : nil }
        roots.append((y, try y.defaultCotangent(c)))
    }
    var metas: [AutogradMeta] = []
    for (i, x) in inputs.enumerated() {
        guard let m = x.meta else {
            throw AutogradError("grad(of:wrt:): input \(i) (shape \(describe(x.shape))) does not require gradients; create it with requiringGrad()")
        }
        metas.append(m)
    }
    let result = try BackwardEngine.run(roots: roots, targets: metas,
                                        retainGraph: retainGraph ?? createGraph, createGraph: createGraph)
    return zip(inputs, metas).map { x, m in
        result.targets[ObjectIdentifier(m)] ?? Tensor.zeros(x.shape, dtype: x.dtype)
    }
}

/// The gradient of one output with respect to some inputs.
public func grad(of output: Tensor, wrt inputs: [Tensor], cotangent: Tensor? = nil,
                 retainGraph: Bool? = nil, createGraph: Bool = false) throws(AutogradError) -> [Tensor] {
    try grad(of: [output], wrt: inputs, cotangents: [cotangent], retainGraph: retainGraph,
             createGraph: createGraph)
}
