import DEQ
import NN
import Solvers
import Tensors

/// Whole-model gradient checks, by name (`deq gradcheck --model NAME` runs them; a new model adds its entry here): a tiny float64 instance of each
/// model, its analytic gradient (through the implicit backward for DEQs) against central finite
/// differences of the solved output.
public enum ModelGradchecks {
    public static let all: [(name: String, summary: String, check: @Sendable () throws -> CustomStringConvertible & Sendable, passed: @Sendable (Any) -> Bool)] = [
        ("deq-toy", "z* = tanh(z W + x U + b), width 8, batch 2; gradients of every parameter and the input",
         deqToy, { ($0 as! GradcheckReport).passed }),
        ("deq-transformer", "DEQ-Transformer, vocabulary 11 (adaptive input and softmax, cutoff 5, tied), d 8, 2 heads, memory 3, batch 2 x 4 tokens; every parameter",
         deqTransformer, { ($0 as! ModelGradcheckReport).passed }),
        ("deq-trellisnet", "DEQ-TrellisNet, vocabulary 11, embedding 3, nhid 2 + nout 3, tied, batch 2 x 5 tokens after a random history; every parameter",
         deqTrellisNet, { ($0 as! ModelGradcheckReport).passed }),
        ("adaptive-span", "adaptive-span Transformer, vocabulary 7, d 4, 2 heads, 2 layers, span 72 trimmed to 8 by learned spans, 2 blocks of 2 x 3 tokens; every parameter, span ratios included",
         { try AdaptiveSpanTransformer.gradcheckTiny() }, { ($0 as! ModelGradcheckReport).passed }),
        ("adaptive-span-persistent", "the same with all-attention layers: 4 persistent memory vectors per head, no feed-forward",
         { try AdaptiveSpanTransformer.gradcheckTiny(persistentMemory: 4) }, { ($0 as! ModelGradcheckReport).passed }),
        ("rmc-lm", "RMC LM, vocabulary 11, emsize 6, 2 heads of 3 (keys 2), 2 blocks, 2 MLP layers, batch 2 x 3 tokens: unit gates with 1 slot and a full tied softmax, memory gates with 4 slots and an adaptive softmax (cutoff 5); every parameter, tolerance 1e-6",
         rmcLanguageModel, { ($0 as! RMCGradcheckReports).passed }),
        ("rezero-transformer", "char-transformer with ReZero layers (no LayerNorm), vocabulary 7, d 8, 2 heads, 2 layers, residual weights 0.5 and -0.7, batch 2 x 5 tokens; every parameter",
         rezeroTransformer, { ($0 as! ModelGradcheckReport).passed }),
    ]

    /// The two RMC LM configurations' reports.
    public struct RMCGradcheckReports: CustomStringConvertible, Sendable {
        var reports: [(String, ModelGradcheckReport)]
        public var passed: Bool { reports.allSatisfy { $0.1.passed } }
        public var description: String { reports.map { "\($0.0):\n\($0.1)" }.joined(separator: "\n") }
    }

    static func rmcLanguageModel() throws -> RMCGradcheckReports {
        var reports: [(String, ModelGradcheckReport)] = []
        for (slots, gate, cutoffs) in [(1, RelationalMemory.GateStyle.unit, [Int]()), (4, .memory, [5])] {
            RandomGenerator.manualSeed(UInt64(7 + slots))
            var c = RMCLanguageModel.Configuration(vocabularySize: 11)
            (c.embeddingSize, c.memorySlots, c.headSize, c.heads, c.keySize) = (6, slots, 3, 2, 2)
            (c.blocks, c.attentionMLPLayers, c.gateStyle, c.dropout, c.cutoffs) = (2, 2, gate, 0, cutoffs)
            let model = RMCLanguageModel(c, dtype: .float64)
            // The reference's N(0, 1) tied embedding makes logits of size ~10 whose softmax saturates;
            // smaller rows keep every gradient well above the finite-difference noise.
            initialize(model.encoder.weight, with: .normal(std: 0.3))
            let tokens = Tensor.randint(0, 11, [3, 2]), targets = Tensor.randint(0, 11, [3, 2])
            let memory = model.initialState(batch: 2)[0] + Tensor.randn([2, slots, 6], std: 0.3, dtype: .float64)
            let report = try gradcheck(model, tolerance: 1e-6) {
                crossEntropy(model(tokens, state: [memory]).logits, targets.flattened())
            }
            reports.append(("\(slots) slot\(slots == 1 ? "" : "s"), \(gate.rawValue) gates, \(cutoffs.isEmpty ? "full softmax" : "adaptive softmax")", report))
        }
        return RMCGradcheckReports(reports: reports)
    }

