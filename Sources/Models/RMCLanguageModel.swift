import NN
import Tensors

/// The relational memory core language model of relational-rnn-pytorch's `train_rmc.py`:
/// embedding → dropout → ``RelationalMemory`` → Linear(slots·memory size → emsize) → dropout →
/// a decoder tied to the embedding with its own bias (full softmax), or an adaptive softmax over
/// emsize when `cutoffs` are given. The memory is carried across BPTT windows like an LSTM state.
///
/// The defaults are the reference's (its best WikiText-2 row, test perplexity 107.21): emsize
/// 192, head size 192, 4 heads, 1 block, 3 attention-MLP layers, key size 64, 1 memory slot,
/// forget bias 1, input bias 0, unit gates, dropout 0.5.
///
/// ```swift
/// let lm = RMCLanguageModel(.init(vocabularySize: 10000))
/// let (logits, state) = lm(tokens, state: lm.initialState(batch: 64))   // logits [T·64, 10000]
/// ```
public final class RMCLanguageModel: LanguageModel {
    public struct Configuration: Equatable, Sendable {
        public var vocabularySize: Int
        public var embeddingSize = 192
        public var memorySlots = 1
        public var headSize = 192
        public var heads = 4
        public var blocks = 1
        public var attentionMLPLayers = 3
        public var keySize = 64
        public var gateStyle = RelationalMemory.GateStyle.unit
        public var forgetBias = 1.0
        public var inputBias = 0.0
        /// The reference hard-codes `nn.Dropout()` (0.5) on the embedding and the output.
        public var dropout = 0.5
        /// Empty for the tied full softmax.
        public var cutoffs: [Int] = []
        public var sharedMLPWeight = true

        public init(vocabularySize: Int) { self.vocabularySize = vocabularySize }

        /// The option keys this model reads (the reference script's flag names, plus dropout, cutoffs and shared-mlp).
        public static let keys = ["emsize", "memslots", "headsize", "numheads", "numblocks", "attmlplayers", "keysize",
                                  "gatestyle", "forgetbias", "inputbias", "dropout", "cutoffs", "shared-mlp"]

        public init(vocabularySize: Int, options: [String: String]) throws(ModelError) {
            self.init(vocabularySize: vocabularySize)
            let r = OptionReader(model: "rmc-lm", options: options)
            embeddingSize = try r.int("emsize", embeddingSize)
            memorySlots = try r.int("memslots", memorySlots)
            headSize = try r.int("headsize", headSize)
            heads = try r.int("numheads", heads)
            blocks = try r.int("numblocks", blocks)
            attentionMLPLayers = try r.int("attmlplayers", attentionMLPLayers)
            keySize = try r.int("keysize", keySize)
            if let s = options["gatestyle"] {
                guard let g = RelationalMemory.GateStyle(rawValue: s) else {
                    throw ModelError("rmc-lm: gatestyle must be unit, memory or none, got \"\(s)\"")
                }
                gateStyle = g
            }
            forgetBias = try r.real("forgetbias", forgetBias)
            inputBias = try r.real("inputbias", inputBias)
            dropout = try r.fraction("dropout", dropout)
            cutoffs = try r.list("cutoffs", cutoffs)
            sharedMLPWeight = try r.bool("shared-mlp", sharedMLPWeight)
            if let bad = cutoffs.first(where: { $0 >= vocabularySize }) {
                throw ModelError("rmc-lm: cutoff \(bad) is not below the vocabulary size \(vocabularySize); use smaller cutoffs or none")
            }
            if cutoffs != cutoffs.sorted() || Set(cutoffs).count != cutoffs.count {
                throw ModelError("rmc-lm: cutoffs must increase, got \(cutoffs.map(String.init).joined(separator: ","))")
            }
        }

