import Foundation
import Tensors

/// Sinusoidal position encodings (Vaswani et al.): for position p and frequency
/// ωᵢ = 10000^(−2i/d), the first d/2 features are sin(p ωᵢ) and the last d/2 cos(p ωᵢ)
/// (the concatenated layout Transformer-XL uses for its relative positions).
///
/// ```swift
/// let pe = SinusoidalPositionalEncoding(512); let r = pe(positions: Tensor.arange(127, -1, step: -1, dtype: .float32))
/// ```
public final class SinusoidalPositionalEncoding: Module {
    public let dimension: Int
    /// The inverse frequencies ωᵢ, [d/2]; a buffer, so dtype conversion follows the model.
    public var inverseFrequency: Tensor

    public init(_ dimension: Int, dtype: DType = .float32) {
        guard dimension % 2 == 0 else { fail("SinusoidalPositionalEncoding needs an even dimension, got \(dimension)") }
        self.dimension = dimension
        let freqs = (0..<(dimension / 2)).map { i in 1 / pow(10000.0, Double(2 * i) / Double(dimension)) }
        inverseFrequency = Tensor(freqs).to(dtype)
    }

    public func visit(_ v: inout ModuleVisitor) { v.buffer("inverse_frequency", &inverseFrequency) }

    /// Encodings of the given (float) positions: [n] → [n, d].
    public func callAsFunction(positions: Tensor) -> Tensor {
        let angles = positions.to(inverseFrequency.dtype).reshaped([-1, 1]) * inverseFrequency.reshaped([1, -1])
        return Tensor.concat([angles.sin(), angles.cos()], axis: 1)
    }

    /// Encodings of positions 0..<length, [length, d] (add them to token embeddings).
    public func encoding(length: Int) -> Tensor {
        self(positions: Tensor.arange(0, Double(length), dtype: inverseFrequency.dtype))
    }
}
