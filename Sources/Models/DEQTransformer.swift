import DEQ
import NN
import Tensors

/// The DEQ-Transformer language model (Bai, Kolter & Koltun, 2019) as its authors' code defines
/// it (locuslab/deq, `DEQ-Sequence/models/deq_transformer.py`): one weight-tied Transformer-XL
/// block whose fixed point is the sequence's hidden state.
///
/// z* = f(z*; u, memory) with u = W_inj x + b_inj [B, T, 3d] the injection of the (adaptive,
/// √d-scaled) embedding x into the block's query/key/value pre-activations, and f the
/// ``DEQTransformerCell``. The memory holds the previous `memoryLength` positions' equilibrium
/// states and their injections (both detached, as in Transformer-XL); the output goes through
/// Transformer-XL's projected adaptive softmax, tied to the embedding by default. Dropout sits at
/// the reference's sites: the embedding, the positional encodings, the attention probabilities
/// (`attentionDropout`), the attention output, both feed-forward activations, and the output.
public final class DEQTransformerLM: Module {
    public struct Configuration: Codable, Sendable, Equatable {
        public var vocabulary: Int
        public var modelSize: Int
        public var heads: Int
        public var feedForward: Int
        public var memoryLength: Int
        public var dropout: Double
        /// Dropout of the attention probabilities (the reference's `dropatt`).
        public var attentionDropout: Double
        /// Adaptive softmax cutoffs (empty for a plain softmax).
        public var cutoffs: [Int]
        /// The reference's `div_val`: 1 for one embedding table, k > 1 for adaptive input whose
        /// cluster i has size embeddingSize/k^i.
        public var divisor: Int
        /// The reference's `d_embed` (nil: the model size).
        public var embeddingSize: Int?
        /// The softmax's output layers share the embedding tables (the reference's `tie_weights`).
        public var tied: Bool
        /// Per cluster, whether the softmax's projection shares the embedding's (`tie_projs`; nil:
        /// the reference training script's choice, false for the head and true for every tail cluster).
        public var tiedProjections: [Bool]?
        /// Weight normalisation of every projection of the block (`wnorm`).
        public var weightNormed: Bool
        /// The pre-norm block (`pre_lnorm`).
        public var preNorm: Bool
        /// Keys further back than this are masked (`local_size`; the reference's 0 means 1000).
        public var localSize: Int

        public init(vocabulary: Int, modelSize: Int = 128, heads: Int = 4, feedForward: Int = 512,
                    memoryLength: Int = 64, dropout: Double = 0.1, attentionDropout: Double = 0,
                    cutoffs: [Int] = [], divisor: Int = 4, embeddingSize: Int? = nil, tied: Bool = true,
                    tiedProjections: [Bool]? = nil, weightNormed: Bool = true, preNorm: Bool = false,
                    localSize: Int = 1000) {
            self.vocabulary = vocabulary
            self.modelSize = modelSize
            self.heads = heads
            self.feedForward = feedForward
            self.memoryLength = memoryLength
            self.dropout = dropout
            self.attentionDropout = attentionDropout
            self.cutoffs = cutoffs
            self.divisor = divisor
            self.embeddingSize = embeddingSize
            self.tied = tied
            self.tiedProjections = tiedProjections
            self.weightNormed = weightNormed
            self.preNorm = preNorm
            self.localSize = localSize
        }

        /// The projection ties in effect: the reference script's [false, true, true, ...] unless set.
        public var projectionTies: [Bool] {
            tiedProjections ?? [false] + Array(repeating: true, count: cutoffs.count)
        }
    }

    /// The previous segments' equilibrium states [B, M, d] and injections [B, M, 3d].
    public struct Memory {
        public var states: Tensor
        public var injections: Tensor
        public init(states: Tensor, injections: Tensor) {
            self.states = states
            self.injections = injections
        }
        public var length: Int { states.shape[1] }
    }

