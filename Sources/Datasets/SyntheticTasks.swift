import Tensors

/// Synthetic long-memory tasks made in code, each drawing a fresh batch from a generator.
public enum SyntheticTask {
    /// Sizes come from flags, so a bad one is an error naming the size and the task, not a trap.
    static func require(_ ok: Bool, _ message: @autoclosure () -> String) throws(DatasetError) {
        guard ok else { throw DatasetError(message()) }
    }

    /// One batch of a sequence task.
    public struct Batch {
        /// Time-major inputs: int64 [T, batch] for token tasks, float [T, batch, features] otherwise.
        public var input: Tensor
        /// Targets: int64 [T, batch] (copy memory), int64 [batch] (N-th farthest), float [batch] (adding).
        public var target: Tensor

        public init(input: Tensor, target: Tensor) {
            self.input = input
            self.target = target
        }
    }

    /// The copy-memory task (Hochreiter & Schmidhuber 1997; Arjovsky et al. 2016): `length`
    /// symbols drawn from 1…`alphabet`, `delay` blanks (0), then a delimiter (`alphabet + 1`) and
    /// `length - 1` more blanks; the target is blanks until the delimiter, then the symbols.
    /// Sequences are `length + delay + length` long; classes are 0…`alphabet + 1`.
    public static func copyMemory(batch: Int, length: Int = 10, delay: Int = 100, alphabet: Int = 8,
                                  generator: RandomGenerator? = nil) throws(DatasetError) -> Batch {
        try require(batch > 0, "copy memory: the batch size must be positive, got \(batch)")
        try require(length > 0, "copy memory: the length (symbols to copy) must be positive, got \(length)")
        try require(delay >= 0, "copy memory: the delay must be 0 or more steps, got \(delay)")
        try require(alphabet > 0, "copy memory: the alphabet must hold at least 1 symbol, got \(alphabet)")
        let total = 2 * length + delay
        let symbols = Tensor.randint(1, alphabet + 1, [batch, length], generator: generator).toArray(Int64.self)
        var input = [Int64](repeating: 0, count: total * batch)
        var target = [Int64](repeating: 0, count: total * batch)
        for b in 0..<batch {
            for i in 0..<length {
                input[i * batch + b] = symbols[b * length + i]
                target[(length + delay + i) * batch + b] = symbols[b * length + i]
            }
            input[(length + delay - 1) * batch + b] = Int64(alphabet + 1)
        }
        return Batch(input: Tensor(input, shape: [total, batch]), target: Tensor(target, shape: [total, batch]))
    }

    /// The adding problem (Hochreiter & Schmidhuber 1997): each step has a value in [0, 1) and a
    /// marker; exactly two markers are 1, one in each half; the target is the sum of the two
    /// marked values. Input [length, batch, 2], target [batch].
    public static func adding(batch: Int, length: Int = 50, dtype: DType = .float32,
                              generator: RandomGenerator? = nil) throws(DatasetError) -> Batch {
        try require(batch > 0, "adding problem: the batch size must be positive, got \(batch)")
        try require(length >= 2, "adding problem: the length must be at least 2 steps, got \(length)")
        let values = Tensor.rand([length, batch], dtype: .float64, generator: generator).toArray(Double.self)
        let half = length / 2
        let first = Tensor.randint(0, half, [batch], generator: generator).toArray(Int64.self)
        let second = Tensor.randint(half, length, [batch], generator: generator).toArray(Int64.self)
        var input = [Double](repeating: 0, count: length * batch * 2)
        var target = [Double](repeating: 0, count: batch)
        for t in 0..<length {
            for b in 0..<batch { input[(t * batch + b) * 2] = values[t * batch + b] }
        }
        for b in 0..<batch {
            for t in [Int(first[b]), Int(second[b])] {
                input[(t * batch + b) * 2 + 1] = 1
                target[b] += values[t * batch + b]
            }
        }
        return Batch(input: Tensor(input, shape: [length, batch, 2]).to(dtype), target: Tensor(target, shape: [batch]).to(dtype))
    }

    /// The N-th farthest task (Santoro et al. 2018), as relational-rnn-pytorch's
    /// `train_nth_farthest.py` draws it: `count` vectors of `dimension` entries from U(-1, 1), each
    /// with a random label (a permutation of 0..<count); the question names a rank n and the label m
    /// of a reference vector, and the answer is the label of the vector that is n-th farthest from
    /// it (Euclidean distance; n = 0 is the farthest, and the reference vector itself is the
    /// nearest). Each time step presents one vector with its one-hot label, the one-hot n and the
    /// one-hot m: input [count, batch, dimension + 3·count], target int64 [batch] (a label).
    public static func nthFarthest(batch: Int, count: Int = 8, dimension: Int = 16, dtype: DType = .float32,
                                   generator: RandomGenerator? = nil) throws(DatasetError) -> Batch {
        try require(batch > 0, "N-th farthest: the batch size must be positive, got \(batch)")
        try require(count >= 2, "N-th farthest: the count must be at least 2 vectors, got \(count)")
        try require(dimension > 0, "N-th farthest: the dimension must be positive, got \(dimension)")
        let vectors = Tensor.rand([batch, count, dimension], low: -1, high: 1, dtype: .float64, generator: generator).toArray(Double.self)
        let ranks = Tensor.randint(0, count, [batch], generator: generator).toArray(Int64.self)
        let refs = Tensor.randint(0, count, [batch], generator: generator).toArray(Int64.self)
        // Random labels: the order of uniform keys is a uniformly random permutation.
        let keys = Tensor.rand([batch, count], dtype: .float64, generator: generator).toArray(Double.self)
        let features = dimension + 3 * count
        var input = [Double](repeating: 0, count: count * batch * features)
        var target = [Int64](repeating: 0, count: batch)
        for b in 0..<batch {
            let r = Int(refs[b]), n = Int(ranks[b])
            let labels = (0..<count).sorted { keys[b * count + $0] < keys[b * count + $1] }
            func vec(_ i: Int) -> ArraySlice<Double> { vectors[((b * count + i) * dimension)..<((b * count + i + 1) * dimension)] }
            let ref = Array(vec(r))
            var distances: [(Double, Int)] = []
            for i in 0..<count {
                let d = zip(vec(i), ref).reduce(0.0) { $0 + ($1.0 - $1.1) * ($1.0 - $1.1) }
                distances.append((d, i))
                let base = (i * batch + b) * features
                for (k, x) in vec(i).enumerated() { input[base + k] = x }
                input[base + dimension + labels[i]] = 1
                input[base + dimension + count + n] = 1
                input[base + dimension + 2 * count + labels[r]] = 1
            }
            // Farthest first; ties (measure zero) broken by position for determinism.
            distances.sort { $0.0 != $1.0 ? $0.0 > $1.0 : $0.1 < $1.1 }
            target[b] = Int64(labels[distances[n].1])
        }
        return Batch(input: Tensor(input, shape: [count, batch, features]).to(dtype), target: Tensor(target, shape: [batch]))
    }
}
