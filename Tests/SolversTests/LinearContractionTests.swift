import Benchmarking
import Testing
import Tensors
@testable import Solvers

/// Every method on the suite's two linear contractions (n = 1000, float64), to 1e-8.
@Suite(.serialized) struct LinearContractionTests {
    static let methods: [SolverMethod] = [
        .fixedPoint(), .anderson(), .broyden(), .limitedBroyden(), .newtonKrylov(),
        .newtonKrylov(products: .autograd),
    ]

    @Test(arguments: [0.9, 0.99])
    func everyMethodReachesTightTolerance(rho: Double) {
        let problem = SolverTestProblems.linearContraction(n: 1000, spectralRadius: rho)
        for method in Self.methods {
            let r = problem.solve(method: method, options: SolverOptions(tolerance: 1e-8, maxIterations: 3000))
            #expect(r.status.isConverged, "\(method.name) on ρ = \(rho): \(r.status), residual \(r.maxResidual)")
            #expect(r.maxResidual <= 1e-8)
            // The returned solution really is a fixed point: check independently.
            let x = r.solution
            let check = (problem.map(x) - x).norm().item
            #expect(check <= 1e-8, "\(method.name): independent residual \(check)")
        }
    }
}
