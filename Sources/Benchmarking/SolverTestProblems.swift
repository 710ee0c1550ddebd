import DEQ
import Models
import NN
import Solvers
import Tensors

/// A fixed problem of the solver benchmark suite: a batch starting point, a map, and the data
/// that defines it (exported so peer libraries solve exactly the same problem).
public struct SolverTestProblem {
    /// Name used in tables, JSON and exported files.
    public var name: String
    /// Starting point [B, n].
    public var x0: Tensor
    /// f for a fixed-point problem, g for a root problem.
    public var map: (Tensor) -> Tensor
    /// True when `map` is f in x = f(x); false when it is g in g(x) = 0.
    public var isFixedPoint: Bool
    /// The scalar c of the initial Jacobian guess J(g) ≈ c·I handed to every solver (−1 for
    /// fixed-point problems; scipy's `alpha` is −1/c).
    public var jacobianGuess: Double
    /// Named arrays that define the problem (matrices, inputs), for export.
    public var data: [(String, Tensor)]

    /// A problem defined elsewhere (the CLI adds model-based problems, which `Solvers` cannot build).
    public init(name: String, x0: Tensor, map: @escaping (Tensor) -> Tensor, isFixedPoint: Bool,
                jacobianGuess: Double, data: [(String, Tensor)]) {
        self.name = name
        self.x0 = x0
        self.map = map
        self.isFixedPoint = isFixedPoint
        self.jacobianGuess = jacobianGuess
        self.data = data
    }

    /// Solves this problem with `method`.
    public func solve(method: SolverMethod, options: SolverOptions) -> SolverResult {
        var o = options
        o.jacobianGuess = jacobianGuess
        return isFixedPoint
            ? Solvers.solve(map, from: x0, method: method, options: o)
            : Solvers.solveRoot(map, from: x0, method: method, options: o)
    }
}

/// The classic problems of the suite, generated deterministically from fixed seeds.
public enum SolverTestProblems {
    /// x = A x + b with A = Q diag(λ) Qᵀ, Q orthogonal (QR of a Gaussian matrix) and the
    /// eigenvalues λ evenly spaced in [−ρ, ρ], so the spectral radius is exactly ρ.
    public static func linearContraction(n: Int = 1000, spectralRadius rho: Double, dtype: DType = .float64,
                                         seed: UInt64 = 7) -> SolverTestProblem {
        let rng = RandomGenerator(seed: seed)
        let gaussian = Tensor.randn([n, n], dtype: .float64, generator: rng)
        let q = try! gaussian.qr().q
        let lambdas = (0..<n).map { i in n == 1 ? rho : rho * (-1 + 2 * Double(i) / Double(n - 1)) }
        let a = (q * Tensor(lambdas, shape: [1, n])).matmul(q.transposed()).to(dtype)
        let b = Tensor.randn([1, n], dtype: .float64, generator: rng).to(dtype)
        let at = a.transposed().contiguous()   // contiguous, as the NumPy peer holds it
        let name = "linear-\(rho)"
        return SolverTestProblem(name: name, x0: Tensor.zeros([1, n], dtype: dtype),
                                 map: { x in x.matmul(at) + b }, isFixedPoint: true, jacobianGuess: -1,
                                 data: [("A", a), ("b", b)])
    }

    /// z = tanh(W z + U x) for a batch of inputs x, W = 0.9·G/√d (spectral radius about 0.9).
    public static func tanhLayer(batch: Int = 32, width d: Int, dtype: DType = .float64, seed: UInt64 = 11) -> SolverTestProblem {
        let rng = RandomGenerator(seed: seed)
        let w = Tensor.randn([d, d], std: 0.9 / Double(d).squareRoot(), dtype: .float64, generator: rng).to(dtype)
        let u = Tensor.randn([d, d], std: 1 / Double(d).squareRoot(), dtype: .float64, generator: rng).to(dtype)
        let x = Tensor.randn([batch, d], dtype: .float64, generator: rng).to(dtype)
        let injection = x.matmul(u.transposed())
        let wt = w.transposed().contiguous()
        return SolverTestProblem(name: "tanh-\(d)", x0: Tensor.zeros([batch, d], dtype: dtype),
                                 map: { z in (z.matmul(wt) + injection).tanh() }, isFixedPoint: true, jacobianGuess: -1,
                                 data: [("W", w), ("U", u), ("x", x)])
    }

    /// The Broyden tridiagonal function (Moré, Garbow and Hillstrom, problem 30):
    /// g_i = (3 − 2x_i)x_i − x_{i−1} − 2x_{i+1} + 1 with x₀ = x_{n+1} = 0, started at x = −1.
    public static func broydenTridiagonal(n: Int = 1000, dtype: DType = .float64) -> SolverTestProblem {
        SolverTestProblem(name: "broyden-tridiagonal", x0: Tensor.full([1, n], -1, dtype: dtype),
                          map: { x in
                              let rows = x.shape[0]
                              let zero = Tensor.zeros([rows, 1], dtype: x.dtype)
                              let left = Tensor.concat([zero, x.sliced(1, 0, n - 1)], axis: 1)
                              let right = Tensor.concat([x.sliced(1, 1, n), zero], axis: 1)
                              return (3 - x * 2) * x - left - right * 2 + 1
                          },
                          isFixedPoint: false, jacobianGuess: 5, data: [])
    }

    /// Chandrasekhar's H-equation, discretised by the midpoint rule (Kelley's formulation):
    /// H_i = 1 / (1 − (c/2n) Σ_j μ_i H_j / (μ_i + μ_j)), μ_i = (i − ½)/n, as x = f(x) from x = 1.
    public static func chandrasekharH(n: Int = 1000, c: Double = 0.9, dtype: DType = .float64) -> SolverTestProblem {
        var entries = [Double](repeating: 0, count: n * n)
        for i in 0..<n {
            let mi = (Double(i) + 0.5) / Double(n)
            for j in 0..<n {
                let mj = (Double(j) + 0.5) / Double(n)
                entries[i * n + j] = c / (2 * Double(n)) * mi / (mi + mj)
            }
        }
        let a = Tensor(entries, shape: [n, n]).to(dtype)
        let at = a.transposed().contiguous()
        return SolverTestProblem(name: "chandrasekhar-h", x0: Tensor.ones([1, n], dtype: dtype),
                                 map: { x in 1 / (1 - x.matmul(at)) }, isFixedPoint: true, jacobianGuess: -1, data: [])
    }

    /// The whole suite in float64.
    public static func suite() -> [SolverTestProblem] {
        [linearContraction(spectralRadius: 0.9), linearContraction(spectralRadius: 0.99),
         tanhLayer(width: 256), tanhLayer(width: 1024), broydenTridiagonal(), chandrasekharH()]
    }
}
