import Foundation
import Tensors

/// Splits a vocabulary into clusters by cutoffs: cluster i holds ids [bounds[i], bounds[i+1]).
struct VocabularyClusters {
    let bounds: [Int]

    init(cutoffs: [Int], vocabulary: Int, layer: String) {
        do { try Self.validate(cutoffs: cutoffs, vocabulary: vocabulary, layer: layer) } catch { fail(error.message) }
        bounds = [0] + cutoffs + [vocabulary]
    }

    /// Cutoffs must be strictly increasing, positive and below the vocabulary size.
    static func validate(cutoffs: [Int], vocabulary: Int, layer: String) throws(NNError) {
        guard zip(cutoffs, cutoffs.dropFirst()).allSatisfy({ $0 < $1 }), (cutoffs.first ?? 1) > 0, (cutoffs.last ?? 0) < vocabulary else {
            throw NNError("\(layer): cutoffs \(cutoffs.map(String.init).joined(separator: ",")) must be strictly increasing, positive and below the vocabulary size \(vocabulary), e.g. 2000,10000")
        }
    }

    var count: Int { bounds.count - 1 }

    /// For each cluster, the positions of the ids that fall in it and those ids relative to its start.
    func partition(_ ids: [Int64]) -> [(positions: [Int64], local: [Int64])] {
        var out = Array(repeating: (positions: [Int64](), local: [Int64]()), count: count)
        for (p, id) in ids.enumerated() {
            guard id >= 0 && Int(id) < bounds.last! else {
                fail("token id \(id) is outside the vocabulary of size \(bounds.last!)")
            }
            var c = 0
            while Int(id) >= bounds[c + 1] { c += 1 }
            out[c].positions.append(Int64(p))
            out[c].local.append(id - Int64(bounds[c]))
        }
        return out
    }
}

/// Adaptive input embeddings (Baevski & Auli), in Transformer-XL's layout: with `divisor` > 1,
/// cluster i gets embeddings of size embeddingSize/divisor^i, each projected to `dimension`; with
/// `divisor` 1 there is one table of size `embeddingSize` over the whole vocabulary, projected only
/// when embeddingSize ≠ dimension (the cutoffs then shape only the softmax). Output is scaled by
/// √dimension as in Transformer-XL.
///
/// ```swift
/// let emb = AdaptiveEmbedding(267735, 1024, cutoffs: [20000, 40000, 200000], divisor: 4); let x = emb(tokens)
/// ```
public final class AdaptiveEmbedding: Layer {
    public let dimension: Int
    public let embeddingSize: Int
    public let divisor: Int
    public var embeddings: [Embedding]
    public var projections: [Linear]
    let clusters: VocabularyClusters
    public let scale: Double

    public init(_ vocabulary: Int, _ dimension: Int, embeddingSize: Int? = nil, cutoffs: [Int], divisor: Int = 4,
                scaled: Bool = true, std: Double = 0.02, dtype: DType = .float32) {
        self.dimension = dimension
        let e = embeddingSize ?? dimension
        self.embeddingSize = e
        self.divisor = divisor
        clusters = VocabularyClusters(cutoffs: cutoffs, vocabulary: vocabulary, layer: "AdaptiveEmbedding")
        var embs: [Embedding] = [], projs: [Linear] = []
        if divisor == 1 {
            embs.append(Embedding(vocabulary, e, weightInit: .normal(std: std), dtype: dtype))
            if e != dimension { projs.append(Linear(e, dimension, bias: false, weightInit: .normal(std: std), dtype: dtype)) }
        } else {
            for i in 0..<clusters.count {
                let d = AdaptiveEmbedding.clusterSize(e, divisor: divisor, cluster: i)
                embs.append(Embedding(clusters.bounds[i + 1] - clusters.bounds[i], d, weightInit: .normal(std: std), dtype: dtype))
                projs.append(Linear(d, dimension, bias: false, weightInit: .normal(std: std), dtype: dtype))
            }
        }
        embeddings = embs
        projections = projs
        scale = scaled ? Double(dimension).squareRoot() : 1
    }

    /// The embedding size of cluster i: size / divisor^i (at least 1).
    public static func clusterSize(_ size: Int, divisor: Int, cluster i: Int) -> Int {
        Swift.max(1, size / Int(pow(Double(divisor), Double(i))))
    }

    public func visit(_ v: inout ModuleVisitor) {
        v.children("emb_layers", embeddings)
        v.children("emb_projs", projections)
    }

