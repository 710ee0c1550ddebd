/// Shape arithmetic shared by every op: element counts, contiguous strides, broadcasting and
/// axis normalisation.
enum ShapeMath {
    static func count(_ shape: [Int]) -> Int {
        var n = 1
        for d in shape { n *= d }
        return n
    }

    /// Row-major strides of a contiguous tensor of this shape.
    static func contiguousStrides(_ shape: [Int]) -> [Int] {
        var strides = [Int](repeating: 1, count: shape.count)
        var s = 1
        for i in stride(from: shape.count - 1, through: 0, by: -1) {
            strides[i] = s
            s *= Swift.max(shape[i], 1)
        }
        return strides
    }

    /// NumPy broadcasting of two shapes.
    static func broadcast(_ a: [Int], _ b: [Int]) throws(TensorError) -> [Int] {
        if a == b { return a }
        let n = Swift.max(a.count, b.count)
        var out = [Int](repeating: 1, count: n)
        for i in 0..<n {
            let da = i < n - a.count ? 1 : a[i - (n - a.count)]
            let db = i < n - b.count ? 1 : b[i - (n - b.count)]
            if da == db || db == 1 {
                out[i] = da
            } else if da == 1 {
                out[i] = db
            } else {
                throw TensorError("shapes \(describe(a)) and \(describe(b)) cannot be broadcast together: dimension \(i) is \(da) in one and \(db) in the other (each pair must be equal or one of them 1)")
            }
        }
        return out
    }

    /// Normalises a possibly negative axis for a tensor of the given rank.
    static func axis(_ axis: Int, rank: Int, op: String) throws(TensorError) -> Int {
        // A 0-d tensor accepts axis 0 and -1, as in PyTorch (and as the message below says).
        let a = axis < 0 ? axis + Swift.max(rank, 1) : axis
        guard a >= 0 && a < Swift.max(rank, 1) else {
            throw TensorError("\(op): axis \(axis) is out of range for a tensor of rank \(rank) (valid: \(-Swift.max(rank, 1)) to \(Swift.max(rank, 1) - 1))")
        }
        return a
    }
}

extension Tensor {
    /// The shape two shapes broadcast to, or an error naming both.
    public static func broadcastShapes(_ a: [Int], _ b: [Int]) throws(TensorError) -> [Int] {
        try ShapeMath.broadcast(a, b)
    }

    func normalizedAxis(_ axis: Int, _ op: String) -> Int {
        do { return try ShapeMath.axis(axis, rank: rank, op: op) } catch { fail(error.message) }
    }
}