        var options: [String: String] {
            ["emsize": "\(embeddingSize)", "memslots": "\(memorySlots)", "headsize": "\(headSize)", "numheads": "\(heads)",
             "numblocks": "\(blocks)", "attmlplayers": "\(attentionMLPLayers)", "keysize": "\(keySize)",
             "gatestyle": gateStyle.rawValue, "forgetbias": "\(forgetBias)", "inputbias": "\(inputBias)",
             "dropout": "\(dropout)", "cutoffs": cutoffs.isEmpty ? "none" : cutoffs.map(String.init).joined(separator: ","),
             "shared-mlp": "\(sharedMLPWeight)"]
        }

        var core: RelationalMemory.Configuration {
            .init(inputSize: embeddingSize, memorySlots: memorySlots, headSize: headSize, heads: heads, blocks: blocks,
                  keySize: keySize, attentionMLPLayers: attentionMLPLayers, gateStyle: gateStyle,
                  forgetBias: forgetBias, inputBias: inputBias, sharedMLPWeight: sharedMLPWeight)
        }
    }

    public let configuration: Configuration
    public let encoder: Embedding
    public let core: RelationalMemory
    /// The reference's `output_to_embed_decoder`: the flattened memory down to emsize.
    public let outputProjection: Linear
    public let dropout: Dropout
    /// The tied decoder's bias (full softmax only).
    public var decoderBias: Tensor?
    public let adaptiveSoftmax: AdaptiveLogSoftmax?

    public init(_ c: Configuration, dtype: DType = .float32) {
        configuration = c
        // PyTorch's defaults, as the reference leaves them: N(0, 1) embedding, uniform ±1/√fan-in Linear layers.
        encoder = Embedding(c.vocabularySize, c.embeddingSize, dtype: dtype)
        core = RelationalMemory(c.core, dtype: dtype)
        outputProjection = Linear(core.outputSize, c.embeddingSize, dtype: dtype)
        dropout = Dropout(c.dropout)
        if c.cutoffs.isEmpty {
            decoderBias = Initializer.uniform(bound: 1 / Double(c.embeddingSize).squareRoot()).make([c.vocabularySize], dtype: dtype)
            adaptiveSoftmax = nil
        } else {
            adaptiveSoftmax = AdaptiveLogSoftmax(c.embeddingSize, vocabulary: c.vocabularySize, cutoffs: c.cutoffs, dtype: dtype)
        }
    }

    public func visit(_ v: inout ModuleVisitor) {
        v.child("token_to_input_encoder", encoder)
        v.child("rmc", core)
        v.child("output_to_embed_decoder", outputProjection)
        v.child("dropout", dropout)
        // The tied decoder owns only its bias: the embedding is reported once, so optimizers update it once.
        v.parameter("embed_to_logit_decoder.bias", &decoderBias)
        if let adaptiveSoftmax { v.child("criterion_adaptive", adaptiveSoftmax) }
    }

    public var modelName: String { "rmc-lm" }
    public var architecture: [String: String] { configuration.options }
    public var vocabularySize: Int { configuration.vocabularySize }
    public var stateBatchAxis: Int { 0 }

    /// The relational memory [batch, slots, memory size], from the identity.
    public func initialState(batch: Int) -> [Tensor] { [core.initialState(batch: batch, dtype: dtype)] }

    public func callAsFunction(_ tokens: Tensor, state: [Tensor]) -> (logits: Tensor, state: [Tensor]) {
        guard tokens.rank == 2 else { fail("RMCLanguageModel expects token ids [T, batch], got \(tokens.shape)") }
        guard state.count == 1 else {
            fail("RMCLanguageModel: the state is one memory tensor, got \(state.count); start from initialState(batch:)")
        }
        let (out, memory) = core(dropout(encoder(tokens)), memory: state[0])
        let hidden = dropout(outputProjection(out)).reshaped([-1, configuration.embeddingSize])
        let logits = adaptiveSoftmax?.logProbabilities(hidden) ?? (hidden.matmul(encoder.weight.T) + decoderBias!)
        return (logits, [memory])
    }
}
