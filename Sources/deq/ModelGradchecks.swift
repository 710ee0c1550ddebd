import DEQ
import Models
import NN
import Solvers
import Tensors

/// Whole-model gradient checks for `deq gradcheck --model NAME`: a tiny float64 instance of each
/// model, its analytic gradient (through the implicit backward for DEQs) against central finite
/// differences of the solved output.
enum ModelGradchecks {
    static let all: [(name: String, summary: String, check: () throws -> CustomStringConvertible & Sendable, passed: (Any) -> Bool)] = [
        ("deq-toy", "z* = tanh(z W + x U + b), width 8, batch 2; gradients of every parameter and the input",
         deqToy, { ($0 as! GradcheckReport).passed }),
        ("deq-transformer", "DEQ-Transformer, vocabulary 11 (adaptive input and softmax, cutoff 5, tied), d 8, 2 heads, memory 3, batch 2 x 4 tokens; every parameter",
         deqTransformer, { ($0 as! ModelGradcheckReport).passed }),
        ("deq-trellisnet", "DEQ-TrellisNet, vocabulary 11, embedding 6, hidden 4, batch 2 x 5 tokens; every parameter",
         deqTrellisNet, { ($0 as! ModelGradcheckReport).passed }),
    ]

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
        let model = DEQTrellisNetLM(.init(vocabulary: 11, embeddingSize: 6, hiddenSize: 4, dropout: 0),
                                    options: tightOptions, dtype: .float64)
        let tokens = Tensor.randint(0, 11, [2, 5]), targets = Tensor.randint(0, 11, [2, 5])
        return try gradcheck(model) { try model.loss(tokens, targets: targets) }
    }

    static var names: [String] { all.map(\.name) }

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
