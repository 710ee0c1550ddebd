import DEQ
import NN
import Tensors

/// The DEQ-Transformer language model (Bai, Kolter & Koltun, 2019): one weight-tied
/// Transformer-XL block whose fixed point is the sequence's hidden state.
///
/// f(z, x) = LN₂(h + FF(h)), h = LN₁(z + x + Attn(z + x; memory)), where x is the injected
/// (embedded) input, Attn is causal multi-head attention with Transformer-XL relative positions
/// over [memory; segment], and memory holds the equilibrium states of the previous `memoryLength`
/// positions (detached, as in Transformer-XL). The feed-forward weights are weight-normalised and
/// dropout inside f is variational: one mask per forward call, held across solver iterations.
public final class DEQTransformerLM: Module {
    public struct Configuration: Codable, Sendable, Equatable {
        public var vocabulary: Int
        public var modelSize: Int
        public var heads: Int
        public var feedForward: Int
        public var memoryLength: Int
        public var dropout: Double
        /// Adaptive input and softmax cutoffs (empty for a plain embedding and softmax).
        public var cutoffs: [Int]
        public var divisor: Int

        public init(vocabulary: Int, modelSize: Int = 128, heads: Int = 4, feedForward: Int = 512,
                    memoryLength: Int = 64, dropout: Double = 0.1, cutoffs: [Int] = [], divisor: Int = 4) {
            self.vocabulary = vocabulary
            self.modelSize = modelSize
            self.heads = heads
            self.feedForward = feedForward
            self.memoryLength = memoryLength
            self.dropout = dropout
            self.cutoffs = cutoffs
            self.divisor = divisor
        }
    }

    public let configuration: Configuration
    public let embedding: Layer
    public let injection: Linear
    public let attention: MultiHeadAttention
    public let norm1: LayerNorm
    public let norm2: LayerNorm
    public let feedForwardIn: WeightNorm<Linear>
    public let feedForwardOut: WeightNorm<Linear>
    public let cellDropout: VariationalDropout
    public let outputDropout: VariationalDropout
    /// Adaptive softmax when there are cutoffs, else a plain linear decoder and softmax.
    public let adaptiveSoftmax: AdaptiveLogSoftmax?
    public let decoder: Linear?
    public let deq: DEQLayer
    /// Extra options kept for checkpoints (solver settings).
    var architectureOptions: [String: String] = [:]
    /// Positions of memory kept for the next segment; starts at the configuration's and can be
    /// changed at inference time (`deq eval --mem-len`).
    public var memoryLength: Int

    /// Sets the memory kept for the next segment (`deq eval --mem-len`): 0 or more positions.
    public func setMemoryLength(_ length: Int) throws(ModelError) {
        guard length >= 0 else { throw ModelError("deq-transformer: mem-len must be 0 or more positions, got \(length)") }
        memoryLength = length
    }

    public init(_ c: Configuration, options: DEQOptions = DEQOptions(), dtype: DType = .float32) {
        configuration = c
        memoryLength = c.memoryLength
        let d = c.modelSize
        embedding = c.cutoffs.isEmpty
            ? Embedding(c.vocabulary, d, weightInit: .normal(std: 0.02), dtype: dtype)
            : AdaptiveEmbedding(c.vocabulary, d, cutoffs: c.cutoffs, divisor: c.divisor, dtype: dtype)
        injection = Linear(d, d, dtype: dtype)
        attention = MultiHeadAttention(d, heads: c.heads, causal: true, relative: true, dtype: dtype)
        norm1 = LayerNorm(d, dtype: dtype)
        norm2 = LayerNorm(d, dtype: dtype)
        feedForwardIn = WeightNorm(Linear(d, c.feedForward, dtype: dtype))
        feedForwardOut = WeightNorm(Linear(c.feedForward, d, dtype: dtype))
        // Masks are shared over time (axis 1 of [B, T, d]) and held while the solver iterates.
        cellDropout = VariationalDropout(c.dropout, timeAxis: 1, holdsMask: true)
        outputDropout = VariationalDropout(c.dropout, timeAxis: 1)
        adaptiveSoftmax = c.cutoffs.isEmpty ? nil
            : AdaptiveLogSoftmax(d, vocabulary: c.vocabulary, cutoffs: c.cutoffs, divisor: Double(c.divisor), dtype: dtype)
        decoder = c.cutoffs.isEmpty ? Linear(d, c.vocabulary, dtype: dtype) : nil
        deq = DEQLayer(name: "deq-transformer", options: options)
    }

    public func visit(_ v: inout ModuleVisitor) {
        v.child("embedding", embedding)
        v.child("injection", injection)
        v.child("attention", attention)
        v.child("norm1", norm1)
        v.child("norm2", norm2)
        v.child("ff1", feedForwardIn)
        v.child("ff2", feedForwardOut)
        v.child("cell_dropout", cellDropout)
        v.child("output_dropout", outputDropout)
        if let adaptiveSoftmax { v.child("softmax", adaptiveSoftmax) }
        if let decoder { v.child("decoder", decoder) }
    }

    /// The weight-tied block f(z, x) with the given memory.
    func cell(memory: Tensor?) -> (Tensor, Tensor) -> Tensor {
        { [attention, norm1, norm2, feedForwardIn, feedForwardOut, cellDropout] z, x in
            let input = z + x
            let h = norm1(input + attention(input, memory: memory))
            return norm2(h + cellDropout(feedForwardOut(feedForwardIn(h).relu())))
        }
    }

