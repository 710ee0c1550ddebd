import Tensors

/// A Transformer encoder layer that takes PyTorch's masks (see
/// ``MultiHeadAttention/callAsFunction(_:context:mask:keyPaddingMask:)``); called with one tensor
/// it runs unmasked (apart from its own causal flag).
public protocol EncoderLayer: Layer {
    func callAsFunction(_ x: Tensor, mask: Tensor?, keyPaddingMask: Tensor?) -> Tensor
}

extension EncoderLayer {
    public func callAsFunction(_ x: Tensor) -> Tensor { self(x, mask: nil, keyPaddingMask: nil) }
}

/// How an encoder layer places its residuals: PyTorch's `TransformerEncoderLayer` with
/// `norm_first` false (`post`) or true (`pre`), or ReZero's x + α·F(x) without LayerNorm (`rezero`).
public enum ResidualNorm: String, CaseIterable, Sendable {
    case post, pre, rezero
}

/// A stack of encoder layers that differ only in `norm`, so Post-LN, Pre-LN and ReZero can be
/// compared with everything else equal. As in common practice (and PyTorch's `TransformerEncoder`
/// given a `norm`), a Pre-LN stack ends with a LayerNorm, since its residual stream is never
/// normalised otherwise; Post-LN and ReZero stacks end with their last layer.
///
/// ```swift
/// let stack = TransformerEncoderStack(layers: 12, modelSize: 256, heads: 8, feedForward: 1024, norm: .rezero)
/// let y = stack(x, mask: nil, keyPaddingMask: nil)
/// ```
public final class TransformerEncoderStack: EncoderLayer {
    public let norm: ResidualNorm
    public let layers: [any EncoderLayer]
    public let finalNorm: LayerNorm?

    public init(layers count: Int, modelSize: Int, heads: Int, feedForward: Int, norm: ResidualNorm,
                dropout: Double = 0, activation: FeedForwardActivation = .relu, causal: Bool = false,
                dtype: DType = .float32) {
        self.norm = norm
        layers = (0..<count).map { _ in
            switch norm {
            case .post, .pre:
                return TransformerEncoderLayer(modelSize, heads: heads, feedForward: feedForward, dropout: dropout,
                                               causal: causal, normFirst: norm == .pre, activation: activation, dtype: dtype)
            case .rezero:
                return RZTXEncoderLayer(modelSize, heads: heads, feedForward: feedForward, dropout: dropout,
                                        activation: activation, causal: causal, dtype: dtype)
            }
        }
        finalNorm = norm == .pre ? LayerNorm(modelSize, dtype: dtype) : nil
    }

    public func visit(_ v: inout ModuleVisitor) {
        v.children("layers", layers)
        if let finalNorm { v.child("norm", finalNorm) }
    }

    public func callAsFunction(_ x: Tensor, mask: Tensor?, keyPaddingMask: Tensor?) -> Tensor {
        let h = layers.reduce(x) { $1($0, mask: mask, keyPaddingMask: keyPaddingMask) }
        return finalNorm.map { $0(h) } ?? h
    }
}
