import Foundation
import Solvers
import Tensors

/// A deep equilibrium layer: its output is the fixed point z* = f(z*, x) of any function f of
/// the state z and the injected input x.
///
/// The forward pass finds z* with a solver and no tape, then applies f once more with the tape,
/// so the graph is one application of f deep however many iterations the solver took. The
/// backward pass solves the adjoint equation u = g + uᵀ ∂f/∂z(z*) (the implicit function
/// theorem), or one of the cheaper approximations in ``DEQBackward``, and sends u through that
/// single application of f to the parameters and to x. Memory does not grow with iterations.
///
/// ```swift
/// let deq = DEQLayer(name: "cell", options: DEQOptions(forwardIterations: 30))
/// let z = try deq({ z, x in (z.matmul(w) + x.matmul(u)).tanh() }, input: x, initial: Tensor.zeros([b, d]))
/// ```
public final class DEQLayer {
    public let name: String
    public var options: DEQOptions
    /// Statistics of the latest call (the backward fields once its backward pass has run).
    public private(set) var lastStats: DEQStats?
    /// The Jacobian regularisation term of the latest call, already multiplied by its weight;
    /// add it to the loss. `nil` when the weight is 0 or gradients are off.
    public private(set) var jacobianLoss: Tensor?
    /// Number of calls so far; errors and statistics name it.
    public private(set) var step = 0
    /// A backward failure under the `.stop` policy, raised by ``checkBackward()``.
    private var backwardFailure: DEQError?

    public init(name: String = "deq", options: DEQOptions = DEQOptions()) {
        self.name = name
        self.options = options
    }

    /// The equilibrium of `f` for input `x`, starting the solver from `z0`.
    ///
    /// `f` must treat the samples (the first axis of z) independently: each sample converges and
    /// stops on its own.
    public func callAsFunction(_ f: @escaping (_ z: Tensor, _ x: Tensor) -> Tensor, input x: Tensor,
                               initial z0: Tensor) throws(DEQError) -> Tensor {
        step += 1
        jacobianLoss = nil
        var stats = DEQStats(layer: name, step: step)
        if let n = options.unrolledSteps {
            return unrolled(f, x, z0, steps: n, stats: &stats)
        }

        // 1. Forward: the equilibrium, without the tape.
        let solverOptions = SolverOptions(tolerance: options.forwardTolerance, toleranceKind: options.stopMode,
                                          maxIterations: options.forwardIterations)
        let forward = withoutGradients {
            solve({ z in f(z, x) }, from: z0.detached(), method: options.forwardSolver, options: solverOptions)
        }
        stats.forwardIterations = forward.iterations
        stats.forwardEvaluations = forward.functionEvaluations
        stats.forwardResidual = forward.absoluteResidual.max() ?? 0
        stats.forwardRelativeResidual = forward.relativeResidual.max() ?? 0
        stats.forwardStatus = forward.status
        let converged = forward.sampleStatus.filter(\.isConverged).count
        stats.forwardConvergedShare = Double(converged) / Double(max(forward.sampleStatus.count, 1))
        lastStats = stats
        try report(forward.status, phase: "forward", residual: stats.forwardResidual)

        let zStar = forward.solution
        guard GradMode.isEnabled else { return zStar }

        // 2. One application of f with the tape, at z*.
        let zLeaf = zStar.requiringGrad()
        let newZ = f(zLeaf, x)
        guard newZ.requiresGrad else { return newZ }
        if options.jacobianRegularization > 0 {
            jacobianLoss = JacobianRegularization.frobeniusEstimate(output: newZ, input: zLeaf,
                                                                    samples: options.jacobianSamples)
                * options.jacobianRegularization
        }

        // 3. The output is newZ, with a backward that turns ∂L/∂z* into the adjoint u.
        let pullback: (Tensor) -> Tensor = { v in
            do {
                return try grad(of: newZ, wrt: [zLeaf], cotangent: v, retainGraph: true)[0]
            } catch {
                fatalError("DEQ layer '\(self.name)': the pullback of f failed: \(error)")
            }
        }
        let backwardMode = options.backward
        let factors = forward.inverseJacobian
        let callStep = step
        return Tensor.custom("deq(\(name))", inputs: [newZ], forward: { $0[0] }) { [weak self] g, _ in
            let u = withoutGradients {
                self?.adjoint(g, pullback: pullback, mode: backwardMode, factors: factors, step: callStep) ?? g
            }
            return [u]
        }
    }

