import Foundation
import Solvers

/// What one call of a ``DEQLayer`` did, for logs and progress lines.
public struct DEQStats: Sendable, CustomStringConvertible {
    /// The layer's name and the call number (1-based) this record belongs to.
    public var layer: String
    public var step: Int
    /// Forward solve: iterations, function evaluations, worst absolute and relative residual.
    public var forwardIterations: Int = 0
    public var forwardEvaluations: Int = 0
    public var forwardResidual: Double = 0
    public var forwardRelativeResidual: Double = 0
    public var forwardStatus: SolverStatus = .limitReached
    /// Backward solve (filled in when the backward pass runs).
    public var backwardIterations: Int = 0
    public var backwardResidual: Double = 0
    public var backwardRelativeResidual: Double = 0
    public var backwardStatus: SolverStatus?
    /// Share of samples whose forward solve converged.
    public var forwardConvergedShare: Double = 0

    public var description: String {
        var s = "\(layer) step \(step): forward \(forwardIterations) it, residual \(fmt(forwardResidual)) (rel \(fmt(forwardRelativeResidual))), \(forwardStatus)"
        if let b = backwardStatus {
            s += "; backward \(backwardIterations) it, residual \(fmt(backwardResidual)) (rel \(fmt(backwardRelativeResidual))), \(b)"
        }
        return s
    }
}

/// A solve that failed under `DEQFailurePolicy.stop`.
public struct DEQError: Error, CustomStringConvertible, Sendable {
    public let message: String
    public var description: String { message }
}

func fmt(_ x: Double) -> String { String(format: "%.2e", x) }
