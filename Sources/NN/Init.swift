import Tensors

/// The weight initialisations used by the reference implementations (PyTorch's defaults,
/// Glorot/Xavier, He/Kaiming, and the plain uniform/normal ones of Transformer-XL and the DEQ code).
public enum Initializer: Sendable {
    /// Uniform in [-bound, bound].
    case uniform(bound: Double)
    /// Normal with the given standard deviation.
    case normal(std: Double)
    /// Glorot uniform: bound = gain · √(6 / (fanIn + fanOut)).
    case xavierUniform(gain: Double = 1)
    /// Glorot normal: std = gain · √(2 / (fanIn + fanOut)).
    case xavierNormal(gain: Double = 1)
    /// He uniform for a leaky-ReLU slope `a`: bound = √(6 / ((1 + a²) · fanIn)).
    /// `a = √5` gives PyTorch's default for `Linear`/`Conv1d` weights, U(±1/√fanIn).
    case kaimingUniform(a: Double = 0)
    /// He normal: std = √(2 / ((1 + a²) · fanIn)).
    case kaimingNormal(a: Double = 0)
    case zeros
    case ones

    /// A fresh trainable tensor of `shape`. Fans follow PyTorch: fanOut = shape[0], fanIn = shape[1]
    /// times the product of any trailing (kernel) dimensions.
    public func make(_ shape: [Int], dtype: DType = .float32, generator: RandomGenerator? = nil) -> Tensor {
        let receptive = shape.count > 2 ? shape[2...].reduce(1, *) : 1
        let fanIn = shape.count > 1 ? shape[1] * receptive : shape.first ?? 1
        let fanOut = shape.count > 1 ? shape[0] * receptive : shape.first ?? 1
        let t: Tensor
        switch self {
        case .uniform(let b):
            t = Tensor.rand(shape, low: -b, high: b, dtype: dtype, generator: generator)
        case .normal(let s):
            t = Tensor.randn(shape, std: s, dtype: dtype, generator: generator)
        case .xavierUniform(let gain):
            let b = gain * (6.0 / Double(fanIn + fanOut)).squareRoot()
            t = Tensor.rand(shape, low: -b, high: b, dtype: dtype, generator: generator)
        case .xavierNormal(let gain):
            t = Tensor.randn(shape, std: gain * (2.0 / Double(fanIn + fanOut)).squareRoot(), dtype: dtype, generator: generator)
        case .kaimingUniform(let a):
            let b = (6.0 / ((1 + a * a) * Double(fanIn))).squareRoot()
            t = Tensor.rand(shape, low: -b, high: b, dtype: dtype, generator: generator)
        case .kaimingNormal(let a):
            t = Tensor.randn(shape, std: (2.0 / ((1 + a * a) * Double(fanIn))).squareRoot(), dtype: dtype, generator: generator)
        case .zeros:
            t = Tensor.zeros(shape, dtype: dtype)
        case .ones:
            t = Tensor.ones(shape, dtype: dtype)
        }
        return t.requiringGrad()
    }

    /// PyTorch's default for `Linear`/`Conv1d` weights: kaiming-uniform with a = √5, i.e. U(±1/√fanIn).
    public static let pytorchDefault = Initializer.kaimingUniform(a: 5.0.squareRoot())
}

/// Re-initialises an existing parameter in place (its autograd identity is kept).
public func initialize(_ parameter: Tensor, with initializer: Initializer, generator: RandomGenerator? = nil) {
    parameter.assign(initializer.make(parameter.shape, dtype: parameter.dtype, generator: generator).detached())
}
