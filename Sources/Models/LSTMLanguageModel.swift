import NN
import Tensors

/// The classic word-level LSTM language model (Zaremba et al. 2014; the PyTorch example):
/// embedding → dropout → stacked LSTM (dropout between layers) → dropout → linear decoder, with
/// the decoder optionally tied to the embedding (Press & Wolf 2017; needs embedding = hidden size).
///
/// ```swift
/// let lm = LSTMLanguageModel(.init(vocabularySize: 10000, embeddingSize: 200, hiddenSize: 200))
/// let (logits, state) = lm(tokens, state: lm.initialState(batch: 20))   // logits [T·20, 10000]
/// ```
public final class LSTMLanguageModel: LanguageModel {
    public struct Configuration: Equatable, Sendable {
        public var vocabularySize: Int
        public var embeddingSize: Int
        public var hiddenSize: Int
        public var layers: Int
        public var dropout: Double
        public var tied: Bool

        public init(vocabularySize: Int, embeddingSize: Int = 200, hiddenSize: Int = 200, layers: Int = 2,
                    dropout: Double = 0.2, tied: Bool = false) {
            self.vocabularySize = vocabularySize
            self.embeddingSize = embeddingSize
            self.hiddenSize = hiddenSize
            self.layers = layers
            self.dropout = dropout
            self.tied = tied
        }

        /// The option keys this model reads.
        public static let keys = ["emsize", "nhid", "nlayers", "dropout", "tied"]

        /// Reads `emsize`, `nhid`, `nlayers`, `dropout`, `tied` (the reference script's names).
        public init(vocabularySize: Int, options: [String: String]) throws(ModelError) {
            self.init(vocabularySize: vocabularySize)
            func int(_ k: String) throws(ModelError) -> Int? {
                guard let s = options[k] else { return nil }
                guard let v = Int(s), v > 0 else { throw ModelError("lstm-lm: \(k) must be a positive integer, got \"\(s)\"") }
                return v
            }
            if let v = try int("emsize") { embeddingSize = v }
            if let v = try int("nhid") { hiddenSize = v }
            if let v = try int("nlayers") { layers = v }
            if let s = options["dropout"] {
                guard let v = Double(s), v >= 0, v < 1 else { throw ModelError("lstm-lm: dropout must be in [0, 1), got \"\(s)\"") }
                dropout = v
            }
            if let s = options["tied"] {
                guard let v = Bool(s) else { throw ModelError("lstm-lm: tied must be true or false, got \"\(s)\"") }
                tied = v
            }
            if tied && embeddingSize != hiddenSize {
                throw ModelError("lstm-lm: tied weights need emsize = nhid, got emsize \(embeddingSize) and nhid \(hiddenSize); set them equal or tied: false")
            }
        }

        var options: [String: String] {
            ["emsize": "\(embeddingSize)", "nhid": "\(hiddenSize)", "nlayers": "\(layers)", "dropout": "\(dropout)", "tied": "\(tied)"]
        }
    }

    public let configuration: Configuration
    public let encoder: Embedding
    public let rnn: LSTM
    public let dropout: Dropout
    /// [vocabulary, hidden]; nil when tied (the embedding matrix is used).
    public var decoderWeight: Tensor?
    public var decoderBias: Tensor

    public init(_ c: Configuration, dtype: DType = .float32) {
        precondition(!c.tied || c.embeddingSize == c.hiddenSize, "tied weights need embeddingSize == hiddenSize")
        configuration = c
        // The reference initialisation: uniform ±0.1 for the embedding and decoder, zero decoder bias.
        encoder = Embedding(c.vocabularySize, c.embeddingSize, weightInit: .uniform(bound: 0.1), dtype: dtype)
        rnn = LSTM(c.embeddingSize, c.hiddenSize, layers: c.layers, dropout: c.dropout, dtype: dtype)
        dropout = Dropout(c.dropout)
        decoderWeight = c.tied ? nil : Initializer.uniform(bound: 0.1).make([c.vocabularySize, c.hiddenSize], dtype: dtype)
        decoderBias = Tensor.zeros([c.vocabularySize], dtype: dtype).requiringGrad()
    }

    public func visit(_ v: inout ModuleVisitor) {
        v.child("encoder", encoder)
        v.child("rnn", rnn)
        v.child("drop", dropout)
        // A tied decoder owns no weight: the embedding is reported once, so optimizers update it once.
        v.parameter("decoder.weight", &decoderWeight)
        v.parameter("decoder.bias", &decoderBias)
    }

    public var modelName: String { "lstm-lm" }
    public var architecture: [String: String] { configuration.options }
    public var vocabularySize: Int { configuration.vocabularySize }
    public var stateBatchAxis: Int { 0 }

    /// (h, c) per layer, flattened: [h₀, c₀, h₁, c₁, …], each [batch, hidden].
    public func initialState(batch: Int) -> [Tensor] {
        (0..<(2 * configuration.layers)).map { _ in Tensor.zeros([batch, configuration.hiddenSize], dtype: dtype) }
    }

    public func callAsFunction(_ tokens: Tensor, state: [Tensor]) -> (logits: Tensor, state: [Tensor]) {
        guard tokens.rank == 2 else { fail("LSTMLanguageModel expects token ids [T, batch], got \(tokens.shape)") }
        let layers = configuration.layers
        guard state.count == 2 * layers else {
            fail("LSTMLanguageModel: the state needs \(2 * layers) tensors (h and c per layer), got \(state.count); start from initialState(batch:)")
        }
        let x = dropout(encoder(tokens))
        let pairs = (0..<layers).map { (h: state[2 * $0], c: state[2 * $0 + 1]) }
        let (y, finals) = rnn(x, state: pairs)
        let h = dropout(y).reshaped([-1, configuration.hiddenSize])
        let logits = linear(h, decoderWeight ?? encoder.weight, decoderBias)
        return (logits, finals.flatMap { [$0.h, $0.c] })
    }
}

/// Traps with a clear message (models, like layers, trap on misuse).
func fail(_ message: String) -> Never { fatalError(message) }