    /// The weight-tied block f(z, x) with the given memory, for callers outside the model that
    /// solve or study its fixed point directly (the solver benchmark suite, analyses); z and x
    /// are [B, T, d]. Dropout inside f follows the model's mode and held mask.
    public func equilibriumMap(memory: Tensor?) -> (Tensor, Tensor) -> Tensor { cell(memory: memory) }

    /// Hidden states [B, T, d] of a segment of tokens [B, T] and the memory for the next segment.
    public func hidden(_ tokens: Tensor, memory: Tensor?) throws(DEQError) -> (hidden: Tensor, memory: Tensor) {
        guard tokens.rank == 2 else { fail("DEQTransformerLM expects tokens [batch, time], got \(tokens.shape)") }
        let x = injection(embedding(tokens))
        cellDropout.resetMask()
        let z0 = Tensor.zeros(x.shape, dtype: x.dtype)
        let z = try deq(cell(memory: memory), input: x, initial: z0)
        let joined = memory.map { Tensor.concat([$0, z.detached()], axis: 1) } ?? z.detached()
        let keep = min(memoryLength, joined.shape[1])
        return (z, joined.sliced(1, joined.shape[1] - keep))
    }

    /// Mean negative log-likelihood of `targets` [B, T] given `tokens` [B, T], and the next memory.
    public func loss(_ tokens: Tensor, targets: Tensor, memory: Tensor?) throws(DEQError) -> (loss: Tensor, memory: Tensor) {
        let (h, mem) = try hidden(tokens, memory: memory)
        let out = outputDropout(h)
        if let adaptiveSoftmax {
            return (adaptiveSoftmax(out, targets: targets.reshaped([-1])).loss, mem)
        }
        let logits = decoder!(out).reshaped([-1, configuration.vocabulary])
        return (crossEntropy(logits, targets.reshaped([-1])), mem)
    }
}

extension DEQTransformerLM: EquilibriumLanguageModel {
    public static let optionKeys = ["d-model", "n-head", "d-inner", "mem-len", "dropout", "cutoffs", "div-val",
                                    "solver", "tolerance", "jac-loss-weight"]

    /// Builds the model from the reference script's option names (`d-model`, `n-head`, `d-inner`,
    /// `mem-len`, `dropout`, `cutoffs` as "2000,10000", `div-val`) and the solver's (`solver`,
    /// `tolerance`, `jac-loss-weight`).
    public convenience init(vocabularySize: Int, options: [String: String]) throws(ModelError) {
        let r = OptionReader(model: "deq-transformer", options: options)
        let c = Configuration(vocabulary: vocabularySize, modelSize: try r.int("d-model", 128), heads: try r.int("n-head", 4),
                              feedForward: try r.int("d-inner", 512), memoryLength: try r.int("mem-len", 64),
                              dropout: try r.fraction("dropout", 0.1),
                              cutoffs: try r.list("cutoffs", vocabularySize > 20000 ? [2000, 10000] : []),
                              divisor: try r.int("div-val", 4))
        guard c.modelSize % c.heads == 0 else {
            throw ModelError("deq-transformer: d_model \(c.modelSize) must be a multiple of n_head \(c.heads)")
        }
        if let last = c.cutoffs.last, last >= vocabularySize {
            throw ModelError("deq-transformer: cutoffs \(c.cutoffs) must stay below the vocabulary size \(vocabularySize); set smaller ones with the cutoffs key of a --config file (e.g. cutoffs: 2000,10000), or cutoffs: none for a plain softmax")
        }
        do { try AdaptiveLogSoftmax.validate(cutoffs: c.cutoffs, vocabulary: vocabularySize) } catch {
            throw ModelError("deq-transformer: \(error.message); set them with the cutoffs key of a --config file, or cutoffs: none for a plain softmax")
        }
        self.init(c, options: try r.equilibriumOptions())
        architectureOptions = options.filter { DEQTransformerLM.optionKeys.contains($0.key) }
    }

    public var modelName: String { "deq-transformer" }
    public var architecture: [String: String] {
        var a = architectureOptions
        a["d-model"] = "\(configuration.modelSize)"; a["n-head"] = "\(configuration.heads)"
        a["d-inner"] = "\(configuration.feedForward)"; a["mem-len"] = "\(configuration.memoryLength)"
        a["dropout"] = "\(configuration.dropout)"; a["div-val"] = "\(configuration.divisor)"
        a["cutoffs"] = configuration.cutoffs.isEmpty ? "none" : configuration.cutoffs.map(String.init).joined(separator: ",")
        return a
    }
    public var vocabularySize: Int { configuration.vocabulary }
    /// The memory [batch, M, d] of previous equilibrium states.
    public var stateBatchAxis: Int { 0 }

    public func initialState(batch: Int) -> [Tensor] {
        [Tensor.zeros([batch, 0, configuration.modelSize], dtype: injection.weight.dtype)]
    }

    /// Tokens [T, batch] (time-major, as the trainer batches them) to log-probabilities
    /// [T·batch, vocabulary] and the next memory.
    public func callAsFunction(_ tokens: Tensor, state: [Tensor]) -> (logits: Tensor, state: [Tensor]) {
        let memory = state.first.flatMap { $0.shape[1] > 0 ? $0 : nil }
        let (h, next): (Tensor, Tensor)
        do { (h, next) = try hidden(tokens.T.contiguous(), memory: memory) } catch {
            fail("deq-transformer: \(error)")
        }
        let rows = outputDropout(h).transposed(0, 1).reshaped([-1, configuration.modelSize])
        let logits = adaptiveSoftmax?.logProbabilities(rows) ?? decoder!(rows)
        return (logits, [next])
    }
}