    public let configuration: Configuration
    public let embedding: AdaptiveEmbedding
    public let inputDropout: VariationalDropout
    /// The reference's `inject_conv`: x [B, T, d] → u [B, T, 3d].
    public let injection: Linear
    public let cell: DEQTransformerCell
    public let outputDropout: VariationalDropout
    public let softmax: ProjectedAdaptiveLogSoftmax
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
        // Initialisation as the reference's training script (init normal, std 0.01).
        embedding = AdaptiveEmbedding(c.vocabulary, d, embeddingSize: c.embeddingSize, cutoffs: c.cutoffs,
                                      divisor: c.divisor, std: 0.01, dtype: dtype)
        inputDropout = VariationalDropout(c.dropout, timeAxis: 1)
        injection = Linear(d, 3 * d, weightInit: .normal(std: 0.01), dtype: dtype)
        injection.bias = Initializer.zeros.make([3 * d], dtype: dtype)
        cell = DEQTransformerCell(modelSize: d, heads: c.heads, feedForward: c.feedForward, dropout: c.dropout,
                                  attentionDropout: c.attentionDropout, weightNormed: c.weightNormed,
                                  preNorm: c.preNorm, localSize: c.localSize, dtype: dtype)
        // The reference drops the output [B, d, T] with a mask over (sequence, position), shared
        // by every feature: in our [B, T, d] layout the shared axis is 2.
        outputDropout = VariationalDropout(c.dropout, timeAxis: 2)
        softmax = ProjectedAdaptiveLogSoftmax(vocabulary: c.vocabulary, hiddenSize: d, embeddingSize: c.embeddingSize,
                                              cutoffs: c.cutoffs, divisor: c.divisor,
                                              tiedTo: c.tied ? embedding : nil, tieProjections: c.projectionTies,
                                              std: 0.01, dtype: dtype)
        deq = DEQLayer(name: "deq-transformer", options: options)
    }

    public func visit(_ v: inout ModuleVisitor) {
        v.child("word_emb", embedding)
        v.child("iodrop", inputDropout)
        v.child("inject_conv", injection)
        v.child("func", cell)
        v.child("output_drop", outputDropout)
        v.child("crit", softmax)
    }

    /// The weight-tied block f(z) given the injections [B, M + T, 3d] of memory and segment and the
    /// memory's states, for callers outside the model that solve or study its fixed point
    /// directly (the solver benchmark suite, the reference check); z is [B, T, d]. Dropout inside
    /// f follows the model's mode and held masks.
    public func equilibriumMap(memory: Tensor?) -> (_ z: Tensor, _ injections: Tensor) -> Tensor {
        { [cell] z, u in cell(z, injection: u, memory: memory) }
    }

    /// The injections u [B, T, 3d] of a segment of tokens [B, T] (input dropout applied).
    public func injections(_ tokens: Tensor) -> Tensor {
        injection(inputDropout(embedding(tokens)))
    }

    /// Hidden states [B, T, d] of a segment of tokens [B, T] and the memory for the next segment.
    public func hidden(_ tokens: Tensor, memory: Memory?) throws(DEQError) -> (hidden: Tensor, memory: Memory) {
        guard tokens.rank == 2 else { fail("DEQTransformerLM expects tokens [batch, time], got \(tokens.shape)") }
        let segment = injections(tokens)
        cell.resetMasks()
        let past = memory.flatMap { $0.length > 0 ? $0 : nil }
        let u = past.map { Tensor.concat([$0.injections, segment], axis: 1) } ?? segment
        let z0 = Tensor.zeros([tokens.shape[0], tokens.shape[1], configuration.modelSize], dtype: segment.dtype)
        let z = try deq(equilibriumMap(memory: past?.states), input: u, initial: z0)
        let states = past.map { Tensor.concat([$0.states, z.detached()], axis: 1) } ?? z.detached()
        let keep = min(memoryLength, states.shape[1])
        let start = states.shape[1] - keep
        return (z, Memory(states: states.sliced(1, start), injections: u.detached().sliced(1, start)))
    }

    /// Mean negative log-likelihood of `targets` [B, T] given `tokens` [B, T], and the next memory.
    public func loss(_ tokens: Tensor, targets: Tensor, memory: Memory?) throws(DEQError) -> (loss: Tensor, memory: Memory) {
        let (h, mem) = try hidden(tokens, memory: memory)
        return (softmax(outputDropout(h), targets: targets.reshaped([-1])).loss, mem)
    }

    /// An empty memory for `batch` sequences.
    public func emptyMemory(batch: Int) -> Memory {
        let dtype = injection.weight.dtype
        return Memory(states: Tensor.zeros([batch, 0, configuration.modelSize], dtype: dtype),
                      injections: Tensor.zeros([batch, 0, 3 * configuration.modelSize], dtype: dtype))
    }
}

extension DEQTransformerLM: EquilibriumLanguageModel {
    public static let optionKeys = ["d-model", "n-head", "d-inner", "mem-len", "dropout", "dropatt", "cutoffs", "div-val",
                                    "d-embed", "tied", "tie-projs", "wnorm", "pre-lnorm", "local-size",
                                    "solver", "tolerance", "jac-loss-weight"]

    /// Builds the model from the reference script's option names (`d-model`, `n-head`, `d-inner`,
    /// `mem-len`, `dropout`, `dropatt`, `cutoffs` as "2000,10000", `div-val`, `d-embed`, `tied`,
    /// `tie-projs` as "false,true,true", `wnorm`, `pre-lnorm`, `local-size`) and the solver's
    /// (`solver`, `tolerance`, `jac-loss-weight`).
    public convenience init(vocabularySize: Int, options: [String: String]) throws(ModelError) {
        let c = try DEQTransformerLM.configuration(vocabularySize: vocabularySize, options: options)
        let r = OptionReader(model: "deq-transformer", options: options)
        self.init(c, options: try r.equilibriumOptions())
        architectureOptions = options.filter { DEQTransformerLM.optionKeys.contains($0.key) }
    }

