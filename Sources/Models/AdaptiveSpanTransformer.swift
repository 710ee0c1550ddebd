import NN
import Tensors

/// The sequential Transformer of Sukhbaatar et al. (2019) — "Adaptive Attention Span in
/// Transformers" and, with persistent memory and no feed-forward layer, "Augmenting
/// Self-attention with Persistent Memory" — as facebookresearch/adaptive-span's `TransformerSeq`
/// defines it: token embedding, post-norm layers of ``SequentialAttention`` over [cache; block]
/// with key position embeddings shared by all layers, a ReLU feed-forward block (absent with
/// persistent memory), and a linear decoder. Each layer caches the hidden states its next block
/// attends to; with an adaptive span the cache and the keys shrink to the learned spans.
///
/// Parameter names are the reference's `state_dict` names (`in_emb.weight`, `key_pe`,
/// `layers.0.attn.proj_query.weight`, `layers.0.attn.attn.adaptive_span._mask.current_val`, ...).
public final class AdaptiveSpanTransformer: LanguageModel {
    public struct Configuration: Equatable, Sendable {
        public var vocabularySize: Int
        public var hiddenSize = 256
        public var innerHiddenSize = 1024
        public var layers = 8
        public var heads = 4
        public var span = 1024
        public var dropout = 0.0
        public var embeddingDropout = 0.0
        public var adaptiveSpan: Bool = true
        public var spanLossWeight = 2e-6
        public var ramp = 32
        public var initialRatio = 0.0
        public var adaptiveCache = true
        /// Persistent memory vectors per head (all-attention); > 0 removes the feed-forward block.
        public var persistentMemory = 0

        public init(vocabularySize: Int) { self.vocabularySize = vocabularySize }

        /// The option keys this model reads: the reference's flag names.
        public static let keys = ["hid-sz", "inner-hid-sz", "nlayers", "nheads", "attn-span", "dropout", "emb-dropout",
                                  "adapt-span", "adapt-span-loss", "adapt-span-ramp", "adapt-span-init", "adapt-span-cache",
                                  "pers-mem-size"]

        public init(vocabularySize: Int, options: [String: String]) throws(ModelError) {
            self.init(vocabularySize: vocabularySize)
            let reader = OptionReader(model: "adaptive-span", options: options)
            hiddenSize = try reader.int("hid-sz", hiddenSize)
            innerHiddenSize = try reader.int("inner-hid-sz", innerHiddenSize)
            layers = try reader.int("nlayers", layers)
            heads = try reader.int("nheads", heads)
            span = try reader.int("attn-span", span)
            dropout = try reader.fraction("dropout", dropout)
            embeddingDropout = try reader.fraction("emb-dropout", embeddingDropout)
            adaptiveSpan = try reader.bool("adapt-span", adaptiveSpan)
            spanLossWeight = try reader.number("adapt-span-loss", spanLossWeight)
            ramp = try reader.int("adapt-span-ramp", ramp)
            initialRatio = try reader.number("adapt-span-init", initialRatio)
            adaptiveCache = try reader.bool("adapt-span-cache", adaptiveCache)
            let memory = try reader.number("pers-mem-size", Double(persistentMemory))
            guard memory == memory.rounded() else { throw ModelError("adaptive-span: pers-mem-size must be a whole number, got \(memory)") }
            persistentMemory = Int(memory)
            guard hiddenSize % heads == 0 else {
                throw ModelError("adaptive-span: hid-sz (\(hiddenSize)) must be divisible by nheads (\(heads))")
            }
            guard initialRatio <= 1 else { throw ModelError("adaptive-span: adapt-span-init is a ratio of the span in [0, 1], got \(initialRatio)") }
        }

        var options: [String: String] {
            ["hid-sz": "\(hiddenSize)", "inner-hid-sz": "\(innerHiddenSize)", "nlayers": "\(layers)", "nheads": "\(heads)",
             "attn-span": "\(span)", "dropout": "\(dropout)", "emb-dropout": "\(embeddingDropout)",
             "adapt-span": "\(adaptiveSpan)", "adapt-span-loss": "\(spanLossWeight)", "adapt-span-ramp": "\(ramp)",
             "adapt-span-init": "\(initialRatio)", "adapt-span-cache": "\(adaptiveCache)", "pers-mem-size": "\(persistentMemory)"]
        }
    }

    /// One post-norm layer: h ← LN₁(h + Attn(h, [cache; h])); h ← LN₂(h + FF(h)) (no FF with
    /// persistent memory).
    public final class Layer: Module {
        public let attn: SequentialAttention
        public let norm1: LayerNorm
        public let fc1: Linear?
        public let fc2: Linear?
        public let ffDropout: Dropout
        public let norm2: LayerNorm?

        init(_ c: Configuration, dtype: DType) {
            attn = SequentialAttention(c.hiddenSize, heads: c.heads, span: c.span, dropout: c.dropout,
                                       adaptiveSpan: c.adaptiveSpan ? .init(ramp: c.ramp, initialRatio: c.initialRatio, adaptsCache: c.adaptiveCache) : nil,
                                       persistentMemory: c.persistentMemory, dtype: dtype)
            norm1 = LayerNorm(c.hiddenSize, dtype: dtype)
            let feedForward = c.persistentMemory == 0
            fc1 = feedForward ? Linear(c.hiddenSize, c.innerHiddenSize, dtype: dtype) : nil
            fc2 = feedForward ? Linear(c.innerHiddenSize, c.hiddenSize, dtype: dtype) : nil
            ffDropout = Dropout(c.dropout)
            norm2 = feedForward ? LayerNorm(c.hiddenSize, dtype: dtype) : nil
        }

