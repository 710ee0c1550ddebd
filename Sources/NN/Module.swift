import Tensors

/// A layer or model: a class that names its parameters, buffers, mode flags and children to a
/// ``ModuleVisitor``. Everything else — named traversal, parameter counts, train/eval mode,
/// dtype conversion, freezing, zeroing gradients, checkpoints, optimizers — is built on `visit`.
///
/// ```swift
/// final class MLP: Module {
///     var fc1 = Linear(4, 8), fc2 = Linear(8, 2)
///     func visit(_ v: inout ModuleVisitor) { v.child("fc1", fc1); v.child("fc2", fc2) }
///     func callAsFunction(_ x: Tensor) -> Tensor { fc2(fc1(x).relu()) }
/// }
/// ```
public protocol Module: AnyObject {
    /// Reports every parameter, buffer, mode flag and child module to `visitor`, in a fixed order.
    func visit(_ visitor: inout ModuleVisitor)
}

/// A module that maps one tensor to one tensor (what ``Sequential`` chains).
public protocol Layer: Module {
    func callAsFunction(_ input: Tensor) -> Tensor
}

/// Walks a module tree. Modules hand their state over `inout`, so a visit can read it or replace
/// it (dtype conversion, freezing, loading). Names are dotted paths: `"layers.0.attn.qkv.weight"`.
public struct ModuleVisitor {
    /// The dotted path of the module being visited, with a trailing dot (empty at the root).
    public private(set) var prefix: String = ""
    let onParameter: (String, inout Tensor) -> Void
    let onBuffer: (String, inout Tensor) -> Void
    let onMode: (inout Bool) -> Void
    /// Sees every child module as it is entered (the forgotten-parameter check).
    var onChild: ((String, Module) -> Void)?

    public init(parameter: @escaping (String, inout Tensor) -> Void = { _, _ in },
                buffer: @escaping (String, inout Tensor) -> Void = { _, _ in },
                mode: @escaping (inout Bool) -> Void = { _ in }) {
        onParameter = parameter
        onBuffer = buffer
        onMode = mode
    }

    /// A trainable tensor (a leaf made with `requiringGrad()`, or without when frozen).
    public mutating func parameter(_ name: String, _ tensor: inout Tensor) { onParameter(prefix + name, &tensor) }

    /// An optional trainable tensor (e.g. a bias that may be absent).
    public mutating func parameter(_ name: String, _ tensor: inout Tensor?) {
        guard var t = tensor else { return }
        onParameter(prefix + name, &t)
        tensor = t
    }

    /// Persistent state that is saved and converted but not trained (e.g. running statistics).
    public mutating func buffer(_ name: String, _ tensor: inout Tensor) { onBuffer(prefix + name, &tensor) }

    /// A train/eval flag (`true` while training).
    public mutating func mode(_ isTraining: inout Bool) { onMode(&isTraining) }

    /// A child module, visited under `name`.
    public mutating func child(_ name: String, _ module: Module) {
        let saved = prefix
        onChild?(saved + name, module)
        prefix = saved + name + "."
        module.visit(&self)
        prefix = saved
    }

    /// A list of children, named by their position.
    public mutating func children(_ name: String, _ modules: [Module]) {
        for (i, m) in modules.enumerated() { child("\(name).\(i)", m) }
    }
}

extension Module {
    /// Visits the tree with the given callbacks.
    func walk(parameter: @escaping (String, inout Tensor) -> Void = { _, _ in },
              buffer: @escaping (String, inout Tensor) -> Void = { _, _ in },
              mode: @escaping (inout Bool) -> Void = { _ in }) {
        var v = ModuleVisitor(parameter: parameter, buffer: buffer, mode: mode)
        visit(&v)
    }

    /// Every parameter with its dotted name, in declaration order.
    public func namedParameters() -> [(name: String, tensor: Tensor)] {
        var out: [(name: String, tensor: Tensor)] = []
        walk(parameter: { name, t in out.append((name, t)) })
        return out
    }

    /// Every parameter, in declaration order.
    public func parameters() -> [Tensor] { namedParameters().map(\.tensor) }

    /// Every buffer with its dotted name.
    public func namedBuffers() -> [(name: String, tensor: Tensor)] {
        var out: [(name: String, tensor: Tensor)] = []
        walk(buffer: { name, t in out.append((name, t)) })
        return out
    }

