import Foundation
import Tensors

/// Examples with a feature vector and an integer class label, e.g. the 8×8 digits: features
/// [N, F] (float) and labels [N] (int64). Shuffling, splitting and batching work on row indices,
/// so they never copy the table until a batch is made.
///
/// ```swift
/// let digits = try TabularDataset(csv: try CSVTable.read(url), source: url.path)      // label: the last column
/// let (train, test) = try digits.split(trainFraction: 0.8, seed: 1)
/// let sampler = try BatchSampler(count: train.count, batchSize: 32, dropLast: true, seed: 2)
/// for indices in sampler.batches(epoch: 0) { let (x, y) = train.batch(indices) ... }
/// ```
public struct TabularDataset: Sendable {
    /// Row-major features, `count × featureCount`.
    public let features: [Double]
    public let labels: [Int]
    public let featureCount: Int
    public var count: Int { labels.count }
    /// One more than the largest label.
    public var classCount: Int { (labels.max() ?? -1) + 1 }

    /// Takes column `labelColumn` (negative counts from the end: -1 is the last) as the class
    /// label, which must be a whole number ≥ 0, and the other columns as features.
    public init(csv table: CSVTable, labelColumn: Int = -1, source: String) throws(DatasetError) {
        let width = table.columnCount
        guard width >= 2 else { throw DatasetError("\(source) has \(width) column; a labelled table needs features and a label column") }
        let column = labelColumn < 0 ? width + labelColumn : labelColumn
        guard column >= 0 && column < width else {
            throw DatasetError("label column \(labelColumn) is outside the \(width) columns of \(source); pass 0…\(width - 1) or -1 for the last")
        }
        var features: [Double] = []
        features.reserveCapacity(table.rows.count * (width - 1))
        var labels: [Int] = []
        for (r, row) in table.rows.enumerated() {
            let label = row[column]
            guard label >= 0, label == label.rounded(), label < Double(Int32.max) else {
                throw DatasetError("\(source) row \(r + 1): the label \(label) in column \(column + 1) is not a whole number ≥ 0; pick the label column with labelColumn")
            }
            labels.append(Int(label))
            for (c, v) in row.enumerated() where c != column { features.append(v) }
        }
        self.init(features: features, labels: labels, featureCount: width - 1)
    }

    init(features: [Double], labels: [Int], featureCount: Int) {
        self.features = features
        self.labels = labels
        self.featureCount = featureCount
    }

    /// The rows at `indices`, in that order.
    public func subset(_ indices: [Int]) -> TabularDataset {
        var f: [Double] = []
        f.reserveCapacity(indices.count * featureCount)
        for i in indices { f.append(contentsOf: features[(i * featureCount)..<((i + 1) * featureCount)]) }
        return TabularDataset(features: f, labels: indices.map { labels[$0] }, featureCount: featureCount)
    }

    /// The rows in a seeded random order (the same seed gives the same order on every machine).
    public func shuffled(seed: UInt64) -> TabularDataset { subset(Shuffle.permutation(count, seed: seed)) }

    /// A seeded shuffle cut in two: the first `trainFraction` of the rows, then the rest. Both
    /// parts must be non-empty.
    public func split(trainFraction: Double, seed: UInt64) throws(DatasetError) -> (train: TabularDataset, test: TabularDataset) {
        let (a, b) = try Shuffle.split(count: count, trainFraction: trainFraction, seed: seed)
        return (subset(a), subset(b))
    }

    /// Features [n, F] and labels [n] of the rows at `indices`.
    public func batch(_ indices: [Int], dtype: DType = .float32) -> (features: Tensor, labels: Tensor) {
        let part = subset(indices)
        return (Tensor(part.features, shape: [indices.count, featureCount]).to(dtype),
                Tensor(part.labels.map(Int64.init), shape: [indices.count]))
    }
}

/// Seeded permutations and splits of row indices (Fisher–Yates over ``SplitMix64``).
public enum Shuffle {
    /// A permutation of 0..<count determined by `seed`.
    public static func permutation(_ count: Int, seed: UInt64) -> [Int] {
        var order = Array(0..<Swift.max(count, 0))
        var random = SplitMix64(seed: seed)
        var i = order.count - 1
        while i > 0 {
            let j = Int(random.next() % UInt64(i + 1))
            order.swapAt(i, j)
            i -= 1
        }
        return order
    }

    /// Shuffled indices cut into the first ⌊count · trainFraction⌉ and the rest.
    public static func split(count: Int, trainFraction: Double, seed: UInt64) throws(DatasetError) -> (train: [Int], test: [Int]) {
        guard trainFraction > 0, trainFraction < 1 else {
            throw DatasetError("the training fraction must be between 0 and 1 (exclusive), got \(trainFraction)")
        }
        let cut = Int((Double(count) * trainFraction).rounded())
        guard cut > 0, cut < count else {
            throw DatasetError("splitting \(count) rows at \(trainFraction) leaves an empty part; use more rows or a fraction nearer 0.5")
        }
        let order = permutation(count, seed: seed)
        return (Array(order[..<cut]), Array(order[cut...]))
    }
}

/// Cuts 0..<count into batches of row indices, epoch by epoch: reshuffled every epoch (the order
/// of epoch e depends only on the seed and e, so a run resumes at any epoch), with the last short
/// batch kept or dropped.
public struct BatchSampler: Sendable, Equatable {
    public let count: Int
    public let batchSize: Int
    public let shuffles: Bool
    public let dropsLast: Bool
    public let seed: UInt64

    public init(count: Int, batchSize: Int, shuffle: Bool = true, dropLast: Bool = false, seed: UInt64 = 0) throws(DatasetError) {
        guard batchSize > 0 else { throw DatasetError("the batch size must be positive, got \(batchSize); pass --batch-size N with N ≥ 1") }
        guard count > 0 else { throw DatasetError("there are no rows to sample batches from; check the data file") }
        guard !dropLast || count >= batchSize else {
            throw DatasetError("\(count) rows make no full batch of \(batchSize) with drop-last; lower the batch size or keep the last batch")
        }
        self.count = count
        self.batchSize = batchSize
        self.shuffles = shuffle
        self.dropsLast = dropLast
        self.seed = seed
    }

    /// Batches in one epoch.
    public var batchesPerEpoch: Int { dropsLast ? count / batchSize : (count + batchSize - 1) / batchSize }

    /// The batches of epoch `epoch` (0-based).
    public func batches(epoch: Int) -> [[Int]] {
        var mix = SplitMix64(seed: seed ^ (UInt64(truncatingIfNeeded: epoch) &* 0x9E37_79B9_7F4A_7C15))
        let order = shuffles ? Shuffle.permutation(count, seed: mix.next()) : Array(0..<count)
        return (0..<batchesPerEpoch).map { b in Array(order[(b * batchSize)..<Swift.min(count, (b + 1) * batchSize)]) }
    }

    /// The batches of `epochs` epochs in a row, with the epoch of each.
    public func batches(epochs: Int) -> [(epoch: Int, indices: [Int])] {
        (0..<Swift.max(epochs, 0)).flatMap { e in batches(epoch: e).map { (e, $0) } }
    }
}
