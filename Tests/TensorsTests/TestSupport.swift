import Foundation
import Testing
import Tensors

// Shared helpers: naive row-major index arithmetic, operand builders with different memory
// layouts, and closeness checks. References in the tests are plain Swift loops over [Double].

/// Row-major strides of a shape.
func rowMajorStrides(_ shape: [Int]) -> [Int] {
    var s = [Int](repeating: 1, count: shape.count)
    var acc = 1
    for i in stride(from: shape.count - 1, through: 0, by: -1) {
        s[i] = acc
        acc *= shape[i]
    }
    return s
}

/// The multi-index of flat position `flat` in a row-major array of `shape`.
func unravel(_ flat: Int, _ shape: [Int]) -> [Int] {
    var idx = [Int](repeating: 0, count: shape.count)
    var r = flat
    for i in stride(from: shape.count - 1, through: 0, by: -1) where shape[i] > 0 {
        idx[i] = r % shape[i]
        r /= shape[i]
    }
    return idx
}

/// The flat row-major position of a multi-index.
func ravel(_ idx: [Int], _ shape: [Int]) -> Int {
    var f = 0
    for (i, d) in shape.enumerated() { f = f * d + idx[i] }
    return f
}

func elementCount(_ shape: [Int]) -> Int { shape.reduce(1, *) }

/// The flat position in an operand of `shape` read at output index `outIdx` under NumPy broadcasting.
func broadcastSource(_ outIdx: [Int], _ shape: [Int]) -> Int {
    let lead = outIdx.count - shape.count
    var f = 0
    for (i, d) in shape.enumerated() { f = f * d + (d == 1 ? 0 : outIdx[lead + i]) }
    return f
}

/// NumPy's broadcast rule written independently of the library.
func referenceBroadcast(_ a: [Int], _ b: [Int]) -> [Int]? {
    let n = max(a.count, b.count)
    var out: [Int] = []
    for i in 0..<n {
        let da = i < n - a.count ? 1 : a[i - (n - a.count)]
        let db = i < n - b.count ? 1 : b[i - (n - b.count)]
        if da == db || db == 1 { out.append(da) } else if da == 1 { out.append(db) } else { return nil }
    }
    return out
}

/// How an operand is laid out in memory; the logical values are the same for every layout.
enum Layout: CaseIterable, CustomStringConvertible {
    /// Row-major, offset 0.
    case contiguous
    /// A permuted view (all axes reversed) of a contiguous base.
    case transposed
    /// A strided slice (every other element along axis 0, a narrowed window on the last axis).
    case sliced

    var description: String {
        switch self {
        case .contiguous: return "contiguous"
        case .transposed: return "transposed"
        case .sliced: return "sliced"
        }
    }
}

/// A tensor of `shape` holding `values` (row-major) in the given layout.
func laidOut(_ values: [Double], _ shape: [Int], _ dtype: DType, _ layout: Layout) -> Tensor {
    precondition(values.count == elementCount(shape))
    func make(_ v: [Double], _ s: [Int]) -> Tensor {
        switch dtype {
        case .float32: return Tensor(v.map { Float($0) }, shape: s)
        case .float64: return Tensor(v, shape: s)
        case .int64: return Tensor(v.map { Int64($0) }, shape: s)
        case .bool: return Tensor(v.map { $0 != 0 }, shape: s)
        }
    }
    switch layout {
    case .contiguous:
        return make(values, shape)
    case .transposed:
        // Store the data with reversed axes, then permute back: a non-contiguous view.
        let rev = Array(shape.reversed())
        var stored = [Double](repeating: 0, count: values.count)
        for f in 0..<values.count {
            let idx = unravel(f, shape)
            stored[ravel(Array(idx.reversed()), rev)] = values[f]
        }
        let order = Array((0..<shape.count).reversed())
        return make(stored, rev).permuted(order)
    case .sliced:
        guard !shape.isEmpty else { return make(values, shape) }
        if shape.count == 1 {
            // Every other element, starting at 1.
            var stored = [Double](repeating: -777, count: 2 * shape[0] + 1)
            for i in 0..<shape[0] { stored[2 * i + 1] = values[i] }
            return make(stored, [2 * shape[0] + 1]).sliced(0, 1, nil, step: 2)
        }
        // Base shape: axis 0 doubled (take every other row), last axis padded by 3 (narrow from 1).
        var base = shape
        base[0] *= 2
        base[base.count - 1] += 3
        var stored = [Double](repeating: -777, count: elementCount(base))
        for f in 0..<values.count {
            var idx = unravel(f, shape)
            idx[0] *= 2
            idx[idx.count - 1] += 1
            stored[ravel(idx, base)] = values[f]
        }
        let last = shape.count - 1
        return make(stored, base).sliced(0, 0, nil, step: 2).narrow(last, start: 1, length: shape[last])
    }
}