    /// Parameters and buffers by name: what a checkpoint stores.
    public func stateDict() -> [String: Tensor] {
        var out: [String: Tensor] = [:]
        walk(parameter: { name, t in out[name] = t.detached() }, buffer: { name, t in out[name] = t.detached() })
        return out
    }

    /// The number of scalar parameters (trainable only when `trainableOnly`).
    public func parameterCount(trainableOnly: Bool = false) -> Int {
        var n = 0
        walk(parameter: { _, t in if !trainableOnly || t.requiresGrad { n += t.count } })
        return n
    }

    /// Puts every layer into training mode (dropout active).
    public func train(_ on: Bool = true) { walk(mode: { $0 = on }) }

    /// Puts every layer into evaluation mode (dropout off).
    public func eval() { train(false) }

    /// True when some layer with a mode flag is in training mode.
    public var isTraining: Bool {
        var any = false
        walk(mode: { any = any || $0 })
        return any
    }

    /// Clears the accumulated gradient of every parameter.
    public func zeroGrad() { walk(parameter: { _, t in t.zeroGrad() }) }

    /// Stops (or restarts) gradients for the parameters whose name passes `filter` (all by default).
    /// A frozen parameter is a plain tensor, so optimizers skip it.
    public func freeze(_ frozen: Bool = true, where filter: (String) -> Bool = { _ in true }) {
        withoutActuallyEscaping(filter) { f in
            walk(parameter: { name, t in if f(name) && t.requiresGrad == frozen { t.setRequiresGrad(!frozen) } })
        }
    }

    /// Restarts gradients for the parameters whose name passes `filter`.
    public func unfreeze(where filter: (String) -> Bool = { _ in true }) { freeze(false, where: filter) }

    /// Converts every floating parameter and buffer to `dtype` (e.g. `.float64` for gradcheck).
    /// Parameters stay trainable (fresh leaves); gradients are dropped.
    public func convert(to dtype: DType) {
        walk(parameter: { _, t in
            guard t.dtype.isFloatingPoint, t.dtype != dtype else { return }
            let trainable = t.requiresGrad
            t = t.detached().to(dtype).requiringGrad(trainable)
        }, buffer: { _, t in
            guard t.dtype.isFloatingPoint, t.dtype != dtype else { return }
            t = t.detached().to(dtype)
        })
    }

    /// The dtype of the first floating parameter (float32 when there is none).
    public var dtype: DType {
        namedParameters().first(where: { $0.tensor.dtype.isFloatingPoint })?.tensor.dtype ?? .float32
    }

    /// Replaces parameters (keeping their autograd identity: values are written in place) and
    /// buffers from `state`. Every missing, unexpected or mismatched entry is named in the error.
    public func load(_ state: [String: Tensor], strict: Bool = true) throws(CheckpointError) {
        var expected: [String: (shape: [Int], dtype: DType)] = [:]
        var order: [String] = []
        walk(parameter: { n, t in expected[n] = (t.shape, t.dtype); order.append(n) },
             buffer: { n, t in expected[n] = (t.shape, t.dtype); order.append(n) })
        var problems: [String] = []
        let missing = order.filter { state[$0] == nil }
        if !missing.isEmpty { problems.append("missing: \(missing.joined(separator: ", "))") }
        let unexpected = state.keys.filter { expected[$0] == nil }.sorted()
        if strict && !unexpected.isEmpty { problems.append("unexpected: \(unexpected.joined(separator: ", "))") }
        var mismatched: [String] = []
        for name in order {
            guard let e = expected[name], let t = state[name] else { continue }
            if t.shape != e.shape {
                mismatched.append("\(name) (checkpoint \(t.shape), model \(e.shape))")
            }
        }
        if !mismatched.isEmpty { problems.append("shape mismatch: \(mismatched.joined(separator: ", "))") }
        guard problems.isEmpty else {
            throw CheckpointError("the checkpoint does not match the model — \(problems.joined(separator: "; ")); load a checkpoint of the same architecture or pass strict: false to ignore unexpected entries")
        }
        walk(parameter: { n, t in t.assign(state[n]!) }, buffer: { n, t in t = state[n]!.to(t.dtype).contiguous() })
    }
}

/// The one error type of the NN layer: a checkpoint could not be written, read or matched to a
/// model, or an optimizer or schedule was given settings it cannot run with. The message names
/// the value and the fix.
public struct NNError: Error, CustomStringConvertible, Equatable, Sendable {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// The name checkpoint code has always used for ``NNError``.
public typealias CheckpointError = NNError
