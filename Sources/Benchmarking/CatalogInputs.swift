import DEQ
import Models
import NN
import Solvers
import Tensors

/// Random float64 inputs for gradient checks, shaped to stay clear of the points where an
/// operation is not differentiable (zero for abs and relu, ties for max, clamp bounds).
struct CatalogInputs {
    let generator: RandomGenerator

    /// A random size in `low...high`.
    func dim(_ low: Int = 2, _ high: Int = 4) -> Int {
        let u = Tensor.rand([], dtype: .float64, generator: generator).item
        return Swift.min(high, low + Int(u * Double(high - low + 1)))
    }

    func normal(_ shape: [Int]) -> Tensor {
        Tensor.randn(shape, dtype: .float64, generator: generator)
    }

    func uniform(_ shape: [Int], _ low: Double, _ high: Double) -> Tensor {
        Tensor.rand(shape, low: low, high: high, dtype: .float64, generator: generator)
    }

    /// Values with |v| in [margin, margin + 1.3] and random signs.
    func awayFromZero(_ shape: [Int], margin: Double = 0.2) -> Tensor {
        let magnitude = uniform(shape, margin, margin + 1.3)
        return Tensor.where(bools(shape), magnitude, -magnitude)
    }

    /// Uniform values in [low, high] moved at least `margin` away from each of `points`.
    func avoiding(_ shape: [Int], _ points: [Double], margin: Double, low: Double, high: Double) -> Tensor {
        var values = uniform(shape, low, high).scalars
        for i in values.indices {
            for p in points where Swift.abs(values[i] - p) < margin {
                values[i] = values[i] >= p ? p + margin : p - margin
            }
        }
        return Tensor(values, shape: shape)
    }

    /// Values in random order, no two closer than about `spacing` (no ties for max and min).
    /// The default spacing keeps the values within about ±1.5, since large values make the
    /// finite differences noisier.
    func distinct(_ shape: [Int], spacing: Double? = nil) -> Tensor {
        let n = shape.reduce(1, *)
        let spacing = spacing ?? Swift.max(3.0 / Double(Swift.max(n, 1)), 0.02)
        let keys = uniform([n], 0, 1).scalars
        let jitter = uniform([n], 0, spacing * 0.3).scalars
        let order = keys.indices.sorted { keys[$0] < keys[$1] }
        var values = [Double](repeating: 0, count: n)
        for (rank, i) in order.enumerated() {
            values[i] = (Double(rank) - Double(n) / 2) * spacing + jitter[i]
        }
        return Tensor(values, shape: shape)
    }

    /// A random bool mask.
    func bools(_ shape: [Int]) -> Tensor {
        uniform(shape, 0, 1) .> 0.5
    }

    /// Random int64 indices in `0..<bound` (repeats included, so accumulation is exercised).
    func indices(_ shape: [Int], below bound: Int) -> Tensor {
        Tensor.randint(0, bound, shape, generator: generator)
    }

    /// A well-conditioned square matrix (or batch): diagonally dominant.
    func wellConditioned(_ batch: [Int], _ n: Int) -> Tensor {
        let noise = normal(batch + [n, n]) * 0.5
        return (noise + Tensor.eye(n, dtype: .float64) * Double(n)).contiguous()
    }
}
