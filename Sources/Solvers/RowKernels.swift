import CKernels
import Tensors

/// Raw loops over contiguous float rows for the solvers' per-iteration bookkeeping. Each replaces
/// a chain of tensor ops (a fresh tensor and a pass per op) by one pass without allocation:
/// on tanh-256 (batch 32, n = 256) the tensor form of Anderson's bookkeeping cost 1.1 ms per
/// iteration at m = 10 against 0.77 ms for one evaluation of the map.
protocol RowScalar: BinaryFloatingPoint {
    init(_ value: Double)
    var asDouble: Double { get }
}

extension Double: RowScalar { var asDouble: Double { self } }
extension Float: RowScalar { var asDouble: Double { Double(self) } }

/// The typed base pointer of a contiguous tensor.
@inline(__always) func rows<T: RowScalar>(_ t: Tensor, _: T.Type) -> UnsafeMutablePointer<T> {
    t.baseAddress.assumingMemoryBound(to: T.self)
}

/// Σ a_i b_i over n elements, four independent partial sums (a single chain is latency-bound).
@inline(__always) func dot<T: RowScalar>(_ a: UnsafePointer<T>, _ b: UnsafePointer<T>, _ n: Int) -> Double {
    var s0: T = 0, s1: T = 0, s2: T = 0, s3: T = 0
    var i = 0
    while i + 4 <= n {
        s0 += a[i] * b[i]; s1 += a[i + 1] * b[i + 1]; s2 += a[i + 2] * b[i + 2]; s3 += a[i + 3] * b[i + 3]
        i += 4
    }
    while i < n { s0 += a[i] * b[i]; i += 1 }
    return (s0 + s1).asDouble + (s2 + s3).asDouble
}

/// Per-row sum of squares and largest absolute value of a contiguous [B, n] float tensor, in one
/// vectorised pass (`eq_row_stats`; the Swift loop it replaces could not vectorise its
/// NaN-aware max and was 2.3% of an Anderson solve of tanh-256).
func rowStatistics(_ t: Tensor) -> (sumSquares: [Double], maxAbs: [Double])? {
    guard t.isContiguous, t.rank == 2, t.dtype == .float64 || t.dtype == .float32 else { return nil }
    let b = t.shape[0], n = t.shape[1]
    var ss = [Double](repeating: 0, count: b), mx = [Double](repeating: 0, count: b)
    let code = Int32(t.dtype == .float64 ? EQ_F64.rawValue : EQ_F32.rawValue)
    ss.withUnsafeMutableBufferPointer { s in
        mx.withUnsafeMutableBufferPointer { m in
            eq_row_stats(code, Int64(b), Int64(n), t.baseAddress, s.baseAddress!, m.baseAddress!)
        }
    }
    return (ss, mx)
}

/// Solves the symmetric positive definite system A γ = r (k × k, row-major, float64) by
/// Cholesky. Returns nil when a pivot is not positive relative to its diagonal entry (the
/// system is singular to working precision) or the solution is not finite.
func choleskySolve(_ a: inout [Double], _ r: [Double], _ k: Int) -> [Double]? {
    // Upper factor U with A = UᵀU, in place; the inner loop runs along rows (contiguous). A pivot
    // is judged against its own diagonal entry (columns differ in scale by orders of magnitude as
    // a solve converges): below 1e-14 of it the system is singular to working precision.
    // Unchecked pointers: with array indexing this was 3.5% of an Anderson m = 30 solve on
    // tanh-256 (about a fifth of the solver's own work), its inner loop not vectorised.
    let singular = a.withUnsafeMutableBufferPointer { buffer -> Bool in
        let u = buffer.baseAddress!
        var original = [Double](repeating: 0, count: k)
        for i in 0..<k { original[i] = u[i * k + i] }
        for p in 0..<k {
            let diagonal = u[p * k + p]
            guard diagonal > 1e-14 * original[p], diagonal.isFinite else { return true }
            let d = diagonal.squareRoot()
            u[p * k + p] = d
            let rowP = u + p * k
            for j in (p + 1)..<Swift.max(k, p + 1) { rowP[j] /= d }
            for i in (p + 1)..<Swift.max(k, p + 1) {
                let f = rowP[i], rowI = u + i * k
                for j in i..<k { rowI[j] -= f * rowP[j] }
            }
        }
        return false
    }
    return singular ? nil : choleskyBackSolve(a, r, k)
}

/// Solves UᵀU γ = r with U the upper factor left in `u` by ``choleskySolve``.
private func choleskyBackSolve(_ u: [Double], _ r: [Double], _ k: Int) -> [Double]? {
    var y = r
    for i in 0..<k {                          // Uᵀ y = r
        var s = y[i]
        for p in 0..<i { s -= u[p * k + i] * y[p] }
        y[i] = s / u[i * k + i]
    }
    for i in stride(from: k - 1, through: 0, by: -1) {   // U γ = y
        var s = y[i]
        for j in (i + 1)..<Swift.max(k, i + 1) { s -= u[i * k + j] * y[j] }
        y[i] = s / u[i * k + i]
    }
    return y.allSatisfy { $0.isFinite } ? y : nil
}
