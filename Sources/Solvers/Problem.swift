import Foundation
import Tensors

/// The problem as every method sees it: a batch of flat samples x [B, n] and a residual
/// g(x) [B, n] whose zero is wanted. Counts function evaluations.
final class Problem {
    let batch: Int
    let width: Int
    let dtype: DType
    /// True for x = f(x) (then g = f(x) − x and the relative residual divides by ‖f(x)‖).
    let isFixedPoint: Bool
    /// c in the initial Jacobian guess J ≈ c·I.
    let jacobianGuess: Double
    private let originalShape: [Int]
    private let map: (Tensor) -> Tensor
    private(set) var evaluations = 0

    init(map: @escaping (Tensor) -> Tensor, x0: Tensor, isFixedPoint: Bool, jacobianGuess: Double) {
        precondition(x0.dtype == .float32 || x0.dtype == .float64,
                     "solve: x0 is \(x0.dtype); pass a float32 or float64 starting point")
        precondition(x0.rank >= 1 && x0.count > 0,
                     "solve: x0 has shape \(x0.shape); give it a leading sample axis and at least one element")
        precondition(jacobianGuess != 0 && jacobianGuess.isFinite,
                     "solve: jacobianGuess is \(jacobianGuess); pass a finite non-zero scalar (−1 for x = f(x))")
        self.batch = x0.shape[0]
        self.width = x0.count / x0.shape[0]
        self.dtype = x0.dtype
        self.isFixedPoint = isFixedPoint
        self.jacobianGuess = jacobianGuess
        self.originalShape = x0.shape
        self.map = map
    }

    /// The user's view of a flat batch.
    func unflatten(_ x: Tensor) -> Tensor { x.reshaped(originalShape) }
    /// A flat [B, n] view of a user-shaped tensor.
    func flatten(_ x: Tensor) -> Tensor { x.reshaped([batch, width]) }

    /// g(x) for the whole batch without recording a graph; counts one evaluation.
    func residual(_ x: Tensor) -> Tensor {
        evaluations += 1
        return withoutGradients { differentiableResidual(x) }
    }

    /// g(x) built from tensor ops (differentiable when gradients are on).
    func differentiableResidual(_ x: Tensor) -> Tensor {
        let y = map(unflatten(x))
        precondition(y.shape == originalShape,
                     "solve: the function returned shape \(y.shape) for an input of shape \(originalShape); it must keep the shape")
        precondition(y.dtype == dtype, "solve: the function returned \(y.dtype) for \(dtype) input; keep the dtype")
        let flat = y.reshaped([batch, width])
        return isFixedPoint ? flat - x : flat
    }

    /// The step of the undamped fixed-point map, −g/c (= f(x) − x for a fixed-point problem).
    func step(_ g: Tensor) -> Tensor {
        jacobianGuess == -1 ? g : g * (-1 / jacobianGuess)
    }

    /// Records `count` extra evaluations (autodiff products).
    func countEvaluations(_ count: Int) { evaluations += count }
}

/// Per-sample l2 or max norms of a [B, n] tensor, and whether each row is finite.
func rowNorms(_ t: Tensor, _ norm: ResidualNorm) -> (norms: [Double], finite: [Bool]) {
    // NaN and infinity propagate through a sum of squares (so does overflow past ~1e154, which
    // the divergence test has stopped long before).
    if let (ss, mx) = rowStatistics(t) {
        let finite = ss.map { $0.isFinite }
        return (norm == .l2 ? ss.map { $0.squareRoot() } : mx, finite)
    }
    let ss = t.square().sum(axis: 1).scalars
    let finite = ss.map { $0.isFinite }
    switch norm {
    case .l2: return (ss.map { $0.squareRoot() }, finite)
    case .max: return (t.abs().max(axis: 1).scalars, finite)
    }
}

/// Per-sample dot products of two [B, n] tensors as [B, 1].
func rowDots(_ a: Tensor, _ b: Tensor) -> Tensor { (a * b).sum(axis: 1, keepDim: true) }

/// A [B, 1] bool mask from per-sample flags.
func sampleMask(_ flags: [Bool]) -> Tensor { Tensor(flags, shape: [flags.count, 1]) }

/// A [B, 1] tensor of per-sample scalars.
func sampleColumn(_ values: [Double], dtype: DType) -> Tensor {
    Tensor(values, shape: [values.count, 1]).to(dtype)
}

/// A preallocated [B, capacity, n] buffer of per-sample rows; slots are overwritten in place so
/// its memory is fixed when it is created.
final class RowHistory {
    private(set) var buffer: Tensor
    private(set) var capacity: Int
    private let batch: Int
    private let width: Int

    init(batch: Int, capacity: Int, width: Int, dtype: DType) {
        self.batch = batch
        self.capacity = capacity
        self.width = width
        buffer = Tensor.zeros([batch, capacity, width], dtype: dtype)
    }

    /// Grows to `newCapacity` slots, keeping every slot's contents (full Broyden grows with the
    /// iterations it takes instead of allocating for its limit up front).
    func grow(to newCapacity: Int) {
        guard newCapacity > capacity else { return }
        let bigger = Tensor.zeros([batch, newCapacity, width], dtype: buffer.dtype)
        let rowBytes = width * buffer.dtype.byteSize
        for b in 0..<batch {
            memcpy(bigger.baseAddress + b * newCapacity * rowBytes, buffer.baseAddress + b * capacity * rowBytes, capacity * rowBytes)
        }
        buffer = bigger
        capacity = newCapacity
    }

    /// Writes row b of `rows` [B, n] into slot `slot` of sample b, for every sample.
    func write(_ rows: Tensor, slot: Int) {
        let src = rows.contiguous()
        let bytes = width * buffer.dtype.byteSize
        for b in 0..<batch {
            memcpy(buffer.baseAddress + (b * capacity + slot) * bytes, src.baseAddress + b * bytes, bytes)
        }
    }

    /// Zeroes every slot of sample b (forgets its history).
    func clear(sample b: Int) {
        let bytes = width * buffer.dtype.byteSize
        memset(buffer.baseAddress + b * capacity * bytes, 0, capacity * bytes)
    }

    /// Zeroes everything.
    func clearAll() { memset(buffer.baseAddress, 0, batch * capacity * width * buffer.dtype.byteSize) }

    /// The first `count` slots as a [B, count, n] view.
    func used(_ count: Int) -> Tensor { buffer.narrow(1, start: 0, length: count) }

    /// Σ_j rows_j · coefficients_j for coefficients [B, count, 1]: a [B, n] tensor.
    func combine(_ coefficients: Tensor, count: Int) -> Tensor {
        used(count).transposed(1, 2).matmul(coefficients).squeezed(2)
    }

    /// Dot products of every used slot with x [B, n]: [B, count, 1].
    func dots(_ x: Tensor, count: Int) -> Tensor {
        used(count).matmul(x.unsqueezed(2))
    }
}
