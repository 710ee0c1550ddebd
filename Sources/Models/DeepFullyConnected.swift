import NN
import Tensors

/// How each hidden layer of a ``DeepFullyConnected`` net joins its input, the four variants of
/// ReZero's deep fully connected experiment (Bachlechner et al., Table 1): with F(x) = relu(W x + b),
/// - `plain`: x ← F(x)
/// - `residual`: x ← x + F(x)
/// - `prenorm`: x ← x + F(LayerNorm(x))
/// - `rezero`: x ← x + α F(x), one α per layer, starting at 0.
public enum ResidualVariant: String, CaseIterable, Sendable {
    case plain, residual, prenorm, rezero

    /// The variant named `name` (as the command line spells it).
    public static func named(_ name: String) -> ResidualVariant? { ResidualVariant(rawValue: name) }
}

/// A deep fully connected classifier: Linear(inputs → width), `depth` hidden layers of width →
/// width joined as ``ResidualVariant`` says, and Linear(width → classes). All linear layers take
/// PyTorch's default initialisation (what `nn.Linear` gives the paper's networks).
///
/// ```swift
/// let net = DeepFullyConnected(.init(inputs: 64, width: 128, depth: 1000, classes: 10, variant: .rezero))
/// let loss = crossEntropy(net(x), y)   // x [B, 64], y [B]
/// ```
public final class DeepFullyConnected: Layer {
    public struct Configuration: Equatable, Sendable {
        public var inputs: Int
        public var width: Int
        public var depth: Int
        public var classes: Int
        public var variant: ResidualVariant
        public init(inputs: Int, width: Int, depth: Int, classes: Int, variant: ResidualVariant) {
            self.inputs = inputs; self.width = width; self.depth = depth; self.classes = classes; self.variant = variant
        }
    }

    public let configuration: Configuration
    public let input: Linear
    public let hidden: [Linear]
    /// The pre-norm variant's LayerNorms (empty otherwise).
    public let norms: [LayerNorm]
    /// The ReZero variant's residual weights, one scalar per hidden layer (empty otherwise).
    public var alphas: [Tensor]
    public let output: Linear

    public init(_ c: Configuration, dtype: DType = .float32) {
        configuration = c
        input = Linear(c.inputs, c.width, dtype: dtype)
        hidden = (0..<c.depth).map { _ in Linear(c.width, c.width, dtype: dtype) }
        norms = c.variant == .prenorm ? (0..<c.depth).map { _ in LayerNorm(c.width, dtype: dtype) } : []
        alphas = c.variant == .rezero ? (0..<c.depth).map { _ in Tensor(0.0, dtype: dtype).requiringGrad() } : []
        output = Linear(c.width, c.classes, dtype: dtype)
    }

    public func visit(_ v: inout ModuleVisitor) {
        v.child("input", input)
        for (i, layer) in hidden.enumerated() { v.child("hidden.\(i)", layer) }
        for (i, norm) in norms.enumerated() { v.child("norms.\(i)", norm) }
        for i in alphas.indices { v.parameter("alphas.\(i)", &alphas[i]) }
        v.child("output", output)
    }

    public func callAsFunction(_ x: Tensor) -> Tensor {
        var h = input(x)
        for (i, layer) in hidden.enumerated() {
            switch configuration.variant {
            case .plain: h = layer(h).relu()
            case .residual: h = h + layer(h).relu()
            case .prenorm: h = h + layer(norms[i](h)).relu()
            case .rezero: h = rezeroResidual(h, alphas[i], layer(h).relu())
            }
        }
        return output(h)
    }
}
