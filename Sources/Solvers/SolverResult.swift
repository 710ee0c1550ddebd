import Tensors

/// How a sample's solve ended.
public enum SolverStatus: Sendable, Equatable, CustomStringConvertible {
    /// The residual fell below the tolerance at this iteration.
    case converged(iteration: Int)
    /// The iteration limit was reached first.
    case limitReached
    /// The residual grew without bound; stopped at this iteration.
    case diverged(iteration: Int)
    /// f produced NaN or infinity at this iteration; the sample was stopped there.
    case nonFinite(iteration: Int)

    public var isConverged: Bool { if case .converged = self { return true } else { return false } }

    /// A short word for tables and JSON.
    public var label: String {
        switch self {
        case .converged: return "converged"
        case .limitReached: return "limit"
        case .diverged: return "diverged"
        case .nonFinite: return "nonfinite"
        }
    }

    public var description: String {
        switch self {
        case .converged(let i): return "converged at iteration \(i)"
        case .limitReached: return "iteration limit reached"
        case .diverged(let i): return "diverged at iteration \(i)"
        case .nonFinite(let i): return "non-finite value at iteration \(i)"
        }
    }
}

/// A recorded change of strategy for one sample (the solver never throws on these).
public struct SolverFallback: Sendable, Equatable, CustomStringConvertible {
    public var sample: Int
    public var iteration: Int
    public var reason: String
    public var description: String { "sample \(sample), iteration \(iteration): \(reason)" }
}

/// Everything a solve reports.
public struct SolverResult {
    /// The lowest-residual iterate of each sample, shaped like x₀.
    public var solution: Tensor
    /// Iterations of the solver loop (the longest-running sample's count).
    public var iterations: Int
    /// Iterations each sample took before it stopped.
    public var sampleIterations: [Int]
    /// Calls of f (or g) on the batch; a Jacobian-vector product by autodiff counts as two.
    public var functionEvaluations: Int
    /// Final absolute residual of each sample (at the returned solution).
    public var absoluteResidual: [Double]
    /// Final relative residual of each sample (at the returned solution).
    public var relativeResidual: [Double]
    /// `residualTrace[k][b]`: absolute residual of sample b after iteration k (k = 0 is x₀).
    public var residualTrace: [[Double]]
    /// Wall-clock seconds of the solve, function evaluations included.
    public var seconds: Double
    /// Peak tensor bytes allocated during the solve above what was live when it started.
    public var peakBytes: Int
    /// Status of each sample.
    public var sampleStatus: [SolverStatus]
    /// Fallbacks taken (singular small solves, blow-ups).
    public var fallbacks: [SolverFallback]
    /// Broyden's final inverse-Jacobian estimate (nil for other methods).
    public var inverseJacobian: LowRankInverse? = nil

    /// The batch's status: non-finite or diverged if any sample was, else limit reached if any
    /// sample hit the limit, else converged at the last sample's iteration.
    public var status: SolverStatus {
        if let s = sampleStatus.first(where: { if case .nonFinite = $0 { return true } else { return false } }) { return s }
        if let s = sampleStatus.first(where: { if case .diverged = $0 { return true } else { return false } }) { return s }
        if sampleStatus.contains(.limitReached) { return .limitReached }
        let last = sampleStatus.map { if case .converged(let i) = $0 { return i } else { return 0 } }.max() ?? 0
        return .converged(iteration: last)
    }

    /// Largest residual over the batch after each iteration (for plots).
    public var maxResidualTrace: [Double] { residualTrace.map { $0.max() ?? 0 } }
    /// Largest final absolute residual over the batch.
    public var maxResidual: Double { absoluteResidual.max() ?? 0 }
}
