import Testing
import Tensors
@testable import Solvers

/// Per-sample stopping, divergence, non-finite values, fallbacks.
struct RobustnessTests {
    static let methods: [SolverMethod] = [
        .fixedPoint(), .anderson(), .broyden(), .limitedBroyden(), .newtonKrylov(), .newtonKrylov(products: .autograd),
    ]

    @Test(arguments: methods)
    func convergedSamplesAreFrozen(method: SolverMethod) {
        // Nonlinear and coupled; sample 0 contracts fast (gain 0.05), sample 1 slowly (gain 0.9).
        let gains = Tensor([0.05, 0.9], shape: [2, 1])
        let mix = Tensor([0.6, 0.8, -0.8, 0.6], shape: [2, 2])
        var inputs: [[Double]] = []
        let r = solve({ x in
            inputs.append(x.toArray(Double.self))
            return x.matmul(mix).tanh() * gains + 1
        }, from: Tensor.zeros([2, 2], dtype: .float64), method: method,
            options: SolverOptions(tolerance: 1e-10, maxIterations: 500))
        let allConverged = r.sampleStatus.allSatisfy { $0.isConverged }
        #expect(allConverged, "\(method.name): \(r.sampleStatus)")
        guard case .converged(let k0) = r.sampleStatus[0] else { return }
        #expect(k0 < r.sampleIterations[1], "\(method.name): \(r.sampleIterations)")
        // Sample 0's residual is frozen after it converged: same iterate, same residual.
        for k in k0..<r.residualTrace.count {
            #expect(r.residualTrace[k][0] == r.residualTrace[k0][0], "\(method.name): sample 0 moved at iteration \(k)")
        }
        // f never saw another row 0 after the converged iterate (probes included).
        let converged = r.solution.toArray(Double.self)
        if let first = inputs.firstIndex(where: { $0[0] == converged[0] && $0[1] == converged[1] }) {
            let later = inputs[first...].filter { $0[0] != converged[0] || $0[1] != converged[1] }
            #expect(later.isEmpty, "\(method.name): row 0 changed after convergence \(later.count) times")
        } else {
            Issue.record("\(method.name): the converged row 0 was never evaluated")
        }
    }

