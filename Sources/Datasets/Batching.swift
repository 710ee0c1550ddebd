import Foundation
import Tensors

/// Cuts a token sequence into `batchSize` parallel streams, time-major: [steps, batchSize], where
/// column b holds the b-th contiguous slice. Trailing tokens that do not fill a row are dropped.
///
/// ```swift
/// let streams = batchify(ids, batchSize: 20)   // [N / 20, 20]
/// ```
public func batchify(_ ids: [Int], batchSize: Int) throws(DatasetError) -> Tensor {
    guard batchSize > 0 else { throw DatasetError("the batch size must be positive, got \(batchSize); pass --batch-size N with N ≥ 1") }
    let steps = ids.count / batchSize
    guard steps >= 2 else {
        throw DatasetError("\(ids.count) tokens are too few for \(batchSize) streams of at least 2 tokens; lower --batch-size")
    }
    var out = [Int64](repeating: 0, count: steps * batchSize)
    for b in 0..<batchSize {
        for t in 0..<steps { out[t * batchSize + b] = Int64(ids[b * steps + t]) }
    }
    return Tensor(out, shape: [steps, batchSize])
}

/// A small seeded generator (SplitMix64) whose whole state is one integer, so a data position
/// can be saved in a checkpoint and resumed exactly.
public struct SplitMix64: Sendable, Equatable {
    public var state: UInt64
    public init(seed: UInt64) { state = seed }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// Uniform in [0, 1).
    public mutating func uniform() -> Double { Double(next() >> 11) * 0x1p-53 }

    /// Standard normal (Box–Muller).
    public mutating func normal() -> Double {
        let u1 = Swift.max(uniform(), 1e-300), u2 = uniform()
        return (-2 * log(u1)).squareRoot() * cos(2 * Double.pi * u2)
    }
}

/// One truncated-BPTT window: inputs and next-token targets, both [length, batch].
public struct BPTTBatch {
    public var input: Tensor
    public var target: Tensor
    /// Where the window starts in the streams.
    public var position: Int
    public var length: Int { input.shape[0] }
}

/// Walks batchified streams in windows. With `variableLength` the window length is drawn per
/// window as the AWD-LSTM / Transformer-XL iterators do: the base length, halved with
/// probability 0.05, plus normal noise of standard deviation `lengthStd`, clamped to
/// [`minLength`, base + `maxExtra`]. The position and the generator are plain values
/// (``State``), so a run can be resumed at the same window.
public struct BPTTIterator {
    /// What a checkpoint saves to resume at the same window.
    public struct State: Equatable, Sendable, Codable {
        public var position: Int
        public var epoch: Int
        public var random: UInt64
        public init(position: Int, epoch: Int, random: UInt64) {
            self.position = position; self.epoch = epoch; self.random = random
        }
    }

    public let streams: Tensor
    public let bptt: Int
    public var variableLength: Bool
    public var lengthStd: Double = 5
    public var minLength: Int = 5
    public var maxExtra: Int = 20
    public private(set) var position = 0
    /// Completed passes over the streams.
    public private(set) var epoch = 0
    private var random: SplitMix64

    public init(streams: Tensor, bptt: Int, variableLength: Bool = false, seed: UInt64 = 0) throws(DatasetError) {
        guard streams.rank == 2 else { throw DatasetError("BPTT needs batchified streams [steps, batch], got shape \(streams.shape)") }
        guard bptt > 0 else { throw DatasetError("the BPTT length must be positive, got \(bptt); pass --bptt N with N ≥ 1") }
        self.streams = streams
        self.bptt = bptt
        self.variableLength = variableLength
        random = SplitMix64(seed: seed)
    }

    public var state: State {
        get { State(position: position, epoch: epoch, random: random.state) }
        set { position = newValue.position; epoch = newValue.epoch; random.state = newValue.random }
    }

    /// Restores a saved state after checking it fits these streams (a checkpoint's data position
    /// is user input: a checkpoint of another corpus or batch size would point outside them).
    public mutating func restore(_ saved: State) throws(DatasetError) {
        let steps = streams.shape[0]
        guard saved.position >= 0, saved.position <= steps, saved.epoch >= 0 else {
            throw DatasetError("the saved data position \(saved.position) (epoch \(saved.epoch)) is outside these \(steps)-step streams; resume with the data and --batch-size the run was started with, or start a new run")
        }
        state = saved
    }

    /// The number of windows in one pass with the fixed length.
    public var windowsPerEpoch: Int { (streams.shape[0] - 1 + bptt - 1) / bptt }

    /// The length of the next window before clipping to the data left.
    private mutating func drawLength() -> Int {
        guard variableLength else { return bptt }
        let base = random.uniform() < 0.95 ? Double(bptt) : Double(bptt) / 2
        let len = Int(base + lengthStd * random.normal())
        return Swift.min(Swift.max(len, minLength), bptt + maxExtra)
    }

    /// The next window; `nil` at the end of a pass (the next call starts the next pass, and
    /// `epoch` counts it).
    public mutating func next() -> BPTTBatch? {
        let steps = streams.shape[0]
        if position >= steps - 1 {
            position = 0
            epoch += 1
            return nil
        }
        let len = Swift.min(drawLength(), steps - 1 - position)
        let batch = BPTTBatch(input: streams.narrow(0, start: position, length: len).contiguous(),
                              target: streams.narrow(0, start: position + 1, length: len).contiguous(),
                              position: position)
        position += len
        return batch
    }

    /// Every window of one pass from the start, with the fixed length (evaluation).
    public func fixedWindows() -> [BPTTBatch] {
        var it = self
        it.variableLength = false
        it.position = 0
        var out: [BPTTBatch] = []
        while let b = it.next() { out.append(b) }
        return out
    }
}