    /// Solves both directions to 1e-12 so that finite differences of the solved loss are exact.
    static var tightOptions: DEQOptions {
        DEQOptions(forwardSolver: .anderson(window: 5), forwardIterations: 400, forwardTolerance: 1e-12,
                   stopMode: .absolute,
                   backward: .implicit(solver: .anderson(window: 5), iterations: 400, tolerance: 1e-12),
                   onFailure: .stop)
    }

    static func deqTransformer() throws -> ModelGradcheckReport {
        RandomGenerator.manualSeed(5)
        let model = DEQTransformerLM(.init(vocabulary: 11, modelSize: 8, heads: 2, feedForward: 16, memoryLength: 3,
                                           dropout: 0, cutoffs: [5], divisor: 4), options: tightOptions, dtype: .float64)
        let tokens = Tensor.randint(0, 11, [2, 4]), targets = Tensor.randint(0, 11, [2, 4])
        let memory = DEQTransformerLM.Memory(states: Tensor.randn([2, 3, 8], std: 0.5, dtype: .float64),
                                             injections: Tensor.randn([2, 3, 24], std: 0.5, dtype: .float64))
        return try gradcheck(model) { try model.loss(tokens, targets: targets, memory: memory).loss }
    }

    static func deqTrellisNet() throws -> ModelGradcheckReport {
        RandomGenerator.manualSeed(6)
        let model = DEQTrellisNetLM(.init(vocabulary: 11, embeddingSize: 3, hiddenSize: 2, outputSize: 3, dropout: 0, tied: true),
                                    options: tightOptions, dtype: .float64)
        let tokens = Tensor.randint(0, 11, [2, 5]), targets = Tensor.randint(0, 11, [2, 5])
        let history = Tensor.randn([2, 10, 1], std: 0.5, dtype: .float64)
        return try gradcheck(model) { try model.loss(tokens, targets: targets, history: history) }
    }

    static func rezeroTransformer() throws -> ModelGradcheckReport {
        RandomGenerator.manualSeed(7)
        let model = CharTransformerLM(.init(vocabulary: 7, layers: 2, modelSize: 8, heads: 2, feedForward: 12, dropout: 0,
                                            norm: .rezero, activation: .gelu), dtype: .float64)
        // At their initial 0 the residual weights would zero every gradient inside the layers.
        for (layer, alpha) in zip(model.stack.layers, [0.5, -0.7]) { (layer as! RZTXEncoderLayer).resweight.assign(Tensor.full([1], alpha, dtype: .float64)) }
        let tokens = Tensor.randint(0, 7, [5, 2]), targets = Tensor.randint(0, 7, [5, 2])
        return try gradcheck(model) { model.loss(tokens, targets: targets) }
    }

    public static var names: [String] { all.map(\.name) }

    /// A small contractive DEQ solved to 1e-13, with the implicit backward solved to 1e-13.
    static func deqToy() throws -> GradcheckReport {
        let g = RandomGenerator(seed: 3)
        let n = 8
        let inputs = [
            Tensor.randn([n, n], std: 0.25 / Double(n).squareRoot(), dtype: .float64, generator: g),
            Tensor.randn([4, n], std: 0.5, dtype: .float64, generator: g),
            Tensor.randn([n], std: 0.1, dtype: .float64, generator: g),
            Tensor.randn([2, 4], dtype: .float64, generator: g),
        ]
        let options = DEQOptions(forwardSolver: .anderson(window: 5), forwardIterations: 300, forwardTolerance: 1e-13,
                                 stopMode: .absolute,
                                 backward: .implicit(solver: .anderson(window: 5), iterations: 300, tolerance: 1e-13),
                                 onFailure: .stop)
        return try gradcheck({ p in
            let layer = DEQLayer(name: "deq-toy", options: options)
            return try! layer({ z, x in (z.matmul(p[0]) + x.matmul(p[1]) + p[2]).tanh() }, input: p[3],
                              initial: Tensor.zeros([2, n], dtype: .float64))
        }, inputs: inputs, tolerance: 1e-5)
    }
}
