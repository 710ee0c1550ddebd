import Foundation
import Tensors

/// Per-sample bookkeeping shared by every method: residual norms, stopping, the best iterate,
/// blow-up detection and the trace.
final class Tracker {
    let problem: Problem
    let options: SolverOptions
    private(set) var active: [Bool]
    private(set) var status: [SolverStatus?]
    private(set) var bestX: Tensor
    private(set) var bestG: Tensor
    private(set) var bestAbs: [Double]
    private(set) var stoppedAt: [Int]
    private(set) var trace: [[Double]] = []
    private(set) var fallbacks: [SolverFallback] = []
    /// Set by Broyden's methods when they finish, for reuse by a DEQ backward pass.
    var inverseJacobian: LowRankInverse?
    private var initialAbs: [Double]
    private var rootScale: [Double]
    /// Samples that already fell back once; a second blow-up is divergence.
    private var fellBack: [Bool]

    init(problem: Problem, options: SolverOptions, x0: Tensor, g0: Tensor) {
        self.problem = problem
        self.options = options
        let b = problem.batch
        active = Array(repeating: true, count: b)
        status = Array(repeating: nil, count: b)
        bestX = x0
        bestG = g0
        bestAbs = Array(repeating: .infinity, count: b)
        stoppedAt = Array(repeating: 0, count: b)
        initialAbs = Array(repeating: 0, count: b)
        rootScale = Array(repeating: 1, count: b)
        fellBack = Array(repeating: false, count: b)
        let (n0, _) = rowNorms(g0, options.norm)
        initialAbs = n0
        rootScale = n0.map { $0 > 0 && $0.isFinite ? $0 : 1 }
        _ = observe(iteration: 0, x: x0, g: g0)
    }

    var anyActive: Bool { active.contains(true) }
    var activeMask: Tensor { sampleMask(active) }

    /// What `observe` found for this iteration.
    struct Observation {
        /// Samples whose new iterate is finite (the others must keep their previous iterate).
        var finite: [Bool]
        /// Active samples whose residual blew up; the method should fall back for them.
        var blownUp: [Int]
        /// Absolute residual norms of the new iterate.
        var norms: [Double]
    }

    /// Takes the new iterate of every sample, decides who stops, and remembers the best.
    func observe(iteration k: Int, x: Tensor, g: Tensor) -> Observation {
        let (abs, finite) = rowNorms(g, options.norm)
        // Relative residuals cost extra tensor passes: only computed when they decide stopping
        // (the result's relative residual is computed once, at the end).
        let rel = options.toleranceKind == .relative ? relativeResiduals(abs, x: x, g: g) : abs
        var improved = Array(repeating: false, count: problem.batch)
        var blownUp: [Int] = []
        for b in 0..<problem.batch where active[b] {
            if !finite[b] {
                stop(b, .nonFinite(iteration: k), at: k)
                continue
            }
            if abs[b] < bestAbs[b] {
                improved[b] = true
                bestAbs[b] = abs[b]
            }
            let measured = options.toleranceKind == .absolute ? abs[b] : rel[b]
            if measured <= options.tolerance {
                stop(b, .converged(iteration: k), at: k)
            } else if k > 0 && abs[b] > options.blowUpFactor * bestAbs[b] && !fellBack[b] {
                blownUp.append(b)   // first blow-up: the method falls back instead of stopping
            } else if k > 0 && (abs[b] > options.blowUpFactor * bestAbs[b]
                                || abs[b] > options.divergenceFactor * Swift.max(initialAbs[b], 1e-300)) {
                stop(b, .diverged(iteration: k), at: k)
            } else if k >= options.maxIterations {
                stop(b, .limitReached, at: k)
            }
        }
        if !improved.contains(false) {
            // Every sample improved (the common case while all are running): no masked copy.
            bestX = x
            bestG = g
        } else if improved.contains(true) {
            bestX = select(improved, x, bestX)
            bestG = select(improved, g, bestG)
        }
        trace.append(abs)
        return Observation(finite: finite, blownUp: blownUp, norms: abs)
    }

    /// ‖g‖ / ‖f(x)‖ for a fixed-point problem, ‖g‖ / ‖g(x₀)‖ for a root problem.
    private func relativeResiduals(_ abs: [Double], x: Tensor, g: Tensor) -> [Double] {
        if problem.isFixedPoint {
            let (fx, _) = rowNorms(x + g, options.norm)
            return zip(abs, fx).map { $0 / Swift.max($1, 1e-300) }
        }
        return zip(abs, rootScale).map { $0 / $1 }
    }

    /// Records a fallback for sample b; a second blow-up of that sample will end it as diverged.
    func recordFallback(sample b: Int, iteration k: Int, reason: String, final: Bool = true) {
        if final { fellBack[b] = true }
        fallbacks.append(SolverFallback(sample: b, iteration: k, reason: reason))
    }

    private func stop(_ b: Int, _ s: SolverStatus, at k: Int) {
        active[b] = false
        status[b] = s
        stoppedAt[b] = k
    }

    /// Marks samples still running as limit-reached (used when a loop ends early).
    func finishRemaining(at k: Int) {
        for b in 0..<problem.batch where active[b] { stop(b, .limitReached, at: k) }
    }

    /// The result, with timing and memory filled in by the caller.
    func result(iterations: Int, seconds: Double, peakBytes: Int) -> SolverResult {
        SolverResult(solution: problem.unflatten(bestX), iterations: iterations, sampleIterations: stoppedAt,
                     functionEvaluations: problem.evaluations, absoluteResidual: bestAbs,
                     relativeResidual: relativeResiduals(bestAbs, x: bestX, g: bestG),
                     residualTrace: trace, seconds: seconds, peakBytes: peakBytes,
                     sampleStatus: status.map { $0 ?? .limitReached }, fallbacks: fallbacks,
                     inverseJacobian: inverseJacobian)
    }
}
