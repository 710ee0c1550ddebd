import DEQ
import Solvers
import Tensors

/// The small contractive DEQ of the tests: z = tanh(z W + x U + b), width 16, batch 4, float64.
/// W is scaled so its spectral norm stays near 0.5, which makes f a contraction in z.
struct ToyDEQ {
    var w: Tensor
    var u: Tensor
    var b: Tensor
    var x: Tensor
    static let width = 16, inputs = 8, batch = 4

    init(seed: UInt64 = 1) {
        let g = RandomGenerator(seed: seed)
        let n = ToyDEQ.width
        w = Tensor.randn([n, n], std: 0.5 / (2 * Double(n).squareRoot()), dtype: .float64, generator: g)
        u = Tensor.randn([ToyDEQ.inputs, n], std: 0.5, dtype: .float64, generator: g)
        b = Tensor.randn([n], std: 0.1, dtype: .float64, generator: g)
        x = Tensor.randn([ToyDEQ.batch, ToyDEQ.inputs], dtype: .float64, generator: g)
    }

    var parameters: [Tensor] { [w, u, b, x] }

    static func cell(_ w: Tensor, _ u: Tensor, _ b: Tensor) -> (Tensor, Tensor) -> Tensor {
        { z, x in (z.matmul(w) + x.matmul(u) + b).tanh() }
    }

    /// Options that solve both directions to machine precision.
    static func tightOptions(backward: DEQBackward = .implicit(solver: .anderson(window: 5), iterations: 300, tolerance: 1e-13)) -> DEQOptions {
        DEQOptions(forwardSolver: .anderson(window: 5), forwardIterations: 300, forwardTolerance: 1e-13,
                   stopMode: .absolute, backward: backward, onFailure: .stop)
    }

    /// z* as a function of (W, U, b, x) through a DEQ layer with the given options.
    static func equilibrium(_ options: DEQOptions) -> ([Tensor]) -> Tensor {
        { p in
            let layer = DEQLayer(name: "toy", options: options)
            let z0 = Tensor.zeros([batch, width], dtype: .float64)
            return try! layer(cell(p[0], p[1], p[2]), input: p[3], initial: z0)
        }
    }
}