    /// Plain backprop through `steps` applications of f (pre-training and comparisons).
    private func unrolled(_ f: (Tensor, Tensor) -> Tensor, _ x: Tensor, _ z0: Tensor, steps: Int,
                          stats: inout DEQStats) -> Tensor {
        var z = z0
        var previous = z0
        for _ in 0..<steps {
            previous = z
            z = f(z, x)
        }
        let r = (z.detached() - previous.detached()).norm().item
        stats.forwardIterations = steps
        stats.forwardEvaluations = steps
        stats.forwardResidual = r
        stats.forwardRelativeResidual = r / max(z.detached().norm().item, 1e-30)
        stats.forwardStatus = .limitReached
        lastStats = stats
        return z
    }

    /// Solves (or approximates) u = g + uᵀJ for the chosen backward mode.
    private func adjoint(_ g: Tensor, pullback: (Tensor) -> Tensor, mode: DEQBackward,
                         factors: LowRankInverse?, step: Int) -> Tensor {
        var stats = lastStats ?? DEQStats(layer: name, step: step)
        defer { lastStats = stats }
        switch mode {
        case .jacobianFree:
            stats.backwardStatus = .converged(iteration: 0)
            return g
        case .broydenReuse:
            stats.backwardStatus = .converged(iteration: 0)
            // H ≈ (J − I)⁻¹ = −I + U Vᵀ, so (I − J)⁻ᵀ g = −Hᵀ g = g − V (Uᵀ g).
            return factors?.applyNegatedTranspose(g) ?? g
        case .phantom(let steps, let damping):
            var u = g
            for _ in 0..<steps {
                u = (pullback(u) + g) * damping + u * (1 - damping)
            }
            let r = (pullback(u) + g - u).norm().item
            stats.backwardIterations = steps
            stats.backwardResidual = r
            stats.backwardRelativeResidual = r / max(u.norm().item, 1e-30)
            stats.backwardStatus = .limitReached
            return u
        case .implicit(let solver, let iterations, let tolerance):
            let result = solve({ u in pullback(u) + g }, from: g.zerosLike(), method: solver,
                               options: SolverOptions(tolerance: tolerance, toleranceKind: options.stopMode,
                                                      maxIterations: iterations))
            stats.backwardIterations = result.iterations
            stats.backwardResidual = result.absoluteResidual.max() ?? 0
            stats.backwardRelativeResidual = result.relativeResidual.max() ?? 0
            stats.backwardStatus = result.status
            if let message = failureMessage(result.status, phase: "backward", residual: stats.backwardResidual, step: step) {
                switch options.onFailure {
                case .ignore: break
                case .warn: warn(message)
                case .stop: backwardFailure = DEQError(message: message)
                }
            }
            return result.solution
        }
    }

    /// Throws the failure of the latest backward solve under the `.stop` policy.
    public func checkBackward() throws(DEQError) {
        if let e = backwardFailure {
            backwardFailure = nil
            throw e
        }
    }

    private func report(_ status: SolverStatus, phase: String, residual: Double) throws(DEQError) {
        guard let message = failureMessage(status, phase: phase, residual: residual, step: step) else { return }
        switch options.onFailure {
        case .ignore: break
        case .warn: warn(message)
        case .stop: throw DEQError(message: message)
        }
    }

    private func failureMessage(_ status: SolverStatus, phase: String, residual: Double, step: Int) -> String? {
        switch status {
        case .converged: return nil
        case .limitReached:
            // Hitting the limit is routine for DEQs with small thresholds; only warn-worthy.
            return options.onFailure == .warn ? nil
                : "DEQ layer '\(name)' at step \(step): the \(phase) solver reached its iteration limit with residual \(fmt(residual)); raise \(phase == "forward" ? "f_thres" : "b_thres") or the tolerance"
        case .diverged(let i):
            return "DEQ layer '\(name)' at step \(step): the \(phase) solver diverged at iteration \(i) (residual \(fmt(residual))); lower the learning rate, add Jacobian regularisation or use a damped solver"
        case .nonFinite(let i):
            return "DEQ layer '\(name)' at step \(step): the \(phase) solver met NaN or infinity at iteration \(i); check the inputs and parameters for NaN"
        }
    }

    private func warn(_ message: String) {
        FileHandle.standardError.write(Data(("warning: " + message + "\n").utf8))
    }
}
