import Foundation
import NN
import Tensors

/// A character-level Transformer language model for comparing residual placements (ReZero,
/// Bachlechner et al. §5): embedding × √d plus sinusoidal positions → dropout → a causal
/// ``TransformerEncoderStack`` with `norm` post, pre or rezero → linear decoder. Nothing else
/// differs between the three norms, so runs compare them with everything else equal. Each BPTT
/// window is attended to on its own (no memory carried between windows).
///
/// ```swift
/// let lm = CharTransformerLM(.init(vocabulary: 50, layers: 12, norm: .rezero))
/// let (logits, _) = lm(tokens, state: [])   // tokens [T, batch] → logits [T·batch, 50]
/// ```
public final class CharTransformerLM: LanguageModel {
    public struct Configuration: Equatable, Sendable {
        public var vocabulary: Int
        public var layers: Int
        public var modelSize: Int
        public var heads: Int
        public var feedForward: Int
        public var dropout: Double
        public var norm: ResidualNorm
        public var activation: FeedForwardActivation

        public init(vocabulary: Int, layers: Int = 12, modelSize: Int = 256, heads: Int = 4, feedForward: Int = 1024,
                    dropout: Double = 0.1, norm: ResidualNorm = .rezero, activation: FeedForwardActivation = .relu) {
            self.vocabulary = vocabulary
            self.layers = layers
            self.modelSize = modelSize
            self.heads = heads
            self.feedForward = feedForward
            self.dropout = dropout
            self.norm = norm
            self.activation = activation
        }

        /// Reads `nlayers`, `d-model`, `n-head`, `d-inner`, `dropout`, `norm`, `activation`.
        public init(vocabulary: Int, options: [String: String]) throws(ModelError) {
            let name = CharTransformerLM.name
            let r = OptionReader(model: name, options: options)
            self.init(vocabulary: vocabulary)
            layers = try r.int("nlayers", layers)
            modelSize = try r.int("d-model", modelSize)
            heads = try r.int("n-head", heads)
            feedForward = try r.int("d-inner", feedForward)
            dropout = try r.fraction("dropout", dropout)
            if let s = options["norm"] {
                guard let v = ResidualNorm(rawValue: s) else {
                    throw ModelError("\(name): norm must be post, pre or rezero, got \"\(s)\"")
                }
                norm = v
            }
            if let s = options["activation"] {
                guard let v = FeedForwardActivation(rawValue: s) else {
                    throw ModelError("\(name): activation must be relu or gelu, got \"\(s)\"")
                }
                activation = v
            }
            guard modelSize % heads == 0, modelSize % 2 == 0 else {
                throw ModelError("\(name): d-model (\(modelSize)) must be even and a multiple of n-head (\(heads)); change one of them")
            }
        }

        var options: [String: String] {
            ["nlayers": "\(layers)", "d-model": "\(modelSize)", "n-head": "\(heads)", "d-inner": "\(feedForward)",
             "dropout": "\(dropout)", "norm": norm.rawValue, "activation": activation.rawValue]
        }
    }

    public static let name = "char-transformer"
    public let configuration: Configuration
    public let embedding: Embedding
    public let positions: SinusoidalPositionalEncoding
    public let dropout: Dropout
    public let stack: TransformerEncoderStack
    public let decoder: Linear

    public init(_ c: Configuration, dtype: DType = .float32) {
        configuration = c
        embedding = Embedding(c.vocabulary, c.modelSize, weightInit: .normal(std: 1 / Double(c.modelSize).squareRoot()), dtype: dtype)
        positions = SinusoidalPositionalEncoding(c.modelSize, dtype: dtype)
        dropout = Dropout(c.dropout)
        stack = TransformerEncoderStack(layers: c.layers, modelSize: c.modelSize, heads: c.heads, feedForward: c.feedForward,
                                        norm: c.norm, dropout: c.dropout, activation: c.activation, causal: true, dtype: dtype)
        decoder = Linear(c.modelSize, c.vocabulary, dtype: dtype)
    }

    public func visit(_ v: inout ModuleVisitor) {
        v.child("embedding", embedding)
        v.child("pos_emb", positions)
        v.child("drop", dropout)
        v.child("stack", stack)
        v.child("decoder", decoder)
    }

    public var modelName: String { Self.name }
    public var architecture: [String: String] { configuration.options }
    public var vocabularySize: Int { configuration.vocabulary }
    public var stateBatchAxis: Int { 0 }
    public func initialState(batch: Int) -> [Tensor] { [] }

    public func callAsFunction(_ tokens: Tensor, state: [Tensor]) -> (logits: Tensor, state: [Tensor]) {
        guard tokens.rank == 2 else { fail("CharTransformerLM expects token ids [T, batch], got \(tokens.shape)") }
        let (t, d) = (tokens.shape[0], configuration.modelSize)
        let x = embedding(tokens.T) * Double(d).squareRoot() + positions.encoding(length: t)   // [B, T, d]
        let h = stack(dropout(x), mask: nil, keyPaddingMask: nil)
        let timeMajor = h.permuted(1, 0, 2).reshaped([-1, d])
        return (decoder(timeMajor), [])
    }

    /// Mean cross-entropy (nats) of predicting `targets` [T, batch] (gradchecks and tests).
    public func loss(_ tokens: Tensor, targets: Tensor) -> Tensor {
        crossEntropy(self(tokens, state: []).logits, targets.reshaped([-1]))
    }
}
