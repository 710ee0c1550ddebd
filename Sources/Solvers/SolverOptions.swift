import Tensors

/// Which norm measures a sample's residual.
public enum ResidualNorm: Sendable, Equatable {
    /// The Euclidean norm ‖r‖₂.
    case l2
    /// The max-norm ‖r‖∞ (the largest absolute entry), scipy's default stopping norm.
    case max
}

/// What the tolerance is compared against.
public enum ToleranceKind: Sendable, Equatable {
    /// Stop when ‖r‖ ≤ tolerance.
    case absolute
    /// Stop when ‖r‖ / ‖scale‖ ≤ tolerance, where the scale is f(x) for a fixed-point problem
    /// (as the reference DEQ code does) and g(x₀) for a root problem.
    case relative
}

/// What a limited-memory Broyden does when its `m` slots are full.
public enum MemoryPolicy: Sendable, Equatable {
    /// Overwrite the oldest rank-one update.
    case dropOldest
    /// Forget every update and start again from the initial Jacobian guess.
    case restart
}

/// How Newton-Krylov forms Jacobian-vector products.
public enum JacobianProduct: Sendable, Equatable {
    /// (g(x + εv) − g(x)) / ε: one function evaluation per product.
    case finiteDifference
    /// Exact products by reverse-mode autodiff (double VJP); counted as two evaluations.
    case autograd
}

/// A solver and its parameters.
public enum SolverMethod: Sendable, Equatable {
    /// Damped fixed-point iteration x ← x + β·s(x), where s is the fixed-point step f(x) − x.
    case fixedPoint(damping: Double = 1)
    /// Anderson acceleration with `window` difference pairs, mixing β and Tikhonov regularisation λ
    /// (each difference column is penalised relative to its own norm).
    case anderson(window: Int = 10, mixing: Double = 1, regularization: Double = 1e-6)
    /// Broyden's good method with the inverse Jacobian stored as H₀ + U Vᵀ, one column per
    /// iteration (memory grows with the iteration limit, as in the reference DEQ code).
    case broyden(lineSearch: Bool = true)
    /// Broyden's good method keeping at most `memory` rank-one updates. Restarting when full is
    /// the default: dropping the oldest update breaks the secant chain and diverged on the
    /// ρ = 0.99 linear contraction.
    case limitedBroyden(memory: Int = 30, policy: MemoryPolicy = .restart, lineSearch: Bool = true)
    /// Inexact Newton with GMRES on Jacobian-vector products.
    case newtonKrylov(krylovDimension: Int = 30, products: JacobianProduct = .finiteDifference)

    /// A short name for tables.
    public var name: String {
        switch self {
        case .fixedPoint: return "fixed-point"
        case .anderson: return "anderson"
        case .broyden: return "broyden"
        case .limitedBroyden: return "lbroyden"
        case .newtonKrylov(_, let p): return p == .autograd ? "newton-krylov-ad" : "newton-krylov"
        }
    }
}

/// Stopping rule and safeguards shared by every method.
public struct SolverOptions: Sendable {
    /// The stopping threshold.
    public var tolerance: Double
    /// Whether `tolerance` is absolute or relative.
    public var toleranceKind: ToleranceKind
    /// The most iterations (not function evaluations) any sample may take.
    public var maxIterations: Int
    /// The norm of the residual.
    public var norm: ResidualNorm
    /// The scalar c of the initial Jacobian guess J(g) ≈ c·I. For a fixed-point problem
    /// g(x) = f(x) − x with a contractive f this is −1 (the default); for a root problem pass a
    /// rough diagonal of the Jacobian so that x − g(x)/c is a sensible first step.
    public var jacobianGuess: Double
    /// A sample whose residual exceeds this multiple of its best residual has blown up: the
    /// solver falls back (damped iteration from the best iterate) and records it.
    public var blowUpFactor: Double
    /// A sample whose residual exceeds this multiple of its initial residual (or that blows up
    /// again after falling back) stops with status diverged.
    public var divergenceFactor: Double

    public init(tolerance: Double = 1e-6, toleranceKind: ToleranceKind = .absolute, maxIterations: Int = 100,
                norm: ResidualNorm = .l2, jacobianGuess: Double = -1,
                blowUpFactor: Double = 1e3, divergenceFactor: Double = 1e8) {
        self.tolerance = tolerance
        self.toleranceKind = toleranceKind
        self.maxIterations = maxIterations
        self.norm = norm
        self.jacobianGuess = jacobianGuess
        self.blowUpFactor = blowUpFactor
        self.divergenceFactor = divergenceFactor
    }
}
