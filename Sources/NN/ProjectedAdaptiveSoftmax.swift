import Foundation
import Tensors

/// Transformer-XL's projected adaptive log-softmax (`ProjectedAdaptiveLogSoftmax` of Dai et al.,
/// used by Bai et al.'s DEQ-Transformer), laid out as theirs so weights map one to one:
///
/// - cluster i has an output layer (`out_layers.i`, weight [size_i, e_i] and a bias) and, where
///   e_i ≠ the hidden size or the divisor is not 1, a projection (`out_projs.i`, [d, e_i]) applied
///   as h·P before the output layer; with divisor 1 there is one output layer over the whole
///   vocabulary, sliced by cluster, and e_i = embeddingSize;
/// - the head scores the shortlist and one logit per tail cluster from `cluster_weight`
///   [clusters, e_0] and `cluster_bias`, in reverse order: tail cluster c is head column
///   shortlist + clusters − c (the reference reads `head_logprob[:, -c]`).
///
/// Output layers and projections can be tied to an ``AdaptiveEmbedding``: they are then read from
/// it at each call (and not reported as parameters here), as the reference shares the tensors.
///
/// ```swift
/// let crit = ProjectedAdaptiveLogSoftmax(vocabulary: 33278, hiddenSize: 128, cutoffs: [2000, 10000], divisor: 4)
/// let loss = crit(hidden, targets: y).loss
/// ```
public final class ProjectedAdaptiveLogSoftmax: Module {
    public let hiddenSize: Int
    public let embeddingSize: Int
    public let divisor: Int
    let clusters: VocabularyClusters
    public var clusterWeight: Tensor?
    public var clusterBias: Tensor?
    /// Per output layer (one when the divisor is 1): its weight, nil when tied to the embedding.
    public var outWeights: [Tensor?]
    public var outBiases: [Tensor]
    /// Per cluster: the projection [hiddenSize, e_i], nil when absent or tied.
    public var outProjections: [Tensor?]
    /// The embedding whose tables (and, where `tiedProjections[i]`, projections) this layer reads.
    public let tiedEmbedding: AdaptiveEmbedding?
    /// Per cluster: whether projection i is the embedding's (only where the reference ties it:
    /// divisor 1 with embeddingSize ≠ hiddenSize, sharing projection 0, or divisor > 1).
    public let tiedProjections: [Bool]

    public init(vocabulary: Int, hiddenSize: Int, embeddingSize: Int? = nil, cutoffs: [Int], divisor: Int = 1,
                tiedTo embedding: AdaptiveEmbedding? = nil, tieProjections: [Bool] = [],
                std: Double = 0.02, dtype: DType = .float32) {
        let e = embeddingSize ?? hiddenSize
        self.hiddenSize = hiddenSize
        self.embeddingSize = e
        self.divisor = divisor
        let clusters = VocabularyClusters(cutoffs: cutoffs, vocabulary: vocabulary, layer: "ProjectedAdaptiveLogSoftmax")
        self.clusters = clusters
        let tails = clusters.count - 1
        if tails > 0 {
            clusterWeight = Initializer.normal(std: std).make([tails, e], dtype: dtype)
            clusterBias = Initializer.zeros.make([tails], dtype: dtype)
        }
        tiedEmbedding = embedding
        let sizes = (0..<clusters.count).map { divisor == 1 ? e : AdaptiveEmbedding.clusterSize(e, divisor: divisor, cluster: $0) }
        let rows = divisor == 1 ? [vocabulary] : (0..<clusters.count).map { clusters.bounds[$0 + 1] - clusters.bounds[$0] }
        outWeights = rows.enumerated().map { i, r in
            embedding == nil ? Initializer.normal(std: std).make([r, sizes[i]], dtype: dtype) : nil
        }
        outBiases = rows.map { Initializer.zeros.make([$0], dtype: dtype) }
        let projected = divisor != 1 || e != hiddenSize
        let tieable = embedding != nil && projected
        tiedProjections = (0..<clusters.count).map { i in tieable && i < tieProjections.count && tieProjections[i] }
        outProjections = (0..<clusters.count).map { i in
            projected && !(tieable && i < tieProjections.count && tieProjections[i])
                ? Initializer.normal(std: std).make([hiddenSize, sizes[i]], dtype: dtype) : nil
        }
    }

    public func visit(_ v: inout ModuleVisitor) {
        v.parameter("cluster_weight", &clusterWeight)
        v.parameter("cluster_bias", &clusterBias)
        for i in outWeights.indices {
            v.parameter("out_layers.\(i).weight", &outWeights[i])
            v.parameter("out_layers.\(i).bias", &outBiases[i])
        }
        for i in outProjections.indices { v.parameter("out_projs.\(i).weight", &outProjections[i]) }
    }

