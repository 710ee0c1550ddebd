import Foundation
import Tensors

/// Multi-head self-attention over batch-first sequences [B, T, d], with one GEMM for the
/// queries, keys and values, an optional causal mask, an optional memory of previous segments
/// (Transformer-XL), and optionally Transformer-XL's relative position scores.
///
/// With `relative` on, the score of query i and key j is
/// (qᵢ + u)·kⱼ + (qᵢ + v)·W_r R(i − j), where R are sinusoidal encodings of the distance,
/// u and v are learned per-head biases and W_r a learned projection (Dai et al., 2019).
///
/// ```swift
/// let attn = MultiHeadAttention(512, heads: 8, causal: true); let y = attn(x)
/// let y2 = attn(x, memory: previousSegmentHidden)   // keys/values see [memory; x]
/// ```
public final class MultiHeadAttention: Module {
    public let modelSize: Int
    public let heads: Int
    public var causal: Bool
    public let relative: Bool
    /// [3d, d] projection to queries, keys and values.
    public let qkv: Linear
    public let out: Linear
    /// Transformer-XL's projection of relative encodings, and its content/position biases [heads, d/heads].
    public let positionProjection: Linear?
    public var contentBias: Tensor?
    public var positionBias: Tensor?
    public let encoding: SinusoidalPositionalEncoding?
    public let attentionDropout: Dropout
    /// All-attention's persistent memory (Sukhbaatar et al., 2019): learned keys and values
    /// [heads, N, d/heads] that every query sees, with no position and no mask.
    public var persistentKeys: Tensor?
    public var persistentValues: Tensor?

    public init(_ modelSize: Int, heads: Int, causal: Bool = false, relative: Bool = false,
                persistentVectors: Int = 0, dropout: Double = 0, dtype: DType = .float32) {
        guard heads > 0, modelSize % heads == 0 else {
            fail("MultiHeadAttention: modelSize \(modelSize) must be a multiple of heads \(heads)")
        }
        self.modelSize = modelSize
        self.heads = heads
        self.causal = causal
        self.relative = relative
        qkv = Linear(modelSize, 3 * modelSize, weightInit: .xavierUniform(), dtype: dtype)
        out = Linear(modelSize, modelSize, weightInit: .xavierUniform(), dtype: dtype)
        attentionDropout = Dropout(dropout)
        if relative {
            positionProjection = Linear(modelSize, modelSize, bias: false, weightInit: .xavierUniform(), dtype: dtype)
            contentBias = Initializer.normal(std: 0.02).make([heads, modelSize / heads], dtype: dtype)
            positionBias = Initializer.normal(std: 0.02).make([heads, modelSize / heads], dtype: dtype)
            encoding = SinusoidalPositionalEncoding(modelSize, dtype: dtype)
        } else {
            positionProjection = nil
            encoding = nil
        }
        if persistentVectors > 0 {
            let dh = modelSize / heads
            persistentKeys = Initializer.normal(std: 1 / Double(dh).squareRoot()).make([heads, persistentVectors, dh], dtype: dtype)
            persistentValues = Initializer.normal(std: 1 / Double(persistentVectors).squareRoot()).make([heads, persistentVectors, dh], dtype: dtype)
        }
    }

    public func visit(_ v: inout ModuleVisitor) {
        v.child("qkv", qkv)
        v.child("out", out)
        if let positionProjection { v.child("r_net", positionProjection) }
        v.parameter("r_w_bias", &contentBias)
        v.parameter("r_r_bias", &positionBias)
        if let encoding { v.child("pos_emb", encoding) }
        v.parameter("persistent_key", &persistentKeys)
        v.parameter("persistent_value", &persistentValues)
        v.child("dropout", attentionDropout)
    }

    var headSize: Int { modelSize / heads }

    /// [B, L, d] → [B, H, L, d/H]
    func splitHeads(_ x: Tensor) -> Tensor {
        x.reshaped([x.shape[0], x.shape[1], heads, headSize]).permuted(0, 2, 1, 3)
    }