    public func callAsFunction(_ tokens: Tensor) -> Tensor {
        guard tokens.dtype == .int64 else { fail("AdaptiveEmbedding expects int64 token ids, got \(tokens.dtype)") }
        if divisor == 1 {
            var e = embeddings[0](tokens.flattened())
            if let p = projections.first { e = p(e) }
            return (e * scale).reshaped(tokens.shape + [dimension])
        }
        let ids = tokens.toArray(Int64.self)
        let dtype = projections[0].weight.dtype
        var out = Tensor.zeros([ids.count, dimension], dtype: dtype)
        for (c, part) in clusters.partition(ids).enumerated() where !part.positions.isEmpty {
            let local = Tensor(part.local), positions = Tensor(part.positions)
            let e = projections[c](embeddings[c](local))
            out = out.indexAdd(axis: 0, positions, e)
        }
        return (out * scale).reshaped(tokens.shape + [dimension])
    }
}

/// Adaptive log-softmax (Grave et al., "Efficient softmax approximation for GPUs"): a head over the
/// shortlist plus one logit per tail cluster; each tail cluster i has a two-layer projection
/// d → d/divisor^(i+1) → its size. log p(w) = log p_head(cluster) + log p_tail(w | cluster).
///
/// ```swift
/// let out = AdaptiveLogSoftmax(512, vocabulary: 33278, cutoffs: [2000, 10000], divisor: 4)
/// let (logProbs, loss) = out(hidden, targets: y)
/// ```
public final class AdaptiveLogSoftmax: Module {
    public let head: Linear
    /// Per tail cluster: the down-projection and the output layer.
    public var tails: [Sequential]
    let clusters: VocabularyClusters

    /// Checks cutoffs read from a configuration before the layer is built: strictly increasing,
    /// positive and below `vocabulary` (the error names them and gives an example).
    public static func validate(cutoffs: [Int], vocabulary: Int) throws(NNError) {
        try VocabularyClusters.validate(cutoffs: cutoffs, vocabulary: vocabulary, layer: "adaptive softmax")
    }

    public init(_ inputSize: Int, vocabulary: Int, cutoffs: [Int], divisor: Double = 4,
                headBias: Bool = false, dtype: DType = .float32) {
        let clusters = VocabularyClusters(cutoffs: cutoffs, vocabulary: vocabulary, layer: "AdaptiveLogSoftmax")
        self.clusters = clusters
        let shortlist = clusters.bounds[1]
        head = Linear(inputSize, shortlist + clusters.count - 1, bias: headBias, dtype: dtype)
        tails = (1..<clusters.count).map { i in
            let hidden = Swift.max(1, Int(Double(inputSize) / pow(divisor, Double(i))))
            return Sequential(Linear(inputSize, hidden, bias: false, dtype: dtype),
                              Linear(hidden, clusters.bounds[i + 1] - clusters.bounds[i], bias: false, dtype: dtype))
        }
    }

    public func visit(_ v: inout ModuleVisitor) {
        v.child("head", head)
        v.children("tail", tails)
    }

    /// The log-probability of each target, [N], and the mean negative log-likelihood.
    public func callAsFunction(_ hidden: Tensor, targets: Tensor) -> (logProbs: Tensor, loss: Tensor) {
        let x = hidden.reshaped([-1, hidden.shape.last!])
        let ids = targets.toArray(Int64.self)
        guard ids.count == x.shape[0] else {
            fail("AdaptiveLogSoftmax: \(x.shape[0]) hidden rows but \(ids.count) targets")
        }
        let shortlist = clusters.bounds[1]
        let headLog = head(x).logSoftmax(axis: 1)
        var out = Tensor.zeros([ids.count], dtype: headLog.dtype)
        for (c, part) in clusters.partition(ids).enumerated() where !part.positions.isEmpty {
            let rows = Tensor(part.positions)
            let picked: Tensor
            if c == 0 {
                picked = headLog.indexSelect(axis: 0, rows).gather(axis: 1, Tensor(part.local).reshaped([-1, 1]))
            } else {
                let sub = headLog.indexSelect(axis: 0, rows)
                let clusterLog = sub.sliced(1, shortlist + c - 1, shortlist + c)
                // The fused cross entropy keeps only the tail's logits for backward, not a log-softmax
                // copy and a scattered one-hot gradient too: the largest tail dominates peak memory.
                let tailLogits = tails[c - 1](x.indexSelect(axis: 0, rows))
                picked = clusterLog - crossEntropy(tailLogits, Tensor(part.local), reduction: .none).reshaped([-1, 1])
            }
            out = out.indexAdd(axis: 0, rows, picked.reshaped([-1]))
        }
        return (out, -out.mean())
    }

    /// The full log-distribution over the vocabulary, [N, V].
    public func logProbabilities(_ hidden: Tensor) -> Tensor {
        let x = hidden.reshaped([-1, hidden.shape.last!])
        let shortlist = clusters.bounds[1]
        let headLog = head(x).logSoftmax(axis: 1)
        var pieces = [headLog.sliced(1, 0, shortlist)]
        for c in 1..<clusters.count {
            pieces.append(headLog.sliced(1, shortlist + c - 1, shortlist + c) + tails[c - 1](x).logSoftmax(axis: 1))
        }
        return Tensor.concat(pieces, axis: 1)
    }
}
