import Tensors

/// Jacobian regularisation (Bai et al., 2021): a Hutchinson estimate of ‖∂f/∂z‖²_F at the
/// equilibrium, from vector-Jacobian products with random normal vectors. E[‖εᵀJ‖²] = ‖J‖²_F for
/// ε ~ N(0, I); the estimate is divided by the number of entries of z, as the reference does.
public enum JacobianRegularization {
    /// A differentiable estimate (built with `createGraph`, so it can be added to a loss).
    /// - Parameters:
    ///   - output: f(z, x), recorded on the tape.
    ///   - input: the z that `output` was computed from (requires gradients).
    ///   - samples: random vectors to average over.
    ///   - generator: source of the random vectors (the global generator by default).
    public static func frobeniusEstimate(output: Tensor, input: Tensor, samples: Int = 1,
                                         generator: RandomGenerator? = nil) -> Tensor {
        var total: Tensor? = nil
        for _ in 0..<max(samples, 1) {
            let eps = Tensor.randn(output.shape, dtype: output.dtype, generator: generator)
            let vjp: Tensor
            do {
                vjp = try withGradients {
                    try grad(of: output, wrt: [input], cotangent: eps, retainGraph: true, createGraph: true)[0]
                }
            } catch {
                fatalError("Jacobian regularisation: the vector-Jacobian product failed: \(error)")
            }
            let term = vjp.square().sum()
            total = total.map { $0 + term } ?? term
        }
        return total! / Double(max(samples, 1) * max(input.count, 1))
    }
}