    @Test(arguments: methods)
    func divergingMapReportsDiverged(method: SolverMethod) {
        // f(x) = x + 1 + x² has no fixed point (g = 1 + x² > 0) and its iteration escapes.
        // Broyden with line search escapes late (iteration 186 with OpenBLAS's SkylakeX kernels;
        // after 200 with its Prescott ones, whose rounding differs): the limit leaves room for both.
        let r = solve({ x in x + 1 + x.square() }, from: Tensor.zeros([1, 3], dtype: .float64), method: method,
                      options: SolverOptions(tolerance: 1e-8, maxIterations: 2000))
        print("\(method.name): \(r.status), iterations \(r.iterations), fallbacks \(r.fallbacks.count)")
        #expect(!r.status.isConverged)
        #expect(r.solution.isFinite, "\(method.name): NaN leaked into the solution")
        #expect(r.maxResidual.isFinite)
        if case .diverged(let k) = r.status { #expect(k >= 1 && k <= r.iterations) }
        // The derivative-free iterations escape to infinity: they must say diverged, with the iteration.
        if method == .fixedPoint() || method == .anderson() || method == .broyden() || method == .limitedBroyden() {
            guard case .diverged = r.status else {
                Issue.record("\(method.name): expected diverged, got \(r.status)")
                return
            }
        }
    }

    @Test func repellingFixedPointIterationDiverges() {
        // x = 2x + 1 has the repelling fixed point −1: plain iteration must report divergence
        // (accelerated methods may find −1, which is correct).
        let r = solve({ x in x * 2 + 1 }, from: Tensor.zeros([1, 3], dtype: .float64), method: .fixedPoint(),
                      options: SolverOptions(tolerance: 1e-8, maxIterations: 500))
        guard case .diverged(let k) = r.status else {
            Issue.record("expected diverged, got \(r.status)")
            return
        }
        #expect(k > 1 && k < 500)
        #expect(r.fallbacks.count == 1)
        #expect(r.solution.isFinite)
    }

    @Test(arguments: methods)
    func nonFiniteStopsOnlyThatSample(method: SolverMethod) {
        // Sample 1: f(x) = √(1 − x) + 2 has no fixed point and leaves its domain (NaN) after a step;
        // sample 0 is a plain contraction.
        let r = solve({ x in
            let fine = x * 0.5 + 1
            let bad = (1 - x).sqrt() + 2
            return Tensor.where(Tensor([false, true], shape: [2, 1]), bad, fine)
        }, from: Tensor.zeros([2, 2], dtype: .float64), method: method,
            options: SolverOptions(tolerance: 1e-9, maxIterations: 300))
        #expect(r.sampleStatus[0].isConverged, "\(method.name): sample 0 \(r.sampleStatus[0])")
        if case .nonFinite(let k) = r.sampleStatus[1] {
            #expect(k >= 1)
        } else {
            Issue.record("\(method.name): sample 1 ended \(r.sampleStatus[1])")
        }
        #expect(r.solution.isFinite, "\(method.name): NaN leaked into the solution")
    }

    @Test(arguments: [SolverMethod.fixedPoint(), .anderson(), .broyden(), .limitedBroyden()])
    func blowUpFallsBackAndSaysSo(method: SolverMethod) {
        // The first blow-up switches the sample to damped iteration from its best iterate and is
        // recorded; only a second blow-up ends it as diverged.
        // Broyden with line search escapes late (iteration 186 with OpenBLAS's SkylakeX kernels;
        // after 200 with its Prescott ones, whose rounding differs): the limit leaves room for both.
        let r = solve({ x in x + 1 + x.square() }, from: Tensor.zeros([1, 3], dtype: .float64), method: method,
                      options: SolverOptions(tolerance: 1e-8, maxIterations: 2000))
        #expect(r.fallbacks.count == 1, "\(method.name): \(r.fallbacks)")
        #expect(r.fallbacks.first?.reason.contains("blew up") == true)
        guard case .diverged(let k) = r.status else {
            Issue.record("\(method.name): expected diverged, got \(r.status)")
            return
        }
        #expect(k > r.fallbacks[0].iteration)
    }
}

/// Anderson's small solve when its system is exactly singular.
struct AndersonSingularSystemTests {
    @Test func singularNormalEquationsFallBackAndSaySo() {
        // Two identical difference rows and λ = 0: ΔS ΔSᵀ is exactly singular.
        let x0 = Tensor.zeros([1, 3], dtype: .float64)
        let problem = Problem(map: { $0 * 0.5 + 1 }, x0: x0, isFixedPoint: true, jacobianGuess: -1)
        let g0 = problem.residual(x0)
        let tracker = Tracker(problem: problem, options: SolverOptions(), x0: x0, g0: g0)
        let history = RowHistory(batch: 1, capacity: 2, width: 3, dtype: .float64)
        let normal = NormalMatrix(batch: 1, capacity: 2)
        let row = Tensor([1.0, 2.0, 3.0], shape: [1, 3])
        for slot in 0..<2 {
            history.write(row, slot: slot)
            normal.update(slot: slot, dots: history.dots(row, count: slot + 1), count: slot + 1)
        }
        let gamma = regularizedGamma(history, normal: normal, s: g0, count: 2, lambda: 0, tracker: tracker, iteration: 1)
        #expect(gamma.shape == [1, 2, 1])
        #expect(gamma.isFinite)
        #expect(!tracker.fallbacks.isEmpty)
        #expect(tracker.fallbacks.allSatisfy { $0.reason.contains("Anderson") })
    }

    @Test func relativeToleranceStopsOnRelativeResidual() {
        // x = 0.5x + 1000: ‖f(x)‖ ≈ 2000·√2, so a relative 1e-6 stops near an absolute 3e-3.
        let r = solve({ $0 * 0.5 + 1000 }, from: Tensor.zeros([1, 2], dtype: .float64), method: .fixedPoint(),
                      options: SolverOptions(tolerance: 1e-6, toleranceKind: .relative, maxIterations: 200))
        #expect(r.status.isConverged)
        #expect(r.relativeResidual[0] <= 1e-6)
        #expect(r.absoluteResidual[0] > 1e-6)
    }
}
