import DEQ
import Solvers
import Tensors

/// Whole-model gradient checks for `deq gradcheck --model NAME`: a tiny float64 instance of each
/// model, its analytic gradient (through the implicit backward for DEQs) against central finite
/// differences of the solved output.
enum ModelGradchecks {
    static let all: [(name: String, summary: String, check: () throws -> GradcheckReport)] = [
        ("deq-toy", "z* = tanh(z W + x U + b), width 8, batch 2; gradients of every parameter and the input", deqToy),
    ]

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