        public func visit(_ v: inout ModuleVisitor) {
            v.child("attn", attn)
            v.child("norm1", norm1)
            if let fc1 { v.child("ff.fc1", fc1) }
            if let fc2 { v.child("ff.fc2", fc2) }
            v.child("ff.dropout", ffDropout)
            if let norm2 { v.child("norm2", norm2) }
        }

        func callAsFunction(_ h: Tensor, cache: Tensor, keyPositions: Tensor) -> Tensor {
            let context = Tensor.concat([cache, h], axis: 1)
            let attended = norm1(h + attn(h, context: context, keyPositions: keyPositions))
            guard let fc1, let fc2, let norm2 else { return attended }
            return norm2(attended + fc2(ffDropout(fc1(attended).relu())))
        }
    }

    public let configuration: Configuration
    public let inEmbedding: Embedding
    public let outEmbedding: Linear
    public let embeddingDropout: Dropout
    /// Key position embeddings [1, head, span], shared by every layer.
    public var keyPositions: Tensor
    public let layers: [Layer]
    /// The span regulariser of the last training forward (added to the objective, not the loss).
    public private(set) var auxiliaryLoss: Tensor?

    public init(_ c: Configuration, dtype: DType = .float32) {
        configuration = c
        inEmbedding = Embedding(c.vocabularySize, c.hiddenSize, weightInit: .normal(std: 1), dtype: dtype)
        outEmbedding = Linear(c.hiddenSize, c.vocabularySize, dtype: dtype)
        embeddingDropout = Dropout(c.embeddingDropout)
        keyPositions = Tensor.randn([1, c.hiddenSize / c.heads, c.span], dtype: dtype).requiringGrad()
        layers = (0..<c.layers).map { _ in Layer(c, dtype: dtype) }
    }

    public func visit(_ v: inout ModuleVisitor) {
        v.child("in_emb", inEmbedding)
        v.child("out_emb", outEmbedding)
        v.child("emb_dropout", embeddingDropout)
        v.parameter("key_pe", &keyPositions)
        v.children("layers", layers)
    }

    public var modelName: String { "adaptive-span" }
    public var architecture: [String: String] { configuration.options }
    public var vocabularySize: Int { configuration.vocabularySize }
    public var stateBatchAxis: Int { 0 }

    /// The hidden-state cache of each layer, [batch, cache size, hidden].
    public func initialState(batch: Int) -> [Tensor] {
        layers.map { Tensor.zeros([batch, $0.attn.cacheSize, configuration.hiddenSize], dtype: dtype) }
    }

    /// Logits [T·batch, vocabulary] (time-major rows) from token ids [T, batch], and the caches for
    /// the next block.
    public func callAsFunction(_ tokens: Tensor, state: [Tensor]) -> (logits: Tensor, state: [Tensor]) {
        guard tokens.rank == 2 else { fail("AdaptiveSpanTransformer expects token ids [T, batch], got \(tokens.shape)") }
        guard state.count == layers.count else {
            fail("AdaptiveSpanTransformer: the state needs one cache per layer (\(layers.count)), got \(state.count); start from initialState(batch:)")
        }
        let (logits, next) = forward(tokens.transposed(0, 1).contiguous(), caches: state)
        let v = configuration.vocabularySize
        return (logits.permuted(1, 0, 2).reshaped([-1, v]), next)
    }

    /// The reference's forward on batch-major ids [B, M]: logits [B, M, vocabulary] and the caches.
    public func forward(_ x: Tensor, caches: [Tensor]) -> (logits: Tensor, caches: [Tensor]) {
        let m = x.shape[1]
        var h = embeddingDropout(inEmbedding(x))
        var next: [Tensor] = []
        for (layer, cache) in zip(layers, caches) {
            let size = layer.attn.cacheSize
            if size > m {
                let kept = cache.sliced(1, max(0, cache.shape[1] - (size - m)))
                next.append(Tensor.concat([kept, h], axis: 1).detached())
            } else {
                next.append(h.sliced(1, m - size).detached())
            }
            h = layer(h, cache: cache, keyPositions: keyPositions)
        }
        auxiliaryLoss = isTraining ? spanLoss() : nil
        return (outEmbedding(embeddingDropout(h)), next)
    }

    /// Σ over layers of weight · S · mean(z) (nil without adaptive spans).
    public func spanLoss() -> Tensor? {
        let terms = layers.compactMap { $0.attn.adaptiveSpan.map { $0.spanLoss() * configuration.spanLossWeight } }
        return terms.isEmpty ? nil : terms.dropFirst().reduce(terms[0], +)
    }

    /// Keeps each span ratio in [0, 1]; call after every optimizer step, as the reference does.
    public func clampSpans() {
        for layer in layers { layer.attn.adaptiveSpan?.clampRatios() }
    }

    /// The learned span of every head, per layer, in positions (ratio × maximum span).
    public var spans: [[Double]] {
        layers.map { layer in
            guard let a = layer.attn.adaptiveSpan else { return [Double](repeating: Double(configuration.span), count: configuration.heads) }
            return a.ratio.scalars.map { $0 * a.maxSpan }
        }
    }
}
