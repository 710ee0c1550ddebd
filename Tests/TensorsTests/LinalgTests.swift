import Testing
import Tensors

// LAPACK-backed routines checked by residuals, single and batched, float32 and float64.
@Suite struct LinalgTests {
    /// A well-conditioned random [batch..., n, n] matrix: random entries plus n on the diagonal.
    func wellConditioned(_ batch: [Int], _ n: Int, _ dtype: DType, seed: UInt64) -> Tensor {
        var rng = TestRNG(seed)
        let m = Tensor(rng.values(elementCount(batch) * n * n, -1, 1), shape: batch + [n, n])
        return (m + Tensor.eye(n, dtype: .float64) * Double(n)).to(dtype)
    }

    func tol(_ dtype: DType) -> Double { dtype == .float32 ? 1e-5 : 1e-12 }

    /// Largest absolute entry of a - b relative to the scale of b.
    func relativeResidual(_ a: Tensor, _ b: Tensor) -> Double {
        let d = (a.to(.float64) - b.to(.float64))
        return maxAbs(d) / Swift.max(maxAbs(b), 1)
    }

    @Test(arguments: [DType.float32, .float64])
    func solve(dtype: DType) throws {
        for batch in [[], [3], [2, 2]] as [[Int]] {
            let n = 5
            let a = wellConditioned(batch, n, dtype, seed: 83)
            var rng = TestRNG(89)
            let b = Tensor(rng.values(elementCount(batch) * n * 3), shape: batch + [n, 3]).to(dtype)
            let x = try Tensor.solve(a, b)
            #expect(x.shape == batch + [n, 3])
            #expect(x.dtype == dtype)
            #expect(relativeResidual(a.matmul(x), b) < tol(dtype) * 10, "solve batch \(batch) \(dtype)")
            // A vector right-hand side.
            let v = Tensor(rng.values(elementCount(batch) * n), shape: batch + [n]).to(dtype)
            let xv = try Tensor.solve(a, v)
            #expect(xv.shape == batch + [n])
            #expect(relativeResidual(a.matmul(xv.unsqueezed(-1)).squeezed(-1), v) < tol(dtype) * 10)
            // A transposed (non-contiguous) A is solved as the matrix it shows.
            let at = a.transposed()
            let xt = try Tensor.solve(at, b)
            #expect(relativeResidual(at.matmul(xt), b) < tol(dtype) * 10)
        }
    }

    @Test func solveIsDifferentiable() throws {
        let a = wellConditioned([], 3, .float64, seed: 97)
        var rng = TestRNG(101)
        let b = Tensor(rng.values(6), shape: [3, 2])
        let r = try gradcheck({ xs in try! Tensor.solve(xs[0], xs[1]) }, inputs: [a, b])
        #expect(r.passed, "\(r)")
    }

    @Test func solveSingularThrows() {
        let a = Tensor([1, 2, 2, 4] as [Double], shape: [2, 2])
        let b = Tensor([1, 1] as [Double], shape: [2, 1])
        #expect(throws: TensorError.self) { try Tensor.solve(a, b) }
        do {
            _ = try Tensor.solve(a, b)
        } catch {
            #expect(error.message.contains("singular"))
        }
        #expect(throws: TensorError.self) { try Tensor.solve(Tensor.zeros([2, 3], dtype: .float64), b) }
        #expect(throws: TensorError.self) { try Tensor.solve(a, Tensor.zeros([3, 1], dtype: .float64)) }
    }

    @Test(arguments: [DType.float32, .float64])
    func leastSquares(dtype: DType) throws {
        for batch in [[], [2]] as [[Int]] {
            var rng = TestRNG(103)
            let m = 7, n = 3
            let a = Tensor(rng.values(elementCount(batch) * m * n), shape: batch + [m, n]).to(dtype)
            let b = Tensor(rng.values(elementCount(batch) * m * 2), shape: batch + [m, 2]).to(dtype)
            let x = try Tensor.leastSquares(a, b)
            #expect(x.shape == batch + [n, 2])
            // Normal equations: Aᵀ (A X − B) = 0.
            let a64 = a.to(.float64), b64 = b.to(.float64), x64 = x.to(.float64)
            let g = a64.transposed().matmul(a64.matmul(x64) - b64)
            #expect(maxAbs(g) < (dtype == .float32 ? 1e-4 : 1e-11), "leastSquares \(batch) \(dtype)")
            // A consistent square system is solved exactly.
            let sq = wellConditioned(batch, 4, dtype, seed: 107)
            let rhs = Tensor(rng.values(elementCount(batch) * 4), shape: batch + [4]).to(dtype)
            let xs = try Tensor.leastSquares(sq, rhs)
            #expect(xs.shape == batch + [4])
            #expect(relativeResidual(sq.matmul(xs.unsqueezed(-1)).squeezed(-1), rhs) < tol(dtype) * 10)
        }
    }