    /// The number of clusters (shortlist included).
    public var clusterCount: Int { clusters.count }

    /// Output layer i's weight, from the embedding when tied.
    public func outWeight(_ i: Int) -> Tensor {
        if let w = outWeights[i] { return w }
        return tiedEmbedding!.embeddings[i].weight
    }

    /// Cluster i's projection [hiddenSize, e_i], from the embedding when tied, nil when absent.
    public func projection(_ i: Int) -> Tensor? {
        guard tiedProjections[i], let embedding = tiedEmbedding else { return outProjections[i] }
        // The embedding's projection i maps e_i → d with weight [d, e_i]: the same tensor.
        return embedding.projections[divisor == 1 ? 0 : i].weight
    }

    /// Weight and bias scoring cluster i's ids (the head gets the cluster rows appended).
    func scorer(_ i: Int) -> (weight: Tensor, bias: Tensor) {
        var (w, b): (Tensor, Tensor)
        if divisor == 1 {
            let (lo, hi) = (clusters.bounds[i], clusters.bounds[i + 1])
            (w, b) = (outWeight(0).sliced(0, lo, hi), outBiases[0].sliced(0, lo, hi))
        } else {
            (w, b) = (outWeight(i), outBiases[i])
        }
        if i == 0, let cw = clusterWeight, let cb = clusterBias {
            (w, b) = (Tensor.concat([w, cw], axis: 0), Tensor.concat([b, cb], axis: 0))
        }
        return (w, b)
    }

    func logits(_ x: Tensor, cluster i: Int) -> Tensor {
        let (w, b) = scorer(i)
        let h = projection(i).map { x.matmul($0) } ?? x
        return linear(h, w, b)
    }

    /// The log-probability of each target, [N], and the mean negative log-likelihood.
    public func callAsFunction(_ hidden: Tensor, targets: Tensor) -> (logProbs: Tensor, loss: Tensor) {
        let x = hidden.reshaped([-1, hidden.shape.last!])
        let ids = targets.toArray(Int64.self)
        guard ids.count == x.shape[0] else {
            fail("ProjectedAdaptiveLogSoftmax: \(x.shape[0]) hidden rows but \(ids.count) targets")
        }
        if clusters.count == 1 {
            let out = -crossEntropy(logits(x, cluster: 0), targets.reshaped([-1]), reduction: .none).reshaped([-1])
            return (out, -out.mean())
        }
        let headColumns = clusters.bounds[1] + clusters.count - 1
        let headLog = logits(x, cluster: 0).logSoftmax(axis: 1)
        var out = Tensor.zeros([ids.count], dtype: headLog.dtype)
        for (c, part) in clusters.partition(ids).enumerated() where !part.positions.isEmpty {
            let rows = Tensor(part.positions)
            let picked: Tensor
            if c == 0 {
                picked = headLog.indexSelect(axis: 0, rows).gather(axis: 1, Tensor(part.local).reshaped([-1, 1]))
            } else {
                let clusterLog = headLog.indexSelect(axis: 0, rows).sliced(1, headColumns - c, headColumns - c + 1)
                // The fused cross entropy keeps only the tail's logits for backward (see AdaptiveLogSoftmax).
                let tail = logits(x.indexSelect(axis: 0, rows), cluster: c)
                picked = clusterLog - crossEntropy(tail, Tensor(part.local), reduction: .none).reshaped([-1, 1])
            }
            out = out.indexAdd(axis: 0, rows, picked.reshaped([-1]))
        }
        return (out, -out.mean())
    }

    /// The full log-distribution over the vocabulary, [N, V].
    public func logProbabilities(_ hidden: Tensor) -> Tensor {
        let x = hidden.reshaped([-1, hidden.shape.last!])
        if clusters.count == 1 { return logits(x, cluster: 0).logSoftmax(axis: 1) }
        let shortlist = clusters.bounds[1]
        let headColumns = shortlist + clusters.count - 1
        let headLog = logits(x, cluster: 0).logSoftmax(axis: 1)
        var pieces = [headLog.sliced(1, 0, shortlist)]
        for c in 1..<clusters.count {
            pieces.append(headLog.sliced(1, headColumns - c, headColumns - c + 1) + logits(x, cluster: c).logSoftmax(axis: 1))
        }
        return Tensor.concat(pieces, axis: 1)
    }
}
