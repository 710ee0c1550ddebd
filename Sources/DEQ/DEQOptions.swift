import Solvers
import Tensors

/// How gradients flow back through the equilibrium.
public enum DEQBackward: Sendable, Equatable {
    /// The implicit function theorem: solve u = g + uᵀ ∂f/∂z(z*) with a solver, calling f's
    /// pullback at z* once per iteration (the reference's b_thres is `iterations`).
    case implicit(solver: SolverMethod = .anderson(window: 5), iterations: Int = 40, tolerance: Double = 1e-6)
    /// Phantom gradient: `steps` damped unrolled steps of the adjoint iteration,
    /// u ← λ (g + uᵀJ) + (1 − λ) u, starting from u = g.
    case phantom(steps: Int = 5, damping: Double = 0.5)
    /// Jacobian-free backward: the inverse (I − J)⁻¹ is replaced by the identity.
    case jacobianFree
    /// Reuses the forward Broyden's inverse-Jacobian estimate instead of solving again (cheap,
    /// approximate; needs a Broyden forward solver and falls back to `.jacobianFree` otherwise).
    case broydenReuse
}

/// What the layer does when a solve does not converge or produces NaN/infinity.
public enum DEQFailurePolicy: Sendable, Equatable {
    /// Record it in the statistics and go on.
    case ignore
    /// Record it and print one line to standard error, then go on.
    case warn
    /// Throw a ``DEQError`` naming the layer, the step and what happened.
    case stop
}

/// Options of a ``DEQLayer``, named after the reference implementation's where they exist.
public struct DEQOptions: Sendable {
    /// Solver of the forward equilibrium z* = f(z*, x).
    public var forwardSolver: SolverMethod
    /// Forward iteration limit (the reference's `f_thres`).
    public var forwardIterations: Int
    /// Forward stopping threshold.
    public var forwardTolerance: Double
    /// Whether thresholds are relative ("rel", the reference's default stop mode) or absolute ("abs").
    public var stopMode: ToleranceKind
    /// How the backward pass treats the equilibrium.
    public var backward: DEQBackward
    /// When set, the layer runs this many plain unrolled steps of f with the tape instead of
    /// solving (backprop through depth): the shallow pre-training the reference runs for its
    /// first `pretrain_step` steps, and a baseline for comparisons.
    public var unrolledSteps: Int?
    /// Weight of the Jacobian regularisation term (0 switches it off).
    public var jacobianRegularization: Double
    /// Random vectors per Hutchinson estimate.
    public var jacobianSamples: Int
    /// What to do when a solve fails.
    public var onFailure: DEQFailurePolicy

    public init(forwardSolver: SolverMethod = .anderson(window: 5), forwardIterations: Int = 30,
                forwardTolerance: Double = 1e-4, stopMode: ToleranceKind = .relative,
                backward: DEQBackward = .implicit(), unrolledSteps: Int? = nil,
                jacobianRegularization: Double = 0, jacobianSamples: Int = 1,
                onFailure: DEQFailurePolicy = .warn) {
        self.forwardSolver = forwardSolver
        self.forwardIterations = forwardIterations
        self.forwardTolerance = forwardTolerance
        self.stopMode = stopMode
        self.backward = backward
        self.unrolledSteps = unrolledSteps
        self.jacobianRegularization = jacobianRegularization
        self.jacobianSamples = jacobianSamples
        self.onFailure = onFailure
    }
}