    @Test func leastSquaresUnderdeterminedGivesTheMinimumNormSolution() throws {
        var rng = TestRNG(157)
        let a = Tensor(rng.values(2 * 3 * 5), shape: [2, 3, 5])
        let b = Tensor(rng.values(2 * 3), shape: [2, 3])
        let x = try Tensor.leastSquares(a, b)
        #expect(x.shape == [2, 5])
        // A x = b exactly, and x lies in the row space of A: x = Aᵀ (A Aᵀ)⁻¹ b.
        #expect(relativeResidual(a.matmul(x.unsqueezed(-1)).squeezed(-1), b) < 1e-12)
        let y = try Tensor.solve(a.matmul(a.transposed()), b)
        let minNorm = a.transposed().matmul(y.unsqueezed(-1)).squeezed(-1)
        #expect(relativeResidual(x, minNorm) < 1e-12)
    }

    @Test(arguments: [DType.float32, .float64])
    func cholesky(dtype: DType) throws {
        for batch in [[], [3]] as [[Int]] {
            var rng = TestRNG(109)
            let n = 4
            let m = Tensor(rng.values(elementCount(batch) * n * n), shape: batch + [n, n])
            let spd = (m.matmul(m.transposed()) + Tensor.eye(n, dtype: .float64)).to(dtype)
            let l = try spd.cholesky()
            #expect(l.shape == batch + [n, n])
            let lv = l.scalars
            for f in 0..<lv.count {
                let i = unravel(f, batch + [n, n])
                if i[i.count - 1] > i[i.count - 2] { #expect(lv[f] == 0, "upper entry of L") }
                if i[i.count - 1] == i[i.count - 2] { #expect(lv[f] > 0, "diagonal of L") }
            }
            #expect(relativeResidual(l.matmul(l.transposed()), spd) < tol(dtype) * 10, "L Lᵀ = A \(batch) \(dtype)")
        }
        let notPD = Tensor([1, 2, 2, 1] as [Double], shape: [2, 2])
        #expect(throws: TensorError.self) { try notPD.cholesky() }
    }

    @Test(arguments: [DType.float32, .float64])
    func qr(dtype: DType) throws {
        for (batch, m, n) in [([], 5, 3), ([2], 4, 4), ([2, 2], 6, 2)] as [([Int], Int, Int)] {
            var rng = TestRNG(113)
            let a = Tensor(rng.values(elementCount(batch) * m * n), shape: batch + [m, n]).to(dtype)
            let (q, r) = try a.qr()
            #expect(q.shape == batch + [m, n])
            #expect(r.shape == batch + [n, n])
            #expect(relativeResidual(q.matmul(r), a) < tol(dtype) * 10, "QR = A \(batch) \(dtype)")
            let qtq = q.transposed().matmul(q)
            #expect(relativeResidual(qtq, Tensor.eye(n, dtype: dtype).expanded(to: batch + [n, n])) < tol(dtype) * 10,
                    "QᵀQ = I \(batch) \(dtype)")
            let rv = r.scalars
            for f in 0..<rv.count {
                let i = unravel(f, batch + [n, n])
                if i[i.count - 1] < i[i.count - 2] { #expect(rv[f] == 0, "R is upper triangular") }
            }
        }
        #expect(throws: TensorError.self) { try Tensor.zeros([2, 3]).qr() }
    }

    @Test func lowerTriangle() {
        let x = Tensor((1...9).map { Double($0) }, shape: [3, 3])
        #expect(x.lowerTriangle().scalars == [1, 0, 0, 4, 5, 0, 7, 8, 9])
        #expect(x.lowerTriangle(upper: true).scalars == [1, 2, 3, 0, 5, 6, 0, 0, 9])
        #expect(x.lowerTriangle(diagonal: -1).scalars == [0, 0, 0, 4, 0, 0, 7, 8, 0])
    }
}