    /// Attends from `x` [B, T, d] to [memory; x]. `memory` [B, M, d] is treated as context only
    /// (Transformer-XL detaches it from the graph before passing it).
    public func callAsFunction(_ x: Tensor, memory: Tensor? = nil) -> Tensor {
        guard x.rank == 3, x.shape[2] == modelSize else {
            fail("MultiHeadAttention(\(modelSize)) expects [batch, time, \(modelSize)], got \(x.shape)")
        }
        let (b, t) = (x.shape[0], x.shape[1])
        let m = memory?.shape[1] ?? 0
        if let memory, memory.rank != 3 || memory.shape[0] != b || memory.shape[2] != modelSize {
            fail("MultiHeadAttention: memory must be [\(b), M, \(modelSize)], got \(memory.shape)")
        }
        let k = t + m
        let full = memory.map { Tensor.concat([$0, x], axis: 1) } ?? x
        let proj = qkv(full)                                   // [B, K, 3d]
        let parts = proj.chunked(3, axis: 2)
        // Heads are views of the [B, K, 3d] projection throughout (two strided batch levels in
        // BLAS, gradients in the operands' layouts, the context written [B, T, H, dh]-ordered),
        // so no head split or merge is copied.
        let queries = parts[0].sliced(1, m)                         // queries only for the new segment
        let q = splitHeads(queries)
        let keys = splitHeads(parts[1]), values = splitHeads(parts[2])
        let scale = 1 / Double(headSize).squareRoot()
        let unscaled: Tensor                                       // scores before the 1/√d scale
        if relative, let encoding, let positionProjection, let contentBias, let positionBias {
            let ac = splitHeads(queries + contentBias.reshaped([1, 1, modelSize])).matmul(keys.transposed(-1, -2))   // [B, H, T, K]
            // Distances K−1, ..., 0 for key positions 0..<K seen from the last query.
            let r = encoding(positions: Tensor.arange(Double(k - 1), -1, step: -1, dtype: x.dtype))
            let rk = positionProjection(r).reshaped([k, heads, headSize]).permuted(1, 2, 0)  // [H, dh, K]
            let bd = MultiHeadAttention.relativeShift(splitHeads(queries + positionBias.reshaped([1, 1, modelSize])).matmul(rk.unsqueezed(0)))
            unscaled = ac + bd
        } else {
            unscaled = q.matmul(keys.transposed(-1, -2))
        }
        let mask = causal ? MultiHeadAttention.causalMask(queries: t, memory: m) : nil
        var context: Tensor
        if let pk = persistentKeys, let pv = persistentValues {
            // One softmax over the sequence's keys and the persistent ones together.
            let n = pk.shape[1]
            let scores = mask.map { (unscaled * scale).maskedFill($0, -1e30) } ?? unscaled * scale
            let persistentScores = q.matmul(pk.transposed(-1, -2).unsqueezed(0)) * scale   // [B, H, T, N]
            let probs = attentionDropout(Tensor.concat([scores, persistentScores], axis: -1).softmax(axis: -1))
            context = probs.sliced(-1, 0, k).matmul(values) + probs.sliced(-1, k, k + n).matmul(pv.unsqueezed(0))
        } else {
            context = attentionDropout(unscaled.scaledMaskedSoftmax(scale: scale, mask: mask)).matmul(values, memoryOrder: [0, 2, 1, 3])
        }
        return out(context.permuted(0, 2, 1, 3).reshaped([b, t, modelSize]))
    }

    /// True where query i (at key position m + i) must not see key j: j > m + i.
    public static func causalMask(queries t: Int, memory m: Int) -> Tensor {
        let i = Tensor.arange(t).reshaped([t, 1]) + Double(m)
        let j = Tensor.arange(t + m).reshaped([1, t + m])
        return j .> i
    }

    /// Transformer-XL's shift: turns scores indexed by (query i, distance slot s), where slot s
    /// holds distance K−1−s, into scores indexed by (query i, key j) with distance m + i − j.
    /// Pads one zero column, views the rows as one longer row and drops the first T entries.
    public static func relativeShift(_ x: Tensor) -> Tensor {
        let shape = x.shape
        let (q, k) = (shape[shape.count - 2], shape[shape.count - 1])
        let lead = Array(shape.dropLast(2))
        let padded = Tensor.concat([Tensor.zeros(lead + [q, 1], dtype: x.dtype), x], axis: -1)   // [.., Q, K+1]
        let viewed = padded.reshaped(lead + [k + 1, q]).sliced(lead.count, 1)                    // [.., K, Q]
        return viewed.reshaped(lead + [q, k])
    }
}

/// A Transformer encoder layer with LayerNorm residuals, as PyTorch's `TransformerEncoderLayer`:
/// post-norm (`normFirst` false, Vaswani et al.) x ← LN(x + Attn(x)); x ← LN(x + FF(x)), or
/// pre-norm (`normFirst` true) x ← x + Attn(LN(x)); x ← x + FF(LN(x)), with dropout on each branch
/// and inside the feed-forward block.
///
/// ```swift
/// let layer = TransformerEncoderLayer(512, heads: 8, feedForward: 2048); let y = layer(x)
/// ```
public final class TransformerEncoderLayer: EncoderLayer {
    public let attention: MultiHeadAttention
    public let ff1: Linear, ff2: Linear
    public let norm1: LayerNorm, norm2: LayerNorm
    public let dropout: Dropout
    public let normFirst: Bool
    public let activation: FeedForwardActivation

    public init(_ modelSize: Int, heads: Int, feedForward: Int, dropout: Double = 0, causal: Bool = false,
                normFirst: Bool = false, activation: FeedForwardActivation = .relu, dtype: DType = .float32) {
        attention = MultiHeadAttention(modelSize, heads: heads, causal: causal, dtype: dtype)
        ff1 = Linear(modelSize, feedForward, dtype: dtype)
        ff2 = Linear(feedForward, modelSize, dtype: dtype)
        norm1 = LayerNorm(modelSize, dtype: dtype)
        norm2 = LayerNorm(modelSize, dtype: dtype)
        self.dropout = Dropout(dropout)
        self.normFirst = normFirst
        self.activation = activation
    }

    public func visit(_ v: inout ModuleVisitor) {
        v.child("self_attn", attention)
        v.child("linear1", ff1)
        v.child("linear2", ff2)
        v.child("norm1", norm1)
        v.child("norm2", norm2)
        v.child("dropout", dropout)
    }

    public func callAsFunction(_ x: Tensor, mask: Tensor?, keyPaddingMask: Tensor?) -> Tensor {
        let attend = { (h: Tensor) in self.dropout(self.attention(h, context: nil, mask: mask, keyPaddingMask: keyPaddingMask)) }
        let feedForward = { (h: Tensor) in self.dropout(self.ff2(self.dropout(self.activation(self.ff1(h))))) }
        if normFirst {
            let h = x + attend(norm1(x))
            return h + feedForward(norm2(h))
        }
        let h = norm1(x + attend(x))
        return norm2(h + feedForward(h))
    }
}
