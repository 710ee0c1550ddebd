import Benchmarking
import Testing
import Tensors
@testable import Solvers

/// Properties of single methods: finite termination, closed forms, float32.
struct MethodPropertyTests {
    @Test func broydenSolvesLinearSystemWithinTwoNSteps() {
        let n = 20
        let rng = RandomGenerator(seed: 3)
        let a = Tensor.eye(n, dtype: .float64) * 2 + Tensor.randn([n, n], std: 0.3 / Double(n).squareRoot(), dtype: .float64, generator: rng)
        let b = Tensor.randn([1, n], dtype: .float64, generator: rng)
        let at = a.transposed()
        let options = SolverOptions(tolerance: 1e-9, toleranceKind: .relative, maxIterations: 2 * n, jacobianGuess: 2)
        let r = solveRoot({ x in x.matmul(at) - b }, from: Tensor.zeros([1, n], dtype: .float64),
                          method: .broyden(lineSearch: false), options: options)
        #expect(r.status.isConverged, "\(r.status), relative residual \(r.relativeResidual)")
        #expect(r.iterations <= 2 * n)
    }

    @Test func andersonWindowOneMatchesClosedForm() {
        // f(x) = M x + c in 2-d; Anderson(1), β = 1, λ = 0 in closed form:
        // x₁ = f(x₀); x_{k+1} = x_k + s_k − (Δx + Δs)·⟨Δs, s_k⟩/⟨Δs, Δs⟩ with Δ over the last step.
        let m = [[0.5, 0.3], [-0.2, 0.6]], c = [1.0, -0.5]
        func f(_ x: [Double]) -> [Double] { [m[0][0] * x[0] + m[0][1] * x[1] + c[0], m[1][0] * x[0] + m[1][1] * x[1] + c[1]] }
        func sub(_ a: [Double], _ b: [Double]) -> [Double] { [a[0] - b[0], a[1] - b[1]] }
        func dot(_ a: [Double], _ b: [Double]) -> Double { a[0] * b[0] + a[1] * b[1] }
        var xs = [[0.0, 0.0]]
        var ss = [sub(f(xs[0]), xs[0])]
        xs.append(f(xs[0])); ss.append(sub(f(xs[1]), xs[1]))
        for k in 1..<3 {
            let dx = sub(xs[k], xs[k - 1]), ds = sub(ss[k], ss[k - 1])
            let gamma = dot(ds, ss[k]) / dot(ds, ds)
            let next = (0..<2).map { xs[k][$0] + ss[k][$0] - (dx[$0] + ds[$0]) * gamma }
            xs.append(next); ss.append(sub(f(next), next))
        }
        let mt = Tensor(m.flatMap { $0 }, shape: [2, 2]).transposed()
        let ct = Tensor(c, shape: [1, 2])
        for iterations in 1...3 {
            let r = solve({ x in x.matmul(mt) + ct }, from: Tensor([0.0, 0.0], shape: [1, 2]),
                          method: .anderson(window: 1, mixing: 1, regularization: 0),
                          options: SolverOptions(tolerance: 0, maxIterations: iterations))
            // Each trace entry is ‖s_k‖₂ of the closed-form iterate.
            for k in 0...iterations {
                let expected = dot(ss[k], ss[k]).squareRoot()
                #expect(Swift.abs(r.residualTrace[k][0] - expected) <= 1e-12 * Swift.max(1, expected))
            }
            let best = (0...iterations).min { dot(ss[$0], ss[$0]) < dot(ss[$1], ss[$1]) }!
            let sol = r.solution.toArray(Double.self)
            #expect(Swift.abs(sol[0] - xs[best][0]) < 1e-12 && Swift.abs(sol[1] - xs[best][1]) < 1e-12)
        }
    }

    @Test(arguments: [SolverMethod.fixedPoint(), .anderson(), .broyden(), .limitedBroyden(), .newtonKrylov(),
                      .newtonKrylov(products: .autograd)])
    func float32Works(method: SolverMethod) {
        let rng = RandomGenerator(seed: 5)
        let w = Tensor.randn([16, 16], std: 0.5 / 4, dtype: .float32, generator: rng)
        let u = Tensor.randn([4, 16], dtype: .float32, generator: rng)
        let r = solve({ z in (z.matmul(w) + u).tanh() }, from: Tensor.zeros([4, 16], dtype: .float32),
                      method: method, options: SolverOptions(tolerance: 1e-5, maxIterations: 200, norm: .max))
        #expect(r.status.isConverged, "\(method.name): \(r.status)")
        #expect(r.solution.dtype == .float32)
        #expect(r.maxResidual <= 1e-5)
    }

    @Test func rootFormFindsZero() {
        let p = SolverTestProblems.broydenTridiagonal(n: 50)
        for method in [SolverMethod.anderson(), .broyden(), .newtonKrylov()] {
            let r = p.solve(method: method, options: SolverOptions(tolerance: 1e-10, maxIterations: 200, norm: .max))
            #expect(r.status.isConverged, "\(method.name): \(r.status)")
            #expect(p.map(r.solution).abs().max().item <= 1e-10)
        }
    }
}
