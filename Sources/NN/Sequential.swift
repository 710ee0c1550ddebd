import Tensors

/// Layers applied in order; children are named "0", "1", ... as in PyTorch.
///
/// ```swift
/// let mlp = Sequential(Linear(4, 16), Activation.relu, Linear(16, 1))
/// ```
public final class Sequential: Layer {
    public var layers: [any Layer]

    public init(_ layers: [any Layer]) { self.layers = layers }
    public convenience init(_ layers: any Layer...) { self.init(layers) }

    public func visit(_ v: inout ModuleVisitor) {
        for (i, m) in layers.enumerated() { v.child("\(i)", m) }
    }

    public func callAsFunction(_ x: Tensor) -> Tensor { layers.reduce(x) { $1($0) } }
}

/// A parameter-free layer wrapping an elementwise function.
public final class Activation: Layer {
    let body: (Tensor) -> Tensor
    public init(_ body: @escaping (Tensor) -> Tensor) { self.body = body }
    public func visit(_ v: inout ModuleVisitor) {}
    public func callAsFunction(_ x: Tensor) -> Tensor { body(x) }

    public static var relu: Activation { Activation { $0.relu() } }
    public static var gelu: Activation { Activation { $0.gelu() } }
    public static var tanh: Activation { Activation { $0.tanh() } }
    public static var sigmoid: Activation { Activation { $0.sigmoid() } }
}