/// Deterministic pseudo-random doubles (a small LCG, independent of the library's generator).
struct TestRNG {
    var state: UInt64
    init(_ seed: UInt64) { state = seed &* 6364136223846793005 &+ 1442695040888963407 }
    mutating func next() -> UInt64 {
        state = state &* 6364136223846793005 &+ 1442695040888963407
        var z = state
        z = (z ^ (z >> 33)) &* 0xff51afd7ed558ccd
        return z ^ (z >> 33)
    }
    /// Uniform in [lo, hi).
    mutating func uniform(_ lo: Double = -1, _ hi: Double = 1) -> Double {
        lo + (hi - lo) * Double(next() >> 11) / Double(1 << 53)
    }
    mutating func values(_ n: Int, _ lo: Double = -2, _ hi: Double = 2) -> [Double] {
        (0..<n).map { _ in uniform(lo, hi) }
    }
    /// Integers in [lo, hi] as doubles.
    mutating func integers(_ n: Int, _ lo: Int, _ hi: Int) -> [Double] {
        (0..<n).map { _ in Double(lo + Int(next() % UInt64(hi - lo + 1))) }
    }
}

/// Values as the tensor's dtype stores them (float32 rounding applied), so references start from the same inputs.
func stored(_ values: [Double], _ dtype: DType) -> [Double] {
    switch dtype {
    case .float32: return values.map { Double(Float($0)) }
    case .int64: return values.map { Double(Int64($0)) }
    case .bool: return values.map { $0 != 0 ? 1 : 0 }
    case .float64: return values
    }
}

/// Default tolerances for comparing a dtype's result with a float64 reference.
func tolerance(_ dtype: DType) -> (rel: Double, abs: Double) {
    switch dtype {
    case .float32: return (2e-5, 2e-6)
    case .float64: return (1e-12, 1e-13)
    default: return (0, 0)
    }
}

/// Checks shape and every element against the reference (NaNs must match NaNs, infinities exactly).
func expectClose(_ actual: Tensor, _ expected: [Double], shape: [Int], rel: Double? = nil, abs: Double? = nil,
                 _ what: @autoclosure () -> String = "",
                 sourceLocation: SourceLocation = #_sourceLocation) {
    #expect(actual.shape == shape, "\(what()): shape \(actual.shape) != \(shape)", sourceLocation: sourceLocation)
    guard actual.shape == shape else { return }
    let tol = tolerance(actual.dtype)
    let rtol = rel ?? tol.rel, atol = abs ?? tol.abs
    let got = actual.scalars
    var failures = 0
    for i in 0..<expected.count {
        let e = expected[i], g = got[i]
        let ok: Bool
        if e.isNaN { ok = g.isNaN } else if e.isInfinite { ok = g == e } else {
            ok = Swift.abs(g - e) <= atol + rtol * Swift.abs(e)
        }
        if !ok {
            failures += 1
            if failures <= 3 {
                Issue.record("\(what()): element \(i) (index \(unravel(i, shape))) is \(g), expected \(e)",
                             sourceLocation: sourceLocation)
            }
        }
    }
    if failures > 3 {
        Issue.record("\(what()): \(failures) elements differ in total", sourceLocation: sourceLocation)
    }
}

/// Reduces `values` of `shape` over `axes` with `combine` applied to each group (row-major order
/// within a group). Returns the values and the keepDim / plain shapes.
func referenceReduce(_ values: [Double], _ shape: [Int], axes: [Int], keepDim: Bool,
                     _ combine: ([Double]) -> Double) -> (values: [Double], shape: [Int]) {
    let ax = Set(axes.map { $0 < 0 ? $0 + shape.count : $0 })
    let keptShape = shape.enumerated().map { ax.contains($0.offset) ? 1 : $0.element }
    var groups = [[Double]](repeating: [], count: elementCount(keptShape))
    for f in 0..<values.count {
        var idx = unravel(f, shape)
        for a in ax { idx[a] = 0 }
        groups[ravel(idx, keptShape)].append(values[f])
    }
    let outShape = keepDim ? keptShape : shape.enumerated().filter { !ax.contains($0.offset) }.map(\.element)
    return (groups.map(combine), outShape)
}

/// Every subset of 0..<rank (including the empty set).
func allAxisSubsets(rank: Int) -> [[Int]] {
    (0..<(1 << rank)).map { mask in (0..<rank).filter { mask & (1 << $0) != 0 } }
}

/// Naive float64 matrix product of row-major [m, k] and [k, n].
func referenceMatmul(_ a: [Double], _ b: [Double], m: Int, k: Int, n: Int) -> [Double] {
    var out = [Double](repeating: 0, count: m * n)
    for i in 0..<m {
        for j in 0..<n {
            var s = 0.0
            for p in 0..<k { s += a[i * k + p] * b[p * n + j] }
            out[i * n + j] = s
        }
    }
    return out
}

/// Largest absolute entry of a tensor, as a Double.
func maxAbs(_ t: Tensor) -> Double { t.scalars.map { Swift.abs($0) }.max() ?? 0 }