    /// The configuration the options describe, with every value checked.
    public static func configuration(vocabularySize: Int, options: [String: String]) throws(ModelError) -> Configuration {
        let r = OptionReader(model: "deq-transformer", options: options)
        let d = try r.int("d-model", 128)
        var c = Configuration(vocabulary: vocabularySize, modelSize: d, heads: try r.int("n-head", 4),
                              feedForward: try r.int("d-inner", 512), memoryLength: try r.count("mem-len", 64),
                              dropout: try r.fraction("dropout", 0.1), attentionDropout: try r.fraction("dropatt", 0),
                              cutoffs: try r.list("cutoffs", vocabularySize > 20000 ? [2000, 10000] : []),
                              divisor: try r.int("div-val", 4), tied: try r.bool("tied", true),
                              weightNormed: try r.bool("wnorm", true), preNorm: try r.bool("pre-lnorm", false),
                              localSize: try r.int("local-size", 1000))
        let e = try r.int("d-embed", d)
        c.embeddingSize = e == d ? nil : e
        if let s = options["tie-projs"] {
            let flags = s.split(separator: ",").map { Bool($0.trimmingCharacters(in: .whitespaces)) }
            guard flags.count == c.cutoffs.count + 1, flags.allSatisfy({ $0 != nil }) else {
                throw ModelError("deq-transformer: tie-projs must list true or false for each of the \(c.cutoffs.count + 1) clusters (e.g. false,true,true), got \"\(s)\"")
            }
            c.tiedProjections = flags.map { $0! }
        }
        guard c.modelSize % c.heads == 0 else {
            throw ModelError("deq-transformer: d_model \(c.modelSize) must be a multiple of n_head \(c.heads)")
        }
        if let last = c.cutoffs.last, last >= vocabularySize {
            throw ModelError("deq-transformer: cutoffs \(c.cutoffs) must stay below the vocabulary size \(vocabularySize); set smaller ones with the cutoffs key of a --config file (e.g. cutoffs: 2000,10000), or cutoffs: none for a plain softmax")
        }
        do { try AdaptiveLogSoftmax.validate(cutoffs: c.cutoffs, vocabulary: vocabularySize) } catch {
            throw ModelError("deq-transformer: \(error.message); set them with the cutoffs key of a --config file, or cutoffs: none for a plain softmax")
        }
        return c
    }

    public var modelName: String { "deq-transformer" }
    public var architecture: [String: String] {
        let c = configuration
        var a = architectureOptions
        a["d-model"] = "\(c.modelSize)"; a["n-head"] = "\(c.heads)"
        a["d-inner"] = "\(c.feedForward)"; a["mem-len"] = "\(c.memoryLength)"
        a["dropout"] = "\(c.dropout)"; a["dropatt"] = "\(c.attentionDropout)"; a["div-val"] = "\(c.divisor)"
        a["cutoffs"] = c.cutoffs.isEmpty ? "none" : c.cutoffs.map(String.init).joined(separator: ",")
        a["d-embed"] = "\(c.embeddingSize ?? c.modelSize)"; a["tied"] = "\(c.tied)"
        a["tie-projs"] = c.projectionTies.map(String.init).joined(separator: ",")
        a["wnorm"] = "\(c.weightNormed)"; a["pre-lnorm"] = "\(c.preNorm)"; a["local-size"] = "\(c.localSize)"
        return a
    }
    public var vocabularySize: Int { configuration.vocabulary }
    /// The memory: states [batch, M, d] and injections [batch, M, 3d].
    public var stateBatchAxis: Int { 0 }

    public func initialState(batch: Int) -> [Tensor] {
        let m = emptyMemory(batch: batch)
        return [m.states, m.injections]
    }

    /// Tokens [T, batch] (time-major, as the trainer batches them) to log-probabilities
    /// [T·batch, vocabulary] and the next memory.
    public func callAsFunction(_ tokens: Tensor, state: [Tensor]) -> (logits: Tensor, state: [Tensor]) {
        let memory = state.count == 2 ? Memory(states: state[0], injections: state[1]) : nil
        let (h, next): (Tensor, Memory)
        do { (h, next) = try hidden(tokens.T.contiguous(), memory: memory) } catch {
            fail("deq-transformer: \(error)")
        }
        let rows = outputDropout(h).transposed(0, 1).reshaped([-1, configuration.modelSize])
        return (softmax.logProbabilities(rows), [next.states, next.injections])
    }
}
